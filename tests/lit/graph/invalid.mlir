// Bad pass options are one error each, not a crash.
// RUN: hatc-opt %s -verify-diagnostics --hatc-fold-constants=resource-threshold=-1
// RUN: not hatc-opt %s --hatc-graph-optimize=recompute=maybe 2>&1 | FileCheck %s --check-prefix=PIPE

// PIPE: for the --recompute option: 'maybe' is invalid value for boolean argument

// expected-error @+1 {{hatc-fold-constants: resource-threshold and max-broadcast-elements must be 0 or more}}
module {
  func.func @f() {
    return
  }
}
