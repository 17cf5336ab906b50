#include <gtest/gtest.h>

#include <limits>

#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

// The op lines of a printed module (without the module/func wrapper).
std::string body(const Function& fn) {
  std::string text = fn.to_mlir();
  size_t begin = text.find("{\n", text.find("func.func")) + 2;
  size_t end = text.find("    \"func.return\"");
  return text.substr(begin, end - begin);
}

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

TEST(Printer, EmptyFunction) {
  Builder b;
  Function fn = b.finish({});
  EXPECT_EQ(fn.to_mlir(),
            "module @torch_pjrt {\n"
            "  func.func public @main() -> () {\n"
            "    \"func.return\"() : () -> ()\n"
            "  }\n"
            "}\n");
}

TEST(Printer, ReduceRegion) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value r = b.reduce(x, b.constant(0, ElementType::kF32), {1},
                     [](Builder& b, const std::vector<Value>& a) {
                       return std::vector<Value>{b.add(a[0], a[1])};
                     });
  Function fn = b.finish({r});
  EXPECT_EQ(body(fn),
            "    %1 = \"stablehlo.constant\"() {value = dense<0x00000000> : tensor<f32>} : () -> "
            "tensor<f32>\n"
            "    %5 = \"stablehlo.reduce\"(%0, %1) ({\n"
            "    ^bb0(%2: tensor<f32>, %3: tensor<f32>):\n"
            "      %4 = \"stablehlo.add\"(%2, %3) : (tensor<f32>, tensor<f32>) -> tensor<f32>\n"
            "      \"stablehlo.return\"(%4) : (tensor<f32>) -> ()\n"
            "    }) {dimensions = array<i64: 1>} : (tensor<2x3xf32>, tensor<f32>) -> "
            "tensor<2xf32>\n");
}

TEST(Printer, CompareSpellsOutItsType) {
  Builder b;
  Value u = b.parameter({ElementType::kU32, {}});
  Value f = b.parameter({ElementType::kBF16, {}});
  Value s = b.parameter({ElementType::kS64, {}});
  b.compare(ComparisonDirection::kLT, u, u);
  b.compare(ComparisonDirection::kNE, f, f);
  Value last = b.compare(ComparisonDirection::kGE, s, s);
  Function fn = b.finish({last});
  EXPECT_EQ(body(fn),
            "    %3 = \"stablehlo.compare\"(%0, %0) {comparison_direction = "
            "#stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type "
            "UNSIGNED>} : (tensor<ui32>, tensor<ui32>) -> tensor<i1>\n"
            "    %4 = \"stablehlo.compare\"(%1, %1) {comparison_direction = "
            "#stablehlo<comparison_direction NE>, compare_type = #stablehlo<comparison_type "
            "FLOAT>} : (tensor<bf16>, tensor<bf16>) -> tensor<i1>\n"
            "    %5 = \"stablehlo.compare\"(%2, %2) {comparison_direction = "
            "#stablehlo<comparison_direction GE>, compare_type = #stablehlo<comparison_type "
            "SIGNED>} : (tensor<i64>, tensor<i64>) -> tensor<i1>\n");
}

TEST(Printer, ConstantsAreExact) {
  auto text = [](const std::function<void(Builder&)>& make) {
    Builder b;
    make(b);
    Function fn = b.finish({});
    std::string line = body(fn);
    return line.substr(line.find("{value = ") + 9, line.find("} :") - line.find("{value = ") - 9);
  };
  EXPECT_EQ(text([](Builder& b) { b.constant(1.0, ElementType::kF32); }),
            "dense<0x3F800000> : tensor<f32>");
  EXPECT_EQ(text([](Builder& b) {
              b.constant(std::numeric_limits<double>::infinity(), ElementType::kF64);
            }),
            "dense<0x7FF0000000000000> : tensor<f64>");
  EXPECT_EQ(text([](Builder& b) { b.constant(-2.0, ElementType::kBF16); }),
            "dense<0xC000> : tensor<bf16>");
  EXPECT_EQ(text([](Builder& b) { b.constant(1.0, ElementType::kF8E4M3FN); }),
            "dense<0x38> : tensor<f8E4M3FN>");
  EXPECT_EQ(text([](Builder& b) { b.constant(0.5, ElementType::kC64); }),
            "dense<(0x3F000000, 0x00000000)> : tensor<complex<f32>>");
  EXPECT_EQ(text([](Builder& b) { b.constant(2, ElementType::kPred); }),
            "dense<true> : tensor<i1>");
  EXPECT_EQ(text([](Builder& b) { b.constant_int(-1, ElementType::kU16); }),
            "dense<65535> : tensor<ui16>");
  EXPECT_EQ(text([](Builder& b) {
              b.splat(-3, {ElementType::kS8, {2, 2}});
            }),
            "dense<-3> : tensor<2x2xi8>");
  EXPECT_EQ(text([](Builder& b) {
              b.constant_ints({1, 2, 3, 4}, {ElementType::kS32, {2, 2}});
            }),
            "dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>");
  EXPECT_EQ(text([](Builder& b) {
              b.constant_ints({}, {ElementType::kF32, {0}});
            }),
            "dense<> : tensor<0xf32>");
}

TEST(Printer, MultipleResultsAndDimensionNumbers) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {4, 3}});
  Value idx = b.parameter({ElementType::kS32, {2, 1}});
  auto sorted = b.sort({x, x}, 0, true, [](Builder& b, const std::vector<Value>& a) {
    return std::vector<Value>{b.compare(ComparisonDirection::kLT, a[0], a[1])};
  });
  GatherDimensions g;
  g.offset_dims = {1};
  g.collapsed_slice_dims = {0};
  g.start_index_map = {0};
  g.index_vector_dim = 1;
  Value gathered = b.gather(sorted[1], idx, g, {1, 3});
  Value dot = b.dot_general(gathered, x, {{}, {}, {1}, {1}});
  Function fn = b.finish({dot});
  std::string text = body(fn);
  EXPECT_NE(text.find("    %7, %8 = \"stablehlo.sort\"(%0, %0) ({\n"
                      "    ^bb0(%2: tensor<f32>, %3: tensor<f32>, %4: tensor<f32>, %5: "
                      "tensor<f32>):\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("}) {dimension = 0 : i64, is_stable = true} : (tensor<4x3xf32>, "
                      "tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("%9 = \"stablehlo.gather\"(%8, %1) {dimension_numbers = "
                      "#stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], "
                      "start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, "
                      "3>, indices_are_sorted = false} : (tensor<4x3xf32>, tensor<2x1xi32>) -> "
                      "tensor<2x3xf32>\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("%10 = \"stablehlo.dot_general\"(%9, %0) {dot_dimension_numbers = "
                      "#stablehlo.dot<lhs_contracting_dimensions = [1], "
                      "rhs_contracting_dimensions = [1]>} : (tensor<2x3xf32>, tensor<4x3xf32>) "
                      "-> tensor<2x4xf32>\n"),
            std::string::npos)
      << text;
}

TEST(Printer, FunctionTypesListParametersAndResults) {
  Builder b;
  Value x = b.parameter({ElementType::kS64, {1}});
  Value y = b.parameter({ElementType::kPred, {}});
  Function fn = b.finish({y, x});
  EXPECT_EQ(fn.parameter_types(),
            (std::vector<TensorType>{{ElementType::kS64, {1}}, {ElementType::kPred, {}}}));
  EXPECT_EQ(fn.result_types(),
            (std::vector<TensorType>{{ElementType::kPred, {}}, {ElementType::kS64, {1}}}));
  EXPECT_NE(fn.to_mlir().find("@main(%0: tensor<1xi64>, %1: tensor<i1>) -> (tensor<i1>, "
                              "tensor<1xi64>)"),
            std::string::npos);
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
