#include <gtest/gtest.h>

#include "postgres.hpp"
#include "store/accounts.hpp"
#include "store/db.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "store/users.hpp"
#include "support.hpp"

using namespace sk;
using namespace sk::store;

namespace {

struct StoreBase : ::testing::Test {
  std::unique_ptr<Db> db;
  FixedClock clock{1'700'000'000};
  SequentialIds ids;
  ClientRecord client;

  // engine: "sqlite" (in memory) or "postgresql" (a fresh database on a real server).
  void open(const std::string& engine) {
    auto r = engine == "sqlite" ? open_sqlite(":memory:")
                                : open_postgres(sk::test::Postgres::shared().fresh_database());
    ASSERT_TRUE(r.ok()) << r.error().message;
    db = std::move(r).value();
    auto migrated = migrate(*db);
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    auto c = create_client(*db, ids, clock, "acme", "Acme", "Owner@Acme.example");
    ASSERT_TRUE(c.ok()) << c.error().message;
    client = *c;
  }

  ItemId add_item(const std::string& from, const std::string& key) {
    Item it;
    it.id = ids.next("itm");
    it.client = client.id;
    it.source_key = key;
    it.from_address = from;
    it.subject = "hello";
    it.text = "body";
    it.received_at = clock.now();
    auto party = ensure_party(*db, ids, clock, client.id, from, "");
    EXPECT_TRUE(party.ok());
    auto ins = insert_item(*db, it, *party, "raw bytes", "test");
    EXPECT_TRUE(ins.ok());
    return *ins ? it.id : ItemId{};
  }
};

// Every repository's SQL, on both engines.
struct StoreTest : StoreBase, ::testing::WithParamInterface<std::string> {
  void SetUp() override { open(GetParam()); }
  bool postgres() const { return GetParam() == "postgresql"; }
};

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// SQLite's query planner.
struct SqliteStoreTest : StoreBase {
  void SetUp() override { open("sqlite"); }
};

TEST_P(StoreTest, MigrationsAreVersionedAndRepeatable) {
  EXPECT_GE(latest_schema_version(), 3);
  EXPECT_EQ(*schema_version(*db), latest_schema_version());
  ASSERT_TRUE(migrate(*db).ok());
  EXPECT_EQ(*schema_version(*db), latest_schema_version());
  // A database a newer Sidekick migrated is not touched by this one.
  ASSERT_TRUE(db->exec("INSERT INTO schema_migrations VALUES (?, 'later')",
                       {std::int64_t{latest_schema_version() + 1}})
                  .ok());
  auto newer = migrate(*db);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.error().code, Errc::conflict);
  EXPECT_NE(newer.error().message.find("made by a newer Sidekick"), std::string::npos);
}

// What triage asks of the store for every message is found through an index, not by reading
// every planned effect or every address of the client: those made a first pass over a big
// mailbox slower with every message (10,000 messages: most of the time went there).
TEST_F(SqliteStoreTest, WhatTriageAsksPerMessageIsIndexed) {
  auto plan = [&](const std::string& sql) {
    auto rows = db->query("EXPLAIN QUERY PLAN " + sql, {std::string("c"), std::string("x")});
    EXPECT_TRUE(rows.ok());
    std::string out;
    for (const auto& r : *rows) out += r.str(3) + "\n";
    return out;
  };
  // record_decision: the replaced decision's planned effects.
  EXPECT_NE(plan("UPDATE effects SET status = 'superseded' WHERE client_id = ? AND item_id = ? "
                 "AND status = 'planned'")
                .find("USING INDEX effects_item (item_id=? AND status=?)"),
            std::string::npos);
  // find_party: the sender's addresses, in order.
  EXPECT_NE(plan("SELECT identity FROM identities WHERE client_id = ? AND party_id = ? ORDER BY "
                 "identity")
                .find("USING INDEX identities_party (party_id=?)"),
            std::string::npos);
}

TEST_P(StoreTest, AccountsAreValidatedAndScoped) {
  AccountRecord a;
  a.client = client.id;
  a.address = "Owner@Acme.example";
  a.username = "owner";
  a.sealed_secret = "sealed";
  a.secret_kind = "password";
  a.imap_host = "127.0.0.1";
  a.imap_port = 993;
  auto added = add_account(*db, ids, clock, a);
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(added->address, "owner@acme.example");
  EXPECT_EQ(add_account(*db, ids, clock, a).error().code, Errc::conflict);
  AccountRecord bad = a;
  bad.address = "other@acme.example";
  bad.imap_security = "maybe";
  EXPECT_EQ(add_account(*db, ids, clock, bad).error().code, Errc::invalid_input);
  EXPECT_EQ(get_account(*db, client.id, "OWNER@acme.example")->id, added->id);
  EXPECT_EQ(get_account(*db, "cli_other", added->id).error().code, Errc::not_found);
  EXPECT_EQ(list_accounts(*db, client.id)->size(), 1u);

  EXPECT_FALSE(mailbox_state(*db, added->id, "INBOX")->has_value());
  ASSERT_TRUE(save_mailbox_state(*db, added->id, "INBOX", {7, 41}).ok());
  ASSERT_TRUE(save_mailbox_state(*db, added->id, "INBOX", {7, 42}).ok());
  auto st = mailbox_state(*db, added->id, "INBOX");
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->uidvalidity, 7u);
  EXPECT_EQ((*st)->last_uid, 42u);
}

TEST_P(StoreTest, ClientsHaveUniqueValidNames) {
  EXPECT_EQ(client.email, "owner@acme.example");
  auto dup = create_client(*db, ids, clock, "acme", "", "");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::conflict);
  auto bad = create_client(*db, ids, clock, "Bad Name!", "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  EXPECT_EQ(find_client(*db, "acme")->id, client.id);
  EXPECT_EQ(find_client(*db, "nope").error().code, Errc::not_found);
}

TEST_P(StoreTest, SameSourceKeyIsOneItem) {
  ItemId first = add_item("a@x.example", "k1");
  EXPECT_FALSE(first.empty());
  EXPECT_TRUE(add_item("a@x.example", "k1").empty());
  EXPECT_EQ(*count_items(*db, client.id), 1);
  EXPECT_EQ(*raw_message(*db, client.id, first), "raw bytes");
}

TEST_P(StoreTest, RepositoriesAreScopedByClient) {
  ItemId id = add_item("a@x.example", "k1");
  auto other = create_client(*db, ids, clock, "other", "", "");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(get_item(*db, other->id, id).error().code, Errc::not_found);
  EXPECT_EQ(raw_message(*db, other->id, id).error().code, Errc::not_found);
  EXPECT_TRUE(undecided_items(*db, other->id)->empty());
  EXPECT_EQ(undecided_items(*db, client.id)->size(), 1u);
}

TEST_P(StoreTest, DecisionReplacesTheCurrentOneAndIsAudited) {
  ItemId id = add_item("a@x.example", "k1");
  Decision d;
  d.item = id;
  d.category = Category::newsletter;
  d.disposition = Disposition::handled;
  d.reasons = {{"rule", "rule \"x\" matched"}};
  d.effects = {{EffectKind::move_to_folder, "Sidekick/Handled"}};
  auto first = record_decision(*db, ids, clock, client.id, d, "triage", "first");
  ASSERT_TRUE(first.ok()) << first.error().message;
  d.category = Category::personal;
  d.disposition = Disposition::to_client;
  ASSERT_TRUE(record_decision(*db, ids, clock, client.id, d, "va:kim", "corrected").ok());
  auto current = current_decision(*db, client.id, id);
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->category, Category::personal);
  EXPECT_EQ((*current)->decided_by, "va:kim");
  EXPECT_EQ(decision_history(*db, client.id, id)->size(), 2u);
  EXPECT_TRUE(undecided_items(*db, client.id)->empty());
  auto audit = list_audit(*db, client.id);
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "decided");
  EXPECT_EQ((*audit)[1].action, "corrected");
  EXPECT_EQ((*audit)[1].actor, "va:kim");
  EXPECT_EQ((*audit)[1].reason, "corrected");
  auto effects = effects_for_item(*db, client.id, id);
  ASSERT_EQ(effects->size(), 2u);  // one per decision, each with its own key
  EXPECT_NE((*effects)[0].idempotency_key, (*effects)[1].idempotency_key);
}

TEST_P(StoreTest, RevisionGrowsWithWhatTheQueueShows) {
  auto rev = [&] { return revision(*db, {client.id}).value(); };
  const auto start = rev();
  Decision d;
  d.item = add_item("a@x.example", "k1");
  d.category = Category::newsletter;
  d.disposition = Disposition::handled;
  auto first = record_decision(*db, ids, clock, client.id, d, "triage", "first");
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto decided = rev();
  EXPECT_GT(decided, start);

  OutgoingMessage m;
  m.id = "out_1";
  m.client = client.id;
  m.kind = "reply";
  m.message_id = "m1@acme.example";
  m.created_by = "va";
  ASSERT_TRUE(insert_outgoing(*db, m).ok());
  const auto drafted = rev();
  EXPECT_GT(drafted, decided);
  m.subject = "edited";
  ASSERT_TRUE(update_outgoing(*db, m).ok());
  EXPECT_GT(rev(), drafted);
  m.status = OutgoingStatus::queued;
  ASSERT_TRUE(update_outgoing(*db, m).ok());
  const auto queued = rev();
  // Send attempts are not the queue's business: they leave it as it was.
  m.attempts = 1;
  m.status = OutgoingStatus::sending;
  ASSERT_TRUE(update_outgoing(*db, m).ok());
  EXPECT_EQ(rev(), queued);

  // Revisions add up over a caller's clients, and another client's changes do not count.
  auto other = create_client(*db, ids, clock, "globex", "Globex", "o@globex.example").value();
  EXPECT_EQ(revision(*db, {client.id, other.id}).value(), queued);
  EXPECT_EQ(revision(*db, {}).value(), 0);
}

TEST_P(StoreTest, ADecisionAndItsEffectsAreOneTransaction) {
  // An item that does not exist: nothing of the decision may remain.
  Decision d;
  d.item = "itm_missing";
  d.effects = {{EffectKind::flag, "\\Flagged"}};
  auto r = record_decision(*db, ids, clock, client.id, d, "triage", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM decisions")->at(0).i64(0), 0);
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM effects")->at(0).i64(0), 0);
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM audit")->at(0).i64(0), 0);
}

TEST_P(StoreTest, EvidenceChainDetectsATamperedEntry) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(append_evidence(*db, client.id, clock.now() + i, "itm_" + std::to_string(i),
                                "pty_1", "{\"n\":" + std::to_string(i) + "}")
                    .ok());
  auto check = verify_evidence(*db, client.id);
  EXPECT_TRUE(check->intact);
  EXPECT_EQ(check->entries, 3);

  // The log refuses edits through SQL...
  auto edit = db->exec("UPDATE evidence SET payload = 'x' WHERE seq = 2");
  EXPECT_FALSE(edit.ok());
  // ...so a tamperer has to drop the guard first; the chain still tells.
  ASSERT_TRUE(db->exec(postgres() ? "DROP TRIGGER evidence_no_update ON evidence"
                                  : "DROP TRIGGER evidence_no_update")
                  .ok());
  ASSERT_TRUE(db->exec("UPDATE evidence SET payload = '{\"n\":9}' WHERE seq = 2").ok());
  check = verify_evidence(*db, client.id);
  EXPECT_FALSE(check->intact);
  EXPECT_EQ(check->first_bad_seq, 2);
  EXPECT_NE(check->problem.find("changed"), std::string::npos);
}

TEST_P(StoreTest, EvidenceChainDetectsARemovedEntry) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(append_evidence(*db, client.id, clock.now(), "itm", "pty", "p").ok());
  ASSERT_TRUE(db->exec(postgres() ? "DROP TRIGGER evidence_no_delete ON evidence"
                                  : "DROP TRIGGER evidence_no_delete")
                  .ok());
  ASSERT_TRUE(db->exec("DELETE FROM evidence WHERE seq = 2").ok());
  auto check = verify_evidence(*db, client.id);
  EXPECT_FALSE(check->intact);
  EXPECT_NE(check->problem.find("missing"), std::string::npos);
}

TEST_P(StoreTest, PartiesKeepRelationshipsAndHistory) {
  auto p =
      set_relationship(*db, ids, clock, client.id, "Boss@X.example", Relationship::vip, "Boss");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->relationship, Relationship::vip);
  auto found = find_party(*db, client.id, "boss@x.example");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->name, "Boss");
  EXPECT_EQ((*found)->items_seen, 0);
  EXPECT_FALSE(find_party(*db, "cli_other", "boss@x.example")->has_value());
}

TEST_P(StoreTest, DbIdsAreShortAndSequential) {
  DbIds db_ids(*db);
  EXPECT_EQ(db_ids.next("itm"), "itm_1");
  EXPECT_EQ(db_ids.next("itm"), "itm_2");
  EXPECT_EQ(db_ids.next("dec"), "dec_1");
}

// A PostgreSQL server restarted under a running Sidekick (an upgrade, a crash, an
// administrator at 3 a.m.): reads and transactions go on, on a new session, without an error;
// a lone write that the restart cut short fails once, as it may have been committed, and the
// next one goes through.
struct PostgresStoreTest : StoreBase {
  void SetUp() override { open("postgresql"); }
  std::int64_t parties() {
    auto rows = db->query("SELECT COUNT(*) FROM parties WHERE client_id = ?", {client.id});
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? rows->at(0).i64(0) : -1;
  }
};

TEST_F(PostgresStoreTest, ARestartedServerIsConnectedToAgain) {
  add_item("first@example.com", "k1");
  ASSERT_EQ(parties(), 1);
  sk::test::Postgres::shared().restart();
  EXPECT_EQ(parties(), 1);  // a read: sent again on a new session
  sk::test::Postgres::shared().restart();
  add_item("second@example.com", "k2");  // a transaction: begun again on a new session
  EXPECT_EQ(parties(), 2);
  sk::test::Postgres::shared().restart();
  const std::string insert =
      "INSERT INTO audit (client_id, at, actor, action, reason) "
      "VALUES (?, 0, 'test', 'restart', 'a lone write')";
  auto lone = db->exec(insert, {client.id});
  if (!lone.ok()) {
    EXPECT_EQ(lone.error().code, Errc::storage);
    lone = db->exec(insert, {client.id});
  }
  EXPECT_TRUE(lone.ok()) << lone.error().message;
  auto audit = db->query("SELECT COUNT(*) FROM audit WHERE reason = 'a lone write'");
  ASSERT_TRUE(audit.ok()) << audit.error().message;
  EXPECT_EQ(audit->at(0).i64(0), 1);
}

TEST(Sqlite, FileDatabaseUsesWal) {
  sk::test::TempDir dir;
  auto db = open_sqlite(dir.str() + "/x.db");
  ASSERT_TRUE(db.ok());
  EXPECT_EQ((*db)->query("PRAGMA journal_mode")->at(0).str(0), "wal");
  auto bad = (*db)->query("SELEC nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::storage);
}

}  // namespace
