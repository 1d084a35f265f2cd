//===- Version.cpp - What compiled this -----------------------------------===//
#include "hatc/Support/Version.h"
#include "hatc/Config.h"
#include "hatc/GitRevision.h"

namespace hatc {

std::string compilerVersion() {
  return std::string("hatc-") + HATC_GIT_DESCRIBE + "+llvm-" +
         HATC_LLVM_VERSION;
}

} // namespace hatc
