//===- DeployTest.cpp - The deploy module's checks and names --------------===//
#include "hatc/Deploy/Deploy.h"
#include "hatc/Support/Error.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"

#include <gtest/gtest.h>

using namespace hatc;
using namespace hatc::deploy;

namespace {

/// A module with a function and a global of `constant`-ness, as lowering
/// leaves them (external linkage).
std::unique_ptr<llvm::Module> moduleWithGlobal(llvm::LLVMContext &ctx,
                                               bool constant) {
  auto module = std::make_unique<llvm::Module>("m", ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  new llvm::GlobalVariable(*module, i32, constant,
                           llvm::GlobalValue::ExternalLinkage,
                           llvm::ConstantInt::get(i32, 7), "weights");
  auto *fn = llvm::Function::Create(llvm::FunctionType::get(i32, false),
                                    llvm::GlobalValue::ExternalLinkage,
                                    "hatc_entry", *module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", fn));
  builder.CreateRet(builder.getInt32(0));
  llvm::Function::Create(llvm::FunctionType::get(i32, false),
                         llvm::GlobalValue::ExternalLinkage, "memrefCopy",
                         *module);
  return module;
}

TEST(Deploy, InternalizesEverythingDefined) {
  llvm::LLVMContext ctx;
  auto module = moduleWithGlobal(ctx, /*constant=*/true);
  ASSERT_FALSE(errorMessage(internalizeModelCode(*module, "m.onnx")).size());
  EXPECT_TRUE(module->getNamedGlobal("weights")->hasInternalLinkage());
  EXPECT_TRUE(module->getFunction("hatc_entry")->hasInternalLinkage());
  // A declaration stays external: something else defines it.
  EXPECT_TRUE(module->getFunction("memrefCopy")->hasExternalLinkage());
}

TEST(Deploy, KeepsConstructorTables) {
  // llvm.global_ctors (a module asking for the AMX tile state on load) is
  // mutable and appending: it is neither refused nor internalized.
  llvm::LLVMContext ctx;
  auto module = moduleWithGlobal(ctx, /*constant=*/true);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *entry = llvm::StructType::get(i32, ptr, ptr);
  auto *ctor = module->getFunction("hatc_entry");
  auto *table = llvm::ConstantArray::get(
      llvm::ArrayType::get(entry, 1),
      {llvm::ConstantStruct::get(entry, {llvm::ConstantInt::get(i32, 0), ctor,
                                         llvm::ConstantPointerNull::get(ptr)})});
  new llvm::GlobalVariable(*module, table->getType(), false,
                           llvm::GlobalValue::AppendingLinkage, table,
                           "llvm.global_ctors");
  ASSERT_EQ(errorMessage(internalizeModelCode(*module, "m.onnx")), "");
  EXPECT_TRUE(
      module->getNamedGlobal("llvm.global_ctors")->hasAppendingLinkage());
}

TEST(Deploy, RefusesMutableGlobals) {
  llvm::LLVMContext ctx;
  auto module = moduleWithGlobal(ctx, /*constant=*/false);
  EXPECT_EQ(errorMessage(internalizeModelCode(*module, "m.onnx")),
            "m.onnx: the compiled code keeps mutable global @weights; runs "
            "on several threads at once would share it");
}

TEST(Deploy, ModelNames) {
  EXPECT_EQ(identifierFromStem("mobilenet-v2.1"), "mobilenet_v2_1");
  EXPECT_EQ(identifierFromStem("3d_unet"), "model_3d_unet");
  EXPECT_EQ(identifierFromStem(""), "model_");
  EXPECT_TRUE(isValidModelName(identifierFromStem("a b")));
  EXPECT_TRUE(isValidModelName("bert_layer"));
  EXPECT_FALSE(isValidModelName("9lives"));
  EXPECT_FALSE(isValidModelName("a-b"));
  EXPECT_FALSE(isValidModelName(""));
  EXPECT_FALSE(isValidModelName(std::string(65, 'a')));
}

} // namespace
