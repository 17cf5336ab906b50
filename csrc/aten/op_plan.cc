#include "aten/op_plan.h"

#include <mutex>
#include <unordered_map>

#include "aten/out_checks.h"

namespace torch_pjrt::aten {

namespace {

ArgKind classify_list(const c10::TypePtr& element) {
  switch (element->kind()) {
    case c10::TypeKind::TensorType:
      return ArgKind::kTensorList;
    case c10::TypeKind::OptionalType:
      return element->castRaw<c10::OptionalType>()->getElementType()->kind() ==
                     c10::TypeKind::TensorType
                 ? ArgKind::kOptionalTensorList
                 : ArgKind::kUnsupported;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return ArgKind::kIntList;
    case c10::TypeKind::FloatType:
      return ArgKind::kFloatList;
    case c10::TypeKind::BoolType:
      return ArgKind::kBoolList;
    default:
      return ArgKind::kUnsupported;
  }
}

ArgKind classify(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return ArgKind::kTensor;
    case c10::TypeKind::ListType:
      return classify_list(type->castRaw<c10::ListType>()->getElementType());
    case c10::TypeKind::NumberType:
      return ArgKind::kScalar;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return ArgKind::kInt;
    case c10::TypeKind::FloatType:
      return ArgKind::kFloat;
    case c10::TypeKind::BoolType:
      return ArgKind::kBool;
    case c10::TypeKind::StringType:
      return ArgKind::kString;
    case c10::TypeKind::ScalarTypeType:
      return ArgKind::kScalarType;
    case c10::TypeKind::GeneratorType:
      return ArgKind::kGenerator;
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::DeviceObjType:
    case c10::TypeKind::MemoryFormatType:
      return ArgKind::kIgnored;
    default:
      return ArgKind::kUnsupported;
  }
}

ReturnKind classify_return(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return ReturnKind::kTensor;
    case c10::TypeKind::ListType:
      return type->castRaw<c10::ListType>()->getElementType()->kind() == c10::TypeKind::TensorType
                 ? ReturnKind::kTensorList
                 : ReturnKind::kUnsupported;
    case c10::TypeKind::BoolType:
      return ReturnKind::kBool;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return ReturnKind::kInt;
    case c10::TypeKind::FloatType:
      return ReturnKind::kFloat;
    default:
      return ReturnKind::kUnsupported;
  }
}

bool is_written(const c10::Argument& argument) {
  return argument.alias_info() != nullptr && argument.alias_info()->isWrite();
}

// The schema positions of the arguments the rule gets, in the functional op's
// order: an in-place form may order them otherwise (polygamma_(self, n) is
// polygamma(n, self)), so they are matched by name when the names agree.
std::vector<size_t> functional_order(const c10::FunctionSchema& schema, const OpPlan& plan) {
  std::vector<size_t> order;
  for (size_t i = 0; i < schema.arguments().size(); ++i) {
    if (!schema.arguments()[i].is_out()) order.push_back(i);
  }
  if (plan.form != OpForm::kInPlace) return order;
  std::string functional_name = schema.name();
  functional_name.pop_back();  // the trailing underscore
  auto functional =
      c10::Dispatcher::singleton().findSchema({functional_name, schema.overload_name()});
  if (!functional) return order;
  const auto& arguments = functional->schema().arguments();
  if (arguments.size() != order.size()) return order;
  std::vector<size_t> by_name;
  for (const c10::Argument& wanted : arguments) {
    for (size_t i : order) {
      if (schema.arguments()[i].name() == wanted.name()) by_name.push_back(i);
    }
  }
  return by_name.size() == order.size() ? by_name : order;
}

OpPlan make_plan(const c10::FunctionSchema& schema) {
  OpPlan plan;
  plan.qualified_name = schema.name();
  plan.base_name = schema.name();
  if (!schema.overload_name().empty()) plan.qualified_name += "." + schema.overload_name();
  std::string name = schema.name();
  if (auto colon = name.find("::"); colon != std::string::npos) name = name.substr(colon + 2);
  plan.overload = schema.overload_name();
  plan.num_arguments = schema.arguments().size();

  for (size_t i = 0; i < schema.arguments().size(); ++i) {
    if (schema.arguments()[i].is_out()) plan.out_args.push_back(i);
  }
  const bool first_is_written = !schema.arguments().empty() && is_written(schema.arguments()[0]) &&
                                !schema.arguments()[0].is_out();
  if (!plan.out_args.empty()) {
    plan.form = OpForm::kOut;
  } else if (first_is_written && name.size() > 1 && name.back() == '_' &&
             name[name.size() - 2] != '_') {
    plan.form = OpForm::kInPlace;
    name.pop_back();
  }
  plan.rule_name = name;
  plan.rule = lowering::rule_table().find(name);
  if (plan.form == OpForm::kOut && plan.rule != nullptr) {
    plan.meta_out = structured_meta_out(schema);
    plan.exact_out_dtype = out_dtype_must_match(plan.rule_name);
  }

  for (size_t i : functional_order(schema, plan)) {
    const c10::Argument& argument = schema.arguments()[i];
    const size_t functional_index = plan.functional_args.size();
    plan.functional_args.push_back(i);
    c10::TypePtr type = argument.real_type();
    bool optional = false;
    if (type->kind() == c10::TypeKind::OptionalType) {
      optional = true;
      type = type->castRaw<c10::OptionalType>()->getElementType();
    }
    plan.kinds.push_back(classify(type));
    if (type->kind() == c10::TypeKind::DeviceObjType) plan.has_device_argument = true;
    if (type->kind() == c10::TypeKind::MemoryFormatType) plan.has_memory_format_argument = true;
    plan.optional.push_back(optional);
    bool is_static = false;
    if (plan.rule != nullptr) {
      for (int position : plan.rule->static_scalar_args) {
        if (position == static_cast<int>(functional_index)) is_static = true;
      }
    }
    plan.static_scalar.push_back(is_static);
    if (is_written(argument)) plan.mutated_args.push_back(functional_index);
    if (argument.name() == "output_mask" && type->kind() == c10::TypeKind::ListType)
      plan.output_mask_arg = i;
  }
  if (plan.rule != nullptr) {
    for (int position : plan.rule->unlisted_mutated_args) {
      plan.mutated_args.push_back(static_cast<size_t>(position));
    }
  }
  for (const c10::Argument& ret : schema.returns()) {
    plan.returns.push_back(classify_return(ret.real_type()));
  }
  return plan;
}

}  // namespace

const OpPlan& plan_for(const c10::OperatorHandle& op) {
  static std::mutex mutex;
  static std::unordered_map<const c10::FunctionSchema*, std::unique_ptr<OpPlan>> plans;
  const c10::FunctionSchema* schema = &op.schema();
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = plans[schema];
  if (!slot) slot = std::make_unique<OpPlan>(make_plan(*schema));
  return *slot;
}

}  // namespace torch_pjrt::aten
