// Plain text: a document is a paragraph, i.e. a run of non-blank lines; one or more
// blank (or whitespace-only) lines separate documents. Lines keep their order, joined
// with '\n' and stripped of surrounding whitespace (including the '\r' of CRLF files).
#include "data/corpus.h"
#include "util/file_io.h"

namespace sg {

Documents parse_text(std::string_view text) {
  Documents docs;
  bool in_paragraph = false;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.empty()) {
      in_paragraph = false;
      continue;
    }
    if (in_paragraph) {
      docs.back() += '\n';
    } else {
      docs.emplace_back();
      in_paragraph = true;
    }
    docs.back() += line;
  }
  return docs;
}

Documents read_text(const std::string& path) {
  const std::string text = read_file(path);
  check_utf8(text, path);
  return parse_text(text);
}

}  // namespace sg
