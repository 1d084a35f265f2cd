//===- Hwacc.cpp - hwacc_gemm: tiles, loop order, buffering, dataflow -----===//
//
//   Annotates the GEMMs (matmul, batch_matmul, conv via im2col, NHWC or
//   NCHW) with the tile factors, loop order, double buffering and dataflow
//   the hwacc lowering reads; with several GEMMs, which stay on the host.
//
//===----------------------------------------------------------------------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformTypes.h"
#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

class HwaccGemmSketch : public Sketch {
public:
  HwaccGemmSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    int64_t d = target.arrayDim;
    std::vector<json> tiles = ints({d, 2 * d, 4 * d, 8 * d, 16 * d});
    specs = {{"tm", tiles},
             {"tn", tiles},
             {"tk", tiles},
             {"loop_order", {"mnk", "nmk"}},
             {"double_buffer", {false, true}},
             {"dataflow", {"ws", "os"}}};
    // With several GEMMs, which stay on the host: bit i keeps the i-th (in
    // program order) there. Not all of them: that would be the cpu target.
    gemms = std::min<int64_t>(shape.gemmOps, 4);
    if (gemms >= 2) {
      std::vector<json> masks;
      for (int64_t mask = 0; mask + 1 < (int64_t(1) << gemms); ++mask)
        masks.push_back(mask);
      specs.push_back({"host_ops", masks});
    }
    // The GEMM the accelerator sees: conv through im2col.
    const auto &r = shape.loopRanges;
    switch (shape.anchor) {
    case WorkloadShape::Anchor::Matmul:
      M = r[0], N = r[1], K = r[2];
      break;
    case WorkloadShape::Anchor::BatchMatmul:
      M = r[1], N = r[2], K = r[3];
      break;
    case WorkloadShape::Anchor::Conv2D:
      M = r[0] * r[1] * r[2], N = r[3], K = r[4] * r[5] * r[6];
      break;
    default:
      break;
    }
  }
  std::string name() const override { return "hwacc_gemm"; }

  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::HwaccGemmKnobs k;
    k.tm = knobOr0(c, "tm"), k.tn = knobOr0(c, "tn"), k.tk = knobOr0(c, "tk");
    k.loopOrderNmk = knobIs(c, "loop_order", "nmk");
    k.doubleBuffer = knobOr0(c, "double_buffer") != 0;
    k.dataflowOs = knobIs(c, "dataflow", "os");
    return {cost_model::FSketchHwaccGemm, k};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    int64_t d = target.arrayDim;
    int64_t tm = knob(c, "tm"), tn = knob(c, "tn"), tk = knob(c, "tk");
    auto roundUp = [&](int64_t x) { return (x + d - 1) / d * d; };
    // Tiles past the problem only waste memory (and the lowering clamps
    // them, so they would measure the same as a smaller one).
    if (tm > roundUp(M) || tn > roundUp(N) || tk > roundUp(K))
      return llvm::formatv("tile {0}x{1}x{2} is larger than the GEMM "
                           "{3}x{4}x{5}",
                           tm, tn, tk, M, N, K)
          .str();
    int64_t buffers = c.at("double_buffer").get<bool>() ? 2 : 1;
    int64_t spRows = target.scratchpadRows * (shape.elemType == "i8" ? 4 : 1);
    int64_t need = buffers * (tm * tk + tk * tn) / d;
    if (need > spRows)
      return llvm::formatv("A and B tiles need {0} scratchpad rows, the "
                           "target has {1}",
                           need, spRows)
          .str();
    if (tm * tn / d > target.accumulatorRows)
      return llvm::formatv("the C tile needs {0} accumulator rows, the target "
                           "has {1}",
                           tm * tn / d, target.accumulatorRows)
          .str();
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    Script s("hatc sketch hwacc_gemm: " + c.dump());
    mlir::OpBuilder &b = s.builder();
    mlir::Type anyParam = mlir::transform::AnyParamType::get(s.context());
    auto param = [&](mlir::Attribute value) -> mlir::Value {
      return b.create<mlir::transform::ParamConstantOp>(s.loc(), anyParam,
                                                        value);
    };
    mlir::Value tile = param(b.getDenseI64ArrayAttr(
        {knob(c, "tm"), knob(c, "tn"), knob(c, "tk")}));
    mlir::Value order =
        param(b.getStringAttr(c.at("loop_order").get<std::string>()));
    mlir::Value db = param(b.getBoolAttr(c.at("double_buffer").get<bool>()));
    mlir::Value flow =
        param(b.getStringAttr(c.at("dataflow").get<std::string>()));
    const llvm::StringRef gemmOps[] = {
        mlir::linalg::MatmulOp::getOperationName(),
        mlir::linalg::BatchMatmulOp::getOperationName(),
        mlir::linalg::Conv2DNhwcHwcfOp::getOperationName(),
        // hatc-conv-to-nhwc moves the attributes to its NHWC conv.
        mlir::linalg::Conv2DNchwFchwOp::getOperationName()};
    int64_t hostOps = c.contains("host_ops") ? knob(c, "host_ops") : 0;
    if (hostOps != 0) {
      mlir::Value all = s.ScriptBuilder::match(gemmOps);
      // One handle per GEMM the knob can pick, and with more GEMMs than
      // that, one for the rest (they stay on the accelerator). Only then:
      // MLIR 19's split_handle crashes on an overflow result it does not
      // need.
      bool overflow = shape.gemmOps > gemms;
      llvm::SmallVector<mlir::Type> types(gemms + (overflow ? 1 : 0),
                                          s.anyOp());
      auto split = b.create<mlir::transform::SplitHandleOp>(
          s.loc(), types, all, /*pass_through_empty_handle=*/true,
          /*fail_on_payload_too_small=*/true,
          overflow ? b.getI64IntegerAttr(gemms) : mlir::IntegerAttr());
      for (int64_t i = 0; i < gemms; ++i)
        if (hostOps & (int64_t(1) << i))
          s.annotate(split.getResult(i), "hwacc.on_host");
    }
    for (llvm::StringRef opName : gemmOps) {
      mlir::Value op = s.match(opName);
      for (auto [attr, value] :
           {std::pair{"hwacc.tile", tile}, {"hwacc.loop_order", order},
            {"hwacc.double_buffer", db}, {"hwacc.dataflow", flow}})
        s.annotate(op, attr, value);
    }
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  int64_t M = 1, N = 1, K = 1;
  int64_t gemms = 1;
};

} // namespace

std::unique_ptr<Sketch> makeHwaccGemmSketch(const WorkloadShape &shape,
                                            const TargetFacts &target) {
  return std::make_unique<HwaccGemmSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
