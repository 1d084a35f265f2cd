//===- Cuda.h - The CUDA driver, loaded at run time --------------*- C++ -*-===//
//
// libhatc_cuda_rt.so: GPU kernels compiled by hatc call the mgpu* functions
// that MLIR's gpu-to-llvm lowering emits (mgpuModuleLoadJIT,
// mgpuLaunchKernel, ...; see CudaAbi.cpp). They and this C++ API run on the
// CUDA driver API, which is dlopen'ed (libcuda.so.1, or $HATC_CUDA_DRIVER)
// on first use: nothing CUDA is needed to build hatc or its kernels.
//
// One process-wide context (device 0's primary context, or
// $HATC_CUDA_DEVICE), one stream that every kernel launch uses, and a cache
// of JIT-compiled modules keyed by their PTX text, so that a kernel called in
// a timing loop compiles once. Driver errors inside mgpu* calls cannot be
// returned through the generated code; the first one is kept and
// `takeError()` hands it to the caller after the kernel returns.
//
// Standard library only (no LLVM), like libhatc_hwacc_rt.so.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_RUNTIME_CUDA_H
#define HATC_RUNTIME_CUDA_H

#include <cstddef>
#include <optional>
#include <string>

namespace hatc::cuda {

struct DeviceInfo {
  std::string name;          // "NVIDIA H100 80GB HBM3"
  int computeMajor = 0;      // 9 on Hopper
  int computeMinor = 0;
  int multiprocessors = 0;
  int driverVersion = 0;     // 12040 for CUDA 12.4
  size_t sharedBytesPerBlock = 0;
  /// "sm_90": the PTX target that matches the device.
  std::string chip() const;
};

/// Why no GPU can be used here ("no CUDA driver: ...", "cuInit failed:
/// CUDA_ERROR_NO_DEVICE ..."), or nullopt when device 0 is usable. The
/// first call loads the driver and makes the context; later calls are free.
std::optional<std::string> unavailableReason();

/// The device in use; nullopt when unavailableReason() is set.
std::optional<DeviceInfo> deviceInfo();

/// The first driver error since the last call (from an mgpu* call made by a
/// kernel, or from this API), or "" when there was none. Clears it.
std::string takeError();

/// Device memory. Moves only; frees on destruction.
class DeviceBuffer {
public:
  /// Allocates `bytes`; on failure the buffer is empty and `error` says why.
  static DeviceBuffer allocate(size_t bytes, std::string &error);
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer();

  void *data() const { return pointer; }
  size_t size() const { return bytes; }
  /// Synchronous copies of the whole buffer; false (and takeError()) on a
  /// driver error.
  bool upload(const void *host);
  bool download(void *host) const;
  /// Fills the buffer with the 32-bit pattern `word` (NaN poisoning).
  bool fill32(unsigned word);

private:
  void *pointer = nullptr;
  size_t bytes = 0;
};

/// Times work on the kernel stream with CUDA events: start(), launch,
/// stop() returns the milliseconds between them (negative on an error).
class EventTimer {
public:
  EventTimer();
  ~EventTimer();
  EventTimer(const EventTimer &) = delete;
  EventTimer &operator=(const EventTimer &) = delete;
  void start();
  double stopMilliseconds();

private:
  void *begin = nullptr, *end = nullptr;
};

/// Waits for all work on the kernel stream; false on an error.
bool synchronize();

/// True once the driver reported an error that leaves the context unusable
/// for the rest of the process (an illegal address, a launch failure, ...:
/// CUDA's "sticky" errors). Every later call fails too, so a measurement
/// worker that sees it must be replaced.
bool contextLost();

} // namespace hatc::cuda

#endif // HATC_RUNTIME_CUDA_H
