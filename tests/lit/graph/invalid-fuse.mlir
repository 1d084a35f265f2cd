// RUN: hatc-opt %s -verify-diagnostics --hatc-fuse-elementwise=max-recompute-ops=-2

// expected-error @+1 {{hatc-fuse-elementwise: max-recompute-ops must be 0 or more}}
module {
  func.func @f() {
    return
  }
}
