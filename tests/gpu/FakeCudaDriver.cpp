//===- FakeCudaDriver.cpp - A stand-in libcuda.so.1 for tests -------------===//
//
// Lets CI, which has no GPU, test everything between hatc and the driver:
// loading it, device discovery and its failures, PTX handed to the JIT once
// per module, kernel lookup by name, launch geometry, device memory copies
// and event timing. It cannot execute PTX: a launch is logged and does
// nothing, so a checked run sees its poisoned outputs (NaN) and fails the
// check, as it must.
//
// Like a real device it faults on a kernel argument that points outside
// device memory (a host buffer handed to a kernel), and such a fault is
// sticky: every later call fails with it, as CUDA's illegal-address errors
// do, until the process ends.
//
//   HATC_CUDA_DRIVER=libhatc_fake_cuda.so     use it instead of libcuda.so.1
//   HATC_FAKE_CUDA_INIT_ERROR=N               cuInit returns N
//   HATC_FAKE_CUDA_DEVICES=N                  devices seen (default 1)
//   HATC_FAKE_CUDA_LOG=FILE                   append one line per module load,
//                                             kernel launch and fault, and at
//                                             exit the device memory not freed
//   HATC_FAKE_CUDA_FAULT_ONCE=FILE            if FILE exists, the next launch
//                                             removes it and faults (sticky)
//
//===----------------------------------------------------------------------===//
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2,
                   kNoDevice = 100, kInvalidImage = 200, kNotFound = 500,
                   kIllegalAddress = 700;

struct Module {
  std::string ptx;
};
struct Function {
  std::string name;
  std::vector<int> paramBytes; // of each .param, from the PTX signature
};

/// Device memory (host memory here): start -> size, and the sticky fault.
struct Device {
  std::mutex mutex;
  std::map<uintptr_t, size_t> allocations;
  CUresult sticky = kSuccess;

  bool contains(uint64_t address) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = allocations.upper_bound(uintptr_t(address));
    if (it == allocations.begin())
      return false;
    --it;
    return address <= it->first + it->second;
  }
  ~Device();
};
Device device;
struct Event {
  std::chrono::steady_clock::time_point at;
};

int envInt(const char *name, int fallback) {
  const char *value = std::getenv(name);
  return value && *value ? std::atoi(value) : fallback;
}

void log(const std::string &line) {
  const char *path = std::getenv("HATC_FAKE_CUDA_LOG");
  if (!path)
    return;
  if (FILE *f = std::fopen(path, "a")) {
    std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  }
}

Device::~Device() {
  size_t bytes = 0;
  for (const auto &entry : allocations)
    bytes += entry.second;
  if (!allocations.empty())
    log("leak " + std::to_string(allocations.size()) + " buffers " +
        std::to_string(bytes) + " bytes");
}

/// The byte sizes of the parameters of `.entry name(...)` in `ptx`.
std::vector<int> entryParams(const std::string &ptx, const std::string &name) {
  std::vector<int> sizes;
  size_t at = ptx.find(".entry " + name + "(");
  if (at == std::string::npos)
    return sizes;
  size_t end = ptx.find(')', at);
  for (size_t p = ptx.find(".param ", at); p < end;
       p = ptx.find(".param ", p + 1)) {
    std::string type = ptx.substr(p + 7, 4);
    sizes.push_back(type == ".u64" || type == ".b64" || type == ".s64" ||
                            type == ".f64"
                        ? 8
                        : 4);
  }
  return sizes;
}

/// The name of the first `.entry` in `ptx`, or "".
std::string firstEntry(const std::string &ptx) {
  size_t at = ptx.find(".entry ");
  if (at == std::string::npos)
    return "";
  size_t begin = at + 7, end = ptx.find('(', begin);
  return ptx.substr(begin, end == std::string::npos ? end : end - begin);
}

} // namespace

extern "C" {

CUresult cuInit(unsigned) { return envInt("HATC_FAKE_CUDA_INIT_ERROR", 0); }

CUresult cuGetErrorName(CUresult r, const char **name) {
  switch (r) {
  case kSuccess: *name = "CUDA_SUCCESS"; break;
  case kInvalidValue: *name = "CUDA_ERROR_INVALID_VALUE"; break;
  case kOutOfMemory: *name = "CUDA_ERROR_OUT_OF_MEMORY"; break;
  case kNoDevice: *name = "CUDA_ERROR_NO_DEVICE"; break;
  case kInvalidImage: *name = "CUDA_ERROR_INVALID_IMAGE"; break;
  case kNotFound: *name = "CUDA_ERROR_NOT_FOUND"; break;
  case kIllegalAddress: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; break;
  default: *name = "CUDA_ERROR_UNKNOWN"; break;
  }
  return kSuccess;
}

CUresult cuGetErrorString(CUresult r, const char **text) {
  *text = r == kNoDevice ? "no CUDA-capable device is detected"
                         : "fake driver error";
  return kSuccess;
}

CUresult cuDriverGetVersion(int *version) {
  *version = 12040;
  return kSuccess;
}

CUresult cuDeviceGetCount(int *count) {
  *count = envInt("HATC_FAKE_CUDA_DEVICES", 1);
  return kSuccess;
}

CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return kSuccess;
}

CUresult cuDeviceGetName(char *name, int length, int) {
  std::snprintf(name, size_t(length), "hatc fake GPU");
  return kSuccess;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, int) {
  switch (attribute) {
  case 8: *value = 48 * 1024; break; // shared memory per block
  case 16: *value = 4; break;        // multiprocessors
  case 75: *value = 9; break;        // compute capability major
  case 76: *value = 0; break;        // minor
  default: *value = 0; break;
  }
  return kSuccess;
}

CUresult cuDevicePrimaryCtxRetain(void **context, int) {
  static int token;
  *context = &token;
  return kSuccess;
}

CUresult cuCtxSetCurrent(void *) { return kSuccess; }

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned count,
                            int *options, void **values) {
  std::string ptx(static_cast<const char *>(image));
  std::string entry = firstEntry(ptx);
  if (entry.empty()) {
    for (unsigned i = 0; i < count; ++i)
      if (options[i] == 5) // CU_JIT_ERROR_LOG_BUFFER
        std::snprintf(static_cast<char *>(values[i]), 64,
                      "ptxas fatal: no .entry in the image");
    return kInvalidImage;
  }
  log("load " + entry);
  *module = new Module{std::move(ptx)};
  return kSuccess;
}

CUresult cuModuleUnload(void *module) {
  delete static_cast<Module *>(module);
  return kSuccess;
}

CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  const std::string &ptx = static_cast<Module *>(module)->ptx;
  if (ptx.find(".entry " + std::string(name) + "(") == std::string::npos)
    return kNotFound;
  *function = new Function{name, entryParams(ptx, name)};
  return kSuccess;
}

CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        void *, void **params, void **) {
  if (device.sticky)
    return device.sticky;
  if (!params || gx * gy * gz == 0 || bx * by * bz == 0 ||
      bx * by * bz > 1024)
    return kInvalidValue;
  auto *f = static_cast<Function *>(function);
  // A 64-bit argument too large to be a size or a stride is a pointer: the
  // kernel would dereference it, so it must be device memory.
  for (size_t i = 0; i < f->paramBytes.size(); ++i) {
    if (f->paramBytes[i] != 8)
      continue;
    uint64_t value = 0;
    std::memcpy(&value, params[i], 8);
    if (value >= (uint64_t(1) << 32) && !device.contains(value)) {
      log("fault " + f->name + ": argument " + std::to_string(i) +
          " is not device memory");
      return device.sticky = kIllegalAddress;
    }
  }
  if (const char *once = std::getenv("HATC_FAKE_CUDA_FAULT_ONCE"))
    if (std::remove(once) == 0) {
      log("fault " + f->name + ": injected");
      return device.sticky = kIllegalAddress;
    }
  char line[256];
  std::snprintf(line, sizeof(line), "launch %s grid %u,%u,%u block %u,%u,%u "
                "dynamic-shared %u",
                static_cast<Function *>(function)->name.c_str(), gx, gy, gz,
                bx, by, bz, shared);
  log(line);
  return kSuccess;
}

CUresult cuStreamCreate(void **stream, unsigned) {
  static int token;
  *stream = &token;
  return kSuccess;
}
CUresult cuStreamSynchronize(void *) { return device.sticky; }
CUresult cuStreamWaitEvent(void *, void *, unsigned) { return kSuccess; }

CUresult cuEventCreate(void **event, unsigned) {
  *event = new Event{};
  return kSuccess;
}
CUresult cuEventDestroy_v2(void *event) {
  delete static_cast<Event *>(event);
  return kSuccess;
}
CUresult cuEventRecord(void *event, void *) {
  static_cast<Event *>(event)->at = std::chrono::steady_clock::now();
  return kSuccess;
}
CUresult cuEventSynchronize(void *) { return device.sticky; }
CUresult cuEventElapsedTime(float *ms, void *begin, void *end) {
  *ms = std::chrono::duration<float, std::milli>(
            static_cast<Event *>(end)->at - static_cast<Event *>(begin)->at)
            .count();
  return kSuccess;
}

// Device memory is host memory; device pointers are host addresses.
CUresult cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
  if (device.sticky)
    return device.sticky;
  void *p = std::malloc(bytes);
  if (!p)
    return kOutOfMemory;
  *pointer = reinterpret_cast<unsigned long long>(p);
  std::lock_guard<std::mutex> lock(device.mutex);
  device.allocations[uintptr_t(p)] = bytes;
  return kSuccess;
}
CUresult cuMemAllocManaged(unsigned long long *pointer, size_t bytes,
                           unsigned) {
  return cuMemAlloc_v2(pointer, bytes);
}
CUresult cuMemFree_v2(unsigned long long pointer) {
  {
    std::lock_guard<std::mutex> lock(device.mutex);
    if (!device.allocations.erase(uintptr_t(pointer)))
      return kInvalidValue;
  }
  std::free(reinterpret_cast<void *>(pointer));
  return kSuccess;
}
CUresult cuMemcpyAsync(unsigned long long dst, unsigned long long src,
                       size_t bytes, void *) {
  if (device.sticky)
    return device.sticky;
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
              bytes);
  return kSuccess;
}
CUresult cuMemsetD32Async(unsigned long long dst, unsigned value, size_t n,
                          void *) {
  auto *words = reinterpret_cast<unsigned *>(dst);
  for (size_t i = 0; i < n; ++i)
    words[i] = value;
  return kSuccess;
}
CUresult cuMemsetD16Async(unsigned long long dst, unsigned short value,
                          size_t n, void *) {
  auto *halves = reinterpret_cast<unsigned short *>(dst);
  for (size_t i = 0; i < n; ++i)
    halves[i] = value;
  return kSuccess;
}

} // extern "C"
