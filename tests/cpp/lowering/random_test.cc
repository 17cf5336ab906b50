// Random rules build StableHLO the CPU plugin compiles for every dtype they
// accept, and the values they produce have the right range, resolution and
// moments; the same key gives the same values. The Python side
// (tests/python/test_random_factories.py) checks them through torch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <variant>

#include "../stablehlo/executor.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using E = ElementType;
using stablehlo::Function;
using stablehlo::testing::HostTensor;

const TensorType kKeyType{E::kU64, {2}};

const RuleTable& table() {
  static const RuleTable instance = [] {
    RuleTable t;
    add_random_rules(t);
    return t;
  }();
  return instance;
}

// A call whose tensors are parameters of the given types, in order.
struct Call {
  std::string_view name;
  std::string_view overload;
  std::vector<std::variant<TensorType, Arg>> args;

  Function lower() const {
    Builder b;
    OpCall call;
    call.name = name;
    call.overload = overload;
    for (const auto& arg : args) {
      if (const auto* t = std::get_if<TensorType>(&arg)) {
        call.args.push_back(TensorArg{b.parameter(*t)});
      } else {
        call.args.push_back(std::get<Arg>(arg));
      }
    }
    call.args.push_back(TensorArg{b.parameter(kKeyType)});
    const RuleInfo* info = table().find(name);
    if (info == nullptr) throw std::logic_error("no rule for " + std::string(name));
    return b.finish(info->rule(b, call));
  }
};

TensorType compiles(const Call& call) {
  Function fn = call.lower();
  EXPECT_NO_THROW(stablehlo::testing::detail::client().compile(fn.to_mlir())) << call.name << "\n"
                                                                              << fn.to_mlir();
  return fn.result_types().at(0);
}

HostTensor key(uint64_t a, uint64_t b) { return HostTensor::of<uint64_t>(E::kU64, {2}, {a, b}); }

// Runs `call` whose only tensor arguments are `self` (zeros of its type) and the key.
template <class T>
std::vector<T> sample(const Call& call, const HostTensor& k = key(0, 42)) {
  Function fn = call.lower();
  std::vector<HostTensor> args;
  for (const TensorType& t : fn.parameter_types()) {
    if (t == kKeyType && args.size() + 1 == fn.parameter_types().size()) {
      args.push_back(k);
    } else {
      HostTensor zeros{t, {}};
      zeros.bytes.assign(t.numel() * stablehlo::byte_width(t.element), 0);
      args.push_back(zeros);
    }
  }
  return stablehlo::testing::run(fn, args)[0].as<T>();
}

template <class T>
double mean(const std::vector<T>& v) {
  double sum = 0;
  for (T x : v) sum += static_cast<double>(x);
  return sum / static_cast<double>(v.size());
}

template <class T>
double stddev(const std::vector<T>& v) {
  double m = mean(v), sum = 0;
  for (T x : v) sum += (static_cast<double>(x) - m) * (static_cast<double>(x) - m);
  return std::sqrt(sum / static_cast<double>(v.size()));
}

const std::vector<E> kFloats = {E::kF32, E::kBF16, E::kF64, E::kF16};

TEST(RandomRules, CompileForEveryDtypeAndShape) {
  for (std::vector<int64_t> dims : std::vector<std::vector<int64_t>>{{2, 3}, {}, {0, 3}}) {
    // Every dtype on one shape; 0-d and empty on one float and one integer.
    const bool all = dims.size() == 2 && dims[1] == 3 && dims[0] == 2;
    for (E type : kFloats) {
      if (!all && type != E::kF32) continue;
      TensorType self{type, dims};
      EXPECT_EQ(compiles({"uniform", "", {self, Arg{0.0}, Arg{1.0}}}), self);
      EXPECT_EQ(compiles({"normal", "", {self, Arg{0.0}, Arg{1.0}}}), self);
      EXPECT_EQ(compiles({"exponential", "", {self, Arg{1.0}}}), self);
      EXPECT_EQ(compiles({"log_normal", "", {self, Arg{1.0}, Arg{2.0}}}), self);
      EXPECT_EQ(compiles({"cauchy", "", {self, Arg{0.0}, Arg{1.0}}}), self);
      EXPECT_EQ(compiles({"bernoulli", "", {self}}), self);
    }
    for (E type : {E::kF32, E::kBF16, E::kF64, E::kS64, E::kS32, E::kU8, E::kS8, E::kPred}) {
      if (!all && type != E::kS64) continue;
      TensorType self{type, dims};
      EXPECT_EQ(compiles({"random", "", {self}}), self);
      EXPECT_EQ(compiles({"random", "to", {self, Arg{int64_t{2}}}}), self);
      EXPECT_EQ(compiles({"random", "from", {self, Arg{int64_t{0}}, Arg{NoneArg{}}}}), self);
      EXPECT_EQ(compiles({"bernoulli", "float", {self, Arg{0.5}}}), self);
      EXPECT_EQ(compiles({"bernoulli", "Tensor", {self, TensorType{E::kF32, {}}}}), self);
    }
  }
  for (E type : {E::kC64, E::kC128}) {
    EXPECT_EQ(compiles({"uniform", "", {TensorType{type, {3}}, Arg{0.0}, Arg{1.0}}}),
              (TensorType{type, {3}}));
    EXPECT_EQ(compiles({"normal", "", {TensorType{type, {3}}, Arg{0.0}, Arg{1.0}}}),
              (TensorType{type, {3}}));
  }
  EXPECT_EQ(
      compiles({"random", "from", {TensorType{E::kS64, {4}}, Arg{INT64_MIN}, Arg{NoneArg{}}}}),
      (TensorType{E::kS64, {4}}));
  EXPECT_EQ(compiles({"geometric", "", {TensorType{E::kS32, {4}}, Arg{0.3}}}),
            (TensorType{E::kS32, {4}}));
}

TEST(RandomRules, NormalFunctionalFormsShapeAndType) {
  EXPECT_EQ(compiles({"normal", "Tensor_float", {TensorType{E::kBF16, {2, 3}}, Arg{2.0}}}),
            (TensorType{E::kBF16, {2, 3}}));
  EXPECT_EQ(compiles({"normal", "float_Tensor", {Arg{1.0}, TensorType{E::kF64, {3}}}}),
            (TensorType{E::kF64, {3}}));
  EXPECT_EQ(
      compiles(
          {"normal", "Tensor_Tensor", {TensorType{E::kF32, {3}}, TensorType{E::kF64, {2, 1}}}}),
      (TensorType{E::kF32, {2, 3}}));
  EXPECT_THROW(Call({"normal", "Tensor_float", {TensorType{E::kS64, {3}}, Arg{2.0}}}).lower(),
               Unsupported);
  EXPECT_THROW(Call({"normal", "Tensor_float", {TensorType{E::kF32, {3}}, Arg{-1.0}}}).lower(),
               InvalidArgument);
}

TEST(RandomRules, BadArgumentsRaiseLikePyTorch) {
  TensorType f32{E::kF32, {3}};
  EXPECT_THROW(Call({"uniform", "", {TensorType{E::kS64, {3}}, Arg{0.0}, Arg{1.0}}}).lower(),
               Unsupported);
  EXPECT_THROW(Call({"uniform", "", {f32, Arg{1.0}, Arg{0.0}}}).lower(), InvalidArgument);
  EXPECT_THROW(Call({"uniform", "", {f32, Arg{-1e300}, Arg{0.0}}}).lower(), InvalidArgument);
  EXPECT_THROW(Call({"normal", "", {f32, Arg{0.0}, Arg{-1.0}}}).lower(), InvalidArgument);
  EXPECT_THROW(Call({"bernoulli", "float", {f32, Arg{1.5}}}).lower(), InvalidArgument);
  EXPECT_THROW(Call({"bernoulli", "", {TensorType{E::kS64, {3}}}}).lower(), Unsupported);
  EXPECT_THROW(Call({"random", "from", {f32, Arg{int64_t{5}}, Arg{int64_t{2}}}}).lower(),
               InvalidArgument);
  EXPECT_THROW(Call({"random", "to", {TensorType{E::kS8, {3}}, Arg{int64_t{1000}}}}).lower(),
               InvalidArgument);
  EXPECT_THROW(Call({"random", "to", {TensorType{E::kPred, {3}}, Arg{int64_t{3}}}}).lower(),
               InvalidArgument);
  EXPECT_THROW(Call({"random", "to", {TensorType{E::kF16, {3}}, Arg{int64_t{1} << 20}}}).lower(),
               InvalidArgument);
  EXPECT_THROW(Call({"exponential", "", {f32, Arg{0.0}}}).lower(), InvalidArgument);
  EXPECT_THROW(Call({"exponential", "", {TensorType{E::kS64, {3}}, Arg{1.0}}}).lower(),
               InvalidArgument);
}

TEST(RandomRules, UniformRangeMomentsAndDeterminism) {
  Call call{"uniform", "", {TensorType{E::kF32, {100000}}, Arg{-2.0}, Arg{3.0}}};
  std::vector<float> v = sample<float>(call);
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0f);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 3.0f);
  EXPECT_NEAR(mean(v), 0.5, 0.02);
  EXPECT_NEAR(stddev(v), 5.0 / std::sqrt(12.0), 0.02);
  EXPECT_EQ(sample<float>(call), v);
  EXPECT_NE(sample<float>(call, key(1, 42)), v);

  // f64 draws 53 bits; resolution below float's shows up in the values.
  std::vector<double> d =
      sample<double>({"uniform", "", {TensorType{E::kF64, {1000}}, Arg{0.0}, Arg{1.0}}});
  EXPECT_TRUE(std::any_of(d.begin(), d.end(), [](double x) {
    return static_cast<double>(static_cast<float>(x)) != x;
  }));
}

TEST(RandomRules, NormalMoments) {
  std::vector<float> v =
      sample<float>({"normal", "", {TensorType{E::kF32, {100000}}, Arg{1.5}, Arg{2.0}}});
  EXPECT_NEAR(mean(v), 1.5, 0.03);
  EXPECT_NEAR(stddev(v), 2.0, 0.03);
  std::vector<double> d = sample<double>(
      {"normal", "Tensor_Tensor", {TensorType{E::kF64, {100000}}, TensorType{E::kF64, {}}}});
  // mean 0 and std 0 from the zero arguments: all zeros.
  EXPECT_EQ(*std::max_element(d.begin(), d.end()), 0.0);
}

TEST(RandomRules, BernoulliFrequency) {
  std::vector<float> v =
      sample<float>({"bernoulli", "float", {TensorType{E::kF32, {100000}}, Arg{0.3}}});
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](float x) { return x == 0 || x == 1; }));
  EXPECT_NEAR(mean(v), 0.3, 0.01);
  std::vector<uint8_t> never =
      sample<uint8_t>({"bernoulli", "float", {TensorType{E::kPred, {1000}}, Arg{0.0}}});
  EXPECT_EQ(std::accumulate(never.begin(), never.end(), 0), 0);
  std::vector<uint8_t> always =
      sample<uint8_t>({"bernoulli", "float", {TensorType{E::kPred, {1000}}, Arg{1.0}}});
  EXPECT_EQ(std::accumulate(always.begin(), always.end(), 0), 1000);
}

TEST(RandomRules, RandomRanges) {
  std::vector<int64_t> v = sample<int64_t>(
      {"random", "from", {TensorType{E::kS64, {100000}}, Arg{int64_t{-3}}, Arg{int64_t{4}}}});
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -3);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 3);
  EXPECT_NEAR(mean(v), 0.0, 0.05);

  std::vector<uint8_t> bytes = sample<uint8_t>({"random", "", {TensorType{E::kU8, {100000}}}});
  EXPECT_EQ(*std::max_element(bytes.begin(), bytes.end()), 255);
  EXPECT_NEAR(mean(bytes), 127.5, 2);

  // Floats: integers in [0, 2^24].
  std::vector<float> f = sample<float>({"random", "", {TensorType{E::kF32, {100000}}}});
  EXPECT_TRUE(std::all_of(f.begin(), f.end(), [](float x) {
    return x >= 0 && x <= 16777216.0f && std::floor(x) == x;
  }));
  EXPECT_NEAR(mean(f) / 16777216.0, 0.5, 0.01);

  std::vector<int32_t> i = sample<int32_t>({"random", "", {TensorType{E::kS32, {100000}}}});
  EXPECT_GE(*std::min_element(i.begin(), i.end()), 0);
  EXPECT_GT(*std::max_element(i.begin(), i.end()), 1 << 30);

  std::vector<int64_t> full = sample<int64_t>(
      {"random", "from", {TensorType{E::kS64, {1000}}, Arg{INT64_MIN}, Arg{NoneArg{}}}});
  EXPECT_LT(*std::min_element(full.begin(), full.end()), INT64_MIN / 2);

  std::vector<uint8_t> bits = sample<uint8_t>({"random", "", {TensorType{E::kPred, {1000}}}});
  EXPECT_NEAR(mean(bits), 0.5, 0.08);
}

TEST(RandomRules, ExponentialAndGeometricMoments) {
  std::vector<float> e =
      sample<float>({"exponential", "", {TensorType{E::kF32, {100000}}, Arg{2.0}}});
  EXPECT_GE(*std::min_element(e.begin(), e.end()), 0.0f);
  EXPECT_NEAR(mean(e), 0.5, 0.01);
  std::vector<int64_t> g =
      sample<int64_t>({"geometric", "", {TensorType{E::kS64, {100000}}, Arg{0.25}}});
  EXPECT_GE(*std::min_element(g.begin(), g.end()), 1);
  EXPECT_NEAR(mean(g), 4.0, 0.1);
}

}  // namespace
}  // namespace torch_pjrt::lowering
