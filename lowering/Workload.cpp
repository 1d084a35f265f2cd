//===- Workload.cpp - Parse, validate and describe linalg workloads -------===//
#include "hatc/Lowering/Workload.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/xxhash.h"

#include <map>
#include <set>

using namespace mlir;

namespace hatc {

namespace {

std::optional<ElemKind> elemKindOf(Type type) {
  if (type.isF32())
    return ElemKind::F32;
  if (type.isF64())
    return ElemKind::F64;
  if (type.isF16())
    return ElemKind::F16;
  if (type.isBF16())
    return ElemKind::BF16;
  if (type.isSignlessInteger(8))
    return ElemKind::I8;
  if (type.isSignlessInteger(1))
    return ElemKind::Bool;
  if (type.isSignlessInteger(16))
    return ElemKind::I16;
  if (type.isSignlessInteger(32))
    return ElemKind::I32;
  if (type.isSignlessInteger(64))
    return ElemKind::I64;
  return std::nullopt;
}

std::string typeString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

llvm::Error errorAt(Operation *op, const llvm::Twine &message) {
  std::string where = formatLocation(op->getLoc());
  return makeError((where.empty() ? "" : where + ": ") + message);
}

/// A function argument or result as a TensorSpec, or an error saying why
/// hatc cannot allocate it.
llvm::Expected<TensorSpec> specFor(func::FuncOp func, Type type,
                                   const char *what, unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return errorAt(func, llvm::formatv("{0} #{1} of @{2} has type {3}; hatc "
                                       "needs ranked tensors",
                                       what, index, func.getSymName(),
                                       typeString(type)));
  if (!tensor.hasStaticShape())
    return errorAt(func, llvm::formatv("{0} #{1} of @{2} has dynamic shape "
                                       "{3}; hatc needs static shapes",
                                       what, index, func.getSymName(),
                                       typeString(type)));
  std::optional<ElemKind> kind = elemKindOf(tensor.getElementType());
  if (!kind)
    return errorAt(func, llvm::formatv("{0} #{1} of @{2} has element type "
                                       "{3}; supported: f32, f64, f16, bf16, "
                                       "i1, i8, i16, i32, i64",
                                       what, index, func.getSymName(),
                                       typeString(tensor.getElementType())));
  // Byte counts are 64-bit everywhere below (buffers, strides, copies): a
  // tensor whose size does not fit would wrap around to a small buffer.
  int64_t bytes = int64_t(elemKindBytes(*kind));
  for (int64_t dim : tensor.getShape())
    if (llvm::MulOverflow(bytes, dim, bytes))
      return errorAt(func, llvm::formatv("{0} #{1} of @{2} has type {3}, "
                                         "more bytes than a 64-bit size "
                                         "holds",
                                         what, index, func.getSymName(),
                                         typeString(type)));
  TensorSpec spec;
  spec.kind = *kind;
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  return spec;
}


/// Ops that count as arithmetic for FLOP counting: everything in a body but
/// casts, constants, index and yield.
bool countsAsFlop(Operation *op) {
  return !isa<linalg::YieldOp, linalg::IndexOp, arith::ConstantOp,
              arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
              arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp,
              arith::ExtFOp, arith::TruncFOp, arith::IndexCastOp>(op);
}

/// Tensor ops between linalg ops that an imported model uses (padding,
/// reshapes, slices, concatenation); they bufferize to copies and views.
bool isDataMovementOp(Operation *op) {
  return isa<tensor::PadOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
             tensor::ExtractSliceOp, tensor::InsertSliceOp, tensor::ConcatOp>(
      op);
}

/// A scalar op a linalg body may hold that the compiler lowers but the
/// reference interpreter does not evaluate (math.erf, integer division, a
/// gather's tensor.extract, ...).
bool isLowerableBodyOp(Operation *op) {
  Dialect *dialect = op->getDialect();
  if (!dialect)
    return false;
  StringRef ns = dialect->getNamespace();
  return ns == "arith" || ns == "math" || isa<tensor::ExtractOp>(op);
}

/// Validates the entry. `uncheckable` gets the first op the reference
/// interpreter cannot evaluate (empty when it can evaluate everything).
llvm::Error validateEntry(func::FuncOp entry, std::string &uncheckable) {
  bool sawLinalg = false;
  auto noteUncheckable = [&](Operation *op) {
    if (!uncheckable.empty())
      return;
    // A file position, else the ONNX node the importer named the op after.
    std::string where = formatLocation(op->getLoc());
    if (auto name = dyn_cast<NameLoc>(op->getLoc()); name && where.empty())
      where = "node '" + name.getName().str() + "'";
    uncheckable = "'" + op->getName().getStringRef().str() + "'" +
                  (where.empty() ? "" : " at " + where);
  };
  for (Operation &op : entry.getBody().front()) {
    if (isa<func::ReturnOp, tensor::EmptyOp, arith::ConstantOp>(op))
      continue;
    if (isDataMovementOp(&op)) {
      noteUncheckable(&op);
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp)
      return errorAt(&op, llvm::formatv("unsupported op '{0}' in @{1}; hatc "
                                        "supports linalg structured ops, "
                                        "tensor.empty, arith.constant and "
                                        "tensor pad/reshape/slice/concat ops",
                                        op.getName().getStringRef(),
                                        entry.getSymName()));
    if (!linalgOp.hasPureTensorSemantics())
      return errorAt(&op, llvm::formatv("'{0}' works on memrefs; hatc takes "
                                        "linalg on tensors",
                                        op.getName().getStringRef()));
    Block *body = linalgOp.getBlock();
    for (Operation &bodyOp : body->without_terminator()) {
      if (!referenceEvaluates(&bodyOp)) {
        if (!isLowerableBodyOp(&bodyOp))
          return errorAt(&bodyOp,
                         llvm::formatv("unsupported op '{0}' in the body of "
                                       "'{1}'",
                                       bodyOp.getName().getStringRef(),
                                       op.getName().getStringRef()));
        noteUncheckable(&bodyOp);
      }
      for (Value operand : bodyOp.getOperands()) {
        if (operand.getParentBlock() == body)
          continue;
        // A gather reads a tensor defined in the entry by position.
        if (isa<tensor::ExtractOp>(bodyOp) &&
            isa<RankedTensorType>(operand.getType()))
          continue;
        auto constant = operand.getDefiningOp<arith::ConstantOp>();
        if (!constant || isa<ShapedType>(operand.getType()))
          return errorAt(&bodyOp, llvm::formatv(
                                      "the body of '{0}' uses a value from "
                                      "outside it that is not a scalar "
                                      "arith.constant",
                                      op.getName().getStringRef()));
      }
    }
    SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return errorAt(&op, llvm::formatv("'{0}' has a dynamic iteration "
                                        "space; hatc needs static shapes",
                                        op.getName().getStringRef()));
    sawLinalg = true;
  }
  if (!sawLinalg)
    return errorAt(entry, llvm::formatv("@{0} holds no linalg op; nothing "
                                        "to compile",
                                        entry.getSymName()));
  return llvm::Error::success();
}

/// Ops of one name whose loops differ (a model's many linalg.generic ops)
/// cannot share one transform per name: each gets `hatc.op_index` (its
/// position among the entry's linalg ops), which schedules match on.
/// hatc.* attributes are not part of the workload's hash.
void tagOpsWithConflictingLoops(func::FuncOp entry) {
  std::map<std::string, std::set<SmallVector<utils::IteratorType>>> loops;
  entry.walk([&](linalg::LinalgOp op) {
    loops[op->getName().getStringRef().str()].insert(
        op.getIteratorTypesArray());
  });
  int64_t index = 0;
  entry.walk([&](linalg::LinalgOp op) {
    int64_t position = index++;
    if (loops[op->getName().getStringRef().str()].size() > 1)
      op->setAttr(kOpIndexAttr,
                  IntegerAttr::get(IntegerType::get(op->getContext(), 64),
                                   position));
  });
}

std::string elementTypesTag(linalg::LinalgOp op) {
  // "f32" when every operand agrees, else the distinct types in order.
  SmallVector<std::string> names;
  for (OpOperand &operand : op->getOpOperands()) {
    std::string name = typeString(getElementTypeOrSelf(operand.get()));
    if (!llvm::is_contained(names, name))
      names.push_back(name);
  }
  return llvm::join(names, "");
}

} // namespace

const char *opClassName(OpClass opClass) {
  switch (opClass) {
  case OpClass::Matmul:
    return "matmul";
  case OpClass::BatchMatmul:
    return "batch_matmul";
  case OpClass::Conv2D:
    return "conv2d";
  case OpClass::Elementwise:
    return "elementwise";
  case OpClass::Other:
    break;
  }
  return "other";
}

bool referenceEvaluates(Operation *op) {
  return isa<linalg::YieldOp, linalg::IndexOp, arith::ConstantOp,
             arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
             arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::MaxNumFOp, arith::MinNumFOp, arith::AddIOp, arith::SubIOp,
             arith::MulIOp, arith::MaxSIOp, arith::MinSIOp, arith::ExtSIOp,
             arith::ExtUIOp, arith::TruncIOp, arith::SIToFPOp,
             arith::UIToFPOp, arith::FPToSIOp, arith::ExtFOp,
             arith::TruncFOp, arith::CmpFOp, arith::CmpIOp, arith::SelectOp,
             arith::IndexCastOp, arith::RemFOp, math::ExpOp, math::TanhOp,
             math::SqrtOp, math::AbsFOp, math::FmaOp, math::ErfOp,
             math::PowFOp, math::LogOp, math::Log1pOp, math::ExpM1Op,
             math::RsqrtOp, math::SinOp, math::CosOp, math::FloorOp,
             math::CeilOp, math::RoundEvenOp, math::RoundOp, arith::AndIOp,
             arith::OrIOp, arith::XOrIOp, tensor::ExtractOp>(op);
}

OpClass classifyOp(Operation *op) {
  if (isa<linalg::MatmulOp>(op))
    return OpClass::Matmul;
  if (isa<linalg::BatchMatmulOp>(op))
    return OpClass::BatchMatmul;
  // NCHW too: the hwacc pipeline transposes it to NHWC (hatc-conv-to-nhwc).
  // Grouped convs stay Other: only a few groups are split for the array,
  // and the tuner's conv view (one GEMM) does not fit them; depthwise convs
  // stay on the host.
  if (isa<linalg::Conv2DNhwcHwcfOp, linalg::Conv2DNchwFchwOp>(op))
    return OpClass::Conv2D;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (linalgOp && linalgOp.getNumReductionLoops() == 0)
    return OpClass::Elementwise;
  return OpClass::Other;
}

std::string canonicalForm(Operation *op) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  std::string text;
  llvm::raw_string_ostream os(text);
  os << kWorkloadHashScheme << "\nop " << op->getName().getStringRef()
     << "\n";
  for (AffineMap map : linalgOp.getIndexingMapsArray()) {
    os << "map ";
    map.print(os);
    os << "\n";
  }
  os << "iterators";
  for (utils::IteratorType it : linalgOp.getIteratorTypesArray())
    os << " " << utils::stringifyIteratorType(it);
  os << "\n";
  for (OpOperand &operand : op->getOpOperands())
    os << "operand " << typeString(operand.get().getType()) << "\n";
  for (Operation &bodyOp : linalgOp.getBlock()->getOperations()) {
    os << "body " << bodyOp.getName().getStringRef() << " ";
    bodyOp.getAttrDictionary().print(os);
    os << "\n";
  }
  for (NamedAttribute attr : op->getAttrs()) {
    if (attr.getName() == "operandSegmentSizes" ||
        attr.getName().strref().starts_with("hatc."))
      continue;
    os << "attr " << attr.getName().strref() << " = ";
    attr.getValue().print(os);
    os << "\n";
  }
  return text;
}

std::string structuralHash(llvm::StringRef canonicalText) {
  llvm::XXH128_hash_t h = llvm::xxh3_128bits(llvm::ArrayRef<uint8_t>(
      canonicalText.bytes_begin(), canonicalText.size()));
  return std::string(kWorkloadHashScheme) + "-" +
         llvm::utohexstr(h.high64, /*LowerCase=*/true, /*Width=*/16) +
         llvm::utohexstr(h.low64, /*LowerCase=*/true, /*Width=*/16);
}

Task describeTask(Operation *op) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  Task task;
  task.opClass = classifyOp(op);
  task.opName = op->getName().getStringRef().str();
  SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
  task.loopRanges.assign(ranges.begin(), ranges.end());
  for (utils::IteratorType it : linalgOp.getIteratorTypesArray())
    task.iteratorTypes.push_back(it == utils::IteratorType::parallel
                                     ? "parallel"
                                     : "reduction");

  double points = 1;
  for (int64_t r : ranges)
    points *= static_cast<double>(r);
  int64_t opsPerPoint = 0;
  for (Operation &bodyOp : linalgOp.getBlock()->getOperations())
    if (countsAsFlop(&bodyOp))
      ++opsPerPoint;
  task.flops = points * static_cast<double>(opsPerPoint);

  std::string types = elementTypesTag(linalgOp);
  auto dims = [&](std::initializer_list<const char *> names) {
    std::string text;
    unsigned i = 0;
    for (const char *name : names)
      text += llvm::formatv("_{0}{1}", name, ranges[i++]).str();
    return text;
  };
  if (isa<linalg::MatmulOp>(op) && ranges.size() == 3) {
    task.key = "matmul_" + types + dims({"M", "N", "K"});
  } else if (isa<linalg::BatchMatmulOp>(op) && ranges.size() == 4) {
    task.key = "batch_matmul_" + types + dims({"B", "M", "N", "K"});
  } else if (auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(op)) {
    // Loops: n, oh, ow, f, kh, kw, c.
    auto strides = conv.getStrides().getValues<int64_t>();
    auto dilations = conv.getDilations().getValues<int64_t>();
    task.key = llvm::formatv("conv2d_nhwc_hwcf_{0}_N{1}_OH{2}_OW{3}_F{4}_"
                             "KH{5}_KW{6}_C{7}_S{8}x{9}_D{10}x{11}",
                             types, ranges[0], ranges[1], ranges[2], ranges[3],
                             ranges[4], ranges[5], ranges[6], strides[0],
                             strides[1], dilations[0], dilations[1])
                   .str();
  } else {
    std::string name = op->getName().getStringRef().str();
    if (StringRef(name).starts_with("linalg."))
      name = name.substr(strlen("linalg."));
    std::string iters;
    for (const std::string &it : task.iteratorTypes)
      iters += it[0];
    task.key = name + "_" + types + "_" +
               llvm::join(llvm::map_range(ranges,
                                          [](int64_t r) {
                                            return std::to_string(r);
                                          }),
                          "x") +
               "_" + iters;
  }

  // Structural hash: what the op computes, not how the file spells it. The
  // value is persisted (databases, logs), so it comes from a documented
  // canonical text and xxh3 (a fixed algorithm), never from
  // llvm::hash_combine, whose values may change between runs and releases.
  task.hash = structuralHash(canonicalForm(op));
  return task;
}

func::FuncOp Workload::entry() {
  return module->lookupSymbol<func::FuncOp>(entryName);
}

std::string Workload::key() const {
  return llvm::join(llvm::map_range(tasks, [](const Task &t) { return t.key; }),
                    "+");
}

std::string Workload::hash() const {
  if (tasks.size() == 1)
    return tasks.front().hash;
  return structuralHash(llvm::join(
      llvm::map_range(tasks, [](const Task &t) { return t.hash; }), "+"));
}

double Workload::flops() const {
  double total = 0;
  for (const Task &t : tasks)
    total += t.flops;
  return total;
}

Value transposedTensor(OpBuilder &b, Location loc, Value value,
                       ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> sizes;
  for (int64_t d : perm)
    sizes.push_back(tensor::getMixedSize(b, loc, value, d));
  Value init = b.create<tensor::EmptyOp>(loc, sizes, type.getElementType());
  return b.create<linalg::TransposeOp>(loc, value, init, perm)->getResult(0);
}

namespace {

/// A linalg.generic that is a plain contraction (an Einsum, a matmul the
/// importer or a user wrote as a generic) -> the named op it is (matmul,
/// batch_matmul, or one with a transposed operand, which the rewrite below
/// makes plain), so it gets the matmul schedules instead of cpu_generic's
/// loops (Einsum 'bid,bjd->bij' on 3x16x16x64: 14 us as a generic).
void specializeContractions(func::FuncOp entry) {
  SmallVector<linalg::GenericOp> generics;
  entry.walk([&](linalg::GenericOp op) {
    if (op.hasPureTensorSemantics() && linalg::isaContractionOpInterface(op))
      generics.push_back(op);
  });
  IRRewriter rewriter(entry.getContext());
  for (linalg::GenericOp op : generics) {
    rewriter.setInsertionPoint(op);
    // Fails, leaving the op as it is, where no named op has its maps.
    (void)linalg::specializeGenericOp(rewriter, op);
  }
}

/// Matmuls and batch matmuls with a transposed operand become a
/// linalg.transpose of that operand and the plain op, which has schedules
/// (its sketches, its default, B panels): left as they were, no schedule
/// took them and they ran as scalar loops (matmul_transpose_b, 128x768x768,
/// 2 threads: 6.8 GFLOP/s).
void untransposeContractions(func::FuncOp entry) {
  SmallVector<linalg::LinalgOp> ops;
  entry.walk([&](linalg::LinalgOp op) {
    if (isa<linalg::MatmulTransposeAOp, linalg::MatmulTransposeBOp,
            linalg::BatchMatmulTransposeAOp, linalg::BatchMatmulTransposeBOp>(
            op) &&
        op.hasPureTensorSemantics())
      ops.push_back(op);
  });
  for (linalg::LinalgOp op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    bool batched = isa<linalg::BatchMatmulTransposeAOp,
                       linalg::BatchMatmulTransposeBOp>(op);
    SmallVector<int64_t> perm =
        batched ? SmallVector<int64_t>{0, 2, 1} : SmallVector<int64_t>{1, 0};
    if (isa<linalg::MatmulTransposeAOp, linalg::BatchMatmulTransposeAOp>(op))
      lhs = transposedTensor(b, loc, lhs, perm);
    else
      rhs = transposedTensor(b, loc, rhs, perm);
    Operation *plain =
        batched ? b.create<linalg::BatchMatmulOp>(loc, ValueRange{lhs, rhs},
                                                  ValueRange{init})
                      .getOperation()
                : b.create<linalg::MatmulOp>(loc, ValueRange{lhs, rhs},
                                             ValueRange{init})
                      .getOperation();
    op->replaceAllUsesWith(plain->getResults());
    op->erase();
  }
}

/// Erases the module's functions other than `entry`; returns whether any
/// went. A workload is one function (validateEntry refuses calls), so the
/// others are other workloads of the file: a schedule matches ops by name
/// across the module, and left there, their ops would be matched too
/// ("requires target to map to exactly 1 LinalgOp").
bool keepOnlyEntry(ModuleOp module, func::FuncOp entry) {
  bool erased = false;
  for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (func != entry) {
      func.erase();
      erased = true;
    }
  return erased;
}

} // namespace

llvm::Expected<Workload> workloadFromModule(OwningOpRef<ModuleOp> module,
                                              llvm::StringRef path,
                                              llvm::StringRef entryName) {
  Workload workload;
  workload.path = path.str();
  SmallVector<func::FuncOp> candidates;
  for (auto func : module->getOps<func::FuncOp>())
    if (!func.isExternal() &&
        (entryName.empty() ? func.isPublic() : func.getSymName() == entryName))
      candidates.push_back(func);
  if (candidates.empty()) {
    if (!entryName.empty())
      return makeError(path + ": no function named @" + entryName);
    return makeError(path + ": no public function with a body; hatc needs "
                            "one entry function of linalg ops on tensors");
  }
  if (candidates.size() > 1) {
    std::string names = llvm::join(
        llvm::map_range(candidates,
                        [](func::FuncOp f) { return "@" + f.getSymName().str(); }),
        ", ");
    return makeError(path + ": several public functions (" + names +
                     "); choose one with --entry");
  }
  func::FuncOp entry = candidates.front();
  workload.entryName = entry.getSymName().str();
  if (keepOnlyEntry(*module, entry)) {
    llvm::raw_string_ostream os(workload.ownIr);
    module->print(os);
  }

  FunctionType type = entry.getFunctionType();
  for (auto [i, input] : llvm::enumerate(type.getInputs())) {
    auto spec = specFor(entry, input, "argument", i);
    if (!spec)
      return spec.takeError();
    workload.inputs.push_back(std::move(*spec));
  }
  for (auto [i, result] : llvm::enumerate(type.getResults())) {
    auto spec = specFor(entry, result, "result", i);
    if (!spec)
      return spec.takeError();
    workload.outputs.push_back(std::move(*spec));
  }
  if (workload.outputs.empty())
    return errorAt(entry, "@" + workload.entryName +
                              " returns nothing; hatc measures and checks "
                              "the returned tensors");
  if (llvm::Error err = validateEntry(entry, workload.uncheckable))
    return std::move(err);
  specializeContractions(entry);
  untransposeContractions(entry);
  tagOpsWithConflictingLoops(entry);
  entry.walk([&](linalg::LinalgOp op) {
    Task task = describeTask(op);
    if (task.flops > 0)
      workload.tasks.push_back(std::move(task));
  });
  if (workload.tasks.empty()) // only fills/copies: keep them as tasks anyway
    entry.walk([&](linalg::LinalgOp op) {
      workload.tasks.push_back(describeTask(op));
    });
  // An op that reads its output (a reduction accumulating into it) while
  // that output is a bare tensor.empty computes from uninitialized memory:
  // valid IR, but no schedule can match the reference. Said up front,
  // because the symptom (a huge error, NaNs) points elsewhere.
  entry.walk([&](linalg::LinalgOp op) {
    for (OpOperand &init : op.getDpsInitsMutable())
      if (init.get().getDefiningOp<tensor::EmptyOp>() &&
          op.payloadUsesValueFromOperand(&init))
        workload.warnings.push_back(
            formatLocation(op->getLoc()) + ": " +
            op->getName().getStringRef().str() +
            " accumulates into a tensor.empty that nothing initialized; its "
            "result depends on uninitialized memory (fill it first, e.g. "
            "with linalg.fill)");
  });
  workload.module = std::move(module);
  return workload;
}

static llvm::Expected<Workload> parseFromSourceMgr(MLIRContext &context,
                                                   llvm::SourceMgr &sourceMgr,
                                                   llvm::StringRef path,
                                                   llvm::StringRef entryName) {
  llvm::StringRef text =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
  if (std::string problem = nestingProblem(text); !problem.empty())
    return makeError(path + ": " + problem);
  DiagnosticCapture capture(&context);
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return capture.takeError("");
  return workloadFromModule(std::move(module), path, entryName);
}

llvm::Expected<Workload> loadWorkload(MLIRContext &context,
                                      llvm::StringRef path,
                                      llvm::StringRef entryName) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return parseFromSourceMgr(context, sourceMgr, path, entryName);
}

llvm::Expected<Workload> parseWorkload(MLIRContext &context,
                                       llvm::StringRef source,
                                       llvm::StringRef bufferName,
                                       llvm::StringRef entryName) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, bufferName), llvm::SMLoc());
  return parseFromSourceMgr(context, sourceMgr, bufferName, entryName);
}

llvm::Expected<Workload> storedWorkload(MLIRContext &context,
                                        llvm::StringRef key,
                                        llvm::StringRef ir) {
  // Which entry function of the file is this workload: the one whose key
  // matches (a file may hold several tasks).
  if (std::string problem = nestingProblem(ir); !problem.empty())
    return makeError("its workload_ir " + problem);
  std::vector<std::string> entries;
  {
    DiagnosticCapture capture(&context);
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(ir, ParserConfig(&context), "workload_ir");
    if (!module)
      return capture.takeError("its workload_ir does not parse");
    for (auto func : module->getOps<func::FuncOp>())
      if (!func.isExternal() && func.isPublic())
        entries.push_back(func.getSymName().str());
  }
  // Each function is validated on a parse of its own: a stored workload is
  // one function (hatc writes its entry alone), or a small file of them.
  constexpr size_t kMaxFunctions = 64;
  if (entries.size() > kMaxFunctions)
    return makeError("its workload_ir holds " +
                     std::to_string(entries.size()) +
                     " public functions; a record's IR is its workload's "
                     "(at most " +
                     std::to_string(kMaxFunctions) + " are searched)");
  std::vector<std::string> keys;
  std::string firstError;
  for (const std::string &entry : entries) {
    DiagnosticCapture quiet(&context);
    auto workload = parseWorkload(context, ir, "<stored workload>", entry);
    if (!workload) {
      std::string error = llvm::toString(workload.takeError());
      if (firstError.empty())
        firstError = "@" + entry + ": " + error;
      continue;
    }
    if (workload->key() == key)
      return workload;
    keys.push_back(workload->key());
  }
  std::string why = !keys.empty() ? "it computes " + llvm::join(keys, ", ")
                    : !firstError.empty() ? firstError
                                          : "it has no public function";
  return makeError("its workload_ir has no function with workload key " +
                   key.str() + " (" + why + ")");
}

llvm::Expected<std::string> storedWorkloadHash(MLIRContext &context,
                                               llvm::StringRef key,
                                               llvm::StringRef ir) {
  auto workload = storedWorkload(context, key, ir);
  if (!workload)
    return workload.takeError();
  return workload->hash();
}

std::function<std::optional<std::string>(const std::string &,
                                         const std::string &)>
workloadRehasher() {
  // One context for every row of a re-keying pass, made on the first row:
  // every writable open of a database carries a rehasher, and almost none
  // has a row to re-key.
  auto holder = std::make_shared<std::unique_ptr<MLIRContext>>();
  return [holder](const std::string &key,
                            const std::string &ir) -> std::optional<std::string> {
    if (ir.empty())
      return std::nullopt;
    if (!*holder) {
      *holder = std::make_unique<MLIRContext>(MLIRContext::Threading::DISABLED);
      initContext(**holder);
    }
    auto hash = storedWorkloadHash(**holder, key, ir);
    if (!hash) {
      llvm::consumeError(hash.takeError());
      return std::nullopt;
    }
    return *hash;
  };
}

} // namespace hatc
