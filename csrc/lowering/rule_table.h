#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lowering/op_call.h"

namespace torch_pjrt::lowering {

// Emits the StableHLO for one call and returns its results in schema order.
using Rule = std::vector<Value> (*)(Builder& b, const OpCall& call);

struct RuleInfo {
  Rule rule = nullptr;
  // Positions of `Scalar` arguments whose values shape the program (baked in as
  // constants and part of the cache key) instead of being run-time inputs.
  std::vector<int> static_scalar_args{};
  // The op samples randomly but its schema has no Generator (native_dropout):
  // the caller appends a fresh u64[2] key from the device's default generator
  // as one more argument, after the schema's.
  bool needs_rng_key = false;
  // Arguments the op writes although its schema does not say so
  // (native_batch_norm's running statistics): the rule returns their new
  // values after the schema's results, and the caller writes them back.
  std::vector<int> unlisted_mutated_args{};
  // The op's `Scalar` arguments become values of a tensor dtype in CPU's
  // kernel (Scalar::to<T>, which raises on overflow: uint8 fill_(300)): of
  // self's dtype (fills), or of the result's, self's promoted with the
  // Scalars (clamp of an integer tensor with float bounds computes in float).
  enum class ScalarRange { kUnchecked, kSelfDtype, kResultDtype };
  ScalarRange scalar_range = ScalarRange::kUnchecked;
};

// A rule whose Scalar arguments must fit a dtype (RuleInfo::scalar_range).
inline RuleInfo with_scalar_range(Rule rule, RuleInfo::ScalarRange range) {
  RuleInfo info{rule};
  info.scalar_range = range;
  return info;
}

// Keyed by the functional op's name without namespace or overload ("add").
class RuleTable {
 public:
  void add(std::string name, RuleInfo info);
  const RuleInfo* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::unordered_map<std::string, RuleInfo> rules_;
};

// The process-wide table, filled once from every family below.
const RuleTable& rule_table();

// One function per family, each in its own file.
void add_elementwise_rules(RuleTable& table);
void add_math_function_rules(RuleTable& table);
void add_activation_rules(RuleTable& table);
void add_comparison_rules(RuleTable& table);
void add_reduction_rules(RuleTable& table);
void add_linalg_rules(RuleTable& table);
void add_cholesky_rules(RuleTable& table);
void add_triangular_solve_rules(RuleTable& table);
void add_lu_rules(RuleTable& table);
void add_qr_rules(RuleTable& table);
void add_eigh_rules(RuleTable& table);
void add_svd_rules(RuleTable& table);
void add_lstsq_rules(RuleTable& table);
void add_matrix_exp_rules(RuleTable& table);
void add_ldl_rules(RuleTable& table);
void add_softmax_loss_rules(RuleTable& table);
void add_shape_rules(RuleTable& table);
void add_indexing_rules(RuleTable& table);
void add_factory_rules(RuleTable& table);
void add_random_rules(RuleTable& table);
void add_normalization_rules(RuleTable& table);
void add_recurrent_rules(RuleTable& table);
void add_layer_norm_rules(RuleTable& table);
void add_sorting_rules(RuleTable& table);
void add_scan_rules(RuleTable& table);
void add_search_rules(RuleTable& table);
void add_histogram_rules(RuleTable& table);
void add_convolution_rules(RuleTable& table);
void add_pooling_rules(RuleTable& table);
void add_fractional_pooling_rules(RuleTable& table);
void add_padding_rules(RuleTable& table);
void add_upsample_rules(RuleTable& table);
void add_grid_sampler_rules(RuleTable& table);
void add_fft_rules(RuleTable& table);
void add_complex_number_rules(RuleTable& table);
void add_float_part_rules(RuleTable& table);
void add_vector_rules(RuleTable& table);
void add_orthogonal_polynomial_rules(RuleTable& table);
void add_bessel_rules(RuleTable& table);
void add_special_function_rules(RuleTable& table);
void add_mask_compaction_rules(RuleTable& table);
void add_margin_loss_rules(RuleTable& table);
void add_sliding_window_rules(RuleTable& table);
void add_index_reduce_rules(RuleTable& table);
void add_unpooling_rules(RuleTable& table);
void add_distance_rules(RuleTable& table);
void add_embedding_bag_rules(RuleTable& table);
void add_segment_reduce_rules(RuleTable& table);
void add_ctc_loss_rules(RuleTable& table);
void add_integer_bit_rules(RuleTable& table);
void add_multinomial_rules(RuleTable& table);

}  // namespace torch_pjrt::lowering
