//===- HwaccDevice.cpp - The hwacc device model ---------------------------===//
//
// Functional and timing model of the Gemmini-like systolic array described in
// docs/hwacc.md. Every instruction is executed functionally at issue (the
// results are those of program order, which is what the row dependencies
// enforce on the real machine) and is placed in time on one of three
// in-order queues: load (mvin, mvin_acc), execute (preload, compute) and
// store (mvout).
//
// This file is part of libhatc_hwacc_rt.so, which compiled kernels link, so
// it uses only the standard library and nlohmann/json (no LLVM).
//
//===----------------------------------------------------------------------===//
#include "hatc/Runtime/HwaccDevice.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <type_traits>
#include <vector>

namespace hatc {

//===----------------------------------------------------------------------===//
// HwaccParams
//===----------------------------------------------------------------------===//

namespace {
// Below this the tiling of any GEMM degenerates (no double buffering of A and
// B, or of C): four f32 blocks of scratchpad, two blocks of accumulator.
constexpr int64_t kMinScratchpadBlocks = 4;
constexpr int64_t kMinAccumulatorBlocks = 2;
// The model allocates both memories in functional mode; a typo such as an
// extra zero should give a message, not an out-of-memory kill.
constexpr int64_t kMaxMemoryKiB = int64_t(1) << 20; // 1 GiB

std::string formatNumber(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

bool isPowerOfTwo(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }
} // namespace

std::optional<std::string> HwaccParams::validate() const {
  if (dim < 2 || dim > 256 || !isPowerOfTwo(dim))
    return "\"array_dim\" must be a power of two in [2, 256], got " +
           std::to_string(dim);
  // Checked here as well as in fromJson so that a HwaccParams built in code
  // gets the same guarantees as one read from a file.
  auto checkMemory = [&](const char *field, int64_t bytes, int64_t minBlocks,
                         const char *what) -> std::optional<std::string> {
    int64_t minBytes = minBlocks * dim * dim * 4;
    std::string got = bytes % 1024 == 0
                          ? std::to_string(bytes / 1024)
                          : formatNumber(double(bytes) / 1024.0);
    if (bytes < minBytes)
      return "\"" + std::string(field) + "\" must hold at least " +
             std::to_string(minBlocks) + " " + std::to_string(dim) + " x " +
             std::to_string(dim) + " " + what + " blocks (" +
             formatNumber(double(minBytes) / 1024.0) + " KiB), got " + got;
    if (bytes > kMaxMemoryKiB * 1024)
      return "\"" + std::string(field) + "\" must be at most " +
             std::to_string(kMaxMemoryKiB) + " KiB, got " + got;
    return std::nullopt;
  };
  if (auto err = checkMemory("scratchpad_kib", scratchpadBytes,
                             kMinScratchpadBlocks, "f32"))
    return err;
  if (auto err = checkMemory("accumulator_kib", accumulatorBytes,
                             kMinAccumulatorBlocks, "accumulator"))
    return err;
  if (!(dmaBytesPerCycle > 0) || !std::isfinite(dmaBytesPerCycle))
    return "\"dma_bytes_per_cycle\" must be positive, got " +
           formatNumber(dmaBytesPerCycle);
  if (dmaLatencyCycles < 0)
    return "\"dma_latency_cycles\" must be >= 0, got " +
           std::to_string(dmaLatencyCycles);
  if (!(clockGHz > 0) || !std::isfinite(clockGHz))
    return "\"clock_ghz\" must be positive, got " + formatNumber(clockGHz);
  return std::nullopt;
}

std::optional<std::string> HwaccParams::fromJson(const nlohmann::json &json,
                                                 const std::string &origin,
                                                 HwaccParams &out) {
  auto fail = [&](const std::string &message) {
    return std::optional<std::string>(origin + ": " + message);
  };
  if (!json.is_object())
    return fail("a target description is a JSON object");

  // Fields are checked in file order of the shipped targets, so the first
  // message a user sees is about the first bad line.
  auto findField = [&](const char *name, bool integer,
                       std::optional<std::string> &error)
      -> const nlohmann::json * {
    auto it = json.find(name);
    if (it == json.end()) {
      error = fail(std::string("missing field \"") + name + "\"");
      return nullptr;
    }
    bool ok = integer ? it->is_number_integer() : it->is_number();
    if (!ok) {
      error = fail("\"" + std::string(name) + "\" must be " +
                   (integer ? "an integer" : "a number") + ", got " +
                   it->dump());
      return nullptr;
    }
    return &*it;
  };
  auto readInt = [&](const char *name, bool allowZero, int64_t &value)
      -> std::optional<std::string> {
    std::optional<std::string> error;
    const nlohmann::json *field = findField(name, /*integer=*/true, error);
    if (!field)
      return error;
    // An unsigned value above INT64_MAX would wrap; treat it as too large.
    if (field->is_number_unsigned() &&
        field->get<uint64_t>() >
            uint64_t(std::numeric_limits<int64_t>::max()))
      return fail("\"" + std::string(name) + "\" is out of range, got " +
                  field->dump());
    value = field->get<int64_t>();
    if (value < 0 || (!allowZero && value == 0))
      return fail("\"" + std::string(name) + "\" must be " +
                  (allowZero ? "non-negative" : "positive") + ", got " +
                  std::to_string(value));
    return std::nullopt;
  };
  auto readNumber = [&](const char *name,
                        double &value) -> std::optional<std::string> {
    std::optional<std::string> error;
    const nlohmann::json *field = findField(name, /*integer=*/false, error);
    if (!field)
      return error;
    value = field->get<double>();
    if (!(value > 0))
      return fail("\"" + std::string(name) + "\" must be positive, got " +
                  field->dump());
    return std::nullopt;
  };

  HwaccParams params;
  int64_t scratchpadKiB = 0, accumulatorKiB = 0;
  if (auto err = readInt("array_dim", /*allowZero=*/false, params.dim))
    return err;
  if (auto err = readInt("scratchpad_kib", /*allowZero=*/false, scratchpadKiB))
    return err;
  if (auto err =
          readInt("accumulator_kib", /*allowZero=*/false, accumulatorKiB))
    return err;
  if (auto err = readNumber("dma_bytes_per_cycle", params.dmaBytesPerCycle))
    return err;
  // A zero latency is a legitimate idealisation (an on-chip DRAM model).
  if (auto err = readInt("dma_latency_cycles", /*allowZero=*/true,
                         params.dmaLatencyCycles))
    return err;
  if (auto err = readNumber("clock_ghz", params.clockGHz))
    return err;
  // Clamp before multiplying so the KiB -> bytes conversion cannot overflow;
  // validate() then reports the (too large) value.
  params.scratchpadBytes = std::min(scratchpadKiB, kMaxMemoryKiB + 1) * 1024;
  params.accumulatorBytes = std::min(accumulatorKiB, kMaxMemoryKiB + 1) * 1024;
  if (auto err = params.validate())
    return fail(*err);
  out = params;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// HwaccStats
//===----------------------------------------------------------------------===//

double HwaccStats::utilization(int64_t dim) const {
  if (totalCycles <= 0 || dim <= 0)
    return 0.0;
  return double(macs) / (double(totalCycles) * double(dim) * double(dim));
}

nlohmann::json HwaccStats::toJson(int64_t dim, double clockGHz) const {
  nlohmann::json stalls = nlohmann::json::object();
  for (const auto &[cause, cycles] : stallCycles)
    stalls[cause] = cycles;
  return {{"total_cycles", totalCycles},
          {"compute_cycles", computeCycles},
          {"preload_cycles", preloadCycles},
          {"macs", macs},
          {"dma_bytes_in", dmaBytesIn},
          {"dma_bytes_out", dmaBytesOut},
          {"instructions", instructions},
          {"host_s", hostSeconds},
          {"kept_host_s", keptHostSeconds},
          {"stall_cycles", stalls},
          {"utilization", utilization(dim)},
          {"seconds", seconds(clockGHz)}};
}

//===----------------------------------------------------------------------===//
// HwaccDevice::Impl
//===----------------------------------------------------------------------===//

namespace {
enum Queue : int { LoadQueue = 0, ExecQueue = 1, StoreQueue = 2 };
constexpr int kNumQueues = 3;
const char *const kQueueNames[kNumQueues] = {"load", "exec", "store"};

enum class Dataflow { OutputStationary = 0, WeightStationary = 1 };
enum class Elem { F32 = 0, I8 = 1 };
enum class OutType { Acc = 0, I8 = 1 };

/// Per-row completion times of the last write and the last read by each
/// queue. Kept per queue because hazards inside a queue are already ordered
/// by in-order issue, and only the other queues' accesses can stall it.
struct RowTimes {
  std::array<std::vector<int64_t>, kNumQueues> writeDone, readDone;

  void resize(size_t rows) {
    for (int q = 0; q < kNumQueues; ++q) {
      writeDone[q].assign(rows, 0);
      readDone[q].assign(rows, 0);
    }
  }
  /// Every row gets the latest time seen: used when the row layout changes
  /// (a config switching f32 <-> i8 inputs), where old rows no longer map to
  /// new ones; conservative, and such switches are rare.
  void collapse() {
    for (auto *table : {&writeDone, &readDone})
      for (auto &times : *table) {
        int64_t latest = 0;
        for (int64_t t : times)
          latest = std::max(latest, t);
        std::fill(times.begin(), times.end(), latest);
      }
  }
};

/// The hazards an instruction must respect: the latest time each other queue
/// gets in the way, remembered with that queue so the stall can be named.
struct Dependencies {
  std::array<int64_t, kNumQueues> readyAt{};

  /// RAW: the rows must have been written by the other queues.
  void afterWrites(const RowTimes &times, int self, int64_t row,
                   int64_t rows) {
    gather(times.writeDone, self, row, rows);
  }
  /// WAR: the other queues must be done reading the rows (and WAW: done
  /// writing them, so the final value is ours).
  void beforeOverwrite(const RowTimes &times, int self, int64_t row,
                       int64_t rows) {
    gather(times.readDone, self, row, rows);
    gather(times.writeDone, self, row, rows);
  }

private:
  void gather(const std::array<std::vector<int64_t>, kNumQueues> &table,
              int self, int64_t row, int64_t rows) {
    for (int q = 0; q < kNumQueues; ++q) {
      if (q == self)
        continue;
      const auto &times = table[q];
      for (int64_t r = row; r < row + rows; ++r)
        readyAt[q] = std::max(readyAt[q], times[r]);
    }
  }
};
} // namespace

struct HwaccDevice::Impl {
  HwaccParams params;
  bool timingOnly = false;
  std::optional<std::string> paramsError;

  // Configuration (hatc_hwacc_config).
  Dataflow dataflow = Dataflow::WeightStationary;
  Elem elem = Elem::F32;
  OutType out = OutType::Acc;
  float scale = 1.0f;
  bool relu = false;

  // Memories as raw bytes: a row is DIM elements of the current input type
  // (scratchpad) or DIM 4-byte accumulators (f32 or i32 by input type), as
  // in hardware where the element type is only an interpretation.
  std::vector<unsigned char> scratchpad, accumulator;
  RowTimes spTimes, accTimes;

  // Weights latched by the last preload. The values are copied at preload
  // time, as the PEs hold them, so a later mvin to the same rows does not
  // change what a reusing compute multiplies by.
  bool haveWeights = false;
  bool weightsStale = false; // an mvin wrote the rows they came from
  bool preloadPending = false; // a preload no compute consumed yet
  int64_t weightRow = 0, weightK = 0, weightN = 0;
  int64_t destAccRow = 0;
  bool destAccumulate = false;
  std::vector<float> weightsF32;
  std::vector<int32_t> weightsI32;

  std::array<int64_t, kNumQueues> queueFree{};
  int64_t instructionIndex = 0; // every call, valid or not, for messages
  HwaccStats stats;
  std::string error;

  explicit Impl(HwaccParams p, bool timingOnly)
      : params(p), timingOnly(timingOnly), paramsError(p.validate()) {
    reset();
  }

  std::chrono::steady_clock::time_point hostStart;
  bool inHost = false;
  HwaccDevice::HostWork hostWork = HwaccDevice::HostWork::Shared;

  void reset() {
    inHost = false;
    dataflow = Dataflow::WeightStationary;
    elem = Elem::F32;
    out = OutType::Acc;
    scale = 1.0f;
    relu = false;
    haveWeights = weightsStale = preloadPending = false;
    weightRow = weightK = weightN = destAccRow = 0;
    destAccumulate = false;
    queueFree.fill(0);
    instructionIndex = 0;
    stats = HwaccStats();
    for (const char *cause :
         {"exec_wait_load", "exec_wait_store", "load_wait_exec",
          "load_wait_store", "store_wait_exec", "store_wait_load"})
      stats.stallCycles[cause] = 0;
    error = paramsError ? "invalid device parameters: " + *paramsError : "";
    if (paramsError) {
      // Nothing runs on an invalid device; keep the memories empty.
      scratchpad.clear();
      accumulator.clear();
      return;
    }
    int64_t dim = params.dim;
    // Tracking is sized for the largest row count (i8 inputs); f32 uses the
    // first quarter.
    spTimes.resize(size_t(params.scratchpadRows(1)));
    accTimes.resize(size_t(params.accumulatorRows()));
    weightsF32.assign(size_t(dim * dim), 0.0f);
    weightsI32.assign(size_t(dim * dim), 0);
    if (timingOnly) {
      scratchpad.clear();
      accumulator.clear();
    } else {
      scratchpad.assign(size_t(params.scratchpadBytes), 0);
      accumulator.assign(size_t(params.accumulatorBytes), 0);
    }
  }

  void setTimingOnly(bool value) {
    timingOnly = value;
    // Data in the memories is not meaningful after timing-only stretches;
    // allocating on the way back keeps functional mode always runnable.
    if (!timingOnly && !paramsError) {
      scratchpad.resize(size_t(params.scratchpadBytes), 0);
      accumulator.resize(size_t(params.accumulatorBytes), 0);
    }
  }

  //===--------------------------------------------------------------------===//
  // Helpers
  //===--------------------------------------------------------------------===//

  int64_t inElemBytes() const { return elem == Elem::F32 ? 4 : 1; }
  int64_t outElemBytes() const { return out == OutType::I8 ? 1 : 4; }
  int64_t spRows() const { return params.scratchpadRows(inElemBytes()); }
  int64_t accRows() const { return params.accumulatorRows(); }

  /// Starts instruction bookkeeping; false when the device cannot run any.
  bool begin() {
    ++instructionIndex;
    return !paramsError;
  }

  /// Records the first invalid instruction and skips it.
  void reject(const char *op, const std::string &why) {
    if (error.empty())
      error = "instruction " + std::to_string(instructionIndex) + " (" + op +
              "): " + why + "; skipped";
  }

  bool checkSize(const char *op, const char *what, int64_t value) {
    if (value >= 1 && value <= params.dim)
      return true;
    reject(op, std::string(what) + " = " + std::to_string(value) +
                   " is outside [1, " + std::to_string(params.dim) + "]");
    return false;
  }

  bool checkRows(const char *op, const char *memory, int64_t row,
                 int64_t rows, int64_t limit) {
    if (row >= 0 && row <= limit - rows)
      return true;
    reject(op, std::string(memory) + " rows [" + std::to_string(row) + ", " +
                   std::to_string(row + rows) + ") exceed the " + memory +
                   " (" + std::to_string(limit) + " rows)");
    return false;
  }

  bool checkDram(const char *op, const void *dram, int64_t stride,
                 int64_t rows, int64_t cols) {
    if (!dram) {
      reject(op, "null DRAM pointer");
      return false;
    }
    // A smaller stride would make rows overlap; with one row it is unused.
    if (rows > 1 && stride < cols) {
      reject(op, "stride " + std::to_string(stride) + " is smaller than cols " +
                     std::to_string(cols));
      return false;
    }
    return true;
  }

  int64_t dmaCycles(int64_t bytes) const {
    // The small slack keeps an exact quotient such as 1024 / 16 from being
    // rounded up by floating-point noise on non-integral bandwidths.
    double cycles = std::ceil(double(bytes) / params.dmaBytesPerCycle - 1e-9);
    return std::max<int64_t>(1, int64_t(cycles));
  }

  /// Places an instruction on `queue`: it starts when the queue is free and
  /// every dependency is met; the wait beyond the queue's own availability is
  /// charged to the queue whose access was the latest (the binding one).
  int64_t schedule(int queue, const Dependencies &deps, int64_t occupancy) {
    int64_t free = queueFree[queue];
    int64_t start = free;
    int binding = -1;
    for (int q = 0; q < kNumQueues; ++q)
      if (deps.readyAt[q] > start) {
        start = deps.readyAt[q];
        binding = q;
      }
    if (binding >= 0)
      stats.stallCycles[std::string(kQueueNames[queue]) + "_wait_" +
                        kQueueNames[binding]] += start - free;
    queueFree[queue] = start + occupancy;
    return start;
  }

  void finish(int64_t completion) {
    stats.totalCycles = std::max(stats.totalCycles, completion);
    ++stats.instructions;
  }

  static void mark(std::vector<int64_t> &times, int64_t row, int64_t rows,
                   int64_t at) {
    for (int64_t r = row; r < row + rows; ++r)
      times[r] = std::max(times[r], at);
  }

  unsigned char *spRowPtr(int64_t row) {
    return scratchpad.data() + row * params.dim * inElemBytes();
  }
  unsigned char *accRowPtr(int64_t row) {
    return accumulator.data() + row * params.dim * 4;
  }

  //===--------------------------------------------------------------------===//
  // Instructions
  //===--------------------------------------------------------------------===//

  void config(int64_t dataflowArg, int64_t elemArg, int64_t outArg,
              float scaleArg, int64_t reluArg) {
    if (!begin())
      return;
    const char *op = "config";
    if (dataflowArg != 0 && dataflowArg != 1)
      return reject(op, "dataflow must be 0 (OS) or 1 (WS), got " +
                            std::to_string(dataflowArg));
    if (elemArg != 0 && elemArg != 1)
      return reject(op, "elem must be 0 (f32) or 1 (i8), got " +
                            std::to_string(elemArg));
    if (outArg != 0 && outArg != 1)
      return reject(op, "out must be 0 (accumulator type) or 1 (i8), got " +
                            std::to_string(outArg));
    if (!std::isfinite(scaleArg))
      return reject(op, "scale must be finite, got " +
                            formatNumber(double(scaleArg)));
    auto newDataflow = Dataflow(dataflowArg);
    auto newElem = Elem(elemArg);
    if (newElem != elem)
      spTimes.collapse();
    // Weights of another element type or dataflow are meaningless to the
    // new configuration; a compute must preload again.
    if (newElem != elem || newDataflow != dataflow)
      haveWeights = preloadPending = false;
    dataflow = newDataflow;
    elem = newElem;
    out = OutType(outArg);
    scale = scaleArg;
    relu = reluArg != 0;
    // Configuration travels with the queues in hardware; it takes no cycles
    // of its own here.
    finish(0);
  }

  void mvin(const void *dram, int64_t stride, int64_t spRow, int64_t rows,
            int64_t cols) {
    if (!begin())
      return;
    const char *op = "mvin";
    if (!checkSize(op, "rows", rows) || !checkSize(op, "cols", cols) ||
        !checkRows(op, "scratchpad", spRow, rows, spRows()) ||
        !checkDram(op, dram, stride, rows, cols))
      return;
    int64_t elemBytes = inElemBytes();
    int64_t bytes = rows * cols * elemBytes;
    if (!timingOnly) {
      const auto *src = static_cast<const unsigned char *>(dram);
      int64_t rowBytes = params.dim * elemBytes;
      for (int64_t r = 0; r < rows; ++r) {
        unsigned char *dst = spRowPtr(spRow + r);
        std::memcpy(dst, src + r * stride * elemBytes,
                    size_t(cols * elemBytes));
        std::memset(dst + cols * elemBytes, 0,
                    size_t(rowBytes - cols * elemBytes));
      }
    }
    if (haveWeights && spRow < weightRow + weightK && weightRow < spRow + rows)
      weightsStale = true;

    Dependencies deps;
    deps.beforeOverwrite(spTimes, LoadQueue, spRow, rows);
    int64_t occupancy = dmaCycles(bytes);
    int64_t start = schedule(LoadQueue, deps, occupancy);
    int64_t done = start + occupancy + params.dmaLatencyCycles;
    mark(spTimes.writeDone[LoadQueue], spRow, rows, done);
    stats.dmaBytesIn += bytes;
    finish(done);
  }

  void mvinAcc(const void *dram, int64_t stride, int64_t accRow, int64_t rows,
               int64_t cols) {
    if (!begin())
      return;
    const char *op = "mvin_acc";
    if (!checkSize(op, "rows", rows) || !checkSize(op, "cols", cols) ||
        !checkRows(op, "accumulator", accRow, rows, accRows()) ||
        !checkDram(op, dram, stride, rows, cols))
      return;
    int64_t bytes = rows * cols * 4;
    if (!timingOnly) {
      const auto *src = static_cast<const unsigned char *>(dram);
      for (int64_t r = 0; r < rows; ++r) {
        unsigned char *dst = accRowPtr(accRow + r);
        std::memcpy(dst, src + r * stride * 4, size_t(cols * 4));
        std::memset(dst + cols * 4, 0, size_t((params.dim - cols) * 4));
      }
    }
    Dependencies deps;
    deps.beforeOverwrite(accTimes, LoadQueue, accRow, rows);
    int64_t occupancy = dmaCycles(bytes);
    int64_t start = schedule(LoadQueue, deps, occupancy);
    int64_t done = start + occupancy + params.dmaLatencyCycles;
    mark(accTimes.writeDone[LoadQueue], accRow, rows, done);
    stats.dmaBytesIn += bytes;
    finish(done);
  }

  void preload(int64_t spRow, int64_t accRow, int64_t k, int64_t n,
               int64_t accumulate) {
    if (!begin())
      return;
    const char *op = "preload";
    if (!checkSize(op, "k", k) || !checkSize(op, "n", n) ||
        !checkRows(op, "scratchpad", spRow, k, spRows()) ||
        !checkRows(op, "accumulator", accRow, 1, accRows()))
      return;

    // Weight-stationary: weights already in the PEs (same block, rows not
    // rewritten since) are not shifted in again; the preload only names new
    // accumulator rows. This is how one B block is reused over many A
    // blocks (Gemmini does it with a preload of GARBAGE_ADDR).
    bool reuse = dataflow == Dataflow::WeightStationary && haveWeights &&
                 !weightsStale && weightRow == spRow && weightK == k &&
                 weightN == n;
    int64_t occupancy =
        dataflow == Dataflow::OutputStationary ? params.dim : (reuse ? 0 : k);

    if (!reuse && !timingOnly) {
      int64_t dim = params.dim;
      for (int64_t p = 0; p < k; ++p) {
        const unsigned char *row = spRowPtr(spRow + p);
        for (int64_t j = 0; j < n; ++j) {
          if (elem == Elem::F32) {
            float v;
            std::memcpy(&v, row + j * 4, 4);
            weightsF32[p * dim + j] = v;
          } else {
            weightsI32[p * dim + j] = int8_t(row[j]);
          }
        }
      }
    }
    haveWeights = true;
    weightsStale = false;
    preloadPending = true;
    weightRow = spRow;
    weightK = k;
    weightN = n;
    destAccRow = accRow;
    destAccumulate = accumulate != 0;

    Dependencies deps;
    if (!reuse)
      deps.afterWrites(spTimes, ExecQueue, spRow, k);
    int64_t start = schedule(ExecQueue, deps, occupancy);
    int64_t done = start + occupancy;
    if (!reuse)
      mark(spTimes.readDone[ExecQueue], spRow, k, done);
    stats.preloadCycles += occupancy;
    finish(done);
  }

  void compute(int64_t spRow, int64_t m, int64_t k) {
    if (!begin())
      return;
    const char *op = "compute";
    if (!checkSize(op, "m", m) || !checkSize(op, "k", k) ||
        !checkRows(op, "scratchpad", spRow, m, spRows()))
      return;
    if (!haveWeights)
      return reject(op, "no preload since the start or the last config "
                        "change");
    if (k != weightK)
      return reject(op, "k = " + std::to_string(k) +
                            " differs from the preloaded k = " +
                            std::to_string(weightK));
    if (!checkRows(op, "accumulator", destAccRow, m, accRows()))
      return;
    // A compute that follows another without a preload keeps the weights
    // and the destination and accumulates (Gemmini's compute_accumulated).
    bool accumulate = preloadPending ? destAccumulate : true;
    preloadPending = false;
    int64_t n = weightN;

    if (!timingOnly)
      elem == Elem::F32 ? multiply<float>(spRow, m, k, n, accumulate)
                        : multiply<int32_t>(spRow, m, k, n, accumulate);

    Dependencies deps;
    deps.afterWrites(spTimes, ExecQueue, spRow, m);
    deps.beforeOverwrite(accTimes, ExecQueue, destAccRow, m);
    if (accumulate)
      deps.afterWrites(accTimes, ExecQueue, destAccRow, m);
    int64_t dim = params.dim;
    int64_t occupancy = dataflow == Dataflow::WeightStationary ? m : k;
    int64_t start = schedule(ExecQueue, deps, occupancy);
    // A rows enter one a cycle; the last result leaves the array after the
    // skew has filled and drained: 2 * (DIM - 1) more cycles.
    int64_t done = start + occupancy + 2 * (dim - 1);
    mark(spTimes.readDone[ExecQueue], spRow, m, start + occupancy);
    mark(accTimes.writeDone[ExecQueue], destAccRow, m, done);
    if (accumulate)
      mark(accTimes.readDone[ExecQueue], destAccRow, m, done);
    stats.computeCycles += occupancy;
    stats.macs += m * n * k;
    finish(done);
  }

  /// acc[destAccRow + i][j] (+)= sum_p A[spRow + i][p] * W[p][j]. The
  /// partial sum runs down the PE column in p order and is added to the
  /// accumulator once, as in the array; i8 products are exact in i32.
  template <typename T>
  void multiply(int64_t spRow, int64_t m, int64_t k, int64_t n,
                bool accumulate) {
    int64_t dim = params.dim;
    const T *weights;
    if constexpr (std::is_same_v<T, float>)
      weights = weightsF32.data();
    else
      weights = weightsI32.data();
    std::vector<T> a(static_cast<size_t>(k)), sums(static_cast<size_t>(n));
    for (int64_t i = 0; i < m; ++i) {
      const unsigned char *aRow = spRowPtr(spRow + i);
      for (int64_t p = 0; p < k; ++p) {
        if constexpr (std::is_same_v<T, float>)
          std::memcpy(&a[p], aRow + p * 4, 4);
        else
          a[p] = int8_t(aRow[p]);
      }
      std::fill(sums.begin(), sums.end(), T(0));
      for (int64_t p = 0; p < k; ++p)
        for (int64_t j = 0; j < n; ++j)
          sums[j] += a[p] * weights[p * dim + j];
      unsigned char *accRow = accRowPtr(destAccRow + i);
      for (int64_t j = 0; j < n; ++j) {
        T value = sums[j];
        if (accumulate) {
          T old;
          std::memcpy(&old, accRow + j * 4, 4);
          value = addAcc(old, value);
        }
        std::memcpy(accRow + j * 4, &value, 4);
      }
    }
  }

  static float addAcc(float a, float b) { return a + b; }
  static int32_t addAcc(int32_t a, int32_t b) {
    // Hardware accumulators wrap; do it without signed-overflow UB.
    return int32_t(uint32_t(a) + uint32_t(b));
  }

  void mvout(void *dram, int64_t stride, int64_t accRow, int64_t rows,
             int64_t cols) {
    if (!begin())
      return;
    const char *op = "mvout";
    if (!checkSize(op, "rows", rows) || !checkSize(op, "cols", cols) ||
        !checkRows(op, "accumulator", accRow, rows, accRows()) ||
        !checkDram(op, dram, stride, rows, cols))
      return;
    int64_t outBytes = outElemBytes();
    int64_t bytes = rows * cols * outBytes;
    if (!timingOnly) {
      auto *dst = static_cast<unsigned char *>(dram);
      for (int64_t r = 0; r < rows; ++r) {
        const unsigned char *src = accRowPtr(accRow + r);
        unsigned char *dstRow = dst + r * stride * outBytes;
        for (int64_t j = 0; j < cols; ++j)
          convertOut(src + j * 4, dstRow + j * outBytes);
      }
    }
    Dependencies deps;
    deps.afterWrites(accTimes, StoreQueue, accRow, rows);
    int64_t occupancy = dmaCycles(bytes);
    int64_t start = schedule(StoreQueue, deps, occupancy);
    mark(accTimes.readDone[StoreQueue], accRow, rows, start + occupancy);
    stats.dmaBytesOut += bytes;
    finish(start + occupancy + params.dmaLatencyCycles);
  }

  /// Scale, then relu, then the output type. i32 accumulators are scaled in
  /// double so that every i32 value and an f32 scale multiply exactly enough
  /// for round-to-nearest-even to be well defined.
  void convertOut(const unsigned char *src, unsigned char *dst) const {
    if (elem == Elem::F32) {
      float v;
      std::memcpy(&v, src, 4);
      v *= scale;
      if (relu)
        v = std::max(v, 0.0f);
      if (out == OutType::Acc)
        return (void)std::memcpy(dst, &v, 4);
      *dst = uint8_t(saturateI8(double(v)));
      return;
    }
    int32_t acc;
    std::memcpy(&acc, src, 4);
    double v = double(acc) * double(scale);
    if (relu)
      v = std::max(v, 0.0);
    if (out == OutType::I8) {
      *dst = uint8_t(saturateI8(v));
      return;
    }
    int32_t result = int32_t(roundSaturate(v, INT32_MIN, INT32_MAX));
    std::memcpy(dst, &result, 4);
  }

  static int8_t saturateI8(double v) {
    return int8_t(roundSaturate(v, -128, 127));
  }
  /// Round to nearest, ties to even (std::nearbyint in the default rounding
  /// mode), then clamp; NaN becomes 0.
  static int64_t roundSaturate(double v, int64_t lo, int64_t hi) {
    if (std::isnan(v))
      return 0;
    double r = std::nearbyint(v);
    if (r < double(lo))
      return lo;
    if (r > double(hi))
      return hi;
    return int64_t(r);
  }

  void fence() {
    if (!begin())
      return;
    // Every queue waits for the last completion; later instructions start
    // after it.
    queueFree.fill(stats.totalCycles);
    ++stats.instructions;
  }
};

//===----------------------------------------------------------------------===//
// HwaccDevice
//===----------------------------------------------------------------------===//

HwaccDevice::HwaccDevice(HwaccParams params, bool timingOnly)
    : impl(std::make_unique<Impl>(params, timingOnly)) {}
HwaccDevice::~HwaccDevice() = default;

const HwaccParams &HwaccDevice::params() const { return impl->params; }
bool HwaccDevice::timingOnly() const { return impl->timingOnly; }
void HwaccDevice::setTimingOnly(bool timingOnly) {
  impl->setTimingOnly(timingOnly);
}

void HwaccDevice::config(int64_t dataflow, int64_t elem, int64_t out,
                         float scale, int64_t relu) {
  impl->config(dataflow, elem, out, scale, relu);
}
void HwaccDevice::mvin(const void *dram, int64_t stride, int64_t spRow,
                       int64_t rows, int64_t cols) {
  impl->mvin(dram, stride, spRow, rows, cols);
}
void HwaccDevice::mvinAcc(const void *dram, int64_t stride, int64_t accRow,
                          int64_t rows, int64_t cols) {
  impl->mvinAcc(dram, stride, accRow, rows, cols);
}
void HwaccDevice::preload(int64_t spRow, int64_t accRow, int64_t k, int64_t n,
                          int64_t accumulate) {
  impl->preload(spRow, accRow, k, n, accumulate);
}
void HwaccDevice::compute(int64_t spRow, int64_t m, int64_t k) {
  impl->compute(spRow, m, k);
}
void HwaccDevice::mvout(void *dram, int64_t stride, int64_t accRow,
                        int64_t rows, int64_t cols) {
  impl->mvout(dram, stride, accRow, rows, cols);
}
void HwaccDevice::fence() { impl->fence(); }

void HwaccDevice::hostBegin(HostWork work) {
  impl->fence();
  impl->hostStart = std::chrono::steady_clock::now();
  impl->inHost = true;
  impl->hostWork = work;
}

void HwaccDevice::hostEnd() {
  if (!impl->inHost)
    return;
  impl->inHost = false;
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - impl->hostStart)
                       .count();
  impl->stats.hostSeconds += seconds;
  if (impl->hostWork == HostWork::Kept)
    impl->stats.keptHostSeconds += seconds;
}

const HwaccStats &HwaccDevice::stats() const { return impl->stats; }
void HwaccDevice::reset() { impl->reset(); }
const std::string &HwaccDevice::error() const { return impl->error; }

namespace {
// Per thread, so that measurer threads each drive their own device.
thread_local HwaccDevice *currentDevice = nullptr;
} // namespace

void setCurrentHwaccDevice(HwaccDevice *device) { currentDevice = device; }
HwaccDevice *currentHwaccDevice() { return currentDevice; }

} // namespace hatc
