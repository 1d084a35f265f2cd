//===- Worker.cpp - The measurement worker: build and run requests --------===//
//
// One long-lived process per pool slot. It keeps one MLIRContext (setting one
// up registers every dialect, which is slow) and serves build and run
// requests until its input closes. It trusts nothing it compiles: the parent
// watches it from outside and kills it when it overruns, so the worker only
// has to report what it can (errors as values, the "run started" moment) and
// die recognisably when it cannot (a signal, or kExitOutOfMemory).
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Worker.h"
#include "hatc/Db/Record.h"
#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Measure/Execute.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Time.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace hatc {

namespace {

using db::ErrorCode;
using nlohmann::json;

/// Messages travel as one line: diagnostics with notes span several.
std::string oneLine(const std::string &text) {
  std::string out;
  bool pendingBreak = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      pendingBreak = !out.empty();
      continue;
    }
    if (pendingBreak) {
      if (c == ' ' || c == '\t')
        continue;
      out += "; ";
      pendingBreak = false;
    }
    out += c;
  }
  return out;
}

/// A request the worker cannot act on; becomes INVALID_CONFIG.
struct BadRequest {
  std::string message;
};

/// What went wrong with a candidate, before it becomes a reply.
struct Failure {
  ErrorCode code;
  std::string message;
};

json resultMessage(const json &id) {
  return {{"type", "result"}, {"id", id}, {"error", "OK"}};
}

json failureMessage(const json &id, ErrorCode code, const std::string &text) {
  json reply = resultMessage(id);
  reply["error"] = db::errorCodeName(code);
  reply["message"] = oneLine(text);
  return reply;
}

/// Exits in a way the parent recognises as OUT_OF_MEMORY. Installed as the
/// new-handler, so it runs where operator new fails, without unwinding
/// through code (LLVM's) that was not written to survive that.
[[noreturn]] void exitOutOfMemory() {
  static const char text[] = "hatc-worker: out of memory\n";
  ssize_t ignored = ::write(2, text, sizeof(text) - 1);
  (void)ignored;
  ::_exit(worker::kExitOutOfMemory);
}

void llvmBadAlloc(void *, const char *, bool) { exitOutOfMemory(); }

/// Line-oriented reads and writes on the protocol descriptors.
class Channel {
public:
  Channel(int in, int out) : in(in), out(out) {}

  /// The next line without its '\n'; false at the end of input.
  bool readLine(std::string &line) {
    for (;;) {
      size_t newline = pending.find('\n');
      if (newline != std::string::npos) {
        line = pending.substr(0, newline);
        pending.erase(0, newline + 1);
        return true;
      }
      char buffer[1 << 16];
      ssize_t n = ::read(in, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        if (pending.empty())
          return false;
        line = std::move(pending);
        pending.clear();
        return true;
      }
      pending.append(buffer, size_t(n));
    }
  }

  void send(const json &message) {
    // Diagnostics may quote bytes that are not UTF-8; never throw on them.
    std::string text =
        message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    const char *data = text.data();
    size_t left = text.size();
    while (left > 0) {
      ssize_t n = ::write(out, data, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        ::_exit(worker::kExitOk); // the parent is gone: nobody to serve
      data += n;
      left -= size_t(n);
    }
  }

  /// Nothing more will be read: a peer's later write fails (EPIPE) rather
  /// than vanishing into a socket nobody reads. Only for a socket (the
  /// harness's); a pipe (standalone use) just keeps its data.
  void stopReading() { ::shutdown(in, SHUT_RD); }

private:
  int in, out;
  std::string pending;
};

const std::vector<std::string> &knownFaults() {
  static const std::vector<std::string> faults = {
      "segfault",   "abort",       "hang",        "oom",
      "wrong",      "build_hang",  "build_crash", "slow_setup",
      "oom_reply",  "exit_after_reply"};
  return faults;
}

std::string stringField(const json &request, const char *name,
                        bool required = false) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) {
    if (required)
      throw BadRequest{std::string("missing field \"") + name + "\""};
    return "";
  }
  if (!it->is_string())
    throw BadRequest{std::string("field \"") + name + "\" must be a string"};
  return it->get<std::string>();
}

json objectField(const json &request, const char *name) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null())
    return json::object();
  if (!it->is_object())
    throw BadRequest{std::string("field \"") + name + "\" must be an object"};
  return *it;
}

template <typename T>
T optionField(const json &options, const char *name, T fallback) {
  auto it = options.find(name);
  if (it == options.end() || it->is_null())
    return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception &) {
    throw BadRequest{std::string("option \"") + name + "\" has the wrong " +
                     "type: " + it->dump()};
  }
}

/// The target of a request, resolved, and what lowering needs from it.
struct TargetSetup {
  Target target;
  LoweringTarget lowering;
  std::string origin; // names the target in messages
};

std::optional<Failure> setUpTarget(const json &request, TargetSetup &setup) {
  json spec = request.contains("target") ? request["target"] : json();
  if (!spec.is_null() && !spec.is_string() && !spec.is_object())
    return Failure{ErrorCode::InvalidConfig,
                   "target: expected a target description or a name, got " +
                       spec.dump()};
  auto resolve = [&]() -> llvm::Expected<Target> {
    if (spec.is_null())
      return resolveTarget("cpu");
    if (spec.is_string())
      return resolveTarget(spec.get<std::string>());
    std::string path = spec.contains("path") && spec["path"].is_string()
                           ? spec["path"].get<std::string>()
                           : "";
    auto parsed = parseTarget(spec, path.empty() ? "target" : path);
    if (parsed)
      parsed->path = path;
    return parsed;
  };
  llvm::Expected<Target> target = resolve();
  if (!target)
    return Failure{ErrorCode::InvalidConfig, errorMessage(target.takeError())};
  setup.target = std::move(*target);
  setup.origin = setup.target.path.empty()
                     ? "target '" + setup.target.name + "'"
                     : setup.target.path;
  if (setup.target.kind == TargetKind::Gpu) {
    // The CUDA driver maps terabytes of (unused) address space: RLIMIT_AS
    // cannot bound a GPU worker, so it goes (the harness leaves the hard
    // limit unlimited for this).
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_AS, &unlimited);
    if (auto reason = cuda::unavailableReason())
      return Failure{ErrorCode::DeviceUnavailable, *reason};
  }
  // cpu and gpu knobs live in the schedule script; hwacc's in the config.
  json knobs;
  if (setup.target.kind == TargetKind::Hwacc && request.contains("config"))
    knobs = request["config"];
  auto lowering = loweringTargetFor(setup.target, setup.origin, knobs);
  if (!lowering)
    return Failure{ErrorCode::InvalidConfig, errorMessage(lowering.takeError())};
  setup.lowering = std::move(*lowering);
  return std::nullopt;
}

/// Faults a test asks for; only with --allow-faults.
std::optional<Failure> checkFault(const std::string &fault, bool allowed) {
  if (fault.empty())
    return std::nullopt;
  bool known = false;
  for (const std::string &name : knownFaults())
    known |= name == fault;
  if (!known)
    return Failure{ErrorCode::InvalidConfig,
                   "unknown fault \"" + fault + "\" (known: " +
                       llvm::join(knownFaults(), ", ") + ")"};
  if (!allowed)
    return Failure{ErrorCode::InvalidConfig,
                   "fault injection (\"" + fault +
                       "\") needs hatc-worker --allow-faults"};
  return std::nullopt;
}

/// Faults that strike once the kernel is about to run.
void injectRunFault(const std::string &fault) {
  if (fault == "segfault")
    std::raise(SIGSEGV);
  if (fault == "abort")
    std::abort();
  if (fault == "hang")
    for (volatile uint64_t spin = 0;; spin = spin + 1) {
    }
  if (fault == "oom") {
    // Address space only (the pages are never touched): RLIMIT_AS stops it
    // long before it costs real memory.
    static std::vector<char *> hoard;
    for (;;)
      hoard.push_back(new char[size_t(256) << 20]);
  }
}

/// Whether this process has grown past half of its address-space limit
/// (RLIMIT_AS, which the parent sets). A long-lived worker keeps what its
/// context interned (every weight it parsed, every packed copy of them)
/// and every kernel it loaded: on a model task with megabytes of weights
/// it reached the 4 GiB limit within a few hundred builds, and later
/// builds of that tune failed ("Cannot allocate memory", "failed to map
/// segment"). Past half of it the worker retires after its reply and the
/// parent starts a fresh one.
bool grownPastHalfItsLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return false;
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char text[64] = {};
  ssize_t n = ::read(fd, text, sizeof(text) - 1);
  ::close(fd);
  if (n <= 0)
    return false;
  uint64_t pages = std::strtoull(text, nullptr, 10); // the first field: size
  return pages * uint64_t(::sysconf(_SC_PAGESIZE)) > limit.rlim_cur / 2;
}

class Worker {
public:
  Worker(Channel &channel, const WorkerOptions &options)
      : channel(channel), options(options),
        context(mlir::MLIRContext::Threading::DISABLED) {
    initContext(context);
  }

  json handle(const std::string &line, int64_t lineNumber) {
    json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object())
      return failureMessage(nullptr, ErrorCode::InvalidConfig,
                            "request line " + std::to_string(lineNumber) +
                                ": not a JSON object");
    json id = request.contains("id") ? request["id"] : json();
    try {
      std::string type = stringField(request, "type", true);
      if (type == "build")
        return build(request, id, stringField(request, "dir", true));
      if (type == "run")
        return run(request, id, stringField(request, "so", true));
      if (type == "measure")
        return buildAndRun(request, id);
      throw BadRequest{"unknown request type \"" + type +
                       "\" (expected build, run or measure)"};
    } catch (const BadRequest &bad) {
      return failureMessage(id, ErrorCode::InvalidConfig,
                            "request line " + std::to_string(lineNumber) +
                                ": " + bad.message);
    } catch (const std::bad_alloc &) {
      // Thrown directly, not through the new-handler: the reply can still go
      // out, but the process is not to be trusted after it. Stop reading
      // first, so a request the parent sends after this reply fails to send
      // (EPIPE) and goes to a fresh worker instead of dying with us; and say
      // "retire" so the parent replaces us before it even tries.
      channel.stopReading();
      json reply = failureMessage(id, ErrorCode::OutOfMemory,
                                  "out of memory (std::bad_alloc)");
      reply["retire"] = true;
      channel.send(reply);
      ::_exit(worker::kExitOutOfMemory);
    }
  }

  /// The worker is to exit after this reply without saying so
  /// (fault "exit_after_reply": how any worker dying between requests looks).
  bool leavingSilently() const { return exitAfterReply; }

private:
  json build(const json &request, const json &id, const std::string &dir) {
    auto start = std::chrono::steady_clock::now();
    std::string workloadPath = stringField(request, "workload", true);
    std::string entry = stringField(request, "entry");
    std::string script = stringField(request, "script");
    std::string fault = stringField(request, "fault");
    std::string sketch = stringField(request, "sketch");
    if (auto failure = checkFault(fault, options.allowFaults))
      return failureMessage(id, failure->code, failure->message);
    TargetSetup setup;
    if (auto failure = setUpTarget(request, setup))
      return failureMessage(id, failure->code, failure->message);

    if (fault == "build_crash")
      std::raise(SIGSEGV);
    if (fault == "build_hang")
      for (;;)
        ::pause(); // a wedged compile: waits, burns nothing

    auto workload = loadWorkload(context, workloadPath, entry);
    if (!workload)
      return failureMessage(id, ErrorCode::BuildError,
                            errorMessage(workload.takeError()));
    std::string text = script;
    if (text.empty()) {
      auto fallback = defaultScheduleFor(*workload, setup.lowering.kind);
      if (!fallback)
        return failureMessage(id, ErrorCode::InvalidConfig,
                              errorMessage(fallback.takeError()));
      text = std::move(*fallback);
    }
    auto schedule = parseSchedule(
        context, text, script.empty() ? "<default schedule>" : "<schedule>");
    if (!schedule)
      return failureMessage(id, ErrorCode::BuildError,
                            errorMessage(schedule.takeError()));
    auto sharedObject = compileToSharedObject(*workload, schedule->get(), dir,
                                              "kernel", setup.lowering);
    if (!sharedObject)
      return failureMessage(id, ErrorCode::BuildError,
                            errorMessage(sharedObject.takeError()));
    json reply = resultMessage(id);
    reply["so"] = *sharedObject;
    reply["build_s"] = secondsSince(start);
    reply["extras"] = {{"workload", workload->key()},
                       {"flops", workload->flops()},
                       {"target", targetKindName(setup.target.kind)},
                       {"target_name", setup.target.name},
                       {"schedule", script.empty() ? "default" : "script"}};
    if (!sketch.empty())
      reply["extras"]["sketch"] = sketch;
    return reply;
  }

  json run(const json &request, const json &id,
           const std::string &sharedObject) {
    std::string workloadPath = stringField(request, "workload", true);
    std::string entry = stringField(request, "entry");
    std::string fault = stringField(request, "fault");
    json knobs = objectField(request, "options");
    if (auto failure = checkFault(fault, options.allowFaults))
      return failureMessage(id, failure->code, failure->message);
    TargetSetup setup;
    if (auto failure = setUpTarget(request, setup))
      return failureMessage(id, failure->code, failure->message);
    // Loaded afresh, so the reference reads the workload as written.
    auto workload = loadWorkload(context, workloadPath, entry);
    if (!workload)
      return failureMessage(id, ErrorCode::RunError,
                            errorMessage(workload.takeError()));

    ExecuteOptions execute; // RunSettings' defaults for what is left out
    execute.threads =
        std::max(1, optionField<int>(knobs, "threads", execute.threads));
    execute.seed = optionField<uint64_t>(knobs, "seed", execute.seed);
    execute.check = optionField<bool>(knobs, "check", execute.check);
    execute.warmup = optionField<int64_t>(knobs, "warmup", execute.warmup);
    execute.warmupSeconds =
        optionField<double>(knobs, "warmup_s", execute.warmupSeconds);
    execute.minRepeat =
        optionField<int64_t>(knobs, "min_repeat", execute.minRepeat);
    execute.maxRepeat =
        optionField<int64_t>(knobs, "max_repeat", execute.maxRepeat);
    execute.minTimeSeconds =
        optionField<double>(knobs, "min_time_s", execute.minTimeSeconds);
    execute.flushCache =
        optionField<bool>(knobs, "flush_cache", execute.flushCache);
    // Results are compared, not waited on (ExecuteOptions::rankByFastest);
    // the median stays in the extras as host_s.
    execute.rankByFastest = true;
    execute.onRunStart = [&] {
      channel.send({{"type", "run_started"}, {"id", id}});
      injectRunFault(fault);
    };
    if (fault == "wrong")
      execute.afterCheckedRun = [](std::vector<HostBuffer> &outputs) {
        if (outputs.empty())
          return;
        std::vector<double> values = outputs[0].toDoubles();
        if (values.empty())
          return;
        values[0] += 1000 + 10 * std::abs(values[0]);
        outputs[0].fromDoubles(values);
      };

    exitAfterReply = fault == "exit_after_reply";
    // Set-up that outlasts the run timeout: it must not count against it.
    if (fault == "slow_setup")
      std::this_thread::sleep_for(std::chrono::seconds(3));
    // A std::bad_alloc that escapes into handle(), which answers it and exits.
    if (fault == "oom_reply")
      throw std::bad_alloc();
    auto start = std::chrono::steady_clock::now();
    auto executed = executeKernel(sharedObject, *workload, workload->entry(),
                                  setup.lowering, execute);
    if (!executed) {
      // A buffer that does not fit failed cleanly (nothing was half-built):
      // OUT_OF_MEMORY, and this worker carries on.
      llvm::Error err = executed.takeError();
      ErrorCode code = err.isA<AllocationError>() ? ErrorCode::OutOfMemory
                                                  : ErrorCode::RunError;
      return failureMessage(id, code, errorMessage(std::move(err)));
    }
    json reply = resultMessage(id);
    reply["run_s"] = secondsSince(start);
    if (setup.target.kind == TargetKind::Cpu)
      reply["threads"] = execute.threads;
    json extras = {{"workload", workload->key()},
                   {"flops", workload->flops()},
                   {"repeat", executed->timing.count},
                   {"flush_cache", executed->flushedCaches},
                   {"host_s", executed->timing.median},
                   {"min_s", executed->timing.min},
                   {"max_s", executed->timing.max},
                   {"mean_s", executed->timing.mean}};
    // JSON has no NaN or infinity (they would arrive as null): an error that
    // large travels as the largest double.
    auto jsonSafe = [](double v) {
      return std::isfinite(v) ? v : std::numeric_limits<double>::max();
    };
    double maxRelErr = 0;
    if (executed->check) {
      maxRelErr = executed->check->maxRelErr;
      extras["max_abs_err"] = jsonSafe(executed->check->maxAbsErr);
      extras["nan_count"] = executed->check->nanCount;
      extras["checked"] = true;
    }
    if (executed->hwacc) {
      const HwaccParams &hw = setup.lowering.hwacc.params;
      const HwaccStats &stats = *executed->hwacc;
      extras["device"] = stats.toJson(hw.dim, hw.clockGHz);
      extras["utilization"] = stats.utilization(hw.dim);
      extras["dma_bytes"] = stats.dmaBytesIn + stats.dmaBytesOut;
      extras["modeled_s"] = executed->modeledSeconds;
      extras["host_ops_s"] = stats.hostSeconds;
      extras["kept_host_s"] = stats.keptHostSeconds;
      // The wall-inclusive figure the record's cycles left out (a conv's
      // im2col): device time plus all host work.
      extras["workload_s"] = executed->workloadSeconds;
      extras["workload_cycles"] = stats.workloadCycles(hw.clockGHz);
      extras["hwacc_config"] = {
          {"tile", setup.lowering.hwacc.tile},
          {"dataflow", setup.lowering.hwacc.dataflow},
          {"loop_order", setup.lowering.hwacc.loopOrder},
          {"double_buffer", setup.lowering.hwacc.doubleBuffer}};
    }
    reply["extras"] = std::move(extras);
    reply["max_rel_err"] = jsonSafe(maxRelErr);
    if (executed->check && !executed->check->correct) {
      std::string text =
          "result check failed: max rel err " +
          llvm::formatv("{0:e2}", maxRelErr).str() + " (tolerance " +
          llvm::formatv("{0:e1}", defaultTolerance(workload->outputs[0].kind))
              .str() +
          ")";
      if (executed->check->nanCount)
        text += ", " + std::to_string(executed->check->nanCount) + " NaN";
      reply["error"] = db::errorCodeName(ErrorCode::WrongAnswer);
      reply["message"] = text;
      return reply;
    }
    reply["samples"] = executed->samples;
    reply["seconds"] = executed->seconds;
    reply["cv"] = executed->hwacc ? 0.0 : executed->timing.cv;
    reply["gflops"] = executed->gflops;
    // A hwacc result's cycles are its seconds at the device clock: the
    // device's modeled cycles plus the GEMMs the schedule kept on the host,
    // so ranking by cycles ranks by them (extras.device has the device's
    // own, extras.workload_cycles all host work included).
    if (executed->hwacc)
      reply["cycles"] = executed->hwacc->scheduleCycles(
          setup.lowering.hwacc.params.clockGHz);
    return reply;
  }

  /// build + run in a folder of its own (standalone use, lit tests).
  json buildAndRun(const json &request, const json &id) {
    llvm::SmallString<128> dir;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("hatc-worker", dir))
      return failureMessage(id, ErrorCode::BuildError,
                            "cannot create a build folder: " + ec.message());
    struct RemoveDir {
      llvm::SmallString<128> &path;
      ~RemoveDir() { llvm::sys::fs::remove_directories(path); }
    } cleanup{dir};
    json built = build(request, id, std::string(dir));
    if (built["error"] != "OK")
      return built;
    json reply = run(request, id, built["so"].get<std::string>());
    reply["build_s"] = built["build_s"];
    json extras = built["extras"];
    if (reply.contains("extras"))
      extras.update(reply["extras"]);
    reply["extras"] = std::move(extras);
    return reply;
  }

  Channel &channel;
  WorkerOptions options;
  mlir::MLIRContext context;
  bool exitAfterReply = false;
};

} // namespace

int runWorker(const WorkerOptions &options) {
  // The protocol moves to private descriptors; 0 reads /dev/null and 1 is
  // stderr, so the linker, LLVM and kernels can print whatever they like.
  int in = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  int out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0) {
    static const char text[] = "hatc-worker: stdin/stdout are not open\n";
    ssize_t ignored = ::write(2, text, sizeof(text) - 1);
    (void)ignored;
    return worker::kExitUsage;
  }
  int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devNull >= 0) {
    ::dup2(devNull, 0);
    ::close(devNull);
  }
  ::dup2(2, 1);

  std::set_new_handler(exitOutOfMemory);
  llvm::install_bad_alloc_error_handler(llvmBadAlloc);

  Channel channel(in, out);
  Worker worker(channel, options);
  channel.send({{"type", "ready"},
                {"protocol", worker::kProtocolVersion},
                {"pid", int64_t(::getpid())}});
  std::string line;
  int64_t lineNumber = 0;
  while (channel.readLine(line)) {
    ++lineNumber;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    json reply = worker.handle(line, lineNumber);
    // After a sticky GPU error every later call fails, and a worker past
    // half its memory limit soon fails to build: say so, and leave.
    bool retire = cuda::contextLost() || grownPastHalfItsLimit();
    if (retire) {
      reply["retire"] = true;
      channel.stopReading();
    }
    if (worker.leavingSilently())
      channel.stopReading();
    channel.send(reply);
    if (retire || worker.leavingSilently())
      return worker::kExitOk;
  }
  return worker::kExitOk;
}

} // namespace hatc
