#include "engine/phone.hpp"

#include "core/placeholders.hpp"
#include "engine/engine.hpp"
#include "engine/replies.hpp"
#include "phone/number.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"

namespace sk::engine {

namespace {

// The first line of a text, cut at a character boundary: what the queue shows as its subject.
std::string snippet(const std::string& body, std::size_t limit) {
  std::string first = body.substr(0, body.find('\n'));
  if (first.size() <= limit) return first;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(first[cut]) & 0xC0) == 0x80) --cut;
  return first.substr(0, cut) + "…";
}

std::string reply_template(const Decision& d) {
  for (const auto& e : d.effects)
    if (e.kind == EffectKind::reply) return e.target;
  return "";
}

struct TextBack {
  std::string body;
  std::string reason;  // why it may go, or why not when body is empty
};

// A text back from the template the decision planned, if one may go: never to a short code or
// a name (automated senders; a reply may cost them or start a loop), never to the client's own
// numbers, at most once per sender per auto_reply_period_hours.
Result<TextBack> text_back(Engine& engine, store::Db& db, const Clock& clock,
                           const store::PhoneLine& line, const Item& item, const Party& party,
                           const std::string& name) {
  auto e164 = phone::to_e164(item.from_address, "");
  if (!e164.ok() || *e164 != item.from_address)
    return TextBack{"", "no text back to " + item.from_address + ": not a number one can text"};
  if (item.from_address == line.number || item.from_address == line.forward_to)
    return TextBack{"", "no text back to the client's own number"};
  SK_ASSIGN(auto policy, engine.load_policy(line.client));
  const Timestamp period = Timestamp{policy.auto_reply_period_hours} * 3600;
  SK_ASSIGN(Timestamp last, store::last_text_to(db, line.client, item.from_address));
  if (last != 0 && period > 0 && clock.now() - last < period)
    return TextBack{"", "no text back: " + item.from_address + " was texted automatically " +
                            std::to_string((clock.now() - last) / 60) + " minutes ago"};
  SK_ASSIGN(auto custom, store::get_template(db, line.client, name));
  std::optional<store::Template> t = custom ? custom : builtin_template(name);
  if (!t) return TextBack{"", "no text back: the client has no template named '" + name + "'"};
  SK_ASSIGN(auto client, store::find_client(db, line.client));
  std::string body =
      fill_placeholders(t->body, {{"sender_name", party.name.empty() ? "there" : party.name},
                                  {"client_name", client.name},
                                  {"subject", item.subject}});
  // One text is at most 1,600 characters at the provider; a template for mail may be longer.
  if (body.size() > 1600) body = snippet(body.substr(0, 1600), 1597);
  return TextBack{body, "template \"" + t->name + "\""};
}

// The item a text or call was taken in as before (the provider asking again); empty: none.
Result<ItemId> item_with_key(store::Db& db, const ClientId& client, const std::string& key) {
  SK_ASSIGN(auto rows,
            db.query("SELECT id FROM items WHERE client_id = ? AND source_key = ?", {client, key}));
  return rows.empty() ? ItemId{} : ItemId{rows[0].str(0)};
}

Party party_of(store::Db& db, const ClientId& client, const std::string& from) {
  auto found = store::find_party(db, client, from);
  return found.ok() && *found ? std::move(**found) : Party{};
}

CallAction action_for(const Decision& d, const store::PhoneLine& line) {
  switch (d.disposition) {
    case Disposition::blocked:
    case Disposition::protected_:
      return CallAction::refuse;
    case Disposition::to_client:
      return line.forward_to.empty() ? CallAction::voicemail : CallAction::ring_client;
    default:
      return CallAction::voicemail;
  }
}

std::string said(CallAction a, const store::PhoneLine& line) {
  switch (a) {
    case CallAction::ring_client:
      return "rang the client at " + phone::for_display(line.forward_to);
    case CallAction::refuse:
      return "refused: the caller heard busy";
    case CallAction::voicemail:
      return "sent to voicemail";
  }
  return "";
}

Result<CallAnswer> answer_for(store::Db& db, const store::PhoneLine& line, const ItemId& item,
                              Decision d) {
  CallAnswer a;
  a.item = item;
  a.action = action_for(d, line);
  a.decision = std::move(d);
  a.ring = line.forward_to;
  a.greeting = line.greeting;
  if (a.greeting.empty()) {
    SK_ASSIGN(auto client, store::find_client(db, line.client));
    a.greeting = "You have reached " + client.name +
                 ". Please leave a message after the tone, and we will get back to you.";
  }
  return a;
}

}  // namespace

Result<std::string> identity_of(store::Db& db, const ClientId& client, const std::string& written) {
  if (!phone::looks_like_number(written)) return lower(written);
  SK_ASSIGN(auto lines, store::list_phone_lines(db, client));
  const std::string region = lines.empty() ? "" : lines.front().region;
  auto number = phone::to_e164(written, region);
  if (!number && region.empty() && !written.starts_with("+"))
    return make_error(Errc::invalid_input,
                      "write " + written +
                          " with its country code (+1 …): the client has no "
                          "phone line to say which country it is dialled from");
  return number;
}

Item text_message(const std::string& body, int media) {
  Item item;
  item.channel = Channel::sms;
  item.text = body;
  if (media > 0)
    item.text += std::string(body.empty() ? "" : "\n") + "[" + std::to_string(media) +
                 (media == 1 ? " picture or file" : " pictures or files") + " attached]";
  item.subject = snippet(item.text, 60);
  if (item.subject.empty()) item.subject = "(an empty text)";
  return item;
}

std::string text_item_key(const std::string& sid) {
  return "sms:" + sid;
}
std::string call_item_key(const std::string& sid) {
  return "call:" + sid;
}

Result<TextAnswer> take_text(Engine& engine, store::Db& db, const Clock& clock, IdSource& ids,
                             const store::PhoneLine& line, const TextIn& in) {
  if (in.sid.empty() || in.from.empty())
    return make_error(Errc::invalid_input, "a text needs its id (MessageSid) and sender (From)");
  Item item = text_message(in.body, in.media);
  item.source_key = text_item_key(in.sid);
  item.from_address = in.from;
  item.to = {line.number};
  item.sent_at = clock.now();
  TextAnswer answer;
  SK_ASSIGN(answer.item, engine.intake_item(line.client, item, in.raw, "phone " + line.number));
  if (answer.item.empty()) {
    // Taken before. The provider posts a text again only when it did not get the answer, so
    // a text back planned then did not go: the same one is given again.
    SK_ASSIGN(ItemId before, item_with_key(db, line.client, item.source_key));
    if (!before.empty()) {
      SK_ASSIGN(answer.reply, store::text_sent_for(db, line.client, before));
    }
    return answer;
  }
  SK_ASSIGN(Decision d, engine.triage_item(line.client, answer.item));
  const std::string name = reply_template(d);
  if (!name.empty()) {
    item.id = answer.item;
    Party party = party_of(db, line.client, item.from_address);
    SK_ASSIGN(TextBack back, text_back(engine, db, clock, line, item, party, name));
    if (back.body.empty()) {
      answer.why_no_reply = back.reason;
      SK_TRY(store::append_audit(db, line.client, clock.now(), "sidekick", "no text back",
                                 answer.item, back.reason));
    } else {
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::record_text_sent(db, ids,
                                       {"", line.client, answer.item, item.from_address, back.body,
                                        back.reason, clock.now()}));
        return store::append_audit(db, line.client, clock.now(), "sidekick", "texted back",
                                   answer.item + " to " + item.from_address, back.reason);
      }));
      answer.reply = back.body;
    }
  }
  answer.decision = std::move(d);
  return answer;
}

Result<CallAnswer> take_call(Engine& engine, store::Db& db, const Clock& clock,
                             const store::PhoneLine& line, const CallIn& in) {
  if (in.sid.empty() || in.from.empty())
    return make_error(Errc::invalid_input, "a call needs its id (CallSid) and caller (From)");
  Item item;
  item.channel = Channel::voice;
  item.source_key = call_item_key(in.sid);
  item.from_address = in.from;
  item.to = {line.number};
  item.subject = "Call from " + phone::for_display(in.from);
  item.text = item.subject + " to " + phone::for_display(line.number) + ".";
  item.sent_at = clock.now();
  SK_ASSIGN(ItemId id, engine.intake_item(line.client, item, in.raw, "phone " + line.number));
  if (id.empty()) {
    // The provider asked again about a call it already told us of: the same answer.
    SK_ASSIGN(ItemId existing, item_with_key(db, line.client, item.source_key));
    if (existing.empty()) return make_error(Errc::internal, "the call's item vanished");
    SK_ASSIGN(auto d, store::current_decision(db, line.client, existing));
    if (!d) return make_error(Errc::internal, "the call " + in.sid + " has no decision");
    return answer_for(db, line, existing, std::move(*d));
  }
  SK_ASSIGN(Decision d, engine.triage_item(line.client, id));
  SK_ASSIGN(CallAnswer a, answer_for(db, line, id, std::move(d)));
  SK_TRY(store::append_audit(db, line.client, clock.now(), "sidekick", "call answered",
                             id + " from " + in.from + ": " + said(a.action, line),
                             a.decision.reasons.empty() ? "" : a.decision.reasons.front().text));
  return a;
}

Result<Decision> take_voicemail(Engine& engine, store::Db& db, const Clock& clock,
                                const store::PhoneLine& line, const VoicemailIn& in) {
  SK_ASSIGN(auto rows, db.query("SELECT id, text FROM items WHERE client_id = ? AND source_key = ?",
                                {line.client, call_item_key(in.call_sid)}));
  if (rows.empty())
    return make_error(Errc::not_found, "no call " + in.call_sid + " on " + line.number);
  const ItemId id = rows[0].str(0);
  std::string text = rows[0].str(1);
  std::string added;
  if (!in.recording_url.empty()) {
    added =
        "Voicemail" +
        (in.seconds >= 0 ? ", " + std::to_string(in.seconds / 60) + ":" +
                               (in.seconds % 60 < 10 ? "0" : "") + std::to_string(in.seconds % 60)
                         : std::string()) +
        ": " + in.recording_url;
  }
  if (!in.transcription.empty())
    added += std::string(added.empty() ? "" : "\n") + "What they said: " + in.transcription;
  if (added.empty())
    return make_error(Errc::invalid_input, "a voicemail needs its recording or transcription");
  // The provider may post the same callback again: it is added once.
  if (text.find(added) == std::string::npos) {
    text += "\n" + added;
    SK_TRY(store::set_item_text(db, line.client, id, text));
    SK_TRY(store::append_audit(db, line.client, clock.now(), "sidekick", "voicemail", id,
                               in.transcription.empty() ? "recording" : "transcription"));
  }
  // Decided again with what was said: a caller asking for a meeting is scheduling now.
  return engine.triage_item(line.client, id);
}

}  // namespace sk::engine
