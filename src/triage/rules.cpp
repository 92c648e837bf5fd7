#include "triage/rules.hpp"

#include <algorithm>

namespace sk::triage {
namespace {

bool contains_word(std::string_view haystack_lower, std::string_view word_lower) {
  if (word_lower.empty()) return false;
  for (std::size_t p = haystack_lower.find(word_lower); p != std::string_view::npos;
       p = haystack_lower.find(word_lower, p + 1)) {
    auto is_word = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             static_cast<unsigned char>(c) >= 0x80;
    };
    bool left = p == 0 || !is_word(haystack_lower[p - 1]);
    std::size_t e = p + word_lower.size();
    bool right = e >= haystack_lower.size() || !is_word(haystack_lower[e]);
    if (left && right) return true;
  }
  return false;
}

void note(std::string* why, const std::string& s) {
  if (!why) return;
  if (!why->empty()) *why += "; ";
  *why += s;
}

}  // namespace

bool RuleCondition::empty() const {
  return from.empty() && domains.empty() && relationships.empty() && headers.empty() &&
         words.empty() && subject_words.empty() && categories.empty() && !spam_score_min &&
         !spam_score_max && !hour_from && !hour_to && weekdays.empty();
}

bool rule_matches(const Rule& rule, const RuleContext& ctx, std::string* why) {
  const RuleCondition& c = rule.when;
  if (!rule.enabled || c.empty()) return false;
  const Item& item = ctx.item;
  const std::string& from = item.from_address;
  std::string domain = domain_of(from);

  if (!c.from.empty()) {
    bool hit = std::any_of(c.from.begin(), c.from.end(), [&](const std::string& f) {
      std::string lf = lower(f);
      if (lf.rfind("*@", 0) == 0) return domain == lf.substr(2);
      return lf == from;
    });
    if (!hit) return false;
    note(why, "sender is " + from);
  }
  if (!c.domains.empty()) {
    bool hit = std::any_of(c.domains.begin(), c.domains.end(), [&](const std::string& d) {
      std::string ld = lower(d);
      return domain == ld || (domain.size() > ld.size() &&
                              domain.compare(domain.size() - ld.size(), ld.size(), ld) == 0 &&
                              domain[domain.size() - ld.size() - 1] == '.');
    });
    if (!hit) return false;
    note(why, "sender's domain is " + domain);
  }
  if (!c.relationships.empty()) {
    if (std::find(c.relationships.begin(), c.relationships.end(), ctx.party.relationship) ==
        c.relationships.end())
      return false;
    note(why, "sender is " + std::string(to_string(ctx.party.relationship)));
  }
  for (const auto& h : c.headers) {
    const std::string* v = item.header(h.name);
    if (!v) return false;
    if (!h.contains.empty() && lower(*v).find(lower(h.contains)) == std::string::npos) return false;
    note(why, h.contains.empty() ? "has a " + h.name + " header"
                                 : h.name + " contains '" + h.contains + "'");
  }
  if (!c.subject_words.empty()) {
    std::string subject = lower(item.subject);
    auto hit = std::find_if(c.subject_words.begin(), c.subject_words.end(),
                            [&](const std::string& w) { return contains_word(subject, lower(w)); });
    if (hit == c.subject_words.end()) return false;
    note(why, "subject mentions '" + *hit + "'");
  }
  if (!c.words.empty()) {
    std::string text = lower(item.subject) + "\n" + lower(item.text);
    auto hit = std::find_if(c.words.begin(), c.words.end(),
                            [&](const std::string& w) { return contains_word(text, lower(w)); });
    if (hit == c.words.end()) return false;
    note(why, "mentions '" + *hit + "'");
  }
  if (!c.categories.empty()) {
    if (std::find(c.categories.begin(), c.categories.end(), ctx.category) == c.categories.end())
      return false;
    note(why, "looks like " + std::string(label(ctx.category)));
  }
  if (c.spam_score_min && ctx.spam_score < *c.spam_score_min) return false;
  if (c.spam_score_max && ctx.spam_score > *c.spam_score_max) return false;
  if (c.spam_score_min || c.spam_score_max)
    note(why, "spam score " + std::to_string(static_cast<int>(ctx.spam_score * 100)) + "%");
  if (c.hour_from || c.hour_to) {
    int from_h = c.hour_from.value_or(0), to_h = c.hour_to.value_or(24);
    bool in = from_h <= to_h ? (ctx.local_hour >= from_h && ctx.local_hour < to_h)
                             : (ctx.local_hour >= from_h || ctx.local_hour < to_h);
    if (!in) return false;
    note(why,
         "arrived between " + std::to_string(from_h) + ":00 and " + std::to_string(to_h) + ":00");
  }
  if (!c.weekdays.empty()) {
    if (std::find(c.weekdays.begin(), c.weekdays.end(), ctx.local_weekday) == c.weekdays.end())
      return false;
    note(why, "arrived on a chosen weekday");
  }
  return true;
}

}  // namespace sk::triage
