// The King James Bible from Debian's bible-kjv: `bible -f` prints one verse per line,
// "Ge1:1 In the beginning ...", book abbreviations optionally led by a digit (1Sm).
#include <sys/wait.h>
#include <cctype>
#include <cstdio>

#include "data/corpus.h"
#include "util/error.h"

namespace sg {

namespace {

const char* kBibleCommand = "bible -f 'Gen1:1-Rev22:21'";

// Length of the "Ge1:1 " prefix, and of its "Ge1" chapter key; 0 if not a verse line.
size_t verse_prefix(std::string_view line, size_t* chapter_key_len) {
  size_t i = 0;
  if (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  const size_t book = i;
  while (i < line.size() && std::isalpha(static_cast<unsigned char>(line[i]))) ++i;
  if (i == book) return 0;
  const size_t chapter = i;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  if (i == chapter || i >= line.size() || line[i] != ':') return 0;
  *chapter_key_len = i++;
  const size_t verse = i;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  if (i == verse || i >= line.size() || line[i] != ' ') return 0;
  return i + 1;
}

}  // namespace

Documents parse_kjv(std::string_view text, const std::string& source) {
  Documents docs;
  std::string_view current_key;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    ++line_no;
    if (trim(line).empty()) continue;
    size_t key_len = 0;
    const size_t prefix = verse_prefix(line, &key_len);
    if (prefix == 0)
      fail(source, ": line ", line_no, " is not a verse (\"Book1:2 text\"): \"", line.substr(0, 60),
           "\"");
    const std::string_view key = line.substr(0, key_len), verse = trim(line.substr(prefix));
    if (docs.empty() || key != current_key) {
      docs.emplace_back();
      current_key = key;
    } else {
      docs.back() += '\n';
    }
    docs.back() += verse;
  }
  return docs;
}

Documents read_kjv() {
  FILE* pipe = ::popen(kBibleCommand, "r");
  SG_CHECK(pipe, "kjv: cannot run '", kBibleCommand, "'");
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("kjv: '", kBibleCommand, "' failed (exit status ",
         WIFEXITED(status) ? WEXITSTATUS(status) : status,
         "); the kjv corpus needs the Debian package bible-kjv");
  check_utf8(out, "kjv (bible output)");
  Documents docs = parse_kjv(out, "kjv (bible output)");
  // 1189 chapters in the 66 books; anything else means the text changed under us.
  SG_CHECK(docs.size() == 1189, "kjv: expected 1189 chapters from '", kBibleCommand, "', got ",
           docs.size());
  return docs;
}

}  // namespace sg
