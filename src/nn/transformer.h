// The decoder-only transformer of spec §1: tied embeddings, pre-norm blocks with
// QK-normed RoPE attention and a pluggable feedforward, final RMSNorm, fp32 logits.
// Legend: B batch, T time, S cached time, D d_model, H heads, Dh head dim, V vocab.
#pragma once
#include <memory>
#include <vector>

#include "autograd/param_store.h"
#include "autograd/tape.h"
#include "nn/feedforward.h"
#include "nn/model_config.h"

namespace sg {

// Keys and values of every layer seen so far, for incremental decoding.
struct KVCache {
  std::vector<Tensor> k_BxSxHxDh, v_BxSxHxDh;
  int64_t length() const { return k_BxSxHxDh.empty() ? 0 : k_BxSxHxDh[0].dim(1); }
};

class Transformer {
 public:
  // Builds and initialises every parameter (spec §3) from `seed`.
  Transformer(const ModelConfig& cfg, uint64_t seed);

  const ModelConfig& config() const { return cfg_; }
  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  FeedForward& ffw(int64_t layer) { return *blocks_.at(layer).ffn; }

  // tokens [B, T] -> logits [B*T, V].
  VarP forward(Tape& tape, const IntTensor& tokens_BxT);
  // Appends tokens [B, T] to `cache` and returns their logits [B*T, V] (no grad).
  Tensor forward_cached(const IntTensor& tokens_BxT, KVCache& cache);

 private:
  struct Block {
    VarP attention_norm, wq, wk, wv, wo, q_norm, k_norm, ffn_norm;
    std::unique_ptr<FeedForward> ffn;
  };
  // pos: absolute position of the first of the T tokens (cache length before the call).
  VarP attention(Tape& tape, const Block& blk, const VarP& x_BxTxD, KVCache* cache, int64_t pos,
                 int64_t layer);
  VarP block(Tape& tape, const Block& blk, const VarP& h_BxTxD, KVCache* cache, int64_t pos,
             int64_t layer);
  VarP run(Tape& tape, const IntTensor& tokens_BxT, KVCache* cache);

  ModelConfig cfg_;
  ParamStore params_;
  VarP tok_embeddings_, norm_;
  std::vector<Block> blocks_;
};

}  // namespace sg
