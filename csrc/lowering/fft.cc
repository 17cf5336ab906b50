// Discrete Fourier transforms: _fft_r2c, _fft_c2c and _fft_c2r, the three
// primitives every torch.fft function, stft and istft (and their backward
// formulas) reach.
//
// stablehlo.fft transforms the trailing (at most three) dimensions of its
// operand, so the transformed dims move to the end (in the order the call
// lists them, the halved one of r2c/c2r last), and longer lists are split into
// trailing groups of three: the transform is separable. Its inverse kinds
// (IFFT, IRFFT) divide by the group's size; PyTorch's unnormalized inverse does
// not, so that factor is folded into the one scaling at the end, which also
// applies `normalization` (0: none, 1: 1/sqrt(n), 2: 1/n, n = the product of
// the transformed sizes, of the output's for c2r).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lowering/broadcast.h"
#include "lowering/dtype_names.h"
#include "lowering/rule_table.h"

namespace torch_pjrt::lowering {
namespace {

using stablehlo::is_complex;

// stablehlo.fft handles at most this many trailing dimensions at once.
constexpr size_t kMaxFftRank = 3;

enum class FftType { kFft, kIfft, kRfft, kIrfft };

std::string_view fft_type_name(FftType type) {
  switch (type) {
    case FftType::kFft:
      return "FFT";
    case FftType::kIfft:
      return "IFFT";
    case FftType::kRfft:
      return "RFFT";
    case FftType::kIrfft:
      return "IRFFT";
  }
  return "FFT";
}

ElementType complex_of(ElementType real) {
  return real == ElementType::kF64 ? ElementType::kC128 : ElementType::kC64;
}

// One stablehlo.fft over the trailing lengths.size() dims of x. `lengths` are
// the (real-domain) signal sizes: x's trailing dims for FFT/IFFT/RFFT, the
// output's for IRFFT, whose input has lengths.back() / 2 + 1 in the last dim.
Value fft(Builder& b, Value x, FftType type, const std::vector<int64_t>& lengths) {
  TensorType result = b.type(x);
  switch (type) {
    case FftType::kFft:
    case FftType::kIfft:
      break;
    case FftType::kRfft:
      result.element = complex_of(result.element);
      result.dims.back() = lengths.back() / 2 + 1;
      break;
    case FftType::kIrfft:
      result.element = stablehlo::real_part_type(result.element);
      result.dims.back() = lengths.back();
      break;
  }
  std::string attributes = "fft_type = #stablehlo<fft_type " + std::string(fft_type_name(type)) +
                           ">, fft_length = array<i64: ";
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (i > 0) attributes += ", ";
    attributes += std::to_string(lengths[i]);
  }
  attributes += ">";
  return b.emit("stablehlo.fft", {x}, {result}, std::move(attributes))[0];
}

std::vector<int64_t> trailing(const std::vector<int64_t>& dims, size_t count) {
  return {dims.end() - static_cast<std::ptrdiff_t>(count), dims.end()};
}

// Complex-to-complex transforms over dims [end - count, end) of x, in groups
// of at most three, last group first, each moved to the end and back.
// Inverse groups divide by their sizes.
Value c2c_block(Builder& b, Value x, size_t end, size_t count, bool forward) {
  const size_t rank = static_cast<size_t>(b.rank(x));
  while (count > 0) {
    const size_t group = std::min(count, kMaxFftRank);
    std::vector<int64_t> permutation;
    for (size_t d = 0; d < rank; ++d) {
      if (d < end - group || d >= end) permutation.push_back(static_cast<int64_t>(d));
    }
    for (size_t d = end - group; d < end; ++d) permutation.push_back(static_cast<int64_t>(d));
    std::vector<int64_t> inverse(rank);
    for (size_t i = 0; i < rank; ++i) inverse[permutation[i]] = static_cast<int64_t>(i);
    Value moved = end == rank ? x : b.transpose(x, permutation);
    Value transformed =
        fft(b, moved, forward ? FftType::kFft : FftType::kIfft, trailing(b.dims(moved), group));
    x = end == rank ? transformed : b.transpose(transformed, inverse);
    end -= group;
    count -= group;
  }
  return x;
}

// The call's dims wrapped into [0, rank), and the permutation that moves them,
// in their order, behind the others.
struct TransformDims {
  std::vector<int64_t> dims;
  std::vector<int64_t> to_end;
  std::vector<int64_t> back;
};

TransformDims transform_dims(std::string_view op, const std::vector<int64_t>& requested,
                             int64_t rank, bool allow_repeats) {
  TransformDims result;
  for (int64_t d : requested) {
    const int64_t dim = wrap_dim(d, rank);
    if (!allow_repeats &&
        std::find(result.dims.begin(), result.dims.end(), dim) != result.dims.end()) {
      throw InvalidArgument(std::string(op) + ": dim " + std::to_string(dim) +
                            " appears multiple times in the list of dims");
    }
    result.dims.push_back(dim);
  }
  for (int64_t d = 0; d < rank; ++d) {
    if (std::find(result.dims.begin(), result.dims.end(), d) == result.dims.end()) {
      result.to_end.push_back(d);
    }
  }
  result.to_end.insert(result.to_end.end(), result.dims.begin(), result.dims.end());
  result.back.resize(result.to_end.size());
  for (size_t i = 0; i < result.to_end.size(); ++i) {
    result.back[result.to_end[i]] = static_cast<int64_t>(i);
  }
  return result;
}

bool is_identity(const std::vector<int64_t>& permutation) {
  for (size_t i = 0; i < permutation.size(); ++i) {
    if (permutation[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

Value permute(Builder& b, Value x, const std::vector<int64_t>& permutation) {
  return is_identity(permutation) ? x : b.transpose(x, permutation);
}

// CPU's FFT backends reject empty signals and empty batches alike.
void check_not_empty(std::string_view op, const TensorType& type,
                     const std::vector<int64_t>& dims) {
  for (int64_t d : dims) {
    if (type.dims[d] == 0) {
      throw InvalidArgument(std::string(op) + ": Invalid number of data points (0) specified");
    }
  }
  if (type.numel() == 0) {
    throw InvalidArgument(std::string(op) +
                          ": cannot compute an FFT of a tensor with no elements (" +
                          type.to_string() + ")");
  }
}

// Applies `normalization` for a signal of n points, times `extra` (the sizes
// the inverse kinds of stablehlo.fft already divided by).
Value normalize(Builder& b, Value x, int64_t normalization, double n, double extra) {
  double factor = extra;
  if (normalization == 1) factor /= std::sqrt(n);
  if (normalization == 2) factor /= n;
  if (factor == 1.0) return x;
  const TensorType& type = b.type(x);
  if (is_complex(type.element)) return b.mul(x, b.splat_complex(factor, 0.0, type));
  return b.mul(x, b.splat(factor, type));
}

int64_t product(const TensorType& type, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= type.dims[d];
  return n;
}

void check_normalization(std::string_view op, int64_t normalization) {
  if (normalization < 0 || normalization > 2) {
    throw InvalidArgument(std::string(op) + ": normalization must be 0, 1 or 2, got " +
                          std::to_string(normalization));
  }
}

// CPU computes FFTs in float and double only.
void check_fft_precision(std::string_view op, ElementType type) {
  if (type == ElementType::kF16 || type == ElementType::kBF16) {
    throw InvalidArgument(std::string(op) + ": FFT doesn't support tensors of type: " +
                          std::string(scalar_type_name(type)));
  }
}

// _fft_c2c(self, dim, normalization, forward)
std::vector<Value> fft_c2c_rule(Builder& b, const OpCall& call) {
  constexpr std::string_view kOp = "_fft_c2c";
  Value x = call.tensor(0).value;
  const TensorType type = b.type(x);
  if (!is_complex(type.element)) {
    throw InvalidArgument(std::string(kOp) + ": Only supports complex dtypes, but found: " +
                          std::string(scalar_type_name(type.element)));
  }
  const int64_t normalization = call.int_at(2);
  const bool forward = call.bool_at(3);
  check_normalization(kOp, normalization);
  TransformDims dims = transform_dims(kOp, call.ints(1), type.rank(), /*allow_repeats=*/true);
  if (dims.dims.empty()) return {x};
  check_not_empty(kOp, type, dims.dims);
  const double n = static_cast<double>(product(type, dims.dims));
  double divided = 1.0;
  // A dim listed twice is transformed twice: each run of distinct dims is one
  // pass.
  size_t start = 0;
  while (start < dims.dims.size()) {
    size_t end = start;
    std::vector<int64_t> run;
    while (end < dims.dims.size() &&
           std::find(run.begin(), run.end(), dims.dims[end]) == run.end()) {
      run.push_back(dims.dims[end++]);
    }
    TransformDims pass = transform_dims(kOp, run, type.rank(), false);
    Value moved = permute(b, x, pass.to_end);
    x = permute(b, c2c_block(b, moved, b.dims(moved).size(), run.size(), forward), pass.back);
    if (!forward) divided *= static_cast<double>(product(type, run));
    start = end;
  }
  return {normalize(b, x, normalization, n, divided)};
}

// _fft_r2c(self, dim, normalization, onesided): a real signal's spectrum,
// halved along dim[-1] when onesided.
std::vector<Value> fft_r2c_rule(Builder& b, const OpCall& call) {
  constexpr std::string_view kOp = "_fft_r2c";
  Value x = call.tensor(0).value;
  const TensorType type = b.type(x);
  check_fft_precision(kOp, type.element);
  if (type.element != ElementType::kF32 && type.element != ElementType::kF64) {
    throw InvalidArgument(std::string(kOp) + ": Only supports floating-point dtypes, but found: " +
                          std::string(scalar_type_name(type.element)));
  }
  const int64_t normalization = call.int_at(2);
  const bool onesided = call.bool_at(3);
  check_normalization(kOp, normalization);
  TransformDims dims = transform_dims(kOp, call.ints(1), type.rank(), /*allow_repeats=*/false);
  if (dims.dims.empty()) throw InvalidArgument(std::string(kOp) + ": expects at least one dim");
  check_not_empty(kOp, type, dims.dims);
  const double n = static_cast<double>(product(type, dims.dims));
  Value moved = permute(b, x, dims.to_end);
  const size_t count = dims.dims.size();
  Value y;
  if (onesided) {
    // The halved last group first (it is the one that turns real into
    // complex), then full transforms over the rest.
    const size_t group = std::min(count, kMaxFftRank);
    y = fft(b, moved, FftType::kRfft, trailing(b.dims(moved), group));
    y = c2c_block(b, y, static_cast<size_t>(type.rank()) - group, count - group, true);
  } else {
    y = c2c_block(b, b.convert(moved, complex_of(type.element)), static_cast<size_t>(type.rank()),
                  count, true);
  }
  return {normalize(b, permute(b, y, dims.back), normalization, n, 1.0)};
}

// _fft_c2r(self, dim, normalization, last_dim_size): the real signal whose
// halved spectrum (along dim[-1]) self is; last_dim_size is the signal's size
// there.
std::vector<Value> fft_c2r_rule(Builder& b, const OpCall& call) {
  constexpr std::string_view kOp = "_fft_c2r";
  Value x = call.tensor(0).value;
  TensorType type = b.type(x);
  if (!is_complex(type.element)) {
    throw InvalidArgument(std::string(kOp) + ": Only supports complex dtypes, but found: " +
                          std::string(scalar_type_name(type.element)));
  }
  const int64_t normalization = call.int_at(2);
  const int64_t last_dim_size = call.int_at(3);
  check_normalization(kOp, normalization);
  TransformDims dims = transform_dims(kOp, call.ints(1), type.rank(), /*allow_repeats=*/false);
  if (dims.dims.empty()) throw InvalidArgument(std::string(kOp) + ": expects at least one dim");
  if (last_dim_size < 1) {
    throw InvalidArgument(std::string(kOp) + ": Invalid number of data points (" +
                          std::to_string(last_dim_size) + ") specified");
  }
  check_not_empty(kOp, type, dims.dims);
  const int64_t last = dims.dims.back();
  const int64_t half = last_dim_size / 2 + 1;
  if (type.dims[last] < half) {
    throw InvalidArgument(std::string(kOp) + ": expected at least " + std::to_string(half) +
                          " values along dim " + std::to_string(last) + " for a signal of size " +
                          std::to_string(last_dim_size) + ", got " +
                          std::to_string(type.dims[last]));
  }
  if (type.dims[last] > half) {
    // Only the non-negative frequencies are read, as CPU does.
    std::vector<int64_t> limit = type.dims;
    limit[last] = half;
    x = b.slice(x, std::vector<int64_t>(type.rank(), 0), limit);
    type = b.type(x);
  }
  TensorType output = type;
  output.element = stablehlo::real_part_type(type.element);
  output.dims[last] = last_dim_size;
  const double n = static_cast<double>(product(output, dims.dims));

  Value moved = permute(b, x, dims.to_end);
  const size_t count = dims.dims.size();
  const size_t group = std::min(count, kMaxFftRank);
  // The full (not halved) dims before the last group are inverted first, so
  // the last step is the one that turns complex into real.
  moved = c2c_block(b, moved, static_cast<size_t>(type.rank()) - group, count - group, false);
  std::vector<int64_t> lengths = trailing(b.dims(moved), group);
  lengths.back() = last_dim_size;
  Value y = fft(b, moved, FftType::kIrfft, lengths);
  return {normalize(b, permute(b, y, dims.back), normalization, n, n)};
}

}  // namespace

void add_fft_rules(RuleTable& table) {
  table.add("_fft_r2c", RuleInfo{&fft_r2c_rule, {}});
  table.add("_fft_c2c", RuleInfo{&fft_c2c_rule, {}});
  table.add("_fft_c2r", RuleInfo{&fft_c2r_rule, {}});
}

}  // namespace torch_pjrt::lowering
