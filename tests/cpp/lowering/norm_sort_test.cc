// Layer/group norm, log_sigmoid and the sort/search family build StableHLO the
// CPU plugin compiles, with the result shapes and dtypes PyTorch gives; a few
// run to check what is easiest to get wrong (NaN order, stable ties, the lower
// median, cummax ties, the binary search over a sequence holding NaN). The
// comparison against PyTorch is in tests/python/test_ops_norm.py and
// test_ops_sort.py.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "../stablehlo/executor.h"
#include "harness.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using E = ElementType;
using stablehlo::testing::HostTensor;
using stablehlo::testing::run;
using testing::ArgSpec;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

TensorType T(E type, std::vector<int64_t> dims) { return TensorType{type, std::move(dims)}; }
Arg none() { return Arg{NoneArg{}}; }
Arg i(int64_t v) { return Arg{v}; }

stablehlo::Function lower(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::lower_call(name, specs);
}
std::vector<TensorType> compiles(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs);
}
HostTensor f32(std::vector<int64_t> shape, std::vector<float> values) {
  return HostTensor::of<float>(E::kF32, std::move(shape), values);
}

TEST(NormRules, LayerNormStatisticsShapesAndTypes) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kF16}) {
    auto out = compiles("native_layer_norm", {T(type, {2, 3, 4}), Arg{std::vector<int64_t>{4}},
                                              none(), none(), Arg{1e-5}});
    EXPECT_EQ(out[0], T(type, {2, 3, 4}));
    EXPECT_EQ(out[1], T(type, {2, 3, 1}));
    EXPECT_EQ(out[2], T(type, {2, 3, 1}));
  }
  // f32 parameters with a half input: f32 statistics.
  auto mixed = compiles("native_layer_norm", {T(E::kBF16, {2, 4}), Arg{std::vector<int64_t>{4}},
                                              T(E::kF32, {4}), none(), Arg{1e-5}});
  EXPECT_EQ(mixed[1], T(E::kF32, {2, 1}));
  auto back =
      compiles("native_layer_norm_backward",
               {T(E::kF32, {2, 3, 4}), T(E::kF32, {2, 3, 4}), Arg{std::vector<int64_t>{3, 4}},
                T(E::kF32, {2, 1, 1}), T(E::kF32, {2, 1, 1}), T(E::kF32, {3, 4}), none(),
                Arg{std::vector<int64_t>{1, 1, 1}}});
  EXPECT_EQ(back[1], T(E::kF32, {3, 4}));
  EXPECT_THROW(lower("native_layer_norm",
                     {T(E::kF32, {2, 4}), Arg{std::vector<int64_t>{5}}, none(), none(), Arg{1e-5}}),
               InvalidArgument);
  EXPECT_THROW(lower("native_layer_norm", {T(E::kF64, {2, 4}), Arg{std::vector<int64_t>{4}},
                                           T(E::kF32, {4}), none(), Arg{1e-5}}),
               InvalidArgument);
}

TEST(NormRules, LayerNormOfAnEmptyRowGivesMeanZeroAndNanRstd) {
  auto out = run(lower("native_layer_norm", {T(E::kF32, {2, 0}), Arg{std::vector<int64_t>{0}},
                                             none(), none(), Arg{1e-5}}),
                 {f32({2, 0}, {})});
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{0, 0}));
  EXPECT_TRUE(std::isnan(out[2].as<float>()[0]));
}

TEST(NormRules, GroupNormCompilesAndChecksGroups) {
  auto out = compiles("native_group_norm", {T(E::kBF16, {2, 6, 3}), T(E::kBF16, {6}), none(), i(2),
                                            i(6), i(3), i(3), Arg{1e-5}});
  EXPECT_EQ(out[1], T(E::kBF16, {2, 3}));
  auto back = compiles(
      "native_group_norm_backward",
      {T(E::kF32, {2, 6, 3}), T(E::kF32, {2, 6, 3}), T(E::kF32, {2, 3}), T(E::kF32, {2, 3}), none(),
       i(2), i(6), i(3), i(3), Arg{std::vector<int64_t>{1, 1, 1}}});
  EXPECT_EQ(back[1], T(E::kF32, {6}));
  EXPECT_THROW(lower("native_group_norm",
                     {T(E::kF32, {2, 6, 3}), none(), none(), i(2), i(6), i(3), i(4), Arg{1e-5}}),
               InvalidArgument);
}

TEST(NormRules, LogSigmoidValuesAndBuffer) {
  auto out = run(lower("log_sigmoid_forward", {T(E::kF32, {3})}), {f32({3}, {-1, 0, 2})});
  const auto y = out[0].as<float>(), z = out[1].as<float>();
  EXPECT_NEAR(y[0], -std::log1p(std::exp(1.0f)), 1e-6);
  EXPECT_NEAR(y[1], -std::log(2.0f), 1e-6);
  EXPECT_NEAR(z[2], std::exp(-2.0f), 1e-7);
  EXPECT_THROW(lower("log_sigmoid_forward", {T(E::kS64, {3})}), std::exception);
}

TEST(SortRules, CompileOverDtypesAndShapes) {
  for (E type : {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32, E::kPred}) {
    auto s = compiles("sort", {T(type, {3, 4}), i(-1), Arg{true}});
    EXPECT_EQ(s[0], T(type, {3, 4}));
    EXPECT_EQ(s[1], T(E::kS64, {3, 4}));
    EXPECT_EQ(compiles("sort", {T(type, {}), none(), i(0), Arg{false}})[1], T(E::kS64, {}));
    EXPECT_EQ(compiles("cummax", {T(type, {5, 2}), i(0)})[1], T(E::kS64, {5, 2}));
    EXPECT_EQ(compiles("mode", {T(type, {3, 4}), i(1), Arg{true}})[0], T(type, {3, 1}));
    if (type == E::kPred) continue;
    EXPECT_EQ(compiles("topk", {T(type, {3, 4}), i(2), i(1), Arg{true}, Arg{true}})[0],
              T(type, {3, 2}));
    EXPECT_EQ(compiles("kthvalue", {T(type, {3, 4}), i(2), i(0), Arg{false}})[0], T(type, {4}));
    EXPECT_EQ(compiles("median", {T(type, {3, 4})})[0], T(type, {}));
    EXPECT_EQ(compiles("nanmedian", {T(type, {3, 4}), i(1), Arg{false}})[1], T(E::kS64, {3}));
  }
  EXPECT_THROW(lower("sort", {T(E::kF32, {3}), i(1), Arg{false}}), IndexOutOfRange);
  EXPECT_THROW(lower("topk", {T(E::kF32, {3}), i(4), i(0), Arg{true}, Arg{true}}), InvalidArgument);
  EXPECT_THROW(lower("kthvalue", {T(E::kF32, {3}), i(0), i(0), Arg{false}}), InvalidArgument);
  EXPECT_THROW(lower("median", {T(E::kF32, {0, 3}), i(0), Arg{false}}), IndexOutOfRange);
}

TEST(SortRules, NanSortsLargestAndTiesKeepTheirOrder) {
  auto out = run(lower("sort", {T(E::kF32, {5}), none(), i(0), Arg{false}}),
                 {f32({5}, {2, kNan, 1, 2, -1})});
  const auto values = out[0].as<float>();
  EXPECT_EQ(std::vector<float>(values.begin(), values.end() - 1),
            (std::vector<float>{-1, 1, 2, 2}));
  EXPECT_TRUE(std::isnan(values[4]));
  EXPECT_EQ(out[1].as<int64_t>(), (std::vector<int64_t>{4, 2, 0, 3, 1}));
  auto down = run(lower("sort", {T(E::kF32, {5}), none(), i(0), Arg{true}}),
                  {f32({5}, {2, kNan, 1, 2, -1})});
  EXPECT_EQ(down[1].as<int64_t>(), (std::vector<int64_t>{1, 0, 3, 2, 4}));
}

TEST(SortRules, MedianIsTheLowerOneAndNanWins) {
  auto lower_median = run(lower("median", {T(E::kF32, {2, 4}), i(1), Arg{false}}),
                          {f32({2, 4}, {4, 1, 3, 2, 1, kNan, 0, 5})});
  EXPECT_EQ(lower_median[0].as<float>()[0], 2);
  EXPECT_EQ(lower_median[1].as<int64_t>()[0], 3);
  EXPECT_TRUE(std::isnan(lower_median[0].as<float>()[1]));
  EXPECT_EQ(lower_median[1].as<int64_t>()[1], 1);
  auto ignoring =
      run(lower("nanmedian", {T(E::kF32, {4}), i(0), Arg{false}}), {f32({4}, {1, kNan, 0, 5})});
  EXPECT_EQ(ignoring[0].as<float>()[0], 1);
}

TEST(SortRules, CummaxTakesTheLaterTieAndKeepsNan) {
  auto out = run(lower("cummax", {T(E::kF32, {6}), i(0)}), {f32({6}, {1, 3, 3, kNan, 5, kNan})});
  EXPECT_EQ(out[1].as<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 3, 5}));
}

TEST(SortRules, ModePicksTheSmallestMostFrequentValue) {
  auto out =
      run(lower("mode", {T(E::kF32, {7}), i(0), Arg{false}}), {f32({7}, {3, 1, 3, 2, 1, 5, 0})});
  EXPECT_EQ(out[0].as<float>()[0], 1);
  EXPECT_EQ(out[1].as<int64_t>()[0], 4);
}

TEST(SearchRules, BinarySearchAsCpuRunsIt) {
  // [1, 2, NaN] and 1.5: CPU's lower bound stops at 1, although NaN is not >= 1.5.
  auto out = run(lower("searchsorted",
                       {T(E::kF32, {3}), T(E::kF32, {2}), Arg{false}, Arg{false}, none(), none()}),
                 {f32({3}, {1, 2, kNan}), f32({2}, {1.5, kNan})});
  EXPECT_EQ(out[0].as<int64_t>(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(compiles("bucketize", {T(E::kS32, {2, 3}), T(E::kS64, {4}), Arg{true}, Arg{false}})[0],
            T(E::kS32, {2, 3}));
  EXPECT_THROW(lower("bucketize", {T(E::kF32, {2}), T(E::kF32, {2, 2}), Arg{false}, Arg{false}}),
               InvalidArgument);
}

TEST(SearchRules, HistcCountsEdgesLikeCpu) {
  auto out =
      run(lower("histc", {T(E::kF32, {6}), i(4), Arg{StaticScalar{0.0}}, Arg{StaticScalar{1.0}}}),
          {f32({6}, {0, 0.25, 1, 1.5, -0.5, kNan})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{1, 1, 0, 1}));
  EXPECT_THROW(
      lower("histc", {T(E::kF32, {6}), i(0), Arg{StaticScalar{0.0}}, Arg{StaticScalar{1.0}}}),
      InvalidArgument);
}

}  // namespace
}  // namespace torch_pjrt::lowering
