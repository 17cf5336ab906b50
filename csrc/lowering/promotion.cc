#include "lowering/promotion.h"

#include <optional>
#include <string>

namespace torch_pjrt::lowering {
namespace {

using stablehlo::is_complex;
using stablehlo::is_floating;
using stablehlo::is_integral;

bool is_float8(ElementType t) {
  return t == ElementType::kF8E5M2 || t == ElementType::kF8E4M3FN ||
         t == ElementType::kF8E5M2FNUZ || t == ElementType::kF8E4M3FNUZ;
}

// PyTorch supports u16/u32/u64 only barely: they promote with floats alone.
bool is_wide_unsigned(ElementType t) {
  return t == ElementType::kU16 || t == ElementType::kU32 || t == ElementType::kU64;
}

std::string torch_name(ElementType t) { return std::string(stablehlo::short_name(t)); }

ElementType wider(ElementType a, ElementType b) {
  return stablehlo::byte_width(a) >= stablehlo::byte_width(b) ? a : b;
}

ElementType complex_of(ElementType real) {
  switch (real) {
    case ElementType::kF64:
      return ElementType::kC128;
    case ElementType::kF32:
    case ElementType::kBF16:  // PyTorch maps bf16 to complex64 as well
      return ElementType::kC64;
    default:
      // f16 -> complex32, which XLA cannot hold.
      throw Unsupported("no complex type for " + torch_name(real));
  }
}

// c10::promoteTypes: the type both a and b convert to without losing their
// category; a lookup table in PyTorch, spelled out as its rules here.
ElementType promote_types(ElementType a, ElementType b) {
  if (a == b) return a;
  if (is_float8(a) || is_float8(b)) {
    throw InvalidArgument("Promotion for Float8 Types is not supported, attempted to promote " +
                          torch_name(a) + " and " + torch_name(b));
  }
  if (is_wide_unsigned(a) || is_wide_unsigned(b)) {
    if (is_floating(a)) return a;
    if (is_floating(b)) return b;
    throw InvalidArgument(
        "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote " +
        torch_name(a) + " and " + torch_name(b));
  }
  if (a == ElementType::kPred) return b;
  if (b == ElementType::kPred) return a;
  if (is_complex(a) || is_complex(b)) {
    if (is_complex(a) && is_complex(b)) return wider(a, b);
    ElementType complex = is_complex(a) ? a : b;
    ElementType other = is_complex(a) ? b : a;
    // A complex keeps at least the precision of a real floating partner.
    if (other == ElementType::kF64) return ElementType::kC128;
    return complex;
  }
  if (is_floating(a) || is_floating(b)) {
    if (is_floating(a) && is_floating(b)) {
      // Neither half type holds the other.
      if (stablehlo::byte_width(a) == 2 && stablehlo::byte_width(b) == 2) return ElementType::kF32;
      return wider(a, b);
    }
    return is_floating(a) ? a : b;
  }
  // Both integers, u8 the only unsigned one here: u8 with a signed type needs
  // one more bit than either has when the signed one is s8.
  if (a == ElementType::kU8 || b == ElementType::kU8) {
    ElementType other = a == ElementType::kU8 ? b : a;
    return other == ElementType::kS8 ? ElementType::kS16 : other;
  }
  return wider(a, b);
}

std::optional<ElementType> promote_skip_none(std::optional<ElementType> a, ElementType b) {
  return a ? promote_types(*a, b) : b;
}

// at::native's combine_categories: `higher` comes from operands of higher
// priority (dimensioned tensors over 0-d tensors over Python numbers); `lower`
// only matters when it is of a higher category.
std::optional<ElementType> combine_categories(std::optional<ElementType> higher,
                                              std::optional<ElementType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (is_complex(*higher)) return higher;
  if (is_complex(*lower)) {
    if (is_floating(*higher)) return complex_of(*higher);
    return lower;
  }
  if (is_floating(*higher)) return higher;
  if (*higher == ElementType::kPred || is_floating(*lower)) return promote_types(*higher, *lower);
  return higher;
}

}  // namespace

ElementType result_type(const Builder& b, const std::vector<TensorArg>& operands,
                        ElementType default_float) {
  std::optional<ElementType> dimensioned, zero_dim, wrapped;
  for (const TensorArg& operand : operands) {
    ElementType type = b.element_type(operand.value);
    if (operand.is_scalar) {
      // A Python float counts as the default dtype, a Python complex as its
      // complex; Python ints and bools keep s64 / pred.
      if (is_complex(type))
        type = complex_of(default_float);
      else if (is_floating(type))
        type = default_float;
    }
    if (b.rank(operand.value) > 0) {
      dimensioned = promote_skip_none(dimensioned, type);
    } else if (operand.is_scalar) {
      wrapped = promote_skip_none(wrapped, type);
    } else {
      zero_dim = promote_skip_none(zero_dim, type);
    }
  }
  std::optional<ElementType> result =
      combine_categories(dimensioned, combine_categories(zero_dim, wrapped));
  if (!result) throw InvalidArgument("result_type: no operands to promote");
  return *result;
}

bool can_cast(ElementType from, ElementType to) {
  if (is_complex(from) && !is_complex(to)) return false;
  if (is_floating(from) && is_integral(to)) return false;
  if (from != ElementType::kPred && to == ElementType::kPred) return false;
  return true;
}

ElementType to_floating(ElementType type, ElementType default_float) {
  if (is_floating(type) || is_complex(type)) return type;
  return default_float;
}

ElementType opmath_type(ElementType type) {
  return type == ElementType::kBF16 || type == ElementType::kF16 ? ElementType::kF32 : type;
}

}  // namespace torch_pjrt::lowering
