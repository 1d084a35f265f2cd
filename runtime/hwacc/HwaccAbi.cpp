//===- HwaccAbi.cpp - The C ABI hwacc kernels call ------------------------===//
//
// Each hatc_hwacc_* function forwards to the calling thread's current device
// (hatc::setCurrentHwaccDevice). Without one there is nothing sensible to
// return from a void call, and continuing would produce silently wrong
// results, so the call aborts with a message, as a real driver would fault.
//
//===----------------------------------------------------------------------===//
#include "hatc/Runtime/HwaccAbi.h"
#include "hatc/Runtime/HwaccDevice.h"

#include <cstdio>
#include <cstdlib>

namespace {
hatc::HwaccDevice &device() {
  hatc::HwaccDevice *current = hatc::currentHwaccDevice();
  if (!current) {
    std::fputs("hatc_hwacc: no current device\n", stderr);
    std::abort();
  }
  return *current;
}
} // namespace

extern "C" {

void hatc_hwacc_config(int64_t dataflow, int64_t elem, int64_t out,
                       float scale, int64_t relu) {
  device().config(dataflow, elem, out, scale, relu);
}

void hatc_hwacc_mvin(const void *dram, int64_t stride, int64_t sp_row,
                     int64_t rows, int64_t cols) {
  device().mvin(dram, stride, sp_row, rows, cols);
}

void hatc_hwacc_mvin_acc(const void *dram, int64_t stride, int64_t acc_row,
                         int64_t rows, int64_t cols) {
  device().mvinAcc(dram, stride, acc_row, rows, cols);
}

void hatc_hwacc_preload(int64_t sp_row, int64_t acc_row, int64_t k, int64_t n,
                        int64_t accumulate) {
  device().preload(sp_row, acc_row, k, n, accumulate);
}

void hatc_hwacc_compute(int64_t sp_row, int64_t m, int64_t k) {
  device().compute(sp_row, m, k);
}

void hatc_hwacc_mvout(void *dram, int64_t stride, int64_t acc_row,
                      int64_t rows, int64_t cols) {
  device().mvout(dram, stride, acc_row, rows, cols);
}

void hatc_hwacc_fence(void) { device().fence(); }

void hatc_hwacc_host_begin(void) { device().hostBegin(); }

void hatc_hwacc_host_end(void) { device().hostEnd(); }

} // extern "C"
