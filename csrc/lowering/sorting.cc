// Orderings along one dim: sort, topk, kthvalue, median, nanmedian, mode.
//
// All but kthvalue go through one stable sort that orders NaN above every
// number, the order PyTorch's CPU kernels use; ties keep their input order,
// which is what CPU gives for stable sorts and for median (whose selection
// breaks ties by index). kthvalue replays CPU's own quickselect, so that it
// picks the same index among equal values. CPU's topk and unstable sort use
// the C++ library's std::nth_element / std::sort, whose order among equal
// values has no simpler rule; their values agree.
#include <cmath>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/prefix_scan.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::BinaryOp;
using stablehlo::ComparisonDirection;
using stablehlo::UnaryOp;

void reject_complex(Builder& b, Value x, std::string_view kernel) {
  if (stablehlo::is_complex(b.element_type(x))) throw_no_kernel(kernel, b.element_type(x));
}

Value is_nan(Builder& b, Value x) { return b.compare(ComparisonDirection::kNE, x, x); }

struct Sorted {
  Value values;   // the input's type
  Value indices;  // s64
};

// Stable sort of x along dim (x has rank >= 1).
Sorted sort_along(Builder& b, Value x, int64_t dim, bool descending) {
  const ElementType type = b.element_type(x);
  Value keys = orderable(b, x);
  Value index = b.iota(TensorType{ElementType::kS64, b.dims(x)}, dim);
  if (b.type(x).numel() == 0) return {x, index};
  auto sorted = b.sort({keys, index}, dim, /*is_stable=*/true,
                       [descending](Builder& r, const std::vector<Value>& a) {
                         return std::vector<Value>{descending ? nan_last_less(r, a[1], a[0])
                                                              : nan_last_less(r, a[0], a[1])};
                       });
  return {b.convert(sorted[0], type), sorted[1]};
}

// x viewed with at least one dim: a 0-d tensor sorts as one element.
struct AtLeast1d {
  Value x;
  int64_t dim;
  bool was_scalar;
};

AtLeast1d at_least_1d(Builder& b, Value x, int64_t dim) {
  const int64_t d = wrap_dim(dim, b.rank(x));
  if (b.rank(x) > 0) return {x, d, false};
  return {b.reshape(x, {1}), 0, true};
}

Value slice_along(Builder& b, Value x, int64_t dim, int64_t start, int64_t limit) {
  std::vector<int64_t> lo(b.rank(x), 0), hi = b.dims(x);
  lo[dim] = start;
  hi[dim] = limit;
  return b.slice(x, lo, hi);
}

// The reduced result [.., 1, ..] shaped as the op returns it.
Value finish_reduced(Builder& b, Value v, const std::vector<int64_t>& input_dims, int64_t dim,
                     bool keepdim, bool was_scalar) {
  if (was_scalar) return b.reshape(v, {});
  if (keepdim) return v;
  std::vector<int64_t> shape;
  for (size_t d = 0; d < input_dims.size(); ++d)
    if (static_cast<int64_t>(d) != dim) shape.push_back(input_dims[d]);
  return b.reshape(v, shape);
}

// Elements of v at a per-row position (pos has v's shape with 1 along dim).
Value pick_along(Builder& b, Value v, int64_t dim, Value pos) {
  const std::vector<int64_t>& dims = b.dims(v);
  Value hit = b.compare(ComparisonDirection::kEQ, b.iota(TensorType{ElementType::kS64, dims}, dim),
                        broadcast_to(b, pos, dims));
  // One hit per row: the reduction keeps the hit element itself (-0.0 and NaN
  // included), where a masked sum would not.
  const ElementType type = b.element_type(v);
  auto picked = b.reduce(
      {v, hit}, {b.constant(0, type), b.constant_int(0, ElementType::kPred)}, {dim},
      [](Builder& r, const std::vector<Value>& a) {
        return std::vector<Value>{r.select(a[1], a[0], a[2]), r.binary(BinaryOp::kOr, a[1], a[3])};
      });
  std::vector<int64_t> kept = dims;
  kept[dim] = 1;
  return b.reshape(picked[0], kept);
}

// --- sort, topk -----------------------------------------------------------------

// sort(self, dim, descending) and sort.stable(self, *, stable?, dim, descending).
std::vector<Value> sort_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  reject_complex(b, x, "sort");
  const size_t first = std::holds_alternative<int64_t>(call.args[1]) ? 1 : 2;
  const AtLeast1d in = at_least_1d(b, x, call.int_at(first));
  Sorted s = sort_along(b, in.x, in.dim, call.bool_at(first + 1));
  if (in.was_scalar) return {x, b.constant_int(0, ElementType::kS64)};
  return {s.values, s.indices};
}

// topk(self, k, dim, largest, sorted): the results are always sorted.
std::vector<Value> topk_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  if (b.element_type(x) == ElementType::kPred)
    throw InvalidArgument("topk does not support bool dtypes on CPU");
  reject_complex(b, x, "topk_cpu");
  const int64_t k = call.int_at(1);
  const AtLeast1d in = at_least_1d(b, x, call.int_at(2));
  const int64_t size = b.dims(in.x)[in.dim];
  if (k < 0 || k > size) throw InvalidArgument("selected index k out of range");
  // A 0-d tensor is its own top element, even for k = 0 (as on CPU).
  if (in.was_scalar) return {x, b.constant_int(0, ElementType::kS64)};
  Sorted s = sort_along(b, in.x, in.dim, /*descending=*/call.bool_at(3));
  return {slice_along(b, s.values, in.dim, 0, k), slice_along(b, s.indices, in.dim, 0, k)};
}

// --- kthvalue, median, nanmedian --------------------------------------------------

// The sorted element at a per-row position, with its input index.
std::vector<Value> select_sorted(Builder& b, const Sorted& s, int64_t dim, Value pos,
                                 const std::vector<int64_t>& input_dims, bool keepdim,
                                 bool was_scalar) {
  return {
      finish_reduced(b, pick_along(b, s.values, dim, pos), input_dims, dim, keepdim, was_scalar),
      finish_reduced(b, pick_along(b, s.indices, dim, pos), input_dims, dim, keepdim, was_scalar)};
}

Value splat_position(Builder& b, int64_t pos, const std::vector<int64_t>& kept) {
  return b.splat(static_cast<double>(pos), TensorType{ElementType::kS64, kept});
}

std::vector<int64_t> kept_shape(Builder& b, Value x, int64_t dim) {
  std::vector<int64_t> kept = b.dims(x);
  kept[dim] = 1;
  return kept;
}

void check_reduced_dim_nonempty(std::string_view op, const std::vector<int64_t>& dims,
                                int64_t dim) {
  if (!dims.empty() && dims[dim] == 0)
    throw IndexOutOfRange(std::string(op) + "(): Expected reduction dim " + std::to_string(dim) +
                          " to have non-zero size.");
}

// --- kthvalue: CPU's quickselect, replayed --------------------------------------
//
// CPU's kthvalue runs Sedgewick's quickselect (median-of-three pivot, Hoare
// partition) on each row, and the index it returns among equal values is
// whichever that sequence of swaps leaves at position k - 1. The program runs
// the same sequence for every row at once: each row is a small state machine
// (which step it is at, its bounds L and R, the scan positions i and j and the
// pivot), and every loop iteration advances each row by one step of its own.

enum QuickselectPhase : int32_t { kPick = 0, kScanUp = 1, kScanDown = 2, kDone = 3 };

// Rows flattened into one vector; a row's element p is at row * n + p.
class RowMajorRows {
 public:
  RowMajorRows(Builder& b, int64_t rows, int64_t n) : b_(b), rows_(rows), n_(n) {}

  Value flat_position(Value pos) {
    Value clamped = b_.clamp(splat(0), pos, splat(n_ - 1));
    Value row = b_.iota(TensorType{ElementType::kS64, {rows_}}, 0);
    return b_.add(b_.mul(row, splat(n_)), clamped);
  }

  // Every row's element at each of `positions`, with one gather.
  std::vector<Value> read(Value flat, const std::vector<Value>& positions) {
    stablehlo::GatherDimensions dn;
    dn.collapsed_slice_dims = {0};
    dn.start_index_map = {0};
    dn.index_vector_dim = 1;
    Value all = b_.gather(flat, stacked(positions), dn, {1});
    std::vector<Value> parts;
    for (size_t p = 0; p < positions.size(); ++p) {
      const auto start = static_cast<int64_t>(p) * rows_;
      parts.push_back(b_.slice(all, {start}, {start + rows_}));
    }
    return parts;
  }
  Value read(Value flat, Value pos) { return read(flat, std::vector<Value>{pos})[0]; }

  // Writes values[p] at positions[p] of every row, with one scatter. Where two
  // positions of a row coincide, both writes carry the same value.
  Value write(Value flat, const std::vector<Value>& positions, const std::vector<Value>& values) {
    stablehlo::ScatterDimensions dn;
    dn.inserted_window_dims = {0};
    dn.scatter_dims_to_operand_dims = {0};
    dn.index_vector_dim = 1;
    return b_.scatter(
        flat, stacked(positions), b_.concatenate(values, 0), dn,
        [](Builder&, const std::vector<Value>& a) { return std::vector<Value>{a[1]}; });
  }

  // Swaps positions p and q of every row where `enabled` (values and indices).
  void swap(Value& values, Value& indices, Value p, Value q, Value enabled) {
    for (Value* flat : {&values, &indices}) {
      std::vector<Value> at = read(*flat, {p, q});
      *flat = write(*flat, {p, q},
                    {b_.select(enabled, at[1], at[0]), b_.select(enabled, at[0], at[1])});
    }
  }

  Value splat(int64_t v) { return b_.splat(static_cast<double>(v), {ElementType::kS64, {rows_}}); }

 private:
  Value stacked(const std::vector<Value>& positions) {
    std::vector<Value> flat;
    for (Value p : positions) flat.push_back(flat_position(p));
    const auto count = static_cast<int64_t>(positions.size());
    return b_.reshape(count == 1 ? flat[0] : b_.concatenate(flat, 0), {count * rows_, 1});
  }

  Builder& b_;
  int64_t rows_;
  int64_t n_;
};

// x > y with NaN above every number (CPU's gt_or_nan).
Value greater_or_nan(Builder& b, Value x, Value y) { return nan_last_less(b, y, x); }

// For each row of x [rows, n], the element CPU's quickselect leaves at
// position k and its index: {values [rows], indices [rows]}.
std::vector<Value> quickselect_rows(Builder& b, Value x, int64_t k) {
  const int64_t rows = b.dims(x)[0];
  const int64_t n = b.dims(x)[1];
  const ElementType type = b.element_type(x);
  Value values = b.reshape(x, {rows * n});
  Value indices = b.reshape(b.iota(TensorType{ElementType::kS64, {rows, n}}, 1), {rows * n});
  const TensorType row_s64{ElementType::kS64, {rows}};
  const TensorType row_phase{ElementType::kS32, {rows}};
  Value zero = b.zeros(row_s64);
  std::vector<Value> initial = {
      values, indices, b.zeros(row_phase),     zero, b.splat(static_cast<double>(n - 1), row_s64),
      zero,   zero,    b.zeros({type, {rows}})};
  auto state = b.while_loop(
      initial,
      [row_phase](Builder& r, const std::vector<Value>& s) {
        Value running = r.compare(ComparisonDirection::kNE, s[2],
                                  r.splat(static_cast<double>(kDone), row_phase));
        Value any = r.reduce(running, r.constant_int(0, ElementType::kPred), {0},
                             [](Builder& q, const std::vector<Value>& a) {
                               return std::vector<Value>{q.binary(BinaryOp::kOr, a[0], a[1])};
                             });
        return std::vector<Value>{any};
      },
      [rows, n, k, row_phase](Builder& r, const std::vector<Value>& s) {
        RowMajorRows m(r, rows, n);
        Value vals = s[0], idx = s[1], phase = s[2], L = s[3], R = s[4], i = s[5], j = s[6],
              piv = s[7];
        auto is_phase = [&](QuickselectPhase p) {
          return r.compare(ComparisonDirection::kEQ, phase,
                           r.splat(static_cast<double>(p), row_phase));
        };
        auto set_phase = [&](Value where, QuickselectPhase p) {
          phase = r.select(where, r.splat(static_cast<double>(p), row_phase), phase);
        };
        auto both = [&](Value a, Value c) { return r.binary(BinaryOp::kAnd, a, c); };
        auto gt_at = [&](Value p, Value q) {
          std::vector<Value> at = m.read(vals, {p, q});
          return greater_or_nan(r, at[0], at[1]);
        };
        Value one = m.splat(1);

        // Pick: one element is done; two are ordered; more get a median-of-three
        // pivot at L, with L + 1 and R as the partition's sentinels.
        Value pick = is_phase(kPick);
        Value L1 = r.add(L, one);
        Value single = both(pick, r.compare(ComparisonDirection::kLE, R, L));
        Value pair = both(pick, r.compare(ComparisonDirection::kEQ, R, L1));
        Value more = both(pick, r.compare(ComparisonDirection::kGT, R, L1));
        Value middle = r.binary(BinaryOp::kShiftRightArithmetic, r.add(L, R), one);
        {
          // The median of three, worked out on the four elements read at once:
          // the middle one moves to L + 1, then three compare-and-swaps order
          // (L + 1, R), (L, R), (L + 1, L).
          std::vector<Value> v = m.read(vals, {L, L1, middle, R});
          std::vector<Value> x = m.read(idx, {L, L1, middle, R});
          struct Slot {
            Value value, index;
          };
          Slot low{v[0], x[0]}, next{v[2], x[2]}, high{v[3], x[3]};
          auto order = [&](Slot& first, Slot& second) {
            Value out_of_order = greater_or_nan(r, first.value, second.value);
            Slot a = first, c = second;
            first = {r.select(out_of_order, c.value, a.value),
                     r.select(out_of_order, c.index, a.index)};
            second = {r.select(out_of_order, a.value, c.value),
                      r.select(out_of_order, a.index, c.index)};
          };
          order(next, high);
          order(low, high);
          order(next, low);
          // Rows not picking a pivot write back what they read. The middle
          // element's write goes first: middle may be L + 1.
          vals = m.write(vals, {middle}, {r.select(more, v[1], v[2])});
          idx = m.write(idx, {middle}, {r.select(more, x[1], x[2])});
          vals = m.write(vals, {L, L1, R},
                         {r.select(more, low.value, v[0]), r.select(more, next.value, v[1]),
                          r.select(more, high.value, v[3])});
          idx = m.write(idx, {L, L1, R},
                        {r.select(more, low.index, x[0]), r.select(more, next.index, x[1]),
                         r.select(more, high.index, x[3])});
          piv = r.select(more, low.value, piv);
        }
        m.swap(vals, idx, L, R, both(pair, gt_at(L, R)));
        i = r.select(more, L1, i);
        j = r.select(more, R, j);
        set_phase(r.binary(BinaryOp::kOr, single, pair), kDone);
        set_phase(more, kScanUp);

        // Scan up: i moves past elements below the pivot.
        Value up = is_phase(kScanUp);
        i = r.select(up, r.add(i, one), i);
        set_phase(both(up, r.unary(UnaryOp::kNot, greater_or_nan(r, piv, m.read(vals, i)))),
                  kScanDown);

        // Scan down: j moves past elements above the pivot; then either swap
        // the out-of-place pair and scan on, or end the partition.
        Value down = is_phase(kScanDown);
        j = r.select(down, r.sub(j, one), j);
        Value stop = both(down, r.unary(UnaryOp::kNot, greater_or_nan(r, m.read(vals, j), piv)));
        Value crossed = both(stop, r.compare(ComparisonDirection::kLT, j, i));
        Value exchange = both(stop, r.compare(ComparisonDirection::kGE, j, i));
        // Both end in one swap: (i, j) to scan on, (L, j) to end the partition.
        m.swap(vals, idx, r.select(exchange, i, L), j, r.binary(BinaryOp::kOr, exchange, crossed));
        set_phase(exchange, kScanUp);
        Value kk = m.splat(k);
        L = r.select(both(crossed, r.compare(ComparisonDirection::kLE, j, kk)), i, L);
        R = r.select(both(crossed, r.compare(ComparisonDirection::kGE, j, kk)), r.sub(j, one), R);
        set_phase(crossed, kPick);
        return std::vector<Value>{vals, idx, phase, L, R, i, j, piv};
      });
  RowMajorRows m(b, rows, n);
  Value at_k = m.splat(k);
  return {m.read(state[0], at_k), m.read(state[1], at_k)};
}

// kthvalue(self, k, dim, keepdim): the k-th smallest (1-based).
std::vector<Value> kthvalue_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  if (type == ElementType::kPred || stablehlo::is_complex(type))
    throw_no_kernel("kthvalue_cpu", type);
  const int64_t k = call.int_at(1);
  const AtLeast1d in = at_least_1d(b, x, call.int_at(2));
  const bool keepdim = call.bool_at(3);
  const std::vector<int64_t> dims = b.dims(in.x);
  const int64_t size = dims[in.dim];
  if (k < 1 || k > size)
    throw InvalidArgument("kthvalue(): selected number k out of range for dimension " +
                          std::to_string(in.dim));
  // Rows along the last dim, in the order of the other dims.
  std::vector<int64_t> permutation, kept_dims;
  for (int64_t d = 0; d < b.rank(in.x); ++d)
    if (d != in.dim) {
      permutation.push_back(d);
      kept_dims.push_back(dims[d]);
    }
  permutation.push_back(in.dim);
  const int64_t rows = b.type(in.x).numel() / size;
  std::vector<int64_t> kept = dims;
  kept[in.dim] = 1;
  if (rows == 0) {
    Value none = b.reshape(slice_along(b, in.x, in.dim, 0, 1), kept);
    return {finish_reduced(b, none, dims, in.dim, keepdim, in.was_scalar),
            finish_reduced(b, b.convert(none, ElementType::kS64), dims, in.dim, keepdim,
                           in.was_scalar)};
  }
  Value as_rows = b.reshape(b.transpose(in.x, permutation), {rows, size});
  std::vector<Value> picked = quickselect_rows(b, as_rows, k - 1);
  return {finish_reduced(b, b.reshape(picked[0], kept), dims, in.dim, keepdim, in.was_scalar),
          finish_reduced(b, b.reshape(picked[1], kept), dims, in.dim, keepdim, in.was_scalar)};
}

// The position of the (nan)median in a NaN-last stable ascending sort: the
// lower middle of the numbers; for median, the first NaN when there is one.
Value median_position(Builder& b, Value x, int64_t dim, bool ignore_nan) {
  const int64_t n = b.dims(x)[dim];
  const std::vector<int64_t> kept = kept_shape(b, x, dim);
  if (!stablehlo::is_floating(b.element_type(x))) return splat_position(b, (n - 1) / 2, kept);
  Value nan_count = b.reshape(b.reduce(b.convert(is_nan(b, x), ElementType::kS64),
                                       b.constant_int(0, ElementType::kS64), {dim},
                                       [](Builder& r, const std::vector<Value>& a) {
                                         return std::vector<Value>{r.add(a[0], a[1])};
                                       }),
                              kept);
  Value numbers = b.sub(splat_position(b, n, kept), nan_count);
  Value zero = splat_position(b, 0, kept);
  Value lower_middle =
      b.div(b.max(b.sub(numbers, splat_position(b, 1, kept)), zero), splat_position(b, 2, kept));
  if (ignore_nan) return lower_middle;
  Value has_nan = b.compare(ComparisonDirection::kGT, nan_count, zero);
  return b.select(has_nan, numbers, lower_middle);
}

// median(self) / median.dim(self, dim, keepdim), and nanmedian's.
std::vector<Value> median_like(Builder& b, const OpCall& call, bool ignore_nan) {
  Value x = call.tensor(0).value;
  const ElementType type = b.element_type(x);
  const std::string op = ignore_nan ? "nanmedian" : "median";
  const bool whole = call.size() == 1;
  if (type == ElementType::kPred || stablehlo::is_complex(type))
    throw_no_kernel(whole ? op + "_cpu" : std::string(op) + "_out", type);
  if (whole) {
    const int64_t n = b.type(x).numel();
    if (n == 0) {
      // NaN, or what converting NaN to an integer gives on CPU (the lowest value).
      if (stablehlo::is_floating(type)) return {b.constant(NAN, type)};
      return {b.constant_int(type == ElementType::kS32   ? INT32_MIN
                             : type == ElementType::kS16 ? INT16_MIN
                             : type == ElementType::kS8  ? INT8_MIN
                             : type == ElementType::kU8  ? 0
                                                         : INT64_MIN,
                             type)};
    }
    Value flat = b.reshape(x, {n});
    Sorted s = sort_along(b, flat, 0, false);
    return {b.reshape(pick_along(b, s.values, 0, median_position(b, flat, 0, ignore_nan)), {})};
  }
  const AtLeast1d in = at_least_1d(b, x, call.int_at(1));
  check_reduced_dim_nonempty(op, b.dims(x), in.dim);
  Sorted s = sort_along(b, in.x, in.dim, false);
  return select_sorted(b, s, in.dim, median_position(b, in.x, in.dim, ignore_nan), b.dims(in.x),
                       call.bool_at(2), in.was_scalar);
}

std::vector<Value> median_rule(Builder& b, const OpCall& call) {
  return median_like(b, call, false);
}
std::vector<Value> nanmedian_rule(Builder& b, const OpCall& call) {
  return median_like(b, call, true);
}

// --- mode -----------------------------------------------------------------------

// mode(self, dim, keepdim): the most frequent value, the smallest among equally
// frequent ones, with the last index at which it occurs (as CPU's sort of a
// short row gives).
std::vector<Value> mode_rule(Builder& b, const OpCall& call) {
  Value x = call.tensor(0).value;
  reject_complex(b, x, "mode_cpu");
  const AtLeast1d in = at_least_1d(b, x, call.int_at(1));
  const bool keepdim = call.bool_at(2);
  check_reduced_dim_nonempty("mode", b.dims(x), in.dim);
  const std::vector<int64_t> dims = b.dims(in.x);
  const int64_t n = dims[in.dim];
  const std::vector<int64_t> kept = kept_shape(b, in.x, in.dim);
  Sorted s = sort_along(b, in.x, in.dim, false);
  if (b.type(in.x).numel() == 0) {
    return {
        finish_reduced(b, slice_along(b, s.values, in.dim, 0, 0), dims, in.dim, keepdim, false),
        finish_reduced(b, slice_along(b, s.indices, in.dim, 0, 0), dims, in.dim, keepdim, false)};
  }
  Value keys = orderable(b, s.values);
  Value position = b.iota(TensorType{ElementType::kS64, dims}, in.dim);
  // A run of equal values starts where the value differs from the one before.
  Value previous = b.concatenate(
      {slice_along(b, keys, in.dim, 0, 1), slice_along(b, keys, in.dim, 0, n - 1)}, in.dim);
  Value starts = b.binary(BinaryOp::kOr, b.compare(ComparisonDirection::kNE, keys, previous),
                          b.compare(ComparisonDirection::kEQ, position, b.zeros(b.type(position))));
  Value run_start = prefix_scan(
      b, {b.select(starts, position, b.zeros(b.type(position)))}, in.dim,
      [](Builder& r, const std::vector<Value>& earlier, const std::vector<Value>& later) {
        return std::vector<Value>{r.max(earlier[0], later[0])};
      })[0];
  // The run's length at its last element; the smallest value wins ties.
  Value next = b.concatenate(
      {slice_along(b, keys, in.dim, 1, n), slice_along(b, keys, in.dim, n - 1, n)}, in.dim);
  Value last = splat_position(b, n - 1, dims);
  Value ends = b.binary(BinaryOp::kOr, b.compare(ComparisonDirection::kNE, keys, next),
                        b.compare(ComparisonDirection::kEQ, position, last));
  Value length = b.select(ends, b.sub(position, run_start), splat_position(b, -1, dims));
  auto best = b.reduce(
      {length, position},
      {b.constant_int(-2, ElementType::kS64), b.constant_int(n, ElementType::kS64)}, {in.dim},
      [](Builder& r, const std::vector<Value>& a) {
        Value longer = r.compare(ComparisonDirection::kGT, a[0], a[2]);
        Value same = r.compare(ComparisonDirection::kEQ, a[0], a[2]);
        Value earlier = r.compare(ComparisonDirection::kLT, a[1], a[3]);
        Value lhs = r.binary(BinaryOp::kOr, longer, r.binary(BinaryOp::kAnd, same, earlier));
        return std::vector<Value>{r.select(lhs, a[0], a[2]), r.select(lhs, a[1], a[3])};
      });
  return select_sorted(b, s, in.dim, b.reshape(best[1], kept), dims, keepdim, in.was_scalar);
}

}  // namespace

void add_sorting_rules(RuleTable& table) {
  table.add("sort", {&sort_rule, {}});
  table.add("topk", {&topk_rule, {}});
  table.add("kthvalue", {&kthvalue_rule, {}});
  table.add("median", {&median_rule, {}});
  table.add("nanmedian", {&nanmedian_rule, {}});
  table.add("mode", {&mode_rule, {}});
}

}  // namespace torch_pjrt::lowering
