#include <gtest/gtest.h>

#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

const TensorType kF32x3{ElementType::kF32, {3}};
const TensorType kS64{ElementType::kS64, {}};

// x + 1 summed with a reduce whose body is a region: what a recorded segment
// holds, region values included.
Value sum_plus_one(Builder& b, Value x) {
  Value y = b.add(x, b.splat(1.0, kF32x3));
  return b.reduce(y, b.constant(0.0, ElementType::kF32), {0},
                  [](Builder& b, const std::vector<Value>& a) {
                    return std::vector<Value>{b.add(a[0], a[1])};
                  });
}

// sum_plus_one alone as a function: its ops numbered from its parameter, 0.
struct Recorded {
  Function function;
  Value x, result;
};
Recorded recorded_sum_plus_one() {
  Builder b;
  Value x = b.parameter(kF32x3);
  Value r = sum_plus_one(b, x);
  return Recorded{b.finish({r}), x, r};
}

TEST(AppendCopies, RebuildsTheOpsOnOtherValues) {
  const auto [source, x, r] = recorded_sum_plus_one();

  // Appended after other parameters, so every value gets another id.
  Builder b;
  b.parameter(kS64);
  Value y = b.parameter(kF32x3);
  std::vector<Value> values(source.value_types.size());
  values[x.id] = y;
  const std::vector<Operation>& ops = source.body.operations;
  b.append_copies(ops.data(), ops.data() + ops.size(), source.value_types, values);
  Function copied = b.finish({values[r.id]});

  Builder direct;
  direct.parameter(kS64);
  Value z = direct.parameter(kF32x3);
  Function expected = direct.finish({sum_plus_one(direct, z)});
  EXPECT_EQ(copied.to_mlir(), expected.to_mlir());
  EXPECT_EQ(copied.structural_hash(), expected.structural_hash());
}

TEST(AppendCopies, AnOperandWithoutAValueIsABuildError) {
  const Function source = recorded_sum_plus_one().function;
  Builder b;
  std::vector<Value> values(source.value_types.size());  // x has no value here
  const std::vector<Operation>& ops = source.body.operations;
  EXPECT_THROW(b.append_copies(ops.data(), ops.data() + ops.size(), source.value_types, values),
               BuildError);
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
