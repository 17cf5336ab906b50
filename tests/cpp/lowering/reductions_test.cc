// Reduction, softmax and loss rules build StableHLO the CPU plugin compiles,
// over dtypes and shapes (0-d, empty, keepdim, negative dims); a few run to
// check what is easiest to get wrong (NaN and tie handling, the scan, nll's
// ignore_index). The comparison against PyTorch is in tests/python/
// test_ops_reductions.py and test_ops_softmax_loss.py.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <variant>

#include "../stablehlo/executor.h"
#include "harness.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using E = ElementType;
using stablehlo::Function;
using stablehlo::testing::HostTensor;
using stablehlo::testing::run;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// A Scalar argument: a 0-d run-time value.
using testing::ArgSpec;
using testing::Number;
Function lower(std::string_view name, const std::vector<ArgSpec>& specs,
               std::string_view overload = "") {
  return testing::lower_call(name, specs, {overload});
}

// Lowers and compiles; returns the result types.
std::vector<TensorType> compiles(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs);
}

TensorType T(E type, std::vector<int64_t> dims) { return TensorType{type, std::move(dims)}; }
Arg dims(std::vector<int64_t> d) { return Arg{std::move(d)}; }
Arg none() { return Arg{NoneArg{}}; }

HostTensor f32(std::vector<int64_t> shape, std::vector<float> values) {
  return HostTensor::of<float>(E::kF32, std::move(shape), values);
}
HostTensor s64(std::vector<int64_t> shape, std::vector<int64_t> values) {
  return HostTensor::of<int64_t>(E::kS64, std::move(shape), values);
}

const std::vector<E> kDtypes = {E::kF32, E::kBF16, E::kF64, E::kF16, E::kS64,
                                E::kS32, E::kS8,   E::kU8,  E::kPred};

bool integral_or_bool(E type) { return type == E::kPred || stablehlo::is_integral(type); }

TEST(ReductionRules, RuleTableHasThem) {
  for (const char* name : {"sum", "mean", "max", "argmax", "var", "all", "logsumexp", "cumsum",
                           "linalg_vector_norm", "_softmax", "nll_loss_forward", "mse_loss"}) {
    EXPECT_NE(rule_table().find(name), nullptr) << name;
  }
}

TEST(ReductionRules, SumAndProdWidenIntegersForEveryDtype) {
  for (E type : kDtypes) {
    const E widened = integral_or_bool(type) ? E::kS64 : type;
    for (const char* name : {"sum", "prod"}) {
      EXPECT_EQ(compiles(name, {T(type, {2, 3}), none()})[0], T(widened, {})) << name;
    }
    EXPECT_EQ(compiles("sum", {T(type, {2, 3}), dims({-1}), Arg{true}, none()})[0],
              T(widened, {2, 1}));
    EXPECT_EQ(compiles("sum", {T(type, {0, 3}), dims({0}), Arg{false}, none()})[0],
              T(widened, {3}));
    EXPECT_EQ(compiles("prod", {T(type, {2, 3}), Arg{int64_t{0}}, Arg{false}, none()})[0],
              T(widened, {3}));
  }
  EXPECT_EQ(compiles("sum", {T(E::kF32, {}), dims({0}), Arg{false}, none()})[0], T(E::kF32, {}));
  EXPECT_EQ(compiles("sum", {T(E::kS32, {2, 3}), none(), Arg{true}, Arg{E::kF64}})[0],
            T(E::kF64, {1, 1}));
  EXPECT_THROW(lower("sum", {T(E::kF32, {2, 3}), dims({0, -2}), Arg{false}, none()}),
               InvalidArgument);
  EXPECT_THROW(lower("sum", {T(E::kF32, {2, 3}), dims({2}), Arg{false}, none()}), IndexOutOfRange);
}

TEST(ReductionRules, SumValuesAndHalfAccumulation) {
  auto out = run(lower("sum", {T(E::kF32, {2, 3}), dims({1}), Arg{false}, none()}),
                 {f32({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{6, 15}));
  // 4096 ones in bf16: an f16/bf16 accumulator would stall at 256.
  std::vector<uint16_t> ones(4096, 0x3f80);
  auto half = run(lower("sum", {T(E::kBF16, {4096}), none()}),
                  {HostTensor::of<uint16_t>(E::kBF16, {4096}, ones)});
  EXPECT_EQ(half[0].as<uint16_t>()[0], 0x4580);  // 4096.0 in bf16
}

TEST(ReductionRules, MeanNeedsFloatingAndGivesNanWhenEmpty) {
  EXPECT_EQ(compiles("mean", {T(E::kBF16, {2, 3}), dims({0}), Arg{false}, none()})[0],
            T(E::kBF16, {3}));
  EXPECT_EQ(compiles("mean", {T(E::kS32, {2, 3}), none(), Arg{false}, Arg{E::kF32}})[0],
            T(E::kF32, {}));
  EXPECT_THROW(lower("mean", {T(E::kS64, {2}), none()}), InvalidArgument);
  EXPECT_THROW(lower("mean", {T(E::kF32, {2}), Arg{E::kS64}}), InvalidArgument);
  auto out = run(lower("mean", {T(E::kF32, {0}), none()}), {f32({0}, {})});
  EXPECT_TRUE(std::isnan(out[0].as<float>()[0]));
}

TEST(ReductionRules, ExtremaCompileAndRejectEmpty) {
  for (E type : kDtypes) {
    for (const char* name : {"amax", "amin"}) {
      EXPECT_EQ(compiles(name, {T(type, {2, 3}), dims({}), Arg{false}})[0], T(type, {}));
      EXPECT_EQ(compiles(name, {T(type, {2, 3}), dims({0}), Arg{true}})[0], T(type, {1, 3}));
    }
    for (const char* name : {"max", "min"}) {
      EXPECT_EQ(compiles(name, {T(type, {2, 3})})[0], T(type, {}));
      auto both = compiles(name, {T(type, {2, 3}), Arg{int64_t{-1}}, Arg{false}});
      EXPECT_EQ(both[0], T(type, {2}));
      EXPECT_EQ(both[1], T(E::kS64, {2}));
    }
    if (type != E::kPred) {
      EXPECT_EQ(compiles("argmax", {T(type, {2, 3}), none(), Arg{false}})[0], T(E::kS64, {}));
      EXPECT_EQ(compiles("argmin", {T(type, {2, 3}), Arg{int64_t{1}}, Arg{true}})[0],
                T(E::kS64, {2, 1}));
    }
  }
  EXPECT_EQ(compiles("max", {T(E::kF32, {}), Arg{int64_t{0}}, Arg{false}})[1], T(E::kS64, {}));
  EXPECT_EQ(compiles("amax", {T(E::kF32, {0, 3}), dims({1}), Arg{false}})[0], T(E::kF32, {0}));
  EXPECT_THROW(lower("amax", {T(E::kF32, {0, 3}), dims({}), Arg{false}}), InvalidArgument);
  EXPECT_THROW(lower("amax", {T(E::kF32, {0, 3}), dims({0}), Arg{false}}), IndexOutOfRange);
  EXPECT_THROW(lower("max", {T(E::kF32, {0})}), InvalidArgument);
  EXPECT_THROW(lower("argmax", {T(E::kF32, {0}), none(), Arg{false}}), IndexOutOfRange);
  EXPECT_THROW(lower("argmax", {T(E::kPred, {2}), none(), Arg{false}}), InvalidArgument);
  EXPECT_THROW(lower("max", {T(E::kC64, {2})}), Unsupported);
  EXPECT_THROW(lower("max", {T(E::kC64, {2}), Arg{int64_t{0}}, Arg{false}}), InvalidArgument);
  EXPECT_THROW(lower("amin", {T(E::kC64, {2}), dims({}), Arg{false}}), Unsupported);
}

TEST(ReductionRules, MaxPropagatesNanAndIndexesFirstOccurrence) {
  const std::vector<ArgSpec> along = {T(E::kF32, {2, 4}), Arg{int64_t{1}}, Arg{false}};
  auto in = f32({2, 4}, {1, kNan, 3, kNan, 2, 5, 5, -1});
  auto max = run(lower("max", along), {in});
  auto max_values = max[0].as<float>();
  EXPECT_TRUE(std::isnan(max_values[0]));
  EXPECT_EQ(max_values[1], 5);
  EXPECT_EQ(max[1].as<int64_t>(), (std::vector<int64_t>{1, 1}));
  auto min = run(lower("min", along), {in});
  EXPECT_EQ(min[1].as<int64_t>(), (std::vector<int64_t>{1, 3}));
  auto all = run(lower("amax", {T(E::kF32, {2, 4}), dims({}), Arg{false}}), {in});
  EXPECT_TRUE(std::isnan(all[0].as<float>()[0]));
  auto flat = run(lower("argmax", {T(E::kF32, {2, 4}), none(), Arg{false}}),
                  {f32({2, 4}, {1, 7, 3, 0, 2, 7, 7, -1})});
  EXPECT_EQ(flat[0].as<int64_t>(), (std::vector<int64_t>{1}));
}

TEST(ReductionRules, VarianceTakesRunTimeCorrection) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kC64}) {
    const E real = stablehlo::real_part_type(type);
    EXPECT_EQ(compiles("var", {T(type, {2, 3}), dims({1}), Number{E::kS64}, Arg{false}})[0],
              T(real, {2}));
    EXPECT_EQ(compiles("std", {T(type, {2, 3}), none(), none(), Arg{true}})[0], T(real, {1, 1}));
    auto both = compiles("var_mean", {T(type, {2, 3}), dims({0}), Number{E::kF64}, Arg{false}});
    EXPECT_EQ(both[0], T(real, {3}));
    EXPECT_EQ(both[1], T(type, {3}));
    EXPECT_EQ(compiles("std_mean", {T(type, {}), none(), none(), Arg{false}})[1], T(type, {}));
    // The pre-correction overloads: var(self, unbiased), var.dim(self, dim, unbiased, keepdim).
    EXPECT_EQ(compiles("var", {T(type, {4}), Arg{false}})[0], T(real, {}));
    EXPECT_EQ(compiles("std", {T(type, {4, 2}), dims({0}), Arg{true}, Arg{false}})[0],
              T(real, {2}));
  }
  EXPECT_THROW(lower("var", {T(E::kS64, {3}), none(), none(), Arg{false}}), InvalidArgument);
  auto var = run(lower("var", {T(E::kF32, {4}), none(), Number{E::kF64}, Arg{false}}),
                 {f32({4}, {1, 2, 3, 4}), HostTensor::of<double>(E::kF64, {}, {2.0})});
  EXPECT_FLOAT_EQ(var[0].as<float>()[0], 2.5f);  // 5 / (4 - 2)
  auto single = run(lower("var", {T(E::kF32, {1}), none(), none(), Arg{false}}), {f32({1}, {3})});
  EXPECT_TRUE(std::isnan(single[0].as<float>()[0]));
}

TEST(ReductionRules, AllAnyKeepByteAndReduceNothingForEmptyDims) {
  for (E type : kDtypes) {
    const E expected = type == E::kU8 ? E::kU8 : E::kPred;
    EXPECT_EQ(compiles("all", {T(type, {2, 3})})[0], T(expected, {}));
    EXPECT_EQ(compiles("any", {T(type, {2, 3}), Arg{int64_t{1}}, Arg{true}})[0],
              T(expected, {2, 1}));
  }
  EXPECT_EQ(compiles("all", {T(E::kF32, {2, 3}), dims({}), Arg{false}})[0], T(E::kPred, {2, 3}));
  EXPECT_EQ(compiles("any", {T(E::kF32, {2, 3}), none(), Arg{false}})[0], T(E::kPred, {}));
  auto empty = run(lower("all", {T(E::kF32, {0})}), {f32({0}, {})});
  EXPECT_EQ(empty[0].as<uint8_t>(), (std::vector<uint8_t>{1}));
  auto nan = run(lower("all", {T(E::kF32, {2})}), {f32({2}, {kNan, 1})});
  EXPECT_EQ(nan[0].as<uint8_t>(), (std::vector<uint8_t>{1}));
}

TEST(ReductionRules, LogsumexpHandlesInfiniteRows) {
  EXPECT_EQ(compiles("logsumexp", {T(E::kS32, {2, 3}), dims({1}), Arg{false}})[0], T(E::kF32, {2}));
  EXPECT_EQ(compiles("logsumexp", {T(E::kBF16, {0, 3}), dims({0}), Arg{true}})[0],
            T(E::kBF16, {1, 3}));
  auto out = run(lower("logsumexp", {T(E::kF32, {3, 2}), dims({1}), Arg{false}}),
                 {f32({3, 2}, {-kInf, -kInf, kInf, 1, 0, 0})});
  auto v = out[0].as<float>();
  EXPECT_EQ(v[0], -kInf);
  EXPECT_EQ(v[1], kInf);
  EXPECT_FLOAT_EQ(v[2], std::log(2.0f));
}

TEST(ReductionRules, CumulativeWindowAndScanAgree) {
  for (E type : kDtypes) {
    const E widened = integral_or_bool(type) ? E::kS64 : type;
    EXPECT_EQ(compiles("cumsum", {T(type, {2, 3}), Arg{int64_t{-1}}, none()})[0],
              T(widened, {2, 3}));
    EXPECT_EQ(compiles("cumprod", {T(type, {0, 3}), Arg{int64_t{0}}, none()})[0],
              T(widened, {0, 3}));
  }
  EXPECT_EQ(compiles("cumsum", {T(E::kF32, {}), Arg{int64_t{0}}, Arg{E::kF64}})[0], T(E::kF64, {}));
  // Short lengths use reduce_window, long ones the log-depth scan.
  for (int64_t n : {1, 2, 5, 256, 257, 1000, 1023}) {
    std::vector<int64_t> x(static_cast<size_t>(n));
    std::iota(x.begin(), x.end(), 1);
    auto out = run(lower("cumsum", {T(E::kS64, {n}), Arg{int64_t{0}}, none()}), {s64({n}, x)});
    std::vector<int64_t> expected(x.size());
    std::partial_sum(x.begin(), x.end(), expected.begin());
    EXPECT_EQ(out[0].as<int64_t>(), expected) << n;
  }
  std::vector<int64_t> twos(300, 1);
  twos[5] = 2;
  twos[299] = 3;
  auto prod =
      run(lower("cumprod", {T(E::kS64, {300}), Arg{int64_t{0}}, none()}), {s64({300}, twos)});
  EXPECT_EQ(prod[0].as<int64_t>()[4], 1);
  EXPECT_EQ(prod[0].as<int64_t>()[5], 2);
  EXPECT_EQ(prod[0].as<int64_t>()[299], 6);
}

TEST(ReductionRules, NormsByOrder) {
  auto norm = [](double ord, std::vector<float> values) {
    const auto n = static_cast<int64_t>(values.size());
    auto out = run(lower("linalg_vector_norm",
                         {T(E::kF32, {n}), Arg{StaticScalar{ord}}, none(), Arg{false}, none()}),
                   {f32({n}, std::move(values))});
    return out[0].as<float>()[0];
  };
  EXPECT_FLOAT_EQ(norm(2, {3, -4}), 5);
  EXPECT_FLOAT_EQ(norm(1, {3, -4}), 7);
  EXPECT_FLOAT_EQ(norm(INFINITY, {3, -4}), 4);
  EXPECT_FLOAT_EQ(norm(-INFINITY, {3, -4}), 3);
  EXPECT_FLOAT_EQ(norm(0, {3, 0, -4}), 2);
  EXPECT_NEAR(norm(3, {3, -4}), std::cbrt(91.0f), 1e-5);
  EXPECT_FLOAT_EQ(norm(0, {}), 0);
  EXPECT_EQ(compiles("norm",
                     {T(E::kBF16, {2, 3}), Arg{StaticScalar{int64_t{2}}}, dims({1}), Arg{true}})[0],
            T(E::kBF16, {2, 1}));
  EXPECT_EQ(compiles("norm", {T(E::kC64, {2, 3}), none()})[0], T(E::kF32, {}));
  EXPECT_EQ(compiles("linalg_vector_norm", {T(E::kF32, {2, 3}), Arg{StaticScalar{1.5}}, dims({0}),
                                            Arg{false}, Arg{E::kF64}})[0],
            T(E::kF64, {3}));
  EXPECT_THROW(lower("linalg_vector_norm",
                     {T(E::kF32, {0}), Arg{StaticScalar{INFINITY}}, none(), Arg{false}, none()}),
               InvalidArgument);
  EXPECT_THROW(lower("norm", {T(E::kS64, {3}), none()}), InvalidArgument);
  EXPECT_THROW(lower("linalg_vector_norm",
                     {T(E::kF32, {3}), Arg{StaticScalar{2.0}}, none(), Arg{false}, Arg{E::kBF16}}),
               InvalidArgument);
  EXPECT_THROW(lower("linalg_vector_norm",
                     {T(E::kF32, {0, 3}), Arg{StaticScalar{-1.0}}, dims({0}), Arg{false}, none()}),
               InvalidArgument);
  EXPECT_EQ(compiles("linalg_vector_norm", {T(E::kF32, {0, 3}), Arg{StaticScalar{-1.0}}, dims({1}),
                                            Arg{false}, none()})[0],
            T(E::kF32, {0}));
}

TEST(ReductionRules, CountNonzero) {
  EXPECT_EQ(compiles("count_nonzero", {T(E::kPred, {2, 3}), dims({1})})[0], T(E::kS64, {2}));
  EXPECT_EQ(compiles("count_nonzero", {T(E::kBF16, {2, 3}), none()})[0], T(E::kS64, {}));
  auto out =
      run(lower("count_nonzero", {T(E::kF32, {4}), dims({})}), {f32({4}, {0, kNan, -0.0f, 2})});
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{2}));
}

TEST(ReductionRules, NansumAndAminmax) {
  EXPECT_EQ(compiles("nansum", {T(E::kS32, {2, 3}), dims({1}), Arg{false}, none()})[0],
            T(E::kS64, {2}));
  auto sum =
      run(lower("nansum", {T(E::kF32, {3}), none(), Arg{false}, none()}), {f32({3}, {1, kNan, 2})});
  EXPECT_EQ(sum[0].as<float>(), (std::vector<float>{3}));
  auto both = compiles("aminmax", {T(E::kPred, {2, 3}), Arg{int64_t{0}}, Arg{true}});
  EXPECT_EQ(both[0], T(E::kPred, {1, 3}));
  EXPECT_EQ(both[1], T(E::kPred, {1, 3}));
  EXPECT_THROW(lower("aminmax", {T(E::kF32, {0}), none(), Arg{false}}), InvalidArgument);
  auto extremes =
      run(lower("aminmax", {T(E::kF32, {3}), none(), Arg{false}}), {f32({3}, {4, -2, 7})});
  EXPECT_EQ(extremes[0].as<float>(), (std::vector<float>{-2}));
  EXPECT_EQ(extremes[1].as<float>(), (std::vector<float>{7}));
}

// --- softmax and losses -------------------------------------------------------------

TEST(SoftmaxLossRules, SoftmaxCompilesAndIsStable) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kF16}) {
    for (const char* name : {"_softmax", "_log_softmax"}) {
      EXPECT_EQ(compiles(name, {T(type, {2, 3}), Arg{int64_t{-1}}, Arg{false}})[0],
                T(type, {2, 3}));
      EXPECT_EQ(compiles(name, {T(type, {}), Arg{int64_t{0}}, Arg{false}})[0], T(type, {}));
      EXPECT_EQ(compiles(name, {T(type, {0, 3}), Arg{int64_t{0}}, Arg{false}})[0], T(type, {0, 3}));
    }
    for (const char* name : {"_softmax_backward_data", "_log_softmax_backward_data"}) {
      EXPECT_EQ(compiles(name, {T(type, {2, 3}), T(type, {2, 3}), Arg{int64_t{1}}, Arg{type}})[0],
                T(type, {2, 3}));
    }
  }
  EXPECT_EQ(compiles("_softmax", {T(E::kF16, {3}), Arg{int64_t{0}}, Arg{true}})[0],
            T(E::kF32, {3}));
  EXPECT_THROW(lower("_softmax", {T(E::kS64, {3}), Arg{int64_t{0}}, Arg{false}}), Unsupported);
  EXPECT_THROW(lower("_softmax", {T(E::kF32, {3}), Arg{int64_t{1}}, Arg{false}}), IndexOutOfRange);
  auto out = run(lower("_softmax", {T(E::kF32, {2, 2}), Arg{int64_t{1}}, Arg{false}}),
                 {f32({2, 2}, {1000, 1000, 0, std::log(3.0f)})});
  auto v = out[0].as<float>();
  EXPECT_FLOAT_EQ(v[0], 0.5f);
  EXPECT_FLOAT_EQ(v[1], 0.5f);
  EXPECT_FLOAT_EQ(v[2], 0.25f);
  EXPECT_FLOAT_EQ(v[3], 0.75f);
}

TEST(SoftmaxLossRules, NllLossShapesAndErrors) {
  for (E type : {E::kF32, E::kBF16, E::kF64}) {
    for (int64_t reduction : {0, 1, 2}) {
      auto out = compiles("nll_loss_forward", {T(type, {4, 5}), T(E::kS64, {4}), T(type, {5}),
                                               Arg{reduction}, Arg{int64_t{-100}}});
      EXPECT_EQ(out[0], T(type, reduction == 0 ? std::vector<int64_t>{4} : std::vector<int64_t>{}));
      EXPECT_EQ(out[1], T(type, {}));
      compiles("nll_loss_forward",
               {T(type, {5}), T(E::kU8, {}), none(), Arg{reduction}, Arg{int64_t{1}}});
      compiles("nll_loss2d_forward", {T(type, {2, 3, 4, 5}), T(E::kS64, {2, 4, 5}), none(),
                                      Arg{reduction}, Arg{int64_t{-100}}});
      const TensorType grad = reduction == 0 ? T(type, {4}) : T(type, {});
      EXPECT_EQ(compiles("nll_loss_backward", {grad, T(type, {4, 5}), T(E::kS64, {4}), T(type, {5}),
                                               Arg{reduction}, Arg{int64_t{-100}}, T(type, {})})[0],
                T(type, {4, 5}));
      const TensorType grad2d = reduction == 0 ? T(type, {2, 4, 5}) : T(type, {});
      compiles("nll_loss2d_backward", {grad2d, T(type, {2, 3, 4, 5}), T(E::kS64, {2, 4, 5}), none(),
                                       Arg{reduction}, Arg{int64_t{-100}}, T(type, {})});
    }
  }
  compiles("nll_loss_forward",
           {T(E::kF32, {0, 5}), T(E::kS64, {0}), none(), Arg{int64_t{1}}, Arg{int64_t{-100}}});
  EXPECT_THROW(lower("nll_loss_forward", {T(E::kF32, {4, 5}), T(E::kS32, {4}), none(),
                                          Arg{int64_t{1}}, Arg{int64_t{-100}}}),
               InvalidArgument);
  EXPECT_THROW(lower("nll_loss_forward", {T(E::kF32, {4, 5}), T(E::kS64, {3}), none(),
                                          Arg{int64_t{1}}, Arg{int64_t{-100}}}),
               InvalidArgument);
  EXPECT_THROW(lower("nll_loss_forward", {T(E::kF32, {4, 5}), T(E::kS64, {4}), T(E::kF32, {4}),
                                          Arg{int64_t{1}}, Arg{int64_t{-100}}}),
               InvalidArgument);
  EXPECT_THROW(lower("nll_loss_forward", {T(E::kS64, {4, 5}), T(E::kS64, {4}), none(),
                                          Arg{int64_t{1}}, Arg{int64_t{-100}}}),
               Unsupported);
}

TEST(SoftmaxLossRules, NllLossWeightsAndIgnoreIndex) {
  // input (3, 2), targets {1, ignored, 0}, weights {2, 3}.
  const std::vector<ArgSpec> specs = {T(E::kF32, {3, 2}), T(E::kS64, {3}), T(E::kF32, {2}),
                                      Arg{int64_t{1}}, Arg{int64_t{-1}}};
  auto out = run(lower("nll_loss_forward", specs),
                 {f32({3, 2}, {1, 2, 3, 4, 5, 6}), s64({3}, {1, -1, 0}), f32({2}, {2, 3})});
  EXPECT_FLOAT_EQ(out[0].as<float>()[0], -(2 * 3 + 5 * 2) / 5.0f);
  EXPECT_FLOAT_EQ(out[1].as<float>()[0], 5);
  auto all_ignored =
      run(lower("nll_loss_forward", specs),
          {f32({3, 2}, {1, 2, 3, 4, 5, 6}), s64({3}, {-1, -1, -1}), f32({2}, {2, 3})});
  EXPECT_TRUE(std::isnan(all_ignored[0].as<float>()[0]));
  auto grad = run(lower("nll_loss_backward",
                        {T(E::kF32, {}), T(E::kF32, {3, 2}), T(E::kS64, {3}), T(E::kF32, {2}),
                         Arg{int64_t{1}}, Arg{int64_t{-1}}, T(E::kF32, {})}),
                  {f32({}, {1}), f32({3, 2}, {1, 2, 3, 4, 5, 6}), s64({3}, {1, -1, 0}),
                   f32({2}, {2, 3}), f32({}, {5})});
  EXPECT_EQ(grad[0].as<float>(), (std::vector<float>{0, -0.6f, 0, 0, -0.4f, 0}));
}

TEST(SoftmaxLossRules, RegressionAndBinaryLossesCompile) {
  for (E type : {E::kF32, E::kBF16, E::kF64}) {
    for (int64_t reduction : {0, 1, 2}) {
      const TensorType out = reduction == 0 ? T(type, {2, 3}) : T(type, {});
      EXPECT_EQ(compiles("mse_loss", {T(type, {2, 3}), T(type, {3}), Arg{reduction}})[0], out);
      EXPECT_EQ(compiles("binary_cross_entropy",
                         {T(type, {2, 3}), T(type, {2, 3}), T(type, {3}), Arg{reduction}})[0],
                out);
      EXPECT_EQ(
          compiles("binary_cross_entropy_with_logits",
                   {T(type, {2, 3}), T(type, {2, 3}), none(), T(type, {3}), Arg{reduction}})[0],
          out);
      const TensorType grad = reduction == 0 ? T(type, {2, 3}) : T(type, {});
      EXPECT_EQ(compiles("mse_loss_backward",
                         {grad, T(type, {2, 3}), T(type, {2, 3}), Arg{reduction}})[0],
                T(type, {2, 3}));
      EXPECT_EQ(compiles("binary_cross_entropy_backward",
                         {grad, T(type, {2, 3}), T(type, {2, 3}), none(), Arg{reduction}})[0],
                T(type, {2, 3}));
    }
  }
  for (const char* name : {"smooth_l1_loss", "huber_loss"}) {
    for (double threshold : {1.0, 0.5, 0.0}) {
      if (threshold == 0.0 && name == std::string("huber_loss")) continue;
      EXPECT_EQ(
          compiles(name, {T(E::kBF16, {2, 3}), T(E::kF32, {3}), Arg{int64_t{1}}, Arg{threshold}})[0]
              .rank(),
          0);
      compiles(std::string(name) + "_backward",
               {T(E::kF32, {}), T(E::kF32, {2, 3}), T(E::kF32, {2, 3}), Arg{int64_t{1}},
                Arg{threshold}});
    }
  }
  EXPECT_THROW(lower("huber_loss", {T(E::kF32, {2}), T(E::kF32, {2}), Arg{int64_t{1}}, Arg{0.0}}),
               InvalidArgument);
  auto huber =
      run(lower("huber_loss", {T(E::kF32, {3}), T(E::kF32, {3}), Arg{int64_t{0}}, Arg{2.0}}),
          {f32({3}, {1, 5, -3}), f32({3}, {0, 0, 0})});
  EXPECT_EQ(huber[0].as<float>(), (std::vector<float>{0.5f, 8, 4}));
  EXPECT_EQ(compiles("mse_loss", {T(E::kBF16, {2}), T(E::kF32, {2}), Arg{int64_t{1}}})[0],
            T(E::kF32, {}));
  EXPECT_THROW(lower("mse_loss", {T(E::kS64, {2}), T(E::kS64, {2}), Arg{int64_t{1}}}), Unsupported);
  EXPECT_THROW(
      lower("binary_cross_entropy", {T(E::kF32, {2}), T(E::kF64, {2}), none(), Arg{int64_t{1}}}),
      InvalidArgument);
  auto bce = run(
      lower("binary_cross_entropy", {T(E::kF32, {2}), T(E::kF32, {2}), none(), Arg{int64_t{0}}}),
      {f32({2}, {0, 1}), f32({2}, {1, 1})});
  EXPECT_EQ(bce[0].as<float>(), (std::vector<float>{100, 0}));
}

}  // namespace
}  // namespace torch_pjrt::lowering
