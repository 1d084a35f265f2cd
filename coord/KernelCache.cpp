//===- KernelCache.cpp - Compiled kernels per (workload, target) ----------===//
#include "hatc/Coord/KernelCache.h"

#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Measure/Harness.h"
#include "hatc/Measure/Reference.h"
#include "hatc/Support/Error.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

namespace hatc::coord {

struct KernelCache::Impl {
  WarnFn warn;
  mlir::MLIRContext context{mlir::MLIRContext::Threading::DISABLED};
  llvm::SmallString<128> dir;
  std::vector<Workload> pristine; // never compiled: the reference reads them
  std::map<std::string, std::shared_ptr<CompiledKernel>> kernels;
  int stems = 0;
};

KernelCache::KernelCache(WarnFn warn) : impl(std::make_unique<Impl>()) {
  impl->warn = std::move(warn);
  initContext(impl->context);
}

KernelCache::~KernelCache() {
  // Kernels are dlclosed by their owners; the files can go now.
  if (!impl->dir.empty())
    llvm::sys::fs::remove_directories(impl->dir);
}

namespace {

/// The coordinator's coarser view of classifyOp: GEMMs and convolutions
/// are what hwacc takes.
OpKind opKindOf(const Task &task) {
  switch (task.opClass) {
  case OpClass::Matmul:
  case OpClass::BatchMatmul:
    return OpKind::Gemm;
  case OpClass::Conv2D:
    return OpKind::Conv;
  case OpClass::Elementwise:
    return OpKind::Elementwise;
  case OpClass::Other:
    break;
  }
  return OpKind::Other;
}

} // namespace

llvm::Expected<WorkloadInfo>
KernelCache::addWorkload(const std::string &path,
                         std::vector<TensorSpec> &inputs,
                         std::vector<TensorSpec> &outputs) {
  auto workload = loadWorkload(impl->context, path);
  if (!workload)
    return workload.takeError();
  WorkloadInfo info;
  info.key = workload->key();
  info.hash = workload->hash();
  info.path = path;
  info.flops = workload->flops();
  for (const TensorSpec &spec : workload->inputs)
    info.bytesIn += double(spec.byteSize());
  for (const TensorSpec &spec : workload->outputs)
    info.bytesOut += double(spec.byteSize());
  info.accelerable = !workload->tasks.empty();
  double heaviest = -1;
  for (const Task &task : workload->tasks) {
    OpKind kind = opKindOf(task);
    if (kind != OpKind::Gemm && kind != OpKind::Conv)
      info.accelerable = false;
    if (task.flops > heaviest) {
      heaviest = task.flops;
      info.op = kind;
    }
  }
  inputs = workload->inputs;
  outputs = workload->outputs;
  impl->pristine.push_back(std::move(*workload));
  return info;
}

llvm::Expected<std::vector<WorkloadInfo>>
describeWorkloads(const std::vector<std::string> &paths) {
  KernelCache cache(nullptr);
  std::vector<WorkloadInfo> out;
  for (const std::string &path : paths) {
    std::vector<TensorSpec> inputs, outputs;
    auto info = cache.addWorkload(path, inputs, outputs);
    if (!info)
      return info.takeError();
    out.push_back(std::move(*info));
  }
  return out;
}

llvm::Expected<std::shared_ptr<CompiledKernel>>
KernelCache::compile(size_t index, const BackendSpec &backend,
                     const std::string &script, const std::string &stem) {
  if (impl->dir.empty()) {
    // Named with the pid: one a signal left is removed by the next bench.
    auto folder = createScratchFolder("hatc-coord");
    if (!folder)
      return makeError("the kernel cache: " +
                       llvm::toString(folder.takeError()));
    impl->dir = *folder;
  }
  const Workload &source = impl->pristine[index];
  // Compiling mutates the module: every compile starts from a fresh load.
  auto workload = loadWorkload(impl->context, source.path, source.entryName);
  if (!workload)
    return workload.takeError();
  bool onHwacc = backend.kind == BackendKind::Hwacc;
  std::string text = script;
  if (text.empty()) {
    auto fallback = defaultScheduleFor(
        *workload, onHwacc ? TargetKind::Hwacc : TargetKind::Cpu);
    if (!fallback)
      return fallback.takeError();
    text = std::move(*fallback);
  }
  auto schedule = parseSchedule(impl->context, text,
                                script.empty() ? "<default schedule>"
                                               : "<tuned schedule>");
  if (!schedule)
    return schedule.takeError();
  LoweringTarget lowering;
  lowering.kind = onHwacc ? TargetKind::Hwacc : TargetKind::Cpu;
  lowering.hwacc.params = backend.hwacc;
  auto so = compileToSharedObject(*workload, schedule->get(), impl->dir, stem,
                                  lowering);
  if (!so)
    return so.takeError();
  auto kernel = CpuKernel::load(*so);
  if (!kernel)
    return kernel.takeError();
  auto compiled = std::make_shared<CompiledKernel>();
  compiled->kernel = std::make_unique<CpuKernel>(std::move(*kernel));
  if (!onHwacc)
    return compiled;

  // Calibration: the model's time depends on the kernel, not on the data,
  // so one timing-only run prices every later task of this kernel.
  std::vector<HostBuffer> buffers;
  for (const TensorSpec &spec : source.inputs) {
    buffers.emplace_back(spec);
    buffers.back().fillRandom(1);
  }
  for (const TensorSpec &spec : source.outputs)
    buffers.emplace_back(spec);
  std::vector<HostBuffer *> args;
  for (HostBuffer &buffer : buffers)
    args.push_back(&buffer);
  HwaccDevice device(backend.hwacc, /*timingOnly=*/true);
  HwaccDevice *previous = currentHwaccDevice();
  setCurrentHwaccDevice(&device);
  compiled->kernel->run(args);
  device.fence();
  setCurrentHwaccDevice(previous);
  if (!device.error().empty())
    return makeError("hwacc device fault while calibrating " + source.path +
                     ": " + device.error());
  compiled->modeledS = device.stats().seconds(backend.hwacc.clockGHz);
  return compiled;
}

llvm::Expected<std::shared_ptr<CompiledKernel>>
KernelCache::get(size_t index, const BackendSpec &backend,
                 const IndexEntry *entry) {
  std::string cacheKey = std::to_string(index) + "|" + backend.targetKind +
                         "|" + backend.fingerprint + "|" +
                         (entry ? entry->configHash : std::string("default"));
  auto found = impl->kernels.find(cacheKey);
  if (found != impl->kernels.end())
    return found->second;
  std::string stem = "k" + std::to_string(impl->stems++);
  if (entry) {
    auto compiled = compile(index, backend, entry->script, stem);
    if (compiled) {
      (*compiled)->schedule = std::string(entry->stale ? "db-stale#" : "db#") +
                              std::to_string(entry->recordId);
      (*compiled)->configHash = entry->configHash;
      impl->kernels.emplace(cacheKey, *compiled);
      return *compiled;
    }
    if (impl->warn)
      impl->warn("coord: tuned schedule #" + std::to_string(entry->recordId) +
                 " of " + impl->pristine[index].key() + " on " + backend.name +
                 " does not build (" + errorMessage(compiled.takeError()) +
                 "); using the default schedule");
  }
  auto compiled = compile(index, backend, "", stem);
  if (!compiled)
    return compiled.takeError();
  (*compiled)->schedule = "default";
  impl->kernels.emplace(cacheKey, *compiled);
  return *compiled;
}

llvm::Expected<std::vector<std::vector<double>>>
KernelCache::reference(size_t index, const std::vector<HostBuffer> &inputs) {
  Workload &workload = impl->pristine[index];
  std::vector<RefTensor> refInputs;
  for (size_t i = 0; i < inputs.size(); ++i)
    refInputs.push_back({workload.inputs[i].shape, inputs[i].toDoubles()});
  auto ref = evaluateReference(workload.entry(), refInputs);
  if (!ref)
    return ref.takeError();
  std::vector<std::vector<double>> out;
  for (RefTensor &tensor : *ref)
    out.push_back(std::move(tensor.data));
  return out;
}

} // namespace hatc::coord
