#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace torch_pjrt::stablehlo {

// Every element type XLA can hold that a PyTorch dtype maps to.
enum class ElementType : uint8_t {
  kPred,
  kS8,
  kS16,
  kS32,
  kS64,
  kU8,
  kU16,
  kU32,
  kU64,
  kF16,
  kBF16,
  kF32,
  kF64,
  kC64,
  kC128,
  kF8E5M2,
  kF8E4M3FN,
  kF8E5M2FNUZ,
  kF8E4M3FNUZ,
};

// MLIR spelling: "i1", "i8", "ui8", "f32", "complex<f32>", "f8E5M2", ...
std::string_view mlir_name(ElementType type);
// Short human name for messages: "pred", "s32", "f32", "c64", "f8e5m2", ...
std::string_view short_name(ElementType type);
int64_t byte_width(ElementType type);
bool is_floating(ElementType type);  // f8 types, f16, bf16, f32, f64
bool is_complex(ElementType type);
bool is_integral(ElementType type);  // signed or unsigned integers, not pred
bool is_signed_integral(ElementType type);
bool is_unsigned_integral(ElementType type);
// The real type of a complex type's parts (c64 -> f32); identity otherwise.
ElementType real_part_type(ElementType type);

// A ranked tensor type with static dimensions.
struct TensorType {
  ElementType element = ElementType::kF32;
  std::vector<int64_t> dims;

  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
  int64_t numel() const;
  std::string mlir() const;       // "tensor<2x3xf32>", "tensor<f32>" for rank 0
  std::string to_string() const;  // "f32[2,3]"
  bool operator==(const TensorType&) const = default;
};

}  // namespace torch_pjrt::stablehlo
