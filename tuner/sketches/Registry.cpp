//===- Registry.cpp - Which sketches apply to a workload on a target ------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

namespace hatc::tuner {

using namespace sketches;

std::vector<std::unique_ptr<Sketch>>
sketchesFor(const WorkloadShape &shape, const TargetFacts &target) {
  std::vector<std::unique_ptr<Sketch>> sketches;
  using A = WorkloadShape::Anchor;
  if (target.kind == TargetKind::Hwacc) {
    if (shape.gemmOps > 0 &&
        (shape.anchor == A::Matmul || shape.anchor == A::BatchMatmul ||
         shape.anchor == A::Conv2D))
      sketches.push_back(makeHwaccGemmSketch(shape, target));
    return sketches;
  }
  if (target.kind == TargetKind::Gpu) {
    // One matmul (with fills and elementwise consumers), or 2-D elementwise.
    bool matmul = shape.anchorOp == "linalg.matmul" && shape.gemmOps == 1 &&
                  shape.elemType == "f32" && shape.accType == "f32";
    bool elementwise = shape.anchor == A::Elementwise &&
                       shape.loopRanges.size() == 2 && shape.gemmOps == 0;
    if (matmul || elementwise)
      sketches.push_back(makeGpuSketch(shape, target));
    return sketches;
  }
  if (target.kind != TargetKind::Cpu)
    return sketches;
  switch (shape.anchor) {
  case A::Matmul:
  case A::BatchMatmul:
    sketches.push_back(makeCpuMatmulSketch(shape, target));
    if (shape.anchor == A::Matmul &&
        cpuShapeOf(shape).amxGroup(cpuFactsOf(target)))
      sketches.push_back(makeCpuMatmulAmxSketch(shape, target));
    break;
  case A::Conv2D:
    // Their scripts tile conv_2d_nhwc_hwcf's loops; an NCHW conv (hwacc
    // takes it through a transpose) has none on the CPU.
    if (shape.anchorOp != "linalg.conv_2d_nhwc_hwcf") {
      sketches.push_back(makeCpuGenericSketch(shape, target));
      break;
    }
    sketches.push_back(makeCpuConvSketch(shape, target));
    sketches.push_back(makeCpuConvIm2colSketch(shape, target));
    if (cpuShapeOf(shape).amxGroup(cpuFactsOf(target)))
      sketches.push_back(makeCpuConvAmxSketch(shape, target));
    break;
  case A::Elementwise:
    // An inner extent no column chunk divides ([2, 3, 4, 5]) left a space
    // of knobs without one valid config; cpu_generic tiles any extent.
    if (fitsCpuElementwise(shape, target))
      sketches.push_back(makeCpuElementwiseSketch(shape, target));
    else
      sketches.push_back(makeCpuGenericSketch(shape, target));
    // A leading unit loop (softmax's [1, heads, seq, seq]) leaves
    // cpu_elementwise's threads nothing to split.
    if (!shape.anchorLoops.empty() && shape.anchorLoops.front() == 1 &&
        fitsCpuRows(shape))
      sketches.push_back(makeCpuRowsSketch(shape, target));
    break;
  case A::Other:
    if (shape.anchorOp.empty())
      break;
    if (fitsCpuRows(shape))
      sketches.push_back(makeCpuRowsSketch(shape, target));
    sketches.push_back(makeCpuGenericSketch(shape, target));
    break;
  }
  return sketches;
}

} // namespace hatc::tuner
