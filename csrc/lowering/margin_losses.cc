// Multi-class hinge losses and their gradients: multi_margin_loss (one target
// class per sample) and multilabel_margin_loss (a -1-terminated list of
// target classes per sample). Both compare every class with the target
// classes through one-hot masks, so no gather depends on a target's value.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;

constexpr int64_t kReductionNone = 0;
constexpr int64_t kReductionMean = 1;

Value sum_over(Builder& b, Value x, std::vector<int64_t> dims) {
  return b.reduce(x, b.constant(0, b.element_type(x)), dims,
                  [](Builder& r, const std::vector<Value>& args) {
                    return std::vector<Value>{r.add(args[0], args[1])};
                  });
}

Value splat_like(Builder& b, double value, Value like) { return b.splat(value, b.type(like)); }

Value where(Builder& b, Value pred, Value x) { return b.select(pred, x, splat_like(b, 0, x)); }

// self as [N, C], the sample count and class count.
struct Samples {
  Value x;
  int64_t n = 0, classes = 0;
  bool vector = false;  // self was one sample ([C])
};

Samples as_samples(Builder& b, Value self, const char* name) {
  const std::vector<int64_t>& dims = b.dims(self);
  Samples s;
  // A 0-d input is one sample of one class.
  const bool ok =
      dims.empty() || (dims.size() == 1 && dims[0] != 0) || (dims.size() == 2 && dims[1] != 0);
  if (!ok) {
    throw InvalidArgument(
        std::string(name) +
        ": Expected non-empty vector or matrix with optional 0-dim batch size, but got: " +
        shape_text(dims));
  }
  s.vector = dims.size() <= 1;
  s.n = s.vector ? 1 : dims[0];
  s.classes = dims.empty() ? 1 : dims.back();
  s.x = b.reshape(self, {s.n, s.classes});
  return s;
}

void check_floating(Builder& b, Value x, const char* kernel) {
  const ElementType type = b.element_type(x);
  if (type != ElementType::kF32 && type != ElementType::kF64) throw_no_kernel(kernel, type);
}

int64_t static_int(const OpCall& call, size_t i) {
  const StaticScalar& s = call.static_scalar(i);
  if (const auto* v = std::get_if<int64_t>(&s)) return *v;
  if (const auto* v = std::get_if<double>(&s)) return static_cast<int64_t>(*v);
  if (const auto* v = std::get_if<bool>(&s)) return *v ? 1 : 0;
  return -1;
}

// Per-sample losses [N] reduced as `reduction` asks; a single sample without
// reduction gives a 0-d result when its target was 0-d.
Value reduce_losses(Builder& b, Value losses, int64_t reduction, bool scalar_result) {
  if (reduction == kReductionNone) return scalar_result ? b.reshape(losses, {}) : losses;
  Value total = sum_over(b, losses, {0});
  if (reduction != kReductionMean) return total;
  return b.div(total, b.constant(static_cast<double>(b.dims(losses)[0]), b.element_type(losses)));
}

// The incoming gradient per sample, [N, 1], with the mean's 1 / N applied.
Value sample_gradient(Builder& b, Value grad, int64_t reduction, int64_t n, ElementType type) {
  Value g = b.convert(grad, type);
  if (reduction == kReductionNone) return b.reshape(g, {n, 1});
  g = b.reshape(g, {});
  if (reduction == kReductionMean) g = b.div(g, b.constant(static_cast<double>(n), type));
  return b.broadcast_in_dim(g, {n, 1}, {});
}

// --- multi_margin_loss ----------------------------------------------------------

struct MultiMargin {
  Samples s;
  Value onehot;    // pred [N, C]: the target class
  Value active;    // pred [N, C]: non-target classes inside the margin
  Value z;         // [N, C]: margin - x[target] + x[i]
  Value weight_y;  // [N, C]: weight of the target class (or 1), broadcast
  int64_t p = 1;
  bool scalar_target = false;
};

MultiMargin multi_margin(Builder& b, const OpCall& call, size_t first) {
  MultiMargin m;
  Value self = call.tensor(first).value;
  Value target = call.tensor(first + 1).value;
  m.p = static_int(call, first + 2);
  const Value margin = call.tensor(first + 3).value;
  const std::optional<TensorArg> weight = call.optional_tensor(first + 4);
  if (m.p != 1 && m.p != 2) throw InvalidArgument("only p == 1 and p == 2 supported");
  m.s = as_samples(b, self, "multi_margin_loss");
  const ElementType type = b.element_type(self);
  const int64_t target_count = b.type(target).numel();
  if (b.rank(target) > 1 || target_count != m.s.n) {
    throw InvalidArgument(
        "multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
        "samples (batch size). Expected target size [" +
        std::to_string(m.s.n) + "], but got " + shape_text(b.dims(target)) + ". Input has shape " +
        shape_text(b.dims(self)) + ".");
  }
  if (weight && b.type(weight->value).numel() != m.s.classes) {
    throw InvalidArgument("inconsistent weight size, expected " + std::to_string(m.s.classes) +
                          " but got " + shape_text(b.dims(weight->value)));
  }
  check_floating(b, self, "multi_margin_loss_cpu_kernel");
  m.scalar_target = m.s.vector && b.rank(target) == 0;
  // A target outside the classes matches no one-hot column; CPU raises.
  call.check_on_device(check_in_range(b, target, 0, m.s.classes,
                                      CheckSite{CheckKind::kRuntime, "target out of range"}));
  const std::vector<int64_t> dims{m.s.n, m.s.classes};
  Value classes = b.iota(TensorType{ElementType::kS64, dims}, 1);
  Value t = b.broadcast_in_dim(b.reshape(b.convert(target, ElementType::kS64), {m.s.n}), dims, {0});
  m.onehot = b.compare(ComparisonDirection::kEQ, classes, t);
  Value x_target = sum_over(b, where(b, m.onehot, m.s.x), {1});
  Value spread_margin = b.broadcast_in_dim(b.convert(margin, type), dims, {});
  m.z = b.add(b.sub(spread_margin, b.broadcast_in_dim(x_target, dims, {0})), m.s.x);
  m.active = b.binary(BinaryOp::kAnd, b.unary(stablehlo::UnaryOp::kNot, m.onehot),
                      b.compare(ComparisonDirection::kGT, m.z, splat_like(b, 0, m.z)));
  m.weight_y = splat_like(b, 1, m.z);
  if (weight) {
    Value w =
        b.broadcast_in_dim(b.reshape(b.convert(weight->value, type), {m.s.classes}), dims, {1});
    m.weight_y = b.broadcast_in_dim(sum_over(b, where(b, m.onehot, w), {1}), dims, {0});
  }
  return m;
}

// multi_margin_loss(self, target, p, margin, weight?, reduction)
std::vector<Value> multi_margin_loss_rule(Builder& b, const OpCall& call) {
  const MultiMargin m = multi_margin(b, call, 0);
  const int64_t reduction = call.int_at(5);
  Value h = m.p == 1 ? m.z : b.mul(m.z, m.z);
  Value per_class = b.mul(where(b, m.active, h), m.weight_y);
  Value summed = sum_over(b, per_class, {1});
  Value losses = b.div(summed, splat_like(b, static_cast<double>(m.s.classes), summed));
  return {reduce_losses(b, losses, reduction, m.scalar_target)};
}

// multi_margin_loss_backward(grad_output, self, target, p, margin, weight?,
// reduction)
std::vector<Value> multi_margin_loss_backward_rule(Builder& b, const OpCall& call) {
  const MultiMargin m = multi_margin(b, call, 1);
  const int64_t reduction = call.int_at(6);
  Value self = call.tensor(1).value;
  const ElementType type = b.element_type(self);
  Value slope = m.p == 1 ? splat_like(b, 1, m.z) : b.mul(m.z, splat_like(b, 2, m.z));
  Value g = sample_gradient(b, call.tensor(0).value, reduction, m.s.n, type);
  g = b.div(g, splat_like(b, static_cast<double>(m.s.classes), g));
  Value per_class = b.mul(b.mul(where(b, m.active, slope), m.weight_y),
                          b.broadcast_in_dim(b.reshape(g, {m.s.n}), b.dims(m.z), {0}));
  Value target_grad = b.broadcast_in_dim(sum_over(b, per_class, {1}), b.dims(m.z), {0});
  Value grad = b.select(m.onehot, b.unary(stablehlo::UnaryOp::kNegate, target_grad), per_class);
  return {b.reshape(grad, b.dims(self))};
}

// --- multilabel_margin_loss -----------------------------------------------------

struct MultiLabel {
  Samples s;
  Value hinge;      // [N, J, C]: 1 - x[target_j] + x[i]
  Value active;     // pred [N, J, C]: target j counted against class i
  Value onehot;     // pred [N, J, C]: class i is target j (and j is listed)
  Value is_target;  // pred [N, C]
};

MultiLabel multilabel(Builder& b, Value self, Value target) {
  MultiLabel m;
  m.s = as_samples(b, self, "multilabel_margin_loss");
  if (b.type(target).numel() != b.type(self).numel() ||
      (b.rank(self) > 0 && b.dims(target) != b.dims(self))) {
    throw InvalidArgument("inconsistent target size: " + shape_text(b.dims(target)) +
                          " for input of size: " + shape_text(b.dims(self)));
  }
  check_floating(b, self, "multilabel_margin_loss_forward_out_frame");
  const int64_t n = m.s.n, c = m.s.classes;
  Value t = b.reshape(b.convert(target, ElementType::kS64), {n, c});
  // Targets are listed up to the first negative entry.
  const TensorType nc{ElementType::kS64, {n, c}};
  Value position = b.iota(nc, 1);
  Value stop = b.select(b.compare(ComparisonDirection::kLT, t, b.zeros(nc)), position,
                        b.splat(static_cast<double>(c), nc));
  Value first_stop = b.reduce(stop, b.constant_int(c, ElementType::kS64), {1},
                              [](Builder& r, const std::vector<Value>& args) {
                                return std::vector<Value>{r.min(args[0], args[1])};
                              });
  Value listed =
      b.compare(ComparisonDirection::kLT, position, b.broadcast_in_dim(first_stop, {n, c}, {0}));
  const std::vector<int64_t> njc{n, c, c};
  Value classes = b.iota(TensorType{ElementType::kS64, njc}, 2);
  m.onehot =
      b.binary(BinaryOp::kAnd,
               b.compare(ComparisonDirection::kEQ, classes, b.broadcast_in_dim(t, njc, {0, 1})),
               b.broadcast_in_dim(listed, njc, {0, 1}));
  m.is_target = b.reduce(m.onehot, b.constant_int(0, ElementType::kPred), {1},
                         [](Builder& r, const std::vector<Value>& args) {
                           return std::vector<Value>{r.binary(BinaryOp::kOr, args[0], args[1])};
                         });
  Value x = b.broadcast_in_dim(m.s.x, njc, {0, 2});
  Value x_target = b.broadcast_in_dim(sum_over(b, where(b, m.onehot, x), {2}), njc, {0, 1});
  m.hinge = b.add(b.sub(splat_like(b, 1, x), x_target), x);
  Value counted =
      b.binary(BinaryOp::kAnd, b.broadcast_in_dim(listed, njc, {0, 1}),
               b.unary(stablehlo::UnaryOp::kNot, b.broadcast_in_dim(m.is_target, njc, {0, 2})));
  m.active = b.binary(BinaryOp::kAnd, counted,
                      b.compare(ComparisonDirection::kGT, m.hinge, splat_like(b, 0, m.hinge)));
  return m;
}

// multilabel_margin_loss_forward(self, target, reduction) -> (output, is_target)
std::vector<Value> multilabel_margin_loss_forward_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(0).value;
  const int64_t reduction = call.int_at(2);
  Value target = call.tensor(1).value;
  const MultiLabel m = multilabel(b, self, target);
  // CPU checks every entry, also those past the -1 that ends the list.
  call.check_on_device(
      check_in_range(b, target, -1, m.s.classes,
                     CheckSite{CheckKind::kRuntime, "argument #2 'target' is out of range"}));
  const ElementType type = b.element_type(self);
  Value summed = sum_over(b, where(b, m.active, m.hinge), {1, 2});
  Value losses = b.div(summed, splat_like(b, static_cast<double>(m.s.classes), summed));
  return {reduce_losses(b, losses, reduction, m.s.vector),
          b.reshape(b.convert(m.is_target, type), b.dims(self))};
}

// multilabel_margin_loss_backward(grad_output, self, target, reduction, is_target)
std::vector<Value> multilabel_margin_loss_backward_rule(Builder& b, const OpCall& call) {
  Value self = call.tensor(1).value;
  const int64_t reduction = call.int_at(3);
  const MultiLabel m = multilabel(b, self, call.tensor(2).value);
  const ElementType type = b.element_type(self);
  const int64_t n = m.s.n, c = m.s.classes;
  Value g = sample_gradient(b, call.tensor(0).value, reduction, n, type);
  g = b.div(g, splat_like(b, static_cast<double>(c), g));
  Value ones = b.convert(m.active, type);
  // Class i gains once per target it is counted against; target j's class
  // loses once per class counted against it.
  Value gained = sum_over(b, ones, {1});
  Value per_target = b.broadcast_in_dim(sum_over(b, ones, {2}), {n, c, c}, {0, 1});
  Value lost = sum_over(b, where(b, m.onehot, per_target), {1});
  Value grad = b.mul(b.sub(gained, lost), b.broadcast_in_dim(b.reshape(g, {n}), {n, c}, {0}));
  return {b.reshape(grad, b.dims(self))};
}

}  // namespace

void add_margin_loss_rules(RuleTable& table) {
  table.add("multi_margin_loss", {&multi_margin_loss_rule, {2}});
  table.add("multi_margin_loss_backward", {&multi_margin_loss_backward_rule, {3}});
  table.add("multilabel_margin_loss_forward", {&multilabel_margin_loss_forward_rule, {}});
  table.add("multilabel_margin_loss_backward", {&multilabel_margin_loss_backward_rule, {}});
}

}  // namespace torch_pjrt::lowering
