//===- HarnessTest.cpp - Worker processes, timeouts, error codes ----------===//
//
// Every test drives real hatc-worker processes on small workloads. Faults are
// injected through MeasureRequest::fault (workers started with
// --allow-faults); each bad candidate must come back with its error code,
// and a good candidate queued after it must still measure normally.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Harness.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <numeric>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace hatc;
using db::ErrorCode;

namespace {

std::string sourcePath(const std::string &relative) {
  return std::string(HATC_SOURCE_DIR_FOR_TESTS) + "/" + relative;
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  EXPECT_TRUE(bool(buffer)) << path;
  return buffer ? (*buffer)->getBuffer().str() : "";
}

MeasureRequest request(const std::string &fault = "",
                       nlohmann::json target = "cpu") {
  MeasureRequest r;
  r.workloadPath = sourcePath("examples/matmul_odd.mlir");
  r.target = std::move(target);
  r.fault = fault;
  return r;
}

/// Short timeouts and few repeats keep the suite quick on two cores.
MeasureOptions fastOptions() {
  MeasureOptions options;
  options.buildTimeoutS = 30;
  options.runTimeoutS = 2;
  options.setupTimeoutS = 30;
  options.memoryLimitBytes = size_t(2) << 30;
  options.buildWorkers = 2;
  options.run.threads = 1;
  options.run.warmup = 1;
  options.run.minRepeat = 3;
  options.run.maxRepeat = 10;
  options.run.minTimeSeconds = 0.01;
  options.allowFaults = true;
  return options;
}

std::unique_ptr<Measurer> makeMeasurer(const MeasureOptions &options) {
  auto measurer = makeProcessMeasurer(HATC_WORKER_PATH, options);
  if (!measurer) {
    ADD_FAILURE() << llvm::toString(measurer.takeError());
    return nullptr;
  }
  return std::move(*measurer);
}

std::string describe(const MeasureResult &result) {
  return std::string(db::errorCodeName(result.error)) + ": " + result.message;
}

/// A measured cpu candidate: checked, timed, with plausible numbers.
void expectMeasured(const MeasureResult &result) {
  ASSERT_EQ(result.error, ErrorCode::Ok) << describe(result);
  EXPECT_TRUE(result.message.empty()) << result.message;
  ASSERT_GE(result.samples.size(), 3u);
  // The summary numbers are the ones the samples give: seconds is the
  // fastest (what a tuner compares: other processes only slow a run down),
  // host_s their median, cv their sample standard deviation over the mean,
  // gflops the workload's 2*M*N*K over seconds.
  std::vector<double> sorted = result.samples;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  double median =
      n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double sum = std::accumulate(sorted.begin(), sorted.end(), 0.0);
  double mean = sum / n, squares = 0;
  for (double s : sorted)
    squares += (s - mean) * (s - mean);
  double cv = std::sqrt(squares / (n - 1)) / mean;
  EXPECT_GT(result.seconds, 0);
  EXPECT_DOUBLE_EQ(result.seconds, sorted.front());
  EXPECT_DOUBLE_EQ(result.extras.value("host_s", 0.0), median);
  EXPECT_DOUBLE_EQ(result.extras.value("min_s", 0.0), sorted.front());
  EXPECT_LT(result.seconds, 1.0); // 257x67x129: well under a millisecond
  EXPECT_NEAR(result.cv, cv, 1e-9 * cv + 1e-15);
  EXPECT_GT(result.cv, 0) << "timings of a real run never all agree";
  EXPECT_NEAR(result.gflops, 2.0 * 257 * 129 * 67 / sorted.front() / 1e9,
              1e-9 * result.gflops);
  EXPECT_LT(result.maxRelErr, 1e-3);
  EXPECT_GT(result.buildSeconds, 0);
  // The run holds every timed repeat (and the warm-up and the check).
  EXPECT_GE(result.runSeconds, sum);
  EXPECT_EQ(result.extras.value("workload", ""), "matmul_f32_M257_N129_K67");
  EXPECT_EQ(result.extras.value("nan_count", -1), 0);
}

void expectError(const MeasureResult &result, ErrorCode code,
                 const std::string &inMessage) {
  EXPECT_EQ(result.error, code) << describe(result);
  EXPECT_NE(result.message.find(inMessage), std::string::npos)
      << "expected '" << inMessage << "' in: " << result.message;
  EXPECT_EQ(result.message.find('\n'), std::string::npos) << result.message;
  EXPECT_TRUE(result.samples.empty());
  EXPECT_EQ(result.seconds, 0);
}

} // namespace

TEST(MeasureHarness, GoodCpuCandidateMeasures) {
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  MeasureRequest good = request();
  good.sketch = "default";
  auto results = measurer->measure({good});
  ASSERT_EQ(results.size(), 1u);
  expectMeasured(results[0]);
  EXPECT_FALSE(results[0].cycles);
  EXPECT_EQ(results[0].extras.value("sketch", ""), "default");
  EXPECT_EQ(results[0].extras.value("schedule", ""), "default");
  EXPECT_GT(results[0].extras.value("flops", 0.0), 4e6);
}

TEST(MeasureHarness, EmptyBatchGivesNoResults) {
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  EXPECT_TRUE(measurer->measure({}).empty());
}

/// One fault, then a good candidate in the same batch.
struct FaultCase {
  const char *fault;
  ErrorCode code;
  const char *inMessage;
};

void PrintTo(const FaultCase &fault, std::ostream *os) { *os << fault.fault; }

class MeasureHarnessFault : public testing::TestWithParam<FaultCase> {};

TEST_P(MeasureHarnessFault, RecordedAndTheNextCandidateMeasures) {
  const FaultCase &fault = GetParam();
  MeasureOptions options = fastOptions();
  options.buildTimeoutS = 3; // build_hang
  auto measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  auto results = measurer->measure({request(fault.fault), request()});
  ASSERT_EQ(results.size(), 2u);
  expectError(results[0], fault.code, fault.inMessage);
  expectMeasured(results[1]);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, MeasureHarnessFault,
    testing::Values(
        FaultCase{"segfault", ErrorCode::RunError,
                  "hatc-worker crashed (SIGSEGV) during the run"},
        FaultCase{"abort", ErrorCode::RunError,
                  "hatc-worker crashed (SIGABRT) during the run"},
        FaultCase{"hang", ErrorCode::RunTimeout, "run took longer than 2 s"},
        FaultCase{"oom", ErrorCode::OutOfMemory,
                  "ran out of memory (address-space limit 2048 MiB) during "
                  "the run"},
        FaultCase{"wrong", ErrorCode::WrongAnswer,
                  "result check failed: max rel err"},
        FaultCase{"build_hang", ErrorCode::BuildTimeout,
                  "build took longer than 3 s"},
        FaultCase{"build_crash", ErrorCode::BuildError,
                  "hatc-worker crashed (SIGSEGV) during the build"}),
    [](const testing::TestParamInfo<FaultCase> &info) {
      return std::string(info.param.fault);
    });

TEST(MeasureHarness, AllFaultsInOneBatchThenGoodCandidatesMeasure) {
  MeasureOptions options = fastOptions();
  options.buildTimeoutS = 3;
  auto measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  std::vector<MeasureRequest> batch = {
      request(),           request("segfault"), request("abort"),
      request("hang"),     request("oom"),      request("wrong"),
      request("build_hang"), request("build_crash"), request()};
  auto results = measurer->measure(batch);
  ASSERT_EQ(results.size(), batch.size());
  expectMeasured(results[0]);
  expectError(results[1], ErrorCode::RunError, "SIGSEGV");
  expectError(results[2], ErrorCode::RunError, "SIGABRT");
  expectError(results[3], ErrorCode::RunTimeout, "run took longer");
  expectError(results[4], ErrorCode::OutOfMemory, "out of memory");
  expectError(results[5], ErrorCode::WrongAnswer, "max rel err");
  EXPECT_GT(results[5].maxRelErr, 1e-3);
  expectError(results[6], ErrorCode::BuildTimeout, "build took longer");
  expectError(results[7], ErrorCode::BuildError, "SIGSEGV");
  expectMeasured(results[8]);

  // The pool replaced what died: a second batch measures normally.
  auto again = measurer->measure({request(), request("abort"), request()});
  ASSERT_EQ(again.size(), 3u);
  expectMeasured(again[0]);
  expectError(again[1], ErrorCode::RunError, "SIGABRT");
  expectMeasured(again[2]);
}

// A worker that answers OUT_OF_MEMORY exits right after; the next run is
// already queued. Only the candidate that ran out of memory is charged: the
// next one goes to a fresh worker and measures (before, it was sent to the
// dying worker and recorded as OUT_OF_MEMORY, or the harness hung).
TEST(MeasureHarness, OutOfMemoryReplyIsChargedToItsCandidateOnly) {
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  auto results = measurer->measure(
      {request("oom_reply"), request(), request("oom_reply"), request()});
  ASSERT_EQ(results.size(), 4u);
  expectError(results[0], ErrorCode::OutOfMemory,
              "out of memory (std::bad_alloc)");
  expectMeasured(results[1]);
  expectError(results[2], ErrorCode::OutOfMemory,
              "out of memory (std::bad_alloc)");
  expectMeasured(results[3]);
}

// Workers past half their address-space limit retire after each reply
// (here from the first: a worker with its context takes more than 350 MiB),
// and fresh ones measure the rest of the batch.
TEST(MeasureHarness, WorkersPastHalfTheirMemoryLimitAreReplaced) {
  MeasureOptions options = fastOptions();
  options.memoryLimitBytes = size_t(700) << 20;
  auto measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  auto results = measurer->measure({request(), request(), request()});
  ASSERT_EQ(results.size(), 3u);
  for (const MeasureResult &result : results)
    expectMeasured(result);
}

// A worker that dies between two requests without a word: the next request
// fails to send (EPIPE), and its candidate is measured by a fresh worker
// instead of being blamed for a death it did not cause.
TEST(MeasureHarness, WorkerDyingBetweenRequestsIsNotTheNextCandidatesFault) {
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  auto results = measurer->measure(
      {request("exit_after_reply"), request(), request("exit_after_reply"),
       request()});
  ASSERT_EQ(results.size(), 4u);
  for (const MeasureResult &result : results)
    expectMeasured(result);
}

TEST(MeasureHarness, StaleScratchFoldersOfKilledMeasurersAreRemoved) {
  llvm::SmallString<128> tmp;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("stale-test", tmp));
  // A pid that was alive a moment ago and is not any more.
  pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto makeDir = [&](const std::string &name) {
    std::string path = std::string(tmp) + "/" + name;
    EXPECT_FALSE(llvm::sys::fs::create_directories(path + "/batch-1/c0"));
    std::error_code ec;
    llvm::raw_fd_ostream(path + "/batch-1/c0/kernel.so", ec) << "x";
    return path;
  };
  std::string dead =
      makeDir("hatc-measure-" + std::to_string(child) + "-a1b2c3");
  std::string live =
      makeDir("hatc-measure-" + std::to_string(::getpid()) + "-d4e5f6");
  std::string noPid = makeDir("hatc-measure-123456");
  std::string other = makeDir("hatc-run-" + std::to_string(child) + "-x");

  std::vector<std::string> removed =
      removeStaleScratchFolders(std::string(tmp));
  EXPECT_EQ(removed, std::vector<std::string>{dead});
  EXPECT_FALSE(llvm::sys::fs::exists(dead));
  EXPECT_TRUE(llvm::sys::fs::exists(live + "/batch-1/c0/kernel.so"));
  EXPECT_TRUE(llvm::sys::fs::exists(noPid));
  EXPECT_TRUE(llvm::sys::fs::exists(other));
  // `hatc run` cleans its own prefix's folders the same way.
  EXPECT_EQ(removeStaleScratchFolders(std::string(tmp), "hatc-run"),
            std::vector<std::string>{other});
  EXPECT_TRUE(llvm::sys::fs::exists(live));

  // A measurer cleans up at start, and names its own folder by its pid.
  std::string stale =
      makeDir("hatc-measure-" + std::to_string(child) + "-g7h8i9");
  const char *oldTmp = std::getenv("TMPDIR");
  std::string saved = oldTmp ? oldTmp : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  {
    auto measurer = makeMeasurer(fastOptions());
    EXPECT_TRUE(measurer);
    EXPECT_FALSE(llvm::sys::fs::exists(stale));
    int ours = 0;
    std::error_code ec;
    std::string prefix = "hatc-measure-" + std::to_string(::getpid()) + "-";
    for (llvm::sys::fs::directory_iterator it(tmp, ec), end; !ec && it != end;
         it.increment(ec))
      ours += llvm::StringRef(llvm::sys::path::filename(it->path()))
                  .starts_with(prefix);
    EXPECT_EQ(ours, 2); // `live` and the measurer's own
  }
  if (oldTmp)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  llvm::sys::fs::remove_directories(tmp);
}

TEST(MeasureHarness, RunTimerStartsWhenTheRunStarts) {
  // 3 s of set-up (loading, reference) against a 2 s run timeout: only the
  // run itself is timed against it.
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  auto results = measurer->measure({request("slow_setup"), request("hang")});
  ASSERT_EQ(results.size(), 2u);
  expectMeasured(results[0]);
  EXPECT_GT(results[0].runSeconds, 3.0);
  expectError(results[1], ErrorCode::RunTimeout, "run took longer than 2 s");
}

TEST(MeasureHarness, RepeatsUntilTheMinimumTimeThenStopsAtTheCap) {
  MeasureOptions options = fastOptions();
  options.run.minRepeat = 3;
  options.run.maxRepeat = 100000;
  options.run.minTimeSeconds = 0.2;
  auto measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  auto results = measurer->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectMeasured(results[0]);
  double total = 0;
  for (double s : results[0].samples)
    total += s;
  // A sub-millisecond kernel needs many more than minRepeat runs for 0.2 s,
  // and stops soon after reaching it.
  EXPECT_GT(results[0].samples.size(), 3u);
  EXPECT_GE(total, 0.2);
  EXPECT_LT(total, 0.2 + 10 * results[0].seconds + 0.05);

  options.run.minTimeSeconds = 60;
  options.run.maxRepeat = 7;
  measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  results = measurer->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectMeasured(results[0]);
  EXPECT_EQ(results[0].samples.size(), 7u);
}

TEST(MeasureHarness, WarmsUpForTheTimeAskedBeforeTiming) {
  // The worker runs the kernel untimed for run.warmupSeconds first: the
  // run phase lasts that long on top of the timed runs.
  MeasureOptions options = fastOptions();
  options.run.warmupSeconds = 0.4;
  auto measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  auto results = measurer->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectMeasured(results[0]);
  double timed = 0;
  for (double s : results[0].samples)
    timed += s;
  EXPECT_GE(results[0].runSeconds, timed + 0.4);
}

TEST(MeasureHarness, CacheFlushBetweenRepeatsIsOptional) {
  // The worker says whether it flushed (timings are not asserted on).
  for (bool flush : {false, true}) {
    MeasureOptions options = fastOptions();
    options.run.flushCache = flush;
    auto measurer = makeMeasurer(options);
    ASSERT_TRUE(measurer);
    auto results = measurer->measure({request()});
    ASSERT_EQ(results.size(), 1u);
    expectMeasured(results[0]);
    EXPECT_EQ(results[0].extras.value("flush_cache", !flush), flush);
  }
}

TEST(MeasureHarness, MixedCpuAndHwaccBatch) {
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  // A target description handed over as JSON, with the file it came from.
  nlohmann::json big = nlohmann::json::parse(
      readFile(sourcePath("configs/targets/hwacc-32x32.json")));
  big["path"] = sourcePath("configs/targets/hwacc-32x32.json");
  MeasureRequest tiled = request("", "hwacc");
  tiled.config = {{"tile", {64, 64, 32}}, {"dataflow", "os"}};
  MeasureRequest scheduled = request();
  scheduled.script = readFile(sourcePath("tests/lit/Inputs/tile_forall.mlir"));
  std::vector<MeasureRequest> batch = {request(), request("", "hwacc"), tiled,
                                       request("", big), scheduled};
  auto results = measurer->measure(batch);
  ASSERT_EQ(results.size(), batch.size());

  for (size_t i : {0, 4}) {
    SCOPED_TRACE(i);
    expectMeasured(results[i]);
    EXPECT_FALSE(results[i].cycles);
  }
  EXPECT_EQ(results[4].extras.value("schedule", ""), "script");
  for (size_t i : {1, 2, 3}) {
    SCOPED_TRACE(i);
    const MeasureResult &r = results[i];
    ASSERT_EQ(r.error, ErrorCode::Ok) << describe(r);
    ASSERT_TRUE(r.cycles);
    EXPECT_GT(*r.cycles, 0);
    EXPECT_LT(r.maxRelErr, 1e-3);
    EXPECT_GT(r.gflops, 0);
    ASSERT_TRUE(r.extras.contains("device"));
    EXPECT_EQ(r.extras["device"].value("total_cycles", int64_t(-1)),
              *r.cycles);
    EXPECT_GT(r.extras.value("utilization", 0.0), 0);
    EXPECT_LE(r.extras.value("utilization", 2.0), 1);
    EXPECT_GT(r.extras.value("dma_bytes", 0), 0);
    // hwacc reports modeled time: cycles at the device clock.
    EXPECT_DOUBLE_EQ(r.seconds, r.extras.value("modeled_s", -1.0));
    EXPECT_EQ(r.extras.value("target", ""), "hwacc");
  }
  EXPECT_EQ(results[2].extras["hwacc_config"]["dataflow"], "os");
  EXPECT_EQ(results[2].extras["hwacc_config"]["tile"],
            nlohmann::json({64, 64, 32}));
  EXPECT_EQ(results[3].extras.value("target_name", ""), "hwacc-32x32");
  // Different arrays and tilings model different times.
  EXPECT_NE(*results[1].cycles, *results[3].cycles);
}

TEST(MeasureHarness, ScheduleThatFailsToApplyIsBuildError) {
  auto measurer = makeMeasurer(fastOptions());
  ASSERT_TRUE(measurer);
  MeasureRequest failsToApply = request();
  failsToApply.script =
      readFile(sourcePath("tests/lit/Inputs/bad_vectorize_schedule.mlir"));
  MeasureRequest invalidOp = request();
  invalidOp.script =
      readFile(sourcePath("tests/lit/Inputs/bad_tile_schedule.mlir"));
  MeasureRequest notMlir = request();
  notMlir.script = "this is not a schedule";
  MeasureRequest noWorkload = request();
  noWorkload.workloadPath = "/nonexistent/w.mlir";
  auto results =
      measurer->measure({failsToApply, invalidOp, notMlir, noWorkload, request()});
  ASSERT_EQ(results.size(), 5u);
  expectError(results[0], ErrorCode::BuildError, "schedule failed");
  expectError(results[0], ErrorCode::BuildError,
              "Attempted to vectorize, but failed");
  expectError(results[1], ErrorCode::BuildError,
              "'transform.structured.tile_using_for' op expected number of "
              "loops to tile");
  expectError(results[2], ErrorCode::BuildError, "<schedule>:1:");
  expectError(results[3], ErrorCode::BuildError, "/nonexistent/w.mlir");
  expectMeasured(results[4]);
}

TEST(MeasureHarness, RejectedConfigsAndTargets) {
  // Workers inherit it: no CUDA driver, even on a machine with a GPU.
  ::setenv("HATC_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  auto measurer = makeMeasurer(fastOptions());
  ::unsetenv("HATC_CUDA_DRIVER");
  ASSERT_TRUE(measurer);
  MeasureRequest badTile = request("", "hwacc");
  badTile.config = {{"tile", {0, 16}}};
  MeasureRequest unknownKnob = request("", "hwacc");
  unknownKnob.config = {{"knobs", {{"unroll", 4}}}};
  MeasureRequest gpu = request("", {{"kind", "gpu"}, {"name", "a100"}});
  MeasureRequest badKind = request("", {{"kind", "tpu"}});
  MeasureRequest badArray =
      request("", {{"kind", "hwacc"}, {"array_dim", 3}, {"path", "odd.json"}});
  MeasureRequest unknownFault = request("explode");
  auto results = measurer->measure(
      {badTile, unknownKnob, gpu, badKind, badArray, unknownFault, request()});
  ASSERT_EQ(results.size(), 7u);
  expectError(results[0], ErrorCode::InvalidConfig, "knob \"tile\"");
  expectError(results[1], ErrorCode::InvalidConfig,
              "unknown hwacc knob \"unroll\"");
  expectError(results[2], ErrorCode::DeviceUnavailable,
              "no CUDA driver: cannot load /nonexistent/libcuda.so.1");
  expectError(results[3], ErrorCode::InvalidConfig, "unknown target kind");
  expectError(results[4], ErrorCode::InvalidConfig, "odd.json");
  expectError(results[5], ErrorCode::InvalidConfig, "unknown fault");
  expectMeasured(results[6]);
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(results[i].runSeconds, 0) << i; // rejected before any run
}

TEST(MeasureHarness, FaultsAreRefusedWithoutAllowFaults) {
  MeasureOptions options = fastOptions();
  options.allowFaults = false;
  auto measurer = makeMeasurer(options);
  ASSERT_TRUE(measurer);
  auto results = measurer->measure({request("segfault"), request()});
  ASSERT_EQ(results.size(), 2u);
  expectError(results[0], ErrorCode::InvalidConfig, "--allow-faults");
  expectMeasured(results[1]);
}

TEST(MeasureHarness, ScratchFoldersAreRemoved) {
  llvm::SmallString<128> tmp;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("harness-test", tmp));
  const char *oldTmp = std::getenv("TMPDIR");
  std::string saved = oldTmp ? oldTmp : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  auto countEntries = [](const std::string &dir, bool recursive) {
    int count = 0;
    std::error_code ec;
    if (recursive) {
      for (llvm::sys::fs::recursive_directory_iterator it(dir, ec), end;
           !ec && it != end; it.increment(ec))
        ++count;
    } else {
      for (llvm::sys::fs::directory_iterator it(dir, ec), end;
           !ec && it != end; it.increment(ec))
        ++count;
    }
    return count;
  };
  {
    MeasureOptions options = fastOptions();
    options.buildTimeoutS = 3;
    auto measurer = makeMeasurer(options);
    ASSERT_TRUE(measurer);
    auto results = measurer->measure(
        {request(), request("build_hang"), request("segfault")});
    ASSERT_EQ(results.size(), 3u);
    expectMeasured(results[0]);
    // One scratch folder for the measurer; the batch's builds are gone.
    EXPECT_EQ(countEntries(std::string(tmp), false), 1);
    std::error_code ec;
    llvm::sys::fs::directory_iterator scratch(tmp, ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(countEntries(scratch->path(), true), 0) << scratch->path();
  }
  EXPECT_EQ(countEntries(std::string(tmp), true), 0);
  if (oldTmp)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  llvm::sys::fs::remove_directories(tmp);
}

TEST(MeasureHarness, MissingWorkerIsAnError) {
  auto measurer = makeProcessMeasurer("/nonexistent/hatc-worker", {});
  ASSERT_FALSE(measurer);
  EXPECT_EQ(llvm::toString(measurer.takeError()),
            "/nonexistent/hatc-worker: not an executable hatc-worker");
}

TEST(MeasureHarness, WorkerThatNeverStartsFailsTheBatchInsteadOfLooping) {
  auto measurer = makeProcessMeasurer("/bin/true", fastOptions());
  ASSERT_TRUE(bool(measurer)) << llvm::toString(measurer.takeError());
  auto results = (*measurer)->measure({request(), request()});
  ASSERT_EQ(results.size(), 2u);
  for (const MeasureResult &r : results)
    expectError(r, ErrorCode::BuildError, "failed to start 3 times in a row");
}

/// A stand-in worker: a shell script that breaks the protocol on purpose.
class FakeWorker {
public:
  explicit FakeWorker(const std::string &body) {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("fake-worker", dir));
    path = std::string(dir) + "/worker.sh";
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    EXPECT_FALSE(ec) << path;
    out << "#!/bin/bash\n" << body;
    out.close();
    llvm::sys::fs::setPermissions(path, llvm::sys::fs::all_read |
                                            llvm::sys::fs::all_exe |
                                            llvm::sys::fs::owner_write);
  }
  ~FakeWorker() { llvm::sys::fs::remove_directories(dir); }
  std::string path;

private:
  llvm::SmallString<128> dir;
};

TEST(MeasureHarness, GarbageFromAWorkerIsContained) {
  FakeWorker fake("echo '{\"type\":\"ready\",\"protocol\":1}'\n"
                  "read -r line\n"
                  "echo 'this is not JSON'\n"
                  "sleep 100\n");
  auto measurer = makeProcessMeasurer(fake.path, fastOptions());
  ASSERT_TRUE(bool(measurer)) << llvm::toString(measurer.takeError());
  auto results = (*measurer)->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectError(results[0], ErrorCode::BuildError,
              "hatc-worker protocol error during the build: unreadable "
              "message: this is not JSON");
}

TEST(MeasureHarness, WorkerOfAnotherProtocolVersionIsRefused) {
  FakeWorker fake("echo '{\"type\":\"ready\",\"protocol\":99}'\n"
                  "sleep 100\n");
  auto measurer = makeProcessMeasurer(fake.path, fastOptions());
  ASSERT_TRUE(bool(measurer)) << llvm::toString(measurer.takeError());
  auto results = (*measurer)->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectError(results[0], ErrorCode::BuildError,
              "protocol error: protocol version 99, expected 1");
}

TEST(MeasureHarness, SilentWorkersHitTheSetUpTimeout) {
  FakeWorker silent("sleep 100\n");
  MeasureOptions options = fastOptions();
  options.setupTimeoutS = 0.3;
  auto measurer = makeProcessMeasurer(silent.path, options);
  ASSERT_TRUE(bool(measurer)) << llvm::toString(measurer.takeError());
  auto results = (*measurer)->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectError(results[0], ErrorCode::BuildError,
              "not ready within the set-up timeout (0.3 s)");

  // Builds, but never starts the run: the set-up timeout applies there too.
  FakeWorker stuck(R"sh(echo '{"type":"ready","protocol":1}'
while read -r line; do
  id=$(echo "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
  case "$line" in
    *'"type":"build"'*) echo "{\"type\":\"result\",\"id\":$id,\"error\":\"OK\",\"so\":\"k.so\"}";;
    *) sleep 100;;
  esac
done
)sh");
  options.setupTimeoutS = 1;
  auto stuckMeasurer = makeProcessMeasurer(stuck.path, options);
  ASSERT_TRUE(bool(stuckMeasurer))
      << llvm::toString(stuckMeasurer.takeError());
  results = (*stuckMeasurer)->measure({request()});
  ASSERT_EQ(results.size(), 1u);
  expectError(results[0], ErrorCode::RunTimeout,
              "run set-up (loading the kernel, inputs, reference) took "
              "longer than 1 s");
}

TEST(MeasureHarness, DefaultWorkerPathIsNextToTheExecutable) {
  std::string path = defaultWorkerPath();
  EXPECT_EQ(llvm::sys::path::filename(path), "hatc-worker");
  EXPECT_EQ(llvm::sys::path::parent_path(path),
            llvm::sys::path::parent_path(HATC_WORKER_PATH));
}

TEST(MeasureHarness, SignalNames) {
  EXPECT_EQ(signalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signalName(SIGABRT), "SIGABRT");
  EXPECT_EQ(signalName(63), "signal 63");
}
