//===- Deploy.cpp - A model's code + its C API -> libMODEL.so + MODEL.h --===//
//
//   workload --schedule, lower (compileToLLVMModule)--> llvm::Module
//     + hatc_deploy_model table, MODEL_* forwards (IRBuilder), model code
//       internalized --O3, object--> cc -shared with libhatc_deploy_rt.a
//       (+ libhatc_deploy_hwacc_rt.a), libomp, MLIR's C runner utils
//   + MODEL.h, written from the same list of API functions
//
//===----------------------------------------------------------------------===//
#include "hatc/Config.h"
#include "hatc/Deploy/Deploy.h"
#include "hatc/Deploy/DeployAbi.h"
#include "hatc/Lowering/CodeGen.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Version.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace hatc::deploy {

std::string identifierFromStem(llvm::StringRef stem) {
  std::string name;
  for (char c : stem)
    name += llvm::isAlnum(c) || c == '_' ? c : '_';
  if (name.empty() || llvm::isDigit(name[0]))
    name = "model_" + name;
  return name;
}

bool isValidModelName(llvm::StringRef name) {
  if (name.empty() || name.size() > 64 || llvm::isDigit(name[0]))
    return false;
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

namespace {

/// One graph input or output as the C API describes it.
struct TensorInfo {
  std::string name;
  TensorSpec spec;
};

/// ONNX TensorProto.DataType of an element kind: the numbers MODEL.h's
/// MODEL_dtype uses, so callers that read ONNX files need no table.
struct DtypeInfo {
  ElemKind kind;
  int code;
  const char *name; // MODEL_<name>
};
constexpr DtypeInfo kDtypes[] = {
    {ElemKind::F32, 1, "FLOAT32"},    {ElemKind::U8, 2, "UINT8"},
    {ElemKind::I8, 3, "INT8"},        {ElemKind::U16, 4, "UINT16"},
    {ElemKind::I16, 5, "INT16"},      {ElemKind::I32, 6, "INT32"},
    {ElemKind::I64, 7, "INT64"},      {ElemKind::Bool, 9, "BOOL"},
    {ElemKind::F16, 10, "FLOAT16"},   {ElemKind::F64, 11, "FLOAT64"},
    {ElemKind::U32, 12, "UINT32"},    {ElemKind::U64, 13, "UINT64"},
    {ElemKind::BF16, 16, "BFLOAT16"},
};

const DtypeInfo &dtypeOf(ElemKind kind) {
  for (const DtypeInfo &info : kDtypes)
    if (info.kind == kind)
      return info;
  llvm_unreachable("every ElemKind has an ONNX data type");
}

/// The names and specs of the entry's arguments and results; ONNX models
/// carry their graph names (onnx.name), other workloads get input0, ...
void collectTensors(Workload &workload, std::vector<TensorInfo> &inputs,
                    std::vector<TensorInfo> &outputs) {
  mlir::func::FuncOp entry = workload.entry();
  for (auto [i, spec] : llvm::enumerate(workload.inputs)) {
    auto name = entry.getArgAttrOfType<mlir::StringAttr>(i, "onnx.name");
    inputs.push_back({name ? name.str() : "input" + std::to_string(i), spec});
  }
  for (auto [i, spec] : llvm::enumerate(workload.outputs)) {
    auto name = entry.getResultAttrOfType<mlir::StringAttr>(i, "onnx.name");
    outputs.push_back({name ? name.str() : "output" + std::to_string(i), spec});
  }
}

// --- The C API: one list for the header and the forwards --------------------

enum class Abi { Void, I32, I64, Ptr };

struct Param {
  const char *cType; // '$' stands for the model name
  const char *name;
  Abi abi;
};

/// MODEL_<suffix>(params) { return hatc_deploy_<target>(&table, [which,]
/// params); }
struct ApiFunction {
  const char *suffix;
  const char *target;
  int which; // -1: no `which` argument; 0: inputs; 1: outputs
  Param result;
  std::vector<Param> params;
  const char *doc;
};

const std::vector<ApiFunction> &apiFunctions() {
  // One function a few lines, in the header's order.
  // clang-format off
  static const std::vector<ApiFunction> functions = {
      {"create", "create", -1, {"$_context *", "", Abi::Ptr},
       {{"int", "num_threads", Abi::I32}},
       "A context to run the model with. num_threads: the OpenMP threads of\n"
       " * its runs (0: OpenMP's default, OMP_NUM_THREADS or one per core).\n"
       " * NULL when num_threads < 0 or out of memory (the reason on stderr)."},
      {"destroy", "destroy", -1, {"void", "", Abi::Void},
       {{"$_context *", "ctx", Abi::Ptr}},
       "Frees a context (NULL is ignored)."},
      {"run", "run", -1, {"int", "", Abi::I32},
       {{"$_context *", "ctx", Abi::Ptr},
        {"const void *const *", "inputs", Abi::Ptr},
        {"void *const *", "outputs", Abi::Ptr}},
       "Runs the model: inputs[i] points at input i and outputs[i] at room\n"
       " * for output i, dense and row-major, $_input_bytes(i) and\n"
       " * $_output_bytes(i) bytes, owned by the caller; outputs must not\n"
       " * overlap inputs. Returns 0, or -1 with the reason in\n"
       " * $_last_error(ctx)."},
      {"last_error", "last_error", -1, {"const char *", "", Abi::Ptr},
       {{"const $_context *", "ctx", Abi::Ptr}},
       "Why the last run on ctx failed; \"\" after a run that worked."},
      {"num_inputs", "count", 0, {"int", "", Abi::I32}, {}, ""},
      {"num_outputs", "count", 1, {"int", "", Abi::I32}, {}, ""},
      {"input_name", "name", 0, {"const char *", "", Abi::Ptr},
       {{"int", "i", Abi::I32}},
       "Input and output i: its graph name, rank, shape (rank entries; NULL\n"
       " * for rank 0), element type and size in bytes. An index out of range\n"
       " * gives NULL, -1, NULL, 0 and 0."},
      {"input_rank", "rank", 0, {"int", "", Abi::I32},
       {{"int", "i", Abi::I32}}, ""},
      {"input_shape", "shape", 0, {"const int64_t *", "", Abi::Ptr},
       {{"int", "i", Abi::I32}}, ""},
      {"input_type", "dtype", 0, {"$_dtype", "", Abi::I32},
       {{"int", "i", Abi::I32}}, ""},
      {"input_bytes", "bytes", 0, {"size_t", "", Abi::I64},
       {{"int", "i", Abi::I32}}, ""},
      {"output_name", "name", 1, {"const char *", "", Abi::Ptr},
       {{"int", "i", Abi::I32}}, ""},
      {"output_rank", "rank", 1, {"int", "", Abi::I32},
       {{"int", "i", Abi::I32}}, ""},
      {"output_shape", "shape", 1, {"const int64_t *", "", Abi::Ptr},
       {{"int", "i", Abi::I32}}, ""},
      {"output_type", "dtype", 1, {"$_dtype", "", Abi::I32},
       {{"int", "i", Abi::I32}}, ""},
      {"output_bytes", "bytes", 1, {"size_t", "", Abi::I64},
       {{"int", "i", Abi::I32}}, ""},
  };
  // clang-format on
  return functions;
}

std::string withName(llvm::StringRef text, llvm::StringRef name) {
  std::string out;
  for (char c : text)
    if (c == '$')
      out += name.str();
    else
      out += c;
  return out;
}

llvm::Type *abiType(llvm::LLVMContext &ctx, Abi abi) {
  switch (abi) {
  case Abi::Void:
    return llvm::Type::getVoidTy(ctx);
  case Abi::I32:
    return llvm::Type::getInt32Ty(ctx);
  case Abi::I64:
    return llvm::Type::getInt64Ty(ctx);
  case Abi::Ptr:
    return llvm::PointerType::getUnqual(ctx);
  }
  llvm_unreachable("every Abi kind has a type");
}

// --- The table ---------------------------------------------------------------

llvm::GlobalVariable *privateConstant(llvm::Module &module,
                                      llvm::Constant *value,
                                      const llvm::Twine &name) {
  auto *global =
      new llvm::GlobalVariable(module, value->getType(), /*isConstant=*/true,
                               llvm::GlobalValue::PrivateLinkage, value, name);
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return global;
}

llvm::Constant *tensorTable(llvm::Module &module,
                            const std::vector<TensorInfo> &tensors,
                            llvm::StringRef prefix) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  // hatc_deploy_tensor: {name, rank, dtype, elem_bytes, reserved, shape}
  auto *tensorTy =
      llvm::StructType::get(ctx, {ptrTy, i32, i32, i32, i32, ptrTy});
  if (tensors.empty())
    return llvm::ConstantPointerNull::get(ptrTy);
  std::vector<llvm::Constant *> rows;
  for (auto [i, tensor] : llvm::enumerate(tensors)) {
    llvm::Constant *name = privateConstant(
        module, llvm::ConstantDataArray::getString(ctx, tensor.name),
        prefix + ".name" + llvm::Twine(i));
    llvm::Constant *shape = llvm::ConstantPointerNull::get(ptrTy);
    if (!tensor.spec.shape.empty())
      shape = privateConstant(
          module,
          llvm::ConstantDataArray::get(
              ctx, llvm::ArrayRef<uint64_t>(reinterpret_cast<const uint64_t *>(
                                                tensor.spec.shape.data()),
                                            tensor.spec.shape.size())),
          prefix + ".shape" + llvm::Twine(i));
    rows.push_back(llvm::ConstantStruct::get(
        tensorTy, {name, llvm::ConstantInt::get(i32, tensor.spec.shape.size()),
                   llvm::ConstantInt::get(i32, dtypeOf(tensor.spec.kind).code),
                   llvm::ConstantInt::get(i32, elemKindBytes(tensor.spec.kind)),
                   llvm::ConstantInt::get(i32, 0), shape}));
  }
  return privateConstant(module,
                         llvm::ConstantArray::get(
                             llvm::ArrayType::get(tensorTy, rows.size()), rows),
                         prefix);
}

/// The hatc_deploy_model table (DeployAbi.h) of this model.
llvm::GlobalVariable *modelTable(llvm::Module &module, llvm::StringRef name,
                                 const std::vector<TensorInfo> &inputs,
                                 const std::vector<TensorInfo> &outputs,
                                 const LoweringTarget &lowering) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Constant *device = llvm::ConstantPointerNull::get(ptrTy);
  llvm::Constant *deviceParams = llvm::ConstantPointerNull::get(ptrTy);
  if (lowering.kind == TargetKind::Hwacc) {
    // The device the code was compiled for (array size, memories): the one
    // each context makes.
    const HwaccParams &p = lowering.hwacc.params;
    std::vector<double> params = {double(p.dim),
                                  double(p.scratchpadBytes),
                                  double(p.accumulatorBytes),
                                  p.dmaBytesPerCycle,
                                  double(p.dmaLatencyCycles),
                                  p.clockGHz};
    static_assert(HATC_DEPLOY_HWACC_NUM_PARAMS == 6, "one value per param");
    deviceParams =
        privateConstant(module, llvm::ConstantDataArray::get(ctx, params),
                        "hatc_deploy.device_params");
    auto *ops = new llvm::GlobalVariable(
        module, llvm::StructType::get(ctx, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy}),
        /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage, nullptr,
        "hatc_deploy_hwacc_device");
    device = ops;
  }
  llvm::Function *entry = module.getFunction(kPackedEntrySymbol);
  auto *modelTy = llvm::StructType::get(
      ctx, {i32, i32, i32, i32, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy});
  llvm::Constant *fields[] = {
      llvm::ConstantInt::get(i32, HATC_DEPLOY_ABI_VERSION),
      llvm::ConstantInt::get(i32, inputs.size()),
      llvm::ConstantInt::get(i32, outputs.size()),
      llvm::ConstantInt::get(i32, 0),
      privateConstant(module, llvm::ConstantDataArray::getString(ctx, name),
                      "hatc_deploy.model_name"),
      tensorTable(module, inputs, "hatc_deploy.inputs"),
      tensorTable(module, outputs, "hatc_deploy.outputs"),
      entry,
      device,
      deviceParams};
  return privateConstant(module, llvm::ConstantStruct::get(modelTy, fields),
                         "hatc_deploy.model");
}

/// MODEL_<suffix> for every API function, each forwarding to the runtime
/// with the table.
void addApiFunctions(llvm::Module &module, llvm::StringRef name,
                     llvm::GlobalVariable *table) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  for (const ApiFunction &api : apiFunctions()) {
    llvm::SmallVector<llvm::Type *> params, targetParams = {ptrTy};
    if (api.which >= 0)
      targetParams.push_back(i32);
    for (const Param &param : api.params) {
      params.push_back(abiType(ctx, param.abi));
      targetParams.push_back(abiType(ctx, param.abi));
    }
    llvm::Type *result = abiType(ctx, api.result.abi);
    llvm::FunctionCallee target = module.getOrInsertFunction(
        (llvm::Twine("hatc_deploy_") + api.target).str(),
        llvm::FunctionType::get(result, targetParams, false));
    auto *fn = llvm::Function::Create(
        llvm::FunctionType::get(result, params, false),
        llvm::GlobalValue::ExternalLinkage, name + "_" + api.suffix, module);
    llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", fn));
    llvm::SmallVector<llvm::Value *> args = {table};
    if (api.which >= 0)
      args.push_back(builder.getInt32(api.which));
    for (llvm::Argument &arg : fn->args())
      args.push_back(&arg);
    llvm::CallInst *call = builder.CreateCall(target, args);
    if (result->isVoidTy())
      builder.CreateRetVoid();
    else
      builder.CreateRet(call);
  }
}

// --- Files -------------------------------------------------------------------

/// Writes `text` to `path` through a temporary file in the same folder and a
/// rename, so a failed write never leaves half a file under the real name.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef text) {
  std::string temp = (path + ".tmp").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(temp, ec);
    if (ec)
      return makeError(temp + ": cannot write: " + ec.message());
    os << text;
    os.close();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return makeError(temp + ": cannot write: " + message);
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return makeError(path + ": cannot write: " + ec.message());
  }
  return llvm::Error::success();
}

std::string shapeText(const TensorSpec &spec) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(spec.shape))
    text += (i ? ", " : "") + std::to_string(dim);
  return text + "]";
}

std::string headerText(llvm::StringRef name, const DeployOptions &options,
                       const LoweringTarget &lowering,
                       const std::vector<TensorInfo> &inputs,
                       const std::vector<TensorInfo> &outputs) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string guard = llvm::StringRef(name).upper() + "_H";
  os << "/* " << name << ".h - the C API of lib" << name << ".so\n"
     << " *\n"
     << " * Generated by " << compilerVersion() << " from " << options.source
     << " for --target " << targetKindName(lowering.kind) << ".\n"
     << " * Build a program with: cc app.c -I DIR -L DIR -l" << name
     << " -Wl,-rpath,DIR\n"
     << " *\n"
     << " * Threads: a context is used by one thread at a time; threads that "
        "run\n"
     << " * the model at once each create their own (the model's code keeps "
        "no\n"
     << " * mutable global state"
     << (lowering.kind == TargetKind::Hwacc
             ? "; each context owns its hwacc device model"
             : "")
     << ").\n"
     << " *\n"
     << " * Memory: a run mallocs its temporaries and frees them at its end;\n"
     << " * " << name << "_create sets glibc's mmap threshold to 32 MiB and\n"
     << " * its trim threshold to 256 MiB (mallopt) so that they are reused\n"
     << " * from the heap instead of faulted in again on every run.\n"
     << " *\n";
  for (auto [label, tensors] :
       {std::pair{"input", &inputs}, std::pair{"output", &outputs}})
    for (auto [i, tensor] : llvm::enumerate(*tensors))
      os << " * " << label << " " << i << ": \"" << tensor.name << "\" "
         << elemKindName(tensor.spec.kind) << " " << shapeText(tensor.spec)
         << "\n";
  os << " */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stddef.h>\n#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "#define " << name << "_NUM_INPUTS " << inputs.size() << "\n"
     << "#define " << name << "_NUM_OUTPUTS " << outputs.size() << "\n\n"
     << "/* Element types: the values of ONNX's TensorProto.DataType. */\n"
     << "typedef enum {\n";
  for (const DtypeInfo &dtype : kDtypes)
    os << "  " << name << "_" << dtype.name << " = " << dtype.code << ",\n";
  os << "} " << name << "_dtype;\n\n"
     << "typedef struct hatc_deploy_context " << name << "_context;\n\n";
  for (const ApiFunction &api : apiFunctions()) {
    if (*api.doc)
      os << "/* " << withName(api.doc, name) << " */\n";
    os << withName(api.result.cType, name);
    if (!llvm::StringRef(api.result.cType).ends_with("*"))
      os << " ";
    os << name << "_" << api.suffix << "(";
    if (api.params.empty())
      os << "void";
    for (auto [i, param] : llvm::enumerate(api.params)) {
      std::string type = withName(param.cType, name);
      os << (i ? ", " : "") << type
         << (llvm::StringRef(type).ends_with("*") ? "" : " ") << param.name;
    }
    os << ");\n";
  }
  os << "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return text;
}

} // namespace

llvm::Error internalizeModelCode(llvm::Module &module, llvm::StringRef what) {
  for (llvm::GlobalVariable &global : module.globals()) {
    // LLVM's own tables (llvm.global_ctors: the AMX tile-state request)
    // keep their appending linkage; the linker merges them.
    if (global.isDeclaration() || global.getName().starts_with("llvm."))
      continue;
    if (!global.isConstant())
      return makeError(what + ": the compiled code keeps mutable global @" +
                       global.getName() +
                       "; runs on several threads at once would share it");
    global.setLinkage(llvm::GlobalValue::InternalLinkage);
  }
  for (llvm::Function &fn : module)
    if (!fn.isDeclaration())
      fn.setLinkage(llvm::GlobalValue::InternalLinkage);
  return llvm::Error::success();
}

llvm::Expected<DeployResult> deployModel(Workload &workload,
                                         mlir::ModuleOp schedule,
                                         const LoweringTarget &lowering,
                                         const DeployOptions &options) {
  if (lowering.kind != TargetKind::Cpu && lowering.kind != TargetKind::Hwacc)
    return makeError("--emit lib builds for --target cpu or hwacc, not " +
                     llvm::Twine(targetKindName(lowering.kind)));
  if (!isValidModelName(options.name))
    return makeError("'" + options.name +
                     "' cannot name a model's C API (a C identifier of at most "
                     "64 characters; give --name)");
  const std::string &out = options.outDir;
  if (out.empty())
    return makeError("--emit lib: the output folder's path is empty (give "
                     "-o DIR/)");
  // A build that fails leaves no new, empty output folder behind.
  bool created = !llvm::sys::fs::exists(out);
  bool written = false;
  auto removeNewFolder = llvm::make_scope_exit([&] {
    if (created && !written)
      llvm::sys::fs::remove(out); // only while empty
  });
  if (std::error_code ec = llvm::sys::fs::create_directories(out))
    return makeError(out +
                     ": cannot create the output folder: " + ec.message());
  if (!llvm::sys::fs::is_directory(out))
    return makeError(out + ": is a file, not a folder; --emit lib writes a "
                           "folder (give -o DIR/)");
  if (::access(out.c_str(), W_OK) != 0)
    return makeError(out + ": cannot write into the output folder: " +
                     std::strerror(errno));

  std::vector<TensorInfo> inputs, outputs;
  collectTensors(workload, inputs, outputs);

  llvm::LLVMContext llvmContext;
  auto module = compileToLLVMModule(workload, schedule, lowering,
                                    llvmContext);
  if (!module)
    return module.takeError();
  if (llvm::Error err = internalizeModelCode(**module, workload.path))
    return std::move(err);
  llvm::GlobalVariable *table =
      modelTable(**module, options.name, inputs, outputs, lowering);
  addApiFunctions(**module, options.name, table);
  auto object = emitMachineCode(**module, MachineCodeKind::Object);
  if (!object)
    return object.takeError();

  DeployResult result;
  llvm::SmallString<256> library(out), header(out), objectPath(out);
  llvm::sys::path::append(library, "lib" + options.name + ".so");
  llvm::sys::path::append(header, options.name + ".h");
  llvm::sys::path::append(objectPath, "." + options.name + ".o");
  if (llvm::Error err = writeFileAtomically(objectPath, *object))
    return std::move(err);
  std::string libdir = HATC_LIBRARY_DIR;
  std::vector<std::string> extra = {libdir + "/libhatc_deploy_rt.a"};
  if (lowering.kind == TargetKind::Hwacc) {
    extra.push_back(libdir + "/libhatc_deploy_hwacc_rt.a");
    extra.push_back("-lstdc++");
  }
  extra.push_back("-Wl,-soname,lib" + options.name + ".so");
  // The runtime archives' symbols (libstdc++ template instances included)
  // stay inside: the library exports its C API alone.
  extra.push_back("-Wl,--exclude-libs,ALL");
  // Only the libraries the code calls become dependencies: libomp, libm;
  // not MLIR's C runner utils (which pull in libLLVM): the one function of
  // theirs the code calls, memrefCopy, is in libhatc_deploy_rt.a.
  extra.push_back("-Wl,--as-needed");
  extra.push_back("-Wl,--no-undefined");
  std::string linked = (library + ".tmp").str();
  llvm::Error linkError =
      linkSharedObject(objectPath, linked, /*hatcRuntime=*/"", extra);
  llvm::sys::fs::remove(objectPath);
  if (linkError) {
    llvm::sys::fs::remove(linked);
    return std::move(linkError);
  }
  if (std::error_code ec = llvm::sys::fs::rename(linked, library)) {
    llvm::sys::fs::remove(linked);
    return makeError(library + ": cannot write: " + ec.message());
  }
  if (llvm::Error err = writeFileAtomically(
          header, headerText(options.name, options, lowering, inputs, outputs)))
    return std::move(err);
  written = true;
  result.libraryPath = std::string(library);
  result.headerPath = std::string(header);
  return result;
}

} // namespace hatc::deploy
