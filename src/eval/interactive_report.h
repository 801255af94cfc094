// `sgatlin report`: everything a reader of the circuits looks at, from scope records and
// the checkpoint they came from. Writes into OUT:
//   report.html  one self-contained page (tools/report builds it with Debian's node: UMAP
//                layouts of the maps computed there with umap-js, page script and styles
//                inlined; no network): layer/channel picker, token search, neuron pages
//                (contexts, lens tokens, usage, co-activated neurons), gating and
//                embedding maps with hover, co-activation heat maps, CKA and usage summary
//   report.txt   the same findings for terminals
//   lens_layer_L_{out_top,out_bottom,in_top}_{ids,values}.npy  [P, M, k] per layer
//   (P tables: C for sgatlin, 1 for peer), vocab.json (token pieces by id)
// Nothing is written unless everything succeeded: the page is built first (into a temp
// file), then every file is written atomically and the page renamed last.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/lens.h"
#include "eval/neuron_report.h"
#include "eval/report_model.h"

namespace sg {

struct InteractiveOptions {
  ReportOptions text;
  std::vector<int64_t> layers;  // empty: every recorded layer
  int64_t lens_k = 8, partners = 6, pairs = 12, heat = 24, token_neurons = 12, map_neighbours = 15;
  std::string tools_dir;  // tools/report (package.json, build.mjs, node_modules)
};

// Checks that the records came from this checkpoint (fingerprint, shapes, vocab) and that
// the chosen layers were recorded; throws naming both otherwise. moe layers (no
// single-neuron tables) get everything but the lens.
void check_scope_matches(const ScopeData& d, const ReportModel& m,
                         const std::vector<int64_t>& layers);

// The page's data (before tools/report adds the map layouts): see build.mjs.
// `text_out` receives the report.txt sections on CKA, usage, lens and co-activation;
// `lens_out` each layer's lens (rows: table-major, P * M).
nlohmann::json report_data(const ScopeData& d, const ReportModel& m, const InteractiveOptions& o,
                           std::string* text_out, std::map<int64_t, NeuronLens>* lens_out);

// Returns the analysis part of report.txt (CKA, usage, lens of the most used neurons,
// top co-activated pairs) for the command to print.
std::string write_report(const ScopeData& d, const ReportModel& m, const std::string& out_dir,
                         const InteractiveOptions& o);

// `sgatlin report`: loads the records of scope_dir and the checkpoint (empty: the one
// they name), writes the report into out_dir (empty: scope_dir); returns write_report's text.
std::string report_from_scope(const std::string& scope_dir, const std::string& checkpoint,
                              const std::string& out_dir, const InteractiveOptions& o);

}  // namespace sg
