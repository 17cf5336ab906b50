#include "lowering/rule_table.h"

#include <algorithm>
#include <stdexcept>

namespace torch_pjrt::lowering {

void RuleTable::add(std::string name, RuleInfo info) {
  if (info.rule == nullptr) throw std::logic_error("rule for " + name + " is null");
  auto [it, inserted] = rules_.emplace(name, std::move(info));
  // Two families claiming one op is a programming error, found at startup.
  if (!inserted) throw std::logic_error("two rules registered for " + name);
}

const RuleInfo* RuleTable::find(std::string_view name) const {
  auto it = rules_.find(std::string(name));
  return it == rules_.end() ? nullptr : &it->second;
}

std::vector<std::string> RuleTable::names() const {
  std::vector<std::string> result;
  result.reserve(rules_.size());
  for (const auto& [name, info] : rules_) result.push_back(name);
  std::sort(result.begin(), result.end());
  return result;
}

const RuleTable& rule_table() {
  // Built once on first use (thread-safe static initialization), then read-only.
  static const RuleTable table = [] {
    RuleTable t;
    add_elementwise_rules(t);
    add_math_function_rules(t);
    add_activation_rules(t);
    add_comparison_rules(t);
    add_reduction_rules(t);
    add_linalg_rules(t);
    add_cholesky_rules(t);
    add_triangular_solve_rules(t);
    add_lu_rules(t);
    add_qr_rules(t);
    add_eigh_rules(t);
    add_svd_rules(t);
    add_lstsq_rules(t);
    add_matrix_exp_rules(t);
    add_ldl_rules(t);
    add_softmax_loss_rules(t);
    add_shape_rules(t);
    add_indexing_rules(t);
    add_factory_rules(t);
    add_random_rules(t);
    add_normalization_rules(t);
    add_recurrent_rules(t);
    add_layer_norm_rules(t);
    add_sorting_rules(t);
    add_scan_rules(t);
    add_search_rules(t);
    add_histogram_rules(t);
    add_convolution_rules(t);
    add_pooling_rules(t);
    add_fractional_pooling_rules(t);
    add_padding_rules(t);
    add_upsample_rules(t);
    add_grid_sampler_rules(t);
    add_fft_rules(t);
    add_complex_number_rules(t);
    add_float_part_rules(t);
    add_vector_rules(t);
    add_orthogonal_polynomial_rules(t);
    add_bessel_rules(t);
    add_special_function_rules(t);
    add_mask_compaction_rules(t);
    add_margin_loss_rules(t);
    add_sliding_window_rules(t);
    add_index_reduce_rules(t);
    add_unpooling_rules(t);
    add_distance_rules(t);
    add_embedding_bag_rules(t);
    add_segment_reduce_rules(t);
    add_ctc_loss_rules(t);
    add_integer_bit_rules(t);
    add_multinomial_rules(t);
    return t;
  }();
  return table;
}

}  // namespace torch_pjrt::lowering
