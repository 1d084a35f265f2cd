//===- ScriptBuilder.cpp - Transform scripts built as IR ------------------===//
#include "hatc/Lowering/ScriptBuilder.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Lowering/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/TransformOps/SCFTransformOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformTypes.h"
#include "mlir/Dialect/Transform/LoopExtension/LoopExtensionOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace hatc {

static std::unique_ptr<MLIRContext> scriptContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry,
                                               MLIRContext::Threading::DISABLED);
  // The transform dialect brings its extensions' ops; the others own the
  // attributes and types scripts mention (mappings, memory spaces, vector
  // lowering strategies).
  context->loadDialect<transform::TransformDialect, linalg::LinalgDialect,
                       scf::SCFDialect, vector::VectorDialect,
                       gpu::GPUDialect, bufferization::BufferizationDialect,
                       tensor::TensorDialect, func::FuncDialect,
                       arith::ArithDialect, memref::MemRefDialect>();
  return context;
}

ScriptBuilder::ScriptBuilder(std::string comment, Root root)
    : context_(scriptContext()), b(context_.get()),
      location(UnknownLoc::get(context_.get())), comment(std::move(comment)) {
  module = ModuleOp::create(location);
  (*module)->setAttr(transform::TransformDialect::kWithNamedSequenceAttrName,
                     b.getUnitAttr());
  b.setInsertionPointToEnd(module->getBody());
  Type any = anyOp();
  auto sequence = b.create<transform::NamedSequenceOp>(
      location, transform::TransformDialect::kTransformEntryPointSymbolName,
      any, TypeRange(), [](OpBuilder &, Location, BlockArgument) {});
  sequence.setArgAttr(
      0,
      root == Root::ReadOnly ? transform::TransformDialect::kArgReadOnlyAttrName
                             : transform::TransformDialect::kArgConsumedAttrName,
      b.getUnitAttr());
  Block &body = sequence.getBody().front();
  rootHandle = body.getArgument(0);
  // The body builder above left the block empty: ops go in before the
  // terminator finish() adds.
  b.setInsertionPointToEnd(&body);
}

ScriptBuilder::~ScriptBuilder() = default;

Type ScriptBuilder::anyOp() { return transform::AnyOpType::get(context()); }

Value ScriptBuilder::match(ArrayRef<StringRef> opNames, Value in) {
  return b.create<transform::MatchOp>(location, in ? in : rootHandle, opNames)
      .getResult();
}

Value ScriptBuilder::matchIndexed(StringRef opName, int64_t index) {
  return matchAttr(opName, kOpIndexAttr, index);
}

Value ScriptBuilder::matchAttr(StringRef opName, StringRef attrName,
                               int64_t value) {
  MLIRContext *context = b.getContext();
  auto attrs = DictionaryAttr::get(
      context, {NamedAttribute(StringAttr::get(context, attrName),
                               b.getI64IntegerAttr(value))});
  return b
      .create<transform::MatchOp>(location, anyOp(), rootHandle,
                                  b.getStrArrayAttr({opName}),
                                  transform::MatchInterfaceEnumAttr(), attrs,
                                  TypeAttr(), ArrayAttr())
      .getResult();
}

Value ScriptBuilder::func() {
  if (!funcHandle)
    funcHandle = match({func::FuncOp::getOperationName()});
  return funcHandle;
}

std::pair<Value, Value>
ScriptBuilder::tileForallThreads(Value op, ArrayRef<int64_t> numThreads,
                                 ArrayAttr mapping) {
  auto tile = b.create<transform::TileUsingForallOp>(
      location, op, numThreads, transform::NumThreadsSpec(), mapping);
  return {tile.getTiledOp(), tile.getForallOp()};
}

std::pair<Value, Value>
ScriptBuilder::tileForallSizes(Value op, ArrayRef<int64_t> sizes,
                               ArrayAttr mapping) {
  auto tile = b.create<transform::TileUsingForallOp>(
      location, op, sizes, transform::TileSizesSpec(), mapping);
  return {tile.getTiledOp(), tile.getForallOp()};
}

std::pair<Value, SmallVector<Value>>
ScriptBuilder::tileFor(Value op, ArrayRef<int64_t> sizes,
                       ArrayRef<int64_t> interchange) {
  auto tile =
      b.create<transform::TileUsingForOp>(location, op, sizes, interchange);
  // The builder always sets the interchange; without one, say nothing
  // rather than print `interchange = []`.
  if (interchange.empty())
    tile->removeAttr(tile.getInterchangeAttrName());
  return {tile.getTiledLinalgOp(), SmallVector<Value>(tile.getLoops())};
}

std::pair<Value, Value> ScriptBuilder::fuseInto(Value producer,
                                                Value containing) {
  auto fuse =
      b.create<transform::FuseIntoContainingOp>(location, producer, containing);
  return {fuse.getFusedOp(), fuse.getNewContainingOp()};
}

Value ScriptBuilder::producerOf(Value op, int64_t operand) {
  return b.create<transform::GetProducerOfOperand>(location, anyOp(), op,
                                                   operand);
}

Value ScriptBuilder::consumersOf(Value op, int64_t result) {
  return b.create<transform::GetConsumersOfResult>(location, anyOp(), op,
                                                   result);
}

void ScriptBuilder::vectorize(Value op, bool vectorizeNdExtract) {
  b.create<transform::VectorizeOp>(
      location, op, ValueRange(), ArrayRef<int64_t>(),
      vectorizeNdExtract ? b.getUnitAttr() : UnitAttr());
}

void ScriptBuilder::applyPatterns(
    Value target, function_ref<void(OpBuilder &, Location)> patterns) {
  b.create<transform::ApplyPatternsOp>(location, target, patterns);
}

void ScriptBuilder::cleanup(Value target) {
  applyPatterns(target, [](OpBuilder &b, Location loc) {
    b.create<transform::ApplyCanonicalizationPatternsOp>(loc);
  });
  b.create<transform::ApplyCommonSubexpressionEliminationOp>(location, target);
}

void ScriptBuilder::prepareContractions(Value target) {
  applyPatterns(target, [](OpBuilder &b, Location loc) {
    b.create<transform::ApplyVectorReductionToContractPatternsOp>(loc);
    b.create<transform::ApplyTransferPermutationPatternsOp>(loc);
    b.create<transform::ApplyCastAwayVectorLeadingOneDimPatternsOp>(loc);
    b.create<transform::ApplyCanonicalizationPatternsOp>(loc);
  });
}

void ScriptBuilder::contractionsToFma(Value target) {
  prepareContractions(target);
  applyPatterns(target, [](OpBuilder &b, Location loc) {
    b.create<transform::ApplyLowerContractionPatternsOp>(
        loc, vector::VectorContractLowering::OuterProduct);
    b.create<transform::ApplyLowerOuterProductPatternsOp>(loc);
    b.create<transform::ApplyCanonicalizationPatternsOp>(loc);
  });
}

void ScriptBuilder::hoistLoopInvariantSubsets(Value loop) {
  b.create<transform::HoistLoopInvariantSubsetsOp>(location, loop);
}

void ScriptBuilder::unroll(Value loop, int64_t factor) {
  b.create<transform::LoopUnrollOp>(location, loop, uint64_t(factor));
}

void ScriptBuilder::annotate(Value op, StringRef name, Value param) {
  b.create<transform::AnnotateOp>(location, op, name, param);
}

std::string ScriptBuilder::finish() {
  b.create<transform::YieldOp>(location);
  if (failed(verify(*module))) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os, OpPrintingFlags().printGenericOpForm());
    llvm::report_fatal_error(llvm::Twine("internal error: a transform script "
                                         "does not verify:\n") +
                             text);
  }
  std::string text = "// " + comment + "\n";
  llvm::raw_string_ostream os(text);
  module->print(os);
  os.flush();
  return text;
}

ArrayAttr gpuBlockMappingYX(MLIRContext *context) {
  return ArrayAttr::get(
      context, {gpu::GPUBlockMappingAttr::get(context, gpu::MappingId::DimY),
                gpu::GPUBlockMappingAttr::get(context, gpu::MappingId::DimX)});
}

ArrayAttr gpuThreadMappingYX(MLIRContext *context) {
  return ArrayAttr::get(
      context,
      {gpu::GPUThreadMappingAttr::get(context, gpu::MappingId::DimY),
       gpu::GPUThreadMappingAttr::get(context, gpu::MappingId::DimX)});
}

} // namespace hatc
