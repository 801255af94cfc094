// Mining "NAME the son of FATHER" facts: the rule on hand-written text, and the command on
// prepared corpora with and without facts.
#include "eval/facts.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "data/data_test_util.h"
#include "util/file_io.h"

using namespace sg;
using namespace sg::test;

TEST_CASE("facts: names always followed by one father, at least min_count times") {
  const std::vector<std::string> docs = {
      "And Benaiah the son of Jehoiada was over the host; and Joshua the son of Nun rose.",
      "Benaiah the son of Jehoiada, and Joshua the son of Josedech. Abner the son of Ner.",
      "then Benaiah the son of Jehoiada; Abner the son of Ner: and the son of Ner came",
      "XBenaiah the son of Jehoiada; Amasa the son of jether; Abner the son of Ner."};
  const auto facts = mine_son_of_facts(docs, 3);
  // Benaiah 3 (the glued "XBenaiah" is another word), Abner 3; Joshua has two fathers;
  // "And the son of" is not "NAME the son of" (no word directly before "the").
  REQUIRE(facts.size() == 2);
  CHECK(facts[0].name == "Abner");  // equal counts: name order
  CHECK(facts[0].father == "Ner");
  CHECK(facts[0].count == 3);
  CHECK(facts[1].name == "Benaiah");
  CHECK(facts[1].father == "Jehoiada");
  CHECK(mine_son_of_facts(docs, 4).empty());
  const auto two = mine_son_of_facts(docs, 1);
  CHECK(two.size() == 3);  // + XBenaiah once; Amasa's "jether" is not capitalised
}

TEST_CASE("facts command: pairs.jsonl for intervene, and a clear error without facts") {
  const std::string bin = SGATLIN_BINARY;
  TempDir dir;
  std::string text = join(tiny_paragraphs(200, 3), "\n\n");
  // The word list has Tom and Lily: single tokens at vocab 450 (256 of it are byte
  // pieces), so the two facts make a pair.
  for (int i = 0; i < 40; ++i)
    text += "\n\nthen Tom the son of Lily sat and Lily the son of Tom ran to the river";
  const auto with = dir.write("with.txt", text);
  const auto without = dir.write("without.txt", join(tiny_paragraphs(200, 3), "\n\n"));
  std::string out;
  for (const auto& [src, name] : {std::pair{with, "with"}, std::pair{without, "without"}})
    REQUIRE(run(bin + " data prepare --corpus " + src + " --out " + dir.file(name) +
                    " --vocab-size 450",
                &out) == 0);
  INFO(out);
  REQUIRE(run(bin + " facts --data " + dir.file("with") + " --out " + dir.file("f"), &out) == 0);
  const std::string tsv = read_file(dir.file("f/facts.tsv"));
  CHECK(tsv.find("Tom\tLily\t40") != std::string::npos);
  CHECK(tsv.find("Lily\tTom\t40") != std::string::npos);
  const std::string pairs = read_file(dir.file("f/pairs.jsonl"));
  CHECK(pairs.find("\"clean\":\"Tom the son of\"") != std::string::npos);
  CHECK(pairs.find("\"answers_cf\":[\"Tom\"]") != std::string::npos);

  CHECK(run(bin + " facts --data " + dir.file("without") + " --out " + dir.file("g"), &out) != 0);
  CHECK(out.find("no mineable facts") != std::string::npos);
  CHECK(out.find(dir.file("without")) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("g/pairs.jsonl")));
  CHECK_FALSE(std::filesystem::exists(dir.file("g/facts.tsv")));
}
