//===- CompileLibrary.h - hatc compile --emit lib --------------*- C++ -*-===//
#ifndef HATC_TOOLS_COMPILELIBRARY_H
#define HATC_TOOLS_COMPILELIBRARY_H

#include "Common.h"

#include <string>

namespace hatc {

/// `hatc compile --emit lib`: OUT/libNAME.so and OUT/NAME.h (deploy/), each
/// schedule chosen as for every command (--schedule, --db, or the default)
/// named on stderr. `name` empty: the workload file's stem as a C
/// identifier. Returns the exit code.
int compileLibrary(const CompileRequest &request, const std::string &outDir,
                   std::string name);

} // namespace hatc

#endif // HATC_TOOLS_COMPILELIBRARY_H
