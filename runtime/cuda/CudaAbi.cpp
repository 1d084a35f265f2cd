//===- CudaAbi.cpp - The mgpu* functions GPU kernels call -----------------===//
//
// MLIR's gpu-to-llvm lowering (LLVM 19) emits calls to these. Each call
// that fails keeps the driver's first error (hatc::cuda::takeError) and
// returns a null handle; the calls after it skip work on null handles, so a
// bad kernel ends as a reported error, never as a crash of the host.
//
// Differences from a fresh-everything implementation, for timing loops:
// modules are JIT-compiled once per PTX text and kept (mgpuModuleUnload is a
// no-op), and mgpuStreamCreate returns the runtime's kernel stream (so CUDA
// events recorded around a kernel call time exactly its work).
//
//===----------------------------------------------------------------------===//
#include "Driver.h"

#include <cstdint>
#include <string>

using namespace hatc::cuda;

namespace {
Driver *ready() {
  Driver &d = Driver::get();
  if (!d.usable()) {
    d.recordError("GPU kernel called without a usable GPU: " + d.unavailable);
    return nullptr;
  }
  d.makeCurrent();
  return &d;
}
} // namespace

extern "C" {

void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  Driver *d = ready();
  return d ? d->loadModule(static_cast<const char *>(data)) : nullptr;
}

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  // hatc embeds PTX (text) only; a cubin would not be NUL-terminated.
  return mgpuModuleLoadJIT(data, 0);
}

void mgpuModuleUnload(void * /*module*/) {}

void *mgpuModuleGetFunction(void *module, const char *name) {
  Driver *d = ready();
  if (!d || !module)
    return nullptr;
  CUfunction function = nullptr;
  if (!d->check(d->cuModuleGetFunction(&function, module, name),
                "cuModuleGetFunction"))
    return nullptr;
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  Driver *d = ready();
  if (!d || !function)
    return;
  d->check(d->cuLaunchKernel(function, unsigned(gridX), unsigned(gridY),
                             unsigned(gridZ), unsigned(blockX),
                             unsigned(blockY), unsigned(blockZ),
                             unsigned(sharedBytes),
                             stream ? stream : d->kernelStream, params, extra),
           "cuLaunchKernel");
}

void *mgpuStreamCreate() {
  Driver *d = ready();
  return d ? d->kernelStream : nullptr;
}

void mgpuStreamDestroy(void * /*stream*/) {}

void mgpuStreamSynchronize(void *stream) {
  Driver *d = ready();
  if (d)
    d->check(d->cuStreamSynchronize(stream ? stream : d->kernelStream),
             "cuStreamSynchronize (the kernel failed)");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  Driver *d = ready();
  if (d && event)
    d->check(d->cuStreamWaitEvent(stream ? stream : d->kernelStream, event, 0),
             "cuStreamWaitEvent");
}

void *mgpuEventCreate() {
  Driver *d = ready();
  CUevent event = nullptr;
  if (d && !d->check(d->cuEventCreate(&event, 0), "cuEventCreate"))
    return nullptr;
  return event;
}

void mgpuEventDestroy(void *event) {
  Driver *d = ready();
  if (d && event)
    d->cuEventDestroy(event);
}

void mgpuEventSynchronize(void *event) {
  Driver *d = ready();
  if (d && event)
    d->check(d->cuEventSynchronize(event), "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  Driver *d = ready();
  if (d && event)
    d->check(d->cuEventRecord(event, stream ? stream : d->kernelStream),
             "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool hostShared) {
  Driver *d = ready();
  if (!d)
    return nullptr;
  CUdeviceptr pointer = 0;
  constexpr unsigned kAttachGlobal = 1;
  CUresult r = hostShared ? d->cuMemAllocManaged(&pointer, bytes ? bytes : 1,
                                                 kAttachGlobal)
                          : d->cuMemAlloc(&pointer, bytes ? bytes : 1);
  if (!d->check(r, "allocating GPU memory for a temporary"))
    return nullptr;
  return reinterpret_cast<void *>(pointer);
}

void mgpuMemFree(void *pointer, void * /*stream*/) {
  Driver *d = ready();
  if (!d || !pointer)
    return;
  // Work queued on the kernel stream may still use it.
  d->cuStreamSynchronize(d->kernelStream);
  d->cuMemFree(reinterpret_cast<CUdeviceptr>(pointer));
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  Driver *d = ready();
  if (d)
    d->check(d->cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                              reinterpret_cast<CUdeviceptr>(src), bytes,
                              stream ? stream : d->kernelStream),
             "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream) {
  Driver *d = ready();
  if (d)
    d->check(d->cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                 count, stream ? stream : d->kernelStream),
             "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void *stream) {
  Driver *d = ready();
  if (d)
    d->check(d->cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value,
                                 count, stream ? stream : d->kernelStream),
             "cuMemsetD16Async");
}

void mgpuSetDefaultDevice(int32_t /*device*/) {
  // One device per process, chosen by $HATC_CUDA_DEVICE.
}

// For programs that call a compiled kernel's hatc_entry themselves (the GPU
// kit's runner, from Python): the kernel's time on the runtime's stream, as
// the measurer takes it (CUDA events around the call), in milliseconds;
// negative, with the reason in *error (a static buffer), on a failure.
double hatc_cuda_time_call_ms(void (*entry)(void **), void **args,
                              const char **error) {
  static thread_local std::string message;
  message.clear();
  double ms = -1;
  {
    hatc::cuda::EventTimer timer;
    timer.start();
    entry(args);
    ms = timer.stopMilliseconds();
  }
  message = hatc::cuda::takeError();
  if (!message.empty())
    ms = -1;
  else if (ms < 0)
    message = "CUDA events failed";
  if (error)
    *error = message.c_str();
  return ms;
}

} // extern "C"
