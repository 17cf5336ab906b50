#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "stablehlo/element_type.h"
#include "stablehlo/function.h"

namespace torch_pjrt::stablehlo {

// Raised when an op is built with operands that do not fit it (shapes, element
// types, dimension numbers). Callers above turn it into a Python error.
class BuildError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class ComparisonDirection { kEQ, kNE, kGE, kGT, kLE, kLT };

enum class UnaryOp {
  kAbs,
  kNegate,
  kSign,
  kExp,
  kExpm1,  // stablehlo.exponential_minus_one
  kLog,
  kLog1p,  // stablehlo.log_plus_one
  kSqrt,
  kRsqrt,
  kCbrt,
  kSin,
  kCos,
  kTan,
  kTanh,
  kLogistic,
  kFloor,
  kCeil,
  kRoundNearestEven,
  kRoundNearestAfz,  // stablehlo.round_nearest_afz
  kNot,              // logical not for pred, bitwise not for integers
  kIsFinite,         // result is pred
  kReal,             // complex -> real part type
  kImag,
  kPopcnt,
  kCountLeadingZeros,
  // From the CHLO dialect (the plugins legalize it); all elementwise.
  kErf,
  kErfInv,
  kLgamma,
  kDigamma,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kAsinh,
  kAcosh,
  kAtanh,
  kErfc,
};

enum class BinaryOp {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,     // integer division truncates toward zero, as in C
  kRemainder,  // sign follows the dividend, as C fmod
  kPower,
  // Propagate NaN per StableHLO, but XLA:CPU compiles them as compare-and-select
  // (NaN only from the lhs) unless xla_cpu_enable_fast_min_max is off in the
  // compile options; rules that must propagate NaN say so explicitly.
  kMaximum,
  kMinimum,
  kAnd,  // logical for pred, bitwise for integers
  kOr,
  kXor,
  kShiftLeft,
  kShiftRightArithmetic,
  kShiftRightLogical,
  kAtan2,
  kComplex,  // (real, imag) -> complex
  // From CHLO.
  kNextAfter,
  kPolygamma,
  kZeta,
};

enum class RngAlgorithm { kDefault, kThreeFry, kPhilox };

// dot_general's operand precision: on TPU, kDefault computes f32 products in
// one bf16 pass; kHighest matches f32 on CPU. XLA:CPU ignores it.
enum class Precision { kDefault, kHigh, kHighest };

struct DotDimensions {
  std::vector<int64_t> lhs_batch, rhs_batch;
  std::vector<int64_t> lhs_contracting, rhs_contracting;
};

// As stablehlo.gather's dimension numbers.
struct GatherDimensions {
  std::vector<int64_t> offset_dims;
  std::vector<int64_t> collapsed_slice_dims;
  std::vector<int64_t> operand_batching_dims;
  std::vector<int64_t> start_indices_batching_dims;
  std::vector<int64_t> start_index_map;
  int64_t index_vector_dim = 0;
};

// As stablehlo.scatter's dimension numbers.
struct ScatterDimensions {
  std::vector<int64_t> update_window_dims;
  std::vector<int64_t> inserted_window_dims;
  std::vector<int64_t> input_batching_dims;
  std::vector<int64_t> scatter_indices_batching_dims;
  std::vector<int64_t> scatter_dims_to_operand_dims;
  int64_t index_vector_dim = 0;
};

// As stablehlo.convolution's dimension numbers. The defaults are PyTorch's
// layouts: input N C spatial..., kernel O I spatial..., output N C spatial...
// (the spatial lists must still be given, e.g. {2, 3} for 2-d).
struct ConvDimensions {
  int64_t input_batch_dimension = 0;
  int64_t input_feature_dimension = 1;
  std::vector<int64_t> input_spatial_dimensions;
  int64_t kernel_input_feature_dimension = 1;
  int64_t kernel_output_feature_dimension = 0;
  std::vector<int64_t> kernel_spatial_dimensions;
  int64_t output_batch_dimension = 0;
  int64_t output_feature_dimension = 1;
  std::vector<int64_t> output_spatial_dimensions;
};

// Builds one function (`main`) in SSA form. Every op method checks its operands,
// infers the result type, appends the op to the current block and returns the
// result. Ops with a body (reduce, scatter, sort, ...) take a RegionBody: it is
// called with this same builder positioned inside the new region, gets the
// region's block arguments (0-d tensors), and returns the values the region
// yields. Values defined outside a region must not be used inside it.
class Builder {
 public:
  using RegionBody = std::function<std::vector<Value>(Builder& b, const std::vector<Value>& args)>;

  Builder();
  ~Builder();
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  // Appends an argument to the function; arguments are numbered in call order.
  Value parameter(const TensorType& type);
  const TensorType& type(Value v) const;
  ElementType element_type(Value v) const { return type(v).element; }
  const std::vector<int64_t>& dims(Value v) const { return type(v).dims; }
  int64_t rank(Value v) const { return type(v).rank(); }

  // Any op by name, with explicit result types and a pre-rendered attribute
  // dictionary body (e.g. "dimensions = array<i64: 1>", without braces). The
  // typed methods below all go through this.
  std::vector<Value> emit(
      std::string_view op_name, const std::vector<Value>& operands,
      const std::vector<TensorType>& result_types, std::string attributes = {},
      const std::vector<std::pair<std::vector<TensorType>, RegionBody>>& regions = {});

  // --- constants -----------------------------------------------------------
  // 0-d constant; the value is converted to `type` (bool: nonzero is true).
  Value constant(double value, ElementType type);
  Value constant_int(int64_t value, ElementType type);
  // A dense constant of the given type filled with one value (rank >= 0).
  Value splat(double value, const TensorType& type);
  Value zeros(const TensorType& type) { return splat(0.0, type); }
  // A dense constant from explicit int64 values (for index tables).
  Value constant_ints(const std::vector<int64_t>& values, const TensorType& type);
  // A dense constant from explicit values, each converted as by constant().
  Value constant_doubles(const std::vector<double>& values, const TensorType& type);
  // A complex splat (type.element must be c64 or c128).
  Value splat_complex(double real, double imag, const TensorType& type);
  Value iota(const TensorType& type, int64_t iota_dimension);

  // --- elementwise (operands must have identical shapes) --------------------
  Value unary(UnaryOp op, Value x);
  Value binary(BinaryOp op, Value lhs, Value rhs);
  Value add(Value a, Value b) { return binary(BinaryOp::kAdd, a, b); }
  Value sub(Value a, Value b) { return binary(BinaryOp::kSubtract, a, b); }
  Value mul(Value a, Value b) { return binary(BinaryOp::kMultiply, a, b); }
  Value div(Value a, Value b) { return binary(BinaryOp::kDivide, a, b); }
  Value max(Value a, Value b) { return binary(BinaryOp::kMaximum, a, b); }
  Value min(Value a, Value b) { return binary(BinaryOp::kMinimum, a, b); }
  // Result is pred. Floats compare with IEEE semantics (NaN != NaN); unsigned
  // integers compare unsigned.
  Value compare(ComparisonDirection direction, Value lhs, Value rhs);
  Value select(Value pred, Value on_true, Value on_false);
  // min and max may be 0-d or the shape of x.
  Value clamp(Value min, Value x, Value max);
  Value convert(Value x, ElementType to);  // no-op (returns x) when already `to`
  // Reinterprets bits; when widths differ the last dimension grows or shrinks
  // as stablehlo.bitcast_convert specifies.
  Value bitcast_convert(Value x, const TensorType& to);

  // --- shape ---------------------------------------------------------------
  Value reshape(Value x, const std::vector<int64_t>& dims);  // no-op when equal
  Value transpose(Value x, const std::vector<int64_t>& permutation);
  // Result has `dims`; operand dimension i maps to result dimension
  // broadcast_dimensions[i].
  Value broadcast_in_dim(Value x, const std::vector<int64_t>& dims,
                         const std::vector<int64_t>& broadcast_dimensions);
  Value slice(Value x, const std::vector<int64_t>& start, const std::vector<int64_t>& limit,
              const std::vector<int64_t>& strides = {});
  Value dynamic_slice(Value x, const std::vector<Value>& start_indices,
                      const std::vector<int64_t>& slice_sizes);
  Value dynamic_update_slice(Value operand, Value update, const std::vector<Value>& start_indices);
  Value concatenate(const std::vector<Value>& inputs, int64_t dimension);
  Value pad(Value x, Value padding_value, const std::vector<int64_t>& low,
            const std::vector<int64_t>& high, const std::vector<int64_t>& interior = {});
  Value reverse(Value x, const std::vector<int64_t>& dimensions);

  // --- structured ----------------------------------------------------------
  // Reduces each input over `dimensions`; the body gets (acc..., elem...) and
  // returns one value per input.
  std::vector<Value> reduce(const std::vector<Value>& inputs, const std::vector<Value>& inits,
                            const std::vector<int64_t>& dimensions, const RegionBody& body);
  // Single-input convenience.
  Value reduce(Value input, Value init, const std::vector<int64_t>& dimensions,
               const RegionBody& body) {
    return reduce(std::vector<Value>{input}, std::vector<Value>{init}, dimensions, body)[0];
  }
  std::vector<Value> reduce_window(
      const std::vector<Value>& inputs, const std::vector<Value>& inits,
      const std::vector<int64_t>& window_dimensions, const std::vector<int64_t>& window_strides,
      const std::vector<int64_t>& base_dilations, const std::vector<int64_t>& window_dilations,
      const std::vector<std::pair<int64_t, int64_t>>& padding, const RegionBody& body);
  // Result element type defaults to the lhs element type.
  Value dot_general(Value lhs, Value rhs, const DotDimensions& dimensions,
                    std::optional<ElementType> result_type = std::nullopt,
                    Precision precision = Precision::kDefault);
  Value gather(Value operand, Value start_indices, const GatherDimensions& dimensions,
               const std::vector<int64_t>& slice_sizes, bool indices_are_sorted = false);
  // Body gets (current, update) and returns the new element.
  Value scatter(Value operand, Value scatter_indices, Value updates,
                const ScatterDimensions& dimensions, const RegionBody& update_body,
                bool indices_are_sorted = false, bool unique_indices = false);
  // Sorts along `dimension`; the comparator gets (lhs_0, rhs_0, lhs_1, rhs_1, ...)
  // and returns one pred.
  std::vector<Value> sort(const std::vector<Value>& inputs, int64_t dimension, bool is_stable,
                          const RegionBody& comparator);
  // Result batch = input batch / batch_group_count, feature = kernel output
  // feature, spatial sizes from the padded, dilated window arithmetic. Empty
  // strides/dilations mean 1 and empty padding means 0 in every spatial
  // dimension. Result element type defaults to the lhs element type.
  Value convolution(Value lhs, Value rhs, const ConvDimensions& dimensions,
                    const std::vector<int64_t>& window_strides = {},
                    const std::vector<std::pair<int64_t, int64_t>>& padding = {},
                    const std::vector<int64_t>& lhs_dilation = {},
                    const std::vector<int64_t>& rhs_dilation = {}, int64_t feature_group_count = 1,
                    int64_t batch_group_count = 1,
                    std::optional<ElementType> result_type = std::nullopt,
                    Precision precision = Precision::kDefault);
  // For each window of `operand`, `select` (gets (a, b), returns pred: keep a)
  // picks one element, and `scatter` (gets (current, source)) combines the
  // window's `source` element into that position of a tensor filled with
  // `init`. Result has operand's type. The max-pool backward.
  Value select_and_scatter(Value operand, Value source, Value init,
                           const std::vector<int64_t>& window_dimensions,
                           const std::vector<int64_t>& window_strides,
                           const std::vector<std::pair<int64_t, int64_t>>& padding,
                           const RegionBody& select, const RegionBody& scatter);
  // Runs `body` while `condition` (gets the loop values, returns 0-d pred)
  // holds; body gets and returns values of the types of `initial`.
  std::vector<Value> while_loop(const std::vector<Value>& initial, const RegionBody& condition,
                                const RegionBody& body);
  // Returns {new_state, random_bits}; state is u64[2] for kThreeFry.
  std::pair<Value, Value> rng_bit_generator(Value state, const TensorType& output_type,
                                            RngAlgorithm algorithm = RngAlgorithm::kThreeFry);

  // How far the function has been built; rollback() drops everything built
  // since (ops, parameters and values), so a caller whose step failed half-way
  // leaves no dead code behind. Only outside regions.
  struct Checkpoint {
    size_t operations = 0;
    size_t parameters = 0;
    size_t values = 0;
  };
  Checkpoint checkpoint() const;
  void rollback(const Checkpoint& checkpoint);
  size_t parameter_count() const;

  // The ops of the function's body so far (outside regions), for a caller
  // that records a stretch of them to append again later (a compiled graph
  // replayed without running its ops' rules again).
  size_t operation_count() const;
  const Operation& operation(size_t index) const;
  // Appends copies of [begin, end) whose values are numbered locally:
  // `values[id]` is the value of local id `id`. Ids the copies use but do not
  // define must be set already; those they define (results, region
  // arguments) get fresh values of `types[id]`, in order. Only outside regions.
  void append_copies(const Operation* begin, const Operation* end,
                     const std::vector<TensorType>& types, std::vector<Value>& values);

  // Ends the function: it returns `results`. The builder must not be used after.
  Function finish(const std::vector<Value>& results);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace torch_pjrt::stablehlo
