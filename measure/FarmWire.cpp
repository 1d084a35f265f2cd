//===- FarmWire.cpp - The farm's messages, encoded -------------------------===//
//
// The versioned binary encoding of the farm's typed messages (Farm.h):
// every field in a fixed order, lengths bounded by what is left so that a
// corrupt message is an error naming where, never a crash or a huge
// allocation. Every rank of a job runs the same build, so numbers travel in
// the host's byte order.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Farm.h"

#include <algorithm>
#include <cstring>

namespace hatc::farm {

namespace {

llvm::Error wireError(const std::string &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "farm message: " + what);
}

//===----------------------------------------------------------------------===//
// Wire format: a format byte, then fields in a fixed order; integers and
// doubles in the host's byte order (every rank of a job runs the same
// build), strings and vectors length-prefixed.
//===----------------------------------------------------------------------===//

constexpr uint8_t kWireVersion = 1;

class Writer {
public:
  Writer() { u8(kWireVersion); }
  void u8(uint8_t v) { out.push_back(char(v)); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(const std::string &s) {
    u64(s.size());
    out.append(s);
  }
  std::string take() { return std::move(out); }

private:
  void raw(const void *p, size_t n) { out.append((const char *)p, n); }
  std::string out;
};

class Reader {
public:
  explicit Reader(const std::string &bytes) : bytes(bytes) {
    if (u8() != kWireVersion)
      fail("wire format version");
  }
  uint8_t u8() {
    uint8_t v = 0;
    raw(&v, 1, "byte");
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    raw(&v, sizeof v, "integer");
    return v;
  }
  int64_t i64() {
    int64_t v = 0;
    raw(&v, sizeof v, "integer");
    return v;
  }
  double f64() {
    double v = 0;
    raw(&v, sizeof v, "number");
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    if (!ok() || n > bytes.size() - at)
      return fail("string length"), std::string();
    std::string s = bytes.substr(at, n);
    at += n;
    return s;
  }
  /// A count of items, each at least `minBytes` long: bounded by what is
  /// left, so a corrupt count cannot ask for a huge allocation.
  uint64_t count(size_t minBytes) {
    uint64_t n = u64();
    if (ok() && n > (bytes.size() - at) / std::max<size_t>(1, minBytes))
      fail("item count");
    return ok() ? n : 0;
  }
  bool ok() const { return problem.empty(); }
  llvm::Error finish(const char *what) {
    if (ok() && at != bytes.size())
      fail("trailing bytes");
    if (ok())
      return llvm::Error::success();
    return wireError(std::string(what) + ": bad " + problem + " at byte " +
                     std::to_string(at) + " of " +
                     std::to_string(bytes.size()));
  }

private:
  void raw(void *p, size_t n, const char *what) {
    if (!ok())
      return;
    if (n > bytes.size() - at)
      return fail(what);
    std::memcpy(p, bytes.data() + at, n);
    at += n;
  }
  void fail(const char *what) {
    if (ok())
      problem = what;
  }
  const std::string &bytes;
  size_t at = 0;
  std::string problem;
};

} // namespace

std::string encode(const Hello &hello) {
  Writer w;
  w.i64(hello.protocol);
  w.str(hello.kind);
  w.str(hello.name);
  w.str(hello.fingerprint);
  w.str(hello.host);
  w.i64(hello.slots);
  return w.take();
}

llvm::Expected<Hello> decodeHello(const std::string &bytes) {
  Reader r(bytes);
  Hello hello;
  hello.protocol = int32_t(r.i64());
  hello.kind = r.str();
  hello.name = r.str();
  hello.fingerprint = r.str();
  hello.host = r.str();
  hello.slots = int32_t(r.i64());
  if (llvm::Error err = r.finish("hello"))
    return std::move(err);
  return hello;
}

std::string encode(const std::vector<WireCandidate> &work) {
  Writer w;
  w.u64(work.size());
  for (const WireCandidate &c : work) {
    w.u64(c.id);
    w.str(c.workloadName);
    w.str(c.workloadText);
    w.str(c.entry);
    w.str(c.targetJson);
    w.str(c.sketch);
    w.str(c.configJson);
    w.str(c.script);
    w.str(c.fault);
  }
  return w.take();
}

llvm::Expected<std::vector<WireCandidate>>
decodeWork(const std::string &bytes) {
  Reader r(bytes);
  std::vector<WireCandidate> work(r.count(8 * 9));
  for (WireCandidate &c : work) {
    c.id = r.u64();
    c.workloadName = r.str();
    c.workloadText = r.str();
    c.entry = r.str();
    c.targetJson = r.str();
    c.sketch = r.str();
    c.configJson = r.str();
    c.script = r.str();
    c.fault = r.str();
  }
  if (llvm::Error err = r.finish("work"))
    return std::move(err);
  return work;
}

std::string encode(const std::vector<WireResult> &results) {
  Writer w;
  w.u64(results.size());
  for (const WireResult &wire : results) {
    const MeasureResult &m = wire.result;
    w.u64(wire.id);
    w.i64(int64_t(m.error));
    w.str(m.message);
    w.u64(m.samples.size());
    for (double s : m.samples)
      w.f64(s);
    w.f64(m.seconds);
    w.f64(m.cv);
    w.u8(m.cycles.has_value());
    w.i64(m.cycles.value_or(0));
    w.f64(m.gflops);
    w.u8(m.threads.has_value());
    w.i64(m.threads.value_or(0));
    w.f64(m.maxRelErr);
    w.f64(m.buildSeconds);
    w.f64(m.runSeconds);
    w.str(m.extras.dump(-1, ' ', false,
                        nlohmann::json::error_handler_t::replace));
  }
  return w.take();
}

llvm::Expected<std::vector<WireResult>>
decodeResults(const std::string &bytes) {
  Reader r(bytes);
  std::vector<WireResult> results(r.count(100)); // a result is >= 114 bytes
  for (WireResult &wire : results) {
    MeasureResult &m = wire.result;
    wire.id = r.u64();
    int64_t code = r.i64();
    std::optional<db::ErrorCode> error;
    for (db::ErrorCode known :
         {db::ErrorCode::Ok, db::ErrorCode::InvalidConfig,
          db::ErrorCode::BuildError, db::ErrorCode::BuildTimeout,
          db::ErrorCode::RunError, db::ErrorCode::RunTimeout,
          db::ErrorCode::WrongAnswer, db::ErrorCode::OutOfMemory,
          db::ErrorCode::DeviceUnavailable})
      if (int64_t(known) == code)
        error = known;
    if (!error)
      return wireError("results: unknown error code " + std::to_string(code));
    m.error = *error;
    m.message = r.str();
    m.samples.resize(r.count(8));
    for (double &s : m.samples)
      s = r.f64();
    m.seconds = r.f64();
    m.cv = r.f64();
    bool hasCycles = r.u8();
    int64_t cycles = r.i64();
    if (hasCycles)
      m.cycles = cycles;
    m.gflops = r.f64();
    bool hasThreads = r.u8();
    int64_t threads = r.i64();
    if (hasThreads)
      m.threads = int(threads);
    m.maxRelErr = r.f64();
    m.buildSeconds = r.f64();
    m.runSeconds = r.f64();
    std::string extras = r.str();
    if (!r.ok())
      break;
    m.extras = nlohmann::json::parse(extras, nullptr, false);
    if (m.extras.is_discarded() || !m.extras.is_object())
      return wireError("results: extras of candidate " +
                       std::to_string(wire.id) + " are not a JSON object");
  }
  if (llvm::Error err = r.finish("results"))
    return std::move(err);
  return results;
}

llvm::Expected<std::pair<int, std::string>>
parseFault(const std::string &spec) {
  auto colon = spec.find(':');
  std::string kind = colon == std::string::npos ? "" : spec.substr(colon + 1);
  char *end = nullptr;
  long rank = colon == std::string::npos
                  ? -1
                  : std::strtol(spec.substr(0, colon).c_str(), &end, 10);
  if (colon == 0 || rank < 1 || (end && *end) ||
      (kind != "worker-crash" && kind != "hang" && kind != "exit"))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--farm-fault expects RANK:worker-crash|hang|exit with RANK >= 1, "
        "got '" + spec + "'");
  return std::make_pair(int(rank), kind);
}

} // namespace hatc::farm
