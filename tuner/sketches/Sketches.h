//===- Sketches.h - One factory per sketch ----------------------*- C++ -*-===//
//
//   cpu_matmul       matmul / batch_matmul (+ a fused elementwise consumer):
//                    threads x cache tiles x vectorized register tile
//                    (CpuMatmul.cpp)
//   cpu_conv         conv_2d_nhwc_hwcf: direct, tiled, 1-D-decomposed,
//                    vectorized (CpuConv.cpp)
//   cpu_conv_im2col  conv_2d_nhwc_hwcf as a GEMM on its patch matrix, each
//                    thread building its own patch rows (CpuConv.cpp)
//   cpu_elementwise  all-parallel generics: threads x vectorized tiles
//                    (CpuElementwise.cpp)
//   cpu_rows         row reductions and row-wise ops (softmax, layernorm):
//                    threads x rows x vectorized chunks (CpuRows.cpp)
//   hwacc_gemm       tile factors, loop order, double buffering, dataflow,
//                    which GEMMs stay on the host (Hwacc.cpp)
//   gpu_matmul       blocks x threads x k steps, shared-memory A/B tiles
//   gpu_elementwise  2-D all-parallel ops: blocks x threads (Gpu.cpp)
//
// Each prints a transform script; the constraints in invalidReason keep the
// configs the script cannot handle (a dynamic tile the vectorizer cannot
// take, a register tile that spills, a tile that overflows a memory) from
// ever being built. Registry.cpp (sketchesFor) picks the ones that apply.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_SKETCHES_SKETCHES_H
#define HATC_TUNER_SKETCHES_SKETCHES_H

#include "hatc/Tuner/Sketch.h"

#include <memory>

namespace hatc::tuner::sketches {

std::unique_ptr<Sketch> makeCpuMatmulSketch(const WorkloadShape &shape,
                                            const TargetFacts &target);
/// cpu_matmul_amx: where the host has AMX for the matmul's types.
std::unique_ptr<Sketch> makeCpuMatmulAmxSketch(const WorkloadShape &shape,
                                               const TargetFacts &target);
std::unique_ptr<Sketch> makeCpuConvSketch(const WorkloadShape &shape,
                                          const TargetFacts &target);
std::unique_ptr<Sketch> makeCpuConvIm2colSketch(const WorkloadShape &shape,
                                                const TargetFacts &target);
/// cpu_conv_amx: where the host has AMX for the conv's types.
std::unique_ptr<Sketch> makeCpuConvAmxSketch(const WorkloadShape &shape,
                                             const TargetFacts &target);
/// cpu_elementwise: threads x rows x vectorized column chunks.
/// fitsCpuElementwise: some chunk of its domain divides the inner extent
/// and fills whole vectors (not so for [2, 3, 4, 5]: no config is valid).
std::unique_ptr<Sketch> makeCpuElementwiseSketch(const WorkloadShape &shape,
                                                 const TargetFacts &target);
bool fitsCpuElementwise(const WorkloadShape &shape, const TargetFacts &target);
/// Any op on the CPU without a sketch of its own (NCHW, depthwise and
/// grouped convs, pooling, reductions, matmuls with transposed operands):
/// threads over its outermost parallel loop, a tile of its innermost one,
/// then the default schedule's interchange.
std::unique_ptr<Sketch> makeCpuGenericSketch(const WorkloadShape &shape,
                                             const TargetFacts &target);
/// Row reductions and row-wise ops (softmax, layernorm): threads over
/// rows, each row vectorized in chunks (CpuRowsParams). fitsCpuRows: the
/// anchor has that form.
std::unique_ptr<Sketch> makeCpuRowsSketch(const WorkloadShape &shape,
                                          const TargetFacts &target);
bool fitsCpuRows(const WorkloadShape &shape);
std::unique_ptr<Sketch> makeHwaccGemmSketch(const WorkloadShape &shape,
                                            const TargetFacts &target);
/// gpu_matmul for a matmul shape, gpu_elementwise otherwise.
std::unique_ptr<Sketch> makeGpuSketch(const WorkloadShape &shape,
                                      const TargetFacts &target);

} // namespace hatc::tuner::sketches

#endif // HATC_TUNER_SKETCHES_SKETCHES_H
