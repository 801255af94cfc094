// Run config parsing (spec §8). Two passes: the key structure is checked against the
// defaults (to_json of a default RunConfig is the schema, so the known keys cannot drift
// from the structs), then every value is read with its type and range checked.
#include "train/run_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "nn/ffw_types.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/json_util.h"
#include "util/strings.h"

namespace sg {

namespace {

using json = nlohmann::json;

const std::vector<std::string> kPrecisions = {"auto", "fp32", "bf16"};
const std::vector<std::string> kActivations = {"identity", "gelu", "relu", "swish"};
const std::vector<std::string> kSchedules = {"constant", "cosine", "warmup_stable_linear_decay",
                                             "warmup_stable_sqrt_decay"};

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

bool is_subsequence(const std::string& a, const std::string& b) {
  size_t i = 0;
  for (char c : b)
    if (i < a.size() && a[i] == c) ++i;
  return i == a.size();
}

// Where a value came from, for error messages: the file, and the override that set a path.
struct Ctx {
  std::string source;
  std::map<std::string, std::string> overridden;  // JSON path -> "path=value" as given

  [[noreturn]] void error(const std::string& path, const json* value,
                          const std::string& what) const {
    std::string msg = source + ": " + (path.empty() ? "(root)" : path);
    if (value) {
      std::string v = value->dump();
      if (v.size() > 80) v = v.substr(0, 77) + "...";
      msg += " = " + v;
    }
    msg += ": " + what;
    for (const auto& [p, ov] : overridden)  // the override that set this path or a parent
      if (path == p || path.rfind(p + ".", 0) == 0) msg += " (set by override \"" + ov + "\")";
    throw Error(msg);
  }

  [[noreturn]] void unknown_key(const std::string& prefix, const std::string& key,
                                const json* value, const json& schema) const {
    // Closest by edit distance, except that an abbreviation (the typed key is a
    // subsequence of a known one, "lr" -> "learning_rate") counts as distance 1.
    std::vector<std::string> known;
    std::string best;
    std::pair<size_t, size_t> best_score{std::numeric_limits<size_t>::max(), 0};
    for (const auto& [k, _] : schema.items()) {
      known.push_back(k);
      const size_t d = edit_distance(key, k);
      const std::pair<size_t, size_t> score{is_subsequence(key, k) ? std::min<size_t>(d, 1) : d, d};
      if (score < best_score) best_score = score, best = k;
    }
    error(join_path(prefix, key), value,
          "unknown key (did you mean \"" + best + "\"? known keys here: " + join(known) + ")");
  }
};

// Pass 1: every key must exist in the schema, and sections must be objects.
void check_keys(const json& j, const json& schema, const std::string& prefix, const Ctx& ctx) {
  if (!j.is_object()) ctx.error(prefix, &j, "expected an object");
  for (const auto& [key, value] : j.items()) {
    if (!schema.contains(key)) ctx.unknown_key(prefix, key, &value, schema);
    if (schema[key].is_object()) check_keys(value, schema[key], join_path(prefix, key), ctx);
  }
}

// Pass 2: typed reads of one JSON object; a missing key yields the default.
class Section {
 public:
  Section(const json& j, std::string prefix, const Ctx& ctx)
      : j_(j), prefix_(std::move(prefix)), ctx_(ctx) {}

  std::string path(const std::string& key) const { return join_path(prefix_, key); }
  const json* find(const std::string& key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  Section section(const std::string& key) const {
    const json* v = find(key);
    return Section(v ? *v : empty_object(), path(key), ctx_);
  }
  [[noreturn]] void error(const std::string& key, const std::string& what) const {
    ctx_.error(path(key), find(key), what);
  }

  std::string string(const std::string& key, const std::string& def) const {
    const json* v = find(key);
    if (!v) return def;
    if (!v->is_string()) error(key, "expected a string");
    return v->get<std::string>();
  }
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed, const std::string& noun) const {
    std::string s = string(key, def);
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end())
      error(key, "unknown " + noun + " (allowed: " + join(allowed) + ")");
    return s;
  }
  // Integers may be written as 1e5 (a JSON float) when the value is integral.
  int64_t integer(const std::string& key, int64_t def, int64_t min) const {
    const json* v = find(key);
    if (!v) return def;
    int64_t x = 0;
    if (v->is_number_unsigned()) {
      if (v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        error(key, "too large for a 64-bit signed integer");
      x = v->get<int64_t>();
    } else if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else if (v->is_number_float() && is_exact_integer(v->get<double>())) {
      x = static_cast<int64_t>(v->get<double>());
    } else {
      error(key, "expected an integer");
    }
    if (x < min) error(key, cat("must be an integer >= ", min));
    return x;
  }
  uint64_t unsigned_integer(const std::string& key, uint64_t def) const {
    const json* v = find(key);
    if (!v) return def;
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    if (v->is_number_float() && v->get<double>() >= 0 && is_exact_integer(v->get<double>()))
      return static_cast<uint64_t>(v->get<double>());
    error(key, "expected an integer in [0, 18446744073709551615]");
  }
  double number(const std::string& key, double def) const {
    const json* v = find(key);
    if (!v) return def;
    if (!v->is_number()) error(key, "expected a number");
    const double x = v->get<double>();
    if (!std::isfinite(x)) error(key, "expected a finite number");
    return x;
  }
  bool is_null(const std::string& key) const {
    const json* v = find(key);
    return !v || v->is_null();
  }

 private:
  static bool is_exact_integer(double x) {
    return std::isfinite(x) && x == std::floor(x) && std::fabs(x) <= 9007199254740992.0;  // 2^53
  }
  static const json& empty_object() {
    static const json e = json::object();
    return e;
  }
  const json& j_;
  std::string prefix_;
  const Ctx& ctx_;
};

int64_t floor_sqrt(int64_t n) {
  auto r = static_cast<int64_t>(std::sqrt(static_cast<double>(n)));
  while (r > 0 && r > n / r) --r;  // r*r > n, written to avoid overflow
  while (r + 1 <= n / (r + 1)) ++r;
  return r;
}

FfwConfig read_ffw(const Section& s) {
  FfwConfig f;
  f.type = s.choice("type", f.type, ffw_type_names(), "feedforward type");
  const FfwTypeInfo& t = ffw_type(f.type);
  f.d_ffw = s.integer("d_ffw", f.d_ffw, 1);
  f.n_channels = s.integer("n_channels", f.n_channels, 1);
  f.knn = s.integer("knn", f.knn, 1);
  f.d_key = s.integer("d_key", f.d_key, 1);
  // Defaults that depend on the type (router, activation) come from its table row.
  f.router_type = s.choice("router_type", t.fixed_router ? t.fixed_router : f.router_type,
                           router_type_names(), "router");
  if (t.fixed_router && f.router_type != t.fixed_router)
    s.error("router_type", cat(f.type, " always uses the ", t.fixed_router,
                               " router (allowed: ", t.fixed_router, ")"));
  f.activation = s.choice("activation", t.default_activation, kActivations, "activation");

  if (t.takes_router && router_type(f.router_type).product) {
    const int64_t nk = floor_sqrt(f.d_ffw);
    if (nk * nk != f.d_ffw)
      s.error("d_ffw", cat("the ", f.router_type,
                           " router needs a perfect square number of "
                           "neurons (allowed: squares such as ",
                           nk * nk, " or ", (nk + 1) * (nk + 1), ")"));
    if (f.knn >= nk)
      s.error("knn", cat("must be < sqrt(d_ffw) = ", nk, " for the ", f.router_type,
                         " router (allowed: 1..", nk - 1, ")"));
  } else if (t.picks && f.knn > f.*t.picks->size) {
    const int64_t n = f.*t.picks->size;
    s.error("knn", cat("cannot pick more than ", t.picks->field, " = ", n, " ", t.picks->unit,
                       " (allowed: 1..", n, ")"));
  }
  return f;
}

ModelConfig read_model(const Section& s) {
  ModelConfig m;
  m.vocab_size = s.integer("vocab_size", m.vocab_size, 1);
  m.d_model = s.integer("d_model", m.d_model, 1);
  m.d_heads = s.integer("d_heads", m.d_heads, 1);
  m.n_layers = s.integer("n_layers", m.n_layers, 1);
  if (m.d_heads % 2 != 0)  // RoPE rotates the two halves of each head
    s.error("d_heads", "must be even (RoPE rotates pairs of dimensions)");
  if (m.d_model % m.d_heads != 0)
    s.error("d_model", cat("must be a multiple of d_heads = ", m.d_heads));
  m.ffw = read_ffw(s.section("ffw"));
  return m;
}

RunConfig read_run(const Section& s) {
  RunConfig c;
  c.name = s.string("name", c.name);
  if (c.name.empty()) s.error("name", "must not be empty");
  c.seed = s.unsigned_integer("seed", c.seed);
  c.precision = s.choice("precision", c.precision, kPrecisions, "precision");
  c.model = read_model(s.section("model"));

  const Section d = s.section("data");
  c.data.train = d.string("train", c.data.train);
  c.data.valid = d.string("valid", c.data.valid);
  c.data.tokenizer = d.string("tokenizer", c.data.tokenizer);
  c.data.batch_size = d.integer("batch_size", c.data.batch_size, 1);
  c.data.seq_len = d.integer("seq_len", c.data.seq_len, 2);

  const Section o = s.section("optimizer");
  OptimizerConfig& oc = c.optimizer;
  oc.learning_rate = o.number("learning_rate", oc.learning_rate);
  if (oc.learning_rate <= 0) o.error("learning_rate", "must be > 0");
  oc.weight_decay = o.number("weight_decay", oc.weight_decay);
  if (oc.weight_decay < 0) o.error("weight_decay", "must be >= 0");
  oc.schedule = o.choice("schedule", oc.schedule, kSchedules, "schedule");
  oc.warmup_steps = o.integer("warmup_steps", oc.warmup_steps, 0);
  oc.decay_fraction = o.number("decay_fraction", oc.decay_fraction);
  if (oc.decay_fraction < 0 || oc.decay_fraction > 1)
    o.error("decay_fraction", "must be in [0, 1]");
  oc.clip_by_global_norm = o.number("clip_by_global_norm", oc.clip_by_global_norm);
  if (oc.clip_by_global_norm < 0)
    o.error("clip_by_global_norm", "must be >= 0 (0 disables clipping)");
  oc.n_gradient_accumulation = o.integer("n_gradient_accumulation", oc.n_gradient_accumulation, 1);
  // batch_size is the global batch of one optimizer step, split into micro-batches.
  if (c.data.batch_size % oc.n_gradient_accumulation != 0)
    o.error("n_gradient_accumulation", cat("must divide data.batch_size = ", c.data.batch_size));

  if (!s.is_null("flops_budget")) {
    if (!s.find("flops_budget")->is_number()) s.error("flops_budget", "expected a number or null");
    c.flops_budget = s.number("flops_budget", 0);
    if (*c.flops_budget <= 0) s.error("flops_budget", "must be > 0 or null");
  }
  if (!s.is_null("max_steps")) {
    if (!s.find("max_steps")->is_number()) s.error("max_steps", "expected an integer or null");
    c.max_steps = s.integer("max_steps", 0, 1);
  }
  c.log_every = s.integer("log_every", c.log_every, 1);
  c.eval_every = s.integer("eval_every", c.eval_every, 1);
  c.checkpoint_every = s.integer("checkpoint_every", c.checkpoint_every, 1);
  c.eval_batches = s.integer("eval_batches", c.eval_batches, 0);
  c.workdir = s.string("workdir", c.workdir);
  if (c.workdir.empty()) s.error("workdir", "must not be empty");
  return c;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// "a.b.c=value": the path must name a key of the schema; the value is JSON when it
// parses, else the raw text (always the raw text for string keys, so name=123 works).
void apply_override(json& j, const json& schema, const std::string& ov, Ctx& ctx) {
  const size_t eq = ov.find('=');
  SG_CHECK(eq != std::string::npos && eq > 0, ctx.source, ": override \"", ov,
           "\": expected path=value, e.g. optimizer.learning_rate=3e-4");
  const std::string path = ov.substr(0, eq), text = ov.substr(eq + 1);
  const std::vector<std::string> parts = split_path(path);
  ctx.overridden[path] = ov;  // so errors about this path name the override
  json parsed;
  try {
    parsed = parse_json_strict(text, "override");
  } catch (const Error&) {
    parsed = text;
  }

  const json* sch = &schema;
  json* node = &j;
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& key = parts[i];
    if (!sch->is_object() || !sch->contains(key)) {
      if (!sch->is_object())
        ctx.error(prefix, nullptr,
                  cat("is not a section, cannot set \"", path, "\" (override \"", ov, "\")"));
      ctx.unknown_key(prefix, key, &parsed, *sch);
    }
    sch = &(*sch)[key];
    const std::string here = join_path(prefix, key);
    if (i + 1 < parts.size()) {
      if (!sch->is_object())
        ctx.error(here, nullptr,
                  cat("is not a section, cannot set \"", path, "\" (override \"", ov, "\")"));
      if (!node->contains(key)) (*node)[key] = json::object();
      if (!(*node)[key].is_object()) ctx.error(here, &(*node)[key], "expected an object");
      node = &(*node)[key];
    } else {
      (*node)[key] = sch->is_string() && !parsed.is_string() ? json(text) : parsed;
    }
    prefix = here;
  }
}

}  // namespace

nlohmann::json to_json(const ModelConfig& m) {
  const FfwConfig& f = m.ffw;
  return {{"vocab_size", m.vocab_size},
          {"d_model", m.d_model},
          {"d_heads", m.d_heads},
          {"n_layers", m.n_layers},
          {"ffw",
           {{"type", f.type},
            {"d_ffw", f.d_ffw},
            {"n_channels", f.n_channels},
            {"knn", f.knn},
            {"d_key", f.d_key},
            {"router_type", f.router_type},
            {"activation", f.activation}}}};
}

nlohmann::json to_json(const RunConfig& c) {
  const OptimizerConfig& o = c.optimizer;
  json j = {{"name", c.name},
            {"seed", c.seed},
            {"precision", c.precision},
            {"model", to_json(c.model)},
            {"data",
             {{"train", c.data.train},
              {"valid", c.data.valid},
              {"tokenizer", c.data.tokenizer},
              {"batch_size", c.data.batch_size},
              {"seq_len", c.data.seq_len}}},
            {"optimizer",
             {{"learning_rate", o.learning_rate},
              {"weight_decay", o.weight_decay},
              {"schedule", o.schedule},
              {"warmup_steps", o.warmup_steps},
              {"decay_fraction", o.decay_fraction},
              {"clip_by_global_norm", o.clip_by_global_norm},
              {"n_gradient_accumulation", o.n_gradient_accumulation}}},
            {"flops_budget", nullptr},
            {"max_steps", nullptr},
            {"log_every", c.log_every},
            {"eval_every", c.eval_every},
            {"checkpoint_every", c.checkpoint_every},
            {"eval_batches", c.eval_batches},
            {"workdir", c.workdir}};
  if (c.flops_budget) j["flops_budget"] = *c.flops_budget;
  if (c.max_steps) j["max_steps"] = *c.max_steps;
  return j;
}

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source) {
  const Ctx ctx{source, {}};
  check_keys(j, to_json(ModelConfig{}), "", ctx);
  return read_model(Section(j, "", ctx));
}

RunConfig parse_run_config(const nlohmann::json& j, const std::string& source,
                           const std::vector<std::string>& overrides) {
  Ctx ctx{source, {}};
  const json schema = to_json(RunConfig{});
  if (!j.is_object()) ctx.error("", &j, "expected an object");
  json merged = j;
  for (const auto& ov : overrides) apply_override(merged, schema, ov, ctx);
  check_keys(merged, schema, "", ctx);
  RunConfig c = read_run(Section(merged, "", ctx));
  c.raw = to_json(c);
  return c;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  return parse_run_config(parse_json_strict(read_file(path), path), path, overrides);
}

}  // namespace sg
