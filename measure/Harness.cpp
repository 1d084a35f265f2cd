//===- Harness.cpp - Measuring candidates in hatc-worker processes --------===//
//
// The parent side of the worker protocol (see Worker.h): a pool of worker
// processes, a single-threaded poll() loop that reads their messages and
// stderr, and the deadlines that decide when a worker is killed. The parent
// never runs candidate code itself, so whatever a candidate does, the worst
// outcome is a dead worker and an error code.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Harness.h"
#include "hatc/Measure/Worker.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/TempDir.h"
#include "hatc/Support/Time.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace hatc {

Measurer::~Measurer() = default;

std::string signalName(int signal) {
  switch (signal) {
  case SIGSEGV: return "SIGSEGV";
  case SIGABRT: return "SIGABRT";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGKILL: return "SIGKILL";
  case SIGTERM: return "SIGTERM";
  case SIGTRAP: return "SIGTRAP";
  case SIGSYS: return "SIGSYS";
  case SIGPIPE: return "SIGPIPE";
  case SIGXCPU: return "SIGXCPU";
  case SIGXFSZ: return "SIGXFSZ";
  case SIGINT: return "SIGINT";
  case SIGHUP: return "SIGHUP";
  default: return "signal " + std::to_string(signal);
  }
}

std::string defaultWorkerPath() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return "hatc-worker";
  llvm::SmallString<256> path(llvm::sys::path::parent_path(
      llvm::StringRef(self, size_t(n))));
  llvm::sys::path::append(path, "hatc-worker");
  return std::string(path);
}

namespace {

using Clock = std::chrono::steady_clock;
using db::ErrorCode;
using nlohmann::json;

/// Consecutive workers that die or stall before "ready" before the queued
/// candidates are failed instead of retried forever (a missing library, a
/// broken build).
constexpr int kMaxStartFailures = 3;
/// How much of a worker's stderr is kept to explain its death.
constexpr size_t kStderrTail = 4096;
/// Times a candidate's request may fail to reach a worker (it died or
/// stopped reading before taking it) before the candidate is failed: the
/// request is sent again to a fresh worker, since nothing of the candidate
/// ran, but not forever.
constexpr int kMaxUndelivered = 3;
/// Bounds on waits that have no phase deadline of their own: writing a
/// request (a worker that stopped reading its input is broken), reaping a
/// worker after SIGKILL (one stuck in the kernel, in uninterruptible sleep),
/// and poll() when no worker has a deadline (the loop looks again).
constexpr double kSendTimeoutS = 10;
constexpr double kReapTimeoutS = 5;
constexpr int kIdlePollMs = 1000;

Clock::duration toDuration(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(0.0, seconds)));
}

/// poll()'s timeout until `deadline`: never negative (that would mean
/// "forever"), rounded up so a wake-up is not a hair early.
int millisecondsUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - Clock::now())
                  .count();
  return int(std::clamp<int64_t>(left + 1, 0, 60 * 60 * 1000));
}



/// The last non-empty line of a worker's stderr, for a death's message.
std::string lastLine(const std::string &text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos)
    return "";
  size_t begin = text.find_last_of('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  std::string line = text.substr(begin, end + 1 - begin);
  if (line.size() > 300)
    line = line.substr(0, 300) + "...";
  return line;
}

enum class Phase {
  Dead,     // no process
  Starting, // spawned, waiting for "ready" (set-up timeout)
  Idle,     // ready for a request
  Building, // build sent (build timeout)
  RunSetup, // run sent, not started yet (set-up timeout)
  Running,  // "run started" received (run timeout)
};

const char *phaseWhat(Phase phase) {
  switch (phase) {
  case Phase::Building: return "during the build";
  case Phase::RunSetup: return "while setting up the run";
  case Phase::Running: return "during the run";
  default: return "while idle";
  }
}

struct WorkerProcess {
  pid_t pid = -1;
  int channel = -1; // our end of the socket pair: requests out, replies in
  int stderrPipe = -1;
  std::string inbox; // bytes of a reply line not yet complete
  std::string stderrTail;
  Phase phase = Phase::Dead;
  Clock::time_point deadline;
  Clock::time_point phaseStart; // when sending the build or run began
  int candidate = -1;           // index of the candidate in its batch
  int64_t requestId = 0;
};

struct Candidate {
  const MeasureRequest *request = nullptr;
  MeasureResult result;
  std::string dir;
  std::string sharedObject;
  bool built = false;
  bool done = false; // result final (failed, or measured)
  int undelivered = 0; // requests that never reached a live worker
};

class ProcessMeasurer : public Measurer {
public:
  ProcessMeasurer(std::string workerPath, MeasureOptions options,
                  std::string scratch)
      : workerPath(std::move(workerPath)), options(options),
        scratch(std::move(scratch)) {
    int cores = hostCores();
    if (this->options.buildWorkers <= 0)
      this->options.buildWorkers = cores;
    if (this->options.run.threads <= 0)
      this->options.run.threads = cores;
    prepareSpawn();
  }

  ~ProcessMeasurer() override {
    for (WorkerProcess &worker : workers)
      if (worker.phase != Phase::Dead)
        reap(worker);
    reapLeftovers();
    llvm::sys::fs::remove_directories(scratch);
  }

  std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) override {
    if (batch.empty())
      return {};
    candidates.assign(batch.size(), Candidate());
    llvm::SmallString<128> batchDir(scratch);
    llvm::sys::path::append(batchDir, "batch-" + std::to_string(++batches));
    for (size_t i = 0; i < batch.size(); ++i) {
      candidates[i].request = &batch[i];
      llvm::SmallString<128> dir(batchDir);
      llvm::sys::path::append(dir, "c" + std::to_string(i));
      candidates[i].dir = std::string(dir);
    }
    buildAll();
    runAll();
    llvm::sys::fs::remove_directories(batchDir);

    std::vector<MeasureResult> results;
    results.reserve(candidates.size());
    for (Candidate &candidate : candidates)
      results.push_back(std::move(candidate.result));
    candidates.clear();
    return results;
  }

private:
  //===--------------------------------------------------------------------===//
  // Phases
  //===--------------------------------------------------------------------===//

  void buildAll() {
    std::deque<int> queue;
    for (size_t i = 0; i < candidates.size(); ++i)
      queue.push_back(int(i));
    size_t slots =
        std::min(size_t(options.buildWorkers), candidates.size());
    if (workers.size() < slots)
      workers.resize(slots);
    while (!queue.empty() || anyIn({Phase::Building})) {
      if (startFailures >= kMaxStartFailures) {
        failQueued(queue, ErrorCode::BuildError);
        continue;
      }
      for (size_t slot = 0; slot < slots && !queue.empty(); ++slot) {
        WorkerProcess &worker = workers[slot];
        if (worker.phase == Phase::Dead)
          spawn(worker);
        if (worker.phase == Phase::Idle) {
          int index = queue.front();
          queue.pop_front();
          if (!sendBuild(worker, index))
            redeliver(queue, index, ErrorCode::BuildError);
        }
      }
      pump();
    }
  }

  void runAll() {
    std::deque<int> queue;
    for (size_t i = 0; i < candidates.size(); ++i)
      if (candidates[i].built && !candidates[i].done)
        queue.push_back(int(i));
    if (queue.empty())
      return;
    if (workers.empty())
      workers.resize(1);
    // One runner, one run at a time; the other workers stay idle.
    WorkerProcess &runner = workers[0];
    while (!queue.empty() || anyIn({Phase::RunSetup, Phase::Running})) {
      if (startFailures >= kMaxStartFailures) {
        failQueued(queue, ErrorCode::RunError);
        continue;
      }
      // A worker still starting up (left over from the builds) would compete
      // with the kernel for the cores: let it finish first.
      bool othersStarting = false;
      for (size_t i = 1; i < workers.size(); ++i)
        othersStarting |= workers[i].phase == Phase::Starting;
      if (!queue.empty() && !othersStarting) {
        if (runner.phase == Phase::Dead)
          spawn(runner);
        if (runner.phase == Phase::Idle) {
          int index = queue.front();
          queue.pop_front();
          if (!sendRun(runner, index))
            redeliver(queue, index, ErrorCode::RunError);
        }
      }
      pump();
    }
  }

  void failQueued(std::deque<int> &queue, ErrorCode code) {
    for (int index : queue)
      finish(index, code,
             "hatc-worker (" + workerPath + ") failed to start " +
                 std::to_string(kMaxStartFailures) +
                 " times in a row: " + lastStartError);
    queue.clear();
    startFailures = 0;
  }

  /// A request that never reached a live worker: nothing of the candidate
  /// ran, so it goes back to the front of the queue for a fresh worker
  /// instead of taking the blame for the worker's death.
  void redeliver(std::deque<int> &queue, int index, ErrorCode code) {
    Candidate &candidate = candidates[size_t(index)];
    if (++candidate.undelivered < kMaxUndelivered) {
      queue.push_front(index);
      return;
    }
    finish(index, code,
           "hatc-worker (" + workerPath + ") died before taking the request " +
               std::to_string(kMaxUndelivered) +
               " times in a row: " + lastUndelivered);
  }

  bool anyIn(std::initializer_list<Phase> phases) const {
    for (const WorkerProcess &worker : workers)
      for (Phase phase : phases)
        if (worker.phase == phase)
          return true;
    return false;
  }

  void finish(int index, ErrorCode code, const std::string &message) {
    Candidate &candidate = candidates[size_t(index)];
    candidate.result.error = code;
    candidate.result.message = message;
    candidate.done = true;
  }

  //===--------------------------------------------------------------------===//
  // Requests
  //===--------------------------------------------------------------------===//

  /// Sends the candidate's build; false if it never reached the worker.
  bool sendBuild(WorkerProcess &worker, int index) {
    Candidate &candidate = candidates[size_t(index)];
    const MeasureRequest &request = *candidate.request;
    if (std::error_code ec =
            llvm::sys::fs::create_directories(candidate.dir)) {
      finish(index, ErrorCode::BuildError,
             "cannot create build folder " + candidate.dir + ": " +
                 ec.message());
      return true;
    }
    json message = {{"type", "build"},
                    {"id", ++requestIds},
                    {"workload", request.workloadPath},
                    {"entry", request.entry},
                    {"target", request.target},
                    {"config", request.config},
                    {"script", request.script},
                    {"sketch", request.sketch},
                    {"fault", request.fault},
                    {"dir", candidate.dir}};
    return dispatch(worker, index, Phase::Building, options.buildTimeoutS,
                    message);
  }

  /// Sends the candidate's run; false if it never reached the worker.
  bool sendRun(WorkerProcess &worker, int index) {
    Candidate &candidate = candidates[size_t(index)];
    const MeasureRequest &request = *candidate.request;
    json message = {
        {"type", "run"},
        {"id", ++requestIds},
        {"workload", request.workloadPath},
        {"entry", request.entry},
        {"target", request.target},
        {"config", request.config},
        {"fault", request.fault},
        {"so", candidate.sharedObject},
        {"options",
         {{"threads", options.run.threads},
          {"seed", options.run.seed},
          {"check", options.run.check},
          {"warmup", options.run.warmup},
          {"warmup_s", options.run.warmupSeconds},
          {"min_repeat", options.run.minRepeat},
          {"max_repeat", options.run.maxRepeat},
          {"min_time_s", options.run.minTimeSeconds},
          {"flush_cache", options.run.flushCache}}}};
    return dispatch(worker, index, Phase::RunSetup, options.setupTimeoutS,
                    message);
  }

  /// Writes the request and starts its phase. A worker can die between two
  /// requests (one that answered OUT_OF_MEMORY exits right after): then the
  /// write fails, the worker is reaped and false is returned, and the
  /// candidate is not charged with a death it did not cause. The channel is
  /// non-blocking, so a worker that stopped reading cannot stall us either.
  bool dispatch(WorkerProcess &worker, int index, Phase phase,
                double timeoutS, const json &message) {
    std::string line =
        message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    const char *data = line.data();
    size_t left = line.size();
    // The phase starts before the first byte goes out: once the request is
    // in the socket the worker may do all of its work before this thread
    // is scheduled again (2 busy cores), and the phase's time must still
    // hold everything the worker timed.
    Clock::time_point sendStart = Clock::now();
    Clock::time_point sendDeadline = sendStart + toDuration(kSendTimeoutS);
    while (left > 0) {
      // MSG_NOSIGNAL: a dead worker is an EPIPE here, not a SIGPIPE that
      // would take the tuner down.
      ssize_t n = ::send(worker.channel, data, left, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd out{worker.channel, POLLOUT, 0};
        if (::poll(&out, 1, millisecondsUntil(sendDeadline)) == 0 &&
            Clock::now() >= sendDeadline)
          return undelivered(worker, "stopped reading its requests (" +
                                         formatLimit(kSendTimeoutS) + ")");
        continue;
      }
      if (n <= 0) {
        std::string why = n < 0 ? std::strerror(errno) : "nothing written";
        std::optional<int> status = reap(worker);
        bool outOfMemory = false;
        return undelivered(worker, describeExit(status, outOfMemory) + " (" +
                                       why + ")", /*reaped=*/true);
      }
      data += n;
      left -= size_t(n);
    }
    worker.phase = phase;
    worker.candidate = index;
    worker.requestId = message["id"].get<int64_t>();
    worker.phaseStart = sendStart;
    worker.deadline = Clock::now() + toDuration(timeoutS);
    return true;
  }

  bool undelivered(WorkerProcess &worker, const std::string &how,
                   bool reaped = false) {
    if (!reaped)
      reap(worker);
    lastUndelivered = how;
    return false;
  }

  //===--------------------------------------------------------------------===//
  // The event loop
  //===--------------------------------------------------------------------===//

  /// Waits for the next message, stderr output, death or deadline, and
  /// handles it.
  void pump() {
    std::vector<pollfd> fds;
    std::vector<size_t> owners;
    std::optional<Clock::time_point> nearest;
    for (size_t i = 0; i < workers.size(); ++i) {
      WorkerProcess &worker = workers[i];
      if (worker.phase == Phase::Dead)
        continue;
      fds.push_back({worker.channel, POLLIN, 0});
      owners.push_back(i);
      if (worker.stderrPipe >= 0) {
        fds.push_back({worker.stderrPipe, POLLIN, 0});
        owners.push_back(i);
      }
      if (worker.phase != Phase::Idle &&
          (!nearest || worker.deadline < *nearest))
        nearest = worker.deadline;
    }
    if (fds.empty())
      return;
    // Never -1: with no deadline to wait for, the caller's loop must get to
    // look at its queue again rather than sleep on idle workers forever.
    int timeoutMs = nearest ? std::min(millisecondsUntil(*nearest), 60 * 1000)
                            : kIdlePollMs;
    int ready = ::poll(fds.data(), fds.size(), timeoutMs);
    if (ready < 0 && errno != EINTR)
      ready = 0;
    for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
      if (!fds[i].revents)
        continue;
      WorkerProcess &worker = workers[owners[i]];
      if (fds[i].fd == worker.stderrPipe)
        readStderr(worker);
      else if (fds[i].fd == worker.channel)
        readChannel(worker);
    }
    Clock::time_point now = Clock::now();
    for (WorkerProcess &worker : workers)
      if (worker.phase != Phase::Dead && worker.phase != Phase::Idle &&
          now >= worker.deadline)
        onTimeout(worker);
  }

  void readStderr(WorkerProcess &worker) {
    char buffer[8192];
    for (;;) {
      ssize_t n = ::read(worker.stderrPipe, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return; // EAGAIN: drained for now
      if (n == 0) {
        ::close(worker.stderrPipe);
        worker.stderrPipe = -1;
        return;
      }
      worker.stderrTail.append(buffer, size_t(n));
      if (worker.stderrTail.size() > 2 * kStderrTail)
        worker.stderrTail.erase(0, worker.stderrTail.size() - kStderrTail);
    }
  }

  void readChannel(WorkerProcess &worker) {
    char buffer[1 << 16];
    ssize_t n = ::read(worker.channel, buffer, sizeof(buffer));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      return;
    if (n <= 0) {
      onExit(worker);
      return;
    }
    worker.inbox.append(buffer, size_t(n));
    size_t newline;
    while (worker.phase != Phase::Dead &&
           (newline = worker.inbox.find('\n')) != std::string::npos) {
      std::string line = worker.inbox.substr(0, newline);
      worker.inbox.erase(0, newline + 1);
      onLine(worker, line);
    }
  }

  void onLine(WorkerProcess &worker, const std::string &line) {
    // A garbled message (wrong field types) must not throw out of measure().
    try {
      handleMessage(worker, line);
    } catch (const json::exception &e) {
      protocolError(worker, std::string("bad message (") + e.what() +
                                "): " + line.substr(0, 200));
    }
  }

  void handleMessage(WorkerProcess &worker, const std::string &line) {
    json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded() || !message.is_object() ||
        !message.contains("type") || !message["type"].is_string())
      return protocolError(worker, "unreadable message: " + line.substr(0, 200));
    std::string type = message["type"].get<std::string>();
    if (type == "ready" && worker.phase == Phase::Starting) {
      if (message.value("protocol", 0) != worker::kProtocolVersion)
        return protocolError(worker, "protocol version " +
                                         message["protocol"].dump() +
                                         ", expected " +
                                         std::to_string(worker::kProtocolVersion));
      worker.phase = Phase::Idle;
      startFailures = 0;
      return;
    }
    bool ours = message.contains("id") && message["id"].is_number_integer() &&
                message["id"].get<int64_t>() == worker.requestId;
    if (type == "run_started" && worker.phase == Phase::RunSetup && ours) {
      worker.phase = Phase::Running;
      worker.deadline = Clock::now() + toDuration(options.runTimeoutS);
      return;
    }
    if (type == "result" && ours && worker.phase == Phase::Building)
      return finishBuild(worker, message);
    if (type == "result" && ours &&
        (worker.phase == Phase::RunSetup || worker.phase == Phase::Running))
      return finishRun(worker, message);
    protocolError(worker, "unexpected message " + line.substr(0, 200));
  }

  /// Error code and message of a result message into `result`; true if OK.
  bool readOutcome(const json &message, MeasureResult &result) {
    std::string name = message.value("error", std::string("RUN_ERROR"));
    std::optional<ErrorCode> code = db::parseErrorCode(name);
    result.error = code ? *code : ErrorCode::RunError;
    result.message = message.value("message", std::string());
    if (!code)
      result.message = "hatc-worker reported unknown error code " + name +
                       ": " + result.message;
    if (message.contains("extras") && message["extras"].is_object())
      result.extras.update(message["extras"]);
    return result.error == ErrorCode::Ok;
  }

  void finishBuild(WorkerProcess &worker, const json &message) {
    Candidate &candidate = candidates[size_t(worker.candidate)];
    MeasureResult &result = candidate.result;
    result.buildSeconds = secondsBetween(worker.phaseStart, Clock::now());
    if (!candidate.request->sketch.empty())
      result.extras["sketch"] = candidate.request->sketch;
    if (readOutcome(message, result) && message.contains("so") &&
        message["so"].is_string()) {
      candidate.sharedObject = message["so"].get<std::string>();
      candidate.built = true;
    } else {
      if (result.ok()) {
        result.error = ErrorCode::BuildError;
        result.message = "hatc-worker reported a build without a shared object";
      }
      candidate.done = true;
    }
    worker.phase = Phase::Idle;
    worker.candidate = -1;
    if (message.value("retire", false))
      reap(worker);
  }

  void finishRun(WorkerProcess &worker, const json &message) {
    Candidate &candidate = candidates[size_t(worker.candidate)];
    MeasureResult &result = candidate.result;
    result.runSeconds = secondsBetween(worker.phaseStart, Clock::now());
    bool ok = readOutcome(message, result);
    result.maxRelErr = message.value("max_rel_err", 0.0);
    if (ok) {
      if (message.contains("samples") && message["samples"].is_array())
        result.samples = message["samples"].get<std::vector<double>>();
      result.seconds = message.value("seconds", 0.0);
      result.cv = message.value("cv", 0.0);
      result.gflops = message.value("gflops", 0.0);
      if (message.contains("cycles") && message["cycles"].is_number_integer())
        result.cycles = message["cycles"].get<int64_t>();
      if (message.contains("threads") &&
          message["threads"].is_number_integer())
        result.threads = message["threads"].get<int>();
    }
    candidate.done = true;
    worker.phase = Phase::Idle;
    worker.candidate = -1;
    // The worker cannot measure again (a GPU fault left its CUDA context
    // unusable, or it answered OUT_OF_MEMORY and is exiting): replace it
    // before the next candidate, not after blaming it.
    if (message.value("retire", false))
      reap(worker);
  }

  //===--------------------------------------------------------------------===//
  // Deaths and deadlines
  //===--------------------------------------------------------------------===//

  /// The worker's channel closed: it died (or is dying). Reap it and record
  /// how, for the candidate it held.
  void onExit(WorkerProcess &worker) {
    Phase phase = worker.phase;
    int index = worker.candidate;
    Clock::time_point started = worker.phaseStart;
    std::optional<int> status = reap(worker);
    std::string tail = lastLine(worker.stderrTail);
    bool outOfMemory = false;
    std::string how = describeExit(status, outOfMemory);
    if (phase == Phase::Starting) {
      ++startFailures;
      lastStartError = how + (tail.empty() ? "" : ": " + tail);
      return;
    }
    if (index < 0)
      return; // died between requests: replaced when next needed
    std::string message = "hatc-worker " + how + " " + phaseWhat(phase);
    if (!tail.empty() && !outOfMemory)
      message += ": " + tail;
    ErrorCode code = outOfMemory            ? ErrorCode::OutOfMemory
                     : phase == Phase::Building ? ErrorCode::BuildError
                                                : ErrorCode::RunError;
    recordPhaseTime(index, phase, started);
    finish(index, code, message);
  }

  /// How a reaped worker ended, for messages; sets outOfMemory when it
  /// exited with the worker's out-of-memory status.
  std::string describeExit(std::optional<int> status, bool &outOfMemory) {
    outOfMemory = false;
    if (!status)
      return "did not exit after SIGKILL";
    if (WIFSIGNALED(*status))
      return "crashed (" + signalName(WTERMSIG(*status)) + ")";
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == worker::kExitOutOfMemory) {
      outOfMemory = true;
      std::string how = "ran out of memory";
      if (options.memoryLimitBytes)
        how += " (address-space limit " +
               std::to_string(options.memoryLimitBytes >> 20) + " MiB)";
      return how;
    }
    return "exited with status " +
           std::to_string(WIFEXITED(*status) ? WEXITSTATUS(*status) : -1);
  }

  void onTimeout(WorkerProcess &worker) {
    Phase phase = worker.phase;
    int index = worker.candidate;
    Clock::time_point started = worker.phaseStart;
    reap(worker);
    if (phase == Phase::Starting) {
      ++startFailures;
      lastStartError = "not ready within the set-up timeout (" +
                       formatLimit(options.setupTimeoutS) + ")";
      return;
    }
    if (index < 0)
      return;
    recordPhaseTime(index, phase, started);
    if (phase == Phase::Building)
      return finish(index, ErrorCode::BuildTimeout,
                    "build took longer than " +
                        formatLimit(options.buildTimeoutS));
    if (phase == Phase::RunSetup)
      return finish(index, ErrorCode::RunTimeout,
                    "run set-up (loading the kernel, inputs, reference) took "
                    "longer than " +
                        formatLimit(options.setupTimeoutS));
    finish(index, ErrorCode::RunTimeout,
           "run took longer than " + formatLimit(options.runTimeoutS));
  }

  void recordPhaseTime(int index, Phase phase, Clock::time_point started) {
    double seconds = secondsBetween(started, Clock::now());
    MeasureResult &result = candidates[size_t(index)].result;
    (phase == Phase::Building ? result.buildSeconds : result.runSeconds) =
        seconds;
  }

  void protocolError(WorkerProcess &worker, const std::string &what) {
    Phase phase = worker.phase;
    int index = worker.candidate;
    Clock::time_point started = worker.phaseStart;
    reap(worker);
    if (phase == Phase::Starting) {
      ++startFailures;
      lastStartError = "protocol error: " + what;
      return;
    }
    if (index < 0)
      return;
    recordPhaseTime(index, phase, started);
    finish(index,
           phase == Phase::Building ? ErrorCode::BuildError
                                    : ErrorCode::RunError,
           "hatc-worker protocol error " + std::string(phaseWhat(phase)) +
               ": " + what);
  }

  //===--------------------------------------------------------------------===//
  // Processes
  //===--------------------------------------------------------------------===//

  /// argv and envp are built once, before any fork: between fork and exec
  /// the child may only make async-signal-safe calls.
  void prepareSpawn() {
    argvStorage = {workerPath};
    if (options.allowFaults)
      argvStorage.push_back("--allow-faults");
    // Temporaries of the worker and its children (the linker's) land in the
    // scratch folder, which is removed even when a worker was killed.
    for (char **env = environ; env && *env; ++env)
      if (std::strncmp(*env, "TMPDIR=", 7) != 0)
        envStorage.push_back(*env);
    envStorage.push_back("TMPDIR=" + scratch);
    for (std::string &arg : argvStorage)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    for (std::string &var : envStorage)
      envp.push_back(var.data());
    envp.push_back(nullptr);
    execFailure = "hatc-worker: cannot execute " + workerPath + "\n";
  }

  void spawn(WorkerProcess &worker) {
    worker = WorkerProcess();
    int channel[2], errors[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
      ++startFailures;
      lastStartError = std::string("socketpair: ") + std::strerror(errno);
      return;
    }
    if (::pipe2(errors, O_CLOEXEC) != 0) {
      ++startFailures;
      lastStartError = std::string("pipe: ") + std::strerror(errno);
      ::close(channel[0]);
      ::close(channel[1]);
      return;
    }
    // Soft limit only: a worker asked to run GPU kernels lifts it, since the
    // CUDA driver reserves far more address space than it uses.
    rlimit memory{rlim_t(options.memoryLimitBytes), RLIM_INFINITY};
    rlimit noCore{0, 0};
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // Its own process group, so a kill reaches the linker it may be
      // running too; no core files from crashing candidates.
      ::setpgid(0, 0);
      // A worker spinning in a candidate's loop would outlive a parent that
      // died; this takes it down with the parent (strictly: with the thread
      // that forked it, so measure() from a long-lived thread).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent)
        ::_exit(127);
      if (options.memoryLimitBytes)
        ::setrlimit(RLIMIT_AS, &memory);
      ::setrlimit(RLIMIT_CORE, &noCore);
      // dup2 clears close-on-exec on the copies, the originals close.
      if (::dup2(channel[1], 0) < 0 || ::dup2(channel[1], 1) < 0 ||
          ::dup2(errors[1], 2) < 0)
        ::_exit(127);
      ::execve(argv[0], argv.data(), envp.data());
      ssize_t ignored = ::write(2, execFailure.data(), execFailure.size());
      (void)ignored;
      ::_exit(127);
    }
    ::close(channel[1]);
    ::close(errors[1]);
    if (pid < 0) {
      ++startFailures;
      lastStartError = std::string("fork: ") + std::strerror(errno);
      ::close(channel[0]);
      ::close(errors[0]);
      return;
    }
    // Also from the parent: a kill(-pid) right after fork must not miss.
    ::setpgid(pid, pid);
    ::fcntl(errors[0], F_SETFL, ::fcntl(errors[0], F_GETFL) | O_NONBLOCK);
    // Our end only (the worker's is another file description): sends and
    // reads here must never block the loop.
    ::fcntl(channel[0], F_SETFL, ::fcntl(channel[0], F_GETFL) | O_NONBLOCK);
    worker.pid = pid;
    worker.channel = channel[0];
    worker.stderrPipe = errors[0];
    worker.phase = Phase::Starting;
    worker.phaseStart = Clock::now();
    worker.deadline = worker.phaseStart + toDuration(options.setupTimeoutS);
  }

  /// Kills the worker's process group, waits for the worker and returns its
  /// wait status. Killing an already-dead worker is harmless and still
  /// clears out anything it left running (the linker). The wait is bounded:
  /// a worker that has not gone kReapTimeoutS after SIGKILL (uninterruptible
  /// sleep) is left to reapLeftovers() and its status is unknown (nullopt).
  std::optional<int> reap(WorkerProcess &worker) {
    ::kill(-worker.pid, SIGKILL);
    std::optional<int> status;
    Clock::time_point deadline = Clock::now() + toDuration(kReapTimeoutS);
    for (;;) {
      int raw = 0;
      pid_t done = ::waitpid(worker.pid, &raw, WNOHANG);
      if (done == worker.pid) {
        status = raw;
        break;
      }
      if (done < 0 && errno == EINTR)
        continue;
      if (done < 0)
        break; // not our child any more: nothing to wait for
      if (Clock::now() >= deadline) {
        leftovers.push_back(worker.pid);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    reapLeftovers();
    if (worker.stderrPipe >= 0) {
      readStderr(worker);
      if (worker.stderrPipe >= 0)
        ::close(worker.stderrPipe);
    }
    ::close(worker.channel);
    worker.channel = worker.stderrPipe = -1;
    worker.pid = -1;
    worker.phase = Phase::Dead;
    worker.candidate = -1;
    worker.inbox.clear();
    return status;
  }

  /// Workers that outlived their reap: collected when they finally go,
  /// never waited for.
  void reapLeftovers() {
    llvm::erase_if(leftovers, [](pid_t pid) {
      int raw = 0;
      pid_t done = ::waitpid(pid, &raw, WNOHANG);
      return done == pid || (done < 0 && errno != EINTR);
    });
  }

  std::string workerPath;
  MeasureOptions options;
  std::string scratch;
  std::vector<WorkerProcess> workers;
  std::vector<Candidate> candidates; // of the batch being measured
  int64_t requestIds = 0;
  int64_t batches = 0;
  int startFailures = 0;
  std::string lastStartError;
  std::string lastUndelivered; // why the last request did not reach a worker
  std::vector<pid_t> leftovers; // killed workers not reaped yet

  std::vector<std::string> argvStorage, envStorage;
  std::vector<char *> argv, envp;
  std::string execFailure;
};

} // namespace

std::vector<std::string> removeStaleScratchFolders(const std::string &dir,
                                                   llvm::StringRef prefix) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (!name.consume_front(prefix) || !name.consume_front("-"))
      continue;
    // "<pid>-<random>": folders without a pid (an older hatc's) have no
    // owner to ask about, so they stay.
    auto [pidText, rest] = name.split('-');
    int64_t pid = 0;
    if (rest.empty() || pidText.getAsInteger(10, pid) || pid <= 0 ||
        pid > std::numeric_limits<pid_t>::max())
      continue;
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(it->path(), status, /*follow=*/false) ||
        status.type() != llvm::sys::fs::file_type::directory_file ||
        status.getUser() != ::geteuid())
      continue;
    // Alive, or alive under another user (EPERM): not ours to judge. A pid
    // reused since errs on the side of keeping the folder.
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH)
      continue;
    if (!llvm::sys::fs::remove_directories(it->path()))
      removed.push_back(it->path());
  }
  return removed;
}

llvm::Expected<std::string> createScratchFolder(llvm::StringRef prefix) {
  llvm::SmallString<128> temp;
  llvm::sys::path::system_temp_directory(/*erasedOnReboot=*/true, temp);
  removeStaleScratchFolders(std::string(temp), prefix);
  llvm::SmallString<128> path;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(
          prefix + "-" + std::to_string(::getpid()), path))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "cannot create a scratch folder in " + describeTempDirectory() +
            ": " + ec.message());
  return std::string(path);
}

llvm::Expected<std::unique_ptr<Measurer>>
makeProcessMeasurer(const std::string &workerPath, MeasureOptions options) {
  if (!llvm::sys::fs::can_execute(workerPath) ||
      llvm::sys::fs::is_directory(workerPath))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        workerPath + ": not an executable hatc-worker");
  // A tune killed with SIGKILL never ran its destructor: its scratch folder
  // (possibly gigabytes of kernels) is still there. The folder names carry
  // the owner's pid so that the next measurer can tell.
  auto scratch = createScratchFolder(kScratchPrefix);
  if (!scratch)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the measurer: " +
                                       llvm::toString(scratch.takeError()));
  return std::make_unique<ProcessMeasurer>(workerPath, options, *scratch);
}

} // namespace hatc
