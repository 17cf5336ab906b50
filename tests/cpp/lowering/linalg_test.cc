// Matrix-product rules build StableHLO the CPU plugin compiles for every dtype
// PyTorch's CPU kernels take, including empty and 0-sized contractions, and
// reject what PyTorch rejects; a few run to check beta == 0 and the batch sum.
// The comparison against PyTorch is tests/python/test_ops_linalg.py.
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
using stablehlo::testing::run;

using testing::ArgSpec;
using testing::Number;  // beta, alpha: 0-d run-time values

Function lower(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::lower_call(name, specs);
}

TensorType compiles(std::string_view name, const std::vector<ArgSpec>& specs) {
  return testing::compile_call(name, specs).at(0);
}

TensorType T(E type, std::vector<int64_t> dims) { return TensorType{type, std::move(dims)}; }

HostTensor f32(std::vector<int64_t> shape, std::vector<float> values) {
  return HostTensor::of<float>(E::kF32, std::move(shape), values);
}
HostTensor f64(double value) { return HostTensor::of<double>(E::kF64, {}, {value}); }
HostTensor s64(int64_t value) { return HostTensor::of<int64_t>(E::kS64, {}, {value}); }

const std::vector<E> kDtypes = {E::kF32, E::kBF16, E::kF64, E::kF16,
                                E::kS64, E::kS32,  E::kS8,  E::kC64};

TEST(LinalgRules, RuleTableHasThem) {
  for (const char* name :
       {"mm", "bmm", "addmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot"}) {
    EXPECT_NE(rule_table().find(name), nullptr) << name;
  }
}

TEST(LinalgRules, EveryProductCompilesForEveryDtype) {
  for (E type : kDtypes) {
    const E scalar =
        stablehlo::is_floating(type) || stablehlo::is_complex(type) ? E::kF64 : E::kS64;
    EXPECT_EQ(compiles("mm", {T(type, {2, 3}), T(type, {3, 4})}), T(type, {2, 4}));
    EXPECT_EQ(compiles("mm", {T(type, {0, 3}), T(type, {3, 4})}), T(type, {0, 4}));
    EXPECT_EQ(compiles("mm", {T(type, {2, 0}), T(type, {0, 4})}), T(type, {2, 4}));
    EXPECT_EQ(compiles("bmm", {T(type, {5, 2, 3}), T(type, {5, 3, 4})}), T(type, {5, 2, 4}));
    EXPECT_EQ(compiles("addmm", {T(type, {4}), T(type, {2, 3}), T(type, {3, 4}), Number{scalar},
                                 Number{E::kS64}}),
              T(type, {2, 4}));
    EXPECT_EQ(compiles("baddbmm", {T(type, {1, 4}), T(type, {5, 2, 3}), T(type, {5, 3, 4}),
                                   Number{scalar}, Number{scalar}}),
              T(type, {5, 2, 4}));
    EXPECT_EQ(compiles("addbmm", {T(type, {}), T(type, {5, 2, 3}), T(type, {5, 3, 4}),
                                  Number{E::kS64}, Number{scalar}}),
              T(type, {2, 4}));
    EXPECT_EQ(compiles("mv", {T(type, {2, 3}), T(type, {3})}), T(type, {2}));
    EXPECT_EQ(compiles("addmv", {T(type, {1}), T(type, {2, 3}), T(type, {3}), Number{scalar},
                                 Number{scalar}}),
              T(type, {2}));
    EXPECT_EQ(compiles("dot", {T(type, {3}), T(type, {3})}), T(type, {}));
    EXPECT_EQ(compiles("vdot", {T(type, {0}), T(type, {0})}), T(type, {}));
  }
  // mm.dtype's out_dtype (a CUDA overload) is honoured.
  EXPECT_EQ(compiles("mm", {T(E::kBF16, {2, 3}), T(E::kBF16, {3, 4}), Arg{E::kF32}}),
            T(E::kF32, {2, 4}));
}

TEST(LinalgRules, RejectWhatPyTorchRejects) {
  EXPECT_THROW(lower("mm", {T(E::kF32, {2, 3}), T(E::kF32, {4, 5})}), InvalidArgument);
  EXPECT_THROW(lower("mm", {T(E::kF32, {2, 3}), T(E::kF64, {3, 5})}), InvalidArgument);
  EXPECT_THROW(lower("mm", {T(E::kF32, {3}), T(E::kF32, {3, 5})}), InvalidArgument);
  EXPECT_THROW(lower("mm", {T(E::kPred, {2, 3}), T(E::kPred, {3, 5})}), Unsupported);
  EXPECT_THROW(lower("bmm", {T(E::kF32, {2, 2, 3}), T(E::kF32, {3, 3, 5})}), InvalidArgument);
  EXPECT_THROW(lower("addmm", {T(E::kF32, {3}), T(E::kF32, {2, 3}), T(E::kF32, {3, 4}),
                               Number{E::kS64}, Number{E::kS64}}),
               InvalidArgument);
  EXPECT_THROW(lower("addmm", {T(E::kF64, {4}), T(E::kF32, {2, 3}), T(E::kF32, {3, 4}),
                               Number{E::kS64}, Number{E::kS64}}),
               InvalidArgument);
  EXPECT_THROW(lower("addbmm", {T(E::kF32, {2, 4}), T(E::kF32, {5, 2, 3}), T(E::kF32, {4, 3, 4}),
                                Number{E::kS64}, Number{E::kS64}}),
               InvalidArgument);
  EXPECT_THROW(lower("mv", {T(E::kF32, {2, 3}), T(E::kF32, {4})}), InvalidArgument);
  EXPECT_THROW(lower("dot", {T(E::kF32, {3}), T(E::kF32, {4})}), InvalidArgument);
  EXPECT_THROW(lower("dot", {T(E::kF32, {3, 1}), T(E::kF32, {3})}), InvalidArgument);
  EXPECT_THROW(lower("dot", {T(E::kPred, {3}), T(E::kPred, {3})}), Unsupported);
}

TEST(LinalgRules, AddmmWithZeroBetaIgnoresNanInSelf) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Function fn = lower("addmm", {T(E::kF32, {2, 2}), T(E::kF32, {2, 2}), T(E::kF32, {2, 2}),
                                Number{E::kF64}, Number{E::kS64}});
  auto a = f32({2, 2}, {1, 2, 3, 4});
  auto eye = f32({2, 2}, {1, 0, 0, 1});
  auto self = f32({2, 2}, {nan, 1, 1, 1});
  auto zero_beta = run(fn, {self, a, eye, f64(0), s64(2)});
  EXPECT_EQ(zero_beta[0].as<float>(), (std::vector<float>{2, 4, 6, 8}));
  auto half_beta = run(fn, {self, a, eye, f64(0.5), s64(1)});
  auto v = half_beta[0].as<float>();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 2.5f);
}

TEST(LinalgRules, AddbmmSumsOverTheBatch) {
  auto out = run(lower("addbmm", {T(E::kF32, {1, 1}), T(E::kF32, {2, 1, 2}), T(E::kF32, {2, 2, 1}),
                                  Number{E::kS64}, Number{E::kS64}}),
                 {f32({1, 1}, {10}), f32({2, 1, 2}, {1, 2, 3, 4}), f32({2, 2, 1}, {1, 1, 1, 1}),
                  s64(1), s64(1)});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{20}));
}

TEST(LinalgRules, IntegerProductsWrapLikePyTorch) {
  auto out = run(lower("dot", {T(E::kS8, {2}), T(E::kS8, {2})}),
                 {HostTensor::of<int8_t>(E::kS8, {2}, {100, 100}),
                  HostTensor::of<int8_t>(E::kS8, {2}, {1, 1})});
  EXPECT_EQ(out[0].as<int8_t>()[0], static_cast<int8_t>(200 - 256));
}

}  // namespace
}  // namespace torch_pjrt::lowering
