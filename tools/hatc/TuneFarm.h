//===- TuneFarm.h - hatc tune --farm: the ranks of an MPI job -*- C++ -*-===//
//
// What `hatc tune` does differently under `--farm mpi` (see
// hatc/Measure/Farm.h): MPI starts before anything else, ranks >= 1 measure
// for rank 0 and return, and rank 0 measures through the farm. Without
// --farm none of this runs and MPI is never initialized.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TOOLS_HATC_TUNEFARM_H
#define HATC_TOOLS_HATC_TUNEFARM_H

#include "Common.h"
#include "hatc/Measure/Farm.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace hatc {

class FlagParser;

struct FarmFlags {
  std::string mode;     // --farm: "" or "mpi"
  std::string timeoutS; // --farm-timeout
  std::string simulateS; // --farm-simulate
  std::string fault;    // --farm-fault
};

void addFarmFlags(FlagParser &parser, FarmFlags &flags);

struct FarmRun {
  std::unique_ptr<farm::FarmTransport> transport; // null: no farm
  farm::FarmOptions options;
  farm::FarmMeasurer *measurer = nullptr; // owned by the caller
  bool active() const { return transport != nullptr; }
  /// Rank 0 stopping before it made its measurer (a bad workload): the
  /// ranks are told to stop, or MPI_Finalize would wait for them.
  ~FarmRun();
};

/// With --farm: starts MPI. On ranks >= 1 serves rank 0 and returns the
/// exit status; on rank 0 returns nullopt (go on tuning). A bad flag is
/// an exit status too, after one line on stderr.
std::optional<int> startFarm(const FarmFlags &flags,
                             const CompileRequest &request, int64_t threads,
                             bool check, bool flushCache,
                             std::atomic<bool> *interrupted,
                             FarmRun &run);

/// The measurer of `hatc tune`: the local worker pool, or (farm) rank 0's
/// farm measurer.
llvm::Expected<std::unique_ptr<Measurer>>
makeTuneMeasurer(FarmRun &run, const MeasureOptions &options);

/// One closing line on stderr with the farm's figures (nothing without a
/// farm); `tuneSeconds`: the tuner's wall time, `trials`: measured.
void reportFarm(const FarmRun &run, double tuneSeconds, int64_t trials);

/// "hatc tune", or under a farm "mpirun -n K hatc tune": how to resume.
std::string resumeCommandPrefix(const FarmRun &run);

} // namespace hatc

#endif // HATC_TOOLS_HATC_TUNEFARM_H
