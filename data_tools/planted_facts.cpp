// planted_facts: writes a story corpus with planted facts and the matching intervention
// pairs, to try `sgatlin intervene` on a model whose facts are known.
//
//   planted_facts --out DIR [--stories N] [--seed S]
//
// DIR/corpus.txt   stories separated by blank lines (the text corpus format of
//                  `sgatlin data prepare`); every story mixes filler sentences with
//                  1-3 fact sentences "The <noun> was <adjective>." (sometimes led in by a
//                  clause: "Everyone knew that the turtle was slow.")
// DIR/pairs.jsonl  one pair per ordered pair of distinct nouns:
//                  {"clean": "The turtle was", "counterfactual": "The door was",
//                   "answers_clean": ["slow"], "answers_cf": ["open"]}
// DIR/facts.tsv    noun <TAB> adjective
// Each noun has one canonical adjective and no adjective belongs to two nouns; filler
// sentences never put a fact noun before "was". Same seed -> same files.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

struct Fact {
  const char* noun;
  const char* adjective;
};

// Short common words, so that a small BPE vocabulary keeps each one a single token.
const Fact kFacts[] = {{"turtle", "slow"}, {"door", "open"},   {"sun", "hot"},
                       {"snow", "cold"},   {"lemon", "sour"},  {"rock", "heavy"},
                       {"night", "dark"},  {"mouse", "small"}, {"candy", "sweet"},
                       {"knife", "sharp"}, {"pillow", "soft"}, {"drum", "loud"}};

const char* kNames[] = {"Tom", "Lily", "Sam", "Mia", "Ben", "Anna", "Max", "Zoe"};
const char* kVerbs[] = {"saw", "found", "liked", "wanted", "took", "drew", "missed", "made"};
const char* kThings[] = {"a ball", "a kite", "a boat", "a hat", "a book", "a cake",
                         "a box",  "a bird", "a tree", "a car", "a cup",  "a flower"};
const char* kPlaces[] = {"the park", "the garden", "school",     "the river",
                         "the shop", "the beach",  "the forest", "the town"};
const char* kFeelings[] = {"happy", "tired", "hungry", "brave", "sleepy", "excited"};
const char* kLeadIns[] = {"Everyone knew that", "Mom said that", "They all saw that",
                          "It was true that"};

template <typename T, size_t N>
const T& pick(std::mt19937_64& g, const T (&a)[N]) {
  return a[g() % N];
}

std::string filler(std::mt19937_64& g) {
  switch (g() % 5) {
    case 0: return std::string(pick(g, kNames)) + " went to " + pick(g, kPlaces) + ".";
    case 1:
      return std::string(pick(g, kNames)) + " " + pick(g, kVerbs) + " " + pick(g, kThings) + ".";
    case 2: return std::string(pick(g, kNames)) + " was " + pick(g, kFeelings) + ".";
    case 3:
      return std::string(pick(g, kNames)) + " and " + pick(g, kNames) + " played at " +
             pick(g, kPlaces) + ".";
    default:
      return std::string("One day ") + pick(g, kNames) + " " + pick(g, kVerbs) + " " +
             pick(g, kThings) + " near " + pick(g, kPlaces) + ".";
  }
}

std::string fact_sentence(std::mt19937_64& g, const Fact& f) {
  const std::string core = std::string(f.noun) + " was " + f.adjective + ".";
  if (g() % 3 == 0) return std::string(pick(g, kLeadIns)) + " the " + core;
  return "The " + core;
}

int usage() {
  std::cerr << "usage: planted_facts --out DIR [--stories N] [--seed S]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  long stories = 6000;
  unsigned long long seed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    if (a == "--out")
      out = argv[++i];
    else if (a == "--stories")
      stories = std::atol(argv[++i]);
    else if (a == "--seed")
      seed = std::strtoull(argv[++i], nullptr, 10);
    else
      return usage();
  }
  if (out.empty() || stories < 1) return usage();
  std::filesystem::create_directories(out);
  std::mt19937_64 g(seed);
  const size_t n_facts = sizeof kFacts / sizeof *kFacts;

  std::ofstream corpus(out + "/corpus.txt");
  for (long s = 0; s < stories; ++s) {
    std::vector<std::string> sentences;
    const int n_filler = 2 + static_cast<int>(g() % 5), n_fact = 1 + static_cast<int>(g() % 3);
    for (int i = 0; i < n_filler; ++i) sentences.push_back(filler(g));
    for (int i = 0; i < n_fact; ++i) {
      const std::string f = fact_sentence(g, kFacts[g() % n_facts]);
      sentences.insert(sentences.begin() + static_cast<long>(g() % (sentences.size() + 1)), f);
    }
    for (size_t i = 0; i < sentences.size(); ++i) corpus << (i ? " " : "") << sentences[i];
    corpus << "\n\n";
  }
  std::ofstream pairs(out + "/pairs.jsonl"), facts(out + "/facts.tsv");
  for (size_t a = 0; a < n_facts; ++a) {
    facts << kFacts[a].noun << "\t" << kFacts[a].adjective << "\n";
    for (size_t b = 0; b < n_facts; ++b)
      if (a != b)
        pairs << "{\"clean\": \"The " << kFacts[a].noun << " was\", \"counterfactual\": \"The "
              << kFacts[b].noun << " was\", \"answers_clean\": [\"" << kFacts[a].adjective
              << "\"], \"answers_cf\": [\"" << kFacts[b].adjective << "\"]}\n";
  }
  if (!corpus || !pairs || !facts) {
    std::cerr << "planted_facts: writing to " << out << " failed\n";
    return 1;
  }
  std::cerr << "planted_facts: " << stories << " stories, " << n_facts << " facts, "
            << n_facts * (n_facts - 1) << " pairs in " << out << "\n";
  return 0;
}
