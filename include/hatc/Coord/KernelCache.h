//===- KernelCache.h - Compiled kernels per (workload, target) -*- C++ -*-===//
//
// KernelCache: where the coordinator's workloads are loaded and its kernels
// compiled. Owns the MLIR context (only the thread that adds workloads or
// refreshes uses it), the pristine workloads (for the reference), and one
// shared object per (workload, target, schedule): identical hwacc devices
// share a kernel. hwacc kernels are calibrated when compiled: one
// timing-only run gives their modeled seconds (see the pacing note in
// hatc/Coord/Coordinator.h). The Coordinator owns one; describeWorkloads()
// uses one to describe workloads without compiling them.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_KERNELCACHE_H
#define HATC_COORD_KERNELCACHE_H

#include "hatc/Coord/Backend.h"
#include "hatc/Coord/Index.h"
#include "hatc/Runtime/Buffer.h"
#include "hatc/Runtime/CpuKernel.h"

#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hatc::coord {

struct CompiledKernel {
  std::unique_ptr<CpuKernel> kernel;
  double modeledS = 0;     // hwacc: cycles / clock of the calibration run
  std::string schedule;    // "db#ID", "db-stale#ID" or "default"
  std::string configHash;  // of the record it came from ("" for default)
};

class KernelCache {
public:
  explicit KernelCache(WarnFn warn);
  ~KernelCache();

  /// Loads `path` (kept pristine for the reference) and describes it.
  llvm::Expected<WorkloadInfo> addWorkload(const std::string &path,
                                           std::vector<TensorSpec> &inputs,
                                           std::vector<TensorSpec> &outputs);
  /// The kernel of workload `index` (order of addWorkload) on `backend`
  /// with `entry`'s schedule (null: the default one). A record whose script
  /// no longer builds falls back to the default schedule, with a warning.
  llvm::Expected<std::shared_ptr<CompiledKernel>>
  get(size_t index, const BackendSpec &backend, const IndexEntry *entry);
  llvm::Expected<std::vector<std::vector<double>>>
  reference(size_t index, const std::vector<HostBuffer> &inputs);

private:
  llvm::Expected<std::shared_ptr<CompiledKernel>>
  compile(size_t index, const BackendSpec &backend, const std::string &script,
          const std::string &stem);
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Parses workload files (no compile) and describes them: what the
/// simulator needs.
llvm::Expected<std::vector<WorkloadInfo>>
describeWorkloads(const std::vector<std::string> &paths);

} // namespace hatc::coord

#endif // HATC_COORD_KERNELCACHE_H
