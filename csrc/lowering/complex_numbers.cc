// Building and conjugating complex tensors: complex(real, imag),
// polar(abs, angle) and conj_physical (what resolving a conjugate view, and
// conj_physical_, compute).
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::is_complex;
using stablehlo::UnaryOp;

// Both parts must share one floating type, as CPU's complex and polar demand
// (no promotion); they broadcast against each other.
std::vector<Value> complex_parts(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  Value y = call.tensor(1).value;
  const ElementType tx = b.element_type(x);
  const ElementType ty = b.element_type(y);
  auto is_part_type = [](ElementType t) {
    return t == ElementType::kF16 || t == ElementType::kF32 || t == ElementType::kF64;
  };
  if (!is_part_type(tx) || !is_part_type(ty)) {
    throw InvalidArgument("Expected both inputs to be Half, Float or Double tensors but got " +
                          std::string(scalar_type_name(tx)) + " and " +
                          std::string(scalar_type_name(ty)));
  }
  if (tx != ty) {
    throw InvalidArgument("Expected object of scalar type " + std::string(scalar_type_name(tx)) +
                          " but got scalar type " + std::string(scalar_type_name(ty)) +
                          " for second argument");
  }
  if (tx == ElementType::kF16) {
    throw Unsupported(std::string(call.name) + ": ComplexHalf is not supported on the tpu device");
  }
  const std::vector<int64_t> shape = broadcast_shapes(b.dims(x), b.dims(y));
  return {broadcast_to(b, x, shape), broadcast_to(b, y, shape)};
}

std::vector<Value> complex_rule(Builder& b, const OpCall& call) {
  std::vector<Value> parts = complex_parts(b, call);
  return {b.binary(BinaryOp::kComplex, parts[0], parts[1])};
}

// abs * cos(angle) + i abs * sin(angle), products taken as they are (an
// infinite abs at angle 0 gives a NaN imaginary part, as on CPU).
std::vector<Value> polar_rule(Builder& b, const OpCall& call) {
  std::vector<Value> parts = complex_parts(b, call);
  Value re = b.mul(parts[0], b.unary(UnaryOp::kCos, parts[1]));
  Value im = b.mul(parts[0], b.unary(UnaryOp::kSin, parts[1]));
  return {b.binary(BinaryOp::kComplex, re, im)};
}

std::vector<Value> conj_physical_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  if (!is_complex(b.element_type(x))) return {x};
  return {b.binary(BinaryOp::kComplex, b.unary(UnaryOp::kReal, x),
                   b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kImag, x)))};
}

}  // namespace

void add_complex_number_rules(RuleTable& table) {
  table.add("complex", RuleInfo{&complex_rule, {}});
  table.add("polar", RuleInfo{&polar_rule, {}});
  table.add("conj_physical", RuleInfo{&conj_physical_rule, {}});
  table.add("_conj_physical", RuleInfo{&conj_physical_rule, {}});
}

}  // namespace torch_pjrt::lowering
