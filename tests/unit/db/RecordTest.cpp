//===- RecordTest.cpp - Record normalization, hashing, error codes --------===//

#include "hatc/Db/Record.h"

#include "DbTestUtil.h"

#include <gtest/gtest.h>

using namespace hatc;
using namespace hatc::db;
using hatc::db::testing::makeRecord;

TEST(DbRecord, ErrorCodeNamesRoundTrip) {
  EXPECT_EQ(allErrorCodes().size(), 9u);
  for (ErrorCode code : allErrorCodes())
    EXPECT_EQ(parseErrorCode(errorCodeName(code)), code);
  EXPECT_STREQ(errorCodeName(ErrorCode::OutOfMemory), "OUT_OF_MEMORY");
  EXPECT_EQ(parseErrorCode("DEVICE_UNAVAILABLE"), ErrorCode::DeviceUnavailable);
  EXPECT_FALSE(parseErrorCode("ok"));
  EXPECT_FALSE(parseErrorCode(""));
}

TEST(DbRecord, CanonicalJsonSortsKeysAndDropsWhitespace) {
  EXPECT_EQ(
      canonicalJson(R"( { "tn": 8, "tm" : [1, 2], "a": {"z":1,"b":2} } )"),
      R"({"a":{"b":2,"z":1},"tm":[1,2],"tn":8})");
  EXPECT_EQ(canonicalJson("{\"x\":0.1}"), "{\"x\":0.1}");
  EXPECT_THROW(canonicalJson("{\"x\":", "config"), DbError);
  try {
    canonicalJson("{oops}", "config");
    FAIL() << "no error";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("config is not valid JSON"),
              std::string::npos);
  }
}

TEST(DbRecord, ConfigHashIsFnv1aOfCanonicalText) {
  // Reference values of 64-bit FNV-1a: the hash is stored on disk, so it
  // must never change between builds.
  EXPECT_EQ(configHashOf(""), "cbf29ce484222325");
  EXPECT_EQ(configHashOf("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(configHashOf(canonicalJson("{\"tn\":64, \"tm\":16}")),
            "7f5820619986f7c5");
  EXPECT_EQ(configHashOf(canonicalJson("{\"tm\":16,\"tn\":64}")),
            configHashOf(canonicalJson("{ \"tn\" : 64 , \"tm\" : 16 }")));
}

TEST(DbRecord, MedianOfSamples) {
  EXPECT_FALSE(medianOf({}));
  EXPECT_EQ(medianOf({3.0}), 3.0);
  EXPECT_EQ(medianOf({5.0, 1.0, 3.0}), 3.0);
  EXPECT_EQ(medianOf({4.0, 1.0, 3.0, 2.0}), 2.5);
}

TEST(DbRecord, NormalizeFillsDerivedFields) {
  Record record = makeRecord("{ \"tn\": 64, \"tm\": 16 }", 1e-3);
  record.samples = {3e-3, 1e-3, 2e-3};
  record.extrasJson = "";
  EXPECT_EQ(normalizeRecord(record), "");
  EXPECT_EQ(record.configJson, "{\"tm\":16,\"tn\":64}");
  EXPECT_EQ(record.configHash, "7f5820619986f7c5");
  EXPECT_EQ(record.latencyS, 2e-3);
  EXPECT_EQ(record.extrasJson, "{}");

  // An explicit median wins over the samples.
  Record explicitMedian = makeRecord("{}", 1e-3);
  explicitMedian.latencyS = 5e-3;
  EXPECT_EQ(normalizeRecord(explicitMedian), "");
  EXPECT_EQ(explicitMedian.latencyS, 5e-3);

  // Errors carry no performance numbers.
  Record failed = makeRecord("{}", 1e-3);
  failed.error = ErrorCode::RunTimeout;
  failed.cycles = 10;
  EXPECT_EQ(normalizeRecord(failed), "");
  EXPECT_FALSE(failed.latencyS);
  EXPECT_FALSE(failed.cycles);
}

TEST(DbRecord, NormalizeRejectsInvalidRecords) {
  auto reasonFor = [](auto change) {
    Record record = makeRecord("{\"tm\":1}", 1e-3);
    change(record);
    return normalizeRecord(record);
  };
  EXPECT_EQ(reasonFor([](Record &r) { r.workloadKey.clear(); }),
            "missing workload key");
  EXPECT_EQ(reasonFor([](Record &r) { r.targetFingerprint.clear(); }),
            "missing target fingerprint");
  EXPECT_EQ(reasonFor([](Record &r) { r.compilerVersion.clear(); }),
            "missing compiler version");
  EXPECT_NE(reasonFor([](Record &r) {
              r.configJson = "{";
            }).find("config is not valid JSON"),
            std::string::npos);
  EXPECT_EQ(reasonFor([](Record &r) { r.configJson = "[1,2]"; }),
            "config is not a JSON object");
  EXPECT_EQ(reasonFor([](Record &r) { r.extrasJson = "3"; }),
            "extras is not a JSON object");
  for (const char *bad : {R"({"measurements":0})", R"({"measurements":1.5})",
                          R"({"measurements":"3"})"})
    EXPECT_EQ(reasonFor([&](Record &r) { r.extrasJson = bad; }),
              "extras.measurements must be an integer >= 1")
        << bad;
  EXPECT_EQ(reasonFor([](Record &r) { r.extrasJson = R"({"measurements":3})"; }),
            "");
  EXPECT_EQ(reasonFor([](Record &r) { r.script = "bad \xff byte"; }),
            "script is not valid UTF-8");
  EXPECT_EQ(reasonFor([](Record &r) { r.script = "\xc0\xaf"; }),
            "script is not valid UTF-8"); // overlong '/'
  EXPECT_EQ(reasonFor([](Record &r) {
              r.script = "ok \xe2\x9c\x93 \xf0\x9f\x98\x80";
            }),
            "");
  EXPECT_EQ(reasonFor([](Record &r) { r.samples = {-1.0}; }),
            "latency samples must be non-negative finite seconds");
  EXPECT_EQ(reasonFor([](Record &r) { r.samples.clear(); }),
            "OK record has no latency (neither samples nor median)");
  EXPECT_EQ(reasonFor([](Record &r) {
              r.targetKind = "hwacc";
              r.samples.clear();
            }),
            "OK record for a hwacc target has no cycles");
  EXPECT_EQ(reasonFor([](Record &r) {
              r.targetKind = "hwacc";
              r.samples.clear();
              r.cycles = 1234;
            }),
            "");
  EXPECT_EQ(reasonFor([](Record &r) {
              r.targetKind = "hwacc";
              r.cycles = 0;
            }),
            "OK record for a hwacc target has 0 cycles");
  EXPECT_EQ(reasonFor([](Record &r) { r.targetKind = "quantum"; }),
            "target kind 'quantum' is none of cpu, gpu and hwacc");
  // An OK record that took no time would rank first at infinite speed; a
  // failed one has no latency to speak of.
  EXPECT_EQ(reasonFor([](Record &r) { r.samples = {0.0}; }),
            "OK record has a latency of 0 seconds");
  EXPECT_EQ(reasonFor([](Record &r) {
              r.samples = {0.0};
              r.error = ErrorCode::RunError;
            }),
            "");
}
