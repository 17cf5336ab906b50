// Convolution, pooling, padding and upsampling rules build StableHLO the CPU
// plugin compiles, with PyTorch's output shapes, reject what PyTorch rejects,
// and a few run to pin down what only the lowering decides (max-pool ties and
// NaN, the indices its backward scatters to). The comparison against PyTorch
// is tests/python/test_ops_conv_pool.py.
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
using Ints = std::vector<int64_t>;

TensorType T(E type, Ints dims) { return TensorType{type, std::move(dims)}; }
TensorType compiles(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs).at(0);
}
std::vector<TensorType> compiles_all(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs);
}
Arg none() { return Arg{NoneArg{}}; }

// convolution(input, weight, bias?, stride, padding, dilation, transposed,
// output_padding, groups)
std::vector<ArgSpec> conv_args(TensorType x, TensorType w, Ints stride, Ints pad, Ints dil,
                               bool transposed, Ints out_pad, int64_t groups) {
  return {x,          w, none(), Arg{stride}, Arg{pad}, Arg{dil}, Arg{transposed}, Arg{out_pad},
          Arg{groups}};
}

TEST(ConvPoolRules, RuleTableHasThem) {
  for (const char* name :
       {"convolution", "convolution_backward", "max_pool2d_with_indices",
        "max_pool3d_with_indices_backward", "avg_pool2d", "avg_pool3d_backward",
        "_adaptive_avg_pool2d", "adaptive_max_pool2d_backward", "reflection_pad1d",
        "replication_pad3d_backward", "upsample_nearest2d", "upsample_bilinear2d_backward",
        "upsample_bicubic2d", "_upsample_nearest_exact1d", "upsample_linear1d_backward",
        "grid_sampler_2d", "grid_sampler_2d_backward"}) {
    EXPECT_NE(rule_table().find(name), nullptr) << name;
  }
}

TEST(ConvPoolRules, ConvolutionShapes) {
  for (E type : {E::kF32, E::kF64, E::kBF16, E::kF16, E::kS64}) {
    EXPECT_EQ(compiles("convolution", conv_args(T(type, {2, 4, 9, 9}), T(type, {6, 2, 3, 3}), {2},
                                                {1}, {1}, false, {0}, 2)),
              T(type, {2, 6, 5, 5}));
  }
  EXPECT_EQ(compiles("convolution", conv_args(T(E::kF32, {1, 3, 10}), T(E::kF32, {5, 3, 3}), {1},
                                              {0}, {3}, false, {0}, 1)),
            T(E::kF32, {1, 5, 4}));
  // Transposed: (5 - 1) * 2 - 2 * 1 + 1 * (3 - 1) + 1 + 1 = 10.
  EXPECT_EQ(
      compiles("convolution", conv_args(T(E::kF32, {1, 4, 5, 5, 5}), T(E::kF32, {4, 3, 3, 3, 3}),
                                        {2}, {1}, {1}, true, {1}, 2)),
      T(E::kF32, {1, 6, 10, 10, 10}));
  // Padding past the kernel's reach crops: (4 - 1) - 2 * 3 + 1 + 1 = -1 + 2.
  EXPECT_EQ(compiles("convolution", conv_args(T(E::kF32, {1, 2, 6}), T(E::kF32, {2, 1, 2}), {1},
                                              {2}, {1}, true, {0}, 1)),
            T(E::kF32, {1, 1, 3}));
}

TEST(ConvPoolRules, ConvolutionBackwardShapes) {
  const auto grads =
      compiles_all("convolution_backward",
                   {T(E::kF32, {2, 6, 4, 4}), T(E::kF32, {2, 4, 9, 9}), T(E::kF32, {6, 2, 3, 3}),
                    Arg{Ints{6}}, Arg{Ints{2}}, Arg{Ints{1}}, Arg{Ints{1}}, Arg{false},
                    Arg{Ints{0}}, Arg{int64_t{2}}, Arg{Ints{1, 1, 1}}});
  EXPECT_EQ(grads, (std::vector<TensorType>{T(E::kF32, {2, 4, 9, 9}), T(E::kF32, {6, 2, 3, 3}),
                                            T(E::kF32, {6})}));
}

TEST(ConvPoolRules, ConvolutionErrors) {
  EXPECT_THROW(testing::lower_call(
                   "convolution", conv_args(T(E::kF32, {1, 3, 5, 5}), T(E::kF32, {4, 2, 3, 3}), {1},
                                            {0}, {1}, false, {0}, 1)),
               InvalidArgument);
  EXPECT_THROW(testing::lower_call(
                   "convolution", conv_args(T(E::kF32, {1, 3, 2, 2}), T(E::kF32, {4, 3, 3, 3}), {1},
                                            {0}, {1}, false, {0}, 1)),
               InvalidArgument);
  EXPECT_THROW(testing::lower_call("convolution",
                                   conv_args(T(E::kPred, {1, 3, 5, 5}), T(E::kPred, {4, 3, 3, 3}),
                                             {1}, {0}, {1}, false, {0}, 1)),
               Unsupported);
  EXPECT_THROW(testing::lower_call(
                   "convolution", conv_args(T(E::kF32, {1, 3, 5, 5}), T(E::kF32, {3, 4, 3, 3}), {2},
                                            {0}, {1}, true, {2}, 1)),
               InvalidArgument);
}

// max_pool2d_with_indices(self, kernel_size, stride, padding, dilation, ceil_mode)
std::vector<ArgSpec> pool_args(TensorType x, Ints k, Ints s, Ints p, Ints d, bool ceil) {
  return {x, Arg{k}, Arg{s}, Arg{p}, Arg{d}, Arg{ceil}};
}

TEST(ConvPoolRules, PoolingShapes) {
  EXPECT_EQ(compiles_all("max_pool2d_with_indices",
                         pool_args(T(E::kF32, {2, 3, 7, 7}), {3}, {2}, {1}, {1}, true)),
            (std::vector<TensorType>{T(E::kF32, {2, 3, 4, 4}), T(E::kS64, {2, 3, 4, 4})}));
  EXPECT_EQ(compiles("max_pool3d_with_indices",
                     pool_args(T(E::kS32, {3, 6, 6, 6}), {2}, {}, {0}, {2}, false)),
            T(E::kS32, {3, 2, 2, 2}));
  EXPECT_EQ(compiles("avg_pool2d", {T(E::kBF16, {1, 2, 5, 5}), Arg{Ints{2}}, Arg{Ints{2}},
                                    Arg{Ints{1}}, Arg{true}, Arg{false}, none()}),
            T(E::kBF16, {1, 2, 3, 3}));
  EXPECT_EQ(compiles("_adaptive_avg_pool3d", {T(E::kF32, {2, 5, 7, 3}), Arg{Ints{3, 2, 4}}}),
            T(E::kF32, {2, 3, 2, 4}));
  EXPECT_THROW(testing::lower_call("max_pool2d_with_indices",
                                   pool_args(T(E::kF32, {1, 1, 4, 4}), {2}, {2}, {2}, {1}, false)),
               InvalidArgument);  // padding over half the kernel
  EXPECT_THROW(testing::lower_call("max_pool2d_with_indices",
                                   pool_args(T(E::kPred, {1, 1, 4, 4}), {2}, {2}, {0}, {1}, false)),
               Unsupported);
  EXPECT_THROW(
      testing::lower_call("avg_pool2d", {T(E::kF32, {1, 4, 4}), Arg{Ints{2}}, Arg{Ints{}},
                                         Arg{Ints{0}}, Arg{false}, Arg{true}, Arg{int64_t{0}}}),
      InvalidArgument);  // divisor_override 0
}

TEST(ConvPoolRules, MaxPoolKeepsTheFirstMaximumAndTheLastNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto fn = testing::lower_call("max_pool2d_with_indices",
                                pool_args(T(E::kF32, {1, 1, 2, 4}), {2}, {2}, {0}, {1}, false));
  auto out = run(fn, {HostTensor::of<float>(E::kF32, {1, 1, 2, 4}, {5, 1, nan, 2, 5, 5, 3, nan})});
  EXPECT_EQ(out[1].as<int64_t>(), (std::vector<int64_t>{0, 7}));
  EXPECT_EQ(out[0].as<float>()[0], 5.0f);
  EXPECT_TRUE(std::isnan(out[0].as<float>()[1]));
}

TEST(ConvPoolRules, MaxPoolBackwardAddsAtTheIndices) {
  auto fn = testing::lower_call(
      "max_pool2d_with_indices_backward",
      {T(E::kF32, {1, 1, 1, 2}), T(E::kF32, {1, 1, 2, 2}), Arg{Ints{2}}, Arg{Ints{1}}, Arg{Ints{0}},
       Arg{Ints{1}}, Arg{false}, T(E::kS64, {1, 1, 1, 2})});
  auto out = run(fn, {HostTensor::of<float>(E::kF32, {1, 1, 1, 2}, {1.5f, 2.0f}),
                      HostTensor::of<float>(E::kF32, {1, 1, 2, 2}, {0, 0, 0, 0}),
                      HostTensor::of<int64_t>(E::kS64, {1, 1, 1, 2}, {3, 3})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 0, 0, 3.5f}));
}

TEST(ConvPoolRules, PaddingAndUpsampleShapes) {
  EXPECT_EQ(compiles("reflection_pad2d", {T(E::kS64, {2, 3, 4, 5}), Arg{Ints{1, 2, 3, 0}}}),
            T(E::kS64, {2, 3, 7, 8}));
  EXPECT_EQ(
      compiles("replication_pad3d_backward",
               {T(E::kF32, {1, 4, 5, 6}), T(E::kF32, {1, 2, 3, 4}), Arg{Ints{1, 1, 1, 1, 1, 1}}}),
      T(E::kF32, {1, 2, 3, 4}));
  EXPECT_THROW(testing::lower_call("reflection_pad1d", {T(E::kF32, {1, 3}), Arg{Ints{3, 0}}}),
               InvalidArgument);
  EXPECT_EQ(compiles("upsample_bicubic2d",
                     {T(E::kF32, {1, 2, 3, 4}), Arg{Ints{5, 7}}, Arg{false}, none(), none()}),
            T(E::kF32, {1, 2, 5, 7}));
  EXPECT_EQ(compiles("upsample_nearest1d_backward",
                     {T(E::kF32, {1, 2, 9}), Arg{Ints{9}}, Arg{Ints{1, 2, 4}}, none()}),
            T(E::kF32, {1, 2, 4}));
  EXPECT_THROW(
      testing::lower_call("upsample_bilinear2d",
                          {T(E::kS64, {1, 1, 2, 2}), Arg{Ints{4, 4}}, Arg{true}, none(), none()}),
      Unsupported);
}

TEST(ConvPoolRules, GridSamplerShapesAndErrors) {
  // grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners)
  EXPECT_EQ(compiles("grid_sampler_2d", {T(E::kF32, {2, 3, 5, 6}), T(E::kF32, {2, 4, 7, 2}),
                                         Arg{int64_t{0}}, Arg{int64_t{2}}, Arg{false}}),
            T(E::kF32, {2, 3, 4, 7}));
  EXPECT_EQ(
      compiles_all("grid_sampler_2d_backward",
                   {T(E::kBF16, {1, 2, 3, 3}), T(E::kBF16, {1, 2, 4, 4}), T(E::kBF16, {1, 3, 3, 2}),
                    Arg{int64_t{1}}, Arg{int64_t{1}}, Arg{true}, Arg{Ints{1, 1}}}),
      (std::vector<TensorType>{T(E::kBF16, {1, 2, 4, 4}), T(E::kBF16, {1, 3, 3, 2})}));
  EXPECT_THROW(
      testing::lower_call("grid_sampler_2d", {T(E::kF32, {2, 3, 5, 6}), T(E::kF32, {1, 4, 7, 2}),
                                              Arg{int64_t{0}}, Arg{int64_t{0}}, Arg{false}}),
      InvalidArgument);  // batch sizes differ
  EXPECT_THROW(
      testing::lower_call("grid_sampler_2d", {T(E::kF32, {1, 3, 5, 6}), T(E::kF32, {1, 4, 7, 2}),
                                              Arg{int64_t{2}}, Arg{int64_t{0}}, Arg{false}}),
      Unsupported);  // bicubic
}

}  // namespace
}  // namespace torch_pjrt::lowering
