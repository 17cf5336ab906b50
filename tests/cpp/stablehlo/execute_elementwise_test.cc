#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <limits>
#include <numbers>

#include "executor.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

using testing::HostTensor;
using testing::run;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-5 * std::max(1.0, std::fabs(want[i]))) << "element " << i;
    }
  }
}

struct FloatUnaryCase {
  UnaryOp op;
  std::vector<float> input;
  std::vector<double> expected;
};

class FloatUnary : public ::testing::TestWithParam<FloatUnaryCase> {};

TEST_P(FloatUnary, MatchesLibm) {
  const FloatUnaryCase& c = GetParam();
  const auto n = static_cast<int64_t>(c.input.size());
  Builder b;
  Value x = b.parameter({ElementType::kF32, {n}});
  Function fn = b.finish({b.unary(c.op, x)});
  auto out = run(fn, {HostTensor::of(ElementType::kF32, {n}, c.input)});
  expect_near_all(out[0].as<float>(), c.expected);
}

std::vector<double> map_values(const std::vector<float>& in, double (*f)(double)) {
  std::vector<double> out;
  for (float v : in) out.push_back(f(v));
  return out;
}

const std::vector<float> kSome = {0.25f, 0.5f, 1.5f, 3.0f};
const std::vector<float> kSigned = {-2.5f, -0.5f, 0.0f, 0.5f, 2.5f, 3.5f};
const std::vector<float> kUnit = {-0.75f, -0.25f, 0.0f, 0.5f};

INSTANTIATE_TEST_SUITE_P(
    Ops, FloatUnary,
    ::testing::Values(
        FloatUnaryCase{UnaryOp::kAbs, kSigned, map_values(kSigned, std::fabs)},
        FloatUnaryCase{UnaryOp::kNegate, kSigned, map_values(kSigned, [](double v) { return -v; })},
        FloatUnaryCase{UnaryOp::kSign, kSigned,
                       map_values(kSigned, [](double v) { return double((v > 0) - (v < 0)); })},
        FloatUnaryCase{UnaryOp::kExp, kSigned, map_values(kSigned, std::exp)},
        FloatUnaryCase{UnaryOp::kExpm1, kSigned, map_values(kSigned, std::expm1)},
        FloatUnaryCase{UnaryOp::kLog, kSome, map_values(kSome, std::log)},
        FloatUnaryCase{UnaryOp::kLog1p, kSome, map_values(kSome, std::log1p)},
        FloatUnaryCase{UnaryOp::kSqrt, kSome, map_values(kSome, std::sqrt)},
        FloatUnaryCase{UnaryOp::kRsqrt, kSome,
                       map_values(kSome, [](double v) { return 1 / std::sqrt(v); })},
        FloatUnaryCase{UnaryOp::kCbrt, kSigned, map_values(kSigned, std::cbrt)},
        FloatUnaryCase{UnaryOp::kSin, kSigned, map_values(kSigned, std::sin)},
        FloatUnaryCase{UnaryOp::kCos, kSigned, map_values(kSigned, std::cos)},
        FloatUnaryCase{UnaryOp::kTan, kUnit, map_values(kUnit, std::tan)},
        FloatUnaryCase{UnaryOp::kTanh, kSigned, map_values(kSigned, std::tanh)},
        FloatUnaryCase{UnaryOp::kLogistic, kSigned,
                       map_values(kSigned, [](double v) { return 1 / (1 + std::exp(-v)); })},
        FloatUnaryCase{UnaryOp::kFloor, kSigned, map_values(kSigned, std::floor)},
        FloatUnaryCase{UnaryOp::kCeil, kSigned, map_values(kSigned, std::ceil)},
        FloatUnaryCase{UnaryOp::kRoundNearestEven, kSigned, {-2, -0.0, 0, 0, 2, 4}},
        FloatUnaryCase{UnaryOp::kRoundNearestAfz, kSigned, {-3, -1, 0, 1, 3, 4}},
        FloatUnaryCase{UnaryOp::kErf, kSigned, map_values(kSigned, std::erf)},
        FloatUnaryCase{UnaryOp::kErfInv, {0.0f, 0.5f, -0.5f}, {0, 0.4769362762, -0.4769362762}},
        FloatUnaryCase{UnaryOp::kLgamma, kSome, map_values(kSome, std::lgamma)},
        FloatUnaryCase{UnaryOp::kDigamma, {1.0f, 2.0f}, {-0.5772156649, 0.4227843351}},
        FloatUnaryCase{UnaryOp::kAsin, kUnit, map_values(kUnit, std::asin)},
        FloatUnaryCase{UnaryOp::kAcos, kUnit, map_values(kUnit, std::acos)},
        FloatUnaryCase{UnaryOp::kAtan, kSigned, map_values(kSigned, std::atan)},
        FloatUnaryCase{UnaryOp::kSinh, kSigned, map_values(kSigned, std::sinh)},
        FloatUnaryCase{UnaryOp::kCosh, kSigned, map_values(kSigned, std::cosh)},
        FloatUnaryCase{UnaryOp::kAsinh, kSigned, map_values(kSigned, std::asinh)},
        FloatUnaryCase{UnaryOp::kAcosh, {1.0f, 1.5f, 3.0f}, {0, std::acosh(1.5), std::acosh(3.0)}},
        FloatUnaryCase{UnaryOp::kAtanh, kUnit, map_values(kUnit, std::atanh)},
        FloatUnaryCase{UnaryOp::kErfc, kSigned, map_values(kSigned, std::erfc)}));

TEST(ExecuteUnary, IsFinite) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {3}});
  Function fn = b.finish({b.unary(UnaryOp::kIsFinite, x)});
  auto out =
      run(fn, {HostTensor::of<float>(ElementType::kF32, {3}, {1.0f, float(kInf), float(kNaN)})});
  EXPECT_EQ(out[0].type.element, ElementType::kPred);
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0, 0}));
}

TEST(ExecuteUnary, IntegerOps) {
  Builder b;
  Value x = b.parameter({ElementType::kS32, {3}});
  Function fn = b.finish({b.unary(UnaryOp::kAbs, x), b.unary(UnaryOp::kNegate, x),
                          b.unary(UnaryOp::kSign, x), b.unary(UnaryOp::kNot, x),
                          b.unary(UnaryOp::kPopcnt, x), b.unary(UnaryOp::kCountLeadingZeros, x)});
  auto out = run(fn, {HostTensor::of<int32_t>(ElementType::kS32, {3}, {-3, 0, 7})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{3, 0, 7}));
  EXPECT_EQ(out[1].as<int32_t>(), (std::vector<int32_t>{3, 0, -7}));
  EXPECT_EQ(out[2].as<int32_t>(), (std::vector<int32_t>{-1, 0, 1}));
  EXPECT_EQ(out[3].as<int32_t>(), (std::vector<int32_t>{2, -1, -8}));
  EXPECT_EQ(out[4].as<int32_t>(), (std::vector<int32_t>{31, 0, 3}));
  EXPECT_EQ(out[5].as<int32_t>(), (std::vector<int32_t>{0, 32, 29}));
}

TEST(ExecuteUnary, LogicalNot) {
  Builder b;
  Value x = b.parameter({ElementType::kPred, {2}});
  Function fn = b.finish({b.unary(UnaryOp::kNot, x)});
  auto out = run(fn, {HostTensor::of<uint8_t>(ElementType::kPred, {2}, {1, 0})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{0, 1}));
}

TEST(ExecuteUnary, ComplexParts) {
  Builder b;
  Value x = b.parameter({ElementType::kC64, {2}});
  Function fn = b.finish({b.unary(UnaryOp::kReal, x), b.unary(UnaryOp::kImag, x),
                          b.unary(UnaryOp::kAbs, x), b.unary(UnaryOp::kExp, x)});
  EXPECT_EQ(fn.result_types()[2], (TensorType{ElementType::kF32, {2}}));
  auto out = run(fn, {HostTensor::of<std::complex<float>>(ElementType::kC64, {2},
                                                          {{3.f, 4.f}, {-1.f, 0.5f}})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{3.f, -1.f}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{4.f, 0.5f}));
  EXPECT_FLOAT_EQ(out[2].as<float>()[0], 5.f);
  auto e = out[3].as<std::complex<float>>();
  std::complex<double> want = std::exp(std::complex<double>(3, 4));
  EXPECT_NEAR(e[0].real(), want.real(), 1e-4);
  EXPECT_NEAR(e[0].imag(), want.imag(), 1e-4);
}

TEST(ExecuteUnary, ChloOnComplex) {
  Builder b;
  Value x = b.parameter({ElementType::kC64, {1}});
  Function fn = b.finish({b.unary(UnaryOp::kAsinh, x)});
  auto out = run(fn, {HostTensor::of<std::complex<float>>(ElementType::kC64, {1}, {{0.5f, 1.f}})});
  std::complex<double> want = std::asinh(std::complex<double>(0.5, 1.0));
  EXPECT_NEAR(out[0].as<std::complex<float>>()[0].real(), want.real(), 1e-5);
  EXPECT_NEAR(out[0].as<std::complex<float>>()[0].imag(), want.imag(), 1e-5);
}

struct FloatBinaryCase {
  BinaryOp op;
  std::vector<float> lhs, rhs;
  std::vector<double> expected;
};

class FloatBinary : public ::testing::TestWithParam<FloatBinaryCase> {};

TEST_P(FloatBinary, Computes) {
  const FloatBinaryCase& c = GetParam();
  const auto n = static_cast<int64_t>(c.lhs.size());
  Builder b;
  Value x = b.parameter({ElementType::kF32, {n}});
  Value y = b.parameter({ElementType::kF32, {n}});
  Function fn = b.finish({b.binary(c.op, x, y)});
  auto out = run(fn, {HostTensor::of(ElementType::kF32, {n}, c.lhs),
                      HostTensor::of(ElementType::kF32, {n}, c.rhs)});
  expect_near_all(out[0].as<float>(), c.expected);
}

constexpr double kPi2Over6 = std::numbers::pi * std::numbers::pi / 6;

INSTANTIATE_TEST_SUITE_P(
    Ops, FloatBinary,
    ::testing::Values(
        FloatBinaryCase{BinaryOp::kAdd, {1, 2}, {0.5, -4}, {1.5, -2}},
        FloatBinaryCase{BinaryOp::kSubtract, {1, 2}, {0.5, -4}, {0.5, 6}},
        FloatBinaryCase{BinaryOp::kMultiply, {1.5, 2}, {2, -4}, {3, -8}},
        FloatBinaryCase{BinaryOp::kDivide, {1, -3}, {4, 2}, {0.25, -1.5}},
        FloatBinaryCase{BinaryOp::kRemainder, {-7.5, 7.5}, {2, -2}, {-1.5, 1.5}},
        FloatBinaryCase{BinaryOp::kPower, {2, 9}, {3, 0.5}, {8, 3}},
        // XLA:CPU's default (xla_cpu_enable_fast_min_max) propagates a NaN
        // only from the lhs; the compile options decide, not the program.
        FloatBinaryCase{BinaryOp::kMaximum, {1, float(kNaN)}, {2, 0}, {2, kNaN}},
        FloatBinaryCase{BinaryOp::kMinimum, {1, float(kNaN)}, {2, 0}, {1, kNaN}},
        FloatBinaryCase{BinaryOp::kAtan2, {1, -1}, {-1, 2}, {std::atan2(1, -1), std::atan2(-1, 2)}},
        FloatBinaryCase{BinaryOp::kNextAfter,
                        {1, 0},
                        {2, -1},
                        {std::nextafter(1.0f, 2.0f), std::nextafter(0.0f, -1.0f)}},
        FloatBinaryCase{BinaryOp::kPolygamma, {1, 0}, {1, 2}, {kPi2Over6, 0.4227843351}},
        FloatBinaryCase{BinaryOp::kZeta, {2, 2}, {1, 2}, {kPi2Over6, kPi2Over6 - 1}}));

TEST(ExecuteBinary, IntegerOps) {
  Builder b;
  Value x = b.parameter({ElementType::kS32, {2}});
  Value y = b.parameter({ElementType::kS32, {2}});
  Function fn = b.finish(
      {b.div(x, y), b.binary(BinaryOp::kRemainder, x, y), b.binary(BinaryOp::kAnd, x, y),
       b.binary(BinaryOp::kOr, x, y), b.binary(BinaryOp::kXor, x, y),
       b.binary(BinaryOp::kShiftLeft, x, y), b.binary(BinaryOp::kShiftRightArithmetic, x, y),
       b.binary(BinaryOp::kShiftRightLogical, x, y), b.binary(BinaryOp::kPower, y, y), b.max(x, y),
       b.min(x, y), b.sub(x, y), b.mul(x, y)});
  auto out = run(fn, {HostTensor::of<int32_t>(ElementType::kS32, {2}, {-7, 12}),
                      HostTensor::of<int32_t>(ElementType::kS32, {2}, {2, 3})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{-3, 4}));
  EXPECT_EQ(out[1].as<int32_t>(), (std::vector<int32_t>{-1, 0}));
  EXPECT_EQ(out[2].as<int32_t>(), (std::vector<int32_t>{-7 & 2, 12 & 3}));
  EXPECT_EQ(out[3].as<int32_t>(), (std::vector<int32_t>{-7 | 2, 12 | 3}));
  EXPECT_EQ(out[4].as<int32_t>(), (std::vector<int32_t>{-7 ^ 2, 12 ^ 3}));
  EXPECT_EQ(out[5].as<int32_t>(), (std::vector<int32_t>{-28, 96}));
  EXPECT_EQ(out[6].as<int32_t>(), (std::vector<int32_t>{-2, 1}));
  EXPECT_EQ(out[7].as<int32_t>(), (std::vector<int32_t>{int32_t(uint32_t(-7) >> 2), 1}));
  EXPECT_EQ(out[8].as<int32_t>(), (std::vector<int32_t>{4, 27}));
  EXPECT_EQ(out[9].as<int32_t>(), (std::vector<int32_t>{2, 12}));
  EXPECT_EQ(out[10].as<int32_t>(), (std::vector<int32_t>{-7, 3}));
  EXPECT_EQ(out[11].as<int32_t>(), (std::vector<int32_t>{-9, 9}));
  EXPECT_EQ(out[12].as<int32_t>(), (std::vector<int32_t>{-14, 36}));
}

TEST(ExecuteBinary, PredOps) {
  Builder b;
  Value x = b.parameter({ElementType::kPred, {4}});
  Value y = b.parameter({ElementType::kPred, {4}});
  Function fn = b.finish({b.binary(BinaryOp::kAnd, x, y), b.binary(BinaryOp::kOr, x, y),
                          b.binary(BinaryOp::kXor, x, y), b.add(x, y)});
  auto out = run(fn, {HostTensor::of<uint8_t>(ElementType::kPred, {4}, {0, 0, 1, 1}),
                      HostTensor::of<uint8_t>(ElementType::kPred, {4}, {0, 1, 0, 1})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(out[1].as<uint8_t>(), (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(out[2].as<uint8_t>(), (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(out[3].as<uint8_t>(), (std::vector<uint8_t>{0, 1, 1, 1}));
}

TEST(ExecuteBinary, ComplexFromParts) {
  Builder b;
  Value re = b.parameter({ElementType::kF64, {2}});
  Value im = b.parameter({ElementType::kF64, {2}});
  Value z = b.binary(BinaryOp::kComplex, re, im);
  EXPECT_EQ(b.element_type(z), ElementType::kC128);
  Function fn = b.finish({b.mul(z, z)});
  auto out = run(fn, {HostTensor::of<double>(ElementType::kF64, {2}, {1, 0}),
                      HostTensor::of<double>(ElementType::kF64, {2}, {2, 1})});
  EXPECT_EQ(out[0].as<std::complex<double>>(),
            (std::vector<std::complex<double>>{{-3, 4}, {-1, 0}}));
}

TEST(ExecuteCompare, UnsignedComparesUnsigned) {
  Builder b;
  Value x = b.parameter({ElementType::kU32, {2}});
  Value y = b.parameter({ElementType::kU32, {2}});
  Function fn = b.finish(
      {b.compare(ComparisonDirection::kLT, x, y), b.compare(ComparisonDirection::kGE, x, y)});
  auto out = run(fn, {HostTensor::of<uint32_t>(ElementType::kU32, {2}, {1, 0xFFFFFFFF}),
                      HostTensor::of<uint32_t>(ElementType::kU32, {2}, {0x80000000, 2})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(out[1].as<uint8_t>(), (std::vector<uint8_t>{0, 1}));
}

TEST(ExecuteCompare, SignedAndFloat) {
  Builder b;
  Value x = b.parameter({ElementType::kS8, {2}});
  Value y = b.parameter({ElementType::kS8, {2}});
  Value f = b.parameter({ElementType::kF32, {3}});
  Value g = b.parameter({ElementType::kF32, {3}});
  Value p = b.parameter({ElementType::kPred, {2}});
  Value q = b.parameter({ElementType::kPred, {2}});
  Function fn = b.finish(
      {b.compare(ComparisonDirection::kLT, x, y), b.compare(ComparisonDirection::kEQ, f, g),
       b.compare(ComparisonDirection::kNE, f, g), b.compare(ComparisonDirection::kGT, p, q)});
  auto out = run(fn, {HostTensor::of<int8_t>(ElementType::kS8, {2}, {-1, 5}),
                      HostTensor::of<int8_t>(ElementType::kS8, {2}, {1, -5}),
                      HostTensor::of<float>(ElementType::kF32, {3}, {1, float(kNaN), 0.0f}),
                      HostTensor::of<float>(ElementType::kF32, {3}, {1, float(kNaN), -0.0f}),
                      HostTensor::of<uint8_t>(ElementType::kPred, {2}, {1, 0}),
                      HostTensor::of<uint8_t>(ElementType::kPred, {2}, {0, 1})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(out[1].as<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(out[2].as<uint8_t>(), (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(out[3].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
}

TEST(ExecuteCompare, Complex) {
  Builder b;
  Value x = b.parameter({ElementType::kC64, {2}});
  Value y = b.parameter({ElementType::kC64, {2}});
  Function fn = b.finish({b.compare(ComparisonDirection::kEQ, x, y)});
  auto out =
      run(fn, {HostTensor::of<std::complex<float>>(ElementType::kC64, {2}, {{1, 2}, {1, 2}}),
               HostTensor::of<std::complex<float>>(ElementType::kC64, {2}, {{1, 2}, {1, 3}})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
}

TEST(ExecuteSelect, ElementwiseAndScalarPredicate) {
  Builder b;
  Value p = b.parameter({ElementType::kPred, {3}});
  Value x = b.parameter({ElementType::kS32, {3}});
  Value y = b.parameter({ElementType::kS32, {3}});
  Value s = b.parameter({ElementType::kPred, {}});
  Function fn = b.finish({b.select(p, x, y), b.select(s, x, y)});
  auto out = run(fn, {HostTensor::of<uint8_t>(ElementType::kPred, {3}, {1, 0, 1}),
                      HostTensor::of<int32_t>(ElementType::kS32, {3}, {1, 2, 3}),
                      HostTensor::of<int32_t>(ElementType::kS32, {3}, {-1, -2, -3}),
                      HostTensor::of<uint8_t>(ElementType::kPred, {}, {0})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(out[1].as<int32_t>(), (std::vector<int32_t>{-1, -2, -3}));
}

TEST(ExecuteClamp, ScalarAndTensorBounds) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {4}});
  Value hi = b.parameter({ElementType::kF32, {4}});
  Function fn = b.finish({b.clamp(b.constant(-1, ElementType::kF32), x, hi)});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {4}, {-5, 0, 5, 2}),
                      HostTensor::of<float>(ElementType::kF32, {4}, {1, 1, 1, 10})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{-1, 0, 1, 2}));
}

TEST(ExecuteConvert, FloatIntBf16Pred) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {4}});
  Value bf = b.convert(x, ElementType::kBF16);
  EXPECT_EQ(b.convert(bf, ElementType::kBF16), bf);
  Function fn = b.finish({bf, b.convert(x, ElementType::kS32), b.convert(x, ElementType::kPred),
                          b.convert(bf, ElementType::kF64), b.convert(x, ElementType::kC64)});
  auto out =
      run(fn, {HostTensor::of<float>(ElementType::kF32, {4}, {1.0f, -2.75f, 0.0f, 3.0e38f})});
  EXPECT_EQ(out[0].as<uint16_t>(), (std::vector<uint16_t>{0x3F80, 0xC030, 0x0000, 0x7F62}));
  EXPECT_EQ(out[1].as<int32_t>()[1], -2);
  EXPECT_EQ(out[2].as<uint8_t>(), (std::vector<uint8_t>{1, 1, 0, 1}));
  EXPECT_EQ(out[3].as<double>()[1], -2.75);
  EXPECT_EQ(out[4].as<std::complex<float>>()[1], std::complex<float>(-2.75f, 0.f));
}

TEST(ExecuteBitcastConvert, SameAndChangedWidth) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2}});
  Value same = b.bitcast_convert(x, {ElementType::kU32, {2}});
  Value narrow = b.bitcast_convert(x, {ElementType::kU16, {2, 2}});
  Value wide = b.bitcast_convert(narrow, {ElementType::kF32, {2}});
  Value u8 = b.bitcast_convert(x, {ElementType::kU8, {2, 4}});
  Value f64 = b.bitcast_convert(b.reshape(x, {1, 2}), {ElementType::kF64, {1}});
  Function fn = b.finish({same, narrow, wide, u8, f64});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {2}, {1.0f, -2.0f})});
  EXPECT_EQ(out[0].as<uint32_t>(), (std::vector<uint32_t>{0x3F800000, 0xC0000000}));
  // Element i of the new last dimension holds the bits a little-endian load
  // would give, so the host view of the bytes is unchanged.
  EXPECT_EQ(out[1].as<uint16_t>(), (std::vector<uint16_t>{0x0000, 0x3F80, 0x0000, 0xC000}));
  EXPECT_EQ(out[2].as<float>(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(out[3].bytes, out[2].bytes);
  uint64_t bits = (uint64_t{0xC0000000} << 32) | 0x3F800000;
  EXPECT_EQ(out[4].as<uint64_t>()[0], bits);
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
