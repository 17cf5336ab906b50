// Integer arithmetic on bits: gcd, lcm, bitwise shifts and hash_tensor.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::is_integral;
using stablehlo::is_signed_integral;
using stablehlo::UnaryOp;

struct IntegerPair {
  Value lhs;
  Value rhs;
  ElementType type;
};

// Both operands in their result type, broadcast together; only integer result
// types have a CPU kernel (bool included where `accepts_bool`).
IntegerPair integer_operands(Builder& b, const OpCall& call, std::string_view kernel,
                             bool accepts_bool = false) {
  const TensorArg& lhs = call.tensor(0);
  const TensorArg& rhs = call.tensor(1);
  const ElementType type = result_type(b, {lhs, rhs}, call.default_float);
  if (!is_integral(type) && !(accepts_bool && type == ElementType::kPred))
    throw_no_kernel(kernel, type);
  std::vector<Value> v = promote_and_broadcast(b, {lhs.value, rhs.value}, type);
  return {v[0], v[1], type};
}

Value zeros_like(Builder& b, Value x) { return b.zeros(b.type(x)); }

Value is_zero(Builder& b, Value x) {
  return b.compare(ComparisonDirection::kEQ, x, zeros_like(b, x));
}

// |x| in x's own type: the most negative value stays itself, as C's abs stored
// back into the type gives.
Value wrapping_abs(Builder& b, Value x) {
  return is_signed_integral(b.element_type(x)) ? b.unary(UnaryOp::kAbs, x) : x;
}

// Euclid's algorithm on |a| and |b|, elementwise, until every remainder is 0.
// C's remainder keeps the dividend's sign, so a most-negative input can leave a
// negative gcd (gcd(INT64_MIN, 6) = -2 on CPU), which this reproduces.
Value euclid_gcd(Builder& b, Value lhs, Value rhs) {
  Value a = wrapping_abs(b, lhs);
  Value c = wrapping_abs(b, rhs);
  if (b.type(a).numel() == 0) return c;
  const TensorType type = b.type(a);
  auto state = b.while_loop(
      {a, c},
      [&type](Builder& r, const std::vector<Value>& s) {
        Value nonzero = r.compare(ComparisonDirection::kNE, s[0], r.zeros(type));
        std::vector<int64_t> all(type.rank());
        for (int64_t d = 0; d < type.rank(); ++d) all[d] = d;
        Value any = r.reduce(nonzero, r.constant_int(0, ElementType::kPred), all,
                             [](Builder& q, const std::vector<Value>& v) {
                               return std::vector<Value>{q.binary(BinaryOp::kOr, v[0], v[1])};
                             });
        return std::vector<Value>{any};
      },
      [&type](Builder& r, const std::vector<Value>& s) {
        Value done = r.compare(ComparisonDirection::kEQ, s[0], r.zeros(type));
        // Lanes already done divide by 1 so no lane divides by zero.
        Value divisor = r.select(done, r.splat(1, type), s[0]);
        Value rem = r.binary(BinaryOp::kRemainder, s[1], divisor);
        return std::vector<Value>{r.select(done, s[0], rem), r.select(done, s[1], s[0])};
      });
  return state[1];
}

std::vector<Value> gcd_rule(Builder& b, const OpCall& call) {
  IntegerPair p = integer_operands(b, call, "gcd_cpu");
  return {euclid_gcd(b, p.lhs, p.rhs)};
}

// lcm = |a / gcd * b|, 0 when the gcd is 0. CPU computes the product and its
// absolute value in C's int for types narrower than int, and wraps on storing.
std::vector<Value> lcm_rule(Builder& b, const OpCall& call) {
  IntegerPair p = integer_operands(b, call, "lcm_cpu");
  Value g = euclid_gcd(b, p.lhs, p.rhs);
  const bool narrow = stablehlo::byte_width(p.type) < 4;
  const ElementType compute = narrow ? ElementType::kS32 : p.type;
  Value a = b.convert(p.lhs, compute);
  Value c = b.convert(p.rhs, compute);
  Value gc = b.convert(g, compute);
  Value zero = is_zero(b, gc);
  Value safe_g = b.select(zero, b.splat(1, b.type(gc)), gc);
  Value product = wrapping_abs(b, b.mul(b.div(a, safe_g), c));
  return {b.convert(b.select(zero, zeros_like(b, product), product), p.type)};
}

int64_t bit_width(ElementType type) { return 8 * stablehlo::byte_width(type); }

// Shift counts outside [0, bits) shift every bit out on CPU: left shifts give
// 0, right shifts give the sign fill. Explicit here, since what StableHLO's
// shifts give for such counts is up to the backend.
std::vector<Value> left_shift_rule(Builder& b, const OpCall& call) {
  IntegerPair p = integer_operands(b, call, "lshift_cpu");
  Value out_of_range = b.compare(ComparisonDirection::kGE, p.rhs,
                                 b.splat(static_cast<double>(bit_width(p.type)), b.type(p.rhs)));
  if (is_signed_integral(p.type))
    out_of_range = b.binary(BinaryOp::kOr, out_of_range,
                            b.compare(ComparisonDirection::kLT, p.rhs, zeros_like(b, p.rhs)));
  Value shifted =
      b.binary(BinaryOp::kShiftLeft, p.lhs, b.select(out_of_range, zeros_like(b, p.rhs), p.rhs));
  return {b.select(out_of_range, zeros_like(b, shifted), shifted)};
}

std::vector<Value> right_shift_rule(Builder& b, const OpCall& call) {
  IntegerPair p = integer_operands(b, call, "rshift_cpu");
  const bool is_signed = is_signed_integral(p.type);
  const double last_bit = static_cast<double>(bit_width(p.type) - 1);
  Value out_of_range = b.compare(ComparisonDirection::kGT, p.rhs, b.splat(last_bit, b.type(p.rhs)));
  if (is_signed)
    out_of_range = b.binary(BinaryOp::kOr, out_of_range,
                            b.compare(ComparisonDirection::kLT, p.rhs, zeros_like(b, p.rhs)));
  // Shifting by bits - 1 leaves only the sign fill (0 for unsigned types).
  Value count = b.select(out_of_range, b.splat(last_bit, b.type(p.rhs)), p.rhs);
  return {b.binary(is_signed ? BinaryOp::kShiftRightArithmetic : BinaryOp::kShiftRightLogical,
                   p.lhs, count)};
}

// hash_tensor(self, dim, keepdim, mode=0): the XOR of the elements' 64-bit
// patterns, floats widened to double and integers (bool included) sign- or
// zero-extended to 64 bits first, as CPU's kernel does.
std::vector<Value> hash_tensor_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  const int64_t mode = call.size() > 3 ? call.int_at(3) : 0;
  if (mode != 0) throw InvalidArgument("Unknown hash_tensor mode: " + std::to_string(mode));
  if (stablehlo::is_complex(type)) throw_no_kernel("xor_sum_cpu", type);
  const std::vector<int64_t> dims = b.dims(x);
  const auto rank = static_cast<int64_t>(dims.size());
  std::vector<int64_t> requested =
      call.size() > 1 && !call.is_none(1) ? call.ints(1) : std::vector<int64_t>{};
  const bool keepdim = call.size() > 2 && call.bool_at(2);
  std::vector<bool> reduced(std::max<int64_t>(rank, 1), requested.empty());
  std::vector<bool> seen(reduced.size(), false);
  for (int64_t d : requested) {
    const int64_t w = wrap_dim(d, rank);
    if (seen[w])
      throw InvalidArgument("dim " + std::to_string(w) +
                            " appears multiple times in the list of dims");
    seen[w] = reduced[w] = true;
  }
  if (b.type(x).numel() == 0) {
    if (requested.empty())
      throw InvalidArgument(
          "hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify "
          "the reduction dim with the 'dim' argument.");
    for (int64_t d = 0; d < rank; ++d)
      if (reduced[d] && dims[d] == 0)
        throw IndexOutOfRange("hash_tensor: Expected reduction dim " + std::to_string(d) +
                              " to have non-zero size.");
  }
  Value wide =
      stablehlo::is_floating(type)
          ? b.bitcast_convert(b.convert(x, ElementType::kF64), TensorType{ElementType::kU64, dims})
          : b.convert(
                b.convert(x, is_signed_integral(type) ? ElementType::kS64 : ElementType::kU64),
                ElementType::kU64);
  std::vector<int64_t> axes, kept;
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) {
      axes.push_back(d);
      if (keepdim) kept.push_back(1);
    } else {
      kept.push_back(dims[d]);
    }
  }
  Value hash = b.reduce(wide, b.constant_int(0, ElementType::kU64), axes,
                        [](Builder& r, const std::vector<Value>& v) {
                          return std::vector<Value>{r.binary(BinaryOp::kXor, v[0], v[1])};
                        });
  return {b.reshape(hash, kept)};
}

}  // namespace

void add_integer_bit_rules(RuleTable& table) {
  table.add("gcd", {&gcd_rule, {}});
  table.add("lcm", {&lcm_rule, {}});
  table.add("bitwise_left_shift", {&left_shift_rule, {}});
  table.add("__lshift__", {&left_shift_rule, {}});
  table.add("bitwise_right_shift", {&right_shift_rule, {}});
  table.add("__rshift__", {&right_shift_rule, {}});
  table.add("hash_tensor", {&hash_tensor_rule, {}});
}

}  // namespace torch_pjrt::lowering
