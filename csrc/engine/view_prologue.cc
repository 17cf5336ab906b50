#include "engine/view_prologue.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace torch_pjrt::engine {
namespace {

using stablehlo::Builder;
using stablehlo::BuildError;
using stablehlo::ElementType;
using stablehlo::TensorType;
using stablehlo::Value;

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

[[noreturn]] void fail(const std::string& message) {
  throw BuildError("view prologue: " + message);
}

std::string text(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "]";
}

std::string describe(const ViewLayout& v) {
  return std::string(stablehlo::short_name(v.element)) + " sizes " + text(v.sizes) + " strides " +
         text(v.strides) + " offset " + std::to_string(v.offset);
}

int64_t product(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

void check_layout(const ViewLayout& v) {
  if (v.sizes.size() != v.strides.size()) fail("sizes and strides differ in rank: " + describe(v));
  if (v.offset < 0) fail("negative offset: " + describe(v));
  for (size_t i = 0; i < v.sizes.size(); ++i) {
    if (v.sizes[i] < 0 || v.strides[i] < 0) fail("negative size or stride: " + describe(v));
  }
}

// ---------------------------------------------------------------------------
// Element reinterpretation. StableHLO cannot bitcast pred (no defined bit
// layout) nor between complex and real types, so both sides are first brought
// to a "plain" type that can: pred is stored by PyTorch as one byte 0/1 (u8),
// and a complex number is a pair of its real parts in memory.

ElementType plain_type(ElementType t) {
  if (t == ElementType::kPred) return ElementType::kU8;
  if (stablehlo::is_complex(t)) return stablehlo::real_part_type(t);
  return t;
}

int64_t lanes(ElementType t) { return stablehlo::is_complex(t) ? 2 : 1; }

std::vector<int64_t> with(std::vector<int64_t> dims, int64_t extra) {
  if (extra > 1) dims.push_back(extra);
  return dims;
}

// x: t[dims] -> plain(t)[dims] or, for complex, plain(t)[dims..., 2].
Value to_plain(Builder& b, Value x) {
  const TensorType t = b.type(x);
  if (t.element == ElementType::kPred) return b.convert(x, ElementType::kU8);
  if (!stablehlo::is_complex(t.element)) return x;
  std::vector<int64_t> one = t.dims;
  one.push_back(1);
  Value re = b.reshape(b.unary(stablehlo::UnaryOp::kReal, x), one);
  Value im = b.reshape(b.unary(stablehlo::UnaryOp::kImag, x), one);
  return b.concatenate({re, im}, t.rank());
}

// Inverse of to_plain: x has plain(to)[dims] (complex: [dims..., 2]).
Value from_plain(Builder& b, Value x, ElementType to) {
  if (to == ElementType::kPred) return b.convert(x, ElementType::kPred);
  if (!stablehlo::is_complex(to)) return x;
  std::vector<int64_t> dims = b.dims(x);
  const int64_t last = static_cast<int64_t>(dims.size()) - 1;
  std::vector<int64_t> start(dims.size(), 0), limit = dims;
  limit[last] = 1;
  Value re = b.slice(x, start, limit);
  start[last] = 1;
  limit[last] = 2;
  Value im = b.slice(x, start, limit);
  dims.pop_back();
  return b.binary(stablehlo::BinaryOp::kComplex, b.reshape(re, dims), b.reshape(im, dims));
}

// The type the layout work happens in: the view's element type when it equals
// the storage's, else the narrower plain type of the two, so every element of
// either side is a whole number of working elements and the storage never
// needs padding to a multiple of the wider width.
ElementType working_type(ElementType storage, ElementType view) {
  if (storage == view) return storage;
  const ElementType p = plain_type(storage), q = plain_type(view);
  return stablehlo::byte_width(p) <= stablehlo::byte_width(q) ? p : q;
}

// Working elements per element of `t`.
int64_t units(ElementType t, ElementType working) {
  if (t == working) return 1;
  return lanes(t) * stablehlo::byte_width(plain_type(t)) / stablehlo::byte_width(working);
}

// The storage value seen as working elements, in its natural row-major order.
struct Storage {
  Value value;                // working type, dims below
  std::vector<int64_t> dims;  // storage dims, then complex lanes, then bitcast ratio
  int64_t size = 0;           // number of working elements
};

Storage storage_in(Builder& b, Value storage, ElementType working) {
  const TensorType t = b.type(storage);
  if (t.element == working) return {storage, t.dims, t.numel()};
  Value x = to_plain(b, storage);
  const ElementType p = plain_type(t.element);
  std::vector<int64_t> dims = b.dims(x);
  if (p != working) {
    dims = with(dims, stablehlo::byte_width(p) / stablehlo::byte_width(working));
    x = b.bitcast_convert(x, {working, dims});
  }
  return {x, dims, product(dims)};
}

Value storage_out(Builder& b, Value x, const TensorType& storage, const Storage& repr) {
  x = b.reshape(x, repr.dims);
  if (storage.element == b.element_type(x)) return x;
  const ElementType p = plain_type(storage.element);
  if (p != b.element_type(x)) {
    std::vector<int64_t> dims = repr.dims;
    if (stablehlo::byte_width(p) > stablehlo::byte_width(b.element_type(x))) dims.pop_back();
    x = b.bitcast_convert(x, {p, dims});
  }
  return from_plain(b, x, storage.element);
}

// x: working[sizes..., k] (no k when k == 1) -> view element type [sizes].
Value view_from_working(Builder& b, Value x, const std::vector<int64_t>& sizes, ElementType to) {
  const ElementType working = b.element_type(x);
  if (to == working) return x;
  const ElementType q = plain_type(to);
  const int64_t ratio = stablehlo::byte_width(q) / stablehlo::byte_width(working);
  const std::vector<int64_t> plain_dims = with(sizes, lanes(to));
  if (q != working) {
    x = b.reshape(x, with(plain_dims, ratio));
    x = b.bitcast_convert(x, {q, plain_dims});
  }
  return from_plain(b, b.reshape(x, plain_dims), to);
}

Value view_to_working(Builder& b, Value update, ElementType working, int64_t k) {
  const std::vector<int64_t> sizes = b.dims(update);
  if (b.element_type(update) == working) return update;
  Value x = to_plain(b, update);
  const ElementType q = b.element_type(x);
  if (q != working) {
    x = b.bitcast_convert(
        x, {working, with(b.dims(x), stablehlo::byte_width(q) / stablehlo::byte_width(working))});
  }
  return b.reshape(x, with(sizes, k));
}

// ---------------------------------------------------------------------------
// Layout analysis, in working elements.

struct Dim {
  int64_t size;
  int64_t stride;
};

struct Analysis {
  std::vector<int64_t> real;  // view dims that select more than one element, view order
  bool broadcast = false;     // some dim of size > 1 has stride 0
  // Positions in `real` from the largest stride to the smallest: the order the
  // dims have in memory, which is the order the chain produces them in.
  std::vector<int64_t> order;
  // The memory-order dims with neighbours merged where the outer one steps
  // exactly over the inner one, so a contiguous run costs one dim.
  std::vector<Dim> merged;
  std::vector<int64_t> memory_sizes;  // sizes of real[order[i]]
};

// `keep_broadcast` treats stride-0 dims as ordinary (for scatter), else they
// are left out of `real` and restored by broadcast_in_dim.
Analysis analyze(const ViewLayout& v, bool keep_broadcast) {
  Analysis a;
  for (int64_t i = 0; i < v.rank(); ++i) {
    if (v.sizes[i] <= 1) continue;
    if (v.strides[i] == 0 && !keep_broadcast) {
      a.broadcast = true;
      continue;
    }
    a.real.push_back(i);
  }
  a.order.resize(a.real.size());
  std::iota(a.order.begin(), a.order.end(), 0);
  std::stable_sort(a.order.begin(), a.order.end(), [&](int64_t x, int64_t y) {
    return v.strides[a.real[x]] > v.strides[a.real[y]];
  });
  for (int64_t pos : a.order) {
    const Dim d{v.sizes[a.real[pos]], v.strides[a.real[pos]]};
    a.memory_sizes.push_back(d.size);
    if (!a.merged.empty() && a.merged.back().stride == d.size * d.stride) {
      a.merged.back() = {a.merged.back().size * d.size, d.stride};
    } else {
      a.merged.push_back(d);
    }
  }
  return a;
}

// A box in a row-major reshaping Z of (a segment of) the flat storage: the
// view, in memory order, is exactly the elements start + i * step, i < extent,
// of every Z dim (step > 1 only on the last one).
struct Box {
  bool whole = true;   // Z reshapes the whole storage
  int64_t base = 0;    // else Z reshapes the segment [base, base + length)...
  int64_t length = 0;  // ...which may run past the end (the tail is padding)
  std::vector<int64_t> z, start, extent, step;

  int64_t rank() const { return static_cast<int64_t>(z.size()); }
  std::vector<int64_t> limit() const {
    std::vector<int64_t> l(z.size());
    for (size_t i = 0; i < z.size(); ++i) l[i] = start[i] + extent[i];
    return l;
  }
  std::vector<int64_t> shape() const {  // of the slice
    std::vector<int64_t> s(z.size());
    for (size_t i = 0; i < z.size(); ++i) s[i] = (extent[i] + step[i] - 1) / step[i];
    return s;
  }
  bool unit_steps() const {
    return std::all_of(step.begin(), step.end(), [](int64_t s) { return s == 1; });
  }
  bool full() const {
    return unit_steps() &&
           std::all_of(start.begin(), start.end(), [](int64_t s) { return s == 0; }) && extent == z;
  }
  bool padded(int64_t storage_size) const { return !whole && base + length > storage_size; }
};

// Places [a, a + n) of a mixed-radix number (radices outer to inner) as a box:
// it must fit in the innermost digit, or cover whole innermost digits and be
// a box in the outer ones.
bool place_range(int64_t a, int64_t n, const std::vector<int64_t>& group,
                 const std::vector<int64_t>& radix, Box& box) {
  for (size_t g = group.size(); g-- > 0;) {
    const int64_t i = group[g];
    const int64_t r = radix[g];
    if (g == 0) {
      if (a + n > r) return false;
      box.start[i] = a;
      box.extent[i] = n;
    } else if (a % r + n <= r) {
      box.start[i] = a % r;
      box.extent[i] = n;
      a /= r;
      n = 1;
    } else if (a % r == 0 && n % r == 0) {
      box.start[i] = 0;
      box.extent[i] = r;
      a /= r;
      n /= r;
    } else {
      return false;
    }
  }
  return true;
}

// The box for memory-order dims `dims` starting at `offset` in a flat array
// of `length` elements reshaped along `cuts` (strides of the Z dims, strictly
// decreasing, ending in 1). Each dim owns the Z dims whose stride lies between
// its own stride and the next larger dim's; the last dim may have a stride
// that is no cut, and then steps through the innermost Z dim.
std::optional<Box> box_in(const std::vector<Dim>& dims, int64_t offset, int64_t length,
                          const std::vector<int64_t>& cuts) {
  if (cuts.empty() || cuts.back() != 1 || length % cuts[0] != 0) return std::nullopt;
  for (size_t i = 1; i < cuts.size(); ++i) {
    if (cuts[i - 1] % cuts[i] != 0 || cuts[i - 1] == cuts[i]) return std::nullopt;
  }
  Box box;
  box.length = length;
  for (size_t i = 0; i < cuts.size(); ++i) {
    box.z.push_back(i == 0 ? length / cuts[0] : cuts[i - 1] / cuts[i]);
  }
  box.start.assign(cuts.size(), 0);
  box.extent.assign(cuts.size(), 1);
  box.step.assign(cuts.size(), 1);
  int64_t upper = kUnbounded;  // stride of the next larger dim
  for (size_t j = 0; j < dims.size(); ++j) {
    const bool last = j + 1 == dims.size();
    const bool is_cut = std::find(cuts.begin(), cuts.end(), dims[j].stride) != cuts.end();
    if (!is_cut && !last) return std::nullopt;
    const int64_t unit = is_cut ? dims[j].stride : 1;
    if (!last && unit == 1) return std::nullopt;  // dims after it would have no room
    std::vector<int64_t> group, radix;
    for (size_t i = 0; i < cuts.size(); ++i) {
      if (cuts[i] >= unit && cuts[i] < upper) {
        group.push_back(static_cast<int64_t>(i));
        radix.push_back(box.z[i]);
      }
    }
    if (group.empty()) return std::nullopt;
    const int64_t a = (upper == kUnbounded ? offset : offset % upper) / unit;
    const int64_t step = dims[j].stride / unit;
    if (step == 1) {
      if (!place_range(a, dims[j].size, group, radix, box)) return std::nullopt;
    } else {
      const int64_t extent = (dims[j].size - 1) * step + 1;
      if (group.size() != 1 || a + extent > radix[0]) return std::nullopt;
      box.start[group[0]] = a;
      box.extent[group[0]] = extent;
      box.step[group[0]] = step;
    }
    upper = dims[j].stride;
  }
  return box;
}

std::vector<int64_t> cuts_of(const std::vector<Dim>& dims, std::vector<int64_t> more,
                             bool include_last) {
  for (size_t j = 0; j < dims.size(); ++j) {
    if (include_last || j + 1 < dims.size()) more.push_back(dims[j].stride);
  }
  more.push_back(1);
  std::sort(more.begin(), more.end(), std::greater<>());
  more.erase(std::unique(more.begin(), more.end()), more.end());
  return more;
}

// The cheapest box for the view, or none (then only gather/scatter can do).
// Candidates, best first: reshaping the whole storage along its own dims as
// well (so a slice of the natural shape stays one slice of it, which also keeps
// TPU layouts), then along the view's strides alone, then with a strided last
// dim; then a segment of the flat storage. The first one needing no padding
// wins. Unit-step boxes are preferred because writes to them are one
// dynamic_update_slice; a strided last dim costs a pad + select to write.
std::optional<Box> choose_box(const Analysis& a, const ViewLayout& v, const Storage& s) {
  const int64_t size = s.size;
  // The fine form: every view stride is a cut, and a virtual innermost dim of
  // one element makes the last stride a cut too, so the box has unit steps.
  std::vector<Dim> fine = a.merged;
  if (fine.empty() || fine.back().stride != 1) fine.push_back({1, 1});
  std::vector<int64_t> natural;
  for (int64_t i = static_cast<int64_t>(s.dims.size()) - 1, c = 1; i >= 0; --i) {
    natural.push_back(c);
    c *= s.dims[i];
  }
  std::vector<std::optional<Box>> candidates;
  auto whole = [&](const std::vector<Dim>& dims, std::vector<int64_t> cuts) {
    std::optional<Box> box = box_in(dims, v.offset, size, cuts);
    if (box) candidates.push_back(box);
  };
  auto segment = [&](const std::vector<Dim>& dims, const std::vector<int64_t>& cuts) {
    const int64_t row = cuts[0];
    const int64_t rows = dims[0].stride == row ? dims[0].size : 1;
    // Aligned to a row, so the offset's digits place the view; or starting at
    // the offset itself when that does not fit.
    for (int64_t base : {v.offset - v.offset % row, v.offset}) {
      std::optional<Box> box = box_in(dims, v.offset - base, rows * row, cuts);
      if (!box) continue;
      box->whole = false;
      box->base = base;
      candidates.push_back(box);
    }
  };
  whole(fine, cuts_of(fine, natural, true));
  whole(fine, cuts_of(fine, {}, true));
  if (!a.merged.empty()) whole(a.merged, cuts_of(a.merged, {}, false));
  segment(fine, cuts_of(fine, {}, true));
  if (!a.merged.empty() && a.merged.size() > 1) segment(a.merged, cuts_of(a.merged, {}, false));
  for (const auto& box : candidates) {
    if (!box->padded(size)) return box;
  }
  if (!candidates.empty()) return candidates.front();
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Emission helpers.

ElementType index_type(int64_t size) {
  return size <= std::numeric_limits<int32_t>::max() ? ElementType::kS32 : ElementType::kS64;
}

std::vector<Value> start_indices(Builder& b, const std::vector<int64_t>& start, int64_t bound) {
  const ElementType t = index_type(bound);
  std::vector<Value> out;
  for (int64_t s : start) out.push_back(b.constant_int(s, t));
  return out;
}

Value fill(Builder& b, double value, const TensorType& type) {
  return b.broadcast_in_dim(b.constant(value, type.element), type.dims, {});
}

// The region Z of the storage the box lives in, as a value of dims box.z.
Value region_of(Builder& b, const Storage& s, const Box& box) {
  if (box.whole) return b.reshape(s.value, box.z);
  Value flat = b.reshape(s.value, {s.size});
  const int64_t end = std::min(box.base + box.length, s.size);
  Value seg = b.slice(flat, {box.base}, {end});
  if (box.base + box.length > s.size) {
    seg = b.pad(seg, b.constant(0, b.element_type(flat)), {0}, {box.base + box.length - s.size});
  }
  return b.reshape(seg, box.z);
}

// Memory-order value -> the view's dims (working type, view sizes).
Value finish_read(Builder& b, Value x, const Analysis& a, const ViewLayout& v) {
  x = b.reshape(x, a.memory_sizes);
  std::vector<int64_t> perm(a.order.size());
  for (size_t pos = 0; pos < a.order.size(); ++pos) perm[a.order[pos]] = static_cast<int64_t>(pos);
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int64_t>(i);
  if (!identity) x = b.transpose(x, perm);
  if (!a.broadcast) return b.reshape(x, v.sizes);
  return b.broadcast_in_dim(x, v.sizes, a.real);
}

// The view's value (working type, view sizes) -> memory order, dims `to`.
Value start_write(Builder& b, Value update, const Analysis& a, const std::vector<int64_t>& to) {
  std::vector<int64_t> view_order;
  for (int64_t i : a.real) view_order.push_back(b.dims(update)[i]);
  Value x = b.reshape(update, view_order);
  bool identity = true;
  for (size_t i = 0; i < a.order.size(); ++i)
    identity = identity && a.order[i] == static_cast<int64_t>(i);
  if (!identity) x = b.transpose(x, a.order);
  return b.reshape(x, to);
}

// Indices offset + sum_j i_j * stride_j over the memory-order dims except the
// innermost one when it is contiguous: gather and scatter take that one as a
// window, so unfold-style views move whole rows.
struct IndexPlan {
  Value indices;
  std::vector<int64_t> batch;  // index dims
  bool window = false;
  int64_t window_size = 1;
};

IndexPlan indices_for(Builder& b, const std::vector<Dim>& dims, int64_t offset,
                      int64_t storage_size) {
  IndexPlan p;
  p.window = !dims.empty() && dims.back().stride == 1;
  const size_t n = p.window ? dims.size() - 1 : dims.size();
  for (size_t j = 0; j < n; ++j) p.batch.push_back(dims[j].size);
  if (p.window) p.window_size = dims.back().size;
  const ElementType t = index_type(storage_size);
  const TensorType type{t, p.batch};
  auto splat_int = [&](int64_t value) {
    return b.broadcast_in_dim(b.constant_int(value, t), p.batch, {});
  };
  std::optional<Value> idx;
  if (offset != 0 || n == 0) idx = splat_int(offset);
  for (size_t j = 0; j < n; ++j) {
    Value term = b.iota(type, static_cast<int64_t>(j));
    if (dims[j].stride != 1) term = b.mul(term, splat_int(dims[j].stride));
    idx = idx ? b.add(*idx, term) : term;
  }
  std::vector<int64_t> index_dims = p.batch;
  index_dims.push_back(1);
  p.indices = b.reshape(*idx, index_dims);
  return p;
}

std::vector<int64_t> dims_sizes(const std::vector<Dim>& dims) {
  std::vector<int64_t> out;
  for (const Dim& d : dims) out.push_back(d.size);
  return out;
}

// The view in working elements: a view of a wider type becomes a view with one
// more, contiguous, innermost dim over the narrower working elements.
ViewLayout in_working(const ViewLayout& v, ElementType working, int64_t k) {
  ViewLayout w{v.sizes, v.strides, v.offset * k, working};
  if (k > 1) {
    for (int64_t& s : w.strides) s *= k;
    w.sizes.push_back(k);
    w.strides.push_back(1);
  }
  return w;
}

void check_fits(const ViewLayout& w, int64_t storage_size, const ViewLayout& original,
                const TensorType& storage) {
  int64_t last = w.offset;
  for (int64_t i = 0; i < w.rank(); ++i) last += (w.sizes[i] - 1) * w.strides[i];
  if (last >= storage_size) {
    fail("view " + describe(original) + " reaches past the end of storage " + storage.to_string());
  }
}

}  // namespace

bool covers_storage(const TensorType& storage, const ViewLayout& view) {
  if (view.element != storage.element || view.offset != 0 ||
      view.sizes.size() != view.strides.size())
    return false;
  if (view.numel() != storage.numel()) return false;
  int64_t expected = 1;
  for (int64_t i = view.rank() - 1; i >= 0; --i) {
    if (view.sizes[i] == 1) continue;  // any stride addresses the same element
    if (view.strides[i] != expected) return false;
    expected *= view.sizes[i];
  }
  return true;
}

bool has_internal_overlap(const ViewLayout& view) {
  check_layout(view);
  if (view.numel() <= 1) return false;
  std::vector<Dim> dims;
  for (int64_t i = 0; i < view.rank(); ++i) {
    if (view.sizes[i] == 1) continue;
    if (view.strides[i] == 0) return true;
    dims.push_back({view.sizes[i], view.strides[i]});
  }
  std::sort(dims.begin(), dims.end(), [](Dim x, Dim y) { return x.stride < y.stride; });
  // Nested strides (each steps over everything the smaller ones reach) are the
  // common case and clearly injective.
  int64_t reach = 0;
  bool nested = true;
  for (const Dim& d : dims) {
    if (d.stride <= reach) {
      nested = false;
      break;
    }
    reach += (d.size - 1) * d.stride;
  }
  if (nested) return false;
  if (view.numel() > (int64_t{1} << 20)) return true;
  std::vector<int64_t> addresses{0};
  for (const Dim& d : dims) {
    const size_t n = addresses.size();
    for (int64_t i = 1; i < d.size; ++i) {
      for (size_t k = 0; k < n; ++k) addresses.push_back(addresses[k] + i * d.stride);
    }
  }
  std::sort(addresses.begin(), addresses.end());
  return std::adjacent_find(addresses.begin(), addresses.end()) != addresses.end();
}

Value read_view(Builder& b, Value storage, const ViewLayout& view) {
  check_layout(view);
  const TensorType storage_type = b.type(storage);
  const TensorType result{view.element, view.sizes};
  if (view.numel() == 0) return b.zeros(result);
  if (covers_storage(storage_type, view)) return b.reshape(storage, view.sizes);

  const ElementType working = working_type(storage_type.element, view.element);
  const int64_t k = units(view.element, working);
  const Storage s = storage_in(b, storage, working);
  const ViewLayout w = in_working(view, working, k);
  check_fits(w, s.size, view, storage_type);

  const Analysis a = analyze(w, /*keep_broadcast=*/false);
  Value x;
  if (std::optional<Box> box = choose_box(a, w, s)) {
    x = region_of(b, s, *box);
    if (!box->full()) x = b.slice(x, box->start, box->limit(), box->step);
  } else {
    const IndexPlan p = indices_for(b, a.merged, w.offset, s.size);
    stablehlo::GatherDimensions d;
    if (p.window) {
      d.offset_dims = {static_cast<int64_t>(p.batch.size())};
    } else {
      d.collapsed_slice_dims = {0};
    }
    d.start_index_map = {0};
    d.index_vector_dim = static_cast<int64_t>(p.batch.size());
    x = b.gather(b.reshape(s.value, {s.size}), p.indices, d, {p.window_size});
  }
  x = finish_read(b, x, a, w);
  return view_from_working(b, x, view.sizes, view.element);
}

Value write_view(Builder& b, Value storage, const ViewLayout& view, Value update) {
  check_layout(view);
  const TensorType storage_type = b.type(storage);
  const TensorType expected{view.element, view.sizes};
  if (b.type(update) != expected) {
    fail("update " + b.type(update).to_string() + " does not have the type " +
         expected.to_string() + " of view " + describe(view));
  }
  if (view.numel() == 0) return storage;
  if (covers_storage(storage_type, view)) return b.reshape(update, storage_type.dims);

  const ElementType working = working_type(storage_type.element, view.element);
  const int64_t k = units(view.element, working);
  const Storage s = storage_in(b, storage, working);
  const ViewLayout w = in_working(view, working, k);
  check_fits(w, s.size, view, storage_type);
  Value u = view_to_working(b, update, working, k);

  const Analysis plain = analyze(w, /*keep_broadcast=*/false);
  std::optional<Box> box;
  if (!plain.broadcast) box = choose_box(plain, w, s);
  Value result;
  if (box) {
    Value region = region_of(b, s, *box);
    Value block = start_write(b, u, plain, box->shape());
    if (box->full()) {
      region = block;
    } else if (box->unit_steps()) {
      region = b.dynamic_update_slice(region, block, start_indices(b, box->start, s.size));
    } else {
      // A strided innermost dim: spread the update with interior padding and
      // keep the old elements in between, inside the box's bounding block.
      const int64_t r = box->rank();
      std::vector<int64_t> zero(r, 0), interior(r, 0);
      for (int64_t i = 0; i < r; ++i) interior[i] = box->step[i] - 1;
      const std::vector<int64_t> limit = box->limit();
      const bool whole_region =
          std::all_of(box->start.begin(), box->start.end(), [](int64_t v) { return v == 0; }) &&
          limit == box->z;
      Value old = whole_region ? region : b.slice(region, box->start, limit);
      const ElementType e = b.element_type(region);
      Value spread = b.pad(block, b.constant(0, e), zero, zero, interior);
      // The mask is built in one dim and broadcast, so no constant of the
      // block's size can appear even if XLA folds it.
      const int64_t inner = r - 1;
      Value mask = b.pad(fill(b, 1, {ElementType::kPred, {b.dims(block)[inner]}}),
                         b.constant(0, ElementType::kPred), {0}, {0}, {interior[inner]});
      mask = b.broadcast_in_dim(mask, b.dims(spread), {inner});
      Value merged = b.select(mask, spread, old);
      region = whole_region
                   ? merged
                   : b.dynamic_update_slice(region, merged, start_indices(b, box->start, s.size));
    }
    if (box->whole) {
      result = region;
    } else {
      Value seg = b.reshape(region, {box->length});
      const int64_t kept = std::min(box->length, s.size - box->base);
      if (kept < box->length) seg = b.slice(seg, {0}, {kept});
      if (box->base == 0 && kept == s.size) {
        result = seg;
      } else {
        result = b.dynamic_update_slice(b.reshape(s.value, {s.size}), seg,
                                        start_indices(b, {box->base}, s.size));
      }
    }
  } else {
    // Scatter over every dim that selects more than one element, stride-0
    // ones included: with no duplicate addresses the indices are unique.
    const Analysis a = analyze(w, /*keep_broadcast=*/true);
    const IndexPlan p = indices_for(b, a.merged, w.offset, s.size);
    Value updates = start_write(b, u, a, dims_sizes(a.merged));
    stablehlo::ScatterDimensions d;
    if (p.window) {
      d.update_window_dims = {static_cast<int64_t>(p.batch.size())};
    } else {
      d.inserted_window_dims = {0};
    }
    d.scatter_dims_to_operand_dims = {0};
    d.index_vector_dim = static_cast<int64_t>(p.batch.size());
    const bool unique = !has_internal_overlap(w);
    result = b.scatter(
        b.reshape(s.value, {s.size}), p.indices, updates, d,
        [](Builder&, const std::vector<Value>& args) { return std::vector<Value>{args[1]}; },
        /*indices_are_sorted=*/false, unique);
  }
  return storage_out(b, result, storage_type, s);
}

}  // namespace torch_pjrt::engine
