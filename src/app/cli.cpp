#include "app/cli.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "app/backup.hpp"
#include "app/demo.hpp"
#include "app/home.hpp"
#include "app/support_cli.hpp"
#include "calendar/civil.hpp"
#include "calendar/slots.hpp"
#include "calendar/zone.hpp"
#include "engine/digest_mail.hpp"
#include "engine/engine.hpp"
#include "engine/mailbox.hpp"
#include "engine/phone.hpp"
#include "engine/policy_codec.hpp"
#include "engine/replies.hpp"
#include "engine/routines.hpp"
#include "engine/scheduling.hpp"
#include "engine/tasks.hpp"
#include "engine/training.hpp"
#include "mail/smtp.hpp"
#include "phone/number.hpp"
#include "store/accounts.hpp"
#include "store/outgoing.hpp"
#include "store/phone_lines.hpp"
#include "store/repos.hpp"
#include "store/routines.hpp"
#include "store/scheduling.hpp"
#include "store/tasks.hpp"
#include "store/users.hpp"
#include "web/auth.hpp"
#include "web/booking_page.hpp"
#include "web/console.hpp"
#include "web/phone_hooks.hpp"
#include "web/server.hpp"

namespace sk::app {
namespace {

using nlohmann::json;

int exit_code(const Error& e) {
  switch (e.code) {
    case Errc::invalid_input:
    case Errc::parse:
      return 2;
    case Errc::not_found:
      return 3;
    case Errc::conflict:
      return 4;
    default:
      return 1;
  }
}

std::string actor_name(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* u = std::getenv("USER");
  return std::string("cli:") + (u && *u ? u : "operator");
}

// Cuts to `width` characters (at a UTF-8 boundary) and pads to it.
std::string cell(const std::string& s, std::size_t width) {
  std::string out;
  std::size_t chars = 0, i = 0;
  while (i < s.size() && chars < width) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
    ++chars;
  }
  if (i < s.size() && chars == width) {
    // Replace the last character with an ellipsis.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty()) out.pop_back();
    out += "…";
  }
  while (chars++ < width) out += ' ';
  return out;
}

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%3.0f%%", p * 100);
  return buf;
}

struct Context {
  std::ostream& out;
  std::ostream& err;
  const Clock& clock;
  std::string home_flag;
  std::string by;
};

// A password for an account: from a file (or "-", standard input) or an environment
// variable, never from the command line, where other users' `ps` would see it.
Result<std::string> read_secret(const std::string& file, const std::string& env) {
  std::string secret;
  if (file == "-") {
    std::getline(std::cin, secret);
  } else if (!file.empty()) {
    SK_ASSIGN(secret, read_file(file));
  } else if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (!v) return make_error(Errc::invalid_input, "$" + env + " is not set");
    secret = v;
  } else {
    return make_error(Errc::invalid_input,
                      "give the password with --password-file FILE (or -) or --password-env "
                      "VAR; never on the command line");
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

// Everything a command that touches the store needs, opened once.
struct Session {
  Home home;
  std::unique_ptr<store::Db> db;
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  bool model_loaded = false;
};

// A model the data folder keeps (mail's spam model, the text model); none when not trained, or
// with `outdated_is_none` when an earlier version trained it (the demo then trains it again).
Result<std::optional<triage::SpamModel>> read_model(const std::string& path,
                                                    bool outdated_is_none = false) {
  if (!std::filesystem::exists(path)) return std::optional<triage::SpamModel>{};
  SK_ASSIGN(auto bytes, read_file(path));
  if (outdated_is_none && triage::SpamModel::outdated(bytes))
    return std::optional<triage::SpamModel>{};
  auto model = triage::SpamModel::deserialize(bytes);
  if (!model.ok()) return make_error(model.error().code, path + ": " + model.error().message);
  return std::optional<triage::SpamModel>{std::move(model).value()};
}

Result<Session> open_session(const Context& ctx, bool outdated_models_are_none = false) {
  Session s;
  SK_ASSIGN(s.home, open_home(ctx.home_flag));
  SK_ASSIGN(s.db, store::open_database(s.home.database()));
  SK_TRY(store::migrate(*s.db));
  s.ids = std::make_unique<store::DbIds>(*s.db);
  SK_ASSIGN(auto model, read_model(s.home.spam_model(), outdated_models_are_none));
  s.model_loaded = model.has_value();
  s.engine = std::make_unique<engine::Engine>(*s.db, ctx.clock, *s.ids,
                                              std::move(model).value_or(triage::SpamModel{}));
  SK_ASSIGN(auto text_model, read_model(s.home.text_model(), outdated_models_are_none));
  if (text_model) s.engine->set_text_model(std::move(*text_model));
  return s;
}

Result<void> print_import(const Context& ctx, const engine::ImportReport& r) {
  ctx.out << "found " << r.found << " messages: " << r.added << " new, " << r.duplicates
          << " already imported";
  if (r.repaired) ctx.out << ", " << r.repaired << " read with repairs";
  if (r.unreadable) ctx.out << ", " << r.unreadable << " unreadable (kept raw for the VA)";
  if (r.skipped_files) ctx.out << "; skipped " << r.skipped_files << " files that are not mail";
  ctx.out << "\n";
  return ok();
}

void print_triage(const Context& ctx, const engine::TriageReport& r) {
  ctx.out << "decided " << r.decided << " items\n";
  for (const auto& [d, n] : r.by_disposition)
    ctx.out << "  " << cell(std::string(label(d)), 18) << n << "\n";
  if (!r.by_category.empty()) ctx.out << "by category:\n";
  for (const auto& [c, n] : r.by_category)
    ctx.out << "  " << cell(std::string(label(c)), 28) << n << "\n";
}

Result<void> print_decisions(const Context& ctx, store::Db& db, const ClientId& client,
                             const std::string& format) {
  SK_ASSIGN(auto rows, store::list_decisions(db, client));
  if (format == "json") {
    json a = json::array();
    for (const auto& r : rows) {
      json reasons = json::array();
      for (const auto& x : r.decision.reasons)
        reasons.push_back({{"code", x.code}, {"text", x.text}});
      a.push_back({{"id", r.item},
                   {"from", r.from},
                   {"subject", r.subject},
                   {"category", to_string(r.decision.category)},
                   {"disposition", to_string(r.decision.disposition)},
                   {"confidence", r.decision.confidence},
                   {"spam_score", r.decision.spam_score},
                   {"readable", to_string(r.parse_status)},
                   {"decided_by", r.decision.decided_by},
                   {"reasons", reasons}});
    }
    ctx.out << a.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return ok();
  }
  ctx.out << cell("ITEM", 10) << cell("FROM", 28) << cell("SUBJECT", 34) << cell("CATEGORY", 15)
          << cell("DISPOSITION", 12) << "CONF  REASONS\n";
  for (const auto& r : rows) {
    std::string reasons;
    for (const auto& x : r.decision.reasons) reasons += (reasons.empty() ? "" : "; ") + x.text;
    ctx.out << cell(r.item, 10) << cell(r.from.empty() ? "(no sender)" : r.from, 28)
            << cell(r.subject, 34) << cell(std::string(to_string(r.decision.category)), 15)
            << cell(std::string(to_string(r.decision.disposition)), 12)
            << percent(r.decision.confidence) << "  " << reasons << "\n";
  }
  ctx.out << rows.size() << " decisions\n";
  return ok();
}

std::atomic<bool> g_stop{false};  // set by SIGINT/SIGTERM; signals leave no other way in

struct ServeOptions {
  bool once = false;
  bool console = true;
  std::string listen = "127.0.0.1";
  int port = 8080;
  bool secure_cookies = false;
  std::string public_url;     // where the booking page is reached; default: the listen address
  int calendar_seconds = 60;  // how often connected CalDAV calendars are synced
  std::optional<BackupSchedule> backup;  // nightly backups of the home
};

// The scheduling work of one round, for every client: reminders, digests and routines that are due,
// and (when `calendars` is set) a sync with each connected CalDAV calendar. Digests link to
// the console at `console_url`.
void scheduling_round(const Context& ctx, store::Db& db, IdSource& ids, const SecretKey& key,
                      bool calendars, const std::string& console_url, std::mutex& out_mutex) {
  auto clients = store::list_clients(db);
  if (!clients) return;
  for (const auto& c : *clients) {
    auto sent = engine::send_due_reminders(db, ctx.clock, ids, c.id);
    if (!sent) {
      std::lock_guard lock(out_mutex);
      ctx.err << "sidekick: reminders for " << c.slug << ": " << sent.error().message << "\n";
    }
    auto digest = engine::mail_digest_if_due(db, ctx.clock, ids, c.id, console_url);
    if (!digest) {
      std::lock_guard lock(out_mutex);
      ctx.err << "sidekick: digest for " << c.slug << ": " << digest.error().message << "\n";
    }
    auto routines = engine::run_due_routines(db, ctx.clock, ids, c.id);
    if (!routines) {
      std::lock_guard lock(out_mutex);
      ctx.err << "sidekick: routines for " << c.slug << ": " << routines.error().message << "\n";
    }
  }
  if (!calendars) return;
  auto accounts = store::all_calendar_accounts(db);
  if (!accounts) return;
  for (const auto& ca : *accounts) {
    std::string error;
    auto secret = key.open(ca.sealed_secret);
    if (!secret) {
      error = secret.error().message;
    } else {
      calendar::CaldavClient caldav({ca.url, ca.username, *secret});
      auto r = engine::sync_caldav(db, ctx.clock, ca.client, caldav, ca.url, "sidekick");
      if (!r) error = r.error().message;
    }
    (void)store::set_calendar_synced(db, ca.client, ctx.clock.now(), error);
    if (!error.empty()) {
      std::lock_guard lock(out_mutex);
      ctx.err << "sidekick: calendar " << ca.url << ": " << error << "\n";
    }
  }
}

// One watcher thread per account, each with its own database connection (SQLite
// connections are not shared between threads), and the web console on its own threads.
Result<void> serve(const Context& ctx, Session& s, const ServeOptions& so) {
  const bool once = so.once;
  SK_ASSIGN(auto accounts, store::all_accounts(*s.db));
  if (accounts.empty() && (once || !so.console))
    return make_error(Errc::not_found, "no mail accounts: add one with `sidekick account add`");
  SK_ASSIGN(auto key, open_secret_key(s.home));
  const std::string link_key = key.derive("sidekick booking links");
  std::string base_url = so.public_url;
  while (base_url.ends_with("/")) base_url.pop_back();
  // Why the last nightly backup failed, for the agency page; set by the scheduling thread.
  // Before the console and the server, so that it outlives every request.
  struct {
    std::mutex mutex;
    std::string failure;
  } nightly;
  std::unique_ptr<web::Console> console;
  std::unique_ptr<web::Server> server;
  if (!once && so.console) {
    if (so.port < 0 || so.port > 65535)
      return make_error(Errc::invalid_input, "--port must be 0-65535");
    const std::string host =
        "http://" + (so.listen.find(':') != std::string::npos ? "[" + so.listen + "]" : so.listen);
    // Routes are all added before the server starts. With --port 0 the address is known only
    // after: then invitations carry no link of the guest's own unless --public-url says where.
    if (base_url.empty() && so.port != 0) base_url = host + ":" + std::to_string(so.port);
    web::ConsoleOptions co;
    co.auth.secure_cookies = so.secure_cookies;
    co.booking_link_key = link_key;
    co.booking_base_url = base_url;
    co.text_model = &s.engine->text_model();
    if (so.backup) {
      co.backup_status = [&so, &nightly]() {
        web::BackupStatus b;
        b.dir = so.backup->dir;
        const auto taken = scheduled_backups(b.dir);
        if (!taken.empty()) {
          b.last = std::filesystem::path(taken.front()).filename().string();
          if (auto m = backup_manifest(taken.front())) b.last_at = m->created_at;
        }
        std::lock_guard lock(nightly.mutex);
        b.failure = nightly.failure;
        return b;
      };
    }
    std::string path = s.home.database();
    console = std::make_unique<web::Console>([path] { return store::open_database(path); },
                                             ctx.clock, s.engine->model(), co);
    web::ServerOptions wo;
    wo.address = so.listen;
    wo.port = static_cast<std::uint16_t>(so.port);
    web::add_booking_page(*console, {link_key, base_url});
    web::add_phone_hooks(*console, {key, so.public_url});
    auto* c = console.get();
    SK_ASSIGN(server, web::Server::start(wo, [c](const web::Request& r) { return c->handle(r); }));
    console->set_stopping(&server->stopping());
    const std::string here = host + ":" + std::to_string(server->port());
    if (base_url.empty()) base_url = here;
    ctx.out << "console: " << here << "/\n"
            << "booking pages: " << base_url << "/book/CLIENT/TYPE\n"
            << std::flush;
  }
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::vector<std::thread> threads;
  std::mutex out_mutex;
  for (const auto& a : accounts) {
    SK_ASSIGN(auto secret, key.open(a.sealed_secret));
    threads.emplace_back([&, a, secret] {
      auto db = store::open_database(s.home.database());
      if (!db.ok()) return;
      store::DbIds ids(**db);
      engine::Engine engine(**db, ctx.clock, ids, s.engine->model());
      if (!base_url.empty()) engine.set_booking_links({link_key, base_url});
      engine::MailboxWatcher watcher(engine, **db, ctx.clock, a, secret);
      if (once) {
        auto round = watcher.poll_once();
        std::lock_guard lock(out_mutex);
        if (round.ok())
          ctx.out << a.address << ": " << round->taken_in << " new, " << round->decided
                  << " decided, " << round->effects_done << " effects done, "
                  << round->effects_failed << " failed, " << round->sent << " sent, "
                  << round->corrections << " corrections by the client\n";
        else
          ctx.err << "sidekick: " << a.address << ": " << round.error().message << "\n";
        return;
      }
      watcher.run(g_stop, 10);
    });
  }
  // Reminders every round and calendars every calendar_seconds, on a connection of their own.
  threads.emplace_back([&] {
    auto db = store::open_database(s.home.database());
    if (!db.ok()) return;
    store::DbIds ids(**db);
    std::optional<std::chrono::steady_clock::time_point> last_sync, backup_failed;
    do {
      const auto now = std::chrono::steady_clock::now();
      const bool calendars =
          !last_sync || now - *last_sync >= std::chrono::seconds(so.calendar_seconds);
      if (calendars) last_sync = now;
      scheduling_round(ctx, **db, ids, key, calendars, base_url, out_mutex);
      if (so.backup && (!backup_failed || now - *backup_failed >= std::chrono::minutes(15))) {
        auto taken = backup_if_due(s.home, **db, *so.backup, ctx.clock);
        {
          std::lock_guard lock(nightly.mutex);
          if (!taken) nightly.failure = taken.error().message;
          if (taken && *taken) nightly.failure.clear();
        }
        std::lock_guard lock(out_mutex);
        if (!taken) {
          // Tried again a quarter of an hour later, not every round: a full disk stays full.
          backup_failed = now;
          ctx.err << "sidekick: the nightly backup failed: " << taken.error().message << "\n";
        } else if (*taken) {
          backup_failed.reset();
          ctx.out << "backed up the home into " << (*taken)->dir << "\n" << std::flush;
        }
      }
      for (int i = 0; i < 20 && !g_stop && !once; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    } while (!once && !g_stop);
  });
  {
    std::lock_guard lock(out_mutex);
    if (!once)
      ctx.out << "watching " << accounts.size() << " mailboxes; Ctrl-C stops\n" << std::flush;
  }
  for (auto& t : threads) t.join();
  if (server) {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server->stop();
  }
  return ok();
}

// The demo's people: a VA assigned to the demo client and the client's own user. Their
// passwords are new on every run and shown only here.
Result<void> demo_users(const Context& ctx, Session& s, const store::ClientRecord& client) {
  struct Who {
    const char* name;
    store::Role role;
  };
  ctx.out << "\nsign in as:\n";
  for (const Who& w : {Who{"demo-va", store::Role::va}, Who{"demo-client", store::Role::client},
                       Who{"demo-admin", store::Role::admin}}) {
    std::string password = random_token().substr(0, 16);
    SK_ASSIGN(auto hash, hash_password(password));
    auto existing = store::find_user(*s.db, w.name);
    std::string id;
    if (existing.ok()) {
      SK_TRY(store::set_password_hash(*s.db, existing->id, hash));
      id = existing->id;
    } else {
      SK_ASSIGN(auto u, store::create_user(*s.db, *s.ids, ctx.clock, w.name, w.role,
                                           w.role == store::Role::client ? client.id : "", hash));
      id = u.id;
    }
    if (w.role == store::Role::va) SK_TRY(store::assign(*s.db, id, client.id));
    ctx.out << "  " << cell(w.name, 12) << " password " << password << "  ("
            << store::to_string(w.role) << ")\n";
  }
  return ok();
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const Clock& clock) {
  CLI::App app{
      "Sidekick: a virtual assistant engine that screens, handles and drafts for busy "
      "clients"};
  app.require_subcommand(1);
  Context ctx{out, err, clock, {}, {}};
  app.add_option("--home", ctx.home_flag,
                 "data folder (default $SIDEKICK_HOME or "
                 "~/.local/share/sidekick)");
  app.add_option("--by", ctx.by, "who is acting, for the audit log (default cli:$USER)");

  std::string client, format = "table", category, disposition, why, relationship, name, email;
  std::vector<std::string> paths, ham, spam;
  std::string item, corpus, shared, texts_file;
  int limit = 50, sample = 300;

  auto* client_cmd = app.add_subcommand("client", "add and list clients");
  client_cmd->require_subcommand(1);
  auto* client_add = client_cmd->add_subcommand("add", "add a client");
  client_add->add_option("slug", client, "short name: a-z, 0-9, - and _")->required();
  client_add->add_option("--name", name, "display name");
  client_add->add_option("--email", email,
                         "the client's own address (mail from its domain is "
                         "team mail)");
  std::string client_zone;
  client_add->add_option("--zone", client_zone,
                         "the client's time zone, e.g. America/Toronto (default UTC): rules' "
                         "hours are read in it");
  auto* client_list = client_cmd->add_subcommand("list", "list clients");
  auto* client_set = client_cmd->add_subcommand("set", "change how much the assistant does alone");
  std::vector<std::string> delegations;
  int auto_reply_hours = -1;
  std::string screener;
  client_set->add_option("slug", client, "the client")->required();
  client_set->add_option("--delegation", delegations,
                         "CATEGORY=LEVEL, e.g. support=auto (auto, draft, notify, silent)");
  client_set->add_option("--auto-reply-hours", auto_reply_hours,
                         "one automatic reply per sender per this many hours (0: no limit)");
  client_set->add_option("--screener", screener, "on: first-time senders wait; off: they do not");
  client_set->add_option("--zone", client_zone, "the client's time zone, e.g. Europe/London");
  std::string digest_at;
  client_set->add_option("--digest-at", digest_at,
                         "mail the client their digest daily at HH:MM on their clock; off: never");

  auto* outgoing_cmd = app.add_subcommand("outgoing", "mail written on the client's behalf");
  outgoing_cmd->require_subcommand(1);
  auto* outgoing_list = outgoing_cmd->add_subcommand("list", "drafts, queued and sent mail");
  outgoing_list->add_option("--client", client, "client")->required();
  std::string outgoing_id, body_file;
  auto* outgoing_approve = outgoing_cmd->add_subcommand("approve", "approve a draft: it is sent");
  outgoing_approve->add_option("--client", client, "client")->required();
  outgoing_approve->add_option("id", outgoing_id, "the draft (out_N)")->required();
  outgoing_approve->add_option("--body-file", body_file, "send this text instead ('-': stdin)");
  auto* outgoing_discard = outgoing_cmd->add_subcommand("discard", "throw a draft away");
  outgoing_discard->add_option("--client", client, "client")->required();
  outgoing_discard->add_option("id", outgoing_id, "the draft (out_N)")->required();
  outgoing_discard->add_option("--why", why, "reason, for the audit log");

  auto* import_cmd = app.add_subcommand("import", "import mail (mbox, Maildir, folders of .eml)");
  import_cmd->add_option("--client", client, "client")->required();
  import_cmd->add_option("paths", paths, "files or folders")->required();

  auto* triage_cmd = app.add_subcommand("triage", "decide everything not yet decided");
  triage_cmd->add_option("--client", client, "client")->required();

  auto* decisions_cmd = app.add_subcommand("decisions", "one row per decided item");
  decisions_cmd->add_option("--client", client, "client")->required();
  decisions_cmd->add_option("--format", format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  auto* explain_cmd = app.add_subcommand("explain", "why an item was decided as it was");
  explain_cmd->add_option("item", item, "item id")->required();
  explain_cmd->add_option("--client", client, "client (found from the item if omitted)");

  auto* teach_cmd = app.add_subcommand("teach", "correct a decision; the next one learns from it");
  teach_cmd->add_option("item", item, "item id")->required();
  teach_cmd->add_option("--category", category, "the right category")->required();
  teach_cmd->add_option("--disposition", disposition, "where it should go (default: from policy)");
  teach_cmd->add_option("--why", why, "reason, for the audit log");
  teach_cmd->add_option("--client", client, "client (found from the item if omitted)");

  auto* party_cmd = app.add_subcommand("party", "contacts and relationships");
  party_cmd->require_subcommand(1);
  auto* party_set = party_cmd->add_subcommand("set", "set a sender's relationship");
  party_set->add_option("--client", client, "client")->required();
  party_set->add_option("address", email, "address or phone number")->required();
  party_set
      ->add_option("--relationship", relationship,
                   "vip, family, team, customer, vendor, unknown, blocked, protected-from")
      ->required();
  party_set->add_option("--name", name, "display name");
  auto* party_list = party_cmd->add_subcommand("list", "parties with a relationship");
  party_list->add_option("--client", client, "client")->required();

  auto* phone_cmd = app.add_subcommand("phone", "the client's phone lines (texts and calls)");
  phone_cmd->require_subcommand(1);
  store::PhoneLine line;
  std::string token_file, token_env;
  auto* phone_add = phone_cmd->add_subcommand(
      "add", "add or change a line: texts and calls to it are screened like mail");
  phone_add->add_option("--client", client, "client")->required();
  phone_add->add_option("number", line.number, "the number people call and text")->required();
  phone_add->add_option("--forward-to", line.forward_to,
                        "the client's own phone, rung for calls they take (default: none, every "
                        "call goes to voicemail)");
  phone_add->add_option("--region", line.region,
                        "ISO country numbers without +CC are dialled from (default US)");
  phone_add->add_option("--greeting", line.greeting, "what callers hear before a voicemail");
  phone_add->add_option("--token-file", token_file,
                        "file holding the provider account's auth token (signs its webhooks)");
  phone_add->add_option("--token-env", token_env, "environment variable holding it");
  auto* phone_list = phone_cmd->add_subcommand("list", "the client's lines");
  phone_list->add_option("--client", client, "client")->required();
  auto* phone_remove = phone_cmd->add_subcommand("remove", "stop answering a line");
  phone_remove->add_option("--client", client, "client")->required();
  phone_remove->add_option("number", line.number, "the line's number")->required();

  auto* task_cmd = app.add_subcommand("task", "what a VA has to do for a client");
  task_cmd->require_subcommand(1);
  engine::TaskRequest task;
  std::string task_id;
  bool task_done_too = false;
  auto* task_add = task_cmd->add_subcommand("add", "add a task");
  task_add->add_option("--client", client, "client")->required();
  task_add->add_option("title", task.title, "what is to be done")->required();
  task_add->add_option("--due", task.due,
                       "YYYY-MM-DD or \"YYYY-MM-DD HH:MM\" on the client's clock");
  task_add->add_option("--item", task.item, "the item it comes from");
  task_add->add_option("--notes", task.notes, "more about it");
  auto* task_list = task_cmd->add_subcommand("list", "open tasks, soonest first");
  task_list->add_option("--client", client, "client")->required();
  task_list->add_flag("--done", task_done_too, "the ones done instead");
  auto* task_finish = task_cmd->add_subcommand("done", "mark a task done");
  task_finish->add_option("--client", client, "client")->required();
  task_finish->add_option("id", task_id, "the task (tsk_N)")->required();

  auto* search_cmd =
      app.add_subcommand("search", "find mail by sender, subject or words (every word must match)");
  search_cmd->add_option("--client", client, "client")->required();
  search_cmd->add_option("words", paths, "words")->required();
  search_cmd->add_option("--limit", limit, "at most this many, newest first (default 50)");

  auto* screened_cmd =
      app.add_subcommand("screened", "first-time senders the screener holds, judged in bulk");
  screened_cmd->require_subcommand(1);
  auto* screened_list = screened_cmd->add_subcommand(
      "list", "one line per sender: waiting messages, the latest subject");
  screened_list->add_option("--client", client, "client")->required();
  screened_list->add_option("--format", format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  auto* screened_let_in = screened_cmd->add_subcommand(
      "let-in", "let senders in: they reach the client from now on, with what they sent");
  auto* screened_keep_out = screened_cmd->add_subcommand(
      "keep-out", "keep senders out: blocked from now on; what they sent stays screened");
  for (auto* judge : {screened_let_in, screened_keep_out}) {
    judge->add_option("--client", client, "client")->required();
    judge->add_option("senders", paths, "addresses, or domains for everyone there")->required();
    judge->add_option("--why", why, "reason, for the audit log");
  }

  auto* rules_cmd = app.add_subcommand("rules", "the client's ordered rules");
  rules_cmd->require_subcommand(1);
  auto* rules_import = rules_cmd->add_subcommand("import", "replace the rules from a TOML file");
  rules_import->add_option("--client", client, "client")->required();
  std::string rules_file;
  rules_import->add_option("file", rules_file, "rules.toml")->required();
  auto* rules_list = rules_cmd->add_subcommand("list", "show the rules in order");
  rules_list->add_option("--client", client, "client")->required();

  auto* audit_cmd = app.add_subcommand("audit", "what was done on the client's behalf, and why");
  audit_cmd->add_option("--client", client, "client")->required();
  audit_cmd->add_option("--limit", limit, "newest N entries");

  auto* evidence_cmd = app.add_subcommand("evidence", "the protected-from evidence log");
  evidence_cmd->require_subcommand(1);
  auto* evidence_verify = evidence_cmd->add_subcommand("verify", "check the hash chain");
  evidence_verify->add_option("--client", client, "client")->required();
  auto* evidence_list = evidence_cmd->add_subcommand("list", "list the entries");
  evidence_list->add_option("--client", client, "client")->required();

  auto* model_cmd = app.add_subcommand("model", "the default spam model");
  model_cmd->require_subcommand(1);
  auto* model_train = model_cmd->add_subcommand("train", "train from labelled mail");
  model_train->add_option("--ham", ham, "ham files or folders");
  model_train->add_option("--spam", spam, "spam files or folders");
  model_train->add_option("--corpus", corpus,
                          "the SpamAssassin corpus folder: train on its standard split");
  model_train->add_option("--texts", texts_file,
                          "the SMS Spam Collection (ham|spam TAB text): train the classifier "
                          "for text messages on its training split");
  auto* model_info = model_cmd->add_subcommand("info", "show the installed model");

  auto* backup_cmd = app.add_subcommand(
      "backup", "a copy of the home (database, key, models) taken while serve runs; restore it");
  backup_cmd->require_subcommand(1);
  std::string backup_dir;
  auto* backup_create = backup_cmd->add_subcommand("create", "back up the home into a new folder");
  backup_create->add_option("dir", backup_dir, "a folder that does not exist or is empty")
      ->required();
  auto* backup_verify =
      backup_cmd->add_subcommand("verify", "check a backup: every file's hash, the database");
  backup_verify->add_option("dir", backup_dir, "the backup")->required();
  auto* backup_restore =
      backup_cmd->add_subcommand("restore", "put a backup into a home that has no database yet");
  backup_restore->add_option("dir", backup_dir, "the backup")->required();

  auto* account_cmd = app.add_subcommand("account", "the client's mail accounts (IMAP + SMTP)");
  account_cmd->require_subcommand(1);
  auto* account_add = account_cmd->add_subcommand("add", "add a mail account");
  store::AccountRecord acct;
  std::string secret_file, secret_env;
  bool no_verify = false, xoauth2 = false;
  account_add->add_option("--client", client, "client")->required();
  account_add->add_option("address", acct.address, "the mailbox's address")->required();
  account_add->add_option("--imap-host", acct.imap_host, "IMAP server")->required();
  account_add->add_option("--imap-port", acct.imap_port, "default 993");
  account_add->add_option("--imap-security", acct.imap_security, "tls (default), starttls, none");
  account_add->add_option("--smtp-host", acct.smtp_host, "SMTP submission server");
  account_add->add_option("--smtp-port", acct.smtp_port, "default 587");
  account_add->add_option("--smtp-security", acct.smtp_security, "starttls (default), tls, none");
  account_add->add_option("--username", acct.username, "login (default: the address)");
  account_add->add_option("--password-file", secret_file,
                          "file holding the password (or token); '-' reads standard input");
  account_add->add_option("--password-env", secret_env, "environment variable holding it");
  account_add->add_flag("--xoauth2", xoauth2, "the secret is an OAuth2 access token (XOAUTH2)");
  account_add->add_flag("--no-verify", no_verify, "accept any TLS certificate (test servers)");
  account_add->add_option("--first-pass-days", acct.first_pass_days,
                          "how far back the first pass over INBOX looks (default 14)");
  auto* account_list = account_cmd->add_subcommand("list", "list the client's accounts");
  account_list->add_option("--client", client, "client")->required();

  std::string account_name;
  auto* account_test = account_cmd->add_subcommand("test", "log in and look at INBOX");
  account_test->add_option("--client", client, "client")->required();
  account_test->add_option("account", account_name, "account id or address")->required();

  auto* serve_cmd = app.add_subcommand(
      "serve", "the web console, and a watcher on every account's mailbox, until stopped");
  ServeOptions serve_opts;
  bool serve_demo = false, no_console = false;
  serve_cmd->add_flag("--once", serve_opts.once,
                      "one round over every account, then exit (no console)");
  serve_cmd->add_option("--listen", serve_opts.listen, "address to listen on (default 127.0.0.1)");
  serve_cmd->add_option("--port", serve_opts.port, "port (default 8080; 0 picks a free one)");
  serve_cmd->add_flag("--secure-cookies", serve_opts.secure_cookies,
                      "mark cookies Secure (the console is reached over TLS, e.g. via a proxy)");
  serve_cmd->add_flag("--no-console", no_console, "only watch mailboxes");
  serve_cmd->add_option("--public-url", serve_opts.public_url,
                        "where guests reach the booking page (default: the listen address)");
  serve_cmd->add_option("--calendar-seconds", serve_opts.calendar_seconds,
                        "how often connected calendars are synced (default 60)");
  std::string nightly_dir, nightly_at = "03:00";
  int nightly_keep = 7;
  serve_cmd->add_option("--backup-dir", nightly_dir,
                        "back the home up into this folder every night (see `backup`)");
  serve_cmd->add_option("--backup-at", nightly_at, "with --backup-dir: when, HH:MM UTC (03:00)");
  serve_cmd->add_option("--backup-keep", nightly_keep,
                        "with --backup-dir: how many nightly backups to keep (7)");
  serve_cmd->add_flag("--demo", serve_demo,
                      "first set up the demo client (sample mail, triaged) and demo users");
  serve_cmd->add_option("--corpus", corpus, "with --demo: the SpamAssassin corpus folder");
  serve_cmd->add_option("--shared-data", shared, "with --demo: ../shared/data");
  serve_cmd->add_option("--sample", sample, "with --demo: messages to import");

  auto* user_cmd = app.add_subcommand("user", "console users: admins, VAs, client users");
  user_cmd->require_subcommand(1);
  auto* user_add = user_cmd->add_subcommand("add", "add a user; prints a new password once");
  std::string user_name, role_name, password_file;
  user_add->add_option("name", user_name, "sign-in name")->required();
  user_add->add_option("--role", role_name, "admin, va or client")
      ->required()
      ->check(CLI::IsMember({"admin", "va", "client"}));
  user_add->add_option("--client", client, "the client a client user belongs to");
  user_add->add_option("--password-file", password_file,
                       "file holding the password ('-': standard input); default: a new one");
  auto* user_assign = user_cmd->add_subcommand("assign", "let a VA work for a client");
  bool unassign = false;
  user_assign->add_option("name", user_name, "the VA")->required();
  user_assign->add_option("--client", client, "client")->required();
  user_assign->add_flag("--remove", unassign, "take the client away instead");
  auto* user_list = user_cmd->add_subcommand("list", "list users and their clients");
  auto* user_password = user_cmd->add_subcommand(
      "password", "a new password, printed once; the user is signed out everywhere");
  user_password->add_option("name", user_name, "the user")->required();
  auto* token_cmd = app.add_subcommand("token", "API tokens for integrations");
  token_cmd->require_subcommand(1);
  auto* token_create = token_cmd->add_subcommand("create", "a new bearer token, printed once");
  std::string token_label;
  token_create->add_option("--user", user_name, "whose rights the token has")->required();
  token_create->add_option("--name", token_label, "what it is for");
  auto* token_list = token_cmd->add_subcommand("list", "every token: id, user, name, created");
  std::string token_id;
  auto* token_revoke = token_cmd->add_subcommand("revoke", "stop a token working, at once");
  token_revoke->add_option("id", token_id, "the token's id (tok_N, from `token list`)")->required();

  // Scheduling.
  std::string cal_file, booking_type, zone_name, booking_id, start_text, guest_email, guest_name,
      guest_zone;
  int days = 7;
  auto* routine_cmd =
      app.add_subcommand("routine", "mail written on a schedule (a daily team check-in)");
  routine_cmd->require_subcommand(1);
  store::Routine routine;
  std::string routine_at, routine_from, routine_body_file;
  bool routine_draft = false;
  auto* routine_add = routine_cmd->add_subcommand(
      "add", "add or replace a routine: each occurrence of the rule becomes one message");
  routine_add->add_option("--client", client, "client")->required();
  routine_add->add_option("name", routine.name, "its name, e.g. check-in")->required();
  routine_add
      ->add_option("--rrule", routine.rrule, "RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
      ->required();
  routine_add->add_option("--at", routine_at, "HH:MM on the client's clock")->required();
  routine_add->add_option("--from", routine_from, "YYYY-MM-DD of the first one (default today)");
  routine_add->add_option("--to", routine.to, "recipients")->required();
  routine_add->add_option("--subject", routine.subject, "{{date}}, {{client_name}} are filled in")
      ->required();
  routine_add->add_option("--body-file", routine_body_file, "the text ('-': stdin)")->required();
  routine_add->add_flag("--draft", routine_draft, "draft each one for a VA instead of sending it");
  auto* routine_list = routine_cmd->add_subcommand("list", "the client's routines, next times");
  routine_list->add_option("--client", client, "client")->required();
  auto* routine_remove = routine_cmd->add_subcommand("remove", "stop a routine");
  routine_remove->add_option("--client", client, "client")->required();
  routine_remove->add_option("name", routine.name, "its name")->required();

  auto* calendar_cmd = app.add_subcommand("calendar", "the client's availability and busy time");
  calendar_cmd->require_subcommand(1);
  auto* cal_avail = calendar_cmd->add_subcommand(
      "availability", "set availability from a JSON file (without FILE: show it)");
  cal_avail->add_option("--client", client, "client")->required();
  cal_avail->add_option("file", cal_file, "availability JSON");
  auto* cal_type = calendar_cmd->add_subcommand("type", "add or replace a booking type (JSON)");
  cal_type->add_option("--client", client, "client")->required();
  cal_type->add_option("file", cal_file, "booking type JSON")->required();
  auto* cal_import = calendar_cmd->add_subcommand("import", "import an .ics file as busy time");
  cal_import->add_option("--client", client, "client")->required();
  cal_import->add_option("file", cal_file, "iCalendar file")->required();
  std::string cal_url, cal_user;
  auto* cal_connect = calendar_cmd->add_subcommand(
      "connect", "connect the client's CalDAV calendar (busy time read, bookings written)");
  cal_connect->add_option("--client", client, "client")->required();
  cal_connect->add_option("url", cal_url, "the calendar collection's URL")->required();
  cal_connect->add_option("--user", cal_user, "login")->required();
  cal_connect->add_option("--password-file", secret_file,
                          "file holding the password; '-' reads standard input");
  cal_connect->add_option("--password-env", secret_env, "environment variable holding it");
  auto* cal_sync = calendar_cmd->add_subcommand(
      "sync", "one round with the client's CalDAV calendar (as `serve` does periodically)");
  cal_sync->add_option("--client", client, "client")->required();
  auto* slots_cmd = app.add_subcommand("slots", "free times for a booking type");
  slots_cmd->add_option("--client", client, "client")->required();
  slots_cmd->add_option("--type", booking_type, "booking type")->required();
  slots_cmd->add_option("--zone", zone_name, "show times in this zone (default: the client's)");
  slots_cmd->add_option("--days", days, "how many days ahead (default 7)");
  auto* booking_cmd = app.add_subcommand("booking", "book, move, cancel, confirm, list");
  booking_cmd->require_subcommand(1);
  auto* booking_create = booking_cmd->add_subcommand("create", "book a free time");
  booking_create->add_option("--client", client, "client")->required();
  booking_create->add_option("--type", booking_type, "booking type")->required();
  booking_create
      ->add_option("--start", start_text,
                   "YYYY-MM-DDTHH:MM (in --zone, default the client's) or ...Z")
      ->required();
  booking_create->add_option("--zone", zone_name, "zone of --start");
  booking_create->add_option("--guest-email", guest_email, "the guest's address")->required();
  booking_create->add_option("--guest-name", guest_name, "the guest's name");
  booking_create->add_option("--guest-zone", guest_zone, "where the guest reads times");
  auto* booking_move = booking_cmd->add_subcommand("reschedule", "move a booking");
  booking_move->add_option("--client", client, "client")->required();
  booking_move->add_option("id", booking_id, "booking (bkg_N)")->required();
  booking_move->add_option("--start", start_text, "the new start")->required();
  booking_move->add_option("--zone", zone_name, "zone of --start");
  auto* booking_cancel = booking_cmd->add_subcommand("cancel", "cancel a booking");
  booking_cancel->add_option("--client", client, "client")->required();
  booking_cancel->add_option("id", booking_id, "booking (bkg_N)")->required();
  booking_cancel->add_option("--why", why, "reason, for the audit log and the guest");
  auto* booking_confirm = booking_cmd->add_subcommand("confirm", "confirm a pending booking");
  booking_confirm->add_option("--client", client, "client")->required();
  booking_confirm->add_option("id", booking_id, "booking (bkg_N)")->required();
  auto* booking_list = booking_cmd->add_subcommand("list", "the client's bookings");
  booking_list->add_option("--client", client, "client")->required();

  auto* demo_cmd = app.add_subcommand("demo", "a demo client with a corpus sample, triaged");
  demo_cmd->add_option("--corpus", corpus, "the SpamAssassin corpus folder")->required();
  demo_cmd->add_option("--shared-data", shared, "../shared/data, for malformed samples");
  demo_cmd->add_option("--sample", sample, "messages to import from the test split");

  auto support_cmds = add_support_commands(app);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "sidekick: " << e.what() << "\n";
    if (!app.get_subcommands().empty())
      err << "run `sidekick " << app.get_subcommands().front()->get_name()
          << " --help` for usage\n";
    else
      err << "run `sidekick --help` for the commands\n";
    return 2;
  }
  ctx.by = actor_name(ctx.by);

  auto run = [&]() -> Result<void> {
    if (backup_cmd->parsed()) {
      SK_ASSIGN(auto home, open_home(ctx.home_flag));
      BackupReport r;
      if (backup_create->parsed()) {
        if (!home.database_url.empty())
          return make_error(Errc::invalid_input,
                            "the store is the PostgreSQL database SIDEKICK_DATABASE names: back "
                            "it up with pg_dump (sidekick backup copies an SQLite home)");
        if (!std::filesystem::exists(home.database()))
          return make_error(Errc::not_found,
                            "no database at " + home.database() + ": nothing to back up");
        SK_ASSIGN(auto db, store::open_sqlite(home.database()));
        SK_ASSIGN(r, create_backup(home, *db, backup_dir, ctx.clock));
        out << "backed up " << home.dir << " into " << r.dir << "\n";
      } else if (backup_verify->parsed()) {
        SK_ASSIGN(r, verify_backup(backup_dir));
        out << "the backup in " << r.dir << " is whole\n";
      } else {
        SK_ASSIGN(r, restore_backup(backup_dir, home));
        out << "restored " << r.dir << " into " << home.dir << "\n";
      }
      out << "taken " << format_utc(r.created_at) << ", schema " << r.schema
          << "; clients: " << r.clients << ", items: " << r.items << "\n";
      for (const auto& f : r.files) out << "  " << cell(f.path, 22) << f.bytes << " bytes\n";
      if (backup_create->parsed())
        out << "it holds the key that opens the mailboxes' passwords: keep it as safe as the "
               "home\n";
      return ok();
    }
    if (model_info->parsed()) {
      SK_ASSIGN(auto home, open_home(ctx.home_flag));
      SK_ASSIGN(auto model, read_model(home.spam_model()));
      if (!model)
        return make_error(Errc::not_found,
                          "no spam model at " + home.spam_model() + "; run `sidekick model train`");
      out << "spam model " << home.spam_model() << ": trained on " << model->trained_examples()
          << " messages, threshold " << model->threshold() << "\n";
      SK_ASSIGN(auto text_model, read_model(home.text_model()));
      if (text_model) {
        out << "text model " << home.text_model() << ": trained on "
            << text_model->trained_examples() << " texts, threshold " << text_model->threshold()
            << "\n";
      } else {
        out << "no text model: texts are not judged as spam (`sidekick model train --texts "
               "FILE`)\n";
      }
      return ok();
    }
    if (model_train->parsed() && !texts_file.empty()) {
      if (!corpus.empty() || !ham.empty() || !spam.empty())
        return make_error(Errc::invalid_input,
                          "train the text model (--texts) and the mail model apart");
      SK_ASSIGN(auto home, open_home(ctx.home_flag));
      SK_ASSIGN(auto set, engine::sms_collection_split(texts_file, false));
      engine::TrainingReport report;
      SK_ASSIGN(auto model, engine::train_text_model(set, &report));
      SK_TRY(write_file_atomically(home.text_model(), model.serialize()));
      out << "trained on " << report.ham << " ham and " << report.spam
          << " spam texts; spam threshold " << model.threshold() << "; saved to "
          << home.text_model() << "\n";
      return ok();
    }
    if (model_train->parsed()) {
      SK_ASSIGN(auto home, open_home(ctx.home_flag));
      engine::TrainingSet set{ham, spam};
      if (!corpus.empty()) {
        SK_ASSIGN(auto split, engine::spamassassin_training_split(corpus));
        set.ham.insert(set.ham.end(), split.ham.begin(), split.ham.end());
        set.spam.insert(set.spam.end(), split.spam.begin(), split.spam.end());
      }
      if (set.ham.empty() || set.spam.empty())
        return make_error(Errc::invalid_input, "give --corpus DIR, or both --ham and --spam");
      engine::TrainingReport report;
      SK_ASSIGN(auto model, engine::train_spam_model(set, &report));
      SK_TRY(write_file_atomically(home.spam_model(), model.serialize()));
      out << "trained on " << report.ham << " ham and " << report.spam << " spam; spam threshold "
          << model.threshold() << "; saved to " << home.spam_model() << "\n";
      return ok();
    }

    // The demo trains what it needs, so a model an earlier version trained is no obstacle.
    SK_ASSIGN(auto s, open_session(ctx, serve_demo && serve_cmd->parsed()));
    store::Db& db = *s.db;
    auto resolve_client = [&]() -> Result<store::ClientRecord> {
      if (client.empty() && !item.empty()) {
        SK_ASSIGN(auto id, store::client_of_item(db, item));
        return store::find_client(db, id);
      }
      return store::find_client(db, client);
    };
    auto warn_no_model = [&] {
      if (!s.model_loaded)
        err << "sidekick: no spam model yet, so nothing is called spam; run `sidekick model "
               "train --corpus DIR`\n";
    };

    if (client_add->parsed()) {
      if (!client_zone.empty()) SK_TRY(calendar::Zone::find(client_zone));
      store::ClientRecord c;
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_ASSIGN(c, store::create_client(db, *s.ids, clock, client, name, email));
        if (!client_zone.empty()) {
          SK_TRY(store::set_client_zone(db, c.id, client_zone));
          c.timezone = client_zone;
        }
        return store::append_audit(db, c.id, clock.now(), ctx.by, "client added", c.slug,
                                   "zone " + c.timezone);
      }));
      out << "added client " << c.slug << " (" << c.id << ")\n";
      return ok();
    }
    if (client_list->parsed()) {
      SK_ASSIGN(auto clients, store::list_clients(db));
      for (const auto& c : clients) {
        SK_ASSIGN(auto n, store::count_items(db, c.id));
        out << cell(c.slug, 20) << cell(c.name, 30) << cell(c.email, 30) << cell(c.timezone, 20)
            << n << " items" << (c.digest_at.empty() ? "" : ", digest mailed at " + c.digest_at)
            << "\n";
      }
      if (clients.empty()) out << "no clients yet: `sidekick client add NAME`\n";
      return ok();
    }
    if (serve_cmd->parsed()) {
      serve_opts.console = !no_console;
      if (!nightly_dir.empty()) {
        auto at = calendar::minutes_of_day(nightly_at);
        if (!at)
          return make_error(Errc::invalid_input,
                            "--backup-at is HH:MM on a 24-hour clock, UTC (03:00, 23:30)");
        if (nightly_keep < 1) return make_error(Errc::invalid_input, "--backup-keep is at least 1");
        serve_opts.backup = BackupSchedule{nightly_dir, *at, nightly_keep};
      }
      if (serve_demo) {
        if (corpus.empty())
          return make_error(Errc::invalid_input,
                            "--demo needs --corpus DIR (the SpamAssassin corpus)");
        if (!s.model_loaded) {
          out << "no spam model yet: training one on the corpus's standard split\n" << std::flush;
          SK_ASSIGN(auto split, engine::spamassassin_training_split(corpus));
          SK_ASSIGN(auto model, engine::train_spam_model({split.ham, split.spam}, nullptr));
          SK_TRY(write_file_atomically(s.home.spam_model(), model.serialize()));
          triage::SpamModel text_model = s.engine->text_model();
          s.engine = std::make_unique<engine::Engine>(db, clock, *s.ids, std::move(model));
          s.engine->set_text_model(std::move(text_model));
          s.model_loaded = true;
        }
        SK_TRY(
            run_demo(*s.engine, db, *s.ids, clock, s.home, {corpus, shared, sample, ctx.by}, out));
        SK_ASSIGN(auto demo, store::find_client(db, "demo"));
        SK_TRY(demo_users(ctx, s, demo));
      }
      warn_no_model();
      return serve(ctx, s, serve_opts);
    }
    if (user_add->parsed()) {
      auto role = store::role_from(role_name);
      std::string client_id;
      if (!client.empty()) {
        SK_ASSIGN(auto c, store::find_client(db, client));
        client_id = c.id;
      }
      std::string password;
      bool generated = false;
      if (password_file == "-") {
        std::getline(std::cin, password);
      } else if (!password_file.empty()) {
        SK_ASSIGN(password, read_file(password_file));
      } else {
        password = random_token().substr(0, 16);
        generated = true;
      }
      while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
        password.pop_back();
      if (password.size() < 8)
        return make_error(Errc::invalid_input, "the password needs at least 8 characters");
      SK_ASSIGN(auto hash, hash_password(password));
      SK_ASSIGN(auto u, store::create_user(db, *s.ids, clock, user_name, *role, client_id, hash));
      if (!client_id.empty())
        SK_TRY(store::append_audit(db, client_id, clock.now(), ctx.by, "user added", u.name,
                                   "role " + role_name));
      out << "added " << role_name << " " << u.name << " (" << u.id << ")";
      if (generated) out << "; password: " << password << " (shown once)";
      out << "\n";
      return ok();
    }
    if (user_assign->parsed()) {
      SK_ASSIGN(auto u, store::find_user(db, user_name));
      if (u.role != store::Role::va)
        return make_error(Errc::invalid_input,
                          u.name + " is " + std::string(store::to_string(u.role)) +
                              ": only VAs are assigned (admins see every client; a client user "
                              "belongs to one)");
      SK_ASSIGN(auto c, store::find_client(db, client));
      if (unassign) {
        SK_TRY(store::unassign(db, u.id, c.id));
      } else {
        SK_TRY(store::assign(db, u.id, c.id));
      }
      SK_TRY(store::append_audit(db, c.id, clock.now(), ctx.by,
                                 unassign ? "unassigned" : "assigned", u.name, ""));
      out << u.name << (unassign ? " no longer works for " : " now works for ") << c.slug << "\n";
      return ok();
    }
    if (user_list->parsed()) {
      SK_ASSIGN(auto users, store::list_users(db));
      for (const auto& u : users) {
        SK_ASSIGN(auto clients, store::clients_of_user(db, u));
        std::string names;
        for (const auto& id : clients) {
          SK_ASSIGN(auto c, store::find_client(db, id));
          names += (names.empty() ? "" : ", ") + c.slug;
        }
        out << cell(u.name, 20) << cell(std::string(store::to_string(u.role)), 8)
            << (u.role == store::Role::admin ? "all clients" : names) << "\n";
      }
      if (users.empty()) out << "no users yet: `sidekick user add NAME --role va`\n";
      return ok();
    }
    if (token_create->parsed()) {
      SK_ASSIGN(auto u, store::find_user(db, user_name));
      SK_ASSIGN(auto token, web::create_api_token(db, *s.ids, clock, u, token_label));
      out << token << "\n";
      err << "sidekick: a bearer token with " << u.name
          << "'s rights; it is shown only now (only its hash is kept)\n";
      return ok();
    }
    if (user_password->parsed()) {
      SK_ASSIGN(auto u, store::find_user(db, user_name));
      SK_ASSIGN(auto password, web::reset_password(db, u));
      SK_TRY(
          web::audit_user_change(db, clock, ctx.by, u, "password reset", "signed out everywhere"));
      out << "new password for " << u.name << ": " << password << " (shown once)\n";
      return ok();
    }
    if (token_list->parsed()) {
      SK_ASSIGN(auto tokens, store::list_api_tokens(db));
      SK_ASSIGN(auto users, store::list_users(db));
      for (const auto& t : tokens) {
        std::string owner = t.user_id;
        for (const auto& u : users)
          if (u.id == t.user_id) owner = u.name;
        out << cell(t.id, 10) << cell(owner, 20) << cell(t.name, 24) << format_utc(t.created_at)
            << "\n";
      }
      if (tokens.empty()) out << "no tokens: `sidekick token create --user NAME`\n";
      return ok();
    }
    if (token_revoke->parsed()) {
      SK_ASSIGN(auto tokens, store::list_api_tokens(db));
      auto t = std::find_if(tokens.begin(), tokens.end(),
                            [&](const auto& t) { return t.id == token_id; });
      if (t == tokens.end()) return make_error(Errc::not_found, "no token '" + token_id + "'");
      SK_ASSIGN(bool revoked, store::revoke_api_token(db, t->id));
      (void)revoked;  // it was listed a moment ago
      if (auto u = store::find_user(db, t->user_id); u.ok())
        SK_TRY(web::audit_user_change(db, clock, ctx.by, *u, "token revoked", t->name));
      out << "revoked " << token_id << "\n";
      return ok();
    }
    if (demo_cmd->parsed()) {
      warn_no_model();
      return run_demo(*s.engine, db, *s.ids, clock, s.home, {corpus, shared, sample, ctx.by}, out);
    }

    SK_ASSIGN(bool support_done, run_support_commands(*support_cmds, {db, clock, out, ctx.by}));
    if (support_done) return ok();

    SK_ASSIGN(auto c, resolve_client());
    if (import_cmd->parsed()) {
      SK_ASSIGN(auto report, s.engine->import_paths(c.id, paths));
      SK_TRY(store::append_audit(db, c.id, clock.now(), ctx.by, "imported",
                                 std::to_string(report.added) + " new items", ""));
      return print_import(ctx, report);
    }
    if (triage_cmd->parsed()) {
      warn_no_model();
      SK_ASSIGN(auto report, s.engine->triage_pending(c.id));
      print_triage(ctx, report);
      return ok();
    }
    if (decisions_cmd->parsed()) return print_decisions(ctx, db, c.id, format);
    if (explain_cmd->parsed()) {
      SK_ASSIGN(auto text, s.engine->explain(c.id, item));
      out << text;
      return ok();
    }
    if (teach_cmd->parsed()) {
      auto cat = category_from(category);
      if (!cat)
        return make_error(Errc::invalid_input,
                          "unknown category '" + category +
                              "' (spam, cold-outreach, newsletter, support, scheduling, billing, "
                              "team, personal, other)");
      std::optional<Disposition> disp;
      if (!disposition.empty()) {
        disp = disposition_from(disposition);
        if (!disp)
          return make_error(Errc::invalid_input, "unknown disposition '" + disposition +
                                                     "' (to-client, handled, awaiting-va, "
                                                     "screened, blocked, protected)");
      }
      SK_ASSIGN(auto d, s.engine->teach(c.id, item, *cat, disp, ctx.by, why));
      out << item << " is now " << label(d.category) << ", " << label(d.disposition)
          << "; the next message like it will be decided the same way\n";
      return ok();
    }
    if (screened_let_in->parsed() || screened_keep_out->parsed()) {
      const bool let_in = screened_let_in->parsed();
      SK_ASSIGN(auto r, s.engine->judge_screened(c.id, paths,
                                                 let_in ? engine::ScreenerVerdict::let_in
                                                        : engine::ScreenerVerdict::keep_out,
                                                 ctx.by, why));
      for (const auto& n : r.not_waiting) ctx.err << "nothing waits from " << n << "\n";
      if (r.senders == 0)
        return make_error(Errc::not_found, "nobody named waits in the screener for " + c.slug);
      out << (let_in ? "let in " : "kept out ") << r.senders << " sender"
          << (r.senders == 1 ? "" : "s") << " (" << r.items << " message"
          << (r.items == 1 ? "" : "s") << ") for " << c.slug << "\n";
      return ok();
    }
    if (party_set->parsed()) {
      auto rel = relationship_from(relationship);
      if (!rel)
        return make_error(Errc::invalid_input,
                          "unknown relationship '" + relationship +
                              "' (vip, family, team, customer, vendor, unknown, blocked, "
                              "protected-from)");
      SK_ASSIGN(email, engine::identity_of(db, c.id, email));
      SK_ASSIGN(auto p, store::set_relationship(db, *s.ids, clock, c.id, email, *rel, name));
      SK_TRY(store::append_audit(db, c.id, clock.now(), ctx.by, "relationship set",
                                 email + " is " + std::string(to_string(*rel)), why));
      out << email << " is now " << to_string(p.relationship) << " for " << c.slug << "\n";
      return ok();
    }
    if (account_add->parsed()) {
      SK_ASSIGN(auto secret, read_secret(secret_file, secret_env));
      SK_ASSIGN(auto key, open_secret_key(s.home));
      acct.client = c.id;
      if (acct.username.empty()) acct.username = acct.address;
      acct.sealed_secret = key.seal(secret);
      acct.secret_kind = xoauth2 ? "xoauth2" : "password";
      acct.verify_certificate = !no_verify;
      SK_ASSIGN(auto added, store::add_account(db, *s.ids, clock, acct));
      SK_TRY(
          store::append_audit(db, c.id, clock.now(), ctx.by, "account added", added.address, ""));
      out << "added account " << added.address << " (" << added.id << ") for " << c.slug << "\n";
      return ok();
    }
    if (account_test->parsed()) {
      SK_ASSIGN(auto a, store::get_account(db, c.id, account_name));
      SK_ASSIGN(auto key, open_secret_key(s.home));
      SK_ASSIGN(auto secret, key.open(a.sealed_secret));
      SK_ASSIGN(auto session, mail::ImapSession::connect(engine::imap_config(a, secret)));
      SK_ASSIGN(auto caps, session->capabilities());
      SK_ASSIGN(auto inbox, session->select("INBOX"));
      std::string idle =
          std::find(caps.begin(), caps.end(), "IDLE") != caps.end() ? "IDLE" : "polling";
      out << a.address << ": logged in to " << a.imap_host << ":" << a.imap_port << "; INBOX has "
          << inbox.exists << " messages (UIDVALIDITY " << inbox.uidvalidity << "); new mail by "
          << idle << "\n";
      if (a.smtp_host.empty()) {
        out << a.address << ": no SMTP server set: Sidekick cannot send from this account\n";
        return ok();
      }
      SK_TRY(mail::smtp_check(engine::smtp_config(a, secret)));
      out << a.address << ": logged in to " << a.smtp_host << ":" << a.smtp_port
          << " for sending\n";
      return ok();
    }
    if (client_set->parsed()) {
      SK_ASSIGN(auto record, store::find_client(db, c.id));
      // load_policy adds the client's own address; the stored policy keeps only what was set.
      SK_ASSIGN(auto stored,
                engine::policy_from_json(record.policy_json.empty() ? std::string("{}")
                                                                    : record.policy_json));
      std::string changes;
      for (const auto& d : delegations) {
        auto eq = d.find('=');
        auto cat = eq == std::string::npos ? std::nullopt : category_from(d.substr(0, eq));
        auto level = eq == std::string::npos ? std::nullopt : delegation_from(d.substr(eq + 1));
        if (!cat || !level)
          return make_error(
              Errc::invalid_input,
              "'" + d + "' is not CATEGORY=LEVEL (levels: auto, draft, notify, silent)");
        stored.delegation[static_cast<int>(*cat)] = *level;
        changes += (changes.empty() ? "" : ", ") + d;
      }
      if (auto_reply_hours >= 0) {
        stored.auto_reply_period_hours = auto_reply_hours;
        changes += (changes.empty() ? "" : ", ") +
                   ("auto-reply period " + std::to_string(auto_reply_hours) + " h");
      }
      if (!screener.empty()) {
        if (screener != "on" && screener != "off")
          return make_error(Errc::invalid_input, "--screener is on or off");
        stored.screener = screener == "on";
        changes += (changes.empty() ? "" : ", ") + ("screener " + screener);
      }
      if (!client_zone.empty()) {
        SK_TRY(calendar::Zone::find(client_zone));
        changes += (changes.empty() ? "" : ", ") + ("zone " + client_zone);
      }
      if (!digest_at.empty()) {
        if (digest_at != "off" && !calendar::minutes_of_day(digest_at))
          return make_error(Errc::invalid_input,
                            "--digest-at is HH:MM on a 24-hour clock (08:00, 17:30) or off");
        if (digest_at != "off" && c.email.empty())
          return make_error(Errc::invalid_input, c.slug + " has no address to mail a digest to");
        changes +=
            (changes.empty() ? "" : ", ") +
            (digest_at == "off" ? std::string("no digest mail") : "digest mailed at " + digest_at);
      }
      if (changes.empty()) return make_error(Errc::invalid_input, "nothing to change");
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::set_client_policy(db, c.id, engine::policy_to_json(stored)));
        if (!client_zone.empty()) SK_TRY(store::set_client_zone(db, c.id, client_zone));
        if (!digest_at.empty())
          SK_TRY(store::set_client_digest_at(db, c.id, digest_at == "off" ? "" : digest_at));
        return store::append_audit(db, c.id, clock.now(), ctx.by, "policy changed", c.slug,
                                   changes);
      }));
      out << c.slug << ": " << changes << "\n";
      return ok();
    }
    if (cal_avail->parsed()) {
      if (cal_file.empty()) {
        SK_ASSIGN(auto a, engine::load_availability(db, c.id));
        out << calendar::to_json(a) << "\n";
        return ok();
      }
      SK_ASSIGN(auto text, read_file(cal_file));
      SK_ASSIGN(auto a, calendar::availability_from_json(text));
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::set_availability(db, c.id, calendar::to_json(a), clock.now()));
        return store::append_audit(db, c.id, clock.now(), ctx.by, "availability set", a.zone,
                                   cal_file);
      }));
      out << "availability set (" << a.zone << ")\n";
      return ok();
    }
    if (cal_type->parsed()) {
      SK_ASSIGN(auto text, read_file(cal_file));
      SK_ASSIGN(auto t, calendar::booking_type_from_json(text));
      if (t.slug.empty()) return make_error(Errc::invalid_input, "the booking type needs a slug");
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::put_booking_type(db, c.id, t.slug, calendar::to_json(t)));
        return store::append_audit(db, c.id, clock.now(), ctx.by, "booking type set", t.slug,
                                   t.name);
      }));
      out << "booking type " << t.slug << " (" << t.duration_min << " min)\n";
      return ok();
    }
    if (cal_connect->parsed()) {
      SK_ASSIGN(auto secret, read_secret(secret_file, secret_env));
      if (!cal_url.ends_with("/")) cal_url += "/";
      // Checked before it is kept: a wrong URL or password is said now, not in serve's log.
      calendar::CaldavClient caldav({cal_url, cal_user, secret});
      SK_TRY(caldav.check());
      SK_ASSIGN(auto key, open_secret_key(s.home));
      store::CalendarAccount ca{c.id, cal_url, cal_user, key.seal(secret), clock.now(), 0, ""};
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::put_calendar_account(db, ca));
        return store::append_audit(db, c.id, clock.now(), ctx.by, "calendar connected", cal_url,
                                   "CalDAV as " + cal_user);
      }));
      out << "calendar connected for " << c.slug << ": " << cal_url << "\n";
      return ok();
    }
    if (cal_sync->parsed()) {
      SK_ASSIGN(auto ca, store::get_calendar_account(db, c.id));
      if (!ca)
        return make_error(Errc::not_found,
                          c.slug + " has no calendar: `sidekick calendar connect`");
      SK_ASSIGN(auto key, open_secret_key(s.home));
      SK_ASSIGN(auto secret, key.open(ca->sealed_secret));
      calendar::CaldavClient caldav({ca->url, ca->username, secret});
      auto r = engine::sync_caldav(db, clock, c.id, caldav, ca->url, ctx.by);
      SK_TRY(store::set_calendar_synced(db, c.id, clock.now(), r ? "" : r.error().message));
      if (!r) return r.error();
      out << r->written << " bookings written, " << r->busy_events << " busy events read\n";
      return ok();
    }
    if (cal_import->parsed()) {
      SK_ASSIGN(auto text, read_file(cal_file));
      const std::string name = std::filesystem::path(cal_file).filename().string();
      SK_ASSIGN(int n, engine::import_calendar(db, clock, c.id, name, text, ctx.by));
      out << "imported " << n << " events from " << name << " as busy time\n";
      return ok();
    }
    auto client_zone = [&]() -> Result<calendar::Zone> {
      if (!zone_name.empty()) return calendar::Zone::find(zone_name);
      SK_ASSIGN(auto a, engine::load_availability(db, c.id));
      return calendar::Zone::find(a.zone);
    };
    auto parse_start = [&]() -> Result<Timestamp> {
      std::string t;
      for (char ch : start_text)
        if (ch != '-' && ch != ':') t += ch;
      if (t.size() == 13 || (t.size() == 14 && t.back() == 'Z')) t.insert(13, "00");
      auto civil = calendar::parse_civil(t);
      if (!civil || civil->date_only)
        return make_error(Errc::invalid_input,
                          "--start: expected YYYY-MM-DDTHH:MM, got '" + start_text + "'");
      if (civil->utc) return civil->seconds();
      SK_ASSIGN(auto z, client_zone());
      return z.to_utc(*civil);
    };
    if (slots_cmd->parsed()) {
      SK_ASSIGN(auto z, client_zone());
      SK_ASSIGN(auto slots, engine::find_slots(db, clock, c.id, booking_type, days));
      for (const auto& sl : slots) out << calendar::describe(sl.start, z) << "\n";
      out << slots.size() << " free times in the next " << days << " days\n";
      return ok();
    }
    if (booking_create->parsed()) {
      SK_ASSIGN(Timestamp start, parse_start());
      engine::Guest g{guest_name, guest_email, guest_zone, "{}", std::nullopt};
      SK_ASSIGN(auto b, engine::create_booking(db, clock, *s.ids, c.id, booking_type, start, g,
                                               "cli", ctx.by));
      out << b.id << " " << store::to_string(b.status) << " " << format_utc(b.starts_at) << "\n";
      return ok();
    }
    if (booking_move->parsed()) {
      SK_ASSIGN(Timestamp start, parse_start());
      SK_ASSIGN(auto b,
                engine::reschedule_booking(db, clock, *s.ids, c.id, booking_id, start, ctx.by));
      out << b.id << " moved to " << format_utc(b.starts_at) << "\n";
      return ok();
    }
    if (booking_cancel->parsed()) {
      SK_ASSIGN(auto b, engine::cancel_booking(db, clock, *s.ids, c.id, booking_id, ctx.by,
                                               why.empty() ? "cancelled" : why));
      out << b.id << " cancelled\n";
      return ok();
    }
    if (booking_confirm->parsed()) {
      SK_ASSIGN(auto b, engine::confirm_booking(db, clock, *s.ids, c.id, booking_id, ctx.by));
      out << b.id << " confirmed\n";
      return ok();
    }
    if (booking_list->parsed()) {
      SK_ASSIGN(auto all, store::list_bookings(db, c.id));
      for (const auto& b : all)
        out << cell(b.id, 10) << cell(std::string(store::to_string(b.status)), 11)
            << cell(format_utc(b.starts_at), 22) << cell(b.type_slug, 12) << b.guest_email << "\n";
      if (all.empty()) out << "no bookings yet\n";
      return ok();
    }
    if (outgoing_list->parsed()) {
      SK_ASSIGN(auto all, store::list_outgoing(db, c.id));
      for (const auto& m : all)
        out << cell(m.id, 10) << cell(std::string(store::to_string(m.status)), 10)
            << cell(m.kind, 12) << cell(m.to.empty() ? std::string() : m.to.front(), 30)
            << m.subject << (m.last_error.empty() ? std::string() : "  (" + m.last_error + ")")
            << "\n";
      if (all.empty()) out << "nothing written yet\n";
      return ok();
    }
    if (outgoing_approve->parsed()) {
      std::optional<std::string> body;
      if (body_file == "-") {
        body = std::string(std::istreambuf_iterator<char>(std::cin), {});
      } else if (!body_file.empty()) {
        SK_ASSIGN(auto text, read_file(body_file));
        body = text;
      }
      SK_ASSIGN(auto m, s.engine->approve_draft(c.id, outgoing_id, body, ctx.by));
      out << m.id << " approved: it goes to " << (m.to.empty() ? std::string("?") : m.to.front())
          << " with the next round of `sidekick serve`\n";
      return ok();
    }
    if (outgoing_discard->parsed()) {
      SK_TRY(engine::discard_outgoing(db, clock, c.id, outgoing_id, ctx.by, why));
      out << outgoing_id << " discarded\n";
      return ok();
    }
    if (account_list->parsed()) {
      SK_ASSIGN(auto accounts, store::list_accounts(db, c.id));
      SK_ASSIGN(auto health, store::account_health(db, {c.id}));
      for (const auto& a : accounts) {
        std::string state = "not read yet";
        for (const auto& h : health) {
          if (h.account != a.id) continue;
          // Shouted: a terminal has no red.
          state = h.reach.state({"CANNOT BE READ", "read", "not read yet"}) +
                  (h.reach.failing() ? ": " + h.reach.last_error : "");
        }
        out << cell(a.id, 10) << cell(a.address, 30) << "imap " << a.imap_host << ":" << a.imap_port
            << " (" << a.imap_security << ")"
            << (a.smtp_host.empty() ? std::string()
                                    : "  smtp " + a.smtp_host + ":" + std::to_string(a.smtp_port))
            << "  " << state << "\n";
      }
      if (accounts.empty()) out << "no accounts\n";
      return ok();
    }
    if (routine_add->parsed()) {
      SK_ASSIGN(routine.starts,
                engine::routine_start(db, c.id, clock.now(), routine_at, routine_from));
      routine.client = c.id;
      routine.send_alone = !routine_draft;
      if (routine_body_file == "-") {
        routine.body = std::string(std::istreambuf_iterator<char>(std::cin), {});
      } else {
        SK_ASSIGN(routine.body, read_file(routine_body_file));
      }
      SK_ASSIGN(auto saved, engine::save_routine(db, clock, *s.ids, routine, ctx.by));
      SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
      SK_ASSIGN(auto next, engine::next_occurrences(saved, zone, clock.now(), 1));
      out << "routine " << saved.name << " for " << c.slug
          << (next.empty() ? std::string(": it will not run again")
                           : ": next " + calendar::describe(next.front(), zone))
          << "\n";
      return ok();
    }
    if (routine_list->parsed()) {
      SK_ASSIGN(auto routines, store::list_routines(db, c.id));
      SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
      for (const auto& r : routines) {
        SK_ASSIGN(auto next, engine::next_occurrences(r, zone, clock.now(), 1));
        out << cell(r.name, 16) << cell(r.send_alone ? "sends" : "drafts", 8)
            << cell(join_addresses(r.to), 28)
            << (next.empty() ? std::string("no more")
                             : "next " + calendar::describe(next.front(), zone))
            << "  (" << r.rrule << ")\n";
      }
      if (routines.empty()) out << "no routines\n";
      return ok();
    }
    if (routine_remove->parsed()) {
      SK_TRY(engine::remove_routine(db, clock, c.id, routine.name, ctx.by));
      out << "removed routine " << routine.name << " for " << c.slug << "\n";
      return ok();
    }
    if (task_add->parsed()) {
      SK_ASSIGN(auto t, engine::add_task(db, clock, *s.ids, c.id, task, ctx.by));
      out << "task " << t.id << " for " << c.slug << ": " << t.title
          << (t.due_at ? ", due " + engine::describe_due(t, c.timezone) : std::string()) << "\n";
      return ok();
    }
    if (task_list->parsed()) {
      SK_ASSIGN(auto tasks, store::list_tasks(db, c.id, task_done_too));
      for (const auto& t : tasks)
        out << cell(t.id, 10)
            << cell(task_done_too ? "done " + format_utc(t.done_at)
                    : t.due_at    ? (t.due_at <= clock.now() ? "DUE " : "") +
                                     engine::describe_due(t, c.timezone)
                               : std::string("no date"),
                    40)
            << t.title << "\n";
      if (tasks.empty()) out << (task_done_too ? "nothing done yet\n" : "nothing to do\n");
      return ok();
    }
    if (task_finish->parsed()) {
      SK_ASSIGN(auto t, engine::finish_task(db, clock, c.id, task_id, ctx.by));
      out << "done: " << t.id << " " << t.title << "\n";
      return ok();
    }
    if (phone_add->parsed()) {
      if (line.region.empty()) line.region = "US";
      for (auto& ch : line.region)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      SK_ASSIGN(line.number, phone::to_e164(line.number, line.region));
      if (!line.forward_to.empty()) {
        SK_ASSIGN(line.forward_to, phone::to_e164(line.forward_to, line.region));
        if (line.forward_to == line.number)
          return make_error(Errc::invalid_input, "--forward-to cannot be the line itself");
      }
      if (token_file.empty() && token_env.empty())
        return make_error(Errc::invalid_input,
                          "give the provider's auth token with --token-file FILE (or -) or "
                          "--token-env VAR: without it no webhook can be checked");
      SK_ASSIGN(auto token, read_secret(token_file, token_env));
      if (token.empty()) return make_error(Errc::invalid_input, "the auth token is empty");
      SK_ASSIGN(auto key, open_secret_key(s.home));
      line.client = c.id;
      line.sealed_token = key.seal(token);
      SK_ASSIGN(auto saved, store::save_phone_line(db, *s.ids, clock, line));
      SK_TRY(store::append_audit(db, c.id, clock.now(), ctx.by, "phone line set", saved.number,
                                 saved.forward_to.empty()
                                     ? "calls go to voicemail"
                                     : "calls the client takes ring " + saved.forward_to));
      out << "line " << phone::for_display(saved.number) << " for " << c.slug << ": "
          << (saved.forward_to.empty()
                  ? std::string("every call goes to voicemail")
                  : "calls the client takes ring " + phone::for_display(saved.forward_to))
          << "\nprovider webhooks: POST /hooks/phone/text (messages) and /hooks/phone/call "
             "(voice) on the console's public address\n";
      return ok();
    }
    if (phone_list->parsed()) {
      SK_ASSIGN(auto lines, store::phone_line_health(db, {c.id}));
      for (const auto& h : lines) {
        const auto& l = h.line;
        out << cell(phone::for_display(l.number), 20)
            << cell(l.forward_to.empty() ? "voicemail only"
                                         : "rings " + phone::for_display(l.forward_to),
                    28)
            << cell(l.region, 4) << h.reach.state(store::PhoneLineHealth::kWords)
            << (h.reach.failing() ? ": " + h.reach.last_error : "") << "\n";
      }
      if (lines.empty()) out << "no phone lines\n";
      return ok();
    }
    if (phone_remove->parsed()) {
      SK_ASSIGN(auto number, engine::identity_of(db, c.id, line.number));
      SK_ASSIGN(bool removed, store::delete_phone_line(db, c.id, number));
      if (!removed) return make_error(Errc::not_found, c.slug + " has no line " + number);
      SK_TRY(store::append_audit(db, c.id, clock.now(), ctx.by, "line removed", number, ""));
      out << "removed line " << phone::for_display(number) << " for " << c.slug << "\n";
      return ok();
    }
    if (search_cmd->parsed()) {
      SK_ASSIGN(auto rows, store::search_items(db, c.id, paths, limit));
      for (const auto& r : rows)
        out << cell(r.item, 10) << cell(format_utc(r.received_at), 22)
            << cell(r.from.empty() ? "(no sender)" : r.from, 30) << cell(r.subject, 40) << "  "
            << label(r.decision.category) << ", " << label(r.decision.disposition) << "\n";
      out << rows.size() << " found\n";
      return ok();
    }
    if (screened_list->parsed()) {
      SK_ASSIGN(auto held, s.engine->screened_senders(c.id));
      if (format == "json") {
        json a = json::array();
        for (const auto& h : held)
          a.push_back({{"address", h.address},
                       {"name", h.name},
                       {"domain", domain_of(h.address)},
                       {"items", h.items},
                       {"latest_subject", h.latest_subject},
                       {"latest_at", format_utc(h.latest)}});
        out << a.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
        return ok();
      }
      std::size_t items = 0;
      for (const auto& h : held) {
        items += h.items.size();
        out << cell(std::to_string(h.items.size()), 5) << cell(h.address, 36) << cell(h.name, 20)
            << h.latest_subject << "\n";
      }
      out << held.size() << " sender" << (held.size() == 1 ? "" : "s")
          << " wait in the screener with " << items << " message" << (items == 1 ? "" : "s")
          << "\n";
      return ok();
    }
    if (party_list->parsed()) {
      SK_ASSIGN(auto parties, store::list_parties(db, c.id));
      for (const auto& p : parties) {
        std::string idents;
        for (const auto& i : p.identities) idents += (idents.empty() ? "" : ", ") + i;
        out << cell(std::string(to_string(p.relationship)), 16) << cell(p.name, 24) << idents
            << "\n";
      }
      return ok();
    }
    if (rules_import->parsed()) {
      SK_ASSIGN(auto text, read_file(rules_file));
      SK_TRY(s.engine->import_rules(c.id, text, rules_file, ctx.by));
      SK_ASSIGN(auto rules, store::load_rules(db, c.id));
      out << "imported " << rules.size() << " rules for " << c.slug << "\n";
      return ok();
    }
    if (rules_list->parsed()) {
      SK_ASSIGN(auto policy, s.engine->load_policy(c.id));
      int n = 0;
      for (const auto& r : policy.rules)
        out << ++n << ". " << r.name << (r.enabled ? "" : " (off)") << "\n";
      if (n == 0) out << "no rules\n";
      return ok();
    }
    if (audit_cmd->parsed()) {
      SK_ASSIGN(auto entries, store::list_audit(db, c.id, limit));
      for (const auto& e : entries)
        out << format_utc(e.at) << "  " << cell(e.actor, 14) << cell(e.action, 16) << e.subject
            << (e.reason.empty() ? "" : "  — " + e.reason) << "\n";
      return ok();
    }
    if (evidence_verify->parsed()) {
      SK_ASSIGN(auto check, store::verify_evidence(db, c.id));
      if (!check.intact)
        return make_error(Errc::conflict,
                          "evidence log for " + c.slug + " is NOT intact: " + check.problem);
      out << "evidence log for " << c.slug << " is intact: " << check.entries << " entries\n";
      return ok();
    }
    if (evidence_list->parsed()) {
      SK_ASSIGN(auto entries, store::list_evidence(db, c.id));
      for (const auto& e : entries)
        out << e.seq << "  " << format_utc(e.at) << "  " << e.item << "  " << e.hash.substr(0, 16)
            << "  " << e.payload << "\n";
      return ok();
    }
    return make_error(Errc::invalid_input, "nothing to do");
  };

  auto r = run();
  if (!r.ok()) {
    err << "sidekick: " << r.error().message << "\n";
    return exit_code(r.error());
  }
  return 0;
}

}  // namespace sk::app
