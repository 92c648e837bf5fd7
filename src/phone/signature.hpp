#pragma once
// Webhook signatures of the phone provider (the X-Twilio-Signature scheme): base64 of
// HMAC-SHA1 under the account's auth token, over the URL it called followed by every POST
// parameter's name and value, sorted by name.
#include <map>
#include <string>
#include <string_view>

namespace sk::phone {

using Params = std::map<std::string, std::string>;

std::string webhook_signature(std::string_view auth_token, std::string_view url,
                              const Params& params);

// Whether `signature` is the one for this call. Providers sign the URL as configured, with or
// without the default port (":443", ":80"), so both spellings are accepted. Compared in
// constant time.
bool signature_valid(std::string_view auth_token, std::string_view url, const Params& params,
                     std::string_view signature);

}  // namespace sk::phone
