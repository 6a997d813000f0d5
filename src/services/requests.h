// Data-subject requests as workflows (R35-R69, B03, B10): filing through any channel with the
// time of receipt on the original channel, identity checks (a one-time code e-mailed to the
// address on file, a document check recorded by staff, a signed-in subject), the due date from
// the policy's term and calendar, early warnings and the overdue job, extensions with a recorded
// reason and basis, per-store receipts, and the action each type takes: the access package,
// rectification with its block, erasure with a tombstone, restriction, objection, portability,
// withdrawal with what the policy says follows, reviews of automated decisions, claims and
// unlawful-processing cases. Every step is on the request's timeline and in the audit log; every
// answer goes out through the outbox in the subject's language.
//
// Thread-safety: safe for concurrent use; changes to one school's requests are serialised.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/requests.h"
#include "services/audit_log.h"
#include "services/consents.h"
#include "services/disclosures.h"
#include "services/holds.h"
#include "services/outbox.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

struct FileRequest {
  std::string type;
  std::optional<SubjectId> subject;  // known to staff; else matched by `email`
  std::string email;                 // the requester's address (matched against the lookups)
  std::string reply_email;           // where answers go (R36); "" = `email`
  std::string requester_name;
  std::string channel;               // support, email, personal_account, written, web, ...
  std::string filed_by = "subject";  // subject | representative | staff
  std::optional<Timestamp> received_at;  // receipt on the original channel (R35)
  std::string lang;
  std::vector<std::string> fields, purposes, consents;
  std::string ground, statement, segment, mode, destination_url;
  bool acknowledged_warning = false;  // R58
  bool evidence_supplied = false;     // R46: a rectification filed with its evidence
};

struct CompleteRequest {
  std::map<std::string, std::string> changes;  // rectification: field → corrected value
  std::string decision;       // objection: overriding_grounds | no_overriding_grounds; reviews
  std::string justification;  // required with overriding_grounds
  std::string answer;         // claims and reviews: the written answer (R63)
  bool storage_needed = false;  // withdrawal (R56): a recorded need to keep the data
  std::string storage_basis;
  std::string note;
};

struct RequestTask {  // B03: one store or recipient that must confirm
  std::string target;  // "store:<id>" | "recipient:<id>"
  std::string action;  // erase | rectify | restrict | notify
  std::string state;   // pending | done | failed
  std::optional<Timestamp> at;
  std::string note;
};

struct RequestInfo {
  std::string id, type, right, state, subject, channel, filed_by, lang;
  std::vector<std::string> fields, purposes, consents;
  std::string ground, segment, mode, outcome, reason, decision;
  Timestamp received_at{}, filed_at{}, due_at{}, updated_at{};
  std::string due_source, term, trigger, clause;
  std::optional<Timestamp> evidence_at, verified_at, closed_at, warned_half_at,
      warned_four_fifths_at, overdue_at, answered_at;
  std::string identity = "not_required";  // not_required | required | verified
  std::string verification_method;
  bool overdue = false;
  bool fee_may_apply = false;
  int64_t late_by_days = 0;
  std::string assignee;
  struct Extension {
    std::string reason, basis;
    Timestamp previous_due{}, new_due{};
  };
  std::vector<Extension> extensions;
  std::vector<RequestTask> tasks;
  // What the request does to the gate (field and purpose ids).
  std::vector<std::string> blocked, restricted, objection_pending, objection_upheld;
  bool restrict_all = false;
  std::vector<std::string> kept;  // fields kept after an erasure or withdrawal, and why
  // R50: the fields whose erasure waits for a legal hold to end (the retention job erases them).
  std::vector<std::string> deferred;

  // Sealed (personal): the reply address, the requester's name and statement, a code hash.
  std::string reply_email, requester_name, statement, code_hash, destination_url;
  // The e-mailed identity code (R37): wrong tries so far and when it stops working.
  int code_attempts = 0;
  std::optional<Timestamp> code_expires_at;
};

struct RequestEvent {
  int64_t seq = 0;
  Timestamp at{};
  std::string actor, kind;
  std::string detail;   // JSON without personal data
  std::string comment;  // a comment's text (opened), or ""
};

struct DeadlineReport {
  int overdue = 0;
  int warnings = 0;
  int destroyed = 0;
  int notices_overdue = 0;  // R47: notices to the subject unsent past their due time
  int holds_overdue = 0;    // R50: erasures deferred by an ended hold, not carried out
};

// R50: what one run of the retention job did.
struct RetentionReport {
  int holds_ended = 0;      // holds whose last day passed
  int holds_settled = 0;    // ended or released holds dealt with
  int fields_erased = 0;    // fields whose deferred erasure was carried out
  int subjects_erased = 0;  // subjects finally erased: key destroyed, tombstone written
};

class RequestService {
 public:
  // `holds` (may be null: no legal holds) makes erasure honour them (R50).
  // The service becomes the outbox's settled hook (TransferSettled) until it is destroyed.
  RequestService(Deps deps, Schools& schools, SubjectService& subjects, ConsentService& consents,
                 AuditLog& audit, Outbox& outbox, DisclosureService& disclosures,
                 LegalHoldService* holds = nullptr);
  ~RequestService();
  RequestService(const RequestService&) = delete;
  RequestService& operator=(const RequestService&) = delete;

  // One subject's request effects from the store (blocks, restrictions, objections), into
  // `state` and this service's copy of them.
  Status LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                         domain::SubjectState& state);

  Result<RequestInfo> File(const SchoolId& school, const FileRequest& request, const Actor& actor,
                           const RequestContext& ctx);
  Result<RequestInfo> Get(const SchoolId& school, const std::string& id);
  Result<std::vector<RequestInfo>> List(const SchoolId& school, const ports::RequestFilter& filter);
  Result<std::vector<RequestEvent>> Events(const SchoolId& school, const std::string& id);

  // R37: method email_code (with `code`), document (staff, `evidence` describes the document
  // checked) or signed_in. An e-mailed code works for kCodeLifetime after it was sent and for
  // kMaxCodeAttempts tries: a wrong code is refused (kRefused "code_invalid", naming the tries
  // left) and counted on the timeline; once the tries are used up every code is refused
  // (kTooManyRequests "code_attempts_exceeded") and after the lifetime too (kRefused
  // "code_expired"), until ResendCode sends a new one.
  Result<RequestInfo> Verify(const SchoolId& school, const std::string& id,
                             const std::string& method, const std::string& code,
                             const std::string& evidence, const Actor& actor,
                             const RequestContext& ctx);
  // R37: a new identity code for a request that awaits identity, e-mailed where the first one
  // went; any earlier code stops working. `email` must be the address the request is answered at
  // or the subject's address on file (kRefused "email_mismatch" otherwise); kConflict
  // "identity_not_awaited" when no identity is awaited.
  Result<RequestInfo> ResendCode(const SchoolId& school, const std::string& id,
                                 const std::string& email, const Actor& actor,
                                 const RequestContext& ctx);
  // R46: the evidence arrived at `at` (default now); the term restarts from it.
  Result<RequestInfo> SupplyEvidence(const SchoolId& school, const std::string& id,
                                     std::optional<Timestamp> at, const std::string& note,
                                     const Actor& actor, const RequestContext& ctx);
  Result<RequestInfo> Complete(const SchoolId& school, const std::string& id,
                               const CompleteRequest& request, const Actor& actor,
                               const RequestContext& ctx);
  Result<RequestInfo> Reject(const SchoolId& school, const std::string& id,
                             const std::string& reason, const Actor& actor,
                             const RequestContext& ctx);
  // B10: a later due date only with a reason and a legal basis.
  Result<RequestInfo> Extend(const SchoolId& school, const std::string& id,
                             const std::string& reason, const std::string& basis,
                             const std::string& term, const Actor& actor,
                             const RequestContext& ctx);
  Result<RequestInfo> Assign(const SchoolId& school, const std::string& id, const StaffId& staff,
                             const Actor& actor, const RequestContext& ctx);
  // R45 (001 §3.6.1): lifts the block an open rectification holds on its fields before the
  // correction, only where the policy's right allows it (`block_exception =
  // "harms_subject_or_third_parties"`) and with the reason why blocking would harm the subject
  // or third parties, kept sealed on the timeline. Errors: kRefused "reason_required";
  // kConflict "request_closed"; kRefused "block_not_liftable" (nothing blocked, or no such
  // exception in the policy).
  Result<RequestInfo> LiftBlock(const SchoolId& school, const std::string& id,
                                const std::string& reason, const Actor& actor,
                                const RequestContext& ctx);
  Result<RequestInfo> Comment(const SchoolId& school, const std::string& id,
                              const std::string& text, const Actor& actor,
                              const RequestContext& ctx);
  // B03: a store or recipient confirms (or reports a failure of) its part.
  Result<RequestInfo> ConfirmTask(const SchoolId& school, const std::string& id,
                                  const std::string& target, bool ok, const std::string& note,
                                  const Actor& actor, const RequestContext& ctx);

  // R54: what became of a portability transfer to the destination the subject named, which the
  // outbox delivered or gave up on (the outbox's settled hook; other messages are ignored). Sent:
  // the transfer is logged as a disclosure naming the destination (`recipient` is its host,
  // `detail.destination` its https origin), the "recipient:destination" task is done, the request
  // done with outcome "transferred", and the subject told. Failed (unreachable after every
  // attempt, or refused): the task fails and the request ends done with outcome
  // "failed_technical", because the transfer is owed only where it is technically possible; the
  // file is offered to the subject instead, attached to a letter in their language that also
  // points to the personal account's download. A task staff already confirmed is left as it is.
  // `batch` holds the message's final state (Outbox::SettledHook): what follows from a transfer is
  // staged into it and committed with it. Errors: the store's (the outbox then tries the message
  // again).
  Status TransferSettled(const Outbox::Settled& message, ports::WriteBatch& batch);

  // R40: the access package as JSON, written out as it is read. Write hands the output over in
  // pieces (each a few tens of KiB) to `out`, reading and opening the subject's records a page at
  // a time, so neither the time to the first piece nor the memory grows with the records; the
  // bytes are exactly those of the package built in memory (the e-mailed answer). Write returns an
  // error when `out` returns false (stop), when a record cannot be read or opened, or when the
  // subject's records changed since Package (ask again); what was written is then incomplete.
  class PackageWriter;
  class PackageStream {
   public:
    explicit PackageStream(std::unique_ptr<PackageWriter> writer);
    PackageStream(PackageStream&&) noexcept;
    PackageStream& operator=(PackageStream&&) noexcept;
    ~PackageStream();
    Status Write(const std::function<bool(std::string)>& out);

   private:
    std::unique_ptr<PackageWriter> writer_;
  };
  // R40: checks the request, reads what the package says of the records (not their values) and
  // commits the export's audit entry before anything of the package exists (R88). kConflict
  // "identity_unverified" while unverified (R37).
  Result<PackageStream> Package(const SchoolId& school, const std::string& id, const Actor& actor,
                                const RequestContext& ctx);

  // R60: records a decision about a subject. A decision of class "legally_significant" (or any
  // class with a legal or similarly significant effect) needs a human `decided_by` unless the
  // policy's automated-decision exceptions name the class (002: "self_query_answer"). The
  // register is the audit log: one tamper-evident entry per decision. Returns the decision id.
  struct Decision {
    std::string cls;          // legally_significant | similarly_significant | self_query_answer | ...
    std::optional<SubjectId> subject;
    std::string decided_by;   // a staff id, "" when taken by a system alone
    std::string model;        // the model or rule that proposed it, if any
    std::string outcome;
    // R61: the marketing segment the decision places the subject in (needs `subject`, a policy
    // that declares profiling, and the gate allowing a profiling purpose for the subject).
    std::string segment;
  };
  Result<std::string> RecordDecision(const SchoolId& school, const Decision& decision,
                                     const Actor& actor, const RequestContext& ctx);

  // R61: the segments the subject is in now: those the decisions register placed them in, less
  // those a contest_segment decision "removed" took them out of (both read from the audit log).
  Result<std::vector<std::string>> Segments(const SchoolId& school, const SubjectId& subject);

  // R38: what the access package says of a subject (purposes, recipients, retention, sources,
  // consents, automated decisions), without a request; for the subject's own cabinet.
  Result<std::string> SubjectPackage(const SchoolId& school, const SubjectId& subject,
                                     const std::string& lang);

  // R68, B10, R56: marks overdue requests and alerts, sends the early warnings, carries out
  // destructions that fall due, and marks and alerts the other obligations past due: notices to
  // the subject not yet sent (R47) and erasures deferred by an ended legal hold that the
  // retention job has not carried out (R50). Run daily (and on demand).
  Result<DeadlineReport> RunDeadlines(const SchoolId& school, const RequestContext& ctx);

  // R50: the retention job. For every legal hold whose last day has passed (before today in the
  // school's time zone) or that was released early, and which deferred an erasure, erases the
  // deferred fields no other hold in force still keeps; once nothing held is left of a subject
  // whose erasure was deferred, finishes that erasure (key destroyed, every row deleted,
  // tombstone). Each step is on the deferred request's timeline and in the audit log; the subject
  // is told when a hold asked for it. Purpose retention terms (R70-R72) are the RetentionService's
  // (services/retention.h), which the same job runs after this. Run daily and on demand.
  Result<RetentionReport> RunRetention(const SchoolId& school, const RequestContext& ctx);

 private:
  Result<RequestInfo> Load(const SchoolId& school, const std::string& id);
  // Writes the request, its timeline entry and audit entry into `batch`.
  Status Stage(ports::WriteBatch& batch, const SchoolId& school, RequestInfo& r,
               const std::string& event, const std::string& detail, const Actor& actor,
               const RequestContext& ctx, const std::string& comment = {});
  Status Commit(const SchoolId& school, RequestInfo& r, ports::WriteBatch batch);
  // Recomputes the subject's request effects in the gate.
  void RefreshGate(SchoolRuntime& school, const RequestInfo& r);
  // The request's effect on the gate, when the stored row has one.
  static std::optional<RequestInfo> WithEffects(const ports::RequestRow& row);
  // The subject's e-mail address on file ("" when none, or no subject).
  std::string AddressOnFile(const SchoolId& school, const domain::CompiledPolicy& cp,
                            const std::string& subject);
  // R88: one audit entry for each change a step makes to what the request blocks or restricts
  // (`block`, `block.lift`, `restrict`, `restrict.lift`, naming the fields), between `before`
  // (as stored before the step) and `r`.
  Status StageEffectAudit(ports::WriteBatch& batch, const SchoolId& school,
                          const RequestInfo& before, const RequestInfo& r, const Actor& actor,
                          const RequestContext& ctx);
  // R04: assigns `r` to the active staff account whose address is that of the policy's
  // `officers.responsible_person`; leaves it unassigned when there is none. Errors: the store's.
  Status AssignResponsible(const SchoolId& school, const policy::Policy& p, RequestInfo& r);
  // R37: a fresh identity code for `r`, returned in the clear to be mailed (only its hash is
  // kept); the earlier code stops working, the tries start again and the lifetime runs from now.
  std::string NewCode(RequestInfo& r);
  // Puts the identity-code message into `batch`, addressed to `on_file`, else to the address the
  // request is answered at (none when neither is known).
  Status MailCode(ports::WriteBatch& batch, const SchoolId& school, const RequestInfo& r,
                  const std::string& on_file, const std::string& code);
  Status Notify(ports::WriteBatch& batch, const SchoolId& school, const RequestInfo& r,
                const std::string& kind, const std::string& extra,
                std::vector<ports::MailAttachment> attachments = {});
  Result<std::string> BuildPackage(SchoolRuntime& school, const RequestInfo& r);
  // R48: tells the recipients that received `fields` of the request's subject (all when empty)
  // of `event` through the outbox, adds a task per recipient (pending when it has no contact)
  // and a "recipients_notified" timeline entry.
  Status NotifyRecipients(ports::WriteBatch& batch, const SchoolId& school, RequestInfo& r,
                          const std::string& event, const std::vector<std::string>& fields,
                          const std::map<std::string, std::string>& corrected,
                          const Actor& actor, const RequestContext& ctx);
  Result<PackageStream> StartPackage(SchoolRuntime* school, const RequestInfo& r);
  friend class RequestServicePeer;  // tests compare the streamed package with BuildPackage
  Result<RequestInfo> Close(const SchoolId& school, RequestInfo r, domain::RequestState state,
                            const std::string& outcome, const std::string& detail,
                            const Actor& actor, const RequestContext& ctx,
                            ports::WriteBatch batch = {});
  Result<RequestInfo> Destroy(const SchoolId& school, RequestInfo r, const std::string& ground,
                              const Actor& actor, const RequestContext& ctx,
                              ports::WriteBatch batch = {});
  // R50: Destroy for a subject with fields under legal holds in force: erases every other field,
  // keeps the held ones restricted to storage, and closes the request done with outcome
  // partly_erased_held; the key and the subject row stay until the retention job finishes.
  // R72: the holds an erasure of `r`'s subject places for the fields a legal minimum still keeps
  // and no hold `in_force` keeps as long (staged into `batch`, "legal_hold.place" by the
  // retention job); none when nothing is kept.
  Result<std::vector<ports::LegalHoldRow>> LegalMinimumHolds(
      const SchoolRuntime& rt, const RequestInfo& r,
      const std::vector<ports::LegalHoldRow>& in_force, const RequestContext& ctx,
      ports::WriteBatch& batch);
  Result<RequestInfo> DestroyExceptHeld(const SchoolId& school, RequestInfo r,
                                        const std::string& ground,
                                        std::vector<ports::LegalHoldRow> holds,
                                        const std::vector<ports::RecordRow>& records,
                                        const Actor& actor, const RequestContext& ctx,
                                        ports::WriteBatch batch);
  // The answer's lines naming what each hold keeps (reason, law, last day), in `lang`.
  std::string HeldText(const domain::CompiledPolicy& cp, const std::string& lang,
                       const std::vector<ports::LegalHoldRow>& holds,
                       const std::set<std::string>& present) const;
  Status SettleHolds(const SchoolId& school, const std::string& request,
                     std::vector<ports::LegalHoldRow> due, const std::string& today,
                     RetentionReport& report, const RequestContext& ctx);
  std::mutex& SchoolMutex(const SchoolId& school);
  // R68: puts the alert letter of `kind` about `r` (due at `due`) into `batch`, addressed to the
  // request's assignee, else to the policy's responsible person; none when neither has an address.
  Status StageAlert(ports::WriteBatch& batch, const SchoolId& school,
                    const domain::CompiledPolicy& cp, const RequestInfo& r,
                    const std::string& kind, Timestamp due, const std::string& share);
  // The deadline job's other obligations (request_deadlines.cc); each returns how many it marked.
  Result<int> MarkOverdueNotices(const SchoolId& school, const domain::CompiledPolicy& cp,
                                 const RequestContext& ctx);
  Result<int> MarkOverdueHolds(const SchoolId& school, const domain::CompiledPolicy& cp,
                               const RequestContext& ctx);

  // What a request filed as a withdrawal did at once (request_withdrawal.cc).
  struct FilingEffect {
    bool destroy_now = false;     // R57, R69: the subject is destroyed before the API answers
    bool forget_records = false;  // records were deleted in the filing's batch (R57)
    std::string held_extra;       // R50: what legal holds keep, for the answer
  };
  // R55-R57: a withdrawal takes effect from its receipt: the consents are withdrawn, the
  // destruction's due date set, and where the policy says so the consent-only fields destroyed in
  // `batch` at once.
  Status WithdrawAtFiling(const SchoolId& school, const domain::CompiledPolicy& cp, RequestInfo& r,
                          Timestamp received, ports::WriteBatch& batch, const Actor& actor,
                          const RequestContext& ctx, FilingEffect& out);

  // Each right's completion (Complete dispatches on the request's right), in its own module.
  // Those that destroy release `lock` (the school's) first.
  // R54: a disclosure row (and its audit entry) for a transfer that reached the subject's
  // destination, naming its fields and categories as the sent `package` lists them.
  Status StageTransferDisclosure(ports::WriteBatch& batch, const SchoolId& school,
                                 const RequestInfo& r, const std::string& package);
  // The same committed with `batch` (the message's final state): a transfer sent again after its
  // task was settled.
  Status LogTransfer(ports::WriteBatch& batch, const SchoolId& school, const RequestInfo& r,
                     const std::string& package);
  Result<RequestInfo> CompleteWithPackage(SchoolRuntime& rt, RequestInfo r,
                                          const CompleteRequest& in, const Actor& actor,
                                          const RequestContext& ctx);
  Result<RequestInfo> CompleteRectification(SchoolRuntime& rt, RequestInfo r,
                                            const CompleteRequest& in, const Actor& actor,
                                            const RequestContext& ctx);
  Result<RequestInfo> CompleteErasure(SchoolRuntime& rt, RequestInfo r, const CompleteRequest& in,
                                      const Actor& actor, const RequestContext& ctx,
                                      std::unique_lock<std::mutex>& lock);
  Result<RequestInfo> CompleteWithdrawal(SchoolRuntime& rt, RequestInfo r,
                                         const CompleteRequest& in, const Actor& actor,
                                         const RequestContext& ctx,
                                         std::unique_lock<std::mutex>& lock);
  Result<RequestInfo> CompleteRestriction(SchoolRuntime& rt, RequestInfo r,
                                          const CompleteRequest& in, const Actor& actor,
                                          const RequestContext& ctx);
  Result<RequestInfo> CompleteObjection(SchoolRuntime& rt, RequestInfo r,
                                        const CompleteRequest& in, const Actor& actor,
                                        const RequestContext& ctx);
  Result<RequestInfo> CompleteReview(SchoolRuntime& rt, RequestInfo r, const CompleteRequest& in,
                                     const Actor& actor, const RequestContext& ctx);

  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  ConsentService& consents_;
  AuditLog& audit_;
  Outbox& outbox_;
  DisclosureService& disclosures_;
  LegalHoldService* holds_;

  std::mutex mu_;
  std::map<SchoolId, std::unique_ptr<std::mutex>> school_mu_;  // guarded by mu_
  // school|subject → request id → effect; guarded by effects_mu_.
  std::mutex effects_mu_;
  std::unordered_map<std::string, std::map<std::string, domain::RequestEffect>> effects_;
};

}  // namespace dovira::services
