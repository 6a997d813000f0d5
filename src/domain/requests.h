// The rules of data-subject requests (R35-R69, B10): which policy right a request type runs under,
// its term and trigger, the due instant in the school's calendar, the early warnings at a half
// and four fifths of the term, lateness, the fee rule, the states a request moves through, and
// what an open or decided request does to the purpose gate (blocks, restrictions, objections).
//
// Pure functions over the policy and the calendar: no I/O, no clock (every instant is passed in).
//
// Thread-safety: every function is reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/calendar.h"
#include "common/clock.h"
#include "common/result.h"
#include "domain/compiled_policy.h"
#include "domain/gate.h"
#include "policy/model.h"

namespace dovira::domain {

// received → (awaiting_identity | awaiting_evidence) → in_progress → done | partly_done | rejected.
// B03: done ⇄ partly_done as the per-store and per-recipient tasks fail or confirm.
enum class RequestState : uint8_t {
  kReceived,
  kAwaitingIdentity,  // R37: nothing is released until the identity is confirmed
  kAwaitingEvidence,  // R46: a rectification waits for the subject's evidence
  kInProgress,
  kDone,
  kPartlyDone,  // B03: a store or recipient did not confirm, or part was refused
  kRejected,
};

const char* RequestStateName(RequestState s);
std::optional<RequestState> ParseRequestState(std::string_view name);
// Open: the workflow's steps (identity, evidence, completion, refusal, extension) still apply.
inline bool IsOpen(RequestState s) { return s < RequestState::kDone; }
// Outstanding: an obligation the deadline job and the dashboard still count (R68, B03). A partly
// done request is one: a store or recipient has not confirmed, so it can still become overdue.
inline bool IsOutstanding(RequestState s) { return IsOpen(s) || s == RequestState::kPartlyDone; }
// The moves the workflow allows. A rejected request never reopens; a done one goes back to
// partly_done only when a store or recipient reports a failure afterwards (B03), and a partly
// done one becomes done when every task has confirmed.
bool CanMove(RequestState from, RequestState to);

// Every request type the API accepts, with the policy right it runs under:
//   access, confirmation (→ access), information, transfer_info, rectification, erasure,
//   restriction, suspend (→ restriction, every purpose), objection, marketing_objection,
//   object_direct_marketing (→ marketing_objection), portability, withdrawal,
//   automated_decision_review, contest_segment (→ automated_decision_review),
//   no_automated_decisions, complaint, claim (→ [claims] or complaint),
//   unlawful_processing (staff only; [unlawful_processing]), child_data_report (a report that a
//   child's data were collected, from anyone; its term is `minors.deletion_term`, R26).
// Returns nullptr for an unknown type.
const char* RightOfType(std::string_view type);
const std::vector<std::string>& RequestTypes();

// A term, what starts it and where it came from.
struct DueTerm {
  calendar::Term term;
  std::string trigger;  // request_received | evidence_supplied | withdrawal_received |
                        // claim_received | detected | action_performed
  std::string source;   // "policy" | "default" (R67: the policy states no term of its own)
  std::string clause;
};

// The term of a request type under the policy. Refused "right_not_offered" when the policy does
// not offer the right (absent or disabled); "unknown_request_type" for an unknown type.
Result<DueTerm> TermFor(const policy::Policy& policy, std::string_view type);

// The due instant (R65): trigger + term in the school's calendar, ending at the end of the local
// due day; "immediate" is the trigger itself; hours are exact. Indefinite terms are refused.
Result<Timestamp> DueAt(const calendar::Calendar& cal, Timestamp trigger,
                        const calendar::Term& term);

// B10: when to warn that a term is running out: after half and four fifths of its days (whole
// local days from the trigger's date, rounded down; a term under two days warns at the trigger).
struct Milestones {
  Timestamp half{};
  Timestamp four_fifths{};
};
Milestones WarningTimes(const calendar::Calendar& cal, Timestamp trigger, Timestamp due);

// R56: whether an action due at `due` is carried out by a job running at `now`: from the start of
// the local due day, so that a destruction due on 04-14 runs on 04-14 itself, within its term.
bool DueDayReached(const calendar::Calendar& cal, Timestamp now, Timestamp due);

// R68: whole local calendar days from the due date to the closing date; 0 when on time.
int64_t LateByDays(const calendar::Calendar& cal, Timestamp due, Timestamp closed);

// R41: whether a fee may apply to a request received at `received`, given when the subject's
// earlier requests of the same right were received. Only "free_once_per_calendar_year" (in the
// school's calendar year) ever answers true; "free" and the rest answer false.
bool FeeMayApply(const policy::Right& right, const calendar::Calendar& cal, Timestamp received,
                 const std::vector<Timestamp>& earlier);

// Whether a two-letter country code is a member of the EU or the EEA.
bool IsEuCountry(std::string_view country);

// R05: whether the policy's EU overlay applies to a subject who lives in `residence` and is a
// citizen of `citizenship` (two-letter codes; "" when not on file), by the overlay's trigger:
// "residence", "citizenship" or "either". A fact that is not on file never brings it in.
bool InEuOverlay(const policy::EuOverlay& overlay, std::string_view residence,
                 std::string_view citizenship);

// R05: whether `right` applies to such a subject: a right of the whole policy always, one with
// `scope = "eu_overlay"` only when the overlay applies.
bool RightApplies(const policy::Policy& policy, const policy::Right& right,
                  std::string_view residence, std::string_view citizenship);

// What an open or decided request does to the gate for its subject.
struct RequestEffect {
  FieldSet blocked;           // R45: rectification pending on these fields
  FieldSet restricted;        // R50, R51: storage only
  bool restrict_all = false;  // R45 (003 suspend), R56 (001 withdrawal): every purpose
  PurposeSet restricted_purposes = 0;
  PurposeSet objection_pending = 0;  // R52
  PurposeSet objection_upheld = 0;   // R52, R53
  bool no_automated = false;         // R62: no profiling of the subject

  bool Empty() const;
};

// Replaces the request-driven part of `state` (blocked, restricted, restricted_purposes,
// objection_pending, objection_upheld, no_automated) with the union of `effects`.
void ApplyEffects(const std::vector<RequestEffect>& effects, size_t purpose_count,
                  SubjectState& state);

}  // namespace dovira::domain
