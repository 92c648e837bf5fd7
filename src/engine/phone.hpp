#pragma once
// Texts and calls to a client's phone line, through the engine's one path: each is an item,
// decided like mail (relationship, rules, screener, classifier), audited, and answered on the
// phone: a text may get a text back from a template; a call rings the client, goes to
// voicemail or is refused. Who the client is protected from never gets through, and every
// attempt is kept as evidence.
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/phone_lines.hpp"

namespace sk::engine {

class Engine;

// A text as an item: its words, its first line as the subject, the attachments counted.
// The phone line takes texts in this way, and the text classifier is trained on them so.
Item text_message(const std::string& body, int media);

// A text message as the provider posts it.
struct TextIn {
  std::string sid;   // the provider's id: the same text posted twice is one item
  std::string from;  // E.164, or a short code
  std::string body;
  int media = 0;    // pictures and files attached (not fetched: their links are kept raw)
  std::string raw;  // the webhook's body exactly as it came
};

struct TextAnswer {
  ItemId item;  // empty: this text was taken before (the provider retried; the text back, if
                // one was planned then, is given again: the provider did not get it)
  std::optional<Decision> decision;
  std::string reply;  // a text to send back in the webhook's answer; empty: none
  std::string why_no_reply;
};

Result<TextAnswer> take_text(Engine& engine, store::Db& db, const Clock& clock, IdSource& ids,
                             const store::PhoneLine& line, const TextIn& in);

struct CallIn {
  std::string sid;
  std::string from;
  std::string raw;
};

enum class CallAction { ring_client, voicemail, refuse };

struct CallAnswer {
  ItemId item;
  Decision decision;
  CallAction action = CallAction::voicemail;
  std::string ring;      // the number to ring (ring_client)
  std::string greeting;  // said before the voicemail
};

// What to do with a call. The same call asked about again (the provider retried) gets the
// same answer from the decision already made.
Result<CallAnswer> take_call(Engine& engine, store::Db& db, const Clock& clock,
                             const store::PhoneLine& line, const CallIn& in);

// A voicemail left on a call (`recording_url` and `seconds`), or its transcription when that
// comes later: the call's item says what was said, and is decided again with it.
struct VoicemailIn {
  std::string call_sid;
  std::string recording_url;
  int seconds = -1;  // -1: not given (a transcription callback)
  std::string transcription;
};
Result<Decision> take_voicemail(Engine& engine, store::Db& db, const Clock& clock,
                                const store::PhoneLine& line, const VoicemailIn& in);

// A party's identity as written by a person: a phone number in E.164 (numbers without a
// country code are read as dialled from the client's first line's region), an address in
// lower case. A number that cannot be read is refused with the reason.
Result<std::string> identity_of(store::Db& db, const ClientId& client, const std::string& written);

// The item keys of a line's texts and calls.
std::string text_item_key(const std::string& sid);
std::string call_item_key(const std::string& sid);

}  // namespace sk::engine
