#include "phone/twiml.hpp"

#include "core/markup.hpp"

namespace sk::phone {

std::string xml_escape(std::string_view s) {
  // Control characters other than tab and line breaks are not allowed in XML 1.0.
  std::string allowed;
  allowed.reserve(s.size());
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') allowed += c;
  return escape_markup(allowed);
}

Twiml& Twiml::say(std::string_view text) {
  verbs_ += "<Say>" + xml_escape(text) + "</Say>";
  return *this;
}

Twiml& Twiml::dial(std::string_view number, int timeout_s, std::string_view action) {
  verbs_ += "<Dial timeout=\"" + std::to_string(timeout_s) + "\" action=\"" + xml_escape(action) +
            "\"><Number>" + xml_escape(number) + "</Number></Dial>";
  return *this;
}

Twiml& Twiml::reject(bool busy) {
  verbs_ += busy ? "<Reject reason=\"busy\"/>" : "<Reject/>";
  return *this;
}

Twiml& Twiml::record(std::string_view action, int max_s, std::string_view transcribe_callback) {
  verbs_ += "<Record action=\"" + xml_escape(action) + "\" maxLength=\"" + std::to_string(max_s) +
            "\" playBeep=\"true\"";
  if (!transcribe_callback.empty())
    verbs_ += " transcribe=\"true\" transcribeCallback=\"" + xml_escape(transcribe_callback) + "\"";
  verbs_ += "/>";
  return *this;
}

Twiml& Twiml::message(std::string_view body) {
  verbs_ += "<Message>" + xml_escape(body) + "</Message>";
  return *this;
}

Twiml& Twiml::hangup() {
  verbs_ += "<Hangup/>";
  return *this;
}

std::string Twiml::str() const {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>" + verbs_ + "</Response>\n";
}

}  // namespace sk::phone
