#include "engine/booking_links.hpp"

#include <sodium.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "calendar/slots.hpp"
#include "engine/policy_codec.hpp"
#include "engine/replies.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"
#include "store/users.hpp"

namespace sk::engine {
namespace {

using nlohmann::json;

std::string b64(const std::string& s) {
  std::string out(sodium_base64_encoded_len(s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> unb64(const std::string& s) {
  std::string out(s.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), s.c_str(),
                        s.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  out.resize(len);
  return out;
}

std::string mac(const std::string& key, const std::string& payload) {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(payload.data()),
                                payload.size());
  crypto_auth_hmacsha256_final(&st, out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

Error bad_link(const std::string& why) {
  return make_error(Errc::invalid_input, "link " + why);
}

}  // namespace

std::string sign_link(const std::string& key, const LinkClaims& c) {
  json j{{"c", c.client}, {"a", c.action}, {"s", c.subject}, {"t", c.start}, {"e", c.expires}};
  const std::string payload = j.dump();
  return b64(payload) + "." + b64(mac(key, payload));
}

Result<LinkClaims> verify_link(const std::string& key, const std::string& token, Timestamp now) {
  auto dot = token.find('.');
  if (dot == std::string::npos) return bad_link("is malformed");
  auto payload = unb64(token.substr(0, dot));
  auto tag = unb64(token.substr(dot + 1));
  if (!payload || !tag || tag->size() != crypto_auth_hmacsha256_BYTES)
    return bad_link("is malformed");
  const std::string want = mac(key, *payload);
  if (sodium_memcmp(want.data(), tag->data(), want.size()) != 0)
    return bad_link("is not valid (altered or not ours)");
  json j = json::parse(*payload, nullptr, false);
  if (!j.is_object()) return bad_link("is malformed");
  LinkClaims c{j.value("c", ""), j.value("a", ""), j.value("s", ""), j.value("t", Timestamp{0}),
               j.value("e", Timestamp{0})};
  if (c.expires < now) return bad_link("has expired");
  return c;
}

Result<bool> AbuseLimiter::allow(store::Db& db, const std::string& key, Timestamp now) const {
  return store::allow_public_action(db, key, now, max_, window_);
}

Result<std::vector<PageSlot>> page_slots(store::Db& db, const Clock& clock, const std::string& key,
                                         const ClientId& client, const std::string& type,
                                         const std::string& visitor_zone, int days) {
  SK_ASSIGN(auto a, load_availability(db, client));
  SK_ASSIGN(calendar::Zone z, calendar::Zone::find(visitor_zone.empty() ? a.zone : visitor_zone));
  SK_ASSIGN(auto slots, find_slots(db, clock, client, type, days));
  std::vector<PageSlot> out;
  for (const auto& s : slots)
    out.push_back({s.start, calendar::describe(s.start, z),
                   sign_link(key, {client, "book", type, s.start, s.start})});
  return out;
}

Result<store::Booking> page_confirm(store::Db& db, const Clock& clock, IdSource& ids,
                                    const std::string& key, const std::string& token,
                                    const Guest& guest, const std::string& ip,
                                    const PageLimits& limits) {
  SK_ASSIGN(auto c, verify_link(key, token, clock.now()));
  if (c.action != "book") return bad_link("is not a booking link");
  std::string email = guest.email;
  std::transform(email.begin(), email.end(), email.begin(), ::tolower);
  SK_ASSIGN(bool ip_ok, limits.per_ip.allow(db, "ip:" + ip, clock.now()));
  bool email_ok = false;
  if (ip_ok) {
    SK_ASSIGN(email_ok, limits.per_email.allow(db, "email:" + email, clock.now()));
  }
  if (!ip_ok || !email_ok)
    return make_error(Errc::conflict, "too many bookings from here; try again later");
  return create_booking(db, clock, ids, c.client, c.subject, c.start, guest, "page",
                        "guest:" + email);
}

std::string manage_token(const std::string& key, const store::Booking& b) {
  return sign_link(key, {b.client, "manage", b.id, 0, b.ends_at});
}

Result<store::Booking> page_cancel(store::Db& db, const Clock& clock, IdSource& ids,
                                   const std::string& key, const std::string& token) {
  SK_ASSIGN(auto c, verify_link(key, token, clock.now()));
  if (c.action != "manage") return bad_link("is not a booking's own link");
  return cancel_booking(db, clock, ids, c.client, c.subject, "guest", "cancelled by the guest");
}

Result<store::Booking> page_reschedule(store::Db& db, const Clock& clock, IdSource& ids,
                                       const std::string& key, const std::string& token,
                                       Timestamp new_start, const std::string& base_url) {
  SK_ASSIGN(auto c, verify_link(key, token, clock.now()));
  if (c.action != "manage") return bad_link("is not a booking's own link");
  std::optional<BookingLinks> links;
  if (!base_url.empty()) links = BookingLinks{key, base_url};
  return reschedule_booking(db, clock, ids, c.client, c.subject, new_start, "guest", links);
}

Result<store::OutgoingMessage> propose_times(store::Db& db, const Clock& clock, IdSource& ids,
                                             const std::string& key, const ClientId& client,
                                             const ItemId& item, const std::string& type,
                                             const std::string& base_url) {
  SK_ASSIGN(auto stored, store::get_item(db, client, item));
  SK_ASSIGN(auto cr, store::find_client(db, client));
  SK_ASSIGN(auto t, load_booking_type(db, client, type));
  SK_ASSIGN(auto a, load_availability(db, client));
  SK_ASSIGN(calendar::Zone z, calendar::Zone::find(a.zone));
  SK_ASSIGN(auto slots, find_slots(db, clock, client, type, 14));
  // Three times on three different days read better than three in one morning.
  std::vector<calendar::Slot> picked;
  std::int64_t last_day = -1;
  for (const auto& s : slots) {
    const std::int64_t day = z.to_local(s.start).days();
    if (day == last_day) continue;
    picked.push_back(s);
    last_day = day;
    if (picked.size() == 3) break;
  }
  for (const auto& s : slots) {
    if (picked.size() >= 3) break;
    if (std::find(picked.begin(), picked.end(), s) == picked.end()) picked.push_back(s);
  }
  if (picked.empty())
    return make_error(Errc::not_found, "no free time for '" + type + "' in the next 14 days");
  std::sort(picked.begin(), picked.end(),
            [](const calendar::Slot& x, const calendar::Slot& y) { return x.start < y.start; });
  const Timestamp expires = clock.now() + 7 * 86400;
  std::string body = "Thanks for getting in touch. " + cr.name + " could meet for the " +
                     (t.name.empty() ? t.slug : t.name) + " (" + std::to_string(t.duration_min) +
                     " minutes) at any of these times; one click books it:\n\n";
  for (const auto& s : picked)
    body += "  " + calendar::describe(s.start, z) + "\n  " + base_url + "/book/" + cr.slug + "/" +
            type + "/confirm?t=" +
            sign_link(key, {client, "book", type, s.start, std::min(expires, s.start)}) + "\n\n";
  body += "Or pick another time: " + base_url + "/book/" + cr.slug + "/" + type + "\n";
  SK_ASSIGN(auto policy, policy_from_json(cr.policy_json));
  const Delegation level = policy.delegation[static_cast<std::size_t>(Category::scheduling)];
  ReplyRequest r;
  r.answers = stored.item.id;
  r.body = body;
  r.kind = "reply";
  r.reason = "scheduling request: proposed " + std::to_string(picked.size()) + " free times";
  r.send_now = level == Delegation::auto_;
  r.quote = true;
  r.source_key = "propose:" + item;
  return queue_reply(db, clock, ids, client, r, "sidekick");
}

}  // namespace sk::engine
