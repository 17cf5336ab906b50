#include <gtest/gtest.h>

#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

TEST(Printer, AddOfParameters) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  b.parameter({ElementType::kF32, {}});
  Value y = b.add(x, x);
  Function fn = b.finish({y});
  EXPECT_EQ(fn.to_mlir(),
            "module @torch_pjrt {\n"
            "  func.func public @main(%0: tensor<2x3xf32>, %1: tensor<f32>) -> "
            "(tensor<2x3xf32>) {\n"
            "    %2 = \"stablehlo.add\"(%0, %0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> "
            "tensor<2x3xf32>\n"
            "    \"func.return\"(%2) : (tensor<2x3xf32>) -> ()\n"
            "  }\n"
            "}\n");
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
