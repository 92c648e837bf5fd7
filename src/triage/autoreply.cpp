#include "triage/autoreply.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "triage/categorize.hpp"

namespace sk::triage {
namespace {

AutoReplyCheck refuse(std::string_view code, std::string reason) {
  return AutoReplyCheck{false, std::move(reason), "autoreply." + std::string(code)};
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string local_part(std::string_view address) {
  std::string_view a = address;
  if (auto at = a.rfind('@'); at != std::string_view::npos) a = a.substr(0, at);
  if (auto plus = a.find('+'); plus != std::string_view::npos && plus > 0) a = a.substr(0, plus);
  return lower(a);
}

// The local part without the separators people put between "no" and "reply".
std::string squashed(std::string_view local) {
  std::string s;
  for (char c : local)
    if (c != '-' && c != '_' && c != '.') s += c;
  return s;
}

bool is_daemon(std::string_view address) {
  const std::string l = local_part(address);
  return squashed(l) == "mailerdaemon" || l == "postmaster";
}

// Addresses that read no answer: noreply, do-not-reply, bounce handlers, system users.
bool is_noreply(std::string_view address) {
  const std::string s = squashed(local_part(address));
  return contains(s, "noreply") || contains(s, "donotreply") || contains(s, "dontreply") ||
         contains(s, "noresponse") || s.starts_with("bounce") || s.ends_with("bounces") ||
         s == "nobody" || s == "mailerdaemon";
}

// List software sends as owner-LIST, LIST-request, LIST-owner or LIST-bounces.
bool is_list_address(std::string_view address) {
  const std::string l = local_part(address);
  return l.starts_with("owner-") || l.ends_with("-request") || l.ends_with("-owner") ||
         l.ends_with("-bounces") || l == "listserv" || l == "majordomo";
}

bool in(const std::vector<std::string>& list, std::string_view address) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& a) { return iequals(trim(a), address); });
}

// "3 hours", "1 day": how a person says a span of time.
std::string span(Timestamp seconds) {
  struct Unit {
    Timestamp size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  if (seconds < 1) seconds = 0;
  for (const Unit& u : kUnits) {
    if (seconds >= u.size || u.size == 1) {
      const Timestamp n = seconds / u.size;
      return std::to_string(n) + " " + u.name + (n == 1 ? "" : "s");
    }
  }
  return "0 seconds";
}

// "every day", "every 2 days"
std::string every(Timestamp seconds) {
  std::string s = span(seconds);
  if (s.starts_with("1 ")) s = s.substr(2);
  return "every " + s;
}

bool starts_with_word(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

AutoReplyCheck may_auto_reply(const Item& item, const std::vector<std::string>& client_addresses,
                              Timestamp last_auto_reply_to_sender, Timestamp now,
                              Timestamp period) {
  if (item.parse_status == ParseStatus::unreadable)
    return refuse("unreadable",
                  "the message could not be read, so a person should look at it "
                  "before anyone answers");

  const std::string content_type =
      item.header("content-type") ? lower(*item.header("content-type")) : "";
  bool report_part = false, feedback_part = false, receipt_part = false;
  for (const auto& a : item.attachments) {
    const std::string t = lower(a.content_type);
    report_part = report_part || contains(t, "delivery-status");
    feedback_part = feedback_part || t == "message/feedback-report";
    receipt_part = receipt_part || t == "message/disposition-notification";
  }

  // Bounces and delivery reports: answering one tells no one anything, and two mail
  // systems answering each other's reports never stop.
  if (contains(content_type, "multipart/report")) {
    if (contains(content_type, "feedback-report"))
      return refuse("abuse_report",
                    "it is an abuse or spam complaint report (ARF) from a mail provider, not a "
                    "message from a person");
    if (contains(content_type, "disposition-notification"))
      return refuse("automatic", "it is a read receipt, sent automatically by a mail program");
    return refuse("bounce",
                  "it is a bounce: a delivery status report about mail that could not be "
                  "delivered");
  }
  if (report_part)
    return refuse("bounce",
                  "it is a bounce: it carries a delivery status report about mail that could "
                  "not be delivered");
  if (feedback_part)
    return refuse("abuse_report",
                  "it is an abuse or spam complaint report (ARF) from a mail provider, not a "
                  "message from a person");
  if (receipt_part)
    return refuse("automatic", "it is a read receipt, sent automatically by a mail program");
  if (const std::string* rp = item.header("return-path")) {
    std::string v;
    for (char c : *rp)
      if (c != ' ' && c != '\t') v += c;
    if (v.empty() || v == "<>")
      return refuse("bounce",
                    "it is a bounce or delivery report: it came with an empty return address "
                    "(Return-Path: <>), which mail servers use for exactly that");
  }
  if (is_daemon(item.from_address))
    return refuse("bounce", "it comes from a mail server's system address (" + item.from_address +
                                "), which only sends bounces and delivery reports");

  // Anything a machine sent on its own (RFC 3834 Auto-Submitted, and the older headers
  // vacation programs still use).
  if (const std::string* v = item.header("auto-submitted"); v && !starts_with_word(trim(*v), "no"))
    return refuse("automatic", "it was sent automatically (Auto-Submitted: " +
                                   std::string(trim(*v)) + "), so answering could start a loop");
  for (std::string_view h : {"x-autoreply", "x-autorespond", "x-autoresponder"}) {
    if (item.header(h))
      return refuse("automatic", "it is an automatic reply itself (it has an " + std::string(h) +
                                     " header), so answering could start a loop");
  }
  if (const std::string* v = item.header("x-auto-response-suppress")) {
    const std::string s = lower(*v);
    if (contains(s, "all") || contains(s, "autoreply") || contains(s, "oof"))
      return refuse("automatic",
                    "the sender's mail program asked not to get automatic replies "
                    "(X-Auto-Response-Suppress: " +
                        std::string(trim(*v)) + ")");
  }
  // Only as a prefix with its colon, the way responders write it: a customer asking about
  // "auto reply settings" is a person.
  for (std::string_view p :
       {"auto:", "automatic reply:", "autoreply:", "auto-reply:", "auto reply:", "out of office:",
        "out of office autoreply:", "out of the office:"}) {
    if (starts_with_word(trim(item.subject), p))
      return refuse("automatic",
                    "it looks like an automatic reply itself (the subject starts "
                    "with '" +
                        std::string(p) + "'), so answering could start a loop");
  }

  // Lists and bulk senders: a reply would go to everyone on the list, or to no one.
  std::string bulk_why;
  if (is_bulk(item, &bulk_why))
    return refuse("list", "it came from a mailing list or bulk sender (" + bulk_why + ")");
  for (const auto& h : item.headers) {
    if (starts_with_word(h.name, "list-"))
      return refuse("list", "it came from a mailing list (it has a " + h.name + " header)");
  }
  if (contains(content_type, "multipart/digest"))
    return refuse("list", "it is a mailing-list digest");
  if (const std::string* sender = item.header("sender")) {
    for (const auto& a : addresses_in(*sender)) {
      if (is_list_address(a))
        return refuse("list", "it came from a mailing list (sent on behalf of " + a + ")");
    }
  }
  if (is_list_address(item.from_address))
    return refuse("list", "it came from mailing-list software (" + item.from_address + ")");

  // Where a reply would go.
  std::vector<std::string> targets;
  if (const std::string* rt = item.header("reply-to")) targets = addresses_in(*rt);
  if (targets.empty() && item.from_address.find('@') != std::string::npos)
    targets.push_back(lower(item.from_address));
  if (targets.empty())
    return refuse("no_sender", "it has no sender address that a reply could go to");

  for (const std::string& a : targets) {
    if (in(client_addresses, a))
      return refuse("own_address", "a reply would go to the client's own address (" + a + ")");
  }
  if (in(client_addresses, item.from_address))
    return refuse("own_address",
                  "it was sent from the client's own address (" + item.from_address + ")");

  if (is_noreply(item.from_address))
    return refuse("noreply",
                  "the sender's address (" + item.from_address + ") does not take replies");
  for (const std::string& a : targets) {
    if (is_noreply(a))
      return refuse("noreply", "the reply address (" + a + ") does not take replies");
    if (is_list_address(a))
      return refuse("list", "a reply would go to mailing-list software (" + a + ")");
  }

  if (last_auto_reply_to_sender != 0 && period > 0 && now - last_auto_reply_to_sender < period) {
    return refuse("recent", "this sender already got an automatic reply " +
                                span(now - last_auto_reply_to_sender) +
                                " ago; the assistant answers the same sender automatically at "
                                "most once " +
                                every(period));
  }
  return AutoReplyCheck{true,
                        "an ordinary message from a person, with no sign of a machine, a list or "
                        "a bounce",
                        "autoreply.allowed"};
}

}  // namespace sk::triage
