// Facts from real text (see facts.h): a word scan around " the son of ", no regex.
#include "eval/facts.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data/shard.h"
#include "data/tokenizer.h"
#include "util/error.h"
#include "util/file_io.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }

// Documents of a shard (split at eos), decoded.
std::vector<std::string> shard_documents(const std::string& path, const Tokenizer& tok) {
  const TokenShard shard(path);
  std::vector<int32_t> ids(shard.tokens());
  shard.read(0, shard.tokens(), ids.data());
  std::vector<std::string> docs;
  std::vector<int32_t> doc;
  for (int32_t id : ids) {
    if (id != tok.eos_id()) {
      doc.push_back(id);
      continue;
    }
    if (!doc.empty()) docs.push_back(tok.decode(doc));
    doc.clear();
  }
  if (!doc.empty()) docs.push_back(tok.decode(doc));
  return docs;
}

std::string json_line(const Fact& a, const Fact& b) {
  return nlohmann::json{{"clean", a.name + " the son of"},
                        {"counterfactual", b.name + " the son of"},
                        {"answers_clean", {a.father}},
                        {"answers_cf", {b.father}}}
      .dump();
}

}  // namespace

std::vector<Fact> mine_son_of_facts(const std::vector<std::string>& documents, int64_t min_count) {
  static const std::string frame = " the son of ";
  std::map<std::string, std::map<std::string, int64_t>> fathers;  // name -> father -> count
  for (const std::string& doc : documents)
    for (size_t at = doc.find(frame); at != std::string::npos; at = doc.find(frame, at + 1)) {
      size_t start = at;
      while (start > 0 && is_alpha(doc[start - 1])) --start;
      const size_t end = at + frame.size();
      size_t stop = end;
      while (stop < doc.size() && is_alpha(doc[stop])) ++stop;
      if (start == at || stop == end || !is_upper(doc[start]) || !is_upper(doc[end])) continue;
      if (start > 0 && !std::isspace(static_cast<unsigned char>(doc[start - 1]))) continue;
      ++fathers[doc.substr(start, at - start)][doc.substr(end, stop - end)];
    }
  std::vector<Fact> facts;
  for (const auto& [name, by_father] : fathers) {
    if (by_father.size() != 1) continue;
    const auto& [father, count] = *by_father.begin();
    if (count >= min_count) facts.push_back({name, father, count});
  }
  std::stable_sort(facts.begin(), facts.end(),
                   [](const Fact& a, const Fact& b) { return a.count > b.count; });
  return facts;
}

std::vector<FactPair> fact_pairs(const std::vector<Fact>& facts, const Tokenizer& tok) {
  std::vector<size_t> prompt_len;
  std::vector<int32_t> father_first;
  for (const Fact& f : facts) {
    prompt_len.push_back(tok.encode(f.name + " the son of").size());
    // A bare word mark "▁" (rare names spelt byte by byte) says nothing about the answer.
    const auto enc = tok.encode(f.father);
    father_first.push_back(enc.empty() || tok.piece(enc[0]) == "\xe2\x96\x81" ? -1 : enc[0]);
  }
  std::vector<FactPair> pairs;
  for (size_t i = 0; i < facts.size(); ++i)
    for (size_t j = 0; j < facts.size(); ++j)
      if (i != j && prompt_len[i] == prompt_len[j] && father_first[i] >= 0 &&
          father_first[j] >= 0 && father_first[i] != father_first[j])
        pairs.push_back({&facts[i], &facts[j]});
  return pairs;
}

void mine_facts(const std::string& data_dir, const std::string& out_dir, int64_t min_count) {
  const fs::path dir(data_dir);
  const Tokenizer tok = Tokenizer::load((dir / "tokenizer.model").string());
  std::vector<std::string> docs;
  for (const char* shard : {"train.bin", "valid.bin"}) {
    std::vector<std::string> d = shard_documents((dir / shard).string(), tok);
    docs.insert(docs.end(), d.begin(), d.end());
  }
  const std::vector<Fact> facts = mine_son_of_facts(docs, min_count);
  const std::vector<FactPair> pairs = fact_pairs(facts, tok);
  SG_CHECK(!pairs.empty(), data_dir, ": no mineable facts: ", facts.size(),
           " names occur at least ", min_count,
           " times as \"NAME the son of FATHER\" with one "
           "father, and no two of them have prompts of equal token length and fathers with "
           "different first tokens (needs at least 2 such facts)");
  std::ostringstream tsv, jsonl;
  tsv << "name\tfather\tcount\n";
  for (const Fact& f : facts) tsv << f.name << '\t' << f.father << '\t' << f.count << '\n';
  for (const FactPair& p : pairs) jsonl << json_line(*p.clean, *p.counterfactual) << '\n';
  fs::create_directories(out_dir);
  write_file_atomic((fs::path(out_dir) / "facts.tsv").string(), tsv.str());
  write_file_atomic((fs::path(out_dir) / "pairs.jsonl").string(), jsonl.str());
  std::cerr << "facts: " << facts.size() << " facts, " << pairs.size() << " pairs -> " << out_dir
            << "/pairs.jsonl\n";
}

}  // namespace sg
