#include "stablehlo/element_type.h"

#include <array>

namespace torch_pjrt::stablehlo {
namespace {

struct TypeInfo {
  std::string_view mlir;
  std::string_view short_name;
  int64_t bytes;
};

// Indexed by the enum's value; the static_assert below keeps both in step.
constexpr std::array<TypeInfo, 19> kInfo = {{
    {"i1", "pred", 1},
    {"i8", "s8", 1},
    {"i16", "s16", 2},
    {"i32", "s32", 4},
    {"i64", "s64", 8},
    {"ui8", "u8", 1},
    {"ui16", "u16", 2},
    {"ui32", "u32", 4},
    {"ui64", "u64", 8},
    {"f16", "f16", 2},
    {"bf16", "bf16", 2},
    {"f32", "f32", 4},
    {"f64", "f64", 8},
    {"complex<f32>", "c64", 8},
    {"complex<f64>", "c128", 16},
    {"f8E5M2", "f8e5m2", 1},
    {"f8E4M3FN", "f8e4m3fn", 1},
    {"f8E5M2FNUZ", "f8e5m2fnuz", 1},
    {"f8E4M3FNUZ", "f8e4m3fnuz", 1},
}};
static_assert(static_cast<size_t>(ElementType::kF8E4M3FNUZ) + 1 == kInfo.size());

const TypeInfo& info(ElementType type) { return kInfo[static_cast<size_t>(type)]; }

void append_int(std::string& out, int64_t v) { out += std::to_string(v); }

}  // namespace

std::string_view mlir_name(ElementType type) { return info(type).mlir; }
std::string_view short_name(ElementType type) { return info(type).short_name; }
int64_t byte_width(ElementType type) { return info(type).bytes; }

bool is_floating(ElementType type) {
  switch (type) {
    case ElementType::kF16:
    case ElementType::kBF16:
    case ElementType::kF32:
    case ElementType::kF64:
    case ElementType::kF8E5M2:
    case ElementType::kF8E4M3FN:
    case ElementType::kF8E5M2FNUZ:
    case ElementType::kF8E4M3FNUZ:
      return true;
    default:
      return false;
  }
}

bool is_complex(ElementType type) {
  return type == ElementType::kC64 || type == ElementType::kC128;
}

bool is_signed_integral(ElementType type) {
  return type == ElementType::kS8 || type == ElementType::kS16 || type == ElementType::kS32 ||
         type == ElementType::kS64;
}

bool is_unsigned_integral(ElementType type) {
  return type == ElementType::kU8 || type == ElementType::kU16 || type == ElementType::kU32 ||
         type == ElementType::kU64;
}

bool is_integral(ElementType type) {
  return is_signed_integral(type) || is_unsigned_integral(type);
}

ElementType real_part_type(ElementType type) {
  if (type == ElementType::kC64) return ElementType::kF32;
  if (type == ElementType::kC128) return ElementType::kF64;
  return type;
}

int64_t TensorType::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string TensorType::mlir() const {
  std::string out = "tensor<";
  for (int64_t d : dims) {
    append_int(out, d);
    out += 'x';
  }
  out += mlir_name(element);
  out += '>';
  return out;
}

std::string TensorType::to_string() const {
  std::string out(short_name(element));
  out += '[';
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ',';
    append_int(out, dims[i]);
  }
  out += ']';
  return out;
}

}  // namespace torch_pjrt::stablehlo
