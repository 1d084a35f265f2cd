//===- Driver.h - The dlopen'ed CUDA driver (internal) ----------*- C++ -*-===//
#ifndef HATC_RUNTIME_CUDA_DRIVER_H
#define HATC_RUNTIME_CUDA_DRIVER_H

#include "hatc/Runtime/Cuda.h"

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hatc::cuda {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;
using CUdeviceptr = unsigned long long;

/// The process's driver: entry points, context, the kernel stream, the
/// module cache and the first error. Made on first use.
struct Driver {
  static Driver &get();

  bool usable() const { return unavailable.empty(); }
  /// Makes the context current on the calling thread.
  void makeCurrent();
  /// "CUDA_ERROR_X (text)".
  std::string describe(CUresult result) const;
  /// Keeps the first failure; true when `result` is success.
  bool check(CUresult result, const char *what);
  void recordError(const std::string &message);
  std::string takeError();
  /// The module JIT-compiled from `ptx` (cached by its text); null and an
  /// error kept on failure.
  CUmodule loadModule(const char *ptx);

  std::string unavailable; // why the GPU cannot be used, or ""
  DeviceInfo info;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream kernelStream = nullptr;

  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuGetErrorName)(CUresult, const char **) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  CUresult (*cuDriverGetVersion)(int *) = nullptr;
  CUresult (*cuDeviceGetCount)(int *) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *, int) = nullptr;
  CUresult (*cuDeviceGetName)(char *, int, CUdevice) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule,
                                  const char *) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **) = nullptr;
  CUresult (*cuStreamCreate)(CUstream *, unsigned) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream) = nullptr;
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned) = nullptr;
  CUresult (*cuEventCreate)(CUevent *, unsigned) = nullptr;
  CUresult (*cuEventDestroy)(CUevent) = nullptr;
  CUresult (*cuEventRecord)(CUevent, CUstream) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent) = nullptr;
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent) = nullptr;
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t,
                            CUstream) = nullptr;
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t,
                               CUstream) = nullptr;
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t,
                               CUstream) = nullptr;

private:
  Driver();
  void *library = nullptr;
  std::mutex errorMutex, moduleMutex;
  std::string firstError;
  std::unordered_map<std::string, CUmodule> modules;
};

} // namespace hatc::cuda

#endif // HATC_RUNTIME_CUDA_DRIVER_H
