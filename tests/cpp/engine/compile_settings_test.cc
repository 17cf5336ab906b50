// Compile options every program gets: NaN-propagating min/max on XLA:CPU and
// the user's TORCH_PJRT_XLA_FLAGS.
#include "engine/compile_settings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/runtime.h"
#include "stablehlo/builder.h"

namespace torch_pjrt::engine {
namespace {

using stablehlo::ElementType;
using stablehlo::TensorType;
using stablehlo::Value;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ParseXlaFlags, SplitsWordsIntoNamesAndValues) {
  auto flags = parse_xla_flags("  --xla_a=1 --xla_b=some=text\t--xla_c  --xla_d=false");
  ASSERT_EQ(flags.size(), 4u);
  EXPECT_EQ(flags[0].first, "xla_a");
  EXPECT_EQ(std::get<std::string>(flags[0].second), "1");
  EXPECT_EQ(flags[1].first, "xla_b");
  EXPECT_EQ(std::get<std::string>(flags[1].second), "some=text");
  EXPECT_EQ(flags[2].first, "xla_c");
  EXPECT_EQ(std::get<bool>(flags[2].second), true);
  EXPECT_EQ(flags[3].first, "xla_d");
  EXPECT_EQ(std::get<bool>(flags[3].second), false);
  EXPECT_TRUE(parse_xla_flags("").empty());
}

TEST(ParseXlaFlags, RejectsWordsThatAreNoFlag) {
  for (const char* bad : {"xla_a=1", "-xla_a=1", "--", "--=1"}) {
    try {
      parse_xla_flags(bad);
      FAIL() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("TORCH_PJRT_XLA_FLAGS"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(CompileOptionsWith, UserFlagsComeAfterTheDefaults) {
  auto options = compile_options_with("--xla_cpu_enable_fast_min_max=true");
  ASSERT_EQ(options.env_option_overrides.size(), 3u);
  EXPECT_EQ(options.env_option_overrides[0].first, "xla_cpu_enable_fast_min_max");
  EXPECT_EQ(std::get<bool>(options.env_option_overrides[0].second), false);
  EXPECT_EQ(options.env_option_overrides[1].first, "xla_cpu_use_xnnpack");
  EXPECT_EQ(std::get<bool>(options.env_option_overrides[1].second), false);
  EXPECT_EQ(options.env_option_overrides[2].first, "xla_cpu_enable_fast_min_max");
}

RuntimeOptions options_with_flags(const std::string& flags) {
  RuntimeOptions options;
  options.plugin_path = TORCH_PJRT_TEST_CPU_PLUGIN;
  options.plugin_name = "cpu";
  options.executables.xla_flags = flags;
  return options;
}

// max(a, b) and min(a, b) elementwise in `element` on the plugin, over NaN in
// either operand (inputs and results travel as f32). 1024 elements make
// XLA:CPU take its vectorized loop, where fast min/max shows.
std::vector<float> extrema(Runtime& rt, ElementType element = ElementType::kF32,
                           int64_t size = 1024) {
  const TensorType type{ElementType::kF32, {size}};
  std::vector<float> a(size, 1.0f), b(size, 2.0f);
  for (int64_t i = 0; i < size; i += 2) a[i] = kNaN;
  for (int64_t i = 1; i < size; i += 2) b[i] = kNaN;
  stablehlo::Builder builder;
  auto x = builder.convert(builder.parameter(type), element);
  auto y = builder.convert(builder.parameter(type), element);
  auto program = builder.finish({builder.convert(builder.max(x, y), ElementType::kF32),
                                 builder.convert(builder.min(x, y), ElementType::kF32)});
  auto executable = rt.executables().get_or_compile(program);
  auto xa = rt.to_device(a.data(), type, 0);
  auto yb = rt.to_device(b.data(), type, 0);
  std::vector<DeviceBuffer*> inputs{xa.get(), yb.get()};
  auto outputs = rt.execute(*executable, inputs, 0);
  std::vector<float> result(2 * size);
  rt.to_host(*outputs.at(0), result.data());
  rt.to_host(*outputs.at(1), result.data() + size);
  return result;
}

// A max and a min reduction of 1024 ones with one NaN at `nan_at`.
std::vector<float> reduced_extrema(Runtime& rt, int64_t nan_at) {
  const TensorType type{ElementType::kF32, {1024}};
  std::vector<float> values(1024, 1.0f);
  values[nan_at] = kNaN;
  stablehlo::Builder b;
  auto x = b.parameter(type);
  auto reduce = [&](bool maximum) {
    auto init = b.constant(maximum ? -INFINITY : INFINITY, ElementType::kF32);
    return b.reduce(x, init, {0}, [maximum](stablehlo::Builder& rb, const std::vector<Value>& v) {
      return std::vector<Value>{maximum ? rb.max(v[0], v[1]) : rb.min(v[0], v[1])};
    });
  };
  auto executable = rt.executables().get_or_compile(b.finish({reduce(true), reduce(false)}));
  auto input = rt.to_device(values.data(), type, 0);
  std::vector<DeviceBuffer*> inputs{input.get()};
  auto outputs = rt.execute(*executable, inputs, 0);
  std::vector<float> result(2);
  rt.to_host(*outputs.at(0), result.data());
  rt.to_host(*outputs.at(1), result.data() + 1);
  return result;
}

TEST(CompileSettings, MaximumAndMinimumPropagateNaNFromEitherSide) {
  Runtime rt(options_with_flags(""));
  for (ElementType element :
       {ElementType::kF32, ElementType::kF64, ElementType::kF16, ElementType::kBF16}) {
    for (int64_t size : {1024, 3}) {
      std::vector<float> result = extrema(rt, element, size);
      for (size_t i = 0; i < result.size(); ++i) {
        ASSERT_TRUE(std::isnan(result[i]))
            << stablehlo::short_name(element) << "[" << size << "]: element " << i % size << " of "
            << (static_cast<int64_t>(i) < size ? "max" : "min") << " is " << result[i];
      }
    }
  }
}

TEST(CompileSettings, MaxAndMinReductionsPropagateNaN) {
  Runtime rt(options_with_flags(""));
  for (int64_t nan_at : {0, 1, 700, 1023}) {
    std::vector<float> result = reduced_extrema(rt, nan_at);
    EXPECT_TRUE(std::isnan(result[0])) << "max with NaN at " << nan_at << " is " << result[0];
    EXPECT_TRUE(std::isnan(result[1])) << "min with NaN at " << nan_at << " is " << result[1];
  }
}

TEST(CompileSettings, UserFlagsReachTheCompiler) {
  // Fast min/max back on: XLA:CPU then drops the NaN of at least one side.
  Runtime rt(options_with_flags("--xla_cpu_enable_fast_min_max=true"));
  std::vector<float> result = extrema(rt);
  size_t nans = 0;
  for (float value : result) nans += std::isnan(value) ? 1 : 0;
  EXPECT_LT(nans, result.size());
}

TEST(CompileSettings, IntegerAndStringFlagsAreAccepted) {
  Runtime rt(options_with_flags("--xla_backend_optimization_level=2 --xla_dump_hlo_pass_re="));
  stablehlo::Builder b;
  auto x = b.parameter(TensorType{ElementType::kF32, {2}});
  EXPECT_NO_THROW(rt.executables().get_or_compile(b.finish({b.add(x, x)})));
}

TEST(CompileSettings, AnUnknownFlagFailsTheCompileNamingIt) {
  Runtime rt(options_with_flags("--xla_torch_pjrt_no_such_flag=1"));
  stablehlo::Builder b;
  auto x = b.parameter(TensorType{ElementType::kF32, {2}});
  try {
    rt.executables().get_or_compile(b.finish({b.add(x, x)}));
    FAIL() << "expected a compile error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("xla_torch_pjrt_no_such_flag"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace torch_pjrt::engine
