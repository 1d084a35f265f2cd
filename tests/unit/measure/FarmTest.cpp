//===- FarmTest.cpp - The farm's scheduling over an in-memory transport ---===//
//
// Rank 0's farm measurer and the measuring ranks' loop, without MPI: the
// ranks are threads talking through in-memory mailboxes, their devices the
// simulated one (no latency) or none at all (a rank that falls silent).
// The real mpirun runs are in tests/farm.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Farm.h"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace hatc;
using namespace hatc::farm;
using db::ErrorCode;

namespace {

struct Hub {
  explicit Hub(int ranks) : boxes(size_t(ranks)) {}
  std::mutex mutex;
  std::vector<std::deque<Envelope>> boxes;
};

class MemoryTransport : public FarmTransport {
public:
  MemoryTransport(Hub &hub, int me) : hub(hub), me(me) {}
  int rank() const override { return me; }
  int size() const override { return int(hub.boxes.size()); }
  bool send(int to, Tag tag, std::string bytes) override {
    std::lock_guard<std::mutex> lock(hub.mutex);
    hub.boxes[size_t(to)].push_back({me, tag, std::move(bytes)});
    return true;
  }
  std::optional<Envelope> poll() override {
    std::lock_guard<std::mutex> lock(hub.mutex);
    auto &box = hub.boxes[size_t(me)];
    if (box.empty())
      return std::nullopt;
    Envelope envelope = std::move(box.front());
    box.pop_front();
    return envelope;
  }
  bool flush(double) override { return true; }
  std::string hostName() const override { return "host" + std::to_string(me); }

private:
  Hub &hub;
  int me;
};

Target hwacc() {
  auto target = resolveTarget("hwacc");
  EXPECT_TRUE(bool(target));
  return target ? *target : Target();
}

Target cpu() {
  auto target = resolveTarget("cpu");
  EXPECT_TRUE(bool(target));
  return target ? *target : Target();
}

std::vector<MeasureRequest> requests(int count) {
  std::vector<MeasureRequest> batch;
  batch.resize(size_t(count));
  for (int i = 0; i < count; ++i) {
    batch[size_t(i)].workloadPath = "/nonexistent/w.mlir";
    batch[size_t(i)].target = hwacc().params;
    batch[size_t(i)].target["path"] = "configs/targets/hwacc.json";
    batch[size_t(i)].sketch = "s";
    batch[size_t(i)].config = {{"sketch", "s"}, {"i", i}};
  }
  return batch;
}

/// A job of `ranks` ranks: rank 0 in the test's thread, the ranks in
/// `serving` measure (simulated, no latency) on their target, the others
/// announce themselves and then never answer.
struct Job {
  Job(int ranks, std::set<int> serving, Target target = hwacc())
      : hub(ranks) {
    options.log = [this](const std::string &line) {
      std::lock_guard<std::mutex> lock(logMutex);
      log += line + "\n";
    };
    options.timeoutS = 0.3;
    options.helloTimeoutS = 5;
    for (int r = 1; r < ranks; ++r) {
      transports.push_back(std::make_unique<MemoryTransport>(hub, r));
      MemoryTransport *transport = transports.back().get();
      if (!serving.count(r)) {
        Hello hello;
        hello.kind = targetKindName(target.kind);
        hello.name = target.name;
        hello.fingerprint = target.fingerprint();
        hello.host = transport->hostName();
        transport->send(0, Tag::Hello, encode(hello));
        continue;
      }
      threads.emplace_back([transport, target, this] {
        auto device = makeSimulatedMeasurer(0);
        FarmOptions rankOptions;
        rankOptions.log = options.log;
        rankOptions.simulateS = 1e-9;
        EXPECT_EQ(serveFarmRank(*transport, target, *device, rankOptions), 0);
      });
    }
    rank0 = std::make_unique<MemoryTransport>(hub, 0);
  }
  std::unique_ptr<FarmMeasurer> measurer() {
    return makeFarmMeasurer(
        *rank0, options, [this]() -> llvm::Expected<std::unique_ptr<Measurer>> {
          ++localMade;
          return makeSimulatedMeasurer(0);
        });
  }
  ~Job() {
    for (std::thread &t : threads)
      t.join();
  }
  Hub hub;
  FarmOptions options;
  std::vector<std::unique_ptr<MemoryTransport>> transports;
  std::unique_ptr<MemoryTransport> rank0;
  std::vector<std::thread> threads;
  std::mutex logMutex;
  std::string log;
  int localMade = 0;
};

/// What the simulated device answers for request `i` of requests().
MeasureResult expected(int i) {
  return makeSimulatedMeasurer(0)->measure({requests(i + 1)[size_t(i)]})[0];
}

TEST(Farm, WireRoundTripKeepsEveryField) {
  MeasureResult result;
  result.error = ErrorCode::WrongAnswer;
  result.message = "differs";
  result.samples = {0.5, 0.25};
  result.seconds = 0.3;
  result.cv = 0.01;
  result.cycles = 123456789012;
  result.gflops = 42.5;
  result.threads = 7;
  result.maxRelErr = 0.125;
  result.buildSeconds = 1.5;
  result.runSeconds = 2.5;
  result.extras = {{"utilization", 0.5}};
  auto decoded = decodeResults(encode(std::vector<WireResult>{{99, result}}));
  ASSERT_TRUE(bool(decoded)) << llvm::toString(decoded.takeError());
  ASSERT_EQ(decoded->size(), 1u);
  const MeasureResult &back = (*decoded)[0].result;
  EXPECT_EQ((*decoded)[0].id, 99u);
  EXPECT_EQ(back.error, ErrorCode::WrongAnswer);
  EXPECT_EQ(back.message, "differs");
  EXPECT_EQ(back.samples, result.samples);
  EXPECT_EQ(back.cycles, result.cycles);
  EXPECT_EQ(back.threads, result.threads);
  EXPECT_EQ(back.gflops, 42.5);
  EXPECT_EQ(back.maxRelErr, 0.125);
  EXPECT_EQ(back.buildSeconds, 1.5);
  EXPECT_EQ(back.runSeconds, 2.5);
  EXPECT_EQ(back.extras, result.extras);

  MeasureResult none; // no cycles, no threads: they stay unset
  auto plain = decodeResults(encode(std::vector<WireResult>{{1, none}}));
  ASSERT_TRUE(bool(plain));
  EXPECT_FALSE((*plain)[0].result.cycles.has_value());
  EXPECT_FALSE((*plain)[0].result.threads.has_value());

  WireCandidate c{7, "w.mlir", "func.func @f()", "f", "{}", "s", "{\"a\":1}",
                  "script", ""};
  auto work = decodeWork(encode(std::vector<WireCandidate>{c}));
  ASSERT_TRUE(bool(work));
  EXPECT_EQ((*work)[0].workloadText, c.workloadText);
  EXPECT_EQ((*work)[0].configJson, c.configJson);
  EXPECT_EQ((*work)[0].script, c.script);
}

TEST(Farm, MalformedMessagesAreErrorsNotCrashes) {
  std::string bytes = encode(std::vector<WireResult>{{1, MeasureResult()}});
  for (size_t cut : {size_t(0), size_t(1), size_t(9), bytes.size() - 1}) {
    auto decoded = decodeResults(bytes.substr(0, cut));
    EXPECT_FALSE(bool(decoded)) << "cut at " << cut;
    llvm::consumeError(decoded.takeError());
  }
  auto trailing = decodeResults(bytes + "x");
  ASSERT_FALSE(bool(trailing));
  EXPECT_NE(llvm::toString(trailing.takeError()).find("trailing"),
            std::string::npos);
  auto hello = decodeHello(encode(Hello()) + "junk");
  EXPECT_FALSE(bool(hello));
  llvm::consumeError(hello.takeError());
}

TEST(Farm, CandidatesAreSpreadOverTheRanksAndComeBackInOrder) {
  Job job(4, {1, 2, 3});
  auto measurer = job.measurer();
  std::vector<MeasureResult> results = measurer->measure(requests(12));
  ASSERT_EQ(results.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_TRUE(results[size_t(i)].ok()) << results[size_t(i)].message;
    EXPECT_EQ(results[size_t(i)].gflops, expected(i).gflops) << i;
    EXPECT_EQ(results[size_t(i)].cycles, expected(i).cycles) << i;
  }
  // A second batch reuses the ranks.
  EXPECT_EQ(measurer->measure(requests(5)).size(), 5u);
  FarmStats stats = measurer->stats();
  EXPECT_EQ(stats.measuringRanks, 3);
  EXPECT_EQ(stats.candidates, 17);
  EXPECT_EQ(stats.local, 0);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(job.localMade, 0);
}

TEST(Farm, SilentRankIsDroppedAndItsCandidatesGoElsewhere) {
  Job job(3, {1}); // rank 2 announces itself, then never answers
  auto measurer = job.measurer();
  std::vector<MeasureResult> results = measurer->measure(requests(6));
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(results[size_t(i)].ok()) << i << ": " << results[size_t(i)].message;
  FarmStats stats = measurer->stats();
  EXPECT_EQ(stats.dropped, 1);
  EXPECT_GE(stats.resent, 1);
  EXPECT_NE(job.log.find("farm rank 2 (host2) did not answer"),
            std::string::npos)
      << job.log;
}

TEST(Farm, CandidateNoRankAnswersIsRecordedRunTimeout) {
  Job job(3, {}); // both ranks fall silent
  auto measurer = job.measurer();
  std::vector<MeasureResult> results = measurer->measure(requests(1));
  // Sent to rank 1, then rank 2: kMaxAttempts sends, no answer.
  EXPECT_EQ(results[0].error, ErrorCode::RunTimeout);
  EXPECT_NE(results[0].message.find("1, 2"), std::string::npos)
      << results[0].message;
  EXPECT_EQ(measurer->stats().dropped, 2);
  // The next batch has no rank left: rank 0 measures it.
  results = measurer->measure(requests(2));
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(job.localMade, 1);
}

TEST(Farm, RankWithAnotherTargetGetsNothing) {
  Job job(2, {1}, cpu()); // rank 1 has a cpu; the candidates are hwacc
  auto measurer = job.measurer();
  std::vector<MeasureResult> results = measurer->measure(requests(3));
  for (const MeasureResult &r : results)
    EXPECT_TRUE(r.ok());
  EXPECT_EQ(measurer->stats().local, 3);
  EXPECT_EQ(measurer->stats().measuringRanks, 0);
  EXPECT_NE(job.log.find("rank 0 measures them itself"), std::string::npos)
      << job.log;
}

TEST(Farm, InterruptAbandonsWhatIsNotMeasured) {
  Job job(2, {}); // rank 1 never answers, so nothing completes by itself
  std::atomic<bool> interrupted{false};
  job.options.interrupted = &interrupted;
  job.options.timeoutS = 60;
  auto measurer = job.measurer();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    interrupted = true;
  });
  std::vector<MeasureResult> results = measurer->measure(requests(3));
  stopper.join();
  for (const MeasureResult &r : results)
    EXPECT_TRUE(r.abandoned);
}

TEST(Farm, FaultSpecIsChecked) {
  auto fault = parseFault("3:hang");
  ASSERT_TRUE(bool(fault));
  EXPECT_EQ(fault->first, 3);
  EXPECT_EQ(fault->second, "hang");
  for (const char *bad : {"0:hang", "hang", "2:", "x:exit", "1:explode"}) {
    auto wrong = parseFault(bad);
    EXPECT_FALSE(bool(wrong)) << bad;
    llvm::consumeError(wrong.takeError());
  }
}

} // namespace
