//===- Farm.cpp - Rank 0's farm measurer and the measuring ranks -----------===//
//
// The MPI-free half of the farm (see Farm.h; its messages are encoded in
// FarmWire.cpp): rank 0's scheduler (chunks, deadlines, drops, re-sends,
// the local fallback), the loop of a measuring rank, and the fixed-latency
// simulated device. The transport is an interface, so all of this runs in
// unit tests in memory.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Farm.h"
#include "hatc/Support/Time.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <set>
#include <thread>
#include <unistd.h>

namespace hatc::farm {

FarmTransport::~FarmTransport() = default;

namespace {

using Clock = std::chrono::steady_clock;

} // namespace

//===----------------------------------------------------------------------===//
// The simulated device
//===----------------------------------------------------------------------===//

namespace {

/// FNV-1a: stable across runs and builds (what the simulated throughput is
/// derived from ends up in a database).
uint64_t stableHash(const std::string &text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

class SimulatedMeasurer : public Measurer {
public:
  explicit SimulatedMeasurer(double seconds) : seconds(seconds) {}
  std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) override {
    std::vector<MeasureResult> results;
    for (const MeasureRequest &request : batch) {
      // One device: candidates take their time one after the other.
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      MeasureResult result;
      uint64_t h = stableHash(request.config.dump());
      result.gflops = 1.0 + double(h % 1000) / 10.0;
      result.seconds = seconds;
      result.samples = {seconds};
      result.runSeconds = seconds;
      // A hwacc record holds its cycles: made up like the throughput.
      bool hwacc = request.target.is_object()
                       ? request.target.value("kind", "") == "hwacc"
                       : request.target == "hwacc";
      if (hwacc)
        result.cycles = int64_t(1000000 + (h >> 16) % 9000000);
      result.extras["simulated_s"] = seconds;
      if (!request.sketch.empty())
        result.extras["sketch"] = request.sketch;
      results.push_back(std::move(result));
    }
    return results;
  }

private:
  double seconds;
};

void defaultLog(const std::string &line) {
  llvm::errs() << line << "\n";
  llvm::errs().flush();
}

/// Adds the wall time of its scope to `total`: rank 0's own work per
/// candidate (encoding, sending, decoding), what bounds the farm's size.
class Stopwatch {
public:
  explicit Stopwatch(double &total) : total(total), start(Clock::now()) {}
  ~Stopwatch() { total += secondsBetween(start, Clock::now()); }

private:
  double &total;
  Clock::time_point start;
};

//===----------------------------------------------------------------------===//
// Rank 0
//===----------------------------------------------------------------------===//

struct Rank {
  bool alive = false;
  Hello hello;
  std::vector<int> inFlight; // candidate indices of the chunk it holds
  Clock::time_point deadline;
};

class RankZeroMeasurer : public FarmMeasurer {
public:
  RankZeroMeasurer(FarmTransport &transport, FarmOptions options,
                  std::function<llvm::Expected<std::unique_ptr<Measurer>>()>
                      localFactory)
      : transport(transport), options(std::move(options)),
        localFactory(std::move(localFactory)) {
    if (!this->options.log)
      this->options.log = defaultLog;
    stats_.ranks = transport.size();
    ranks.resize(size_t(transport.size()));
    greet();
  }

  ~RankZeroMeasurer() override {
    // Every rank is told to stop, dropped ones too (a hung rank that wakes
    // up leaves instead of waiting for its idle timeout).
    for (int r = 1; r < transport.size(); ++r)
      transport.send(r, Tag::Stop, "");
    if (!transport.flush(10))
      options.log("hatc tune: farm: some ranks did not take their stop "
                  "message within 10 s");
  }

  FarmStats stats() const override { return stats_; }

  std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) override {
    auto started = Clock::now();
    std::vector<MeasureResult> results(batch.size());
    std::vector<bool> done(batch.size(), false);
    std::vector<int> attempts(batch.size(), 0);
    std::vector<std::string> droppedBy(batch.size());
    std::deque<int> queue;
    for (size_t i = 0; i < batch.size(); ++i)
      queue.push_back(int(i));
    size_t left = batch.size();
    // Ranks idle between batches hear from us: they leave when rank 0 has
    // been silent for idleTimeoutS, so a long search must not look dead.
    for (int r = 1; r < int(ranks.size()); ++r)
      if (ranks[size_t(r)].alive && ranks[size_t(r)].inFlight.empty())
        transport.send(r, Tag::Keepalive, "");

    while (left > 0) {
      if (options.interrupted && options.interrupted->load()) {
        for (size_t i = 0; i < batch.size(); ++i)
          if (!done[i])
            results[i].abandoned = true;
        // Whatever the ranks still hold is theirs to finish; its results
        // are ignored (a chunk is matched by candidate id).
        for (Rank &rank : ranks)
          rank.inFlight.clear();
        break;
      }
      bool busy = dispatch(batch, queue, attempts);
      // Candidates no rank can take: rank 0 measures them itself.
      std::vector<int> local = takeUnservable(batch, queue);
      if (!local.empty()) {
        measureLocally(batch, local, results);
        for (int i : local) {
          done[size_t(i)] = true;
          --left;
        }
        continue;
      }
      bool heard = receive(results, done, left);
      expire(queue, attempts, results, done, left, droppedBy);
      if (!heard && !busy)
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    idBase += batch.size();
    stats_.candidates += int64_t(batch.size());
    stats_.measureWallS += secondsBetween(started, Clock::now());
    return results;
  }

private:
  /// Waits (bounded) for every rank's Hello.
  void greet() {
    int expected = transport.size() - 1;
    if (expected == 0)
      return;
    Clock::time_point deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options.helloTimeoutS));
    int heard = 0;
    while (heard < expected && Clock::now() < deadline) {
      std::optional<Envelope> envelope = transport.poll();
      if (!envelope) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (envelope->tag != Tag::Hello || envelope->from <= 0 ||
          envelope->from >= transport.size() ||
          ranks[size_t(envelope->from)].alive)
        continue;
      ++heard;
      auto hello = decodeHello(envelope->bytes);
      if (!hello) {
        options.log("hatc tune: warning: farm rank " +
                    std::to_string(envelope->from) + ": " +
                    llvm::toString(hello.takeError()) + "; dropped");
        continue;
      }
      if (hello->protocol != kFarmProtocol) {
        options.log("hatc tune: warning: farm rank " +
                    std::to_string(envelope->from) + " speaks protocol " +
                    std::to_string(hello->protocol) + ", expected " +
                    std::to_string(kFarmProtocol) + "; dropped");
        continue;
      }
      Rank &rank = ranks[size_t(envelope->from)];
      rank.alive = true;
      rank.hello = std::move(*hello);
      rank.hello.slots = std::max(1, rank.hello.slots);
    }
    std::map<std::string, std::vector<int>> byTarget;
    for (int r = 1; r < transport.size(); ++r) {
      if (!ranks[size_t(r)].alive) {
        if (heard < expected)
          options.log("hatc tune: warning: farm rank " + std::to_string(r) +
                      " did not announce itself within " +
                      formatLimit(options.helloTimeoutS) + "; dropped");
        continue;
      }
      const Hello &h = ranks[size_t(r)].hello;
      byTarget[h.kind + " " + h.name + " (" + h.fingerprint + ")"].push_back(r);
    }
    std::string line = "hatc tune: farm of " +
                       std::to_string(transport.size()) + " ranks:";
    const char *separator = " ";
    for (const auto &[target, members] : byTarget) {
      line += separator + std::to_string(members.size()) + " measuring on " +
              target;
      separator = "; ";
    }
    if (byTarget.empty())
      line += " none measuring (rank 0 measures)";
    options.log(line);
  }

  std::string fingerprintOf(const MeasureRequest &request) {
    std::string key = request.target.dump();
    auto found = fingerprints.find(key);
    if (found != fingerprints.end())
      return found->second;
    std::string fingerprint;
    // What MeasureRequest::target may hold: a description, a string that
    // resolveTarget takes, or null for the cpu.
    // "path" (where makeRequest says the description came from) is not
    // part of the description a rank resolved, nor of its fingerprint.
    nlohmann::json description = request.target;
    if (description.is_object())
      description.erase("path");
    llvm::Expected<Target> target =
        description.is_object()
            ? parseTarget(description, "the candidate's target")
            : resolveTarget(request.target.is_string()
                                ? request.target.get<std::string>()
                                : "cpu");
    if (target)
      fingerprint = target->fingerprint();
    else
      llvm::consumeError(target.takeError());
    return fingerprints[key] = fingerprint;
  }

  bool serves(const Rank &rank, const MeasureRequest &request) {
    return rank.alive && !fingerprintOf(request).empty() &&
           rank.hello.fingerprint == fingerprintOf(request);
  }

  const std::string &workloadText(const std::string &path) {
    auto found = workloads.find(path);
    if (found != workloads.end())
      return found->second;
    auto buffer = llvm::MemoryBuffer::getFile(path);
    // An unreadable file goes out empty: the rank's worker reports the
    // load failure as the candidate's BUILD_ERROR, as a local one would.
    return workloads[path] = buffer ? (*buffer)->getBuffer().str() : "";
  }

  /// Sends chunks to idle ranks; true if it sent anything.
  bool dispatch(const std::vector<MeasureRequest> &batch,
                std::deque<int> &queue, std::vector<int> &attempts) {
    bool sent = false;
    int n = int(ranks.size());
    for (int step = 0; step < n - 1 && !queue.empty(); ++step) {
      int r = 1 + (nextRank - 1 + step) % (n - 1);
      Rank &rank = ranks[size_t(r)];
      if (!rank.alive || !rank.inFlight.empty())
        continue;
      int idle = 0;
      for (const Rank &other : ranks)
        idle += other.alive && other.inFlight.empty();
      size_t share = (queue.size() + size_t(idle) - 1) / size_t(idle);
      size_t chunkSize =
          std::max<size_t>(1, std::min<size_t>(size_t(rank.hello.slots), share));
      std::vector<WireCandidate> work;
      std::vector<int> chunk;
      for (auto it = queue.begin();
           it != queue.end() && chunk.size() < chunkSize;) {
        const MeasureRequest &request = batch[size_t(*it)];
        if (!serves(rank, request)) {
          ++it;
          continue;
        }
        WireCandidate c;
        c.id = uint64_t(*it) + idBase;
        c.workloadName = llvm::sys::path::filename(request.workloadPath).str();
        c.workloadText = workloadText(request.workloadPath);
        c.entry = request.entry;
        c.targetJson = request.target.dump();
        c.sketch = request.sketch;
        c.configJson = request.config.dump();
        c.script = request.script;
        c.fault = request.fault;
        work.push_back(std::move(c));
        chunk.push_back(*it);
        it = queue.erase(it);
      }
      if (chunk.empty())
        continue;
      for (int i : chunk)
        ++attempts[size_t(i)];
      bool delivered;
      {
        Stopwatch watch(stats_.dispatchS);
        delivered = transport.send(r, Tag::Work, encode(work));
      }
      if (!delivered) {
        drop(r, "cannot be reached");
        for (auto it = chunk.rbegin(); it != chunk.rend(); ++it)
          queue.push_front(*it);
        continue;
      }
      double perCandidate =
          options.timeoutS > 0
              ? options.timeoutS
              : options.measure.buildTimeoutS + options.measure.setupTimeoutS +
                    options.measure.runTimeoutS + 60;
      rank.inFlight = chunk;
      rank.deadline = Clock::now() +
                      std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(
                              perCandidate * double(chunk.size())));
      nextRank = r % (n - 1) + 1;
      sent = true;
    }
    return sent;
  }

  /// Queued candidates that no live rank can measure.
  std::vector<int> takeUnservable(const std::vector<MeasureRequest> &batch,
                                  std::deque<int> &queue) {
    std::vector<int> local;
    for (auto it = queue.begin(); it != queue.end();) {
      bool anyone = false;
      for (const Rank &rank : ranks)
        anyone |= serves(rank, batch[size_t(*it)]);
      if (anyone) {
        ++it;
        continue;
      }
      local.push_back(*it);
      it = queue.erase(it);
    }
    return local;
  }

  void measureLocally(const std::vector<MeasureRequest> &batch,
                      const std::vector<int> &indices,
                      std::vector<MeasureResult> &results) {
    if (!localMeasurer) {
      if (transport.size() > 1)
        options.log("hatc tune: warning: farm: no rank left with the "
                    "candidates' target; rank 0 measures them itself");
      auto made = localFactory();
      if (!made) {
        std::string why = llvm::toString(made.takeError());
        for (int i : indices) {
          results[size_t(i)].error = db::ErrorCode::DeviceUnavailable;
          results[size_t(i)].message = "farm: no rank can measure this "
                                       "target and rank 0 cannot either: " +
                                       why;
        }
        return;
      }
      localMeasurer = std::move(*made);
    }
    std::vector<MeasureRequest> requests;
    for (int i : indices)
      requests.push_back(batch[size_t(i)]);
    std::vector<MeasureResult> measured = localMeasurer->measure(requests);
    for (size_t k = 0; k < indices.size() && k < measured.size(); ++k)
      results[size_t(indices[k])] = std::move(measured[k]);
    stats_.local += int64_t(indices.size());
  }

  /// Takes in every message that has arrived; true if there was one.
  bool receive(std::vector<MeasureResult> &results, std::vector<bool> &done,
               size_t &left) {
    bool any = false;
    while (std::optional<Envelope> envelope = transport.poll()) {
      any = true;
      if (envelope->tag != Tag::Results || envelope->from <= 0 ||
          envelope->from >= int(ranks.size()))
        continue; // a late Hello, or noise: nothing to do
      Rank &rank = ranks[size_t(envelope->from)];
      if (!rank.alive)
        continue; // dropped: its candidates went elsewhere
      Stopwatch watch(stats_.dispatchS);
      auto decoded = decodeResults(envelope->bytes);
      if (!decoded) {
        // Dropped with its chunk in flight: expire() re-queues it now.
        drop(envelope->from, llvm::toString(decoded.takeError()));
        continue;
      }
      for (WireResult &wire : *decoded) {
        if (wire.id < idBase || wire.id - idBase >= results.size())
          continue; // a chunk of an earlier batch (after an interrupt)
        int index = int(wire.id - idBase);
        auto held = std::find(rank.inFlight.begin(), rank.inFlight.end(), index);
        if (held == rank.inFlight.end() || done[size_t(index)])
          continue;
        rank.inFlight.erase(held);
        results[size_t(index)] = std::move(wire.result);
        done[size_t(index)] = true;
        --left;
      }
      measuringRanks.insert(envelope->from);
      stats_.measuringRanks = int(measuringRanks.size());
    }
    return any;
  }

  /// Ranks past their deadline are dropped; their candidates are sent
  /// again, or after kMaxAttempts sends recorded RUN_TIMEOUT.
  void expire(std::deque<int> &queue, std::vector<int> &attempts,
              std::vector<MeasureResult> &results, std::vector<bool> &done,
              size_t &left, std::vector<std::string> &droppedBy) {
    Clock::time_point now = Clock::now();
    for (int r = 1; r < int(ranks.size()); ++r) {
      Rank &rank = ranks[size_t(r)];
      bool dead = !rank.alive && !rank.inFlight.empty(); // dropped on a bad message
      if (!dead && (!rank.alive || rank.inFlight.empty() || now < rank.deadline))
        continue;
      std::vector<int> lost = std::move(rank.inFlight);
      rank.inFlight.clear();
      if (!dead)
        drop(r, "did not answer for " + std::to_string(lost.size()) +
                    " candidate(s) within its deadline");
      for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
        int i = *it;
        droppedBy[size_t(i)] += (droppedBy[size_t(i)].empty() ? "" : ", ") +
                                std::to_string(r);
        if (attempts[size_t(i)] < kMaxAttempts) {
          queue.push_front(i);
          ++stats_.resent;
          continue;
        }
        results[size_t(i)].error = db::ErrorCode::RunTimeout;
        results[size_t(i)].message =
            "farm: no answer from the ranks it was sent to (" +
            droppedBy[size_t(i)] + ")";
        done[size_t(i)] = true;
        --left;
      }
    }
  }

  void drop(int r, const std::string &why) {
    Rank &rank = ranks[size_t(r)];
    if (!rank.alive)
      return;
    rank.alive = false;
    ++stats_.dropped;
    options.log("hatc tune: warning: farm rank " + std::to_string(r) + " (" +
                rank.hello.host + ") " + why + "; dropped" +
                (rank.inFlight.empty() ? "" : ", its candidates re-sent"));
  }

  FarmTransport &transport;
  FarmOptions options;
  std::function<llvm::Expected<std::unique_ptr<Measurer>>()> localFactory;
  std::unique_ptr<Measurer> localMeasurer;
  std::vector<Rank> ranks; // by rank; ranks[0] unused
  std::map<std::string, std::string> fingerprints; // target JSON -> fingerprint
  std::map<std::string, std::string> workloads;    // path -> text
  std::set<int> measuringRanks;
  int nextRank = 1;
  /// Candidate ids are unique over the run: batch index + idBase, which
  /// moves past every batch, so a late answer cannot match a later batch.
  uint64_t idBase = 1;
  FarmStats stats_;
};

//===----------------------------------------------------------------------===//
// A measuring rank
//===----------------------------------------------------------------------===//

/// Writes each workload text once into the rank's folder; the path.
class WorkloadFiles {
public:
  WorkloadFiles() {
    llvm::SmallString<128> dir;
    // Named like the harness's scratch folders, so that the folder of a
    // rank that was killed is removed by the next measurer on this host
    // (removeStaleScratchFolders).
    if (!llvm::sys::fs::createUniqueDirectory(
            std::string(kScratchPrefix) + "-" + std::to_string(::getpid()),
            dir))
      folder = std::string(dir);
  }
  ~WorkloadFiles() { remove(); }
  void remove() {
    if (!folder.empty())
      llvm::sys::fs::remove_directories(folder);
    folder.clear();
  }
  llvm::Expected<std::string> pathFor(const WireCandidate &c) {
    uint64_t h = stableHash(c.workloadText);
    auto found = paths.find(h);
    if (found != paths.end())
      return found->second;
    if (folder.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "farm rank: no scratch folder");
    llvm::SmallString<128> path(folder);
    std::string name = c.workloadName.empty() ? "workload.mlir" : c.workloadName;
    llvm::sys::path::append(path, std::to_string(paths.size()) + "-" + name);
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    if (!ec) {
      out << c.workloadText;
      out.close();
      if (out.has_error())
        ec = out.error();
    }
    if (ec)
      return llvm::createStringError(ec, "farm rank: cannot write " +
                                             std::string(path) + ": " +
                                             ec.message());
    return paths[h] = std::string(path);
  }

private:
  std::string folder;
  std::map<uint64_t, std::string> paths;
};

} // namespace

std::unique_ptr<Measurer> makeSimulatedMeasurer(double seconds) {
  return std::make_unique<SimulatedMeasurer>(seconds);
}

std::unique_ptr<FarmMeasurer> makeFarmMeasurer(
    FarmTransport &transport, FarmOptions options,
    std::function<llvm::Expected<std::unique_ptr<Measurer>>()> localFactory) {
  return std::make_unique<RankZeroMeasurer>(transport, std::move(options),
                                               std::move(localFactory));
}

int serveFarmRank(FarmTransport &transport, const Target &target,
                  Measurer &local, const FarmOptions &givenOptions) {
  FarmOptions options = givenOptions;
  if (!options.log)
    options.log = defaultLog;
  std::string me = "hatc tune: farm rank " + std::to_string(transport.rank());
  std::string faultKind;
  if (!options.fault.empty()) {
    auto fault = parseFault(options.fault);
    if (!fault) {
      options.log(me + ": " + llvm::toString(fault.takeError()));
      return 1;
    }
    if (fault->first == transport.rank())
      faultKind = fault->second;
  }
  Hello hello;
  hello.kind = targetKindName(target.kind);
  hello.name = target.name;
  hello.fingerprint = target.fingerprint();
  hello.host = transport.hostName();
  hello.slots = options.simulateS > 0
                    ? 1
                    : std::max(1, options.measure.buildWorkers > 0
                                      ? options.measure.buildWorkers
                                      : hostCores());
  transport.send(0, Tag::Hello, encode(hello));

  WorkloadFiles files;
  auto idle = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.idleTimeoutS));
  Clock::time_point lastHeard = Clock::now();
  std::optional<Clock::time_point> leaveBy;
  bool firstWork = true;
  for (;;) {
    // Ctrl-C on mpirun reaches every rank. This one keeps serving so rank
    // 0 can record what came back and say how to resume; rank 0's stop
    // follows at once, so not hearing it soon means rank 0 is gone.
    if (options.interrupted && options.interrupted->load() && !leaveBy)
      leaveBy = Clock::now() + std::chrono::seconds(10);
    if (leaveBy && Clock::now() > *leaveBy) {
      options.log(me + ": interrupted, and no stop from rank 0; leaving");
      return 130;
    }
    std::optional<Envelope> envelope = transport.poll();
    if (!envelope) {
      if (Clock::now() - lastHeard > idle) {
        options.log(me + ": nothing from rank 0 for " +
                    formatLimit(options.idleTimeoutS) + "; leaving");
        transport.flush(5);
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    lastHeard = Clock::now();
    if (envelope->from != 0)
      continue;
    if (envelope->tag == Tag::Stop)
      break;
    if (envelope->tag != Tag::Work)
      continue;
    auto work = decodeWork(envelope->bytes);
    std::vector<WireResult> results;
    if (!work) {
      options.log(me + ": " + llvm::toString(work.takeError()));
      continue; // rank 0's deadline re-sends the chunk elsewhere
    }
    if (firstWork && faultKind == "exit") {
      options.log(me + ": exiting (test fault)");
      files.remove(); // _exit runs no destructor
      ::_exit(0);
    }
    if (firstWork && faultKind == "hang") {
      options.log(me + ": hanging for " + formatLimit(options.hangS) +
                  " (test fault)");
      std::this_thread::sleep_for(std::chrono::duration<double>(options.hangS));
    }
    std::vector<MeasureRequest> requests;
    std::vector<uint64_t> ids;
    for (WireCandidate &c : *work) {
      auto path = files.pathFor(c);
      WireResult failed;
      failed.id = c.id;
      MeasureRequest request;
      request.target = nlohmann::json::parse(c.targetJson, nullptr, false);
      request.config = nlohmann::json::parse(c.configJson, nullptr, false);
      if (!path || request.target.is_discarded() ||
          request.config.is_discarded()) {
        failed.result.error = db::ErrorCode::BuildError;
        failed.result.message =
            path ? me + ": unreadable target or config"
                 : llvm::toString(path.takeError());
        results.push_back(std::move(failed));
        continue;
      }
      request.workloadPath = *path;
      request.entry = c.entry;
      request.sketch = c.sketch;
      request.script = c.script;
      request.fault = c.fault;
      if (firstWork && faultKind == "worker-crash" && requests.empty())
        request.fault = "segfault";
      requests.push_back(std::move(request));
      ids.push_back(c.id);
    }
    firstWork = false;
    std::vector<MeasureResult> measured = local.measure(requests);
    for (size_t i = 0; i < ids.size() && i < measured.size(); ++i)
      results.push_back({ids[i], std::move(measured[i])});
    transport.send(0, Tag::Results, encode(results));
  }
  transport.flush(10);
  return 0;
}

} // namespace hatc::farm
