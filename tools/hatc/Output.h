//===- Output.h - Output files written whole or not at all -----*- C++ -*-===//
//
// Every file a subcommand writes for the user goes through writeOutputFile:
// each write, the flush, the sync and the close are checked, and a failure is
// an error naming the file. A regular file is written to a temporary next to
// it and renamed over it only once everything succeeded, so a full disk
// leaves the old file (or none), never a truncated one.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TOOLS_OUTPUT_H
#define HATC_TOOLS_OUTPUT_H

#include "hatc/Support/Time.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <initializer_list>
#include <string>

namespace hatc {

/// Writes `path` with what `write` streams into it: "-" is stdout (flushed
/// and checked); a path that exists and is not a regular file (/dev/full, a
/// FIFO, a terminal) is written in place; anything else is replaced
/// atomically (temporary in the same folder, then rename; the temporary is
/// removed on failure or on a fatal signal). The error reads
/// "cannot write PATH: REASON".
llvm::Error writeOutputFile(llvm::StringRef path,
                            llvm::function_ref<void(llvm::raw_ostream &)> write,
                            bool binary = false);

/// A file a command reads, named in its messages by its flag or role
/// ("--db", "the model").
struct InputFile {
  llvm::StringRef role;
  llvm::StringRef path;
};

/// An error when `output` (a file a command writes or appends to) is one of
/// `inputs` (the same file under any name): writing it would destroy what
/// the command reads, a database or a model. Paths that do not exist yet,
/// "-" and server specs never match.
llvm::Error refuseOutputOverInputs(llvm::StringRef outputFlag,
                                   llvm::StringRef output,
                                   std::initializer_list<InputFile> inputs);

} // namespace hatc

#endif // HATC_TOOLS_OUTPUT_H
