#include "phone/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>

namespace sk::phone {

namespace {

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The other spelling of the URL: the default port added when absent, removed when present.
std::optional<std::string> other_spelling(std::string_view url) {
  std::string_view scheme_port;
  std::size_t rest = 0;
  if (url.starts_with("https://")) {
    scheme_port = ":443";
    rest = 8;
  } else if (url.starts_with("http://")) {
    scheme_port = ":80";
    rest = 7;
  } else {
    return std::nullopt;
  }
  std::size_t host_end = url.find_first_of("/?#", rest);
  if (host_end == std::string_view::npos) host_end = url.size();
  std::string_view host = url.substr(rest, host_end - rest);
  std::string out(url.substr(0, rest));
  if (host.ends_with(scheme_port)) {
    out += host.substr(0, host.size() - scheme_port.size());
  } else if (host.find(':') == std::string_view::npos || host.ends_with(']')) {
    out += host;
    out += scheme_port;
  } else {
    return std::nullopt;  // another port: only one spelling
  }
  out += url.substr(host_end);
  return out;
}

}  // namespace

std::string webhook_signature(std::string_view auth_token, std::string_view url,
                              const Params& params) {
  std::string data(url);
  for (const auto& [name, value] : params) data += name + value;  // std::map: sorted by name
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  std::string out(4 * ((mac_len + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool signature_valid(std::string_view auth_token, std::string_view url, const Params& params,
                     std::string_view signature) {
  if (auth_token.empty() || signature.empty()) return false;
  bool valid = same(webhook_signature(auth_token, url, params), signature);
  if (auto other = other_spelling(url))
    valid = same(webhook_signature(auth_token, *other, params), signature) || valid;
  return valid;
}

}  // namespace sk::phone
