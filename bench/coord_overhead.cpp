//===- coord_overhead.cpp - Per-task cost of a coordinator decision -------===//
//
// What the coordinator adds to every task on a hit: the schedule-index
// lookup (hash map by workload key), the workload's predictions, and the
// policy's decision over the backends' queues (plus booking the task on the
// chosen queue). Target: at most 1 us (oneDNN's primitive-cache hit costs
// about 6 us, cuBLASLt's heuristics about 1 us). Baseline in the same table:
// a static policy's decision.
//
//   build/bin/hatc-bench-coord [--benchmark_filter=...]
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Index.h"
#include "hatc/Coord/LatencyModel.h"
#include "hatc/Coord/Policy.h"
#include "hatc/Db/Database.h"
#include "hatc/Support/Version.h"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <unistd.h>

using namespace hatc;
using namespace hatc::coord;

namespace {

const char *kKeys[] = {
    "matmul_f32_M1024_N1024_K1024",
    "matmul_f32_M128_N3072_K768",
    "batch_matmul_f32_B12_M128_N128_K64",
    "conv2d_nhwc_hwcf_f32_N1_OH56_OW56_F64_KH3_KW3_C64_S1x1_D1x1",
    "conv2d_nhwc_hwcf_f32_N1_OH28_OW28_F128_KH3_KW3_C64_S2x2_D1x1",
    "generic_f32_128x3072_pp",
    "matmul_f32_M257_N129_K67",
    "matmul_i8i32_M512_N512_K512",
};

BackendSpec spec(BackendKind kind, const std::string &name) {
  BackendSpec s;
  s.name = name;
  s.kind = kind;
  s.slots = kind == BackendKind::Cpu ? 2 : 1;
  s.targetKind = backendKindName(kind);
  s.fingerprint = s.targetKind + "-fp";
  s.transferBytesPerS = kind == BackendKind::Hwacc ? 16e9 : 0;
  return s;
}

/// An index filled from a real database file (every key tuned on every
/// target), a model over it, and queues.
struct World {
  std::vector<BackendSpec> backends;
  std::unique_ptr<ScheduleIndex> index;
  std::unique_ptr<LatencyModel> model;
  std::unique_ptr<QueueModel> queues;
  std::vector<std::string> keys, hashes;

  explicit World(int numBackends) {
    backends.push_back(spec(BackendKind::Cpu, "cpu"));
    for (int i = 1; i < numBackends; ++i)
      backends.push_back(spec(BackendKind::Hwacc, "hwacc" + std::to_string(i)));
    std::string path = (std::filesystem::temp_directory_path() /
                        ("hatc-bench-coord-" + std::to_string(::getpid()) +
                         ".db"))
                           .string();
    {
      auto database = db::Database::open(path);
      for (const char *key : kKeys)
        for (const char *kind : {"cpu", "hwacc"}) {
          db::Record r;
          r.workloadKey = key;
          r.workloadHash = std::string("h") + key;
          r.targetKind = kind;
          r.targetFingerprint = std::string(kind) + "-fp";
          r.compilerVersion = compilerVersion();
          r.sketch = "bench";
          r.script = "// schedule";
          if (std::string(kind) == "cpu")
            r.samples = {1e-3};
          else
            r.cycles = 500000;
          database->commitRecord(r);
        }
    }
    index = std::make_unique<ScheduleIndex>(backends, IndexOptions{});
    index->load(path);
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
    model = std::make_unique<LatencyModel>(backends);
    for (const char *key : kKeys) {
      WorkloadInfo info;
      info.key = key;
      info.hash = std::string("h") + key;
      info.op = OpKind::Gemm;
      info.flops = 1e9;
      info.bytesIn = 1e6;
      info.accelerable = std::string(key).rfind("generic", 0) != 0;
      model->addWorkload(info, index.get());
      keys.push_back(info.key);
      hashes.push_back(info.hash);
    }
    queues = std::make_unique<QueueModel>(backends);
  }
};

/// Lookup (index + model, by key) + decision + booking, per task.
void lookupAndDecide(benchmark::State &state, PolicyKind kind) {
  World world(int(state.range(0)));
  auto policy = makePolicy(kind, *world.model);
  size_t i = 0, hits = 0;
  double now = 0;
  for (auto _ : state) {
    size_t k = i++ % world.keys.size();
    const std::string &key = world.keys[k];
    const IndexEntry *entry = world.index->lookup(key, world.hashes[k], 0);
    hits += entry != nullptr;
    int w = world.model->findWorkload(key);
    int b = policy->choose(w, now, *world.model, *world.queues, {});
    double finish = world.queues->assign(b, now, world.model->predict(w, b));
    benchmark::DoNotOptimize(finish);
    now += 1e-4; // time passes: queues drain, so they stay short
  }
  if (hits != i)
    state.SkipWithError("index miss on the hit path");
  state.SetItemsProcessed(int64_t(state.iterations()));
}

void BM_DynamicHit(benchmark::State &state) {
  lookupAndDecide(state, PolicyKind::Dynamic);
}
void BM_StaticByOpHit(benchmark::State &state) {
  lookupAndDecide(state, PolicyKind::StaticByOp);
}
void BM_IndexLookupOnly(benchmark::State &state) {
  World world(int(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    size_t k = i++ % world.keys.size();
    benchmark::DoNotOptimize(
        world.index->lookup(world.keys[k], world.hashes[k], 0));
  }
}

BENCHMARK(BM_DynamicHit)->Arg(2)->Arg(9);
BENCHMARK(BM_StaticByOpHit)->Arg(2)->Arg(9);
BENCHMARK(BM_IndexLookupOnly)->Arg(2);

} // namespace

BENCHMARK_MAIN();
