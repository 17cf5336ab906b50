// Random ops whose out= form is not "the functional result copied into out".
#include <torch/library.h>

namespace torch_pjrt::aten {

namespace {

// bernoulli.out(self, generator, out): as on CPU, out takes self's shape and
// is filled in place with draws of probability self, in out's own dtype, so
// an integer or bool out is allowed where a cast of a float result would not be.
at::Tensor& bernoulli_out(const at::Tensor& self, std::optional<at::Generator> generator,
                          at::Tensor& out) {
  out.resize_(self.sizes());
  return out.bernoulli_(self, std::move(generator));
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) { m.impl("bernoulli.out", TORCH_FN(bernoulli_out)); }

}  // namespace torch_pjrt::aten
