#include "lowering/device_check.h"

#include <limits>
#include <numeric>

namespace torch_pjrt::lowering {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::ElementType;
using stablehlo::TensorType;

namespace {

// `x` reduced over all its dimensions with `op`, starting from `init`.
Value reduce_all(Builder& b, Value x, BinaryOp op, Value init) {
  std::vector<int64_t> dims(static_cast<size_t>(b.rank(x)));
  std::iota(dims.begin(), dims.end(), 0);
  return b.reduce(x, init, dims, [op](Builder& r, const std::vector<Value>& args) {
    return std::vector<Value>{r.binary(op, args[0], args[1])};
  });
}

Value any(Builder& b, Value pred) {
  return reduce_all(b, pred, BinaryOp::kOr, b.constant(0, ElementType::kPred));
}

}  // namespace

std::string describe_failure(const CheckSite& site, int64_t detail) {
  std::string text = site.message;
  const size_t at = text.find("{}");
  if (at != std::string::npos) text.replace(at, 2, std::to_string(detail));
  return text;
}

DeviceCheck check_in_range(Builder& b, Value index, int64_t low, int64_t high, CheckSite site,
                           std::optional<int64_t> exempt) {
  const Value wide = b.convert(index, ElementType::kS64);
  const TensorType type = b.type(wide);
  auto splat = [&](int64_t v) {
    return b.broadcast_in_dim(b.constant_int(v, ElementType::kS64), type.dims, {});
  };
  Value bad = b.binary(BinaryOp::kOr, b.compare(ComparisonDirection::kLT, wide, splat(low)),
                       b.compare(ComparisonDirection::kGE, wide, splat(high)));
  if (exempt) {
    bad = b.binary(BinaryOp::kAnd, bad, b.compare(ComparisonDirection::kNE, wide, splat(*exempt)));
  }
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  DeviceCheck check;
  check.site = std::move(site);
  check.failed = any(b, bad);
  check.detail = reduce_all(b, b.select(bad, wide, splat(lowest)), BinaryOp::kMaximum,
                            b.constant_int(lowest, ElementType::kS64));
  return check;
}

DeviceCheck check_nonzero_divisor(Builder& b, Value divisor) {
  const TensorType type = b.type(divisor);
  DeviceCheck check;
  check.site = CheckSite{CheckKind::kRuntime, "ZeroDivisionError"};
  check.failed = any(b, b.compare(ComparisonDirection::kEQ, divisor, b.zeros(type)));
  check.detail = b.constant_int(0, ElementType::kS64);
  return check;
}

ErrorWord fold_checks(Builder& b, std::optional<ErrorWord> earlier,
                      const std::vector<DeviceCheck>& checks, int64_t first_code) {
  ErrorWord word = earlier ? *earlier
                           : ErrorWord{b.constant_int(0, ElementType::kS64),
                                       b.constant_int(0, ElementType::kS64)};
  for (size_t i = 0; i < checks.size(); ++i) {
    // The earliest failure wins: a later check only fills a clean word.
    const Value clean =
        b.compare(ComparisonDirection::kEQ, word.code, b.constant_int(0, ElementType::kS64));
    const Value take = b.binary(BinaryOp::kAnd, clean, checks[i].failed);
    const Value code = b.constant_int(first_code + static_cast<int64_t>(i), ElementType::kS64);
    word.code = b.select(take, code, word.code);
    word.detail = b.select(take, checks[i].detail, word.detail);
  }
  return word;
}

Value pack_error_word(Builder& b, const ErrorWord& word) {
  return b.concatenate({b.reshape(word.code, {1}), b.reshape(word.detail, {1})}, 0);
}

}  // namespace torch_pjrt::lowering
