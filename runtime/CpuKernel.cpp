//===- CpuKernel.cpp - Load and call a compiled CPU kernel ----------------===//
#include "hatc/Runtime/CpuKernel.h"
#include "hatc/Support/Error.h"

#include "llvm/ADT/STLExtras.h"

#include <dlfcn.h>

namespace hatc {

llvm::Expected<CpuKernel> CpuKernel::load(const std::string &path) {
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
