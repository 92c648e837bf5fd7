#pragma once
// A client's own rules: ordered conditions and what to do when they hold.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/domain.hpp"

namespace sk::triage {

struct HeaderCondition {
  std::string name;
  std::string contains;  // empty: the header is present
};

// Every condition that is set must hold; an empty condition set matches nothing.
struct RuleCondition {
  std::vector<std::string> from;     // addresses; "*@example.com" matches a whole domain
  std::vector<std::string> domains;  // sender domains, sub-domains included
  std::vector<Relationship> relationships;
  std::vector<HeaderCondition> headers;    // all must hold
  std::vector<std::string> words;          // any of them, in the subject or text
  std::vector<std::string> subject_words;  // any of them, in the subject
  std::vector<Category> categories;        // the classifier's category is one of these
  std::optional<double> spam_score_min;
  std::optional<double> spam_score_max;
  std::optional<int> hour_from;  // local hours [from, to), wrapping past midnight
  std::optional<int> hour_to;
  std::vector<int> weekdays;  // 0 = Sunday

  bool empty() const;
};

struct RuleAction {
  std::optional<Disposition> disposition;
  std::optional<Category> category;
  std::vector<std::string> labels;
  bool let_through = false;  // pass the screener (first-time senders)
  std::string reply;         // answer with the client's template of this name (automatic reply)
};

struct Rule {
  std::string name;
  bool enabled = true;
  RuleCondition when;
  RuleAction then;
};

struct RuleContext {
  const Item& item;
  const Party& party;
  Category category;  // the classifier's
  double spam_score;
  int local_hour;     // 0..23 in the client's zone
  int local_weekday;  // 0 = Sunday
};

// Whether the rule holds; `why` gets the conditions that matched, in words.
bool rule_matches(const Rule& rule, const RuleContext& ctx, std::string* why = nullptr);

}  // namespace sk::triage
