//===- Worker.h - The measurement worker and its protocol ------*- C++ -*-===//
//
// `hatc-worker` builds and runs candidates for the measurement harness
// (Harness.h). It talks JSON lines: one request a line on stdin, replies on
// stdout. Anything else the process prints (LLVM, the linker, a kernel) goes
// to stderr: the worker moves the protocol off fds 0/1 at start-up, so child
// processes and stray printfs can never corrupt it.
//
// Worker -> parent, once, after the MLIRContext is set up:
//   {"type":"ready","protocol":1,"pid":1234}
//
// Parent -> worker:
//   {"type":"build","id":7,"workload":"W.mlir","entry":"","target":T,
//    "config":{...},"script":"...","sketch":"...","fault":"","dir":"D"}
//     compiles D/kernel.so; replies
//   {"type":"result","id":7,"error":"OK","so":"D/kernel.so","build_s":0.1,
//    "extras":{"workload":"matmul_...","flops":...}}
//
//   {"type":"run","id":8,"workload":..,"entry":..,"target":T,"config":..,
//    "so":"D/kernel.so","fault":"","options":{"threads":2,"seed":0,
//    "check":true,"warmup":1,"warmup_s":0.05,"min_repeat":3,"max_repeat":50,
//    "min_time_s":0.05,"flush_cache":false}}
//     replies first {"type":"run_started","id":8} (right before the kernel
//     first runs: the parent starts the run timer there), then
//   {"type":"result","id":8,"error":"OK","samples":[...],"seconds":..,
//    "cv":..,"cycles":..(hwacc),"gflops":..,"max_rel_err":..,"run_s":..,
//    "extras":{...}}
//
//   {"type":"measure", <the build fields without "dir">, "options":{...}}
//     build into a temporary folder, then run (run_started, then one result
//     holding both the build and the run fields); for standalone use and
//     lit tests.
//
// Failed results carry "error" (a db::ErrorCode name) and "message" (one
// line). A line that is not a valid request gets a result with "id": null
// and INVALID_CONFIG; the worker carries on. The worker exits 0 at the end
// of its input, and kExitOutOfMemory when an allocation fails (after
// replying when it still can). A result with "retire":true is the worker's
// last (a lost CUDA context, an out-of-memory it answered, or its address
// space past half of its RLIMIT_AS: what its context and loaded kernels
// keep grows with every build of a large model task): it has stopped
// reading, so a request sent after it fails to send instead of being lost.
// A workload whose buffers do not fit is answered OUT_OF_MEMORY without
// retiring: nothing was half-built.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_MEASURE_WORKER_H
#define HATC_MEASURE_WORKER_H

namespace hatc {

namespace worker {
inline constexpr int kProtocolVersion = 1;
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;
/// operator new failed (RLIMIT_AS): the parent records OUT_OF_MEMORY.
inline constexpr int kExitOutOfMemory = 3;
} // namespace worker

struct WorkerOptions {
  /// Honour the requests' "fault" field (tests only); otherwise a request
  /// with a fault is rejected with INVALID_CONFIG.
  bool allowFaults = false;
};

/// Serves requests from stdin until it closes; returns the exit status.
int runWorker(const WorkerOptions &options);

} // namespace hatc

#endif // HATC_MEASURE_WORKER_H
