#include "app/support_cli.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <ostream>

#include "app/home.hpp"
#include "engine/support.hpp"
#include "store/repos.hpp"
#include "support/kb.hpp"
#include "support/matcher.hpp"
#include "support/repo.hpp"

namespace sk::app {

struct SupportCommands {
  std::string client, file, format, question, id, signature, signature_file, tone;
  double threshold = -1;
  CLI::App* kb_import = nullptr;
  CLI::App* kb_export = nullptr;
  CLI::App* kb_list = nullptr;
  CLI::App* kb_ask = nullptr;
  CLI::App* kb_settings = nullptr;
  CLI::App* support_list = nullptr;
  CLI::App* support_solve = nullptr;
};

namespace {

std::string pct(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%3.0f%%", p * 100);
  return buf;
}

std::string one_line(std::string s, std::size_t width) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > width) s = s.substr(0, width - 3) + "...";
  return s;
}

void print_settings(std::ostream& out, const support::Settings& s) {
  char t[16];
  std::snprintf(t, sizeof t, "%.2f", s.threshold);
  out << "threshold " << t << ", tone " << s.tone << ", signature "
      << (s.signature.empty() ? std::string("(none)") : "\"" + one_line(s.signature, 60) + "\"")
      << "\n";
}

}  // namespace

std::shared_ptr<SupportCommands> add_support_commands(CLI::App& app) {
  auto c = std::make_shared<SupportCommands>();
  auto* kb = app.add_subcommand("kb", "the client's knowledge base for customer support");
  kb->require_subcommand(1);
  c->kb_import = kb->add_subcommand(
      "import", "replace the knowledge base from a TOML or CSV file (its [settings] apply too)");
  c->kb_import->add_option("--client", c->client, "client")->required();
  c->kb_import->add_option("file", c->file, "kb.toml or kb.csv")->required();
  c->kb_import->add_option("--format", c->format, "toml or csv (default: from the file name)")
      ->check(CLI::IsMember({"toml", "csv"}));
  c->kb_export = kb->add_subcommand("export", "print the knowledge base as TOML or CSV");
  c->kb_export->add_option("--client", c->client, "client")->required();
  c->kb_export->add_option("--format", c->format, "toml (default) or csv")
      ->check(CLI::IsMember({"toml", "csv"}));
  c->kb_list = kb->add_subcommand("list", "one line per entry");
  c->kb_list->add_option("--client", c->client, "client")->required();
  c->kb_ask = kb->add_subcommand("ask", "the best three answers to a question, with confidence");
  c->kb_ask->add_option("--client", c->client, "client")->required();
  c->kb_ask->add_option("question", c->question, "what a customer asks")->required();
  c->kb_settings = kb->add_subcommand(
      "settings", "show or change the threshold, tone and signature of support answers");
  c->kb_settings->add_option("--client", c->client, "client")->required();
  c->kb_settings->add_option("--threshold", c->threshold,
                             "confidence 0..1 needed to answer (send or draft)");
  c->kb_settings->add_option("--tone", c->tone, "friendly, formal or brief");
  c->kb_settings->add_option("--signature", c->signature, "signature text ('\\n' for new lines)");
  c->kb_settings->add_option("--signature-file", c->signature_file,
                             "read the signature from a file");

  auto* support = app.add_subcommand("support", "customer support conversations");
  support->require_subcommand(1);
  c->support_list = support->add_subcommand("list", "conversations with status and times");
  c->support_list->add_option("--client", c->client, "client")->required();
  c->support_list->add_option("--format", c->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  c->support_solve = support->add_subcommand("solve", "mark a conversation solved");
  c->support_solve->add_option("--client", c->client, "client")->required();
  c->support_solve->add_option("conversation", c->id, "conversation id (cnv_N)")->required();
  return c;
}

Result<bool> run_support_commands(SupportCommands& c, const SupportContext& ctx) {
  bool any = c.kb_import->parsed() || c.kb_export->parsed() || c.kb_list->parsed() ||
             c.kb_ask->parsed() || c.kb_settings->parsed() || c.support_list->parsed() ||
             c.support_solve->parsed();
  if (!any) return false;
  store::Db& db = ctx.db;
  std::ostream& out = ctx.out;
  SK_ASSIGN(auto client, store::find_client(db, c.client));

  if (c.kb_import->parsed()) {
    SK_ASSIGN(std::string text, read_file(c.file));
    std::string format = c.format;
    if (format.empty()) {
      std::string ext = std::filesystem::path(c.file).extension().string();
      for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (ext == ".csv")
        format = "csv";
      else if (ext == ".toml")
        format = "toml";
      else
        return make_error(Errc::invalid_input,
                          c.file + ": say --format toml or --format csv (the name does not tell)");
    }
    std::string name = std::filesystem::path(c.file).filename().string();
    SK_ASSIGN(auto kb, format == "csv" ? support::kb_from_csv(text, name)
                                       : support::kb_from_toml(text, name));
    SK_ASSIGN(auto settings, support::load_settings(db, client.id));
    if (kb.threshold) settings.threshold = *kb.threshold;
    if (kb.tone) settings.tone = *kb.tone;
    if (kb.signature) settings.signature = *kb.signature;
    SK_TRY(db.transaction([&]() -> Result<void> {
      SK_TRY(support::replace_entries(db, client.id, kb.entries));
      SK_TRY(support::save_settings(db, client.id, settings));
      return store::append_audit(db, client.id, ctx.clock.now(), ctx.actor, "kb imported",
                                 std::to_string(kb.entries.size()) + " entries from " + name, "");
    }));
    out << "imported " << kb.entries.size() << " entries for " << client.slug << "; ";
    print_settings(out, settings);
    return true;
  }
  if (c.kb_export->parsed()) {
    SK_ASSIGN(auto entries, support::load_entries(db, client.id));
    SK_ASSIGN(auto settings, support::load_settings(db, client.id));
    out << (c.format == "csv" ? support::kb_to_csv(entries)
                              : support::kb_to_toml(entries, settings));
    return true;
  }
  if (c.kb_list->parsed()) {
    SK_ASSIGN(auto entries, support::load_entries(db, client.id));
    for (const auto& e : entries) {
      std::string tags;
      for (const auto& t : e.tags) tags += (tags.empty() ? "" : ",") + t;
      char line[64];
      std::snprintf(line, sizeof line, "%-24s ", one_line(e.key, 24).c_str());
      out << line << one_line(e.question, 50) << "  (+" << e.variants.size() << " variants)"
          << (tags.empty() ? "" : "  [" + tags + "]") << (e.is_private ? "  private" : "") << "\n";
    }
    if (entries.empty())
      out << "no entries: `sidekick kb import --client " << client.slug << " FILE`\n";
    return true;
  }
  if (c.kb_ask->parsed()) {
    SK_ASSIGN(auto entries, support::load_entries(db, client.id));
    if (entries.empty())
      return make_error(Errc::not_found, client.slug + " has no knowledge base yet");
    SK_ASSIGN(auto settings, support::load_settings(db, client.id));
    SK_ASSIGN(auto matcher, support::Matcher::build(entries));
    auto found = matcher.match(c.question, 3);
    int n = 0;
    for (const auto& s : found) {
      const auto& e = entries[s.entry];
      out << ++n << ". " << pct(s.confidence) << "  " << e.key << ": " << one_line(e.question, 60)
          << (e.is_private ? "  (private)" : "") << "\n";
    }
    bool sure = !found.empty() && found[0].confidence >= settings.threshold;
    out << (sure ? "above" : "below") << " the threshold (" << pct(settings.threshold) << "): "
        << (sure ? "answered per the client's delegation for support" : "the VA chooses from these")
        << "\n";
    return true;
  }
  if (c.kb_settings->parsed()) {
    SK_ASSIGN(auto s, support::load_settings(db, client.id));
    bool changed = false;
    if (c.threshold >= 0 || c.kb_settings->count("--threshold")) {
      s.threshold = c.threshold;
      changed = true;
    }
    if (!c.tone.empty()) {
      s.tone = c.tone;
      changed = true;
    }
    if (!c.signature_file.empty()) {
      SK_ASSIGN(s.signature, read_file(c.signature_file));
      while (!s.signature.empty() && s.signature.back() == '\n') s.signature.pop_back();
      changed = true;
    } else if (c.kb_settings->count("--signature")) {
      s.signature.clear();
      for (std::size_t i = 0; i < c.signature.size(); ++i) {
        if (c.signature[i] == '\\' && i + 1 < c.signature.size() && c.signature[i + 1] == 'n') {
          s.signature += '\n';
          ++i;
        } else {
          s.signature += c.signature[i];
        }
      }
      changed = true;
    }
    if (changed) {
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(support::save_settings(db, client.id, s));
        char t[16];
        std::snprintf(t, sizeof t, "%.2f", s.threshold);
        return store::append_audit(db, client.id, ctx.clock.now(), ctx.actor, "support settings",
                                   std::string("threshold ") + t + ", tone " + s.tone, "");
      }));
    }
    print_settings(out, s);
    return true;
  }
  if (c.support_list->parsed()) {
    SK_TRY(engine::refresh_conversations(db, client.id, ctx.clock.now()));
    SK_ASSIGN(auto all, support::list_conversations(db, client.id));
    if (c.format == "json") {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& v : all) {
        auto fr = support::first_response_seconds(v);
        auto rs = support::resolution_seconds(v);
        a.push_back({{"id", v.id},
                     {"customer", v.customer},
                     {"subject", v.subject},
                     {"status", support::to_string(v.status)},
                     {"opened_at", format_utc(v.opened_at)},
                     {"first_response_seconds", fr ? nlohmann::json(*fr) : nlohmann::json()},
                     {"resolution_seconds", rs ? nlohmann::json(*rs) : nlohmann::json()},
                     {"reopened", v.reopened}});
      }
      out << a.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return true;
    }
    for (const auto& v : all) {
      char line[256];
      std::snprintf(line, sizeof line, "%-8s %-20s %-28s %-30s first reply %-7s solved in %-7s",
                    v.id.c_str(), std::string(support::to_string(v.status)).c_str(),
                    one_line(v.customer, 28).c_str(), one_line(v.subject, 30).c_str(),
                    support::describe_wait(support::first_response_seconds(v)).c_str(),
                    support::describe_wait(support::resolution_seconds(v)).c_str());
      out << line << (v.reopened ? "  reopened " + std::to_string(v.reopened) + "x" : "") << "\n";
    }
    if (all.empty()) out << "no support conversations yet\n";
    return true;
  }
  if (c.support_solve->parsed()) {
    SK_ASSIGN(auto conv, engine::solve_conversation(db, ctx.clock, client.id, c.id, ctx.actor));
    out << conv.id << " is solved (" << support::describe_wait(support::resolution_seconds(conv))
        << " after it was opened)\n";
    return true;
  }
  return false;
}

}  // namespace sk::app
