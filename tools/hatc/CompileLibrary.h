//===- CompileLibrary.h - hatc compile --emit lib --------------*- C++ -*-===//
#ifndef HATC_TOOLS_COMPILELIBRARY_H
#define HATC_TOOLS_COMPILELIBRARY_H

#include "Common.h"

#include <string>

namespace hatc {

/// `hatc compile --emit lib`: OUT/libNAME.so and OUT/NAME.h (deploy/), each
/// task's schedule listed on stderr. `name` empty: the workload file's stem
/// as a C identifier; `dbPath` empty: no database. Returns the exit code.
int compileLibrary(const CompileRequest &request, const std::string &outDir,
                   std::string name, const std::string &dbPath);

} // namespace hatc

#endif // HATC_TOOLS_COMPILELIBRARY_H
