#include <gtest/gtest.h>

#include <algorithm>

#include "executor.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

using testing::HostTensor;
using testing::run;

Builder::RegionBody adder() {
  return
      [](Builder& b, const std::vector<Value>& a) { return std::vector<Value>{b.add(a[0], a[1])}; };
}

HostTensor f32(std::vector<int64_t> dims, const std::vector<float>& values) {
  return HostTensor::of<float>(ElementType::kF32, std::move(dims), values);
}

TEST(ExecuteStructured, ReduceSum) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value zero = b.constant(0, ElementType::kF32);
  Function fn = b.finish({b.reduce(x, zero, {1}, adder()), b.reduce(x, zero, {0, 1}, adder())});
  auto out = run(fn, {f32({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{21}));
}

// Two inputs reduced together: the argmax pattern (value, index).
TEST(ExecuteStructured, ReduceVariadicArgmax) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value idx = b.iota({ElementType::kS32, {2, 3}}, 1);
  Value lowest = b.constant(-1e30, ElementType::kF32);
  Value none = b.constant_int(-1, ElementType::kS32);
  auto results =
      b.reduce({x, idx}, {lowest, none}, {1}, [](Builder& b, const std::vector<Value>& a) {
        // a = (acc_value, acc_index, value, index)
        Value take = b.compare(ComparisonDirection::kGT, a[2], a[0]);
        return std::vector<Value>{b.select(take, a[2], a[0]), b.select(take, a[3], a[1])};
      });
  Function fn = b.finish(results);
  auto out = run(fn, {f32({2, 3}, {1, 9, 3, 7, 5, 6})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{9, 7}));
  EXPECT_EQ(out[1].as<int32_t>(), (std::vector<int32_t>{1, 0}));
}

TEST(ExecuteStructured, ReduceWindowMaxPool) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {1, 4}});
  Value lowest = b.constant(-1e30, ElementType::kF32);
  auto r = b.reduce_window({x}, {lowest}, {1, 2}, {1, 2}, {}, {}, {{0, 0}, {1, 1}},
                           [](Builder& b, const std::vector<Value>& a) {
                             return std::vector<Value>{b.max(a[0], a[1])};
                           });
  EXPECT_EQ(b.dims(r[0]), (std::vector<int64_t>{1, 3}));
  Value zero = b.constant(0, ElementType::kF32);
  // Window 2 dilated by 2 with base dilation 1: sums elements i and i+2.
  auto s = b.reduce_window({x}, {zero}, {1, 2}, {}, {}, {1, 2}, {}, adder());
  EXPECT_EQ(b.dims(s[0]), (std::vector<int64_t>{1, 2}));
  Function fn = b.finish({r[0], s[0]});
  auto out = run(fn, {f32({1, 4}, {1, 5, 2, 3})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{1, 5, 3}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{3, 8}));
}

TEST(ExecuteStructured, DotGeneralMatmulAndBatched) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value y = b.parameter({ElementType::kF32, {3, 2}});
  Value mm = b.dot_general(x, y, {{}, {}, {1}, {0}});
  EXPECT_EQ(b.dims(mm), (std::vector<int64_t>{2, 2}));
  Value bx = b.reshape(x, {1, 2, 3});
  Value by = b.reshape(y, {1, 3, 2});
  Value bmm = b.dot_general(bx, by, {{0}, {0}, {2}, {1}}, std::nullopt, Precision::kHighest);
  EXPECT_EQ(b.dims(bmm), (std::vector<int64_t>{1, 2, 2}));
  // Outer product (no contraction) with an f64 result type.
  Value v = b.convert(b.reshape(b.slice(x, {0, 0}, {1, 3}), {3}), ElementType::kF64);
  Value outer = b.dot_general(v, v, {}, ElementType::kF64);
  EXPECT_EQ(b.dims(outer), (std::vector<int64_t>{3, 3}));
  Function fn = b.finish({mm, bmm, outer});
  auto out = run(fn, {f32({2, 3}, {1, 2, 3, 4, 5, 6}), f32({3, 2}, {1, 0, 0, 1, 1, 1})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{4, 5, 10, 11}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{4, 5, 10, 11}));
  EXPECT_EQ(out[2].as<double>(), (std::vector<double>{1, 2, 3, 2, 4, 6, 3, 6, 9}));
}

TEST(ExecuteStructured, DotGeneralIntegerAccumulatesWider) {
  Builder b;
  Value x = b.parameter({ElementType::kS8, {1, 2}});
  Value y = b.parameter({ElementType::kS8, {2, 1}});
  Function fn = b.finish({b.dot_general(x, y, {{}, {}, {1}, {0}}, ElementType::kS32)});
  auto out = run(fn, {HostTensor::of<int8_t>(ElementType::kS8, {1, 2}, {100, 100}),
                      HostTensor::of<int8_t>(ElementType::kS8, {2, 1}, {100, 100})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{20000}));
}

// x[idx] along dimension 0 (index_select / embedding).
TEST(ExecuteStructured, GatherRows) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {3, 2}});
  Value idx = b.parameter({ElementType::kS64, {4}});
  GatherDimensions d;
  d.offset_dims = {1};
  d.collapsed_slice_dims = {0};
  d.start_index_map = {0};
  d.index_vector_dim = 1;
  Value g = b.gather(x, idx, d, {1, 2});
  EXPECT_EQ(b.dims(g), (std::vector<int64_t>{4, 2}));
  Function fn = b.finish({g});
  auto out = run(fn, {f32({3, 2}, {0, 1, 10, 11, 20, 21}),
                      HostTensor::of<int64_t>(ElementType::kS64, {4}, {2, 0, 2, 1})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11}));
}

// torch.gather(x, 1, idx) with batching dims: out[i][j] = x[i][idx[i][j]].
TEST(ExecuteStructured, GatherWithBatchingDims) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value idx = b.parameter({ElementType::kS32, {2, 2, 1}});
  GatherDimensions d;
  d.offset_dims = {};
  d.collapsed_slice_dims = {1};
  d.operand_batching_dims = {0};
  d.start_indices_batching_dims = {0};
  d.start_index_map = {1};
  d.index_vector_dim = 2;
  Value g = b.gather(x, idx, d, {1, 1});
  EXPECT_EQ(b.dims(g), (std::vector<int64_t>{2, 2}));
  Function fn = b.finish({g});
  auto out = run(fn, {f32({2, 3}, {0, 1, 2, 10, 11, 12}),
                      HostTensor::of<int32_t>(ElementType::kS32, {2, 2, 1}, {2, 0, 1, 1})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{2, 0, 11, 11}));
}

// index_add: rows of updates added at rows idx, duplicates accumulate.
TEST(ExecuteStructured, ScatterAddRows) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {3, 2}});
  Value idx = b.parameter({ElementType::kS32, {3, 1}});
  Value upd = b.parameter({ElementType::kF32, {3, 2}});
  ScatterDimensions d;
  d.update_window_dims = {1};
  d.inserted_window_dims = {0};
  d.scatter_dims_to_operand_dims = {0};
  d.index_vector_dim = 1;
  Function fn = b.finish({b.scatter(x, idx, upd, d, adder())});
  auto out = run(fn, {f32({3, 2}, {0, 0, 0, 0, 0, 0}),
                      HostTensor::of<int32_t>(ElementType::kS32, {3, 1}, {2, 0, 2}),
                      f32({3, 2}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{3, 4, 0, 0, 6, 8}));
}

// Overwrite (body returns the update) with batching dims: x[i][idx[i][j]] = u[i][j].
TEST(ExecuteStructured, ScatterReplaceWithBatchingDims) {
  Builder b;
  Value x = b.parameter({ElementType::kS32, {2, 3}});
  Value idx = b.parameter({ElementType::kS64, {2, 1, 1}});
  Value upd = b.parameter({ElementType::kS32, {2, 1}});
  ScatterDimensions d;
  d.update_window_dims = {};
  d.inserted_window_dims = {1};
  d.input_batching_dims = {0};
  d.scatter_indices_batching_dims = {0};
  d.scatter_dims_to_operand_dims = {1};
  d.index_vector_dim = 2;
  Function fn = b.finish({b.scatter(
      x, idx, upd, d,
      [](Builder&, const std::vector<Value>& a) { return std::vector<Value>{a[1]}; }, true, true)});
  auto out = run(fn, {HostTensor::of<int32_t>(ElementType::kS32, {2, 3}, {0, 0, 0, 0, 0, 0}),
                      HostTensor::of<int64_t>(ElementType::kS64, {2, 1, 1}, {2, 0}),
                      HostTensor::of<int32_t>(ElementType::kS32, {2, 1}, {7, 9})});
  EXPECT_EQ(out[0].as<int32_t>(), (std::vector<int32_t>{0, 0, 7, 9, 0, 0}));
}

// Sort values descending with their indices (torch.sort(descending=True)).
TEST(ExecuteStructured, SortKeysWithPayload) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2, 3}});
  Value idx = b.iota({ElementType::kS32, {2, 3}}, 1);
  auto r = b.sort({x, idx}, 1, true, [](Builder& b, const std::vector<Value>& a) {
    return std::vector<Value>{b.compare(ComparisonDirection::kGT, a[0], a[1])};
  });
  Function fn = b.finish(r);
  auto out = run(fn, {f32({2, 3}, {1, 3, 2, 5, 5, 4})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{3, 2, 1, 5, 5, 4}));
  EXPECT_EQ(out[1].as<int32_t>(), (std::vector<int32_t>{1, 2, 0, 0, 1, 2}));
}

TEST(ExecuteStructured, SortUnsignedAscending) {
  Builder b;
  Value x = b.parameter({ElementType::kU8, {4}});
  auto r = b.sort({x}, 0, false, [](Builder& b, const std::vector<Value>& a) {
    return std::vector<Value>{b.compare(ComparisonDirection::kLT, a[0], a[1])};
  });
  Function fn = b.finish(r);
  auto out = run(fn, {HostTensor::of<uint8_t>(ElementType::kU8, {4}, {200, 3, 255, 0})});
  EXPECT_EQ(out[0].as<uint8_t>(), (std::vector<uint8_t>{0, 3, 200, 255}));
}

TEST(ExecuteStructured, RngBitGeneratorIsDeterministicPerKey) {
  for (RngAlgorithm algorithm :
       {RngAlgorithm::kThreeFry, RngAlgorithm::kPhilox, RngAlgorithm::kDefault}) {
    Builder b;
    Value key = b.parameter({ElementType::kU64, {2}});
    auto [state, bits] = b.rng_bit_generator(key, {ElementType::kU32, {2, 8}}, algorithm);
    EXPECT_EQ(b.type(state), (TensorType{ElementType::kU64, {2}}));
    Function fn = b.finish({state, bits});
    HostTensor k = HostTensor::of<uint64_t>(ElementType::kU64, {2}, {42, 7});
    auto first = run(fn, {k});
    auto again = run(fn, {k});
    auto other = run(fn, {HostTensor::of<uint64_t>(ElementType::kU64, {2}, {43, 7})});
    EXPECT_EQ(first[1].bytes, again[1].bytes);
    EXPECT_NE(first[1].bytes, other[1].bytes);
    EXPECT_NE(first[0].as<uint64_t>(), k.as<uint64_t>());  // the state advanced
    auto values = first[1].as<uint32_t>();
    std::sort(values.begin(), values.end());
    EXPECT_EQ(std::unique(values.begin(), values.end()), values.end());
  }
}

TEST(ExecuteStructured, EmitRawOpWithRegion) {
  // An op without a typed method: stablehlo.map, through emit.
  Builder b;
  Value x = b.parameter({ElementType::kF32, {3}});
  TensorType scalar{ElementType::kF32, {}};
  auto r = b.emit("stablehlo.map", {x, x}, {b.type(x)}, "dimensions = array<i64: 0>",
                  {{{scalar, scalar}, [](Builder& b, const std::vector<Value>& a) {
                      return std::vector<Value>{b.mul(a[0], a[1])};
                    }}});
  Function fn = b.finish(r);
  EXPECT_EQ(run(fn, {f32({3}, {1, 2, 3})})[0].as<float>(), (std::vector<float>{1, 4, 9}));
}

TEST(ExecuteStructured, NestedRegions) {
  // A reduce whose body itself reduces: regions inside regions print and run.
  Builder b;
  Value x = b.parameter({ElementType::kF32, {4}});
  Value zero = b.constant(0, ElementType::kF32);
  Value r = b.reduce(x, zero, {0}, [](Builder& b, const std::vector<Value>& a) {
    Value pair = b.concatenate({b.reshape(a[0], {1}), b.reshape(a[1], {1})}, 0);
    Value inner_zero = b.constant(0, ElementType::kF32);
    return std::vector<Value>{b.reduce(pair, inner_zero, {0}, adder())};
  });
  Function fn = b.finish({r});
  EXPECT_EQ(run(fn, {f32({4}, {1, 2, 3, 4})})[0].as<float>(), (std::vector<float>{10}));
}

TEST(ExecuteStructured, NoResultsAndPassThrough) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {2}});
  Function fn = b.finish({x, x});
  auto out = run(fn, {f32({2}, {1, 2})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{1, 2}));
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
