//===- DeployHwacc.cpp - The hwacc device a deployed model's context owns -===//
//
// Linked into libMODEL.so for --target hwacc (libhatc_deploy_hwacc_rt.a,
// with the device model and the hatc_hwacc_* ABI compiled in, hidden): each
// context makes its own device with the parameters the model was compiled
// for, and a run makes it the calling thread's current device, so the
// model's hatc_hwacc_* calls reach it and contexts on other threads never
// share one.
//
//===----------------------------------------------------------------------===//
#include "hatc/Deploy/DeployAbi.h"
#include "hatc/Runtime/HwaccDevice.h"

#include <cmath>
#include <cstdio>
#include <new>

namespace {

void *openDevice(const double *params, char *err, size_t errlen) {
  hatc::HwaccParams p;
  p.dim = static_cast<int64_t>(params[0]);
  p.scratchpadBytes = static_cast<int64_t>(params[1]);
  p.accumulatorBytes = static_cast<int64_t>(params[2]);
  p.dmaBytesPerCycle = params[3];
  p.dmaLatencyCycles = static_cast<int64_t>(params[4]);
  p.clockGHz = params[5];
  if (auto problem = p.validate()) {
    std::snprintf(err, errlen, "hwacc device parameters: %s", problem->c_str());
    return nullptr;
  }
  auto *device = new (std::nothrow) hatc::HwaccDevice(p);
  if (!device)
    std::snprintf(err, errlen, "out of memory for the hwacc device model");
  return device;
}

void closeDevice(void *device) {
  delete static_cast<hatc::HwaccDevice *>(device);
}

void *enterDevice(void *device) {
  hatc::HwaccDevice *previous = hatc::currentHwaccDevice();
  auto *own = static_cast<hatc::HwaccDevice *>(device);
  // Each run starts from a device as if just built, so check() reports
  // this run's instructions only.
  own->reset();
  hatc::setCurrentHwaccDevice(own);
  return previous;
}

void leaveDevice(void *previous) {
  hatc::setCurrentHwaccDevice(static_cast<hatc::HwaccDevice *>(previous));
}

int checkDevice(void *device, char *err, size_t errlen) {
  const std::string &error = static_cast<hatc::HwaccDevice *>(device)->error();
  if (error.empty())
    return 0;
  std::snprintf(err, errlen, "%s", error.c_str());
  return -1;
}

} // namespace

extern "C" const hatc_deploy_device_ops hatc_deploy_hwacc_device = {
    openDevice, closeDevice, enterDevice, leaveDevice, checkDevice};
