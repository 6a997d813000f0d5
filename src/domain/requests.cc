#include "domain/requests.h"

#include <algorithm>
#include <array>
#include <utility>

namespace dovira::domain {
namespace {

constexpr std::array<const char*, 7> kStateNames = {
    "received", "awaiting_identity", "awaiting_evidence", "in_progress",
    "done",     "partly_done",       "rejected"};

constexpr std::pair<const char*, const char*> kTypes[] = {
    {"access", "access"},
    {"confirmation", "access"},
    {"information", "information"},
    {"transfer_info", "transfer_info"},
    {"rectification", "rectification"},
    {"erasure", "erasure"},
    {"restriction", "restriction"},
    {"suspend", "restriction"},
    {"objection", "objection"},
    {"marketing_objection", "marketing_objection"},
    {"object_direct_marketing", "marketing_objection"},
    {"portability", "portability"},
    {"withdrawal", "withdrawal"},
    {"automated_decision_review", "automated_decision_review"},
    {"contest_segment", "automated_decision_review"},
    {"no_automated_decisions", "no_automated_decisions"},
    {"complaint", "complaint"},
    {"claim", "complaint"},
    {"unlawful_processing", "unlawful_processing"},
    {"child_data_report", "child_data_report"},
};

std::chrono::sys_seconds Seconds(Timestamp t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}
Timestamp FromSeconds(std::chrono::sys_seconds s) {
  return std::chrono::time_point_cast<std::chrono::microseconds>(s);
}

// True when the W-TERM-DEFAULTED resolution lists `right` among the rights whose written-out term
// is the default (R67).
bool ResolvedAsDefault(const policy::Policy& p, const std::string& right) {
  const policy::Resolution* r = p.FindResolution("W-TERM-DEFAULTED");
  return r != nullptr && std::find(r->rights.begin(), r->rights.end(), right) != r->rights.end();
}

}  // namespace

const char* RequestStateName(RequestState s) {
  auto i = static_cast<size_t>(s);
  return i < kStateNames.size() ? kStateNames[i] : "";
}

std::optional<RequestState> ParseRequestState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (name == kStateNames[i]) return static_cast<RequestState>(i);
  }
  return std::nullopt;
}

bool CanMove(RequestState from, RequestState to) {
  if (from == to) return false;
  if (from == RequestState::kDone) return to == RequestState::kPartlyDone;  // B03
  if (from == RequestState::kPartlyDone) return to == RequestState::kDone;
  if (!IsOpen(from)) return false;
  if (to == RequestState::kReceived) return false;
  return true;
}

const char* RightOfType(std::string_view type) {
  for (const auto& [t, right] : kTypes) {
    if (type == t) return right;
  }
  return nullptr;
}

const std::vector<std::string>& RequestTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> v;
    for (const auto& [t, right] : kTypes) v.emplace_back(t);
    return v;
  }();
  return types;
}

Result<DueTerm> TermFor(const policy::Policy& p, std::string_view type) {
  const char* right_id = RightOfType(type);
  if (right_id == nullptr) {
    return Error::Refused("unknown_request_type",
                          "unknown request type \"" + std::string(type) + "\"", "type");
  }
  const std::string right(right_id);
  if (right == "unlawful_processing") {
    if (!p.unlawful_processing.declared || !p.unlawful_processing.stop) {
      return DueTerm{p.terms.default_request, "detected", "default", ""};
    }
    return DueTerm{*p.unlawful_processing.stop, p.unlawful_processing.trigger, "policy",
                   p.unlawful_processing.clause};
  }
  if (right == "child_data_report") {
    // R26 (001 §2.4, 004 §5.7.2-§5.7.3, C-10): the officer's case runs on the policy's deletion
    // term for a minor's data, from the report's receipt.
    return DueTerm{p.minors.deletion_term, "request_received", "policy", p.minors.clause};
  }
  if (type == "claim" && p.claims.pretrial && p.claims.deadline.term) {
    return DueTerm{*p.claims.deadline.term, p.claims.deadline.trigger, "policy", p.claims.clause};
  }
  const policy::Right* r = p.FindRight(right);
  if (r == nullptr || !r->enabled) {
    return Error::Refused("right_not_offered",
                          "the school's policy does not offer the right \"" + right + "\"",
                          "type");
  }
  const policy::Deadline& d = r->deadline;
  if (r->immediate) {
    return DueTerm{calendar::Term{0, calendar::TermUnit::kImmediate, true}, d.trigger, "policy",
                   r->clause};
  }
  if (!d.term || d.term->unit == calendar::TermUnit::kIndefinite) {
    return DueTerm{p.terms.default_request, d.trigger, "default", r->clause};
  }
  const bool defaulted = d.defaulted || ResolvedAsDefault(p, right);
  return DueTerm{*d.term, d.trigger, defaulted ? "default" : "policy", r->clause};
}

Result<Timestamp> DueAt(const calendar::Calendar& cal, Timestamp trigger,
                        const calendar::Term& term) {
  if (term.unit == calendar::TermUnit::kImmediate) return trigger;
  auto due = calendar::DueInstant(cal, Seconds(trigger), term);
  if (!due.ok()) return due.error();
  return FromSeconds(*due);
}

Milestones WarningTimes(const calendar::Calendar& cal, Timestamp trigger, Timestamp due) {
  const calendar::Date from = cal.LocalDate(Seconds(trigger));
  const calendar::Date to = cal.LocalDate(Seconds(due));
  const int64_t days = to - from;
  if (days < 2) return Milestones{trigger, trigger};
  auto at = [&](int64_t tenths) {
    return FromSeconds(cal.StartOfDay(from + days * tenths / 10));
  };
  return Milestones{at(5), at(8)};
}

bool DueDayReached(const calendar::Calendar& cal, Timestamp now, Timestamp due) {
  return now >= due || cal.LocalDate(Seconds(now)) >= cal.LocalDate(Seconds(due));
}

int64_t LateByDays(const calendar::Calendar& cal, Timestamp due, Timestamp closed) {
  if (closed <= due) return 0;
  const int64_t days = cal.LocalDate(Seconds(closed)) - cal.LocalDate(Seconds(due));
  return std::max<int64_t>(days, 1);
}

bool FeeMayApply(const policy::Right& right, const calendar::Calendar& cal, Timestamp received,
                 const std::vector<Timestamp>& earlier) {
  if (right.fee != "free_once_per_calendar_year") return false;
  auto year_of = [&](Timestamp t) {
    return std::chrono::year_month_day(cal.LocalDate(Seconds(t)).days).year();
  };
  const std::chrono::year year = year_of(received);
  return std::any_of(earlier.begin(), earlier.end(),
                     [&](Timestamp t) { return t < received && year_of(t) == year; });
}

bool RequestEffect::Empty() const {
  return blocked.Empty() && restricted.Empty() && !restrict_all && restricted_purposes == 0 &&
         objection_pending == 0 && objection_upheld == 0 && !no_automated;
}

void ApplyEffects(const std::vector<RequestEffect>& effects, size_t purpose_count,
                  SubjectState& state) {
  const PurposeSet all =
      purpose_count >= 64 ? ~PurposeSet{0} : ((PurposeSet{1} << purpose_count) - 1);
  state.blocked = FieldSet{};
  state.restricted = FieldSet{};
  state.restricted_purposes = 0;
  state.objection_pending = 0;
  state.objection_upheld = 0;
  state.no_automated = false;
  for (const RequestEffect& e : effects) {
    state.blocked = state.blocked | e.blocked;
    state.restricted = state.restricted | e.restricted;
    state.restricted_purposes |= e.restrict_all ? all : e.restricted_purposes;
    state.objection_pending |= e.objection_pending;
    state.objection_upheld |= e.objection_upheld;
    state.no_automated = state.no_automated || e.no_automated;
  }
  // A decided objection replaces its pending mark.
  state.objection_pending &= ~state.objection_upheld;
}

namespace {
constexpr const char* kEuCountries[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
                                        "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
                                        "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
                                        "IS", "LI", "NO"};
}  // namespace

bool IsEuCountry(std::string_view country) {
  return std::any_of(std::begin(kEuCountries), std::end(kEuCountries),
                     [&](const char* eu) { return country == eu; });
}

bool InEuOverlay(const policy::EuOverlay& overlay, std::string_view residence,
                 std::string_view citizenship) {
  const bool resident = IsEuCountry(residence);
  const bool citizen = IsEuCountry(citizenship);
  if (overlay.trigger == "residence") return resident;
  if (overlay.trigger == "citizenship") return citizen;
  return resident || citizen;  // "either", the loader's default
}

bool RightApplies(const policy::Policy& policy, const policy::Right& right,
                  std::string_view residence, std::string_view citizenship) {
  if (!right.enabled) return false;
  if (right.scope != "eu_overlay") return true;
  return InEuOverlay(policy.eu_overlay, residence, citizenship);
}

}  // namespace dovira::domain
