// JSON Lines: every non-blank line is a JSON object whose "text" string is one
// document (other fields are ignored). Errors name file:line.
#include <fstream>

#include "data/corpus.h"
#include "util/error.h"

namespace sg {

Documents read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SG_CHECK(in, path, ": cannot open for reading");
  Documents docs;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (trim(line).empty()) continue;
    const std::string where = cat(path, ":", line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail(where, ": invalid JSON: ", e.what());
    }
    SG_CHECK(j.is_object(), where, ": expected a JSON object with a \"text\" field, got ",
             j.type_name());
    const auto it = j.find("text");
    SG_CHECK(it != j.end(), where, ": missing \"text\" field");
    SG_CHECK(it->is_string(), where, ": \"text\" must be a string, got ", it->type_name());
    // The JSON parser already rejects malformed UTF-8 in strings.
    std::string doc(trim(it->get_ref<const std::string&>()));
    if (!doc.empty()) docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace sg
