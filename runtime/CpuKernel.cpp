//===- CpuKernel.cpp - Load and call a compiled CPU kernel ----------------===//
#include "hatc/Runtime/CpuKernel.h"
#include "hatc/Support/Error.h"

#include "llvm/ADT/STLExtras.h"

#include <dlfcn.h>
#include <malloc.h>

namespace hatc {

void keepTemporariesInTheHeap() {
  // Compiled code mallocs its temporaries (activations of a few MB) on every
  // run and frees them at its end. Above glibc's mmap threshold each one is
  // a fresh mapping whose pages fault in again on every run: a ResNet-50
  // stage spent a third of its time there (21.5 -> 14.8 ms at 2 threads).
  // Served from the heap they are reused, as an inference runtime's arena
  // would (32 MiB is the largest threshold glibc takes).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20); // and not handed back on free
}

llvm::Expected<CpuKernel> CpuKernel::load(const std::string &path) {
  static const bool heapTuned = (keepTemporariesInTheHeap(), true);
  (void)heapTuned;
  // RTLD_LOCAL: several kernels with the same internal names coexist.
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError(path + ": cannot load kernel: " + dlerror());
  CpuKernel kernel;
  kernel.handle = handle;
  kernel.entry = reinterpret_cast<EntryFn>(dlsym(handle, "hatc_entry"));
  if (!kernel.entry)
    return makeError(path + ": no symbol hatc_entry");
  kernel.setThreads =
      reinterpret_cast<SetThreadsFn>(dlsym(handle, "omp_set_num_threads"));
  return std::move(kernel);
}

CpuKernel::CpuKernel(CpuKernel &&other) noexcept
    : handle(other.handle), entry(other.entry), setThreads(other.setThreads) {
  other.handle = nullptr;
}

CpuKernel &CpuKernel::operator=(CpuKernel &&other) noexcept {
  if (this != &other) {
    if (handle)
      dlclose(handle);
    handle = other.handle;
    entry = other.entry;
    setThreads = other.setThreads;
    other.handle = nullptr;
  }
  return *this;
}

CpuKernel::~CpuKernel() {
  if (handle)
    dlclose(handle);
}

void CpuKernel::setNumThreads(int threads) {
  if (setThreads && threads > 0)
    setThreads(threads);
}

void CpuKernel::run(const std::vector<HostBuffer *> &args,
                    const std::vector<void *> &data) {
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(args.size());
  std::vector<void *> pointers;
  for (auto [i, buffer] : llvm::enumerate(args)) {
    descriptors.push_back(buffer->memrefDescriptor());
    if (i < data.size()) // allocated and aligned pointers
      descriptors.back()[0] = descriptors.back()[1] =
          reinterpret_cast<int64_t>(data[i]);
    pointers.push_back(descriptors.back().data());
  }
  entry(pointers.data());
}

} // namespace hatc
