//===- Tasks.cpp - A model split into tunable tasks, and put back ---------===//
//
//   model func -> groups (init producers + anchor + elementwise consumers)
//              -> one standalone func per group, deduplicated by hash
//   task script -> matches rewritten to the instance's hatc.op_index -> model
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Tasks.h"
#include "hatc/Db/Database.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/ScriptBuilder.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Version.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>

using namespace mlir;

namespace hatc {

namespace {

std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

bool hasReductions(Operation *op) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  return linalgOp.getNumReductionLoops() > 0;
}

/// A fill or broadcast whose only use is the init of an anchor: part of
/// that anchor's task (it sets the accumulator up).
bool initializes(Operation *producer, Operation *anchor) {
  if (!isa<linalg::FillOp, linalg::BroadcastOp>(producer) ||
      producer->getNumResults() != 1 || !producer->getResult(0).hasOneUse())
    return false;
  auto linalgOp = cast<linalg::LinalgOp>(anchor);
  for (OpOperand &init : linalgOp.getDpsInitsMutable())
    if (init.get() == producer->getResult(0))
      return true;
  return false;
}

/// The ops of one task, in program order.
using Group = SmallVector<Operation *>;

/// Extends `group` with the chain of elementwise ops that each are the only
/// user of the previous op's result, over the same shape.
void addConsumers(Group &group, DenseMap<Operation *, int64_t> &owner,
                  int64_t groupId) {
  Operation *last = group.back();
  while (last->getNumResults() == 1 && last->getResult(0).hasOneUse()) {
    Value value = last->getResult(0);
    Operation *user = *value.getUsers().begin();
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!linalgOp || owner.lookup(user) != -1 || hasReductions(user) ||
        isa<linalg::FillOp>(user) || user->getNumResults() != 1 || !type ||
        user->getBlock() != last->getBlock())
      return;
    SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
    if (llvm::ArrayRef<int64_t>(ranges) != type.getShape())
      return;
    group.push_back(user);
    owner[user] = groupId;
    last = user;
  }
}

/// Removes hatc.* attributes (model positions) from a copied op.
void stripHatcAttrs(Operation *op) {
  SmallVector<StringAttr> names;
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (attr.getName().strref().starts_with("hatc."))
      names.push_back(attr.getName());
  for (StringAttr name : names)
    op->removeAttr(name);
}

/// A static slice of a tensor constant (a conv filter whose rows
/// hatc-fold-constants padded): the view a task reads its weight through.
tensor::ExtractSliceOp constantView(Value value) {
  auto slice = value.getDefiningOp<tensor::ExtractSliceOp>();
  if (slice && slice.getSource().getDefiningOp<arith::ConstantOp>() &&
      slice.getSourceType().hasStaticShape() && slice.hasUnitStride() &&
      slice.getOffsets().empty() && slice.getSizes().empty())
    return slice;
  return {};
}

/// The standalone module of `group`: every value read from outside the
/// group is an argument, except scalar constants and tensor.empty, which are
/// copied, and with `withWeights` tensor constants too. A constant read
/// through a static slice keeps its slice in the task, so that the task
/// reads its weight with the layout the model has (its argument, or with
/// `withWeights` its constant, is the whole padded tensor).
OwningOpRef<ModuleOp> standaloneModule(const Group &group,
                                       bool withWeights = false) {
  MLIRContext *context = group.front()->getContext();
  Location loc = group.front()->getLoc();
  DenseSet<Operation *> members(group.begin(), group.end());
  llvm::SetVector<Value> external;
  SmallVector<tensor::ExtractSliceOp> views;
  for (Operation *op : group)
    op->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands()) {
        if (Operation *def = operand.getDefiningOp()) {
          if (members.contains(def) || op->isProperAncestor(def))
            continue;
        } else if (op->isAncestor(
                       cast<BlockArgument>(operand).getOwner()->getParentOp())) {
          continue;
        }
        if (auto view = constantView(operand)) {
          if (!llvm::is_contained(views, view))
            views.push_back(view);
          operand = view.getSource();
        }
        external.insert(operand);
      }
    });
  auto copied = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return def && (isa<tensor::EmptyOp>(def) ||
                   (isa<arith::ConstantOp>(def) &&
                    (withWeights || !isa<ShapedType>(value.getType()))));
  };
  SmallVector<Type> argTypes, resultTypes;
  for (Value value : external)
    if (!copied(value))
      argTypes.push_back(value.getType());
  SmallVector<Value> results;
  for (Operation *op : group)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !members.contains(user);
          }))
        results.push_back(result);
  if (results.empty())
    llvm::append_range(results, group.back()->getResults());
  for (Value result : results)
    resultTypes.push_back(result.getType());

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(context);
  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<func::FuncOp>(loc, kTaskEntryName,
                                     b.getFunctionType(argTypes, resultTypes));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToEnd(body);
  IRMapping mapping;
  unsigned arg = 0;
  for (Value value : external) {
    if (copied(value))
      mapping.map(value, b.clone(*value.getDefiningOp())->getResult(0));
    else
      mapping.map(value, body->getArgument(arg++));
  }
  for (tensor::ExtractSliceOp view : views)
    b.clone(*view, mapping);
  for (Operation *op : group) {
    Operation *clone = b.clone(*op, mapping);
    stripHatcAttrs(clone);
  }
  SmallVector<Value> returned;
  for (Value result : results)
    returned.push_back(mapping.lookup(result));
  b.create<func::ReturnOp>(loc, returned);
  return module;
}

std::string printed(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

} // namespace

llvm::Expected<std::vector<ModelTask>> extractTasks(Workload &model,
                                                    bool withWeights) {
  func::FuncOp entry = model.entry();
  if (!entry)
    return makeError(model.path + ": no entry function @" + model.entryName);
  MLIRContext *context = entry.getContext();
  SmallVector<Operation *> ops;
  entry.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  DenseMap<Operation *, int64_t> position, owner;
  for (auto [i, op] : llvm::enumerate(ops)) {
    position[op] = int64_t(i);
    owner[op] = -1;
    op->setAttr(kOpIndexAttr,
                IntegerAttr::get(IntegerType::get(context, 64), int64_t(i)));
  }

  std::vector<Group> groups;
  DenseSet<Operation *> rowChains; // every op of every row chain
  // Row chains first (a softmax, a layernorm: CpuSchedules.h): one task.
  for (Operation *op : ops) {
    if (owner[op] != -1 || !hasReductions(op))
      continue;
    SmallVector<Operation *> chain = rowChainFrom(op);
    if (chain.empty() || llvm::any_of(chain, [&](Operation *member) {
          return !owner.count(member) || owner[member] != -1;
        }))
      continue;
    int64_t id = int64_t(groups.size());
    for (Operation *member : chain) {
      owner[member] = id;
      rowChains.insert(member);
    }
    groups.push_back(Group(chain.begin(), chain.end()));
  }
  for (Operation *op : ops) {
    if (owner[op] != -1 || !hasReductions(op))
      continue;
    int64_t id = int64_t(groups.size());
    Group group;
    for (OpOperand &init :
         cast<linalg::LinalgOp>(op).getDpsInitsMutable())
      if (Operation *producer = init.get().getDefiningOp())
        if (owner.count(producer) && owner[producer] == -1 &&
            initializes(producer, op)) {
          group.push_back(producer);
          owner[producer] = id;
        }
    group.push_back(op);
    owner[op] = id;
    addConsumers(group, owner, id);
    groups.push_back(std::move(group));
  }
  for (Operation *op : ops) {
    if (owner[op] != -1)
      continue;
    int64_t id = int64_t(groups.size());
    groups.push_back({op});
    owner[op] = id;
    addConsumers(groups.back(), owner, id);
  }
  for (Group &group : groups)
    llvm::sort(group, [&](Operation *a, Operation *b) {
      return position[a] < position[b];
    });
  llvm::sort(groups, [&](const Group &a, const Group &b) {
    return position[a.front()] < position[b.front()];
  });

  std::vector<ModelTask> tasks;
  std::map<std::string, size_t> byHash;
  for (const Group &group : groups) {
    TaskInstance instance;
    for (Operation *op : group)
      instance.opIndices.push_back(position[op]);
    OwningOpRef<ModuleOp> module = standaloneModule(group);
    std::string ir = printed(*module);
    auto workload = workloadFromModule(std::move(module), "<task>",
                                       kTaskEntryName);
    if (!workload)
      return makeError(model.path + ": task at " +
                       formatLocation(group.front()->getLoc()) + ": " +
                       llvm::toString(workload.takeError()));
    std::string id = workload->key() + "\n" + workload->hash();
    auto found = byHash.find(id);
    if (found != byHash.end()) {
      ModelTask &task = tasks[found->second];
      ++task.weight;
      task.instances.push_back(std::move(instance));
      continue;
    }
    ModelTask task;
    task.key = workload->key();
    task.hash = workload->hash();
    task.ir = printed(*workload->module); // with the task's own tags
    task.flops = workload->flops();
    Operation *anchor = group.front();
    for (Operation *op : group)
      if (hasReductions(op)) {
        anchor = op;
        break;
      }
    task.anchorOp = anchor->getName().getStringRef().str();
    task.anchorClass = classifyOp(anchor);
    for (Operation *op : group) {
      task.opNames.push_back(op->getName().getStringRef().str());
      task.opResultTypes.push_back(
          op->getNumResults() ? typeText(op->getResult(0).getType()) : "");
    }
    if (withWeights) {
      OwningOpRef<ModuleOp> weights = standaloneModule(group, true);
      if (weights->lookupSymbol<func::FuncOp>(kTaskEntryName)
              .getNumArguments() <
          workload->module->lookupSymbol<func::FuncOp>(kTaskEntryName)
              .getNumArguments()) {
        auto tagged = workloadFromModule(std::move(weights), "<task>",
                                         kTaskEntryName);
        if (!tagged)
          return makeError(model.path + ": task at " +
                           formatLocation(group.front()->getLoc()) +
                           " with its weights: " +
                           llvm::toString(tagged.takeError()));
        task.weightsIr = printed(*tagged->module);
      }
    }
    task.rowChain = rowChains.contains(group.front());
    task.weight = 1;
    task.instances.push_back(std::move(instance));
    byHash.emplace(id, tasks.size());
    tasks.push_back(std::move(task));
  }
  return tasks;
}

llvm::Expected<Workload> taskWorkload(MLIRContext &context,
                                      const ModelTask &task) {
  return parseWorkload(context, task.ir, "<task " + task.key + ">",
                       kTaskEntryName);
}

namespace {

/// Copies the body of `script`'s @__transform_main into `into` (before its
/// terminator, with %root mapped to `into`'s root), calling `rewrite` on
/// each copied op.
llvm::Error appendScript(ScriptBuilder &into, llvm::StringRef script,
                         llvm::function_ref<void(Operation *)> rewrite) {
  MLIRContext *context = into.context();
  DiagnosticCapture capture(context);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(script, ParserConfig(context));
  if (!module)
    return capture.takeError("cannot parse the task's script");
  transform::NamedSequenceOp main;
  for (Operation &op : module->getBody()->getOperations()) {
    auto sequence = dyn_cast<transform::NamedSequenceOp>(op);
    if (!sequence)
      return makeError("the task's script holds a '" +
                       op.getName().getStringRef().str() +
                       "' next to @__transform_main; only that sequence "
                       "can be retargeted");
    if (sequence.getSymName() !=
        transform::TransformDialect::kTransformEntryPointSymbolName)
      return makeError("the task's script defines @" +
                       sequence.getSymName().str() +
                       "; only @__transform_main can be retargeted");
    main = sequence;
  }
  if (!main || main.getBody().empty())
    return makeError("the task's script has no @__transform_main");
  Block &body = main.getBody().front();
  if (body.getNumArguments() != 1)
    return makeError("the task's @__transform_main takes " +
                     std::to_string(body.getNumArguments()) +
                     " arguments; expected the payload root only");
  if (main.getArgAttr(0, transform::TransformDialect::kArgConsumedAttrName))
    return makeError("the task's script consumes the payload root (it "
                     "bufferizes); it cannot share the model's schedule");
  IRMapping mapping;
  mapping.map(body.getArgument(0), into.root());
  OpBuilder &b = into.builder();
  for (Operation &op : body.without_terminator()) {
    Operation *copy = b.clone(op, mapping);
    copy->walk([&](Operation *nested) { rewrite(nested); });
  }
  return llvm::Error::success();
}

/// The contractions (linalg ops with a reduction loop) in `module`; with
/// `indices`, only those tagged with one of them (hatc.op_index). A
/// schedule vectorizes its task's contractions: one left after it runs as
/// scalar loops.
int64_t countContractions(ModuleOp module, ArrayRef<int64_t> indices = {}) {
  int64_t count = 0;
  module.walk([&](linalg::LinalgOp op) {
    if (op.getNumReductionLoops() == 0)
      return;
    if (!indices.empty()) {
      auto index = op->getAttrOfType<IntegerAttr>(kOpIndexAttr);
      if (!index || !llvm::is_contained(indices, index.getInt()))
        return;
    }
    ++count;
  });
  return count;
}

/// Whether `script` rewrites ops it did not match: unit-dim folding applied
/// to the whole func replaces every generic of the model (cpu_conv_im2col).
bool rewritesOtherOps(MLIRContext &context, llvm::StringRef script) {
  DiagnosticCapture quiet(&context);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(script, ParserConfig(&context));
  if (!module)
    return false;
  bool found = false;
  module->walk([&](Operation *op) {
    found |= isa<transform::ApplyFoldUnitExtentDimsViaReshapesPatternsOp,
                 transform::ApplyFoldUnitExtentDimsViaSlicesPatternsOp>(op);
  });
  return found;
}

/// `transform.structured.match ops{["func.func"]} attributes {sym_name =
/// "task"}`: how a schedule (the default's, say) scopes itself to the
/// task's entry.
bool isTaskFuncMatch(transform::MatchOp match) {
  ArrayAttr names = match.getOpsAttr();
  DictionaryAttr attrs = match.getOpAttrsAttr();
  if (!names || names.size() != 1 || !attrs || attrs.size() != 1 ||
      cast<StringAttr>(names[0]).getValue() != "func.func")
    return false;
  auto symName = dyn_cast_or_null<StringAttr>(attrs.get("sym_name"));
  return symName && symName.getValue() == kTaskEntryName;
}

} // namespace

llvm::Expected<std::string> retargetScript(const ModelTask &task,
                                           const TaskInstance &instance,
                                           llvm::StringRef taskScript,
                                           llvm::StringRef modelEntry) {
  if (instance.opIndices.size() != task.opNames.size())
    return makeError("task " + task.key + ": an instance of " +
                     std::to_string(instance.opIndices.size()) +
                     " ops for a task of " +
                     std::to_string(task.opNames.size()));
  ScriptBuilder script(llvm::formatv("hatc task {0} at model ops [{1}]",
                                     task.key,
                                     llvm::join(llvm::map_range(
                                                    instance.opIndices,
                                                    [](int64_t i) {
                                                      return std::to_string(i);
                                                    }),
                                                ", "))
                           .str());
  MLIRContext *context = script.context();
  SmallVector<transform::MatchOp> matches;
  if (llvm::Error err = appendScript(script, taskScript, [&](Operation *op) {
        if (auto match = dyn_cast<transform::MatchOp>(op))
          matches.push_back(match);
      }))
    return std::move(err);
  // Whether a match in the func selects one of the task's ops (or may: by
  // interface), and the op names the func-level matches ask for: a script
  // whose matches name ops but none of the task's is another op's schedule
  // (a record of the wrong op), which would leave this task unscheduled.
  bool touchesTask = false;
  llvm::SetVector<llvm::StringRef> namedElsewhere;
  for (transform::MatchOp match : matches) {
    ArrayAttr names = match.getOpsAttr();
    if (!names || match.getInterfaceAttr() ||
        match.getFilterOperandTypesAttr()) {
      touchesTask |= !names;
      continue;
    }
    if (isTaskFuncMatch(match)) { // the schedule scoped to @task
      match.setOpAttrsAttr(DictionaryAttr::get(
          context, {NamedAttribute(StringAttr::get(context, "sym_name"),
                                   StringAttr::get(context, modelEntry))}));
      continue;
    }
    // A match inside a loop the script tiled (not in the module or a
    // func): only this task's ops, or what the script made of them, are
    // there. Left as written: an op the script rewrote (a generalized
    // batch_matmul without its unit dim) no longer carries hatc.op_index.
    Value target = match.getTarget();
    if (!isa<BlockArgument>(target) &&
        !isa_and_nonnull<transform::MatchOp>(target.getDefiningOp()))
      continue;
    std::optional<int64_t> wantedIndex;
    DictionaryAttr attrs = match.getOpAttrsAttr();
    if (attrs) {
      if (attrs.size() != 1 || !attrs.get(kOpIndexAttr))
        continue;
      auto index = dyn_cast<IntegerAttr>(attrs.get(kOpIndexAttr));
      if (!index)
        continue;
      wantedIndex = index.getInt();
    }
    std::string resultType;
    if (TypeAttr filter = match.getFilterResultTypeAttr())
      resultType = typeText(filter.getValue());
    // The task's ops this match selects in the task's func.
    SmallVector<size_t> selected;
    for (size_t p = 0; p < task.opNames.size(); ++p) {
      bool named = llvm::any_of(names, [&](Attribute name) {
        return cast<StringAttr>(name).getValue() == task.opNames[p];
      });
      if (!named || (wantedIndex && *wantedIndex != int64_t(p)) ||
          (!resultType.empty() && resultType != task.opResultTypes[p]))
        continue;
      selected.push_back(p);
    }
    if (selected.empty()) { // ops the script made itself: left as written
      for (Attribute name : names)
        if (StringRef op = cast<StringAttr>(name).getValue();
            op != func::FuncOp::getOperationName() &&
            op != ModuleOp::getOperationName())
          namedElsewhere.insert(op);
      continue;
    }
    touchesTask = true;
    OpBuilder b(match);
    SmallVector<Value> handles;
    for (size_t p : selected) {
      auto indexAttr = DictionaryAttr::get(
          context,
          {NamedAttribute(StringAttr::get(context, kOpIndexAttr),
                          b.getI64IntegerAttr(instance.opIndices[p]))});
      handles.push_back(b.create<transform::MatchOp>(
          match.getLoc(), match.getResult().getType(), match.getTarget(),
          b.getStrArrayAttr({task.opNames[p]}),
          transform::MatchInterfaceEnumAttr(), indexAttr,
          match.getFilterResultTypeAttr(), ArrayAttr()));
    }
    Value replacement =
        handles.size() == 1
            ? handles.front()
            : b.create<transform::MergeHandlesOp>(
                   match.getLoc(), match.getResult().getType(), handles,
                   /*deduplicate=*/false)
                  .getResult();
    match.getResult().replaceAllUsesWith(replacement);
    match.erase();
  }
  if (!touchesTask && !namedElsewhere.empty())
    return makeError(
        "its script matches none of the task's ops (it matches " +
        llvm::join(namedElsewhere, ", ") + "; the task's ops are " +
        llvm::join(llvm::SetVector<llvm::StringRef>(task.opNames.begin(),
                                                    task.opNames.end()),
                   ", ") +
        "): a schedule of another op");
  return script.finish();
}

llvm::Expected<ModelSchedule> buildModelSchedule(
    Workload &model, std::vector<ModelTask> tasks, TargetKind kind,
    const std::function<std::optional<TunedScript>(const ModelTask &)> &tuned,
    int64_t threads) {
  MLIRContext *context = model.module->getContext();
  ModelSchedule result;
  result.sources.assign(tasks.size(), "default");
  result.notes.assign(tasks.size(), "");
  // Each instance's part is tried on the model as the parts before it left
  // it; what applies is kept, in order, so the joined script applies too.
  OwningOpRef<ModuleOp> payload = cast<ModuleOp>(model.module->clone());
  std::vector<std::string> parts;
  auto tryPart = [&](const std::string &part) -> llvm::Error {
    auto schedule = parseSchedule(*context, part, "<task schedule>");
    if (!schedule)
      return schedule.takeError();
    OwningOpRef<ModuleOp> trial = cast<ModuleOp>(payload->clone());
    if (llvm::Error err = applySchedule(*trial, schedule->get()))
      return err;
    payload = std::move(trial);
    parts.push_back(part);
    return llvm::Error::success();
  };
  std::vector<std::optional<TunedScript>> found(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t)
    found[t] = tuned ? tuned(tasks[t]) : std::nullopt;
  // Scripts that rewrite other tasks' ops go last, so the others still find
  // their ops by hatc.op_index (tasks are disjoint: any order is the same
  // program).
  std::vector<size_t> order(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t)
    order[t] = t;
  std::stable_partition(order.begin(), order.end(), [&](size_t t) {
    return !found[t] || !rewritesOtherOps(*context, found[t]->script);
  });
  // The model's linalg ops by hatc.op_index (extractTasks' numbering).
  SmallVector<Operation *> modelOps;
  if (func::FuncOp entry = model.entry())
    entry.walk([&](linalg::LinalgOp op) { modelOps.push_back(op); });
  // An instance's default schedule, derived as the model has it: its
  // constant operands (the weights) in, since the default reads them (a
  // constant B goes in panels packed at compile time), as `hatc tune`
  // measures the task and as the model's own default schedule does.
  auto instanceDefault =
      [&](const ModelTask &task,
          const TaskInstance &instance) -> llvm::Expected<std::string> {
    Group group;
    for (int64_t index : instance.opIndices)
      if (index >= 0 && size_t(index) < modelOps.size())
        group.push_back(modelOps[index]);
    llvm::Expected<Workload> workload =
        group.size() == instance.opIndices.size()
            ? workloadFromModule(standaloneModule(group, true), "<task>",
                                 kTaskEntryName)
            : taskWorkload(*context, task);
    if (!workload)
      return workload.takeError();
    auto script = defaultScheduleFor(*workload, kind, threads);
    if (!script)
      return makeError("task " + task.key + ": no default schedule: " +
                       llvm::toString(script.takeError()));
    return script;
  };
  for (size_t t : order) {
    const ModelTask &task = tasks[t];
    if (found[t])
      result.sources[t] = found[t]->source;
    for (const TaskInstance &instance : task.instances) {
      if (found[t]) {
        int64_t others = countContractions(*payload) -
                         countContractions(*payload, instance.opIndices);
        auto part = retargetScript(task, instance, found[t]->script,
                                   model.entryName);
        llvm::Error err = part ? tryPart(*part) : part.takeError();
        if (!err) {
          // Applied, but it may have done less than alone (a match that
          // found nothing is no error): say so where the user looks.
          int64_t left = countContractions(*payload) - others;
          if (left > 0 && result.notes[t].empty())
            result.notes[t] = llvm::formatv(
                "its tuned schedule leaves {0} of the task's contractions "
                "unvectorized in the model: scalar loops",
                left);
          continue;
        }
        result.sources[t] = "default (fallback)";
        result.notes[t] = "its " + found[t]->source +
                          " schedule does not apply in the model: " +
                          llvm::toString(std::move(err));
      }
      auto fallback = instanceDefault(task, instance);
      if (!fallback)
        return fallback.takeError();
      auto part = retargetScript(task, instance, *fallback, model.entryName);
      if (!part)
        return part.takeError();
      if (llvm::Error err = tryPart(*part))
        return makeError("task " + task.key +
                         ": the default schedule does not apply in the "
                         "model: " +
                         llvm::toString(std::move(err)));
    }
  }
  ScriptBuilder whole(llvm::formatv("hatc model schedule: {0} tasks, {1} "
                                    "parts",
                                    tasks.size(), parts.size())
                          .str());
  for (const std::string &part : parts)
    if (llvm::Error err = appendScript(whole, part, [](Operation *) {}))
      return std::move(err);
  result.script = whole.finish();
  result.tasks = std::move(tasks);
  return result;
}

llvm::Expected<ModelSchedule>
modelScheduleFor(Workload &model, db::Database *database, const Target &target,
                 bool allowStale, int64_t threads) {
  auto tasks = extractTasks(model);
  if (!tasks)
    return tasks.takeError();
  db::TargetKey key{targetKindName(target.kind), target.fingerprint(),
                    target.name};
  std::string version = compilerVersion();
  std::optional<int64_t> runThreads;
  if (target.kind == TargetKind::Cpu && threads > 0)
    runThreads = threads;
  auto optionsFor = [&](const ModelTask &task, bool stale,
                        std::optional<int64_t> onThreads) {
    db::QueryOptions options;
    options.workloadHash = task.hash;
    options.allowStale = stale;
    options.threads = onThreads;
    return options;
  };
  auto query = [&](const ModelTask &task, bool stale,
                   std::optional<int64_t> onThreads, bool *gaveWay = nullptr) {
    std::optional<db::Record> best = database->bestToBuild(
        task.key, key, version, optionsFor(task, stale, onThreads), gaveWay);
    if (best && best->script.empty())
      best.reset();
    return best;
  };
  bool anyTuned = false; // a task takes a record other than the default
  auto lookup = [&](const ModelTask &task) -> std::optional<TunedScript> {
    if (!database)
      return std::nullopt;
    bool gaveWay = false;
    std::optional<db::Record> best =
        query(task, allowStale, runThreads, &gaveWay);
    if (!best)
      return std::nullopt;
    std::string source = best->sketch == "default"
                             ? "db (the default schedule measured best)"
                             : "db";
    if (gaveWay)
      source = "db (the default schedule: the best record is less than " +
               std::to_string(int(db::kTunedMargin * 100)) +
               "% faster, within the noise)";
    anyTuned |= best->sketch != "default";
    if (best->stale)
      source += " (stale: " + best->compilerVersion + ", " +
                best->targetFingerprint + ")";
    return TunedScript{best->script, source};
  };
  try {
    std::map<std::pair<std::string, std::string>, std::optional<TunedScript>>
        found; // by task key and hash
    for (const ModelTask &task : *tasks)
      found[{task.key, task.hash}] = lookup(task);
    llvm::Expected<ModelSchedule> schedule = ModelSchedule();
    if (database && !anyTuned) {
      // Every task on its default: the model's own default schedule, not
      // the tasks' defaults joined, and those parts neither built nor
      // tried on the model (0.75 s on the BERT layer). Since each op owns
      // its accumulator fill (hatc-own-inits) the two schedule the same
      // ops the same way; before, a fill CSE shared between matmuls was a
      // task of its own, which the joined defaults did not fuse: 13%
      // slower on the MLP.
      auto whole = defaultScheduleFor(model, target.kind, threads);
      if (!whole)
        return whole.takeError();
      schedule->script = std::move(*whole);
      for (const ModelTask &task : *tasks) {
        const std::optional<TunedScript> &script =
            found[{task.key, task.hash}];
        schedule->sources.push_back(script ? script->source : "default");
        schedule->notes.push_back("");
      }
      schedule->tasks = std::move(*tasks);
    } else {
      schedule = buildModelSchedule(
          model, std::move(*tasks), target.kind,
          [&](const ModelTask &task) { return found[{task.key, task.hash}]; },
          threads);
    }
    if (!schedule || !database)
      return schedule;
    // A miss where records exist of other thread counts (tuned with
    // another --threads), or only stale ones (tuned by another hatc, as
    // after an upgrade, or on another machine): say so, and what to do.
    for (size_t t = 0; t < schedule->tasks.size(); ++t) {
      if (schedule->sources[t] != "default" || !schedule->notes[t].empty())
        continue;
      const ModelTask &task = schedule->tasks[t];
      auto onThreads = [&](const db::Record &record) {
        return "ran on " +
               (record.threads ? std::to_string(*record.threads)
                               : std::string("another number of")) +
               " threads, this runs " + std::to_string(*runThreads) +
               ": tune with --threads " + std::to_string(*runThreads);
      };
      if (runThreads)
        if (auto other = query(task, allowStale, std::nullopt)) {
          schedule->notes[t] = "its records " + onThreads(*other);
          continue;
        }
      if (allowStale)
        continue;
      if (auto stale = query(task, true, runThreads))
        schedule->notes[t] = "its records are stale: from " +
                             stale->compilerVersion + ", " +
                             stale->targetFingerprint +
                             "; --allow-stale uses them";
      else if (auto stale = query(task, true, std::nullopt))
        schedule->notes[t] = "its records are stale (from " +
                             stale->compilerVersion + ", " +
                             stale->targetFingerprint + ") and " +
                             onThreads(*stale);
    }
    return schedule;
  } catch (const std::exception &e) { // DbError: one line naming the file
    return makeError(e.what());
  }
}

} // namespace hatc
