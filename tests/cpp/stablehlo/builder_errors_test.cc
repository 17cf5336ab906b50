#include <gtest/gtest.h>

#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

// Runs `f`, expects a BuildError whose message contains `fragment`.
template <class F>
void expect_error(F&& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no BuildError; expected one mentioning: " << fragment;
  } catch (const BuildError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

class BuilderErrors : public ::testing::Test {
 protected:
  Builder b;
  Value f23 = b.parameter({ElementType::kF32, {2, 3}});
  Value f3 = b.parameter({ElementType::kF32, {3}});
  Value s23 = b.parameter({ElementType::kS32, {2, 3}});
  Value u8 = b.parameter({ElementType::kU8, {3}});
  Value pred3 = b.parameter({ElementType::kPred, {3}});
};

TEST_F(BuilderErrors, BinaryNeedsIdenticalTypes) {
  expect_error([&] { b.add(f23, f3); },
               "stablehlo.add: operands must have identical types, got f32[2,3] and f32[3]");
  expect_error([&] { b.add(f23, s23); }, "got f32[2,3] and s32[2,3]");
}

TEST_F(BuilderErrors, ElementTypesAreChecked) {
  expect_error([&] { b.unary(UnaryOp::kSqrt, s23); },
               "stablehlo.sqrt: element type s32 is not supported (expects floating-point, "
               "complex)");
  expect_error([&] { b.unary(UnaryOp::kAbs, u8); }, "stablehlo.abs: element type u8");
  expect_error([&] { b.binary(BinaryOp::kShiftLeft, f3, f3); }, "stablehlo.shift_left");
  expect_error([&] { b.binary(BinaryOp::kAnd, f3, f3); }, "expects pred, integer");
  expect_error([&] { b.sub(pred3, pred3); }, "stablehlo.subtract: element type pred");
  expect_error([&] { b.unary(UnaryOp::kErf, s23); }, "chlo.erf");
}

TEST_F(BuilderErrors, CompareReturnsPredAndChecksComplex) {
  Value p = b.compare(ComparisonDirection::kLT, f23, f23);
  EXPECT_EQ(b.type(p), (TensorType{ElementType::kPred, {2, 3}}));
  Value c = b.convert(f3, ElementType::kC64);
  expect_error([&] { b.compare(ComparisonDirection::kLT, c, c); }, "only support EQ and NE");
}

TEST_F(BuilderErrors, SelectAndClamp) {
  expect_error([&] { b.select(f3, f3, f3); }, "predicate must be pred");
  Value p23 = b.compare(ComparisonDirection::kEQ, f23, f23);
  expect_error([&] { b.select(p23, f3, f3); }, "must be 0-d or have the shape of f32[3]");
  expect_error([&] { b.clamp(f23, f3, f3); }, "bound f32[2,3] must be 0-d");
}

TEST_F(BuilderErrors, ConvertAndBitcast) {
  EXPECT_EQ(b.convert(f3, ElementType::kF32), f3);
  Value c = b.convert(f3, ElementType::kC64);
  expect_error([&] { b.convert(c, ElementType::kF32); }, "take the real part first");
  expect_error(
      [&] {
        b.bitcast_convert(f3, {ElementType::kU16, {3}});
      },
      "result of f32[3] must be u16[3,2], got u16[3]");
  expect_error(
      [&] {
        b.bitcast_convert(f3, {ElementType::kF64, {}});
      },
      "needs a last dimension of 2");
  expect_error([&] { b.bitcast_convert(pred3, {ElementType::kU8, {3}}); }, "pred");
}

TEST_F(BuilderErrors, ShapeOps) {
  expect_error([&] { b.reshape(f23, {4}); }, "cannot reshape f32[2,3] to [4]");
  expect_error([&] { b.transpose(f23, {0, 0}); }, "repeats dimension 0");
  expect_error([&] { b.transpose(f23, {0}); }, "one entry per dimension (2)");
  expect_error(
      [&] {
        b.broadcast_in_dim(f3, {3, 2}, {1});
      },
      "dimension 0 (size 3) cannot broadcast to size 2");
  expect_error([&] { b.slice(f3, {2}, {1}); }, "invalid slice");
  expect_error([&] { b.slice(f3, {0}, {4}); }, "invalid slice");
  Value i = b.constant_int(0, ElementType::kS32);
  Value j = b.constant_int(0, ElementType::kS64);
  expect_error([&] { b.dynamic_slice(f23, {i}, {1, 1}); }, "1 start indices for rank 2");
  expect_error([&] { b.dynamic_slice(f23, {i, j}, {1, 1}); }, "one element type");
  expect_error([&] { b.dynamic_slice(f23, {i, i}, {3, 1}); }, "do not fit");
  expect_error([&] { b.dynamic_update_slice(f3, f23, {i}); }, "does not match operand");
  expect_error([&] { b.concatenate({f23, f3}, 0); }, "does not fit");
  expect_error([&] { b.concatenate({f23}, 2); }, "dimension 2 out of range");
  expect_error([&] { b.pad(f3, i, {0}, {0}); }, "padding value s32[] must be a 0-d f32");
  expect_error([&] { b.reverse(f3, {1}); }, "out of range for rank 1");
  expect_error([&] { b.iota({ElementType::kS32, {}}, 0); }, "rank >= 1");
}

TEST_F(BuilderErrors, DotGeneral) {
  expect_error(
      [&] {
        b.dot_general(f23, f23, {{}, {}, {1}, {0}});
      },
      "contracting dimensions [1] of f32[2,3] and [0] of f32[2,3] differ in size");
  expect_error([&] { b.dot_general(f23, s23, {{}, {}, {1}, {1}}); }, "one element type");
  expect_error([&] { b.dot_general(f23, f23, {{0}, {}, {1}, {1}}); }, "as many batching");
  expect_error([&] { b.dot_general(f23, f23, {{0}, {0}, {0}, {1}}); }, "repeats dimension 0");
}

TEST_F(BuilderErrors, GatherAndScatter) {
  Value idx = b.parameter({ElementType::kS32, {4, 1}});
  GatherDimensions g;
  g.offset_dims = {1};
  g.collapsed_slice_dims = {0};
  g.start_index_map = {0};
  g.index_vector_dim = 1;
  EXPECT_EQ(b.dims(b.gather(f23, idx, g, {1, 3})), (std::vector<int64_t>{4, 3}));
  expect_error([&] { b.gather(f23, idx, g, {2, 3}); }, "needs slice size <= 1");
  expect_error([&] { b.gather(f23, f3, g, {1, 3}); }, "must be integer");
  GatherDimensions bad = g;
  bad.start_index_map = {0, 1};
  expect_error([&] { b.gather(f23, idx, bad, {1, 3}); }, "needs 1 entries");

  ScatterDimensions s;
  s.update_window_dims = {1};
  s.inserted_window_dims = {0};
  s.scatter_dims_to_operand_dims = {0};
  s.index_vector_dim = 1;
  auto keep = [](Builder&, const std::vector<Value>& a) { return std::vector<Value>{a[1]}; };
  Value updates = b.parameter({ElementType::kF32, {4, 3}});
  EXPECT_EQ(b.dims(b.scatter(f23, idx, updates, s, keep)), (std::vector<int64_t>{2, 3}));
  Value wrong = b.parameter({ElementType::kF32, {5, 3}});
  expect_error([&] { b.scatter(f23, idx, wrong, s, keep); }, "must match the indices");
  expect_error([&] { b.scatter(f23, idx, f23, s, keep); }, "must match the indices");
  auto to_int = [](Builder& b, const std::vector<Value>&) {
    return std::vector<Value>{b.constant_int(0, ElementType::kS32)};
  };
  expect_error([&] { b.scatter(f23, idx, updates, s, to_int); },
               "body must return (f32[]), returned (s32[])");
}

TEST_F(BuilderErrors, ReduceAndSortBodies) {
  Value zero = b.constant(0, ElementType::kF32);
  expect_error([&] { b.reduce(f23, b.constant_int(0, ElementType::kS32), {0}, nullptr); },
               "init s32[] must be a 0-d f32");
  expect_error(
      [&] { b.reduce(f23, zero, {0}, [](Builder&, const std::vector<Value>& a) { return a; }); },
      "body must return (f32[]), returned (f32[], f32[])");
  expect_error([&] { b.reduce(f23, zero, {2}, nullptr); }, "out of range for rank 2");
  expect_error(
      [&] {
        b.sort({f23}, 1, false,
               [](Builder&, const std::vector<Value>& a) { return std::vector<Value>{a[0]}; });
      },
      "body must return (pred[])");
  expect_error([&] { b.sort({f23, f3}, 0, false, nullptr); }, "inputs must have one shape");
  expect_error([&] { b.reduce_window({f23}, {zero}, {2}, {}, {}, {}, {}, nullptr); },
               "need one entry per dimension (2)");
}

TEST_F(BuilderErrors, RegionsCannotCaptureOuterValues) {
  Value zero = b.constant(0, ElementType::kF32);
  expect_error(
      [&] {
        b.reduce(f3, zero, {0}, [&](Builder& b, const std::vector<Value>& a) {
          return std::vector<Value>{b.add(a[0], zero)};
        });
      },
      "is defined outside the region it is used in");
  // The builder is usable again after the failed region.
  EXPECT_NO_THROW(b.add(f3, f3));
  Value inner;
  b.reduce(f3, zero, {0}, [&](Builder& b, const std::vector<Value>& a) {
    inner = b.add(a[0], a[1]);
    return std::vector<Value>{inner};
  });
  expect_error([&] { b.add(inner, inner); }, "defined outside the region");
}

TEST_F(BuilderErrors, ConvolutionWhileSelectAndScatter) {
  Value x = b.parameter({ElementType::kF32, {1, 4, 5, 5}});
  Value k = b.parameter({ElementType::kF32, {6, 3, 3, 3}});
  ConvDimensions d;
  d.input_spatial_dimensions = {2, 3};
  d.kernel_spatial_dimensions = {2, 3};
  d.output_spatial_dimensions = {2, 3};
  expect_error([&] { b.convolution(x, k, d); },
               "input features (4) must be kernel input features (3) * feature_group_count (1)");
  ConvDimensions one_spatial = d;
  one_spatial.input_spatial_dimensions = {2};
  expect_error([&] { b.convolution(x, k, one_spatial); }, "must have rank 2 + the number");
  ConvDimensions clash = d;
  clash.output_spatial_dimensions = {1, 3};
  Value k4 = b.parameter({ElementType::kF32, {6, 4, 3, 3}});
  expect_error([&] { b.convolution(x, k4, clash); }, "output dimensions [0, 1, 1, 3] repeats");
  EXPECT_EQ(b.dims(b.convolution(x, k4, d, {2, 2}, {{1, 1}, {1, 1}})),
            (std::vector<int64_t>{1, 6, 3, 3}));

  Value zero = b.constant(0, ElementType::kF32);
  expect_error(
      [&] {
        b.while_loop(
            {zero}, [](Builder&, const std::vector<Value>& a) { return a; },
            [](Builder&, const std::vector<Value>& a) { return a; });
      },
      "stablehlo.while condition: body must return (pred[])");
  expect_error(
      [&] {
        b.while_loop(
            {zero},
            [](Builder& b, const std::vector<Value>&) {
              return std::vector<Value>{b.constant(1, ElementType::kPred)};
            },
            [](Builder&, const std::vector<Value>&) { return std::vector<Value>{}; });
      },
      "body must return (f32[]), returned ()");
  Value src = b.parameter({ElementType::kF32, {1, 4, 2, 2}});
  expect_error(
      [&] {
        b.select_and_scatter(x, src, zero, {1, 1, 2, 2}, {1, 1, 1, 1}, {}, nullptr, nullptr);
      },
      "must have one element per window [1, 4, 4, 4]");
}

TEST_F(BuilderErrors, RngStateMustFitAlgorithm) {
  Value state3 = b.parameter({ElementType::kU64, {3}});
  expect_error(
      [&] {
        b.rng_bit_generator(state3, {ElementType::kU32, {4}});
      },
      "does not fit the algorithm");
  EXPECT_NO_THROW(b.rng_bit_generator(state3, {ElementType::kU32, {4}}, RngAlgorithm::kPhilox));
  expect_error([&] { b.rng_bit_generator(f3, {ElementType::kU32, {4}}); }, "state f32[3]");
}

TEST_F(BuilderErrors, ForeignValuesAndFinish) {
  expect_error([&] { b.add(Value{999}, f3); }, "not a value of this function");
  expect_error([&] { b.add(Value{}, f3); }, "not a value of this function");
  expect_error(
      [&] {
        b.constant_ints({1, 2}, {ElementType::kS32, {3}});
      },
      "2 values do not fill s32[3]");
  Function fn = b.finish({f3});
  EXPECT_EQ(fn.type(f3), (TensorType{ElementType::kF32, {3}}));
  expect_error([&] { b.add(f3, f3); }, "already finished");
  expect_error([&] { b.finish({}); }, "already finished");
}

TEST(BuilderTypes, ReferencesStayValidWhileOpsAreAdded) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  const TensorType& t = b.type(x);
  const std::vector<int64_t>& dims = b.dims(x);
  for (int i = 0; i < 1000; ++i) x = b.add(x, x);
  EXPECT_EQ(t, (TensorType{ElementType::kF32, {2, 3}}));
  EXPECT_EQ(dims, (std::vector<int64_t>{2, 3}));
}

TEST(BuilderTypes, ResultTypeInference) {
  Builder b;
  Value c = b.parameter({ElementType::kC128, {4}});
  EXPECT_EQ(b.element_type(b.unary(UnaryOp::kAbs, c)), ElementType::kF64);
  EXPECT_EQ(b.element_type(b.unary(UnaryOp::kImag, c)), ElementType::kF64);
  Value f = b.parameter({ElementType::kF16, {4}});
  EXPECT_EQ(b.element_type(b.unary(UnaryOp::kIsFinite, f)), ElementType::kPred);
  Value lhs = b.parameter({ElementType::kF32, {5, 2, 3, 7}});
  Value rhs = b.parameter({ElementType::kF32, {5, 3, 11}});
  // batch [5], lhs free [2, 7], rhs free [11]
  EXPECT_EQ(b.dims(b.dot_general(lhs, rhs, {{0}, {0}, {2}, {1}})),
            (std::vector<int64_t>{5, 2, 7, 11}));
  Value x = b.parameter({ElementType::kF32, {1, 10}});
  Value zero = b.constant(0, ElementType::kF32);
  auto r = b.reduce_window({x}, {zero}, {1, 3}, {1, 2}, {1, 2}, {1, 1}, {{0, 0}, {1, 0}},
                           [](Builder& b, const std::vector<Value>& a) {
                             return std::vector<Value>{b.add(a[0], a[1])};
                           });
  // base-dilated 19, padded 20, window 3, stride 2 -> 9
  EXPECT_EQ(b.dims(r[0]), (std::vector<int64_t>{1, 9}));
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
