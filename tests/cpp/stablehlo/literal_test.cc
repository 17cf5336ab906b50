#include "stablehlo/literal.h"

#include <gtest/gtest.h>

#include <limits>

namespace torch_pjrt::stablehlo {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(FloatBits, Bf16RoundsToNearestEven) {
  EXPECT_EQ(float_bits(1.0, ElementType::kBF16), 0x3F80u);
  EXPECT_EQ(float_bits(1.0 + 1.0 / 256, ElementType::kBF16), 0x3F80u);  // tie -> even
  EXPECT_EQ(float_bits(1.0 + 3.0 / 256, ElementType::kBF16), 0x3F82u);  // tie -> even
  EXPECT_EQ(float_bits(-kInf, ElementType::kBF16), 0xFF80u);
  EXPECT_EQ(float_bits(kNaN, ElementType::kBF16), 0x7FC0u);
  EXPECT_EQ(float_bits(3.4e38, ElementType::kBF16), 0x7F80u);  // overflows to inf
  EXPECT_EQ(float_bits(-0.0, ElementType::kBF16), 0x8000u);
}

TEST(FloatBits, F16NormalsSubnormalsOverflow) {
  EXPECT_EQ(float_bits(1.0, ElementType::kF16), 0x3C00u);
  EXPECT_EQ(float_bits(65504.0, ElementType::kF16), 0x7BFFu);
  EXPECT_EQ(float_bits(65520.0, ElementType::kF16), 0x7C00u);  // tie rounds up to inf
  EXPECT_EQ(float_bits(65519.0, ElementType::kF16), 0x7BFFu);
  EXPECT_EQ(float_bits(5.960464477539063e-08, ElementType::kF16), 0x0001u);   // 2^-24
  EXPECT_EQ(float_bits(2.9802322387695312e-08, ElementType::kF16), 0x0000u);  // tie -> 0
  EXPECT_EQ(float_bits(6.097555160522461e-05, ElementType::kF16), 0x03FFu);
  EXPECT_EQ(float_bits(6.1e-05, ElementType::kF16), 0x03FFu);
  EXPECT_EQ(float_bits(6.102e-05, ElementType::kF16), 0x0400u);  // up to the min normal
}

TEST(FloatBits, Float8Flavours) {
  EXPECT_EQ(float_bits(1.0, ElementType::kF8E5M2), 0x3Cu);
  EXPECT_EQ(float_bits(kInf, ElementType::kF8E5M2), 0x7Cu);
  EXPECT_EQ(float_bits(1.0, ElementType::kF8E4M3FN), 0x38u);
  EXPECT_EQ(float_bits(448.0, ElementType::kF8E4M3FN), 0x7Eu);
  EXPECT_EQ(float_bits(464.0, ElementType::kF8E4M3FN), 0x7Eu);  // tie -> even (448)
  EXPECT_EQ(float_bits(480.0, ElementType::kF8E4M3FN), 0x7Fu);  // no inf: NaN
  EXPECT_EQ(float_bits(-kInf, ElementType::kF8E4M3FN), 0xFFu);
  EXPECT_EQ(float_bits(1.0, ElementType::kF8E4M3FNUZ), 0x40u);
  EXPECT_EQ(float_bits(240.0, ElementType::kF8E4M3FNUZ), 0x7Fu);
  EXPECT_EQ(float_bits(kNaN, ElementType::kF8E4M3FNUZ), 0x80u);
  EXPECT_EQ(float_bits(-0.0, ElementType::kF8E4M3FNUZ), 0x00u);  // no -0
  EXPECT_EQ(float_bits(1.0, ElementType::kF8E5M2FNUZ), 0x40u);
  EXPECT_EQ(float_bits(1e10, ElementType::kF8E5M2FNUZ), 0x80u);
}

TEST(FloatBits, F32AndF64) {
  EXPECT_EQ(float_bits(0.1, ElementType::kF32), 0x3DCCCCCDu);
  EXPECT_EQ(float_bits(0.1, ElementType::kF64), 0x3FB999999999999Aull);
}

TEST(Literal, Integers) {
  auto text = [](auto value, ElementType t) {
    std::string s;
    append_literal(s, value, t);
    return s;
  };
  EXPECT_EQ(text(int64_t{300}, ElementType::kU8), "44");
  EXPECT_EQ(text(int64_t{255}, ElementType::kS8), "-1");
  EXPECT_EQ(text(int64_t{-1}, ElementType::kU64), "18446744073709551615");
  EXPECT_EQ(text(1e30, ElementType::kS64), "9223372036854775807");
  EXPECT_EQ(text(-1e30, ElementType::kS32), "0");  // saturated to s64 min, then wrapped
  EXPECT_EQ(text(kNaN, ElementType::kS32), "0");
  EXPECT_EQ(text(1.8e19, ElementType::kU64), "18000000000000000000");
  EXPECT_EQ(text(-2.9, ElementType::kS16), "-2");
  EXPECT_EQ(text(0.0, ElementType::kPred), "false");
  EXPECT_EQ(text(kNaN, ElementType::kPred), "true");
  EXPECT_EQ(text(int64_t{16777217}, ElementType::kF32), "0x4B800000");
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
