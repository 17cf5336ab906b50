// The checks rules compute beside their results (DESIGN.md, "Errors only the
// device can see"): the error word a program returns for given data.
#include "lowering/device_check.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "../stablehlo/executor.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::ElementType;
using stablehlo::testing::HostTensor;

// Runs the word of two checks on `first` (in [0, 3)) and `second` (in [-4, 4),
// 7 exempt) and returns {code, detail}.
std::vector<int64_t> word_for(const std::vector<int64_t>& first,
                              const std::vector<int64_t>& second) {
  Builder b;
  const int64_t n1 = static_cast<int64_t>(first.size());
  const int64_t n2 = static_cast<int64_t>(second.size());
  const Value a = b.parameter({ElementType::kS64, {n1}});
  const Value c = b.parameter({ElementType::kS32, {n2}});
  std::vector<DeviceCheck> checks;
  checks.push_back(check_in_range(b, a, 0, 3, {CheckKind::kIndex, "first {}"}));
  checks.push_back(check_in_range(b, c, -4, 4, {CheckKind::kRuntime, "second {}"}, 7));
  const ErrorWord word = fold_checks(b, std::nullopt, checks, 1);
  std::vector<int32_t> narrow(second.begin(), second.end());
  const auto out =
      stablehlo::testing::run(b.finish({pack_error_word(b, word)}),
                              {HostTensor::of<int64_t>(ElementType::kS64, {n1}, first),
                               HostTensor::of<int32_t>(ElementType::kS32, {n2}, narrow)});
  return out.at(0).as<int64_t>();
}

TEST(DeviceCheck, CleanDataGivesCodeZero) {
  EXPECT_EQ(word_for({0, 2, 1}, {-4, 3, 7})[0], 0);
  EXPECT_EQ(word_for({}, {})[0], 0);
}

TEST(DeviceCheck, ReportsTheFailingCheckAndTheLargestOffendingValue) {
  EXPECT_EQ(word_for({0, 3, 9}, {0}), (std::vector<int64_t>{1, 9}));
  EXPECT_EQ(word_for({-5, -2}, {0}), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(word_for({0}, {4, -9}), (std::vector<int64_t>{2, 4}));
}

TEST(DeviceCheck, TheEarliestFailingCheckWins) {
  EXPECT_EQ(word_for({5}, {6}), (std::vector<int64_t>{1, 5}));
}

TEST(DeviceCheck, FoldingContinuesTheCodesOfAnEarlierWord) {
  Builder b;
  const Value x = b.parameter({ElementType::kS64, {2}});
  const ErrorWord earlier =
      fold_checks(b, std::nullopt, {check_in_range(b, x, 0, 10, {CheckKind::kIndex, "a {}"})}, 1);
  const ErrorWord later =
      fold_checks(b, earlier, {check_nonzero_divisor(b, x), check_nonzero_divisor(b, x)}, 2);
  auto run = [&](std::vector<int64_t> values) {
    return stablehlo::testing::run(b.finish({pack_error_word(b, later)}),
                                   {HostTensor::of<int64_t>(ElementType::kS64, {2}, values)})
        .at(0)
        .as<int64_t>()[0];
  };
  EXPECT_EQ(run({0, 1}), 2);  // a zero divisor, the first of the later checks
}

TEST(DeviceCheck, MessagesShowTheOffendingValue) {
  EXPECT_EQ(describe_failure({CheckKind::kIndex, "index {} is out of bounds"}, -3),
            "index -3 is out of bounds");
  EXPECT_EQ(describe_failure({CheckKind::kRuntime, "ZeroDivisionError"}, 0), "ZeroDivisionError");
  EXPECT_EQ(describe_failure({CheckKind::kIndex, "{}"}, std::numeric_limits<int64_t>::max()),
            "9223372036854775807");
}

}  // namespace
}  // namespace torch_pjrt::lowering
