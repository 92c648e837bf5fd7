#include "engine/support.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/replies.hpp"
#include "store/accounts.hpp"
#include "support/answer.hpp"
#include "support/safety.hpp"
#include "support/text.hpp"
#include "triage/autoreply.hpp"

namespace sk::engine {
namespace {

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", p * 100);
  return buf;
}

// The disposition changed after triage planned its effects: plan them again for the new
// one (labels and replies stay).
void replan(Decision& d) {
  std::erase_if(d.effects, [](const PlannedEffect& e) {
    return e.kind == EffectKind::move_to_folder || e.kind == EffectKind::flag ||
           e.kind == EffectKind::notify_va;
  });
  std::vector<PlannedEffect> front;
  std::string folder = triage::folder_for(d.disposition, d.category);
  if (!folder.empty()) front.push_back({EffectKind::move_to_folder, folder});
  if (d.disposition == Disposition::to_client) front.push_back({EffectKind::flag, "\\Flagged"});
  if (d.disposition == Disposition::awaiting_va) front.push_back({EffectKind::notify_va, "queue"});
  d.effects.insert(d.effects.begin(), front.begin(), front.end());
}

// Support questions, and the other mail that may turn out to be one (a customer's reply in
// a support thread, a question the knowledge base knows).
bool is_candidate(const store::StoredItem& stored, const Decision& d) {
  const Item& it = stored.item;
  if (d.category != Category::support && d.category != Category::other) return false;
  if (it.channel != Channel::email || it.from_address.empty()) return false;
  if (it.parse_status == ParseStatus::unreadable) return false;
  if (d.disposition == Disposition::blocked || d.disposition == Disposition::protected_)
    return false;
  // Who the sender is (a VIP, someone blocked) or a rule of the client's decided where it
  // goes: that stands.
  for (const auto& r : d.reasons)
    if (r.code.rfind("relationship.", 0) == 0 || r.code == "rule") return false;
  return true;
}

}  // namespace

struct SupportDesk::Pending {
  std::optional<support::Conversation> conversation;  // the thread it belongs to, if any
  std::string action;                                 // sent, drafted, suggested, escalated
  std::string code;
  std::string reason;
  std::vector<support::SuggestionRecord> suggestions;
  std::string body;  // the answer, when one is sent or drafted
  bool send_now = false;
  std::string entry_key;
};

SupportDesk::SupportDesk(store::Db& db, const Clock& clock, IdSource& ids)
    : db_(db), clock_(clock), ids_(ids) {}
SupportDesk::~SupportDesk() = default;

Result<const support::Matcher*> SupportDesk::matcher(const ClientId& client,
                                                     std::vector<support::Entry>** entries) {
  SK_ASSIGN(auto revision, support::kb_revision(db_, client));
  Cached& c = cache_[client];
  if (c.revision != revision) {
    SK_ASSIGN(c.entries, support::load_entries(db_, client));
    SK_ASSIGN(c.matcher, support::Matcher::build(c.entries));
    c.revision = revision;
  }
  if (entries) *entries = &c.entries;
  return &c.matcher;
}

Result<void> SupportDesk::amend(const ClientId& client, const store::StoredItem& stored,
                                const Party& party, const triage::Policy& policy, Decision& d) {
  pending_.erase(stored.item.id);
  if (!is_candidate(stored, d)) return ok();
  std::vector<support::Entry>* entries = nullptr;
  SK_ASSIGN(const support::Matcher* m, matcher(client, &entries));
  if (entries->empty()) return ok();  // no knowledge base: triage's decision stands
  SK_ASSIGN(auto settings, support::load_settings(db_, client));
  const Item& it = stored.item;
  std::string question = support::question_text(it.subject, it.text);
  auto found = m->match(question, 3);

  auto p = std::make_unique<Pending>();
  std::vector<std::string> refs = it.references;
  if (!it.in_reply_to.empty()) refs.push_back(it.in_reply_to);
  Timestamp at = it.received_at ? it.received_at : clock_.now();
  SK_ASSIGN(p->conversation, support::find_conversation(db_, client, it.from_address, it.subject,
                                                        refs, at, kSupportThreadWindow));
  // A customer who only says thanks after being answered gives no new work: the VA does not
  // see it, and the conversation is (or stays) solved instead of reopening.
  if (p->conversation && p->conversation->status != support::Status::open &&
      support::is_bare_thanks(support::question_text("", it.text))) {
    p->action = "thanks";
    p->code = "support.thanks";
    p->reason = "only a thank-you in the answered conversation " + p->conversation->id + " (\"" +
                p->conversation->subject + "\"): nothing to do, and it stays solved";
    d.category = Category::support;
    d.disposition = Disposition::handled;
    d.reasons.push_back({p->code, p->reason});
    replan(d);
    pending_[it.id] = std::move(p);
    return ok();
  }
  if (d.category == Category::other) {
    // Not support by its words alone: it is when it continues a support conversation, or
    // when the client's knowledge base clearly knows the question.
    if (p->conversation) {
      d.reasons.push_back({"support.thread", "it continues the support conversation " +
                                                 p->conversation->id + " (\"" +
                                                 p->conversation->subject + "\")"});
    } else if (!found.empty() && found[0].confidence >= settings.threshold) {
      d.reasons.push_back({"support.recognised", "the knowledge base knows this question (\"" +
                                                     (*entries)[found[0].entry].key + "\", " +
                                                     percent(found[0].confidence) + ")"});
    } else {
      return ok();
    }
    d.category = Category::support;
    if (d.disposition == Disposition::to_client || d.disposition == Disposition::handled) {
      // "other" went where the client's delegation for other things sends it; support
      // follows the client's delegation for support.
      d.disposition = Disposition::awaiting_va;
    }
  }
  for (const auto& s : found)
    p->suggestions.push_back({(*entries)[s.entry].key, (*entries)[s.entry].question, s.confidence});
  bool known =
      party.relationship != Relationship::unknown || party.let_in || party.items_let_in > 0;
  const std::string body = support::question_text("", it.text);
  support::SafetyInput in;
  in.subject = it.subject;
  in.text = body;
  in.sender_known = known;
  in.has_match = !found.empty() && found[0].confidence > 0;
  in.confidence = found.empty() ? 0 : found[0].confidence;
  in.threshold = settings.threshold;
  in.answer_private = !found.empty() && (*entries)[found[0].entry].is_private;
  auto verdict = support::check(in);
  p->code = verdict.code;

  std::string list;
  for (const auto& s : p->suggestions)
    list += (list.empty() ? "" : ", ") + ("\"" + s.key + "\" " + percent(s.confidence));
  Delegation del = policy.delegation[static_cast<int>(Category::support)];
  if (!verdict.answer) {
    p->action = "escalated";
    p->reason = "not answered automatically: " + verdict.reason;
    d.disposition = Disposition::awaiting_va;
    d.reasons.push_back({verdict.code, p->reason + (list.empty() ? "" : "; suggestions: " + list)});
  } else {
    const support::Entry& best = (*entries)[found[0].entry];
    p->entry_key = best.key;
    p->body = support::compose_answer(best, settings, {it.from_name, it.from_address}, question);
    std::string what = "the knowledge base answers it with \"" + best.key + "\" (" +
                       percent(found[0].confidence) + " sure, threshold " +
                       percent(settings.threshold) + ")";
    if (del == Delegation::auto_) {
      std::vector<std::string> own = policy.client_addresses;
      SK_ASSIGN(auto accounts, store::list_accounts(db_, client));
      for (const auto& a : accounts) own.push_back(lower(a.address));
      // Any number of questions from one customer get answers: no "recent" limit here.
      auto rfc = triage::may_auto_reply(it, own, 0, clock_.now(), 0);
      if (rfc.allowed) {
        p->action = "sent";
        p->send_now = true;
        p->reason = what + "; sent, as the client delegates support entirely";
        d.disposition = Disposition::handled;
      } else {
        p->action = "drafted";
        p->reason = what + "; drafted, not sent: " + rfc.reason;
        d.disposition = Disposition::awaiting_va;
      }
    } else if (del == Delegation::draft) {
      p->action = "drafted";
      p->reason = what + "; drafted for a VA to approve";
      d.disposition = Disposition::awaiting_va;
    } else {
      p->action = "suggested";
      p->reason = what + "; only suggested, as the client's delegation for support is " +
                  std::string(to_string(del));
    }
    d.reasons.push_back({"support." + p->action, p->reason});
  }
  replan(d);
  pending_[it.id] = std::move(p);
  return ok();
}

Result<void> SupportDesk::carry_out(const ClientId& client, const store::StoredItem& stored,
                                    const Decision& d) {
  auto found = pending_.find(stored.item.id);
  if (found == pending_.end()) return ok();
  std::unique_ptr<Pending> p = std::move(found->second);
  pending_.erase(found);
  const Item& it = stored.item;
  Timestamp now = clock_.now();
  Timestamp at = it.received_at ? it.received_at : now;
  if (p->action == "thanks") {
    support::Conversation c = *p->conversation;
    // The thanks says the answer did it: solved as of that answer, like a quiet customer.
    if (c.status != support::Status::solved)
      support::on_solved(c, c.last_reply_at ? c.last_reply_at : at);
    c.last_customer_at = std::max(c.last_customer_at, at);
    SK_TRY(support::save_conversation(db_, c));
    SK_TRY(support::add_thread_message(
        db_, client,
        {c.id, it.message_id.empty() ? "item:" + it.id : it.message_id, it.id, "", true, at}));
    SK_TRY(support::save_answer(db_, client,
                                {it.id, c.id, p->action, p->code, p->reason, "", {}, now}));
    return store::append_audit(db_, client, now, "sidekick", "support thanks",
                               it.id + " in " + c.id, p->reason);
  }
  const auto& existing = p->conversation;
  support::Conversation c;
  if (existing) {
    c = *existing;
  } else {
    c.id = ids_.next("cnv");
    c.client = client;
    c.customer = it.from_address;
    c.subject = it.subject;
    for (std::string_view pre : {"Re: ", "RE: ", "re: ", "Fwd: "})
      if (c.subject.rfind(pre, 0) == 0) c.subject = c.subject.substr(pre.size());
  }
  bool reopening = c.status == support::Status::solved && existing;
  support::on_customer_message(c, at);
  SK_TRY(support::save_conversation(db_, c));
  SK_TRY(support::add_thread_message(
      db_, client,
      {c.id, it.message_id.empty() ? "item:" + it.id : it.message_id, it.id, "", true, at}));

  support::AnswerRecord record{it.id, c.id, p->action, p->code, p->reason, "", p->suggestions, now};
  if (p->action == "sent" || p->action == "drafted") {
    ReplyRequest r;
    r.answers = it.id;
    r.body = p->body;
    r.kind = p->send_now ? "auto_reply" : "reply";
    r.reason = p->reason;
    r.send_now = p->send_now;
    r.quote = true;
    r.source_key = "support:" + it.id;
    SK_ASSIGN(auto out, queue_reply(db_, clock_, ids_, client, r, "sidekick"));
    record.outgoing_id = out.id;
    // Its Message-ID threads the customer's next message here; `at` 0 until it is sent.
    SK_TRY(
        support::add_thread_message(db_, client, {c.id, out.message_id, it.id, out.id, false, 0}));
  }
  SK_TRY(support::save_answer(db_, client, record));
  std::string action = p->action == "sent"        ? "support answered"
                       : p->action == "drafted"   ? "support drafted"
                       : p->action == "suggested" ? "support suggested"
                                                  : "support escalated";
  (void)d;
  return store::append_audit(db_, client, now, "sidekick", action,
                             it.id + " in " + c.id + (reopening ? " (reopened)" : "") +
                                 (record.outgoing_id.empty() ? "" : " → " + record.outgoing_id),
                             p->reason);
}

Result<void> refresh_conversations(store::Db& db, const ClientId& client, Timestamp now) {
  return db.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto rows, db.query("SELECT m.conversation_id, m.outgoing_id, o.sent_at FROM "
                                  "support_messages m JOIN outgoing o ON o.id = m.outgoing_id "
                                  "AND o.client_id = m.client_id WHERE m.client_id = ? AND "
                                  "m.from_customer = 0 AND m.at = 0 AND o.status = 'sent' "
                                  "ORDER BY o.sent_at",
                                  {client}));
    for (const auto& r : rows) {
      SK_ASSIGN(auto c, support::get_conversation(db, client, r.str(0)));
      if (!c) continue;
      Timestamp sent = r.i64(2) ? r.i64(2) : now;
      support::on_reply(*c, sent);
      SK_TRY(support::save_conversation(db, *c));
      SK_TRY(db.exec("UPDATE support_messages SET at = ? WHERE client_id = ? AND outgoing_id = ?",
                     {sent, client, r.str(1)}));
    }
    SK_ASSIGN(auto all, support::list_conversations(db, client));
    for (auto& c : all)
      if (support::solve_if_quiet(c, now, kSupportQuietSolve)) {
        SK_TRY(support::save_conversation(db, c));
        SK_TRY(store::append_audit(db, client, now, "sidekick", "conversation solved", c.id,
                                   "the customer has been quiet for a week since the answer"));
      }
    return ok();
  });
}

Result<support::Conversation> solve_conversation(store::Db& db, const Clock& clock,
                                                 const ClientId& client, const std::string& id,
                                                 const std::string& actor, const std::string& why) {
  SK_ASSIGN(auto c, support::get_conversation(db, client, id));
  if (!c) return make_error(Errc::not_found, "no conversation '" + id + "'");
  support::on_solved(*c, clock.now());
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(support::save_conversation(db, *c));
    return store::append_audit(db, client, clock.now(), actor, "conversation solved", id, why);
  }));
  return *c;
}

}  // namespace sk::engine
