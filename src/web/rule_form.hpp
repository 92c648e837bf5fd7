#pragma once
// A client's rule as a form a VA fills in (who it is from, which words, which relationship
// or category, which hours… then what to do), beside the JSON it is stored as. The JSON
// stays the rule's one written form: the form is read into it and checked by the same code.
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sk::triage {
struct Rule;
}

namespace sk::web {

// What the policy page shows to edit `rule` (null: a new rule): the fields' values and the
// choices offered, with the client's reply templates among the answers.
nlohmann::json rule_form(const triage::Rule* rule, const std::vector<std::string>& templates);

// Whether these request fields are the form's (and not a rule given as JSON in `rule`).
bool is_rule_form(const std::map<std::string, std::string>& fields);

// The rule JSON the form's fields describe; an error names the field that cannot be read.
// Whether the rule makes sense is for engine::rule_from_json to say.
Result<std::string> rule_json_from_form(const std::map<std::string, std::string>& fields);

}  // namespace sk::web
