#pragma once
// A CalDAV client (RFC 4791) over libcurl: read the events of a time range (busy time) and
// write a booking's event. libcurl stays inside caldav.cpp.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace sk::calendar {

struct CaldavAccount {
  std::string calendar_url;  // the calendar collection, ending in '/'
  std::string user;
  std::string password;
  long timeout_s = 20;
};

struct CaldavObject {
  std::string href;
  std::string etag;
  std::string ics;
};

class CaldavClient {
 public:
  explicit CaldavClient(CaldavAccount a) : a_(std::move(a)) {}
  // PROPFIND (Depth 0): the URL names a calendar collection the account may read.
  Result<void> check();
  // MKCALENDAR: creates the collection (a conflict when it exists).
  Result<void> make_calendar();
  // REPORT calendar-query with a time-range: the calendar objects with an event in [from, to).
  Result<std::vector<CaldavObject>> events_between(Timestamp from, Timestamp to);
  // PUT `ics` as NAME.ics. `only_new`: If-None-Match: * (a conflict when it exists).
  // Returns the object's URL.
  Result<std::string> put(const std::string& name, const std::string& ics, bool only_new);
  Result<void> remove(const std::string& name);

 private:
  struct Response {
    long status = 0;
    std::string body;
  };
  Result<Response> request(const std::string& method, const std::string& url,
                           const std::vector<std::string>& headers, const std::string& body);
  CaldavAccount a_;
};

// The calendar-data and hrefs of a multistatus body (exposed for tests).
std::vector<CaldavObject> parse_multistatus(const std::string& xml);

}  // namespace sk::calendar
