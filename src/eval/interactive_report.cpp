// The interactive report (see interactive_report.h): lens, CKA, co-activation, kNN graphs
// for the maps, the page data for tools/report/build.mjs, and report.txt.
// Legend: S sequences, T tokens, N = S*T, C channels, K picks, M neurons, P lens tables.
#include "eval/interactive_report.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "eval/cka.h"
#include "eval/coactivation.h"
#include "eval/knn.h"
#include "eval/lens.h"
#include "eval/npy.h"
#include "eval/usage.h"
#include "nn/ffw_types.h"
#include "util/error.h"
#include "util/file_io.h"

extern char** environ;

namespace fs = std::filesystem;

namespace sg {

namespace {

double round3(double v) { return std::round(v * 1000) / 1000; }

std::string fmt(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::vector<const ScopeLayer*> chosen_layers(const ScopeData& d,
                                             const std::vector<int64_t>& layers) {
  std::vector<const ScopeLayer*> out;
  std::string recorded;
  for (const ScopeLayer& l : d.layers)
    recorded += (recorded.empty() ? "" : ", ") + std::to_string(l.layer);
  if (layers.empty()) {
    for (const ScopeLayer& l : d.layers) out.push_back(&l);
    return out;
  }
  for (int64_t want : layers) {
    auto it = std::find_if(d.layers.begin(), d.layers.end(),
                           [&](const ScopeLayer& l) { return l.layer == want; });
    SG_CHECK(it != d.layers.end(), "report: layer ", want,
             " was not recorded (recorded layers: ", recorded, ")");
    out.push_back(&*it);
  }
  return out;
}

// peer keeps one expert table shared by its heads (spec §2.5).
int64_t lens_tables(const ScopeData& d) {
  return ffw_type(d.ffw_type).type == FfwType::peer ? 1 : d.C;
}

struct NeuronContexts {
  std::vector<std::vector<Context>> by_neuron;  // [C*M], strongest first, at most n each
};

// Every neuron's strongest picks in one pass over the records.
NeuronContexts all_contexts(const ScopeData& d, const ScopeLayer& l, int64_t n) {
  NeuronContexts r;
  r.by_neuron.resize(d.C * d.M);
  const int64_t N = d.S * d.T;
  for (int64_t t = 0; t < N; ++t)
    for (int64_t c = 0; c < d.C; ++c)
      for (int64_t k = 0; k < d.K; ++k) {
        const int64_t j = (t * d.C + c) * d.K + k;
        r.by_neuron[c * d.M + l.idx_SxTxCxK[j]].push_back({t / d.T, t % d.T, l.scores_SxTxCxK[j]});
      }
  for (auto& v : r.by_neuron) {
    const size_t keep = std::min<size_t>(v.size(), static_cast<size_t>(n));
    std::partial_sort(v.begin(), v.begin() + keep, v.end(), [](const Context& a, const Context& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.seq != b.seq ? a.seq < b.seq : a.pos < b.pos;
    });
    v.resize(keep);
  }
  return r;
}

// Runs `node build.mjs data html` from tools_dir; throws with what to do when it fails.
void run_node(const std::string& tools_dir, const std::string& data, const std::string& html) {
  const std::string script = (fs::path(tools_dir) / "build.mjs").string();
  SG_CHECK(
      fs::exists(fs::path(tools_dir) / "node_modules" / "umap-js"), "report: ", tools_dir,
      "/node_modules has no umap-js: run `npm ci` there (scripts/install_report_tools.sh does), or "
      "set SGATLIN_REPORT_TOOLS to a tools/report folder that has it");
  std::vector<std::string> args = {"node", script, data, html};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, "node", nullptr, nullptr, argv.data(), environ);
  SG_CHECK(err == 0, "report: cannot run node (Debian's nodejs package): ", std::strerror(err));
  int status = 0;
  SG_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "report: `node ", script, "` failed (status ", status, "); its message is above");
}

}  // namespace

void check_scope_matches(const ScopeData& d, const ReportModel& m,
                         const std::vector<int64_t>& layers) {
  if (!d.model_fingerprint.empty()) {
    SG_CHECK(d.model_fingerprint == m.fingerprint,
             "report: the scope records come from checkpoint ", d.checkpoint,
             " (model.safetensors fnv1a64 ", d.model_fingerprint, "), not from ", m.dir, " (",
             m.fingerprint, "): record them again with `sgatlin scope --checkpoint ", m.dir, "`");
  } else {
    std::error_code ec;  // a missing path is simply not the same checkpoint
    SG_CHECK(fs::equivalent(d.checkpoint, m.dir, ec),
             "report: the scope records carry no model "
             "fingerprint and were made from ",
             d.checkpoint, ", not ", m.dir);
  }
  for (const ScopeLayer* l : chosen_layers(d, layers)) {
    const auto it = m.layers.find(l->layer);
    if (it == m.layers.end()) continue;  // moe: no single-neuron tables, so no lens
    SG_CHECK(it->second.P == lens_tables(d) && it->second.M == d.M, "report: layer ", l->layer,
             " of ", m.dir, " has ", it->second.P, " tables of ", it->second.M,
             " neurons; the records have ", d.C, " channels of ", d.M);
  }
  for (int32_t t : d.tokens_SxT)
    SG_CHECK(0 <= t && t < m.V, "report: the records hold token ", t,
             ", outside the checkpoint's vocab ", m.V);
}

namespace {

// One layer's lens, table by table, rows concatenated to [P * M, k].
NeuronLens layer_lens(const ScopeData& d, const ReportModel& m, const LensLayer& L, int64_t k) {
  NeuronLens lens;
  for (int64_t p = 0; p < L.P; ++p) {
    const NeuronLens t =
        neuron_lens(L.w_in_PxMxD.data() + p * d.M * m.D, L.w_out_PxMxD.data() + p * d.M * m.D, d.M,
                    m.E_VxD.data(), m.V, m.D, m.final_scale_D.data(), L.ffn_scale_D.data(), k);
    for (auto [dst, src] :
         {std::pair{&lens.out_top, &t.out_top}, std::pair{&lens.out_bottom, &t.out_bottom},
          std::pair{&lens.in_top, &t.in_top}}) {
      dst->N += src->N, dst->k = k;
      dst->ids_NxK.insert(dst->ids_NxK.end(), src->ids_NxK.begin(), src->ids_NxK.end());
      dst->values_NxK.insert(dst->values_NxK.end(), src->values_NxK.begin(), src->values_NxK.end());
    }
  }
  return lens;
}

// CKA of the input embeddings against each layer's gating, and between layers.
nlohmann::json cka_json(const ScopeData& d, const ReportModel& m,
                        const std::vector<const ScopeLayer*>& layers, std::ostringstream& txt) {
  const int64_t N = d.S * d.T;
  std::vector<double> X(N * m.D);
  for (int64_t t = 0; t < N; ++t)
    for (int64_t e = 0; e < m.D; ++e) X[t * m.D + e] = m.E_VxD[d.tokens_SxT[t] * m.D + e];
  std::vector<PickMatrix> picks;
  for (const ScopeLayer* l : layers) picks.push_back({l->idx_SxTxCxK.data(), N, d.C, d.K, d.M});
  nlohmann::json emb = nlohmann::json::array(), between = nlohmann::json::array();
  txt << "== Linear CKA: input embeddings vs each layer's gating, and between layers ==\n";
  for (size_t a = 0; a < layers.size(); ++a) {
    const double ce = linear_cka_picks(X, m.D, picks[a]);
    emb.push_back(round3(ce));
    nlohmann::json row = nlohmann::json::array();
    txt << "  layer " << layers[a]->layer << ": embeddings " << fmt("%.3f", ce) << " | layers";
    for (size_t b = 0; b < layers.size(); ++b) {
      const double cl = a == b ? 1.0 : linear_cka_picks(picks[a], picks[b]);
      row.push_back(round3(cl));
      txt << " " << fmt("%.3f", cl);
    }
    txt << "\n";
    between.push_back(row);
  }
  return {{"embedding", emb}, {"layers", between}};
}

struct LayerPicks {
  std::vector<int64_t> counts_CxM;
  std::vector<std::vector<CoPair>> partners_CxM;   // of every used neuron
  nlohmann::json coact = nlohmann::json::array();  // per channel: top, heat, pairs
};

// Usage counts, co-activation heat maps and top pairs, each used neuron's partners.
LayerPicks layer_usage(const ScopeData& d, const ScopeLayer& l, const InteractiveOptions& o) {
  LayerPicks u{std::vector<int64_t>(d.C * d.M, 0), std::vector<std::vector<CoPair>>(d.C * d.M)};
  for (int64_t c = 0; c < d.C; ++c) {
    const std::vector<int64_t> co = coactivation(l.idx_SxTxCxK.data(), d.S * d.T, d.C, d.K, d.M, c);
    const auto used = [&](int64_t i) { return co[i * d.M + i]; };
    std::vector<int32_t> top(d.M);
    for (int64_t i = 0; i < d.M; ++i) top[i] = static_cast<int32_t>(i);
    std::stable_sort(top.begin(), top.end(),
                     [&](int32_t a, int32_t b) { return used(a) > used(b); });
    top.resize(std::min(o.heat, d.M));
    std::vector<int64_t> heat;
    for (int32_t a : top)
      for (int32_t b : top) heat.push_back(co[a * d.M + b]);
    nlohmann::json pairs = nlohmann::json::array();
    for (const CoPair& cp : top_pairs(co, d.M, o.pairs)) pairs.push_back({cp.a, cp.b, cp.count});
    u.coact.push_back({{"channel", c}, {"top", top}, {"heat", heat}, {"pairs", pairs}});
    for (int64_t i = 0; i < d.M; ++i) {
      u.counts_CxM[c * d.M + i] = used(i);
      if (used(i) > 0)
        u.partners_CxM[c * d.M + i] = top_partners(co, d.M, static_cast<int32_t>(i), o.partners);
    }
  }
  return u;
}

// Usage as `eval` reports it: one pool per channel (sgatlin), or the heads folded into the
// one shared table (peer).
UsageStats layer_usage_stats(const ScopeData& d, const LayerPicks& u) {
  if (lens_tables(d) == d.C) return pooled_usage_stats(u.counts_CxM, d.C);
  std::vector<int64_t> folded(d.M, 0);
  for (int64_t j = 0; j < d.C * d.M; ++j) folded[j % d.M] += u.counts_CxM[j];
  return pooled_usage_stats(folded, 1);
}

// Neuron pages: [channel, neuron, picks, [[seq, pos, score]...], [[partner, count]...]]
// for every neuron picked at least once.
nlohmann::json neurons_json(const ScopeData& d, const ScopeLayer& l, const LayerPicks& u,
                            int64_t contexts) {
  const NeuronContexts ctx = all_contexts(d, l, contexts);
  nlohmann::json neurons = nlohmann::json::array();
  for (int64_t j = 0; j < d.C * d.M; ++j) {
    if (u.counts_CxM[j] == 0) continue;
    nlohmann::json cs = nlohmann::json::array(), ps = nlohmann::json::array();
    for (const Context& x : ctx.by_neuron[j]) cs.push_back({x.seq, x.pos, round3(x.score)});
    for (const CoPair& cp : u.partners_CxM[j]) ps.push_back({cp.b, cp.count});
    neurons.push_back({j / d.M, j % d.M, u.counts_CxM[j], cs, ps});
  }
  return neurons;
}

nlohmann::json knn_json(const KnnGraph& g) {
  std::vector<double> dist(g.distances_NxK.begin(), g.distances_NxK.end());
  for (double& v : dist) v = round3(v);
  return {{"k", g.k}, {"ids", g.ids_NxK}, {"dists", dist}};
}

// token id -> the n neurons [layer, channel, neuron, count] picked most often on it.
using FiredCounts = std::map<int32_t, std::map<std::array<int64_t, 3>, int64_t>>;
void add_fired(const ScopeData& d, const ScopeLayer& l, FiredCounts& fired) {
  for (int64_t t = 0; t < d.S * d.T; ++t)
    for (int64_t j = 0; j < d.C * d.K; ++j)
      ++fired[d.tokens_SxT[t]][{l.layer, j / d.K, l.idx_SxTxCxK[t * d.C * d.K + j]}];
}
nlohmann::json token_index_json(const FiredCounts& fired, int64_t n) {
  nlohmann::json index = nlohmann::json::object();
  for (const auto& [tok, by] : fired) {
    std::vector<std::pair<int64_t, std::array<int64_t, 3>>> v;
    for (const auto& [key, count] : by) v.push_back({count, key});
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (static_cast<int64_t>(v.size()) > n) v.resize(n);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [count, key] : v) list.push_back({key[0], key[1], key[2], count});
    index[std::to_string(tok)] = list;
  }
  return index;
}

// report.txt section of a layer: usage, lens of its most used neurons, top pairs.
void layer_text(const ScopeData& d, const ReportModel& m, const ScopeLayer& l,
                const NeuronLens* lens, const LayerPicks& u, const InteractiveOptions& o,
                std::ostringstream& txt) {
  const UsageStats us = layer_usage_stats(d, u);
  txt << "\n== Layer " << l.layer << ": usage frac_used " << fmt("%.3f", us.frac_used)
      << ", entropy " << fmt("%.3f", us.entropy) << " ==\n";
  const int64_t k = o.lens_k;
  auto tokens_of = [&](const LensTopK& t, int64_t row) {
    std::string s;
    for (int64_t x = 0; x < k; ++x) {
      s += '|';
      s += piece_text(m.vocab[t.ids_NxK[row * k + x]]);
    }
    s += '|';
    return s;
  };
  ScopeData one = d;  // top_neurons over this layer only
  one.layers = {l};
  for (const NeuronEntry& e : top_neurons(one, std::min<int64_t>(o.text.top_neurons, 4), 0)) {
    const int64_t row = (lens_tables(d) == 1 ? 0 : e.channel) * d.M + e.neuron;
    txt << "  channel " << e.channel << " neuron " << e.neuron << " (" << e.count << " picks)\n";
    if (lens)
      txt << "    writes " << tokens_of(lens->out_top, row) << "\n    suppresses "
          << tokens_of(lens->out_bottom, row) << "\n    read from " << tokens_of(lens->in_top, row)
          << "\n";
  }
  for (const auto& cj : u.coact) {
    txt << "  channel " << cj["channel"].get<int64_t>() << " most co-picked:";
    for (size_t i = 0; i < std::min<size_t>(5, cj["pairs"].size()); ++i) {
      const auto& pr = cj["pairs"][i];
      txt << " " << pr[0].get<int64_t>() << "+" << pr[1].get<int64_t>() << " ("
          << pr[2].get<int64_t>() << ")";
    }
    txt << "\n";
  }
}

}  // namespace

nlohmann::json report_data(const ScopeData& d, const ReportModel& m, const InteractiveOptions& o,
                           std::string* text_out, std::map<int64_t, NeuronLens>* lens_out) {
  check_scope_matches(d, m, o.layers);
  const std::vector<const ScopeLayer*> layers = chosen_layers(d, o.layers);
  const int64_t N = d.S * d.T;
  std::ostringstream txt;
  nlohmann::json j;
  j["meta"] = {{"checkpoint", m.dir},
               {"fingerprint", m.fingerprint},
               {"data", d.data},
               {"ffw_type", d.ffw_type},
               {"S", d.S},
               {"T", d.T},
               {"C", d.C},
               {"K", d.K},
               {"M", d.M},
               {"P", lens_tables(d)},
               {"V", m.V},
               {"lens_k", o.lens_k}};
  j["pieces"] = d.pieces_SxT;
  j["tokens"] = d.tokens_SxT;
  j["vocab"] = m.vocab;
  j["cka"] = cka_json(d, m, layers, txt);
  FiredCounts fired;
  j["layers"] = nlohmann::json::array();
  j["usage"] = nlohmann::json::array();
  for (const ScopeLayer* l : layers) {
    const auto tables = m.layers.find(l->layer);
    const bool has_lens = tables != m.layers.end();
    NeuronLens lens = has_lens ? layer_lens(d, m, tables->second, o.lens_k) : NeuronLens{};
    const LayerPicks u = layer_usage(d, *l, o);
    const UsageStats us = layer_usage_stats(d, u);
    j["usage"].push_back({{"layer", l->layer},
                          {"frac_used", round3(us.frac_used)},
                          {"entropy", round3(us.entropy)},
                          {"cv", round3(us.cv)},
                          {"min_max_ratio", round3(us.min_max_ratio)}});
    add_fired(d, *l, fired);
    const KnnGraph g =
        gating_knn(l->idx_SxTxCxK.data(), N, d.C, d.K, d.M, std::min(o.map_neighbours, N - 1));
    j["layers"].push_back(
        {{"layer", l->layer},
         {"counts", u.counts_CxM},
         {"neurons", neurons_json(d, *l, u, o.text.contexts)},
         {"coact", u.coact},
         {"lens", has_lens ? nlohmann::json{{"out_top", lens.out_top.ids_NxK},
                                            {"out_bottom", lens.out_bottom.ids_NxK},
                                            {"in_top", lens.in_top.ids_NxK}}
                           : nlohmann::json(nullptr)},
         {"knn", knn_json(g)}});
    layer_text(d, m, *l, has_lens ? &lens : nullptr, u, o, txt);
    if (lens_out && has_lens) (*lens_out)[l->layer] = std::move(lens);
  }
  j["token_neurons"] = token_index_json(fired, o.token_neurons);
  j["embedding_knn"] =
      knn_json(cosine_knn(m.E_VxD.data(), m.V, m.D, std::min(o.map_neighbours, m.V - 1)));
  if (text_out) *text_out = txt.str();
  return j;
}

std::string write_report(const ScopeData& d, const ReportModel& m, const std::string& out_dir,
                         const InteractiveOptions& o) {
  std::string analysis;
  std::map<int64_t, NeuronLens> lens;
  const nlohmann::json data = report_data(d, m, o, &analysis, &lens);
  fs::create_directories(out_dir);
  const fs::path out(out_dir);
  const std::string tag = ".tmp." + std::to_string(::getpid());
  const std::string data_tmp = (out / ("report_data.json" + tag)).string(),
                    html_tmp = (out / ("report.html" + tag)).string();
  struct Cleanup {
    std::vector<std::string> files;
    ~Cleanup() {
      for (const auto& f : files) std::filesystem::remove(f);
    }
  } cleanup{{data_tmp, html_tmp}};
  write_file_atomic(data_tmp, data.dump());
  run_node(o.tools_dir, data_tmp, html_tmp);
  // The page is built: now the plain files, then the page under its name.
  write_file_atomic((out / "report.txt").string(), neuron_report_text(d, o.text) + "\n" + analysis);
  write_file_atomic((out / "vocab.json").string(), nlohmann::json(m.vocab).dump() + "\n");
  const int64_t P = lens_tables(d);
  for (const auto& [layer, t] : lens) {
    const std::string stem = "lens_layer_" + std::to_string(layer) + "_";
    const std::pair<const char*, const LensTopK*> parts[3] = {
        {"out_top", &t.out_top}, {"out_bottom", &t.out_bottom}, {"in_top", &t.in_top}};
    for (const auto& [name, part] : parts) {
      write_npy((out / (stem + name + "_ids.npy")).string(), part->ids_NxK.data(),
                {P, d.M, o.lens_k});
      write_npy((out / (stem + name + "_values.npy")).string(), part->values_NxK.data(),
                {P, d.M, o.lens_k});
    }
  }
  fs::rename(html_tmp, out / "report.html");
  return analysis;
}

std::string report_from_scope(const std::string& scope_dir, const std::string& checkpoint,
                              const std::string& out_dir, const InteractiveOptions& o) {
  const ScopeData d = load_scope(scope_dir);
  const ReportModel m = load_report_model(checkpoint.empty() ? d.checkpoint : checkpoint);
  return write_report(d, m, out_dir.empty() ? scope_dir : out_dir, o);
}

}  // namespace sg
