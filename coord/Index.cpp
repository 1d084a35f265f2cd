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

/// One slot's candidates while the database is read: its best record (as
/// Database::best ranks) and its best confirmed record of the default
/// schedule, which a build takes instead when the best gives way to it
/// (db::givesWayToDefault, as Database::bestToBuild).
struct Pick {
  std::optional<db::Record> best, confirmedDefault;
  db::RankKey bestRank;

  void offer(const db::Record &record, bool isStale) {
    db::RankKey rank = db::rankKey(record, metricOf(record));
    bool isBest = !best || rank < bestRank; // ties: the older record
    bool isDefault =
        db::isConfirmedDefault(record) && !record.script.empty() &&
        (!confirmedDefault || metricOf(record) < metricOf(*confirmedDefault));
    if (!isBest && !isDefault)
      return;
    db::Record kept = record;
    kept.workloadIr.clear(); // not needed here, and the largest field
    kept.stale = isStale;
    if (isBest && isDefault)
      confirmedDefault = kept;
    if (isDefault && !isBest)
      confirmedDefault = std::move(kept);
    if (isBest) {
      best = std::move(kept);
      bestRank = rank;
    }
  }

  const std::optional<db::Record> &toBuild() const {
    if (best && confirmedDefault &&
        db::givesWayToDefault(*best, *confirmedDefault))
      return confirmedDefault;
    return best;
  }
};

std::optional<IndexEntry> entryOf(const std::optional<db::Record> &record,
                                  const BackendSpec &target) {
  if (!record)
    return std::nullopt;
  IndexEntry entry;
  entry.workloadHash = record->workloadHash;
  entry.script = record->script;
  entry.configJson = record->configJson;
  entry.configHash = record->configHash;
  entry.sketch = record->sketch;
  entry.stale = record->stale;
  entry.recordId = record->id;
  if (record->cycles) {
    double clock = target.hwacc.clockGHz > 0 ? target.hwacc.clockGHz : 1;
    entry.seconds = double(*record->cycles) / (clock * 1e9);
    // The cycles rank schedules and leave out the host work every
    // schedule does alike; the dispatcher needs all of it.
    nlohmann::json extras =
        nlohmann::json::parse(record->extrasJson, nullptr, false);
    if (extras.is_object() && extras.contains("workload_s") &&
        extras["workload_s"].is_number())
      entry.seconds = extras["workload_s"].get<double>();
  } else {
    entry.seconds = record->latencyS.value_or(0);
  }
  if (record->threads)
    entry.threads = int(*record->threads);
  return entry;
}

} // namespace

bool ScheduleIndex::load(const std::string &path) {
  dbPath = path;
  // Per key (workload key and hash), per distinct target: fresh and stale.
  std::unordered_map<std::string, std::vector<std::pair<Pick, Pick>>> picks;
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
        std::vector<std::pair<Pick, Pick>> &slot =
            picks[record.workloadKey + '\n' + record.workloadHash];
        slot.resize(targets.size());
        (isStale ? slot[t].second : slot[t].first).offer(record, isStale);
      }
    });
    // `database` closes here, before anything is dispatched.
  } catch (const std::exception &e) {
    return giveUp(std::string(e.what()));
  }
  std::unordered_map<std::string, std::vector<Slot>> fresh;
  for (auto &[key, perTarget] : picks) {
    std::vector<Slot> &slots = fresh[key];
    for (size_t t = 0; t < perTarget.size(); ++t)
      slots.push_back({entryOf(perTarget[t].first.toBuild(), targets[t]),
                       entryOf(perTarget[t].second.toBuild(), targets[t])});
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
