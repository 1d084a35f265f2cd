//===- FlagsTest.cpp - The CLI flag parser --------------------------------===//
#include "Flags.h"
#include "hatc/Support/Error.h"

#include <gtest/gtest.h>

using namespace hatc;

namespace {
struct Parsed {
  std::string file, target = "cpu";
  int64_t repeat = 10;
  bool json = false;
};

std::string parse(Parsed &p, std::vector<std::string> args) {
  FlagParser parser("hatc run", "test");
  parser.positional("FILE", &p.file, "input");
  parser.option("--target", &p.target, "T", "target");
  parser.option("--repeat", &p.repeat, "N", "repeats", 1);
  parser.flag("--json", &p.json, "json");
  if (llvm::Error err = parser.parse(args))
    return errorMessage(std::move(err));
  return "";
}
} // namespace

TEST(Flags, ParsesPositionalsOptionsAndFlags) {
  Parsed p;
  EXPECT_EQ(parse(p, {"w.mlir", "--target", "hwacc", "--repeat=3", "--json"}),
            "");
  EXPECT_EQ(p.file, "w.mlir");
  EXPECT_EQ(p.target, "hwacc");
  EXPECT_EQ(p.repeat, 3);
  EXPECT_TRUE(p.json);
}

TEST(Flags, ReportsEachMistakeInOneLine) {
  Parsed p;
  EXPECT_EQ(parse(p, {"w.mlir", "--nope"}),
            "hatc run: unknown flag '--nope' (see 'hatc run --help')");
  EXPECT_EQ(parse(p, {"w.mlir", "--repeat", "0"}),
            "hatc run: --repeat expects an integer >= 1, got '0'");
  EXPECT_EQ(parse(p, {"w.mlir", "--repeat", "3x"}),
            "hatc run: --repeat expects an integer >= 1, got '3x'");
  EXPECT_EQ(parse(p, {"w.mlir", "--target"}),
            "hatc run: --target needs a value (T)");
  EXPECT_EQ(parse(p, {"w.mlir", "--json=1"}), "hatc run: --json takes no value");
  EXPECT_EQ(parse(p, {}), "hatc run: missing FILE (see 'hatc run --help')");
  EXPECT_EQ(parse(p, {"a", "b"}), "hatc run: unexpected argument 'b'");
}

TEST(Flags, DoubleDashEndsFlags) {
  Parsed p;
  EXPECT_EQ(parse(p, {"--", "--weird-name.mlir"}), "");
  EXPECT_EQ(p.file, "--weird-name.mlir");
}
