// Softmax, log-softmax and the losses autograd needs for classification and
// regression: nll_loss (1-D, 2-D and 2d spatial), mse_loss, binary cross
// entropy (with and without logits), each with its backward.
//
// Half types compute in f32 and round once. Softmax subtracts the row max
// before exp. nll_loss picks each sample's class with a one-hot mask (iota ==
// target) that XLA fuses into the reduction instead of a gather; targets out of
// [0, C) are found by a check the program computes (reported at the next
// synchronization). binary_cross_entropy does not check 0 <= input <= 1.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/nan_extremum.h"
#include "lowering/op_call.h"
#include "lowering/promotion.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Reduction : int64_t { kNone = 0, kMean = 1, kSum = 2 };

std::string name_of(ElementType type) { return std::string(scalar_type_name(type)); }

// PyTorch's CPU kernels exist for floating types only (NotImplementedError).
void check_floating(std::string_view kernel, ElementType type) {
  if (!stablehlo::is_floating(type)) throw_no_kernel(kernel, type);
}

Value fill_like(Builder& b, Value like, double value) { return b.splat(value, b.type(like)); }

// Reduces over `dims` keeping them as size 1, then broadcasts back to x's shape.
Value reduce_kept(Builder& b, Value x, const std::vector<int64_t>& dims, BinaryOp op, double init) {
  const ElementType type = b.element_type(x);
  Value reduced =
      b.reduce(x, b.constant(init, type), dims, [op](Builder& rb, const std::vector<Value>& args) {
        if (op == BinaryOp::kMaximum) return extremum_reducer(rb, op, args);
        return std::vector<Value>{rb.binary(op, args[0], args[1])};
      });
  std::vector<int64_t> kept = b.dims(x);
  for (int64_t d : dims) kept[d] = 1;
  return broadcast_to(b, b.reshape(reduced, kept), b.dims(x));
}

Value sum_all(Builder& b, Value x) {
  std::vector<int64_t> all(b.rank(x));
  for (size_t d = 0; d < all.size(); ++d) all[d] = static_cast<int64_t>(d);
  const ElementType type = b.element_type(x);
  return b.reduce(x, b.constant(0, type), all, [](Builder& rb, const std::vector<Value>& args) {
    return std::vector<Value>{rb.add(args[0], args[1])};
  });
}

// none keeps the elementwise loss; mean divides the sum by the element count.
Value apply_reduction(Builder& b, Value loss, int64_t reduction) {
  if (reduction == static_cast<int64_t>(Reduction::kNone)) return loss;
  Value sum = sum_all(b, loss);
  if (reduction == static_cast<int64_t>(Reduction::kSum)) return sum;
  return b.div(sum, fill_like(b, sum, static_cast<double>(b.type(loss).numel())));
}

// The softmax dim as a list: empty for a 0-d input, which has nothing to reduce.
std::vector<int64_t> softmax_dims(const Builder& b, Value x, int64_t dim) {
  const int64_t d = wrap_dim(dim, b.rank(x));
  if (b.rank(x) == 0) return {};
  return {d};
}

// --- softmax ------------------------------------------------------------------------

Value softmax_of(Builder& b, const OpCall& call, bool log) {
  const Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  check_floating(log ? "log_softmax_lastdim_kernel_impl" : "softmax_lastdim_kernel_impl", type);
  const std::vector<int64_t> dims = softmax_dims(b, x, call.int_at(1));
  // half_to_float (CUDA's fused cast) returns f32 for a half input.
  const bool half_to_float = call.size() > 2 && call.bool_at(2);
  const ElementType result_type = half_to_float ? ElementType::kF32 : type;
  const ElementType acc = opmath_type(type);

  Value wide = b.convert(x, acc);
  Value shifted = b.sub(wide, reduce_kept(b, wide, dims, BinaryOp::kMaximum, -kInf));
  Value exp = b.unary(UnaryOp::kExp, shifted);
  Value sum = reduce_kept(b, exp, dims, BinaryOp::kAdd, 0);
  Value result = log ? b.sub(shifted, b.unary(UnaryOp::kLog, sum)) : b.div(exp, sum);
  return b.convert(result, result_type);
}

std::vector<Value> softmax_rule(Builder& b, const OpCall& call) {
  return {softmax_of(b, call, false)};
}
std::vector<Value> log_softmax_rule(Builder& b, const OpCall& call) {
  return {softmax_of(b, call, true)};
}

// (grad_output, output, dim, input_dtype). The result has grad_output's dtype,
// except f32 grads of an f16 softmax give f16 (CUDA's half_to_float backward).
Value softmax_backward_of(Builder& b, const OpCall& call, bool log) {
  const Value grad = call.tensor(0).value, output = call.tensor(1).value;
  const ElementType grad_type = b.element_type(grad);
  if (b.dims(grad) != b.dims(output)) {
    throw InvalidArgument(
        "Expected tensor for argument #1 'grad' to have same size as tensor for "
        "argument #2 'output'; but " +
        shape_text(b.dims(grad)) + " does not equal " + shape_text(b.dims(output)) +
        " (while checking arguments for " +
        (log ? "_log_softmax_backward_data" : "softmax_backward") + ")");
  }
  if (b.element_type(output) != grad_type) {
    throw InvalidArgument("expected scalar type " + name_of(grad_type) + " but found " +
                          name_of(b.element_type(output)));
  }
  check_floating(
      log ? "log_softmax_backward_lastdim_kernel_impl" : "softmax_backward_lastdim_kernel_impl",
      grad_type);
  const std::optional<ElementType> input_dtype =
      call.size() > 3 ? call.optional_dtype(3) : std::nullopt;
  const ElementType result_type = grad_type == ElementType::kF32 && input_dtype == ElementType::kF16
                                      ? ElementType::kF16
                                      : grad_type;
  const std::vector<int64_t> dims = softmax_dims(b, grad, call.int_at(2));
  const ElementType acc = opmath_type(grad_type);
  Value g = b.convert(grad, acc), y = b.convert(output, acc);
  Value result;
  if (log) {  // grad - exp(output) * sum(grad)
    result = b.sub(g, b.mul(b.unary(UnaryOp::kExp, y), reduce_kept(b, g, dims, BinaryOp::kAdd, 0)));
  } else {  // output * (grad - sum(grad * output))
    result = b.mul(y, b.sub(g, reduce_kept(b, b.mul(g, y), dims, BinaryOp::kAdd, 0)));
  }
  return b.convert(result, result_type);
}

std::vector<Value> softmax_backward_rule(Builder& b, const OpCall& call) {
  return {softmax_backward_of(b, call, false)};
}
std::vector<Value> log_softmax_backward_rule(Builder& b, const OpCall& call) {
  return {softmax_backward_of(b, call, true)};
}

// --- nll_loss ------------------------------------------------------------------------

// One nll_loss call brought to a common form: input (N, C, d...) with the class
// at dim 1 and target (N, d...); a 1-D input is a batch of one.
struct NllProblem {
  Value input;   // accumulation type
  Value target;  // s64
  std::optional<Value> weight;
  int64_t ignore_index = -100;
  bool single_sample = false;  // 1-D input: results are 0-d
  ElementType type = ElementType::kF32;
};

void check_nll_types(Builder& b, Value input, Value target, std::optional<Value> weight) {
  const ElementType target_type = b.element_type(target);
  if (target_type != ElementType::kS64 && target_type != ElementType::kU8) {
    throw InvalidArgument("expected target dtype to be Long or Byte, but got " +
                          name_of(target_type));
  }
  check_floating("nll_loss_out_frame", b.element_type(input));
  if (weight && b.element_type(*weight) != b.element_type(input)) {
    throw InvalidArgument("expected scalar type " + name_of(b.element_type(input)) + " but found " +
                          name_of(b.element_type(*weight)));
  }
}

// nll_loss_forward's shapes: input (C) or (N, C), target () / (1) or (N).
void check_nll_shapes(Builder& b, Value input, Value target, std::optional<Value> weight) {
  const int64_t rank = b.rank(input);
  if (rank < 1 || rank > 2) throw InvalidArgument("input tensor should be 1D or 2D");
  if (b.rank(target) > 1)
    throw InvalidArgument("0D or 1D target tensor expected, multi-target not supported");
  const int64_t targets = b.rank(target) == 0 ? 1 : b.dims(target)[0];
  if (rank == 1 && b.rank(target) == 1 && targets != 1) {
    throw InvalidArgument("For 1D input, 1D target must have size 1, but got target size: " +
                          std::to_string(targets));
  }
  if (rank == 2 && targets != b.dims(input)[0]) {
    throw InvalidArgument("size mismatch (got input: " + shape_text(b.dims(input)) +
                          ", target: " + shape_text(b.dims(target)) + ")");
  }
  const int64_t classes = b.dims(input)[rank - 1];
  if (weight && b.type(*weight).numel() != classes) {
    throw InvalidArgument(
        "weight tensor should be defined either for all " + std::to_string(classes) +
        " classes or no classes but got weight tensor of shape: " + shape_text(b.dims(*weight)));
  }
}

void check_nll2d_shapes(Builder& b, Value input, Value target, std::optional<Value> weight) {
  if (b.rank(input) != 4) {
    throw InvalidArgument(
        "only batches of spatial inputs supported (4D tensors), but got input of dimension: " +
        std::to_string(b.rank(input)));
  }
  if (b.rank(target) != 3) {
    throw InvalidArgument(
        "only batches of spatial targets supported (3D tensors) but got targets of dimension: " +
        std::to_string(b.rank(target)));
  }
  const auto& in = b.dims(input);
  const auto& t = b.dims(target);
  if (in[0] != t[0] || in[2] != t[1] || in[3] != t[2]) {
    throw InvalidArgument("size mismatch (got input: " + shape_text(in) +
                          " , target: " + shape_text(t));
  }
  if (weight && b.type(*weight).numel() != in[1])
    throw InvalidArgument("weight tensor should be defined either for all or no classes");
}

// (…, self, target, weight?, reduction, ignore_index) starting at `first`.
NllProblem make_nll_problem(Builder& b, const OpCall& call, size_t first, bool spatial) {
  Value input = call.tensor(first).value;
  Value target = call.tensor(first + 1).value;
  std::optional<Value> weight;
  if (auto w = call.optional_tensor(first + 2)) weight = w->value;
  check_nll_types(b, input, target, weight);
  if (spatial) {
    check_nll2d_shapes(b, input, target, weight);
  } else {
    check_nll_shapes(b, input, target, weight);
  }
  NllProblem p;
  p.type = b.element_type(input);
  p.ignore_index = call.int_at(first + 4);
  p.single_sample = b.rank(input) == 1;
  const ElementType acc = opmath_type(p.type);
  if (p.single_sample) {
    input = b.reshape(input, {1, b.dims(input)[0]});
    target = b.reshape(target, {1});
  }
  p.input = b.convert(input, acc);
  p.target = b.convert(target, ElementType::kS64);
  if (weight) p.weight = b.convert(b.reshape(*weight, {b.dims(input)[1]}), acc);
  return p;
}

// Broadcasts a (N, d...) per-sample value over the class dim of (N, C, d...).
Value along_classes(Builder& b, Value per_sample, const std::vector<int64_t>& input_dims) {
  std::vector<int64_t> mapping;
  for (int64_t d = 0; d < b.rank(per_sample); ++d) mapping.push_back(d == 0 ? 0 : d + 1);
  return b.broadcast_in_dim(per_sample, input_dims, mapping);
}

// Broadcasts the (C) weight over every sample of (N, C, d...).
Value weight_per_element(Builder& b, const NllProblem& p) {
  const std::vector<int64_t>& dims = b.dims(p.input);
  if (!p.weight) return b.splat(1, b.type(p.input));
  return b.broadcast_in_dim(*p.weight, dims, {1});
}

// True where the class is the sample's target and the target is not ignored.
Value target_mask(Builder& b, const NllProblem& p) {
  const std::vector<int64_t>& dims = b.dims(p.input);
  Value classes = b.iota(TensorType{ElementType::kS64, dims}, 1);
  Value is_target = b.compare(ComparisonDirection::kEQ, classes, along_classes(b, p.target, dims));
  Value ignored =
      broadcast_to(b, b.constant_int(p.ignore_index, ElementType::kS64), b.dims(p.target));
  Value kept = b.compare(ComparisonDirection::kNE, p.target, ignored);
  return b.binary(BinaryOp::kAnd, is_target, along_classes(b, kept, dims));
}

// Sum over the class dim of the masked values: picks each sample's entry.
Value pick(Builder& b, Value mask, Value values) {
  Value masked = b.select(mask, values, b.zeros(b.type(values)));
  const ElementType type = b.element_type(values);
  return b.reduce(masked, b.constant(0, type), {1},
                  [](Builder& rb, const std::vector<Value>& args) {
                    return std::vector<Value>{rb.add(args[0], args[1])};
                  });
}

std::vector<Value> nll_forward(Builder& b, const OpCall& call, bool spatial) {
  const NllProblem p = make_nll_problem(b, call, 0, spatial);
  // A target outside [0, C) matches no class, which would silently count as
  // a zero loss; CPU raises, so the program checks (ignore_index excepted).
  if (b.type(p.target).numel() > 0) {
    call.check_on_device(check_in_range(b, p.target, 0, b.dims(p.input)[1],
                                        CheckSite{CheckKind::kIndex, "Target {} is out of bounds."},
                                        p.ignore_index));
  }
  const int64_t reduction = call.int_at(3);
  Value mask = target_mask(b, p);
  Value class_weights = weight_per_element(b, p);
  Value weights = pick(b, mask, class_weights);  // (N, d...)
  Value losses = b.unary(UnaryOp::kNegate, pick(b, mask, b.mul(p.input, class_weights)));
  Value total_weight = sum_all(b, weights);
  Value output;
  if (reduction == static_cast<int64_t>(Reduction::kNone)) {
    output = p.single_sample ? b.reshape(losses, {}) : losses;
    // Batched inputs report no total weight for 'none'; a single sample does.
    if (!p.single_sample) total_weight = b.constant(0, b.element_type(total_weight));
  } else {
    output = sum_all(b, losses);
    if (reduction == static_cast<int64_t>(Reduction::kMean)) output = b.div(output, total_weight);
  }
  return {b.convert(output, p.type), b.convert(total_weight, p.type)};
}

// (grad_output, self, target, weight?, reduction, ignore_index, total_weight)
std::vector<Value> nll_backward(Builder& b, const OpCall& call, bool spatial) {
  const NllProblem p = make_nll_problem(b, call, 1, spatial);
  const int64_t reduction = call.int_at(4);
  const ElementType acc = b.element_type(p.input);
  const Value grad_output = call.tensor(0).value;
  const Value total_weight = call.tensor(6).value;
  if (b.type(total_weight).numel() != 1) {
    throw InvalidArgument("expected total_weight to be a  single element tensor, got: " +
                          shape_text(b.dims(total_weight)) + " (" +
                          std::to_string(b.type(total_weight).numel()) + " elements)");
  }
  const std::vector<int64_t>& dims = b.dims(p.input);
  Value grad;
  if (reduction == static_cast<int64_t>(Reduction::kNone) && !p.single_sample) {
    if (b.dims(grad_output) != b.dims(p.target)) {
      throw InvalidArgument(
          "Expected a tensor of dimension " + std::to_string(b.rank(p.target)) +
          " and tensor.size[0] == " + std::to_string(b.dims(p.target)[0]) + " but got: dimension " +
          std::to_string(b.rank(grad_output)) + " and tensor.size[0] = " +
          (b.rank(grad_output) > 0 ? std::to_string(b.dims(grad_output)[0]) : "1"));
    }
    grad = along_classes(b, b.convert(grad_output, acc), dims);
  } else {
    if (b.type(grad_output).numel() != 1) {
      throw InvalidArgument("Expected a single element grad_output tensor, but got: " +
                            shape_text(b.dims(grad_output)));
    }
    Value scale = b.reshape(b.convert(grad_output, acc), {});
    if (reduction == static_cast<int64_t>(Reduction::kMean))
      scale = b.div(scale, b.reshape(b.convert(total_weight, acc), {}));
    grad = broadcast_to(b, scale, dims);
  }
  Value mask = target_mask(b, p);
  Value values = b.unary(UnaryOp::kNegate, b.mul(weight_per_element(b, p), grad));
  Value grad_input = b.select(mask, values, b.zeros(b.type(values)));
  if (p.single_sample) grad_input = b.reshape(grad_input, {dims[1]});
  return {b.convert(grad_input, p.type)};
}

std::vector<Value> nll_loss_forward_rule(Builder& b, const OpCall& call) {
  return nll_forward(b, call, false);
}
std::vector<Value> nll_loss2d_forward_rule(Builder& b, const OpCall& call) {
  return nll_forward(b, call, true);
}
std::vector<Value> nll_loss_backward_rule(Builder& b, const OpCall& call) {
  return nll_backward(b, call, false);
}
std::vector<Value> nll_loss2d_backward_rule(Builder& b, const OpCall& call) {
  return nll_backward(b, call, true);
}

// --- mse_loss ---------------------------------------------------------------------

std::vector<Value> mse_loss_rule(Builder& b, const OpCall& call) {
  const TensorArg self = call.tensor(0), target = call.tensor(1);
  const ElementType type = result_type(b, {self, target}, call.default_float);
  check_floating("mse_cpu", type);
  const int64_t reduction = call.size() > 2 ? call.int_at(2) : 1;
  auto operands = promote_and_broadcast(b, {self.value, target.value}, opmath_type(type));
  Value diff = b.sub(operands[0], operands[1]);
  return {b.convert(apply_reduction(b, b.mul(diff, diff), reduction), type)};
}

// 2 * (self - target) * grad, over numel(self) for 'mean' (PyTorch divides by
// the input's count even when target broadcasts it larger).
std::vector<Value> mse_loss_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value, self = call.tensor(1).value,
              target = call.tensor(2).value;
  const ElementType type = b.element_type(self);
  check_floating("mse_backward_cpu_out", type);
  const int64_t reduction = call.int_at(3);
  const double norm = reduction == static_cast<int64_t>(Reduction::kMean)
                          ? 2.0 / static_cast<double>(b.type(self).numel())
                          : 2.0;
  auto operands = promote_and_broadcast(b, {self, target, grad}, opmath_type(type));
  Value result =
      b.mul(b.mul(fill_like(b, operands[0], norm), b.sub(operands[0], operands[1])), operands[2]);
  return {b.convert(result, type)};
}

// --- smooth L1 and Huber ----------------------------------------------------------

void check_same_dtype(Builder& b, Value expected_like, Value actual) {
  const ElementType expected = b.element_type(expected_like), found = b.element_type(actual);
  if (expected != found)
    throw InvalidArgument("Found dtype " + name_of(found) + " but expected " + name_of(expected));
}

// Both are quadratic near zero and linear beyond a threshold t:
// smooth_l1 = |d| < t ? d^2 / (2t) : |d| - t/2 (plain L1 for t = 0),
// huber     = |d| < t ? d^2 / 2    : t * (|d| - t/2).
// smooth_l1 promotes its operands; huber keeps self's dtype.
Value quadratic_then_linear(Builder& b, Value diff, double threshold, bool huber) {
  Value magnitude = b.unary(UnaryOp::kAbs, diff);
  if (!huber && threshold == 0) return magnitude;
  Value linear = b.sub(magnitude, fill_like(b, diff, threshold / 2));
  if (huber) linear = b.mul(fill_like(b, diff, threshold), linear);
  Value quadratic = b.mul(fill_like(b, diff, 0.5), b.mul(diff, diff));
  if (!huber) quadratic = b.div(quadratic, fill_like(b, diff, threshold));
  Value inside = b.compare(ComparisonDirection::kLT, magnitude, fill_like(b, diff, threshold));
  return b.select(inside, quadratic, linear);
}

std::vector<Value> robust_loss(Builder& b, const OpCall& call, bool huber) {
  const TensorArg self = call.tensor(0), target = call.tensor(1);
  const int64_t reduction = call.size() > 2 ? call.int_at(2) : 1;
  const double threshold = call.size() > 3 ? call.double_at(3) : 1.0;
  if (huber && threshold <= 0)
    throw InvalidArgument("huber_loss does not support non-positive values for delta.");
  if (!huber && threshold < 0)
    throw InvalidArgument("smooth_l1_loss does not support negative values for beta.");
  const ElementType type =
      huber ? b.element_type(self.value) : result_type(b, {self, target}, call.default_float);
  check_floating(huber ? "huber_cpu" : "smooth_l1_cpu", type);
  auto operands = promote_and_broadcast(b, {self.value, target.value}, opmath_type(type));
  Value loss = quadratic_then_linear(b, b.sub(operands[0], operands[1]), threshold, huber);
  return {b.convert(apply_reduction(b, loss, reduction), type)};
}

std::vector<Value> smooth_l1_loss_rule(Builder& b, const OpCall& call) {
  return robust_loss(b, call, false);
}
std::vector<Value> huber_loss_rule(Builder& b, const OpCall& call) {
  return robust_loss(b, call, true);
}

// (grad_output, self, target, reduction, threshold): the slope of the loss,
// d/t inside the threshold (huber: d) and sign(d) beyond it (huber: t*sign(d)).
std::vector<Value> robust_loss_backward(Builder& b, const OpCall& call, bool huber) {
  const Value grad = call.tensor(0).value, self = call.tensor(1).value,
              target = call.tensor(2).value;
  const ElementType type = b.element_type(self);
  check_floating(huber ? "huber_backward_cpu_out" : "smooth_l1_backward_cpu_out", type);
  // PyTorch's huber backward wants one dtype; smooth_l1's converts to self's.
  if (huber) {
    check_same_dtype(b, self, target);
    check_same_dtype(b, self, grad);
  }
  const int64_t reduction = call.int_at(3);
  const double threshold = call.double_at(4);
  auto operands = promote_and_broadcast(b, {self, target, grad}, opmath_type(type));
  Value diff = b.sub(operands[0], operands[1]);
  Value bound = fill_like(b, diff, huber ? threshold : 1.0);
  Value slope = b.div(diff, fill_like(b, diff, huber || threshold == 0 ? 1.0 : threshold));
  if (!huber && threshold == 0) slope = b.unary(UnaryOp::kSign, diff);
  // Beyond the threshold the slope is +-bound; clamping d/t to [-bound, bound]
  // gives exactly that since |d/t| >= 1 (huber: |d| >= t) there.
  slope = b.clamp(b.unary(UnaryOp::kNegate, bound), slope, bound);
  Value result = b.mul(slope, operands[2]);
  if (reduction == static_cast<int64_t>(Reduction::kMean))
    result = b.div(result, fill_like(b, result, static_cast<double>(b.type(self).numel())));
  return {b.convert(result, type)};
}

std::vector<Value> smooth_l1_loss_backward_rule(Builder& b, const OpCall& call) {
  return robust_loss_backward(b, call, false);
}
std::vector<Value> huber_loss_backward_rule(Builder& b, const OpCall& call) {
  return robust_loss_backward(b, call, true);
}

// --- binary cross entropy ------------------------------------------------------------

// -w * (t * max(log(x), -100) + (1 - t) * max(log1p(-x), -100)); the clamp at
// -100 keeps x = 0 or 1 finite, as PyTorch does.
std::vector<Value> binary_cross_entropy_rule(Builder& b, const OpCall& call) {
  const Value self = call.tensor(0).value, target = call.tensor(1).value;
  const ElementType type = b.element_type(self);
  check_floating("binary_cross_entropy", type);
  check_same_dtype(b, self, target);
  const std::optional<TensorArg> weight = call.size() > 2 ? call.optional_tensor(2) : std::nullopt;
  const int64_t reduction = call.size() > 3 ? call.int_at(3) : 1;
  const ElementType acc = opmath_type(type);
  std::vector<Value> operands = {self, target};
  if (weight) operands.push_back(weight->value);
  operands = promote_and_broadcast(b, operands, acc);
  const Value x = operands[0], t = operands[1];
  Value floor = fill_like(b, x, -100);
  Value log_x = b.max(b.unary(UnaryOp::kLog, x), floor);
  Value log_1mx = b.max(b.unary(UnaryOp::kLog1p, b.unary(UnaryOp::kNegate, x)), floor);
  // (t - 1) * log(1 - x) - t * log(x)
  Value loss = b.sub(b.mul(b.sub(t, fill_like(b, t, 1)), log_1mx), b.mul(t, log_x));
  if (weight) loss = b.mul(loss, operands[2]);
  return {b.convert(apply_reduction(b, loss, reduction), type)};
}

// grad * w * (x - t) / max(x * (1 - x), 1e-12), over numel for 'mean'.
std::vector<Value> binary_cross_entropy_backward_rule(Builder& b, const OpCall& call) {
  const Value grad = call.tensor(0).value, self = call.tensor(1).value,
              target = call.tensor(2).value;
  const ElementType type = b.element_type(self);
  check_floating("binary_cross_entropy_backward", type);
  check_same_dtype(b, grad, self);
  check_same_dtype(b, self, target);
  const std::optional<TensorArg> weight = call.size() > 3 ? call.optional_tensor(3) : std::nullopt;
  const int64_t reduction = call.size() > 4 ? call.int_at(4) : 1;
  const ElementType acc = opmath_type(type);
  std::vector<Value> operands = {self, target, grad};
  if (weight) operands.push_back(weight->value);
  operands = promote_and_broadcast(b, operands, acc);
  const Value x = operands[0], t = operands[1], g = operands[2];
  Value denominator = b.max(b.mul(x, b.sub(fill_like(b, x, 1), x)), fill_like(b, x, 1e-12));
  Value result = b.div(b.mul(g, b.sub(x, t)), denominator);
  if (weight) result = b.mul(result, operands[3]);
  if (reduction == static_cast<int64_t>(Reduction::kMean))
    result = b.div(result, fill_like(b, result, static_cast<double>(b.type(self).numel())));
  return {b.convert(result, type)};
}

// (1 - t) * x - log_sigmoid(x) * (1 + (pos_weight - 1) * t), times weight, with
// log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) (stable for large |x|).
std::vector<Value> binary_cross_entropy_with_logits_rule(Builder& b, const OpCall& call) {
  const TensorArg self = call.tensor(0), target = call.tensor(1);
  const ElementType type = result_type(b, {self, target}, call.default_float);
  check_floating("log_sigmoid_cpu", type);
  const std::optional<TensorArg> weight = call.size() > 2 ? call.optional_tensor(2) : std::nullopt;
  const std::optional<TensorArg> pos_weight =
      call.size() > 3 ? call.optional_tensor(3) : std::nullopt;
  const int64_t reduction = call.size() > 4 ? call.int_at(4) : 1;
  const ElementType acc = opmath_type(type);
  std::vector<Value> operands = {self.value, target.value};
  if (weight) operands.push_back(weight->value);
  if (pos_weight) operands.push_back(pos_weight->value);
  operands = promote_and_broadcast(b, operands, acc);
  const Value x = operands[0], t = operands[1];
  Value one = fill_like(b, x, 1);
  Value log_sigmoid =
      b.sub(b.min(x, b.zeros(b.type(x))),
            b.unary(UnaryOp::kLog1p,
                    b.unary(UnaryOp::kExp, b.unary(UnaryOp::kNegate, b.unary(UnaryOp::kAbs, x)))));
  if (pos_weight) {
    Value pw = operands[weight ? 3 : 2];
    log_sigmoid = b.mul(log_sigmoid, b.add(b.mul(b.sub(pw, one), t), one));
  }
  Value loss = b.sub(b.mul(b.sub(one, t), x), log_sigmoid);
  if (weight) loss = b.mul(loss, operands[2]);
  return {b.convert(apply_reduction(b, loss, reduction), type)};
}

}  // namespace

void add_softmax_loss_rules(RuleTable& table) {
  table.add("_softmax", {&softmax_rule, {}});
  table.add("_log_softmax", {&log_softmax_rule, {}});
  table.add("_softmax_backward_data", {&softmax_backward_rule, {}});
  table.add("_log_softmax_backward_data", {&log_softmax_backward_rule, {}});
  table.add("nll_loss_forward", {&nll_loss_forward_rule, {}});
  table.add("nll_loss_backward", {&nll_loss_backward_rule, {}});
  table.add("nll_loss2d_forward", {&nll_loss2d_forward_rule, {}});
  table.add("nll_loss2d_backward", {&nll_loss2d_backward_rule, {}});
  table.add("mse_loss", {&mse_loss_rule, {}});
  table.add("mse_loss_backward", {&mse_loss_backward_rule, {}});
  table.add("smooth_l1_loss", {&smooth_l1_loss_rule, {}});
  table.add("smooth_l1_loss_backward", {&smooth_l1_loss_backward_rule, {}});
  table.add("huber_loss", {&huber_loss_rule, {}});
  table.add("huber_loss_backward", {&huber_loss_backward_rule, {}});
  table.add("binary_cross_entropy", {&binary_cross_entropy_rule, {}});
  table.add("binary_cross_entropy_backward", {&binary_cross_entropy_backward_rule, {}});
  table.add("binary_cross_entropy_with_logits", {&binary_cross_entropy_with_logits_rule, {}});
}

}  // namespace torch_pjrt::lowering
