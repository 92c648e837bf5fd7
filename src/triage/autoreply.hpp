#pragma once
// Whether the assistant may answer an item automatically (RFC 3834). Pure: the caller
// passes when this sender last got an automatic reply and what time it is.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"

namespace sk::triage {

struct AutoReplyCheck {
  bool allowed = false;
  std::string reason;  // in words a VA understands
  // Stable machine name for the audit log and tests: "autoreply.allowed",
  // "autoreply.bounce", "autoreply.abuse_report", "autoreply.automatic",
  // "autoreply.list", "autoreply.noreply", "autoreply.own_address",
  // "autoreply.no_sender", "autoreply.unreadable", "autoreply.recent".
  std::string code;
};

// Refuses, with the first reason that applies: unreadable messages; bounces and delivery
// reports (multipart/report, message/delivery-status, a null Return-Path, a MAILER-DAEMON
// or postmaster sender); abuse and feedback reports (ARF); anything sent automatically
// (Auto-Submitted other than "no", X-Autoreply, read receipts, or a sender asking for no
// automatic replies); mailing lists and bulk mail (List-*, Precedence bulk/list/junk,
// owner-/-request senders); the client's own addresses; no-reply senders; and a second
// automatic reply to the same sender within `period` seconds of the last one
// (`last_auto_reply_to_sender` 0 = never). The addresses checked are those a reply would go
// to: the Reply-To addresses, or the From address.
AutoReplyCheck may_auto_reply(const Item& item, const std::vector<std::string>& client_addresses,
                              Timestamp last_auto_reply_to_sender, Timestamp now, Timestamp period);

}  // namespace sk::triage
