#pragma once
// The client's digest: one short account of a day in their own zone: what needs them, who
// waits in the screener, and how much was handled, kept away or left with their VA. The
// console shows it, and it is mailed to the client at the time they chose.
#include <string>
#include <utility>
#include <vector>

#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::digest {

struct Line {
  ItemId item;
  std::string from;
  std::string from_name;
  std::string subject;
  Category category = Category::other;
};

struct Digest {
  ClientId client;
  std::string client_name;
  std::string day;   // "2026-11-24", in the client's zone (for a mailed one, the day it went)
  std::string date;  // "Tuesday 24 November 2026"; mailed: "since Monday 23 November 2026, 08:00"
  bool mailed = false;                 // the 24 hours before it was mailed, not a day
  Timestamp from = 0, to = 0;          // the day: [from, to)
  bool today = false;                  // the day holds `now`
  std::string previous_day, next_day;  // next_day empty when the day is today
  std::vector<Line> needs_you;
  std::vector<Line> screened;  // first-time senders, not spam
  int handled = 0, kept_away = 0, with_va = 0;
  std::vector<std::pair<Category, int>> by_category;
  std::size_t total = 0;
};

// The digest of `day` ("YYYY-MM-DD" in the client's zone), or of the client's today at `now`
// when `day` is empty. A malformed day or one after today is invalid_input.
Result<Digest> build(store::Db& db, const ClientId& client, Timestamp now,
                     const std::string& day = "");

// The digest mailed at `at`: the 24 hours on the client's clock before it (since the same
// time the day before), so that a client who reads it every morning misses nothing.
Result<Digest> build_mailed(store::Db& db, const ClientId& client, Timestamp at);

// The digest as a plain-text mail, short enough for a phone: what needs the client first,
// then the screener, then the counts; `link` is where the console shows it.
std::string subject_of(const Digest& d);
std::string text_of(const Digest& d, const std::string& link);

}  // namespace sk::digest
