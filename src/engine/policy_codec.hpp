#pragma once
// A client's policy and rules as stored (JSON) and as written by people (TOML).
#include <string>
#include <vector>

#include "core/result.hpp"
#include "triage/triage.hpp"

namespace sk::engine {

std::string rule_to_json(const triage::Rule& rule);
Result<triage::Rule> rule_from_json(const std::string& json);

// Rules from a TOML document: an array of [[rule]] tables, in order. Every mistake is
// reported with the rule's number and name, and nothing is returned unless all are valid.
Result<std::vector<triage::Rule>> rules_from_toml(const std::string& toml_text,
                                                  const std::string& source_name);

// The policy settings other than rules (screener, delegation, thresholds...).
std::string policy_to_json(const triage::Policy& p);
Result<triage::Policy> policy_from_json(const std::string& json);

}  // namespace sk::engine
