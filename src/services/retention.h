// Purpose retention (R21, R51, R70-R72): the events a term is counted from, the index of the days
// retention ends, and the daily job that acts on it.
//
// Each purpose of the policy names its retention term and what it runs from (`retention`,
// `retention_from`); an unset term (while_needed) is "immediate" from that event. The events are:
//  - collection: when the subject was first stored;
//  - agreement_end: an order or contract closed (reported by the school's systems);
//  - end_of_use: the last use (a report from the school's systems, at the latest the collection)
//    plus the policy's `[retention] end_of_use_inactivity`;
//  - withdrawal: the end of the consent that granted the purpose (withdrawn, or expired at the
//    end of its term, R21);
//  - purpose_end: a "purpose_end:<purpose>" event; else the end of the consent for a consent-based
//    purpose, the agreement's end for a contract-based one; nothing for the other bases (they are
//    needed while the school says so);
//  - verification_decision: only a "purpose_end:<purpose>" event.
// A purpose on another basis than consent or contract that states neither a term nor an event
// (while_needed from purpose_end: 001's requests_and_claims, 004's justice_requests) keeps no
// field on its own; it uses the data while another purpose keeps them.
// A consent-based purpose ends with its consent in any case: nothing may be processed under it
// after that.
//
// Whenever a subject's events, consents or data change, `Refresh` recomputes per purpose the
// instant its retention ends and keeps it in `retention_due` (an upsert per subject and purpose,
// keyed by the local day in the school's time zone); the daily job reads only the rows due by
// today. Intake and consent changes made elsewhere reach the index through `CatchUp`, which
// reads the subjects and consents changed since its last pass (two indexes, not a scan).
//
// A purpose stops at its trigger: from then on the gate refuses it (retention_ended; only storage
// passes), and its data are kept for the retention term that follows, restricted to storage.
// The job (`Run`) takes each due subject and decides per field: a field stays while one of its
// purposes for this subject is still running (R70); once every one has stopped it is
//  - kept restricted to storage while the longest of their terms runs, or a legal minimum of its
//    category (R72, counted from the same trigger), with a row "legal_minimum:<category>" that
//    brings the subject back on the day the minimum passes;
//  - skipped, with the reason logged, while a restriction request on the ground of legal claims
//    keeps it (R51);
//  - otherwise destroyed as `[retention] after` says: "destroy" and "destroy_or_anonymise"
//    delete the field's records and blind-index entries (the recipients that received it are
//    told through the outbox, as for an erasure); "anonymise" replaces the value by an empty one,
//    so that only the fact that a value of that category was held remains (no value, no lookup).
// A subject none of whose fields remains is erased through SubjectService::DestroySubject (key
// destroyed, every row deleted, tombstone), the erasure's path. Every decision is an audit entry
// of "system:retention"; the gate's retention_ended bits of the ended purposes are set, so
// processing under them is refused from then on (and after a restart, by LoadGate).
//
// Thread-safety: all methods may be called from any thread; the job takes a per-school lock.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/compiled_policy.h"
#include "domain/gate.h"
#include "ports/store.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/disclosures.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

// When one purpose of one subject ends, and from what.
struct PurposeEnd {
  std::string purpose;
  bool applies = false;              // the purpose concerns this subject
  // When processing under it stops (the trigger), and when its retention term has run out after
  // that (the trigger itself for "immediate"). Both unset while it runs; ends_at unset after a
  // stop for an indefinite term.
  std::optional<Timestamp> stops_at;
  std::optional<Timestamp> ends_at;
  std::string trigger;  // agreement_end, end_of_use, consent_withdrawn, ...
  Timestamp trigger_at{};
};

// Everything the plan of one subject reads.
struct RetentionFacts {
  ports::SubjectRow subject;
  std::vector<ports::ConsentRow> consents;
  std::vector<ports::SubjectEventRow> events;
};

// A subject's retention facts and sealed records as stored; nullopt when the subject is not on
// file. The retention plan and the legal minimums of an erasure read the same facts.
struct StoredRetentionFacts {
  RetentionFacts facts;
  std::vector<ports::RecordRow> records;
};
Result<std::optional<StoredRetentionFacts>> LoadRetentionFacts(ports::Store& store,
                                                                const SchoolId& school,
                                                                const SubjectId& subject);

// Per purpose of the policy (in policy order), when its retention ends for the subject. Pure.
std::vector<PurposeEnd> PlanPurposes(const domain::CompiledPolicy& cp, const RetentionFacts& facts);

// R72 (004 §8.6): a field a legal minimum keeps when the subject's data are to go at `now` (an
// erasure or a withdrawal): the law, the clause and the last day it is kept (YYYY-MM-DD in the
// school's time zone).
struct LegalMinimumKeep {
  std::string field;
  std::string category;
  std::string law;
  std::string clause;
  std::string until;
};

// The fields of `records` whose category's legal minimum has not passed by `now`. The minimum is
// counted, as the retention job counts it, from the trigger of the field's purposes: the latest
// trigger among those that have stopped, and `now` for those still running (the erasure ends
// them). Pure; one entry per field, in record order.
std::vector<LegalMinimumKeep> LegalMinimumsInForce(const domain::CompiledPolicy& cp,
                                                   const RetentionFacts& facts,
                                                   const std::vector<ports::RecordRow>& records,
                                                   Timestamp now);

// One field of one subject whose retention ends, and what the job does (or will do) with it.
struct RetentionItem {
  SubjectId subject;
  std::string field;
  std::string category;
  std::string purpose;  // the purpose that ended last
  std::string trigger;
  Timestamp trigger_at{};
  Timestamp due_at{};
  std::string due_date;  // YYYY-MM-DD in the school's time zone
  // destroy | anonymise: the field goes on due_date. keep: its purposes have stopped and it is
  // kept restricted to storage through kept_until (a retention term, or a legal minimum when
  // `law` is set), then goes. skip_legal_claims: past retention but kept by a restriction (R51).
  std::string action;
  std::string law;         // keep: the law of the legal minimum that keeps it, or ""
  std::string kept_until;  // keep: YYYY-MM-DD, the last day it is kept; "" for indefinitely
};

// The sentence a person reads about `item`, in `lang` (uk, ru, en; others fall back): the field's
// and purpose's titles from the policy, the trigger in words, dates as a letter writes them, the
// law by its title (i18n/retention).
std::string ExplainRetention(const domain::CompiledPolicy& cp, const RetentionItem& item,
                             const std::string& lang);

struct RetentionRunReport {
  int subjects_checked = 0;
  int purposes_ended = 0;
  int fields_destroyed = 0;
  int fields_anonymised = 0;
  int fields_kept = 0;     // kept restricted to storage by a legal minimum (R72)
  int fields_skipped = 0;  // kept by a legal-claims restriction (R51)
  int subjects_erased = 0;
};

class RetentionService {
 public:
  RetentionService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit,
                   DisclosureService& disclosures);

  // The event kinds a school's systems may report.
  static bool IsEventKind(const std::string& kind);

  // Records `kind` (agreement_end, last_use, purpose_end:<purpose>) of a subject at `at` and
  // recomputes its retention. kInvalidArgument naming "kind" or "at" for an unknown kind, a
  // purpose the policy does not declare or a last use in the future (an agreement's or a
  // purpose's end may be known ahead); kNotFound for an unknown
  // subject. An earlier last_use than the one on file changes nothing. Audited.
  Status RecordEvent(const SchoolId& school, const SubjectId& subject, const std::string& kind,
                     Timestamp at, const Actor& actor, const RequestContext& ctx);

  // Recomputes the subject's rows of the index (kNotFound when the subject is gone).
  Status Refresh(const SchoolId& school, const SubjectId& subject);
  // Refreshes every subject updated, or with a consent given or withdrawn, since the last pass.
  Status CatchUp(const SchoolId& school);

  // What the job will do on the days up to and including `until` (YYYY-MM-DD), ordered by day
  // and subject: every field that will go, stay under a legal minimum or be skipped, and why.
  // Reads only: subjects changed since the job's last pass are planned from their records, the
  // others from the index. kInvalidArgument naming "until" for a bad date.
  Result<std::vector<RetentionItem>> Upcoming(const SchoolId& school, const std::string& until);

  // The daily job (R70-R72): acts on every subject with a row due by now.
  Result<RetentionRunReport> Run(const SchoolId& school, const RequestContext& ctx);

  // One subject's retention_ended bits from the store, into `state`.
  Status LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                         domain::SubjectState& state);

 private:
  struct SubjectPlan {
    std::vector<PurposeEnd> ends;
    std::vector<RetentionItem> items;   // fields whose last purpose has ended by `at`
    std::vector<std::string> staying;   // fields a running purpose still uses
    std::vector<ports::RecordRow> records;
  };
  // The plan of one subject as of `at` (items due by then); nullopt when the subject is gone.
  Result<std::optional<SubjectPlan>> PlanSubject(const SchoolId& school,
                                                 const domain::CompiledPolicy& cp,
                                                 const SubjectId& subject, Timestamp at);
  // Rows of the index for `plan` (every ended-or-ending purpose and legal minimum).
  std::vector<ports::RetentionDueRow> Rows(const SchoolId& school,
                                           const domain::CompiledPolicy& cp,
                                           const SubjectId& subject, const SubjectPlan& plan) const;
  // Stages the subject's rows of the index for `plan`; `ended`, if given, receives the purposes
  // the rows keep ended (the gate's retention_ended once the batch commits).
  Status StageRefresh(ports::WriteBatch& batch, const SchoolId& school,
                      const domain::CompiledPolicy& cp, const SubjectId& subject,
                      const SubjectPlan& plan, domain::PurposeSet* ended = nullptr);
  // Sets the subject's retention_ended bits in the gate to `ended` (after a refresh committed).
  static void SyncGate(SchoolRuntime& rt, const SubjectId& subject, domain::PurposeSet ended);
  Status Act(const SchoolId& school, const domain::CompiledPolicy& cp, SchoolRuntime& rt,
             const SubjectId& subject, RetentionRunReport& report, const RequestContext& ctx);
  std::mutex& SchoolMutex(const SchoolId& school);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
  DisclosureService& disclosures_;
  std::mutex mu_;
  std::map<SchoolId, std::unique_ptr<std::mutex>> school_mu_;  // guarded by mu_
};

}  // namespace dovira::services
