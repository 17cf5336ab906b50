#include "aten/traced_call.h"

#include <ATen/native/TypeProperties.h>
#include <c10/core/DefaultDtype.h>

#include <cstring>
#include <sstream>
#include <variant>

#include "aten/dtype.h"
#include "aten/generator.h"
#include "aten/graph_replay.h"
#include "aten/runtime_access.h"
#include "aten/storage.h"
#include "engine/offset_window.h"
#include "engine/view_prologue.h"
#include "lowering/promotion.h"

namespace torch_pjrt::aten {

using stablehlo::ElementType;
using stablehlo::TensorType;
using stablehlo::Value;

namespace {

// Scalars and view offsets: a compiled graph's constants and its inputs'
// layouts fix them, so its later calls (whose key holds the layouts) send the
// recorded bytes again.
constexpr engine::HostSource kFixedByCall{engine::HostSource::Kind::kConstant, -1};

// The signature is a byte string: exact (no hash collisions) and cheap to build.
template <typename T>
void append(std::string& signature, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  signature.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void append_ints(std::string& signature, const std::vector<int64_t>& values) {
  append(signature, values.size());
  signature.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
}

void append_type(std::string& signature, const TensorType& type) {
  append(signature, type.element);
  append_ints(signature, type.dims);
}

std::vector<int64_t> int_list(const c10::IValue& value) {
  if (value.isIntList()) return value.toIntVector();
  std::vector<int64_t> result;
  for (const c10::SymInt& s : value.toSymIntVector())
    result.push_back(s.guard_int(__FILE__, __LINE__));
  return result;
}

int64_t int_value(const c10::IValue& value) {
  return value.isSymInt() ? value.toSymInt().guard_int(__FILE__, __LINE__) : value.toInt();
}

std::string describe_device(const at::Device& device) { return device.str(); }

}  // namespace

void throw_device_mismatch(const OpPlan& plan, const at::Device& a, const at::Device& b) {
  TORCH_CHECK(false, "Expected all tensors to be on the same device, but found at least two ",
              "devices, ", describe_device(a), " and ", describe_device(b), "! (when calling ",
              plan.qualified_name, ")");
}

TracedCall::TracedCall(const OpPlan& plan, const torch::jit::Stack& stack, size_t first_argument)
    : plan_(plan),
      default_float_(c10::get_default_dtype_as_scalartype()),
      matmul_precision_(at::globalContext().float32MatmulPrecision()) {
  signature_.reserve(256);
  signature_.append(plan.qualified_name);
  append(signature_, default_float_);
  append(signature_, matmul_precision_);
  // Out arguments decide the device of factories and their dtype; they are
  // written by the caller, not read by the program.
  for (size_t position : plan.out_args) {
    const c10::IValue& value = stack[first_argument + position];
    if (value.isTensor() && value.toTensor().defined()) {
      const at::Tensor& out = value.toTensor();
      // As CUDA's out= kernels: results are not written across devices.
      TORCH_CHECK(out.device().type() == c10::DeviceType::PrivateUse1,
                  "Expected out tensor to be on the tpu device, but got ",
                  describe_device(out.device()), " instead (when calling ", plan.qualified_name,
                  ")");
      device_ = out.device().index();
      out_element_types_.push_back(to_element_type(out.scalar_type()));
      append(signature_, out_element_types_.back());
    }
  }
  arguments_.reserve(plan.functional_args.size());
  for (size_t i = 0; i < plan.functional_args.size(); ++i) {
    collect(i, stack[first_argument + plan.functional_args[i]]);
  }
  if (plan.rule != nullptr &&
      plan.rule->scalar_range != lowering::RuleInfo::ScalarRange::kUnchecked) {
    check_scalar_range(stack, first_argument);
  }
  if (device_ < 0) device_ = current_device();
  if (plan.rule != nullptr && plan.rule->needs_rng_key) {
    arguments_.emplace_back(rng_key_slot(std::nullopt));
    signature_.push_back('G');
  }
}

void TracedCall::check_scalar_range(const torch::jit::Stack& stack, size_t first_argument) const {
  const c10::IValue& self = stack[first_argument + plan_.functional_args[0]];
  if (!self.isTensor() || !self.toTensor().defined()) return;
  std::vector<c10::Scalar> scalars;
  for (size_t i = 0; i < plan_.kinds.size(); ++i) {
    const c10::IValue& value = stack[first_argument + plan_.functional_args[i]];
    if (plan_.kinds[i] == ArgKind::kScalar && !value.isNone()) scalars.push_back(value.toScalar());
  }
  at::ScalarType type = self.toTensor().scalar_type();
  if (plan_.rule->scalar_range == lowering::RuleInfo::ScalarRange::kResultDtype) {
    at::native::ResultTypeState state;
    state = at::native::update_result_type_state(self.toTensor(), state);
    for (const c10::Scalar& scalar : scalars) {
      state = at::native::update_result_type_state(scalar, state);
    }
    type = at::native::result_type(state);
  }
  // The dtypes this backend holds (others fail in their rule with their own message).
  switch (type) {
    case at::kBool:
    case at::kByte:
    case at::kChar:
    case at::kShort:
    case at::kInt:
    case at::kLong:
    case at::kHalf:
    case at::kBFloat16:
    case at::kFloat:
    case at::kDouble:
    case at::kComplexFloat:
    case at::kComplexDouble:
      break;
    default:
      return;
  }
  for (const c10::Scalar& scalar : scalars) {
    try {
      AT_DISPATCH_ALL_TYPES_AND_COMPLEX_AND3(at::kBool, at::kHalf, at::kBFloat16, type,
                                             "scalar_range", [&] { (void)scalar.to<scalar_t>(); });
    } catch (const std::runtime_error& e) {  // c10::checked_convert's overflow report
      TORCH_CHECK(false, plan_.qualified_name, ": ", e.what());
    }
  }
}

TensorSlot TracedCall::rng_key_slot(const std::optional<at::Generator>& generator) {
  at::Generator g = generator.has_value() && generator->defined()
                        ? *generator
                        : default_generator(device_ >= 0 ? device_ : current_device());
  std::array<uint64_t, 2> key;
  {
    std::lock_guard<std::mutex> lock(g.mutex());
    key = at::check_generator<TpuGenerator>(g)->next_key();
  }
  TensorSlot slot;
  slot.host_value = true;
  slot.layout.element = ElementType::kU64;
  slot.layout.sizes = {2};
  // A compiled graph's later calls draw the same keys from the default
  // generator; another generator is not one of its inputs.
  engine::HostSource source;
  if (!generator.has_value() || !generator->defined()) {
    source.kind = engine::HostSource::Kind::kRngKey;
  }
  slot.input = host_input(TensorType{ElementType::kU64, {2}}, key.data(), 16, source);
  return slot;
}

int TracedCall::host_input(const TensorType& type, const void* bytes, size_t size,
                           engine::HostSource source) {
  CallInput input;
  input.type = type;
  input.source = source;
  std::memcpy(input.host_bytes.data(), bytes, size);
  inputs_.push_back(input);
  return static_cast<int>(inputs_.size()) - 1;
}

TensorSlot TracedCall::tensor_slot(const at::Tensor& tensor) {
  TensorSlot slot;
  const at::Device device = tensor.device();
  if (device.type() == c10::DeviceType::PrivateUse1) {
    if (device_ < 0) device_ = device.index();
    if (device.index() != device_) {
      throw_device_mismatch(plan_, at::Device(c10::DeviceType::PrivateUse1, device_), device);
    }
    engine::StorageValue& storage = storage_value(tensor);
    slot.layout = view_layout(tensor);
    slot.storage_type = storage.type_or(slot.layout.element);
    slot.tensor = tensor;
    slot.conjugate = tensor.is_conj();
    slot.negative = tensor.is_neg();
    if (storage.is_written()) {
      // One parameter per storage, however many arguments view it.
      for (size_t i = 0; i < inputs_.size(); ++i) {
        if (inputs_[i].storage == &storage) slot.input = static_cast<int>(i);
      }
      if (slot.input < 0) {
        CallInput input;
        input.storage = &storage;
        input.type = slot.storage_type;
        inputs_.push_back(input);
        slot.input = static_cast<int>(inputs_.size()) - 1;
      }
    }
    signature_.push_back(slot.input >= 0 ? 'T' : 'U');
    append(signature_, slot.input);
    append_type(signature_, slot.storage_type);
    append_ints(signature_, slot.layout.sizes);
    append_ints(signature_, slot.layout.strides);
    append(signature_, slot.layout.element);
    if (slot.conjugate) signature_.push_back('c');
    if (slot.negative) signature_.push_back('n');
    if (engine::has_runtime_offset(slot.storage_type, slot.layout)) {
      const int64_t offset = slot.layout.offset;
      slot.offset_input =
          host_input(TensorType{ElementType::kS64, {}}, &offset, sizeof(offset), kFixedByCall);
      signature_.push_back('B');
    } else {
      append(signature_, slot.layout.offset);
    }
    return slot;
  }
  // A 0-d CPU tensor is a value sent with the call, as CUDA allows it.
  if (device.type() == c10::DeviceType::CPU && tensor.dim() == 0) {
    at::Tensor value = tensor.contiguous();
    slot.host_value = true;
    slot.wrapped_number = tensor.unsafeGetTensorImpl()->is_wrapped_number();
    slot.layout.element = to_element_type(tensor.scalar_type());
    // A wrapped number that is not a graph input was a Python scalar in the
    // graph's code (x * 0.5): a constant of the graph.
    const int graph_input = recorded_host_input(tensor);
    engine::HostSource source;
    if (graph_input >= 0) {
      source = {engine::HostSource::Kind::kInput, graph_input};
    } else if (slot.wrapped_number) {
      source = kFixedByCall;
    }
    slot.input = host_input(TensorType{slot.layout.element, {}}, value.const_data_ptr(),
                            value.element_size(), source);
    signature_.push_back(slot.wrapped_number ? 'w' : 's');
    append(signature_, slot.layout.element);
    return slot;
  }
  throw_device_mismatch(plan_, at::Device(c10::DeviceType::PrivateUse1, std::max<int>(device_, 0)),
                        device);
}

void TracedCall::collect(size_t index, const c10::IValue& value) {
  Argument argument;
  const ArgKind kind = plan_.kinds[index];
  // A None generator means the device's default one, so it is not None here.
  if (kind != ArgKind::kGenerator &&
      (value.isNone() || (value.isTensor() && !value.toTensor().defined()))) {
    signature_.push_back('N');
    argument = lowering::Arg{lowering::NoneArg{}};
    arguments_.push_back(std::move(argument));
    return;
  }
  switch (kind) {
    case ArgKind::kTensor:
      argument = tensor_slot(value.toTensor());
      break;
    case ArgKind::kTensorList:
    case ArgKind::kOptionalTensorList: {
      ListSlot list;
      list.optional_items = kind == ArgKind::kOptionalTensorList;
      signature_.push_back('L');
      if (list.optional_items) {
        for (const c10::IValue& item : value.toListRef()) {
          if (item.isNone() || !item.toTensor().defined()) {
            signature_.push_back('N');
            list.items.emplace_back(std::nullopt);
          } else {
            // Index lists (x[idx], x[idx] = v) accept CPU index tensors, as on
            // CUDA: they travel with the call.
            at::Tensor index = item.toTensor();
            if (index.device().is_cpu() && index.dim() > 0) {
              index = index.to(at::Device(c10::DeviceType::PrivateUse1,
                                          device_ >= 0 ? device_ : current_device()));
            }
            list.items.emplace_back(tensor_slot(index));
          }
        }
      } else {
        for (const at::Tensor& item : value.toTensorList())
          list.items.emplace_back(tensor_slot(item));
      }
      append(signature_, list.items.size());
      argument = std::move(list);
      break;
    }
    case ArgKind::kScalar: {
      const c10::Scalar scalar = value.toScalar();
      if (plan_.static_scalar[index]) {
        lowering::StaticScalar s;
        if (scalar.isBoolean()) {
          s = scalar.toBool();
        } else if (scalar.isIntegral(false)) {
          s = scalar.toLong();
        } else if (scalar.isComplex()) {
          s = std::complex<double>(scalar.toComplexDouble());
        } else {
          s = scalar.toDouble();
        }
        signature_.push_back('K');
        append(signature_, s.index());
        std::visit([&](const auto& v) { append(signature_, v); }, s);
        argument = lowering::Arg{s};
        break;
      }
      // A runtime scalar: a 0-d "wrapped number" input of the scalar's kind.
      TensorSlot slot;
      slot.host_value = true;
      slot.wrapped_number = true;
      if (scalar.isBoolean()) {
        bool v = scalar.toBool();
        slot.layout.element = ElementType::kPred;
        slot.input = host_input(TensorType{ElementType::kPred, {}}, &v, 1, kFixedByCall);
      } else if (scalar.isIntegral(false)) {
        int64_t v = scalar.toLong();
        slot.layout.element = ElementType::kS64;
        slot.input = host_input(TensorType{ElementType::kS64, {}}, &v, 8, kFixedByCall);
      } else if (scalar.isComplex()) {
        c10::complex<double> v = scalar.toComplexDouble();
        slot.layout.element = ElementType::kC128;
        slot.input = host_input(TensorType{ElementType::kC128, {}}, &v, 16, kFixedByCall);
      } else {
        double v = scalar.toDouble();
        slot.layout.element = ElementType::kF64;
        slot.input = host_input(TensorType{ElementType::kF64, {}}, &v, 8, kFixedByCall);
      }
      signature_.push_back('S');
      append(signature_, slot.layout.element);
      argument = std::move(slot);
      break;
    }
    case ArgKind::kGenerator:
      argument = rng_key_slot(value.toOptional<at::Generator>());
      signature_.push_back('G');
      break;
    case ArgKind::kInt: {
      int64_t v = int_value(value);
      signature_.push_back('i');
      append(signature_, v);
      argument = lowering::Arg{v};
      break;
    }
    case ArgKind::kFloat: {
      double v = value.toDouble();
      signature_.push_back('f');
      append(signature_, v);
      argument = lowering::Arg{v};
      break;
    }
    case ArgKind::kBool: {
      bool v = value.toBool();
      signature_.push_back('b');
      append(signature_, v);
      argument = lowering::Arg{v};
      break;
    }
    case ArgKind::kString: {
      std::string v = value.toStringRef();
      signature_.push_back('"');
      append(signature_, v.size());
      signature_.append(v);
      argument = lowering::Arg{std::move(v)};
      break;
    }
    case ArgKind::kIntList:
    case ArgKind::kBoolList: {
      std::vector<int64_t> v;
      if (kind == ArgKind::kBoolList) {
        for (bool b : value.toBoolList()) v.push_back(b ? 1 : 0);
      } else {
        v = int_list(value);
      }
      signature_.push_back('I');
      append_ints(signature_, v);
      argument = lowering::Arg{std::move(v)};
      break;
    }
    case ArgKind::kFloatList: {
      std::vector<double> v = value.toDoubleVector();
      signature_.push_back('F');
      append(signature_, v.size());
      for (double d : v) append(signature_, d);
      argument = lowering::Arg{std::move(v)};
      break;
    }
    case ArgKind::kScalarType: {
      ElementType v = to_element_type(value.toScalarType());
      signature_.push_back('D');
      append(signature_, v);
      argument = lowering::Arg{v};
      break;
    }
    case ArgKind::kIgnored:
      signature_.push_back('-');
      argument = lowering::Arg{lowering::NoneArg{}};
      break;
    case ArgKind::kUnsupported:
      TORCH_CHECK_NOT_IMPLEMENTED(false, "torch_pjrt cannot pass argument ", index, " of ",
                                  plan_.qualified_name, " to a lowering rule");
  }
  arguments_.push_back(std::move(argument));
}

namespace {

// The values of a conjugate or negative view from its storage's raw values
// (and, the bits being involutions, the raw values from the view's values).
Value apply_math_bits(stablehlo::Builder& b, const TensorSlot& slot, Value x) {
  if (slot.conjugate && stablehlo::is_complex(b.element_type(x))) {
    x = b.binary(stablehlo::BinaryOp::kComplex, b.unary(stablehlo::UnaryOp::kReal, x),
                 b.unary(stablehlo::UnaryOp::kNegate, b.unary(stablehlo::UnaryOp::kImag, x)));
  }
  if (slot.negative) x = b.unary(stablehlo::UnaryOp::kNegate, x);
  return x;
}

void check_writable(const OpPlan& plan, const TensorSlot& slot) {
  TORCH_CHECK(!engine::has_internal_overlap(slot.layout),
              "unsupported operation: more than one element of the written-to tensor refers to a "
              "single memory location. Please clone() the tensor before performing the operation. "
              "(in ",
              plan.qualified_name, ")");
}

}  // namespace

TracedCall::Emitted TracedCall::emit(stablehlo::Builder& b,
                                     const std::vector<Value>& parameters) const {
  auto storage_of = [&](const TensorSlot& slot) {
    return slot.input >= 0 ? parameters[slot.input] : b.zeros(slot.storage_type);
  };
  auto read = [&](const TensorSlot& slot) {
    if (slot.host_value) return lowering::TensorArg{parameters[slot.input], slot.wrapped_number};
    Value raw =
        slot.offset_input >= 0
            ? engine::read_window(b, storage_of(slot), parameters[slot.offset_input], slot.layout)
            : engine::read_view(b, storage_of(slot), slot.layout);
    return lowering::TensorArg{apply_math_bits(b, slot, raw), false};
  };

  lowering::OpCall call;
  call.name = plan_.rule_name;
  call.overload = plan_.overload;
  call.default_float = to_element_type(default_float_);
  switch (matmul_precision_) {
    case at::Float32MatmulPrecision::HIGHEST:
      call.f32_matmul_precision = stablehlo::Precision::kHighest;
      break;
    case at::Float32MatmulPrecision::HIGH:
      call.f32_matmul_precision = stablehlo::Precision::kHigh;
      break;
    case at::Float32MatmulPrecision::MEDIUM:
      call.f32_matmul_precision = stablehlo::Precision::kDefault;
      break;
  }
  call.out_element_types = out_element_types_;
  Emitted emitted;
  call.checks = &emitted.checks;
  call.args.reserve(arguments_.size());
  for (const auto& argument : arguments_) {
    if (const auto* slot = std::get_if<TensorSlot>(&argument)) {
      call.args.emplace_back(read(*slot));
    } else if (const auto* list = std::get_if<ListSlot>(&argument)) {
      if (list->optional_items) {
        std::vector<std::optional<lowering::TensorArg>> items;
        for (const auto& item : list->items) {
          items.push_back(item ? std::optional(read(*item)) : std::nullopt);
        }
        call.args.emplace_back(std::move(items));
      } else {
        std::vector<lowering::TensorArg> items;
        for (const auto& item : list->items) items.push_back(read(*item));
        call.args.emplace_back(std::move(items));
      }
    } else {
      call.args.push_back(std::get<lowering::Arg>(argument));
    }
  }

  std::vector<Value> results = plan_.rule->rule(b, call);

  emitted.aliases.assign(inputs_.size(), -1);
  std::vector<engine::OutputAction>& actions = emitted.actions;
  std::vector<Value>& outputs = emitted.outputs;
  const size_t returned = plan_.form == OpForm::kInPlace ? 0 : plan_.returns.size();
  if (plan_.form != OpForm::kInPlace) {
    bool is_list = plan_.returns.size() == 1 && plan_.returns[0] == ReturnKind::kTensorList;
    size_t count = is_list ? results.size() : plan_.returns.size();
    TORCH_CHECK(results.size() >= count, "lowering rule of ", plan_.qualified_name, " returned ",
                results.size(), " values, expected ", count);
    for (size_t i = 0; i < count; ++i) {
      engine::OutputAction action;
      ReturnKind kind = is_list ? ReturnKind::kTensor : plan_.returns[i];
      action.kind = kind == ReturnKind::kTensor ? engine::OutputAction::Kind::kNewTensor
                                                : engine::OutputAction::Kind::kHostScalar;
      actions.push_back(action);
      outputs.push_back(results[i]);
    }
  }
  // Writes into mutated arguments: the rule's extra results, in order, or its
  // only result for an in-place op. Each becomes the new value of the whole
  // storage (DESIGN.md: a write through a view updates the storage value).
  std::vector<std::pair<const engine::StorageValue*, Value>> written;
  for (size_t k = 0; k < plan_.mutated_args.size(); ++k) {
    const size_t position = plan_.mutated_args[k];
    const auto* slot = std::get_if<TensorSlot>(&arguments_[position]);
    if (slot == nullptr) continue;  // an optional mutated argument that was None
    TORCH_CHECK(!slot->host_value, plan_.qualified_name, ": cannot write into a CPU tensor");
    const size_t result_index = returned + k;
    TORCH_CHECK(result_index < results.size(), "lowering rule of ", plan_.qualified_name,
                " returned no value for mutated argument ", position);
    check_writable(plan_, *slot);
    Value value = results[result_index];
    const TensorType& result_type = b.type(value);
    ElementType destination = slot->layout.element;
    if (result_type.element != destination) {
      TORCH_CHECK(lowering::can_cast(result_type.element, destination), "result type ",
                  c10::toString(to_scalar_type(result_type.element)),
                  " can't be cast to the desired output type ",
                  c10::toString(to_scalar_type(destination)));
      value = b.convert(value, destination);
    }
    TORCH_CHECK(result_type.dims == slot->layout.sizes, "output with shape ",
                c10::IntArrayRef(slot->layout.sizes), " doesn't match the broadcast shape ",
                c10::IntArrayRef(result_type.dims));
    // Conjugation and negation are their own inverses: the raw form of a
    // value written into such a view is the value with the bits applied.
    value = apply_math_bits(b, *slot, value);
    engine::StorageValue* storage = &storage_value(slot->tensor);
    Value base;
    bool chained = false;
    for (auto& [already, latest] : written) {
      if (already == storage) {
        base = latest;
        chained = true;
      }
    }
    Value updated;
    if (!chained && engine::covers_storage(slot->storage_type, slot->layout)) {
      updated = b.reshape(value, slot->storage_type.dims);
    } else if (slot->offset_input >= 0) {
      updated = engine::write_window(b, chained ? base : storage_of(*slot),
                                     parameters[slot->offset_input], slot->layout, value);
    } else {
      updated = engine::write_view(b, chained ? base : storage_of(*slot), slot->layout, value);
    }
    bool replaced = false;
    for (auto& [already, latest] : written) {
      if (already == storage) {
        latest = updated;
        replaced = true;
      }
    }
    if (!replaced) written.emplace_back(storage, updated);
    engine::OutputAction action;
    action.kind = engine::OutputAction::Kind::kRebind;
    action.argument = position;
    // The storage's old buffer may become the new value's memory (whether it
    // is donated is decided per run: only when nothing else holds it).
    if (slot->input >= 0 && emitted.aliases[slot->input] < 0 &&
        b.type(updated) == inputs_[slot->input].type) {
      emitted.aliases[slot->input] = static_cast<int32_t>(outputs.size());
    }
    actions.push_back(action);
    outputs.push_back(updated);
  }
  return emitted;
}

std::shared_ptr<const engine::CompiledCall> TracedCall::trace() const {
  stablehlo::Builder b;
  std::vector<Value> parameters;
  parameters.reserve(inputs_.size());
  for (const CallInput& input : inputs_) parameters.push_back(b.parameter(input.type));
  Emitted emitted = emit(b, parameters);
  auto compiled = std::make_shared<engine::CompiledCall>();
  if (!emitted.checks.empty()) {
    emitted.outputs.push_back(
        lowering::pack_error_word(b, lowering::fold_checks(b, std::nullopt, emitted.checks, 1)));
    emitted.actions.push_back(engine::OutputAction{engine::OutputAction::Kind::kErrorWord, 0});
    compiled->checks = checked_sites(emitted.checks);
  }
  compiled->outputs = std::move(emitted.actions);
  stablehlo::Function function = b.finish(emitted.outputs);
  for (size_t i = 0; i < emitted.aliases.size(); ++i) {
    if (emitted.aliases[i] >= 0) compiled->donatable_inputs.push_back(static_cast<int64_t>(i));
  }
  if (!compiled->donatable_inputs.empty()) function.parameter_aliases = std::move(emitted.aliases);
  compiled->executable = runtime().executables().get_or_compile(function, plan_.qualified_name);
  return compiled;
}

std::shared_ptr<const engine::CheckedSites> TracedCall::checked_sites(
    const std::vector<lowering::DeviceCheck>& checks) const {
  auto sites = std::make_shared<engine::CheckedSites>();
  for (const lowering::DeviceCheck& check : checks) {
    sites->push_back(engine::CheckedSite{plan_.qualified_name, check.site});
  }
  return sites;
}

bool TracedCall::returns_host_values() const {
  if (plan_.form == OpForm::kInPlace) return false;
  for (ReturnKind kind : plan_.returns) {
    if (kind != ReturnKind::kTensor && kind != ReturnKind::kTensorList) return true;
  }
  return false;
}

std::vector<c10::IValue> TracedCall::record(engine::PendingTrace& trace) const {
  trace.begin_op();
  stablehlo::Builder& b = trace.builder();
  const engine::PendingTrace::Mark mark = trace.mark();
  Emitted emitted;
  try {
    std::vector<Value> parameters;
    parameters.reserve(inputs_.size());
    for (const CallInput& input : inputs_) {
      if (input.storage != nullptr) {
        parameters.push_back(trace.storage_value(*input.storage, input.type.element));
      } else {
        const size_t size = static_cast<size_t>(input.type.numel()) *
                            static_cast<size_t>(stablehlo::byte_width(input.type.element));
        parameters.push_back(
            trace.host_parameter(input.type, input.host_bytes.data(), size, input.source));
      }
    }
    emitted = emit(b, parameters);
  } catch (...) {
    trace.rollback(mark);
    throw;
  }
  if (!emitted.checks.empty()) trace.add_checks(*checked_sites(emitted.checks), emitted.checks);
  std::vector<c10::IValue> returned;
  for (size_t i = 0; i < emitted.actions.size(); ++i) {
    const engine::OutputAction& action = emitted.actions[i];
    std::shared_ptr<engine::DeferredValue> value = trace.defer(emitted.outputs[i]);
    if (action.kind == engine::OutputAction::Kind::kRebind) {
      const auto& slot = std::get<TensorSlot>(arguments_[action.argument]);
      storage_value(slot.tensor).bind_deferred(std::move(value));
    } else {
      const TensorType type = value->type;
      returned.emplace_back(
          wrap_deferred(std::move(value), type.dims, to_scalar_type(type.element), device_));
    }
  }
  return returned;
}

std::vector<c10::IValue> TracedCall::execute(const engine::CompiledCall& compiled) const {
  engine::Runtime& rt = runtime();
  std::vector<std::shared_ptr<engine::DeviceBuffer>> host_buffers;
  std::vector<engine::DeviceBuffer*> buffers;
  buffers.reserve(inputs_.size());
  for (const CallInput& input : inputs_) {
    if (input.storage != nullptr) {
      buffers.push_back(input.storage->buffer().get());
    } else {
      host_buffers.push_back(rt.to_device(input.host_bytes.data(), input.type, device_));
      buffers.push_back(host_buffers.back().get());
    }
  }
  // A storage's old buffer is donated to its new value unless something
  // else (another storage, a pending fused trace) still holds it.
  std::vector<int64_t> non_donatable;
  for (int64_t index : compiled.donatable_inputs) {
    if (inputs_[index].storage->buffer().use_count() > 1) non_donatable.push_back(index);
  }
  std::vector<std::shared_ptr<engine::DeviceBuffer>> outputs =
      rt.execute(*compiled.executable, buffers, device_, non_donatable);

  std::vector<c10::IValue> returned;
  for (size_t i = 0; i < compiled.outputs.size(); ++i) {
    const engine::OutputAction& action = compiled.outputs[i];
    auto& buffer = outputs[i];
    switch (action.kind) {
      case engine::OutputAction::Kind::kNewTensor: {
        const TensorType& type = buffer->type();
        returned.emplace_back(
            wrap_buffer(buffer, type.dims, to_scalar_type(type.element), device_));
        break;
      }
      case engine::OutputAction::Kind::kRebind: {
        const auto& slot = std::get<TensorSlot>(arguments_[action.argument]);
        storage_value(slot.tensor).bind(buffer);
        break;
      }
      case engine::OutputAction::Kind::kErrorWord:
        rt.checks().add(buffer, compiled.checks);
        break;
      case engine::OutputAction::Kind::kHostScalar: {
        const TensorType& type = buffer->type();
        std::array<uint8_t, 16> bytes{};
        rt.to_host(*buffer, bytes.data());
        c10::ScalarType dtype = to_scalar_type(type.element);
        at::Tensor host = at::from_blob(bytes.data(), {}, at::TensorOptions().dtype(dtype));
        c10::Scalar scalar = host.item();
        size_t r = returned.size();
        ReturnKind kind = r < plan_.returns.size() ? plan_.returns[r] : ReturnKind::kFloat;
        if (kind == ReturnKind::kBool) {
          returned.emplace_back(scalar.toBool());
        } else if (kind == ReturnKind::kInt) {
          returned.emplace_back(scalar.toLong());
        } else {
          returned.emplace_back(scalar.toDouble());
        }
        break;
      }
    }
  }
  return returned;
}

}  // namespace torch_pjrt::aten
