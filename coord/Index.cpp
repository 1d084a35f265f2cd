//===- Index.cpp - The best tuning record per (workload, backend) ---------===//
//
// The whole database is read once (forEachRecord) and the connection closed
// before load() returns: the coordinator never holds a database lock, or
// even an open file, while it dispatches. A refresh reads it all again and
// swaps the map.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Index.h"
#include "hatc/Db/Database.h"
#include "hatc/Support/Version.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace hatc::coord {

ScheduleIndex::ScheduleIndex(const std::vector<BackendSpec> &backends,
                             IndexOptions options, WarnFn warn)
    : options(std::move(options)), warn(std::move(warn)) {
  if (this->options.compilerVersion.empty())
    this->options.compilerVersion = compilerVersion();
  for (const BackendSpec &spec : backends) {
    size_t found = targets.size();
    for (size_t t = 0; t < targets.size(); ++t)
      if (targets[t].targetKind == spec.targetKind &&
          targets[t].fingerprint == spec.fingerprint &&
          targets[t].targetName == spec.targetName)
        found = t;
    if (found == targets.size())
      targets.push_back(spec);
    targetOfBackend.push_back(found);
  }
}

namespace {

/// Lower is better: latency on the CPU, cycles on hwacc (as Database::best).
double metricOf(const db::Record &record) {
  if (record.cycles)
    return double(*record.cycles);
  return record.latencyS.value_or(0);
}

} // namespace

bool ScheduleIndex::load(const std::string &path) {
  dbPath = path;
  std::unordered_map<std::string, std::vector<Slot>> fresh;
  // Ranks of the entries held (as Database::best ranks), to compare
  // without re-deriving them.
  std::unordered_map<std::string,
                     std::vector<std::pair<db::RankKey, db::RankKey>>>
      ranks;
  auto giveUp = [&](const std::string &why) {
    entries.clear();
    fallback = true;
    reason = why;
    // One warning per index: a coordinator that keeps refreshing a broken
    // database must not flood stderr.
    if (warnings == 0 && warn)
      warn("coord: " + why +
           "; using default schedules and predictions from FLOP counts");
    ++warnings;
    return false;
  };
  if (path.empty())
    return giveUp("no tuning database given");
  struct stat info;
  if (!db::Database::isServerSpec(path) && ::stat(path.c_str(), &info) != 0)
    return giveUp(path + ": no such database");

  try {
    db::OpenOptions open;
    open.readOnly = true;
    open.busyTimeoutMs = options.busyTimeoutMs;
    open.busyDeadlineMs = options.busyDeadlineMs;
    std::unique_ptr<db::Database> database = db::Database::open(path, open);
    database->forEachRecord([&](const db::Record &record) {
      if (record.error != db::ErrorCode::Ok || metricOf(record) <= 0)
        return;
      for (size_t t = 0; t < targets.size(); ++t) {
        const BackendSpec &target = targets[t];
        if (record.targetKind != target.targetKind)
          continue;
        if (!target.targetName.empty() && !record.targetName.empty() &&
            record.targetName != target.targetName)
          continue;
        bool isStale = record.compilerVersion != options.compilerVersion ||
                       record.targetFingerprint != target.fingerprint;
        std::string key = record.workloadKey + '\n' + record.workloadHash;
        std::vector<Slot> &slots = fresh[key];
        std::vector<std::pair<db::RankKey, db::RankKey>> &m = ranks[key];
        slots.resize(targets.size());
        m.resize(targets.size());
        std::optional<IndexEntry> &held =
            isStale ? slots[t].stale : slots[t].fresh;
        db::RankKey &heldRank = isStale ? m[t].second : m[t].first;
        db::RankKey rank = db::rankKey(record, metricOf(record));
        // Ties go to the older record, as in Database::best.
        if (held && !(rank < heldRank))
          continue;
        IndexEntry entry;
        entry.workloadHash = record.workloadHash;
        entry.script = record.script;
        entry.configJson = record.configJson;
        entry.configHash = record.configHash;
        entry.sketch = record.sketch;
        entry.stale = isStale;
        entry.recordId = record.id;
        if (record.cycles) {
          double clock = target.hwacc.clockGHz > 0 ? target.hwacc.clockGHz : 1;
          entry.seconds = double(*record.cycles) / (clock * 1e9);
          // The cycles rank schedules and leave out the host work every
          // schedule does alike; the dispatcher needs all of it.
          nlohmann::json extras =
              nlohmann::json::parse(record.extrasJson, nullptr, false);
          if (extras.is_object() && extras.contains("workload_s") &&
              extras["workload_s"].is_number())
            entry.seconds = extras["workload_s"].get<double>();
        } else {
          entry.seconds = record.latencyS.value_or(0);
        }
        if (record.threads)
          entry.threads = int(*record.threads);
        held = std::move(entry);
        heldRank = rank;
      }
    });
    // `database` closes here, before anything is dispatched.
  } catch (const std::exception &e) {
    return giveUp(std::string(e.what()));
  }
  // The map is keyed by workload key alone (what a lookup hashes); the
  // structural hash is checked on the entry.
  entries.clear();
  for (auto &[key, slots] : fresh) {
    std::string workloadKey = key.substr(0, key.find('\n'));
    std::vector<Slot> &into = entries[workloadKey];
    if (into.empty()) {
      into = std::move(slots);
      continue;
    }
    // Two hashes under one key: keep both by appending (rare).
    for (Slot &slot : slots)
      into.push_back(std::move(slot));
  }
  fallback = false;
  reason.clear();
  return true;
}

const IndexEntry *ScheduleIndex::lookup(std::string_view workloadKey,
                                        std::string_view workloadHash,
                                        size_t backend) const {
  auto found = entries.find(std::string(workloadKey));
  if (found == entries.end() || backend >= targetOfBackend.size())
    return nullptr;
  size_t target = targetOfBackend[backend];
  const std::vector<Slot> &slots = found->second;
  // Slots come in blocks of targets.size(), one block per structural hash.
  for (size_t base = 0; base + target < slots.size(); base += targets.size()) {
    const Slot &slot = slots[base + target];
    const std::optional<IndexEntry> &entry =
        slot.fresh ? slot.fresh : slot.stale;
    if (!entry)
      continue;
    if (!workloadHash.empty() && entry->workloadHash != workloadHash)
      continue;
    if (slot.fresh)
      return &*slot.fresh;
    if (options.allowStale)
      return &*slot.stale;
  }
  return nullptr;
}

bool ScheduleIndex::hasStale(std::string_view workloadKey,
                             std::string_view workloadHash,
                             size_t backend) const {
  auto found = entries.find(std::string(workloadKey));
  if (found == entries.end() || backend >= targetOfBackend.size())
    return false;
  size_t target = targetOfBackend[backend];
  for (size_t base = 0; base + target < found->second.size();
       base += targets.size()) {
    const std::optional<IndexEntry> &stale = found->second[base + target].stale;
    if (stale && (workloadHash.empty() || stale->workloadHash == workloadHash))
      return true;
  }
  return false;
}

} // namespace hatc::coord
