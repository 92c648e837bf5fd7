#pragma once
// The phone provider's webhooks: a text or a call to one of a client's lines is posted here,
// signed with the provider account's token, and answered with TwiML (a text back; ring the
// client, take a voicemail or refuse). No login: the signature is the caller's proof.
// Registered on the console's router; the decisions are engine/phone's.
#include <string>

#include "core/secrets.hpp"

namespace sk::web {

class Console;

struct PhoneHookOptions {
  SecretKey key;  // opens the lines' sealed tokens
  // The address the provider is configured to call (before /hooks/...): the signature covers
  // it. Empty: "http://" and the request's Host, for a provider that calls this server
  // directly; behind a proxy that ends TLS it must be set.
  std::string public_url;
  int ring_seconds = 20;  // how long the client's phone rings before the voicemail
  int voicemail_seconds = 120;
};

void add_phone_hooks(Console& console, PhoneHookOptions options);

}  // namespace sk::web
