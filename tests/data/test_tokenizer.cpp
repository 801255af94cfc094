#include <doctest/doctest.h>

#include <algorithm>

#include "data/tokenizer.h"
#include "data_test_util.h"
#include "util/error.h"

using namespace sg;

namespace {

// Byte fallback needs 256 byte pieces + 3 specials + one piece per distinct character
// of the training text (~35 here), so 400 leaves room for ~100 merges.
constexpr int64_t kVocab = 400;

const std::string& tiny_model() {
  static const std::string model = train_tokenizer(test::tiny_paragraphs(300, 1), {kVocab, 0});
  return model;
}

}  // namespace

TEST_CASE("tokenizer: small BPE model has the fixed special ids and the requested size") {
  const Tokenizer tok = Tokenizer::from_bytes(tiny_model(), "tiny");
  CHECK(tok.vocab_size() == kVocab);
  CHECK(tok.piece(kPadId) == "<pad>");
  CHECK(tok.piece(kEosId) == "</s>");
  CHECK(tok.piece(kUnkId) == "<unk>");
  CHECK(tok.piece(3) == "<0x00>");  // byte pieces follow the specials
  CHECK_THROWS_WITH_AS(tok.piece(kVocab), sg::test::has("token id 400 outside"), Error);
  CHECK_THROWS_WITH_AS(tok.decode({5, -1}), sg::test::has("token id -1 outside"), Error);
}

TEST_CASE("tokenizer: round trip of seen and unseen text, never unk") {
  const Tokenizer tok = Tokenizer::from_bytes(tiny_model(), "tiny");
  const std::string texts[] = {
      "the cat sat on a warm mat.",
      "Lily found a shiny stone under the old tree.",
      "Zebra quux: 42% [x] caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC",
  };
  for (const auto& text : texts) {
    const auto ids = tok.encode(text);
    CHECK(std::find(ids.begin(), ids.end(), kUnkId) == ids.end());
    CHECK(tok.decode(ids) == text);
  }
  // Merges compress seen text: fewer tokens than characters.
  CHECK(tok.encode(texts[1]).size() < texts[1].size() / 2);
  // Whitespace is normalised: newline and runs of spaces decode as one space.
  CHECK(tok.decode(tok.encode("the cat\nsat   on")) == "the cat sat on");
}

TEST_CASE("tokenizer: training is deterministic and reports impossible vocab sizes") {
  CHECK(train_tokenizer(test::tiny_paragraphs(300, 1), {kVocab, 0}) == tiny_model());
  CHECK_THROWS_WITH_AS(train_tokenizer(test::tiny_paragraphs(50, 1), {270, 0}),
                       sg::test::has("Vocabulary size is smaller than required_chars"), Error);
}

TEST_CASE("tokenizer: load reads a model file and rejects other files") {
  test::TempDir dir;
  const auto junk = dir.write("junk.model", "not a model");
  CHECK_THROWS_WITH_AS(Tokenizer::load(junk), sg::test::has(junk + ": not a sentencepiece model"),
                       Error);
  const Tokenizer tok = Tokenizer::load(dir.write("ok.model", tiny_model()));
  CHECK(tok.vocab_size() == kVocab);
}

TEST_CASE("tokenizer: line sampling and very long lines") {
  const auto docs = test::tiny_paragraphs(300, 1);  // 584 lines
  TokenizerTrainOptions opt{kVocab, 3, /*max_sentences=*/200};
  const std::string sampled = train_tokenizer(docs, opt);
  CHECK(train_tokenizer(docs, opt) == sampled);
  CHECK(sampled != tiny_model());
  // One 40 kB line: sentencepiece would drop it whole (it skips sentences longer than
  // max_sentence_length) and fail with no text; cut at spaces it trains normally.
  const std::string one_line = test::join(test::tiny_paragraphs(400, 2), " ");
  REQUIRE(one_line.find('\n') != std::string::npos);
  std::string flat = one_line;
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  REQUIRE(flat.size() > 20000);
  const Tokenizer tok =
      Tokenizer::from_bytes(train_tokenizer(Documents{flat}, {kVocab, 0}), "long");
  CHECK(tok.vocab_size() == kVocab);
  CHECK(tok.encode("the little girl").size() < 8);  // merges were learned from the line
}
