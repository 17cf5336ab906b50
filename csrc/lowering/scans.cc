// Cumulative orderings and logcumsumexp along one dim, as PyTorch's CPU
// kernels run them: cummax/cummin take a later element on ties (>= / <=) and
// once NaN is seen keep it (its index moving to each later NaN);
// logcumsumexp adds in log space with NaN propagated and equal infinities kept.
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/complex_log_add_exp.h"
#include "lowering/dtype_names.h"
#include "lowering/float_classes.h"
#include "lowering/nan_extremum.h"
#include "lowering/prefix_scan.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

// cummax(self, dim) / cummin(self, dim) -> (values, indices)
std::vector<Value> cumulative_extreme(Builder& b, const OpCall& call, bool is_max) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (stablehlo::is_complex(type)) throw_no_kernel(is_max ? "cummax_cpu" : "cummin_cpu", type);
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(x));
  if (b.rank(x) == 0) return {x, b.constant_int(0, ElementType::kS64)};
  Value index = b.iota(TensorType{ElementType::kS64, b.dims(x)}, dim);
  if (b.type(x).numel() == 0) return {x, index};
  const bool floating = stablehlo::is_floating(type);
  auto combine = [is_max, floating](Builder& r, const std::vector<Value>& earlier,
                                    const std::vector<Value>& later) {
    Value a = earlier[0], c = later[0];
    Value take_later =
        r.compare(is_max ? ComparisonDirection::kGE : ComparisonDirection::kLE, c, a);
    if (floating) {
      Value a_number = r.compare(ComparisonDirection::kEQ, a, a);
      take_later =
          r.binary(BinaryOp::kOr, is_nan(r, c), r.binary(BinaryOp::kAnd, a_number, take_later));
    }
    return std::vector<Value>{r.select(take_later, c, a),
                              r.select(take_later, later[1], earlier[1])};
  };
  auto scanned = prefix_scan(b, {orderable(b, x), index}, dim, combine);
  return {b.convert(scanned[0], type), scanned[1]};
}

std::vector<Value> cummax_rule(Builder& b, const OpCall& call) {
  return cumulative_extreme(b, call, true);
}
std::vector<Value> cummin_rule(Builder& b, const OpCall& call) {
  return cumulative_extreme(b, call, false);
}

// log(exp(x) + exp(y)) = max + log1p(exp(min - max)); both infinite and equal
// give that infinity (not NaN from inf - inf).
Value log_add_exp(Builder& b, Value x, Value y) {
  Value high = nan_propagating(b, BinaryOp::kMaximum, x, y);
  Value low = nan_propagating(b, BinaryOp::kMinimum, x, y);
  Value sum = b.add(b.unary(UnaryOp::kLog1p, b.unary(UnaryOp::kExp, b.sub(low, high))), high);
  Value equal_infinities = b.binary(BinaryOp::kAnd, b.compare(ComparisonDirection::kEQ, low, high),
                                    b.unary(UnaryOp::kNot, b.unary(UnaryOp::kIsFinite, low)));
  return b.select(equal_infinities, x, sum);
}

// logcumsumexp(self, dim) and _logcumsumexp(self, dim); half types in f32.
std::vector<Value> logcumsumexp_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  const bool complex = stablehlo::is_complex(type);
  if (!complex && !stablehlo::is_floating(type)) throw_no_kernel("logcumsumexp_out_cpu", type);
  const int64_t dim = wrap_dim(call.int_at(1), b.rank(x));
  if (b.rank(x) == 0 || b.type(x).numel() == 0) return {x};
  if (complex) {
    // CPU accumulates complex64 in complex128.
    Value scanned = prefix_scan(
        b, {b.convert(x, ElementType::kC128)}, dim,
        [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
          return std::vector<Value>{complex_log_add_exp(r, later[0], earlier[0])};
        })[0];
    return {b.convert(scanned, type)};
  }
  const ElementType compute =
      type == ElementType::kBF16 || type == ElementType::kF16 ? ElementType::kF32 : type;
  Value scanned = prefix_scan(
      b, {b.convert(x, compute)}, dim,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{log_add_exp(r, later[0], earlier[0])};
      })[0];
  return {b.convert(scanned, type)};
}

}  // namespace

void add_scan_rules(RuleTable& table) {
  table.add("cummax", {&cummax_rule, {}});
  table.add("cummin", {&cummin_rule, {}});
  table.add("logcumsumexp", {&logcumsumexp_rule, {}});
  table.add("_logcumsumexp", {&logcumsumexp_rule, {}});
}

}  // namespace torch_pjrt::lowering
