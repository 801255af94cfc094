// Corpus readers: each turns one source into documents, plain UTF-8 strings whose
// lines are separated by '\n' (the tokenizer later folds newlines and runs of
// whitespace into single spaces). Empty documents are dropped everywhere.
//
// `--corpus` values map to readers by this rule, in order:
//   "kjv"                          -> read_kjv(): the Debian bible-kjv text, one document
//                                     per chapter (use "./kjv" for a file named kjv)
//   path ending in ".jsonl"        -> read_jsonl(): one document per line's "text" field
//   file containing <|endoftext|>  -> read_tinystories(): documents between separators
//   any other file                 -> read_text(): one document per paragraph (lines up
//                                     to a blank line); a single file thus still yields
//                                     enough documents for a train/valid split
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg {

using Documents = std::vector<std::string>;

// Runs `bible -f Gen1:1-Rev22:21` (package bible-kjv) and parses its output.
Documents read_kjv();
// Parses `bible -f` output: lines "Ge1:1 In the beginning ...". The reference is
// dropped (it is noise to a language model); verses of one chapter become the lines
// of one document. Any other line is an error naming `source` and the line number.
Documents parse_kjv(std::string_view text, const std::string& source);

Documents read_text(const std::string& path);
Documents parse_text(std::string_view text);
Documents read_jsonl(const std::string& path);  // errors name path:line
Documents read_tinystories(const std::string& path);
Documents parse_tinystories(std::string_view text);

extern const std::string_view kEndOfText;  // "<|endoftext|>"

struct Corpus {
  Documents documents;
  nlohmann::json sources = nlohmann::json::array();  // per source: name, format, documents
};

// The format read_corpus() picks for `spec` (see the rule above): kjv|jsonl|tinystories|text.
std::string corpus_format(const std::string& spec);
// Reads every source in order and concatenates their documents.
Corpus read_corpus(const std::vector<std::string>& specs);

// Helpers shared by the readers.
std::string_view trim(std::string_view s);
// Throws "<source>: invalid UTF-8 at byte N" on malformed input.
void check_utf8(std::string_view text, const std::string& source);

}  // namespace sg
