//===- Coord.cpp - hatc coord: the runtime coordinator's benchmark --------===//
//
// `hatc coord bench` runs one seeded mixed stream of tasks under every
// policy, on the real backends (kernels run; hwacc devices are paced, see
// hatc/Coord/Coordinator.h) or, with --simulate, on a virtual clock at
// any scale. Results of the real run are checked two ways:
//   - before the timed runs, every workload on every backend that can run
//     it goes through the coordinator (forced placement, hwacc functional)
//     and its outputs are compared with the independent reference;
//   - in each timed run, the first task of each workload keeps its outputs
//     and those that ran with real results (the CPU; hwacc with --check-all)
//     are compared too. --check-all checks every task (hwacc tasks then run
//     the device model functionally, which costs host time).
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Flags.h"
#include "hatc/Coord/Coordinator.h"
#include "hatc/Coord/KernelCache.h"
#include "hatc/Coord/Simulator.h"
#include "hatc/Measure/Check.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <limits>

namespace hatc {

using namespace coord;

namespace {

/// The default mix: GEMMs of several sizes, convolutions, elementwise, with
/// relative frequencies (small ops more often, as in a real model).
struct MixEntry {
  const char *name;
  double weight;
};
const MixEntry kDefaultMix[] = {
    {"matmul_1024", 1},   {"bert_ffn_matmul", 2},  {"attention_batch_matmul", 3},
    {"resnet50_conv3x3", 2}, {"conv3x3_stride2", 2}, {"bias_relu", 4},
    {"matmul_odd", 3},    {"matmul_i8", 2},
};

struct CheckTally {
  int tasks = 0;
  int wrong = 0;
  double worstRelErr = 0;
  void add(const CheckResult &result) {
    ++tasks;
    wrong += result.correct ? 0 : 1;
    worstRelErr = std::max(worstRelErr, result.maxRelErr);
  }
};

nlohmann::json summaryJson(const RunSummary &summary,
                           const std::vector<BackendSpec> &backends) {
  nlohmann::json out = {{"policy", summary.policy},
                        {"mode", summary.mode},
                        {"tasks", summary.tasks},
                        {"makespan_s", summary.makespanS},
                        {"throughput_tps", summary.throughput},
                        {"failed_tasks", summary.failedTasks},
                        {"retries", summary.retries}};
  nlohmann::json list = nlohmann::json::array();
  for (size_t b = 0; b < summary.backends.size(); ++b)
    list.push_back({{"name", summary.backends[b].name},
                    {"kind", backendKindName(backends[b].kind)},
                    {"tasks", summary.backends[b].tasks},
                    {"busy_s", summary.backends[b].busyS},
                    {"utilization", summary.backends[b].utilization}});
  out["backends"] = list;
  return out;
}

std::vector<std::string> splitList(const std::string &text) {
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(text).split(parts, ',', -1, false);
  std::vector<std::string> out;
  for (llvm::StringRef part : parts)
    out.push_back(part.trim().str());
  return out;
}

/// Resolves the mix: names from the default mix (or given by --workloads,
/// as example names or .mlir paths) to paths and weights.
llvm::Error resolveMix(const std::string &list, bool given,
                       std::vector<std::string> &paths,
                       std::vector<double> &weights) {
  std::string examples = configsDir() + "/../examples/";
  if (!given) {
    for (const MixEntry &entry : kDefaultMix) {
      paths.push_back(examples + entry.name + ".mlir");
      weights.push_back(entry.weight);
    }
    return llvm::Error::success();
  }
  for (const std::string &name : splitList(list)) {
    double weight = 1;
    for (const MixEntry &entry : kDefaultMix)
      if (name == entry.name)
        weight = entry.weight;
    // A name with a '/' or a .mlir suffix is a file; anything else names
    // one of examples/.
    bool isFile = llvm::StringRef(name).ends_with(".mlir") ||
                  name.find('/') != std::string::npos;
    std::string path = isFile ? name : examples + name + ".mlir";
    if (!llvm::sys::fs::is_regular_file(path))
      return makeError(
          isFile ? "--workloads: '" + name + "' is not a workload file"
                 : "--workloads: no example named '" + name +
                       "' (a name of examples/ without .mlir, or a .mlir "
                       "path)");
    paths.push_back(path);
    weights.push_back(weight);
  }
  if (paths.empty())
    return makeError("--workloads: empty list (leave the flag out for the "
                     "default mix)");
  return llvm::Error::success();
}

void printTable(const std::vector<RunSummary> &runs) {
  llvm::errs() << llvm::formatv("{0,-14} {1,12} {2,10} {3,7}  {4}\n", "policy",
                                "makespan", "tasks/s", "retries",
                                "utilization per backend");
  for (const RunSummary &run : runs) {
    std::string util;
    for (const BackendUsage &usage : run.backends)
      util += llvm::formatv("{0} {1:f0}% ({2})  ", usage.name,
                            100 * usage.utilization, usage.tasks)
                  .str();
    llvm::errs() << llvm::formatv("{0,-14} {1,10:f4} s {2,10:f1} {3,7}  {4}\n",
                                  run.policy, run.makespanS, run.throughput,
                                  run.retries, util);
  }
}

/// Adds "gain_vs_best_static" to the dynamic run and prints everything.
void report(std::vector<RunSummary> &runs,
            const std::vector<BackendSpec> &backends,
            std::vector<nlohmann::json> &objects, bool json) {
  double bestStatic = std::numeric_limits<double>::infinity();
  std::string bestStaticName;
  for (const RunSummary &run : runs)
    if (run.policy != "dynamic" && run.makespanS < bestStatic) {
      bestStatic = run.makespanS;
      bestStaticName = run.policy;
    }
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].policy != "dynamic" || bestStaticName.empty())
      continue;
    double gain = (bestStatic - runs[i].makespanS) / bestStatic;
    objects[i]["best_static"] = bestStaticName;
    objects[i]["best_static_makespan_s"] = bestStatic;
    objects[i]["gain_vs_best_static"] = gain;
    llvm::errs() << llvm::formatv(
        "dynamic vs best static ({0}): {1:f4} s vs {2:f4} s, {3:f1}% "
        "shorter\n",
        bestStaticName, runs[i].makespanS, bestStatic, 100 * gain);
  }
  printTable(runs);
  for (const nlohmann::json &object : objects) {
    if (json) {
      llvm::outs() << object.dump() << "\n";
      continue;
    }
  }
  llvm::outs().flush();
}

struct BenchFlags {
  std::string dbPath, workloads, hwaccTarget = "hwacc", policies;
  int64_t tasks = 200, seed = 1, repeat = 3, hwacc = 1, backends = 8, cpuCores = 0,
          cpuThreadsPerTask = 1;
  std::string timeScale = "1", transferGBps = "16";
  bool json = false, simulate = false, checkAll = false, allowStale = false;
};

/// The policies to run. Without hwacc devices (`--hwacc 0`) all-hwacc is
/// left out: it would be all-cpu under another name.
llvm::Expected<std::vector<PolicyKind>> policiesOf(const BenchFlags &flags,
                                                   bool hasHwacc) {
  // Dynamic last: its gain is computed against the static runs before it.
  std::vector<PolicyKind> kinds = {PolicyKind::AllCpu, PolicyKind::AllHwacc,
                                   PolicyKind::RoundRobin,
                                   PolicyKind::StaticByOp, PolicyKind::Dynamic};
  if (!hasHwacc)
    llvm::erase(kinds, PolicyKind::AllHwacc);
  if (flags.policies.empty())
    return kinds;
  kinds.clear();
  for (const std::string &name : splitList(flags.policies)) {
    auto kind = parsePolicyKind(name);
    if (!kind)
      return makeError("--policies: unknown policy '" + name +
                       "' (dynamic, all-cpu, all-hwacc, round-robin, "
                       "static-by-op)");
    if (*kind == PolicyKind::AllHwacc && !hasHwacc)
      return makeError("--policies: all-hwacc needs a hwacc device (this "
                       "run has --hwacc 0)");
    kinds.push_back(*kind);
  }
  return kinds;
}

int simulateBench(const BenchFlags &flags, const std::vector<PolicyKind> &kinds,
                  const std::vector<std::string> &paths,
                  const std::vector<double> &weights, double transfer) {
  auto infos = describeWorkloads(paths);
  if (!infos)
    return reportError(infos.takeError());
  // N backends: half CPU pools of this machine's cores, half hwacc devices
  // alternating the 16x16 and the 32x32 array.
  std::vector<BackendSpec> specs;
  int64_t cpus = flags.backends / 2, hwaccs = flags.backends - cpus;
  for (int64_t i = 0; i < cpus; ++i) {
    BackendSpec spec = cpuBackend(int(flags.cpuCores), int(flags.cpuThreadsPerTask));
    spec.name = "cpu" + std::to_string(i);
    specs.push_back(spec);
  }
  for (int64_t i = 0; i < hwaccs; ++i) {
    std::string target =
        i % 2 == 0 ? flags.hwaccTarget : configsDir() + "/targets/hwacc-32x32.json";
    auto spec = hwaccBackend(target, "hwacc" + std::to_string(i), transfer);
    if (!spec)
      return reportError(spec.takeError());
    specs.push_back(*spec);
  }
  IndexOptions indexOptions;
  indexOptions.allowStale = flags.allowStale;
  ScheduleIndex index(specs, indexOptions);
  index.load(flags.dbPath);
  LatencyModel model(specs);
  for (const WorkloadInfo &info : *infos)
    model.addWorkload(info, &index);
  std::vector<StreamTask> stream =
      makeStream(infos->size(), weights, size_t(flags.tasks), uint64_t(flags.seed));
  std::vector<RunSummary> runs;
  std::vector<nlohmann::json> objects;
  SimOptions options;
  options.seed = uint64_t(flags.seed);
  for (PolicyKind kind : kinds) {
    std::unique_ptr<Policy> policy = makePolicy(kind, model);
    runs.push_back(simulate(model, *policy, stream, options));
    objects.push_back(summaryJson(runs.back(), specs));
  }
  report(runs, specs, objects, flags.json);
  return kExitOk;
}

int realBench(const BenchFlags &flags, const std::vector<PolicyKind> &kinds,
              const std::vector<std::string> &paths,
              const std::vector<double> &weights, double transfer,
              double timeScale) {
  CoordinatorOptions options;
  options.dbPath = flags.dbPath;
  options.cpuCores = int(flags.cpuCores);
  options.cpuThreadsPerTask = int(flags.cpuThreadsPerTask);
  for (int64_t i = 0; i < flags.hwacc; ++i)
    options.hwaccTargets.push_back(flags.hwaccTarget);
  options.transferBytesPerS = transfer;
  options.timeScale = timeScale;
  options.index.allowStale = flags.allowStale;
  auto created = Coordinator::create(options);
  if (!created)
    return reportError(created.takeError());
  Coordinator &coord = **created;
  const std::vector<BackendSpec> &backends = coord.backends();

  std::vector<int> ids;
  std::string names;
  for (const BackendSpec &spec : backends)
    names += " " + spec.name;
  llvm::errs() << "coord: backends:" << names
               << " (gpu: absent, no GPU runtime in this build)\n"
               << "coord: compiling " << paths.size() << " workloads for "
               << backends.size() << " backends\n";
  for (const std::string &path : paths) {
    auto id = coord.addWorkload(path);
    if (!id)
      return reportError(id.takeError());
    ids.push_back(*id);
  }
  // References, once per workload, of the coordinator's seeded inputs.
  std::vector<std::vector<std::vector<double>>> references;
  for (int id : ids) {
    auto ref = coord.referenceOutputs(id, coord.defaultInputs(id));
    if (!ref)
      return reportError(ref.takeError());
    references.push_back(std::move(*ref));
  }
  struct Checked {
    int workload;
    std::vector<HostBuffer> outputs;
    std::future<TaskResult> future;
    bool functional;
  };
  auto makeArgs = [&](int id, std::vector<HostBuffer> &outputs) {
    std::vector<HostBuffer *> args;
    for (const HostBuffer &input : coord.defaultInputs(id))
      args.push_back(const_cast<HostBuffer *>(&input));
    for (HostBuffer &output : outputs) {
      output.poison();
      args.push_back(&output);
    }
    return args;
  };
  CheckTally tally;
  auto compare = [&](Checked &checked, const TaskResult &result) {
    std::vector<CheckResult> perOutput;
    const auto &ref = references[checked.workload];
    for (size_t o = 0; o < checked.outputs.size(); ++o)
      perOutput.push_back(compareWithReference(
          checked.outputs[o].toDoubles(), ref[o],
          defaultTolerance(checked.outputs[o].spec().kind)));
    CheckResult combined = combine(perOutput);
    tally.add(combined);
    if (!combined.correct)
      llvm::errs() << llvm::formatv(
          "coord: WRONG result for {0} on {1}: max rel err {2:e2}\n",
          coord.model().workload(checked.workload).key,
          backends[result.backend].name, combined.maxRelErr);
  };
  // 1. Every workload on every backend that can run it, functional.
  std::vector<Checked> verify;
  int verified = 0;
  for (size_t w = 0; w < ids.size(); ++w) {
    for (size_t b = 0; b < backends.size(); ++b) {
      if (!coord.model().canRun(ids[w], int(b)))
        continue;
      Checked checked{ids[w], coord.outputBuffers(ids[w]), {}, true};
      SubmitOptions submitOptions;
      submitOptions.functional = true;
      submitOptions.forceBackend = int(b);
      checked.future = coord.submit(ids[w], makeArgs(ids[w], checked.outputs),
                                    submitOptions);
      verify.push_back(std::move(checked));
    }
  }
  for (Checked &checked : verify) {
    TaskResult result = checked.future.get();
    if (!result.ok)
      return reportError(makeError("coord: verification run of " +
                                   coord.model().workload(checked.workload).key +
                                   " failed: " + result.error));
    compare(checked, result);
    ++verified;
  }
  llvm::errs() << "coord: verified " << verified
               << " (workload, backend) pairs against the reference: "
               << (tally.wrong ? "WRONG results" : "all correct") << "\n";
  for (size_t w = 0; w < ids.size(); ++w)
    for (size_t b = 0; b < backends.size(); ++b)
      if (coord.model().canRun(ids[w], int(b)))
        llvm::errs() << llvm::formatv(
            "  {0,-58} {1,-7} schedule {2,-10} predicted {3:e2} s ({4})\n",
            coord.model().workload(ids[w]).key, backends[b].name,
            coord.scheduleOf(ids[w], int(b)),
            coord.model().predict(ids[w], int(b)),
            predictionSourceName(coord.model().source(ids[w], int(b))));

  // 2. The timed runs.
  std::vector<StreamTask> stream =
      makeStream(ids.size(), weights, size_t(flags.tasks), uint64_t(flags.seed));
  std::vector<RunSummary> runs;
  std::vector<nlohmann::json> objects;
  for (PolicyKind kind : kinds) {
    // Each policy runs the same stream `repeat` times from a fresh state
    // (corrections and queues reset); the run with the median makespan is
    // reported, all makespans are listed.
    std::vector<std::pair<RunSummary, CheckTally>> repeats;
    CheckTally policyTally;
    for (int64_t rep = 0; rep < flags.repeat; ++rep) {
      coord.setPolicy(kind);
      CheckTally before = tally;
      std::vector<bool> sampled(ids.size(), false);
      std::vector<std::future<TaskResult>> futures;
      std::vector<Checked> checks;
      std::vector<int> checkOf(stream.size(), -1);
      for (size_t t = 0; t < stream.size(); ++t) {
        int w = stream[t].workload;
        if (!flags.checkAll && sampled[w]) {
          futures.push_back(coord.submit(ids[w]));
          continue;
        }
        sampled[w] = true;
        Checked checked{ids[w], coord.outputBuffers(ids[w]), {},
                        flags.checkAll};
        SubmitOptions submitOptions;
        submitOptions.functional = flags.checkAll;
        futures.push_back(coord.submit(
            ids[w], makeArgs(ids[w], checked.outputs), submitOptions));
        checkOf[t] = int(checks.size());
        checks.push_back(std::move(checked));
      }
      std::vector<TaskResult> results;
      for (std::future<TaskResult> &future : futures)
        results.push_back(future.get());
      for (size_t t = 0; t < stream.size(); ++t) {
        if (checkOf[t] < 0 || !results[t].ok)
          continue;
        Checked &checked = checks[checkOf[t]];
        // A paced hwacc task computed nothing (see the header): only real
        // results are compared.
        if (backends[results[t].backend].kind == BackendKind::Hwacc &&
            !checked.functional)
          continue;
        compare(checked, results[t]);
      }
      for (const TaskResult &result : results)
        for (const std::string &failure : result.failures)
          llvm::errs() << "coord: " << policyKindName(kind)
                       << ": task failed on " << failure << " (retried)\n";
      CheckTally delta;
      delta.tasks = tally.tasks - before.tasks;
      delta.wrong = tally.wrong - before.wrong;
      policyTally.tasks += delta.tasks;
      policyTally.wrong += delta.wrong;
      repeats.push_back(
          {summarize(policyKindName(kind), "real", backends, results), delta});
    }
    std::vector<double> makespans;
    for (auto &run : repeats)
      makespans.push_back(run.first.makespanS);
    std::sort(repeats.begin(), repeats.end(), [](auto &a, auto &b) {
      return a.first.makespanS < b.first.makespanS;
    });
    runs.push_back(repeats[repeats.size() / 2].first);
    nlohmann::json object = summaryJson(runs.back(), backends);
    object["makespans_s"] = makespans;
    object["checked"] = {{"tasks", policyTally.tasks},
                         {"wrong", policyTally.wrong},
                         {"verified_pairs", verified},
                         {"correct", tally.wrong == 0}};
    object["time_scale"] = timeScale;
    objects.push_back(object);
  }
  report(runs, backends, objects, flags.json);
  if (tally.wrong) {
    llvm::errs() << "hatc: error: " << tally.wrong << " of " << tally.tasks
                 << " checked results are wrong\n";
    return kExitCheckFailed;
  }
  return kExitOk;
}

int benchCommand(const Args &args) {
  BenchFlags flags;
  FlagParser parser(
      "hatc coord bench",
      "Runs one seeded mixed stream of tasks (GEMMs, convs, elementwise) "
      "under every\npolicy (all-cpu, all-hwacc, round-robin, static-by-op, "
      "dynamic) and reports\nmakespan, throughput, per-backend utilization "
      "and the dynamic policy's gain\nover the best static one. Kernels use "
      "the database's best schedules (default\nschedules on a miss); "
      "results are checked against the reference.");
  parser.option("--db", &flags.dbPath, "DB",
                "tuning database (missing/corrupt: fallback, one warning)");
  // Upper bounds: each device, core and backend is a model, a thread or a
  // simulated queue held in memory; past these a run exhausts the machine.
  parser.option("--tasks", &flags.tasks, "N", "tasks in the stream (200)", 1,
                1000000);
  parser.option("--seed", &flags.seed, "S", "stream seed (1)", 0);
  parser.option("--repeat", &flags.repeat, "R",
                "real mode: runs per policy, the median makespan is reported "
                "(3)",
                1);
  parser.option("--workloads", &flags.workloads, "A,B,...",
                "example names or .mlir paths (default: the 8-workload mix)");
  parser.option("--policies", &flags.policies, "P,...",
                "only these policies");
  parser.option("--hwacc", &flags.hwacc, "N", "hwacc devices (1)", 0, 256);
  parser.option("--hwacc-target", &flags.hwaccTarget, "T",
                "hwacc target of the devices (hwacc or a .json)");
  parser.option("--cpu-cores", &flags.cpuCores, "N",
                "cores of the CPU pool (0: all)", 0, 1024);
  parser.option("--cpu-threads-per-task", &flags.cpuThreadsPerTask, "K",
                "cores each CPU task gets (1)", 1, 1024);
  parser.option("--transfer-gbps", &flags.transferGBps, "G",
                "host<->hwacc bandwidth in GB/s for the transfer cost (16; 0: "
                "none)");
  parser.option("--time-scale", &flags.timeScale, "X",
                "hwacc pacing: modeled seconds x X of wall time (1)");
  parser.flag("--check-all", &flags.checkAll,
              "check every task (hwacc tasks run functionally: slower)");
  parser.flag("--allow-stale", &flags.allowStale,
              "use records of other compiler versions or machines");
  parser.flag("--simulate", &flags.simulate,
              "virtual clock, no kernels: evaluate policies at scale");
  parser.option("--backends", &flags.backends, "N",
                "--simulate: backends (half CPU pools, half hwacc; 8)", 2,
                4096);
  parser.flag("--json", &flags.json, "one JSON object per policy on stdout");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  // Flags of one mode given to the other were ignored without a word
  // (--simulate --hwacc 0 still ran hwacc backends).
  const std::pair<const char *, const char *> realOnly[] = {
      {"--hwacc", "--backends N makes half of the backends hwacc devices"},
      {"--time-scale", "its clock is virtual"},
      {"--check-all", "it runs no kernels"}};
  for (auto [flag, why] : realOnly)
    if (flags.simulate && parser.given(flag))
      return reportError(makeError(std::string(flag) +
                                   " is for a real run; with --simulate, " +
                                   why));
  if (!flags.simulate && parser.given("--backends"))
    return reportError(makeError("--backends is for --simulate; a real run "
                                 "has one CPU pool and --hwacc N devices"));
  auto transfer = parseNonNegative("--transfer-gbps", flags.transferGBps);
  if (!transfer)
    return reportError(transfer.takeError());
  auto timeScale = parseNonNegative("--time-scale", flags.timeScale);
  if (!timeScale)
    return reportError(timeScale.takeError());
  if (*timeScale <= 0 || *timeScale > 1e6)
    return reportError(makeError("--time-scale: must be positive and at most "
                                 "1e6"));
  // Checked before anything is compiled. A simulated run always has hwacc
  // backends (half of --backends).
  auto kinds = policiesOf(flags, flags.simulate || flags.hwacc > 0);
  if (!kinds)
    return reportError(kinds.takeError());
  std::vector<std::string> paths;
  std::vector<double> weights;
  if (llvm::Error err = resolveMix(flags.workloads, parser.given("--workloads"), paths,
                                    weights))
    return reportError(std::move(err));
  double bytesPerS = *transfer * 1e9;
  if (flags.simulate)
    return simulateBench(flags, *kinds, paths, weights, bytesPerS);
  return realBench(flags, *kinds, paths, weights, bytesPerS, *timeScale);
}

} // namespace

int coordCommand(const Args &args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    return printGroupUsage(
        !args.empty(),
        "usage: hatc coord bench [flags]   (hatc coord bench --help)\n\n"
        "The runtime coordinator: database-driven schedule lookup and "
        "dynamic\nassignment of tasks to the CPU and hwacc devices.\n");
  }
  if (args[0] == "bench")
    return benchCommand(Args(args.begin() + 1, args.end()));
  return reportError(makeError("hatc coord: unknown subcommand '" + args[0] +
                               "' (expected bench)"));
}

} // namespace hatc
