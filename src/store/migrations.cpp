// Versioned schema. A migration is never edited once released: add a new one.
#include <array>
#include <string_view>

#include "store/db.hpp"

namespace sk::store {
namespace {

constexpr std::string_view kMigrations[] = {
    // 1: the engine core.
    R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT 'UTC',
  policy TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE TABLE parties (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  name TEXT NOT NULL DEFAULT '',
  relationship TEXT NOT NULL DEFAULT 'unknown',
  let_in INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX parties_client ON parties(client_id);
CREATE TABLE identities (
  client_id TEXT NOT NULL REFERENCES clients(id),
  identity TEXT NOT NULL,
  party_id TEXT NOT NULL REFERENCES parties(id),
  PRIMARY KEY (client_id, identity)
);
CREATE INDEX identities_party ON identities(party_id);
CREATE TABLE items (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  channel TEXT NOT NULL,
  source_key TEXT NOT NULL,
  party_id TEXT REFERENCES parties(id),
  from_address TEXT NOT NULL DEFAULT '',
  from_name TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  message_id TEXT NOT NULL DEFAULT '',
  sent_at INTEGER NOT NULL DEFAULT 0,
  received_at INTEGER NOT NULL,
  parse_status TEXT NOT NULL,
  text TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  origin TEXT NOT NULL DEFAULT '',
  UNIQUE (client_id, source_key)
);
CREATE INDEX items_client_received ON items(client_id, received_at);
CREATE INDEX items_client_from ON items(client_id, from_address);
CREATE INDEX items_party ON items(party_id);
CREATE TABLE raw_messages (
  item_id TEXT PRIMARY KEY REFERENCES items(id),
  client_id TEXT NOT NULL REFERENCES clients(id),
  bytes BLOB NOT NULL
);
CREATE TABLE decisions (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  item_id TEXT NOT NULL REFERENCES items(id),
  category TEXT NOT NULL,
  disposition TEXT NOT NULL,
  confidence REAL NOT NULL,
  spam_score REAL NOT NULL,
  labels TEXT NOT NULL DEFAULT '[]',
  reasons TEXT NOT NULL DEFAULT '[]',
  decided_by TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  current INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX decisions_item ON decisions(item_id, current);
CREATE UNIQUE INDEX decisions_one_current ON decisions(item_id) WHERE current = 1;
CREATE TABLE effects (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  decision_id TEXT NOT NULL REFERENCES decisions(id),
  item_id TEXT NOT NULL REFERENCES items(id),
  kind TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  idempotency_key TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'planned',
  result TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX effects_pending ON effects(status, created_at);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL REFERENCES clients(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_client ON audit(client_id, seq);
CREATE TABLE evidence (
  client_id TEXT NOT NULL REFERENCES clients(id),
  seq INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  party_id TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (client_id, seq)
);
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
CREATE TABLE rules (
  client_id TEXT NOT NULL REFERENCES clients(id),
  position INTEGER NOT NULL,
  rule TEXT NOT NULL,
  PRIMARY KEY (client_id, position)
);
CREATE TABLE lessons (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  item_id TEXT NOT NULL REFERENCES items(id),
  category TEXT NOT NULL,
  sender TEXT NOT NULL DEFAULT '',
  list_id TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  features TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX lessons_client ON lessons(client_id);
)sql",
    // 2: mail accounts, what has been seen of each mailbox, and effect attempts.
    R"sql(
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  address TEXT NOT NULL,
  username TEXT NOT NULL,
  secret BLOB NOT NULL,
  secret_kind TEXT NOT NULL,
  imap_host TEXT NOT NULL,
  imap_port INTEGER NOT NULL,
  imap_security TEXT NOT NULL,
  smtp_host TEXT NOT NULL DEFAULT '',
  smtp_port INTEGER NOT NULL DEFAULT 0,
  smtp_security TEXT NOT NULL DEFAULT 'starttls',
  verify_certificate INTEGER NOT NULL DEFAULT 1,
  first_pass_days INTEGER NOT NULL DEFAULT 14,
  created_at INTEGER NOT NULL,
  UNIQUE (client_id, address)
);
CREATE TABLE mailbox_state (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  folder TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  last_uid INTEGER NOT NULL,
  PRIMARY KEY (account_id, folder)
);
CREATE TABLE item_locations (
  item_id TEXT PRIMARY KEY REFERENCES items(id),
  client_id TEXT NOT NULL REFERENCES clients(id),
  account_id TEXT NOT NULL REFERENCES accounts(id),
  folder TEXT NOT NULL,
  uid INTEGER NOT NULL
);
ALTER TABLE items ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX items_content ON items(client_id, content_hash);
ALTER TABLE effects ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE effects ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0
)sql",
    // 3: mail leaving Sidekick (drafts, replies, invitations) and the client's templates.
    R"sql(
CREATE TABLE outgoing (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  item_id TEXT REFERENCES items(id),
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  to_addrs TEXT NOT NULL DEFAULT '[]',
  cc_addrs TEXT NOT NULL DEFAULT '[]',
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',
  parts TEXT NOT NULL DEFAULT '[]',
  message_id TEXT NOT NULL UNIQUE,
  source_key TEXT UNIQUE,
  raw BLOB,
  reason TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  sent_at INTEGER,
  filed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outgoing_due ON outgoing(client_id, status, next_attempt_at);
CREATE INDEX outgoing_recipient ON outgoing(client_id, kind, to_addrs);
CREATE TABLE templates (
  client_id TEXT NOT NULL REFERENCES clients(id),
  name TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  PRIMARY KEY (client_id, name)
);
ALTER TABLE accounts ADD COLUMN sent_folder TEXT NOT NULL DEFAULT 'Sent'
)sql",
    // 4: console users, their clients, sessions, API tokens and failed logins.
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  client_id TEXT REFERENCES clients(id),
  password_hash TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE assignments (
  user_id TEXT NOT NULL REFERENCES users(id),
  client_id TEXT NOT NULL REFERENCES clients(id),
  PRIMARY KEY (user_id, client_id)
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE login_failures (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at)
)sql",
    // 5: customer support: knowledge base, settings, conversations, what each item got.
    R"sql(
CREATE TABLE kb_entries (
  client_id TEXT NOT NULL REFERENCES clients(id),
  position INTEGER NOT NULL,
  key TEXT NOT NULL,
  question TEXT NOT NULL,
  variants TEXT NOT NULL DEFAULT '[]',
  answer TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  private INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (client_id, key)
);
CREATE TABLE support_settings (
  client_id TEXT PRIMARY KEY REFERENCES clients(id),
  threshold REAL NOT NULL DEFAULT 0.8,
  signature TEXT NOT NULL DEFAULT '',
  tone TEXT NOT NULL DEFAULT 'friendly',
  revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE support_conversations (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  customer TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  subject_key TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  first_response_at INTEGER NOT NULL DEFAULT 0,
  solved_at INTEGER NOT NULL DEFAULT 0,
  last_customer_at INTEGER NOT NULL DEFAULT 0,
  last_reply_at INTEGER NOT NULL DEFAULT 0,
  reopened INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX support_conversations_customer ON support_conversations(client_id, customer, subject_key);
CREATE TABLE support_messages (
  client_id TEXT NOT NULL REFERENCES clients(id),
  conversation_id TEXT NOT NULL REFERENCES support_conversations(id),
  message_id TEXT NOT NULL,
  item_id TEXT NOT NULL DEFAULT '',
  outgoing_id TEXT NOT NULL DEFAULT '',
  from_customer INTEGER NOT NULL,
  at INTEGER NOT NULL,
  UNIQUE (client_id, message_id, item_id, outgoing_id)
);
CREATE INDEX support_messages_id ON support_messages(client_id, message_id);
CREATE TABLE support_answers (
  client_id TEXT NOT NULL REFERENCES clients(id),
  item_id TEXT NOT NULL REFERENCES items(id),
  conversation_id TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  code TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  outgoing_id TEXT NOT NULL DEFAULT '',
  suggestions TEXT NOT NULL DEFAULT '[]',
  at INTEGER NOT NULL,
  PRIMARY KEY (client_id, item_id)
)
)sql",
    // 6: scheduling: availability, booking types, bookings, imported calendars, reminders.
    R"sql(
CREATE TABLE calendar_settings (
  client_id TEXT PRIMARY KEY REFERENCES clients(id),
  availability TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE booking_types (
  client_id TEXT NOT NULL REFERENCES clients(id),
  slug TEXT NOT NULL,
  definition TEXT NOT NULL,
  PRIMARY KEY (client_id, slug)
);
CREATE TABLE bookings (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  type_slug TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  guest_name TEXT NOT NULL DEFAULT '',
  guest_email TEXT NOT NULL DEFAULT '',
  guest_zone TEXT NOT NULL DEFAULT '',
  answers TEXT NOT NULL DEFAULT '{}',
  uid TEXT NOT NULL,
  sequence INTEGER NOT NULL DEFAULT 0,
  guest_partstat TEXT NOT NULL DEFAULT 'NEEDS-ACTION',
  source TEXT NOT NULL DEFAULT '',
  caldav_href TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (client_id, uid)
);
CREATE INDEX bookings_time ON bookings(client_id, starts_at);
CREATE TABLE calendar_imports (
  client_id TEXT NOT NULL REFERENCES clients(id),
  name TEXT NOT NULL,
  ics TEXT NOT NULL,
  imported_at INTEGER NOT NULL,
  PRIMARY KEY (client_id, name)
);
CREATE TABLE reminders (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  booking_id TEXT NOT NULL REFERENCES bookings(id),
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'planned'
);
CREATE INDEX reminders_due ON reminders(client_id, status, due_at)
)sql",
    // 7: a revision per client that grows with every change a VA's views show (decisions,
    // drafts, the client's name), kept by triggers so that changes from any process count.
    // Views cache what they built until it moves on.
    R"sql(
CREATE TABLE client_revisions (
  client_id TEXT PRIMARY KEY,
  n INTEGER NOT NULL
);
CREATE TRIGGER revise_on_decision AFTER INSERT ON decisions BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_decision_change AFTER UPDATE ON decisions BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_draft AFTER INSERT ON outgoing WHEN NEW.status = 'draft' BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_draft_change AFTER UPDATE ON outgoing WHEN OLD.status = 'draft' OR NEW.status = 'draft' BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_draft_removed AFTER DELETE ON outgoing WHEN OLD.status = 'draft' BEGIN INSERT INTO client_revisions VALUES (OLD.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_client_change AFTER UPDATE ON clients BEGIN INSERT INTO client_revisions VALUES (NEW.id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
    // 8: the client's CalDAV calendar (secret sealed like mail passwords), and which version of
    // each booking it holds.
    R"sql(
CREATE TABLE calendar_accounts (
  client_id TEXT PRIMARY KEY REFERENCES clients(id),
  url TEXT NOT NULL,
  username TEXT NOT NULL,
  secret BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  synced_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
ALTER TABLE bookings ADD COLUMN caldav_sequence INTEGER NOT NULL DEFAULT -1
)sql",
    // 9: the account an outgoing message goes out through, for clients with several.
    R"sql(
ALTER TABLE outgoing ADD COLUMN account_id TEXT NOT NULL DEFAULT ''
)sql",
    // 10: bookings waiting for the VA's confirmation are in the VA's queue, so they move the
    // client's revision too (from the booking page in any process).
    R"sql(
CREATE TRIGGER revise_on_pending_booking AFTER INSERT ON bookings WHEN NEW.status = 'pending' BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_pending_booking_change AFTER UPDATE ON bookings WHEN OLD.status = 'pending' OR NEW.status = 'pending' BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
    // 11: indexes for what triage asks of every message, each of which read more rows the
    // more mail there was (a first pass got slower with every message): the planned effects a
    // decision supersedes, found through effects_pending (every planned effect of every item),
    // and the sender's addresses, in order, found through the client's whole address list.
    R"sql(
CREATE INDEX effects_item ON effects(item_id, status);
DROP INDEX identities_party;
CREATE INDEX identities_party ON identities(party_id, identity)
)sql",
    // 12: when the client wants their digest mailed ("08:00" on their clock; empty: never).
    R"sql(
ALTER TABLE clients ADD COLUMN digest_at TEXT NOT NULL DEFAULT ''
)sql",
    // 13: mail that could not be sent waits in the VA's queue: its failing, and its leaving
    // that state (sent again, discarded), change what the queue shows.
    R"sql(
CREATE TRIGGER revise_on_failed_mail AFTER UPDATE ON outgoing WHEN (OLD.status = 'failed') <> (NEW.status = 'failed') BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
    // 14: whether each watched mailbox can be read: the VA and the agency see one that has
    // failed several rounds in a row, and since when. Crossing that line moves the revision.
    R"sql(
CREATE TABLE account_health (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  client_id TEXT NOT NULL REFERENCES clients(id),
  last_ok_at INTEGER NOT NULL DEFAULT 0,
  failing_since INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER revise_on_account_health AFTER UPDATE ON account_health WHEN (OLD.failures >= 3) <> (NEW.failures >= 3) BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
    // 15: what the public booking page counts against its limits (bookings per address,
    // changes per IP) is kept in the store, so every process behind a load balancer counts
    // the same actions (it was per process: N processes allowed N times as much).
    R"sql(
CREATE TABLE public_actions (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX public_actions_key ON public_actions(key, at)
)sql",
    // 16: effects that keep failing (kStuckAttempts) are shown to the VA: an effect getting
    // stuck, or unstuck, changes what the queue shows.
    R"sql(
CREATE TRIGGER revise_on_stuck_effect AFTER UPDATE ON effects WHEN (OLD.status = 'failed' AND OLD.attempts >= 4) <> (NEW.status = 'failed' AND NEW.attempts >= 4) BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
    // 17: routines: mail the assistant writes on a schedule (a daily team check-in), each
    // occurrence once.
    R"sql(
CREATE TABLE routines (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  name TEXT NOT NULL,
  rrule TEXT NOT NULL,
  starts TEXT NOT NULL,
  to_addrs TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  send_alone INTEGER NOT NULL,
  last_run INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (client_id, name)
)
)sql",
    // 18: phone lines: the numbers people call and text to reach a client, and the texts
    // Sidekick sent back on one.
    R"sql(
CREATE TABLE phone_lines (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  number TEXT NOT NULL UNIQUE,
  sealed_token TEXT NOT NULL,
  forward_to TEXT NOT NULL,
  region TEXT NOT NULL,
  greeting TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE texts_sent (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  item_id TEXT NOT NULL,
  to_number TEXT NOT NULL,
  body TEXT NOT NULL,
  reason TEXT NOT NULL,
  sent_at INTEGER NOT NULL
);
CREATE INDEX texts_sent_to ON texts_sent(client_id, to_number, sent_at)
)sql",
    // 19: tasks: what a VA has to do for a client (call back, follow up by Friday), open until
    // done; one due comes up in the queue, so a task moves the revision.
    R"sql(
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(id),
  title TEXT NOT NULL,
  notes TEXT NOT NULL,
  item_id TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  done_at INTEGER NOT NULL DEFAULT 0,
  done_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_open ON tasks(client_id, status, due_at);
CREATE TRIGGER revise_on_task AFTER INSERT ON tasks BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER revise_on_task_change AFTER UPDATE ON tasks BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
    // 20: whether a phone line's webhooks get through: a token changed at the provider makes
    // every text and call to the line fail with nothing else to show it. A line starting or
    // stopping to be refused (3 in a row) changes what the queue shows.
    R"sql(
ALTER TABLE phone_lines ADD COLUMN last_ok_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE phone_lines ADD COLUMN refused_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE phone_lines ADD COLUMN refusals INTEGER NOT NULL DEFAULT 0;
ALTER TABLE phone_lines ADD COLUMN last_refusal TEXT NOT NULL DEFAULT '';
CREATE TRIGGER revise_on_line_refused AFTER UPDATE ON phone_lines WHEN (OLD.refusals >= 3) <> (NEW.refusals >= 3) BEGIN INSERT INTO client_revisions VALUES (NEW.client_id, 1) ON CONFLICT(client_id) DO UPDATE SET n = n + 1; END
)sql",
};

}  // namespace

int latest_schema_version() {
  return static_cast<int>(std::size(kMigrations));
}

Result<int> schema_version(Db& db) {
  SK_TRY(
      db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
              "applied_at TEXT NOT NULL)"));
  SK_ASSIGN(auto rows, db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(rows.at(0).i64(0));
}

Result<void> known_schema(int version) {
  if (version <= latest_schema_version()) return ok();
  return make_error(Errc::conflict, "made by a newer Sidekick (schema " + std::to_string(version) +
                                        "; this one knows up to " +
                                        std::to_string(latest_schema_version()) + ")");
}

Result<int> stored_schema_version(Db& db) {
  SK_ASSIGN(auto tables, db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                                  "'schema_migrations'"));
  if (tables.empty()) return 0;
  SK_ASSIGN(auto rows, db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  return static_cast<int>(rows.at(0).i64(0));
}

Result<void> migrate(Db& db) {
  SK_ASSIGN(int current, schema_version(db));
  // An older build on a newer database would write rows that break the newer one's rules.
  if (auto known = known_schema(current); !known.ok())
    return make_error(known.error().code,
                      "the database was " + known.error().message + ": run that one");
  for (int v = current + 1; v <= static_cast<int>(std::size(kMigrations)); ++v) {
    SK_TRY(db.transaction([&]() -> Result<void> {
      // Statements are split on ";\n" so triggers keep their inner semicolons on one line.
      std::string_view sql = kMigrations[static_cast<std::size_t>(v - 1)];
      std::size_t start = 0;
      while (start < sql.size()) {
        auto end = sql.find(";\n", start);
        if (end == std::string_view::npos) end = sql.size();
        auto stmt = sql.substr(start, end - start);
        if (stmt.find_first_not_of(" \n\t") != std::string_view::npos) SK_TRY(db.exec(stmt));
        start = end + 2;
      }
      return db.exec("INSERT INTO schema_migrations VALUES (?, datetime('now'))",
                     {std::int64_t{v}});
    }));
  }
  return ok();
}

}  // namespace sk::store
