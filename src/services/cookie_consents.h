// The cookie banner's consent records (R98-R101): which cookie categories a school's web pages
// ask about, and each visitor's choice kept on the server as proof. A choice names the categories
// accepted; everything else the school asks about is recorded as rejected. The Global Privacy
// Control signal turns statistics and marketing off whatever was clicked, and is recorded.
// Nothing personal is kept: the address truncated to its network, the user agent hashed.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "policy/model.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"

namespace dovira::services {

// One cookie category as the banner offers it.
struct CookieCategory {
  std::string id;                // necessary | preferences | statistics | marketing | ...
  bool consent_required = true;  // false: always on (necessary, or not in consent_required_for)
};

// The categories a school's pages use, "necessary" first and always present, then those the
// policy asks consent for or lists in its inventory, in the order preferences, statistics,
// marketing, then any other in order of appearance.
std::vector<CookieCategory> CookieCategories(const policy::Cookies& cookies);

// The instant a choice made at `at` expires: `ttl` later by calendar arithmetic (months keep the
// day number, or the month's last day) at the same UTC time of day, never later than the term.
// Errors: kInvalidArgument for an indefinite or working-day term (a cookie needs a fixed date).
Result<Timestamp> CookieExpiry(Timestamp at, const calendar::Term& ttl);

struct CookieChoice {
  std::string choice;                 // accept_all | reject_all | custom
  std::vector<std::string> accepted;  // custom: the categories allowed
  std::string policy_version;         // the version whose list was shown; "" = the one in force
  bool gpc = false;
  std::string lang = "uk";
};

class CookieConsentService {
 public:
  CookieConsentService(Deps deps, Schools& schools, AuditLog& audit);

  // Stores the choice with its audit entry, durable before it returns. Errors name the field:
  // kInvalidArgument "choice", "accepted" (a category the school does not use, or a list given
  // with accept_all/reject_all), "lang"; kConflict "policy_version_changed" (the banner showed an
  // older policy: ask again); kRefused "cookies_not_used"; kNotFound for an unknown school;
  // kTooManyRequests "rate_limited" beyond kMaxPerMinute choices a minute from one network.
  Result<ports::CookieConsentRow> Record(const SchoolId& school, const CookieChoice& choice,
                                         const RequestContext& ctx);
  // A stored choice; kNotFound "cookie_consent_unknown".
  Result<ports::CookieConsentRow> Get(const SchoolId& school, const std::string& id);

  static constexpr size_t kMaxPerMinute = 120;

 private:
  bool Allow(const std::string& network, Timestamp now);

  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  std::mutex rate_mu_;
  std::map<std::string, std::vector<Timestamp>> recent_;  // guarded by rate_mu_
};

}  // namespace dovira::services
