//===- Importer.h - ONNX graph -> MLIR: what op converters see --*- C++ -*-===//
//
// The importer walks the graph in order and calls one converter per node,
// found by op type in a registry that each file under frontend/ops/ fills.
// A converter reads its inputs (as MLIR values or, when known at import
// time, as constants), its attributes, builds linalg/tensor/arith/math ops
// with the helpers below, and sets its outputs. A value computed from
// constants only (shape arithmetic: Shape -> Gather -> Concat -> Reshape) is
// recorded as a constant too, so the ops that take a shape can read it.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_FRONTEND_IMPORTER_H
#define HATC_FRONTEND_IMPORTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#define ONNX_NAMESPACE onnx
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include "onnx/onnx_pb.h"

namespace hatc::frontend {

class Importer;

/// ONNX TensorProto_DataType -> MLIR element type (null when unsupported).
mlir::Type elementTypeFor(mlir::MLIRContext *context, int onnxType);
/// "float", "int64", ... for messages.
std::string onnxTypeName(int onnxType);
/// Whether an ONNX element type is an unsigned integer (uint8 ... uint64).
/// MLIR integers are signless, so the importer records this per value.
bool isUnsignedOnnxType(int onnxType);

/// A TensorProto's contents, in the MLIR element type's natural layout
/// (bool: one byte each; little-endian).
struct TensorData {
  int onnxType = 0;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

/// Decodes a TensorProto (typed fields, raw_data, or external data relative
/// to `baseDir`). `what` names the tensor in errors.
llvm::Expected<TensorData> decodeTensor(const onnx::TensorProto &proto,
                                        llvm::StringRef baseDir,
                                        llvm::StringRef what);

/// A tensor file (.pb or .npy) as TensorData.
llvm::Expected<TensorData> readTensorData(llvm::StringRef path);

/// An elements attribute for `data`: dense<...> when it has at most
/// `resourceThreshold` elements, else a dense_resource blob named `name`.
llvm::Expected<mlir::ElementsAttr> elementsAttrFor(mlir::MLIRContext *context,
                                                   const TensorData &data,
                                                   llvm::StringRef name,
                                                   int64_t resourceThreshold);

/// One node being converted.
class NodeContext {
public:
  NodeContext(Importer &importer, const onnx::NodeProto &node, int64_t opset);

  const onnx::NodeProto &node;
  /// The default domain's opset the model imports.
  const int64_t opset;
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::MLIRContext *context() { return b.getContext(); }

  // --- Inputs. Trailing and empty ("") inputs are absent. ---
  size_t numInputs() const { return node.input_size(); }
  bool hasInput(size_t i) const;
  /// The input as an MLIR value (a constant is materialized on first use).
  mlir::Value input(size_t i);
  mlir::RankedTensorType inputType(size_t i);
  llvm::ArrayRef<int64_t> inputShape(size_t i) {
    return inputType(i).getShape();
  }
  int64_t inputRank(size_t i) { return inputType(i).getRank(); }
  mlir::Type inputElementType(size_t i) {
    return inputType(i).getElementType();
  }
  /// Whether the input is an unsigned ONNX integer (uint8 is i8 in the IR:
  /// compare, extend and convert it with the unsigned arith ops).
  bool inputIsUnsigned(size_t i);
  /// The input's value when it is known at import time.
  std::optional<mlir::DenseElementsAttr> constantInput(size_t i);
  /// A constant integer input's values (shapes, axes, pads, ...); an error
  /// naming the input when it is not known at import time.
  llvm::Expected<std::vector<int64_t>> constantInts(size_t i,
                                                    llvm::StringRef what);
  /// The input's value, or an error naming the input when it is computed
  /// at run time.
  llvm::Expected<mlir::DenseElementsAttr> requireConstant(size_t i,
                                                          llvm::StringRef what);
  /// A constant float/int input's values as doubles (Clip bounds, ...).
  llvm::Expected<std::vector<double>> constantDoubles(size_t i,
                                                      llvm::StringRef what);

  // --- Attributes. ---
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t attrInt(llvm::StringRef name, int64_t fallback) const;
  float attrFloat(llvm::StringRef name, float fallback) const;
  std::string attrString(llvm::StringRef name,
                         llvm::StringRef fallback = "") const;
  std::vector<int64_t> attrInts(llvm::StringRef name,
                                std::vector<int64_t> fallback = {}) const;
  std::vector<float> attrFloats(llvm::StringRef name) const;
  const onnx::TensorProto *attrTensor(llvm::StringRef name) const;

  // --- Outputs. ---
  size_t numOutputs() const { return node.output_size(); }
  /// Whether output `i` exists and is named (optional outputs may be "").
  bool wantsOutput(size_t i) const;
  void setOutput(size_t i, mlir::Value value);
  /// An output known at import time: recorded as a constant (and
  /// materialized only if a later op needs the value).
  void setConstantOutput(size_t i, mlir::DenseElementsAttr value);
  /// Marks output `i` as an unsigned (or signed) ONNX integer. Without a
  /// mark an integer output takes the signedness of the first input of the
  /// same element type (a `value` tensor attribute: its data type).
  void setOutputUnsigned(size_t i, bool isUnsigned);
  /// The mark set by setOutputUnsigned, if any.
  std::optional<bool> outputUnsignedMark(size_t i) const;

  /// "node 'conv1' (Conv, opset 13): <message>".
  llvm::Error error(const llvm::Twine &message) const;
  /// Normalizes an axis attribute/input (negative counts from the end);
  /// an error when out of range.
  llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank) const;

  /// The importer's directory of the model (external data, for converters
  /// that decode tensor attributes).
  llvm::StringRef baseDir() const;
  Importer &importer;

private:
  llvm::SmallVector<std::optional<bool>, 2> unsignedMarks;
};

/// A converter builds the node's ops and sets its outputs.
using Converter = std::function<llvm::Error(NodeContext &)>;

struct OpConverter {
  Converter convert;
  /// Default-domain opsets it handles (inclusive).
  int64_t minOpset = 1;
  int64_t maxOpset = 17;
};

using ConverterRegistry = llvm::StringMap<OpConverter>;

// Each file under frontend/ops/ registers its op types.
void registerElementwiseOps(ConverterRegistry &registry);
void registerMatmulOps(ConverterRegistry &registry);
void registerConvOps(ConverterRegistry &registry);
void registerShapeOps(ConverterRegistry &registry);
void registerReductionOps(ConverterRegistry &registry);
void registerLossOps(ConverterRegistry &registry);
void registerRecurrentOps(ConverterRegistry &registry);
void registerScatterOps(ConverterRegistry &registry);
void registerQuantOps(ConverterRegistry &registry);
void registerSortOps(ConverterRegistry &registry);

/// Every converter, built once.
const ConverterRegistry &converterRegistry();

//===----------------------------------------------------------------------===//
// Builders shared by the converters (Builders.cpp).
//===----------------------------------------------------------------------===//

using BodyBuilder = std::function<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// tensor.empty of `shape` x `elementType`.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> shape,
                        mlir::Type elementType);
/// A tensor of `shape` filled with `value` (linalg.fill).
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         llvm::ArrayRef<int64_t> shape, mlir::Type elementType,
                         double value);
/// A scalar arith.constant of `type` (float or integer, i1 included).
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type type, double value);
/// A typed attribute of `type` holding `value` (for fills and splats).
mlir::TypedAttr scalarAttr(mlir::Type type, double value);
/// The lowest / highest value of `type` (-inf/+inf for floats): reduction
/// identities for max / min.
double lowestValue(mlir::Type type);
double highestValue(mlir::Type type);

/// Numpy (multidirectional) broadcasting of `shapes`; nullopt when they do
/// not broadcast.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<llvm::SmallVector<int64_t>> shapes);

/// One linalg.generic computing `body` elementwise over `inputs` broadcast
/// numpy-style to a common shape (or to `resultShape` when given, e.g.
/// Expand); the body receives one scalar per input.
llvm::Expected<mlir::Value>
elementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange inputs,
            mlir::Type resultElementType, const BodyBuilder &body,
            std::optional<llvm::ArrayRef<int64_t>> resultShape = std::nullopt);

/// Reduces `input` over `axes` (normalized, any order) starting from
/// `init`, combining with `combine(acc, x)`; `keepDims` keeps the reduced
/// dims as size 1. The body gets (element, accumulator).
mlir::Value reduce(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                   llvm::ArrayRef<int64_t> axes, bool keepDims, double init,
                   const BodyBuilder &combine);

/// Scalar arithmetic in a body, by the operands' type: float ops, else
/// signed integer ops (unsigned values need the unsigned forms).
mlir::Value addValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);
mlir::Value subValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);
mlir::Value mulValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);
mlir::Value divValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);
mlir::Value maxValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);
mlir::Value minValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value y);

/// Scalar arithmetic on one float type inside a linalg body.
struct FloatMath {
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Type type;

  mlir::Value cst(double v) { return scalarConstant(b, loc, type, v); }
  mlir::Value add(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::AddFOp>(loc, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::SubFOp>(loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::MulFOp>(loc, x, y);
  }
  mlir::Value div(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::DivFOp>(loc, x, y);
  }
  mlir::Value max(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::MaximumFOp>(loc, x, y);
  }
  mlir::Value min(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::MinimumFOp>(loc, x, y);
  }
  mlir::Value exp(mlir::Value x) { return b.create<mlir::math::ExpOp>(loc, x); }
  mlir::Value lt(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::CmpFOp>(loc, mlir::arith::CmpFPredicate::OLT,
                                         x, y);
  }
  mlir::Value gt(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::CmpFOp>(loc, mlir::arith::CmpFPredicate::OGT,
                                         x, y);
  }
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::SelectOp>(loc, c, x, y);
  }
  mlir::Value andi(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::AndIOp>(loc, x, y);
  }
  mlir::Value ori(mlir::Value x, mlir::Value y) {
    return b.create<mlir::arith::OrIOp>(loc, x, y);
  }
  /// An index value as this float type.
  mlir::Value fromIndex(mlir::Value i) {
    mlir::Value i64 =
        b.create<mlir::arith::IndexCastOp>(loc, b.getI64Type(), i);
    return b.create<mlir::arith::SIToFPOp>(loc, type, i64);
  }
  /// A non-negative float truncated to an index.
  mlir::Value toIndex(mlir::Value x) {
    mlir::Value i64 = b.create<mlir::arith::FPToSIOp>(loc, b.getI64Type(), x);
    return b.create<mlir::arith::IndexCastOp>(loc, b.getIndexType(), i64);
  }
};

/// linalg.matmul of A[M,K] and B[K,N] into a zero-filled [M,N].
mlir::Value matmul2d(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                     mlir::Value rhs);

/// linalg.transpose by `perm` (result dim i = input dim perm[i]).
mlir::Value transpose(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value input, llvm::ArrayRef<int64_t> perm);

/// A reshape to `shape` (same element count) by tensor.collapse_shape /
/// tensor.expand_shape.
mlir::Value reshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                    llvm::ArrayRef<int64_t> shape);

/// Converts a scalar between element types as ONNX Cast does (float ->
/// int truncates toward zero; int -> bool is != 0; bool -> anything is 0/1).
/// `fromUnsigned` / `toUnsigned`: the integer source / result is an
/// unsigned ONNX type (zero-extended, uitofp; float -> unsigned wraps).
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value value, mlir::Type to,
                          bool fromUnsigned = false, bool toUnsigned = false);

/// Elementwise cast of a whole tensor (no op when the types agree).
mlir::Value castTensor(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value input, mlir::Type to,
                       bool fromUnsigned = false, bool toUnsigned = false);

/// A DenseElementsAttr's values as int64 / double.
std::vector<int64_t> intsOf(mlir::DenseElementsAttr attr);
std::vector<double> doublesOf(mlir::DenseElementsAttr attr);
/// A constant of `shape` x `elementType` from values (ints for integer and
/// bool types, doubles for floats).
mlir::DenseElementsAttr intsAttr(mlir::Type elementType,
                                 llvm::ArrayRef<int64_t> shape,
                                 llvm::ArrayRef<int64_t> values);
mlir::DenseElementsAttr doublesAttr(mlir::Type elementType,
                                    llvm::ArrayRef<int64_t> shape,
                                    llvm::ArrayRef<double> values);

/// The importer's state for one graph.
class Importer {
public:
  Importer(mlir::OpBuilder &builder, std::string baseDir,
           int64_t resourceThreshold)
      : builder(builder), baseDir(std::move(baseDir)),
        resourceThreshold(resourceThreshold) {}

  struct Entry {
    mlir::Value value;              // null until materialized
    mlir::RankedTensorType type;    // always set
    mlir::ElementsAttr constant;    // set when known at import time
    /// The small graph inputs this value is computed from (for
    /// NeedsInputValues: a shape computed from a graph input).
    llvm::SmallVector<std::string, 2> sources;
    /// An unsigned ONNX integer (uint8 ...) held in a signless MLIR integer.
    bool isUnsigned = false;
  };

  bool has(llvm::StringRef name) const { return values.count(name) != 0; }
  Entry *lookup(llvm::StringRef name);
  void define(llvm::StringRef name, mlir::Value value);
  void defineConstant(llvm::StringRef name, mlir::ElementsAttr value);
  /// The value of `name`, materializing a constant as arith.constant.
  mlir::Value materialize(Entry &entry);

  mlir::OpBuilder &builder;
  std::string baseDir;
  int64_t resourceThreshold;
  /// Where constants are materialized: the start of the function body.
  mlir::Block *body = nullptr;
  /// Graph inputs (function arguments) by name, with their position.
  llvm::StringMap<size_t> graphInputs;
  /// Graph inputs whose value a converter asked for (constantInput) while
  /// converting the current node.
  std::vector<std::string> wantedInputs;

private:
  llvm::StringMap<Entry> values;
};

} // namespace hatc::frontend

#endif // HATC_FRONTEND_IMPORTER_H
