#include "engine/engine.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "calendar/ical.hpp"
#include "calendar/zone.hpp"
#include "core/hash.hpp"
#include "engine/booking_links.hpp"
#include "engine/policy_codec.hpp"
#include "engine/replies.hpp"
#include "engine/scheduling.hpp"
#include "engine/support.hpp"
#include "mail/import.hpp"
#include "mail/message.hpp"
#include "store/scheduling.hpp"
#include "store/users.hpp"

namespace sk::engine {

Engine::Engine(store::Db& db, const Clock& clock, IdSource& ids, triage::SpamModel model)
    : db_(db),
      clock_(clock),
      ids_(ids),
      model_(std::move(model)),
      support_(std::make_unique<SupportDesk>(db, clock, ids)) {}

Engine::~Engine() = default;

Result<ItemId> Engine::intake_message(const ClientId& client, const std::string& source_key,
                                      const std::string& raw, const std::string& origin,
                                      const std::string& same_source_prefix) {
  SK_ASSIGN(auto existing, db_.query("SELECT id FROM items WHERE client_id = ? AND source_key = ?",
                                     {client, source_key}));
  if (!existing.empty()) return ItemId{};
  if (!same_source_prefix.empty()) {
    SK_ASSIGN(ItemId renamed, store::rekey_item(db_, client, raw, same_source_prefix, source_key));
    if (!renamed.empty()) return ItemId{};
  }
  Item item = mail::parse_message(raw);
  item.source_key = source_key;
  return intake_item(client, std::move(item), raw, origin);
}

Result<ItemId> Engine::intake_item(const ClientId& client, Item item, const std::string& raw,
                                   const std::string& origin) {
  item.client = client;
  item.received_at = clock_.now();
  item.id = ids_.next("itm");
  PartyId party;
  if (!item.from_address.empty()) {
    SK_ASSIGN(party,
              store::ensure_party(db_, ids_, clock_, client, item.from_address, item.from_name));
  }
  SK_ASSIGN(bool inserted, store::insert_item(db_, item, party, raw, origin));
  return inserted ? item.id : ItemId{};
}

Result<ImportReport> Engine::import_paths(const ClientId& client,
                                          const std::vector<std::string>& paths) {
  ImportReport report;
  for (const auto& path : paths) {
    // One transaction per path: a folder of thousands of messages is one fsync, and an
    // interrupted import leaves whole paths, never half an item.
    SK_TRY(db_.transaction([&]() -> Result<void> {
      SK_ASSIGN(auto stats, mail::scan_mail(path, [&](mail::RawMessage&& m) -> Result<void> {
                  ++report.found;
                  // Content-addressed: the same message imported again, from anywhere, is the same
                  // item.
                  std::string key = "import:" + sha256_hex(m.bytes);
                  SK_ASSIGN(ItemId id, intake_message(client, key, m.bytes, m.origin));
                  if (id.empty()) {
                    ++report.duplicates;
                    return ok();
                  }
                  ++report.added;
                  SK_ASSIGN(auto status,
                            db_.query("SELECT parse_status FROM items WHERE id = ?", {id}));
                  std::string s = status.at(0).str(0);
                  if (s == "unreadable") ++report.unreadable;
                  if (s == "repaired") ++report.repaired;
                  return ok();
                }));
      report.skipped_files += stats.skipped_files;
      return ok();
    }));
  }
  return report;
}

Result<std::vector<triage::Lesson>> Engine::load_lessons(const ClientId& client) {
  SK_ASSIGN(auto records, store::load_lessons(db_, client));
  std::vector<triage::Lesson> lessons;
  lessons.reserve(records.size());
  for (const auto& r : records) {
    auto words = triage::decode_words(r.features);
    if (!words) {
      // Kept by a version whose tokenizer hashed words otherwise: made again from the item, once.
      // A lesson whose item is gone still teaches by its sender and list.
      auto stored = store::get_item(db_, client, r.item);
      if (!stored.ok() && stored.error().code != Errc::not_found) return stored.error();
      words =
          stored.ok() ? triage::word_features(stored.value().item) : std::vector<std::uint32_t>{};
      SK_TRY(store::set_lesson_features(db_, client, r, triage::encode_words(*words)));
    }
    lessons.push_back({category_from(r.category).value_or(Category::other), r.sender, r.list_id,
                       r.subject, std::move(*words)});
  }
  return lessons;
}

Result<triage::Policy> Engine::load_policy(const ClientId& client) {
  SK_ASSIGN(auto rows,
            db_.query("SELECT policy, email, timezone FROM clients WHERE id = ?", {client}));
  if (rows.empty()) return make_error(Errc::not_found, "no client '" + client + "'");
  SK_ASSIGN(auto policy, policy_from_json(rows[0].str(0)));
  // A zone beats the policy's fixed offset: it follows daylight saving.
  if (const std::string tz = rows[0].str(2); !tz.empty() && tz != "UTC") {
    SK_ASSIGN(auto zone, calendar::Zone::find(tz));
    policy.utc_offset_minutes = zone.offset_at(clock_.now()) / 60;
  }
  std::string email = rows[0].str(1);
  if (!email.empty()) {
    policy.client_addresses.push_back(email);
    policy.client_domains.push_back(domain_of(email));
  }
  SK_ASSIGN(auto rules, store::load_rules(db_, client));
  for (const auto& r : rules) {
    SK_ASSIGN(auto rule, rule_from_json(r));
    policy.rules.push_back(std::move(rule));
  }
  return policy;
}

namespace {
std::string decision_summary(const Decision& d) {
  std::string s = std::string(label(d.category)) + " → " + std::string(label(d.disposition));
  for (const auto& r : d.reasons) s += "; " + r.text;
  return s;
}
}  // namespace

Result<TriageReport> Engine::triage_pending(const ClientId& client) {
  SK_ASSIGN(auto pending, store::undecided_items(db_, client));
  // Answers sent since the last round move their conversations along first.
  SK_TRY(refresh_conversations(db_, client, clock_.now()));
  TriageReport report;
  SK_ASSIGN(auto policy, load_policy(client));
  SK_ASSIGN(auto lessons, load_lessons(client));
  // Batches of decisions share a transaction: each decision is still atomic with its
  // effects, and a crash loses at most an uncommitted batch, which is decided again.
  constexpr std::size_t kBatch = 256;
  for (std::size_t start = 0; start < pending.size(); start += kBatch) {
    SK_TRY(db_.transaction([&]() -> Result<void> {
      for (std::size_t i = start; i < std::min(pending.size(), start + kBatch); ++i) {
        SK_ASSIGN(Decision d, decide_and_record(client, pending[i], policy, lessons));
        ++report.decided;
        ++report.by_disposition[d.disposition];
        ++report.by_category[d.category];
      }
      return ok();
    }));
  }
  return report;
}

namespace {
// Moving and flagging the message in its mailbox.
void drop_mailbox_effects(Decision& d) {
  std::erase_if(d.effects, [](const PlannedEffect& e) {
    return e.kind == EffectKind::move_to_folder || e.kind == EffectKind::flag;
  });
}
}  // namespace

Result<Decision> Engine::decide_and_record(const ClientId& client, const ItemId& id,
                                           const triage::Policy& policy,
                                           const std::vector<triage::Lesson>& lessons) {
  SK_ASSIGN(auto stored, store::get_item(db_, client, id));
  Party party;
  if (!stored.item.from_address.empty()) {
    SK_ASSIGN(auto found, store::find_party(db_, client, stored.item.from_address));
    if (found) party = std::move(*found);
  }
  const Channel channel = stored.item.channel;
  // Mail's model reads headers a text or a call does not have: texts have their own, calls none.
  const triage::SpamModel& model = channel == Channel::email ? model_
                                   : channel == Channel::sms ? text_model_
                                                             : no_model_;
  Decision d = triage::triage({stored.item, party, policy, model, lessons, clock_.now()});
  if (channel != Channel::email) {
    // No mailbox to file it in, and answers go back on the phone, not by mail.
    drop_mailbox_effects(d);
    SK_TRY(store::record_decision(db_, ids_, clock_, client, d, "triage", decision_summary(d)));
    return d;
  }
  SK_TRY(support_->amend(client, stored, party, policy, d));
  SK_ASSIGN(bool answered, take_itip_reply(client, stored, d));
  SK_TRY(store::record_decision(db_, ids_, clock_, client, d, "triage", decision_summary(d)));
  SK_TRY(support_->carry_out(client, stored, d));
  if (!answered) SK_TRY(propose_for(client, stored, d));
  return d;
}

namespace {
bool carries_calendar(const Item& item) {
  for (const auto& a : item.attachments) {
    std::string t = a.content_type, f = a.filename;
    for (auto* x : {&t, &f})
      for (auto& ch : *x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (t.find("text/calendar") != std::string::npos ||
        t.find("application/ics") != std::string::npos || f.ends_with(".ics"))
      return true;
  }
  return false;
}
}  // namespace

Result<bool> Engine::take_itip_reply(const ClientId& client, const store::StoredItem& stored,
                                     Decision& d) {
  // Needs no links: an answer to an invitation is applied by any engine, even `sidekick triage`.
  if (!carries_calendar(stored.item)) return false;
  SK_ASSIGN(auto raw, store::raw_message(db_, client, stored.item.id));
  for (const auto& ics : mail::calendar_parts(raw)) {
    auto cal = calendar::parse_ics(ics);
    if (!cal || cal->method != "REPLY") continue;
    // An answer that names no booking of this client, or does not read, is left to triage.
    auto b = apply_itip_reply(db_, clock_, ids_, client, ics, "sidekick");
    if (!b || !*b) continue;
    d.category = Category::scheduling;
    d.disposition = Disposition::handled;
    d.confidence = 1;
    d.reasons.push_back({"booking", "answers the invitation for booking " + (*b)->id + ": " +
                                        (*b)->guest_partstat + "; the booking is updated"});
    d.effects.clear();
    const std::string folder = triage::folder_for(d.disposition, d.category);
    if (!folder.empty()) d.effects.push_back({EffectKind::move_to_folder, folder});
    return true;
  }
  return false;
}

Result<void> Engine::propose_for(const ClientId& client, const store::StoredItem& stored,
                                 const Decision& d) {
  if (!links_ || d.category != Category::scheduling) return ok();
  if (d.disposition != Disposition::handled && d.disposition != Disposition::awaiting_va)
    return ok();  // screened, blocked, protected, or the client reads it themselves
  // An invitation from someone else is the client's to answer, not a request for times.
  if (stored.item.from_address.empty() || carries_calendar(stored.item)) return ok();
  SK_ASSIGN(auto a, store::get_availability(db_, client));
  if (a.empty()) return ok();  // no booking set up: nothing to offer
  SK_ASSIGN(auto avail, calendar::availability_from_json(a));
  std::string type = avail.default_type;
  if (type.empty()) {
    SK_ASSIGN(auto types, store::list_booking_types(db_, client));
    if (types.empty()) return ok();
    SK_ASSIGN(auto first, calendar::booking_type_from_json(types.front()));
    type = first.slug;
  }
  auto m =
      propose_times(db_, clock_, ids_, links_->key, client, stored.item.id, type, links_->base_url);
  // No free time is not an error of the item: the VA answers it like any other.
  if (!m && m.error().code == Errc::not_found) return ok();
  if (!m) return m.error();
  return ok();
}

Result<Decision> Engine::triage_item(const ClientId& client, const ItemId& item) {
  SK_ASSIGN(auto policy, load_policy(client));
  SK_ASSIGN(auto lessons, load_lessons(client));
  Decision d;
  // The decision, its effects and what answering it queued are one transaction.
  SK_TRY(db_.transaction([&]() -> Result<void> {
    SK_ASSIGN(d, decide_and_record(client, item, policy, lessons));
    return ok();
  }));
  return d;
}

Result<Decision> Engine::teach(const ClientId& client, const ItemId& item, Category category,
                               std::optional<Disposition> disposition, const std::string& actor,
                               const std::string& why, bool move_message) {
  return correct(client, item, category, disposition, actor, why, move_message, true);
}

Result<Decision> Engine::correct(const ClientId& client, const ItemId& item, Category category,
                                 std::optional<Disposition> disposition, const std::string& actor,
                                 const std::string& why, bool move_message, bool learn) {
  SK_ASSIGN(auto stored, store::get_item(db_, client, item));
  SK_ASSIGN(auto before, store::current_decision(db_, client, item));
  // A text or a call is in no mailbox, and is not answered by mail.
  move_message = move_message && stored.item.channel == Channel::email;
  Decision d;
  d.item = item;
  d.category = category;
  d.confidence = 1;
  d.spam_score = before ? before->spam_score : 0;
  d.decided_by = actor;
  d.decided_at = clock_.now();
  if (disposition) {
    d.disposition = *disposition;
  } else if (category == Category::spam) {
    d.disposition = Disposition::screened;
  } else {
    // Re-run the policy with the corrected category, as if the classifier had said it.
    SK_ASSIGN(auto policy, load_policy(client));
    Delegation del = policy.delegation[static_cast<int>(category)];
    d.disposition = (del == Delegation::notify)  ? Disposition::to_client
                    : (del == Delegation::draft) ? Disposition::awaiting_va
                                                 : Disposition::handled;
  }
  std::string was = before ? std::string(label(before->category)) : std::string("undecided");
  d.reasons.push_back({"correction", actor + " corrected this from " + was + " to " +
                                         std::string(label(category)) +
                                         (why.empty() ? std::string() : ": " + why)});
  // Corrected to support with the policy left to decide where it goes: answered like a
  // support item that arrived now (suggestions, and the answer sent or drafted per the
  // client's delegation). A disposition the VA chose stands as they chose it.
  const bool answer = category == Category::support && !disposition && move_message;
  if (answer) {
    Party party;
    if (!stored.item.from_address.empty()) {
      SK_ASSIGN(auto found, store::find_party(db_, client, stored.item.from_address));
      if (found) party = std::move(*found);
    }
    SK_ASSIGN(auto policy, load_policy(client));
    SK_TRY(support_->amend(client, stored, party, policy, d));
    // Where the message goes is the correction's to plan, below; the VA's notice stays.
    drop_mailbox_effects(d);
  }
  std::string folder = triage::folder_for(d.disposition, d.category);
  std::string old_folder =
      before ? triage::folder_for(before->disposition, before->category) : std::string();
  // Undo: what the old decision filed away comes back to the inbox.
  if (folder.empty() && !old_folder.empty()) folder = "INBOX";
  if (move_message && !folder.empty() && folder != old_folder)
    d.effects.push_back({EffectKind::move_to_folder, folder});
  if (move_message && d.disposition == Disposition::to_client)
    d.effects.push_back({EffectKind::flag, "\\Flagged"});
  SK_TRY(db_.transaction([&]() -> Result<void> {
    SK_TRY(store::record_decision(db_, ids_, clock_, client, d, actor,
                                  why.empty() ? "corrected by " + actor : why));
    if (answer) SK_TRY(support_->carry_out(client, stored, d));
    if (!learn) return ok();
    triage::Lesson lesson = triage::lesson_from(stored.item, category);
    return store::add_lesson(db_, ids_, client,
                             {item, std::string(to_string(category)), lesson.sender, lesson.list_id,
                              lesson.subject, triage::encode_words(lesson.words), clock_.now()});
  }));
  return d;
}

Result<Decision> Engine::confirm(const ClientId& client, const ItemId& item,
                                 const std::string& actor, const std::string& why) {
  SK_TRY(store::get_item(db_, client, item));  // not_found for another client's item
  SK_ASSIGN(auto before, store::current_decision(db_, client, item));
  if (!before) return make_error(Errc::conflict, item + " is not decided yet");
  Decision d = *before;
  d.effects.clear();  // what the old decision planned is already planned
  d.confidence = 1;
  d.decided_by = actor;
  d.decided_at = clock_.now();
  d.reasons.push_back({"confirmed", actor + " confirmed this decision" +
                                        (why.empty() ? std::string() : ": " + why)});
  SK_TRY(store::record_decision(db_, ids_, clock_, client, d, actor,
                                why.empty() ? "confirmed by " + actor : why));
  return d;
}

Result<store::OutgoingMessage> Engine::approve_draft(const ClientId& client,
                                                     const std::string& draft,
                                                     const std::optional<std::string>& edited_body,
                                                     const std::string& actor) {
  store::OutgoingMessage m;
  SK_TRY(db_.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto before, store::get_outgoing(db_, client, draft));
    SK_ASSIGN(m, approve_outgoing(db_, clock_, client, draft, edited_body, actor));
    // The reply was what the item waited for (mail sent again answered it the first time).
    if (!m.answers.empty() && before.status == store::OutgoingStatus::draft)
      SK_TRY(answered(client, m.answers, actor, "approved the reply " + m.id));
    return ok();
  }));
  return m;
}

Result<Decision> Engine::answered(const ClientId& client, const ItemId& item,
                                  const std::string& actor, const std::string& what) {
  SK_ASSIGN(auto before, store::current_decision(db_, client, item));
  if (!before || before->disposition != Disposition::awaiting_va)
    return confirm(client, item, actor, what);
  Decision d = *before;
  d.effects.clear();
  d.disposition = Disposition::handled;
  d.confidence = 1;
  d.decided_by = actor;
  d.decided_at = clock_.now();
  d.reasons.push_back({"answered", actor + " answered it: " + what});
  SK_TRY(store::record_decision(db_, ids_, clock_, client, d, actor, "answered: " + what));
  return d;
}

namespace {
// What a let-in sender's item is: as decided, unless it was taken for spam or a pitch, which
// someone who is let in does not send.
Category let_in_category(const std::optional<Decision>& before) {
  if (!before || before->category == Category::spam || before->category == Category::cold_outreach)
    return Category::other;
  return before->category;
}
}  // namespace

Result<Decision> Engine::let_in(const ClientId& client, const ItemId& item,
                                const std::string& actor, const std::string& why) {
  SK_ASSIGN(auto stored, store::get_item(db_, client, item));
  SK_ASSIGN(auto before, store::current_decision(db_, client, item));
  if (stored.party.empty())
    return make_error(Errc::invalid_input, item + " has no sender to let through");
  const Category category = let_in_category(before);
  Decision d;
  SK_TRY(db_.transaction([&]() -> Result<void> {
    SK_TRY(store::set_let_in(db_, client, stored.party, true));
    SK_TRY(store::append_audit(db_, client, clock_.now(), actor, "let in", stored.item.from_address,
                               why.empty() ? "let through the screener" : why));
    SK_ASSIGN(d, teach(client, item, category, Disposition::to_client, actor,
                       why.empty() ? "let through the screener" : why));
    return ok();
  }));
  return d;
}

Result<std::vector<ScreenedSender>> Engine::screened_senders(const ClientId& client) {
  SK_ASSIGN(auto rows, store::queue_rows(db_, client, triage::Policy{}.low_confidence));
  std::map<std::string, ScreenedSender> by_address;
  for (const auto& r : rows) {
    // Unreadable mail has no sender to judge; it waits in the queue as itself.
    if (r.decision.disposition != Disposition::screened || r.from.empty() ||
        r.parse_status == ParseStatus::unreadable)
      continue;
    ScreenedSender& s = by_address[lower(r.from)];
    if (s.address.empty()) s.address = lower(r.from);
    if (s.name.empty()) s.name = r.from_name;
    s.items.push_back(r.item);
    if (r.received_at >= s.latest) {
      s.latest = r.received_at;
      s.latest_subject = r.subject;
    }
  }
  std::vector<ScreenedSender> out;
  out.reserve(by_address.size());
  for (auto& [address, s] : by_address) out.push_back(std::move(s));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.items.size() > b.items.size(); });
  return out;
}

Result<ScreenerReport> Engine::judge_screened(const ClientId& client,
                                              const std::vector<std::string>& senders,
                                              ScreenerVerdict verdict, const std::string& actor,
                                              const std::string& why) {
  SK_ASSIGN(auto held, screened_senders(client));
  // Addresses and domains asked for, and whether anything of theirs waited.
  std::map<std::string, bool> asked;
  for (const auto& s : senders) {
    std::string key = lower(s);
    std::erase_if(key, [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
    if (key.starts_with("@")) key.erase(0, 1);
    if (!key.empty()) asked.emplace(key, false);
  }
  if (asked.empty()) return make_error(Errc::invalid_input, "name at least one sender or domain");
  std::vector<const ScreenedSender*> chosen;
  for (const auto& s : held) {
    auto by_address = asked.find(s.address);
    auto by_domain = asked.find(domain_of(s.address));
    if (by_address == asked.end() && by_domain == asked.end()) continue;
    if (by_address != asked.end()) by_address->second = true;
    if (by_domain != asked.end()) by_domain->second = true;
    chosen.push_back(&s);
  }
  ScreenerReport report;
  for (const auto& [key, found] : asked)
    if (!found) report.not_waiting.push_back(key);
  const bool let_in = verdict == ScreenerVerdict::let_in;
  const std::string reason = !why.empty() ? why
                             : let_in     ? "let through the screener"
                                          : "kept out by the screener";
  SK_TRY(db_.transaction([&]() -> Result<void> {
    for (const ScreenedSender* s : chosen) {
      if (let_in) {
        SK_ASSIGN(auto party, store::find_party(db_, client, s->address));
        if (!party) return make_error(Errc::internal, "no party for " + s->address);
        SK_TRY(store::set_let_in(db_, client, party->id, true));
        SK_TRY(store::append_audit(db_, client, clock_.now(), actor, "let in", s->address, reason));
      } else {
        SK_TRY(
            store::set_relationship(db_, ids_, clock_, client, s->address, Relationship::blocked));
        SK_TRY(
            store::append_audit(db_, client, clock_.now(), actor, "kept out", s->address, reason));
      }
      for (const auto& item : s->items) {
        if (let_in) {
          SK_ASSIGN(auto before, store::current_decision(db_, client, item));
          SK_TRY(correct(client, item, let_in_category(before), Disposition::to_client, actor,
                         reason, true, false));
        } else {
          SK_TRY(confirm(client, item, actor, reason));
        }
      }
      ++report.senders;
      report.items += s->items.size();
    }
    return ok();
  }));
  return report;
}

Result<std::string> Engine::explain(const ClientId& client, const ItemId& item) {
  SK_ASSIGN(auto stored, store::get_item(db_, client, item));
  SK_ASSIGN(auto history, store::decision_history(db_, client, item));
  const Item& it = stored.item;
  std::string out;
  out += "Item " + item + " (" + std::string(to_string(it.channel)) + ")\n";
  out += "  From:     " + (it.from_name.empty() ? "" : it.from_name + " ") + "<" + it.from_address +
         ">\n";
  out += "  Subject:  " + it.subject + "\n";
  out += "  Received: " + format_utc(it.received_at) + " from " + stored.origin + "\n";
  out += "  Readable: " + std::string(to_string(it.parse_status)) + "\n";
  for (const auto& defect : it.defects) out += "    - " + defect + "\n";
  if (history.empty()) {
    out += "\nNot decided yet. Run `sidekick triage --client ...`.\n";
    return out;
  }
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Decision& d = history[i];
    out += "\n";
    out += i + 1 == history.size() ? "Decision" : "Earlier decision";
    char conf[32];
    std::snprintf(conf, sizeof conf, "%.0f%%", d.confidence * 100);
    out += " by " + d.decided_by + " at " + format_utc(d.decided_at) + ":\n";
    out += "  " + std::string(label(d.category)) + " (" + conf + "), " +
           std::string(label(d.disposition)) + "\n";
    std::snprintf(conf, sizeof conf, "%.1f%%", d.spam_score * 100);
    out += "  spam score " + std::string(conf) + "\n";
    out += "  because:\n";
    for (const auto& r : d.reasons) out += "    - " + r.text + "\n";
  }
  // What the classifier weighed, strongest first.
  if (!model_.empty() && it.parse_status != ParseStatus::unreadable) {
    triage::FeatureOptions named;
    named.with_names = true;
    auto top = model_.explain(triage::extract_features(it, named), 8);
    if (!top.empty()) {
      out += "\nWhat the spam classifier weighed most:\n";
      for (const auto& c : top) {
        char w[32];
        std::snprintf(w, sizeof w, "%+.2f", c.weight);
        out += "    " + std::string(w) + "  " + c.feature + "\n";
      }
    }
  }
  SK_ASSIGN(auto answer, support::get_answer(db_, client, item));
  if (answer) {
    out += "\nCustomer support: " + answer->action + " (" + answer->code + ")\n";
    out += "  " + answer->reason + "\n";
    if (!answer->conversation.empty()) out += "  conversation " + answer->conversation + "\n";
    if (!answer->outgoing_id.empty()) out += "  reply " + answer->outgoing_id + "\n";
    if (!answer->suggestions.empty()) out += "  suggestions from the knowledge base:\n";
    int n = 0;
    for (const auto& s : answer->suggestions) {
      char conf[16];
      std::snprintf(conf, sizeof conf, "%3.0f%%", s.confidence * 100);
      out += "    " + std::to_string(++n) + ". " + conf + "  " + s.key + ": " + s.question + "\n";
    }
  }
  SK_ASSIGN(auto effects, store::effects_for_item(db_, client, item));
  if (!effects.empty()) {
    out += "\nPlanned effects:\n";
    for (const auto& e : effects)
      out += "    " + std::string(to_string(e.kind)) + " " + e.target + " (" + e.status + ")\n";
  }
  return out;
}

Result<void> Engine::import_rules(const ClientId& client, const std::string& toml_text,
                                  const std::string& source_name, const std::string& actor) {
  SK_ASSIGN(auto rules, rules_from_toml(toml_text, source_name));
  std::vector<std::string> stored;
  std::string names;
  for (const auto& r : rules) {
    stored.push_back(rule_to_json(r));
    names += (names.empty() ? "" : ", ") + r.name;
  }
  return db_.transaction([&]() -> Result<void> {
    SK_TRY(store::replace_rules(db_, client, stored));
    return store::append_audit(db_, client, clock_.now(), actor, "rules imported",
                               std::to_string(rules.size()) + " rules from " + source_name, names);
  });
}

}  // namespace sk::engine
