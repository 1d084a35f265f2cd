//===- Version.h - What compiled this: recorded with every result -*- C++ -*-===//
#ifndef HATC_SUPPORT_VERSION_H
#define HATC_SUPPORT_VERSION_H

#include <string>

namespace hatc {

/// "hatc-<git describe>+llvm-<version>": tuning records from another
/// compiler version are stale (results may differ), never silently reused.
std::string compilerVersion();

} // namespace hatc

#endif // HATC_SUPPORT_VERSION_H
