#include "engine/mailbox.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <thread>
#include <utility>

namespace sk::engine {
namespace {

constexpr const char* kInbox = "INBOX";
constexpr std::size_t kFetchBatch = 100;

// What it means when the client drops a message into one of Sidekick's folders.
struct FolderMeaning {
  const char* folder;
  Disposition disposition;
  bool spam;
};
constexpr FolderMeaning kSidekickFolders[] = {
    {"Sidekick/Spam", Disposition::screened, true},
    {"Sidekick/Screened", Disposition::screened, false},
    {"Sidekick/Handled", Disposition::handled, false},
    {"Sidekick/Blocked", Disposition::blocked, false},
    {"Sidekick/Protected", Disposition::protected_, false},
};

// "imap:ACCOUNT:UIDVALIDITY:UID" → UID, when the item came from this account.
std::optional<std::uint32_t> uid_of(const std::string& key, const std::string& account) {
  std::string prefix = "imap:" + account + ":";
  if (key.rfind(prefix, 0) != 0) return std::nullopt;
  auto colon = key.rfind(':');
  try {
    return static_cast<std::uint32_t>(std::stoul(key.substr(colon + 1)));
  } catch (...) {
    return std::nullopt;
  }
}

mail::ImapSecurity security_from(const std::string& s) {
  if (s == "none") return mail::ImapSecurity::none;
  if (s == "starttls") return mail::ImapSecurity::starttls;
  return mail::ImapSecurity::tls;
}

}  // namespace

namespace {

// The login part is the same for IMAP and SMTP: the account's user, its password or token,
// and whether certificates are checked.
template <class Config>
Config login_config(const store::AccountRecord& a, const std::string& secret) {
  Config c;
  c.user = a.username;
  (a.secret_kind == "xoauth2" ? c.oauth2_token : c.password) = secret;
  c.verify_certificate = a.verify_certificate;
  return c;
}

}  // namespace

mail::ImapConfig imap_config(const store::AccountRecord& a, const std::string& secret) {
  auto c = login_config<mail::ImapConfig>(a, secret);
  c.host = a.imap_host;
  c.port = a.imap_port;
  c.security = security_from(a.imap_security);
  return c;
}

mail::SmtpConfig smtp_config(const store::AccountRecord& a, const std::string& secret) {
  auto c = login_config<mail::SmtpConfig>(a, secret);
  c.host = a.smtp_host;
  c.port = a.smtp_port;
  c.security = a.smtp_security == "none"       ? mail::SmtpSecurity::none
               : a.smtp_security == "starttls" ? mail::SmtpSecurity::starttls
                                               : mail::SmtpSecurity::tls;
  return c;
}

Result<bool> AccountSender::already_sent(const store::OutgoingMessage& m) {
  if (!sent_folder_ready_) {
    SK_TRY(session_.create_folder(account_.sent_folder));
    sent_folder_ready_ = true;
  }
  SK_TRY(session_.select(account_.sent_folder));
  SK_ASSIGN(auto uids, session_.uids_with_header("Message-ID", "<" + m.message_id + ">"));
  return !uids.empty();
}

Result<mail::Handover> AccountSender::submit(const store::OutgoingMessage& m,
                                             const std::function<bool()>& before_end) {
  if (account_.smtp_host.empty())
    return make_error(Errc::invalid_input,
                      "the account " + account_.address + " has no SMTP server to send with");
  mail::Envelope envelope{account_.address, m.to};
  envelope.to.insert(envelope.to.end(), m.cc.begin(), m.cc.end());
  return mail::smtp_submit(smtp_config(account_, secret_), envelope, m.raw, before_end);
}

Result<void> AccountSender::file_copy(const store::OutgoingMessage& m) {
  SK_ASSIGN(bool there, already_sent(m));
  if (there) return ok();
  SK_TRY(session_.append(account_.sent_folder, m.raw, {"\\Seen"}));
  return ok();
}

namespace {

std::string left_behind(const std::string& folder) {
  return "no longer in " + folder + ": left where the client filed it";
}

std::string moved_text(const std::string& from, const std::string& to) {
  return "moved from " + from + " to " + to;
}

}  // namespace

Result<std::optional<store::ItemLocation>> ImapExecutor::locate(const store::StoredItem& item) {
  auto uid = uid_of(item.item.source_key, account_);
  if (!uid) return std::optional<store::ItemLocation>();
  SK_ASSIGN(auto known, store::item_location(db_, client_, item.item.id));
  return std::optional<store::ItemLocation>(known ? *known
                                                  : store::ItemLocation{account_, kInbox, *uid});
}

Result<void> ImapExecutor::ensure_folder(const std::string& folder) {
  if (folder == kInbox || std::find(created_.begin(), created_.end(), folder) != created_.end())
    return ok();
  SK_TRY(session_.create_folder(folder));
  created_.push_back(folder);
  return ok();
}

Result<std::uint32_t> ImapExecutor::moved_before(const store::EffectRecord& effect,
                                                 const store::StoredItem& item) {
  if (effect.kind != EffectKind::move_to_folder || effect.attempts == 0 ||
      item.item.message_id.empty())
    return 0u;
  if (auto selected = session_.ensure_selected(effect.target); !selected.ok())
    return selected.error().code == Errc::not_found ? Result<std::uint32_t>(0u)
                                                    : Result<std::uint32_t>(selected.error());
  SK_ASSIGN(auto uids, session_.uids_with_header("Message-ID", "<" + item.item.message_id + ">"));
  // Two copies of one message: which is which cannot be told, and the client may own either.
  if (uids.size() != 1) return 0u;
  SK_TRY(store::set_item_location(db_, client_, item.item.id, {account_, effect.target, uids[0]}));
  return uids[0];
}

Result<std::string> ImapExecutor::execute(const store::EffectRecord& effect,
                                          const store::StoredItem& item) {
  SK_ASSIGN(auto located, locate(item));
  if (!located) return std::string("not from this mailbox: nothing to do there");
  const store::ItemLocation& where = *located;
  if (effect.kind == EffectKind::move_to_folder && where.folder == effect.target)
    return "already in " + effect.target;
  if (effect.kind != EffectKind::move_to_folder && effect.kind != EffectKind::flag &&
      effect.kind != EffectKind::label)
    return std::string("nothing to do in the mailbox");
  SK_TRY(session_.ensure_selected(where.folder));
  bool present = false;
  if (where.uid != 0) {
    SK_ASSIGN(present, session_.has_uid(where.uid));
  }
  if (!present) {
    SK_ASSIGN(auto found, moved_before(effect, item));
    return found ? moved_text(where.folder, effect.target) : left_behind(where.folder);
  }

  if (effect.kind == EffectKind::move_to_folder) {
    SK_TRY(ensure_folder(effect.target));
    SK_ASSIGN(auto new_uid, session_.move(where.uid, effect.target));
    SK_TRY(
        store::set_item_location(db_, client_, item.item.id, {account_, effect.target, new_uid}));
    return moved_text(where.folder, effect.target);
  }
  // Labels become IMAP keywords, which must be atoms.
  std::string flag = effect.target;
  if (effect.kind == EffectKind::label) {
    flag = "$";
    for (char c : effect.target)
      flag += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  }
  SK_TRY(session_.set_flag(where.uid, flag, true));
  return "flagged " + flag;
}

std::vector<Result<std::string>> ImapExecutor::execute_many(const std::vector<DueEffect>& due) {
  std::vector<std::optional<Result<std::string>>> outcomes(due.size());
  std::map<std::pair<std::string, std::string>, std::vector<Move>> groups;  // (from, to)
  for (std::size_t i = 0; i < due.size(); ++i) {
    const auto& effect = due[i].effect;
    if (effect.kind != EffectKind::move_to_folder) {
      outcomes[i].emplace(execute(effect, due[i].item));
      continue;
    }
    auto located = locate(due[i].item);
    if (!located.ok())
      outcomes[i].emplace(located.error());
    else if (!*located)
      outcomes[i].emplace(std::string("not from this mailbox: nothing to do there"));
    else if ((*located)->folder == effect.target)
      outcomes[i].emplace("already in " + effect.target);
    else
      groups[{(*located)->folder, effect.target}].push_back({i, (*located)->uid});
  }
  for (const auto& [route, moves] : groups)
    move_together(route.first, route.second, moves, due, outcomes);
  std::vector<Result<std::string>> out;
  out.reserve(due.size());
  for (auto& o : outcomes) out.push_back(std::move(*o));
  return out;
}

void ImapExecutor::move_together(const std::string& from, const std::string& to,
                                 const std::vector<Move>& moves, const std::vector<DueEffect>& due,
                                 std::vector<std::optional<Result<std::string>>>& outcomes) {
  auto fail = [&](const std::vector<Move>& which, const Error& e) {
    for (const auto& m : which) outcomes[m.index].emplace(e);
  };
  if (auto selected = session_.ensure_selected(from); !selected.ok())
    return fail(moves, selected.error());
  std::vector<std::uint32_t> uids;
  for (const auto& m : moves) uids.push_back(m.uid);
  auto present = session_.present_uids(uids);
  if (!present.ok()) return fail(moves, present.error());
  std::vector<Move> there;
  for (const auto& m : moves) {
    if (m.uid != 0 && std::binary_search(present->begin(), present->end(), m.uid))
      there.push_back(m);
    else if (due[m.index].effect.attempts > 0)
      outcomes[m.index].reset();  // looked for in the target below, after the MOVE
    else
      outcomes[m.index].emplace(left_behind(from));
  }
  // Repeats whose message is gone: the interrupted attempt may have moved it already.
  auto look_in_target = [&] {
    for (const auto& m : moves) {
      if (outcomes[m.index]) continue;
      auto found = moved_before(due[m.index].effect, due[m.index].item);
      if (!found.ok())
        outcomes[m.index].emplace(found.error());
      else
        outcomes[m.index].emplace(*found ? moved_text(from, to) : left_behind(from));
    }
  };
  if (there.empty()) return look_in_target();
  if (auto made = ensure_folder(to); !made.ok()) {
    fail(there, made.error());
    return look_in_target();
  }

  uids.clear();
  for (const auto& m : there) uids.push_back(m.uid);
  auto moved = session_.move_many(uids, to);
  if (!moved.ok()) {
    // One message the server will not move must not hold back the others.
    for (const auto& m : there)
      outcomes[m.index].emplace(execute(due[m.index].effect, due[m.index].item));
    return look_in_target();
  }
  auto recorded = db_.transaction([&]() -> Result<void> {
    for (const auto& m : there) {
      auto it = moved->find(m.uid);
      if (it == moved->end()) continue;
      SK_TRY(store::set_item_location(db_, client_, due[m.index].item.item.id,
                                      {account_, to, it->second}));
    }
    return ok();
  });
  if (!recorded.ok()) {
    fail(there, recorded.error());
  } else {
    for (const auto& m : there)
      outcomes[m.index].emplace(moved->count(m.uid) ? moved_text(from, to) : left_behind(from));
  }
  look_in_target();
}

MailboxWatcher::MailboxWatcher(Engine& engine, store::Db& db, const Clock& clock,
                               store::AccountRecord account, std::string secret)
    : engine_(engine),
      db_(db),
      clock_(clock),
      account_(std::move(account)),
      secret_(std::move(secret)) {}

MailboxWatcher::~MailboxWatcher() = default;

Result<void> MailboxWatcher::ensure_connected() {
  if (session_) return ok();
  SK_ASSIGN(session_, mail::ImapSession::connect(imap_config(account_, secret_)));
  // Made up front, so the client can file into them from the start and whatever arrives
  // there later, not put there by Sidekick, is the client's correction.
  for (const auto& meaning : kSidekickFolders) {
    auto made = session_->create_folder(meaning.folder);
    if (!made.ok()) {
      session_.reset();
      return made.error();
    }
  }
  return ok();
}

Result<std::size_t> MailboxWatcher::take_in() {
  SK_ASSIGN(auto status, session_->select(kInbox));
  SK_ASSIGN(auto state, store::mailbox_state(db_, account_.id, kInbox));
  std::vector<std::uint32_t> uids;
  std::string rename_prefix;
  if (state && state->uidvalidity == status.uidvalidity) {
    SK_ASSIGN(uids, session_->uids_from(state->last_uid + 1));
    // "n:*" names the last message even when n is past it.
    std::erase_if(uids, [&](std::uint32_t u) { return u <= state->last_uid; });
  } else {
    // First pass, or the server renumbered the mailbox: look back over the window and
    // recognise messages already taken in by their bytes.
    Timestamp since = clock_.now() - static_cast<Timestamp>(account_.first_pass_days) * 86400;
    SK_ASSIGN(uids, session_->uids_since(since));
    if (state) rename_prefix = "imap:" + account_.id + ":";
  }
  std::sort(uids.begin(), uids.end());
  std::size_t taken = 0;
  std::uint32_t last = state && state->uidvalidity == status.uidvalidity ? state->last_uid : 0;
  for (std::size_t start = 0; start < uids.size(); start += kFetchBatch) {
    std::vector<std::uint32_t> batch(
        uids.begin() + static_cast<std::ptrdiff_t>(start),
        uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), start + kFetchBatch)));
    SK_ASSIGN(auto messages, session_->fetch(batch));
    // The items and the new high-water mark are stored together: a crash repeats the
    // batch, and the keys make the repeat add nothing.
    SK_TRY(db_.transaction([&]() -> Result<void> {
      for (const auto& m : messages) {
        if (rename_prefix.empty()) {
          // Bytes Sidekick has seen from this mailbox: the message came back to INBOX.
          SK_ASSIGN(ItemId known, store::find_item_by_content(db_, account_.client, m.bytes,
                                                              "imap:" + account_.id + ":"));
          if (!known.empty()) {
            SK_TRY(back_in_inbox(known, m.uid));
            last = std::max(last, m.uid);
            continue;
          }
        }
        SK_ASSIGN(ItemId id,
                  engine_.intake_message(
                      account_.client, store::imap_item_key(account_.id, status.uidvalidity, m.uid),
                      m.bytes, account_.address + "/INBOX", rename_prefix));
        if (!id.empty()) ++taken;
        last = std::max(last, m.uid);
      }
      return store::save_mailbox_state(db_, account_.id, kInbox, {status.uidvalidity, last});
    }));
  }
  // Every UID below the UIDNEXT seen before the search was either found by it or is gone, so
  // the mark may move up to there (mail that came and went must not look new forever).
  const std::uint32_t considered = status.uidnext > 0 ? status.uidnext - 1 : 0;
  if (considered > last || (uids.empty() && (!state || state->uidvalidity != status.uidvalidity))) {
    last = std::max(last, considered);
    SK_TRY(store::save_mailbox_state(db_, account_.id, kInbox, {status.uidvalidity, last}));
  }
  return taken;
}

Result<void> MailboxWatcher::back_in_inbox(const ItemId& item, std::uint32_t uid) {
  SK_ASSIGN(auto where, store::item_location(db_, account_.client, item));
  SK_TRY(store::set_item_location(db_, account_.client, item, {account_.id, kInbox, uid}));
  // Sidekick's own undo put it there (the location says INBOX already).
  if (!where || where->folder == kInbox) return ok();
  ++corrections_;
  SK_ASSIGN(auto before, store::current_decision(db_, account_.client, item));
  Category category = before ? before->category : Category::other;
  if (category == Category::spam) category = Category::other;
  SK_TRY(engine_.teach(account_.client, item, category, Disposition::to_client, "client",
                       "the client moved it from " + where->folder + " back to the inbox", false));
  return ok();
}

Result<std::size_t> MailboxWatcher::notice_client_moves() {
  std::size_t corrections = 0;
  for (const auto& meaning : kSidekickFolders) {
    auto status = session_->select(meaning.folder);
    if (!status.ok()) {
      if (status.error().code == Errc::not_found) continue;  // not made yet
      return status.error();
    }
    SK_ASSIGN(auto state, store::mailbox_state(db_, account_.id, meaning.folder));
    if (!state || state->uidvalidity != status->uidvalidity) {
      // First look: what is there now is where it was put; only later arrivals are moves.
      std::uint32_t top = status->uidnext > 0 ? status->uidnext - 1 : 0;
      SK_TRY(
          store::save_mailbox_state(db_, account_.id, meaning.folder, {status->uidvalidity, top}));
      continue;
    }
    SK_ASSIGN(auto uids, session_->uids_from(state->last_uid + 1));
    std::erase_if(uids, [&](std::uint32_t u) { return u <= state->last_uid; });
    if (uids.empty()) continue;
    std::vector<std::uint32_t> strangers;  // not put there by Sidekick
    for (auto uid : uids) {
      SK_ASSIGN(auto rows,
                db_.query("SELECT 1 FROM item_locations WHERE account_id = ? AND "
                          "folder = ? AND uid = ?",
                          {account_.id, std::string(meaning.folder), std::int64_t{uid}}));
      if (rows.empty()) strangers.push_back(uid);
    }
    SK_ASSIGN(auto messages, session_->fetch(strangers));
    SK_TRY(db_.transaction([&]() -> Result<void> {
      for (const auto& m : messages) {
        SK_ASSIGN(ItemId item, store::find_item_by_content(db_, account_.client, m.bytes,
                                                           "imap:" + account_.id + ":"));
        if (item.empty()) continue;  // never seen: the client's own filing, not a correction
        SK_ASSIGN(auto where, store::item_location(db_, account_.client, item));
        SK_TRY(store::set_item_location(db_, account_.client, item,
                                        {account_.id, meaning.folder, m.uid}));
        if (where && where->folder == meaning.folder) continue;
        SK_ASSIGN(auto before, store::current_decision(db_, account_.client, item));
        Category category = meaning.spam ? Category::spam
                            : before     ? before->category
                                         : Category::other;
        SK_TRY(engine_.teach(account_.client, item, category, meaning.disposition, "client",
                             "the client moved it to " + std::string(meaning.folder), false));
        ++corrections;
      }
      return store::save_mailbox_state(db_, account_.id, meaning.folder,
                                       {status->uidvalidity, uids.back()});
    }));
  }
  return corrections;
}

Result<WatchRound> MailboxWatcher::poll_once() {
  WatchRound round;
  using Wall = std::chrono::steady_clock;
  auto lap = [last = Wall::now()]() mutable {
    auto now = Wall::now();
    return std::chrono::duration<double, std::milli>(now - std::exchange(last, now)).count();
  };
  // A connection made during the round counts from zero.
  std::uint64_t commands_before = session_ ? session_->commands_sent() : 0;
  auto attempt = [&]() -> Result<void> {
    SK_TRY(ensure_connected());
    SK_ASSIGN(round.taken_in, take_in());
    round.take_in_ms = lap();
    SK_ASSIGN(auto report, engine_.triage_pending(account_.client));
    round.decided = report.decided;
    round.decide_ms = lap();
    ImapExecutor executor(db_, *session_, account_.client, account_.id);
    Outbox outbox(db_, clock_, engine_.ids());
    SK_ASSIGN(auto done, outbox.run(account_.client, executor, effects_per_round_));
    round.act_ms = lap();
    round.effects_done = done.done;
    round.effects_failed = done.failed;
    AccountSender sender(*session_, account_, secret_);
    SK_ASSIGN(auto sent, send_due(db_, clock_, account_.client, sender));
    round.sent = sent.sent;
    round.send_failed = sent.failed;
    SK_ASSIGN(round.corrections, notice_client_moves());
    round.corrections += std::exchange(corrections_, 0);
    // Watching continues on INBOX, whatever the effects, sends and checks selected. Mail
    // that arrived during the round is already counted in this selection, so IDLE would not
    // report it: the next round must start at once.
    SK_ASSIGN(auto inbox, session_->select(kInbox));
    SK_ASSIGN(auto state, store::mailbox_state(db_, account_.id, kInbox));
    // A first pass plans far more effects than a round carries out: the rest must not wait
    // for the next change in INBOX (or the end of the idle period).
    more_waiting_ = done.more || (state && inbox.uidvalidity == state->uidvalidity &&
                                  inbox.uidnext > state->last_uid + 1);
    round.imap_commands = session_->commands_sent() - commands_before;
    return ok();
  };
  auto r = attempt();
  // Whether the mailbox can be read is the VA's to see; a failure to record it is not the
  // round's failure.
  if (!r.ok()) {
    session_.reset();  // a broken connection is not reused
    (void)store::record_account_failure(db_, account_, clock_.now(), r.error().message);
    return r.error();
  }
  (void)store::record_account_ok(db_, account_, clock_.now());
  return round;
}

void MailboxWatcher::run(const std::atomic<bool>& stop, int idle_seconds) {
  // Waits are cut into short slices so that `stop` is noticed within about two seconds.
  constexpr int kSlice = 2;
  int backoff = 1;
  while (!stop) {
    auto round = poll_once();
    if (!round.ok()) {
      for (int waited = 0; waited < backoff && !stop; ++waited)
        std::this_thread::sleep_for(std::chrono::seconds(1));
      backoff = std::min(backoff * 2, 300);
      continue;
    }
    backoff = 1;
    if (more_waiting_) continue;
    for (int waited = 0; waited < std::max(idle_seconds, 1) && !stop; waited += kSlice) {
      auto changed = session_->wait_for_change(kSlice);
      if (!changed.ok()) {
        session_.reset();
        break;
      }
      if (*changed) break;
    }
  }
}

}  // namespace sk::engine
