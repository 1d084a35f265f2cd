//===- Coordinator.cpp - Kernels, executors, dispatch and retries ---------===//
//
// Threads: the caller (submit, addWorkload, refresh), one dispatcher, and one
// executor per backend slot (the CPU's cores / threadsPerTask; one per hwacc
// device). One mutex guards the queues, the latency model and the policy;
// kernels run outside it.
//
// Dispatch rule (shared with simulate()): the head of the pending queue is
// handed to the backend the policy picks as soon as some backend has an idle
// slot and nothing queued. Deciding late, instead of at submit, lets the
// dynamic policy use what the tasks before it taught the latency model.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Coordinator.h"
#include "hatc/Coord/KernelCache.h"
#include "hatc/Support/Error.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace hatc::coord {

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  int workload = 0;
  std::vector<HostBuffer *> args;
  SubmitOptions options;
  std::promise<TaskResult> promise;
  TaskResult result;
  std::vector<bool> allowed; // empty until the first failure
};

struct Slot {
  Job *job = nullptr;
  double expectedEnd = 0;
};

struct BackendRuntime {
  std::deque<Job *> queue;
  std::vector<Slot> slots;
  std::condition_variable wake;
  std::vector<std::thread> executors;
  std::unique_ptr<HwaccDevice> device; // hwacc
};

struct WorkloadData {
  std::string path;
  std::vector<TensorSpec> inputSpecs, outputSpecs;
  std::vector<HostBuffer> inputs; // seeded, for tasks without args
  std::vector<std::shared_ptr<CompiledKernel>> kernels; // per backend
};

} // namespace

struct Coordinator::Impl {
  CoordinatorOptions options;
  std::vector<BackendSpec> specs;
  std::unique_ptr<ScheduleIndex> index;
  std::unique_ptr<LatencyModel> model;
  std::unique_ptr<QueueModel> queues;
  std::unique_ptr<KernelCache> cache;
  std::unique_ptr<Policy> policy;
  std::vector<WorkloadData> workloads;
  Clock::time_point start = Clock::now();

  std::mutex mu;
  std::condition_variable dispatchWake, idle;
  std::deque<Job *> pending;
  std::vector<std::unique_ptr<BackendRuntime>> runtimes;
  size_t inFlight = 0;
  bool stopping = false;
  std::thread dispatcher;

  double now() const {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }
  void startThreads();
  void stopThreads();
  void dispatchLoop();
  void executorLoop(size_t backend, size_t slot);
  bool hungry() const;
  void rebuildQueue(size_t backend, double at);
  /// Runs `job` on `backend`; returns an error message, empty on success.
  std::string execute(Job &job, size_t backend, double &observed);
  void finish(Job *job);
};

bool Coordinator::Impl::hungry() const {
  for (const auto &rt : runtimes) {
    if (!rt->queue.empty())
      continue;
    for (const Slot &slot : rt->slots)
      if (!slot.job)
        return true;
  }
  return false;
}

void Coordinator::Impl::rebuildQueue(size_t backend, double at) {
  BackendRuntime &rt = *runtimes[backend];
  std::vector<double> ends, preds;
  for (const Slot &slot : rt.slots)
    if (slot.job)
      ends.push_back(slot.expectedEnd);
  for (const Job *job : rt.queue)
    preds.push_back(job->result.predictedS);
  queues->rebuild(int(backend), at, ends, preds);
}

void Coordinator::Impl::finish(Job *job) {
  job->promise.set_value(job->result);
  delete job;
  if (--inFlight == 0)
    idle.notify_all();
}

void Coordinator::Impl::dispatchLoop() {
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    dispatchWake.wait(lock, [&] {
      return stopping || (!pending.empty() && hungry());
    });
    if (stopping)
      return;
    Job *job = pending.front();
    pending.pop_front();
    double at = now();
    int backend;
    if (job->options.forceBackend >= 0) {
      int forced = job->options.forceBackend;
      bool allowed = job->allowed.empty() || job->allowed[forced];
      backend = forced < int(specs.size()) && allowed &&
                        model->canRun(job->workload, forced)
                    ? forced
                    : -1;
    } else {
      backend = policy->choose(job->workload, at, *model, *queues,
                               job->allowed);
    }
    if (backend < 0) {
      job->result.ok = false;
      if (job->result.error.empty())
        job->result.error = "no backend left that can run " +
                            model->workload(job->workload).key;
      job->result.endS = at;
      finish(job);
      continue;
    }
    job->result.predictedS = model->predict(job->workload, backend);
    queues->assign(backend, at, job->result.predictedS);
    runtimes[backend]->queue.push_back(job);
    runtimes[backend]->wake.notify_one();
  }
}

std::string Coordinator::Impl::execute(Job &job, size_t backend,
                                       double &observed) {
  const BackendSpec &spec = specs[backend];
  WorkloadData &data = workloads[job.workload];
  std::shared_ptr<CompiledKernel> kernel;
  {
    std::lock_guard<std::mutex> lock(mu);
    kernel = data.kernels[backend];
  }
  if (!kernel)
    return "no kernel compiled for " + spec.name;
  if (options.injectFault &&
      options.injectFault(spec.name, model->workload(job.workload).key,
                          job.result.attempts))
    return "injected fault";

  // Executor-local scratch outputs for tasks that brought no buffers.
  thread_local std::map<std::pair<const void *, int>, std::vector<HostBuffer>>
      scratch;
  std::vector<HostBuffer *> args = job.args;
  if (args.empty()) {
    for (HostBuffer &input : data.inputs)
      args.push_back(&input);
    std::vector<HostBuffer> &outputs = scratch[{this, job.workload}];
    if (outputs.empty())
      for (const TensorSpec &outSpec : data.outputSpecs)
        outputs.emplace_back(outSpec);
    for (HostBuffer &output : outputs)
      args.push_back(&output);
  }

  auto begin = Clock::now();
  if (spec.kind == BackendKind::Cpu) {
    kernel->kernel->setNumThreads(spec.threadsPerTask);
    kernel->kernel->run(args);
    observed = std::chrono::duration<double>(Clock::now() - begin).count();
    return "";
  }

  // hwacc: see "Pacing" in Coordinator.h.
  HwaccDevice &device = *runtimes[backend]->device;
  double modeled = kernel->modeledS;
  bool simulate = job.options.functional ||
                  options.hwaccExec == HwaccExec::TimingOnly;
  if (simulate) {
    device.reset();
    device.setTimingOnly(!job.options.functional);
    kernel->kernel->run(args);
    device.fence();
    if (!device.error().empty())
      return "hwacc device fault: " + device.error();
    modeled = device.stats().seconds(spec.hwacc.clockGHz);
  }
  double window = (modeled + model->transfer(job.workload, int(backend))) *
                  options.timeScale;
  std::this_thread::sleep_until(
      begin + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(window)));
  observed = std::chrono::duration<double>(Clock::now() - begin).count();
  return "";
}

void Coordinator::Impl::executorLoop(size_t backend, size_t slotIndex) {
  BackendRuntime &rt = *runtimes[backend];
  if (rt.device)
    setCurrentHwaccDevice(rt.device.get());
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    rt.wake.wait(lock, [&] { return stopping || !rt.queue.empty(); });
    if (stopping)
      return;
    Job *job = rt.queue.front();
    rt.queue.pop_front();
    double startS = now();
    rt.slots[slotIndex] = {job, startS + job->result.predictedS};
    job->result.startS = startS;
    lock.unlock();
    double observed = 0;
    std::string error = execute(*job, backend, observed);
    lock.lock();
    double endS = now();
    rt.slots[slotIndex] = {};
    ++job->result.attempts;
    if (!error.empty()) {
      std::string line = specs[backend].name + ": " + error;
      job->result.failures.push_back(line);
      job->result.error = line;
      if (job->allowed.empty())
        job->allowed.assign(specs.size(), true);
      job->allowed[backend] = false;
      if (options.warn)
        options.warn("coord: a task of " + model->workload(job->workload).key +
                     " failed on " + line + "; retrying on another backend");
      pending.push_front(job);
    } else {
      job->result.ok = true;
      job->result.error.clear();
      job->result.backend = int(backend);
      job->result.endS = endS;
      job->result.observedS = observed;
      // Functional device runs and forced placements (verification) are not
      // what the policy will see later: they do not teach the model.
      bool representative =
          !job->options.functional && job->options.forceBackend < 0;
      if (policy && policy->learns() && representative)
        model->observe(job->workload, int(backend), observed);
      finish(job);
    }
    rebuildQueue(backend, endS);
    dispatchWake.notify_one();
  }
}

void Coordinator::Impl::startThreads() {
  for (size_t b = 0; b < runtimes.size(); ++b)
    for (size_t s = 0; s < runtimes[b]->slots.size(); ++s)
      runtimes[b]->executors.emplace_back([this, b, s] { executorLoop(b, s); });
  dispatcher = std::thread([this] { dispatchLoop(); });
}

void Coordinator::Impl::stopThreads() {
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  dispatchWake.notify_all();
  for (auto &rt : runtimes)
    rt->wake.notify_all();
  if (dispatcher.joinable())
    dispatcher.join();
  for (auto &rt : runtimes)
    for (std::thread &t : rt->executors)
      t.join();
}

//===----------------------------------------------------------------------===//
// Coordinator
//===----------------------------------------------------------------------===//

Coordinator::Coordinator(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}

Coordinator::~Coordinator() {
  drain();
  impl->stopThreads();
}

llvm::Expected<std::unique_ptr<Coordinator>>
Coordinator::create(CoordinatorOptions options) {
  auto impl = std::make_unique<Impl>();
  if (options.timeScale <= 0)
    return makeError("coord: the time scale must be positive");
  if (options.useCpu)
    impl->specs.push_back(
        cpuBackend(options.cpuCores, options.cpuThreadsPerTask));
  for (size_t i = 0; i < options.hwaccTargets.size(); ++i) {
    auto spec = hwaccBackend(options.hwaccTargets[i],
                             "hwacc" + std::to_string(i),
                             options.transferBytesPerS);
    if (!spec)
      return spec.takeError();
    impl->specs.push_back(std::move(*spec));
  }
  if (impl->specs.empty())
    return makeError("coord: no backend (the cpu is off and no hwacc device "
                     "was given)");
  impl->index = std::make_unique<ScheduleIndex>(impl->specs, options.index,
                                                options.warn);
  impl->index->load(options.dbPath);
  impl->model = std::make_unique<LatencyModel>(impl->specs, options.predictor);
  impl->queues = std::make_unique<QueueModel>(impl->specs);
  impl->cache = std::make_unique<KernelCache>(options.warn);
  for (const BackendSpec &spec : impl->specs) {
    auto rt = std::make_unique<BackendRuntime>();
    rt->slots.resize(size_t(std::max(1, spec.slots)));
    if (spec.kind == BackendKind::Hwacc)
      rt->device = std::make_unique<HwaccDevice>(spec.hwacc,
                                                 /*timingOnly=*/true);
    impl->runtimes.push_back(std::move(rt));
  }
  impl->options = std::move(options);
  impl->policy = makePolicy(PolicyKind::Dynamic, *impl->model);
  impl->startThreads();
  return std::unique_ptr<Coordinator>(new Coordinator(std::move(impl)));
}

namespace {

double timeCpuKernel(CompiledKernel &kernel, WorkloadData &data,
                     const BackendSpec &spec) {
  std::vector<HostBuffer> outputs;
  for (const TensorSpec &outSpec : data.outputSpecs)
    outputs.emplace_back(outSpec);
  std::vector<HostBuffer *> args;
  for (HostBuffer &input : data.inputs)
    args.push_back(&input);
  for (HostBuffer &output : outputs)
    args.push_back(&output);
  kernel.kernel->setNumThreads(spec.threadsPerTask);
  kernel.kernel->run(args);
  double best = 0;
  for (int i = 0; i < 2; ++i) {
    auto begin = Clock::now();
    kernel.kernel->run(args);
    double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    best = i == 0 ? seconds : std::min(best, seconds);
  }
  return best;
}

} // namespace

llvm::Expected<int> Coordinator::addWorkload(const std::string &path) {
  for (size_t w = 0; w < impl->workloads.size(); ++w)
    if (impl->workloads[w].path == path)
      return int(w);
  WorkloadData data;
  data.path = path;
  auto info = impl->cache->addWorkload(path, data.inputSpecs, data.outputSpecs);
  if (!info)
    return info.takeError();
  size_t index = impl->workloads.size();
  for (size_t i = 0; i < data.inputSpecs.size(); ++i) {
    data.inputs.emplace_back(data.inputSpecs[i]);
    data.inputs.back().fillRandom(1000003u * (index + 1) + i);
  }
  // Kernels ahead of time, for every backend that can run the workload.
  std::vector<std::string> misses;
  bool staleHint = false;
  data.kernels.resize(impl->specs.size());
  std::vector<std::pair<size_t, double>> calibrated;
  for (size_t b = 0; b < impl->specs.size(); ++b) {
    const BackendSpec &spec = impl->specs[b];
    if (spec.kind == BackendKind::Hwacc && !info->accelerable)
      continue;
    const IndexEntry *entry = impl->index->lookup(info->key, info->hash, b);
    if (!entry)
      misses.push_back(spec.name);
    if (!entry && impl->index->hasStale(info->key, info->hash, b))
      staleHint = true;
    auto kernel = impl->cache->get(index, spec, entry);
    if (!kernel)
      return makeError(path + ": cannot build the kernel for " + spec.name +
                       ": " + errorMessage(kernel.takeError()));
    data.kernels[b] = *kernel;
    if (spec.kind == BackendKind::Hwacc) {
      calibrated.push_back(
          {b, (*kernel)->modeledS * impl->options.timeScale});
      continue;
    }
    // A CPU kernel without a record is timed once here (after a warm-up
    // run): a measurement on this machine beats the roofline guess, and the
    // first tasks then start from it instead of paying to learn it.
    if (!entry)
      calibrated.push_back({b, timeCpuKernel(**kernel, data, spec)});
  }
  // A miss is said once per workload, naming every backend it concerns.
  if (!misses.empty() && !impl->index->usingFallback() && impl->options.warn) {
    std::string names;
    for (const std::string &name : misses)
      names += (names.empty() ? "" : ", ") + name;
    impl->options.warn("coord: no tuned schedule for " + info->key + " on " +
                       names + " in " + impl->options.dbPath +
                       (staleHint ? " (only stale records of another compiler "
                                    "version or machine; allowStale / "
                                    "--allow-stale takes them)"
                                  : "") +
                       "; using the default schedule");
  }
  std::lock_guard<std::mutex> lock(impl->mu);
  int id = impl->model->addWorkload(*info, impl->index.get());
  for (auto [b, seconds] : calibrated)
    impl->model->setBase(id, int(b), seconds, PredictionSource::Measured);
  impl->workloads.push_back(std::move(data));
  impl->policy = makePolicy(impl->policy->kind(), *impl->model);
  return id;
}

void Coordinator::setPolicy(PolicyKind kind) {
  drain();
  std::lock_guard<std::mutex> lock(impl->mu);
  impl->policy = makePolicy(kind, *impl->model);
  impl->model->resetCorrections();
  impl->queues->reset();
  for (size_t b = 0; b < impl->specs.size(); ++b)
    impl->rebuildQueue(b, impl->now());
}

std::future<TaskResult> Coordinator::submit(int workload,
                                            std::vector<HostBuffer *> args,
                                            SubmitOptions options) {
  Job *job = new Job;
  job->workload = workload;
  job->args = std::move(args);
  job->options = options;
  job->result.workload = workload;
  std::future<TaskResult> future = job->promise.get_future();
  std::lock_guard<std::mutex> lock(impl->mu);
  job->result.submitS = impl->now();
  if (workload < 0 || size_t(workload) >= impl->workloads.size()) {
    job->result.error = "unknown workload id " + std::to_string(workload);
    job->promise.set_value(job->result);
    delete job;
    return future;
  }
  ++impl->inFlight;
  impl->pending.push_back(job);
  impl->dispatchWake.notify_one();
  return future;
}

void Coordinator::drain() {
  std::unique_lock<std::mutex> lock(impl->mu);
  impl->idle.wait(lock, [&] { return impl->inFlight == 0; });
}

llvm::Error Coordinator::refresh() {
  drain();
  impl->index->refresh();
  std::lock_guard<std::mutex> lock(impl->mu);
  for (size_t w = 0; w < impl->workloads.size(); ++w) {
    WorkloadData &data = impl->workloads[w];
    const WorkloadInfo &info = impl->model->workload(int(w));
    for (size_t b = 0; b < impl->specs.size(); ++b) {
      if (!data.kernels[b])
        continue;
      const IndexEntry *entry = impl->index->lookup(info.key, info.hash, b);
      std::string wanted = entry ? entry->configHash : "";
      if (wanted == data.kernels[b]->configHash)
        continue;
      auto kernel = impl->cache->get(w, impl->specs[b], entry);
      if (!kernel)
        return kernel.takeError();
      data.kernels[b] = *kernel;
      if (impl->specs[b].kind == BackendKind::Hwacc)
        impl->model->setBase(int(w), int(b),
                             (*kernel)->modeledS * impl->options.timeScale,
                             PredictionSource::Measured);
    }
  }
  impl->model->rebase(impl->index.get());
  impl->policy = makePolicy(impl->policy->kind(), *impl->model);
  return llvm::Error::success();
}

double Coordinator::now() const { return impl->now(); }
const std::vector<BackendSpec> &Coordinator::backends() const {
  return impl->specs;
}
LatencyModel &Coordinator::model() { return *impl->model; }
const ScheduleIndex &Coordinator::index() const { return *impl->index; }
const std::vector<HostBuffer> &Coordinator::defaultInputs(int workload) const {
  return impl->workloads[workload].inputs;
}

std::vector<HostBuffer> Coordinator::outputBuffers(int workload) const {
  std::vector<HostBuffer> outputs;
  for (const TensorSpec &spec : impl->workloads[workload].outputSpecs)
    outputs.emplace_back(spec);
  return outputs;
}

llvm::Expected<std::vector<std::vector<double>>>
Coordinator::referenceOutputs(int workload,
                              const std::vector<HostBuffer> &inputs) {
  return impl->cache->reference(size_t(workload), inputs);
}

std::string Coordinator::scheduleOf(int workload, int backend) const {
  const auto &kernel = impl->workloads[workload].kernels[backend];
  return kernel ? kernel->schedule : "-";
}

} // namespace hatc::coord
