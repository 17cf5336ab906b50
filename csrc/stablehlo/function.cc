#include "stablehlo/function.h"

namespace torch_pjrt::stablehlo {

std::vector<TensorType> Function::parameter_types() const {
  std::vector<TensorType> types;
  types.reserve(body.arguments.size());
  for (Value v : body.arguments) types.push_back(type(v));
  return types;
}

std::vector<TensorType> Function::result_types() const {
  std::vector<TensorType> types;
  types.reserve(results.size());
  for (Value v : results) types.push_back(type(v));
  return types;
}

Operation renumbered(const Operation& op, const std::function<Value(Value)>& use,
                     const std::function<Value(Value)>& define,
                     const std::function<void(bool entering)>& region) {
  Operation copy;
  copy.name = op.name;
  copy.attributes = op.attributes;
  copy.operands.reserve(op.operands.size());
  for (Value v : op.operands) copy.operands.push_back(use(v));
  copy.regions.reserve(op.regions.size());
  for (const Block& inner : op.regions) {
    if (region) region(true);
    Block block;
    for (Value v : inner.arguments) block.arguments.push_back(define(v));
    block.operations.reserve(inner.operations.size());
    for (const Operation& nested : inner.operations) {
      block.operations.push_back(renumbered(nested, use, define, region));
    }
    if (region) region(false);
    copy.regions.push_back(std::move(block));
  }
  copy.results.reserve(op.results.size());
  for (Value v : op.results) copy.results.push_back(define(v));
  return copy;
}

}  // namespace torch_pjrt::stablehlo
