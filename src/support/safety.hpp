#pragma once
// When the assistant must not answer a customer on its own, and why. Pure functions.
#include <optional>
#include <string>
#include <string_view>

namespace sk::support {

// A phrase asking for a human ("can I talk to a real person", "put me through to a
// manager"), or nothing.
std::optional<std::string> asks_for_person(std::string_view text);

struct AngerSignal {
  double score = 0;    // 2 or more: angry
  std::string reason;  // what gave it away, in words ("says 'unacceptable'; shouts")
  bool angry() const { return score >= 2; }
};
// Phrase cues (complaint words, threats of chargebacks or lawyers, swearing) and how it is
// written (several '!' or "?!", words in capitals) add up; "not upset" does not count.
AngerSignal anger(std::string_view subject, std::string_view text);

// A message that only says thanks ("Thanks!", "Got it, thank you so much. Ana"): a thank
// word, nothing asked ('?'), nothing wrong ("thanks, but it still does not work"), and at
// most a name or two besides the polite words. Such a message in a conversation that was
// answered is no new work. `text` is the body without quotes and signature.
bool is_bare_thanks(std::string_view text);

struct SafetyInput {
  std::string_view subject;
  std::string_view text;        // what the customer wrote (without quotes and signature)
  bool sender_known = false;    // the client knows them (a relationship, or let in before)
  bool has_match = false;       // the knowledge base had a suggestion at all
  double confidence = 0;        // of the best suggestion
  double threshold = 0.8;       // the client's
  bool answer_private = false;  // the best suggestion's answer is marked private
};

struct SafetyVerdict {
  bool answer = false;  // may be answered (sent or drafted per the delegation)
  std::string code;     // support.ok, support.asks_person, support.angry, support.weak_match,
                        // support.private_unknown
  std::string reason;   // for the VA
};

// The first reason not to answer, in this order: the customer asks for a person, is angry,
// the best match is below the threshold, its answer is private and the sender unknown.
SafetyVerdict check(const SafetyInput& in);

}  // namespace sk::support
