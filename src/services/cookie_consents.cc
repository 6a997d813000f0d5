#include "services/cookie_consents.h"

#include <algorithm>
#include <chrono>

#include "calendar/date.h"

namespace dovira::services {

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Statistics and marketing are what the Global Privacy Control signal refuses.
bool RefusedByGpc(const std::string& category) {
  return category == "statistics" || category == "marketing";
}

std::string JsonList(const std::vector<std::string>& list) {
  std::string out = "[";
  for (const auto& v : list) out += (out.size() > 1 ? "," : "") + JsonQuote(v);
  return out + "]";
}

}  // namespace

std::vector<CookieCategory> CookieCategories(const policy::Cookies& cookies) {
  std::vector<std::string> ids;
  for (const char* known : {"preferences", "statistics", "marketing"}) {
    const bool used = Contains(cookies.consent_required_for, known) ||
                      std::any_of(cookies.inventory.begin(), cookies.inventory.end(),
                                  [&](const policy::Cookie& c) { return c.category == known; });
    if (used) ids.emplace_back(known);
  }
  auto add_other = [&](const std::string& id) {
    if (id != "necessary" && !Contains(ids, id)) ids.push_back(id);
  };
  for (const auto& id : cookies.consent_required_for) add_other(id);
  for (const auto& c : cookies.inventory) add_other(c.category);
  std::vector<CookieCategory> out = {{"necessary", false}};
  for (const auto& id : ids) out.push_back({id, Contains(cookies.consent_required_for, id)});
  return out;
}

Result<Timestamp> CookieExpiry(Timestamp at, const calendar::Term& ttl) {
  using calendar::TermUnit;
  const auto day = std::chrono::floor<std::chrono::days>(at);
  const auto time_of_day = at - day;
  switch (ttl.unit) {
    case TermUnit::kImmediate:
      return at;
    case TermUnit::kHours:
      return at + std::chrono::hours(ttl.count);
    case TermUnit::kCalendarDays:
      return at + std::chrono::days(ttl.count);
    case TermUnit::kCalendarMonths:
    case TermUnit::kCalendarYears: {
      const int64_t months = ttl.unit == TermUnit::kCalendarMonths ? ttl.count : 12 * ttl.count;
      calendar::Date end = calendar::AddMonths(calendar::Date{std::chrono::sys_days(day)}, months);
      return std::chrono::time_point_cast<std::chrono::microseconds>(end.days) + time_of_day;
    }
    case TermUnit::kWorkingDays:
    case TermUnit::kIndefinite:
      break;
  }
  return Error::Invalid("a cookie consent term must be hours, calendar days, months or years",
                        "consent_ttl");
}

CookieConsentService::CookieConsentService(Deps deps, Schools& schools, AuditLog& audit)
    : deps_(deps), schools_(schools), audit_(audit) {}

bool CookieConsentService::Allow(const std::string& network, Timestamp now) {
  std::lock_guard lock(rate_mu_);
  if (recent_.size() > 10000) recent_.clear();  // bounded memory under a flood of networks
  std::vector<Timestamp>& times = recent_[network];
  const Timestamp cutoff = now - std::chrono::minutes(1);
  times.erase(std::remove_if(times.begin(), times.end(), [&](Timestamp t) { return t <= cutoff; }),
              times.end());
  if (times.size() >= kMaxPerMinute) return false;
  times.push_back(now);
  return true;
}

Result<ports::CookieConsentRow> CookieConsentService::Record(const SchoolId& school_id,
                                                             const CookieChoice& in,
                                                             const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  const policy::Cookies& cookies = cp->policy().cookies;
  if (!cookies.used) {
    return Error::Refused("cookies_not_used", "this school's policy declares no cookies");
  }
  if (in.choice != "accept_all" && in.choice != "reject_all" && in.choice != "custom") {
    return Error::Invalid("\"choice\" must be accept_all, reject_all or custom", "choice");
  }
  if (in.lang != "uk" && in.lang != "ru" && in.lang != "en") {
    return Error::Invalid("\"lang\" must be uk, ru or en", "lang");
  }
  const std::vector<CookieCategory> categories = CookieCategories(cookies);
  for (const auto& a : in.accepted) {
    const bool known = std::any_of(categories.begin(), categories.end(),
                                   [&](const CookieCategory& c) { return c.id == a; });
    if (!known) {
      return Error::Invalid(
          "\"accepted\": \"" + a.substr(0, 64) + "\" is not a cookie category of this school",
          "accepted");
    }
  }
  if (in.choice != "custom" && !in.accepted.empty()) {
    return Error::Invalid("\"accepted\" is given only with the choice custom", "accepted");
  }
  const std::string version = (*school)->version();
  if (!in.policy_version.empty() && in.policy_version != version) {
    Error e = Error::Conflict("policy_version_changed",
                              "the cookie list shown was of policy version " +
                                  in.policy_version.substr(0, 64) + "; the policy in force is " +
                                  version + ": show the banner again");
    e.field = "policy_version";
    return e;
  }
  const Timestamp now = deps_.clock.Now();
  const std::string network = TruncateIp(ctx.ip);
  if (!Allow(network, now)) {
    return Error{ErrorCode::kTooManyRequests,
                 "too many cookie choices from this network; try again in a minute",
                 {},
                 "rate_limited"};
  }
  auto expires = CookieExpiry(now, cookies.consent_ttl);
  if (!expires.ok()) return expires.error();

  ports::CookieConsentRow row;
  row.school = school_id;
  row.id = deps_.crypto.NewId();
  row.choice = in.choice;
  row.policy_version = version;
  row.gpc = in.gpc;
  row.lang = in.lang;
  row.ip = network;
  row.user_agent_sha256 =
      ctx.user_agent.empty() ? std::string() : ports::ToHex(deps_.crypto.Sha256(ctx.user_agent));
  row.at = now;
  row.expires_at = *expires;
  for (const CookieCategory& c : categories) {
    bool on = !c.consent_required || in.choice == "accept_all" ||
              (in.choice == "custom" && Contains(in.accepted, c.id));
    if (c.consent_required && in.gpc && RefusedByGpc(c.id)) on = false;
    (on ? row.accepted : row.rejected).push_back(c.id);
  }

  ports::WriteBatch batch;
  AuditEvent e;
  e.actor = Actor::Public().AuditName();
  e.action = "cookie_consent.record";
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  e.detail = "{\"cookie_consent_id\":" + JsonQuote(row.id) +
             ",\"choice\":" + JsonQuote(row.choice) + ",\"accepted\":" + JsonList(row.accepted) +
             ",\"gpc\":" + (row.gpc ? "true" : "false") +
             ",\"policy_version\":" + JsonQuote(row.policy_version) + "}";
  audit_.Add(batch, school_id, std::move(e));
  batch.cookie_consents.push_back(row);
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st.error();
  return row;
}

Result<ports::CookieConsentRow> CookieConsentService::Get(const SchoolId& school_id,
                                                          const std::string& id) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto row = deps_.store.GetCookieConsent(school_id, id);
  if (!row.ok()) return row.error();
  if (!*row) {
    return Error{ErrorCode::kNotFound, "no such cookie consent", "id", "cookie_consent_unknown"};
  }
  return **row;
}

}  // namespace dovira::services
