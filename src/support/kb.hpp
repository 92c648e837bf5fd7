#pragma once
// A client's knowledge base: the questions customers ask and the answers the client gives,
// as people write them (TOML or CSV) and as the store keeps them.
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sk::support {

struct Entry {
  std::string key;                    // stable and unique per client: "card-arrival"
  std::string question;               // how the client would put it
  std::vector<std::string> variants;  // other ways customers ask the same thing
  std::string answer;                 // template: {{first_name}}, {{name}}, {{email}}...
  std::vector<std::string> tags;
  // The answer says something only known customers may read (an account detail, an
  // internal number): never sent on its own to a sender nobody knows.
  bool is_private = false;
};

// The client's support settings, from the KB file's [settings] table or
// `sidekick kb settings`.
struct Settings {
  double threshold = 0.8;         // confidence (0..1) needed to answer without a VA choosing
  std::string signature;          // appended to every answer
  std::string tone = "friendly";  // friendly, formal or brief: the greeting and closing
};

struct KbFile {
  std::vector<Entry> entries;
  // Only what the file sets; the rest of the client's settings stay as they are.
  std::optional<double> threshold;
  std::optional<std::string> signature;
  std::optional<std::string> tone;
};

// Entries are checked together: every mistake names the file, the line and the entry, and
// nothing is returned unless all of them are valid (keys unique, question and answer set).
Result<KbFile> kb_from_toml(const std::string& text, const std::string& source_name);
std::string kb_to_toml(const std::vector<Entry>& entries, const Settings& settings);

// CSV (RFC 4180, a header row naming the columns): key, question, answer, and optionally
// variants and tags (several separated by '|'), private (true/false, yes/no, 1/0).
Result<KbFile> kb_from_csv(const std::string& text, const std::string& source_name);
std::string kb_to_csv(const std::vector<Entry>& entries);

// One checker for both formats and for what the store gives back.
Result<void> validate_entries(const std::vector<Entry>& entries, const std::string& source_name);

bool valid_tone(const std::string& tone);

// RFC 4180 rows (quoted fields may hold commas, quotes and line breaks), each with the line
// it starts on; blank lines are skipped. Errors name the line.
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};
Result<std::vector<CsvRow>> parse_csv(const std::string& text, const std::string& source_name);

}  // namespace sk::support
