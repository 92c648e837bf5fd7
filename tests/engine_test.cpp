// The engine on real mail: the SpamAssassin corpus and ../shared/data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/hash.hpp"
#include "engine/engine.hpp"
#include "engine/outbox.hpp"
#include "engine/replies.hpp"
#include "engine/training.hpp"
#include "mail/import.hpp"
#include "mail/message.hpp"
#include "postgres.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "support.hpp"

using namespace sk;
namespace fs = std::filesystem;

namespace {

// The default model, trained on the standard split once per build: the first test process
// trains and saves it, the others load it (ctest runs each test in its own process).
const triage::SpamModel& corpus_model() {
  static const triage::SpamModel model = [] {
    const std::string path = std::string(SK_BINARY_DIR) + "/tests/corpus-spam.model";
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      if (auto m = triage::SpamModel::deserialize(bytes); m.ok()) return std::move(m).value();
    }
    auto set = engine::spamassassin_training_split(sk::test::corpus_dir());
    if (!set.ok()) return triage::SpamModel{};
    auto m = engine::train_spam_model(*set);
    if (!m.ok()) return triage::SpamModel{};
    std::string tmp = path + "." + std::to_string(::getpid());
    std::ofstream(tmp, std::ios::binary) << m->serialize();
    fs::rename(tmp, path);
    return std::move(m).value();
  }();
  return model;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> corpus_files(const std::string& group, std::size_t n) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(sk::test::corpus_dir() + "/" + group))
    if (e.path().extension() == ".txt") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  if (out.size() > n) out.resize(n);
  return out;
}

struct EngineTest : ::testing::Test {
  std::unique_ptr<store::Db> db;
  FixedClock clock{1'750'000'000};
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  ClientId client;

  void SetUp() override {
    SK_REQUIRE_CORPUS();
    ASSERT_FALSE(corpus_model().empty());
    db = sk::test::open_test_database();
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    engine = std::make_unique<engine::Engine>(*db, clock, *ids, corpus_model());
    client = store::create_client(*db, *ids, clock, "acme", "Acme", "owner@acme.example")->id;
  }

  Decision decision_of(const ItemId& id) {
    auto d = store::current_decision(*db, client, id);
    EXPECT_TRUE(d.ok() && d->has_value());
    return d.ok() && d->has_value() ? **d : Decision{};
  }
};

TEST_F(EngineTest, ImportIsIdempotentForFoldersMboxAndMaildir) {
  sk::test::TempDir dir;
  auto files = corpus_files("easy-ham-2", 12);
  fs::create_directories(dir.path / "folder");
  fs::create_directories(dir.path / "maildir" / "cur");
  fs::create_directories(dir.path / "maildir" / "new");
  fs::create_directories(dir.path / "maildir" / "tmp");
  std::ofstream mbox(dir.path / "mail.mbox", std::ios::binary);
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string bytes = slurp(files[i]);
    std::string name = "m" + std::to_string(i);
    std::ofstream(dir.path / "folder" / (name + ".eml"), std::ios::binary) << bytes;
    // Maildir and mbox hold the message without its envelope "From " line.
    std::string body = bytes.substr(bytes.find('\n') + 1);
    std::ofstream(dir.path / "maildir" / (i % 2 ? "cur" : "new") / (name + ":2,S"),
                  std::ios::binary)
        << "X-Copy: maildir\n"
        << body;
    mbox << "From someone@example.com Mon Jan  1 00:00:00 2024\nX-Copy: mbox\n" << body << "\n";
  }
  mbox.close();
  for (const char* sub : {"folder", "maildir", "mail.mbox"}) {
    auto first = engine->import_paths(client, {(dir.path / sub).string()});
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->found, files.size()) << sub;
    EXPECT_EQ(first->added, files.size()) << sub;
    auto again = engine->import_paths(client, {(dir.path / sub).string()});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->added, 0u) << sub;
    EXPECT_EQ(again->duplicates, files.size()) << sub;
  }
  EXPECT_EQ(*store::count_items(*db, client), static_cast<std::int64_t>(3 * files.size()));
  // The raw bytes are kept exactly.
  auto rows = db->query("SELECT id FROM items WHERE origin LIKE '%m0.eml'");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(*store::raw_message(*db, client, rows->at(0).str(0)), slurp(files[0]));
}

TEST_F(EngineTest, MissingPathIsAClearError) {
  auto r = engine->import_paths(client, {"/nonexistent/sidekick/mail"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().message.find("/nonexistent/sidekick/mail"), std::string::npos);
}

// Every message of every corpus we have imports, is kept byte for byte and gets a decision;
// the unreadable ones wait for the VA with the reason.
TEST_F(EngineTest, EveryMessageOfEveryCorpusIsKeptAndDecided) {
  const std::string shared = sk::test::shared_data() + "/mime";
  std::vector<std::string> paths{shared};
  for (const char* g : {"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"})
    paths.push_back(sk::test::corpus_dir() + "/" + g);
  auto r = engine->import_paths(client, paths);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->found, 6046u + 149u);
  EXPECT_EQ(r->added + r->duplicates, r->found);  // nothing dropped
  EXPECT_GT(r->repaired, 0u);
  EXPECT_GT(r->unreadable, 0u);
  auto t = engine->triage_pending(client);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->decided, r->added);
  EXPECT_TRUE(store::undecided_items(*db, client)->empty());
  auto rows = db->query("SELECT id FROM items WHERE parse_status = 'unreadable'");
  EXPECT_EQ(rows->size(), r->unreadable);
  for (const auto& row : *rows) {
    Decision d = decision_of(row.str(0));
    EXPECT_EQ(d.disposition, Disposition::awaiting_va);
    EXPECT_EQ(d.reasons.front().code, "unreadable");
    EXPECT_TRUE(store::raw_message(*db, client, row.str(0)).ok());
  }
  // Raw bytes are kept exactly, for a sample across the corpus.
  auto sample = db->query("SELECT id, origin FROM items WHERE origin LIKE '%/spam-2/%' LIMIT 20");
  for (const auto& row : *sample)
    EXPECT_EQ(*store::raw_message(*db, client, row.str(0)), slurp(row.str(1)));
}

TEST_F(EngineTest, GarbageIsKeptRawAndShownToTheVa) {
  std::string junk("\x00\x01\x02 not mail \xff\xfe", 16);
  auto id = engine->intake_message(client, "webhook:1", junk, "test");
  ASSERT_TRUE(id.ok());
  ASSERT_FALSE(id->empty());
  EXPECT_EQ(*store::raw_message(*db, client, *id), junk);
  ASSERT_TRUE(engine->triage_pending(client).ok());
  Decision d = decision_of(*id);
  EXPECT_EQ(d.disposition, Disposition::awaiting_va);
  EXPECT_EQ(d.reasons.front().code, "unreadable");
  auto text = engine->explain(client, *id);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Readable: unreadable"), std::string::npos);
}

TEST_F(EngineTest, RelationshipsAndRulesWorkOnRealMail) {
  auto files = corpus_files("easy-ham-2", 3);
  std::vector<std::string> senders;
  for (const auto& f : files) {
    auto r = engine->import_paths(client, {f});
    ASSERT_TRUE(r.ok());
  }
  auto rows = db->query("SELECT id, from_address FROM items ORDER BY rowid");
  ASSERT_EQ(rows->size(), 3u);
  ASSERT_TRUE(
      store::set_relationship(*db, *ids, clock, client, rows->at(0).str(1), Relationship::vip)
          .ok());
  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, client, rows->at(1).str(1),
                                      Relationship::protected_from)
                  .ok());
  ASSERT_TRUE(engine
                  ->import_rules(client,
                                 "[[rule]]\nname = \"lists\"\nwhen.header = { "
                                 "\"Precedence\" = \"\" }\nthen.disposition = \"handled\"\n",
                                 "r.toml", "va:kim")
                  .ok());
  ASSERT_TRUE(engine->triage_pending(client).ok());
  EXPECT_EQ(decision_of(rows->at(0).str(0)).disposition, Disposition::to_client);
  EXPECT_EQ(decision_of(rows->at(1).str(0)).disposition, Disposition::protected_);
  // Every protected decision, and nothing else, is in the evidence log.
  auto protected_count =
      db->query("SELECT COUNT(*) FROM decisions WHERE disposition = 'protected'");
  auto check = store::verify_evidence(*db, client);
  EXPECT_GE(check->entries, 1);
  EXPECT_EQ(check->entries, protected_count->at(0).i64(0));
  EXPECT_TRUE(check->intact);
  auto audit = store::list_audit(*db, client);
  bool rules_audited = false;
  for (const auto& e : *audit)
    rules_audited = rules_audited || (e.action == "rules imported" && e.actor == "va:kim");
  EXPECT_TRUE(rules_audited);
}

// Rules' hours are the client's wall clock, daylight saving included: 21:30 UTC in July is
// 17:30 in Toronto (EDT), which UTC reads as 21:30 and a fixed winter offset as 16:30.
TEST_F(EngineTest, RuleHoursFollowTheClientsZoneAcrossDaylightSaving) {
  ASSERT_TRUE(engine
                  ->import_rules(client,
                                 "[[rule]]\nname = \"evenings\"\nwhen.hours = \"17-19\"\n"
                                 "then.disposition = \"handled\"\n",
                                 "r.toml", "va:kim")
                  .ok());
  const std::string mail =
      "From: Ann <ann@example.org>\r\nTo: owner@acme.example\r\nSubject: Hi\r\n"
      "Message-ID: <%s@example.org>\r\n\r\nAre you there?\r\n";
  auto decide = [&](Timestamp now, const std::string& key) {
    clock.set(now);
    char raw[256];
    std::snprintf(raw, sizeof raw, mail.c_str(), key.c_str());
    auto id = engine->intake_message(client, "t:" + key, raw, key);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(engine->triage_pending(client).ok());
    return decision_of(*id);
  };
  const Timestamp july_2130z = 1'784'151'000;  // 2026-07-15 21:30 UTC
  // In UTC (the default zone) it is 21:30: not the evening the rule means.
  EXPECT_NE(decide(july_2130z, "utc").disposition, Disposition::handled);
  ASSERT_TRUE(store::set_client_zone(*db, client, "America/Toronto").ok());
  EXPECT_EQ(decide(july_2130z, "summer").disposition, Disposition::handled);
  // 16:30 in Toronto: before the evening starts.
  EXPECT_NE(decide(july_2130z - 3600, "afternoon").disposition, Disposition::handled);
  // January: EST, 22:30 UTC is 17:30.
  EXPECT_EQ(decide(1'768'516'200, "winter").disposition, Disposition::handled);
  // A zone nobody knows is an error, not UTC.
  ASSERT_TRUE(store::set_client_zone(*db, client, "Mars/Olympus").ok());
  EXPECT_FALSE(engine->load_policy(client).ok());
}

// The promise: one correction changes the next decision for the same kind of
// message at once.
TEST_F(EngineTest, OneCorrectionFlipsTheNextDecision) {
  // A real spam message the model calls spam, from a sender the client knows.
  std::string raw;
  ItemId first;
  for (const auto& f : corpus_files("spam-2", 40)) {
    raw = slurp(f);
    auto id = engine->intake_message(client, "t:" + f, raw, f);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(engine->triage_pending(client).ok());
    if (decision_of(*id).category == Category::spam) {
      first = *id;
      break;
    }
  }
  ASSERT_FALSE(first.empty());
  auto stored = store::get_item(*db, client, first);
  ASSERT_TRUE(stored.ok());

  auto taught = engine->teach(client, first, Category::newsletter, std::nullopt, "va:kim",
                              "the client subscribed to this");
  ASSERT_TRUE(taught.ok()) << taught.error().message;
  EXPECT_EQ(decision_of(first).category, Category::newsletter);
  EXPECT_EQ(decision_of(first).decided_by, "va:kim");

  // The next issue from the same sender: a different message id and date.
  std::string next = "X-Next-Issue: yes\n" + raw;
  auto id2 = engine->intake_message(client, "t:next", next, "next");
  ASSERT_TRUE(id2.ok());
  ASSERT_FALSE(id2->empty());
  ASSERT_TRUE(engine->triage_pending(client).ok());
  Decision d = decision_of(*id2);
  EXPECT_EQ(d.category, Category::newsletter);
  EXPECT_TRUE(test::has_reason(d, "lesson"));

  // The correction is in the audit log with who and why.
  bool audited = false;
  auto audit = store::list_audit(*db, client);
  for (const auto& e : *audit)
    audited = audited || (e.action == "corrected" && e.actor == "va:kim" &&
                          e.reason == "the client subscribed to this");
  EXPECT_TRUE(audited);
}

// Lessons keep their words as hashed ids; a lesson kept before the tokenizer's hash changed
// would compare with nothing. It is made again from its item, and kept so.
TEST_F(EngineTest, ALessonKeptByAnOlderTokenizerIsMadeAgain) {
  const std::string body =
      "This week in the garden: pruning roses, autumn bulbs, compost bins and the best\r\n"
      "mulch for clay soil. Our readers' questions about tomato blight, answered.\r\n";
  auto mail = [&](const std::string& from, const std::string& id) {
    return "From: " + from + "\r\nTo: owner@acme.example\r\nSubject: Garden notes\r\n" +
           "Message-ID: <" + id + "@example.org>\r\n\r\n" + body;
  };
  auto first = engine->intake_message(client, "t:1", mail("notes@garden.example", "1"), "t");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(engine->triage_pending(client).ok());
  ASSERT_TRUE(engine->teach(client, *first, Category::newsletter, std::nullopt, "va:kim", "").ok());
  // As an older version kept it: ids without the tag, from another hash.
  ASSERT_TRUE(db->exec("UPDATE lessons SET features = '17 4242 90001'").ok());

  auto second = engine->intake_message(client, "t:2", mail("news@other.example", "2"), "t");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(engine->triage_pending(client).ok());
  Decision d = decision_of(*second);
  EXPECT_EQ(d.category, Category::newsletter);
  EXPECT_TRUE(test::has_reason(d, "lesson"));
  auto rows = db->query("SELECT features FROM lessons", {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE((*rows)[0].str(0).starts_with("w3 ")) << (*rows)[0].str(0);
}

// After a first pass over a big mailbox the screener holds hundreds of senders: the VA lets
// them in or keeps them out by sender or by domain, with every waiting item at once.
TEST_F(EngineTest, ScreenedSendersAreLetInOrKeptOutInBulk) {
  int n = 0;
  auto mail = [&](const std::string& from, const std::string& subject) {
    ++n;
    std::string raw = "From: " + from + "\r\nTo: owner@acme.example\r\nSubject: " + subject +
                      "\r\nMessage-ID: <m" + std::to_string(n) +
                      "@mail.example>\r\n\r\nCould we talk on Thursday about the order?\r\n";
    clock.set(1'750'000'000 + n * 60);
    auto id = engine->intake_message(client, "t:" + std::to_string(n), raw, "test");
    EXPECT_TRUE(id.ok() && !id->empty());
    return id.ok() ? *id : ItemId{};
  };
  const ItemId ann1 = mail("Ann <Ann@north.example>", "Order 1"),
               ann2 = mail("Ann <ann@north.example>", "Order 2"),
               bob = mail("bob@north.example", "Hello"), carl = mail("carl@south.example", "Hi"),
               dan = mail("dan@west.example", "Hey");
  ASSERT_TRUE(engine->triage_pending(client).ok());
  for (const auto& id : {ann1, ann2, bob, carl, dan})
    ASSERT_EQ(decision_of(id).disposition, Disposition::screened) << id;

  auto held = engine->screened_senders(client);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 4u);
  EXPECT_EQ(held->front().address, "ann@north.example");  // the most waiting first
  EXPECT_EQ(held->front().name, "Ann");
  EXPECT_EQ(held->front().items, (std::vector<ItemId>{ann1, ann2}));
  EXPECT_EQ(held->front().latest_subject, "Order 2");

  // A whole domain, and a name nobody is held under.
  auto in =
      engine->judge_screened(client, {"@North.example", "eve@nowhere.example"},
                             engine::ScreenerVerdict::let_in, "va:kim", "the client's buyers");
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(in->senders, 2u);
  EXPECT_EQ(in->items, 3u);
  EXPECT_EQ(in->not_waiting, std::vector<std::string>{"eve@nowhere.example"});
  for (const auto& id : {ann1, ann2, bob}) {
    Decision d = decision_of(id);
    EXPECT_EQ(d.disposition, Disposition::to_client) << id;
    EXPECT_EQ(d.decided_by, "va:kim");
    auto effects = store::effects_for_item(*db, client, id);
    ASSERT_TRUE(effects.ok());
    bool back_to_inbox = false;
    for (const auto& e : *effects)
      back_to_inbox = back_to_inbox || (e.kind == EffectKind::move_to_folder &&
                                        e.target == "INBOX" && e.status == "planned");
    EXPECT_TRUE(back_to_inbox) << id;
  }
  // Who may write is not what kind of mail it is: nothing for the classifier to learn.
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM lessons")->at(0).i64(0), 0);

  auto out = engine->judge_screened(client, {"carl@south.example"},
                                    engine::ScreenerVerdict::keep_out, "va:kim", "");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->senders, 1u);
  EXPECT_EQ(out->items, 1u);
  EXPECT_EQ(decision_of(carl).disposition, Disposition::screened);
  EXPECT_EQ(decision_of(carl).decided_by, "va:kim");
  auto carl_party = store::find_party(*db, client, "carl@south.example");
  ASSERT_TRUE(carl_party.ok() && carl_party->has_value());
  EXPECT_EQ((*carl_party)->relationship, Relationship::blocked);

  // Only Dan still waits, and what comes next follows the verdicts.
  held = engine->screened_senders(client);
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ(held->front().address, "dan@west.example");
  const ItemId ann3 = mail("ann@north.example", "Order 3"), carl2 = mail("carl@south.example", "?");
  ASSERT_TRUE(engine->triage_pending(client).ok());
  EXPECT_NE(decision_of(ann3).disposition, Disposition::screened);
  EXPECT_EQ(decision_of(carl2).disposition, Disposition::blocked);

  std::vector<std::string> audited;
  auto audit = store::list_audit(*db, client);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit)
    if (e.action == "let in" || e.action == "kept out")
      audited.push_back(e.action + " " + e.subject + ": " + e.reason);
  std::sort(audited.begin(), audited.end());
  EXPECT_EQ(audited,
            (std::vector<std::string>{"kept out carl@south.example: kept out by the screener",
                                      "let in ann@north.example: the client's buyers",
                                      "let in bob@north.example: the client's buyers"}));

  // Nobody named is a mistake, not a no-op.
  auto none = engine->judge_screened(client, {" "}, engine::ScreenerVerdict::let_in, "va", "");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::invalid_input);
}

TEST_F(EngineTest, TeachingRejectsUnknownItems) {
  auto r = engine->teach(client, "itm_404", Category::spam, std::nullopt, "va", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
}

TEST_F(EngineTest, SameInputSameDecisions) {
  auto files = corpus_files("hard-ham-1", 10);
  auto spam = corpus_files("spam-2", 10);
  files.insert(files.end(), spam.begin(), spam.end());
  auto run = [&]() {
    auto d = sk::test::open_test_database();
    store::Db& db2 = *d;
    EXPECT_TRUE(store::migrate(db2).ok());
    store::DbIds ids2(db2);
    FixedClock clock2{1'750'000'000};
    engine::Engine e(db2, clock2, ids2, corpus_model());
    auto c = store::create_client(db2, ids2, clock2, "acme", "", "");
    EXPECT_TRUE(e.import_paths(c->id, files).ok());
    EXPECT_TRUE(e.triage_pending(c->id).ok());
    std::string all;
    auto rows = store::list_decisions(db2, c->id);
    for (const auto& row : *rows) {
      all += row.item + "|" + std::string(to_string(row.decision.category)) + "|" +
             std::string(to_string(row.decision.disposition)) + "|" +
             std::to_string(row.decision.confidence) + "|" +
             std::to_string(row.decision.decided_at);
      for (const auto& r : row.decision.reasons) all += "|" + r.text;
      all += "\n";
    }
    return all;
  };
  std::string a = run(), b = run();
  EXPECT_EQ(a.size() > 0, true);
  EXPECT_EQ(a, b);
}

TEST_F(EngineTest, CorpusSpamIsMostlyCaught) {
  // A sanity floor on real mail; bench/triage measures the full split.
  std::size_t caught = 0, ham_flagged = 0;
  auto spam = corpus_files("spam-2", 100);
  auto ham = corpus_files("easy-ham-2", 100);
  ASSERT_TRUE(engine->import_paths(client, spam).ok());
  ASSERT_TRUE(engine->import_paths(client, ham).ok());
  ASSERT_TRUE(engine->triage_pending(client).ok());
  auto rows = db->query(
      "SELECT it.origin, d.category FROM items it JOIN decisions d ON d.item_id = it.id AND "
      "d.current = 1");
  for (const auto& row : *rows) {
    bool spam_file = row.str(0).find("/spam-2/") != std::string::npos;
    bool called_spam = row.str(1) == "spam";
    if (spam_file && called_spam) ++caught;
    if (!spam_file && called_spam) ++ham_flagged;
  }
  EXPECT_GE(caught, 80u);
  EXPECT_LE(ham_flagged, 1u);
}

}  // namespace

// --- the outbox: recorded before and after, retried with backoff, never lost ---

namespace {

// Carries out effects by writing down what it was asked; fails the first `failures` calls.
struct RecordingExecutor : engine::EffectExecutor {
  int failures = 0;
  std::vector<std::string> done;
  Result<std::string> execute(const store::EffectRecord& e,
                              const store::StoredItem& item) override {
    if (failures > 0) {
      --failures;
      return make_error(Errc::io, "server went away");
    }
    done.push_back(std::string(to_string(e.kind)) + " " + e.target + " " + item.item.id);
    return std::string("ok");
  }
};

struct OutboxTest : ::testing::Test {
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
  FixedClock clock{1'750'000'000};
  std::unique_ptr<store::DbIds> ids;
  ClientId client;
  ItemId item;

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    client = store::create_client(*db, *ids, clock, "acme", "", "")->id;
    item = add_item("itm_1", 42);
  }

  // An item of the client's mailbox, at IMAP UID `uid`.
  ItemId add_item(const std::string& id, int uid) {
    Item it;
    it.id = id;
    it.client = client;
    it.source_key = "imap:acc_1:7:" + std::to_string(uid);
    it.received_at = clock.now();
    EXPECT_TRUE(store::insert_item(*db, it, "", "raw", "test").ok());
    return it.id;
  }

  void decide(Disposition disp, std::vector<PlannedEffect> effects) {
    Decision d;
    d.item = item;
    d.disposition = disp;
    d.effects = std::move(effects);
    ASSERT_TRUE(store::record_decision(*db, *ids, clock, client, d, "triage", "").ok());
  }
};

TEST_F(OutboxTest, CarriesOutEachEffectOnceAndAuditsIt) {
  decide(Disposition::screened,
         {{EffectKind::move_to_folder, "Sidekick/Screened"}, {EffectKind::notify_va, "queue"}});
  engine::Outbox outbox(*db, clock, *ids);
  RecordingExecutor exec;
  auto r = outbox.run(client, exec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->done, 2u);
  EXPECT_EQ(exec.done,
            std::vector<std::string>{"move Sidekick/Screened itm_1"});  // notify is internal
  EXPECT_EQ(outbox.run(client, exec)->done, 0u);                        // nothing twice
  auto audit = store::list_audit(*db, client);
  EXPECT_EQ(audit->back().action, "move");
  EXPECT_EQ(audit->back().actor, "sidekick");
}

TEST_F(OutboxTest, FailuresAreRetriedLaterWithGrowingDelays) {
  decide(Disposition::handled, {{EffectKind::move_to_folder, "Sidekick/Handled"}});
  engine::Outbox outbox(*db, clock, *ids);
  RecordingExecutor exec;
  exec.failures = 2;
  EXPECT_EQ(outbox.run(client, exec)->failed, 1u);
  EXPECT_EQ(outbox.run(client, exec)->failed, 0u);  // not due yet
  clock.advance(30);
  EXPECT_EQ(outbox.run(client, exec)->failed, 1u);  // second failure: next in 2 minutes
  clock.advance(60);
  EXPECT_EQ(outbox.run(client, exec)->done, 0u);
  clock.advance(60);
  EXPECT_EQ(outbox.run(client, exec)->done, 1u);
  auto effects = store::effects_for_item(*db, client, item);
  EXPECT_EQ(effects->at(0).status, "done");
  EXPECT_EQ(effects->at(0).attempts, 3);
}

TEST_F(OutboxTest, AnEffectInterruptedMidwayIsCarriedOutAgain) {
  decide(Disposition::handled, {{EffectKind::move_to_folder, "Sidekick/Handled"}});
  auto effects = store::effects_for_item(*db, client, item);
  // A process recorded "running" and died before recording the outcome.
  ASSERT_TRUE(store::begin_effect(*db, client, effects->at(0).id).ok());
  engine::Outbox outbox(*db, clock, *ids);
  RecordingExecutor exec;
  EXPECT_EQ(outbox.run(client, exec)->done, 1u);
  EXPECT_EQ(exec.done.size(), 1u);
}

// Effects of different items reach the executor together; an item's own effects never in
// the same call, and in the order they were planned.
TEST_F(OutboxTest, EffectsOfDifferentItemsGoTogetherAndAnItemsOwnStayInOrder) {
  struct Batches : RecordingExecutor {
    std::vector<std::size_t> sizes;
    std::vector<Result<std::string>> execute_many(
        const std::vector<engine::DueEffect>& due) override {
      sizes.push_back(due.size());
      std::set<ItemId> items;
      for (const auto& d : due) EXPECT_TRUE(items.insert(d.item.item.id).second);
      return EffectExecutor::execute_many(due);
    }
  };
  decide(Disposition::screened,
         {{EffectKind::move_to_folder, "Sidekick/Screened"}, {EffectKind::flag, "\\Seen"}});
  const ItemId other = add_item("itm_2", 43);
  Decision d;
  d.item = other;
  d.disposition = Disposition::screened;
  d.effects = {{EffectKind::move_to_folder, "Sidekick/Screened"}, {EffectKind::flag, "\\Seen"}};
  ASSERT_TRUE(store::record_decision(*db, *ids, clock, client, d, "triage", "").ok());

  engine::Outbox outbox(*db, clock, *ids);
  Batches exec;
  auto r = outbox.run(client, exec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->done, 4u);
  EXPECT_EQ(exec.sizes, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(exec.done, (std::vector<std::string>{"move Sidekick/Screened itm_1",
                                                 "move Sidekick/Screened itm_2",
                                                 "flag \\Seen itm_1", "flag \\Seen itm_2"}));
  // Audited one by one, as when they went one at a time.
  int moves = 0;
  auto audit = store::list_audit(*db, client);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit) moves += e.action == "move";
  EXPECT_EQ(moves, 2);
}

TEST_F(OutboxTest, ACorrectionCancelsWhatTheOldDecisionHadNotStarted) {
  decide(Disposition::screened, {{EffectKind::move_to_folder, "Sidekick/Screened"}});
  decide(Disposition::to_client, {{EffectKind::flag, "\\Flagged"}});
  engine::Outbox outbox(*db, clock, *ids);
  RecordingExecutor exec;
  ASSERT_TRUE(outbox.run(client, exec).ok());
  EXPECT_EQ(exec.done, std::vector<std::string>{"flag \\Flagged itm_1"});
  EXPECT_EQ(store::effects_for_item(*db, client, item)->at(0).status, "superseded");
}

}  // namespace

namespace {

TEST(Intake, ARenumberedMailboxAddsNothingNew) {
  auto db = sk::test::open_test_database();
  ASSERT_TRUE(store::migrate(*db).ok());
  store::DbIds ids(*db);
  FixedClock clock{1'750'000'000};
  engine::Engine engine(*db, clock, ids, triage::SpamModel{});
  ClientId client = store::create_client(*db, ids, clock, "acme", "", "")->id;
  std::string raw = "From: a@x.example\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n";
  auto first = engine.intake_message(client, "imap:acc_1:7:42", raw, "INBOX");
  ASSERT_TRUE(first.ok() && !first->empty());
  ASSERT_TRUE(engine.triage_pending(client).ok());
  // UIDVALIDITY went from 7 to 9: the same bytes under a new UID are the same item.
  auto again = engine.intake_message(client, "imap:acc_1:9:3", raw, "INBOX", "imap:acc_1:");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(*store::count_items(*db, client), 1);
  EXPECT_EQ(store::get_item(*db, client, *first)->item.source_key, "imap:acc_1:9:3");
  EXPECT_EQ(engine.triage_pending(client)->decided, 0u);
  // Another account's message with the same bytes is its own item.
  auto other = engine.intake_message(client, "imap:acc_2:1:1", raw, "INBOX", "imap:acc_2:");
  EXPECT_FALSE(other->empty());
}

}  // namespace

namespace {

// Counts what would reach the submission server; `in_sent` plays the Sent folder.
struct CountingSender : engine::MailSender {
  store::Db* db = nullptr;
  ClientId client;
  std::vector<std::string> submitted;  // Message-IDs the server took
  std::vector<std::string> in_sent;
  std::optional<Error> refuse;
  bool silent_after_end_mark = false;  // the server takes the message but never answers
  std::string status_before_end_mark;

  Result<bool> already_sent(const store::OutgoingMessage& m) override {
    return std::find(in_sent.begin(), in_sent.end(), m.message_id) != in_sent.end();
  }
  Result<mail::Handover> submit(const store::OutgoingMessage& m,
                                const std::function<bool()>& before_end) override {
    if (refuse) return *refuse;
    if (!before_end()) return make_error(Errc::io, "abandoned");
    // What a process killed right now would find when it starts again.
    status_before_end_mark =
        std::string(store::to_string(store::get_outgoing(*db, client, m.id)->status));
    submitted.push_back(m.message_id);
    if (silent_after_end_mark) return mail::Handover{false, "the server did not answer"};
    return mail::Handover{};
  }
  Result<void> file_copy(const store::OutgoingMessage& m) override {
    in_sent.push_back(m.message_id);
    return ok();
  }
};

struct SendingTest : ::testing::Test {
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
  FixedClock clock{1'750'000'000};
  std::unique_ptr<store::DbIds> ids;
  ClientId client;
  ItemId item;
  CountingSender sender;

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    client = store::create_client(*db, *ids, clock, "acme", "Acme Ltd", "owner@acme.example")->id;
    const std::string raw =
        "From: Dana <dana@customer.example>\r\nTo: owner@acme.example\r\nSubject: Opening "
        "hours\r\nMessage-ID: <q1@customer.example>\r\n\r\nAre you open on Sunday?\r\n";
    Item it = mail::parse_message(raw);
    it.id = "itm_1";
    it.client = client;
    it.source_key = "test:1";
    it.received_at = clock.now();
    ASSERT_TRUE(store::insert_item(*db, it, "", raw, "test").ok());
    item = it.id;
    sender.db = db.get();
    sender.client = client;
  }
};

TEST_F(SendingTest, ADraftWaitsForApprovalThenGoesOutOnceThreadedAndAudited) {
  engine::ReplyRequest r;
  r.answers = item;
  r.body = "We are closed on Sundays.";
  r.quote = true;
  r.reason = "knowledge base: opening hours";
  auto draft = engine::queue_reply(*db, clock, *ids, client, r, "sidekick");
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  EXPECT_EQ(draft->status, store::OutgoingStatus::draft);
  EXPECT_EQ(draft->to, std::vector<std::string>{"dana@customer.example"});
  EXPECT_EQ(draft->subject, "Re: Opening hours");
  EXPECT_NE(draft->raw.find("In-Reply-To: <q1@customer.example>"), std::string::npos);
  EXPECT_NE(draft->raw.find("> Are you open on Sunday?"), std::string::npos);  // quoted
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  EXPECT_TRUE(sender.submitted.empty());  // a draft is not sent

  auto approved = engine::approve_outgoing(
      *db, clock, client, draft->id, std::string("Closed on Sundays, open Monday 9-5."), "va:kim");
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_NE(approved->raw.find("Closed on Sundays, open Monday 9-5."), std::string::npos);
  EXPECT_FALSE(
      engine::approve_outgoing(*db, clock, client, draft->id, std::nullopt, "va:kim").ok());

  auto report = engine::send_due(*db, clock, client, sender);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->sent, 1u);
  EXPECT_EQ(sender.submitted, std::vector<std::string>{draft->message_id});
  // That the server is taking it was on record before it could.
  EXPECT_EQ(sender.status_before_end_mark, "handing_over");
  EXPECT_EQ(sender.in_sent.size(), 1u);
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  EXPECT_EQ(sender.submitted.size(), 1u);  // never twice
  auto m = store::get_outgoing(*db, client, draft->id);
  EXPECT_EQ(m->status, store::OutgoingStatus::sent);
  EXPECT_TRUE(m->filed);
  auto audit = store::list_audit(*db, client);
  std::vector<std::string> actions;
  for (const auto& e : *audit) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"draft written", "draft approved", "mail sent"}));
}

TEST_F(SendingTest, AForwardCarriesTheOriginalToItsRecipients) {
  engine::ReplyRequest r;
  r.answers = item;
  r.kind = "forward";
  r.body = "Could you take this one?";
  r.send_now = true;
  EXPECT_FALSE(engine::queue_reply(*db, clock, *ids, client, r, "va:kim").ok());  // to whom?
  r.to = {"Helper@Acme.example"};
  auto m = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->to, std::vector<std::string>{"helper@acme.example"});
  EXPECT_EQ(m->subject, "Fwd: Opening hours");
  EXPECT_NE(m->raw.find("Content-Type: message/rfc822"), std::string::npos);
  EXPECT_NE(m->raw.find("Are you open on Sunday?"), std::string::npos);
  EXPECT_NE(m->raw.find("References: <q1@customer.example>"), std::string::npos);
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  EXPECT_EQ(sender.submitted, std::vector<std::string>{m->message_id});
}

TEST_F(SendingTest, AMessageInterruptedWhileSendingIsNotSentAgainWhenSentHasIt) {
  engine::ReplyRequest r{.answers = item, .body = "Yes.", .send_now = true};
  auto m = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  ASSERT_TRUE(m.ok());
  // A process recorded "sending", got the message out and filed, and died.
  auto row = *m;
  row.status = store::OutgoingStatus::sending;
  row.attempts = 1;
  ASSERT_TRUE(store::update_outgoing(*db, row).ok());
  sender.in_sent.push_back(row.message_id);
  auto report = engine::send_due(*db, clock, client, sender);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->found_sent, 1u);
  EXPECT_TRUE(sender.submitted.empty());

  // One that died before the server had it goes out on the next start.
  auto other = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  row = *other;
  row.status = store::OutgoingStatus::sending;
  ASSERT_TRUE(store::update_outgoing(*db, row).ok());
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  EXPECT_EQ(sender.submitted, std::vector<std::string>{row.message_id});
}

TEST_F(SendingTest, AMessageInterruptedAsTheServerTookItIsTakenAsSentAndNotSentAgain) {
  engine::ReplyRequest r{.answers = item, .body = "Yes.", .send_now = true};
  // A process died after the last byte and before the server's answer; the copy in Sent
  // shows that it had gone.
  auto filed = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  auto row = *filed;
  row.status = store::OutgoingStatus::handing_over;
  ASSERT_TRUE(store::update_outgoing(*db, row).ok());
  sender.in_sent.push_back(row.message_id);
  auto report = engine::send_due(*db, clock, client, sender);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->found_sent, 1u);
  EXPECT_EQ(store::get_outgoing(*db, client, row.id)->status, store::OutgoingStatus::sent);

  // Without that copy the server has almost surely taken it all the same: not sent twice,
  // filed, and the audit log says it was taken as sent.
  auto unknown = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  row = *unknown;
  row.status = store::OutgoingStatus::handing_over;
  ASSERT_TRUE(store::update_outgoing(*db, row).ok());
  report = engine::send_due(*db, clock, client, sender);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->taken_as_sent, 1u);
  EXPECT_TRUE(sender.submitted.empty());
  auto m = store::get_outgoing(*db, client, row.id);
  EXPECT_EQ(m->status, store::OutgoingStatus::sent);
  EXPECT_TRUE(m->filed);
  EXPECT_EQ(sender.in_sent.back(), row.message_id);
  auto audit = store::list_audit(*db, client);
  EXPECT_EQ(audit->back().action, "mail sent");
  EXPECT_EQ(audit->back().subject, row.id + " to dana@customer.example: Re: Opening hours");
  EXPECT_NE(audit->back().reason.find("taken as sent, not sent again"), std::string::npos);
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  EXPECT_TRUE(sender.submitted.empty());  // never twice
}

// The server took every byte and the end mark, then timed out or hung up without a word: it
// most likely has the message, and sending it again is how mail arrives twice.
TEST_F(SendingTest, AMessageTheServerFellSilentOnIsTakenAsSentAndNotSentAgain) {
  engine::ReplyRequest r{.answers = item, .body = "Yes.", .send_now = true};
  auto queued = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  sender.silent_after_end_mark = true;
  auto report = engine::send_due(*db, clock, client, sender);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->taken_as_sent, 1u);
  EXPECT_EQ(report->failed, 0u);
  auto m = store::get_outgoing(*db, client, queued->id);
  EXPECT_EQ(m->status, store::OutgoingStatus::sent);
  EXPECT_TRUE(m->filed);
  auto audit = store::list_audit(*db, client);
  EXPECT_EQ(audit->back().action, "mail sent");
  EXPECT_EQ(audit->back().reason,
            "the whole message was handed over, then the server did not answer: taken as sent, "
            "not sent again");
  clock.advance(86400);
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  EXPECT_EQ(sender.submitted, std::vector<std::string>{m->message_id});  // once
}

TEST_F(SendingTest, TemporaryFailuresAreRetriedAndPermanentOnesWaitForAVA) {
  engine::ReplyRequest r{.answers = item, .body = "Yes.", .send_now = true};
  auto m = engine::queue_reply(*db, clock, *ids, client, r, "va:kim");
  sender.refuse = Error{Errc::io, "connection refused"};
  EXPECT_EQ(engine::send_due(*db, clock, client, sender)->failed, 1u);
  EXPECT_EQ(engine::send_due(*db, clock, client, sender)->failed, 0u);  // not due yet
  clock.advance(31);
  sender.refuse = Error{Errc::invalid_input, "550 mailbox unavailable"};
  EXPECT_EQ(engine::send_due(*db, clock, client, sender)->failed, 1u);
  auto row = store::get_outgoing(*db, client, m->id);
  EXPECT_EQ(row->status, store::OutgoingStatus::failed);
  EXPECT_EQ(row->last_error, "550 mailbox unavailable");
  clock.advance(86400);
  EXPECT_EQ(engine::send_due(*db, clock, client, sender)->failed, 0u);
  EXPECT_TRUE(sender.submitted.empty());
  // A VA mends the address and sends it again: tried at once, from scratch, and audited.
  sender.refuse.reset();
  auto again = engine::approve_outgoing(*db, clock, client, m->id, "Yes, see you then.", "va:kim");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->status, store::OutgoingStatus::queued);
  EXPECT_EQ(again->attempts, 0);
  EXPECT_EQ(again->last_error, "");
  EXPECT_EQ(engine::send_due(*db, clock, client, sender)->sent, 1u);
  EXPECT_EQ(sender.submitted, std::vector<std::string>{m->message_id});
  EXPECT_NE(store::get_outgoing(*db, client, m->id)->raw.find("see you then"), std::string::npos);
  bool audited = false;
  auto audit = store::list_audit(*db, client);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit)
    audited = audited || (e.action == "mail sent again" && e.actor == "va:kim" &&
                          e.reason == "edited, after: 550 mailbox unavailable");
  EXPECT_TRUE(audited);
  // Sent mail is not sent again.
  EXPECT_EQ(
      engine::approve_outgoing(*db, clock, client, m->id, std::nullopt, "va:kim").error().code,
      Errc::conflict);
}

TEST_F(SendingTest, AReplyEffectUsesTheClientsTemplateAndRespectsRfc3834) {
  ASSERT_TRUE(store::set_template(*db, client,
                                  {"thanks", "", "Hi {{sender_name}}, about {{subject}}: thanks!"})
                  .ok());
  Decision d;
  d.item = item;
  d.disposition = Disposition::handled;
  d.effects = {{EffectKind::reply, "thanks"}};
  ASSERT_TRUE(store::record_decision(*db, *ids, clock, client, d, "triage", "").ok());
  engine::Outbox outbox(*db, clock, *ids);
  struct Nothing : engine::EffectExecutor {
    Result<std::string> execute(const store::EffectRecord&, const store::StoredItem&) override {
      return std::string("ok");
    }
  } nothing;
  ASSERT_TRUE(outbox.run(client, nothing).ok());
  // A repeat of the effect (a crash before it was marked done) plans nothing new.
  auto effects = store::effects_for_item(*db, client, item);
  ASSERT_TRUE(store::begin_effect(*db, client, effects->at(0).id).ok());
  ASSERT_TRUE(outbox.run(client, nothing).ok());
  auto out = store::list_outgoing(*db, client);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ(out->at(0).kind, "auto_reply");
  EXPECT_EQ(out->at(0).status, store::OutgoingStatus::queued);
  EXPECT_NE(out->at(0).body.find("Hi Dana, about Opening hours: thanks!"), std::string::npos);
  EXPECT_NE(out->at(0).raw.find("Auto-Submitted: auto-replied"), std::string::npos);

  // Dana writes again the same day: no second automatic reply.
  const std::string raw2 =
      "From: Dana <dana@customer.example>\r\nTo: owner@acme.example\r\nSubject: And "
      "Monday?\r\nMessage-ID: <q2@customer.example>\r\n\r\nAnd Monday?\r\n";
  Item it = mail::parse_message(raw2);
  it.id = "itm_2";
  it.client = client;
  it.source_key = "test:2";
  ASSERT_TRUE(store::insert_item(*db, it, "", raw2, "test").ok());
  d.item = "itm_2";
  ASSERT_TRUE(store::record_decision(*db, *ids, clock, client, d, "triage", "").ok());
  clock.advance(3600);
  ASSERT_TRUE(outbox.run(client, nothing).ok());
  EXPECT_EQ(store::list_outgoing(*db, client)->size(), 1u);
  auto second = store::effects_for_item(*db, client, "itm_2");
  EXPECT_NE(second->at(0).result.find("no automatic reply"), std::string::npos)
      << second->at(0).result;
}

}  // namespace
