#include <gtest/gtest.h>

#include <complex>

#include "executor.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

using testing::HostTensor;
using testing::run;

struct Conv2d {
  int64_t n = 2, c = 4, h = 5, w = 6, o = 6, kh = 3, kw = 2;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

// Direct NCHW x OIHW convolution, as torch.nn.functional.conv2d computes it.
std::vector<float> reference(const Conv2d& p, const std::vector<float>& x,
                             const std::vector<float>& k, int64_t oh, int64_t ow) {
  const int64_t cg = p.c / p.groups, og = p.o / p.groups;
  std::vector<float> out(p.n * p.o * oh * ow, 0.f);
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t o = 0; o < p.o; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t z = 0; z < ow; ++z) {
          double acc = 0;
          const int64_t g = o / og;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t i = 0; i < p.kh; ++i)
              for (int64_t j = 0; j < p.kw; ++j) {
                const int64_t iy = y * p.stride_h - p.pad_h + i * p.dil_h;
                const int64_t iz = z * p.stride_w - p.pad_w + j * p.dil_w;
                if (iy < 0 || iy >= p.h || iz < 0 || iz >= p.w) continue;
                const int64_t c = g * cg + ci;
                acc += x[((n * p.c + c) * p.h + iy) * p.w + iz] *
                       k[((o * cg + ci) * p.kh + i) * p.kw + j];
              }
          out[((n * p.o + o) * oh + y) * ow + z] = static_cast<float>(acc);
        }
  return out;
}

class Convolution : public ::testing::TestWithParam<Conv2d> {};

TEST_P(Convolution, MatchesDirectLoops) {
  const Conv2d& p = GetParam();
  std::vector<float> x(p.n * p.c * p.h * p.w), k(p.o * (p.c / p.groups) * p.kh * p.kw);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7) % 11) - 5;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<float>((i * 5) % 7) - 3;
  Builder b;
  Value xv = b.parameter({ElementType::kF32, {p.n, p.c, p.h, p.w}});
  Value kv = b.parameter({ElementType::kF32, {p.o, p.c / p.groups, p.kh, p.kw}});
  ConvDimensions d;
  d.input_spatial_dimensions = {2, 3};
  d.kernel_spatial_dimensions = {2, 3};
  d.output_spatial_dimensions = {2, 3};
  Value y =
      b.convolution(xv, kv, d, {p.stride_h, p.stride_w}, {{p.pad_h, p.pad_h}, {p.pad_w, p.pad_w}},
                    {}, {p.dil_h, p.dil_w}, p.groups);
  const auto& dims = b.dims(y);
  const int64_t oh = dims[2], ow = dims[3];
  EXPECT_EQ(oh, (p.h + 2 * p.pad_h - p.dil_h * (p.kh - 1) - 1) / p.stride_h + 1);
  EXPECT_EQ(ow, (p.w + 2 * p.pad_w - p.dil_w * (p.kw - 1) - 1) / p.stride_w + 1);
  Function fn = b.finish({y});
  auto out = run(fn, {HostTensor::of(ElementType::kF32, {p.n, p.c, p.h, p.w}, x),
                      HostTensor::of(ElementType::kF32, {p.o, p.c / p.groups, p.kh, p.kw}, k)});
  EXPECT_EQ(out[0].as<float>(), reference(p, x, k, oh, ow));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Convolution,
    ::testing::Values(Conv2d{}, Conv2d{.stride_h = 2, .stride_w = 3, .pad_h = 1, .pad_w = 2},
                      Conv2d{.dil_h = 2, .dil_w = 2, .groups = 2},
                      Conv2d{.c = 6, .o = 6, .groups = 6}));

TEST(ExecuteWindow, ConvolutionChannelsLastLayout) {
  // NHWC x HWIO -> NHWC: a 1x1 kernel mixing 2 channels into 1.
  Builder b;
  Value x = b.parameter({ElementType::kF32, {1, 2, 2, 2}});
  Value k = b.parameter({ElementType::kF32, {1, 1, 2, 1}});
  ConvDimensions d{.input_batch_dimension = 0,
                   .input_feature_dimension = 3,
                   .input_spatial_dimensions = {1, 2},
                   .kernel_input_feature_dimension = 2,
                   .kernel_output_feature_dimension = 3,
                   .kernel_spatial_dimensions = {0, 1},
                   .output_batch_dimension = 0,
                   .output_feature_dimension = 3,
                   .output_spatial_dimensions = {1, 2}};
  Value y = b.convolution(x, k, d);
  EXPECT_EQ(b.dims(y), (std::vector<int64_t>{1, 2, 2, 1}));
  Function fn = b.finish({y});
  EXPECT_NE(fn.to_mlir().find("#stablehlo.conv<[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]>"),
            std::string::npos);
  auto out =
      run(fn, {HostTensor::of<float>(ElementType::kF32, {1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
               HostTensor::of<float>(ElementType::kF32, {1, 1, 2, 1}, {10, 1})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{12, 34, 56, 78}));
}

TEST(ExecuteWindow, ConvolutionBatchGroupsIsAWeightGradient) {
  // batch_group_count = N computes per-sample products (as conv weight
  // gradients do): here 2 samples of 1 channel, 1x1 kernel with 2 outputs.
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 1, 1, 3}});
  Value k = b.parameter({ElementType::kF32, {2, 1, 1, 1}});
  ConvDimensions d;
  d.input_spatial_dimensions = {2, 3};
  d.kernel_spatial_dimensions = {2, 3};
  d.output_spatial_dimensions = {2, 3};
  Value y = b.convolution(x, k, d, {}, {}, {}, {}, 1, 2);
  EXPECT_EQ(b.dims(y), (std::vector<int64_t>{1, 2, 1, 3}));
  Function fn = b.finish({y});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {2, 1, 1, 3}, {1, 2, 3, 4, 5, 6}),
                      HostTensor::of<float>(ElementType::kF32, {2, 1, 1, 1}, {10, 100})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{10, 20, 30, 400, 500, 600}));
}

TEST(ExecuteWindow, SelectAndScatterIsMaxPoolBackward) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {1, 4}});
  Value grad = b.parameter({ElementType::kF32, {1, 2}});
  Value zero = b.constant(0, ElementType::kF32);
  Value y = b.select_and_scatter(
      x, grad, zero, {1, 2}, {1, 2}, {},
      [](Builder& b, const std::vector<Value>& a) {
        return std::vector<Value>{b.compare(ComparisonDirection::kGE, a[0], a[1])};
      },
      [](Builder& b, const std::vector<Value>& a) {
        return std::vector<Value>{b.add(a[0], a[1])};
      });
  Function fn = b.finish({y});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {1, 4}, {1, 5, 7, 2}),
                      HostTensor::of<float>(ElementType::kF32, {1, 2}, {10, 20})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 10, 20, 0}));
}

TEST(ExecuteWindow, WhileLoopSumsOneToN) {
  Builder b;
  Value n = b.parameter({ElementType::kS32, {}});
  Value i0 = b.constant_int(1, ElementType::kS32);
  Value acc0 = b.constant_int(0, ElementType::kS64);
  auto r = b.while_loop(
      {i0, acc0, n},
      [](Builder& b, const std::vector<Value>& a) {
        return std::vector<Value>{b.compare(ComparisonDirection::kLE, a[0], a[2])};
      },
      [](Builder& b, const std::vector<Value>& a) {
        Value one = b.constant_int(1, ElementType::kS32);
        return std::vector<Value>{b.add(a[0], one), b.add(a[1], b.convert(a[0], ElementType::kS64)),
                                  a[2]};
      });
  Function fn = b.finish({r[1]});
  auto out = run(fn, {HostTensor::of<int32_t>(ElementType::kS32, {}, {100})});
  EXPECT_EQ(out[0].as<int64_t>()[0], 5050);
}

TEST(ExecuteWindow, DoubleAndComplexConstants) {
  Builder b;
  Value d = b.constant_doubles({0.5, -1.25, 1e300, 3}, {ElementType::kF32, {2, 2}});
  Value c = b.splat_complex(1.5, -2, {ElementType::kC128, {2}});
  Value i = b.constant_doubles({-1.9, 2.9}, {ElementType::kS8, {2}});
  Function fn = b.finish({d, c, i});
  auto out = run(fn);
  auto f = out[0].as<float>();
  EXPECT_EQ(f[0], 0.5f);
  EXPECT_EQ(f[1], -1.25f);
  EXPECT_TRUE(std::isinf(f[2]));
  EXPECT_EQ(out[1].as<std::complex<double>>(),
            (std::vector<std::complex<double>>{{1.5, -2}, {1.5, -2}}));
  EXPECT_EQ(out[2].as<int8_t>(), (std::vector<int8_t>{-1, 2}));
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
