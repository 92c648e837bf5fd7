// Bookings through the engine: slots from stored availability and imported calendars,
// create / confirm / reschedule / cancel with iTIP invitations in the outgoing mail, replies,
// reminders, and the audit trail.
#include <gtest/gtest.h>

#include <set>

#include "calendar/ical.hpp"
#include "engine/engine.hpp"
#include "engine/policy_codec.hpp"
#include "engine/scheduling.hpp"
#include "postgres.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"
#include "support.hpp"

using namespace sk;

namespace {

Timestamp at(const char* civil_utc) {
  return calendar::parse_civil(civil_utc)->seconds();
}

struct SchedulingTest : ::testing::Test {
  std::unique_ptr<store::Db> db;
  // Monday 2026-06-01 08:00 in London (07:00Z)
  FixedClock clock{at("20260601T070000")};
  SequentialIds ids;
  store::ClientRecord client;

  void SetUp() override {
    db = sk::test::open_test_database();
    ASSERT_TRUE(store::migrate(*db).ok());
    client = *store::create_client(*db, ids, clock, "acme", "Ann Owner", "ann@acme.example");
    ASSERT_TRUE(store::set_availability(*db, client.id,
                                        R"({"zone":"Europe/London",
              "weekly":{"mon":["09:00-12:00"],"tue":["09:00-12:00"],"wed":["09:00-12:00"],
                        "thu":["09:00-12:00"],"fri":["09:00-12:00"]},
              "buffer_after_min":0,"horizon_days":14})",
                                        clock.now())
                    .ok());
    ASSERT_TRUE(store::put_booking_type(*db, client.id, "intro",
                                        R"({"slug":"intro","name":"Intro call","duration_min":60,
              "location":{"kind":"video","value":"https://meet.example/ann"},
              "questions":["What would you like to discuss?"]})")
                    .ok());
    ASSERT_TRUE(store::put_booking_type(*db, client.id, "consult",
                                        R"({"slug":"consult","name":"Consultation",
              "duration_min":60,"va_confirms":true})")
                    .ok());
  }

  std::vector<store::OutgoingMessage> invitations() {
    auto all = store::list_outgoing(*db, client.id);
    EXPECT_TRUE(all.ok());
    std::vector<store::OutgoingMessage> out;
    for (auto& m : *all)
      if (m.kind == "invitation") out.push_back(m);
    return out;
  }
  std::string ics_of(const store::OutgoingMessage& m) {
    for (const auto& p : m.parts)
      if (p.content_type.find("text/calendar") == 0) return p.content;
    return "";
  }
};

TEST_F(SchedulingTest, SlotsComeFromAvailabilityAndImportedBusyTime) {
  auto before = engine::find_slots(*db, clock, client.id, "intro", 1);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->size(), 3u);  // 09, 10, 11 on Monday
  const char* ics =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
      "DTSTART;TZID=Europe/London:20260525T100000\r\nDTEND;TZID=Europe/London:20260525T110000\r\n"
      "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto n = engine::import_calendar(*db, clock, client.id, "work.ics", ics, "cli:test");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  auto after = *engine::find_slots(*db, clock, client.id, "intro", 1);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].start, at("20260601T080000"));
  EXPECT_EQ(after[1].start, at("20260601T100000"));
  // A broken file is refused whole and the old import stays.
  auto bad =
      engine::import_calendar(*db, clock, client.id, "work.ics",
                              "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:b\r\nRRULE:FREQ=NEVER\r\n"
                              "DTSTART:20260601T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                              "cli:test");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(engine::find_slots(*db, clock, client.id, "intro", 1)->size(), 2u);
  EXPECT_FALSE(engine::find_slots(*db, clock, client.id, "nope", 1).ok());
}

// The parsed busy time is kept between searches (the booking page searches on every visit):
// a new import must show at once, even within the same second, and two databases holding the
// same client id and file name must not see each other's calendars.
TEST(SchedulingKept, ImportsShowAtOnceAndDatabasesStayApart) {
  FixedClock clock{at("20260601T070000")};
  auto open = [&](const test::TempDir& dir) {
    auto db = store::open_sqlite(dir.str() + "/sidekick.db").value();
    EXPECT_TRUE(store::migrate(*db).ok());
    SequentialIds ids;
    auto c = store::create_client(*db, ids, clock, "acme", "Ann", "ann@acme.example").value();
    EXPECT_TRUE(store::set_availability(*db, c.id,
                                        R"({"zone":"Europe/London","weekly":{"mon":["09:00-12:00"]},
                                            "buffer_after_min":0,"horizon_days":14})",
                                        clock.now())
                    .ok());
    EXPECT_TRUE(store::put_booking_type(*db, c.id, "intro",
                                        R"({"slug":"intro","name":"Intro","duration_min":60})")
                    .ok());
    return std::make_pair(std::move(db), c.id);
  };
  auto busy_at = [](const char* hour) {
    return std::string(
               "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
               "DTSTART;TZID=Europe/London:20260601T") +
           hour + "0000\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  };
  auto starts = [&](store::Db& db, const ClientId& c) {
    std::vector<std::string> out;
    auto slots = engine::find_slots(db, clock, c, "intro", 1);
    EXPECT_TRUE(slots.ok());
    if (slots.ok())
      for (const auto& s : *slots) out.push_back(format_utc(s.start));
    return out;
  };
  test::TempDir one, two;
  auto [db1, c1] = open(one);
  auto [db2, c2] = open(two);
  ASSERT_EQ(c1, c2);  // the same id in both
  ASSERT_TRUE(engine::import_calendar(*db1, clock, c1, "work.ics", busy_at("09"), "t").ok());
  ASSERT_TRUE(engine::import_calendar(*db2, clock, c2, "work.ics", busy_at("11"), "t").ok());
  const std::vector<std::string> free_10_11{"2026-06-01T09:00:00Z", "2026-06-01T10:00:00Z"};
  const std::vector<std::string> free_9_10{"2026-06-01T08:00:00Z", "2026-06-01T09:00:00Z"};
  EXPECT_EQ(starts(*db1, c1), free_10_11);
  EXPECT_EQ(starts(*db2, c2), free_9_10);
  EXPECT_EQ(starts(*db1, c1), free_10_11);  // kept, and still right
  // Replaced in the same second: the next search sees the new file.
  ASSERT_TRUE(engine::import_calendar(*db1, clock, c1, "work.ics", busy_at("11"), "t").ok());
  EXPECT_EQ(starts(*db1, c1), free_9_10);
  // Written by another connection (the CLI while the console serves): seen too.
  auto other = store::open_sqlite(one.str() + "/sidekick.db").value();
  ASSERT_TRUE(engine::import_calendar(*other, clock, c1, "work.ics", busy_at("10"), "t").ok());
  EXPECT_EQ(starts(*db1, c1),
            (std::vector<std::string>{"2026-06-01T08:00:00Z", "2026-06-01T10:00:00Z"}));
}

TEST_F(SchedulingTest, BookingSendsInvitationsAndTakesTheTime) {
  engine::Guest g{"Gus Guest", "gus@example.org", "America/Toronto", R"({"topic":"pricing"})"};
  auto b = engine::create_booking(*db, clock, ids, client.id, "intro", at("20260602T080000"), g,
                                  "page", "guest");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->status, store::BookingStatus::confirmed);
  auto inv = invitations();
  ASSERT_EQ(inv.size(), 2u);  // the guest's and the client's
  std::set<std::string> to;
  for (const auto& m : inv) {
    to.insert(m.to.at(0));
    EXPECT_EQ(m.status, store::OutgoingStatus::queued);
    auto cal = calendar::parse_ics(ics_of(m));
    ASSERT_TRUE(cal.ok());
    EXPECT_EQ(cal->method, "REQUEST");
    EXPECT_EQ(cal->components.at(0).uid, b->uid);
    // In the client's zone with its VTIMEZONE, not UTC: 09:00 London summer time.
    EXPECT_EQ(calendar::format_civil(*cal->components.at(0).start), "20260602T090000");
    EXPECT_EQ(cal->components.at(0).tzid, "Europe/London");
    EXPECT_NE(ics_of(m).find("BEGIN:VTIMEZONE"), std::string::npos);
    EXPECT_NE(ics_of(m).find("DTSTART;TZID=Europe/London:20260602T090000"), std::string::npos)
        << ics_of(m);
    EXPECT_EQ(cal->components.at(0).organizer, "ann@acme.example");
  }
  EXPECT_EQ(to, (std::set<std::string>{"gus@example.org", "ann@acme.example"}));
  // The guest reads their own time: 04:00 in Toronto.
  for (const auto& m : inv) {
    if (m.to[0] == "gus@example.org") {
      EXPECT_NE(m.subject.find("04:00"), std::string::npos) << m.subject;
    }
  }
  // The time is gone for the next guest.
  auto again = engine::create_booking(*db, clock, ids, client.id, "intro", at("20260602T080000"),
                                      {"Other", "o@example.org", "", "{}"}, "page", "guest");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::conflict);
  // Reminders a day and an hour before, sent when due.
  clock.set(at("20260601T080001"));
  EXPECT_EQ(*engine::send_due_reminders(*db, clock, ids, client.id), 1);
  clock.set(at("20260602T070001"));
  EXPECT_EQ(*engine::send_due_reminders(*db, clock, ids, client.id), 1);
  EXPECT_EQ(*engine::send_due_reminders(*db, clock, ids, client.id), 0);
  auto audit = *store::list_audit(*db, client.id);
  bool audited = false;
  for (const auto& e : audit)
    audited |= e.action == "booking confirmed" && e.subject.find(b->id) == 0;
  EXPECT_TRUE(audited);
}

TEST_F(SchedulingTest, RescheduleAndCancelRaiseTheSequence) {
  auto b = *engine::create_booking(*db, clock, ids, client.id, "intro", at("20260602T080000"),
                                   {"Gus", "gus@example.org", "", "{}"}, "cli", "cli:test");
  auto moved = engine::reschedule_booking(*db, clock, ids, client.id, b.id, at("20260603T090000"),
                                          "cli:test");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->sequence, 1);
  // Moving onto taken or closed time is refused.
  EXPECT_FALSE(engine::reschedule_booking(*db, clock, ids, client.id, b.id, at("20260603T130000"),
                                          "cli:test")
                   .ok());
  auto cancelled =
      engine::cancel_booking(*db, clock, ids, client.id, b.id, "cli:test", "client ill");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->sequence, 2);
  auto inv = invitations();
  ASSERT_EQ(inv.size(), 6u);
  int cancels = 0, updates = 0;
  for (const auto& m : inv) {
    auto cal = *calendar::parse_ics(ics_of(m));
    if (cal.method == "CANCEL") {
      ++cancels;
      EXPECT_EQ(cal.components[0].sequence, 2);
    }
    if (cal.method == "REQUEST" && cal.components[0].sequence == 1) ++updates;
  }
  EXPECT_EQ(cancels, 2);
  EXPECT_EQ(updates, 2);
  // The time is free again.
  auto slots = *engine::find_slots(*db, clock, client.id, "intro", 3);
  bool free_again = false;
  for (const auto& s : slots) free_again |= s.start == at("20260603T090000");
  EXPECT_TRUE(free_again);
  EXPECT_FALSE(engine::cancel_booking(*db, clock, ids, client.id, b.id, "cli:test", "twice").ok());
}

TEST_F(SchedulingTest, VaConfirmsBeforeInvitationsGoOut) {
  auto b = *engine::create_booking(*db, clock, ids, client.id, "consult", at("20260602T080000"),
                                   {"Gus", "gus@example.org", "", "{}"}, "page", "guest");
  EXPECT_EQ(b.status, store::BookingStatus::pending);
  EXPECT_TRUE(invitations().empty());
  auto c = engine::confirm_booking(*db, clock, ids, client.id, b.id, "va:mia");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status, store::BookingStatus::confirmed);
  EXPECT_EQ(invitations().size(), 2u);
  EXPECT_FALSE(engine::confirm_booking(*db, clock, ids, client.id, b.id, "va:mia").ok());
}

TEST_F(SchedulingTest, RepliesUpdateTheBooking) {
  auto b = *engine::create_booking(*db, clock, ids, client.id, "intro", at("20260602T080000"),
                                   {"Gus", "Gus@Example.org", "", "{}"}, "page", "guest");
  auto reply = [&](const std::string& partstat, int seq) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:" +
           b.uid + "\r\nSEQUENCE:" + std::to_string(seq) +
           "\r\nDTSTAMP:20260601T080000Z\r\nORGANIZER:mailto:ann@acme.example\r\n"
           "ATTENDEE;PARTSTAT=" +
           partstat + ":mailto:gus@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  };
  auto acc = engine::apply_itip_reply(*db, clock, ids, client.id, reply("ACCEPTED", 0), "mail");
  ASSERT_TRUE(acc.ok()) << acc.error().message;
  ASSERT_TRUE(acc->has_value());
  EXPECT_EQ((*acc)->guest_partstat, "ACCEPTED");
  EXPECT_EQ((*acc)->status, store::BookingStatus::confirmed);
  auto dec = engine::apply_itip_reply(*db, clock, ids, client.id, reply("DECLINED", 0), "mail");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ((*dec)->status, store::BookingStatus::declined);
  auto stored = *store::get_booking(*db, client.id, b.id);
  EXPECT_EQ(stored.guest_partstat, "DECLINED");
  // The client hears of it with a CANCEL for their calendar.
  int cancels = 0;
  for (const auto& m : invitations())
    if (calendar::parse_ics(ics_of(m))->method == "CANCEL") ++cancels;
  EXPECT_EQ(cancels, 1);
  // Not a reply, or a stranger's UID.
  EXPECT_FALSE(engine::apply_itip_reply(*db, clock, ids, client.id, "junk", "mail").ok());
  auto other = reply("ACCEPTED", 0);
  other.replace(other.find(b.uid), b.uid.size(), "unknown@else");
  auto none = engine::apply_itip_reply(*db, clock, ids, client.id, other, "mail");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace

#include "engine/booking_links.hpp"
#include "engine/policy_codec.hpp"

namespace {

const std::string kKey(32, 'k');

TEST_F(SchedulingTest, SignedLinksExpireAndCannotBeAltered) {
  engine::LinkClaims c{client.id, "book", "intro", at("20260602T080000"), at("20260602T080000")};
  auto token = engine::sign_link(kKey, c);
  auto ok = engine::verify_link(kKey, token, clock.now());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->subject, "intro");
  EXPECT_EQ(ok->start, c.start);
  EXPECT_FALSE(engine::verify_link(std::string(32, 'x'), token, clock.now()).ok());
  auto altered = token;
  altered[3] = altered[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(engine::verify_link(kKey, altered, clock.now()).ok());
  auto late = engine::verify_link(kKey, token, at("20260602T080001"));
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  EXPECT_FALSE(engine::verify_link(kKey, "garbage", clock.now()).ok());
}

TEST_F(SchedulingTest, BookingPageInTheVisitorsZoneWithLimits) {
  auto slots = engine::page_slots(*db, clock, kKey, client.id, "intro", "Asia/Kolkata", 1);
  ASSERT_TRUE(slots.ok()) << slots.error().message;
  ASSERT_EQ(slots->size(), 3u);
  EXPECT_EQ((*slots)[0].label, "Mon 1 Jun 2026 13:30 (UTC+05:30)");  // 09:00 London
  engine::PageLimits limits;
  limits.per_email = engine::AbuseLimiter(1, 86400);
  auto b =
      engine::page_confirm(*db, clock, ids, kKey, (*slots)[0].token,
                           {"Gus", "gus@example.org", "Asia/Kolkata", "{}"}, "10.0.0.1", limits);
  ASSERT_TRUE(b.ok()) << b.error().message;
  // The same address again is over its limit, whatever the time asked for.
  auto again = engine::page_confirm(*db, clock, ids, kKey, (*slots)[1].token,
                                    {"Gus", "GUS@example.org", "", "{}"}, "10.0.0.2", limits);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("too many"), std::string::npos);
  // The guest's own link moves and cancels; a booking link does not.
  auto manage = engine::manage_token(kKey, *b);
  EXPECT_FALSE(engine::page_cancel(*db, clock, ids, kKey, (*slots)[1].token).ok());
  auto moved = engine::page_reschedule(*db, clock, ids, kKey, manage, at("20260601T100000"));
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  auto cancelled = engine::page_cancel(*db, clock, ids, kKey, manage);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->status, store::BookingStatus::cancelled);
}

TEST_F(SchedulingTest, SchedulingRequestGetsThreeTimesAsLinks) {
  Item it;
  it.id = "itm_1";
  it.client = client.id;
  it.source_key = "test:1";
  it.from_address = "gus@example.org";
  it.subject = "Could we find a time to talk?";
  it.text = "Are you free next week for a call?";
  it.received_at = clock.now();
  auto party = *store::ensure_party(*db, ids, clock, client.id, it.from_address, "Gus");
  ASSERT_TRUE(store::insert_item(*db, it, party,
                                 "From: gus@example.org\r\nTo: ann@acme.example\r\nSubject: Could "
                                 "we find a time to talk?\r\nMessage-ID: <q1@example.org>\r\n\r\n"
                                 "Are you free next week for a call?\r\n",
                                 "test")
                  .ok());
  // Delegation for scheduling: draft (the default) leaves it for the VA.
  auto m = engine::propose_times(*db, clock, ids, kKey, client.id, "itm_1", "intro",
                                 "https://book.example");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->status, store::OutgoingStatus::draft);
  std::size_t links = 0, pos = 0;
  const std::string link = "https://book.example/book/acme/intro/confirm?t=";
  while ((pos = m->body.find(link, pos)) != std::string::npos) {
    ++links;
    auto end = m->body.find('\n', pos);
    auto token = m->body.substr(pos + link.size(), end - pos - link.size());
    auto claims = engine::verify_link(kKey, token, clock.now());
    ASSERT_TRUE(claims.ok()) << token;
    EXPECT_EQ(claims->action, "book");
    pos = end;
  }
  EXPECT_EQ(links, 3u);
  EXPECT_NE(m->body.find("Mon 1 Jun"), std::string::npos);
  EXPECT_NE(m->body.find("Tue 2 Jun"), std::string::npos);
  EXPECT_NE(m->body.find("Wed 3 Jun"), std::string::npos);
  EXPECT_NE(m->body.find("https://book.example/book/acme/intro"), std::string::npos);
  // With scheduling delegated (auto), the reply is queued to send.
  auto policy = *engine::policy_from_json(client.policy_json);
  policy.delegation[static_cast<std::size_t>(Category::scheduling)] = Delegation::auto_;
  ASSERT_TRUE(store::set_client_policy(*db, client.id, engine::policy_to_json(policy)).ok());
  it.id = "itm_2";
  it.source_key = "test:2";
  ASSERT_TRUE(store::insert_item(*db, it, party,
                                 "From: gus@example.org\r\nSubject: again\r\nMessage-ID: "
                                 "<q2@example.org>\r\n\r\nhi\r\n",
                                 "test")
                  .ok());
  auto sent = engine::propose_times(*db, clock, ids, kKey, client.id, "itm_2", "intro",
                                    "https://book.example");
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->status, store::OutgoingStatus::queued);
}

// The engine's own path: a request triaged as scheduling gets times proposed (a draft, as the
// client's delegation for scheduling is draft), and an iTIP REPLY to an invitation updates the
// booking and is handled without anyone looking.
TEST_F(SchedulingTest, TriageProposesTimesAndTakesInvitationReplies) {
  ASSERT_TRUE(
      store::set_relationship(*db, ids, clock, client.id, "gus@example.org", Relationship::customer)
          .ok());
  const std::string ask =
      "From: Gus <gus@example.org>\r\nTo: ann@acme.example\r\nSubject: Meeting next week?\r\n"
      "Message-ID: <ask1@example.org>\r\n\r\nCould we schedule a meeting next week? Is there a "
      "time to meet that works for you? Let me know when you are available.\r\n";
  auto drafts = [&] {
    std::vector<store::OutgoingMessage> out;
    auto all = store::list_outgoing(*db, client.id).value();
    for (auto& m : all)
      if (m.kind == "reply") out.push_back(m);
    return out;
  };
  {
    // Without the booking page's links the engine proposes nothing (it cannot sign them).
    engine::Engine plain(*db, clock, ids, triage::SpamModel{});
    auto item = plain.intake_message(client.id, "test:ask0", ask, "test");
    ASSERT_TRUE(item.ok()) << item.error().message;
    auto d = plain.triage_item(client.id, *item);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->category, Category::scheduling);
    EXPECT_TRUE(drafts().empty());
  }
  engine::Engine eng(*db, clock, ids, triage::SpamModel{});
  eng.set_booking_links({kKey, "https://book.example"});
  auto item = eng.intake_message(client.id, "test:ask1", ask, "test");
  ASSERT_TRUE(item.ok()) << item.error().message;
  auto d = eng.triage_item(client.id, *item);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->category, Category::scheduling);
  EXPECT_EQ(d->disposition, Disposition::awaiting_va);
  auto ds = drafts();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].status, store::OutgoingStatus::draft);
  EXPECT_EQ(ds[0].answers, *item);
  // No default type set: the first one.
  EXPECT_NE(ds[0].body.find("https://book.example/book/acme/consult/confirm?t="), std::string::npos)
      << ds[0].body;

  // The guest accepts an invitation from their calendar program.
  auto b = engine::create_booking(*db, clock, ids, client.id, "intro", at("20260602T080000"),
                                  {"Gus", "gus@example.org", "", "{}"}, "cli", "test");
  ASSERT_TRUE(b.ok()) << b.error().message;
  const std::string reply =
      "From: Gus <gus@example.org>\r\nTo: ann@acme.example\r\nSubject: Accepted: Intro call\r\n"
      "Message-ID: <acc1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
      "boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nAccepted.\r\n--b1\r\n"
      "Content-Type: text/calendar; method=REPLY\r\nContent-Disposition: attachment; "
      "filename=reply.ics\r\n\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//g//EN\r\n"
      "METHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:" +
      b->uid +
      "\r\nDTSTAMP:20260601T070000Z\r\nDTSTART:20260602T080000Z\r\nSEQUENCE:0\r\n"
      "ORGANIZER:mailto:ann@acme.example\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:gus@example.org"
      "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b1--\r\n";
  auto answer = eng.intake_message(client.id, "test:acc1", reply, "test");
  ASSERT_TRUE(answer.ok());
  auto ad = eng.triage_item(client.id, *answer);
  ASSERT_TRUE(ad.ok()) << ad.error().message;
  EXPECT_EQ(ad->category, Category::scheduling);
  EXPECT_EQ(ad->disposition, Disposition::handled);
  EXPECT_EQ(store::get_booking(*db, client.id, b->id)->guest_partstat, "ACCEPTED");
  EXPECT_EQ(drafts().size(), 1u);  // no times proposed to an answer
}

}  // namespace
