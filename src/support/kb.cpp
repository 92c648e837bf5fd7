#include "support/kb.hpp"

#include "support/answer.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <set>
#include <sstream>

namespace sk::support {
namespace {

bool valid_key(const std::string& k) {
  if (k.empty() || k.size() > 80) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

std::string trim(std::string s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// `lines[i]` is where entry i starts in its file (0: unknown).
Result<void> check(const std::vector<Entry>& entries, const std::vector<int>& lines,
                   const std::string& source) {
  std::set<std::string> keys;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    std::string where = source;
    if (i < lines.size() && lines[i] > 0) where += ":" + std::to_string(lines[i]);
    where += ": entry " + std::to_string(i + 1);
    if (!e.key.empty()) where += " (\"" + e.key + "\")";
    if (!valid_key(e.key))
      return make_error(
          Errc::invalid_input,
          where + ": key must be 1-80 characters of letters, digits, '-', '_' or '.'");
    if (!keys.insert(e.key).second)
      return make_error(Errc::invalid_input, where + ": key \"" + e.key + "\" is used twice");
    if (trim(e.question).empty())
      return make_error(Errc::invalid_input, where + ": question is empty");
    if (trim(e.answer).empty()) return make_error(Errc::invalid_input, where + ": answer is empty");
    if (std::string bad = unknown_placeholder(e.answer); !bad.empty())
      return make_error(Errc::invalid_input,
                        where + ": answer uses " + bad +
                            " (placeholders: {{first_name}}, {{name}}, {{email}}, {{question}})");
  }
  return ok();
}

Result<std::vector<std::string>> toml_strings(const toml::node* n, const std::string& where) {
  std::vector<std::string> out;
  if (!n) return out;
  if (auto s = n->value<std::string>()) return std::vector<std::string>{*s};
  const toml::array* a = n->as_array();
  if (!a) return make_error(Errc::invalid_input, where + " must be a string or a list of strings");
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return make_error(Errc::invalid_input, where + " must be a list of strings");
    out.push_back(*s);
  }
  return out;
}

std::string toml_quote(const std::string& s) {
  // A TOML basic string: JSON-like escapes, UTF-8 kept.
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string toml_list(const std::vector<std::string>& v, bool one_per_line) {
  if (v.empty()) return "[]";
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (one_per_line) out += "\n  ";
    out += toml_quote(v[i]);
    if (i + 1 < v.size() || one_per_line) out += one_per_line ? "," : ", ";
  }
  if (one_per_line) out += "\n";
  return out + "]";
}

}  // namespace

Result<std::vector<CsvRow>> parse_csv(const std::string& text, const std::string& source) {
  std::vector<CsvRow> rows;
  std::size_t i = 0;
  int line = 1;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;  // a spreadsheet's byte-order mark
  while (i < text.size()) {
    CsvRow row;
    row.line = line;
    std::string field;
    bool in_quotes = false, quoted = false, row_done = false;
    while (!row_done) {
      if (i >= text.size()) {
        if (in_quotes)
          return make_error(Errc::invalid_input, source + ":" + std::to_string(row.line) +
                                                     ": a quoted field is never closed");
        row.fields.push_back(std::move(field));
        break;
      }
      char c = text[i];
      if (in_quotes) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
          } else {
            in_quotes = false;
            ++i;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        continue;
      }
      if (c == '"') {
        if (!field.empty() && !trim(field).empty())
          return make_error(Errc::invalid_input,
                            source + ":" + std::to_string(line) +
                                ": a quote inside an unquoted field (quote the whole field and "
                                "double the quotes inside it)");
        field.clear();
        in_quotes = quoted = true;
        ++i;
      } else if (c == ',') {
        row.fields.push_back(std::move(field));
        field.clear();
        quoted = false;
        ++i;
      } else if (c == '\r' || c == '\n') {
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        row.fields.push_back(std::move(field));
        row_done = true;
      } else {
        if (quoted && c != ' ' && c != '\t')
          return make_error(Errc::invalid_input, source + ":" + std::to_string(line) +
                                                     ": text after a quoted field's closing quote");
        field += c;
        ++i;
      }
    }
    bool blank = row.fields.size() == 1 && trim(row.fields[0]).empty();
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

std::vector<std::string> split_bar(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '|' || c == '\n') {
      if (!trim(cur).empty()) out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos && trim(s) == s) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string join_bar(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " | ") + s;
  return out;
}

}  // namespace

bool valid_tone(const std::string& tone) {
  return tone == "friendly" || tone == "formal" || tone == "brief";
}

Result<void> validate_entries(const std::vector<Entry>& entries, const std::string& source_name) {
  return check(entries, {}, source_name);
}

Result<KbFile> kb_from_toml(const std::string& text, const std::string& source_name) {
  toml::table doc;
  try {
    doc = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return make_error(Errc::invalid_input, source_name + ":" + std::to_string(src.begin.line) +
                                               ":" + std::to_string(src.begin.column) + ": " +
                                               std::string(e.description()));
  }
  KbFile file;
  std::vector<int> lines;
  for (const auto& [key, node] : doc) {
    std::string k(key.str());
    if (k != "entry" && k != "settings")
      return make_error(Errc::invalid_input,
                        source_name + ":" + std::to_string(node.source().begin.line) +
                            ": unknown top-level key '" + k +
                            "' (a knowledge base has [settings] and [[entry]] tables)");
  }
  if (const toml::node* s = doc.get("settings")) {
    const toml::table* t = s->as_table();
    std::string where = source_name + ":" + std::to_string(s->source().begin.line) + ": [settings]";
    if (!t) return make_error(Errc::invalid_input, where + " must be a table");
    for (const auto& [key, node] : *t) {
      std::string k(key.str());
      std::string at =
          source_name + ":" + std::to_string(node.source().begin.line) + ": settings." + k;
      if (k == "threshold") {
        auto v = node.value<double>();
        if (!v || !(*v >= 0 && *v <= 1))
          return make_error(Errc::invalid_input, at + " must be a number from 0 to 1");
        file.threshold = *v;
      } else if (k == "signature") {
        auto v = node.value<std::string>();
        if (!v) return make_error(Errc::invalid_input, at + " must be a string");
        file.signature = *v;
      } else if (k == "tone") {
        auto v = node.value<std::string>();
        if (!v || !valid_tone(*v))
          return make_error(Errc::invalid_input, at + " must be friendly, formal or brief");
        file.tone = *v;
      } else {
        return make_error(Errc::invalid_input,
                          at + ": unknown setting (threshold, signature, tone)");
      }
    }
  }
  if (const toml::node* n = doc.get("entry")) {
    const toml::array* arr = n->as_array();
    if (!arr)
      return make_error(Errc::invalid_input, source_name + ": entries are [[entry]] tables");
    int i = 0;
    for (const auto& node : *arr) {
      ++i;
      int line = static_cast<int>(node.source().begin.line);
      std::string where = source_name + ":" + std::to_string(line) + ": entry " + std::to_string(i);
      const toml::table* t = node.as_table();
      if (!t) return make_error(Errc::invalid_input, where + " is not a table");
      Entry e;
      for (const auto& [key, v] : *t) {
        std::string k(key.str());
        std::string at = where + ": " + k;
        if (k == "key" || k == "question" || k == "answer") {
          auto s = v.value<std::string>();
          if (!s) return make_error(Errc::invalid_input, at + " must be a string");
          (k == "key" ? e.key : k == "question" ? e.question : e.answer) = *s;
        } else if (k == "variants") {
          SK_ASSIGN(e.variants, toml_strings(&v, at));
        } else if (k == "tags") {
          SK_ASSIGN(e.tags, toml_strings(&v, at));
        } else if (k == "private") {
          auto b = v.value<bool>();
          if (!b) return make_error(Errc::invalid_input, at + " must be true or false");
          e.is_private = *b;
        } else {
          return make_error(
              Errc::invalid_input,
              where + ": unknown key '" + k + "' (key, question, variants, answer, tags, private)");
        }
      }
      file.entries.push_back(std::move(e));
      lines.push_back(line);
    }
  }
  SK_TRY(check(file.entries, lines, source_name));
  return file;
}

std::string kb_to_toml(const std::vector<Entry>& entries, const Settings& settings) {
  std::ostringstream out;
  char threshold[32];
  std::snprintf(threshold, sizeof threshold, "%.2f", settings.threshold);
  out << "[settings]\nthreshold = " << threshold << "\ntone = " << toml_quote(settings.tone)
      << "\nsignature = " << toml_quote(settings.signature) << "\n";
  for (const auto& e : entries) {
    out << "\n[[entry]]\nkey = " << toml_quote(e.key) << "\nquestion = " << toml_quote(e.question)
        << "\n";
    if (!e.variants.empty()) out << "variants = " << toml_list(e.variants, true) << "\n";
    out << "answer = " << toml_quote(e.answer) << "\n";
    if (!e.tags.empty()) out << "tags = " << toml_list(e.tags, false) << "\n";
    if (e.is_private) out << "private = true\n";
  }
  return out.str();
}

Result<KbFile> kb_from_csv(const std::string& text, const std::string& source_name) {
  SK_ASSIGN(auto rows, parse_csv(text, source_name));
  if (rows.empty())
    return make_error(Errc::invalid_input,
                      source_name +
                          ": empty; the first row names the columns (key, question, "
                          "answer, variants, tags, private)");
  enum Col { key, question, answer, variants, tags, priv };
  std::vector<int> cols;
  std::set<int> seen;
  for (const auto& raw : rows[0].fields) {
    std::string h = trim(raw);
    for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int c = h == "key"        ? key
            : h == "question" ? question
            : h == "answer"   ? answer
            : h == "variants" ? variants
            : h == "tags"     ? tags
            : h == "private"  ? priv
                              : -1;
    if (c < 0)
      return make_error(Errc::invalid_input,
                        source_name + ":" + std::to_string(rows[0].line) + ": unknown column '" +
                            h + "' (key, question, answer, variants, tags, private)");
    if (!seen.insert(c).second)
      return make_error(Errc::invalid_input, source_name + ":" + std::to_string(rows[0].line) +
                                                 ": column '" + h + "' appears twice");
    cols.push_back(c);
  }
  for (int need : {key, question, answer})
    if (!seen.count(need))
      return make_error(Errc::invalid_input,
                        source_name + ":" + std::to_string(rows[0].line) +
                            ": the header needs the columns key, question and answer");
  KbFile file;
  std::vector<int> lines;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    std::string where = source_name + ":" + std::to_string(row.line);
    if (row.fields.size() != cols.size())
      return make_error(Errc::invalid_input, where + ": " + std::to_string(row.fields.size()) +
                                                 " fields where the header has " +
                                                 std::to_string(cols.size()));
    Entry e;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      const std::string& f = row.fields[i];
      switch (cols[i]) {
        case key:
          e.key = trim(f);
          break;
        case question:
          e.question = trim(f);
          break;
        case answer:
          e.answer = f;
          break;
        case variants:
          e.variants = split_bar(f);
          break;
        case tags:
          e.tags = split_bar(f);
          break;
        case priv: {
          std::string v = trim(f);
          for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (v == "true" || v == "yes" || v == "1") {
            e.is_private = true;
          } else if (v.empty() || v == "false" || v == "no" || v == "0") {
            e.is_private = false;
          } else {
            return make_error(Errc::invalid_input,
                              where + ": private must be true or false, not '" + f + "'");
          }
          break;
        }
      }
    }
    file.entries.push_back(std::move(e));
    lines.push_back(row.line);
  }
  SK_TRY(check(file.entries, lines, source_name));
  return file;
}

std::string kb_to_csv(const std::vector<Entry>& entries) {
  std::string out = "key,question,answer,variants,tags,private\r\n";
  for (const auto& e : entries) {
    out += csv_field(e.key) + "," + csv_field(e.question) + "," + csv_field(e.answer) + "," +
           csv_field(join_bar(e.variants)) + "," + csv_field(join_bar(e.tags)) + "," +
           (e.is_private ? "true" : "false") + "\r\n";
  }
  return out;
}

}  // namespace sk::support
