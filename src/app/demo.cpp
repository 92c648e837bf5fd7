#include "app/demo.hpp"

#include <filesystem>
#include <ostream>

#include "core/secrets.hpp"
#include "engine/phone.hpp"
#include "engine/training.hpp"
#include "mail/import.hpp"
#include "mail/message.hpp"
#include "store/phone_lines.hpp"
#include "store/repos.hpp"

namespace sk::app {
namespace {

constexpr const char* kDemoRules = R"toml(
[[rule]]
name = "Invoices go to the client"
[rule.when]
subject = ["invoice", "receipt"]
[rule.then]
disposition = "to-client"
category = "billing"
label = ["money"]

[[rule]]
name = "Mailing lists are filed"
[rule.when]
header = { "List-Id" = "" }
score_below = 0.5
[rule.then]
disposition = "handled"
category = "newsletter"
label = ["lists"]
)toml";

// Every k-th message of a list, so the sample spans the whole folder.
std::vector<std::string> spread(const std::vector<std::string>& files, std::size_t n) {
  std::vector<std::string> out;
  if (files.empty() || n == 0) return out;
  std::size_t step = std::max<std::size_t>(1, files.size() / n);
  for (std::size_t i = 0; i < files.size() && out.size() < n; i += step) out.push_back(files[i]);
  return out;
}

std::string sender_of(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return {};
  return mail::parse_message(*bytes).from_address;
}

// Real texts (the SMS Spam Collection's test split) arrive on a demo phone line, the first
// from the client's sister: the queue shows texts beside mail. Trains the text classifier
// first when there is none.
Result<void> demo_texts(engine::Engine& engine, store::Db& db, IdSource& ids, const Clock& clock,
                        const Home& home, const store::ClientRecord& client,
                        const std::string& collection, const std::string& actor,
                        std::ostream& out) {
  if (engine.text_model().empty()) {
    SK_ASSIGN(auto train, engine::sms_collection_split(collection, false));
    SK_ASSIGN(auto model, engine::train_text_model(train));
    SK_TRY(write_file_atomically(home.text_model(), model.serialize()));
    engine.set_text_model(std::move(model));
    out << "trained the text classifier on " << train.ham.size() + train.spam.size() << " texts\n";
  }
  SK_ASSIGN(auto key, open_secret_key(home));
  store::PhoneLine line;
  line.client = client.id;
  line.number = "+14165550100";
  line.region = "CA";
  // No provider is connected to the demo: its token is random, so no webhook can pass for it.
  line.sealed_token = key.seal(random_token());
  SK_ASSIGN(line, store::save_phone_line(db, ids, clock, line));
  const std::string sister = "+14165550111";
  SK_TRY(store::set_relationship(db, ids, clock, client.id, sister, Relationship::family, "Jo"));
  SK_ASSIGN(auto test, engine::sms_collection_split(collection, true));
  auto ham = spread(test.ham, 8), spam = spread(test.spam, 4);
  std::size_t taken = 0, n = 0;
  for (const auto* list : {&ham, &spam})
    for (const auto& body : *list) {
      ++n;
      engine::TextIn in;
      in.sid = "demo-" + std::to_string(n);
      in.from = n == 1 ? sister : "+1416555" + std::to_string(1200 + n);
      in.body = body;
      in.raw = "Body=" + body;
      SK_ASSIGN(auto a, engine::take_text(engine, db, clock, ids, line, in));
      if (!a.item.empty()) ++taken;
    }
  out << "texts on the demo line +1 416-555-0100: " << taken << " new (" << n
      << " from the SMS Spam Collection)\n";
  return store::append_audit(db, client.id, clock.now(), actor, "imported",
                             std::to_string(taken) + " texts", "sidekick demo");
}

}  // namespace

Result<void> run_demo(engine::Engine& engine, store::Db& db, IdSource& ids, const Clock& clock,
                      const Home& home, const DemoOptions& o, std::ostream& out) {
  if (engine.model().empty())
    return make_error(Errc::invalid_input,
                      "no spam model: run `sidekick model train --corpus " + o.corpus + "` first");
  SK_ASSIGN(auto test, engine::spamassassin_test_split(o.corpus));

  auto existing = store::find_client(db, "demo");
  store::ClientRecord client;
  if (existing.ok()) {
    client = *existing;
    out << "demo client exists; importing again adds nothing new\n";
  } else {
    SK_ASSIGN(client, store::create_client(db, ids, clock, "demo", "Demo Client (Acme Widgets)",
                                           "owner@acme-widgets.example"));
    SK_TRY(store::append_audit(db, client.id, clock.now(), o.actor, "client added", "demo",
                               "sidekick demo"));
    out << "created demo client (" << client.id << ")\n";
  }

  std::size_t ham_n = static_cast<std::size_t>(o.sample) / 2;
  std::vector<std::string> sample = spread(test.ham, ham_n);
  auto spam = spread(test.spam, static_cast<std::size_t>(o.sample) - ham_n);
  sample.insert(sample.end(), spam.begin(), spam.end());

  // Three senders from the sample get relationships, so every path of triage shows.
  if (!existing.ok() && sample.size() >= 6) {
    struct Pick {
      std::size_t index;
      Relationship rel;
      const char* why;
    };
    for (const Pick& p : {Pick{0, Relationship::vip, "the client's most important contact"},
                          Pick{3, Relationship::protected_from, "a former business partner"},
                          Pick{5, Relationship::blocked, "asked to be left alone"}}) {
      std::string sender = sender_of(sample[p.index]);
      if (sender.empty()) continue;
      SK_TRY(store::set_relationship(db, ids, clock, client.id, sender, p.rel));
      SK_TRY(store::append_audit(db, client.id, clock.now(), o.actor, "relationship set",
                                 sender + " is " + std::string(to_string(p.rel)), p.why));
      out << "  " << sender << " is " << to_string(p.rel) << " (" << p.why << ")\n";
    }
    SK_TRY(engine.import_rules(client.id, kDemoRules, "demo-rules.toml", o.actor));
    out << "  2 rules: invoices go to the client; mailing lists are filed\n";
  }

  std::vector<std::string> paths = sample;
  if (!o.shared_data.empty()) {
    // Real malformed and machine-sent mail: shows that nothing is dropped.
    for (const char* f :
         {"mime/bounce.eml", "mime/arf.eml", "mime/enmime/low-quality/bad-header-start.raw",
          "mime/enmime/low-quality/malformed-base64-attach.raw",
          "mime/enmime/parts/empty-header.raw", "mime/calendar-event.eml"}) {
      std::string p = o.shared_data + "/" + f;
      if (std::filesystem::exists(p)) paths.push_back(p);
    }
  }
  SK_ASSIGN(auto imported, engine.import_paths(client.id, paths));
  out << "imported " << imported.found << " messages: " << imported.added << " new, "
      << imported.duplicates << " already there, " << imported.repaired << " repaired, "
      << imported.unreadable << " unreadable (kept raw)\n";
  SK_TRY(store::append_audit(db, client.id, clock.now(), o.actor, "imported",
                             std::to_string(imported.added) + " new items", "sidekick demo"));

  SK_ASSIGN(auto report, engine.triage_pending(client.id));
  out << "triaged " << report.decided << " items:\n";
  for (const auto& [d, n] : report.by_disposition) out << "  " << label(d) << ": " << n << "\n";
  for (const auto& [c, n] : report.by_category) out << "    " << label(c) << ": " << n << "\n";

  const std::string collection = o.shared_data + "/sms/SMSSpamCollection.tsv";
  if (!o.shared_data.empty() && std::filesystem::exists(collection))
    SK_TRY(demo_texts(engine, db, ids, clock, home, client, collection, o.actor, out));

  SK_ASSIGN(auto check, store::verify_evidence(db, client.id));
  out << "evidence log: " << check.entries << " entries, " << (check.intact ? "intact" : "BROKEN")
      << "\n";
  out << "\ndata is in " << home.dir << "\ntry:\n"
      << "  sidekick decisions --client demo\n"
      << "  sidekick explain ITEM\n"
      << "  sidekick teach ITEM --category newsletter\n"
      << "  sidekick audit --client demo\n";
  return ok();
}

}  // namespace sk::app
