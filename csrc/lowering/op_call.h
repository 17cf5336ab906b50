#pragma once

#include <complex>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lowering/device_check.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::lowering {

using stablehlo::Builder;
using stablehlo::ElementType;
using stablehlo::TensorType;
using stablehlo::Value;

// A rule cannot lower this call (an argument combination we do not support
// yet). Surfaces as NotImplementedError naming the op.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The call is invalid by PyTorch semantics (mismatched shapes, bad dim, wrong
// dtype). Surfaces as RuntimeError/IndexError with the op and inputs named.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
class IndexOutOfRange : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

// A tensor argument, already read through its view prologue: `value` has the
// logical sizes and dtype of the PyTorch tensor.
struct TensorArg {
  Value value;
  // A Python number or a `Scalar` schema argument, passed at run time as a 0-d
  // value. In type promotion it counts as a "wrapped number" (lowest priority).
  bool is_scalar = false;
};

struct NoneArg {};

// A compile-time scalar, for the few Scalar arguments that shape the program
// (arange's bounds, ...); see RuleInfo::static_scalar_args.
using StaticScalar = std::variant<bool, int64_t, double, std::complex<double>>;

using Arg = std::variant<NoneArg, TensorArg, std::vector<TensorArg>,
                         std::vector<std::optional<TensorArg>>, bool, int64_t, double, std::string,
                         std::vector<int64_t>, std::vector<double>, ElementType, StaticScalar>;

// One ATen call as a rule sees it. In-place (`add_`) and out= (`add.out`) forms
// reach the rule of their functional op: `name` has no trailing underscore and
// `args` holds the functional arguments only; the caller writes the rule's
// results back into `self` / `out`.
//
// How schema types arrive: Tensor -> TensorArg; Tensor? -> TensorArg or NoneArg;
// Tensor[] -> vector<TensorArg>; Tensor?[] -> vector<optional<TensorArg>>;
// int / SymInt -> int64_t; float -> double; bool -> bool; str -> string;
// int[] / SymInt[] -> vector<int64_t>; float[] -> vector<double>;
// ScalarType -> ElementType; Scalar -> TensorArg{is_scalar=true} (0-d, s64 for
// Python ints, f64 for floats, pred for bools, c128 for complex) unless listed
// in static_scalar_args (then StaticScalar); Generator? -> TensorArg holding a
// u64[2] key for stablehlo.rng_bit_generator (fresh per call);
// Layout/Device/MemoryFormat/pin_memory and any absent optional -> NoneArg.
struct OpCall {
  std::string_view name;  // "add", "_softmax", "sum"
  // The overload of the form that was called ("Tensor", "out", "Scalar_out",
  // ...): functional, in-place and out= forms spell it differently, so rules
  // tell overloads apart by their arguments, not by this name.
  std::string_view overload;
  std::vector<Arg> args;
  // torch.get_default_dtype(): what an integer tensor combined with a Python
  // float promotes to.
  ElementType default_float = ElementType::kF32;
  // torch.get_float32_matmul_precision() for float32 matmuls: "highest" (kHighest,
  // as CPU computes), "high" (kHigh) or "medium" (kDefault), the faster
  // multi-pass and single-pass bf16 modes of TPUs. Other types ignore it.
  stablehlo::Precision f32_matmul_precision = stablehlo::Precision::kHighest;
  // For out= calls, the dtypes of the out tensors (the only dtype source of
  // factories such as arange.out); empty for functional and in-place calls.
  std::vector<ElementType> out_element_types;
  // Where the rule's checks on the data go (DESIGN.md, "Errors only the device
  // can see"); null where nobody reports them (a rule run on its own).
  std::vector<DeviceCheck>* checks = nullptr;

  // Adds a check the program computes; it fails at run time, not here.
  void check_on_device(DeviceCheck check) const;

  size_t size() const { return args.size(); }
  bool is_none(size_t i) const;
  // Accessors throw InvalidArgument naming the position on a type mismatch.
  const TensorArg& tensor(size_t i) const;
  std::optional<TensorArg> optional_tensor(size_t i) const;
  const std::vector<TensorArg>& tensors(size_t i) const;
  int64_t int_at(size_t i) const;
  std::optional<int64_t> optional_int(size_t i) const;
  double double_at(size_t i) const;
  bool bool_at(size_t i) const;
  std::string_view string_at(size_t i) const;
  const std::vector<int64_t>& ints(size_t i) const;
  std::optional<std::vector<int64_t>> optional_ints(size_t i) const;
  std::optional<ElementType> optional_dtype(size_t i) const;
  const StaticScalar& static_scalar(size_t i) const;
};

}  // namespace torch_pjrt::lowering
