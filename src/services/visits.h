// Visit statistics of a school's site, kept only depersonalised (R101, 004 §4.5, §4.7, §15.2;
// 002 L56). The site (its server, or a beacon in the page) reports each visit; what is stored is
// the address cut to its network (/24 for IPv4, /48 for IPv6), the browser and operating-system
// families read from the user agent (never the user agent itself), the page's path without its
// query, the referring site's domain, and the day and hour on the school's clock (its time
// zone). A subject, account, session or cookie id, an e-mail address, a name or a phone number
// sent along is dropped before anything is stored, and the answer names what was dropped. Statistics are counts over those rows.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/context.h"
#include "services/rate_limiter.h"
#include "services/schools.h"

namespace dovira::services {

// The browser family of a user agent: edge | opera | firefox | chrome | safari | bot | other.
std::string BrowserFamily(const std::string& user_agent);
// The operating-system family: windows | ios | macos | android | linux | other.
std::string OsFamily(const std::string& user_agent);

// The names of members a visit report may carry that identify a person, and are dropped.
bool IsIdentifyingVisitMember(const std::string& name);

struct VisitReport {
  std::string ip;                    // the visitor's address; "" = the caller's own
  std::string user_agent;            // the visitor's; "" = the caller's own
  std::string page;                  // a path ("/courses?x=1") or a URL of the school's site
  std::string referrer;              // a URL or a domain; "" for none
  std::optional<Timestamp> at;       // when; unset = now
  std::vector<std::string> dropped;  // identifying members the caller sent, already left out
};

struct VisitStats {
  std::string from, to;  // YYYY-MM-DD
  int64_t total = 0;
  std::map<std::string, int64_t> by_day, browsers, os, pages, referrers;
  std::vector<int64_t> by_hour = std::vector<int64_t>(24, 0);
  int64_t networks = 0;  // distinct networks
};

class VisitService {
 public:
  VisitService(Deps deps, Schools& schools);

  // Stores the visit depersonalised and returns the stored row. Errors name the field:
  // kInvalidArgument "page" (not a path, or a path holding an e-mail address), "referrer", "at"
  // (more than five minutes ahead, or more than a week old), "ip"; kTooManyRequests
  // "rate_limited" beyond kMaxPerMinute reports a minute from one network; kNotFound for an
  // unknown school.
  Result<ports::VisitRow> Record(const SchoolId& school, const VisitReport& visit,
                                 const RequestContext& ctx);
  // Counts of the visits from day `from` to day `to` (YYYY-MM-DD, both included, at most 366
  // days). kInvalidArgument naming "from" or "to".
  Result<VisitStats> Stats(const SchoolId& school, const std::string& from, const std::string& to);

  static constexpr size_t kMaxPerMinute = 600;

 private:
  Deps deps_;
  Schools& schools_;
  RateLimiter limiter_{kMaxPerMinute, std::chrono::seconds(60)};
};

}  // namespace dovira::services
