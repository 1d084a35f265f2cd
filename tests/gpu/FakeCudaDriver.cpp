//===- FakeCudaDriver.cpp - A stand-in libcuda.so.1 for tests -------------===//
//
// Lets CI, which has no GPU, test everything between hatc and the driver:
// loading it, device discovery and its failures, PTX handed to the JIT once
// per module, kernel lookup by name, launch geometry, device memory copies
// and event timing. It cannot execute PTX: a launch is logged and does
// nothing, so a checked run sees its poisoned outputs (NaN) and fails the
// check, as it must.
//
//   HATC_CUDA_DRIVER=libhatc_fake_cuda.so     use it instead of libcuda.so.1
//   HATC_FAKE_CUDA_INIT_ERROR=N               cuInit returns N
//   HATC_FAKE_CUDA_DEVICES=N                  devices seen (default 1)
//   HATC_FAKE_CUDA_LOG=FILE                   append one line per module load
//                                             and kernel launch
//
//===----------------------------------------------------------------------===//
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2,
                   kNoDevice = 100, kInvalidImage = 200, kNotFound = 500;

struct Module {
  std::string ptx;
};
struct Function {
  std::string name;
};
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
  *function = new Function{name};
  return kSuccess;
}

CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        void *, void **params, void **) {
  if (!params || gx * gy * gz == 0 || bx * by * bz == 0 ||
      bx * by * bz > 1024)
    return kInvalidValue;
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
CUresult cuStreamSynchronize(void *) { return kSuccess; }
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
CUresult cuEventSynchronize(void *) { return kSuccess; }
CUresult cuEventElapsedTime(float *ms, void *begin, void *end) {
  *ms = std::chrono::duration<float, std::milli>(
            static_cast<Event *>(end)->at - static_cast<Event *>(begin)->at)
            .count();
  return kSuccess;
}

// Device memory is host memory; device pointers are host addresses.
CUresult cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
  void *p = std::malloc(bytes);
  if (!p)
    return kOutOfMemory;
  *pointer = reinterpret_cast<unsigned long long>(p);
  return kSuccess;
}
CUresult cuMemAllocManaged(unsigned long long *pointer, size_t bytes,
                           unsigned) {
  return cuMemAlloc_v2(pointer, bytes);
}
CUresult cuMemFree_v2(unsigned long long pointer) {
  std::free(reinterpret_cast<void *>(pointer));
  return kSuccess;
}
CUresult cuMemcpy(unsigned long long dst, unsigned long long src,
                  size_t bytes) {
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
              bytes);
  return kSuccess;
}
CUresult cuMemcpyAsync(unsigned long long dst, unsigned long long src,
                       size_t bytes, void *) {
  return cuMemcpy(dst, src, bytes);
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
