#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "data/prepare.h"
#include "data/shard.h"
#include "data/tokenizer.h"
#include "data_test_util.h"
#include "util/error.h"
#include "util/file_io.h"

using namespace sg;
using sg::test::TempDir;

namespace {

// What the tokenizer's normalisation makes of a document: lines joined by one space.
std::string normalised(std::string doc) {
  std::replace(doc.begin(), doc.end(), '\n', ' ');
  return doc;
}

PrepareOptions tiny_options(const TempDir& dir, const std::string& out) {
  const auto paras = test::tiny_paragraphs(120, 5);
  const std::string text = test::join({paras.begin(), paras.begin() + 80}, "\n\n");
  std::string jsonl;
  for (size_t i = 80; i < paras.size(); ++i)
    jsonl += nlohmann::json{{"text", paras[i]}}.dump() + "\n";
  PrepareOptions opt;
  opt.corpus = {dir.write("a.txt", text), dir.write("b.jsonl", jsonl)};
  opt.out_dir = dir.file(out);
  opt.vocab_size = 320;
  opt.valid_fraction = 0.1;
  opt.seed = 9;
  return opt;
}

}  // namespace

TEST_CASE("prepare: same inputs give byte-identical outputs") {
  TempDir dir;
  const auto opt = tiny_options(dir, "out1");
  auto opt2 = opt;
  opt2.out_dir = dir.file("out2");
  prepare_data(opt);
  prepare_data(opt2);
  for (const char* f : {"tokenizer.model", "train.bin", "valid.bin", "manifest.json"}) {
    INFO(f);
    CHECK(read_file(opt.out_dir + "/" + f) == read_file(opt2.out_dir + "/" + f));
  }
  auto opt3 = opt;
  opt3.out_dir = dir.file("out3");
  opt3.seed = 10;  // another split
  prepare_data(opt3);
  CHECK(read_file(opt.out_dir + "/train.bin") != read_file(opt3.out_dir + "/train.bin"));
}

TEST_CASE("prepare: shards hold every document once, in order, and match the manifest") {
  TempDir dir;
  const auto opt = tiny_options(dir, "out");
  const auto m = prepare_data(opt);
  const auto manifest = nlohmann::json::parse(read_file(opt.out_dir + "/manifest.json"));
  CHECK(manifest == m);
  CHECK(m["vocab_size"] == 320);
  CHECK(m["special_ids"]["eos"] == kEosId);
  CHECK(m["special_ids"]["pad"] == kPadId);
  CHECK(m["sources"].size() == 2);

  const Tokenizer tok = Tokenizer::load(opt.out_dir + "/tokenizer.model");
  const auto paras = test::tiny_paragraphs(120, 5);
  std::vector<std::string> decoded[2];
  for (int s = 0; s < 2; ++s) {
    const std::string split = s ? "valid" : "train";
    TokenShard shard(opt.out_dir + "/" + split + ".bin");
    CHECK(shard.tokens() == m[split]["tokens"]);
    CHECK(shard.documents() == m[split]["documents"]);
    CHECK(shard.vocab_size() == 320);
    std::vector<int32_t> ids(static_cast<size_t>(shard.tokens())), doc;
    shard.read(0, shard.tokens(), ids.data());
    REQUIRE(ids.back() == kEosId);
    for (int32_t id : ids) {
      if (id != kEosId) {
        doc.push_back(id);
        continue;
      }
      decoded[s].push_back(tok.decode(doc));
      doc.clear();
    }
  }
  CHECK(decoded[0].size() + decoded[1].size() == paras.size());
  CHECK(decoded[1].size() >= 1);
  // Merging the two splits back by original order must give every paragraph: each
  // decoded document is found in order in one of the two lists.
  size_t next[2] = {0, 0};
  for (const auto& p : paras) {
    const std::string want = normalised(p);
    const int s = next[0] < decoded[0].size() && decoded[0][next[0]] == want ? 0 : 1;
    REQUIRE(next[s] < decoded[s].size());
    CHECK(decoded[s][next[s]++] == want);
  }
}

TEST_CASE("prepare: CLI reports bad input with file:line and exit status 1") {
  TempDir dir;
  const auto bad = dir.write("bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"oops\"}\n");
  std::string out;
  const int rc = test::run(std::string(SGATLIN_BINARY) + " data prepare --corpus " + bad +
                               " --out " + dir.file("o") + " --vocab-size 300",
                           &out);
  CHECK(rc == 1);
  CHECK(out.find(bad + ":2: missing \"text\" field") != std::string::npos);
}

TEST_CASE("prepare: CLI end to end on a tiny text corpus") {
  TempDir dir;
  const auto text = dir.write("t.txt", test::join(test::tiny_paragraphs(60, 2), "\n\n"));
  std::string out;
  const int rc = test::run(std::string(SGATLIN_BINARY) + " data prepare --corpus " + text +
                               " --out " + dir.file("o") + " --vocab-size 300 --seed 1",
                           &out);
  INFO(out);
  REQUIRE(rc == 0);
  const auto m = nlohmann::json::parse(read_file(dir.file("o/manifest.json")));
  CHECK(m["train"]["documents"].get<int>() + m["valid"]["documents"].get<int>() == 60);
  CHECK(m["seed"] == 1);
  CHECK(out.find("training tokenizer") != std::string::npos);  // progress on stderr
}
