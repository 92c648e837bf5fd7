#include "support/answer.hpp"

#include "core/placeholders.hpp"

namespace sk::support {
namespace {

std::string first_name_of(const std::string& name) {
  std::string n = name;
  // "Smith, Bob" → "Bob"
  if (auto comma = n.find(','); comma != std::string::npos) n = n.substr(comma + 1);
  std::size_t b = n.find_first_not_of(" \t\"'");
  if (b == std::string::npos) return "";
  n = n.substr(b);
  auto end = n.find_first_of(" \t\"'");
  return end == std::string::npos ? n : n.substr(0, end);
}

}  // namespace

const std::vector<std::string>& placeholders() {
  static const std::vector<std::string> kNames = {"first_name", "name", "email", "question"};
  return kNames;
}

std::string unknown_placeholder(const std::string& answer) {
  for (auto at = answer.find("{{"); at != std::string::npos; at = answer.find("{{", at + 2)) {
    auto end = answer.find("}}", at);
    if (end == std::string::npos) return answer.substr(at);
    std::string name = answer.substr(at + 2, end - at - 2);
    bool known = false;
    for (const auto& p : placeholders()) known = known || p == name;
    if (!known) return "{{" + name + "}}";
  }
  return "";
}

std::string compose_answer(const Entry& entry, const Settings& settings, const Customer& customer,
                           const std::string& question) {
  std::string first = first_name_of(customer.name);
  std::string body =
      fill_placeholders(entry.answer, {{"first_name", first.empty() ? "there" : first},
                                       {"name", customer.name.empty() ? "there" : customer.name},
                                       {"email", customer.email},
                                       {"question", question}});
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  std::string greeting, closing;
  if (settings.tone == "formal") {
    greeting = customer.name.empty() ? "Dear customer," : "Dear " + customer.name + ",";
    body = "Thank you for your message.\n\n" + body;
    closing = "Kind regards,";
  } else if (settings.tone == "brief") {
    greeting = first.empty() ? "Hi," : "Hi " + first + ",";
  } else {
    greeting = first.empty() ? "Hi there," : "Hi " + first + ",";
    closing = "If anything else comes up, just reply to this message.\n\nBest wishes,";
  }
  std::string out = greeting + "\n\n" + body + "\n";
  if (!closing.empty()) out += "\n" + closing + "\n";
  if (!settings.signature.empty()) out += (closing.empty() ? "\n" : "") + settings.signature + "\n";
  return out;
}

}  // namespace sk::support
