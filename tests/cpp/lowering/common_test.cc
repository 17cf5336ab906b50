// The shared machinery of every rule: OpCall accessors, the rule table,
// PyTorch's type promotion and broadcasting.
#include <gtest/gtest.h>

#include "lowering/broadcast.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using E = ElementType;

// Operands for result_type: a dimensioned tensor, a 0-d tensor or a Python number.
enum class Kind { kTensor, kZeroDim, kNumber };

E promoted(std::vector<std::pair<E, Kind>> operands, E default_float = E::kF32) {
  Builder b;
  std::vector<TensorArg> args;
  for (auto [type, kind] : operands) {
    std::vector<int64_t> dims =
        kind == Kind::kTensor ? std::vector<int64_t>{2} : std::vector<int64_t>{};
    args.push_back({b.parameter({type, dims}), kind == Kind::kNumber});
  }
  return result_type(b, args, default_float);
}

E promote_pair(E a, E b) { return promoted({{a, Kind::kTensor}, {b, Kind::kTensor}}); }

TEST(Promotion, TensorPairs) {
  EXPECT_EQ(promote_pair(E::kBF16, E::kF16), E::kF32);
  EXPECT_EQ(promote_pair(E::kU8, E::kS8), E::kS16);
  EXPECT_EQ(promote_pair(E::kU8, E::kS32), E::kS32);
  EXPECT_EQ(promote_pair(E::kPred, E::kU8), E::kU8);
  EXPECT_EQ(promote_pair(E::kS32, E::kS64), E::kS64);
  EXPECT_EQ(promote_pair(E::kS64, E::kF16), E::kF16);
  EXPECT_EQ(promote_pair(E::kBF16, E::kF32), E::kF32);
  EXPECT_EQ(promote_pair(E::kF64, E::kC64), E::kC128);
  EXPECT_EQ(promote_pair(E::kF32, E::kC64), E::kC64);
  EXPECT_EQ(promote_pair(E::kPred, E::kPred), E::kPred);
  EXPECT_EQ(promote_pair(E::kU16, E::kF32), E::kF32);
  EXPECT_THROW(promote_pair(E::kU16, E::kS8), InvalidArgument);
  EXPECT_THROW(promote_pair(E::kF8E5M2, E::kF32), InvalidArgument);
}

TEST(Promotion, PriorityOfTensorsZeroDimAndNumbers) {
  // Same category: the dimensioned tensor wins.
  EXPECT_EQ(promoted({{E::kS32, Kind::kTensor}, {E::kS64, Kind::kZeroDim}}), E::kS32);
  EXPECT_EQ(promoted({{E::kF16, Kind::kTensor}, {E::kF64, Kind::kZeroDim}}), E::kF16);
  EXPECT_EQ(promoted({{E::kS8, Kind::kTensor}, {E::kS64, Kind::kNumber}}), E::kS8);
  // Higher category from a lower-priority operand.
  EXPECT_EQ(promoted({{E::kPred, Kind::kTensor}, {E::kS64, Kind::kNumber}}), E::kS64);
  EXPECT_EQ(promoted({{E::kS32, Kind::kTensor}, {E::kF64, Kind::kNumber}}), E::kF32);
  EXPECT_EQ(promoted({{E::kS32, Kind::kTensor}, {E::kF64, Kind::kNumber}}, E::kF64), E::kF64);
  EXPECT_EQ(promoted({{E::kS32, Kind::kTensor}, {E::kF64, Kind::kZeroDim}}), E::kF64);
}

TEST(Promotion, ComplexNumbers) {
  EXPECT_EQ(promoted({{E::kF32, Kind::kTensor}, {E::kC128, Kind::kNumber}}), E::kC64);
  EXPECT_EQ(promoted({{E::kF64, Kind::kTensor}, {E::kC128, Kind::kNumber}}), E::kC128);
  EXPECT_EQ(promoted({{E::kS64, Kind::kTensor}, {E::kC128, Kind::kNumber}}), E::kC64);
  EXPECT_THROW(promoted({{E::kF16, Kind::kTensor}, {E::kC128, Kind::kNumber}}), Unsupported);
}

TEST(Promotion, OnlyNumbersAndZeroDim) {
  EXPECT_EQ(promoted({{E::kS64, Kind::kNumber}, {E::kF64, Kind::kNumber}}), E::kF32);
  EXPECT_EQ(promoted({{E::kPred, Kind::kNumber}, {E::kPred, Kind::kNumber}}), E::kPred);
  EXPECT_EQ(promoted({{E::kS32, Kind::kZeroDim}, {E::kS64, Kind::kNumber}}), E::kS32);
  EXPECT_EQ(promoted({{E::kU8, Kind::kZeroDim}, {E::kS8, Kind::kZeroDim}}), E::kS16);
}

TEST(Promotion, CanCast) {
  EXPECT_TRUE(can_cast(E::kS64, E::kF32));
  EXPECT_TRUE(can_cast(E::kPred, E::kS8));
  EXPECT_TRUE(can_cast(E::kF64, E::kBF16));
  EXPECT_TRUE(can_cast(E::kF32, E::kC64));
  EXPECT_FALSE(can_cast(E::kF32, E::kS64));
  EXPECT_FALSE(can_cast(E::kC64, E::kF64));
  EXPECT_FALSE(can_cast(E::kS32, E::kPred));
  EXPECT_FALSE(can_cast(E::kF32, E::kPred));
}

TEST(Promotion, ToFloating) {
  EXPECT_EQ(to_floating(E::kS64, E::kF32), E::kF32);
  EXPECT_EQ(to_floating(E::kPred, E::kF64), E::kF64);
  EXPECT_EQ(to_floating(E::kBF16, E::kF32), E::kBF16);
  EXPECT_EQ(to_floating(E::kC128, E::kF32), E::kC128);
}

TEST(Broadcast, Shapes) {
  EXPECT_EQ(broadcast_shapes({2, 1, 3}, {4, 1}), (std::vector<int64_t>{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(broadcast_shapes({0, 3}, {1, 3}), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(broadcast_shapes({1}, {0}), (std::vector<int64_t>{0}));
  EXPECT_EQ(broadcast_shapes(std::vector<std::vector<int64_t>>{{3}, {2, 1}, {1, 1, 1}}),
            (std::vector<int64_t>{1, 2, 3}));
  try {
    broadcast_shapes({2, 3}, {2, 4});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(),
                 "The size of tensor a (3) must match the size of tensor b (4) at "
                 "non-singleton dimension 1");
  }
}

TEST(Broadcast, PromoteAndBroadcast) {
  Builder b;
  Value x = b.parameter({E::kS32, {3}});
  Value y = b.parameter({E::kF32, {2, 1}});
  std::vector<Value> out = promote_and_broadcast(b, {x, y}, E::kF64);
  EXPECT_EQ(b.type(out[0]), (TensorType{E::kF64, {2, 3}}));
  EXPECT_EQ(b.type(out[1]), (TensorType{E::kF64, {2, 3}}));
  EXPECT_EQ(broadcast_to(b, x, {3}), x);
  EXPECT_THROW(broadcast_to(b, y, {3, 3}), InvalidArgument);
}

TEST(Broadcast, WrapDim) {
  EXPECT_EQ(wrap_dim(-1, 3), 2);
  EXPECT_EQ(wrap_dim(0, 0), 0);
  EXPECT_EQ(wrap_dim(-1, 0), 0);
  try {
    wrap_dim(3, 2);
    FAIL();
  } catch (const IndexOutOfRange& e) {
    EXPECT_STREQ(e.what(),
                 "Dimension out of range (expected to be in range of [-2, 1], but got 3)");
  }
  EXPECT_THROW(wrap_dim(1, 0), IndexOutOfRange);
}

TEST(OpCallTest, Accessors) {
  Builder b;
  Value x = b.parameter({E::kF32, {2}});
  OpCall call;
  call.name = "op";
  call.args = {TensorArg{x},
               NoneArg{},
               int64_t{3},
               2.5,
               true,
               std::string("floor"),
               std::vector<int64_t>{1, 2},
               E::kBF16};
  EXPECT_EQ(call.tensor(0).value, x);
  EXPECT_TRUE(call.is_none(1));
  EXPECT_FALSE(call.optional_tensor(1).has_value());
  EXPECT_EQ(call.optional_int(1), std::nullopt);
  EXPECT_EQ(call.int_at(2), 3);
  EXPECT_EQ(call.double_at(2), 3.0);
  EXPECT_EQ(call.double_at(3), 2.5);
  EXPECT_TRUE(call.bool_at(4));
  EXPECT_EQ(call.string_at(5), "floor");
  EXPECT_EQ(call.ints(6), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(call.optional_dtype(7), E::kBF16);
  EXPECT_THROW(call.tensor(2), InvalidArgument);
  EXPECT_THROW(call.int_at(3), InvalidArgument);
  EXPECT_THROW(call.int_at(8), InvalidArgument);
}

TEST(RuleTableTest, AddFindNames) {
  RuleTable table;
  Rule rule = [](Builder&, const OpCall&) { return std::vector<Value>{}; };
  table.add("b_op", {rule, {}});
  table.add("a_op", {rule, {1}});
  ASSERT_NE(table.find("a_op"), nullptr);
  EXPECT_EQ(table.find("a_op")->static_scalar_args, std::vector<int>{1});
  EXPECT_EQ(table.find("missing"), nullptr);
  EXPECT_EQ(table.names(), (std::vector<std::string>{"a_op", "b_op"}));
  EXPECT_THROW(table.add("a_op", {rule, {}}), std::logic_error);
}

}  // namespace
}  // namespace torch_pjrt::lowering
