#include "web/phone_hooks.hpp"

#include <map>
#include <memory>
#include <variant>

#include "engine/phone.hpp"
#include "phone/number.hpp"
#include "phone/signature.hpp"
#include "phone/twiml.hpp"
#include "store/phone_lines.hpp"
#include "web/console.hpp"
#include "web/router.hpp"

namespace sk::web {
namespace {

Response xml(const phone::Twiml& t) {
  Response r = Response::text(200, t.str());
  r.set("Content-Type", "text/xml; charset=utf-8");
  return r;
}

Response refused(int status, const std::string& why) {
  return Response::text(status, why + "\n");
}

Response failure(const Error& e) {
  switch (e.code) {
    case Errc::invalid_input:
      return refused(400, e.message);
    case Errc::not_found:
      return refused(404, e.message);
    default:
      return refused(500, e.message);
  }
}

// A webhook call that checked out: the line it is for and its parameters.
struct Signed {
  store::PhoneLine line;
  std::map<std::string, std::string> params;
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// The address the provider calls for `path`: what it signs, and where it is sent next.
std::string hook_url(const PhoneHookOptions& o, const Call& call, const std::string& path) {
  return (o.public_url.empty() ? "http://" + call.request.header("host") : o.public_url) + path;
}

std::variant<Signed, Response> check(Call& call, const PhoneHookOptions& o) {
  Signed s;
  s.params = call.request.form();
  const std::string to_written = s.param("To");
  if (to_written.empty()) return refused(400, "no To: which line was called?");
  auto to = phone::to_e164(to_written, "");
  if (!to) return refused(400, "To: " + to.error().message);
  auto line = store::phone_line_by_number(call.db, *to);
  if (!line) return failure(line.error());
  if (!*line) return refused(404, "no line " + *to + " here");
  s.line = std::move(**line);
  // A line whose webhooks are refused loses every text and call: each refusal is counted, and
  // a few in a row are shown above the VA's queue.
  auto refuse = [&](int status, const std::string& why) {
    (void)store::record_line_refusal(call.db, s.line, call.clock.now(), why);
    return refused(status, why);
  };
  auto token = o.key.open(s.line.sealed_token);
  if (!token) return refuse(500, "the line's token cannot be opened with this data folder's key");
  const std::string signature = call.request.header("x-twilio-signature");
  if (signature.empty()) return refuse(403, "the request is not signed (X-Twilio-Signature)");
  if (!phone::signature_valid(*token, hook_url(o, call, call.request.target), s.params, signature))
    return refuse(403, "the signature does not match this line's token and address");
  (void)store::record_line_ok(call.db, s.line, call.clock.now());
  return s;
}

// A sender as the engine keeps it: E.164 when it is a number, as it came when it is a short
// code or a name (those cannot be texted back).
std::string sender(const Signed& s) {
  const std::string from = s.param("From");
  auto e164 = phone::to_e164(from, s.line.region);
  return e164 ? *e164 : from;
}

phone::Twiml voicemail(const PhoneHookOptions& o, Call& call, const std::string& greeting) {
  phone::Twiml t;
  t.say(greeting).record(hook_url(o, call, "/hooks/phone/voicemail"), o.voicemail_seconds,
                         hook_url(o, call, "/hooks/phone/transcription"));
  return t;
}

Response on_text(Call& call, const PhoneHookOptions& o) {
  auto checked = check(call, o);
  if (auto* r = std::get_if<Response>(&checked)) return *r;
  const Signed& s = std::get<Signed>(checked);
  engine::TextIn in;
  in.sid = s.param("MessageSid").empty() ? s.param("SmsSid") : s.param("MessageSid");
  in.from = sender(s);
  in.body = s.param("Body");
  try {
    in.media = std::stoi(s.param("NumMedia").empty() ? "0" : s.param("NumMedia"));
  } catch (const std::exception&) {
    return refused(400, "NumMedia is not a number");
  }
  in.raw = call.request.body;
  auto a = engine::take_text(call.engine, call.db, call.clock, call.ids, s.line, in);
  if (!a) return failure(a.error());
  phone::Twiml t;
  if (!a->reply.empty()) t.message(a->reply);
  return xml(t);
}

Response on_call(Call& call, const PhoneHookOptions& o) {
  auto checked = check(call, o);
  if (auto* r = std::get_if<Response>(&checked)) return *r;
  const Signed& s = std::get<Signed>(checked);
  auto a = engine::take_call(call.engine, call.db, call.clock, s.line,
                             {s.param("CallSid"), sender(s), call.request.body});
  if (!a) return failure(a.error());
  switch (a->action) {
    case engine::CallAction::refuse:
      return xml(phone::Twiml().reject(true));
    case engine::CallAction::ring_client:
      return xml(phone::Twiml().dial(a->ring, o.ring_seconds,
                                     hook_url(o, call, "/hooks/phone/call/after")));
    case engine::CallAction::voicemail:
      break;
  }
  return xml(voicemail(o, call, a->greeting));
}

// After ringing the client: a call they did not take goes to voicemail.
Response on_call_after(Call& call, const PhoneHookOptions& o) {
  auto checked = check(call, o);
  if (auto* r = std::get_if<Response>(&checked)) return *r;
  const Signed& s = std::get<Signed>(checked);
  if (s.param("DialCallStatus") == "completed") return xml(phone::Twiml().hangup());
  auto a = engine::take_call(call.engine, call.db, call.clock, s.line,
                             {s.param("CallSid"), sender(s), call.request.body});
  if (!a) return failure(a.error());
  return xml(voicemail(o, call, a->greeting));
}

Response on_voicemail(Call& call, const PhoneHookOptions& o, bool transcription) {
  auto checked = check(call, o);
  if (auto* r = std::get_if<Response>(&checked)) return *r;
  const Signed& s = std::get<Signed>(checked);
  engine::VoicemailIn in;
  in.call_sid = s.param("CallSid");
  if (transcription) {
    in.transcription = s.param("TranscriptionText");
    // A failed transcription says so; the recording is already on the item.
    if (s.param("TranscriptionStatus") == "failed" || in.transcription.empty())
      return xml(phone::Twiml());
  } else {
    in.recording_url = s.param("RecordingUrl");
    const std::string seconds = s.param("RecordingDuration");
    if (!seconds.empty()) {
      try {
        in.seconds = std::stoi(seconds);
      } catch (const std::exception&) {
        return refused(400, "RecordingDuration is not a number");
      }
    }
  }
  auto d = engine::take_voicemail(call.engine, call.db, call.clock, s.line, in);
  if (!d) return failure(d.error());
  if (transcription) return xml(phone::Twiml());
  return xml(phone::Twiml().say("Thank you. Goodbye.").hangup());
}

}  // namespace

void add_phone_hooks(Console& console, PhoneHookOptions options) {
  while (options.public_url.ends_with("/")) options.public_url.pop_back();
  auto o = std::make_shared<const PhoneHookOptions>(std::move(options));
  Router& r = console.router();
  const Roles anyone = Roles::everyone();
  r.add({"POST", "/hooks/phone/text", anyone, [o](Call& call) { return on_text(call, *o); },
         "phone provider: a text to a client's line (signed); answered with TwiML"});
  r.add({"POST", "/hooks/phone/call", anyone, [o](Call& call) { return on_call(call, *o); },
         "phone provider: a call to a client's line (signed): ring, voicemail or refuse"});
  r.add({"POST", "/hooks/phone/call/after", anyone,
         [o](Call& call) { return on_call_after(call, *o); },
         "phone provider: the client did not take a call they were rung for: voicemail"});
  r.add({"POST", "/hooks/phone/voicemail", anyone,
         [o](Call& call) { return on_voicemail(call, *o, false); },
         "phone provider: the recording of a voicemail (signed)"});
  r.add({"POST", "/hooks/phone/transcription", anyone,
         [o](Call& call) { return on_voicemail(call, *o, true); },
         "phone provider: what a voicemail said, when transcribed (signed)"});
}

}  // namespace sk::web
