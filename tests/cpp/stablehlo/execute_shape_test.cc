#include <gtest/gtest.h>

#include "executor.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

using testing::HostTensor;
using testing::run;

const TensorType kF32x2x3{ElementType::kF32, {2, 3}};

HostTensor iota_input() {
  return HostTensor::of<float>(ElementType::kF32, {2, 3}, {0, 1, 2, 3, 4, 5});
}

TEST(ExecuteShape, ReshapeAndNoOp) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  EXPECT_EQ(b.reshape(x, {2, 3}), x);
  Value r = b.reshape(x, {3, 1, 2});
  EXPECT_EQ(b.dims(r), (std::vector<int64_t>{3, 1, 2}));
  Function fn = b.finish({r, b.reshape(b.slice(x, {0, 0}, {1, 1}), {})});
  auto out = run(fn, {iota_input()});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{0}));
}

TEST(ExecuteShape, Transpose) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  Value t = b.transpose(x, {1, 0});
  EXPECT_EQ(b.dims(t), (std::vector<int64_t>{3, 2}));
  Function fn = b.finish({t});
  EXPECT_EQ(run(fn, {iota_input()})[0].as<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(ExecuteShape, BroadcastInDim) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {3}});
  Value s = b.parameter({ElementType::kF32, {}});
  Value ones = b.parameter({ElementType::kF32, {2, 1}});
  Function fn = b.finish({b.broadcast_in_dim(x, {2, 3}, {1}), b.broadcast_in_dim(s, {2}, {}),
                          b.broadcast_in_dim(ones, {2, 2}, {0, 1})});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {3}, {1, 2, 3}),
                      HostTensor::of<float>(ElementType::kF32, {}, {7}),
                      HostTensor::of<float>(ElementType::kF32, {2, 1}, {4, 5})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{7, 7}));
  EXPECT_EQ(out[2].as<float>(), (std::vector<float>{4, 4, 5, 5}));
}

TEST(ExecuteShape, SliceWithStrides) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  Value s = b.slice(x, {0, 0}, {2, 3}, {1, 2});
  EXPECT_EQ(b.dims(s), (std::vector<int64_t>{2, 2}));
  Function fn = b.finish({s, b.slice(x, {1, 1}, {2, 3})});
  auto out = run(fn, {iota_input()});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 2, 3, 5}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{4, 5}));
}

TEST(ExecuteShape, DynamicSliceClampsStart) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  Value i = b.parameter({ElementType::kS32, {}});
  Value zero = b.constant_int(0, ElementType::kS32);
  Function fn = b.finish({b.dynamic_slice(x, {zero, i}, {2, 2})});
  auto out = run(fn, {iota_input(), HostTensor::of<int32_t>(ElementType::kS32, {}, {1})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{1, 2, 4, 5}));
  out = run(fn, {iota_input(), HostTensor::of<int32_t>(ElementType::kS32, {}, {5})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{1, 2, 4, 5}));
}

TEST(ExecuteShape, DynamicUpdateSlice) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  Value u = b.parameter({ElementType::kF32, {1, 2}});
  Value i = b.constant_int(1, ElementType::kS64);
  Value j = b.constant_int(1, ElementType::kS64);
  Function fn = b.finish({b.dynamic_update_slice(x, u, {i, j})});
  auto out = run(fn, {iota_input(), HostTensor::of<float>(ElementType::kF32, {1, 2}, {-1, -2})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 1, 2, 3, -1, -2}));
}

TEST(ExecuteShape, Concatenate) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  Value y = b.parameter({ElementType::kF32, {2, 1}});
  Value c = b.concatenate({x, y, x}, 1);
  EXPECT_EQ(b.dims(c), (std::vector<int64_t>{2, 7}));
  Function fn = b.finish({c});
  auto out = run(fn, {iota_input(), HostTensor::of<float>(ElementType::kF32, {2, 1}, {9, 8})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 1, 2, 9, 0, 1, 2, 3, 4, 5, 8, 3, 4, 5}));
}

TEST(ExecuteShape, PadLowHighInteriorAndNegative) {
  Builder b;
  Value x = b.parameter({ElementType::kF32, {3}});
  Value zero = b.constant(0, ElementType::kF32);
  Value p = b.pad(x, zero, {1}, {2}, {1});
  EXPECT_EQ(b.dims(p), (std::vector<int64_t>{8}));
  Value n = b.pad(x, zero, {-1}, {1});
  Function fn = b.finish({p, n});
  auto out = run(fn, {HostTensor::of<float>(ElementType::kF32, {3}, {1, 2, 3})});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{0, 1, 0, 2, 0, 3, 0, 0}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{2, 3, 0}));
}

TEST(ExecuteShape, Reverse) {
  Builder b;
  Value x = b.parameter(kF32x2x3);
  Function fn = b.finish({b.reverse(x, {1}), b.reverse(x, {0, 1})});
  auto out = run(fn, {iota_input()});
  EXPECT_EQ(out[0].as<float>(), (std::vector<float>{2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(out[1].as<float>(), (std::vector<float>{5, 4, 3, 2, 1, 0}));
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
