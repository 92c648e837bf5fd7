#pragma once
// Support conversations: a customer's thread with the client, its status and its timing.
// The transitions are pure; the repository (repo.hpp) stores them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"

namespace sk::support {

enum class Status { open, waiting_on_customer, solved };
std::string_view to_string(Status s);
std::optional<Status> status_from(std::string_view s);

struct Conversation {
  std::string id;  // cnv_N
  ClientId client;
  std::string customer;  // the customer's address
  std::string subject;   // as first written, without "Re:"
  Status status = Status::open;
  Timestamp opened_at = 0;
  Timestamp first_response_at = 0;  // 0: nobody answered yet
  Timestamp solved_at = 0;          // the last time it was solved; 0: not solved
  Timestamp last_customer_at = 0;
  Timestamp last_reply_at = 0;
  int reopened = 0;  // times the customer wrote again after it was solved
};

// The customer wrote: a solved conversation is reopened, one waiting on them is open again.
void on_customer_message(Conversation& c, Timestamp at);
// The client (or the assistant for them) answered: it waits on the customer.
void on_reply(Conversation& c, Timestamp at);
// Solved, by a VA or because the customer has been quiet long enough after an answer.
void on_solved(Conversation& c, Timestamp at);
// A conversation waiting on the customer for `quiet` seconds since the last answer is
// solved as of that answer (the customer had what they needed). Returns whether it changed.
bool solve_if_quiet(Conversation& c, Timestamp now, Timestamp quiet);

// Seconds from the first message to the first answer; empty until answered.
std::optional<Timestamp> first_response_seconds(const Conversation& c);
// Seconds from the first message to the (last) solution; empty until solved.
std::optional<Timestamp> resolution_seconds(const Conversation& c);
// Such a time as a VA reads it, the same in the console and the CLI: "45s", "12m", "1h 5m",
// "2d 3h"; "-" when there is none yet.
std::string describe_wait(std::optional<Timestamp> seconds);

// The subject a thread is known by: without "Re:", "Fwd:", "AW:" prefixes and "[tags]",
// spaces collapsed, lower case.
std::string thread_subject(std::string_view subject);

}  // namespace sk::support
