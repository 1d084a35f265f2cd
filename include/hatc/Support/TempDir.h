//===- TempDir.h - The temporary folder, as errors name it ------*- C++ -*-===//
//
// The one way a message names the temporary folder: its path, and
// " ($TMPDIR)" when that variable chose it, so a user who set it to a folder
// that does not exist sees which setting to fix. Header-only (LLVM Support).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_TEMPDIR_H
#define HATC_SUPPORT_TEMPDIR_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <cstdlib>
#include <string>

namespace hatc {

/// The temporary folder's path, for an error message: "/tmp", or
/// "/scratch ($TMPDIR)" when $TMPDIR is set.
inline std::string describeTempDirectory() {
  llvm::SmallString<128> temp;
  llvm::sys::path::system_temp_directory(/*erasedOnReboot=*/true, temp);
  std::string text(temp.str());
  if (std::getenv("TMPDIR"))
    text += " ($TMPDIR)";
  return text;
}

} // namespace hatc

#endif // HATC_SUPPORT_TEMPDIR_H
