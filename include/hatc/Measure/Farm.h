//===- Farm.h - Measuring candidates on a farm of ranks --------*- C++ -*-===//
//
// `mpirun -n K hatc tune ... --farm mpi`: rank 0 runs the search, the cost
// model and the database; ranks 1..K-1 each measure with their own worker
// pool (makeProcessMeasurer) on their own host and device.
//
//   rank r >= 1                          rank 0 (FarmMeasurer)
//   Hello{kind, name, fingerprint,  -->  waits for every rank (bounded),
//         host, slots}                   keeps those with the task's target
//                                   <--  Work{candidates: workload text,
//                                          target JSON, config, script}
//   measures with its local pool    -->  Results{one per candidate: the
//                                          fields of MeasureResult}
//                                   <--  Keepalive (each batch) / Stop
//
// Every value crossing the process boundary is a typed field of a message
// struct below, encoded by encode()/decode() (a versioned binary format);
// the only JSON on the wire is what is JSON in the Measurer API itself (a
// target description, a config, a result's extras).
//
// Rank 0 never blocks: sends are nonblocking, results are polled, and every
// chunk of candidates sent to a rank has a deadline. A rank past its
// deadline (hung, gone, unreachable) is dropped with a warning and its
// candidates go to another rank (at most kMaxAttempts sends each, then the
// candidate is recorded RUN_TIMEOUT). A candidate whose worker crashed or
// hung on its rank comes back with that error code from the rank's pool,
// like any local measurement. When no rank with the candidate's target is
// left (or the job has one rank), rank 0 measures it locally.
//
// The MPI code lives in its own library (hatc_farm, measure/farm/) behind
// FarmTransport; everything here but startMpiTransport is MPI-free and
// tested with an in-memory transport.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_MEASURE_FARM_H
#define HATC_MEASURE_FARM_H

#include "hatc/Measure/Harness.h"
#include "hatc/Runtime/Target.h"

#include "llvm/Support/Error.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hatc::farm {

inline constexpr int kFarmProtocol = 1;
/// Sends of one candidate before it is recorded RUN_TIMEOUT.
inline constexpr int kMaxAttempts = 2;

enum class Tag : int { Hello = 1, Work = 2, Results = 3, Keepalive = 4, Stop = 5 };

struct Hello {
  int32_t protocol = kFarmProtocol;
  std::string kind, name, fingerprint; // of the rank's target
  std::string host;
  int32_t slots = 1; // candidates it measures per chunk
};

struct WireCandidate {
  uint64_t id = 0;
  std::string workloadName; // the file name on rank 0, for messages
  std::string workloadText; // the module itself: ranks need no shared disk
  std::string entry;
  std::string targetJson;
  std::string sketch;
  std::string configJson;
  std::string script;
  std::string fault; // test-only (MeasureRequest::fault)
};

struct WireResult {
  uint64_t id = 0;
  MeasureResult result;
};

std::string encode(const Hello &hello);
std::string encode(const std::vector<WireCandidate> &work);
std::string encode(const std::vector<WireResult> &results);
/// Each fails with one line saying what is malformed.
llvm::Expected<Hello> decodeHello(const std::string &bytes);
llvm::Expected<std::vector<WireCandidate>> decodeWork(const std::string &bytes);
llvm::Expected<std::vector<WireResult>> decodeResults(const std::string &bytes);

struct Envelope {
  int from = -1;
  Tag tag = Tag::Stop;
  std::string bytes;
};

/// Point-to-point messages between the ranks of one job. Nothing blocks.
class FarmTransport {
public:
  virtual ~FarmTransport();
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Starts sending; false when the transport already knows it cannot
  /// (the rank is gone).
  virtual bool send(int to, Tag tag, std::string bytes) = 0;
  /// A message that has arrived, if any.
  virtual std::optional<Envelope> poll() = 0;
  /// Waits (bounded) for the sends started so far; false on timeout.
  virtual bool flush(double timeoutS) = 0;
  virtual std::string hostName() const = 0;
};

/// MPI_Init (the job's ranks), MPI_Finalize when destroyed: bounded, a
/// rank stuck in MPI_Finalize (a peer that hangs) exits after 30 s. Errors
/// return instead of aborting (MPI_ERRORS_RETURN). In hatc_farm.
llvm::Expected<std::unique_ptr<FarmTransport>> startMpiTransport();

/// Test and bench settings: each rank's "device" takes `seconds` per
/// candidate (a sleep: no CPU), and answers OK with a throughput derived
/// from the config (a stable hash), so the farm can be measured on a
/// machine with fewer cores than ranks. extras["simulated_s"] says so.
std::unique_ptr<Measurer> makeSimulatedMeasurer(double seconds);

struct FarmOptions {
  /// A chunk's deadline is timeoutS per candidate in it; 0: the local
  /// pool's build + set-up + run timeouts per candidate, plus a minute.
  double timeoutS = 0;
  double helloTimeoutS = 120;
  /// A rank that hears nothing from rank 0 for this long leaves.
  double idleTimeoutS = 30 * 60;
  MeasureOptions measure;  // each rank's local pool
  double simulateS = 0;    // > 0: makeSimulatedMeasurer on every rank
  /// Test-only fault of one rank, "RANK:KIND": worker-crash (its first
  /// candidate's worker segfaults), hang (it stops answering for hangS after
  /// its first work), exit (it exits at its first work, without a word).
  std::string fault;
  double hangS = 8;
  /// Set by the signal handler. Rank 0: measure() returns at once, and the
  /// candidates not measured yet come back `abandoned`. Other ranks: they
  /// keep serving until rank 0's stop (at most 10 s more).
  std::atomic<bool> *interrupted = nullptr;
  /// Progress and warnings (one line each, no newline); stderr if unset.
  std::function<void(const std::string &)> log;
};

/// What rank 0 saw, for the closing line and the scaling bench.
struct FarmStats {
  int ranks = 1;         // in the job
  int measuringRanks = 0; // ranks that measured (0: rank 0 measured locally)
  int64_t candidates = 0, resent = 0, dropped = 0, local = 0;
  double measureWallS = 0;  // inside measure()
  double dispatchS = 0; // rank 0's own work in measure(): encode, send, decode
};

class FarmMeasurer : public Measurer {
public:
  virtual FarmStats stats() const = 0;
};

/// Rank 0: waits for the ranks' Hello, then measures batches on them.
/// `localFactory` makes rank 0's own measurer when it must measure locally.
std::unique_ptr<FarmMeasurer> makeFarmMeasurer(
    FarmTransport &transport, FarmOptions options,
    std::function<llvm::Expected<std::unique_ptr<Measurer>>()> localFactory);

/// Ranks >= 1: announces `target`, measures what rank 0 sends with `local`,
/// returns the exit status when rank 0 says stop (0) or falls silent (1).
int serveFarmRank(FarmTransport &transport, const Target &target,
                  Measurer &local, const FarmOptions &options);

/// Parses "RANK:KIND" of FarmOptions::fault; the rank and kind, or an error.
llvm::Expected<std::pair<int, std::string>> parseFault(const std::string &spec);

} // namespace hatc::farm

#endif // HATC_MEASURE_FARM_H
