#include <gtest/gtest.h>

#include "stablehlo/builder.h"

namespace torch_pjrt::stablehlo {
namespace {

const TensorType kF32x2{ElementType::kF32, {2}};

// A small program whose every part a test can vary.
struct Variant {
  TensorType parameter = kF32x2;
  bool swap_operands = false;
  BinaryOp op = BinaryOp::kAdd;
  double constant = 1.0;
  int64_t reduce_dim = 0;
  bool body_max = false;
  bool two_results = false;
};

uint64_t hash_of(const Variant& v) {
  Builder b;
  Value x = b.parameter(v.parameter);
  Value c = b.splat(v.constant, b.type(x));
  Value y = v.swap_operands ? b.binary(v.op, c, x) : b.binary(v.op, x, c);
  Value r =
      b.reduce(y, b.constant(0, b.element_type(x)), {v.reduce_dim},
               [&](Builder& b, const std::vector<Value>& a) {
                 return std::vector<Value>{v.body_max ? b.max(a[0], a[1]) : b.add(a[0], a[1])};
               });
  std::vector<Value> results{r};
  if (v.two_results) results.push_back(y);
  return b.finish(results).structural_hash();
}

TEST(StructuralHash, EqualForTheSameCalls) {
  EXPECT_EQ(hash_of({}), hash_of({}));
  Variant v;
  v.parameter = {ElementType::kS32, {3, 4}};
  v.reduce_dim = 1;
  EXPECT_EQ(hash_of(v), hash_of(v));
}

TEST(StructuralHash, DiffersWhenAnythingDiffers) {
  const uint64_t base = hash_of({});
  std::vector<Variant> variants(8);
  variants[0].parameter = {ElementType::kF32, {3}};
  variants[1].parameter = {ElementType::kF64, {2}};
  variants[2].swap_operands = true;
  variants[3].op = BinaryOp::kMultiply;
  variants[4].constant = 2.0;
  variants[5].parameter = {ElementType::kF32, {2, 2}};
  variants[5].reduce_dim = 1;
  variants[6].body_max = true;
  variants[7].two_results = true;
  std::vector<uint64_t> hashes{base};
  for (const Variant& v : variants) hashes.push_back(hash_of(v));
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::unique(hashes.begin(), hashes.end()), hashes.end());
}

TEST(StructuralHash, ResultOrderAndParameterOrderMatter) {
  const TensorType scalar{ElementType::kF32, {}};
  auto make = [&](bool swap_results, bool swap_params) {
    Builder b;
    Value x = b.parameter(swap_params ? scalar : kF32x2);
    Value y = b.parameter(swap_params ? kF32x2 : scalar);
    return (swap_results ? b.finish({y, x}) : b.finish({x, y})).structural_hash();
  };
  EXPECT_NE(make(false, false), make(true, false));
  EXPECT_NE(make(false, false), make(false, true));
  EXPECT_NE(make(true, false), make(false, true));
}

TEST(StructuralHash, IgnoresValuesLeftBehindByAFailedRegion) {
  auto make = [](bool fail_first) {
    Builder b;
    Value x = b.parameter(kF32x2);
    if (fail_first) {
      // The region's arguments were numbered before the body threw.
      EXPECT_THROW(b.reduce(x, b.constant(0, ElementType::kF32), {0},
                            [](Builder& b, const std::vector<Value>& a) {
                              return std::vector<Value>{b.constant(0, ElementType::kS32)};
                            }),
                   BuildError);
    } else {
      b.constant(0, ElementType::kF32);
    }
    return b.finish({b.add(x, x)}).structural_hash();
  };
  EXPECT_EQ(make(true), make(false));
}

TEST(StructuralHash, DistinguishesAttributeText) {
  auto make = [](std::vector<int64_t> permutation) {
    Builder b;
    Value x = b.parameter({ElementType::kF32, {2, 2}});
    return b.finish({b.transpose(x, permutation)}).structural_hash();
  };
  EXPECT_NE(make({0, 1}), make({1, 0}));
}

// The hash keys an on-disk cache shared across processes and builds: it must
// not change by accident. Update the constant only with a deliberate change
// to the hash (which invalidates every cache on disk).
TEST(StructuralHash, IsStable) {
  EXPECT_EQ(hash_of({}), 0xf4c58592e36e02e6ull) << std::hex << hash_of({});
}

}  // namespace
}  // namespace torch_pjrt::stablehlo

namespace torch_pjrt::stablehlo {
namespace {

Function increment(bool donated) {
  Builder b;
  Value x = b.parameter(kF32x2);
  Function fn = b.finish({b.add(x, b.splat(1.0, kF32x2))});
  if (donated) fn.parameter_aliases = {0};
  return fn;
}

TEST(StructuralHash, DonationIsPartOfTheProgram) {
  EXPECT_NE(increment(true).structural_hash(), increment(false).structural_hash());
  EXPECT_EQ(increment(true).structural_hash(), increment(true).structural_hash());
  EXPECT_NE(increment(true).to_mlir().find("{tf.aliasing_output = 0 : i32}"), std::string::npos);
  EXPECT_EQ(increment(false).to_mlir().find("aliasing"), std::string::npos);
}

TEST(BodyKey, SameOpsWithOtherResultsShareABodyAndNumberTheirResultsAlike) {
  // Parameters created at other points of the trace (y before or after the
  // add) give the same canonical numbering, whatever ids the builder used.
  auto make = [](bool late_parameter, bool all_results) {
    Builder b;
    Value x = b.parameter(kF32x2);
    Value y = late_parameter ? Value{} : b.parameter(kF32x2);
    Value sum = b.add(x, x);
    if (late_parameter) y = b.parameter(kF32x2);
    Value product = b.binary(BinaryOp::kMultiply, sum, y);
    return b.finish(all_results ? std::vector<Value>{sum, product} : std::vector<Value>{product});
  };
  const Function::BodyKey all = make(false, true).body_key();
  const Function::BodyKey some = make(true, false).body_key();
  EXPECT_EQ(all.hash, some.hash);
  ASSERT_EQ(all.results.size(), 2u);
  ASSERT_EQ(some.results.size(), 1u);
  EXPECT_EQ(some.results[0], all.results[1]);
  EXPECT_NE(all.results[0], all.results[1]);
  // The structural hash still tells them apart.
  EXPECT_NE(make(false, true).structural_hash(), make(true, false).structural_hash());
  Function::BodyKey other = increment(false).body_key();
  EXPECT_NE(other.hash, all.hash);
}

}  // namespace
}  // namespace torch_pjrt::stablehlo
