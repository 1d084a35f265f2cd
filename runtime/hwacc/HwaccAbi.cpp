//===- HwaccAbi.cpp - The C ABI hwacc kernels call ------------------------===//
//
// Each hatc_hwacc_* function forwards to the calling thread's current device
// (hatc::setCurrentHwaccDevice). A thread without one (a C program calling
// the ABI directly) gets a device of the default target on its first call,
// owned here like one made by hatc_hwacc_create_device.
//
//===----------------------------------------------------------------------===//
#include "hatc/Runtime/HwaccAbi.h"
#include "hatc/Runtime/HwaccDevice.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

namespace {

/// The device this library made for the thread, if any.
thread_local std::unique_ptr<hatc::HwaccDevice> ownedDevice;
thread_local std::string lastError;

/// Frees the device made here for this thread, if any; a device someone
/// else made current stays current.
void releaseOwned() {
  if (ownedDevice && hatc::currentHwaccDevice() == ownedDevice.get())
    hatc::setCurrentHwaccDevice(nullptr);
  ownedDevice.reset();
}

void makeCurrent(std::unique_ptr<hatc::HwaccDevice> device) {
  releaseOwned();
  ownedDevice = std::move(device);
  hatc::setCurrentHwaccDevice(ownedDevice.get());
}

hatc::HwaccDevice &device() {
  if (hatc::HwaccDevice *current = hatc::currentHwaccDevice())
    return *current;
  makeCurrent(std::make_unique<hatc::HwaccDevice>(hatc::HwaccParams()));
  return *ownedDevice;
}

/// Reads a target description; the error names the file.
std::optional<std::string> readParams(const std::string &path,
                                      hatc::HwaccParams &params) {
  std::ifstream in(path);
  if (!in)
    return path + ": cannot read the target description";
  nlohmann::json json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded())
    return path + ": not valid JSON";
  if (json.value("kind", std::string()) != "hwacc")
    return path + ": not a hwacc target (\"kind\" must be \"hwacc\")";
  return hatc::HwaccParams::fromJson(json, path, params);
}

} // namespace

extern "C" {

int hatc_hwacc_create_device(const char *target_json) {
  hatc::HwaccParams params;
  if (target_json) {
    if (auto error = readParams(target_json, params)) {
      lastError = *error;
      return -1;
    }
  }
  lastError.clear();
  makeCurrent(std::make_unique<hatc::HwaccDevice>(params));
  return 0;
}

void hatc_hwacc_destroy_device(void) { releaseOwned(); }

const char *hatc_hwacc_last_error(void) { return lastError.c_str(); }

const char *hatc_hwacc_device_error(void) { return device().error().c_str(); }

int64_t hatc_hwacc_cycles(void) { return device().stats().totalCycles; }

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

void hatc_hwacc_host_kept_begin(void) {
  device().hostBegin(hatc::HwaccDevice::HostWork::Kept);
}

void hatc_hwacc_host_end(void) { device().hostEnd(); }

} // extern "C"
