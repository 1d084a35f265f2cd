//===- Importer.cpp - ONNX model -> one MLIR module on tensors ------------===//
//
//   model.onnx --protobuf--> ModelProto --(inputs fixed by --input-shape)-->
//   func.func @main(graph inputs) -> graph outputs, one converter per node
//
//===----------------------------------------------------------------------===//
#include "Importer.h"
#include "hatc/Frontend/Onnx.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/defs/schema.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstring>
#include <limits>
#include <map>
#include <set>

using namespace mlir;

namespace hatc::frontend {

//===----------------------------------------------------------------------===//
// Types and tensor data
//===----------------------------------------------------------------------===//

Type elementTypeFor(MLIRContext *context, int onnxType) {
  Builder b(context);
  switch (onnxType) {
  case onnx::TensorProto::FLOAT: return b.getF32Type();
  case onnx::TensorProto::DOUBLE: return b.getF64Type();
  case onnx::TensorProto::FLOAT16: return b.getF16Type();
  case onnx::TensorProto::BFLOAT16: return b.getBF16Type();
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8: return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16: return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32: return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64: return b.getIntegerType(64);
  case onnx::TensorProto::BOOL: return b.getI1Type();
  default: return {};
  }
}

std::string onnxTypeName(int onnxType) {
  if (onnx::TensorProto_DataType_IsValid(onnxType))
    return llvm::StringRef(onnx::TensorProto_DataType_Name(
                               onnx::TensorProto_DataType(onnxType)))
        .lower();
  return "type " + std::to_string(onnxType);
}

bool isUnsignedOnnxType(int onnxType) {
  return onnxType == onnx::TensorProto::UINT8 ||
         onnxType == onnx::TensorProto::UINT16 ||
         onnxType == onnx::TensorProto::UINT32 ||
         onnxType == onnx::TensorProto::UINT64;
}

namespace {

/// Bytes per element in the natural layout (0: not a fixed-size type).
size_t elementBytes(int onnxType) {
  switch (onnxType) {
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8: return 1;
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16: return 2;
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32: return 4;
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64: return 8;
  default: return 0;
  }
}

template <typename T, typename Field>
void appendField(std::vector<char> &bytes, const Field &field,
                 size_t elementSize) {
  for (const auto &v : field) {
    T narrow = T(v);
    const char *p = reinterpret_cast<const char *>(&narrow);
    bytes.insert(bytes.end(), p, p + elementSize);
  }
}

llvm::Error errorFor(llvm::StringRef what, const llvm::Twine &message) {
  return makeError(what + ": " + message);
}

} // namespace

llvm::Expected<TensorData> decodeTensor(const onnx::TensorProto &proto,
                                        llvm::StringRef baseDir,
                                        llvm::StringRef what) {
  TensorData data;
  data.onnxType = proto.data_type();
  size_t size = elementBytes(data.onnxType);
  if (size == 0)
    return errorFor(what, "element type " + onnxTypeName(data.onnxType) +
                              " is not supported (hatc takes numeric and "
                              "bool tensors)");
  int64_t count = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0)
      return errorFor(what, "negative dimension " + std::to_string(d));
    data.shape.push_back(d);
    count *= d;
  }
  size_t expected = size_t(count) * size;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &entry : proto.external_data()) {
      if (entry.key() == "location")
        location = entry.value();
      else if (entry.key() == "offset")
        offset = std::strtoll(entry.value().c_str(), nullptr, 10);
      else if (entry.key() == "length")
        length = std::strtoll(entry.value().c_str(), nullptr, 10);
    }
    if (location.empty())
      return errorFor(what, "external data without a location");
    llvm::SmallString<256> file(baseDir);
    llvm::sys::path::append(file, location);
    auto buffer = llvm::MemoryBuffer::getFile(file, /*IsText=*/false);
    if (!buffer)
      return errorFor(what, "cannot read its external data " + file + ": " +
                                buffer.getError().message());
    if (length < 0)
      length = int64_t((*buffer)->getBufferSize()) - offset;
    if (offset < 0 || size_t(offset + length) > (*buffer)->getBufferSize() ||
        size_t(length) != expected)
      return errorFor(what, llvm::formatv("external data {0} holds {1} bytes "
                                          "at offset {2}; the tensor needs "
                                          "{3}",
                                          file, (*buffer)->getBufferSize(),
                                          offset, expected));
    const char *start = (*buffer)->getBufferStart() + offset;
    data.bytes.assign(start, start + length);
    return data;
  }
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != expected)
      return errorFor(what, llvm::formatv("raw data has {0} bytes; {1} "
                                          "elements of {2} need {3}",
                                          proto.raw_data().size(), count,
                                          onnxTypeName(data.onnxType),
                                          expected));
    data.bytes.assign(proto.raw_data().begin(), proto.raw_data().end());
    if (data.onnxType == onnx::TensorProto::BOOL)
      for (char &c : data.bytes)
        c = c != 0;
    return data;
  }
  data.bytes.reserve(expected);
  switch (data.onnxType) {
  case onnx::TensorProto::FLOAT:
    appendField<float>(data.bytes, proto.float_data(), size);
    break;
  case onnx::TensorProto::DOUBLE:
    appendField<double>(data.bytes, proto.double_data(), size);
    break;
  case onnx::TensorProto::INT64:
    appendField<int64_t>(data.bytes, proto.int64_data(), size);
    break;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    appendField<uint64_t>(data.bytes, proto.uint64_data(), size);
    break;
  case onnx::TensorProto::BOOL:
    appendField<uint8_t>(data.bytes, proto.int32_data(), size);
    for (char &c : data.bytes)
      c = c != 0;
    break;
  default: // int32_data holds the narrower integer and 16-bit float types
    appendField<int32_t>(data.bytes, proto.int32_data(), size);
    break;
  }
  if (data.bytes.size() != expected)
    return errorFor(what, llvm::formatv("holds {0} values; its shape needs {1}",
                                        data.bytes.size() / size, count));
  return data;
}

llvm::Expected<ElementsAttr> elementsAttrFor(MLIRContext *context,
                                             const TensorData &data,
                                             llvm::StringRef name,
                                             int64_t resourceThreshold) {
  Type element = elementTypeFor(context, data.onnxType);
  if (!element)
    return errorFor(name, "element type " + onnxTypeName(data.onnxType) +
                              " is not supported");
  auto type = RankedTensorType::get(data.shape, element);
  int64_t count = type.getNumElements();
  if (element.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : data.bytes)
      bits.push_back(c != 0);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, bits));
  }
  if (count > resourceThreshold) {
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(data.bytes.data(), data.bytes.size()), alignof(double));
    std::string blobName = name.str();
    for (char &c : blobName)
      if (!llvm::isAlnum(c) && c != '_' && c != '.')
        c = '_';
    if (blobName.empty() || llvm::isDigit(blobName[0]))
      blobName = "w_" + blobName;
    return cast<ElementsAttr>(
        DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
  }
  bool detectedSplat = false;
  ArrayRef<char> raw(data.bytes.data(), data.bytes.size());
  if (!DenseElementsAttr::isValidRawBuffer(type, raw, detectedSplat))
    return errorFor(name, "tensor data does not match its type");
  return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, raw));
}

//===----------------------------------------------------------------------===//
// Importer state
//===----------------------------------------------------------------------===//

Importer::Entry *Importer::lookup(llvm::StringRef name) {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

void Importer::define(llvm::StringRef name, Value value) {
  Entry &entry = values[name];
  entry.value = value;
  entry.type = cast<RankedTensorType>(value.getType());
  entry.constant = {};
  entry.isUnsigned = false;
}

void Importer::defineConstant(llvm::StringRef name, ElementsAttr value) {
  Entry &entry = values[name];
  entry.value = {};
  entry.type = cast<RankedTensorType>(value.getType());
  entry.constant = value;
  entry.isUnsigned = false;
}

Value Importer::materialize(Entry &entry) {
  if (entry.value)
    return entry.value;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(body);
  entry.value = builder.create<arith::ConstantOp>(
      builder.getUnknownLoc(), cast<TypedAttr>(entry.constant));
  return entry.value;
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

namespace {
Location locationOf(OpBuilder &b, const onnx::NodeProto &node) {
  std::string name = node.name().empty()
                         ? node.op_type() + "(" +
                               (node.output_size() ? node.output(0) : "") + ")"
                         : node.name();
  return NameLoc::get(b.getStringAttr(name));
}
} // namespace

NodeContext::NodeContext(Importer &importer, const onnx::NodeProto &node,
                         int64_t opset)
    : node(node), opset(opset), b(importer.builder),
      loc(locationOf(importer.builder, node)), importer(importer) {}

bool NodeContext::hasInput(size_t i) const {
  return int(i) < node.input_size() && !node.input(i).empty();
}

Value NodeContext::input(size_t i) {
  Importer::Entry *entry = importer.lookup(node.input(i));
  assert(entry && "inputs are checked before conversion");
  return importer.materialize(*entry);
}

RankedTensorType NodeContext::inputType(size_t i) {
  return importer.lookup(node.input(i))->type;
}

bool NodeContext::inputIsUnsigned(size_t i) {
  if (!hasInput(i))
    return false;
  Importer::Entry *entry = importer.lookup(node.input(i));
  return entry && entry->isUnsigned;
}

std::optional<DenseElementsAttr> NodeContext::constantInput(size_t i) {
  if (!hasInput(i))
    return std::nullopt;
  Importer::Entry *entry = importer.lookup(node.input(i));
  if (entry && !entry->constant)
    importer.wantedInputs.insert(importer.wantedInputs.end(),
                                 entry->sources.begin(), entry->sources.end());
  if (!entry || !entry->constant)
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(entry->constant))
    return dense;
  // A weight blob: read it as dense values (a shape-like use of a weight).
  auto resource = dyn_cast<DenseResourceElementsAttr>(entry->constant);
  if (!resource || !resource.getRawHandle().getBlob())
    return std::nullopt;
  ArrayRef<char> raw = resource.getRawHandle().getBlob()->getData();
  return DenseElementsAttr::getFromRawBuffer(resource.getType(), raw);
}

llvm::Expected<DenseElementsAttr>
NodeContext::requireConstant(size_t i, llvm::StringRef what) {
  if (auto constant = constantInput(i))
    return *constant;
  return error(llvm::formatv("its {0} (input {1}, '{2}') must be known at "
                             "import time; it is computed at run time",
                             what, i,
                             hasInput(i) ? node.input(i) : std::string()));
}

llvm::Expected<std::vector<int64_t>>
NodeContext::constantInts(size_t i, llvm::StringRef what) {
  auto constant = requireConstant(i, what);
  if (!constant)
    return constant.takeError();
  return intsOf(*constant);
}

llvm::Expected<std::vector<double>>
NodeContext::constantDoubles(size_t i, llvm::StringRef what) {
  auto constant = requireConstant(i, what);
  if (!constant)
    return constant.takeError();
  return doublesOf(*constant);
}

const onnx::AttributeProto *NodeContext::attr(llvm::StringRef name) const {
  for (const auto &attribute : node.attribute())
    if (attribute.name() == name)
      return &attribute;
  return nullptr;
}

int64_t NodeContext::attrInt(llvm::StringRef name, int64_t fallback) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : fallback;
}

float NodeContext::attrFloat(llvm::StringRef name, float fallback) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : fallback;
}

std::string NodeContext::attrString(llvm::StringRef name,
                                    llvm::StringRef fallback) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : fallback.str();
}

std::vector<int64_t> NodeContext::attrInts(llvm::StringRef name,
                                           std::vector<int64_t> fallback) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return fallback;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<float> NodeContext::attrFloats(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return {};
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

const onnx::TensorProto *NodeContext::attrTensor(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  return a && a->has_t() ? &a->t() : nullptr;
}

bool NodeContext::wantsOutput(size_t i) const {
  return int(i) < node.output_size() && !node.output(i).empty();
}

void NodeContext::setOutput(size_t i, Value value) {
  if (wantsOutput(i))
    importer.define(node.output(i), value);
}

void NodeContext::setConstantOutput(size_t i, DenseElementsAttr value) {
  if (wantsOutput(i))
    importer.defineConstant(node.output(i), cast<ElementsAttr>(value));
}

void NodeContext::setOutputUnsigned(size_t i, bool isUnsigned) {
  if (unsignedMarks.size() <= i)
    unsignedMarks.resize(i + 1);
  unsignedMarks[i] = isUnsigned;
}

std::optional<bool> NodeContext::outputUnsignedMark(size_t i) const {
  return i < unsignedMarks.size() ? unsignedMarks[i] : std::nullopt;
}

llvm::Error NodeContext::error(const llvm::Twine &message) const {
  std::string name = node.name().empty() ? "" : "'" + node.name() + "' ";
  return makeError(llvm::formatv("node {0}({1}, opset {2}): ", name,
                                 node.op_type(), opset)
                       .str() +
                   message.str());
}

llvm::Expected<int64_t> NodeContext::normalizeAxis(int64_t axis,
                                                   int64_t rank) const {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return error(llvm::formatv("axis {0} is out of range for rank {1}", axis,
                               rank));
  return axis < 0 ? axis + rank : axis;
}

llvm::StringRef NodeContext::baseDir() const { return importer.baseDir; }

const ConverterRegistry &converterRegistry() {
  static const ConverterRegistry registry = [] {
    ConverterRegistry r;
    registerElementwiseOps(r);
    registerMatmulOps(r);
    registerConvOps(r);
    registerShapeOps(r);
    registerReductionOps(r);
    registerLossOps(r);
    registerRecurrentOps(r);
    registerScatterOps(r);
    registerQuantOps(r);
    registerSortOps(r);
    return r;
  }();
  return registry;
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

char NeedsInputValues::ID = 0;

std::vector<SupportedOp> supportedOps() {
  std::vector<SupportedOp> ops;
  for (const auto &entry : converterRegistry())
    ops.push_back({entry.getKey().str(), entry.getValue().minOpset,
                   entry.getValue().maxOpset});
  llvm::sort(ops, [](const SupportedOp &a, const SupportedOp &b) {
    return a.opType < b.opType;
  });
  return ops;
}

bool isOnnxModelPath(llvm::StringRef path) {
  return path.ends_with_insensitive(".onnx");
}

llvm::Expected<std::pair<std::string, std::vector<int64_t>>>
parseInputShape(llvm::StringRef text) {
  auto [name, dims] = text.rsplit('=');
  if (!text.contains('=') || name.empty())
    return makeError("--input-shape '" + text +
                     "': expected NAME=D0,D1,... (e.g. input=1,3,224,224)");
  std::vector<int64_t> shape;
  if (!dims.trim().empty()) {
    llvm::SmallVector<llvm::StringRef> parts;
    dims.split(parts, ',');
    for (llvm::StringRef part : parts) {
      int64_t d = 0;
      if (part.trim().getAsInteger(10, d) || d < 0)
        return makeError("--input-shape '" + text + "': dimension '" + part +
                         "' is not an integer >= 0");
      shape.push_back(d);
    }
  }
  return std::make_pair(name.str(), shape);
}

void registerFrontendDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect>();
}

namespace {

llvm::Expected<onnx::ModelProto> readModel(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  onnx::ModelProto model;
  google::protobuf::io::ArrayInputStream stream(
      (*buffer)->getBufferStart(), int((*buffer)->getBufferSize()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    return makeError(path + ": not a valid ONNX model (the protobuf does not "
                            "parse: truncated or corrupt file?)");
  if (!model.has_graph())
    return makeError(path + ": the ONNX model has no graph");
  return model;
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string text;
  for (int64_t d : shape)
    text += (text.empty() ? "" : ",") +
            (d < 0 ? std::string("?") : std::to_string(d));
  return text;
}

class GraphImporter {
public:
  GraphImporter(MLIRContext &context, llvm::StringRef path,
                const ImportOptions &options)
      : context(context), path(path.str()), options(options),
        builder(&context),
        importer(builder, llvm::sys::path::parent_path(path).str(),
                 options.resourceThreshold) {}

  llvm::Expected<OwningOpRef<ModuleOp>> run(onnx::ModelProto &model);

private:
  llvm::Error error(const llvm::Twine &message) {
    return makeError(path + ": " + message);
  }
  llvm::Expected<int64_t> defaultOpset(const onnx::ModelProto &model);
  /// Records whether each output of a converted node is unsigned.
  void markUnsigned(NodeContext &node);
  llvm::Error checkOps(const onnx::GraphProto &graph, int64_t opset);
  llvm::Expected<RankedTensorType>
  inputType(const onnx::ValueInfoProto &input,
            const std::map<std::string, std::vector<int64_t>> &fixed,
            const std::map<std::string, std::string> &fixedBy);

  MLIRContext &context;
  std::string path;
  const ImportOptions &options;
  OpBuilder builder;
  Importer importer;
  std::map<std::string, size_t> graphPositions;
};

void GraphImporter::markUnsigned(NodeContext &node) {
  const onnx::TensorProto *value = node.attrTensor("value");
  for (size_t i = 0; i < node.numOutputs(); ++i) {
    Importer::Entry *out =
        node.wantsOutput(i) ? importer.lookup(node.node.output(i)) : nullptr;
    if (!out)
      continue;
    std::optional<bool> mark = node.outputUnsignedMark(i);
    Type element = out->type.getElementType();
    if (!mark && value)
      mark = isUnsignedOnnxType(value->data_type());
    if (!mark && isa<IntegerType>(element) && !element.isInteger(1))
      for (size_t j = 0; j < node.numInputs() && !mark; ++j)
        if (node.hasInput(j) && node.inputElementType(j) == element)
          mark = node.inputIsUnsigned(j);
    out->isUnsigned = mark.value_or(false);
  }
}

llvm::Expected<int64_t>
GraphImporter::defaultOpset(const onnx::ModelProto &model) {
  int64_t opset = -1;
  for (const auto &import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx")
      opset = import.version();
  if (opset < 0)
    opset = model.opset_import_size() == 0 ? 1 : -1;
  if (opset < 0)
    return error("the model imports no default-domain (ai.onnx) opset");
  if (opset > kMaxOnnxOpset)
    return error(llvm::formatv("opset {0} is newer than hatc supports ({1} "
                               "to {2}); export the model with opset {2} or "
                               "lower",
                               opset, kMinOnnxOpset, kMaxOnnxOpset));
  return opset;
}

llvm::Error GraphImporter::checkOps(const onnx::GraphProto &graph,
                                    int64_t opset) {
  const ConverterRegistry &registry = converterRegistry();
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const auto &node : graph.node()) {
    std::string domain = node.domain();
    std::string name =
        node.name().empty()
            ? (node.output_size() ? " producing '" + node.output(0) + "'" : "")
            : " '" + node.name() + "'";
    if (!domain.empty() && domain != "ai.onnx") {
      std::string key = domain + "::" + node.op_type();
      if (seen.insert(key).second)
        problems.push_back(node.op_type() + " (domain " + domain + ", node" +
                           name + ")");
      continue;
    }
    auto it = registry.find(node.op_type());
    bool supported = it != registry.end() &&
                     opset >= it->second.minOpset &&
                     opset <= it->second.maxOpset;
    if (supported || !seen.insert(node.op_type()).second)
      continue;
    problems.push_back(llvm::formatv("{0} (opset {1}, node{2})",
                                     node.op_type(), opset, name)
                           .str());
  }
  if (problems.empty())
    return llvm::Error::success();
  return error(llvm::formatv("{0} unsupported op type{1}: {2}",
                             problems.size(), problems.size() == 1 ? "" : "s",
                             llvm::join(problems, ", ")));
}

/// A graph input whose shape the model leaves open: no shape, or a dim
/// without a value (a dim_param such as "batch").
bool hasUnknownDims(const onnx::ValueInfoProto &input) {
  if (!input.type().has_tensor_type())
    return false;
  const auto &tensor = input.type().tensor_type();
  if (!tensor.has_shape())
    return true;
  return llvm::any_of(tensor.shape().dim(), [](const auto &dim) {
    return !dim.has_dim_value() || dim.dim_value() < 0;
  });
}

llvm::Expected<RankedTensorType> GraphImporter::inputType(
    const onnx::ValueInfoProto &input,
    const std::map<std::string, std::vector<int64_t>> &fixed,
    const std::map<std::string, std::string> &fixedBy) {
  const std::string &name = input.name();
  if (!input.type().has_tensor_type())
    return error("graph input '" + name +
                 "' is not a tensor (sequences, maps and optionals are not "
                 "supported)");
  const auto &tensor = input.type().tensor_type();
  Type element = elementTypeFor(&context, tensor.elem_type());
  if (!element)
    return error("graph input '" + name + "' has element type " +
                 onnxTypeName(tensor.elem_type()) + ", which hatc does not "
                 "support");
  std::vector<int64_t> shape;
  bool hasShape = tensor.has_shape();
  if (hasShape)
    for (const auto &dim : tensor.shape().dim())
      shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                          ? dim.dim_value()
                          : -1);
  auto given = fixed.find(name);
  if (given != fixed.end()) {
    // What gave the shape: --input-shape, or the input's tensor file.
    auto by = fixedBy.find(name);
    std::string origin =
        by != fixedBy.end()
            ? by->second
            : "--input-shape " + name + "=" + shapeText(given->second);
    if (hasShape && given->second.size() != shape.size())
      return error(llvm::formatv("{0} has rank {1}; the model's input '{2}' "
                                 "has rank {3} ([{4}])",
                                 origin, given->second.size(), name,
                                 shape.size(), shapeText(shape)));
    for (size_t i = 0; hasShape && i < shape.size(); ++i)
      if (shape[i] > 0 && shape[i] != given->second[i])
        return error(llvm::formatv("{0} disagrees with the model's fixed dim "
                                   "{1} of '{2}' ([{3}])",
                                   origin, i, name, shapeText(shape)));
    shape = given->second;
  } else if (!hasShape) {
    return error("graph input '" + name +
                 "' has no shape; pass --input-shape " + name +
                 "=D0,D1,...");
  }
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] < 0) {
      std::string dimName = tensor.shape().dim(i).dim_param();
      return error(llvm::formatv(
          "graph input '{0}' has an unknown dim {1}{2} (shape [{3}]); fix it "
          "with --input-shape {0}={4}",
          name, i, dimName.empty() ? "" : " ('" + dimName + "')",
          shapeText(shape),
          shapeText(llvm::to_vector(llvm::map_range(
              shape, [](int64_t d) { return d < 0 ? int64_t(1) : d; })))));
    }
  return RankedTensorType::get(shape, element);
}

llvm::Expected<OwningOpRef<ModuleOp>>
GraphImporter::run(onnx::ModelProto &model) {
  auto opset = defaultOpset(model);
  if (!opset)
    return opset.takeError();
  const onnx::GraphProto &graph = model.graph();
  if (llvm::Error err = checkOps(graph, *opset))
    return std::move(err);

  std::set<std::string> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());
  std::map<std::string, std::vector<int64_t>> fixed;
  for (const auto &[name, shape] : options.inputShapes) {
    bool found = false;
    for (const auto &input : graph.input())
      found |= input.name() == name && !initializerNames.count(name);
    if (!found) {
      std::vector<std::string> names;
      for (const auto &input : graph.input())
        if (!initializerNames.count(input.name()))
          names.push_back("'" + input.name() + "'");
      return error("--input-shape names '" + name +
                   "', which is not a graph input (inputs: " +
                   llvm::join(names, ", ") + ")");
    }
    auto [it, fresh] = fixed.try_emplace(name, shape);
    if (!fresh && it->second != shape)
      return error("--input-shape gives '" + name + "' twice (" + name + "=" +
                   shapeText(it->second) + " and " + name + "=" +
                   shapeText(shape) + "); give it once");
  }

  Location loc = NameLoc::get(builder.getStringAttr(path));
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  std::map<std::string, std::string> valueFiles(options.inputValues.begin(),
                                                options.inputValues.end());
  SmallVector<std::pair<std::string, std::string>> frozen;
  size_t position = 0;
  std::set<std::string> unsignedInputs;
  std::map<std::string, std::string> fixedBy;
  for (const auto &input : graph.input()) {
    if (initializerNames.count(input.name()))
      continue; // an initializer listed as an input (IR version < 4)
    size_t at = position++;
    graphPositions[input.name()] = at;
    if (input.type().has_tensor_type() &&
        isUnsignedOnnxType(input.type().tensor_type().elem_type()))
      unsignedInputs.insert(input.name());
    // A shape the model leaves open and --input-shape does not give: the
    // shape of the input's tensor file, where there is one.
    if (!fixed.count(input.name()) && at < options.inputFiles.size() &&
        hasUnknownDims(input)) {
      const std::string &file = options.inputFiles[at];
      auto data = readTensorData(file);
      if (!data)
        return data.takeError();
      fixed[input.name()] = data->shape;
      fixedBy[input.name()] = llvm::formatv(
          "{0} (input '{1}', shape [{2}])", file, input.name(),
          shapeText(data->shape));
    }
    auto type = inputType(input, fixed, fixedBy);
    if (!type)
      return type.takeError();
    auto file = valueFiles.find(input.name());
    if (file != valueFiles.end()) {
      frozen.emplace_back(input.name(), file->second);
      continue;
    }
    argTypes.push_back(*type);
    argNames.push_back(input.name());
  }
  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      loc, options.entryName, builder.getFunctionType(argTypes, {}));
  Block *body = func.addEntryBlock();
  importer.body = body;
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, "onnx.name", builder.getStringAttr(name));
    importer.define(name, body->getArgument(i));
    importer.lookup(name)->isUnsigned = unsignedInputs.count(name) != 0;
    importer.graphInputs[name] = graphPositions[name];
    // Only small inputs are worth specializing for (shapes, axes, sizes).
    if (cast<RankedTensorType>(argTypes[i]).getNumElements() <= 4096)
      importer.lookup(name)->sources.push_back(name);
  }
  for (const auto &[name, file] : options.inputValues)
    if (!graphPositions.count(name))
      return error("a value is given for '" + name +
                   "', which is not a graph input");
  for (auto &[name, file] : frozen) {
    auto data = readTensorData(file);
    if (!data)
      return data.takeError();
    auto attr = elementsAttrFor(&context, *data, name,
                                options.resourceThreshold);
    if (!attr)
      return attr.takeError();
    importer.defineConstant(name, *attr);
    importer.lookup(name)->isUnsigned = unsignedInputs.count(name) != 0;
  }
  for (const auto &init : graph.initializer()) {
    auto data = decodeTensor(init, importer.baseDir,
                             path + ": initializer '" + init.name() + "'");
    if (!data)
      return data.takeError();
    auto attr = elementsAttrFor(&context, *data, init.name(),
                                options.resourceThreshold);
    if (!attr)
      return attr.takeError();
    importer.defineConstant(init.name(), *attr);
    importer.lookup(init.name())->isUnsigned =
        isUnsignedOnnxType(data->onnxType);
  }

  builder.setInsertionPointToEnd(body);
  const ConverterRegistry &registry = converterRegistry();
  for (const auto &node : graph.node()) {
    NodeContext node_(importer, node, *opset);
    // As many inputs and outputs as the op's ONNX schema allows (a Div of
    // one input was taken for a copy of it; a MatMul of one read past its
    // inputs, a protobuf CHECK failure).
    if (const onnx::OpSchema *schema =
            onnx::OpSchemaRegistry::Schema(node.op_type(), int(*opset))) {
      // "has 1 input; MatMul takes 2", "... Concat takes 1 or more".
      auto countProblem = [&](int n, int low, int high, const char *noun,
                              const char *verb) -> std::string {
        if (n >= low && n <= high)
          return "";
        std::string range =
            low == high ? std::to_string(low)
            : high == std::numeric_limits<int>::max()
                ? std::to_string(low) + " or more"
                : std::to_string(low) + " to " + std::to_string(high);
        return "has " + std::to_string(n) + " " + noun + (n == 1 ? "" : "s") +
               "; " + node.op_type() + " " + verb + " " + range;
      };
      std::string problem = countProblem(
          node.input_size(), schema->min_input(), schema->max_input(),
          "input", "takes");
      if (problem.empty())
        problem = countProblem(node.output_size(), schema->min_output(),
                               schema->max_output(), "output", "gives");
      if (!problem.empty())
        return error(llvm::toString(node_.error(problem)));
    }
    for (int i = 0; i < node.input_size(); ++i)
      if (!node.input(i).empty() && !importer.has(node.input(i)))
        return error(llvm::toString(
            node_.error("input '" + node.input(i) +
                        "' is not defined before the node (the graph is not "
                        "in topological order, or uses a value from an outer "
                        "graph)")));
    // ONNX graphs are in SSA form: a name written twice is an invalid model
    // (the later writer would silently win).
    for (int i = 0; i < node.output_size(); ++i)
      if (!node.output(i).empty() && importer.has(node.output(i)))
        return error(llvm::toString(node_.error(
            "output '" + node.output(i) +
            "' is already defined (by an earlier node, a graph input or an "
            "initializer); each value of an ONNX graph is written once")));
    importer.wantedInputs.clear();
    if (llvm::Error err =
            registry.find(node.op_type())->second.convert(node_)) {
      std::string text = llvm::toString(std::move(err));
      // Converter messages from shared helpers do not name the node.
      if (!llvm::StringRef(text).starts_with("node "))
        text = llvm::toString(node_.error(text));
      if (importer.wantedInputs.empty())
        return error(text);
      std::vector<std::pair<std::string, size_t>> wanted;
      std::set<std::string> names;
      for (const std::string &name : importer.wantedInputs)
        if (names.insert(name).second)
          wanted.emplace_back(name, importer.graphInputs[name]);
      return llvm::make_error<NeedsInputValues>(
          wanted, path + ": " + text + " (it is computed from the graph input '" +
                      wanted.front().first +
                      "': give its value with hatc run --inputs DIR, which "
                      "specializes the model for it)");
    }
    // Outputs computed at run time remember which small graph inputs they
    // come from.
    llvm::SmallVector<std::string, 2> sources;
    for (const std::string &input : node.input())
      if (Importer::Entry *entry = importer.lookup(input))
        for (const std::string &source : entry->sources)
          if (!llvm::is_contained(sources, source) && sources.size() < 8)
            sources.push_back(source);
    for (const std::string &output : node.output())
      if (Importer::Entry *entry = importer.lookup(output))
        if (!entry->constant)
          entry->sources = sources;
    markUnsigned(node_);
    for (int i = 0; i < node.output_size(); ++i)
      if (!node.output(i).empty() && !importer.has(node.output(i)))
        return error(llvm::toString(
            node_.error("output '" + node.output(i) +
                        "' was not produced (an optional output hatc does "
                        "not compute)")));
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    Importer::Entry *entry = importer.lookup(output.name());
    if (!entry)
      return error("graph output '" + output.name() +
                   "' is not produced by any node");
    Value result = importer.materialize(*entry);
    // An output that is a graph input, a constant, a view of another value
    // or another output again gets its own copy: every result then is a
    // fresh buffer, which bufferization turns into its out-param, and a
    // model with nothing else to compute (Identity, a Concat) still has a
    // linalg op.
    Operation *def = result.getDefiningOp();
    bool fresh = def && isa<linalg::LinalgOp>(def);
    if (!fresh || llvm::is_contained(results, result)) {
      auto copy = elementwise(
          builder, loc, {result},
          cast<RankedTensorType>(result.getType()).getElementType(),
          [](OpBuilder &, Location, ValueRange args) { return args[0]; });
      if (!copy)
        return copy.takeError();
      result = *copy;
    }
    results.push_back(result);
    resultTypes.push_back(result.getType());
  }
  if (results.empty())
    return error("the graph has no outputs");
  builder.create<func::ReturnOp>(loc, results);
  func.setType(builder.getFunctionType(argTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", builder.getStringAttr(output.name()));

  // Constants and ops whose results nothing uses (shape arithmetic folded
  // while importing) go; the rest is left for the compiler.
  bool erased = true;
  while (erased) {
    erased = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*body)))
      if (!op.hasTrait<OpTrait::IsTerminator>() && op.use_empty() &&
          isMemoryEffectFree(&op)) {
        op.erase();
        erased = true;
      }
  }
  if (failed(verify(*module)))
    return error("the imported IR does not verify: a node's inputs are of "
                 "types its op does not take (the model's error), or an "
                 "importer bug (please report it with the model)");
  return module;
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
importOnnxModel(MLIRContext &context, llvm::StringRef path,
                const ImportOptions &options) {
  auto model = readModel(path);
  if (!model)
    return model.takeError();
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, math::MathDialect,
                      tensor::TensorDialect>();
  GraphImporter importer(context, path, options);
  try {
    return importer.run(*model);
  } catch (const std::exception &e) {
    return makeError(path + ": import failed: " + e.what());
  }
}

} // namespace hatc::frontend
