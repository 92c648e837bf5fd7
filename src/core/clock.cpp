#include "core/clock.hpp"

#include <chrono>
#include <ctime>
#include <random>

namespace sk {

Timestamp SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomIds::next(const std::string& prefix) {
  static constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::random_device rd;
  std::string id = prefix + "_";
  std::uint64_t bits = (std::uint64_t{rd()} << 32) ^ rd();
  for (int i = 0; i < 12; ++i) {
    id += kAlphabet[bits & 31];
    bits >>= 5;
  }
  return id;
}

std::string SequentialIds::next(const std::string& prefix) {
  return prefix + "_" + std::to_string(++n_);
}

std::string format_utc(Timestamp t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Howard Hinnant's days_from_civil (a public domain algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace sk
