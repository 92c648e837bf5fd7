#pragma once
// The text of an answer: the entry's template filled in for this customer, inside the
// client's tone (greeting and closing) and signature. Pure.
#include <string>
#include <vector>

#include "support/kb.hpp"

namespace sk::support {

struct Customer {
  std::string name;  // display name, may be empty
  std::string email;
};

// Placeholders an answer may use: {{first_name}}, {{name}}, {{email}}, {{question}}.
const std::vector<std::string>& placeholders();
// The first placeholder in `answer` that is not one of those, or empty.
std::string unknown_placeholder(const std::string& answer);

// Greeting (by first name when known), the filled answer, the tone's closing, the
// signature. The question is not quoted here: the reply quotes the customer's message.
std::string compose_answer(const Entry& entry, const Settings& settings, const Customer& customer,
                           const std::string& question);

}  // namespace sk::support
