//===- HwaccDevice.h - The hwacc device model ------------------*- C++ -*-===//
//
// A Gemmini-like systolic array of DIM x DIM PEs with a scratchpad, an
// accumulator memory and DMA engines. The model executes the instruction
// stream of HwaccAbi.h functionally (exact f32 / i8->i32 results) and in
// time: a load queue (mvin), an execute queue (preload, compute) and a store
// queue (mvout) run concurrently; an instruction starts when its queue is
// free and the rows it reads were written (RAW) and the rows it writes were
// read by earlier instructions (WAR). See docs/hwacc.md for the formulas.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_RUNTIME_HWACCDEVICE_H
#define HATC_RUNTIME_HWACCDEVICE_H

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace hatc {

struct HwaccParams {
  int64_t dim = 16;                    // PEs per side
  int64_t scratchpadBytes = 256 << 10; // input memory
  int64_t accumulatorBytes = 64 << 10; // 4-byte accumulators
  double dmaBytesPerCycle = 16;        // DMA bandwidth, each direction
  int64_t dmaLatencyCycles = 64;       // first byte of a DMA transfer
  double clockGHz = 1.0;

  /// Rows of the scratchpad for `elemBytes`-wide inputs (4 for f32, 1 for i8).
  int64_t scratchpadRows(int64_t elemBytes) const {
    return scratchpadBytes / (dim * elemBytes);
  }
  int64_t accumulatorRows() const { return accumulatorBytes / (dim * 4); }

  /// Reads the hwacc fields of a target description; the error names the
  /// field, the value and `origin`. Returns nullopt on success.
  static std::optional<std::string> fromJson(const nlohmann::json &json,
                                             const std::string &origin,
                                             HwaccParams &out);
  /// Checks values built in code the way fromJson checks a file (power-of-two
  /// dim in [2, 256], positive bandwidth and clock, latency >= 0, memories
  /// that hold a few DIM x DIM blocks); the error names the JSON field.
  /// Returns nullopt when the parameters are usable.
  std::optional<std::string> validate() const;
};

struct HwaccStats {
  int64_t totalCycles = 0;   // when the last queue went idle
  int64_t computeCycles = 0; // execute-queue cycles spent streaming A rows
  int64_t preloadCycles = 0; // execute-queue cycles spent loading weights
  int64_t macs = 0;          // useful multiply-accumulates
  int64_t dmaBytesIn = 0, dmaBytesOut = 0;
  int64_t instructions = 0;
  /// Wall seconds of host work between hostBegin/hostEnd (ops left on the
  /// host), which the device does not overlap.
  double hostSeconds = 0;
  /// The part of hostSeconds spent in GEMMs a schedule kept on the host
  /// (hostBegin(HostWork::Kept)): work the schedule chose, unlike the rest
  /// (im2col copies, transposes, elementwise consumers), which every
  /// schedule of the workload does alike.
  double keptHostSeconds = 0;
  /// Cycles a queue waited, by cause: "exec_wait_load" (an operand not yet
  /// moved in), "exec_wait_store" (accumulator rows not yet moved out),
  /// "load_wait_exec" (scratchpad rows still being read),
  /// "store_wait_exec" (results not yet computed). Two rarer causes exist
  /// for programs that mix mvin_acc and mvout on the same rows:
  /// "load_wait_store" and "store_wait_load". All six keys are always present.
  std::map<std::string, int64_t> stallCycles;

  /// macs / (totalCycles * dim^2): the fraction of PE-cycles doing work.
  double utilization(int64_t dim) const;
  /// The device's modeled time (cycles / clock), without host work.
  double seconds(double clockGHz) const { return totalCycles / (clockGHz * 1e9); }
  /// Modeled device time plus host work: what the workload takes.
  double totalSeconds(double clockGHz) const {
    return seconds(clockGHz) + hostSeconds;
  }
  /// totalSeconds in cycles of the device clock (host wall time included).
  int64_t workloadCycles(double clockGHz) const {
    return totalCycles + int64_t(std::llround(hostSeconds * clockGHz * 1e9));
  }
  /// What a schedule is ranked by: the device's modeled time plus the GEMMs
  /// the schedule kept on the host. The host work every schedule of the
  /// workload does alike is left out: it cannot change the order, and its
  /// wall time is noise (a conv's im2col under load). Deterministic unless
  /// the schedule keeps a GEMM on the host.
  double scheduleSeconds(double clockGHz) const {
    return seconds(clockGHz) + keptHostSeconds;
  }
  /// scheduleSeconds in cycles of the device clock: what measured records
  /// and `hatc run` report as the cycles, so ranking by cycles ranks by it.
  int64_t scheduleCycles(double clockGHz) const {
    return totalCycles +
           int64_t(std::llround(keptHostSeconds * clockGHz * 1e9));
  }
  nlohmann::json toJson(int64_t dim, double clockGHz) const;
};

class HwaccDevice {
public:
  /// timingOnly: keep the timing model and the range checks, skip the data.
  explicit HwaccDevice(HwaccParams params, bool timingOnly = false);
  ~HwaccDevice();
  HwaccDevice(const HwaccDevice &) = delete;
  HwaccDevice &operator=(const HwaccDevice &) = delete;

  const HwaccParams &params() const;
  bool timingOnly() const;
  void setTimingOnly(bool timingOnly);

  // The instruction set; see HwaccAbi.h for the meaning of each argument.
  void config(int64_t dataflow, int64_t elem, int64_t out, float scale,
              int64_t relu);
  void mvin(const void *dram, int64_t stride, int64_t spRow, int64_t rows,
            int64_t cols);
  void mvinAcc(const void *dram, int64_t stride, int64_t accRow, int64_t rows,
               int64_t cols);
  void preload(int64_t spRow, int64_t accRow, int64_t k, int64_t n,
               int64_t accumulate);
  void compute(int64_t spRow, int64_t m, int64_t k);
  void mvout(void *dram, int64_t stride, int64_t accRow, int64_t rows,
             int64_t cols);
  void fence();
  /// What a hostBegin/hostEnd bracket holds: host work every schedule of
  /// the workload does (an im2col copy, an elementwise consumer), or a GEMM
  /// the schedule kept on the host (hwacc.on_host).
  enum class HostWork { Shared, Kept };
  /// Host work starts (after a fence) / ends: its wall time goes to
  /// stats().hostSeconds, and for HostWork::Kept also to keptHostSeconds.
  void hostBegin(HostWork work = HostWork::Shared);
  void hostEnd();

  /// Statistics since construction or the last reset. totalCycles always
  /// covers every instruction issued so far (what a fence would wait for), so
  /// no fence is needed before reading it.
  const HwaccStats &stats() const;
  /// Clears memories, queues, statistics, the configuration (back to the
  /// defaults: f32, weight-stationary, accumulator output, scale 1, no relu),
  /// the preloaded weights and error(): the device is as if just built.
  void reset();
  /// The first invalid instruction (an address out of range, a size above
  /// DIM, a compute without preload, ...), described; such an instruction is
  /// skipped. Empty when all were valid.
  const std::string &error() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// The device the calling thread's hatc_hwacc_* calls act on (null: none;
/// calls then abort with a message, as a real driver would fault).
void setCurrentHwaccDevice(HwaccDevice *device);
HwaccDevice *currentHwaccDevice();

} // namespace hatc

#endif // HATC_RUNTIME_HWACCDEVICE_H
