// JSON parsing shared by configs and checkpoint headers: duplicate keys are an error
// (nlohmann would silently keep the last one, hiding typos and aliasing attacks).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace sg {

// Parses `text`; errors start with `source` and say what is wrong, e.g.
// "configs/x.json: invalid JSON: ..." or "configs/x.json: model.d_model: duplicate key".
nlohmann::json parse_json_strict(const std::string& text, const std::string& source);

}  // namespace sg
