#include "data/corpus.h"

#include <fstream>

#include "util/error.h"

namespace sg {

const std::string_view kEndOfText = "<|endoftext|>";

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

void check_utf8(std::string_view text, const std::string& source) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (p[i + k] >> 6) == 0x2;
    if (ok && len == 2) ok = c >= 0xC2;  // overlong
    if (ok && len == 3)
      ok = !(c == 0xE0 && p[i + 1] < 0xA0) &&  // overlong
           !(c == 0xED && p[i + 1] >= 0xA0);   // surrogate
    if (ok && len == 4)
      ok = !(c == 0xF0 && p[i + 1] < 0x90) && c <= 0xF4 &&
           !(c == 0xF4 && p[i + 1] >= 0x90);  // > U+10FFFF
    if (!ok) fail(source, ": invalid UTF-8 at byte ", i);
    i += len;
  }
}

static bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Looks for the separator in the file without reading it twice into memory.
static bool file_contains(const std::string& path, std::string_view needle) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open for reading");
  std::string buf, carry;
  buf.resize(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::string chunk = carry + buf.substr(0, static_cast<size_t>(in.gcount()));
    if (chunk.find(needle) != std::string::npos) return true;
    carry = chunk.substr(chunk.size() - std::min(chunk.size(), needle.size() - 1));
  }
  return false;
}

std::string corpus_format(const std::string& spec) {
  if (spec == "kjv") return "kjv";
  if (ends_with(spec, ".jsonl")) return "jsonl";
  if (file_contains(spec, kEndOfText)) return "tinystories";
  return "text";
}

Corpus read_corpus(const std::vector<std::string>& specs) {
  SG_CHECK(!specs.empty(), "read_corpus: no --corpus given");
  Corpus c;
  for (const auto& spec : specs) {
    const std::string format = corpus_format(spec);
    Documents docs = format == "kjv"           ? read_kjv()
                     : format == "jsonl"       ? read_jsonl(spec)
                     : format == "tinystories" ? read_tinystories(spec)
                                               : read_text(spec);
    SG_CHECK(!docs.empty(), spec, ": no documents (", format, " format)");
    c.sources.push_back({{"name", spec}, {"format", format}, {"documents", docs.size()}});
    for (auto& d : docs) c.documents.push_back(std::move(d));
  }
  return c;
}

}  // namespace sg
