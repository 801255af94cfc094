// TinyStories-style files: stories separated by the literal "<|endoftext|>" (the
// format of TinyStoriesV2-GPT4-*.txt). Each story, trimmed, is one document; its
// inner newlines are kept (CRLF becomes LF).
#include "data/corpus.h"
#include "util/file_io.h"

namespace sg {

Documents parse_tinystories(std::string_view text) {
  Documents docs;
  for (;;) {
    const size_t sep = text.find(kEndOfText);
    const std::string_view story = trim(text.substr(0, sep));
    if (!story.empty()) {
      std::string doc;
      doc.reserve(story.size());
      for (char c : story)
        if (c != '\r') doc += c;
      docs.push_back(std::move(doc));
    }
    if (sep == std::string_view::npos) break;
    text = text.substr(sep + kEndOfText.size());
  }
  return docs;
}

Documents read_tinystories(const std::string& path) {
  const std::string text = read_file(path);
  check_utf8(text, path);
  return parse_tinystories(text);
}

}  // namespace sg
