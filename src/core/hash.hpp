#pragma once
#include <string>
#include <string_view>

namespace sk {
// SHA-256 of the bytes, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

// The same over bytes given in pieces (a file read a block at a time, not held whole).
class Sha256 {
 public:
  Sha256();
  void add(std::string_view bytes);
  std::string hex();  // once, after the last add

 private:
  alignas(16) unsigned char state_[128];  // libsodium's state, kept out of this header
};
}  // namespace sk
