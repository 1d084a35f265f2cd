//===- Execute.cpp - Run a compiled kernel: check, time, model ------------===//
#include "hatc/Measure/Execute.h"
#include "hatc/Measure/Reference.h"
#include "hatc/Runtime/CpuKernel.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Time.h"

#include "llvm/Support/FormatVariadic.h"

#include <chrono>
#include <cstring>
#include <new>

namespace hatc {

namespace {

/// Writes and reads a buffer larger than any last-level cache here.
void flushCaches() {
  static std::vector<char> scratch(64 << 20);
  static volatile char sink;
  std::memset(scratch.data(), int(scratch[0] + 1), scratch.size());
  sink = scratch[scratch.size() / 2];
}

/// Makes `device` the current one for this scope.
struct CurrentDevice {
  explicit CurrentDevice(HwaccDevice *device) { setCurrentHwaccDevice(device); }
  ~CurrentDevice() { setCurrentHwaccDevice(nullptr); }
};

/// GPU kernels: every buffer gets a device copy; the kernel's host side is
/// called with the device pointers and launches on the runtime's stream.
class GpuBuffers {
public:
  llvm::Error init(const std::vector<HostBuffer *> &args, size_t numInputs) {
    if (auto reason = cuda::unavailableReason())
      return makeError("DEVICE_UNAVAILABLE: " + *reason);
    for (auto [i, host] : llvm::enumerate(args)) {
      std::string error;
      device.push_back(cuda::DeviceBuffer::allocate(host->spec().byteSize(),
                                                    error));
      if (!error.empty())
        return makeError(error);
      pointers.push_back(device.back().data());
      if (i < numInputs && !device.back().upload(host->data()))
        return fault();
    }
    return llvm::Error::success();
  }
  /// The driver's first error since the last call, if any.
  llvm::Error fault() {
    std::string error = cuda::takeError();
    if (error.empty())
      return llvm::Error::success();
    return makeError("GPU fault: " + error);
  }
  /// Poisons the device outputs (a copy of the poisoned host buffers).
  llvm::Error poison(const std::vector<HostBuffer *> &args, size_t numInputs) {
    for (size_t o = numInputs; o < args.size(); ++o) {
      args[o]->poison();
      if (!device[o].upload(args[o]->data()))
        return fault();
    }
    return llvm::Error::success();
  }
  llvm::Error download(const std::vector<HostBuffer *> &args,
                       size_t numInputs) {
    for (size_t o = numInputs; o < args.size(); ++o)
      if (!device[o].download(args[o]->data()))
        return fault();
    return fault();
  }
  std::vector<void *> pointers;

private:
  std::vector<cuda::DeviceBuffer> device;
};

/// The workload's buffers, inputs then outputs (the entry's operands in
/// order). A shape too big for this machine (or for the worker's memory
/// limit) is one clear error, not a std::bad_alloc from deep inside.
llvm::Error allocateBuffers(const Workload &workload,
                            std::vector<HostBuffer> &buffers) {
  size_t numInputs = workload.inputs.size();
  buffers.reserve(numInputs + workload.outputs.size());
  for (size_t i = 0; i < numInputs + workload.outputs.size(); ++i) {
    bool isInput = i < numInputs;
    const TensorSpec &spec =
        isInput ? workload.inputs[i] : workload.outputs[i - numInputs];
    try {
      buffers.emplace_back(spec);
    } catch (const std::bad_alloc &) {
      return llvm::make_error<AllocationError>(
          "cannot allocate " + formatBytes(double(spec.byteSize())) +
          " for " +
          (isInput ? "operand " + std::to_string(i)
                   : "result " + std::to_string(i - numInputs)) +
          " (tensor<" + spec.str() + ">) of " + workload.key() + " in " +
          workload.path);
    }
  }
  return llvm::Error::success();
}

llvm::Expected<ExecuteResult>
executeKernelImpl(const std::string &sharedObject, const Workload &workload,
                  mlir::func::FuncOp referenceEntry,
                  const LoweringTarget &target, const ExecuteOptions &options) {
  if (options.check && !workload.uncheckable.empty())
    return makeError(workload.path + ": the reference cannot evaluate " +
                     workload.uncheckable +
                     "; compare with expected outputs instead (hatc run "
                     "--expect DIR)");
  if (options.inputs && options.inputs->size() != workload.inputs.size())
    return makeError(llvm::formatv("{0}: {1} inputs given, the workload "
                                   "takes {2}",
                                   workload.path, options.inputs->size(),
                                   workload.inputs.size())
                         .str());
  auto kernel = CpuKernel::load(sharedObject);
  if (!kernel)
    return kernel.takeError();
  kernel->setNumThreads(options.threads);

  std::vector<HostBuffer> buffers;
  if (llvm::Error err = allocateBuffers(workload, buffers))
    return std::move(err);
  size_t numInputs = workload.inputs.size();
  for (size_t i = 0; i < numInputs; ++i) {
    if (!options.inputs) {
      buffers[i].fillRandom(options.seed * 1000003u + i);
      continue;
    }
    const HostBuffer &given = (*options.inputs)[i];
    if (given.spec().kind != buffers[i].spec().kind ||
        given.spec().shape != buffers[i].spec().shape)
      return makeError(llvm::formatv("{0}: input {1} is tensor<{2}>, the "
                                     "workload takes tensor<{3}>",
                                     workload.path, i, given.spec().str(),
                                     buffers[i].spec().str())
                           .str());
    std::memcpy(buffers[i].data(), given.data(), given.spec().byteSize());
  }
  std::vector<HostBuffer *> args;
  for (HostBuffer &b : buffers)
    args.push_back(&b);

  // hwacc kernels drive a device model: functional for the check, then
  // timing-only for the cycles.
  bool onHwacc = target.kind == TargetKind::Hwacc;
  std::unique_ptr<HwaccDevice> device;
  if (onHwacc)
    device = std::make_unique<HwaccDevice>(target.hwacc.params);
  CurrentDevice current(device.get());
  bool onGpu = target.kind == TargetKind::Gpu;
  GpuBuffers gpu;
  if (onGpu)
    if (llvm::Error err = gpu.init(args, numInputs))
      return std::move(err);
  auto run = [&] { kernel->run(args, gpu.pointers); };
  auto deviceFault = [&]() -> llvm::Error {
    if (onGpu)
      return gpu.fault();
    if (!device)
      return llvm::Error::success();
    device->fence();
    if (device->error().empty())
      return llvm::Error::success();
    return makeError("hwacc device fault: " + device->error());
  };

  ExecuteResult result;
  std::vector<RefTensor> reference;
  if (options.check) {
    std::vector<RefTensor> refInputs;
    for (size_t i = 0; i < numInputs; ++i)
      refInputs.push_back({workload.inputs[i].shape, buffers[i].toDoubles()});
    auto ref = evaluateReference(referenceEntry, refInputs);
    if (!ref)
      return ref.takeError();
    reference = std::move(*ref);
  }
  if (options.onRunStart)
    options.onRunStart();

  if (options.check) {
    for (size_t o = numInputs; o < buffers.size(); ++o)
      buffers[o].poison();
    if (onGpu)
      if (llvm::Error err = gpu.poison(args, numInputs))
        return std::move(err);
    run();
    if (llvm::Error err = deviceFault())
      return std::move(err);
    if (onGpu)
      if (llvm::Error err = gpu.download(args, numInputs))
        return std::move(err);
    if (options.afterCheckedRun) {
      std::vector<HostBuffer> outputs;
      for (size_t o = numInputs; o < buffers.size(); ++o)
        outputs.push_back(std::move(buffers[o]));
      options.afterCheckedRun(outputs);
      for (size_t o = numInputs; o < buffers.size(); ++o)
        buffers[o] = std::move(outputs[o - numInputs]);
    }
    std::vector<CheckResult> perOutput;
    for (size_t o = 0; o < workload.outputs.size(); ++o)
      perOutput.push_back(compareWithReference(
          buffers[numInputs + o].toDoubles(), reference[o].data,
          defaultTolerance(workload.outputs[o].kind)));
    result.check = combine(perOutput);
  }
  if (options.outputs) {
    // One plain run on the given (or seeded) inputs, for the caller.
    if (!options.check) {
      if (onGpu)
        if (llvm::Error err = gpu.poison(args, numInputs))
          return std::move(err);
      for (size_t o = numInputs; o < buffers.size(); ++o)
        buffers[o].poison();
      run();
      if (llvm::Error err = deviceFault())
        return std::move(err);
      if (onGpu)
        if (llvm::Error err = gpu.download(args, numInputs))
          return std::move(err);
    }
    options.outputs->clear();
    for (size_t o = numInputs; o < buffers.size(); ++o) {
      options.outputs->emplace_back(buffers[o].spec());
      std::memcpy(options.outputs->back().data(), buffers[o].data(),
                  buffers[o].spec().byteSize());
    }
  }

  if (onHwacc) {
    // The model is deterministic: one timing-only run gives the cycles.
    device->reset();
    device->setTimingOnly(true);
    auto start = std::chrono::steady_clock::now();
    kernel->run(args);
    if (llvm::Error err = deviceFault())
      return std::move(err);
    result.samples.push_back(secondsSince(start));
    result.timing = summarizeTimings(result.samples);
    result.hwacc = device->stats();
    double clock = target.hwacc.params.clockGHz;
    result.modeledSeconds = result.hwacc->seconds(clock);
    result.workloadSeconds = result.hwacc->totalSeconds(clock);
    // Ranked by the device's time plus the GEMMs the schedule kept on the
    // host: the host work every schedule does alike (a conv's im2col) only
    // adds its wall-clock noise (HwaccStats::scheduleSeconds).
    result.seconds = result.hwacc->scheduleSeconds(clock);
    result.gflops =
        result.seconds > 0 ? workload.flops() / result.seconds / 1e9 : 0;
    return result;
  }

  result.warmupRuns = warmUp(run, options.warmup, options.warmupSeconds);
  if (llvm::Error err = deviceFault())
    return std::move(err);
  std::optional<cuda::EventTimer> events;
  if (onGpu)
    events.emplace();
  result.flushedCaches = options.flushCache && !onGpu;
  double measured = 0;
  bool paced = bool(options.awaitTurn);
  for (int64_t i = 0; paced || i < std::max<int64_t>(1, options.maxRepeat);
       ++i) {
    if (paced) {
      if (!options.awaitTurn())
        break;
      // Its cores idled while the other programs took their turns: warm
      // them up again, as before the first timed run (kWarmupSeconds).
      result.warmupRuns +=
          warmUp(run, options.warmup, options.warmupSeconds);
    } else if (i >= options.minRepeat && measured >= options.minTimeSeconds) {
      break;
    }
    if (result.flushedCaches)
      flushCaches();
    auto start = std::chrono::steady_clock::now();
    if (events)
      events->start();
    run();
    // GPU: the kernel's own time on the stream, from CUDA events.
    double seconds = events ? events->stopMilliseconds() / 1e3
                            : secondsSince(start);
    if (llvm::Error err = deviceFault())
      return std::move(err);
    result.samples.push_back(seconds);
    measured += seconds;
    if (options.afterTimedRun)
      options.afterTimedRun(seconds);
  }
  result.timing = summarizeTimings(result.samples);
  result.seconds =
      options.rankByFastest ? result.timing.min : result.timing.median;
  result.gflops =
      result.seconds > 0 ? workload.flops() / result.seconds / 1e9 : 0;
  return result;
}

} // namespace

char AllocationError::ID = 0;

std::string formatBytes(double bytes) {
  if (bytes >= double(1 << 30))
    return llvm::formatv("{0:f1} GiB", bytes / double(1 << 30)).str();
  if (bytes >= double(1 << 20))
    return llvm::formatv("{0:f1} MiB", bytes / double(1 << 20)).str();
  return llvm::formatv("{0} bytes", int64_t(bytes)).str();
}

llvm::Expected<ExecuteResult> executeKernel(const std::string &sharedObject,
                                            const Workload &workload,
                                            mlir::func::FuncOp referenceEntry,
                                            const LoweringTarget &target,
                                            const ExecuteOptions &options) {
  // The buffers say which operand did not fit; anything else that runs out
  // (the reference's double copies, the comparison) still says what and
  // where instead of ending the process with a bare std::bad_alloc.
  try {
    return executeKernelImpl(sharedObject, workload, referenceEntry, target,
                             options);
  } catch (const std::bad_alloc &) {
    double bytes = 0;
    for (const TensorSpec &spec : workload.inputs)
      bytes += double(spec.byteSize());
    for (const TensorSpec &spec : workload.outputs)
      bytes += double(spec.byteSize());
    return llvm::make_error<AllocationError>(
        "out of memory running " + workload.key() + " in " + workload.path +
        " (its operands alone take " + formatBytes(bytes) + ")");
  }
}

} // namespace hatc
