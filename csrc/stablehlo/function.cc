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

}  // namespace torch_pjrt::stablehlo
