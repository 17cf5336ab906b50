#include "lowering/op_call.h"

#include <string>

namespace torch_pjrt::lowering {
namespace {

// The schema kind an Arg alternative stands for, for error messages.
const char* kind_name(const Arg& arg) {
  static constexpr const char* kNames[] = {"None",  "Tensor",  "Tensor[]", "Tensor?[]",
                                           "bool",  "int",     "float",    "str",
                                           "int[]", "float[]", "dtype",    "Scalar"};
  return kNames[arg.index()];
}

const Arg& arg_at(const OpCall& call, size_t i) {
  if (i >= call.args.size()) {
    throw InvalidArgument(std::string(call.name) + ": expected an argument at position " +
                          std::to_string(i) + ", got only " + std::to_string(call.args.size()));
  }
  return call.args[i];
}

[[noreturn]] void mismatch(const OpCall& call, size_t i, const char* expected) {
  throw InvalidArgument(std::string(call.name) + ": argument " + std::to_string(i) + " must be " +
                        expected + ", not " + kind_name(call.args[i]));
}

template <typename T>
const T& get(const OpCall& call, size_t i, const char* expected) {
  const Arg& arg = arg_at(call, i);
  if (const T* value = std::get_if<T>(&arg)) return *value;
  mismatch(call, i, expected);
}

}  // namespace

void OpCall::check_on_device(DeviceCheck check) const {
  if (checks != nullptr) checks->push_back(std::move(check));
}

bool OpCall::is_none(size_t i) const { return std::holds_alternative<NoneArg>(arg_at(*this, i)); }

const TensorArg& OpCall::tensor(size_t i) const { return get<TensorArg>(*this, i, "Tensor"); }

std::optional<TensorArg> OpCall::optional_tensor(size_t i) const {
  if (is_none(i)) return std::nullopt;
  return get<TensorArg>(*this, i, "Tensor or None");
}

const std::vector<TensorArg>& OpCall::tensors(size_t i) const {
  return get<std::vector<TensorArg>>(*this, i, "Tensor[]");
}

int64_t OpCall::int_at(size_t i) const { return get<int64_t>(*this, i, "int"); }

std::optional<int64_t> OpCall::optional_int(size_t i) const {
  if (is_none(i)) return std::nullopt;
  return get<int64_t>(*this, i, "int or None");
}

double OpCall::double_at(size_t i) const {
  // A Python int passed where the schema says float stays an int on the way in.
  if (const auto* as_int = std::get_if<int64_t>(&arg_at(*this, i))) {
    return static_cast<double>(*as_int);
  }
  return get<double>(*this, i, "float");
}

bool OpCall::bool_at(size_t i) const { return get<bool>(*this, i, "bool"); }

std::string_view OpCall::string_at(size_t i) const { return get<std::string>(*this, i, "str"); }

const std::vector<int64_t>& OpCall::ints(size_t i) const {
  return get<std::vector<int64_t>>(*this, i, "int[]");
}

std::optional<std::vector<int64_t>> OpCall::optional_ints(size_t i) const {
  if (is_none(i)) return std::nullopt;
  return get<std::vector<int64_t>>(*this, i, "int[] or None");
}

std::optional<ElementType> OpCall::optional_dtype(size_t i) const {
  if (is_none(i)) return std::nullopt;
  return get<ElementType>(*this, i, "dtype or None");
}

const StaticScalar& OpCall::static_scalar(size_t i) const {
  return get<StaticScalar>(*this, i, "a static Scalar");
}

}  // namespace torch_pjrt::lowering
