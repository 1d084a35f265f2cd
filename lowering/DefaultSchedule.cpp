//===- DefaultSchedule.cpp - The schedule used when none is given ---------===//
//
//   each compute op -> its family's analytical parameters (CpuSchedules.h)
//   -> one CpuScheduleScript over the entry, ops matched by index or name
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/ScriptBuilder.h"

#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <map>
#include <variant>

namespace hatc {

std::vector<int64_t>
innermostParallelPermutation(const std::vector<std::string> &iteratorTypes) {
  int64_t lastParallel = -1;
  for (size_t i = 0; i < iteratorTypes.size(); ++i)
    if (iteratorTypes[i] == "parallel")
      lastParallel = int64_t(i);
  if (lastParallel < 0 || lastParallel == int64_t(iteratorTypes.size()) - 1)
    return {};
  std::vector<int64_t> permutation;
  for (size_t i = 0; i < iteratorTypes.size(); ++i)
    if (iteratorTypes[i] == "parallel" && int64_t(i) != lastParallel)
      permutation.push_back(int64_t(i));
  for (size_t i = 0; i < iteratorTypes.size(); ++i)
    if (iteratorTypes[i] != "parallel")
      permutation.push_back(int64_t(i));
  permutation.push_back(lastParallel);
  return permutation;
}

namespace {

/// The hwacc default: nothing; the accelerator lowering tiles GEMM-like
/// ops itself and needs them as named ops, and the host keeps the rest.
std::string hwaccDefaultScheduleText() {
  ScriptBuilder script("hatc default schedule for hwacc: none; the "
                       "accelerator lowering tiles.");
  return script.finish();
}

/// One op of the entry the CPU default schedules, with its parameters.
struct ScheduledOp {
  mlir::linalg::LinalgOp op;
  CpuOpShape shape;
  CpuSchedule params;
  mlir::Value handle;
  bool done = false; // fused into another op's schedule
  std::vector<int64_t> transposeTiles; // a transpose: its tiles, not params
  std::vector<int64_t> transposeThreads; // and its num_threads (or none)
  int64_t chain = -1; // the row chain it belongs to (index), or none
};

/// The tiles of a linalg.transpose (no arithmetic, but a strided pass over
/// memory: the NCHW <-> NHWC edges of a conv model): a vector along the
/// input's innermost dim by 8 along the output's, so that loads and stores
/// are both contiguous and the transposition happens in registers. On
/// 56x56x256 -> 256x56x56 (bench: hatc run of such a transpose, 2 threads)
/// 16 x 8 took 0.12 ms, 8 x 8 0.13-0.35, 32 x 8 1.2, the untiled loops LLVM
/// gets (strided scalar loads) 1.9. Empty where no such tile divides the
/// dims (the op is then left to LLVM as before).
/// TODO: a family of CpuSchedules.h (params, threads) once a sketch tunes it.
std::vector<int64_t> transposeTiles(mlir::linalg::TransposeOp op,
                                    int64_t lanes) {
  auto type = mlir::cast<mlir::ShapedType>(op.getInit().getType());
  if (!type.hasStaticShape() || type.getRank() < 2)
    return {};
  llvm::ArrayRef<int64_t> shape = type.getShape(),
                          permutation = op.getPermutation();
  int64_t rank = type.getRank(), out = rank - 1;
  // The output dim of the input's innermost one.
  int64_t in = llvm::find(permutation, rank - 1) - permutation.begin();
  auto widest = [](int64_t extent, std::initializer_list<int64_t> choices) {
    for (int64_t c : choices)
      if (c > 1 && extent % c == 0)
        return c;
    return int64_t(-1);
  };
  std::vector<int64_t> tiles(size_t(rank), 1);
  if (in == out) {
    // The innermost dim stays innermost: a copy of whole vectors.
    tiles[out] = widest(shape[out], {4 * lanes, 2 * lanes, lanes, lanes / 2});
  } else {
    tiles[in] = widest(shape[in], {lanes, lanes / 2, lanes / 4});
    tiles[out] = widest(shape[out], {8, 4, 2});
    if (tiles[in] < 0)
      return {};
  }
  if (tiles[out] < 0)
    return {};
  return tiles;
}

/// A transpose is a pass over memory: it gets threads (over the first
/// output dim they split into whole tiles) from this many elements each,
/// fewer than a compute op needs, since it has no arithmetic to amortize
/// the parallel region's fork and join (a few microseconds) over.
/// BERT's head split (98,304 elements) stays on one thread: threaded at
/// 2^14 elements a thread, it took 12 us alone instead of 4 (hatc run, 2
/// threads), and the BERT layer's library ran 3% slower (8 interleaved
/// rounds, 5.16 against 4.98 ms median).
constexpr int64_t kMinTransposeElementsPerThread = int64_t(1) << 16;

/// The num_threads of a transpose tiled by `tiles` on `threads` threads:
/// all zero but one dim (empty: one thread).
std::vector<int64_t> transposeThreads(mlir::linalg::TransposeOp op,
                                      const std::vector<int64_t> &tiles,
                                      int64_t threads) {
  auto type = mlir::cast<mlir::ShapedType>(op.getInit().getType());
  int64_t elements = type.getNumElements();
  for (int64_t t = threads; t > 1; --t) {
    if (elements / t < kMinTransposeElementsPerThread)
      continue;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.getDimSize(d) % (t * tiles[d]) == 0) {
        std::vector<int64_t> numThreads(size_t(type.getRank()), 0);
        numThreads[d] = t;
        return numThreads;
      }
  }
  return {};
}

/// Whether `item`'s schedule takes its elementwise consumer: fused into
/// its tiles (a matmul with `fuse`, a conv), or as its own loop (any other
/// matmul: CpuMatmulParams::ownsConsumer).
bool ownsConsumer(const ScheduledOp &item, int64_t vectorLanes) {
  if (!item.shape.hasElementwiseConsumer)
    return false;
  if (auto *matmul = std::get_if<CpuMatmulParams>(&item.params))
    return matmul->ownsConsumer(item.shape, vectorLanes);
  return std::holds_alternative<CpuConvParams>(item.params) ||
         std::holds_alternative<CpuDepthwiseConvParams>(item.params);
}

/// The CPU default: each compute op of the entry (in program order) gets
/// its family's analytical parameters (CpuSchedules.h), all ops matched
/// before any is transformed: by hatc.op_index when tagged, else by name
/// within the entry, split into one handle per op.
std::string cpuDefaultScheduleText(const Workload &workload, int64_t threads) {
  CpuFacts facts = CpuFacts::host(threads);
  CpuScheduleScript script("hatc default schedule: analytical tiles for " +
                           std::to_string(facts.vectorLanes) + " lanes, " +
                           std::to_string(facts.vectorRegisters) +
                           " registers, L1 " +
                           std::to_string(facts.l1Bytes >> 10) + " KiB, L2 " +
                           std::to_string(facts.l2Bytes >> 10) + " KiB, " +
                           std::to_string(facts.threads) +
                           (facts.threads == 1 ? " thread" : " threads"));
  mlir::ModuleOp module = workload.module.get();
  auto entry = module ? module.lookupSymbol<mlir::func::FuncOp>(
                            workload.entryName)
                      : mlir::func::FuncOp();
  if (!entry)
    return script.finish();
  std::vector<ScheduledOp> ops;
  // Ops without arithmetic are left to LLVM, except transposes.
  entry.walk([&](mlir::linalg::LinalgOp op) {
    if (describeTask(op).flops > 0) {
      ops.push_back({op, cpuOpShapeOf(op), CpuGenericParams{}, {}});
      return;
    }
    auto transpose =
        mlir::dyn_cast<mlir::linalg::TransposeOp>(op.getOperation());
    if (!transpose)
      return;
    std::vector<int64_t> tiles = transposeTiles(transpose, facts.vectorLanes);
    if (tiles.empty())
      return;
    ops.push_back({op, cpuOpShapeOf(op), CpuGenericParams{}, {}});
    ops.back().transposeThreads =
        transposeThreads(transpose, tiles, facts.threads);
    ops.back().transposeTiles = std::move(tiles);
  });
  // An elementwise consumer of two anchors (a residual add of two convs)
  // is fused into the first one's tiles only.
  llvm::DenseSet<mlir::Operation *> claimed;
  for (ScheduledOp &item : ops) {
    if (!item.transposeTiles.empty())
      continue;
    if (item.shape.hasElementwiseConsumer &&
        claimed.contains(elementwiseConsumerOf(item.op)))
      item.shape.hasElementwiseConsumer = false;
    item.params = deriveCpuSchedule(item.shape, facts);
    if (std::holds_alternative<CpuRowsParams>(item.params) &&
        !cpuRowsTakes(item.op)) {
      if (auto elementwise = deriveCpuElementwise(item.shape, facts))
        item.params = *elementwise;
      else
        item.params = deriveCpuGeneric(item.shape, facts);
    }
    if (auto *matmul = std::get_if<CpuMatmulParams>(&item.params))
      matmul->fuse = matmul->fuse && initIsFill(item.op);
    if (ownsConsumer(item, facts.vectorLanes))
      claimed.insert(elementwiseConsumerOf(item.op));
  }
  // NHWC convs run direct (CpuConvParams), alone or not: measured here it
  // beats the analytical im2col GEMM several times over (bench/cpu_perf.py),
  // whose rewrite also touches the whole function. The tuner still starts
  // its im2col sketch from deriveCpuConvIm2col.

  mlir::OpBuilder &b = script.builder();
  mlir::MLIRContext *context = script.context();
  mlir::Value entryHandle = b.create<mlir::transform::MatchOp>(
      script.loc(), script.anyOp(), script.root(),
      b.getStrArrayAttr({mlir::func::FuncOp::getOperationName()}),
      mlir::transform::MatchInterfaceEnumAttr(),
      mlir::DictionaryAttr::get(
          context, {mlir::NamedAttribute(
                       mlir::StringAttr::get(context, "sym_name"),
                       mlir::StringAttr::get(context, workload.entryName))}),
      mlir::TypeAttr(), mlir::ArrayAttr());
  std::map<std::string, std::vector<ScheduledOp *>> untagged;
  for (ScheduledOp &item : ops) {
    if (auto index = item.op->getAttrOfType<mlir::IntegerAttr>(kOpIndexAttr))
      item.handle = script.matchIndexed(item.shape.opName, index.getInt());
    else
      untagged[item.shape.opName].push_back(&item);
  }
  for (auto &[name, group] : untagged) {
    mlir::Value all = script.match({name}, entryHandle);
    // The match sees every op of that name in program order, those left
    // out above (zero flops, a transpose no tile fits) too.
    int64_t sameName = 0;
    entry.walk([&](mlir::linalg::LinalgOp op) {
      sameName += op->getName().getStringRef() == name;
    });
    if (sameName == 1) {
      group[0]->handle = all;
      continue;
    }
    auto split = b.create<mlir::transform::SplitHandleOp>(script.loc(), all,
                                                          sameName);
    size_t next = 0, position = 0;
    entry.walk([&](mlir::linalg::LinalgOp op) {
      if (op->getName().getStringRef() != name)
        return;
      if (next < group.size() && group[next]->op == op)
        group[next++]->handle = split.getResult(position);
      ++position;
    });
  }
  // Row chains (a softmax, a layernorm): one loop over rows, all fused.
  std::vector<llvm::SmallVector<mlir::Operation *>> chains; // fills too
  llvm::DenseMap<mlir::Operation *, ScheduledOp *> itemOf;
  for (ScheduledOp &item : ops)
    itemOf[item.op] = &item;
  for (ScheduledOp &item : ops) {
    if (item.chain >= 0 || claimed.contains(item.op))
      continue;
    llvm::SmallVector<mlir::Operation *> chain = rowChainFrom(item.op);
    std::vector<ScheduledOp *> members;
    for (mlir::Operation *op : chain) {
      if (mlir::isa<mlir::linalg::FillOp>(op))
        continue;
      ScheduledOp *member = itemOf.lookup(op);
      if (!member || member->chain >= 0 || claimed.contains(op) ||
          !member->transposeTiles.empty()) {
        members.clear();
        break;
      }
      members.push_back(member);
    }
    if (members.empty())
      continue;
    for (ScheduledOp *member : members)
      member->chain = int64_t(chains.size());
    chains.push_back(std::move(chain));
  }

  bool transposes = false;
  for (ScheduledOp &item : ops) {
    if (item.done)
      continue;
    if (item.chain >= 0) {
      // Each member; a fill (rowChainFrom puts it just before the one op
      // it inits) as that op's producer.
      const auto &chain = chains[size_t(item.chain)];
      llvm::SmallVector<mlir::Value> handles;
      for (auto [i, op] : llvm::enumerate(chain)) {
        if (mlir::isa<mlir::linalg::FillOp>(op)) {
          mlir::OpOperand &init = *op->getResult(0).getUses().begin();
          handles.push_back(script.producerOf(
              itemOf.lookup(chain[i + 1])->handle,
              int64_t(init.getOperandNumber())));
          continue;
        }
        ScheduledOp *member = itemOf.lookup(op);
        handles.push_back(member->handle);
        member->done = true;
      }
      script.rowChain(handles, item.shape.loopRanges.size(),
                      deriveCpuRowChain(item.op, facts));
      continue;
    }
    if (!item.transposeTiles.empty()) {
      mlir::Value transpose = item.handle;
      if (!item.transposeThreads.empty())
        transpose =
            script.tileForallThreads(transpose, item.transposeThreads).first;
      script.vectorize(script.tileFor(transpose, item.transposeTiles).first);
      transposes = true;
      continue;
    }
    script.schedule(item.handle, item.shape, item.params, facts.vectorLanes);
    if (ownsConsumer(item, facts.vectorLanes)) {
      mlir::Operation *consumer = elementwiseConsumerOf(item.op);
      for (ScheduledOp &other : ops)
        if (other.op.getOperation() == consumer)
          other.done = true;
    }
  }
  if (transposes)
    // A permuted transfer_read becomes a plain read and a vector.transpose
    // (register shuffles) instead of one scalar load per element.
    script.applyPatterns(script.func(), [](mlir::OpBuilder &b,
                                           mlir::Location loc) {
      b.create<mlir::transform::ApplyTransferPermutationPatternsOp>(loc);
      b.create<mlir::transform::ApplyCanonicalizationPatternsOp>(loc);
    });
  return script.finish();
}

} // namespace

llvm::Expected<std::string> defaultScheduleFor(const Workload &workload,
                                               TargetKind kind,
                                               int64_t threads) {
  switch (kind) {
  case TargetKind::Gpu:
    return defaultGpuScheduleText(workload);
  case TargetKind::Hwacc:
    return hwaccDefaultScheduleText();
  case TargetKind::Cpu:
    break;
  }
  return cpuDefaultScheduleText(workload, threads);
}

llvm::Expected<std::string> measuredDefaultScheduleFor(const Workload &workload,
                                                       TargetKind kind,
                                                       int64_t threads) {
  if (workload.measurePath.empty() || !workload.module)
    return defaultScheduleFor(workload, kind, threads);
  auto measured = loadWorkload(*workload.module.get()->getContext(),
                               workload.measurePath, workload.entryName);
  if (!measured)
    return measured.takeError();
  return defaultScheduleFor(*measured, kind, threads);
}

} // namespace hatc
