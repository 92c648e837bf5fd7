#include "calendar/caldav.hpp"

#include <curl/curl.h>

#include <cstring>
#include <memory>

#include "calendar/civil.hpp"

namespace sk::calendar {
namespace {

size_t collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

std::string unescape_xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    auto semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "amp")
      out += '&';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      long code = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                      ? std::strtol(std::string(ent.substr(2)).c_str(), nullptr, 16)
                      : std::strtol(std::string(ent.substr(1)).c_str(), nullptr, 10);
      if (code > 0 && code < 128) out += static_cast<char>(code);
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

// The text of every element whose local name is `name` inside [from, to), any prefix.
std::vector<std::string> elements(std::string_view xml, std::string_view name) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    auto lt = xml.find('<', pos);
    if (lt == std::string_view::npos) break;
    auto gt = xml.find('>', lt);
    if (gt == std::string_view::npos) break;
    std::string_view tag = xml.substr(lt + 1, gt - lt - 1);
    pos = gt + 1;
    if (tag.empty() || tag[0] == '/' || tag[0] == '?' || tag[0] == '!') continue;
    std::string_view qname = tag.substr(0, tag.find_first_of(" \t\r\n/"));
    std::string_view local =
        qname.substr(qname.find(':') == std::string_view::npos ? 0 : qname.find(':') + 1);
    if (local != name) continue;
    if (tag.back() == '/') {
      out.emplace_back();
      continue;
    }
    std::string close = "</" + std::string(qname) + ">";
    auto end = xml.find(close, pos);
    if (end == std::string_view::npos) break;
    out.push_back(unescape_xml(xml.substr(pos, end - pos)));
    pos = end + close.size();
  }
  return out;
}

}  // namespace

std::vector<CaldavObject> parse_multistatus(const std::string& xml) {
  std::vector<CaldavObject> out;
  // Each response is cut from the raw text, so calendar-data is unescaped exactly once.
  std::size_t pos = 0;
  while (true) {
    auto r = xml.find("response", pos);
    if (r == std::string::npos) break;
    auto open_end = xml.find('>', r);
    auto lt = xml.rfind('<', r);
    if (open_end == std::string::npos || lt == std::string::npos || xml[lt + 1] == '/') {
      pos = r + 8;
      continue;
    }
    std::string qname = xml.substr(lt + 1, xml.find_first_of(" \t\r\n>", lt + 1) - lt - 1);
    std::string close = "</" + qname + ">";
    auto end = xml.find(close, open_end);
    if (end == std::string::npos) break;
    std::string_view body(xml.data() + open_end + 1, end - open_end - 1);
    CaldavObject o;
    auto hrefs = elements(body, "href");
    if (!hrefs.empty()) o.href = hrefs[0];
    auto etags = elements(body, "getetag");
    if (!etags.empty()) o.etag = etags[0];
    auto data = elements(body, "calendar-data");
    if (!data.empty()) o.ics = data[0];
    if (!o.ics.empty()) out.push_back(std::move(o));
    pos = end + close.size();
  }
  return out;
}

Result<CaldavClient::Response> CaldavClient::request(const std::string& method,
                                                     const std::string& url,
                                                     const std::vector<std::string>& headers,
                                                     const std::string& body) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(Errc::internal, "curl_easy_init failed");
  Response r;
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> hl(list, curl_slist_free_all);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, a_.timeout_s);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!a_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, a_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, a_.password.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC | CURLAUTH_DIGEST);
  }
  if (!body.empty() || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    return make_error(Errc::io, "CalDAV " + method + " " + url + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  if (r.status == 401 || r.status == 403)
    return make_error(Errc::invalid_input, "CalDAV " + method + " " + url +
                                               ": the server refused "
                                               "the account (HTTP " +
                                               std::to_string(r.status) + ")");
  return r;
}

Result<void> CaldavClient::check() {
  SK_ASSIGN(auto r, request("PROPFIND", a_.calendar_url,
                            {"Depth: 0", "Content-Type: application/xml; charset=utf-8"},
                            "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                            "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/>"
                            "</D:prop></D:propfind>"));
  if (r.status == 404) return make_error(Errc::not_found, "no calendar at " + a_.calendar_url);
  if (r.status != 207)
    return make_error(Errc::io, "CalDAV PROPFIND: HTTP " + std::to_string(r.status));
  if (r.body.find("calendar") == std::string::npos || elements(r.body, "calendar").empty())
    return make_error(Errc::invalid_input, a_.calendar_url + " is not a calendar collection");
  return ok();
}

Result<void> CaldavClient::make_calendar() {
  SK_ASSIGN(auto r, request("MKCALENDAR", a_.calendar_url, {}, ""));
  if (r.status == 201) return ok();
  if (r.status == 405 || r.status == 409)
    return make_error(Errc::conflict, a_.calendar_url + " exists already");
  return make_error(Errc::io, "CalDAV MKCALENDAR: HTTP " + std::to_string(r.status) + " " +
                                  r.body.substr(0, 200));
}

Result<std::vector<CaldavObject>> CaldavClient::events_between(Timestamp from, Timestamp to) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
      "<C:calendar-query xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">"
      "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
      "<C:filter><C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VEVENT\">"
      "<C:time-range start=\"" +
      format_civil(CivilTime::from_seconds(from, true)) + "\" end=\"" +
      format_civil(CivilTime::from_seconds(to, true)) +
      "\"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>";
  SK_ASSIGN(auto r, request("REPORT", a_.calendar_url,
                            {"Depth: 1", "Content-Type: application/xml; charset=utf-8"}, body));
  if (r.status == 404) return make_error(Errc::not_found, "no calendar at " + a_.calendar_url);
  if (r.status != 207)
    return make_error(
        Errc::io, "CalDAV REPORT: HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200));
  return parse_multistatus(r.body);
}

Result<std::string> CaldavClient::put(const std::string& name, const std::string& ics,
                                      bool only_new) {
  const std::string url = a_.calendar_url + name + ".ics";
  std::vector<std::string> h{"Content-Type: text/calendar; charset=utf-8"};
  if (only_new) h.push_back("If-None-Match: *");
  SK_ASSIGN(auto r, request("PUT", url, h, ics));
  if (r.status == 412) return make_error(Errc::conflict, url + " exists already");
  if (r.status != 201 && r.status != 204 && r.status != 200)
    return make_error(Errc::io, "CalDAV PUT " + url + ": HTTP " + std::to_string(r.status) + " " +
                                    r.body.substr(0, 200));
  return url;
}

Result<void> CaldavClient::remove(const std::string& name) {
  const std::string url = a_.calendar_url + name + ".ics";
  SK_ASSIGN(auto r, request("DELETE", url, {}, ""));
  if (r.status == 404) return make_error(Errc::not_found, url + " is not there");
  if (r.status != 200 && r.status != 204)
    return make_error(Errc::io, "CalDAV DELETE " + url + ": HTTP " + std::to_string(r.status));
  return ok();
}

}  // namespace sk::calendar
