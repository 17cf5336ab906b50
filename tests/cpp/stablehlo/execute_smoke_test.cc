#include <gtest/gtest.h>

#include "executor.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

using testing::HostTensor;
using testing::run;

TEST(ExecuteSmoke, Add) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value c = b.splat(1.5, {ElementType::kF32, {2, 3}});
  Function fn = b.finish({b.add(x, c)});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{2.5, 3.5, 4.5, 5.5, 6.5, 7.5}));
}

TEST(ExecuteSmoke, Reduce) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value r = b.reduce(x, b.constant(0, ElementType::kF32), {1},
                     [](Builder& b, const std::vector<Value>& a) {
                       return std::vector<Value>{b.add(a[0], a[1])};
                     });
  Function fn = b.finish({r});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{6, 15}));
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
