//===- CpuSchedules.cpp - CPU schedule families and their analytical defaults ===//
//
//   facts + op shape -> derive*() -> parameters -> CpuScheduleScript steps
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Runtime/Target.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/TransformOps/TensorTransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace hatc {

//===----------------------------------------------------------------------===//
// Facts and shapes
//===----------------------------------------------------------------------===//

static int64_t readCacheBytes(int index, int64_t fallback) {
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" +
                   std::to_string(index) + "/size");
  std::string text;
  if (!(in >> text) || text.empty())
    return fallback;
  int64_t value = std::atoll(text.c_str());
  char unit = text.back();
  if (unit == 'K')
    value <<= 10;
  else if (unit == 'M')
    value <<= 20;
  return value > 0 ? value : fallback;
}

CpuFacts CpuFacts::host(int64_t threads) {
  CpuFacts facts;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  bool avx512 = features.lookup("avx512f");
  facts.vectorLanes = avx512 ? 16 : (features.lookup("avx") ? 8 : 4);
  facts.vectorRegisters = avx512 ? 32 : 16;
  facts.vnni = avx512 && features.lookup("avx512vnni");
  facts.bf16Dot = avx512 && features.lookup("avx512bf16");
  bool tiles = features.lookup("amx-tile");
  facts.amxInt8 = tiles && features.lookup("amx-int8");
  facts.amxBf16 = tiles && features.lookup("amx-bf16");
  facts.l1Bytes = readCacheBytes(0, 32 << 10); // index0: L1 data
  facts.l2Bytes = readCacheBytes(2, 1 << 20);
  facts.cores = hostCores();
  facts.threads = threads > 0 ? threads : facts.cores;
  if (const char *pin = std::getenv(kCpuFactsEnv); pin && *pin)
    if (llvm::Error error = pinFacts(facts, pin))
      // The CLI checks the pin before any command (checkPinnedFacts).
      llvm::report_fatal_error(std::move(error));
  return facts;
}

/// "48K", "1M" or a byte count.
static std::optional<int64_t> parseBytes(llvm::StringRef text) {
  int64_t scale = 1;
  if (text.consume_back("K"))
    scale = 1 << 10;
  else if (text.consume_back("M"))
    scale = 1 << 20;
  int64_t value = 0;
  if (text.getAsInteger(10, value) || value <= 0 ||
      value > (int64_t(1) << 40) / scale)
    return std::nullopt;
  return value * scale;
}

llvm::Error pinFacts(CpuFacts &facts, llvm::StringRef spec) {
  auto bad = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   llvm::Twine(kCpuFactsEnv) + "=\"" + spec +
                                       "\": " + why);
  };
  llvm::SmallVector<llvm::StringRef> items;
  spec.split(items, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef item : items) {
    auto [key, value] = item.split('=');
    key = key.trim();
    value = value.trim();
    if (key == "lanes" || key == "registers") {
      int64_t number = 0;
      bool ok = !value.getAsInteger(10, number) &&
                (key == "lanes" ? number == 4 || number == 8 || number == 16
                                : number == 16 || number == 32);
      if (!ok)
        return bad("'" + item + "': " + key +
                   (key == "lanes" ? " is 4, 8 or 16" : " is 16 or 32"));
      (key == "lanes" ? facts.vectorLanes : facts.vectorRegisters) = number;
    } else if (key == "l1" || key == "l2") {
      std::optional<int64_t> bytes = parseBytes(value);
      if (!bytes)
        return bad("'" + item + "': " + key +
                   " is a size in bytes, e.g. 48K or 1M");
      (key == "l1" ? facts.l1Bytes : facts.l2Bytes) = *bytes;
    } else {
      return bad("unknown key '" + key + "' (lanes, registers, l1, l2)");
    }
  }
  return llvm::Error::success();
}

std::vector<int64_t> registerTileWidths(const CpuFacts &facts) {
  int64_t lanes = facts.vectorLanes;
  return {lanes, 2 * lanes, 3 * lanes, 4 * lanes};
}

llvm::Error checkPinnedFacts() {
  const char *pin = std::getenv(kCpuFactsEnv);
  if (!pin || !*pin)
    return llvm::Error::success();
  CpuFacts facts;
  return pinFacts(facts, pin);
}

static std::string elementTypeName(mlir::Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::getElementTypeOrSelf(type).print(os);
  return text;
}

int64_t CpuOpShape::narrowGroup() const {
  if (elemType == "i8" && accType == "i32")
    return 4;
  if (elemType == "bf16" && accType == "f32")
    return 2;
  return 0;
}

int64_t CpuOpShape::dotGroup(const CpuFacts &facts) const {
  int64_t group = narrowGroup();
  return (group == 4 && facts.vnni) || (group == 2 && facts.bf16Dot) ? group
                                                                     : 0;
}

int64_t CpuOpShape::amxGroup(const CpuFacts &facts) const {
  int64_t group = narrowGroup();
  return (group == 4 && facts.amxInt8) || (group == 2 && facts.amxBf16)
             ? group
             : 0;
}

CpuOpShape cpuOpShapeOf(mlir::Operation *operation) {
  CpuOpShape shape;
  auto op = mlir::cast<mlir::linalg::LinalgOp>(operation);
  shape.opClass = classifyOp(operation);
  shape.opName = operation->getName().getStringRef().str();
  llvm::SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  shape.loopRanges.assign(ranges.begin(), ranges.end());
  for (mlir::utils::IteratorType type : op.getIteratorTypesArray())
    shape.parallel.push_back(type == mlir::utils::IteratorType::parallel);
  if (!op.getDpsInputs().empty())
    shape.elemType = elementTypeName(op.getDpsInputs().front().getType());
  if (!op.getDpsInits().empty())
    shape.accType = elementTypeName(op.getDpsInits().front().getType());
  shape.hasElementwiseConsumer = elementwiseConsumerOf(operation) != nullptr;
  shape.initProducer = hasInitProducer(operation);
  shape.initFill = initIsFill(operation);
  shape.initShared = initIsShared(operation);
  shape.gathers = gathers(operation);
  shape.constantB =
      op.getDpsInputs().size() > 1 &&
      op.getDpsInputs()[1].getDefiningOp<mlir::arith::ConstantOp>();
  return shape;
}

mlir::Operation *elementwiseConsumerOf(mlir::Operation *anchor) {
  auto op = mlir::dyn_cast<mlir::linalg::LinalgOp>(anchor);
  if (!op || anchor->getNumResults() != 1 || !anchor->getResult(0).hasOneUse())
    return nullptr;
  mlir::Value result = anchor->getResult(0);
  auto consumer =
      mlir::dyn_cast<mlir::linalg::GenericOp>(*result.user_begin());
  if (!consumer || consumer->getNumResults() != 1 ||
      consumer.getNumReductionLoops() != 0 ||
      consumer.getNumLoops() != op.getNumParallelLoops())
    return nullptr;
  for (mlir::OpOperand &operand : consumer->getOpOperands())
    if ((operand.get() == result || consumer.isDpsInit(&operand)) &&
        !consumer.getMatchingIndexingMap(&operand).isIdentity())
      return nullptr;
  return consumer;
}

bool hasInitProducer(mlir::Operation *anchor) {
  auto op = mlir::dyn_cast<mlir::linalg::LinalgOp>(anchor);
  if (!op || op.getNumDpsInits() != 1)
    return false;
  mlir::Value init = op.getDpsInits().front();
  mlir::Operation *producer = init.getDefiningOp();
  // A fill shared by several ops (CSE merges a model's equal zero
  // accumulators) is cloned into each one's tiles; a broadcast is fused
  // only where this op is its one user.
  return producer &&
         (mlir::isa<mlir::linalg::FillOp>(producer) ||
          (init.hasOneUse() && mlir::isa<mlir::linalg::BroadcastOp>(producer)));
}

bool initIsShared(mlir::Operation *anchor) {
  return hasInitProducer(anchor) && !mlir::cast<mlir::linalg::LinalgOp>(anchor)
                                         .getDpsInits()
                                         .front()
                                         .hasOneUse();
}

bool gathers(mlir::Operation *op) {
  return op->getRegion(0)
      .walk([](mlir::tensor::ExtractOp) { return mlir::WalkResult::interrupt(); })
      .wasInterrupted();
}

bool initIsFill(mlir::Operation *anchor) {
  auto op = mlir::dyn_cast<mlir::linalg::LinalgOp>(anchor);
  return op && op.getNumDpsInits() == 1 &&
         op.getDpsInits().front().getDefiningOp<mlir::linalg::FillOp>();
}

//===----------------------------------------------------------------------===//
// Derivation
//===----------------------------------------------------------------------===//

int64_t largestParallelLoop(const CpuOpShape &shape, size_t count) {
  int64_t best = -1, extent = 1;
  count = std::min({count, shape.loopRanges.size(), shape.parallel.size()});
  for (size_t i = 0; i < count; ++i)
    if (shape.parallel[i] && shape.loopRanges[i] > extent) {
      extent = shape.loopRanges[i];
      best = int64_t(i);
    }
  return best;
}

std::vector<int64_t> threadChoices(int64_t threads) {
  std::vector<int64_t> out;
  int64_t most = std::max<int64_t>(1, threads);
  for (int64_t p = 1; p <= most; p *= 2)
    out.push_back(p);
  if (most & (most - 1))
    out.push_back(most);
  return out;
}

namespace {

bool dynamicRange(const CpuOpShape &shape) {
  return llvm::any_of(shape.loopRanges,
                      [](int64_t r) { return r <= 0 || r == INT64_MAX; }) ||
         mlir::ShapedType::isDynamicShape(shape.loopRanges);
}

/// Fewer threads for small ops: each thread gets at least this many
/// iteration points (about 0.5 MFLOP of FMAs, a few microseconds), so the
/// fork and join of a parallel region stays a small part of the op, as
/// BLAS libraries run small problems on one thread. Measured (AVX-512, 2
/// threads, hatc measure, A/B in one run), on the 19 of 160 corpus tasks
/// between 2^18 and 2^20 points a thread, which 2^20 kept on one thread:
/// 18 ran 1.16-1.83x faster on two (a 28x28 1x1 conv 96 -> 24: 30 -> 16
/// us), one 0.88x (14x14 1x1 conv 64 -> 128: 12.7 -> 14.4 us).
constexpr int64_t kMinPointsPerThread = int64_t(1) << 18;

/// `facts` with its threads lowered for a small op, to one of its thread
/// choices (so every choice below it is one of the original's too).
CpuFacts withThreadsFor(const CpuOpShape &shape, CpuFacts facts) {
  int64_t points = 1;
  for (int64_t r : shape.loopRanges)
    points = r > 0 ? std::min<int64_t>(points * r, int64_t(1) << 40) : points;
  int64_t most = std::max<int64_t>(1, points / kMinPointsPerThread), cap = 1;
  for (int64_t p : threadChoices(facts.threads))
    if (p <= most)
      cap = std::max(cap, p);
  facts.threads = cap;
  return facts;
}

/// The most threads (from threadChoices) that `fits` accepts; 1 if none.
int64_t mostThreads(const CpuFacts &facts,
                    llvm::function_ref<bool(int64_t)> fits) {
  int64_t best = 1;
  for (int64_t p : threadChoices(facts.threads))
    if (fits(p))
      best = std::max(best, p);
  return best;
}

/// Registers an mr x nr tile of accumulators needs, with a row of B and a
/// broadcast element of A: the sketches' registerTileReason rule.
bool fitsRegisters(int64_t mr, int64_t nr, const CpuFacts &facts) {
  if (nr % facts.vectorLanes)
    return false;
  int64_t vectors = nr / facts.vectorLanes;
  return mr * vectors + vectors + 1 <= facts.vectorRegisters;
}

/// The register tile's width: two vectors (one per FMA port, so the B row
/// is two loads for 2*mr FMAs), else the nearest width the domain has.
int64_t registerCols(const std::vector<int64_t> &domain, int64_t limit,
                     const CpuFacts &facts) {
  int64_t best = -1, bestDistance = INT64_MAX;
  for (int64_t nr : domain) {
    if (nr % facts.vectorLanes || nr > limit || !fitsRegisters(1, nr, facts))
      continue;
    int64_t distance = std::abs(nr / facts.vectorLanes - 2);
    if (distance < bestDistance)
      best = nr, bestDistance = distance;
  }
  return best;
}

/// Accumulator vectors a register tile needs to keep the FMA units busy:
/// fewer, and each k step waits on the latency of the last FMA into the
/// same accumulator. Measured (AVX-512, 49x2048x1024 at 2 threads, 25 rows
/// a thread, 2-vector tiles), the FMA rate per useful row against 6 rows
/// (12 vectors): 1 row 0.19, 2 rows 0.39, 4 rows 0.72, 8 rows 0.95.
constexpr int64_t kLatencyHidingAccumulators = 12;

/// The register tile's height: the most rows the register file holds,
/// unless padding `rows` to a multiple of it wastes more than a sixteenth
/// of the tile; then the height that computes the most useful rows per
/// FMA slot: its share of unpadded rows times its FMA rate, which rises
/// with its accumulators up to kLatencyHidingAccumulators (25 rows: 6 rows
/// padded to 30, not 1 row that divides them: 4.3x faster measured).
int64_t registerRows(const std::vector<int64_t> &domain, int64_t nr,
                     int64_t rows, const CpuFacts &facts) {
  std::vector<int64_t> heights; // ascending, as the domain
  for (int64_t mr : domain)
    if (mr <= rows && fitsRegisters(mr, nr, facts))
      heights.push_back(mr);
  if (heights.empty())
    return -1;
  auto padded = [&](int64_t mr) { return (rows + mr - 1) / mr * mr; };
  if ((padded(heights.back()) - rows) * 16 <= rows)
    return heights.back();
  int64_t vectors = nr / facts.vectorLanes, best = heights.back();
  double bestRate = 0;
  for (int64_t mr : heights) {
    double rate = double(rows) / double(padded(mr)) *
                  std::min(1.0, double(mr * vectors) /
                                    double(kLatencyHidingAccumulators));
    if (rate >= bestRate) // a tie goes to the taller tile
      best = mr, bestRate = rate;
  }
  return best;
}

/// The largest of `domain` (ascending) accepted by `fits`, else the
/// smallest.
int64_t largestFitting(const std::vector<int64_t> &domain,
                       llvm::function_ref<bool(int64_t)> fits) {
  for (auto it = domain.rbegin(); it != domain.rend(); ++it)
    if (fits(*it))
      return *it;
  return domain.front();
}

/// The largest of `domain` (ascending) accepted by `fits` that tiles
/// `extent` evenly (divides it, or covers it whole), else largestFitting.
/// A tile that leaves a partial one at the edge gives the packed panels
/// and the register loops dynamic sizes: measured on 128x768x768, a 512
/// wide N tile ran 6x slower than 384 or 256 (bench/model_perf.py's BERT).
int64_t largestDividing(const std::vector<int64_t> &domain, int64_t extent,
                        llvm::function_ref<bool(int64_t)> fits) {
  for (auto it = domain.rbegin(); it != domain.rend(); ++it)
    if (fits(*it) && (extent % *it == 0 || *it >= extent))
      return *it;
  return largestFitting(domain, fits);
}

/// The largest of `domain` (ascending) whose tile, clamped to `extent`,
/// divides it and is accepted by `fits` (given the clamped tile); -1 if
/// none is.
int64_t largestEvenTile(const std::vector<int64_t> &domain, int64_t extent,
                        llvm::function_ref<bool(int64_t)> fits) {
  for (auto it = domain.rbegin(); it != domain.rend(); ++it) {
    int64_t tile = std::min(*it, extent);
    if (extent % tile == 0 && fits(tile))
      return *it;
  }
  return -1;
}

std::vector<int64_t> divisors(int64_t n, int64_t lo, int64_t hi) {
  std::vector<int64_t> out;
  for (int64_t d = std::max<int64_t>(lo, 1); d <= std::min(n, hi); ++d)
    if (n % d == 0)
      out.push_back(d);
  if (out.empty())
    out.push_back(n);
  return out;
}

/// Unroll the k loop so one iteration of the unrolled body issues about 32
/// FMAs: enough independent work to hide the FMA latency on two ports.
int64_t kUnrollFor(int64_t mr, int64_t nr, const CpuFacts &facts) {
  int64_t fmas = mr * (nr / facts.vectorLanes);
  return fmas >= 32 ? 1 : (fmas >= 16 ? 2 : 4);
}

/// Fewer rows a thread than this, and a packed B panel is reused too
/// little to pay for its copy (32 rows over 2 threads: 1.0 ms packed, 0.15
/// ms in place).
constexpr int64_t kPackedMinRows = 64;
/// The register tile of an in-place one-row matmul (CpuMatmulParams::nr).
constexpr int64_t kWideRowTile = 128;

/// cpu_matmul's knob domains (tuner/sketches/CpuMatmul.cpp).
const std::vector<int64_t> kMatmulMrs = {1, 2, 4, 6, 8},
                           kMatmulCacheTiles = {8, 16, 32, 64, 128, 256},
                           kMatmulPanelTiles = {16, 32, 64, 128, 256, 512};

/// Whether a register tile smaller than the packed default's does as
/// well as it where it saves the copies: with 32 registers, a smaller tile
/// (4 rows where padding makes 8) loses more than the copies cost; with
/// 16, a tile of 8 accumulators or more does not, the packed one being
/// 6x16 (12) at most. Measured (AVX2, Zen 3): 32 rows of 32x512x784 on 1
/// thread ran at 42-49 GFLOP/s packed 6x16 (kc 16, the one panel tile
/// dividing K), 51 with kc 64 or 128, and 61-80 in place at 4x16.
bool smallTileSuffices(const CpuMatmulParams &p, const CpuFacts &facts) {
  return facts.vectorRegisters < 32 && p.mr * p.nr >= 8 * facts.vectorLanes;
}

/// `packed` (the packed default) without packing: the same threads and
/// rules for the tiles, each cache tile now dividing a thread's rows, N and
/// K and each register tile its cache tile, so no operand is copied or
/// padded; nullopt where no such tiles are found. Packing copies each
/// cache tile's panels (a strided copy, with a dynamic-size pad where a
/// tile is partial), which a thread with few rows reuses too little to pay
/// for: measured (AVX-512, 2 threads) 32x512x784 ran at 1.0 ms packed with
/// kc 128, 0.6 ms packed with kc 16, 0.15 ms in place (tuned: 0.13 ms).
std::optional<CpuMatmulParams> inPlaceMatmul(CpuMatmulParams packed,
                                             const CpuOpShape &shape,
                                             bool batched, int64_t M,
                                             int64_t N, int64_t K, int64_t e,
                                             const CpuFacts &facts) {
  CpuMatmulParams p = packed;
  p.pack = false;
  // Rows the threads cannot split evenly: they may split N instead.
  if (!batched && M % p.par && !p.splitsN(shape))
    return std::nullopt;
  std::vector<int64_t> dividingNrs;
  for (int64_t nr : registerTileWidths(facts))
    if (N % nr == 0)
      dividingNrs.push_back(nr);
  p.nr = registerCols(dividingNrs, N, facts);
  if (p.nr < 0)
    return std::nullopt;
  // A tile clamped to its extent (the sketch's Tiles) must divide it.
  auto divides = [](int64_t tile, int64_t extent) {
    return extent % std::min(tile, extent) == 0;
  };
  p.kc = largestEvenTile(kMatmulPanelTiles, K, [&](int64_t kc) {
    return kc * (8 + p.nr) * e <= facts.l1Bytes;
  });
  if (p.kc < 0)
    return std::nullopt;
  int64_t kc = std::min(p.kc, K);
  // A thread's rows and columns (all of N, or its part where the threads
  // split N, which depends on nr).
  CpuMatmulParams::Tiles part = p.tiles(shape);
  int64_t rows = part.rows, cols = part.cols;
  p.nc = largestEvenTile(kMatmulPanelTiles, cols, [&](int64_t nc) {
    return nc % p.nr == 0 && kc * nc * e <= facts.l2Bytes / 2;
  });
  if (p.nc < 0)
    return std::nullopt;
  // mr: the most rows that fit and divide the cache tile.
  p.mr = -1;
  for (auto mc = kMatmulCacheTiles.rbegin();
       mc != kMatmulCacheTiles.rend() && p.mr < 0; ++mc) {
    int64_t tile = std::min(*mc, rows);
    if (!divides(*mc, rows) || tile * kc * e > facts.l2Bytes / 2)
      continue;
    for (auto mr = kMatmulMrs.rbegin(); mr != kMatmulMrs.rend(); ++mr)
      if (tile % *mr == 0 && fitsRegisters(*mr, p.nr, facts)) {
        p.mc = *mc, p.mr = *mr;
        break;
      }
  }
  // One-row tiles (a matrix-vector product: a classifier head, a decoder
  // step): a two-vector tile keeps two accumulators, each FMA waiting on
  // the last, and reads B 128 bytes a row, 4 KB apart. The widest tile
  // that fits and divides the columns and their cache tile instead (8
  // vectors on AVX-512). Measured 1x1024x1280, 1 thread: 135 -> 56 us.
  if (p.mr == 1)
    for (int64_t wide : {kWideRowTile, kWideRowTile / 2})
      if (wide > p.nr && cols % wide == 0 && std::min(p.nc, cols) % wide == 0 &&
          fitsRegisters(1, wide, facts)) {
        p.nr = wide;
        break;
      }
  bool smaller = p.mr * p.nr < packed.mr * packed.nr;
  if (p.mr < 0 || (smaller && !smallTileSuffices(p, facts)))
    return std::nullopt;
  p.kUnroll = kUnrollFor(p.mr, p.nr, facts);
  return p;
}

} // namespace

/// Fewer rows a thread than this, and an in-place matmul's threads split N
/// (CpuMatmulParams::splitsN). Measured on the MLP model (32x512x784 and
/// 32x512x512 layers, 2 threads, compiled library, interleaved): 0.46 ->
/// 0.42 ms median of minimums, 0.65 -> 0.51 ms median.
constexpr int64_t kSplitNBelowRows = 64;

bool CpuMatmulParams::splitsN(const CpuOpShape &shape) const {
  if (shape.opClass != OpClass::Matmul || shape.loopRanges.size() != 3 ||
      pack || panels || par <= 1 || nr <= 0)
    return false;
  int64_t M = shape.loopRanges[0], N = shape.loopRanges[1];
  return M / par < kSplitNBelowRows && N % par == 0 && (N / par) % nr == 0;
}

bool CpuMatmulParams::ownsConsumer(const CpuOpShape &shape,
                                   int64_t vectorLanes) const {
  if (!shape.hasElementwiseConsumer)
    return false;
  if (fuse || panels)
    return true;
  size_t n = shape.opClass == OpClass::BatchMatmul ? 2 : 1;
  return vectorLanes > 0 && shape.loopRanges.size() > n &&
         shape.loopRanges[n] % vectorLanes == 0;
}

CpuMatmulParams::Tiles CpuMatmulParams::tiles(const CpuOpShape &shape) const {
  bool batched = shape.opClass == OpClass::BatchMatmul;
  size_t off = batched ? 1 : 0;
  int64_t M = shape.loopRanges[off], N = shape.loopRanges[off + 1],
          K = shape.loopRanges[off + 2];
  bool overN = splitsN(shape);
  int64_t rows = batched || overN ? M : (M + par - 1) / par;
  int64_t cols = overN ? N / par : N;
  return {rows, std::min(mc, rows), std::min(nc, cols), std::min(kc, K), cols};
}

std::optional<std::string> panelShapeReason(const CpuOpShape &shape) {
  if (shape.opClass != OpClass::Matmul || shape.loopRanges.size() != 3 ||
      dynamicRange(shape))
    return std::string("B panels are for static matmuls (not batch_matmul)");
  bool f32 = shape.elemType == "f32" && shape.accType == "f32";
  if (!f32 && !shape.narrowGroup())
    return "B panels are for f32, i8 -> i32 and bf16 -> f32 matmuls (" +
           shape.elemType + " -> " + shape.accType + " here)";
  return std::nullopt;
}

std::optional<std::string> panelMatmulReason(const CpuOpShape &shape,
                                             const CpuMatmulParams &p) {
  if (auto reason = panelShapeReason(shape))
    return reason;
  if (!p.pack)
    return std::string("B panels need pack");
  if (p.fuse)
    return std::string("B panels take no fuse: their consumer runs in "
                       "the matmul's threads already, after each thread's "
                       "rows");
  int64_t M = shape.loopRanges[0], N = shape.loopRanges[1],
          K = shape.loopRanges[2];
  CpuMatmulParams::Tiles t = p.tiles(shape);
  if (M % p.par || t.rows % t.mc || t.mc % p.mr)
    return llvm::formatv("B panels need par={0}, mc={1} and mr={2} to tile "
                         "M={3} evenly",
                         p.par, t.mc, p.mr, M)
        .str();
  if (N % t.nc || t.nc % p.nr)
    return llvm::formatv("B panels need nr={0} | nc={1} | N={2}", p.nr, t.nc,
                         N)
        .str();
  if (K % t.kc)
    return llvm::formatv("B panels need kc={0} to divide K={1}", t.kc, K)
        .str();
  // i8 / bf16: B packed in k groups, read by the dot products as it is.
  int64_t group = shape.narrowGroup();
  if (group && p.dotGroup != group)
    return llvm::formatv("B panels of {0} need dot_group={1} (they are "
                         "packed in k groups)",
                         shape.elemType, group)
        .str();
  if (group && std::min(t.kc, K) % (group * p.kUnroll))
    return llvm::formatv("B panels need k_unroll={0} x dot_group={1} to "
                         "divide kc={2}",
                         p.kUnroll, group, std::min(t.kc, K))
        .str();
  return std::nullopt;
}

namespace {

/// The shallowest k tile the panel default takes.
constexpr int64_t kMinPanelDepth = 64;

/// The register tile of B panels: 4 rows x 4 vectors where that fits and
/// divides (A read in place, B streamed panel after panel: fewer A
/// broadcasts per FMA than 8 x 2 vectors, and the 4 rows of A stay in
/// L1). Measured (AVX-512, 1024^3, 2 threads, every kc/mc/nc of the
/// domain): best 4 x 64 148 GFLOP/s, 8 x 32 133, 2 x 64 122, 8 x 16 97.
constexpr int64_t kPanelRows = 4, kPanelVectors = 4;

/// The k groups of a dot-product panel's register step.
constexpr int64_t kDotPanelGroups = 4;

/// The panel config for `packed`'s threads and register width: a kc x nr
/// B panel in 1/32 of L2 (it streams from L2 over the cache tile's
/// rows, contiguous), the rows' A block in a quarter of L2, the cache
/// tile's panels in half of it; nullopt where the shape does not tile
/// evenly.
std::optional<CpuMatmulParams> panelMatmul(CpuMatmulParams packed,
                                           const CpuOpShape &shape,
                                           const CpuFacts &facts) {
  CpuMatmulParams p = packed;
  p.pack = true, p.panels = true, p.fuse = false, p.orderNmk = false;
  if (shape.loopRanges.size() != 3 || shape.loopRanges[0] % p.par)
    return std::nullopt;
  int64_t rows = shape.loopRanges[0] / p.par, N = shape.loopRanges[1],
          K = shape.loopRanges[2], e = shape.elemBytes();
  int64_t wide = kPanelVectors * facts.vectorLanes;
  // Dot products keep the padded tile's: their B panel is read as it is
  // packed, and the more rows share each of its loads (and the sign
  // compensation of i8), the better.
  bool dots = p.dotGroup > 1;
  if (!dots && N % wide == 0 && fitsRegisters(kPanelRows, wide, facts))
    p.nr = wide;
  p.kc = largestEvenTile(kMatmulPanelTiles, K, [&](int64_t kc) {
    return kc * p.nr * e <= facts.l2Bytes / 32;
  });
  // A shallow k tile stores the accumulators too often (K = 784 divides by
  // 16 only): the padded cache tiles do better there.
  if (p.kc < 0 || std::min(p.kc, K) < kMinPanelDepth)
    return std::nullopt;
  int64_t kc = std::min(p.kc, K);
  p.mc = largestEvenTile(kMatmulCacheTiles, rows, [&](int64_t mc) {
    return mc * kc * e <= facts.l2Bytes / 4;
  });
  p.nc = largestEvenTile(kMatmulPanelTiles, N, [&](int64_t nc) {
    return nc % p.nr == 0 && nc * kc * e <= facts.l2Bytes / 2;
  });
  if (p.mc < 0 || p.nc < 0)
    return std::nullopt;
  p.mr = -1;
  for (auto mr = kMatmulMrs.rbegin(); mr != kMatmulMrs.rend(); ++mr)
    if (std::min(p.mc, rows) % *mr == 0 && fitsRegisters(*mr, p.nr, facts) &&
        (p.nr != wide || *mr <= kPanelRows)) {
      p.mr = *mr;
      break;
    }
  // A is not padded, so mr must divide the rows. A smaller register tile
  // than the padded one's (4 rows where 6 fit) loses more than B's panels
  // gain, unless the tile suffices and B is a constant, its panels packed
  // at compile time. Where B is packed at run time, they lose on 16
  // registers too. Measured (AVX2, Zen 3, 4x16 panels against packed 6x16,
  // fastest of 6-8 alternating runs): BERT's 128x768x3072 with its weights
  // 6.0 -> 4.1 ms on 2 threads, 8.5 -> 7.4 on 1; with B an argument,
  // 128x3072x768 8.9 -> 16.0 ms and 1024^3 32 -> 52 ms on 2 threads.
  bool smaller = p.mr * p.nr < packed.mr * packed.nr;
  if (p.mr < 0 ||
      (smaller && !(shape.constantB && smallTileSuffices(p, facts))))
    return std::nullopt;
  p.kUnroll = kUnrollFor(p.mr, p.nr, facts);
  if (dots) {
    // k groups per contraction: i8's sign compensation is subtracted once
    // a contraction. Measured (VNNI, 1024^3, 2 threads, 8 x 32): 1, 2 and
    // 4 groups 2.9, 1.9 and 1.4 ms.
    p.kUnroll = kDotPanelGroups;
    while (p.kUnroll > 1 && kc % (p.dotGroup * p.kUnroll))
      p.kUnroll /= 2;
  }
  if (panelMatmulReason(shape, p))
    return std::nullopt;
  return p;
}

/// deriveCpuMatmul on `threads` threads (0: as many as the batch or the
/// rows take).
std::optional<CpuMatmulParams> deriveMatmulOn(const CpuOpShape &shape,
                                              const CpuFacts &facts,
                                              int64_t threads) {
  bool batched = shape.opClass == OpClass::BatchMatmul;
  if ((shape.opClass != OpClass::Matmul && !batched) || dynamicRange(shape) ||
      shape.loopRanges.size() != (batched ? 4u : 3u))
    return std::nullopt;
  size_t off = batched ? 1 : 0;
  int64_t B = batched ? shape.loopRanges[0] : 1, M = shape.loopRanges[off],
          N = shape.loopRanges[off + 1], K = shape.loopRanges[off + 2];
  int64_t e = shape.elemBytes();
  CpuMatmulParams p;
  p.pack = true; // packed, padded panels: any shape, contiguous loads
  p.orderNmk = false;
  // Threads over the batch when there is one (it must divide), else over
  // the rows, as many as give each thread a register tile's worth.
  if (threads > 0)
    p.par = threads;
  else if (batched)
    p.par = mostThreads(facts, [&](int64_t t) { return B % t == 0; });
  else
    p.par = mostThreads(facts, [&](int64_t t) { return t * 8 <= M || t == 1; });
  int64_t rows = batched ? M : (M + p.par - 1) / p.par;
  p.nr = registerCols(registerTileWidths(facts),
                      std::max<int64_t>(N, 1) + facts.vectorLanes - 1,
                      facts);
  if (p.nr < 0)
    return std::nullopt;
  // kc: the A and B micro-panels of one register tile stay in L1.
  // Each cache tile divides its dim where one in the domain can.
  p.kc = largestDividing(kMatmulPanelTiles, K, [&](int64_t kc) {
    return kc * (8 + p.nr) * e <= facts.l1Bytes;
  });
  int64_t kc = std::min(p.kc, K);
  // mc: the packed A block takes half of L2; nc: so does the B panel.
  p.mc = largestDividing(kMatmulCacheTiles, rows, [&](int64_t mc) {
    return mc * kc * e <= facts.l2Bytes / 2;
  });
  p.nc = largestDividing(kMatmulPanelTiles, N, [&](int64_t nc) {
    return kc * nc * e <= facts.l2Bytes / 2 && nc % p.nr == 0;
  });
  int64_t mcTile = std::min(p.mc, rows);
  p.mr = registerRows(kMatmulMrs, p.nr, mcTile, facts);
  if (p.mr < 0)
    return std::nullopt;
  p.kUnroll = kUnrollFor(p.mr, p.nr, facts);
  // i8 and bf16 on a host with their dot-product instruction: a k group
  // per step (the panels are padded to it), the accumulators as for FMAs.
  int64_t group = shape.dotGroup(facts);
  // In place where packing costs more than it saves: where a cache tile
  // is partial (its panels padded to a dynamic size), a thread has few
  // rows to reuse the copied B panel over, a batch's B fits in half of
  // L2 (attention's heads), where it is read as it is, or B is one
  // panel wide. Not where K needs padding to the dot product's group,
  // which only the packed panels give. Batches measured (AVX-512, 2
  // threads): the 15 corpus batch matmuls this moved in place all ran
  // faster, 1.02-1.82x (16x128x32x128 69 -> 38 us); BERT's 12x128x64x128
  // 1.13x, the whole layer unchanged.
  CpuMatmulParams::Tiles t = p.tiles(shape);
  bool partial = t.rows % t.mc || N % t.nc || K % t.kc;
  bool smallBatches = batched && K * N * e <= facts.l2Bytes / 2;
  // B one register tile wide: its rows already are the packed panel's.
  // Measured (AVX-512, 2 threads, medians of 3 alternating runs):
  // 384x16x1024 37.2 -> 30.6 us, 256x16x576 13.9 -> 12.2, 384x32x768
  // 42.4 -> 38.5, 512x32x512 37.4 -> 35.0.
  bool onePanel = N == p.nr;
  bool inPlace = false;
  if ((partial || t.rows < kPackedMinRows || smallBatches || onePanel) &&
      !(group && K % group))
    if (auto found = inPlaceMatmul(p, shape, batched, M, N, K, e, facts))
      p = *found, inPlace = true;
  // f32 with enough rows per thread: B in panels (a constant B, a model's
  // weights, costs nothing at run time). Measured on BERT's 128x3072x768
  // at 2 threads (AVX-512): 3.2 ms with B folded, against 4.9 ms for the
  // padded cache tiles.
  if (group)
    p.dotGroup = group;
  // i8 / bf16 too, their B packed in k groups (no shuffles to interleave
  // a group's rows). Measured (VNNI, 1024^3, 2 threads): 1.4 ms against
  // 3.1 ms for the padded tiles.
  if (!inPlace)
    if (auto panels = panelMatmul(p, shape, facts))
      return *panels;
  // The elementwise consumer fused into each thread's rows (a batch
  // matmul: its batches), an epilogue in the matmul's parallel region,
  // where the sketch can: threads dividing the rows, a vectorizable width.
  p.fuse = shape.hasElementwiseConsumer && (batched ? B : M) % p.par == 0 &&
           p.tiles(shape).cols % facts.vectorLanes == 0;
  return p;
}

} // namespace

std::optional<CpuMatmulParams> deriveCpuMatmul(const CpuOpShape &shape,
                                               const CpuFacts &target) {
  CpuFacts facts = withThreadsFor(shape, target);
  std::optional<CpuMatmulParams> p = deriveMatmulOn(shape, facts, 0);
  if (!p || shape.opClass != OpClass::Matmul)
    return p;
  // Too few rows for every thread's register tile (8 rows on 2 threads):
  // more threads where they split N in place. Measured on 8x3072x1024
  // (AVX-512): 1 thread 275 us, 2 threads over N 142 us.
  std::vector<int64_t> choices = threadChoices(facts.threads);
  for (auto t = choices.rbegin(); t != choices.rend() && *t > p->par; ++t)
    if (auto wider = deriveMatmulOn(shape, facts, *t))
      if (!wider->pack && wider->splitsN(shape))
        return wider;
  return p;
}

/// AMX: a tile holds 16 rows of 64 bytes; there are 8 tile registers.
constexpr int64_t kAmxRows = 16, kAmxRowBytes = 64, kAmxTileRegisters = 8;

/// Why the host cannot run `shape`'s types on AMX, or nullopt.
std::optional<std::string> amxHostReason(const CpuOpShape &shape,
                                         const CpuFacts &facts) {
  if (shape.amxGroup(facts))
    return std::nullopt;
  return "the host has no AMX for " + shape.elemType + " -> " + shape.accType;
}

std::optional<std::string> amxMatmulReason(const CpuOpShape &shape,
                                           const CpuAmxMatmulParams &p,
                                           const CpuFacts &facts) {
  if (auto reason = amxHostReason(shape, facts))
    return reason;
  int64_t group = shape.amxGroup(facts);
  if (shape.opClass != OpClass::Matmul || dynamicRange(shape) ||
      shape.loopRanges.size() != 3)
    return std::string("AMX takes a static linalg.matmul");
  int64_t M = shape.loopRanges[0], N = shape.loopRanges[1],
          K = shape.loopRanges[2];
  // k values in one 64-byte tile row: 64 i8 or 32 bf16.
  int64_t kStep = kAmxRows * group;
  auto fail = [](const llvm::Twine &text) { return text.str(); };
  if (p.par < 1 || M % p.par)
    return fail("par=" + llvm::Twine(p.par) + " does not divide M=" +
                llvm::Twine(M));
  int64_t rows = M / p.par;
  if ((p.mt != 16 && p.mt != 32) || rows % p.mt)
    return fail("mt=" + llvm::Twine(p.mt) + " (16 or 32) does not divide a " +
                "thread's " + llvm::Twine(rows) + " rows");
  if ((p.nt != 16 && p.nt != 32) || N % p.nt)
    return fail("nt=" + llvm::Twine(p.nt) + " (16 or 32) does not divide N=" +
                llvm::Twine(N));
  int64_t accumulators = (p.mt / kAmxRows) * (p.nt / kAmxRows);
  if (accumulators + p.mt / kAmxRows + p.nt / kAmxRows > kAmxTileRegisters)
    return fail("an " + llvm::Twine(p.mt) + "x" + llvm::Twine(p.nt) +
                " micro-tile needs more than 8 tile registers");
  int64_t nc = std::min(p.nc, N), kc = std::min(p.kc, K);
  if (N % nc || nc % p.nt)
    return fail("nc=" + llvm::Twine(p.nc) + " does not tile N=" +
                llvm::Twine(N) + " in nt=" + llvm::Twine(p.nt) + " steps");
  if (K % kStep || K % kc || kc % kStep)
    return fail("kc=" + llvm::Twine(p.kc) + " and K=" + llvm::Twine(K) +
                " must be multiples of a tile row's " + llvm::Twine(kStep) +
                " k values, kc dividing K");
  return std::nullopt;
}

std::optional<CpuAmxMatmulParams> deriveCpuAmxMatmul(const CpuOpShape &shape,
                                                     const CpuFacts &target) {
  int64_t group = shape.amxGroup(target);
  if (!group || shape.opClass != OpClass::Matmul || dynamicRange(shape) ||
      shape.loopRanges.size() != 3)
    return std::nullopt;
  CpuFacts facts = withThreadsFor(shape, target);
  int64_t M = shape.loopRanges[0], N = shape.loopRanges[1],
          K = shape.loopRanges[2], e = shape.elemBytes();
  CpuAmxMatmulParams p;
  p.par = mostThreads(
      facts, [&](int64_t t) { return M % t == 0 && (M / t) % kAmxRows == 0; });
  int64_t rows = M / p.par;
  // Two accumulator tiles (32 x 16), not four: with 2 x 2 the A and B
  // tiles take the last of the 8 registers, and each step's loads wait for
  // the previous products to finish reading them (no renaming). Measured
  // (1024^3, 1 thread, 32-trial tunes): the best configs had nt = 16;
  // bf16 2 x 2 ran at 159 GFLOP/s against 388 for 1 x 1 and 384 for 2 x 1.
  p.mt = rows % 32 == 0 ? 32 : 16;
  p.nt = 16;
  // kc: the micro-tile's A strip (mt rows of kc) stays in L1 while it
  // meets every B panel; the whole of K where it fits, so each
  // accumulator tile is loaded and stored once.
  int64_t kStep = kAmxRows * group;
  p.kc = kStep;
  for (int64_t kc = kStep; kc <= std::min<int64_t>(K, 2048); kc += kStep)
    if (K % kc == 0 && p.mt * kc * e <= facts.l1Bytes * 3 / 4)
      p.kc = kc;
  // nc: the B panel (kc x nc) takes half of L2.
  p.nc = p.nt;
  for (int64_t nc = p.nt; nc <= N; nc += p.nt)
    if (N % nc == 0 && p.kc * nc * e <= facts.l2Bytes / 2)
      p.nc = nc;
  if (amxMatmulReason(shape, p, facts))
    return std::nullopt;
  return p;
}

std::optional<std::string> amxConvReason(const CpuOpShape &shape,
                                         const CpuAmxConvParams &p,
                                         const CpuFacts &facts) {
  if (auto reason = amxHostReason(shape, facts))
    return reason;
  int64_t group = shape.amxGroup(facts);
  if (shape.opName != "linalg.conv_2d_nhwc_hwcf" || dynamicRange(shape) ||
      shape.loopRanges.size() != 7)
    return std::string("AMX convs take a static linalg.conv_2d_nhwc_hwcf");
  const auto &r = shape.loopRanges; // n, oh, ow, f, kh, kw, c
  int64_t OH = r[1], OW = r[2], F = r[3], C = r[6];
  auto fail = [](const llvm::Twine &text) { return text.str(); };
  // One 64-byte tile row: 16 groups of g channels.
  if (C % (kAmxRows * group))
    return fail(llvm::Twine(C) + " channels are not whole 64-byte tile rows (" +
                llvm::Twine(kAmxRows * group) + " " + shape.elemType + ")");
  if (p.par < 1 || OH % p.par)
    return fail("par=" + llvm::Twine(p.par) + " does not divide the " +
                llvm::Twine(OH) + " output rows");
  if ((p.fT != 16 && p.fT != 32) || F % p.fT)
    return fail("f_t=" + llvm::Twine(p.fT) + " (16 or 32) does not divide the " +
                llvm::Twine(F) + " filters");
  // One or two tiles of output positions; a tile of one row would be a
  // rank-reduced view the tile loads do not take.
  if (p.owT < 2 || p.owT > 2 * kAmxRows || OW % p.owT ||
      p.owT % kAmxRows == 1)
    return fail("ow_t=" + llvm::Twine(p.owT) +
                " (2 to 32, not 17) does not divide the output width " +
                llvm::Twine(OW));
  int64_t rowTiles = (p.owT + kAmxRows - 1) / kAmxRows,
          colTiles = p.fT / kAmxRows;
  if (rowTiles * colTiles + rowTiles + colTiles > kAmxTileRegisters)
    return fail("an " + llvm::Twine(p.owT) + "x" + llvm::Twine(p.fT) +
                " micro-tile needs more than 8 tile registers");
  return std::nullopt;
}

std::optional<CpuAmxConvParams> deriveCpuAmxConv(const CpuOpShape &shape,
                                                 const CpuFacts &target) {
  if (!shape.amxGroup(target) || shape.loopRanges.size() != 7 ||
      dynamicRange(shape))
    return std::nullopt;
  CpuFacts facts = withThreadsFor(shape, target);
  const auto &r = shape.loopRanges;
  int64_t OH = r[1], OW = r[2], F = r[3];
  CpuAmxConvParams p;
  p.par = mostThreads(facts, [&](int64_t t) { return OH % t == 0; });
  // 2 x 2 accumulator tiles where the filters allow (8 registers with
  // their A and B tiles): each loaded tile feeds two products. Measured on
  // the ResNet-50 3x3 conv in i8 (1 thread): 28 x 32 ran at 2300-2600
  // GOP/s, VNNI's best tile at 160.
  p.fT = F % 32 == 0 ? 32 : 16;
  // The widest row of output positions that divides the width.
  p.owT = -1;
  for (int64_t ow = 2 * kAmxRows; ow >= 2 && p.owT < 0; --ow)
    if (OW % ow == 0 && ow % kAmxRows != 1)
      p.owT = ow;
  if (p.owT < 0 || amxConvReason(shape, p, facts))
    return std::nullopt;
  return p;
}

/// The vector registers a conv register tile of `ow` positions x `f`
/// filters holds: its accumulators, `filterRows` rows of filter vectors,
/// and the broadcast input.
static int64_t convTileRegisters(int64_t ow, int64_t f, int64_t filterRows,
                                 const CpuFacts &facts) {
  int64_t vectors = (f + facts.vectorLanes - 1) / facts.vectorLanes;
  return ow * vectors + filterRows * vectors + 1;
}

bool fitsConvRegisters(int64_t ow, int64_t f, const CpuFacts &facts,
                       bool dots) {
  // A vector and a part is left out: measured on the 56x56, 144 -> 24 1x1
  // conv (AVX-512), f_t = 24 ran at 0.3 to 0.8 ms, f_t = 8 at 0.16 ms.
  if (f <= 0 || (f % facts.vectorLanes && facts.vectorLanes % f))
    return false;
  // Dot products keep a second vector per filter vector: the running
  // compensation (i8) or the interleaving (bf16). Without it the 14 x 32
  // i8 ResNet tile spilled its accumulators: 186 GOP/s against 281 for
  // 8 x 32 (2 threads, AVX-512 VNNI).
  return convTileRegisters(ow, f, dots ? 2 : 1, facts) <=
         facts.vectorRegisters;
}

/// Output positions a conv register tile takes, widest first.
constexpr int64_t kConvRowTiles[] = {14, 8, 7, 4, 2, 1};

/// The positions and channels a step of an FMA conv's register tile takes
/// so that its cT x fT filter tile stays in registers beside the
/// accumulators: 8 channels, or 4 where that leaves room for more
/// positions; nullopt where no filter tile fits (AVX2's 16 registers).
static std::optional<std::pair<int64_t, int64_t>>
fmaConvStep(int64_t OW, int64_t C, int64_t fT, const CpuFacts &facts) {
  for (int64_t ow : kConvRowTiles)
    for (int64_t c : {8, 4})
      if (OW % ow == 0 && C % c == 0 &&
          convTileRegisters(ow, fT, c, facts) <= facts.vectorRegisters)
        return std::make_pair(ow, c);
  return std::nullopt;
}

std::optional<CpuConvParams> deriveCpuConv(const CpuOpShape &shape,
                                           const CpuFacts &target) {
  CpuFacts facts = withThreadsFor(shape, target);
  if (shape.opName != "linalg.conv_2d_nhwc_hwcf" || dynamicRange(shape) ||
      shape.loopRanges.size() != 7)
    return std::nullopt;
  const auto &r = shape.loopRanges; // n, oh, ow, f, kh, kw, c
  int64_t OH = r[1], OW = r[2], F = r[3], KH = r[4], KW = r[5], C = r[6];
  CpuConvParams p;
  p.par = mostThreads(facts, [&](int64_t t) { return OH % t == 0; });
  p.dotGroup = std::max<int64_t>(1, shape.dotGroup(facts));
  bool dots = p.dotGroup > 1;
  p.fT = -1;
  // Two whole vectors first; filter counts that are not a multiple of the
  // vector (24 on 16 lanes) take a part of one.
  for (int64_t f : {32, 64, 16, 48, 8, 4})
    if (F % f == 0 && fitsConvRegisters(1, f, facts, dots)) {
      p.fT = f;
      break;
    }
  if (p.fT < 0)
    return std::nullopt;
  p.owT = -1;
  for (int64_t ow : kConvRowTiles)
    if (OW % ow == 0 && fitsConvRegisters(ow, p.fT, facts, dots)) {
      p.owT = ow;
      break;
    }
  if (p.owT < 0)
    return std::nullopt;
  p.cT = 1;
  for (int64_t c : {64, 32, 16, 8, 4, 1})
    if (C % c == 0) {
      p.cT = c;
      break;
    }
  // FMA convs take a few channels a step, so that the cT x fT filter tile
  // stays in registers beside the accumulators (fewer positions where
  // that needs it), and the accumulators stay in registers across the
  // channel loop. A strided conv's register tile is one contraction per
  // output position (the vectorizer unrolls it), each reading the filter
  // tile again; a stride-1 one is one contraction, but all 64 channels a
  // step made its body 1,792 FMAs long and it ran at 1.2x to 2x the time
  // (Zen 5, 2 threads, ResNet-50's 56x56 3x3: 600-1000 us against 500;
  // its 1x1 convs 64 -> 256 and 256 -> 64: 360-640 and 280 us against 245
  // and 228; 28x28x128 3x3: 800 against 510).
  // (A step that fits also fits the one-filter-row tile above, so it is
  // never wider than p.owT.)
  if (!dots)
    if (auto step = fmaConvStep(OW, C, p.fT, facts))
      std::tie(p.owT, p.cT) = *step;
  // Few channels (an RGB stem's 3): a step of one filter column was 3
  // channels long, too short for the accumulators to stay in registers
  // across. A step is a whole filter row instead (kw x C), over half the
  // registers in accumulators (the 1-D conv keeps its input columns live
  // beside them). ResNet-18's 7x7/2 stem, 3 -> 64 at 112x112, 2 threads:
  // 14 x 32 one column a step 800-940 us, 8 x 32 a row a step 520.
  if (!dots && C % 4 && KH > 1) {
    p.wholeKw = true;
    p.cT = C;
    int64_t vectors = (p.fT + facts.vectorLanes - 1) / facts.vectorLanes;
    for (int64_t ow : kConvRowTiles)
      if (OW % ow == 0 && ow * vectors <= facts.vectorRegisters / 2) {
        p.owT = ow;
        break;
      }
  }
  // The accumulators stay in registers across the channel loop (the filter
  // rows' with whole rows).
  p.hoist = p.cT < C || p.wholeKw;
  // Rows that do not divide among the threads (ResNet's 7x7 stage on 2):
  // the threads split the filters instead. ResNet-18's 7x7 512 -> 512 3x3
  // on 2 threads: 1105 us on one, 627 split.
  int64_t byF =
      mostThreads(facts, [&](int64_t t) { return F % (t * p.fT) == 0; });
  if (byF > p.par)
    p.par = byF, p.parF = true;
  // Filter tiles outermost where a thread's filter outweighs its input
  // rows and those rows stay in its L2 across the filter tiles: the
  // filter is then read once a run instead of once per output tile. In a
  // model the filter of a late layer comes from memory or a shared L3 (a
  // ResNet-18 has 46 MB of weights), so this matters more there than it
  // does to a conv timed alone. ResNet-18's 7x7 stage of four 512 -> 512
  // 3x3 convs on 2 threads: 3.5 ms, 2.3 with the filter tiles outermost.
  // (Input rows as stride 1: a strided conv's are larger.)
  int64_t e = shape.elemBytes();
  int64_t filterBytes = KH * KW * C * F * e / (p.parF ? p.par : 1);
  int64_t inputBytes =
      (OH / (p.parF ? 1 : p.par) + KH - 1) * (OW + KW - 1) * C * e;
  p.fOuter = filterBytes > inputBytes && inputBytes <= facts.l2Bytes / 2;
  return p;
}

std::optional<CpuDepthwiseConvParams>
deriveCpuDepthwiseConv(const CpuOpShape &shape, const CpuFacts &target) {
  CpuFacts facts = withThreadsFor(shape, target);
  // NHWC pooling has the same loops and decomposes the same way (to
  // pooling_nwc_*, which the vectorizer unrolls over kw into max or add
  // steps of channel vectors).
  static const llvm::StringSet<> ops = {
      "linalg.depthwise_conv_2d_nhwc_hwc", "linalg.pooling_nhwc_max",
      "linalg.pooling_nhwc_sum", "linalg.pooling_nhwc_min"};
  if (!ops.contains(shape.opName) || dynamicRange(shape) ||
      shape.loopRanges.size() != 6)
    return std::nullopt;
  const auto &r = shape.loopRanges; // n, oh, ow, c, kh, kw
  int64_t OH = r[1], OW = r[2], C = r[3], KW = r[5];
  CpuDepthwiseConvParams p;
  p.par = mostThreads(facts, [&](int64_t t) { return OH % t == 0; });
  // One vector of channels: measured on 56x56x144 3x3, a second or third
  // vector per tile spills (each output column also keeps its input
  // vectors live) and runs several times slower than one.
  // Channel counts that are not a multiple of the vector take half or a
  // quarter of one (a narrower native register).
  p.cT = -1;
  for (int64_t c : {facts.vectorLanes, facts.vectorLanes / 2,
                    facts.vectorLanes / 4})
    if (c > 0 && C % c == 0) {
      p.cT = c;
      break;
    }
  if (p.cT < 0)
    return std::nullopt;
  // ow accumulators, the ow + kw - 1 input vectors of one filter row and
  // kw filter vectors in registers at once.
  p.owT = -1;
  for (int64_t ow : {8, 7, 4, 2, 1})
    if (OW % ow == 0 && ow + (ow + KW - 1) + KW <= facts.vectorRegisters) {
      p.owT = ow;
      break;
    }
  if (p.owT < 0)
    return std::nullopt;
  // Rows that do not divide among the threads: split the channels.
  int64_t byC =
      mostThreads(facts, [&](int64_t t) { return C % (t * p.cT) == 0; });
  if (byC > p.par)
    p.par = byC, p.parC = true;
  return p;
}

std::optional<CpuConvIm2colParams>
deriveCpuConvIm2col(const CpuOpShape &shape, const CpuFacts &target) {
  CpuFacts facts = withThreadsFor(shape, target);
  if (shape.opName != "linalg.conv_2d_nhwc_hwcf" || dynamicRange(shape) ||
      shape.loopRanges.size() != 7 || shape.loopRanges[0] != 1)
    return std::nullopt;
  const auto &r = shape.loopRanges;
  int64_t M = r[1] * r[2], N = r[3], K = r[4] * r[5] * r[6];
  int64_t e = shape.elemBytes();
  CpuConvIm2colParams p;
  p.par = mostThreads(facts, [&](int64_t t) { return M % t == 0; });
  std::vector<int64_t> ncs = divisors(N, 16, 512), kcs = divisors(K, 16, 1024);
  static const std::vector<int64_t> mrs = {1, 2, 4, 6, 7, 8},
                                    nrs = {16, 32, 48, 64};
  // nr: two vectors if a cache tile of filters takes it whole.
  p.nr = -1;
  int64_t bestDistance = INT64_MAX;
  for (int64_t nr : nrs)
    for (int64_t nc : ncs)
      if (nc % nr == 0 && fitsRegisters(1, nr, facts) &&
          std::abs(nr / facts.vectorLanes - 2) < bestDistance) {
        p.nr = nr;
        bestDistance = std::abs(nr / facts.vectorLanes - 2);
      }
  if (p.nr < 0)
    return std::nullopt;
  p.kc = largestFitting(kcs, [&](int64_t kc) {
    return kc * (8 + p.nr) * e <= facts.l1Bytes;
  });
  p.nc = largestFitting(ncs, [&](int64_t nc) {
    return nc % p.nr == 0 && p.kc * nc * e <= facts.l2Bytes / 2;
  });
  if (p.nc % p.nr)
    return std::nullopt;
  // mr x mc: the most register rows whose multiple divides a thread's
  // patch rows; mc the largest such block that keeps A in half of L2.
  std::vector<int64_t> mcs = divisors(M, 8, 256);
  int64_t rows = M / p.par;
  p.mr = -1;
  for (auto it = mrs.rbegin(); it != mrs.rend() && p.mr < 0; ++it) {
    if (!fitsRegisters(*it, p.nr, facts))
      continue;
    for (auto mc = mcs.rbegin(); mc != mcs.rend(); ++mc)
      if (rows % *mc == 0 && *mc % *it == 0 &&
          *mc * p.kc * e <= facts.l2Bytes / 2) {
        p.mr = *it, p.mc = *mc;
        break;
      }
  }
  if (p.mr < 0)
    return std::nullopt;
  p.kUnroll = kUnrollFor(p.mr, p.nr, facts);
  p.copy = -1;
  for (int64_t copy : {64, 32, 16})
    if (K % copy == 0 && copy % facts.vectorLanes == 0) {
      p.copy = copy;
      break;
    }
  if (p.copy < 0)
    return std::nullopt;
  return p;
}

std::optional<CpuElementwiseParams>
deriveCpuElementwise(const CpuOpShape &shape, const CpuFacts &target) {
  CpuFacts facts = withThreadsFor(shape, target);
  const auto &r = shape.loopRanges;
  if (shape.opClass != OpClass::Elementwise || r.size() < 2 ||
      dynamicRange(shape))
    return std::nullopt;
  CpuElementwiseParams p;
  p.rows = 1;
  // Up to four vectors a step: wide enough to amortize the loop, few
  // enough registers for a body with several operands.
  p.cols = -1;
  for (int64_t cols : {64, 32, 16, 128, 256})
    if (r.back() % cols == 0 && cols % facts.vectorLanes == 0 &&
        cols <= 4 * facts.vectorLanes) {
      p.cols = cols;
      break;
    }
  if (p.cols < 0)
    return std::nullopt;
  p.par = mostThreads(facts, [&](int64_t t) { return r.front() % t == 0; });
  // The family only splits the first loop: where that leaves threads idle,
  // the generic schedule (threads over the largest loop) is better.
  if (p.par < std::max<int64_t>(1, facts.threads))
    return std::nullopt;
  return p;
}

CpuGenericParams deriveCpuGeneric(const CpuOpShape &shape,
                                  const CpuFacts &target) {
  CpuFacts facts = withThreadsFor(shape, target);
  CpuGenericParams p;
  std::vector<std::string> iterators;
  for (bool parallel : shape.parallel)
    iterators.push_back(parallel ? "parallel" : "reduction");
  p.interchange = innermostParallelPermutation(iterators);
  if (facts.threads <= 1 || dynamicRange(shape))
    return p;
  p.threadsDim = largestParallelLoop(shape);
  if (p.threadsDim >= 0)
    p.par = std::min<int64_t>(facts.threads,
                              shape.loopRanges[size_t(p.threadsDim)]);
  if (p.par < 2)
    p.threadsDim = -1, p.par = 1;
  return p;
}

CpuSchedule deriveCpuSchedule(const CpuOpShape &shape, const CpuFacts &facts) {
  if (auto p = deriveCpuAmxMatmul(shape, facts))
    return *p;
  if (auto p = deriveCpuMatmul(shape, facts))
    return *p;
  if (auto p = deriveCpuAmxConv(shape, facts))
    return *p;
  if (auto p = deriveCpuConv(shape, facts))
    return *p;
  if (auto p = deriveCpuDepthwiseConv(shape, facts))
    return *p;
  if (auto p = deriveCpuRows(shape, facts))
    return *p;
  if (auto p = deriveCpuElementwise(shape, facts))
    return *p;
  return deriveCpuGeneric(shape, facts);
}

//===----------------------------------------------------------------------===//
// Script steps
//===----------------------------------------------------------------------===//

static mlir::TypedAttr zeroOf(mlir::MLIRContext *context,
                              const std::string &type) {
  mlir::Type element = mlir::parseType(type, context);
  if (!element)
    llvm::report_fatal_error(llvm::Twine("internal error: element type '") +
                             type + "'");
  if (mlir::isa<mlir::FloatType>(element))
    return mlir::FloatAttr::get(element, 0.0);
  return mlir::IntegerAttr::get(element, 0);
}

void CpuScheduleScript::matmul(mlir::Value op, const CpuOpShape &shape,
                               const CpuMatmulParams &p, int64_t vectorLanes) {
  if (p.panels)
    return panelMatmul(op, shape, p, vectorLanes);
  scheduled = true;
  bool batched = shape.opClass == OpClass::BatchMatmul;
  CpuMatmulParams::Tiles t = p.tiles(shape);
  bool overN = p.splitsN(shape);
  mlir::OpBuilder &b = builder();
  mlir::Value consumer;
  if (p.fuse) {
    // Tile the consumer over threads and pull the matmul (and its fill)
    // into each thread's tile.
    mlir::Value consumers = consumersOf(op, 0);
    mlir::Value fill = producerOf(op, 2);
    auto [tiledConsumer, forall] = tileForallThreads(
        consumers, batched ? std::vector<int64_t>{p.par, 0, 0}
                   : overN ? std::vector<int64_t>{0, p.par}
                           : std::vector<int64_t>{p.par, 0});
    auto [fused, forall2] = fuseInto(op, forall);
    fuseInto(fill, forall2);
    op = fused;
    consumer = tiledConsumer;
  } else if (p.ownsConsumer(shape, vectorLanes)) {
    // Not fused: the consumer runs as its own loop, threaded and
    // vectorized as in panelMatmul. Left alone it was a serial loop that
    // LLVM vectorized or not. BERT-base's scores + scale task (hatc
    // measure, 2 threads, 2 runs): an in-place config 370-377 -> 417-429
    // GFLOP/s, the default 358-362 -> 389-390.
    consumer = consumersOf(op, 0);
  }
  if (!p.fuse && p.par > 1) {
    // The init (a zero fill, a bias broadcast) is filled by each thread
    // in its own tile, not as a serial pass before the parallel region.
    mlir::Value init = shape.initProducer ? producerOf(op, 2) : mlir::Value();
    auto [tiled, forall] = tileForallThreads(
        op, batched ? std::vector<int64_t>{p.par, 0, 0, 0}
            : overN ? std::vector<int64_t>{0, p.par, 0}
                    : std::vector<int64_t>{p.par, 0, 0});
    if (init)
      fuseInto(init, forall);
    op = tiled;
  }
  std::vector<int64_t> cache = {t.mc, t.nc, t.kc};
  int64_t kStep = std::max<int64_t>(1, p.dotGroup);
  std::vector<int64_t> reg = {p.mr, p.nr, kStep};
  std::vector<int64_t> order = p.orderNmk ? std::vector<int64_t>{1, 0, 2}
                                          : std::vector<int64_t>{0, 1, 2};
  if (batched) {
    cache.insert(cache.begin(), 1);
    reg.insert(reg.begin(), 0);
    order = p.orderNmk ? std::vector<int64_t>{0, 2, 1, 3}
                       : std::vector<int64_t>{0, 1, 2, 3};
  }
  auto [cacheTile, cacheLoops] = tileFor(op, cache, order);
  op = cacheTile;
  if (p.pack) {
    // Pad the cache tile to its static size, copying the A and B panels
    // into contiguous buffers (packing); the pads become fill + copy.
    mlir::Attribute zero = zeroOf(context(), shape.elemType),
                    acc = zeroOf(context(), shape.accType);
    std::vector<int64_t> dims = batched ? std::vector<int64_t>{0, 1, 2, 3}
                                        : std::vector<int64_t>{0, 1, 2};
    std::vector<int64_t> multiple = batched
                                        ? std::vector<int64_t>{1, p.mr, p.nr, kStep}
                                        : std::vector<int64_t>{p.mr, p.nr, kStep};
    mlir::Type any = anyOp();
    auto pad = b.create<mlir::transform::PadOp>(
        loc(), any, any, any, op, b.getArrayAttr({zero, zero, acc}),
        b.getI64ArrayAttr(dims), mlir::ValueRange(), multiple,
        b.getI64ArrayAttr({1, 1, 0}), mlir::ArrayAttr(),
        mlir::linalg::CopyOp::getOperationName());
    // Only this op's pads: a model's own tensor.pad ops stay as they are.
    b.create<mlir::transform::RewriteInDestinationPassingStyleOp>(
        loc(), any, pad.getPad());
    op = pad.getPadded();
  }
  if (batched && kStep == 1) {
    // The cache tile's unit batch dim dropped (rank-reducing slices of a
    // generic): vectorized with it, the register tile's operands are
    // broadcast then transposed past it, which the contraction patterns do
    // not fold, and the product became per-element scalar code that LLVM's
    // SLP vectorizer had to gather back (no FMAs). On
    // attention_batch_matmul (hatc run, 2 threads) the time is unchanged
    // (56-59 us) and compiling takes 92-112 ms instead of 234; the
    // attention block as a library runs 2-3% faster.
    b.create<mlir::transform::GeneralizeOp>(loc(), anyOp(), op);
    mlir::Value cacheLoop = cacheLoops.back();
    applyPatterns(cacheLoop, [](mlir::OpBuilder &b, mlir::Location loc) {
      b.create<mlir::transform::ApplyFoldUnitExtentDimsViaSlicesPatternsOp>(
          loc);
    });
    op = match({mlir::linalg::GenericOp::getOperationName()}, cacheLoop);
    reg.erase(reg.begin());
  }
  auto [micro, loops] = tileFor(op, reg);
  vectorize(micro);
  prepareContractions(func()); // as in panelMatmul
  if (p.fuse) {
    vectorize(tileFor(consumer, batched ? std::vector<int64_t>{1, 1, vectorLanes}
                                        : std::vector<int64_t>{1, vectorLanes})
                  .first);
  } else if (consumer) {
    // Over the threads as the matmul is: its rows, its columns, or its
    // batch.
    int64_t N = shape.loopRanges[batched ? 2 : 1];
    consumerLoop(consumer, batched ? 3 : 2,
                 overN && (N / p.par) % vectorLanes == 0 ? 1 : 0, p.par,
                 vectorLanes);
  }
  if (kStep > 1)
    dotContractions = true;
  else
    contractions = true;
  if (t.kc > kStep)
    registerLoops.push_back({loops[2], true, p.kUnroll}); // k (batch untiled)
}

std::pair<mlir::Value, mlir::Value>
CpuScheduleScript::packRhsPanels(mlir::Value op,
                                 llvm::ArrayRef<int64_t> packedSizes,
                                 llvm::ArrayRef<int64_t> outerPerm) {
  mlir::OpBuilder &b = builder();
  mlir::MLIRContext *ctx = context();
  auto genericType = mlir::transform::OperationType::get(
      ctx, mlir::linalg::GenericOp::getOperationName());
  auto packType = mlir::transform::OperationType::get(
      ctx, mlir::tensor::PackOp::getOperationName());
  mlir::Value packed = b.create<mlir::transform::PackOp>(
                            loc(), genericType, op, mlir::ValueRange(),
                            b.getDenseI64ArrayAttr(packedSizes))
                           .getPackedOp();
  mlir::Value packB = b.create<mlir::transform::GetProducerOfOperand>(
      loc(), packType, packed, 1);
  auto transposed = b.create<mlir::transform::PackTransposeOp>(
      loc(), genericType, packType, anyOp(), packB, packed,
      b.getDenseI64ArrayAttr(outerPerm), b.getDenseI64ArrayAttr({}));
  return {transposed.getPackedOp(), transposed.getPackOp()};
}

void CpuScheduleScript::panelMatmul(mlir::Value op, const CpuOpShape &shape,
                                    const CpuMatmulParams &p,
                                    int64_t vectorLanes) {
  scheduled = true;
  CpuMatmulParams::Tiles t = p.tiles(shape);
  mlir::OpBuilder &b = builder();
  mlir::MLIRContext *ctx = context();
  // n by nr: C becomes M x N/nr x nr (a reshape) and B N/nr x K x nr:
  // each register tile's B panel contiguous.
  // i8 / bf16 (a dot group g): k by g too. A becomes M x K/g x g (a
  // reshape) and B N/nr x K/g x nr x g: per k group, nr columns of g
  // values side by side, as the dot products read them.
  int64_t group = p.dotGroup > 1 ? p.dotGroup : 0;
  auto [compute, packB] = packRhsPanels(op, {0, p.nr, group});
  // The pack is left whole, marked with the thread count: finishPanelPacks
  // copies it with threads unless its source is a constant, which
  // hatc-fold-constants packs at compile time.
  mlir::Value threads = b.create<mlir::transform::ParamConstantOp>(
      loc(), mlir::transform::ParamType::get(ctx, b.getI64Type()),
      b.getI64IntegerAttr(p.par));
  annotate(packB, kPanelPackAttr, threads);
  // The consumer (of C's unpack, a reshape) runs as its own vectorized
  // loop: with threads, in each thread's region after its rows of the
  // matmul (the consumer is tiled over threads and the unpack, the matmul
  // and its fill fused into its tiles: one parallel region, not two).
  mlir::Value unpack, consumer;
  if (shape.hasElementwiseConsumer) {
    unpack = consumersOf(compute, 0);
    consumer = consumersOf(unpack, 0);
  }
  // Threads over M; cache tiles (dims m, n/nr, k, n%nr); register tiles
  // with n outer, so the nr x kc panel stays in L1 over the tile's rows.
  // (The dims: m, n/nr, k[/g], n%nr[, k%g].)
  auto dims = [&](std::vector<int64_t> sizes) {
    sizes.push_back(0);
    if (group)
      sizes.push_back(0);
    return sizes;
  };
  if (p.par > 1) {
    // C's init, packed: tensor.pack of the fill until canonicalization
    // folds it into a fill of the packed shape, which each thread then
    // runs on its own rows (not a serial pass before the region).
    mlir::Value init;
    if (shape.initFill) {
      applyPatterns(func(), [](mlir::OpBuilder &b, mlir::Location loc) {
        b.create<mlir::transform::ApplyCanonicalizationPatternsOp>(loc);
      });
      init = producerOf(compute, 2);
    }
    if (consumer) {
      auto [tiledConsumer, forall] = tileForallThreads(consumer, {p.par, 0});
      mlir::Value region = fuseInto(unpack, forall).second;
      auto [fused, withCompute] = fuseInto(compute, region);
      if (init)
        fuseInto(init, withCompute);
      compute = fused;
      consumer = tiledConsumer;
    } else {
      auto [tiled, forall] = tileForallThreads(compute, dims({p.par, 0, 0}));
      if (init)
        fuseInto(init, forall);
      compute = tiled;
    }
  }
  std::vector<int64_t> order = p.orderNmk ? std::vector<int64_t>{1, 0, 2}
                                          : std::vector<int64_t>{0, 1, 2};
  int64_t kc = group ? t.kc / group : t.kc;
  compute = tileFor(compute, dims({t.mc, t.nc / p.nr, kc}), order).first;
  // A dot-product step takes k_unroll groups: one contraction.
  int64_t kStep = group ? p.kUnroll : 1;
  auto [micro, loops] =
      tileFor(compute, dims({p.mr, 1, kStep}), {1, 0, 2});
  vectorize(micro);
  // Into a contraction now: a later canonicalization (another op's steps
  // in a model's script) would fold the unit k reduction to mulf + addf,
  // which never become FMAs.
  prepareContractions(func());
  if (group)
    dotContractions = true;
  else
    contractions = true;
  if (kc > kStep)
    registerLoops.push_back({loops[2], true, group ? 1 : p.kUnroll});
  // Already in the threads' region (or on one thread): no threads of its
  // own.
  if (consumer)
    consumerLoop(consumer, 2, 0, /*par=*/1, vectorLanes);
}

void CpuScheduleScript::consumerLoop(mlir::Value consumer, size_t rank,
                                     size_t splitDim, int64_t par,
                                     int64_t vectorLanes) {
  std::vector<int64_t> threads(rank, 0), tiles(rank, 1);
  threads[splitDim] = par;
  tiles.back() = vectorLanes;
  if (par > 1)
    consumer = tileForallThreads(consumer, threads).first;
  vectorize(tileFor(consumer, tiles).first);
}

void CpuScheduleScript::amxMatmul(mlir::Value op, const CpuOpShape &shape,
                                  const CpuAmxMatmulParams &p) {
  scheduled = true;
  int64_t group = shape.narrowGroup();
  int64_t N = shape.loopRanges[1], K = shape.loopRanges[2];
  // Data tiling: n by 16 columns, k by the group one 32-bit element of a
  // tile holds. A becomes M x K/g x g (a reshape), C M x N/16 x 16 (a
  // reshape) and B N/16 x K/g x 16 x g: per 16 columns, one 64-byte row
  // per k group (the tiles' VNNI layout).
  auto [compute, pack] = packRhsPanels(op, {0, 16, group});
  // The packing of B: threads over its column panels, each copying
  // 16 k groups x 16 columns at a time through registers.
  int64_t panels = N / 16;
  int64_t packThreads = p.par;
  while (packThreads > 1 && panels % packThreads)
    --packThreads;
  if (packThreads > 1)
    pack = tileForallThreads(pack, {packThreads, 0}).first;
  // Two panels a step where they pair up: a tile without unit dims is
  // written in place (a unit one is reshaped, and the reshape keeps
  // empty-tensor elimination from seeing the destination: a temporary
  // and a copy per tile).
  int64_t panelStep = (panels / packThreads) % 2 == 0 ? 2 : 1;
  vectorize(tileFor(pack, {panelStep, 16}).first);
  // The vector write goes to the packed buffer, not a temporary inserted.
  applyPatterns(func(), [](mlir::OpBuilder &b, mlir::Location loc) {
    b.create<mlir::transform::ApplyFoldTensorSubsetOpsPatternsOp>(loc);
  });
  // Threads over M; per thread n panels, k blocks, then mt x nt micro-tiles
  // over the whole k block (dims: m, n/16, k/g, n%16, k%g).
  if (p.par > 1)
    compute = tileForallThreads(compute, {p.par, 0, 0, 0, 0}).first;
  int64_t nc = std::min(p.nc, N), kc = std::min(p.kc, K);
  compute = tileFor(compute, {0, nc / 16, kc / group, 0, 0}).first;
  mlir::Value micro = tileFor(compute, {p.mt, p.nt / 16, 0, 0, 0}).first;
  annotate(micro, kAmxMicroTileAttr);
}

void CpuScheduleScript::amxConv(mlir::Value op, const CpuOpShape &shape,
                                const CpuAmxConvParams &p) {
  scheduled = true;
  int64_t group = shape.narrowGroup();
  // Data tiling (loops n, oh, ow, f, kh, kw, c): f by 16, c by the group.
  // The input becomes N x H x W x C/g x g and the output N x OH x OW x
  // F/16 x 16 (reshapes); the filter KH x KW x F/16 x C/g x 16 x g.
  auto [compute, pack] =
      packRhsPanels(op, {0, 0, 0, kAmxRows, 0, 0, group}, {0, 1, 3, 2});
  // The filter's packing (a constant's is folded at compile time): one
  // channel group of 16 filters (64 bytes) a step through a register,
  // written into the packed buffer. 16 groups a step ran no faster on the
  // ResNet-50 3x3 conv and took 1.5 s more to compile (its shuffles).
  vectorize(tileFor(pack, {1, 1, 1, 1}).first);
  applyPatterns(func(), [](mlir::OpBuilder &b, mlir::Location loc) {
    b.create<mlir::transform::ApplyFoldTensorSubsetOpsPatternsOp>(loc);
  });
  // Packed loops: n, oh, ow, f/16, kh, kw, c/g, f%16, c%g. Threads over
  // output rows, then owT x fT micro-tiles over all of kh, kw and c.
  if (p.par > 1)
    compute =
        tileForallThreads(compute, {0, p.par, 0, 0, 0, 0, 0, 0, 0}).first;
  mlir::Value micro =
      tileFor(compute, {1, 1, p.owT, p.fT / kAmxRows, 0, 0, 0, 0, 0}).first;
  annotate(micro, kAmxMicroTileAttr);
}

/// The loop order of an NHWC output tile (n, oh, ow, c or f) with its
/// channel loop outermost, then `reductions` loops in place.
static std::vector<int64_t> outerChannels(size_t reductions) {
  std::vector<int64_t> order = {3, 0, 1, 2};
  for (size_t d = 0; d < reductions; ++d)
    order.push_back(int64_t(4 + d));
  return order;
}

mlir::Value CpuScheduleScript::convTiles(mlir::Value op, const CpuOpShape &shape,
                             int64_t par, llvm::ArrayRef<int64_t> outTile,
                             llvm::ArrayRef<int64_t> reductionTile,
                             size_t parDim, bool channelsOuter) {
  scheduled = true;
  // The accumulators start from the init's producer (the bias broadcast)
  // and end in the elementwise consumer (bias, relu, a residual add):
  // both fused into each register tile, so neither makes its own pass
  // over the output. Without a consumer and threads, the init stays a
  // pass of its own: its producer is not fused into the conv's for loops,
  // which carry the output as a loop argument. That pass is tiled like
  // the output and vectorized here, unless other ops read it too (left to
  // LLVM, a fill of a small NHWC output became a loop of scatters).
  mlir::Value init, consumer;
  if (shape.initProducer && (shape.hasElementwiseConsumer || par > 1))
    init = producerOf(op, 2);
  else if (shape.initProducer && !shape.initShared)
    init = tileFor(producerOf(op, 2), outTile).first;
  std::vector<int64_t> threads = {0, 0, 0, 0};
  threads[parDim] = par;
  if (shape.hasElementwiseConsumer) {
    // Tiled by the consumer: the conv and its init are fused into its
    // loops through their result slices (no loop-carried tensor between).
    consumer = consumersOf(op, 0);
    if (par > 1) {
      auto [tiled, forall] = tileForallThreads(consumer, threads);
      auto [fused, forall2] = fuseInto(op, forall);
      consumer = tiled, op = fused;
      if (init)
        init = fuseInto(init, forall2).first;
    }
    auto [consumerTile, loops] =
        tileFor(consumer, outTile, channelsOuter ? outerChannels(0)
                                                 : std::vector<int64_t>{});
    auto [fused, loop] = fuseInto(op, loops.back());
    consumer = consumerTile, op = fused;
    if (init)
      init = fuseInto(init, loop).first;
  } else if (par > 1) {
    auto [tiled, forall] = tileForallThreads(op, threads);
    op = tiled;
    if (init)
      init = tileFor(fuseInto(init, forall).first, outTile).first;
  }
  if (init)
    // The fused init writes a slice of the whole output's tensor.empty:
    // an empty of the tile's own shape instead, so each tile's
    // accumulators get a tile-sized buffer, not a whole output per thread.
    applyPatterns(func(), [](mlir::OpBuilder &b, mlir::Location loc) {
      b.create<mlir::transform::ApplyFoldTensorEmptyPatternsOp>(loc);
    });
  // The output dims are tiled already where a consumer is fused.
  std::vector<int64_t> sizes(outTile.size(), 0);
  if (!consumer)
    sizes.assign(outTile.begin(), outTile.end());
  sizes.insert(sizes.end(), reductionTile.begin(), reductionTile.end());
  auto [tiled, loops] =
      tileFor(op, sizes,
              channelsOuter && !consumer
                  ? outerChannels(reductionTile.size())
                  : std::vector<int64_t>{});
  mlir::Value decomposed = builder().create<mlir::transform::DecomposeOp>(
      loc(), anyOp(), tiled);
  vectorize(decomposed);
  if (consumer)
    vectorize(consumer);
  if (init)
    vectorize(init);
  return loops.back();
}

void CpuScheduleScript::conv(mlir::Value op, const CpuOpShape &shape,
                             const CpuConvParams &p) {
  int64_t C = shape.loopRanges[6];
  mlir::Value channels =
      convTiles(op, shape, p.par, {1, 1, p.owT, p.fT},
                {1, p.wholeKw ? 0 : 1, p.wholeKw && p.cT == C ? 0 : p.cT},
                /*parDim=*/p.parF ? 3 : 1, p.fOuter);
  if (p.usesDots())
    dotContractions = true;
  else
    contractions = true;
  if (p.hoist)
    registerLoops.push_back({channels, true, 1});
}

void CpuScheduleScript::depthwiseConv(mlir::Value op, const CpuOpShape &shape,
                                      const CpuDepthwiseConvParams &p) {
  // kw stays whole: with one output row and one filter row the op
  // decomposes to depthwise_conv_1d_nwc_wc, which the vectorizer unrolls
  // over kw into FMAs of channel vectors.
  mlir::Value filterRows =
      convTiles(op, shape, p.par, {1, 1, p.owT, p.cT}, {1, 0},
                /*parDim=*/p.parC ? 3 : 1);
  registerLoops.push_back({filterRows, true, 1});
}

void CpuScheduleScript::convIm2col(mlir::Value conv, const CpuOpShape &shape,
                                   const CpuConvIm2colParams &p) {
  scheduled = true;
  const auto &r = shape.loopRanges;
  int64_t M = r[1] * r[2], N = r[3];
  mlir::OpBuilder &b = builder();
  // (Its one-operand builder is declared but not defined in MLIR 19.)
  b.create<mlir::transform::ConvertConv2DToImg2ColOp>(loc(), anyOp(), anyOp(),
                                                      conv);
  // Without the unit batch dim the contraction is a plain matmul (patch
  // rows, filters, patch length) and the patch copy 2-D; the rewrite
  // replaces both ops, so they are matched again: the GEMM by its result
  // type and its loops (two parallel, one reduction: where K == N, a 1x1
  // conv of as many filters as channels, the copy's result type is the
  // same, M x K; MLIR 19's filter_operand_types fails on ops of another
  // operand count instead of skipping them), the copy as the producer of
  // its first operand.
  applyPatterns(func(), [](mlir::OpBuilder &b, mlir::Location loc) {
    b.create<mlir::transform::ApplyFoldUnitExtentDimsViaReshapesPatternsOp>(
        loc);
    b.create<mlir::transform::ApplyCanonicalizationPatternsOp>(loc);
  });
  mlir::Type acc = mlir::parseType(shape.accType, context());
  auto gemmType = mlir::RankedTensorType::get({M, N}, acc);
  auto iterator = [&](mlir::utils::IteratorType t) -> mlir::Attribute {
    return mlir::linalg::IteratorTypeAttr::get(context(), t);
  };
  mlir::NamedAttribute gemmLoops = b.getNamedAttr(
      "iterator_types",
      b.getArrayAttr({iterator(mlir::utils::IteratorType::parallel),
                      iterator(mlir::utils::IteratorType::parallel),
                      iterator(mlir::utils::IteratorType::reduction)}));
  mlir::Value gemm = b.create<mlir::transform::MatchOp>(
      loc(), anyOp(), root(),
      b.getStrArrayAttr({mlir::linalg::GenericOp::getOperationName()}),
      mlir::transform::MatchInterfaceEnumAttr(),
      b.getDictionaryAttr({gemmLoops}), mlir::TypeAttr::get(gemmType),
      mlir::ArrayAttr());
  mlir::Value im2col = producerOf(gemm, 0);
  if (p.par > 1) {
    auto [tiled, forall] = tileForallThreads(gemm, {p.par, 0, 0});
    im2col = fuseInto(im2col, forall).first;
    gemm = tiled;
  }
  // The patch copy: a gather of `copy` elements per step.
  vectorize(tileFor(im2col, {1, p.copy}).first, /*vectorizeNdExtract=*/true);
  mlir::Value cache = tileFor(gemm, {p.mc, p.nc, p.kc}).first;
  auto [micro, loops] = tileFor(cache, {p.mr, p.nr, 1});
  vectorize(micro);
  contractions = true;
  registerLoops.push_back({loops[2], true, p.kUnroll});
}

void CpuScheduleScript::elementwise(mlir::Value op, const CpuOpShape &shape,
                                    const CpuElementwiseParams &p) {
  scheduled = true;
  size_t loops = shape.loopRanges.size();
  if (p.par > 1) {
    std::vector<int64_t> threads(loops, 0);
    threads[0] = p.par;
    op = tileForallThreads(op, threads).first;
  }
  std::vector<int64_t> sizes(loops, 1);
  sizes[0] = p.rows;
  sizes[loops - 1] = p.cols;
  vectorize(tileFor(op, sizes).first, /*vectorizeNdExtract=*/shape.gathers);
}

void CpuScheduleScript::generic(mlir::Value op, const CpuOpShape &shape,
                                const CpuGenericParams &p) {
  if (p.threadsDim >= 0 && p.par > 1) {
    scheduled = true;
    std::vector<int64_t> threads(shape.loopRanges.size(), 0);
    threads[p.threadsDim] = p.par;
    op = tileForallThreads(op, threads).first;
  }
  if (p.interchange.empty())
    return;
  scheduled = true;
  mlir::Value generic =
      builder().create<mlir::transform::GeneralizeOp>(loc(), anyOp(), op);
  builder().create<mlir::transform::InterchangeOp>(loc(), anyOp(), generic,
                                                   p.interchange);
}

void CpuScheduleScript::schedule(mlir::Value op, const CpuOpShape &shape,
                                 const CpuSchedule &params,
                                 int64_t vectorLanes) {
  if (auto *p = std::get_if<CpuMatmulParams>(&params))
    return matmul(op, shape, *p, vectorLanes);
  if (auto *p = std::get_if<CpuAmxMatmulParams>(&params))
    return amxMatmul(op, shape, *p);
  if (auto *p = std::get_if<CpuAmxConvParams>(&params))
    return amxConv(op, shape, *p);
  if (auto *p = std::get_if<CpuConvParams>(&params))
    return conv(op, shape, *p);
  if (auto *p = std::get_if<CpuDepthwiseConvParams>(&params))
    return depthwiseConv(op, shape, *p);
  if (auto *p = std::get_if<CpuConvIm2colParams>(&params))
    return convIm2col(op, shape, *p);
  if (auto *p = std::get_if<CpuElementwiseParams>(&params))
    return elementwise(op, shape, *p);
  if (auto *p = std::get_if<CpuRowsParams>(&params))
    return rows(op, shape, *p);
  generic(op, shape, std::get<CpuGenericParams>(params));
}

std::string CpuScheduleScript::finish() {
  // Nothing scheduled, nothing to clean up: a function without compute ops
  // stays as it is written (canonicalizing one that only forwards its
  // arguments would leave it returning them).
  if (!scheduled)
    return ScriptBuilder::finish();
  if (contractions)
    contractionsToFma(func());
  else if (dotContractions)
    prepareContractions(func());
  for (const RegisterLoop &loop : registerLoops) {
    if (loop.hoist)
      hoistLoopInvariantSubsets(loop.loop);
    if (loop.unroll > 1)
      unroll(loop.loop, loop.unroll);
  }
  cleanup(func());
  return ScriptBuilder::finish();
}

} // namespace hatc
