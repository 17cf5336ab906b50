#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <limits>

#include "executor.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

using testing::HostTensor;
using testing::run;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Runs a program whose only output is `make(b)`.
HostTensor run_one(const std::function<Value(Builder&)>& make) {
  Builder b;
  Value v = make(b);
  Function fn = b.finish({v});
  auto out = run(fn);
  return out.at(0);
}

TEST(ExecuteConstant, FloatSpecialsAreExact) {
  auto out = run_one([](Builder& b) {
               return b.concatenate({b.reshape(b.constant(kInf, ElementType::kF32), {1}),
                                     b.reshape(b.constant(-kInf, ElementType::kF32), {1}),
                                     b.reshape(b.constant(kNaN, ElementType::kF32), {1}),
                                     b.reshape(b.constant(-0.0, ElementType::kF32), {1}),
                                     b.reshape(b.constant(0.1, ElementType::kF32), {1})},
                                    0);
             }).as<float>();
  EXPECT_EQ(out[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[1], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_EQ(out[3], 0.0f);
  EXPECT_TRUE(std::signbit(out[3]));
  EXPECT_EQ(out[4], 0.1f);
}

TEST(ExecuteConstant, F64KeepsAllBits) {
  auto out = run_one([](Builder& b) { return b.splat(0.1, {ElementType::kF64, {2}}); });
  EXPECT_EQ(out.as<double>(), (std::vector<double>{0.1, 0.1}));
}

TEST(ExecuteConstant, NarrowFloatsRoundToNearestEven) {
  // 1 + 3 * 2^-9 lies between two bf16 values and rounds up to 1 + 2^-7;
  // converting to f32 in the program shows what the plugin read.
  const double in_between = 1.0 + 3.0 / 512;
  for (auto [type, value, expected] : std::vector<std::tuple<ElementType, double, float>>{
           {ElementType::kBF16, in_between, 1.0078125f},
           {ElementType::kBF16, kInf, std::numeric_limits<float>::infinity()},
           {ElementType::kF16, 65504.0, 65504.0f},
           {ElementType::kF16, 1.0 / 3, 0.333251953125f},
           {ElementType::kF8E5M2, 1.75, 1.75f},
           {ElementType::kF8E4M3FN, 448.0, 448.0f},
           {ElementType::kF8E5M2FNUZ, -3.0, -3.0f},
           {ElementType::kF8E4M3FNUZ, 0.3, 0.3125f},
       }) {
    SCOPED_TRACE(short_name(type));
    auto out =
        run_one([&](Builder& b) { return b.convert(b.constant(value, type), ElementType::kF32); });
    EXPECT_EQ(out.as<float>()[0], expected);
  }
}

TEST(ExecuteConstant, Integers) {
  EXPECT_EQ(
      run_one([](Builder& b) { return b.constant_int(-1, ElementType::kU64); }).as<uint64_t>()[0],
      std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(
      run_one([](Builder& b) { return b.constant_int(255, ElementType::kU8); }).as<uint8_t>()[0],
      255);
  EXPECT_EQ(
      run_one([](Builder& b) { return b.constant_int(-128, ElementType::kS8); }).as<int8_t>()[0],
      -128);
  EXPECT_EQ(run_one([](Builder& b) {
              return b.constant_int(std::numeric_limits<int64_t>::min(), ElementType::kS64);
            }).as<int64_t>()[0],
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(
      run_one([](Builder& b) { return b.constant(-2.7, ElementType::kS32); }).as<int32_t>()[0], -2);
}

TEST(ExecuteConstant, Pred) {
  auto out = run_one([](Builder& b) {
    return b.concatenate({b.reshape(b.constant(1, ElementType::kPred), {1}),
                          b.reshape(b.constant_int(0, ElementType::kPred), {1}),
                          b.splat(0.5, {ElementType::kPred, {2}})},
                         0);
  });
  EXPECT_EQ(out.as<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 1}));
}

TEST(ExecuteConstant, Complex) {
  auto out = run_one([](Builder& b) { return b.splat(-2.5, {ElementType::kC64, {2}}); });
  EXPECT_EQ(out.as<std::complex<float>>(),
            (std::vector<std::complex<float>>{{-2.5f, 0.f}, {-2.5f, 0.f}}));
  auto out128 = run_one([](Builder& b) {
    return b.constant_ints({1, 2}, {ElementType::kC128, {2}});
  });
  EXPECT_EQ(out128.as<std::complex<double>>(),
            (std::vector<std::complex<double>>{{1.0, 0.0}, {2.0, 0.0}}));
}

TEST(ExecuteConstant, NestedInts) {
  auto out = run_one([](Builder& b) {
    return b.constant_ints({1, 2, 3, 4, 5, 6}, {ElementType::kS64, {2, 3}});
  });
  EXPECT_EQ(out.as<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  auto f = run_one([](Builder& b) {
    return b.constant_ints({-1, 7}, {ElementType::kBF16, {2, 1}});
  });
  auto bits = f.as<uint16_t>();
  EXPECT_EQ(bits, (std::vector<uint16_t>{0xBF80, 0x40E0}));
}

TEST(ExecuteConstant, EmptyTensors) {
  auto out = run_one([](Builder& b) { return b.splat(1.0, {ElementType::kF32, {0, 3}}); });
  EXPECT_TRUE(out.bytes.empty());
  auto ints = run_one([](Builder& b) { return b.constant_ints({}, {ElementType::kS32, {2, 0}}); });
  EXPECT_TRUE(ints.bytes.empty());
}

TEST(ExecuteConstant, Iota) {
  auto out = run_one([](Builder& b) { return b.iota({ElementType::kS32, {2, 3}}, 1); });
  EXPECT_EQ(out.as<int32_t>(), (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
  auto f = run_one([](Builder& b) { return b.iota({ElementType::kF32, {2, 2}}, 0); });
  EXPECT_EQ(f.as<float>(), (std::vector<float>{0, 0, 1, 1}));
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
