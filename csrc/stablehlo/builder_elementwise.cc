#include <array>

#include "stablehlo/builder.h"
#include "stablehlo/builder_impl.h"

namespace torch_pjrt::stablehlo {
namespace {

// Which element types an op accepts.
enum Accepts : uint8_t {
  kPredOk = 1,
  kSigned = 2,
  kUnsigned = 4,
  kFloat = 8,
  kComplex = 16,
  kInt = kSigned | kUnsigned,
  kAll = kPredOk | kInt | kFloat | kComplex,
  kNumeric = kInt | kFloat | kComplex,
  kInexact = kFloat | kComplex,
  kLogical = kPredOk | kInt,
};

enum class ResultRule : uint8_t { kSame, kPred, kRealPart, kComplexOfParts };

struct OpInfo {
  std::string_view name;
  uint8_t accepts;
  ResultRule result = ResultRule::kSame;
};

uint8_t category(ElementType t) {
  if (t == ElementType::kPred) return kPredOk;
  if (is_signed_integral(t)) return kSigned;
  if (is_unsigned_integral(t)) return kUnsigned;
  if (is_complex(t)) return kComplex;
  return kFloat;
}

std::string describe(uint8_t accepts) {
  std::string out;
  auto add = [&](uint8_t bit, std::string_view word) {
    if (!(accepts & bit)) return;
    if (!out.empty()) out += ", ";
    out += word;
  };
  add(kPredOk, "pred");
  if ((accepts & kInt) == kInt) {
    add(kSigned, "integer");
  } else {
    add(kSigned, "signed integer");
    add(kUnsigned, "unsigned integer");
  }
  add(kFloat, "floating-point");
  add(kComplex, "complex");
  return out;
}

void check_accepts(const OpInfo& info, ElementType t) {
  if (!(category(t) & info.accepts)) {
    detail::fail(info.name, "element type " + std::string(short_name(t)) +
                                " is not supported (expects " + describe(info.accepts) + ")");
  }
}

ElementType result_element(const OpInfo& info, ElementType t) {
  switch (info.result) {
    case ResultRule::kSame:
      return t;
    case ResultRule::kPred:
      return ElementType::kPred;
    case ResultRule::kRealPart:
      return real_part_type(t);
    case ResultRule::kComplexOfParts:
      return t == ElementType::kF64 ? ElementType::kC128 : ElementType::kC64;
  }
  return t;
}

const OpInfo& unary_info(UnaryOp op) {
  static const std::array<OpInfo, 38> kTable = {{
      {"stablehlo.abs", kSigned | kInexact, ResultRule::kRealPart},
      {"stablehlo.negate", kNumeric},
      {"stablehlo.sign", kSigned | kInexact},
      {"stablehlo.exponential", kInexact},
      {"stablehlo.exponential_minus_one", kInexact},
      {"stablehlo.log", kInexact},
      {"stablehlo.log_plus_one", kInexact},
      {"stablehlo.sqrt", kInexact},
      {"stablehlo.rsqrt", kInexact},
      {"stablehlo.cbrt", kInexact},
      {"stablehlo.sine", kInexact},
      {"stablehlo.cosine", kInexact},
      {"stablehlo.tan", kInexact},
      {"stablehlo.tanh", kInexact},
      {"stablehlo.logistic", kInexact},
      {"stablehlo.floor", kFloat},
      {"stablehlo.ceil", kFloat},
      {"stablehlo.round_nearest_even", kFloat},
      {"stablehlo.round_nearest_afz", kFloat},
      {"stablehlo.not", kLogical},
      {"stablehlo.is_finite", kFloat, ResultRule::kPred},
      {"stablehlo.real", kInexact, ResultRule::kRealPart},
      {"stablehlo.imag", kInexact, ResultRule::kRealPart},
      {"stablehlo.popcnt", kInt},
      {"stablehlo.count_leading_zeros", kInt},
      {"chlo.erf", kFloat},
      {"chlo.erf_inv", kFloat},
      {"chlo.lgamma", kFloat},
      {"chlo.digamma", kFloat},
      {"chlo.asin", kInexact},
      {"chlo.acos", kInexact},
      {"chlo.atan", kInexact},
      {"chlo.sinh", kInexact},
      {"chlo.cosh", kInexact},
      {"chlo.asinh", kInexact},
      {"chlo.acosh", kInexact},
      {"chlo.atanh", kInexact},
      {"chlo.erfc", kFloat},
  }};
  static_assert(static_cast<size_t>(UnaryOp::kErfc) + 1 == kTable.size());
  return kTable[static_cast<size_t>(op)];
}

const OpInfo& binary_info(BinaryOp op) {
  static const std::array<OpInfo, 19> kTable = {{
      {"stablehlo.add", kAll},
      {"stablehlo.subtract", kNumeric},
      {"stablehlo.multiply", kAll},
      {"stablehlo.divide", kNumeric},
      {"stablehlo.remainder", kNumeric},
      {"stablehlo.power", kNumeric},
      {"stablehlo.maximum", kAll},
      {"stablehlo.minimum", kAll},
      {"stablehlo.and", kLogical},
      {"stablehlo.or", kLogical},
      {"stablehlo.xor", kLogical},
      {"stablehlo.shift_left", kInt},
      {"stablehlo.shift_right_arithmetic", kInt},
      {"stablehlo.shift_right_logical", kInt},
      {"stablehlo.atan2", kInexact},
      {"stablehlo.complex", kFloat, ResultRule::kComplexOfParts},
      {"chlo.next_after", kFloat},
      {"chlo.polygamma", kFloat},
      {"chlo.zeta", kFloat},
  }};
  static_assert(static_cast<size_t>(BinaryOp::kZeta) + 1 == kTable.size());
  return kTable[static_cast<size_t>(op)];
}

void check_same_type(std::string_view op, const TensorType& a, const TensorType& b,
                     std::string_view what = "operands") {
  if (a != b) {
    detail::fail(op, std::string(what) + " must have identical types, got " + a.to_string() +
                         " and " + b.to_string());
  }
}

std::string_view direction_name(ComparisonDirection d) {
  switch (d) {
    case ComparisonDirection::kEQ:
      return "EQ";
    case ComparisonDirection::kNE:
      return "NE";
    case ComparisonDirection::kGE:
      return "GE";
    case ComparisonDirection::kGT:
      return "GT";
    case ComparisonDirection::kLE:
      return "LE";
    case ComparisonDirection::kLT:
      return "LT";
  }
  return "EQ";
}

// Spelled out always: the default XLA picks for integers is SIGNED, which
// would silently compare unsigned values wrongly.
std::string_view compare_type(ElementType t) {
  if (is_floating(t) || is_complex(t)) return "FLOAT";
  if (is_signed_integral(t)) return "SIGNED";
  return "UNSIGNED";
}

}  // namespace

Value Builder::unary(UnaryOp op, Value x) {
  const OpInfo& info = unary_info(op);
  impl_->check_operand(info.name, x);
  const TensorType& t = type(x);
  check_accepts(info, t.element);
  if (op == UnaryOp::kCbrt && is_complex(t.element)) {
    detail::fail(info.name, "complex operands are not supported by XLA");
  }
  return impl_->append1(info.name, {x}, {result_element(info, t.element), t.dims});
}

Value Builder::binary(BinaryOp op, Value lhs, Value rhs) {
  const OpInfo& info = binary_info(op);
  impl_->check_operand(info.name, lhs);
  impl_->check_operand(info.name, rhs);
  const TensorType& a = type(lhs);
  check_same_type(info.name, a, type(rhs));
  check_accepts(info, a.element);
  if (op == BinaryOp::kComplex && a.element != ElementType::kF32 &&
      a.element != ElementType::kF64) {
    detail::fail(info.name, "parts must be f32 or f64, got " + std::string(short_name(a.element)));
  }
  return impl_->append1(info.name, {lhs, rhs}, {result_element(info, a.element), a.dims});
}

Value Builder::compare(ComparisonDirection direction, Value lhs, Value rhs) {
  constexpr std::string_view kOp = "stablehlo.compare";
  impl_->check_operand(kOp, lhs);
  impl_->check_operand(kOp, rhs);
  const TensorType& a = type(lhs);
  check_same_type(kOp, a, type(rhs));
  if (is_complex(a.element) && direction != ComparisonDirection::kEQ &&
      direction != ComparisonDirection::kNE) {
    detail::fail(kOp, "complex operands only support EQ and NE");
  }
  std::string attr = "comparison_direction = #stablehlo<comparison_direction ";
  attr += direction_name(direction);
  attr += ">, compare_type = #stablehlo<comparison_type ";
  attr += compare_type(a.element);
  attr += '>';
  return impl_->append1(kOp, {lhs, rhs}, {ElementType::kPred, a.dims}, std::move(attr));
}

Value Builder::select(Value pred, Value on_true, Value on_false) {
  constexpr std::string_view kOp = "stablehlo.select";
  impl_->check_operand(kOp, pred);
  impl_->check_operand(kOp, on_true);
  impl_->check_operand(kOp, on_false);
  const TensorType& p = type(pred);
  const TensorType& t = type(on_true);
  check_same_type(kOp, t, type(on_false), "on_true and on_false");
  if (p.element != ElementType::kPred) {
    detail::fail(kOp, "predicate must be pred, got " + p.to_string());
  }
  if (p.rank() != 0 && p.dims != t.dims) {
    detail::fail(
        kOp, "predicate " + p.to_string() + " must be 0-d or have the shape of " + t.to_string());
  }
  return impl_->append1(kOp, {pred, on_true, on_false}, t);
}

Value Builder::clamp(Value min, Value x, Value max) {
  constexpr std::string_view kOp = "stablehlo.clamp";
  impl_->check_operand(kOp, min);
  impl_->check_operand(kOp, x);
  impl_->check_operand(kOp, max);
  const TensorType& t = type(x);
  if (is_complex(t.element)) detail::fail(kOp, "complex operands are not supported");
  for (Value bound : {min, max}) {
    const TensorType& b = type(bound);
    if (b.element != t.element || (b.rank() != 0 && b.dims != t.dims)) {
      detail::fail(kOp, "bound " + b.to_string() + " must be 0-d or have the type of operand " +
                            t.to_string());
    }
  }
  return impl_->append1(kOp, {min, x, max}, t);
}

Value Builder::convert(Value x, ElementType to) {
  constexpr std::string_view kOp = "stablehlo.convert";
  impl_->check_operand(kOp, x);
  const TensorType& t = type(x);
  if (t.element == to) return x;
  if (is_complex(t.element) && !is_complex(to)) {
    detail::fail(kOp, "cannot convert complex " + t.to_string() + " to " +
                          std::string(short_name(to)) + "; take the real part first");
  }
  return impl_->append1(kOp, {x}, {to, t.dims});
}

Value Builder::bitcast_convert(Value x, const TensorType& to) {
  constexpr std::string_view kOp = "stablehlo.bitcast_convert";
  impl_->check_operand(kOp, x);
  const TensorType& from = type(x);
  if (from.element == ElementType::kPred || to.element == ElementType::kPred) {
    detail::fail(
        kOp, "pred has no defined bit layout (" + from.to_string() + " -> " + to.to_string() + ")");
  }
  const int64_t from_width = byte_width(from.element);
  const int64_t to_width = byte_width(to.element);
  std::vector<int64_t> expected = from.dims;
  if (from_width > to_width) {
    expected.push_back(from_width / to_width);
  } else if (from_width < to_width) {
    if (from.rank() == 0 || from.dims.back() != to_width / from_width) {
      detail::fail(kOp, "widening " + from.to_string() + " to " +
                            std::string(short_name(to.element)) + " needs a last dimension of " +
                            std::to_string(to_width / from_width));
    }
    expected.pop_back();
  }
  if (expected != to.dims) {
    TensorType want{to.element, expected};
    detail::fail(kOp, "result of " + from.to_string() + " must be " + want.to_string() + ", got " +
                          to.to_string());
  }
  return impl_->append1(kOp, {x}, to);
}

}  // namespace torch_pjrt::stablehlo
