//===- DbJsonl.cpp - Tuning logs: writer, import, export, bad input -----===//

#include "hatc/Db/Jsonl.h"
#include "hatc/Support/Nesting.h"

#include "hatc/Db/Database.h"

#include "DbTestUtil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sstream>

using namespace hatc;
using namespace hatc::db;
using namespace hatc::db::testing;

namespace {

std::vector<std::string> splitLines(const std::string &text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// A mix of everything a record can hold.
std::vector<Record> sampleRecords() {
  std::vector<Record> records;
  Record plain = makeRecord("{\"tm\":32,\"tn\":16}", 1.25e-3);
  plain.workloadIr = "func.func @mm(%a: tensor<64x64xf32>) { return }";
  plain.extrasJson = "{\"gflops\":12.5}";
  records.push_back(plain);
  Record second = makeRecord("{\"tm\":8,\"tn\":8}", 0.1 + 0.2);
  second.workloadIr = plain.workloadIr;
  second.createdAt = 1700000123.456789;
  records.push_back(second);
  Record failed = makeRecord("{\"tm\":1024}", 1e-3);
  failed.error = ErrorCode::BuildTimeout;
  failed.script = "multi\nline \"quoted\" \xe2\x9c\x93 script\t";
  records.push_back(failed);
  Record hwacc = makeRecord("{\"dim\":16,\"order\":\"ws\"}", 0);
  hwacc.targetKind = "hwacc";
  hwacc.targetName = "hwacc-16";
  hwacc.targetFingerprint = "dim16-spad256k";
  hwacc.samples.clear();
  hwacc.cycles = 9007199254740993LL; // not exactly representable as double
  records.push_back(hwacc);
  Record stale = makeRecord("{\"tm\":32,\"tn\":16}", 2e-3, "hatc-test-0");
  records.push_back(stale);
  return records;
}

std::string exportToString(Database &db) {
  std::ostringstream out;
  exportJsonl(db, out);
  return out.str();
}

ImportStats importString(Database &db, const std::string &text) {
  std::istringstream in(text);
  return importJsonl(db, in);
}

std::string goodLine(int i) {
  return recordToJsonLine(
      makeRecord("{\"i\":" + std::to_string(i) + "}", 1e-3));
}

class DbJsonl : public ::testing::Test {
protected:
  void SetUp() override { db = Database::open(scratch.path("tune.db")); }
  ScratchDir scratch;
  std::unique_ptr<Database> db;
};

} // namespace

TEST_F(DbJsonl, LineCarriesFormatAndVersionAndParsesBack) {
  for (const Record &original : sampleRecords()) {
    std::string line = recordToJsonLine(original);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.rfind("{\"format\":\"hatc-log\",\"version\":1,", 0), 0u)
        << line;
    Record parsed;
    ASSERT_EQ(parseJsonLine(line, parsed), "") << line;
    Record expected = original;
    ASSERT_EQ(normalizeRecord(expected), "");
    EXPECT_EQ(parsed.workloadKey, expected.workloadKey);
    EXPECT_EQ(parsed.workloadIr, expected.workloadIr);
    EXPECT_EQ(parsed.targetName, expected.targetName);
    EXPECT_EQ(parsed.createdAt, expected.createdAt);
    EXPECT_EQ(parsed.configJson, expected.configJson);
    EXPECT_EQ(parsed.configHash, expected.configHash);
    EXPECT_EQ(parsed.script, expected.script);
    EXPECT_EQ(parsed.samples, expected.samples);
    EXPECT_EQ(parsed.latencyS, expected.latencyS);
    EXPECT_EQ(parsed.cycles, expected.cycles);
    EXPECT_EQ(parsed.error, expected.error);
    EXPECT_EQ(parsed.extrasJson, expected.extrasJson);
  }
}

TEST_F(DbJsonl, RefusesALineNestedTooDeepButNotBracketsInStrings) {
  // Brackets inside strings (an IR or a script in a record) and escaped
  // quotes do not nest; a config nested past kMaxNesting is refused before
  // it is parsed (printing it recursed once per level: a stack overflow).
  std::string many(5000, '[');
  Record inStrings = makeRecord("{\"tm\":32}", 1e-3);
  inStrings.script = "// " + many + "\n\"\\\"" + many + "\"";
  inStrings.workloadIr = many;
  Record parsed;
  EXPECT_EQ(parseJsonLine(recordToJsonLine(inStrings), parsed), "");
  EXPECT_EQ(parsed.script, inStrings.script);

  std::string deep = std::string(kMaxNesting, '[') + "1" +
                     std::string(kMaxNesting, ']');
  Record withExtras = makeRecord("{\"tm\":32}", 1e-3);
  withExtras.extrasJson = "{\"a\":1}";
  std::string line = recordToJsonLine(withExtras);
  // The line's object and "extras" are two levels.
  std::string atLimit = line;
  atLimit.replace(atLimit.find("\"extras\":{"), 10,
                  "\"extras\":{\"d\":" +
                      deep.substr(2, deep.size() - 4) + ",");
  EXPECT_EQ(nestingDepth(atLimit), kMaxNesting);
  EXPECT_EQ(parseJsonLine(atLimit, parsed), "") << "1000 levels are read";
  std::string tooDeep = line;
  tooDeep.replace(tooDeep.find("\"extras\":{"), 10,
                  "\"extras\":{\"d\":" + deep + ",");
  EXPECT_NE(parseJsonLine(tooDeep, parsed).find(
                "nests brackets more than 1000 levels deep"),
            std::string::npos);
  EXPECT_EQ(nestingDepth(tooDeep), kMaxNesting + 1);
  // MLIR: types nest in <...>; an arrow, >= and <= are no brackets.
  EXPECT_EQ(nestingDepth("tensor<4xvector<8xf32>>"), 2u);
  EXPECT_EQ(nestingDepth("(i32) -> i32 (f32) -> f32"), 1u);
  EXPECT_EQ(nestingDepth("affine_set<(d0) : (d0 - 1 >= 0)> <<>>"), 2u);
}

TEST_F(DbJsonl, WriterAppendsWholeFlushedLines) {
  std::string path = scratch.path("tune.jsonl");
  writeFile(path, goodLine(0) + "\n"); // an earlier run's log is kept
  JsonlWriter writer(path);
  JsonlWriter second(path); // another writer on the same file
  std::vector<Record> records = sampleRecords();
  for (size_t i = 0; i < records.size(); ++i) {
    (i % 2 ? second : writer).write(records[i]);
    // Readable while the writers are still open: nothing sits in a buffer.
    std::string content = readFile(path);
    ASSERT_EQ(content.back(), '\n');
    EXPECT_EQ(splitLines(content).size(), i + 2);
  }
  JsonlWriter moved = std::move(writer);
  moved.write(makeRecord("{\"after\":\"move\"}", 1e-3));
  EXPECT_EQ(moved.path(), path);

  ImportStats stats = importJsonlFile(*db, path);
  EXPECT_EQ(stats.linesRead, records.size() + 2);
  EXPECT_EQ(stats.imported, records.size() + 2);
  EXPECT_EQ(stats.bad, 0u);

  EXPECT_THROW(JsonlWriter(scratch.path("no/such/dir/log.jsonl")), DbError);
  Record invalid = makeRecord("{}", 1e-3);
  invalid.sketch.clear();
  EXPECT_THROW(moved.write(invalid), DbError);
}

// A log whose last line was cut short (a full disk, a killed writer):
// appending starts a new line, so the torn bytes stay one bad line and the
// new record is whole.
TEST_F(DbJsonl, WriterStartsANewLineAfterATornOne) {
  std::string path = scratch.path("torn.jsonl");
  std::string torn = goodLine(2);
  writeFile(path, goodLine(1) + "\n" + torn.substr(0, torn.size() / 2));
  JsonlWriter writer(path);
  writer.write(makeRecord("{\"i\":3}", 1e-3));
  writer.write(makeRecord("{\"i\":4}", 1e-3));
  writer.close();
  ImportStats stats = importJsonlFile(*db, path);
  EXPECT_EQ(stats.linesRead, 4u);
  EXPECT_EQ(stats.imported, 3u);
  EXPECT_EQ(stats.bad, 1u);
  ASSERT_EQ(stats.badLines.size(), 1u);
  EXPECT_EQ(stats.badLines[0].line, 2u);
}

// A line the disk takes only part of (here a file-size limit: EFBIG after
// a partial write) is cut off again: the log ends as it did before, and
// the next record, once there is room, is whole.
TEST_F(DbJsonl, WriterCutsOffALineItCouldOnlyPartlyWrite) {
  std::string path = scratch.path("limited.jsonl");
  std::string first = goodLine(1) + "\n";
  writeFile(path, first);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // In a child: the limit and the ignored SIGXFSZ stay there.
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {rlim_t(first.size() + 40),
                           rlim_t(first.size() + 40)};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      JsonlWriter writer(path);
      writer.write(makeRecord("{\"i\":2}", 1e-3));
      _exit(2); // the write should have failed
    } catch (const DbError &) {
      _exit(0);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the write did not fail";
  EXPECT_EQ(readFile(path), first);
  JsonlWriter writer(path);
  writer.write(makeRecord("{\"i\":3}", 1e-3));
  writer.close();
  ImportStats stats = importJsonlFile(*db, path);
  EXPECT_EQ(stats.imported, 2u);
  EXPECT_EQ(stats.bad, 0u);
}

TEST_F(DbJsonl, ExportThenImportRoundTripsExactly) {
  for (const Record &record : sampleRecords())
    db->commitRecord(record);
  std::string exported = exportToString(*db);
  EXPECT_EQ(splitLines(exported).size(), sampleRecords().size());
  // The IR is written once per workload.
  EXPECT_EQ(exported.find("workload_ir"), exported.rfind("workload_ir"));

  std::unique_ptr<Database> copy = Database::open(scratch.path("copy.db"));
  ImportStats stats = importString(*copy, exported);
  EXPECT_EQ(stats.imported, sampleRecords().size());
  EXPECT_EQ(stats.bad, 0u);
  EXPECT_EQ(exportToString(*copy), exported);

  // Same records by every query, too.
  std::vector<Record> original =
      db->records("matmul_f32_M64_N64_K64", cpuTarget());
  std::vector<Record> copied =
      copy->records("matmul_f32_M64_N64_K64", cpuTarget());
  ASSERT_EQ(copied.size(), original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    EXPECT_EQ(copied[i].workloadIr, original[i].workloadIr);
    EXPECT_EQ(copied[i].samples, original[i].samples);
    EXPECT_EQ(copied[i].latencyS, original[i].latencyS);
    EXPECT_EQ(copied[i].script, original[i].script);
  }
  EXPECT_EQ(copy->best("matmul_f32_M64_N64_K64",
                       TargetKey{"hwacc", "dim16-spad256k", ""}, "hatc-test-1")
                ->cycles,
            9007199254740993LL);
}

TEST_F(DbJsonl, ImportIsIdempotent) {
  std::ostringstream log;
  for (const Record &record : sampleRecords())
    log << recordToJsonLine(record) << "\n";
  ImportStats first = importString(*db, log.str());
  EXPECT_EQ(first.imported, sampleRecords().size());
  EXPECT_EQ(first.duplicates, 0u);
  std::string afterFirst = exportToString(*db);

  ImportStats second = importString(*db, log.str());
  EXPECT_EQ(second.linesRead, first.linesRead);
  EXPECT_EQ(second.imported, 0u);
  EXPECT_EQ(second.duplicates, sampleRecords().size());
  EXPECT_EQ(exportToString(*db), afterFirst);
  EXPECT_EQ(db->stats().records, static_cast<int64_t>(sampleRecords().size()));
}

TEST_F(DbJsonl, DuplicatesWithinOneLogAreCounted) {
  std::string line = goodLine(1);
  ImportStats stats =
      importString(*db, line + "\n" + line + "\n\n   \n" + goodLine(2) + "\n");
  EXPECT_EQ(stats.linesRead, 5u);
  EXPECT_EQ(stats.blank, 2u);
  EXPECT_EQ(stats.imported, 2u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.bad, 0u);
}

TEST_F(DbJsonl, EmptyLogImportsNothing) {
  ImportStats stats = importString(*db, "");
  EXPECT_EQ(stats.linesRead, 0u);
  EXPECT_EQ(stats.imported, 0u);
  EXPECT_EQ(stats.bad, 0u);
  std::string path = scratch.path("empty.jsonl");
  writeFile(path, "");
  EXPECT_EQ(importJsonlFile(*db, path).linesRead, 0u);
  EXPECT_THROW(importJsonlFile(*db, scratch.path("missing.jsonl")), DbError);
  EXPECT_EQ(db->stats().records, 0);
}

TEST_F(DbJsonl, TruncatedLastLineIsReportedAndTheRestImported) {
  std::string last = goodLine(3);
  std::string log =
      goodLine(1) + "\n" + goodLine(2) + "\n" + last.substr(0, last.size() / 2);
  ImportStats stats = importString(*db, log);
  EXPECT_EQ(stats.linesRead, 3u);
  EXPECT_EQ(stats.imported, 2u);
  EXPECT_EQ(stats.bad, 1u);
  ASSERT_EQ(stats.badLines.size(), 1u);
  EXPECT_EQ(stats.badLines[0].line, 3u);
  EXPECT_NE(stats.badLines[0].reason.find("truncated last line"),
            std::string::npos)
      << stats.badLines[0].reason;

  // A complete last line without its newline is still a good line.
  ImportStats complete = importString(*db, goodLine(4));
  EXPECT_EQ(complete.imported, 1u);
  EXPECT_EQ(complete.bad, 0u);
}

TEST_F(DbJsonl, WrongTypesAndMissingFieldsAreReportedPerLine) {
  using nlohmann::json;
  auto edited = [](auto change) {
    json line = json::parse(goodLine(0));
    change(line);
    return line.dump();
  };
  struct Case {
    std::string line;
    std::string reason;
  };
  std::vector<Case> cases = {
      {edited([](json &l) { l["workload_key"] = 42; }),
       "field 'workload_key' must be a string, found number"},
      {edited([](json &l) { l.erase("compiler_version"); }),
       "missing required field 'compiler_version'"},
      {edited([](json &l) { l["created_at"] = "yesterday"; }),
       "field 'created_at' must be a number, found string"},
      {edited([](json &l) {
         l["config"] = json::array({1, 2});
       }),
       "field 'config' must be an object, found array"},
      {edited([](json &l) {
         l["samples"] = json::array({1e-3, "fast"});
       }),
       "field 'samples' must hold only numbers, found string"},
      {edited([](json &l) { l["cycles"] = 1.5; }),
       "field 'cycles' must be an integer or null, found number"},
      {edited([](json &l) { l["latency_s"] = true; }),
       "field 'latency_s' must be a number or null, found boolean"},
      {edited([](json &l) { l["error"] = "EXPLODED"; }),
       "unknown error code 'EXPLODED'"},
      {edited([](json &l) { l["sketch"] = ""; }), "missing sketch"},
      {edited([](json &l) { l["config_hash"] = "0000000000000000"; }),
       "config_hash '0000000000000000' does not match the config"},
      {edited([](json &l) {
         l["samples"] = json::array();
         l["latency_s"] = nullptr;
       }),
       "OK record has no latency"},
      {"[1, 2, 3]", "a log line must be a JSON object, found array"},
      {"{\"hello\": 1}", "not a hatc log line"},
  };
  std::string log;
  for (const Case &c : cases)
    log += goodLine(static_cast<int>(&c - cases.data())) + "\n" + c.line + "\n";
  ImportStats stats = importString(*db, log);
  EXPECT_EQ(stats.linesRead, 2 * cases.size());
  EXPECT_EQ(stats.imported, cases.size());
  EXPECT_EQ(stats.bad, cases.size());
  ASSERT_EQ(stats.badLines.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(stats.badLines[i].line, 2 * i + 2);
    EXPECT_NE(stats.badLines[i].reason.find(cases[i].reason), std::string::npos)
        << "line " << stats.badLines[i].line << ": " << stats.badLines[i].reason
        << "\n  expected: " << cases[i].reason;
  }
}

TEST_F(DbJsonl, UnknownFormatVersionIsReported) {
  nlohmann::json future = nlohmann::json::parse(goodLine(1));
  future["version"] = 2;
  nlohmann::json other = nlohmann::json::parse(goodLine(2));
  other["format"] = "tvm-log";
  nlohmann::json noVersion = nlohmann::json::parse(goodLine(3));
  noVersion.erase("version");
  ImportStats stats =
      importString(*db, future.dump() + "\n" + other.dump() + "\n" +
                            noVersion.dump() + "\n" + goodLine(4) + "\n");
  EXPECT_EQ(stats.imported, 1u);
  EXPECT_EQ(stats.bad, 3u);
  ASSERT_EQ(stats.badLines.size(), 3u);
  EXPECT_EQ(stats.badLines[0].reason,
            "unsupported log version 2 (this hatc reads 1)");
  EXPECT_NE(stats.badLines[1].reason.find("not a hatc log line"),
            std::string::npos);
  EXPECT_NE(stats.badLines[2].reason.find("'version'"), std::string::npos);
}

TEST_F(DbJsonl, BinaryGarbageIsReportedReadablyAndGoodLinesSurvive) {
  std::mt19937 rng(1234);
  std::string garbage;
  for (int i = 0; i < 64 * 1024; ++i)
    garbage += static_cast<char>(rng() & 0xff);
  std::string log = goodLine(1) + "\n" + garbage + "\n" + goodLine(2) + "\n" +
                    std::string("\0\0\0{\"format\"\xff\xfe", 14) + "\n" +
                    // valid JSON syntax, invalid UTF-8 inside a string
                    "{\"format\":\"hatc-log\",\"x\":\"\xc3\x28\"}\n" +
                    goodLine(3) + "\n";
  std::string path = scratch.path("garbage.jsonl");
  writeFile(path, log);
  ImportStats stats = importJsonlFile(*db, path);
  EXPECT_EQ(stats.imported, 3u);
  EXPECT_GE(stats.bad, 3u);
  EXPECT_EQ(stats.linesRead, stats.imported + stats.bad + stats.blank);
  for (const BadLine &bad : stats.badLines) {
    EXPECT_LE(bad.reason.size(), 400u);
    for (unsigned char c : bad.reason)
      EXPECT_TRUE(c >= 0x20 && c < 0x7f)
          << "unprintable byte in reason of line " << bad.line;
  }
  EXPECT_EQ(db->integrityCheck(), "ok");
}

TEST_F(DbJsonl, HundredThousandLinesWithBadOnesSprinkledIn) {
  constexpr int kLines = 100000;
  constexpr int kBadEvery = 250; // 400 bad lines, more than are kept
  std::string templateLine = goodLine(0);
  // Build lines by substitution: recordToJsonLine 100k times would dominate.
  const std::string configMarker = "\"config\":{\"i\":0}";
  size_t configAt = templateLine.find(configMarker);
  ASSERT_NE(configAt, std::string::npos);
  size_t hashAt = templateLine.find("\"config_hash\":");
  ASSERT_NE(hashAt, std::string::npos);
  size_t hashEnd = templateLine.find(',', hashAt);
  std::string log;
  log.reserve(static_cast<size_t>(kLines) * templateLine.size());
  for (int i = 1; i <= kLines; ++i) {
    if (i % kBadEvery == 0) {
      log += "{\"format\":\"hatc-log\",\"version\":1,\"workload_key\":7}\n";
      continue;
    }
    // No config_hash field: it is optional and recomputed.
    std::string line =
        templateLine.substr(0, configAt) +
        "\"config\":{\"i\":" + std::to_string(i) + "}" +
        templateLine.substr(configAt + configMarker.size(),
                            hashAt - configAt - configMarker.size()) +
        templateLine.substr(hashEnd + 1);
    log += line;
    log += '\n';
  }
  ImportStats stats = importString(*db, log);
  EXPECT_EQ(stats.linesRead, static_cast<size_t>(kLines));
  EXPECT_EQ(stats.bad, static_cast<size_t>(kLines / kBadEvery));
  EXPECT_EQ(stats.imported, static_cast<size_t>(kLines - kLines / kBadEvery));
  EXPECT_EQ(stats.duplicates, 0u);
  ASSERT_EQ(stats.badLines.size(), ImportStats::kMaxBadLinesKept);
  EXPECT_EQ(stats.badLines.front().line, static_cast<size_t>(kBadEvery));
  EXPECT_EQ(stats.badLines.back().line,
            static_cast<size_t>(kBadEvery * ImportStats::kMaxBadLinesKept));
  EXPECT_EQ(db->stats().records,
            static_cast<int64_t>(kLines - kLines / kBadEvery));
  std::optional<Record> best =
      db->best("matmul_f32_M64_N64_K64", cpuTarget(), "hatc-test-1");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, "{\"i\":1}"); // equal latency: the oldest wins
}
