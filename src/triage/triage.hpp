#pragma once
// Triage: a pure function from (item, party, policy, model, lessons, time) to a Decision.
// No I/O. The same input always gives the same decision.
#include <array>
#include <string>
#include <vector>

#include "core/domain.hpp"
#include "triage/lessons.hpp"
#include "triage/rules.hpp"
#include "triage/spam_model.hpp"

namespace sk::triage {

struct Policy {
  std::vector<std::string> client_addresses;  // the client's own addresses
  std::vector<std::string> client_domains;    // mail from these is the client's team
  bool screener = true;                       // first-time senders wait for the VA
  std::array<Delegation, kCategoryCount> delegation = default_delegation();
  std::vector<Rule> rules;            // in order; the first that sets a disposition decides it
  double spam_threshold = -1;         // < 0: the model's own
  int utc_offset_minutes = 0;         // the client's zone, for time conditions in rules
  double low_confidence = 0.45;       // below this a VA looks
  int auto_reply_period_hours = 168;  // one automatic reply per sender per period (0: no limit)

  static std::array<Delegation, kCategoryCount> default_delegation();
};

struct TriageInput {
  const Item& item;
  const Party& party;
  const Policy& policy;
  const SpamModel& model;
  const std::vector<Lesson>& lessons;
  Timestamp now;
};

Decision triage(const TriageInput& in);

// The folder each disposition files mail into (empty: leave it in the inbox).
std::string folder_for(Disposition d, Category c);

}  // namespace sk::triage
