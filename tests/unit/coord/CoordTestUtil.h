//===- CoordTestUtil.h - Backends and workloads made up for tests -*- C++ -*-===//
#ifndef HATC_TESTS_UNIT_COORD_COORDTESTUTIL_H
#define HATC_TESTS_UNIT_COORD_COORDTESTUTIL_H

#include "hatc/Coord/Backend.h"

#include <string>

namespace hatc::coord::testing {

inline BackendSpec fakeCpu(int slots = 1, const std::string &name = "cpu") {
  BackendSpec spec;
  spec.name = name;
  spec.kind = BackendKind::Cpu;
  spec.slots = slots;
  spec.targetKind = "cpu";
  spec.targetName = "host";
  spec.fingerprint = "cpu-fp";
  return spec;
}

inline BackendSpec fakeHwacc(const std::string &name = "hwacc0",
                             int64_t dim = 16) {
  BackendSpec spec;
  spec.name = name;
  spec.kind = BackendKind::Hwacc;
  spec.slots = 1;
  spec.hwacc.dim = dim;
  spec.targetKind = "hwacc";
  spec.targetName = "hwacc-" + std::to_string(dim);
  spec.fingerprint = "hwacc-fp-" + std::to_string(dim);
  return spec;
}

inline WorkloadInfo fakeWorkload(const std::string &key, OpKind op,
                                 double flops, double bytes = 1e5) {
  WorkloadInfo info;
  info.key = key;
  info.hash = "h-" + key;
  info.op = op;
  info.flops = flops;
  info.bytesIn = bytes;
  info.bytesOut = bytes / 2;
  info.accelerable = op == OpKind::Gemm || op == OpKind::Conv;
  return info;
}

} // namespace hatc::coord::testing

#endif // HATC_TESTS_UNIT_COORD_COORDTESTUTIL_H
