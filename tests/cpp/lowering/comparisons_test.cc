// Comparison, conversion and factory rules build StableHLO the CPU plugin
// compiles, over dtypes and shapes (0-d, empty, broadcast, Python numbers);
// the semantics easiest to get wrong (NaN, promotion, clamp order, linspace
// symmetry) are run. The full comparison against PyTorch lives in
// tests/python/test_ops_comparisons.py, test_ops_fill_copy.py and
// test_random_factories.py.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <variant>

#include "../stablehlo/executor.h"
#include "harness.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using E = ElementType;
using stablehlo::Function;
using stablehlo::testing::HostTensor;

// A Python number argument: a 0-d run-time value that promotes as a scalar.
using testing::ArgSpec;
using testing::Number;
Function lower(std::string_view name, std::string_view overload, const std::vector<ArgSpec>& specs,
               std::vector<E> out_types = {}) {
  return testing::lower_call(name, specs, {overload, std::move(out_types)});
}

// Lowers and compiles; returns the result type.
TensorType compiles(std::string_view name, std::string_view overload,
                    const std::vector<ArgSpec>& specs, std::vector<E> out_types = {}) {
  return testing::compile_call(name, specs, {overload, std::move(out_types)}).at(0);
}

template <class T>
HostTensor host(E type, std::vector<int64_t> dims, std::vector<T> values) {
  return HostTensor::of<T>(type, std::move(dims), values);
}

std::vector<HostTensor> run(const Function& fn, const std::vector<HostTensor>& args = {}) {
  return stablehlo::testing::run(fn, args);
}

const std::vector<E> kDtypes = {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32, E::kPred};
const double kNan = std::numeric_limits<double>::quiet_NaN();
const float kNanF = std::numeric_limits<float>::quiet_NaN();
const float kInfF = std::numeric_limits<float>::infinity();

TEST(ComparisonRules, RegisteredInTheProcessTable) {
  for (const char* name : {"eq", "where", "clamp", "equal", "fill", "masked_fill", "copy", "clone",
                           "_to_copy", "arange", "linspace", "eye"}) {
    EXPECT_NE(rule_table().find(name), nullptr) << name;
  }
  EXPECT_EQ(rule_table().find("arange")->static_scalar_args, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(rule_table().find("linspace")->static_scalar_args, (std::vector<int>{0, 1}));
}

TEST(ComparisonRules, CompareEveryDtypeBroadcastAndNumbers) {
  for (const char* name : {"eq", "ne", "lt", "le", "gt", "ge"}) {
    for (E type : kDtypes) {
      EXPECT_EQ(compiles(name, "Tensor", {TensorType{type, {2, 3}}, TensorType{type, {3}}}),
                (TensorType{E::kPred, {2, 3}}));
    }
    EXPECT_EQ(compiles(name, "Scalar", {TensorType{E::kS32, {0, 3}}, Number{E::kF64}}),
              (TensorType{E::kPred, {0, 3}}));
    EXPECT_EQ(compiles(name, "Tensor", {TensorType{E::kBF16, {}}, TensorType{E::kF64, {}}}),
              (TensorType{E::kPred, {}}));
  }
  EXPECT_THROW(lower("lt", "Tensor", {TensorType{E::kC64, {2}}, TensorType{E::kC64, {2}}}),
               Unsupported);
  EXPECT_EQ(compiles("eq", "Tensor", {TensorType{E::kC64, {2}}, TensorType{E::kF32, {2}}}),
            (TensorType{E::kPred, {2}}));
}

TEST(ComparisonRules, ComparePromotesScalarsIntoTheTensorType) {
  // uint8 tensor vs Python int: the number converts (wraps) to u8, as on CPU.
  auto out = run(lower("eq", "Scalar", {TensorType{E::kU8, {2}}, Number{E::kS64}}),
                 {host<uint8_t>(E::kU8, {2}, {255, 2}), host<int64_t>(E::kS64, {}, {-1})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
  // int tensor vs Python float: compares in the default float.
  out = run(lower("lt", "Scalar", {TensorType{E::kS64, {2}}, Number{E::kF64}}),
            {host<int64_t>(E::kS64, {2}, {2, 3}), host<double>(E::kF64, {}, {2.5})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
  out = run(lower("ne", "Tensor", {TensorType{E::kF32, {2}}, TensorType{E::kF32, {2}}}),
            {host<float>(E::kF32, {2}, {kNanF, 1}), host<float>(E::kF32, {2}, {kNanF, 1})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
  out = run(lower("gt", "Tensor", {TensorType{E::kPred, {2}}, TensorType{E::kPred, {2}}}),
            {host<uint8_t>(E::kPred, {2}, {1, 0}), host<uint8_t>(E::kPred, {2}, {0, 1})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0}));
}

TEST(ComparisonRules, LogicalAndBitwise) {
  for (const char* name : {"logical_and", "logical_or", "logical_xor"}) {
    for (E type : kDtypes) {
      EXPECT_EQ(compiles(name, "", {TensorType{type, {2, 1}}, TensorType{E::kF32, {3}}}),
                (TensorType{E::kPred, {2, 3}}));
    }
    EXPECT_EQ(compiles(name, "", {TensorType{E::kC64, {2}}, TensorType{E::kS32, {}}}),
              (TensorType{E::kPred, {2}}));
  }
  for (E type : kDtypes) {
    EXPECT_EQ(compiles("logical_not", "", {TensorType{type, {0}}}), (TensorType{E::kPred, {0}}));
  }
  for (const char* name : {"bitwise_and", "bitwise_or", "bitwise_xor", "__and__"}) {
    EXPECT_EQ(compiles(name, "Tensor", {TensorType{E::kS32, {2, 3}}, TensorType{E::kS64, {3}}}),
              (TensorType{E::kS64, {2, 3}}));
    EXPECT_EQ(compiles(name, "Scalar", {TensorType{E::kPred, {2}}, Number{E::kS64}}),
              (TensorType{E::kS64, {2}}));
    EXPECT_EQ(compiles(name, "Tensor", {TensorType{E::kPred, {}}, TensorType{E::kPred, {}}}),
              (TensorType{E::kPred, {}}));
    EXPECT_THROW(lower(name, "Tensor", {TensorType{E::kF32, {2}}, TensorType{E::kS32, {2}}}),
                 Unsupported);
    EXPECT_THROW(lower(name, "Scalar", {TensorType{E::kS32, {2}}, Number{E::kF64}}), Unsupported);
  }
  EXPECT_EQ(compiles("bitwise_not", "", {TensorType{E::kU8, {2}}}), (TensorType{E::kU8, {2}}));
  EXPECT_THROW(lower("bitwise_not", "", {TensorType{E::kBF16, {2}}}), Unsupported);

  auto out =
      run(lower("logical_xor", "", {TensorType{E::kF32, {3}}, TensorType{E::kS32, {3}}}),
          {host<float>(E::kF32, {3}, {0, kNanF, 2}), host<int32_t>(E::kS32, {3}, {1, 0, 3})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 1, 0}));
  out = run(lower("bitwise_xor", "Tensor", {TensorType{E::kS32, {2}}, TensorType{E::kS32, {2}}}),
            {host<int32_t>(E::kS32, {2}, {12, -1}), host<int32_t>(E::kS32, {2}, {10, 5})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{6, -6}));
}

TEST(ComparisonRules, WherePromotesAndChecksTheCondition) {
  EXPECT_EQ(
      compiles("where", "self",
               {TensorType{E::kPred, {2, 1}}, TensorType{E::kS32, {3}}, TensorType{E::kF32, {}}}),
      (TensorType{E::kF32, {2, 3}}));
  EXPECT_EQ(compiles("where", "ScalarOther",
                     {TensorType{E::kPred, {0}}, TensorType{E::kBF16, {0}}, Number{E::kF64}}),
            (TensorType{E::kBF16, {0}}));
  EXPECT_EQ(compiles("where", "self",
                     {TensorType{E::kU8, {2}}, TensorType{E::kS64, {2}}, Number{E::kS64}}),
            (TensorType{E::kS64, {2}}));
  EXPECT_THROW(
      lower("where", "self",
            {TensorType{E::kS64, {2}}, TensorType{E::kS64, {2}}, TensorType{E::kS64, {2}}}),
      InvalidArgument);
  EXPECT_THROW(
      lower("where", "self",
            {TensorType{E::kPred, {2}}, TensorType{E::kS64, {3}}, TensorType{E::kS64, {2}}}),
      InvalidArgument);
  auto out = run(lower("where", "self",
                       {TensorType{E::kPred, {3}}, TensorType{E::kS32, {3}}, Number{E::kF64}}),
                 {host<uint8_t>(E::kPred, {3}, {1, 0, 1}), host<int32_t>(E::kS32, {3}, {1, 2, 3}),
                  host<double>(E::kF64, {}, {0.5})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{1, 0.5, 3}));
}

TEST(ComparisonRules, ClampForms) {
  NoneArg none;
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32}) {
    EXPECT_EQ(compiles("clamp", "", {TensorType{type, {2, 3}}, Number{E::kS64}, Number{E::kS64}}),
              (TensorType{type, {2, 3}}));
    EXPECT_EQ(
        compiles("clamp", "Tensor", {TensorType{type, {2, 3}}, TensorType{type, {3}}, Arg{none}}),
        (TensorType{type, {2, 3}}));
    EXPECT_EQ(compiles("clamp_min", "", {TensorType{type, {}}, Number{E::kS64}}),
              (TensorType{type, {}}));
    EXPECT_EQ(compiles("clamp_max", "Tensor", {TensorType{type, {0}}, TensorType{type, {0}}}),
              (TensorType{type, {0}}));
  }
  // Integer tensors with float bounds compute in the default float.
  EXPECT_EQ(compiles("clamp", "", {TensorType{E::kS64, {2}}, Number{E::kF64}, Arg{none}}),
            (TensorType{E::kF32, {2}}));
  EXPECT_EQ(compiles("clamp", "", {TensorType{E::kPred, {2}}, Number{E::kS64}, Number{E::kS64}}),
            (TensorType{E::kS64, {2}}));
  EXPECT_THROW(lower("clamp", "", {TensorType{E::kF32, {2}}, Arg{none}, Arg{none}}),
               InvalidArgument);
  EXPECT_THROW(lower("clamp", "", {TensorType{E::kC64, {2}}, Number{E::kS64}, Arg{none}}),
               Unsupported);
  EXPECT_THROW(lower("clamp", "", {TensorType{E::kPred, {2}}, Number{E::kPred}, Arg{none}}),
               Unsupported);

  // min > max gives max; NaN in the input or a bound gives NaN.
  Function clamp = lower("clamp", "Tensor",
                         {TensorType{E::kF32, {4}}, TensorType{E::kF32, {4}}, Number{E::kF64}});
  auto out =
      run(clamp, {host<float>(E::kF32, {4}, {0, 5, kNanF, 1}),
                  host<float>(E::kF32, {4}, {1, 3, 0, kNanF}), host<double>(E::kF64, {}, {2})});
  std::vector<float> r = out[0].as<float>();
  EXPECT_EQ(r[0], 1);
  EXPECT_EQ(r[1], 2);
  EXPECT_TRUE(std::isnan(r[2]));
  EXPECT_TRUE(std::isnan(r[3]));
}

TEST(ComparisonRules, MaximumMinimumPropagateNan) {
  for (const char* name : {"maximum", "minimum"}) {
    for (E type : kDtypes) {
      EXPECT_EQ(compiles(name, "", {TensorType{type, {2, 3}}, TensorType{type, {1, 3}}}),
                (TensorType{type, {2, 3}}));
    }
    EXPECT_EQ(compiles(name, "", {TensorType{E::kS64, {2}}, TensorType{E::kF32, {}}}),
              (TensorType{E::kF32, {2}}));
    EXPECT_THROW(lower(name, "", {TensorType{E::kC64, {2}}, TensorType{E::kC64, {2}}}),
                 InvalidArgument);
  }
  auto out =
      run(lower("maximum", "", {TensorType{E::kF32, {3}}, TensorType{E::kF32, {3}}}),
          {host<float>(E::kF32, {3}, {1, kNanF, -1}), host<float>(E::kF32, {3}, {kNanF, 0, -2})});
  std::vector<float> r = out[0].as<float>();
  EXPECT_TRUE(std::isnan(r[0]));
  EXPECT_TRUE(std::isnan(r[1]));
  EXPECT_EQ(r[2], -1);
}

TEST(ComparisonRules, Classification) {
  for (const char* name : {"isnan", "isinf", "isposinf", "isneginf", "isfinite", "signbit"}) {
    for (E type : {E::kF32, E::kBF16, E::kF64, E::kF16, E::kS64, E::kS32, E::kU8, E::kPred}) {
      EXPECT_EQ(compiles(name, "", {TensorType{type, {2}}}), (TensorType{E::kPred, {2}}));
    }
    EXPECT_EQ(compiles(name, "", {TensorType{E::kF32, {}}}), (TensorType{E::kPred, {}}));
    EXPECT_EQ(compiles(name, "", {TensorType{E::kF32, {0, 2}}}), (TensorType{E::kPred, {0, 2}}));
  }
  for (const char* name : {"isnan", "isinf", "isfinite"}) {
    EXPECT_EQ(compiles(name, "", {TensorType{E::kC64, {2}}}), (TensorType{E::kPred, {2}}));
  }
  EXPECT_THROW(lower("isposinf", "", {TensorType{E::kC64, {2}}}), InvalidArgument);
  EXPECT_THROW(lower("signbit", "", {TensorType{E::kC64, {2}}}), Unsupported);

  std::vector<float> values = {-0.0f, 0.0f, -kInfF, kInfF, kNanF, -kNanF, -1.5f};
  auto input = host<float>(E::kF32, {7}, values);
  auto pred = [&](const char* name) {
    return run(lower(name, "", {TensorType{E::kF32, {7}}}), {input})[0].as<uint8_t>();
  };
  EXPECT_EQ(pred("signbit"), (std::vector<uint8_t>{1, 0, 1, 0, 0, 1, 1}));
  EXPECT_EQ(pred("isnan"), (std::vector<uint8_t>{0, 0, 0, 0, 1, 1, 0}));
  EXPECT_EQ(pred("isinf"), (std::vector<uint8_t>{0, 0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(pred("isposinf"), (std::vector<uint8_t>{0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(pred("isneginf"), (std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(pred("isfinite"), (std::vector<uint8_t>{1, 1, 0, 0, 0, 0, 1}));
}

TEST(ComparisonRules, EqualIsAZeroDimPred) {
  EXPECT_EQ(compiles("equal", "", {TensorType{E::kF32, {2, 3}}, TensorType{E::kS64, {2, 3}}}),
            (TensorType{E::kPred, {}}));
  EXPECT_EQ(compiles("equal", "", {TensorType{E::kF32, {}}, TensorType{E::kF32, {}}}),
            (TensorType{E::kPred, {}}));
  EXPECT_EQ(compiles("equal", "", {TensorType{E::kF32, {0}}, TensorType{E::kF32, {0}}}),
            (TensorType{E::kPred, {}}));
  auto out = run(lower("equal", "", {TensorType{E::kF32, {3}}, TensorType{E::kF32, {2}}}),
                 {host<float>(E::kF32, {3}, {1, 2, 3}), host<float>(E::kF32, {2}, {1, 2})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{0}));
  Function equal = lower("equal", "", {TensorType{E::kF32, {2}}, TensorType{E::kS32, {2}}});
  EXPECT_EQ(run(equal, {host<float>(E::kF32, {2}, {1, 2}), host<int32_t>(E::kS32, {2}, {1, 2})})[0]
                .as<uint8_t>(),
            (std::vector<uint8_t>{1}));
  EXPECT_EQ(
      run(equal, {host<float>(E::kF32, {2}, {1, kNanF}), host<int32_t>(E::kS32, {2}, {1, 2})})[0]
          .as<uint8_t>(),
      (std::vector<uint8_t>{0}));
}

// --- conversions ---------------------------------------------------------------

TEST(ConversionRules, FillZeroCopyClone) {
  for (E type : kDtypes) {
    EXPECT_EQ(compiles("fill", "Scalar", {TensorType{type, {2, 3}}, Number{E::kF64}}),
              (TensorType{type, {2, 3}}));
    EXPECT_EQ(compiles("fill", "Tensor", {TensorType{type, {0}}, TensorType{E::kS64, {}}}),
              (TensorType{type, {0}}));
    EXPECT_EQ(compiles("zero", "", {TensorType{type, {}}}), (TensorType{type, {}}));
    EXPECT_EQ(
        compiles("copy", "", {TensorType{type, {2, 3}}, TensorType{E::kF32, {3}}, Arg{false}}),
        (TensorType{type, {2, 3}}));
    EXPECT_EQ(compiles("clone", "", {TensorType{type, {2}}, Arg{NoneArg{}}}),
              (TensorType{type, {2}}));
    EXPECT_EQ(compiles("_to_copy", "", {TensorType{E::kF32, {2}}, Arg{type}}),
              (TensorType{type, {2}}));
  }
  EXPECT_EQ(compiles("copy", "", {TensorType{E::kF32, {2}}, TensorType{E::kC64, {2}}, Arg{false}}),
            (TensorType{E::kF32, {2}}));
  EXPECT_EQ(compiles("fill", "Scalar", {TensorType{E::kPred, {2}}, Number{E::kC128}}),
            (TensorType{E::kPred, {2}}));
  EXPECT_THROW(lower("fill", "Tensor", {TensorType{E::kF32, {2}}, TensorType{E::kF32, {1}}}),
               InvalidArgument);
  EXPECT_THROW(
      lower("copy", "", {TensorType{E::kF32, {3}}, TensorType{E::kF32, {2, 3}}, Arg{false}}),
      InvalidArgument);
  EXPECT_THROW(lower("copy", "", {TensorType{E::kF32, {3}}, TensorType{E::kF32, {4}}, Arg{false}}),
               InvalidArgument);

  auto out = run(lower("fill", "Scalar", {TensorType{E::kS32, {3}}, Number{E::kF64}}),
                 {host<int32_t>(E::kS32, {3}, {1, 2, 3}), host<double>(E::kF64, {}, {-2.7})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{-2, -2, -2}));
  out = run(lower("copy", "", {TensorType{E::kPred, {3}}, TensorType{E::kF32, {3}}, Arg{false}}),
            {host<uint8_t>(E::kPred, {3}, {0, 0, 0}), host<float>(E::kF32, {3}, {0.5, 0, kNanF})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
}

TEST(ConversionRules, MaskedFill) {
  for (E type : kDtypes) {
    EXPECT_EQ(compiles("masked_fill", "Scalar",
                       {TensorType{type, {2, 3}}, TensorType{E::kPred, {3}}, Number{E::kS64}}),
              (TensorType{type, {2, 3}}));
  }
  // A larger mask broadcasts the result, as the functional form does.
  EXPECT_EQ(
      compiles("masked_fill", "Tensor",
               {TensorType{E::kF32, {3}}, TensorType{E::kPred, {2, 3}}, TensorType{E::kF64, {}}}),
      (TensorType{E::kF32, {2, 3}}));
  EXPECT_THROW(lower("masked_fill", "Scalar",
                     {TensorType{E::kF32, {3}}, TensorType{E::kU8, {3}}, Number{E::kS64}}),
               InvalidArgument);
  EXPECT_THROW(
      lower("masked_fill", "Tensor",
            {TensorType{E::kF32, {3}}, TensorType{E::kPred, {3}}, TensorType{E::kF32, {1}}}),
      InvalidArgument);
  auto out = run(lower("masked_fill", "Scalar",
                       {TensorType{E::kS64, {3}}, TensorType{E::kPred, {3}}, Number{E::kF64}}),
                 {host<int64_t>(E::kS64, {3}, {1, 5, 10}), host<uint8_t>(E::kPred, {3}, {1, 0, 1}),
                  host<double>(E::kF64, {}, {2.7})});
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{2, 5, 2}));
}

// --- factories -----------------------------------------------------------------

StaticScalar integer(int64_t v) { return v; }
StaticScalar real(double v) { return v; }

Function arange(StaticScalar start, StaticScalar end, StaticScalar step, E type) {
  return lower("arange", "start_out", {Arg{start}, Arg{end}, Arg{step}}, {type});
}

TEST(FactoryRules, ArangeLengthAndValues) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kF16, E::kS64, E::kS32, E::kU8}) {
    Function fn = arange(integer(0), integer(5), integer(1), type);
    EXPECT_EQ(fn.result_types()[0], (TensorType{type, {5}}));
    EXPECT_NO_THROW(stablehlo::testing::detail::client().compile(fn.to_mlir()));
  }
  EXPECT_EQ(arange(integer(3), integer(3), integer(1), E::kS64).result_types()[0].dims,
            (std::vector<int64_t>{0}));
  EXPECT_EQ(arange(real(0), real(1), real(0.1), E::kF32).result_types()[0].dims,
            (std::vector<int64_t>{10}));
  // int64 is exact over the truncated bounds: (end - start + step - sign) / step.
  EXPECT_EQ(arange(real(0), real(2.9), integer(1), E::kS64).result_types()[0].dims,
            (std::vector<int64_t>{2}));
  EXPECT_EQ(arange(real(0), real(2.9), integer(1), E::kS32).result_types()[0].dims,
            (std::vector<int64_t>{3}));
  EXPECT_THROW(arange(integer(0), integer(1), real(0.1), E::kS64), InvalidArgument);
  EXPECT_EQ(arange(integer(10), integer(-3), integer(-4), E::kS64).result_types()[0].dims,
            (std::vector<int64_t>{4}));
  EXPECT_EQ(arange(real(-0.5), real(5), real(1.5), E::kS32).result_types()[0].dims,
            (std::vector<int64_t>{4}));
  EXPECT_THROW(arange(integer(0), integer(5), integer(0), E::kS64), InvalidArgument);
  EXPECT_THROW(arange(integer(0), integer(-5), integer(1), E::kS64), InvalidArgument);
  EXPECT_THROW(arange(integer(0), real(INFINITY), integer(1), E::kF32), InvalidArgument);
  EXPECT_THROW(arange(integer(0), integer(5), integer(1), E::kPred), Unsupported);

  // Integer results truncate the bounds first, as Scalar::to<int64_t> does.
  auto out = run(arange(real(-0.5), real(5), real(1.5), E::kS32));
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{0, 1, 2, 3}));
  out = run(arange(integer(10), integer(-3), integer(-4), E::kS64));
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{10, 6, 2, -2}));
  out = run(arange(real(1), real(2), real(0.25), E::kF64));
  EXPECT_EQ(out[0].as<double>(), (std::vector<double>{1, 1.25, 1.5, 1.75}));
}

Function linspace(StaticScalar start, StaticScalar end, int64_t steps, E type) {
  return lower("linspace", "out", {Arg{start}, Arg{end}, Arg{steps}}, {type});
}

TEST(FactoryRules, LinspaceIsSymmetricAndTruncatesIntegers) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32, E::kU8}) {
    for (int64_t steps : {0, 1, 2, 7}) {
      Function fn = linspace(integer(-3), real(10.5), steps, type);
      EXPECT_EQ(fn.result_types()[0], (TensorType{type, {steps}}));
      EXPECT_NO_THROW(stablehlo::testing::detail::client().compile(fn.to_mlir()));
    }
  }
  EXPECT_THROW(linspace(integer(0), integer(1), -1, E::kF32), InvalidArgument);
  EXPECT_THROW(linspace(integer(0), integer(1), 3, E::kPred), Unsupported);

  auto out = run(linspace(real(0.5), real(10.7), 7, E::kS64));
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{0, 1, 3, 5, 6, 8, 10}));
  // -3 wraps to 253 in uint8 before the step is computed.
  out = run(linspace(integer(-3), integer(10), 7, E::kU8));
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{253, 212, 172, 131, 91, 50, 10}));
  out = run(linspace(real(0), real(1), 5, E::kF64));
  EXPECT_EQ(out[0].as<double>(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  out = run(linspace(real(2.5), real(9), 1, E::kF32));
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{2.5}));
}

TEST(FactoryRules, Eye) {
  for (E type : {E::kF32, E::kBF16, E::kS64, E::kPred, E::kC64}) {
    EXPECT_EQ(compiles("eye", "out", {Arg{int64_t{3}}}, {type}), (TensorType{type, {3, 3}}));
  }
  EXPECT_EQ(compiles("eye", "m_out", {Arg{int64_t{0}}, Arg{int64_t{4}}}, {E::kF32}),
            (TensorType{E::kF32, {0, 4}}));
  EXPECT_THROW(lower("eye", "out", {Arg{int64_t{-1}}}, {E::kF32}), InvalidArgument);
  EXPECT_THROW(lower("eye", "m_out", {Arg{int64_t{2}}, Arg{int64_t{-1}}}, {E::kF32}),
               InvalidArgument);
  auto out = run(lower("eye", "m_out", {Arg{int64_t{2}}, Arg{int64_t{3}}}, {E::kS32}));
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{1, 0, 0, 0, 1, 0}));
}

}  // namespace
}  // namespace torch_pjrt::lowering
