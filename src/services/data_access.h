// Data access through the gate (R28-R30, R86, R87, B12): every use of personal data names an
// actor, a purpose, an operation and the fields it wants. The gate decides in memory; every
// decision, allowed or not, is audited; only an allowed read opens the sealed values, and only
// the fields the decision released.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <functional>
#include <map>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/gate.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

struct AccessRequest {
  SubjectId subject;
  std::string purpose;
  std::vector<std::string> fields;  // empty: every field the purpose and role allow
  domain::Operation operation = domain::Operation::kRead;
};

struct AccessResult {
  bool allowed = false;
  std::string reason;  // domain::ReasonCode, or an actor rule: "briefing_required",
                       // "purpose_not_allowed_for_key", "field_unknown", "decision_role_required"
  int status = 403;    // the HTTP status the API answers with
  std::string decision_id;
  // R31 (002 L64): an allowed use of a purpose that runs under a standing decision names it; one
  // of a purpose used case by case names who took the decision ("staff:<id>"). Both are in the
  // use's audit entry.
  std::string standing_decision;
  std::string decided_by;
  // R86: the break-glass grants in force for this use (their ids), when any; in the audit entry.
  std::vector<std::string> break_glass;
  std::vector<std::string> fields;            // released field ids
  std::map<std::string, std::string> values;  // Read only: field → value
  // Read only: field → the statement the subject attached to it (R44), for released fields.
  std::map<std::string, std::string> statements;
  // The subject's gate version the decision was made on (ports::GateCheck), when the subject's
  // state was consulted: 0 for a subject unknown here.
  std::optional<int64_t> gate_version;
};

// A search for a subject by a value the intake indexes (an e-mail address or a phone number),
// for a stated purpose (R28-R30, R86, R87): the lookup goes through the same gate and audit as a
// read, and answers with only the fields the purpose and the role release.
struct SearchRequest {
  std::string by;     // "email" | "phone"
  std::string value;  // as typed; normalised like the intake normalises it
  std::string purpose;
  std::vector<std::string> fields;  // empty: every field the purpose and role allow
};

struct SearchResult {
  // The subject found, when the answer concerns them: an allowed read, or a refusal because of
  // the subject's own state (no consent, restricted, ...). Unset when nobody matched and when
  // the refusal is the actor's own (role, purpose, briefing): such a search tells nothing about
  // who is on file.
  std::optional<SubjectId> subject;
  AccessResult access;
};

// A profiling run (R62): the subjects a job means to evaluate for a purpose. The run asks the gate
// for each subject with the operation `profile` and processes none itself; it says which subjects
// the job may include and which it must leave out, and why.
struct ProfilingRunRequest {
  std::string purpose;
  std::vector<SubjectId> subjects;
};

struct ProfilingRunResult {
  std::string id;  // "prf_..."; the decision id of the run's summary audit entry
  std::string purpose;
  struct Entry {
    SubjectId subject;
    std::string reason;  // "allowed", or the gate's reason for leaving the subject out
    std::string decision_id;
  };
  std::vector<Entry> included, skipped;
};

class DataAccessService {
 public:
  DataAccessService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit);
  ~DataAccessService();

  // Reloads one subject's gate state from the store (every part of it: the subject, its
  // consents, requests, guardianships, retention, grants and assignments).
  using SubjectReloader = std::function<Status(const SchoolId&, const SubjectId&)>;
  // With a reloader set (the application always sets one), every use's audit entry carries the
  // gate version its decision was made on (ports::GateCheck): when another server, or this one,
  // changed the subject since, the entry is refused, the state reloaded and the use decided
  // again, so a change acknowledged anywhere is never overtaken by a use decided on older state.
  // Without one (a service on its own, in tests) uses are decided on the state in memory alone.
  void SetSubjectReloader(SubjectReloader reload);

  // The decision only (for systems that process data they already hold: "may I use it?").
  Result<AccessResult> Decide(const SchoolId& school, const AccessRequest& request,
                              const Actor& actor, const RequestContext& ctx);
  // The decision and, when allowed, the values. A denial is a normal result, not an error;
  // errors are for failures (the store unreachable: the decision is then deny, B12). A purpose
  // whose `data_form` is depersonalised never reads a subject's identified values: 403
  // "depersonalised_only" (R34); its data come from AnonymisationService.
  Result<AccessResult> Read(const SchoolId& school, const AccessRequest& request,
                            const Actor& actor, const RequestContext& ctx);

  // The same without blocking: the decision and the decryption happen on the calling thread, the
  // audit entry is queued, and `done` runs (on the store's writer thread, so it must be quick)
  // once the entry is committed; nothing is released before that.
  using Done = std::function<void(Result<AccessResult>)>;
  void ReadAsync(const SchoolId& school, const AccessRequest& request, const Actor& actor,
                 const RequestContext& ctx, Done done);
  void DecideAsync(const SchoolId& school, const AccessRequest& request, const Actor& actor,
                   const RequestContext& ctx, Done done);

  // Finds the subject by its lookup token and reads it like Read. Every search, matched or not,
  // allowed or not, is one audit entry "gate.read" with the purpose and {"lookup": by}; an
  // unmatched one names no subject and answers reason "subject_unknown" (404), after the actor's
  // own checks, so a role that may not use the purpose learns nothing. Errors: kInvalidArgument
  // naming "by" or the value's member ("email", "phone") when it is not a plausible value.
  Result<SearchResult> Search(const SchoolId& school, const SearchRequest& request,
                              const Actor& actor, const RequestContext& ctx);

  // R62: decides a profiling run subject by subject (operation `profile`): a subject who opted
  // out of automated decisions is skipped with reason "no_automated_decisions", others as the
  // gate answers (no consent, objection upheld, minor, unknown, ...). Every subject's decision is
  // a "gate.profile" audit entry naming the run, and the run itself one "profiling.run" entry
  // with the purpose and the counts, committed together before the answer. Errors: invalid
  // input naming "purpose" or "subjects"; kPermissionDenied with the actor's own refusal
  // (undeclared purpose, role, API-key purpose, briefing), for the whole run.
  Result<ProfilingRunResult> ProfilingRun(const SchoolId& school,
                                          const ProfilingRunRequest& request, const Actor& actor,
                                          const RequestContext& ctx);

 private:
  // `opens_values`: the caller is handed the values (a read, a search), which a purpose that uses
  // only depersonalised data never is (R34: "depersonalised_only").
  AccessResult DecideOnly(const SchoolRuntime& school, const domain::CompiledPolicy& cp,
                          const AccessRequest& request, const Actor& actor,
                          bool opens_values = false);
  ports::WriteBatch AuditBatch(const SchoolId& school, const AccessRequest& request,
                               const AccessResult& result, const std::string& subject_ref,
                               const Actor& actor, const RequestContext& ctx,
                               const std::string& detail = {});
  // The decision (with its id), or an error when the school is unknown.
  Result<AccessResult> DecideInMemory(const SchoolId& school, const AccessRequest& request,
                                      const Actor& actor, bool opens_values = false);
  // Fills result.values for an allowed read.
  Status OpenValues(const SchoolId& school, const AccessRequest& request, AccessResult& result);
  // ReadAsync (`open_values`) and DecideAsync; `attempt` counts the decisions found stale.
  void UseAsync(const SchoolId& school, const AccessRequest& request, const Actor& actor,
                const RequestContext& ctx, Done done, bool open_values, int attempt);
  // Whether a use refused as stale (ports::kGateStale) is decided again: after the subject is
  // reloaded, at most kMaxStaleAttempts times.
  bool RetryStale(const Status& committed, int attempt) const;
  Status ReloadSubject(const SchoolId& school, const SubjectId& subject);
  // `done`, counted among the uses in flight until it has run (see the destructor).
  Done Tracked(Done done);

  static constexpr int kMaxStaleAttempts = 5;

  // One decision of a profiling run: the answer, its audit batch and the gate versions decided on.
  struct ProfilingRunParts {
    ProfilingRunResult result;
    ports::WriteBatch batch;
    std::vector<std::pair<SubjectId, int64_t>> versions;
  };
  Result<ProfilingRunParts> ProfilingRunOnce(const SchoolRuntime& school,
                                             const domain::CompiledPolicy& cp,
                                             const ProfilingRunRequest& request,
                                             const Actor& actor, const RequestContext& ctx);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
  SubjectReloader reload_;  // set before serving
  // Runs the reloads and second decisions of uses found stale, off the store's writer thread
  // (where their commit callbacks run).
  class Retrier;
  std::unique_ptr<Retrier> retrier_;
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  int inflight_ = 0;  // asynchronous uses whose `done` has not run; guarded by inflight_mu_
};

}  // namespace dovira::services
