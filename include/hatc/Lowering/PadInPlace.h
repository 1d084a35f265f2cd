//===- PadInPlace.h - Padded values written into their padded buffer -*- C++ -*-===//
//
// hatc-pad-in-place (module pass), run by the CPU bufferization pipeline
// before one-shot bufferization:
//
//   tensor.pad %x (static, constant value)
//       -> tensor.empty + linalg.fill at the start of the pad's block,
//          tensor.insert_slice %x into the fill's interior
//   tensor.empty with n uses -> n tensor.empty ops, one per use
//
// then, where it rewrote a pad, runs empty tensor elimination, which lets
// the op producing %x write straight
// into the padded buffer: one-shot bufferization otherwise copies %x into a
// fresh filled buffer on every run (for the zero border of a 3x3 conv, a
// generic element-by-element memref.copy of the whole activation).
// Pads of a dynamic shape or with a value computed per element stay.
//
// (A C++ pass rather than an entry of Passes.td, for now: see
// lowering/PadInPlace.cpp.)
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_PADINPLACE_H
#define HATC_LOWERING_PADINPLACE_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace hatc {

std::unique_ptr<mlir::Pass> createPadInPlacePass();

/// Registers hatc-pad-in-place for hatc-opt.
void registerPadInPlacePass();

} // namespace hatc

#endif // HATC_LOWERING_PADINPLACE_H
