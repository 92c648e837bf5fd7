#include "triage/triage.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "triage/categorize.hpp"
#include "triage/features.hpp"

namespace sk::triage {
namespace {

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", p * 100);
  return buf;
}

std::string who(const Item& item) {
  return item.from_address.empty() ? std::string("an unknown sender") : item.from_address;
}

// The features that pushed hardest toward spam, named (extraction named the heavy ones).
std::string spam_evidence(const FeatureSet& fs, const SpamModel& model) {
  std::string out;
  for (const auto& c : model.explain(fs, 4)) {
    if (c.weight <= 0) continue;
    if (!out.empty()) out += ", ";
    out += c.feature;
  }
  return out;
}

// Authentication results are evidence the corpus-trained model never saw: weigh them here.
double authentication_adjustment(const Item& item, std::vector<Reason>& reasons) {
  const std::string* ar = item.header("authentication-results");
  if (!ar) return 0;
  std::string v = lower(*ar);
  if (v.find("dmarc=fail") != std::string::npos || v.find("spf=fail") != std::string::npos) {
    reasons.push_back(
        {"auth.fail", "the sender's domain did not vouch for this message (" +
                          std::string(v.find("dmarc=fail") != std::string::npos ? "DMARC failed"
                                                                                : "SPF failed") +
                          ")"});
    return 2.0;
  }
  if (v.find("dkim=pass") != std::string::npos &&
      (v.find("dmarc=pass") != std::string::npos || v.find("spf=pass") != std::string::npos))
    return -1.0;
  return 0;
}

void plan_effects(Decision& d) {
  std::string folder = folder_for(d.disposition, d.category);
  if (!folder.empty()) d.effects.push_back({EffectKind::move_to_folder, folder});
  switch (d.disposition) {
    case Disposition::to_client:
      d.effects.push_back({EffectKind::flag, "\\Flagged"});
      break;
    case Disposition::awaiting_va:
      d.effects.push_back({EffectKind::notify_va, "queue"});
      break;
    case Disposition::protected_:
      d.effects.push_back({EffectKind::record_evidence, "evidence"});
      d.effects.push_back({EffectKind::notify_va, "protection"});
      break;
    default:
      break;
  }
  for (const auto& l : d.labels) d.effects.push_back({EffectKind::label, l});
}

Disposition by_delegation(Delegation del) {
  switch (del) {
    case Delegation::auto_:
    case Delegation::silent:
      return Disposition::handled;
    case Delegation::draft:
      return Disposition::awaiting_va;
    case Delegation::notify:
      return Disposition::to_client;
  }
  return Disposition::awaiting_va;
}

}  // namespace

std::array<Delegation, kCategoryCount> Policy::default_delegation() {
  std::array<Delegation, kCategoryCount> d{};
  d[static_cast<int>(Category::spam)] = Delegation::silent;
  d[static_cast<int>(Category::cold_outreach)] = Delegation::auto_;
  d[static_cast<int>(Category::newsletter)] = Delegation::silent;
  d[static_cast<int>(Category::support)] = Delegation::draft;
  d[static_cast<int>(Category::scheduling)] = Delegation::draft;
  d[static_cast<int>(Category::billing)] = Delegation::notify;
  d[static_cast<int>(Category::team)] = Delegation::notify;
  d[static_cast<int>(Category::personal)] = Delegation::notify;
  d[static_cast<int>(Category::other)] = Delegation::notify;
  return d;
}

std::string folder_for(Disposition d, Category c) {
  switch (d) {
    case Disposition::handled:
      return "Sidekick/Handled";
    case Disposition::screened:
      return c == Category::spam ? "Sidekick/Spam" : "Sidekick/Screened";
    case Disposition::blocked:
      return "Sidekick/Blocked";
    case Disposition::protected_:
      return "Sidekick/Protected";
    case Disposition::to_client:
    case Disposition::awaiting_va:
      return "";
  }
  return "";
}

Decision triage(const TriageInput& in) {
  const Item& item = in.item;
  const Party& party = in.party;
  const Policy& policy = in.policy;
  Decision d;
  d.item = item.id;
  d.decided_at = in.now;

  if (item.parse_status == ParseStatus::unreadable) {
    d.category = Category::other;
    d.disposition = Disposition::awaiting_va;
    d.confidence = 0;
    std::string why = item.defects.empty() ? "it is not a readable message" : item.defects.front();
    d.reasons.push_back(
        {"unreadable", "I could not read this message (" + why +
                           "); it is kept exactly as it arrived for you to look at"});
    plan_effects(d);
    return d;
  }

  // The classifier runs first because rules may ask for its verdict; it decides last.
  FeatureOptions options;
  options.watch = &category_cues();
  options.name_spam_evidence = &in.model;
  options.lesson_words = !in.lessons.empty();
  FeatureSet fs = extract_features(item, options);
  std::vector<Reason> auth_reasons;
  double z = in.model.logit(fs.ids) + authentication_adjustment(item, auth_reasons);
  d.spam_score = 1.0 / (1.0 + std::exp(-z));
  double threshold = policy.spam_threshold >= 0 ? policy.spam_threshold : in.model.threshold();
  bool looks_spam = !in.model.empty() && d.spam_score >= threshold;

  CategoryGuess guess = categorize({item, party, policy.client_domains, fs.phrases});
  Category category = looks_spam ? Category::spam : guess.category;
  double confidence = looks_spam ? d.spam_score : guess.confidence;
  Reason category_reason;
  if (looks_spam) {
    // The score is a probability and the line a cost choice, often well below one half: a
    // bare "spam (26%)" read as a contradiction.
    category_reason = {"classifier.spam", "it looks like spam (scores " + percent(d.spam_score) +
                                              "; " + percent(threshold) +
                                              " and up is spam): " + spam_evidence(fs, in.model)};
  } else {
    std::string ev;
    for (const auto& e : guess.evidence) ev += (ev.empty() ? "" : ", ") + e;
    category_reason = {"classifier.category",
                       "it looks like " + std::string(label(category)) +
                           (ev.empty() ? std::string(" (nothing points elsewhere)") : ": " + ev)};
  }
  if (auto m = apply_lessons(in.lessons, item, fs.words)) {
    category = m->category;
    confidence = m->confidence;
    category_reason = {"lesson", m->reason};
  }
  d.category = category;
  d.confidence = confidence;

  // 1. Who it is from.
  switch (party.relationship) {
    case Relationship::vip:
      d.disposition = Disposition::to_client;
      d.confidence = 1;
      d.reasons.push_back({"relationship.vip", who(item) + " is a VIP: straight to the client"});
      break;
    case Relationship::blocked:
      d.disposition = Disposition::blocked;
      d.confidence = 1;
      d.reasons.push_back({"relationship.blocked", who(item) + " is blocked"});
      break;
    case Relationship::protected_from:
      d.disposition = Disposition::protected_;
      d.confidence = 1;
      d.reasons.push_back({"relationship.protected",
                           "the client is protected from " + who(item) +
                               ": kept away from them, recorded as evidence, the VA is told"});
      break;
    default:
      break;
  }
  if (!d.reasons.empty()) {
    d.reasons.push_back(category_reason);
    plan_effects(d);
    return d;
  }

  // 2. The client's rules, in order.
  bool let_through = false;
  bool disposition_set = false;
  std::string reply_template;
  std::time_t local = static_cast<std::time_t>(in.now + policy.utc_offset_minutes * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  RuleContext ctx{item, party, d.category, d.spam_score, tm.tm_hour, tm.tm_wday};
  for (const auto& rule : policy.rules) {
    std::string why;
    if (!rule_matches(rule, ctx, &why)) continue;
    d.reasons.push_back({"rule", "rule \"" + rule.name + "\" matched: " + why});
    if (rule.then.category) {
      d.category = *rule.then.category;
      d.confidence = 1;
      ctx.category = d.category;
    }
    for (const auto& l : rule.then.labels) d.labels.push_back(l);
    let_through = let_through || rule.then.let_through;
    if (reply_template.empty()) reply_template = rule.then.reply;
    if (rule.then.disposition) {
      d.disposition = *rule.then.disposition;
      disposition_set = true;
      break;
    }
  }
  auto plan_reply = [&](const std::string& name, std::string why) {
    if (name.empty()) return;
    d.effects.push_back({EffectKind::reply, name});
    d.reasons.push_back({"reply", std::move(why)});
  };
  if (disposition_set) {
    d.reasons.push_back(category_reason);
    plan_effects(d);
    plan_reply(reply_template, "answered with the \"" + reply_template + "\" template");
    return d;
  }

  // A confident pitch is declined for the client when they delegate pitches entirely; the
  // screener is for people who might matter, and a pitch does not wait for a VA.
  const Delegation pitches = policy.delegation[static_cast<int>(Category::cold_outreach)];
  const bool decline = d.category == Category::cold_outreach && pitches == Delegation::auto_ &&
                       d.confidence >= policy.low_confidence;

  // 3. The screener: first-time senders wait until someone lets them in.
  bool known =
      party.let_in || party.items_let_in > 0 || party.relationship != Relationship::unknown;
  if (policy.screener && !known && !let_through && !decline) {
    d.disposition = Disposition::screened;
    d.reasons.push_back(
        {"screener.first_time", d.category == Category::spam
                                    ? who(item) + " has not written before and this looks like spam"
                                    : who(item) + " has not written before: waits in the screener "
                                                  "until you let them in"});
    d.reasons.push_back(category_reason);
    for (auto& r : auth_reasons) d.reasons.push_back(std::move(r));
    plan_effects(d);
    plan_reply(reply_template, "answered with the \"" + reply_template + "\" template");
    return d;
  }

  // 4. The classifier decides, through the client's delegation for the category.
  d.reasons.push_back(category_reason);
  for (auto& r : auth_reasons) d.reasons.push_back(std::move(r));
  if (d.category == Category::spam) {
    d.disposition = Disposition::screened;
  } else if (d.confidence < policy.low_confidence && d.category != Category::other) {
    d.disposition = Disposition::awaiting_va;
    d.reasons.push_back(
        {"low_confidence", "I am not sure (" + percent(d.confidence) + "), so a VA should look"});
  } else {
    d.disposition = by_delegation(policy.delegation[static_cast<int>(d.category)]);
    d.reasons.push_back(
        {"delegation",
         "the client's delegation for " + std::string(label(d.category)) + " is " +
             std::string(to_string(policy.delegation[static_cast<int>(d.category)]))});
  }
  if (known && party.items_let_in > 0 && d.category != Category::spam)
    d.reasons.push_back({"history", who(item) + " has written before (" +
                                        std::to_string(party.items_let_in) + " earlier messages)"});
  plan_effects(d);
  if (!reply_template.empty())
    plan_reply(reply_template, "answered with the \"" + reply_template + "\" template");
  else if (decline && d.disposition == Disposition::handled)
    plan_reply("decline", "a pitch: declined politely on the client's behalf");
  return d;
}

}  // namespace sk::triage
