#include "core/secrets.hpp"

#include <sodium.h>

namespace sk {
namespace {
void init_sodium() {
  static const int ready = sodium_init();  // thread-safe once; >= 0 means usable
  (void)ready;
}
}  // namespace

SecretKey SecretKey::generate() {
  init_sodium();
  SecretKey k;
  k.bytes_.resize(crypto_secretbox_KEYBYTES);
  crypto_secretbox_keygen(reinterpret_cast<unsigned char*>(k.bytes_.data()));
  return k;
}

Result<SecretKey> SecretKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != crypto_secretbox_KEYBYTES)
    return make_error(
        Errc::invalid_input,
        "the key file does not hold a " + std::to_string(crypto_secretbox_KEYBYTES) + "-byte key");
  init_sodium();
  SecretKey k;
  k.bytes_ = std::string(bytes);
  return k;
}

std::string SecretKey::seal(std::string_view plaintext) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, reinterpret_cast<const unsigned char*>(bytes_.data()));
  return out;
}

std::string SecretKey::derive(std::string_view purpose) const {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(),
                     reinterpret_cast<const unsigned char*>(bytes_.data()), bytes_.size());
  return out;
}

Result<std::string> SecretKey::open(std::string_view sealed) const {
  if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return make_error(Errc::invalid_input, "sealed secret is too short");
  std::string out(sealed.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                 nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(bytes_.data())) != 0)
    return make_error(Errc::invalid_input,
                      "secret cannot be opened: wrong key file, or the stored value was altered");
  return out;
}

}  // namespace sk

namespace sk {

Result<std::string> hash_password(std::string_view password) {
  init_sodium();
  if (password.empty()) return make_error(Errc::invalid_input, "the password is empty");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return make_error(Errc::internal, "out of memory while hashing a password");
  return std::string(out);
}

bool verify_password(std::string_view encoded, std::string_view password) {
  init_sodium();
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  std::string z(encoded);  // NUL-terminated copy
  return crypto_pwhash_str_verify(z.c_str(), password.data(), password.size()) == 0;
}

std::string random_token() {
  init_sodium();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char out[64];
  sodium_bin2base64(out, sizeof out, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sk
