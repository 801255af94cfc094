// Single-token relational facts mined from real text, for `sgatlin intervene`: in the KJV,
// "NAME the son of FATHER" where every occurrence of NAME in that frame names the same
// father (Benaiah/Jehoiada, Joab/Zeruiah, ...; Joshua, son of Nun and of Josedech, is not
// a fact).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

class Tokenizer;

struct Fact {
  std::string name, father;
  int64_t count = 0;  // occurrences of "NAME the son of FATHER"
};

// NAME and FATHER are capitalised words of letters (FATHER with trailing punctuation
// dropped), NAME directly before " the son of ". Facts: names seen at least `min_count`
// times, always with one father; sorted by count desc, then name.
std::vector<Fact> mine_son_of_facts(const std::vector<std::string>& documents, int64_t min_count);

struct FactPair {
  const Fact* clean = nullptr;
  const Fact* counterfactual = nullptr;
};
// Ordered pairs of distinct facts usable by `intervene`: prompts "NAME the son of" of
// equal token counts, fathers with different first tokens (answers are judged by it),
// neither of them a bare word mark.
std::vector<FactPair> fact_pairs(const std::vector<Fact>& facts, const Tokenizer& tok);

// Reads a prepared corpus folder (tokenizer.model, train.bin, valid.bin), mines its facts
// and writes OUT/facts.tsv (name, father, count) and OUT/pairs.jsonl; fails naming the
// folder, without writing anything, when fewer than 2 facts make a pair.
void mine_facts(const std::string& data_dir, const std::string& out_dir, int64_t min_count);

}  // namespace sg
