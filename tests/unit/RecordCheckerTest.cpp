//===- RecordCheckerTest.cpp - What replay checks beyond a record's fields ===//
#include "TestContext.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Tuner/Recording.h"

#include "gtest/gtest.h"

using namespace hatc;

namespace {

constexpr const char *kMatmulIr = R"mlir(
func.func @mm(%a: tensor<8x4xf32>, %b: tensor<4x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
  %c = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x16xf32>)
                     outs(%init : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %c : tensor<8x16xf32>
}
)mlir";
constexpr const char *kKey = "matmul_f32_M8_N16_K4";

constexpr const char *kNoopScript = R"mlir(
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    transform.yield
  }
}
)mlir";

/// A record of the matmul: with its IR when `withIr`, under `hash`.
db::Record record(const std::string &hash, bool withIr) {
  db::Record r;
  r.workloadKey = kKey;
  r.workloadHash = hash;
  if (withIr)
    r.workloadIr = kMatmulIr;
  r.script = kNoopScript;
  return r;
}

std::string matmulHash() {
  auto hash = storedWorkloadHash(test::context(), kKey, kMatmulIr);
  EXPECT_TRUE(bool(hash)) << llvm::toString(hash.takeError());
  return hash ? *hash : std::string();
}

TEST(RecordChecker, AcceptsARecordTrueToItsIrAndOneWithoutIr) {
  tuner::RecordChecker check;
  EXPECT_EQ(check(record(matmulHash(), true)), "");
  EXPECT_EQ(check(record(matmulHash(), false)), "");
  // An unknown workload without IR: nothing to check it against.
  EXPECT_EQ(check(record("w1-" + std::string(32, '1'), false)), "");
}

TEST(RecordChecker, RefusesAWrongHashAndTheWorkloadsRecordsAfterIt) {
  tuner::RecordChecker check;
  std::string wrong = "w1-" + std::string(32, '0');
  EXPECT_NE(check(record(wrong, true)).find("hashes to " + matmulHash()),
            std::string::npos);
  EXPECT_NE(check(record(wrong, false)).find("refused on an earlier line"),
            std::string::npos);
  // The right hash is another workload: its records are not affected.
  EXPECT_EQ(check(record(matmulHash(), false)), "");
}

TEST(RecordChecker, AGoodIrLineVouchesForTheRecordsAfterIt) {
  tuner::RecordChecker check;
  db::Record bad = record(matmulHash(), true);
  bad.workloadIr = "func.func @mm(";
  EXPECT_NE(check(bad).find("does not parse"), std::string::npos);
  EXPECT_NE(check(record(matmulHash(), false)), "");
  EXPECT_EQ(check(record(matmulHash(), true)), "");
  EXPECT_EQ(check(record(matmulHash(), false)), "");
  // Once accepted, a later bad IR line is refused on its own.
  EXPECT_NE(check(bad), "");
  EXPECT_EQ(check(record(matmulHash(), false)), "");
}

TEST(RecordChecker, AHashOfAnOlderSchemeIsLeftToReKeying) {
  tuner::RecordChecker check;
  EXPECT_EQ(check(record("f735753ff4a1817f", true)), "");
  db::Record other = record("f735753ff4a1817f", true);
  other.workloadKey = "matmul_f32_M1_N1_K1";
  EXPECT_NE(check(other).find("no function with workload key "
                              "matmul_f32_M1_N1_K1 (it computes " +
                              std::string(kKey) + ")"),
            std::string::npos);
}

TEST(RecordChecker, ChecksTheScriptOfAnOkRecordOnly) {
  tuner::RecordChecker check;
  db::Record ok = record(matmulHash(), false);
  ok.script = "module {}";
  EXPECT_NE(check(ok).find("no transform.named_sequence @__transform_main"),
            std::string::npos);
  ok.script = "transform.named_sequence @__transform_main(";
  EXPECT_NE(check(ok).find("does not parse as a transform script"),
            std::string::npos);
  // A failed record ranks nowhere: its script is kept as it came.
  db::Record failed = ok;
  failed.error = db::ErrorCode::BuildError;
  EXPECT_EQ(check(failed), "");
  // No script at all is fine (a log may leave it out).
  ok.script.clear();
  EXPECT_EQ(check(ok), "");
}

} // namespace
