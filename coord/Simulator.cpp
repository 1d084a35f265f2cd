//===- Simulator.cpp - Policies on a virtual clock, at scale --------------===//
//
// A discrete-event simulation of the coordinator's dispatch loop: the same
// LatencyModel (predictions, online correction), QueueModel and Policy
// objects, the same rule for when a task is handed to a backend, but no
// kernels: a task's "true" run time is the model's uncorrected prediction
// times a fixed per (workload, backend) bias and a per-run jitter, both
// lognormal from the seed. The bias is what the online correction has to
// learn; a policy that trusts predictions blindly pays for it.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Simulator.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <queue>
#include <random>

namespace hatc::coord {

namespace {

struct SimTaskState {
  int workload = 0;
  int attempts = 0;
  std::vector<bool> allowed; // empty until the first failure
  TaskResult result;
};

struct Running {
  int task = -1;
  double start = 0, expectedEnd = 0, end = 0;
};

struct Event {
  double time;
  int backend, slot;
  bool operator>(const Event &other) const {
    if (time != other.time)
      return time > other.time;
    if (backend != other.backend)
      return backend > other.backend;
    return slot > other.slot;
  }
};

} // namespace

RunSummary simulate(LatencyModel &model, Policy &policy,
                    const std::vector<StreamTask> &stream,
                    const SimOptions &options,
                    std::vector<TaskResult> *results) {
  const std::vector<BackendSpec> &backends = model.backends();
  size_t numBackends = backends.size();
  size_t numWorkloads = model.workloadCount();
  model.resetCorrections();
  QueueModel queues(backends);

  // The hidden truth: fixed bias per (workload, backend), then jitter.
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 17);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> bias(numWorkloads * numBackends, 1.0);
  for (double &b : bias)
    b = std::exp(options.biasSigma * normal(rng));

  std::vector<SimTaskState> tasks(stream.size());
  std::vector<size_t> order(stream.size());
  for (size_t i = 0; i < stream.size(); ++i) {
    tasks[i].workload = stream[i].workload;
    tasks[i].result.workload = stream[i].workload;
    tasks[i].result.submitS = stream[i].arrivalS;
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return stream[a].arrivalS < stream[b].arrivalS;
  });

  std::vector<std::deque<int>> queued(numBackends);
  std::vector<std::vector<Running>> running(numBackends);
  for (size_t b = 0; b < numBackends; ++b)
    running[b].resize(size_t(std::max(1, backends[b].slots)));
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
  std::deque<int> pending;
  size_t nextArrival = 0, finished = 0;
  double now = 0;

  auto idleSlot = [&](size_t b) -> int {
    for (size_t s = 0; s < running[b].size(); ++s)
      if (running[b][s].task < 0)
        return int(s);
    return -1;
  };
  auto startQueued = [&](size_t b) {
    int slot;
    while (!queued[b].empty() && (slot = idleSlot(b)) >= 0) {
      int t = queued[b].front();
      queued[b].pop_front();
      SimTaskState &task = tasks[t];
      double truth = model.uncorrected(task.workload, int(b)) *
                     bias[task.workload * numBackends + b] *
                     std::exp(options.jitterSigma * normal(rng));
      Running &r = running[b][slot];
      r.task = t;
      r.start = now;
      r.expectedEnd = now + task.result.predictedS;
      r.end = now + truth;
      task.result.startS = now;
      events.push({r.end, int(b), slot});
    }
  };
  auto rebuild = [&](size_t b) {
    std::vector<double> ends, preds;
    for (const Running &r : running[b])
      if (r.task >= 0)
        ends.push_back(r.expectedEnd);
    for (int t : queued[b])
      preds.push_back(tasks[t].result.predictedS);
    queues.rebuild(int(b), now, ends, preds);
  };
  auto anyBackendHungry = [&]() {
    for (size_t b = 0; b < numBackends; ++b)
      if (queued[b].empty() && idleSlot(b) >= 0)
        return true;
    return false;
  };
  auto dispatch = [&]() {
    while (!pending.empty() && anyBackendHungry()) {
      int t = pending.front();
      pending.pop_front();
      SimTaskState &task = tasks[t];
      int b = policy.choose(task.workload, now, model, queues, task.allowed);
      if (b < 0) {
        task.result.ok = false;
        task.result.error = "no backend left to run it";
        task.result.endS = now;
        ++finished;
        continue;
      }
      task.result.predictedS = model.predict(task.workload, b);
      queues.assign(b, now, task.result.predictedS);
      queued[b].push_back(t);
      startQueued(size_t(b));
    }
  };

  while (finished < tasks.size()) {
    while (nextArrival < order.size() &&
           stream[order[nextArrival]].arrivalS <= now)
      pending.push_back(int(order[nextArrival++]));
    dispatch();
    double nextEvent = events.empty() ? std::numeric_limits<double>::infinity()
                                      : events.top().time;
    double arrival = nextArrival < order.size()
                         ? stream[order[nextArrival]].arrivalS
                         : std::numeric_limits<double>::infinity();
    if (nextEvent == std::numeric_limits<double>::infinity() &&
        arrival == std::numeric_limits<double>::infinity())
      break; // nothing left that can happen
    if (arrival < nextEvent) {
      now = arrival;
      continue;
    }
    Event event = events.top();
    events.pop();
    now = event.time;
    Running &r = running[event.backend][event.slot];
    SimTaskState &task = tasks[r.task];
    int t = r.task;
    r.task = -1;
    ++task.attempts;
    task.result.attempts = task.attempts;
    if (options.fails && options.fails(event.backend, task.workload,
                                       task.attempts)) {
      task.result.failures.push_back(backends[event.backend].name +
                                     ": injected failure");
      if (task.allowed.empty())
        task.allowed.assign(numBackends, true);
      task.allowed[event.backend] = false;
      pending.push_front(t); // retried next, elsewhere
    } else {
      task.result.ok = true;
      task.result.backend = event.backend;
      task.result.endS = now;
      task.result.observedS = now - task.result.startS;
      if (policy.learns())
        model.observe(task.workload, event.backend, task.result.observedS);
      ++finished;
    }
    rebuild(size_t(event.backend));
    startQueued(size_t(event.backend));
  }

  std::vector<TaskResult> out;
  out.reserve(tasks.size());
  for (SimTaskState &task : tasks)
    out.push_back(task.result);
  RunSummary summary =
      summarize(policyKindName(policy.kind()), "simulated", backends, out);
  if (results)
    *results = std::move(out);
  return summary;
}

std::vector<StreamTask> makeStream(size_t workloads,
                                   const std::vector<double> &weights,
                                   size_t count, uint64_t seed) {
  std::vector<double> w = weights;
  if (w.size() != workloads)
    w.assign(workloads, 1.0);
  std::mt19937_64 rng(seed);
  std::discrete_distribution<int> pick(w.begin(), w.end());
  std::vector<StreamTask> stream(count);
  for (StreamTask &task : stream)
    task.workload = pick(rng);
  return stream;
}

} // namespace hatc::coord
