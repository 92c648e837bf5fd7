#pragma once
// TwiML: the XML a phone provider expects in answer to a webhook, saying what to do with a
// call or a text. Built verb by verb; every value is escaped.
#include <string>
#include <string_view>

namespace sk::phone {

class Twiml {
 public:
  // Speaks `text` to the caller.
  Twiml& say(std::string_view text);
  // Rings `number`; when nobody answers within `timeout_s` the provider calls `action`.
  Twiml& dial(std::string_view number, int timeout_s, std::string_view action);
  // Refuses the call without answering it: the caller hears busy (or "rejected").
  Twiml& reject(bool busy);
  // Records a message of at most `max_s` seconds and posts it to `action`; with
  // `transcribe_callback`, a transcription is posted there when ready.
  Twiml& record(std::string_view action, int max_s, std::string_view transcribe_callback);
  // A text in answer to a text.
  Twiml& message(std::string_view body);
  Twiml& hangup();

  // The whole document; an answer with no verb is valid and does nothing.
  std::string str() const;

 private:
  std::string verbs_;
};

// Text for XML content and attribute values.
std::string xml_escape(std::string_view s);

}  // namespace sk::phone
