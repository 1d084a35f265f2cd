//===- Index.h - The best tuning record per (workload, backend) -*- C++ -*-===//
//
// ScheduleIndex: the best record per (workload key, backend), read from the
// database at start (and on refresh()) into a hash map; the database is closed
// again before anything is dispatched, so no lock is ever held while running.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_INDEX_H
#define HATC_COORD_INDEX_H

#include "hatc/Coord/Backend.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hatc::coord {

struct IndexEntry {
  std::string workloadHash;
  std::string script; // the transform schedule (hwacc: knobs annotated)
  std::string configJson, configHash, sketch;
  /// cpu: median latency_s measured with `threads` threads; hwacc: what
  /// the workload takes, extras.workload_s (modeled device time plus all
  /// host work, a conv's im2col included), else (older records, whose
  /// cycles hold the host work) cycles / clock.
  double seconds = 0;
  int threads = 1;
  bool stale = false;
  int64_t recordId = 0;
};

struct IndexOptions {
  /// Use records of another compiler version or fingerprint when there is
  /// no fresh one (flagged stale).
  bool allowStale = false;
  std::string compilerVersion; // empty: this build's
  /// Per attempt and in total: how long a locked database is waited for
  /// before falling back (short: the coordinator must start).
  int busyTimeoutMs = 200;
  int busyDeadlineMs = 1000;
};

/// Best record per (workload key, target) for the targets of `backends`
/// (backends with the same target kind + fingerprint share entries).
class ScheduleIndex {
public:
  ScheduleIndex(const std::vector<BackendSpec> &backends, IndexOptions options,
                WarnFn warn = stderrWarn());

  /// Reads every record of `dbPath` and closes it again. A missing, locked
  /// or corrupt database leaves the index empty and warns once per index
  /// (later failures of refresh() stay quiet). Returns false on fallback.
  bool load(const std::string &dbPath);
  /// load() on the same path again (picks up new tuning results).
  bool refresh() { return load(dbPath); }

  /// The entry for the workload on backend `backend`, or null (a miss: no
  /// record, or only stale ones without allowStale, or another structural
  /// hash). `workloadHash` empty: any.
  const IndexEntry *lookup(std::string_view workloadKey,
                           std::string_view workloadHash,
                           size_t backend) const;

  /// Whether a stale record exists where lookup() misses (for the hint).
  bool hasStale(std::string_view workloadKey, std::string_view workloadHash,
                size_t backend) const;

  bool usingFallback() const { return fallback; }
  const std::string &fallbackReason() const { return reason; }
  size_t size() const { return entries.size(); }
  int warningsIssued() const { return warnings; }

private:
  struct Slot {
    std::optional<IndexEntry> fresh, stale;
  };
  std::vector<size_t> targetOfBackend; // backend -> distinct target
  std::vector<BackendSpec> targets;    // one per distinct target
  std::unordered_map<std::string, std::vector<Slot>> entries;
  IndexOptions options;
  WarnFn warn;
  std::string dbPath, reason;
  bool fallback = false;
  int warnings = 0;
};

} // namespace hatc::coord

#endif // HATC_COORD_INDEX_H
