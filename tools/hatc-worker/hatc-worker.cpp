//===- hatc-worker.cpp - Builds and runs candidates for the harness -------===//
//
// Started by the measurement harness (hatc/Measure/Harness.h), one process
// per pool slot, in its own process group and under its memory limit. The
// protocol (JSON lines on stdin/stdout) is described in
// hatc/Measure/Worker.h; it can also be driven by hand:
//
//   echo '{"type":"measure","id":1,"workload":"examples/matmul_odd.mlir",
//          "target":"cpu"}' | hatc-worker
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Worker.h"
#include "hatc/Support/Version.h"

#include <cstdio>
#include <cstring>

namespace {

const char *const kUsage =
    "usage: hatc-worker [--allow-faults]\n"
    "\n"
    "Builds and runs candidate schedules for hatc's measurement harness.\n"
    "Reads one JSON request a line on stdin, writes JSON replies on stdout\n"
    "(first {\"type\":\"ready\"}); request types: build, run, measure.\n"
    "\n"
    "  --allow-faults  honour the requests' \"fault\" field (tests only)\n"
    "  --version       print the compiler version\n"
    "  --help          print this text\n";

} // namespace

int main(int argc, char **argv) {
  hatc::WorkerOptions options;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--allow-faults")) {
      options.allowFaults = true;
    } else if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return hatc::worker::kExitOk;
    } else if (!std::strcmp(argv[i], "--version")) {
      std::printf("%s\n", hatc::compilerVersion().c_str());
      return hatc::worker::kExitOk;
    } else {
      std::fprintf(stderr,
                   "hatc-worker: error: unknown argument '%s' (see --help)\n",
                   argv[i]);
      return hatc::worker::kExitUsage;
    }
  }
  return hatc::runWorker(options);
}
