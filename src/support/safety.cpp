#include "support/safety.hpp"

#include <cctype>
#include <cstdio>
#include <vector>

#include "support/text.hpp"

namespace sk::support {
namespace {

// Text as one space-separated string of words, with a space at each end, so phrases match
// on word boundaries with a plain find.
std::string joined(std::string_view text) {
  std::string out = " ";
  for (const auto& w : words(text)) out += w + " ";
  return out;
}

bool negated_before(const std::string& s, std::size_t at) {
  // "not upset", "isnt angry", "never unhappy": the two words before the cue.
  std::size_t start = at;
  for (int n = 0; n < 3 && start > 0; ++n) start = s.rfind(' ', start - 1);
  std::string before = s.substr(start == std::string::npos ? 0 : start, at - start + 1);
  for (const char* neg : {" not ", " isnt ", " im not ", " no ", " never ", " arent ", " wasnt "})
    if (before.find(neg) != std::string::npos) return true;
  return false;
}

std::optional<std::string> find_cue(const std::string& s, const std::vector<const char*>& cues,
                                    bool check_negation) {
  for (const char* c : cues) {
    std::string cue = std::string(" ") + c + " ";
    auto at = s.find(cue);
    if (at == std::string::npos) continue;
    if (check_negation && negated_before(s, at)) continue;
    return std::string(c);
  }
  return std::nullopt;
}

const std::vector<const char*> kPerson = {"talk to a person",
                                          "talk to a human",
                                          "talk to a real person",
                                          "talk to someone",
                                          "talk to somebody",
                                          "speak to a person",
                                          "speak to a human",
                                          "speak to a real person",
                                          "speak to someone",
                                          "speak to somebody",
                                          "speak with a person",
                                          "speak with someone",
                                          "speak with a human",
                                          "talk with a person",
                                          "talk with someone",
                                          "real person",
                                          "real human",
                                          "actual person",
                                          "actual human",
                                          "human being",
                                          "a human please",
                                          "not a bot",
                                          "are you a bot",
                                          "is this a bot",
                                          "stop sending automated",
                                          "automated replies",
                                          "canned response",
                                          "canned answer",
                                          "speak to a manager",
                                          "talk to a manager",
                                          "speak to your manager",
                                          "talk to your manager",
                                          "your supervisor",
                                          "a supervisor",
                                          "speak to the owner",
                                          "talk to the owner",
                                          "live agent",
                                          "live person",
                                          "customer service representative",
                                          "a representative",
                                          "call me",
                                          "phone me",
                                          "give me a call",
                                          "can someone call",
                                          "could someone call",
                                          "someone call me",
                                          "put me through"};

// Strong cues are anger by themselves; mild ones need company.
const std::vector<const char*> kStrong = {"unacceptable",
                                          "ridiculous",
                                          "outrageous",
                                          "disgusting",
                                          "disgraceful",
                                          "furious",
                                          "livid",
                                          "outraged",
                                          "appalled",
                                          "appalling",
                                          "scam",
                                          "scammers",
                                          "fraud",
                                          "lawyer",
                                          "solicitor",
                                          "legal action",
                                          "take you to court",
                                          "sue you",
                                          "chargeback",
                                          "dispute the charge",
                                          "report you",
                                          "trading standards",
                                          "consumer protection",
                                          "worst service",
                                          "worst company",
                                          "worst experience",
                                          "terrible service",
                                          "horrible service",
                                          "pathetic",
                                          "incompetent",
                                          "useless",
                                          "joke of a",
                                          "fed up",
                                          "sick and tired",
                                          "sick of",
                                          "had enough",
                                          "never again",
                                          "never buying",
                                          "never order",
                                          "shame on you",
                                          "how dare you",
                                          "wtf",
                                          "what the hell",
                                          "what the fuck",
                                          "fuck",
                                          "fucking",
                                          "shit",
                                          "bullshit",
                                          "crap",
                                          "damn it",
                                          "goddamn",
                                          "angry",
                                          "very angry",
                                          "so angry",
                                          "extremely disappointed",
                                          "beyond frustrated",
                                          "completely unacceptable",
                                          "rip off",
                                          "ripoff",
                                          "rip-off",
                                          "waste of money",
                                          "waste of time"};
const std::vector<const char*> kMild = {"disappointed",
                                        "frustrated",
                                        "frustrating",
                                        "annoyed",
                                        "annoying",
                                        "upset",
                                        "unhappy",
                                        "terrible",
                                        "awful",
                                        "horrible",
                                        "third time",
                                        "fourth time",
                                        "again and again",
                                        "still no",
                                        "still not",
                                        "still waiting",
                                        "no one",
                                        "nobody",
                                        "ignored",
                                        "ignoring",
                                        "no response",
                                        "no reply",
                                        "immediately",
                                        "right now",
                                        "asap",
                                        "refund now",
                                        "cancel my order",
                                        "cancel my account",
                                        "demand",
                                        "seriously",
                                        "unbelievable"};

// Words in capitals a calm writer uses too.
bool is_acronym(const std::string& w) {
  static const std::vector<std::string> kCommon = {
      "FAQ",  "USA", "UK",  "EU",   "ID",  "OK",   "PDF",   "UPS", "DHL", "DPD",
      "USPS", "VAT", "CEO", "ASAP", "URL", "IBAN", "SWIFT", "ATM", "PIN", "API",
      "TV",   "PS",  "FYI", "NB",   "GMT", "UTC",  "CET",   "EST", "PST", "AM",
      "PM",   "XL",  "XXL", "EUR",  "USD", "GBP",  "SMS"};
  for (const auto& a : kCommon)
    if (w == a) return true;
  return false;
}

}  // namespace

std::optional<std::string> asks_for_person(std::string_view text) {
  std::string s = joined(text);
  // "a human" also covers "I want a human" and "get me a human".
  for (const char* c : {" want a human ", " need a human ", " get me a human ", " want a person ",
                        " need a person ", " get me a person "}) {
    auto at = s.find(c);
    if (at != std::string::npos) {
      std::string cue(c);
      return cue.substr(1, cue.size() - 2);
    }
  }
  return find_cue(s, kPerson, true);
}

AngerSignal anger(std::string_view subject, std::string_view text) {
  AngerSignal sig;
  std::string all = std::string(subject) + "\n" + std::string(text);
  std::string s = joined(all);
  std::vector<std::string> said;
  for (const char* c : kStrong) {
    std::string cue = std::string(" ") + c + " ";
    auto at = s.find(cue);
    if (at == std::string::npos || negated_before(s, at)) continue;
    sig.score += 2;
    said.push_back(c);
    if (said.size() >= 2) break;
  }
  for (const char* c : kMild) {
    std::string cue = std::string(" ") + c + " ";
    auto at = s.find(cue);
    if (at == std::string::npos || negated_before(s, at)) continue;
    sig.score += 0.75;
    said.push_back(c);
  }
  // How it is written: runs of '!' or "?!", and shouting in capitals.
  int bangs = 0, runs = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '!') {
      ++bangs;
      if (i + 1 < all.size() && (all[i + 1] == '!' || all[i + 1] == '?')) ++runs;
      if (i > 0 && all[i - 1] == '?') ++runs;
    }
  }
  int shouted = 0, letters_upper = 0, letters = 0;
  std::string word;
  auto end_word = [&] {
    bool all_upper = word.size() >= 3;
    for (char c : word) all_upper = all_upper && std::isupper(static_cast<unsigned char>(c));
    if (all_upper && !is_acronym(word)) ++shouted;
    word.clear();
  };
  for (char ch : all) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalpha(c)) {
      word += ch;
      ++letters;
      if (std::isupper(c)) ++letters_upper;
    } else {
      end_word();
    }
  }
  end_word();
  std::vector<std::string> how;
  if (runs >= 1 || bangs >= 3) {
    sig.score += runs >= 2 || bangs >= 4 ? 1.25 : 0.75;
    how.push_back("exclamation marks");
  }
  bool shouting = shouted >= 3 || (letters >= 12 && letters_upper * 10 >= letters * 7);
  if (shouting) {
    sig.score += 1.5;
    how.push_back("writes in capitals");
  }
  std::string reason;
  for (const auto& w : said) reason += (reason.empty() ? "says '" : ", '") + w + "'";
  for (const auto& h : how) reason += (reason.empty() ? "" : "; ") + h;
  sig.reason = reason;
  return sig;
}

bool is_bare_thanks(std::string_view text) {
  if (text.find('?') != std::string_view::npos) return false;
  static const std::vector<std::string> thanks{
      "thanks",   "thank", "thx",   "ty",       "cheers",   "appreciate", "appreciated",
      "grateful", "danke", "merci", "obrigado", "obrigada", "gracias"};
  static const std::vector<std::string> polite{
      "you",   "so",      "very",     "much",       "many",      "a",          "lot",
      "lots",  "again",   "for",      "the",        "your",      "quick",      "fast",
      "reply", "answer",  "response", "help",       "helpful",   "info",       "information",
      "got",   "it",      "that",     "this",       "helps",     "ok",         "okay",
      "great", "perfect", "super",    "awesome",    "wonderful", "brilliant",  "excellent",
      "nice",  "good",    "all",      "sorted",     "clear",     "understood", "noted",
      "will",  "do",      "have",     "day",        "weekend",   "best",       "regards",
      "kind",  "warm",    "hi",       "hello",      "dear",      "and",        "really",
      "much",  "kindly",  "i",        "we",         "oh",        "ah",         "wow",
      "yes",   "fine",    "works",    "everything", "well",      "received",   "sounds",
      "to",    "me",      "us",       "as",         "always",    "xx",         "x",
      "love",  "truly",   "sincerely"};
  static const std::vector<std::string> trouble{
      "but",    "not",   "no",      "still", "however", "although", "though",       "nothing",
      "wrong",  "never", "doesnt",  "didnt", "dont",    "cant",     "wont",         "isnt",
      "havent", "hasnt", "problem", "issue", "broken",  "refund",   "return",       "cancel",
      "please", "need",  "want",    "when",  "where",   "how",      "why",          "what",
      "which",  "can",   "could",   "would", "should",  "if",       "unfortunately"};
  auto in = [](const std::vector<std::string>& set, const std::string& w) {
    for (const auto& x : set)
      if (x == w) return true;
    return false;
  };
  auto ws = words(text);
  if (ws.empty() || ws.size() > 16) return false;
  bool thanked = false;
  int other = 0;
  for (const auto& w : ws) {
    if (in(trouble, w)) return false;
    if (in(thanks, w))
      thanked = true;
    else if (!in(polite, w))
      ++other;
  }
  return thanked && other <= 2;
}

SafetyVerdict check(const SafetyInput& in) {
  std::string all = std::string(in.subject) + "\n" + std::string(in.text);
  if (auto p = asks_for_person(all))
    return {false, "support.asks_person", "the customer asks for a person ('" + *p + "')"};
  AngerSignal a = anger(in.subject, in.text);
  if (a.angry()) return {false, "support.angry", "the customer sounds upset: " + a.reason};
  char pct[64];
  if (!in.has_match)
    return {false, "support.weak_match", "nothing in the knowledge base answers this"};
  if (in.confidence < in.threshold) {
    std::snprintf(pct, sizeof pct, "%.0f%% sure, below the client's %.0f%%", in.confidence * 100,
                  in.threshold * 100);
    return {false, "support.weak_match", std::string("the best answer is only ") + pct};
  }
  if (in.answer_private && !in.sender_known)
    return {false, "support.private_unknown",
            "the answer holds private details and the sender is not a known customer"};
  std::snprintf(pct, sizeof pct, "%.0f%% sure (threshold %.0f%%)", in.confidence * 100,
                in.threshold * 100);
  return {true, "support.ok", std::string("the knowledge base answers it, ") + pct};
}

}  // namespace sk::support
