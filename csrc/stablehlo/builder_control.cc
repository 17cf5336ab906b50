#include "stablehlo/builder.h"
#include "stablehlo/builder_impl.h"

namespace torch_pjrt::stablehlo {

std::vector<Value> Builder::while_loop(const std::vector<Value>& initial,
                                       const RegionBody& condition, const RegionBody& body) {
  constexpr std::string_view kOp = "stablehlo.while";
  impl_->check_open(kOp);
  for (Value v : initial) impl_->check_operand(kOp, v);
  std::vector<TensorType> types;
  types.reserve(initial.size());
  for (Value v : initial) types.push_back(type(v));
  std::vector<Block> regions;
  regions.push_back(impl_->build_region(*this, kOp, types, condition));
  detail::check_region_yields(*this, std::string(kOp) + " condition", regions[0],
                              {detail::scalar(ElementType::kPred)});
  regions.push_back(impl_->build_region(*this, kOp, types, body));
  detail::check_region_yields(*this, kOp, regions[1], types);
  return impl_->append(kOp, initial, types, {}, std::move(regions));
}

}  // namespace torch_pjrt::stablehlo
