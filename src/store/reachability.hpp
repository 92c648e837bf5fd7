#pragma once
// Whether something outside reaches Sidekick or is reached by it: a mailbox it reads, a phone
// line whose provider posts to it. Kept per thing by the repository that owns it.
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace sk::store {

struct Reachability {
  Timestamp last_ok_at = 0;     // the last time it got through; 0: never
  Timestamp failing_since = 0;  // the first of the failures in a row; 0: not failing
  int failures = 0;             // in a row
  std::string last_error;
  // Often enough in a row that a person should look: one failure is anyone's (a dropped
  // connection, a stray request); three with nothing getting through is not.
  bool failing() const { return failures >= kFailuresShown; }
  static constexpr int kFailuresShown = 3;

  // How a VA reads it, in the thing's own words: "cannot be read since …", "read …", "not
  // read yet" for a mailbox; "refused since …", "answered …", "not called yet" for a line.
  struct Words {
    std::string_view failing, ok, never;
  };
  std::string state(const Words& words) const {
    if (failing()) return std::string(words.failing) + " since " + format_utc(failing_since);
    if (last_ok_at != 0) return std::string(words.ok) + " " + format_utc(last_ok_at);
    return std::string(words.never);
  }
};

}  // namespace sk::store
