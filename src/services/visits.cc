#include "services/visits.h"

#include <cctype>
#include <set>

#include "calendar/date.h"

namespace dovira::services {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Has(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// The host of a URL ("https://www.example.org:443/x?y" → "www.example.org") or of a bare domain;
// "" when it is not one.
std::string DomainOf(const std::string& text) {
  std::string rest = text;
  const size_t scheme = rest.find("://");
  if (scheme != std::string::npos) rest = rest.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = rest.rfind('@');  // user:password@host: never kept
  if (at != std::string::npos) rest = rest.substr(at + 1);
  rest = Lower(rest.substr(0, rest.find(':')));
  if (rest.empty() || rest.size() > 253 || rest.find('.') == std::string::npos) return "";
  for (char c : rest) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return "";
  }
  return rest;
}

std::optional<calendar::Date> ParseDay(const std::string& text) {
  auto d = calendar::ParseDate(text);
  if (!d.ok()) return std::nullopt;
  return *d;
}

}  // namespace

std::string BrowserFamily(const std::string& user_agent) {
  const std::string ua = Lower(user_agent);
  if (Has(ua, "bot") || Has(ua, "crawler") || Has(ua, "spider")) return "bot";
  if (Has(ua, "edg/") || Has(ua, "edge/")) return "edge";
  if (Has(ua, "opr/") || Has(ua, "opera")) return "opera";
  if (Has(ua, "firefox/") || Has(ua, "fxios/")) return "firefox";
  if (Has(ua, "chrome/") || Has(ua, "crios/") || Has(ua, "chromium/")) return "chrome";
  if (Has(ua, "safari/")) return "safari";
  return "other";
}

std::string OsFamily(const std::string& user_agent) {
  const std::string ua = Lower(user_agent);
  if (Has(ua, "windows")) return "windows";
  if (Has(ua, "iphone") || Has(ua, "ipad") || Has(ua, "ipod")) return "ios";
  if (Has(ua, "mac os x") || Has(ua, "macintosh")) return "macos";
  if (Has(ua, "android")) return "android";
  if (Has(ua, "linux") || Has(ua, "cros") || Has(ua, "x11")) return "linux";
  return "other";
}

bool IsIdentifyingVisitMember(const std::string& name) {
  static const std::set<std::string> kNames = {
      "subject",    "subject_id",  "account",   "account_id", "user",      "user_id",
      "uid",        "customer_id", "client_id", "cookie",     "cookie_id", "session",
      "session_id", "visitor_id",  "device_id", "email",      "e-mail",    "e_mail",
      "name",       "first_name",  "last_name", "phone",      "login"};
  return kNames.count(Lower(name)) > 0;
}

VisitService::VisitService(Deps deps, Schools& schools) : deps_(deps), schools_(schools) {}

Result<ports::VisitRow> VisitService::Record(const SchoolId& school_id, const VisitReport& v,
                                             const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  const Timestamp now = deps_.clock.Now();
  const std::string ip = v.ip.empty() ? ctx.ip : v.ip;
  const std::string network = TruncateIp(ip);
  if (!v.ip.empty() && network.empty()) {
    return Error::Invalid("\"ip\" is not an IPv4 or IPv6 address", "ip");
  }
  // The path alone: a query string or fragment often carries an address, a token or an id.
  std::string page = v.page;
  if (page.find("://") != std::string::npos) {
    const size_t path = page.find('/', page.find("://") + 3);
    page = path == std::string::npos ? "/" : page.substr(path);
  }
  page = page.substr(0, page.find_first_of("?#"));
  if (page.empty() || page.front() != '/' || page.size() > 512) {
    return Error::Invalid(
        "\"page\" must be a path on the school's site (\"/courses\") of at most "
        "512 characters",
        "page");
  }
  if (page.find('@') != std::string::npos) {
    Error e = Error::Invalid(
        "\"page\" holds an e-mail address: send the path without personal data", "page");
    e.reason = "personal_data_refused";
    return e;
  }
  std::string referrer;
  if (!v.referrer.empty()) {
    referrer = DomainOf(v.referrer);
    if (referrer.empty()) {
      return Error::Invalid("\"referrer\" is neither a URL nor a domain", "referrer");
    }
  }
  Timestamp at = v.at.value_or(now);
  if (at > now + std::chrono::minutes(5) || at < now - std::chrono::days(7)) {
    return Error::Invalid("\"at\" must lie within the last week, not in the future", "at");
  }
  if (!limiter_.Allow(network.empty() ? "unknown" : network, now)) {
    return Error{ErrorCode::kTooManyRequests,
                 "too many visits reported from this network; try again in a minute",
                 {},
                 "rate_limited"};
  }
  // The day and hour on the school's clock, as its staff read the statistics.
  const calendar::Calendar& cal = (*school)->policy()->calendar();
  const auto instant = std::chrono::floor<std::chrono::seconds>(at);
  const calendar::Date local = cal.LocalDate(instant);
  ports::VisitRow row;
  row.school = school_id;
  row.id = deps_.crypto.NewId();
  row.day = calendar::FormatDate(local);
  // The wall-clock hour ("YYYY-MM-DDTHH:..."), right on the days the clocks change.
  const std::string wall = cal.FormatLocal(instant);
  row.hour = wall.size() > 12 ? (wall[11] - '0') * 10 + (wall[12] - '0') : 0;
  row.network = network;
  const std::string& ua = v.user_agent.empty() ? ctx.user_agent : v.user_agent;
  row.browser = BrowserFamily(ua);
  row.os = OsFamily(ua);
  row.page = page;
  row.referrer_domain = referrer;
  ports::WriteBatch batch;
  batch.visits.push_back(row);
  batch.power_safe = false;  // statistics: a crash of the machine may lose the last few
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st.error();
  return row;
}

Result<VisitStats> VisitService::Stats(const SchoolId& school_id, const std::string& from,
                                       const std::string& to) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto f = ParseDay(from);
  if (!f) return Error::Invalid("\"from\" must be a date YYYY-MM-DD", "from");
  auto t = ParseDay(to);
  if (!t) return Error::Invalid("\"to\" must be a date YYYY-MM-DD", "to");
  if (t->days < f->days) return Error::Invalid("\"to\" is before \"from\"", "to");
  if ((t->days - f->days).count() > 366) {
    return Error::Invalid("ask for at most 366 days at a time", "to");
  }
  VisitStats out;
  out.from = calendar::FormatDate(*f);
  out.to = calendar::FormatDate(*t);
  std::set<std::string> networks;
  Status st = deps_.store.ForEachVisit(school_id, out.from, out.to, [&](const ports::VisitRow& r) {
    ++out.total;
    ++out.by_day[r.day];
    if (r.hour >= 0 && r.hour < 24) ++out.by_hour[static_cast<size_t>(r.hour)];
    ++out.browsers[r.browser];
    ++out.os[r.os];
    ++out.pages[r.page];
    ++out.referrers[r.referrer_domain.empty() ? "(none)" : r.referrer_domain];
    if (!r.network.empty()) networks.insert(r.network);
  });
  if (!st.ok()) return st.error();
  out.networks = static_cast<int64_t>(networks.size());
  return out;
}

}  // namespace dovira::services
