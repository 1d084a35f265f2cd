//===- Cuda.cpp - The CUDA driver API, dlopen'ed --------------------------===//
//
// The few driver entry points hatc needs, declared here with the driver's
// C ABI (CUresult is an int, handles are pointers, device pointers are
// 64-bit integers), resolved with dlsym. See Cuda.h.
//
//===----------------------------------------------------------------------===//
#include "Driver.h"
#include "hatc/Runtime/Cuda.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>

namespace hatc::cuda {

namespace {

// Driver enums (stable parts of the CUDA ABI).
constexpr int kAttrMaxSharedPerBlock = 8;
constexpr int kAttrMultiprocessors = 16;
constexpr int kAttrComputeMajor = 75;
constexpr int kAttrComputeMinor = 76;
constexpr int kJitErrorLogBuffer = 5;
constexpr int kJitErrorLogBufferBytes = 6;
constexpr int kJitOptimizationLevel = 7;
constexpr unsigned kStreamNonBlocking = 1;

template <typename Fn> bool resolve(void *library, const char *name, Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, name));
  return fn != nullptr;
}

} // namespace

Driver &Driver::get() {
  static Driver driver;
  return driver;
}

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(result, &name);
  if (cuGetErrorString)
    cuGetErrorString(result, &text);
  std::string out = name ? name : "CUDA error " + std::to_string(result);
  if (text)
    out += std::string(" (") + text + ")";
  return out;
}

/// Set by check(); read without loading the driver (contextLost()).
static std::atomic<bool> stickyErrorSeen{false};

/// Errors after which the context is corrupt and every call fails: the
/// process must start over (CUDA_ERROR_ILLEGAL_ADDRESS, _LAUNCH_TIMEOUT,
/// _HARDWARE_STACK_ERROR, _ILLEGAL_INSTRUCTION, _MISALIGNED_ADDRESS,
/// _INVALID_ADDRESS_SPACE, _INVALID_PC, _LAUNCH_FAILED, _UNKNOWN).
static bool isSticky(CUresult result) {
  return result == 700 || result == 702 ||
         (result >= 714 && result <= 719) || result == 999;
}

bool Driver::check(CUresult result, const char *what) {
  if (result == 0)
    return true;
  if (isSticky(result))
    stickyErrorSeen = true;
  std::lock_guard<std::mutex> lock(errorMutex);
  if (firstError.empty())
    firstError = std::string(what) + ": " + describe(result);
  return false;
}

std::string Driver::takeError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  std::string error;
  error.swap(firstError);
  return error;
}

void Driver::recordError(const std::string &message) {
  std::lock_guard<std::mutex> lock(errorMutex);
  if (firstError.empty())
    firstError = message;
}

Driver::Driver() {
  const char *override = std::getenv("HATC_CUDA_DRIVER");
  std::string path = override && *override ? override : "libcuda.so.1";
  library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    unavailable = "no CUDA driver: cannot load " + path + " (" +
                  (why ? why : "unknown error") + ")";
    return;
  }
  bool ok = resolve(library, "cuInit", cuInit) &&
            resolve(library, "cuGetErrorName", cuGetErrorName) &&
            resolve(library, "cuGetErrorString", cuGetErrorString) &&
            resolve(library, "cuDriverGetVersion", cuDriverGetVersion) &&
            resolve(library, "cuDeviceGetCount", cuDeviceGetCount) &&
            resolve(library, "cuDeviceGet", cuDeviceGet) &&
            resolve(library, "cuDeviceGetName", cuDeviceGetName) &&
            resolve(library, "cuDeviceGetAttribute", cuDeviceGetAttribute) &&
            resolve(library, "cuDevicePrimaryCtxRetain",
                    cuDevicePrimaryCtxRetain) &&
            resolve(library, "cuCtxSetCurrent", cuCtxSetCurrent) &&
            resolve(library, "cuModuleLoadDataEx", cuModuleLoadDataEx) &&
            resolve(library, "cuModuleUnload", cuModuleUnload) &&
            resolve(library, "cuModuleGetFunction", cuModuleGetFunction) &&
            resolve(library, "cuLaunchKernel", cuLaunchKernel) &&
            resolve(library, "cuStreamCreate", cuStreamCreate) &&
            resolve(library, "cuStreamSynchronize", cuStreamSynchronize) &&
            resolve(library, "cuStreamWaitEvent", cuStreamWaitEvent) &&
            resolve(library, "cuEventCreate", cuEventCreate) &&
            resolve(library, "cuEventDestroy_v2", cuEventDestroy) &&
            resolve(library, "cuEventRecord", cuEventRecord) &&
            resolve(library, "cuEventSynchronize", cuEventSynchronize) &&
            resolve(library, "cuEventElapsedTime", cuEventElapsedTime) &&
            resolve(library, "cuMemAlloc_v2", cuMemAlloc) &&
            resolve(library, "cuMemAllocManaged", cuMemAllocManaged) &&
            resolve(library, "cuMemFree_v2", cuMemFree) &&
            resolve(library, "cuMemcpyAsync", cuMemcpyAsync) &&
            resolve(library, "cuMemsetD32Async", cuMemsetD32Async) &&
            resolve(library, "cuMemsetD16Async", cuMemsetD16Async);
  if (!ok) {
    unavailable = "the CUDA driver " + path +
                  " lacks a function hatc needs (too old a driver?)";
    return;
  }
  if (CUresult r = cuInit(0)) {
    unavailable = "cuInit failed: " + describe(r);
    return;
  }
  int count = 0;
  if (CUresult r = cuDeviceGetCount(&count)) {
    unavailable = "cuDeviceGetCount failed: " + describe(r);
    return;
  }
  int ordinal = 0;
  if (const char *env = std::getenv("HATC_CUDA_DEVICE"))
    ordinal = std::atoi(env);
  if (count <= ordinal) {
    unavailable = count == 0 ? "the CUDA driver sees no GPU"
                             : "no CUDA device " + std::to_string(ordinal) +
                                   " (the driver sees " +
                                   std::to_string(count) + ")";
    return;
  }
  if (CUresult r = cuDeviceGet(&device, ordinal)) {
    unavailable = "cuDeviceGet failed: " + describe(r);
    return;
  }
  if (CUresult r = cuDevicePrimaryCtxRetain(&context, device)) {
    unavailable = "cannot create a CUDA context: " + describe(r);
    return;
  }
  makeCurrent();
  if (CUresult r = cuStreamCreate(&kernelStream, kStreamNonBlocking)) {
    unavailable = "cannot create a CUDA stream: " + describe(r);
    return;
  }
  char name[256] = {0};
  cuDeviceGetName(name, sizeof(name) - 1, device);
  info.name = name;
  cuDeviceGetAttribute(&info.computeMajor, kAttrComputeMajor, device);
  cuDeviceGetAttribute(&info.computeMinor, kAttrComputeMinor, device);
  cuDeviceGetAttribute(&info.multiprocessors, kAttrMultiprocessors, device);
  int shared = 0;
  cuDeviceGetAttribute(&shared, kAttrMaxSharedPerBlock, device);
  info.sharedBytesPerBlock = size_t(shared);
  cuDriverGetVersion(&info.driverVersion);
}

void Driver::makeCurrent() {
  thread_local CUcontext current = nullptr;
  if (current != context && context) {
    check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    current = context;
  }
}

CUmodule Driver::loadModule(const char *ptx) {
  makeCurrent();
  std::string key(ptx);
  std::lock_guard<std::mutex> lock(moduleMutex);
  auto it = modules.find(key);
  if (it != modules.end())
    return it->second;
  char log[8192] = {0};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferBytes,
                   kJitOptimizationLevel};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log) - 1)),
                    reinterpret_cast<void *>(uintptr_t(4))};
  CUmodule module = nullptr;
  CUresult r = cuModuleLoadDataEx(&module, ptx, 3, options, values);
  if (r) {
    recordError("the driver could not JIT-compile the kernel's PTX: " +
                describe(r) + (log[0] ? std::string(": ") + log : ""));
    return nullptr;
  }
  modules.emplace(std::move(key), module);
  return module;
}

std::string DeviceInfo::chip() const {
  return "sm_" + std::to_string(computeMajor) + std::to_string(computeMinor);
}

std::optional<std::string> unavailableReason() {
  Driver &driver = Driver::get();
  if (driver.unavailable.empty())
    return std::nullopt;
  return driver.unavailable;
}

std::optional<DeviceInfo> deviceInfo() {
  if (unavailableReason())
    return std::nullopt;
  return Driver::get().info;
}

std::string takeError() { return Driver::get().takeError(); }

bool contextLost() { return stickyErrorSeen.load(); }

bool synchronize() {
  Driver &d = Driver::get();
  if (!d.usable())
    return false;
  d.makeCurrent();
  return d.check(d.cuStreamSynchronize(d.kernelStream), "cuStreamSynchronize");
}

DeviceBuffer DeviceBuffer::allocate(size_t bytes, std::string &error) {
  DeviceBuffer buffer;
  Driver &d = Driver::get();
  if (!d.usable()) {
    error = d.unavailable;
    return buffer;
  }
  d.makeCurrent();
  CUdeviceptr pointer = 0;
  if (CUresult r = d.cuMemAlloc(&pointer, bytes ? bytes : 1)) {
    error = "cannot allocate " + std::to_string(bytes) +
            " bytes of GPU memory: " + d.describe(r);
    return buffer;
  }
  buffer.pointer = reinterpret_cast<void *>(pointer);
  buffer.bytes = bytes;
  return buffer;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : pointer(other.pointer), bytes(other.bytes) {
  other.pointer = nullptr;
  other.bytes = 0;
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  std::swap(pointer, other.pointer);
  std::swap(bytes, other.bytes);
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (!pointer)
    return;
  Driver &d = Driver::get();
  d.makeCurrent();
  d.cuMemFree(reinterpret_cast<CUdeviceptr>(pointer));
}

// Copies go on the kernel stream and are waited for: a synchronous cuMemcpy
// runs on the legacy default stream, which the (non-blocking) kernel stream
// does not wait for, and from pageable memory it may return before the DMA
// lands, so a kernel could read stale inputs or an output could be read
// before the kernel wrote it.
bool DeviceBuffer::upload(const void *host) {
  Driver &d = Driver::get();
  d.makeCurrent();
  return d.check(d.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(pointer),
                                 reinterpret_cast<CUdeviceptr>(host), bytes,
                                 d.kernelStream),
                 "copying to the GPU") &&
         synchronize();
}

bool DeviceBuffer::download(void *host) const {
  Driver &d = Driver::get();
  d.makeCurrent();
  return d.check(d.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(host),
                                 reinterpret_cast<CUdeviceptr>(pointer), bytes,
                                 d.kernelStream),
                 "copying from the GPU") &&
         synchronize();
}

bool DeviceBuffer::fill32(unsigned word) {
  Driver &d = Driver::get();
  d.makeCurrent();
  return d.check(d.cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(pointer),
                                    word, bytes / 4, d.kernelStream),
                 "cuMemsetD32") &&
         synchronize();
}

EventTimer::EventTimer() {
  Driver &d = Driver::get();
  if (!d.usable())
    return;
  d.makeCurrent();
  d.check(d.cuEventCreate(&begin, 0), "cuEventCreate");
  d.check(d.cuEventCreate(&end, 0), "cuEventCreate");
}

EventTimer::~EventTimer() {
  Driver &d = Driver::get();
  if (begin)
    d.cuEventDestroy(begin);
  if (end)
    d.cuEventDestroy(end);
}

void EventTimer::start() {
  Driver &d = Driver::get();
  if (begin)
    d.check(d.cuEventRecord(begin, d.kernelStream), "cuEventRecord");
}

double EventTimer::stopMilliseconds() {
  Driver &d = Driver::get();
  if (!begin || !end)
    return -1;
  float ms = 0;
  if (!d.check(d.cuEventRecord(end, d.kernelStream), "cuEventRecord") ||
      !d.check(d.cuEventSynchronize(end), "cuEventSynchronize") ||
      !d.check(d.cuEventElapsedTime(&ms, begin, end), "cuEventElapsedTime"))
    return -1;
  return ms;
}

} // namespace hatc::cuda
