// Neuron report (see neuron_report.h). Legend: S sequences, T tokens, C channels,
// K picks, M neurons per channel, L recorded layers.
#include "eval/neuron_report.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "eval/npy.h"
#include "tensor/tensor.h"
#include "util/error.h"
#include "util/file_io.h"

namespace sg {

namespace {

template <typename T>
std::vector<T> npy_values(const std::string& path, const char* descr,
                          const std::vector<int64_t>& shape) {
  const NpyArray a = read_npy(path);
  SG_CHECK(a.descr == descr && a.shape == shape, path, ": expected ", descr, " ", shape_str(shape),
           ", got ", a.descr, " ", shape_str(a.shape));
  std::vector<T> v(a.numel());
  std::memcpy(v.data(), a.bytes.data(), a.bytes.size());
  return v;
}

// Sorted ids (layer, channel, neuron) of one token's picks.
std::vector<int64_t> pattern(const ScopeData& d, int64_t token) {
  const int64_t CK = d.C * d.K;
  std::vector<int64_t> keys;
  for (size_t l = 0; l < d.layers.size(); ++l)
    for (int64_t j = 0; j < CK; ++j)
      keys.push_back((static_cast<int64_t>(l) * d.C + j / d.K) * d.M +
                     d.layers[l].idx_SxTxCxK[token * CK + j]);
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::string fmt(const char* f, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

// Piece as text: sentencepiece's word mark "▁" becomes a space.
std::string piece_text(const std::string& p) {
  std::string o;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p.compare(i, 3, "\xe2\x96\x81") == 0) {
      o += ' ';
      i += 2;
    } else {
      o += p[i];
    }
  }
  return o;
}

ScopeData load_scope(const std::string& dir) {
  const std::filesystem::path root(dir);
  const auto index = nlohmann::json::parse(read_file((root / "index.json").string()));
  SG_CHECK(index.value("format", "") == "sgatlin-scope-1", dir,
           "/index.json: not a sgatlin scope index (format ", index.value("format", "?"), ")");
  ScopeData d;
  d.S = index.at("sequences");
  d.T = index.at("seq_len");
  d.C = index.at("n_channels");
  d.K = index.at("knn");
  d.M = index.at("n_neurons");
  d.checkpoint = index.value("checkpoint", "");
  d.data = index.value("data", "");
  d.ffw_type = index.value("ffw_type", "");
  d.model_fingerprint = index.value("model_fnv1a64", "");
  d.tokens_SxT = npy_values<int32_t>((root / index.at("tokens").get<std::string>()).string(), "<i4",
                                     {d.S, d.T});
  const auto& pieces = index.at("pieces");
  SG_CHECK(static_cast<int64_t>(pieces.size()) == d.S, dir, "/index.json: ", pieces.size(),
           " piece lists for ", d.S, " sequences");
  for (const auto& seq : pieces) {
    SG_CHECK(static_cast<int64_t>(seq.size()) == d.T, dir, "/index.json: a piece list of ",
             seq.size(), " tokens, expected ", d.T);
    for (const auto& p : seq) d.pieces_SxT.push_back(p.get<std::string>());
  }
  for (const auto& l : index.at("layers")) {
    ScopeLayer sl;
    sl.layer = l.at("layer");
    const std::vector<int64_t> shape = {d.S, d.T, d.C, d.K};
    sl.idx_SxTxCxK =
        npy_values<int32_t>((root / l.at("indices").get<std::string>()).string(), "<i4", shape);
    sl.scores_SxTxCxK =
        npy_values<float>((root / l.at("scores").get<std::string>()).string(), "<f4", shape);
    for (int32_t i : sl.idx_SxTxCxK)
      SG_CHECK(0 <= i && i < d.M, dir, ": layer ", sl.layer, " records neuron ", i, " outside [0, ",
               d.M, ")");
    d.layers.push_back(std::move(sl));
  }
  return d;
}

std::vector<NeuronEntry> top_neurons(const ScopeData& d, int64_t top, int64_t n_contexts) {
  std::vector<NeuronEntry> out;
  const int64_t N = d.S * d.T;
  for (const ScopeLayer& l : d.layers)
    for (int64_t c = 0; c < d.C; ++c) {
      std::vector<int64_t> count(d.M, 0);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < d.K; ++k) ++count[l.idx_SxTxCxK[(n * d.C + c) * d.K + k]];
      std::vector<int64_t> order(d.M);
      for (int64_t i = 0; i < d.M; ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return count[a] > count[b]; });
      for (int64_t r = 0; r < std::min(top, d.M) && count[order[r]] > 0; ++r) {
        NeuronEntry e{l.layer, c, order[r], count[order[r]], {}};
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < d.K; ++k) {
            const int64_t j = (n * d.C + c) * d.K + k;
            if (l.idx_SxTxCxK[j] == e.neuron)
              e.contexts.push_back({n / d.T, n % d.T, l.scores_SxTxCxK[j]});
          }
        // Token order already breaks ties (stable sort on score).
        std::stable_sort(e.contexts.begin(), e.contexts.end(),
                         [](const Context& a, const Context& b) { return a.score > b.score; });
        if (static_cast<int64_t>(e.contexts.size()) > n_contexts) e.contexts.resize(n_contexts);
        out.push_back(std::move(e));
      }
    }
  return out;
}

std::vector<Neighbour> nearest_tokens(const ScopeData& d, int64_t seq, int64_t pos, int64_t n) {
  SG_CHECK(0 <= seq && seq < d.S && 0 <= pos && pos < d.T, "neuron report: token (", seq, ", ", pos,
           ") outside ", d.S, " sequences of ", d.T);
  const int64_t self = seq * d.T + pos;
  const std::vector<int64_t> a = pattern(d, self);
  const double norm = static_cast<double>(a.size());  // |a| = |b| = L*C*K picks
  std::vector<Neighbour> all;
  for (int64_t t = 0; t < d.S * d.T; ++t) {
    if (t == self) continue;
    const std::vector<int64_t> b = pattern(d, t);
    int64_t shared = 0;
    for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
      if (a[i] == b[j])
        ++shared, ++i, ++j;
      else if (a[i] < b[j])
        ++i;
      else
        ++j;
    }
    all.push_back({t / d.T, t % d.T, norm > 0 ? shared / norm : 0});
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Neighbour& x, const Neighbour& y) { return x.cosine > y.cosine; });
  if (static_cast<int64_t>(all.size()) > n) all.resize(n);
  return all;
}

std::string context_text(const ScopeData& d, int64_t seq, int64_t pos, int64_t left,
                         int64_t right) {
  std::string o;
  for (int64_t t = std::max<int64_t>(0, pos - left); t <= std::min(d.T - 1, pos + right); ++t) {
    const std::string p = piece_text(d.pieces_SxT[seq * d.T + t]);
    o += t == pos ? "[" + p + "]" : p;
  }
  return o;
}

std::string neuron_report_text(const ScopeData& d, const ReportOptions& o) {
  const int64_t left = 5, right = 2;
  const std::vector<NeuronEntry> neurons = top_neurons(d, o.top_neurons, o.contexts);
  std::vector<std::pair<int64_t, int64_t>> samples;  // evenly spaced, skipping each leading eos
  const int64_t total = d.S * (d.T - 1),
                step = std::max<int64_t>(1, total / std::max<int64_t>(1, o.sample_tokens));
  for (int64_t i = 0; i < total && static_cast<int64_t>(samples.size()) < o.sample_tokens;
       i += step)
    samples.push_back({i / (d.T - 1), 1 + i % (d.T - 1)});

  std::ostringstream txt;
  txt << "sgatlin neuron report\ncheckpoint " << d.checkpoint << "\ndata " << d.data << "\n"
      << d.S << " sequences x " << d.T << " tokens, " << d.ffw_type << ", " << d.C
      << " channels, K " << d.K << " of " << d.M
      << " neurons\n\n== Most used neurons (count of picks) and their "
      << "strongest contexts ==\n";
  int64_t cur_layer = -1, cur_channel = -1;
  for (const NeuronEntry& e : neurons) {
    if (e.layer != cur_layer || e.channel != cur_channel) {
      txt << "\nlayer " << e.layer << " channel " << e.channel << "\n";
      cur_layer = e.layer;
      cur_channel = e.channel;
    }
    txt << "  neuron " << e.neuron << " (" << e.count << " picks)\n";
    for (const Context& c : e.contexts)
      txt << "    " << fmt("%8.3g", c.score) << "  " << context_text(d, c.seq, c.pos, left, right)
          << "\n";
  }
  txt << "\n== Tokens with the nearest gating patterns (cosine of pick sets) ==\n";
  for (const auto& [seq, pos] : samples) {
    txt << "\n" << context_text(d, seq, pos, left, right) << "\n";
    for (const Neighbour& nb : nearest_tokens(d, seq, pos, o.neighbours))
      txt << "    " << fmt("%.3f", nb.cosine) << "  "
          << context_text(d, nb.seq, nb.pos, left, right) << "\n";
  }
  return txt.str();
}

}  // namespace sg
