//===- CorpusTest.cpp - Synthetic tasks of hatc model corpus --------------===//
//
// A seed draws the same tasks every time, each of a distinct shape, the
// classes in their proportions; every task is a workload that loads and has
// a schedule space on the targets its class is drawn for; a class out of
// shapes stops the draw instead of looping.
//
//===----------------------------------------------------------------------===//
#include "hatc/Tuner/Corpus.h"
#include "TestContext.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Sketch.h"

#include "llvm/ADT/STLExtras.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace hatc;
using namespace hatc::tuner;

namespace {

std::vector<std::string> names(const std::vector<CorpusTask> &tasks) {
  std::vector<std::string> out;
  for (const CorpusTask &t : tasks)
    out.push_back(t.name);
  return out;
}

TargetFacts factsOf(TargetKind kind) {
  TargetFacts facts;
  facts.kind = kind;
  facts.vectorLanes = 16;
  facts.vectorRegisters = 32;
  facts.l2Bytes = 1 << 20;
  facts.cores = 2;
  facts.threads = 2;
  facts.arrayDim = 16;
  facts.scratchpadRows = 4096;
  facts.accumulatorRows = 1024;
  return facts;
}

} // namespace

TEST(Corpus, ASeedDrawsTheSameDistinctTasksInProportion) {
  std::vector<CorpusClass> cpu = corpusClassesFor(TargetKind::Cpu);
  std::vector<CorpusTask> a = drawCorpus(38, 1, cpu);
  ASSERT_EQ(a.size(), 38u);
  EXPECT_EQ(names(a), names(drawCorpus(38, 1, cpu)));
  EXPECT_NE(names(a), names(drawCorpus(38, 2, cpu)));
  // A longer draw of the same seed starts with the shorter one.
  std::vector<std::string> longer = names(drawCorpus(50, 1, cpu));
  EXPECT_EQ(std::vector<std::string>(longer.begin(), longer.begin() + 38),
            names(a));
  std::set<std::string> distinct(longer.begin(), longer.end());
  EXPECT_EQ(distinct.size(), longer.size());
  // 7 : 3 : 6 : 3 of 38 is 14 : 6 : 12 : 6.
  std::map<CorpusClass, int> count;
  for (const CorpusTask &t : a)
    ++count[t.opClass];
  EXPECT_EQ(count[CorpusClass::Matmul], 14);
  EXPECT_EQ(count[CorpusClass::BatchMatmul], 6);
  EXPECT_EQ(count[CorpusClass::Conv], 12);
  EXPECT_EQ(count[CorpusClass::Depthwise], 6);
}

TEST(Corpus, EveryTaskLoadsAndHasASpaceOnItsTargets) {
  std::vector<CorpusTask> tasks =
      drawCorpus(40, 3, corpusClassesFor(TargetKind::Cpu));
  std::string module = corpusModule(tasks);
  std::set<std::string> keys;
  for (const CorpusTask &task : tasks) {
    auto w = parseWorkload(test::context(), module, "corpus", task.name);
    ASSERT_TRUE(bool(w)) << task.name << ": " << errorMessage(w.takeError());
    keys.insert(w->key());
    EXPECT_GE(task.flops, 2e6) << task.name;
    EXPECT_LE(task.flops, 6e8) << task.name;
    WorkloadShape shape = analyzeWorkload(*w);
    bool consumer = task.name.find("_plain") == std::string::npos;
    EXPECT_EQ(shape.hasElementwiseConsumer, consumer) << task.name;
    for (TargetKind kind : {TargetKind::Cpu, TargetKind::Hwacc,
                            TargetKind::Gpu}) {
      bool drawnFor = llvm::is_contained(corpusClassesFor(kind), task.opClass);
      if (drawnFor) {
        EXPECT_FALSE(SearchSpace(shape, factsOf(kind)).empty())
            << task.name << " on " << targetKindName(kind);
      }
    }
  }
  // Distinct shapes are distinct tasks to the database.
  EXPECT_EQ(keys.size(), tasks.size());
}

TEST(Corpus, AClassOutOfShapesEndsTheDraw) {
  // Depthwise convs come in 4 x 10 x 2 shapes, 46 of them of 2 MFLOP or
  // more.
  std::vector<CorpusTask> tasks = drawCorpus(500, 1, {CorpusClass::Depthwise});
  EXPECT_EQ(tasks.size(), 46u);
  for (const CorpusTask &t : tasks)
    EXPECT_EQ(t.opClass, CorpusClass::Depthwise);
  EXPECT_TRUE(drawCorpus(5, 1, {}).empty());
}

TEST(Corpus, ClassNamesRoundTrip) {
  for (CorpusClass c : corpusClassesFor(TargetKind::Cpu))
    EXPECT_EQ(parseCorpusClass(corpusClassName(c)), c);
  EXPECT_FALSE(parseCorpusClass("pooling"));
  EXPECT_FALSE(llvm::is_contained(corpusClassesFor(TargetKind::Hwacc),
                                  CorpusClass::Depthwise));
}
