// TORCH_PJRT_DEBUG=recompile: what the explanation says for each kind of change.
#include "engine/recompile_explainer.h"

#include <gtest/gtest.h>

#include "stablehlo/builder.h"

namespace torch_pjrt::engine {
namespace {

using stablehlo::ElementType;
using stablehlo::TensorType;

stablehlo::Function scale(const TensorType& type, double factor) {
  stablehlo::Builder b;
  auto x = b.parameter(type);
  return b.finish({b.mul(x, b.splat(factor, type))});
}

std::string explain(RecompileExplainer& explainer, const std::string& label,
                    const stablehlo::Function& function) {
  return explainer.explain(label, function, function.to_mlir());
}

TEST(RecompileExplainer, FirstCompileOfEachLabel) {
  RecompileExplainer explainer;
  const TensorType type{ElementType::kF32, {2, 3}};
  EXPECT_EQ(explain(explainer, "aten::mul.Tensor", scale(type, 2)),
            "first compile of aten::mul.Tensor");
  EXPECT_EQ(explain(explainer, "aten::div.Tensor", scale(type, 2)),
            "first compile of aten::div.Tensor");
}

TEST(RecompileExplainer, NamesTheShapeOrDtypeThatChanged) {
  RecompileExplainer explainer;
  explain(explainer, "op", scale(TensorType{ElementType::kF32, {2, 3}}, 2));
  EXPECT_EQ(explain(explainer, "op", scale(TensorType{ElementType::kF32, {4, 3}}, 2)),
            "op: input 0 shape f32[4,3] (was f32[2,3]), output 0 shape f32[4,3] (was f32[2,3])");
  EXPECT_EQ(explain(explainer, "op", scale(TensorType{ElementType::kF64, {4, 3}}, 2)),
            "op: input 0 dtype f64 (was f32), output 0 dtype f64 (was f32)");
}

TEST(RecompileExplainer, ComparesWithTheNearestEarlierProgram) {
  RecompileExplainer explainer;
  explain(explainer, "op", scale(TensorType{ElementType::kF32, {8}}, 2));
  explain(explainer, "op", scale(TensorType{ElementType::kS32, {1}}, 2));
  // Nearer to the first program (one shape) than to the second (dtype and shape).
  EXPECT_EQ(explain(explainer, "op", scale(TensorType{ElementType::kF32, {9}}, 2)),
            "op: input 0 shape f32[9] (was f32[8]), output 0 shape f32[9] (was f32[8])");
}

TEST(RecompileExplainer, SameTypesShowTheFirstDifferingLine) {
  RecompileExplainer explainer;
  const TensorType type{ElementType::kF32, {3}};
  explain(explainer, "op", scale(type, 2));
  const std::string explanation = explain(explainer, "op", scale(type, 5));
  EXPECT_NE(explanation.find("same input and output types"), std::string::npos) << explanation;
  // The constants, as the printer writes them (the bits of 5.0f and of 2.0f).
  EXPECT_NE(explanation.find("dense<0x40A00000>"), std::string::npos) << explanation;
  EXPECT_NE(explanation.find("(was `%1 = \"stablehlo.constant\"() {value = dense<0x40000000>"),
            std::string::npos)
      << explanation;
}

TEST(RecompileExplainer, ChangedInputCountIsNamed) {
  RecompileExplainer explainer;
  const TensorType type{ElementType::kF32, {3}};
  explain(explainer, "op", scale(type, 2));
  stablehlo::Builder b;
  auto x = b.parameter(type);
  auto y = b.parameter(type);
  EXPECT_EQ(explain(explainer, "op", b.finish({b.mul(x, y)})), "op: 2 inputs (was 1)");
}

}  // namespace
}  // namespace torch_pjrt::engine
