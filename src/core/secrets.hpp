#pragma once
// Secrets at rest (mail passwords, OAuth tokens): sealed with libsodium's secretbox under a
// key that lives in a file of the data folder, never in the database.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sk {

class SecretKey {
 public:
  // A new random key.
  static SecretKey generate();
  // From the raw key bytes (as stored in the key file).
  static Result<SecretKey> from_bytes(std::string_view bytes);
  const std::string& bytes() const { return bytes_; }

  // nonce || ciphertext; a fresh random nonce each time.
  std::string seal(std::string_view plaintext) const;
  // Fails (Errc::invalid_input) when the box was not sealed with this key or was altered.
  Result<std::string> open(std::string_view sealed) const;
  // 32 bytes for another use (signing booking links), so this key itself is only ever a
  // secretbox key: BLAKE2b keyed with it over `purpose`.
  std::string derive(std::string_view purpose) const;

 private:
  std::string bytes_;
};

}  // namespace sk

namespace sk {

// Passwords: argon2id (libsodium crypto_pwhash_str, interactive limits), the encoded string
// carries its own salt and parameters.
Result<std::string> hash_password(std::string_view password);
bool verify_password(std::string_view encoded, std::string_view password);

// A random token for sessions, CSRF and API access: 32 bytes as 43 URL-safe characters.
std::string random_token();

// Equal without leaking where two strings differ through timing.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sk
