#include "support/conversation.hpp"

#include <cctype>
#include <cstdio>

namespace sk::support {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::open:
      return "open";
    case Status::waiting_on_customer:
      return "waiting-on-customer";
    case Status::solved:
      return "solved";
  }
  return "open";
}

std::optional<Status> status_from(std::string_view s) {
  if (s == "open") return Status::open;
  if (s == "waiting-on-customer") return Status::waiting_on_customer;
  if (s == "solved") return Status::solved;
  return std::nullopt;
}

void on_customer_message(Conversation& c, Timestamp at) {
  if (c.opened_at == 0) c.opened_at = at;
  if (c.status == Status::solved) ++c.reopened;
  c.status = Status::open;
  c.last_customer_at = std::max(c.last_customer_at, at);
}

void on_reply(Conversation& c, Timestamp at) {
  if (c.first_response_at == 0) c.first_response_at = at;
  c.last_reply_at = std::max(c.last_reply_at, at);
  // A reply to a conversation already solved (a late draft approved) leaves it solved.
  if (c.status != Status::solved) c.status = Status::waiting_on_customer;
}

void on_solved(Conversation& c, Timestamp at) {
  c.status = Status::solved;
  c.solved_at = at;
}

bool solve_if_quiet(Conversation& c, Timestamp now, Timestamp quiet) {
  if (c.status != Status::waiting_on_customer || c.last_reply_at == 0) return false;
  if (now - c.last_reply_at < quiet) return false;
  on_solved(c, c.last_reply_at);
  return true;
}

std::optional<Timestamp> first_response_seconds(const Conversation& c) {
  if (c.first_response_at == 0) return std::nullopt;
  return c.first_response_at - c.opened_at;
}

std::optional<Timestamp> resolution_seconds(const Conversation& c) {
  if (c.status != Status::solved || c.solved_at == 0) return std::nullopt;
  return c.solved_at - c.opened_at;
}

std::string describe_wait(std::optional<Timestamp> seconds) {
  if (!seconds) return "-";
  const long long t = *seconds < 0 ? 0 : static_cast<long long>(*seconds);
  char buf[48];
  if (t < 60)
    std::snprintf(buf, sizeof buf, "%llds", t);
  else if (t < 3600)
    std::snprintf(buf, sizeof buf, "%lldm", t / 60);
  else if (t < 86400)
    std::snprintf(buf, sizeof buf, "%lldh %lldm", t / 3600, t % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%lldd %lldh", t / 86400, t % 86400 / 3600);
  return buf;
}

std::string thread_subject(std::string_view subject) {
  std::string s(subject);
  for (bool again = true; again;) {
    again = false;
    std::size_t p = s.find_first_not_of(" \t");
    if (p == std::string::npos) return "";
    s.erase(0, p);
    if (s[0] == '[') {  // "[Ticket 12] ..." list or ticket tags
      auto close = s.find(']');
      if (close != std::string::npos) {
        s.erase(0, close + 1);
        again = true;
        continue;
      }
    }
    for (std::string_view pre : {"re:", "fwd:", "fw:", "aw:", "sv:", "wg:", "tr:"}) {
      if (s.size() >= pre.size()) {
        bool match = true;
        for (std::size_t i = 0; i < pre.size(); ++i)
          match = match && std::tolower(static_cast<unsigned char>(s[i])) == pre[i];
        if (match) {
          s.erase(0, pre.size());
          again = true;
          break;
        }
      }
    }
  }
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isspace(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(c));
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace sk::support
