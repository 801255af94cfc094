#include "util/json_util.h"

#include <set>
#include <vector>

#include "util/error.h"

namespace sg {

nlohmann::json parse_json_strict(const std::string& text, const std::string& source) {
  using json = nlohmann::json;
  // One entry per open object: the keys seen so far and the key being parsed.
  struct Level {
    std::set<std::string> keys;
    std::string key;
  };
  std::vector<Level> stack;
  std::string duplicate;
  auto path_to = [&](const std::string& key) {
    std::string p;
    for (size_t i = 0; i + 1 < stack.size(); ++i) p += stack[i].key + ".";
    return p + key;
  };
  auto cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) {
      stack.emplace_back();
    } else if (ev == json::parse_event_t::object_end) {
      stack.pop_back();
    } else if (ev == json::parse_event_t::key) {
      const std::string key = parsed.get<std::string>();
      if (!stack.back().keys.insert(key).second && duplicate.empty()) duplicate = path_to(key);
      stack.back().key = key;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, cb);
  } catch (const json::parse_error& e) {
    fail(source, ": invalid JSON: ", e.what());
  }
  SG_CHECK(duplicate.empty(), source, ": ", duplicate, ": duplicate key");
  return j;
}

}  // namespace sg
