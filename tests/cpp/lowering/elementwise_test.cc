// Every elementwise rule builds StableHLO the CPU plugin compiles, over dtypes
// and shapes (0-d, empty, broadcast, Python numbers); a few are run to check
// the semantics that are easiest to get wrong. The full comparison against
// PyTorch is tests/python/test_ops_elementwise.py.
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

using testing::ArgSpec;
using testing::Number;
Function lower(std::string_view name, std::string_view overload,
               const std::vector<ArgSpec>& specs) {
  return testing::lower_call(name, specs, {overload});
}

// Lowers and compiles; returns the result type.
TensorType compiles(std::string_view name, std::string_view overload,
                    const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs, {overload}).at(0);
}

template <class T>
HostTensor host(E type, std::vector<int64_t> dims, std::vector<T> values) {
  return HostTensor::of<T>(type, std::move(dims), values);
}

const std::vector<E> kDtypes = {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32, E::kPred};

TEST(ElementwiseRules, RuleTableHasThem) {
  for (const char* name : {"add", "div", "pow", "erfinv", "lerp", "addcdiv"}) {
    EXPECT_NE(rule_table().find(name), nullptr) << name;
  }
}

TEST(ElementwiseRules, UnaryFloatingCompileForEveryDtype) {
  for (const char* name : {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                           "sin", "cos", "tan", "tanh", "sigmoid", "erf", "erfinv", "reciprocal"}) {
    for (E type : kDtypes) {
      TensorType out = compiles(name, "", {TensorType{type, {2, 3}}});
      const E expected = (type == E::kPred || type == E::kS64 || type == E::kS32) ? E::kF32 : type;
      EXPECT_EQ(out, (TensorType{expected, {2, 3}})) << name;
    }
    EXPECT_EQ(compiles(name, "", {TensorType{E::kF32, {}}}), (TensorType{E::kF32, {}}));
    EXPECT_EQ(compiles(name, "", {TensorType{E::kF32, {0, 4}}}), (TensorType{E::kF32, {0, 4}}));
  }
}

TEST(ElementwiseRules, UnaryExactCompile) {
  for (const char* name :
       {"neg", "abs", "sign", "sgn", "floor", "ceil", "trunc", "round", "frac", "square"}) {
    for (E type : kDtypes) {
      try {
        TensorType out = compiles(name, "", {TensorType{type, {3}}});
        EXPECT_EQ(out.dims, (std::vector<int64_t>{3}));
      } catch (const Unsupported&) {
        // PyTorch has no kernel for this dtype either (abs/floor/frac of bool, ...).
      } catch (const InvalidArgument&) {
        EXPECT_EQ(type, E::kPred) << name;  // neg of bool
      }
    }
  }
  EXPECT_EQ(compiles("square", "", {TensorType{E::kPred, {3}}}), (TensorType{E::kS64, {3}}));
  EXPECT_THROW(lower("abs", "", {TensorType{E::kPred, {3}}}), Unsupported);
  EXPECT_THROW(lower("neg", "", {TensorType{E::kPred, {3}}}), InvalidArgument);
}

TEST(ElementwiseRules, BinaryCompileWithBroadcastAndNumbers) {
  const std::vector<std::vector<ArgSpec>> operand_sets = {
      {TensorType{E::kF32, {2, 3}}, TensorType{E::kF32, {3}}},
      {TensorType{E::kBF16, {2, 1}}, TensorType{E::kF32, {}}},
      {TensorType{E::kS32, {0, 3}}, Number{E::kS64}},
      {TensorType{E::kS64, {4}}, TensorType{E::kS32, {4}}},
      {TensorType{E::kF64, {}}, Number{E::kF64}},
      {TensorType{E::kS32, {2}}, Number{E::kF64}},
  };
  for (const char* name : {"add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide",
                           "remainder", "fmod", "pow"}) {
    for (const auto& operands : operand_sets) compiles(name, "", operands);
  }
  for (const char* mode : {"floor", "trunc"}) {
    for (const auto& operands : operand_sets) {
      std::vector<ArgSpec> specs = operands;
      specs.push_back(Arg{std::string(mode)});
      compiles("div", "Tensor_mode", specs);
    }
  }
  EXPECT_EQ(compiles("add", "Tensor",
                     {TensorType{E::kPred, {2}}, TensorType{E::kPred, {2}}, Number{E::kS64}}),
            (TensorType{E::kPred, {2}}));
  EXPECT_EQ(compiles("div", "", {TensorType{E::kS32, {2}}, TensorType{E::kS32, {2}}}),
            (TensorType{E::kF32, {2}}));
  EXPECT_EQ(compiles("pow", "Scalar", {Number{E::kS64}, TensorType{E::kS32, {2}}}),
            (TensorType{E::kS32, {2}}));
  EXPECT_THROW(lower("add", "", {TensorType{E::kF32, {2}}, TensorType{E::kF32, {3}}}),
               InvalidArgument);
  EXPECT_THROW(
      lower("add", "Tensor", {TensorType{E::kS32, {2}}, TensorType{E::kS32, {2}}, Number{E::kF64}}),
      InvalidArgument);
  EXPECT_THROW(lower("sub", "", {TensorType{E::kPred, {2}}, Number{E::kS64}}), InvalidArgument);
  EXPECT_THROW(lower("remainder", "", {TensorType{E::kPred, {2}}, TensorType{E::kPred, {2}}}),
               Unsupported);
}

TEST(ElementwiseRules, TernaryCompile) {
  compiles("lerp", "Scalar",
           {TensorType{E::kF32, {2, 3}}, TensorType{E::kF32, {3}}, Number{E::kF64}});
  compiles("lerp", "Tensor",
           {TensorType{E::kBF16, {2, 1}}, TensorType{E::kBF16, {3}}, TensorType{E::kBF16, {}}});
  compiles("addcmul", "",
           {TensorType{E::kS32, {2, 3}}, TensorType{E::kS32, {3}}, TensorType{E::kS64, {}},
            Number{E::kF64}});
  compiles("addcdiv", "",
           {TensorType{E::kF32, {0}}, TensorType{E::kF32, {1}}, TensorType{E::kF32, {}},
            Number{E::kS64}});
  EXPECT_THROW(lower("lerp", "Scalar",
                     {TensorType{E::kF32, {2}}, TensorType{E::kF64, {2}}, Number{E::kF64}}),
               InvalidArgument);
  EXPECT_THROW(lower("addcdiv", "",
                     {TensorType{E::kF32, {2}}, TensorType{E::kS32, {2}}, TensorType{E::kS32, {2}},
                      Number{E::kS64}}),
               InvalidArgument);
}

TEST(ElementwiseRules, IntegerFloorDivisionAndRemainderFollowPython) {
  const std::vector<int64_t> x = {7, -7, 7, -7, 6, 0};
  const std::vector<int64_t> y = {2, 2, -2, -2, -3, 5};
  auto args = std::vector<HostTensor>{host(E::kS64, {6}, x), host(E::kS64, {6}, y)};
  const std::vector<ArgSpec> specs = {TensorType{E::kS64, {6}}, TensorType{E::kS64, {6}}};
  auto floor = stablehlo::testing::run(lower("floor_divide", "", specs), args);
  EXPECT_EQ(floor[0].as<int64_t>(), (std::vector<int64_t>{3, -4, -4, 3, -2, 0}));
  auto rem = stablehlo::testing::run(lower("remainder", "", specs), args);
  EXPECT_EQ(rem[0].as<int64_t>(), (std::vector<int64_t>{1, 1, -1, -1, 0, 0}));
  auto fmod = stablehlo::testing::run(lower("fmod", "", specs), args);
  EXPECT_EQ(fmod[0].as<int64_t>(), (std::vector<int64_t>{1, -1, 1, -1, 0, 0}));
}

TEST(ElementwiseRules, FloatFloorDivision) {
  const std::vector<float> x = {7.5f, -7.5f, 1.0f, -0.0f, 1.0f, 0.3f};
  const std::vector<float> y = {2.0f, 2.0f, 0.0f, 3.0f, -3.0f, 0.1f};
  auto out = stablehlo::testing::run(
      lower("div", "Tensor_mode",
            {TensorType{E::kF32, {6}}, TensorType{E::kF32, {6}}, Arg{std::string("floor")}}),
      {host(E::kF32, {6}, x), host(E::kF32, {6}, y)});
  std::vector<float> r = out[0].as<float>();
  EXPECT_EQ(r[0], 3.0f);
  EXPECT_EQ(r[1], -4.0f);
  EXPECT_TRUE(std::isinf(r[2]));
  EXPECT_TRUE(r[3] == 0.0f && std::signbit(r[3]));
  EXPECT_EQ(r[4], -1.0f);
  EXPECT_EQ(r[5], 3.0f);  // as PyTorch: in f32, fmod(0.3, 0.1) is 7.45e-9
}

TEST(ElementwiseRules, IntegerPowerWithNegativeExponents) {
  auto out = stablehlo::testing::run(
      lower("pow", "Tensor_Tensor", {TensorType{E::kS32, {5}}, TensorType{E::kS32, {5}}}),
      {host<int32_t>(E::kS32, {5}, {1, -1, -1, 2, 3}),
       host<int32_t>(E::kS32, {5}, {-3, -3, -2, -1, 4})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{1, -1, 1, 0, 81}));
}

TEST(ElementwiseRules, AddWithAlphaAndBool) {
  auto out = stablehlo::testing::run(
      lower("add", "Tensor", {TensorType{E::kS32, {2}}, Number{E::kS64}, Number{E::kS64}}),
      {host<int32_t>(E::kS32, {2}, {1, 2}), host<int64_t>(E::kS64, {}, {10}),
       host<int64_t>(E::kS64, {}, {3})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{31, 32}));
  auto logical = stablehlo::testing::run(
      lower("add", "Tensor", {TensorType{E::kPred, {3}}, TensorType{E::kPred, {3}}}),
      {host<uint8_t>(E::kPred, {3}, {1, 0, 0}), host<uint8_t>(E::kPred, {3}, {1, 1, 0})});
  EXPECT_EQ(logical[0].as<uint8_t>(), (std::vector<uint8_t>{1, 1, 0}));
}

TEST(ElementwiseRules, SignOfNanAndRoundHalfToEven) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto sign = stablehlo::testing::run(lower("sign", "", {TensorType{E::kF32, {4}}}),
                                      {host<float>(E::kF32, {4}, {nan, -2.0f, 0.0f, 3.0f})});
  EXPECT_EQ(sign[0].as<float>(), (std::vector<float>{0.0f, -1.0f, 0.0f, 1.0f}));
  auto round = stablehlo::testing::run(lower("round", "", {TensorType{E::kF32, {4}}}),
                                       {host<float>(E::kF32, {4}, {0.5f, 1.5f, 2.5f, -2.5f})});
  EXPECT_EQ(round[0].as<float>(), (std::vector<float>{0.0f, 2.0f, 2.0f, -2.0f}));
  auto trunc = stablehlo::testing::run(lower("trunc", "", {TensorType{E::kF32, {2}}}),
                                       {host<float>(E::kF32, {2}, {-2.7f, 2.7f})});
  EXPECT_EQ(trunc[0].as<float>(), (std::vector<float>{-2.0f, 2.0f}));
}

TEST(ActivationRules, CompileForFloatDtypesAndShapes) {
  const std::vector<std::pair<const char*, std::vector<Arg>>> forward = {
      {"relu", {}},
      {"gelu", {std::string("none")}},
      {"gelu", {std::string("tanh")}},
      {"silu", {}},
      {"mish", {}},
      {"hardsigmoid", {}},
      {"hardswish", {}},
      {"elu", {}},
      {"softplus", {}},
  };
  const std::vector<std::pair<const char*, std::vector<Arg>>> backward = {
      {"gelu_backward", {std::string("none")}},
      {"gelu_backward", {std::string("tanh")}},
      {"silu_backward", {}},
      {"mish_backward", {}},
      {"sigmoid_backward", {}},
      {"tanh_backward", {}},
      {"hardsigmoid_backward", {}},
      {"hardswish_backward", {}},
  };
  // Every dtype once, 0-d and empty once each: the grid costs a compile per cell.
  for (const TensorType& t :
       {TensorType{E::kF32, {2, 3}}, TensorType{E::kBF16, {2, 3}}, TensorType{E::kF64, {2, 3}},
        TensorType{E::kF32, {}}, TensorType{E::kBF16, {0, 2}}}) {
    {
      for (const auto& [name, extra] : forward) {
        std::vector<ArgSpec> specs = {t};
        for (const Arg& a : extra) specs.push_back(a);
        EXPECT_EQ(compiles(name, "", specs), t) << name;
      }
      for (const auto& [name, extra] : backward) {
        std::vector<ArgSpec> specs = {t, t};
        for (const Arg& a : extra) specs.push_back(a);
        EXPECT_EQ(compiles(name, "", specs), t) << name;
      }
      const Number slope{E::kF64};
      EXPECT_EQ(compiles("leaky_relu", "", {t, slope}), t);
      EXPECT_EQ(compiles("leaky_relu_backward", "", {t, t, slope, Arg{false}}), t);
      EXPECT_EQ(compiles("hardtanh", "", {t, slope, slope}), t);
      EXPECT_EQ(compiles("hardtanh_backward", "", {t, t, slope, slope}), t);
      EXPECT_EQ(compiles("threshold", "", {t, slope, slope}), t);
      EXPECT_EQ(compiles("threshold_backward", "", {t, t, slope}), t);
      EXPECT_EQ(compiles("softplus_backward", "", {t, t, slope, slope}), t);
      for (bool is_result : {false, true}) {
        EXPECT_EQ(compiles("elu_backward", "", {t, slope, slope, slope, Arg{is_result}, t}), t);
      }
    }
  }
}

TEST(ActivationRules, DtypesPyTorchRejectsOrPromotes) {
  const TensorType ints{E::kS64, {3}};
  EXPECT_EQ(compiles("relu", "", {ints}), ints);
  EXPECT_EQ(compiles("hardtanh", "", {ints, Number{E::kF64}, Number{E::kF64}}), ints);
  EXPECT_EQ(compiles("threshold", "", {ints, Number{E::kS64}, Number{E::kS64}}), ints);
  EXPECT_EQ(compiles("threshold_backward", "", {TensorType{E::kF32, {3}}, ints, Number{E::kS64}}),
            (TensorType{E::kF32, {3}}));
  EXPECT_EQ(compiles("gelu_backward", "", {TensorType{E::kF16, {3}}, TensorType{E::kBF16, {3}}}),
            (TensorType{E::kF32, {3}}));
  EXPECT_THROW(lower("gelu", "", {ints}), Unsupported);
  EXPECT_THROW(lower("relu", "", {TensorType{E::kPred, {3}}}), InvalidArgument);
  EXPECT_THROW(lower("gelu", "", {TensorType{E::kF32, {3}}, Arg{std::string("fast")}}),
               InvalidArgument);
}

TEST(ActivationRules, GeluAndHardswishValues) {
  auto gelu = stablehlo::testing::run(lower("gelu", "", {TensorType{E::kF32, {3}}}),
                                      {host<float>(E::kF32, {3}, {-1.0f, 0.0f, 2.0f})});
  std::vector<float> g = gelu[0].as<float>();
  EXPECT_NEAR(g[0], -0.15865526f, 1e-6);
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_NEAR(g[2], 1.9544997f, 1e-6);
  auto relu = stablehlo::testing::run(
      lower("relu", "", {TensorType{E::kF32, {2}}}),
      {host<float>(E::kF32, {2}, {std::numeric_limits<float>::quiet_NaN(), -1.0f})});
  EXPECT_TRUE(std::isnan(relu[0].as<float>()[0]));
  EXPECT_EQ(relu[0].as<float>()[1], 0.0f);
}

}  // namespace
}  // namespace torch_pjrt::lowering
