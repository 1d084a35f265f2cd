//===- Hash.h - The hash of persisted checksums and config keys -*- C++ -*-===//
//
// 64-bit FNV-1a as 16 lowercase hex digits: a fixed algorithm, so values
// written into databases, logs and model files mean the same on every
// platform, build and run (unlike std::hash or llvm::hash_combine). Used for
// config hashes (db) and model-file checksums (cost_model); workload hashes
// use xxh3-128 of a canonical form (hatc/Lowering/Workload.h). Header-only:
// db and cost_model depend on nothing else of hatc.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_HASH_H
#define HATC_SUPPORT_HASH_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace hatc {

inline std::string fnv1a64Hex(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL; // offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL; // FNV prime
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(hash));
  return text;
}

} // namespace hatc

#endif // HATC_SUPPORT_HASH_H
