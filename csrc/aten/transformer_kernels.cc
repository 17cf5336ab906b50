// The inference fast paths of nn.TransformerEncoderLayer and
// nn.MultiheadAttention. PyTorch takes them for CPU, CUDA and the PrivateUse1
// device alike (eval mode, no grad), through two fused ops that only have CPU
// and CUDA kernels. Here they are the compositions they stand for, made of ops
// with lowering rules; masks follow PyTorch's conventions: a bool mask is true
// where attention is *not* allowed, a float mask is added to the scores.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>

namespace torch_pjrt::aten {

namespace {

// [batch, length, embed] -> [batch, heads, length, embed / heads].
at::Tensor split_heads(const at::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

// The merged mask of MultiheadAttention.merge_masks as an additive float mask
// broadcastable to [batch, heads, length, length]: type 1 is a key padding
// mask [batch, length], anything else an attention mask of rank 2 or 4.
at::Tensor additive_mask(const at::Tensor& mask, std::optional<int64_t> mask_type,
                         const at::Tensor& like) {
  at::Tensor m = mask;
  if (m.scalar_type() == at::kBool) {
    m = at::zeros(m.sizes(), like.options())
            .masked_fill(m, -std::numeric_limits<double>::infinity());
  } else {
    m = m.to(like.scalar_type());
  }
  if (mask_type == 1) return m.view({m.size(0), 1, 1, m.size(1)});
  if (m.dim() == 2) return m.view({1, 1, m.size(0), m.size(1)});
  TORCH_CHECK(m.dim() == 4, "attention: expected a mask of rank 2 or 4, got ", m.sizes());
  return m;
}

struct Attention {
  at::Tensor output;   // [batch, length, embed], after the output projection
  at::Tensor weights;  // [batch, heads, length, length]
};

Attention attend(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                 int64_t embed_dim, int64_t heads, const at::Tensor& qkv_weight,
                 const at::Tensor& qkv_bias, const at::Tensor& proj_weight,
                 const at::Tensor& proj_bias, const std::optional<at::Tensor>& mask,
                 std::optional<int64_t> mask_type) {
  TORCH_CHECK(query.dim() == 3 && embed_dim % heads == 0,
              "attention: expected a [batch, length, embed] query and embed_dim divisible by "
              "num_heads, got ",
              query.sizes(), " with ", heads, " heads");
  std::vector<at::Tensor> w = qkv_weight.chunk(3, 0);
  std::vector<at::Tensor> b = qkv_bias.chunk(3, 0);
  at::Tensor q = split_heads(at::linear(query, w[0], b[0]), heads);
  at::Tensor k = split_heads(at::linear(key, w[1], b[1]), heads);
  at::Tensor v = split_heads(at::linear(value, w[2], b[2]), heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(embed_dim / heads));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul(scale);
  if (mask.has_value() && mask->defined())
    scores = scores.add(additive_mask(*mask, mask_type, scores));
  at::Tensor weights = at::softmax(scores, -1);
  at::Tensor heads_out = at::matmul(weights, v).transpose(1, 2).reshape(query.sizes());
  return {at::linear(heads_out, proj_weight, proj_bias), weights};
}

at::Tensor encoder_layer_forward(const at::Tensor& src, int64_t embed_dim, int64_t num_heads,
                                 const at::Tensor& qkv_weight, const at::Tensor& qkv_bias,
                                 const at::Tensor& proj_weight, const at::Tensor& proj_bias,
                                 bool use_gelu, bool norm_first, double eps,
                                 const at::Tensor& norm_weight_1, const at::Tensor& norm_bias_1,
                                 const at::Tensor& norm_weight_2, const at::Tensor& norm_bias_2,
                                 const at::Tensor& ffn_weight_1, const at::Tensor& ffn_bias_1,
                                 const at::Tensor& ffn_weight_2, const at::Tensor& ffn_bias_2,
                                 const std::optional<at::Tensor>& mask,
                                 std::optional<int64_t> mask_type) {
  auto self_attention = [&](const at::Tensor& x) {
    return attend(x, x, x, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias, mask,
                  mask_type)
        .output;
  };
  auto feed_forward = [&](const at::Tensor& x) {
    at::Tensor hidden = at::linear(x, ffn_weight_1, ffn_bias_1);
    hidden = use_gelu ? at::gelu(hidden) : at::relu(hidden);
    return at::linear(hidden, ffn_weight_2, ffn_bias_2);
  };
  const std::vector<int64_t> normalized{embed_dim};
  auto norm1 = [&](const at::Tensor& x) {
    return at::layer_norm(x, normalized, norm_weight_1, norm_bias_1, eps);
  };
  auto norm2 = [&](const at::Tensor& x) {
    return at::layer_norm(x, normalized, norm_weight_2, norm_bias_2, eps);
  };
  if (norm_first) {
    at::Tensor x = src.add(self_attention(norm1(src)));
    return x.add(feed_forward(norm2(x)));
  }
  at::Tensor x = norm1(src.add(self_attention(src)));
  return norm2(x.add(feed_forward(x)));
}

std::tuple<at::Tensor, at::Tensor> multi_head_attention_forward(
    const at::Tensor& query, const at::Tensor& key, const at::Tensor& value, int64_t embed_dim,
    int64_t num_heads, const at::Tensor& qkv_weight, const at::Tensor& qkv_bias,
    const at::Tensor& proj_weight, const at::Tensor& proj_bias,
    const std::optional<at::Tensor>& mask, bool need_weights, bool average_attn_weights,
    std::optional<int64_t> mask_type) {
  Attention a = attend(query, key, value, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight,
                       proj_bias, mask, mask_type);
  if (!need_weights) return {a.output, at::Tensor()};
  return {a.output, average_attn_weights ? a.weights.mean(1) : a.weights};
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("_transformer_encoder_layer_fwd", &encoder_layer_forward);
  m.impl("_native_multi_head_attention", &multi_head_attention_forward);
}

}  // namespace torch_pjrt::aten
