#include "nn/transformer.h"

#include <cmath>

#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"
#include "ops/view.h"
#include "tensor/rng.h"

namespace sg {

namespace {

VarP linear_param(ParamStore& ps, const std::string& name, int64_t out, int64_t in, uint64_t seed) {
  Tensor w = Tensor::empty({out, in});
  fill_truncated_normal(w, {seed, stream_of(name)}, 1.0f / std::sqrt(static_cast<float>(in)));
  return ps.add(name, w);
}

VarP norm_param(ParamStore& ps, const std::string& name, int64_t dim) {
  return ps.add(name, Tensor::full({dim}, 1.0f));
}

// [B, S, H, Dh] ++ [B, T, H, Dh] along S.
Tensor concat_time(const Tensor& a_BxSxHxDh, const Tensor& b_BxTxHxDh) {
  if (!a_BxSxHxDh.defined()) return b_BxTxHxDh.clone();
  const int64_t B = a_BxSxHxDh.dim(0), S = a_BxSxHxDh.dim(1), T = b_BxTxHxDh.dim(1);
  const int64_t row = a_BxSxHxDh.numel() / (B * S);
  Tensor out = Tensor::empty({B, S + T, a_BxSxHxDh.dim(2), a_BxSxHxDh.dim(3)});
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(a_BxSxHxDh.data() + b * S * row, S * row, out.data() + b * (S + T) * row);
    std::copy_n(b_BxTxHxDh.data() + b * T * row, T * row, out.data() + (b * (S + T) + S) * row);
  }
  return out;
}

}  // namespace

Transformer::Transformer(const ModelConfig& cfg, uint64_t seed) : cfg_(cfg) {
  const int64_t D = cfg.d_model, V = cfg.vocab_size, Dh = cfg.d_heads, HDh = cfg.n_heads() * Dh;
  SG_CHECK(D % Dh == 0, "model: d_model = ", D, " is not divisible by d_heads = ", Dh);
  Tensor emb = Tensor::empty({V, D});
  fill_normal(emb, {seed, stream_of("tok_embeddings.weight")}, 0.0f,
              1.0f / std::sqrt(static_cast<float>(D)));
  tok_embeddings_ = params_.add("tok_embeddings.weight", emb);
  for (int64_t i = 0; i < cfg.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    Block b;
    b.attention_norm = norm_param(params_, p + "attention_norm.weight", D);
    b.wq = linear_param(params_, p + "attention.wq.weight", HDh, D, seed);
    b.wk = linear_param(params_, p + "attention.wk.weight", HDh, D, seed);
    b.wv = linear_param(params_, p + "attention.wv.weight", HDh, D, seed);
    b.wo = linear_param(params_, p + "attention.wo.weight", D, HDh, seed);
    b.q_norm = norm_param(params_, p + "attention.q_norm.weight", Dh);
    b.k_norm = norm_param(params_, p + "attention.k_norm.weight", Dh);
    b.ffn_norm = norm_param(params_, p + "ffn_norm.weight", D);
    b.ffn = make_feedforward(cfg.ffw, D, p + "ffn", params_, seed);
    blocks_.push_back(std::move(b));
  }
  norm_ = norm_param(params_, "norm.weight", D);
}

VarP Transformer::attention(Tape& tape, const Block& blk, const VarP& x_BxTxD, KVCache* cache,
                            int64_t pos, int64_t layer) {
  const int64_t B = x_BxTxD->value.dim(0), T = x_BxTxD->value.dim(1);
  const int64_t H = cfg_.n_heads(), Dh = cfg_.d_heads;
  auto heads = [&](const VarP& w, const VarP& qk_norm) {
    VarP y_BxTxHxDh = view(tape, linear(tape, x_BxTxD, w), {B, T, H, Dh});
    return qk_norm ? rope(tape, rmsnorm(tape, y_BxTxHxDh, qk_norm), pos) : y_BxTxHxDh;
  };
  VarP q_BxTxHxDh = heads(blk.wq, blk.q_norm);
  VarP k_BxSxHxDh = heads(blk.wk, blk.k_norm);
  VarP v_BxSxHxDh = heads(blk.wv, nullptr);
  if (cache) {  // decoding: attend over everything cached so far plus the new tokens
    if (static_cast<int64_t>(cache->k_BxSxHxDh.size()) <= layer) {
      cache->k_BxSxHxDh.resize(layer + 1);
      cache->v_BxSxHxDh.resize(layer + 1);
    }
    cache->k_BxSxHxDh[layer] = concat_time(cache->k_BxSxHxDh[layer], k_BxSxHxDh->value);
    cache->v_BxSxHxDh[layer] = concat_time(cache->v_BxSxHxDh[layer], v_BxSxHxDh->value);
    k_BxSxHxDh = make_var(cache->k_BxSxHxDh[layer]);
    v_BxSxHxDh = make_var(cache->v_BxSxHxDh[layer]);
  }
  VarP o_BxTxHxDh = causal_attention(tape, q_BxTxHxDh, k_BxSxHxDh, v_BxSxHxDh);
  return linear(tape, view(tape, o_BxTxHxDh, {B, T, H * Dh}), blk.wo);
}

VarP Transformer::block(Tape& tape, const Block& blk, const VarP& h_BxTxD, KVCache* cache,
                        int64_t pos, int64_t layer) {
  VarP h = add(tape, h_BxTxD,
               attention(tape, blk, rmsnorm(tape, h_BxTxD, blk.attention_norm), cache, pos, layer));
  const Shape shape_BxTxD = h->value.shape();
  VarP x_NxD = view(tape, rmsnorm(tape, h, blk.ffn_norm), {-1, cfg_.d_model});
  return add(tape, h, view(tape, blk.ffn->forward(tape, x_NxD), shape_BxTxD));
}

VarP Transformer::run(Tape& tape, const IntTensor& tokens_BxT, KVCache* cache) {
  SG_CHECK(tokens_BxT.rank() == 2, "transformer: tokens have shape ", shape_str(tokens_BxT.shape()),
           ", expected [B, T]");
  // Read once: layer 0's cache grows before the later layers run.
  const int64_t pos = cache ? cache->length() : 0;
  VarP h_BxTxD = embedding(tape, tokens_BxT, tok_embeddings_);
  for (int64_t i = 0; i < cfg_.n_layers; ++i) {
    tape.mark();  // layer i's records start here (data-parallel gradient buckets)
    h_BxTxD = block(tape, blocks_[i], h_BxTxD, cache, pos, i);
  }
  VarP h_NxD = view(tape, rmsnorm(tape, h_BxTxD, norm_), {-1, cfg_.d_model});
  return linear(tape, h_NxD, tok_embeddings_);  // tied: logits = h E^T
}

VarP Transformer::forward(Tape& tape, const IntTensor& tokens_BxT) {
  return run(tape, tokens_BxT, nullptr);
}

Tensor Transformer::forward_cached(const IntTensor& tokens_BxT, KVCache& cache) {
  Tape tape;
  tape.set_recording(false);
  return run(tape, tokens_BxT, &cache)->value;
}

}  // namespace sg
