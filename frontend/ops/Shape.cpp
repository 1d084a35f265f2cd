//===- Shape.cpp - ONNX Reshape, Transpose, Concat, Slice, Gather, ... -> tensor ops ===//
//
//   Reshape/Flatten/(Un)Squeeze -> tensor.collapse_shape/expand_shape,
//   Transpose -> linalg.transpose, Slice/Split -> tensor.extract_slice,
//   Concat -> tensor.empty + insert_slice chain, Gather -> linalg.generic
//   (linalg.index + tensor.extract), Tile -> linalg.broadcast + collapse.
//
// Small import-time constants (shape arithmetic) fold on the host instead:
// every data-movement op is "result element at coords = input element at
// source(coords)", evaluated over the constant's values.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;

namespace hatc::frontend {

namespace {

/// The largest result (in elements) folded on the host.
constexpr int64_t kFoldLimit = 4096;

int64_t product(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Row-major flat index of `coords` in `shape`.
int64_t flatOf(ArrayRef<int64_t> coords, ArrayRef<int64_t> shape) {
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    flat = flat * shape[i] + coords[i];
  return flat;
}

/// Input `i` as a constant when it is known and small (a large weight is
/// not copied out of its blob).
std::optional<DenseElementsAttr> smallConstant(NodeContext &node, size_t i) {
  if (!node.hasInput(i) || node.inputType(i).getNumElements() > kFoldLimit)
    return std::nullopt;
  return node.constantInput(i);
}

/// Where a result element comes from: the flat index into the source.
using SourceFn = std::function<int64_t(ArrayRef<int64_t> coords)>;

/// The constant of `shape` whose element at coords is values[source(coords)].
DenseElementsAttr moveOnHost(ArrayRef<Attribute> values, Type elementType,
                             ArrayRef<int64_t> shape, const SourceFn &source) {
  int64_t count = product(shape);
  SmallVector<Attribute> result;
  result.reserve(count);
  SmallVector<int64_t> coords(shape.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    result.push_back(values[source(coords)]);
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      if (++coords[d] < shape[d])
        break;
      coords[d] = 0;
    }
  }
  return DenseElementsAttr::get(RankedTensorType::get(shape, elementType),
                                result);
}

/// Folds output `output` from constant input `input` when both are small.
bool foldMove(NodeContext &node, size_t input, ArrayRef<int64_t> shape,
              const SourceFn &source, size_t output = 0) {
  if (product(shape) > kFoldLimit)
    return false;
  auto constant = smallConstant(node, input);
  if (!constant)
    return false;
  SmallVector<Attribute> values(constant->getValues<Attribute>());
  node.setConstantOutput(
      output, moveOnHost(values, constant->getElementType(), shape, source));
  return true;
}

/// Groups the dims of `wide` into consecutive runs whose products are the
/// dims of `narrow` (trailing 1s join the last run); nullopt when the
/// reshape is not one collapse.
std::optional<SmallVector<ReassociationIndices>>
reassociation(ArrayRef<int64_t> wide, ArrayRef<int64_t> narrow) {
  if (narrow.empty() || wide.size() <= narrow.size() ||
      llvm::is_contained(wide, 0))
    return std::nullopt;
  SmallVector<ReassociationIndices> groups;
  size_t next = 0;
  for (int64_t target : narrow) {
    ReassociationIndices group;
    int64_t size = 1;
    while (next < wide.size() && (group.empty() || size < target)) {
      size *= wide[next];
      group.push_back(next++);
    }
    if (size != target)
      return std::nullopt;
    groups.push_back(group);
  }
  while (next < wide.size()) {
    if (wide[next] != 1)
      return std::nullopt;
    groups.back().push_back(next++);
  }
  return groups;
}

/// A reshape as one collapse_shape or expand_shape when it is one, else
/// the shared flatten-then-expand.
Value reshapeValue(OpBuilder &b, Location loc, Value input,
                   ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  if (auto groups = reassociation(type.getShape(), shape))
    return b.create<tensor::CollapseShapeOp>(loc, resultType, input, *groups);
  if (auto groups = reassociation(shape, type.getShape()))
    return b.create<tensor::ExpandShapeOp>(loc, resultType, input, *groups);
  return reshape(b, loc, input, shape);
}

/// A reshape of input 0 to `shape`: folded on the host or collapse/expand.
llvm::Error emitReshape(NodeContext &node, ArrayRef<int64_t> shape) {
  if (product(shape) != node.inputType(0).getNumElements())
    return node.error("cannot reshape " + shapeText(node.inputShape(0)) +
                      " to " + shapeText(shape));
  SmallVector<int64_t> target(shape);
  if (foldMove(node, 0, shape, [&](ArrayRef<int64_t> coords) {
        return flatOf(coords, target);
      }))
    return llvm::Error::success();
  node.setOutput(0, reshapeValue(node.b, node.loc, node.input(0), shape));
  return llvm::Error::success();
}

using IndexBody = std::function<Value(OpBuilder &, Location,
                                      ArrayRef<Value> coords, ValueRange args)>;

/// A linalg.generic over `shape` computing each element from its
/// coordinates (linalg.index, as `index` values) and the scalars of
/// `inputs` read through `inputMaps`.
Value indexedGeneric(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                     Type elementType, ValueRange inputs,
                     ArrayRef<AffineMap> inputMaps, const IndexBody &body) {
  int64_t rank = shape.size();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, shape, elementType);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, init.getType(), inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < rank; ++d)
          coords.push_back(nested.create<linalg::IndexOp>(nestedLoc, d));
        Value result = body(nested, nestedLoc, coords, args.drop_back());
        nested.create<linalg::YieldOp>(nestedLoc, result);
      });
  return generic.getResult(0);
}

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

/// An integer index element as `index`, negative values counted from
/// `dim` (Gather, GatherElements, OneHot).
Value wrapIndex(OpBuilder &b, Location loc, Value index, int64_t dim) {
  Value i = b.create<arith::IndexCastOp>(loc, b.getIndexType(), index);
  Value zero = indexConstant(b, loc, 0);
  Value negative =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, zero);
  Value wrapped =
      b.create<arith::AddIOp>(loc, i, indexConstant(b, loc, dim));
  return b.create<arith::SelectOp>(loc, negative, wrapped, i);
}

/// wrapIndex, then clamped to [0, dim - 1]: the position a gather reads.
/// ONNX calls an index outside [-dim, dim - 1] an error, which a compiled
/// kernel cannot raise per element; clamping keeps such an index (a token
/// id past the vocabulary) from reading outside the tensor.
Value gatherIndex(OpBuilder &b, Location loc, Value index, int64_t dim) {
  Value i = wrapIndex(b, loc, index, dim);
  i = b.create<arith::MaxSIOp>(loc, i, indexConstant(b, loc, 0));
  return b.create<arith::MinSIOp>(loc, i, indexConstant(b, loc, dim - 1));
}

SmallVector<OpFoldResult> foldResults(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> r;
  for (int64_t x : v)
    r.push_back(b.getIndexAttr(x));
  return r;
}

/// tensor.extract_slice of `source` with static offsets/sizes/strides;
/// `resultShape` may drop unit dims (rank-reducing).
Value extractSlice(OpBuilder &b, Location loc, Value source,
                   ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                   ArrayRef<int64_t> strides, ArrayRef<int64_t> resultShape) {
  auto type = cast<RankedTensorType>(source.getType());
  auto resultType = RankedTensorType::get(resultShape, type.getElementType());
  return b.create<tensor::ExtractSliceOp>(
      loc, resultType, source, foldResults(b, offsets), foldResults(b, sizes),
      foldResults(b, strides));
}

//===----------------------------------------------------------------------===//
// Reshape family
//===----------------------------------------------------------------------===//

llvm::Error convertReshape(NodeContext &node) {
  std::vector<int64_t> spec;
  if (node.opset < 5) {
    spec = node.attrInts("shape");
  } else {
    auto shape = node.constantInts(1, "shape");
    if (!shape)
      return shape.takeError();
    spec = *shape;
  }
  bool allowZero = node.attrInt("allowzero", 0) != 0;
  ArrayRef<int64_t> in = node.inputShape(0);
  SmallVector<int64_t> shape;
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowZero) {
      if (i >= in.size())
        return node.error(llvm::formatv(
            "shape entry {0} is 0 (copy the input dim) but the input has "
            "rank {1}",
            i, in.size()));
      d = in[i];
    } else if (d == -1) {
      if (inferred >= 0)
        return node.error("its shape has more than one -1");
      inferred = i;
      shape.push_back(1);
      continue;
    } else if (d < 0) {
      return node.error(llvm::formatv("shape entry {0} is {1}", i, d));
    }
    shape.push_back(d);
    known *= d;
  }
  int64_t total = node.inputType(0).getNumElements();
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return node.error("cannot infer the -1 in shape " + shapeText(spec) +
                        " from input " + shapeText(in));
    shape[inferred] = total / known;
  }
  return emitReshape(node, shape);
}

llvm::Error convertFlatten(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  int64_t axis = node.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    return node.error(
        llvm::formatv("axis {0} is out of range for rank {1}", axis, rank));
  if (axis < 0)
    axis += rank;
  int64_t outer = product(in.take_front(axis));
  int64_t inner = product(in.drop_front(axis));
  return emitReshape(node, {outer, inner});
}

/// Axes from the attribute (opset < `inputFrom`) or input 1.
llvm::Expected<std::optional<std::vector<int64_t>>>
axesOf(NodeContext &node, int64_t inputFrom) {
  if (node.opset < inputFrom) {
    if (!node.hasAttr("axes"))
      return std::nullopt;
    return node.attrInts("axes");
  }
  if (!node.hasInput(1))
    return std::nullopt;
  auto axes = node.constantInts(1, "axes");
  if (!axes)
    return axes.takeError();
  return *axes;
}

llvm::Error convertSqueeze(NodeContext &node) {
  auto axes = axesOf(node, 13);
  if (!axes)
    return axes.takeError();
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  SmallVector<bool> drop(rank, false);
  if (*axes) {
    for (int64_t a : **axes) {
      auto axis = node.normalizeAxis(a, rank);
      if (!axis)
        return axis.takeError();
      if (in[*axis] != 1)
        return node.error(llvm::formatv(
            "cannot squeeze axis {0} of size {1}", *axis, in[*axis]));
      drop[*axis] = true;
    }
  } else {
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = in[i] == 1;
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      shape.push_back(in[i]);
  return emitReshape(node, shape);
}

llvm::Error convertUnsqueeze(NodeContext &node) {
  auto axes = axesOf(node, 13);
  if (!axes)
    return axes.takeError();
  if (!*axes)
    return node.error("it has no axes");
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size() + (*axes)->size();
  SmallVector<bool> inserted(rank, false);
  for (int64_t a : **axes) {
    if (a < -rank || a >= rank)
      return node.error(llvm::formatv(
          "axis {0} is out of range for output rank {1}", a, rank));
    int64_t axis = a < 0 ? a + rank : a;
    if (inserted[axis])
      return node.error(llvm::formatv("axis {0} appears twice", axis));
    inserted[axis] = true;
  }
  SmallVector<int64_t> shape;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted[i] ? 1 : in[next++]);
  return emitReshape(node, shape);
}

//===----------------------------------------------------------------------===//
// Transpose, DepthToSpace, SpaceToDepth
//===----------------------------------------------------------------------===//

/// Transposes `input` by `perm` (folding a small constant input 0 when
/// `node` is given and the input is that node's input 0).
llvm::Error convertTranspose(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  std::vector<int64_t> perm = node.attrInts("perm");
  if (perm.empty())
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  if (int64_t(perm.size()) != rank)
    return node.error(llvm::formatv("perm has {0} entries for rank {1}",
                                    perm.size(), rank));
  SmallVector<bool> seen(rank, false);
  for (int64_t &p : perm) {
    if (p < 0)
      p += rank;
    if (p < 0 || p >= rank || seen[p])
      return node.error("perm is not a permutation");
    seen[p] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(in[p]);
  SmallVector<int64_t> inShape(in);
  if (foldMove(node, 0, shape, [&](ArrayRef<int64_t> coords) {
        SmallVector<int64_t> source(rank);
        for (int64_t i = 0; i < rank; ++i)
          source[perm[i]] = coords[i];
        return flatOf(source, inShape);
      }))
    return llvm::Error::success();
  node.setOutput(0, transpose(node.b, node.loc, node.input(0), perm));
  return llvm::Error::success();
}

/// reshape -> transpose -> reshape (DepthToSpace / SpaceToDepth).
void reshapeTransposeReshape(NodeContext &node, ArrayRef<int64_t> split,
                             ArrayRef<int64_t> perm,
                             ArrayRef<int64_t> result) {
  Value v = reshapeValue(node.b, node.loc, node.input(0), split);
  v = transpose(node.b, node.loc, v, perm);
  node.setOutput(0, reshapeValue(node.b, node.loc, v, result));
}

llvm::Error convertDepthToSpace(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t bs = node.attrInt("blocksize", 0);
  if (in.size() != 4)
    return node.error("its input must have rank 4, not " +
                      std::to_string(in.size()));
  if (bs <= 0 || in[1] % (bs * bs) != 0)
    return node.error(llvm::formatv(
        "blocksize {0} does not divide the {1} channels in blocksize^2", bs,
        in[1]));
  int64_t n = in[0], c = in[1] / (bs * bs), h = in[2], w = in[3];
  bool crd = node.attrString("mode", "DCR") == "CRD";
  if (crd)
    reshapeTransposeReshape(node, {n, c, bs, bs, h, w}, {0, 1, 4, 2, 5, 3},
                            {n, c, h * bs, w * bs});
  else
    reshapeTransposeReshape(node, {n, bs, bs, c, h, w}, {0, 3, 4, 1, 5, 2},
                            {n, c, h * bs, w * bs});
  return llvm::Error::success();
}

llvm::Error convertSpaceToDepth(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t bs = node.attrInt("blocksize", 0);
  if (in.size() != 4)
    return node.error("its input must have rank 4, not " +
                      std::to_string(in.size()));
  if (bs <= 0 || in[2] % bs != 0 || in[3] % bs != 0)
    return node.error(llvm::formatv(
        "blocksize {0} does not divide the spatial dims {1}x{2}", bs, in[2],
        in[3]));
  int64_t n = in[0], c = in[1], h = in[2] / bs, w = in[3] / bs;
  reshapeTransposeReshape(node, {n, c, h, bs, w, bs}, {0, 3, 5, 1, 2, 4},
                          {n, c * bs * bs, h, w});
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Concat, Split, Slice
//===----------------------------------------------------------------------===//

llvm::Error convertConcat(NodeContext &node) {
  SmallVector<size_t> inputs;
  for (size_t i = 0; i < node.numInputs(); ++i)
    if (node.hasInput(i))
      inputs.push_back(i);
  if (inputs.empty())
    return node.error("it has no inputs");
  int64_t rank = node.inputRank(inputs[0]);
  auto axisOr = node.normalizeAxis(node.attrInt("axis", 0), rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr;
  SmallVector<int64_t> shape(node.inputShape(inputs[0]));
  shape[axis] = 0;
  for (size_t i : inputs) {
    ArrayRef<int64_t> s = node.inputShape(i);
    for (int64_t d = 0; d < rank; ++d)
      if (int64_t(s.size()) != rank || (d != axis && s[d] != shape[d]))
        return node.error("input shapes " + shapeText(node.inputShape(0)) +
                          " and " + shapeText(s) + " do not concatenate");
    shape[axis] += s[axis];
  }
  Type element = node.inputElementType(inputs[0]);

  // Host fold: every input a small constant.
  if (product(shape) <= kFoldLimit) {
    SmallVector<Attribute> values;
    SmallVector<int64_t> starts; // per input: first element in `values`
    bool all = true;
    for (size_t i : inputs) {
      auto c = smallConstant(node, i);
      if (!c) {
        all = false;
        break;
      }
      starts.push_back(values.size());
      llvm::append_range(values, c->getValues<Attribute>());
    }
    if (all) {
      SmallVector<int64_t> offsets; // per input: first index along axis
      int64_t at = 0;
      for (size_t i : inputs) {
        offsets.push_back(at);
        at += node.inputShape(i)[axis];
      }
      node.setConstantOutput(
          0, moveOnHost(values, element, shape, [&](ArrayRef<int64_t> c) {
            size_t k = inputs.size() - 1;
            while (k > 0 && c[axis] < offsets[k])
              --k;
            // The last input starting at or before c (empty ones are skipped).
            SmallVector<int64_t> local(c);
            local[axis] -= offsets[k];
            return starts[k] + flatOf(local, node.inputShape(inputs[k]));
          }));
      return llvm::Error::success();
    }
  }

  Value result = emptyTensor(node.b, node.loc, shape, element);
  int64_t at = 0;
  for (size_t i : inputs) {
    ArrayRef<int64_t> s = node.inputShape(i);
    if (s[axis] == 0)
      continue;
    SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
    offsets[axis] = at;
    result = node.b.create<tensor::InsertSliceOp>(
        node.loc, node.input(i), result, foldResults(node.b, offsets),
        foldResults(node.b, s), foldResults(node.b, strides));
    at += s[axis];
  }
  node.setOutput(0, result);
  return llvm::Error::success();
}

llvm::Error convertSplit(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  auto axisOr = node.normalizeAxis(node.attrInt("axis", 0), rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr;
  std::vector<int64_t> sizes;
  if (node.opset < 13) {
    sizes = node.attrInts("split");
  } else if (node.hasInput(1)) {
    auto split = node.constantInts(1, "split");
    if (!split)
      return split.takeError();
    sizes = *split;
  }
  int64_t outputs = node.numOutputs();
  if (sizes.empty()) {
    if (outputs == 0 || in[axis] % outputs != 0)
      return node.error(llvm::formatv(
          "dim {0} of size {1} does not split into {2} equal parts", axis,
          in[axis], outputs));
    sizes.assign(outputs, in[axis] / outputs);
  }
  if (int64_t(sizes.size()) != outputs)
    return node.error(llvm::formatv("split has {0} sizes for {1} outputs",
                                    sizes.size(), outputs));
  int64_t total = 0;
  for (int64_t s : sizes)
    total += s;
  if (total != in[axis])
    return node.error(llvm::formatv(
        "split sizes add up to {0}, not dim {1}'s {2}", total, axis,
        in[axis]));
  SmallVector<int64_t> inShape(in);
  int64_t at = 0;
  for (int64_t k = 0; k < outputs; ++k) {
    SmallVector<int64_t> shape(in), offsets(rank, 0), strides(rank, 1);
    shape[axis] = sizes[k];
    offsets[axis] = at;
    at += sizes[k];
    if (!node.wantsOutput(k))
      continue;
    int64_t from = offsets[axis];
    if (foldMove(
            node, 0, shape,
            [&](ArrayRef<int64_t> c) {
              SmallVector<int64_t> source(c);
              source[axis] += from;
              return flatOf(source, inShape);
            },
            k))
      continue;
    node.setOutput(k, extractSlice(node.b, node.loc, node.input(0), offsets,
                                   shape, strides, shape));
  }
  return llvm::Error::success();
}

llvm::Error convertSlice(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (node.opset < 10) {
    starts = node.attrInts("starts");
    ends = node.attrInts("ends");
    axes = node.attrInts("axes");
  } else {
    auto s = node.constantInts(1, "starts");
    if (!s)
      return s.takeError();
    auto e = node.constantInts(2, "ends");
    if (!e)
      return e.takeError();
    starts = *s;
    ends = *e;
    if (node.hasInput(3)) {
      auto a = node.constantInts(3, "axes");
      if (!a)
        return a.takeError();
      axes = *a;
    }
    if (node.hasInput(4)) {
      auto st = node.constantInts(4, "steps");
      if (!st)
        return st.takeError();
      steps = *st;
    }
  }
  if (starts.size() != ends.size())
    return node.error("starts and ends differ in length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return node.error("starts, ends, axes and steps differ in length");

  SmallVector<int64_t> offsets(rank, 0), shape(in), strides(rank, 1);
  for (size_t k = 0; k < starts.size(); ++k) {
    auto axisOr = node.normalizeAxis(axes[k], rank);
    if (!axisOr)
      return axisOr.takeError();
    int64_t axis = *axisOr, dim = in[axis], step = steps[k];
    if (step == 0)
      return node.error("a step is 0");
    int64_t start = starts[k], end = ends[k];
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    offsets[axis] = count ? start : 0;
    shape[axis] = count;
    strides[axis] = step;
  }
  SmallVector<int64_t> inShape(in);
  auto sourceOf = [&](ArrayRef<int64_t> c) {
    SmallVector<int64_t> source(rank);
    for (int64_t d = 0; d < rank; ++d)
      source[d] = offsets[d] + strides[d] * c[d];
    return flatOf(source, inShape);
  };
  if (foldMove(node, 0, shape, sourceOf))
    return llvm::Error::success();
  bool positive = llvm::all_of(strides, [](int64_t s) { return s > 0; });
  if (positive) {
    node.setOutput(0, extractSlice(node.b, node.loc, node.input(0), offsets,
                                   shape, strides, shape));
    return llvm::Error::success();
  }
  // A negative step: read input[offset + stride * i] per result element.
  Value data = node.input(0);
  node.setOutput(
      0, indexedGeneric(
             node.b, node.loc, shape, node.inputElementType(0), {}, {},
             [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                 ValueRange) -> Value {
               SmallVector<Value> source;
               for (int64_t d = 0; d < rank; ++d) {
                 Value i = coords[d];
                 if (strides[d] != 1)
                   i = b.create<arith::MulIOp>(
                       loc, i, indexConstant(b, loc, strides[d]));
                 if (offsets[d] != 0)
                   i = b.create<arith::AddIOp>(
                       loc, i, indexConstant(b, loc, offsets[d]));
                 source.push_back(i);
               }
               return b.create<tensor::ExtractOp>(loc, data, source);
             }));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Gather, GatherElements
//===----------------------------------------------------------------------===//

llvm::Error convertGather(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  ArrayRef<int64_t> indicesShape = node.inputShape(1);
  int64_t rank = in.size(), q = indicesShape.size();
  if (rank == 0)
    return node.error("its data is a scalar");
  auto axisOr = node.normalizeAxis(node.attrInt("axis", 0), rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr, dim = in[axis];
  SmallVector<int64_t> shape(in.take_front(axis));
  llvm::append_range(shape, indicesShape);
  llvm::append_range(shape, in.drop_front(axis + 1));

  std::optional<std::vector<int64_t>> indices;
  if (auto c = node.constantInput(1)) {
    indices = intsOf(*c);
    for (int64_t &i : *indices) {
      if (i < -dim || i >= dim)
        return node.error(llvm::formatv(
            "index {0} is out of range for dim {1} of size {2}", i, axis,
            dim));
      if (i < 0)
        i += dim;
    }
    SmallVector<int64_t> inShape(in);
    if (foldMove(node, 0, shape, [&](ArrayRef<int64_t> c) {
          SmallVector<int64_t> source(c.take_front(axis));
          int64_t at = flatOf(c.slice(axis, q), indicesShape);
          source.push_back((*indices)[at]);
          llvm::append_range(source, c.drop_front(axis + q));
          return flatOf(source, inShape);
        }))
      return llvm::Error::success();
    // Indices in arithmetic progression: one (rank-reducing) extract_slice.
    size_t n = indices->size();
    int64_t step = n > 1 ? (*indices)[1] - (*indices)[0] : 1;
    bool progression = q <= 1 && n > 0 && step > 0;
    for (size_t k = 1; progression && k < n; ++k)
      progression = (*indices)[k] - (*indices)[k - 1] == step;
    if (progression) {
      SmallVector<int64_t> offsets(rank, 0), sizes(in), strides(rank, 1);
      offsets[axis] = (*indices)[0];
      sizes[axis] = n;
      strides[axis] = step;
      node.setOutput(0, extractSlice(node.b, node.loc, node.input(0), offsets,
                                     sizes, strides, shape));
      return llvm::Error::success();
    }
  }

  // Runtime (or scattered) indices: read data[..., idx, ...] per element.
  int64_t outRank = shape.size();
  MLIRContext *context = node.context();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < q; ++d)
    exprs.push_back(getAffineDimExpr(axis + d, context));
  AffineMap map = AffineMap::get(outRank, 0, exprs, context);
  Value data = node.input(0);
  node.setOutput(
      0, indexedGeneric(
             node.b, node.loc, shape, node.inputElementType(0),
             ValueRange{node.input(1)}, {map},
             [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                 ValueRange args) -> Value {
               SmallVector<Value> source(coords.take_front(axis));
               source.push_back(gatherIndex(b, loc, args[0], dim));
               llvm::append_range(source, coords.drop_front(axis + q));
               return b.create<tensor::ExtractOp>(loc, data, source);
             }));
  return llvm::Error::success();
}

llvm::Error convertGatherElements(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  ArrayRef<int64_t> shape = node.inputShape(1);
  int64_t rank = in.size();
  if (int64_t(shape.size()) != rank)
    return node.error("data and indices differ in rank");
  auto axisOr = node.normalizeAxis(node.attrInt("axis", 0), rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr, dim = in[axis];
  if (auto c = smallConstant(node, 1)) {
    std::vector<int64_t> indices = intsOf(*c);
    SmallVector<int64_t> inShape(in), outShape(shape);
    if (foldMove(node, 0, shape, [&](ArrayRef<int64_t> coords) {
          SmallVector<int64_t> source(coords);
          int64_t i = indices[flatOf(coords, outShape)];
          source[axis] = i < 0 ? i + dim : i;
          return flatOf(source, inShape);
        }))
      return llvm::Error::success();
  }
  Value data = node.input(0);
  node.setOutput(
      0, indexedGeneric(
             node.b, node.loc, shape, node.inputElementType(0),
             ValueRange{node.input(1)},
             {node.b.getMultiDimIdentityMap(rank)},
             [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                 ValueRange args) -> Value {
               SmallVector<Value> source(coords);
               source[axis] = gatherIndex(b, loc, args[0], dim);
               return b.create<tensor::ExtractOp>(loc, data, source);
             }));
  return llvm::Error::success();
}

/// GatherND: out[i..., j...] = data[i[:b]..., indices[i...][0..k)..., j...].
llvm::Error convertGatherND(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  ArrayRef<int64_t> indicesShape = node.inputShape(1);
  int64_t rank = in.size(), q = indicesShape.size();
  int64_t batch = node.attrInt("batch_dims", 0);
  if (q < 1)
    return node.error("its indices must have rank >= 1");
  int64_t k = indicesShape.back();
  if (batch < 0 || batch >= std::min(rank, q) || k < 1 || batch + k > rank)
    return node.error(llvm::formatv(
        "batch_dims {0} and index length {1} do not fit data rank {2}",
        batch, k, rank));
  for (int64_t d = 0; d < batch; ++d)
    if (in[d] != indicesShape[d])
      return node.error("data and indices differ in their batch dims");
  SmallVector<int64_t> shape(indicesShape.drop_back());
  llvm::append_range(shape, in.drop_front(batch + k));
  Value data = node.input(0), indices = node.input(1);
  node.setOutput(
      0, indexedGeneric(
             node.b, node.loc, shape, node.inputElementType(0), {}, {},
             [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                 ValueRange) -> Value {
               SmallVector<Value> source(coords.take_front(batch));
               SmallVector<Value> at(coords.take_front(q - 1));
               at.push_back(Value());
               for (int64_t c = 0; c < k; ++c) {
                 at.back() = indexConstant(b, loc, c);
                 Value i = b.create<tensor::ExtractOp>(loc, indices, at);
                 source.push_back(gatherIndex(b, loc, i, in[batch + c]));
               }
               llvm::append_range(source, coords.drop_front(q - 1));
               return b.create<tensor::ExtractOp>(loc, data, source);
             }));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Expand, Tile
//===----------------------------------------------------------------------===//

llvm::Error convertExpand(NodeContext &node) {
  auto target = node.constantInts(1, "shape");
  if (!target)
    return target.takeError();
  ArrayRef<int64_t> in = node.inputShape(0);
  SmallVector<SmallVector<int64_t>> shapes{SmallVector<int64_t>(in),
                                           SmallVector<int64_t>(target->begin(), target->end())};
  auto shape = broadcastShapes(shapes);
  if (!shape)
    return node.error("input " + shapeText(in) +
                      " does not broadcast to shape " + shapeText(*target));
  int64_t rank = shape->size(), offset = rank - int64_t(in.size());
  SmallVector<int64_t> inShape(in);
  if (foldMove(node, 0, *shape, [&](ArrayRef<int64_t> c) {
        SmallVector<int64_t> source;
        for (size_t d = 0; d < inShape.size(); ++d)
          source.push_back(inShape[d] == 1 ? 0 : c[offset + d]);
        return flatOf(source, inShape);
      }))
    return llvm::Error::success();
  auto result = elementwise(
      node.b, node.loc, ValueRange{node.input(0)}, node.inputElementType(0),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; },
      ArrayRef<int64_t>(*shape));
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  node.setOutput(0, *result);
  return llvm::Error::success();
}

llvm::Error convertTile(NodeContext &node) {
  auto repeats = node.constantInts(1, "repeats");
  if (!repeats)
    return repeats.takeError();
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  if (int64_t(repeats->size()) != rank)
    return node.error(llvm::formatv("repeats has {0} entries for rank {1}",
                                    repeats->size(), rank));
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if ((*repeats)[d] < 0)
      return node.error("a repeat count is negative");
    shape.push_back(in[d] * (*repeats)[d]);
  }
  SmallVector<int64_t> inShape(in);
  if (foldMove(node, 0, shape, [&](ArrayRef<int64_t> c) {
        SmallVector<int64_t> source;
        for (int64_t d = 0; d < rank; ++d)
          source.push_back(c[d] % inShape[d]);
        return flatOf(source, inShape);
      }))
    return llvm::Error::success();
  // [d0, d1] -> broadcast to [r0, d0, r1, d1] -> collapse to [r0*d0, r1*d1].
  SmallVector<int64_t> wide, added;
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < rank; ++d) {
    added.push_back(wide.size());
    groups.push_back({int64_t(wide.size()), int64_t(wide.size()) + 1});
    wide.push_back((*repeats)[d]);
    wide.push_back(in[d]);
  }
  Type element = node.inputElementType(0);
  Value init = emptyTensor(node.b, node.loc, wide, element);
  Value broadcast = node.b
                        .create<linalg::BroadcastOp>(node.loc, node.input(0),
                                                     init, added)
                        .getResult()[0];
  node.setOutput(0, node.b.create<tensor::CollapseShapeOp>(
                        node.loc, RankedTensorType::get(shape, element),
                        broadcast, groups));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Shape, Size, Constant, ConstantOfShape, Range
//===----------------------------------------------------------------------===//

llvm::Error convertShape(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  int64_t start = node.attrInt("start", 0);
  int64_t end = node.attrInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  SmallVector<int64_t> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(in[i]);
  node.setConstantOutput(0, intsAttr(node.b.getI64Type(),
                                     {int64_t(dims.size())}, dims));
  return llvm::Error::success();
}

llvm::Error convertSize(NodeContext &node) {
  node.setConstantOutput(
      0, intsAttr(node.b.getI64Type(), {},
                  {node.inputType(0).getNumElements()}));
  return llvm::Error::success();
}

llvm::Error convertConstant(NodeContext &node) {
  Type f32 = node.b.getF32Type(), i64 = node.b.getI64Type();
  if (const onnx::TensorProto *t = node.attrTensor("value")) {
    std::string name =
        node.numOutputs() ? node.node.output(0) : std::string("constant");
    auto data = decodeTensor(*t, node.baseDir(), name);
    if (!data)
      return node.error(llvm::toString(data.takeError()));
    auto attr = elementsAttrFor(node.context(), *data, name,
                                node.importer.resourceThreshold);
    if (!attr)
      return node.error(llvm::toString(attr.takeError()));
    if (node.wantsOutput(0))
      node.importer.defineConstant(node.node.output(0), *attr);
    return llvm::Error::success();
  }
  if (const onnx::AttributeProto *a = node.attr("value_float")) {
    node.setConstantOutput(0, doublesAttr(f32, {}, {double(a->f())}));
    return llvm::Error::success();
  }
  if (node.hasAttr("value_floats")) {
    std::vector<float> v = node.attrFloats("value_floats");
    SmallVector<double> d(v.begin(), v.end());
    node.setConstantOutput(0, doublesAttr(f32, {int64_t(d.size())}, d));
    return llvm::Error::success();
  }
  if (const onnx::AttributeProto *a = node.attr("value_int")) {
    node.setConstantOutput(0, intsAttr(i64, {}, {a->i()}));
    return llvm::Error::success();
  }
  if (node.hasAttr("value_ints")) {
    std::vector<int64_t> v = node.attrInts("value_ints");
    node.setConstantOutput(0, intsAttr(i64, {int64_t(v.size())}, v));
    return llvm::Error::success();
  }
  if (node.hasAttr("value_string") || node.hasAttr("value_strings"))
    return node.error("string constants are not supported");
  if (node.hasAttr("sparse_value"))
    return node.error("sparse constants are not supported");
  return node.error("it has no value attribute");
}

llvm::Error convertConstantOfShape(NodeContext &node) {
  auto shapeOr = node.constantInts(0, "shape");
  if (!shapeOr)
    return shapeOr.takeError();
  SmallVector<int64_t> shape(shapeOr->begin(), shapeOr->end());
  for (int64_t d : shape)
    if (d < 0)
      return node.error("its shape " + shapeText(shape) + " has a negative dim");
  Type element = node.b.getF32Type();
  double value = 0;
  if (const onnx::TensorProto *t = node.attrTensor("value")) {
    auto data = decodeTensor(*t, node.baseDir(), "value");
    if (!data)
      return node.error(llvm::toString(data.takeError()));
    auto attr = elementsAttrFor(node.context(), *data, "value", 1 << 20);
    if (!attr)
      return node.error(llvm::toString(attr.takeError()));
    auto dense = dyn_cast<DenseElementsAttr>(*attr);
    if (!dense || dense.getNumElements() != 1)
      return node.error("its value must hold one element");
    element = dense.getElementType();
    value = doublesOf(dense)[0];
    if (product(shape) <= kFoldLimit) {
      auto splat = DenseElementsAttr::get(
          RankedTensorType::get(shape, element),
          *dense.getValues<Attribute>().begin());
      node.setConstantOutput(0, splat);
      return llvm::Error::success();
    }
  } else if (product(shape) <= kFoldLimit) {
    node.setConstantOutput(0, doublesAttr(element, shape,
                                          SmallVector<double>(product(shape))));
    return llvm::Error::success();
  }
  node.setOutput(0, filledTensor(node.b, node.loc, shape, element, value));
  return llvm::Error::success();
}

llvm::Error convertRange(NodeContext &node) {
  Type element = node.inputElementType(0);
  const char *names[] = {"start", "limit", "delta"};
  double v[3];
  for (size_t i = 0; i < 3; ++i) {
    auto d = node.constantDoubles(i, names[i]);
    if (!d)
      return d.takeError();
    if (d->size() != 1)
      return node.error(llvm::formatv("its {0} must be a scalar", names[i]));
    v[i] = (*d)[0];
  }
  double start = v[0], limit = v[1], delta = v[2];
  if (delta == 0)
    return node.error("its delta is 0");
  int64_t count =
      std::max<int64_t>(int64_t(std::ceil((limit - start) / delta)), 0);
  if (count > (int64_t(1) << 24))
    return node.error(llvm::formatv("its {0} elements are too many", count));
  SmallVector<double> values;
  for (int64_t i = 0; i < count; ++i)
    values.push_back(start + double(i) * delta);
  node.setConstantOutput(0, doublesAttr(element, {count}, values));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Trilu, EyeLike, OneHot
//===----------------------------------------------------------------------===//

llvm::Error convertTrilu(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t rank = in.size();
  if (rank < 2)
    return node.error("its input must have rank >= 2");
  int64_t k = 0;
  if (node.hasInput(1)) {
    auto kv = node.constantInts(1, "k");
    if (!kv)
      return kv.takeError();
    if (kv->size() != 1)
      return node.error("its k must be a scalar");
    k = (*kv)[0];
  }
  bool upper = node.attrInt("upper", 1) != 0;
  Type element = node.inputElementType(0);
  node.setOutput(
      0, indexedGeneric(
             node.b, node.loc, in, element, ValueRange{node.input(0)},
             {node.b.getMultiDimIdentityMap(rank)},
             [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                 ValueRange args) -> Value {
               // Keep when j - i >= k (upper) or j - i <= k (lower).
               Value diff = b.create<arith::SubIOp>(loc, coords[rank - 1],
                                                    coords[rank - 2]);
               Value keep = b.create<arith::CmpIOp>(
                   loc,
                   upper ? arith::CmpIPredicate::sge
                         : arith::CmpIPredicate::sle,
                   diff, indexConstant(b, loc, k));
               return b.create<arith::SelectOp>(
                   loc, keep, args[0], scalarConstant(b, loc, element, 0));
             }));
  return llvm::Error::success();
}

llvm::Error convertEyeLike(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  if (shape.size() != 2)
    return node.error("its input must have rank 2");
  Type element = node.inputElementType(0);
  if (const onnx::AttributeProto *a = node.attr("dtype")) {
    element = elementTypeFor(node.context(), int(a->i()));
    if (!element)
      return node.error("dtype " + onnxTypeName(int(a->i())) +
                        " is not supported");
  }
  int64_t k = node.attrInt("k", 0);
  if (product(shape) <= kFoldLimit) {
    SmallVector<int64_t> values;
    for (int64_t i = 0; i < shape[0]; ++i)
      for (int64_t j = 0; j < shape[1]; ++j)
        values.push_back(j - i == k);
    node.setConstantOutput(0, intsAttr(element, shape, values));
    return llvm::Error::success();
  }
  node.setOutput(
      0, indexedGeneric(node.b, node.loc, shape, element, {}, {},
                        [&](OpBuilder &b, Location loc, ArrayRef<Value> c,
                            ValueRange) -> Value {
                          Value diff = b.create<arith::SubIOp>(loc, c[1], c[0]);
                          Value on = b.create<arith::CmpIOp>(
                              loc, arith::CmpIPredicate::eq, diff,
                              indexConstant(b, loc, k));
                          return convertScalar(b, loc, on, element);
                        }));
  return llvm::Error::success();
}

llvm::Error convertOneHot(NodeContext &node) {
  auto depthOr = node.constantDoubles(1, "depth");
  if (!depthOr)
    return depthOr.takeError();
  if (depthOr->size() != 1)
    return node.error("its depth must be a scalar");
  int64_t depth = int64_t((*depthOr)[0]);
  if (depth <= 0)
    return node.error("its depth must be positive");
  if (node.inputType(2).getNumElements() != 2)
    return node.error("its values must hold [off, on]");
  ArrayRef<int64_t> in = node.inputShape(0);
  int64_t outRank = in.size() + 1;
  int64_t axis = node.attrInt("axis", -1);
  if (axis < -outRank || axis >= outRank)
    return node.error(llvm::formatv(
        "axis {0} is out of range for output rank {1}", axis, outRank));
  if (axis < 0)
    axis += outRank;
  SmallVector<int64_t> shape(in.take_front(axis));
  shape.push_back(depth);
  llvm::append_range(shape, in.drop_front(axis));
  MLIRContext *context = node.context();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < outRank; ++d)
    if (d != axis)
      exprs.push_back(getAffineDimExpr(d, context));
  AffineMap map = AffineMap::get(outRank, 0, exprs, context);
  Value values = node.input(2);
  Type element = node.inputElementType(2);
  Type indexElement = node.inputElementType(0);
  node.setOutput(
      0, indexedGeneric(
             node.b, node.loc, shape, element, ValueRange{node.input(0)},
             {map},
             [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                 ValueRange args) -> Value {
               Value index = args[0];
               if (isa<FloatType>(indexElement))
                 index = convertScalar(b, loc, index, b.getI64Type());
               Value i = wrapIndex(b, loc, index, depth);
               Value hot = b.create<arith::CmpIOp>(
                   loc, arith::CmpIPredicate::eq, i, coords[axis]);
               Value off = b.create<tensor::ExtractOp>(
                   loc, values, ValueRange{indexConstant(b, loc, 0)});
               Value on = b.create<tensor::ExtractOp>(
                   loc, values, ValueRange{indexConstant(b, loc, 1)});
               return b.create<arith::SelectOp>(loc, hot, on, off);
             }));
  return llvm::Error::success();
}

} // namespace

void registerShapeOps(ConverterRegistry &r) {
  r["Reshape"] = {convertReshape};
  r["Flatten"] = {convertFlatten};
  r["Squeeze"] = {convertSqueeze};
  r["Unsqueeze"] = {convertUnsqueeze};
  r["Transpose"] = {convertTranspose};
  r["DepthToSpace"] = {convertDepthToSpace};
  r["SpaceToDepth"] = {convertSpaceToDepth};
  r["Concat"] = {convertConcat};
  r["Split"] = {convertSplit};
  r["Slice"] = {convertSlice};
  r["Gather"] = {convertGather};
  r["GatherElements"] = {convertGatherElements, 11};
  r["GatherND"] = {convertGatherND, 11};
  r["Expand"] = {convertExpand, 8};
  r["Tile"] = {convertTile, 6};
  r["Shape"] = {convertShape};
  r["Size"] = {convertSize};
  r["Constant"] = {convertConstant};
  r["ConstantOfShape"] = {convertConstantOfShape, 9};
  r["Range"] = {convertRange, 11};
  r["Trilu"] = {convertTrilu, 14};
  r["EyeLike"] = {convertEyeLike, 9};
  r["OneHot"] = {convertOneHot, 9};
}

} // namespace hatc::frontend
