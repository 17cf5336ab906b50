#include "lowering/rule_table.h"

#include <algorithm>
#include <stdexcept>

namespace torch_pjrt::lowering {

// Each family lands in its own file, written independently. Until every family
// exists, its add_*_rules is declared weak: a missing one has address nullptr
// and is skipped, so the library links at every stage. Caveat: a weak undefined
// reference does not make the linker pull an object out of a static archive, so
// a binary that links torch_pjrt_lowering as a plain static library only gets
// the families something else references. Once all ten families exist these
// weak attributes should go (or the library be linked whole-archive).
[[gnu::weak]] void add_elementwise_rules(RuleTable& table);
[[gnu::weak]] void add_activation_rules(RuleTable& table);
[[gnu::weak]] void add_comparison_rules(RuleTable& table);
[[gnu::weak]] void add_reduction_rules(RuleTable& table);
[[gnu::weak]] void add_linalg_rules(RuleTable& table);
[[gnu::weak]] void add_softmax_loss_rules(RuleTable& table);
[[gnu::weak]] void add_shape_rules(RuleTable& table);
[[gnu::weak]] void add_indexing_rules(RuleTable& table);
[[gnu::weak]] void add_factory_rules(RuleTable& table);
[[gnu::weak]] void add_random_rules(RuleTable& table);

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
    for (auto* add_family :
         {&add_elementwise_rules, &add_activation_rules, &add_comparison_rules,
          &add_reduction_rules, &add_linalg_rules, &add_softmax_loss_rules, &add_shape_rules,
          &add_indexing_rules, &add_factory_rules, &add_random_rules}) {
      if (add_family != nullptr) add_family(t);
    }
    return t;
  }();
  return table;
}

}  // namespace torch_pjrt::lowering
