// The storage port. Services read and write through it; the SQLite adapter (src/adapters/sqlite)
// implements it now and a PostgreSQL adapter will implement the same interface and pass the same
// conformance suite (src/ports/store_conformance.h).
//
// Two rules every implementation keeps:
//  - Every row carries its school id, and every read is scoped by school.
//  - Writes go in WriteBatches through Submit(). A batch is applied atomically and is durable (it
//    survives a power cut) before its callback runs. Concurrent batches share one commit and one
//    fsync (group commit); batches are applied in submission order.
//
// Subject data keys live in a separate key vault (a separate database), never in the data
// database, so a backup of the data cannot be decrypted once a subject's key is destroyed (B02).
// Within a batch the vault changes are made durable first: a crash can leave a key without data
// (harmless) but never data without its key.
//
// Personal data reach the store only sealed (encrypted by the caller with the subject's key); the
// store never sees plaintext personal data.
//
// Thread-safety: all methods may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"

namespace dovira::ports {

struct SchoolRow {
  SchoolId id;
  std::string name;
  std::string active_policy_version;
  Timestamp created_at{};
};

// One published policy version (R112: immutable once stored).
struct PolicyVersionRow {
  SchoolId school;
  std::string version_id;
  std::string text;    // the policy file as published
  std::string sha256;  // hex
  std::string effective_date;  // YYYY-MM-DD
  Timestamp published_at{};
};

struct SubjectRow {
  SchoolId school;
  SubjectId id;
  std::string kind;            // a subject kind of the policy
  std::string pseudonym;       // hex keyed hash; how the audit log names the subject
  std::string policy_version;  // in force at collection (R02)
  std::string channel;         // collection channel (R02, R18)
  std::string form;            // collecting form, "" for the API
  std::string source;          // subject | client | offline | automatic | staff
  std::string state;           // active | closing | erased
  std::optional<SubjectId> guardian;  // the linked guardian of a minor (R24)
  std::string sealed_profile;  // encrypted with the subject key: age facts, residence, language
  Timestamp created_at{};
  Timestamp updated_at{};
  // The subject's gate version (see GateCheck): set by the store on reads, ignored on writes.
  int64_t gate_version = 0;
};

// A subject's data key wrapped by a school key-encryption key (kept in the key vault).
struct SubjectKeyRow {
  SchoolId school;
  SubjectId subject;
  std::string kek_id;
  std::string wrapped_key;
  Timestamp created_at{};
};

// Personal data of one field of one subject, kept in one policy store (R92: apart per purpose).
struct RecordRow {
  SchoolId school;
  RecordId id;
  SubjectId subject;
  std::string store;     // the policy's store id
  std::string field;     // a field of the policy
  std::string category;  // the field's category
  std::string sealed_value;  // encrypted with the subject key, aad = school|subject|field|id
  std::string source, channel, form, policy_version;  // provenance (R11)
  Timestamp collected_at{};
  Timestamp updated_at{};
};

// Append-only consent ledger (R19). A withdrawal is a new row with action "withdraw".
struct ConsentRow {
  SchoolId school;
  ConsentId id;
  SubjectId subject;
  std::string consent_type;         // [consents.<id>] of the policy
  std::vector<std::string> grants;  // purposes and permissions granted or withdrawn
  std::string action;               // grant | withdraw
  std::string policy_version;
  std::string text;         // the exact text shown
  std::string text_sha256;  // hex (B07)
  std::string lang;
  std::string channel;
  std::string form, checkbox;
  std::string given_by;  // subject | guardian | staff
  std::optional<SubjectId> guardian;
  std::string evidence;  // JSON: truncated IP, hashed user agent, document reference; no PD
  Timestamp at{};
  std::optional<Timestamp> expires_at;
};

// One entry of the hash-chained audit log (R88, B01). Subjects are named by pseudonym only.
struct AuditRow {
  SchoolId school;
  int64_t seq = 0;  // 1, 2, 3, ... per school; 0 on submit: assigned by the store (see Store)
  Timestamp at{};
  std::string actor;        // "staff:<id>", "api_key:<id>", "subject", "system:<job>"
  std::string role;
  std::string action;       // read, create, update, disclose, export, consent.grant, gate, ...
  std::string subject_ref;  // pseudonym hex, or ""
  std::string purpose;
  std::string fields;       // comma-separated field ids
  std::string outcome;      // allow | deny | ok | error
  std::string reason;       // reason code
  std::string decision_id;
  std::string request_id;
  std::string detail;       // JSON without personal data
  std::string prev_hash;    // hex of the previous entry's hash ("" for seq 1)
  std::string hash;         // hex BLAKE2b(prev_hash || canonical entry)
};

// A signed checkpoint over the audit chain head (B01).
struct CheckpointRow {
  SchoolId school;
  int64_t seq = 0;
  std::string hash;        // hex, equals the audit row's hash at seq
  std::string signature;   // hex Ed25519 over "dovira-audit-checkpoint|school|seq|hash"
  std::string public_key;  // hex
  Timestamp at{};
};

// A blind index entry: keyed hash of a normalised value (e.g. an e-mail) → subject.
struct LookupRow {
  SchoolId school;
  std::string field;
  std::string token;  // hex keyed hash
  SubjectId subject;
};

struct StaffRow {
  SchoolId school;
  StaffId id;
  std::string name;
  std::string email;  // staff work address (not subject data)
  std::string role;   // a role of the policy, or "admin"
  std::string password_hash;
  Timestamp password_set_at{};
  bool must_change_password = false;
  std::string sealed_totp_secret;  // encrypted with the school KEK
  bool totp_enabled = false;
  // The TOTP time step of the last code accepted (0: none). A code is accepted only for a later
  // step, so a code seen over someone's shoulder cannot be used again within its window.
  int64_t totp_last_step = 0;
  // The keyed hashes of the unused one-time recovery codes (issue 12); a used one is removed.
  std::vector<std::string> recovery_codes;
  int failed_attempts = 0;
  std::optional<Timestamp> locked_until;
  std::optional<Timestamp> briefing_completed_at;
  std::optional<Timestamp> left_at;
  Timestamp created_at{};
  // R86: the outside organisation (affiliate, contractor) the person works for; "" for the
  // school's own staff. A role held by an organisation reaches only the subjects assigned to it.
  std::string organisation;
};

struct SessionRow {
  std::string token_hash;  // hex hash of the cookie value
  SchoolId school;
  StaffId staff;
  std::string csrf_token;
  bool mfa_passed = false;
  Timestamp created_at{};
  Timestamp expires_at{};
};

struct ApiKeyRow {
  SchoolId school;
  ApiKeyId id;
  std::string name;
  std::string key_hash;  // hex
  std::string role;
  std::vector<std::string> purposes;  // the only purposes it may state
  Timestamp created_at{};
  std::optional<Timestamp> revoked_at;
  std::string created_by;  // the staff id of its creator, "" for the system (revoked on leave, R87)
};

// A data-subject request, claim or other obligation with a due date (R35-R69). The store keeps the
// columns it filters and sorts on; the rest is `body` (JSON without personal data, owned by the
// service) and `sealed` (the personal details: reply address, statements; sealed with the
// school's KEK, emptied once they are no longer needed).
struct RequestRow {
  SchoolId school;
  std::string id;
  std::string type;
  std::string state;
  std::string subject;   // a subject id, "" when the requester is not (yet) matched
  bool open = true;
  bool overdue = false;
  std::string assignee;  // a staff id, "" when unassigned
  Timestamp received_at{};
  Timestamp due_at{};
  Timestamp updated_at{};
  std::string body;
  std::string sealed;
};

// One step of a request's timeline: filed, verified, acted, commented, ... (append only).
struct RequestEventRow {
  SchoolId school;
  std::string request;
  int64_t seq = 0;  // 1, 2, 3, ... per request, assigned by the service
  Timestamp at{};
  std::string actor;  // Actor::AuditName()
  std::string kind;
  std::string body;    // JSON without personal data
  std::string sealed;  // a comment's text, sealed with the school's KEK, or ""
};

// A message waiting to be sent or sent (e-mail or webhook). It survives restarts; the delivery
// job retries with back-off. Once sent, `sealed` (recipient and content) is emptied.
struct OutboxRow {
  SchoolId school;
  std::string id;
  std::string request;  // the request it belongs to, or ""
  std::string channel;  // email | webhook
  std::string state;    // pending | sent | failed
  int attempts = 0;
  Timestamp created_at{};
  Timestamp next_attempt_at{};
  std::optional<Timestamp> sent_at;
  std::string last_error;
  std::string body;    // JSON without personal data: purpose, language, template
  std::string sealed;  // recipient and content, sealed with the school's KEK
};

// What remains of an erased subject (B09): no personal data. Kept in the key vault, so that a
// restored older data backup has its erasures re-applied before anything is served.
struct TombstoneRow {
  SchoolId school;
  SubjectId subject;
  std::string pseudonym;
  std::string ground;
  std::string request;  // the request that erased it, or ""
  Timestamp at{};
};

// Which requests ListRequests returns: every condition set must hold. Ordered by due_at, then id.
struct RequestFilter {
  std::string type, state, assignee, subject;  // "" = any
  bool open_only = false;
  bool overdue_only = false;
  std::optional<Timestamp> due_before;  // due_at < this
  // Keyset cursor: requests after (after_due, after_id) in the order above.
  std::optional<Timestamp> after_due;
  std::string after_id;
  size_t limit = 100;
};

// ---- Cookie consents (the web banner's proof of a visitor's choice, R99-R101) ----------------
// One visitor's cookie choice, append-only. No personal data: the address is truncated and the
// user agent hashed; the visitor is known only by the record id kept in their consent cookie.
struct CookieConsentRow {
  SchoolId school;
  std::string id;                     // random; the value of the consent cookie
  std::string choice;                 // accept_all | reject_all | custom
  std::vector<std::string> accepted;  // cookie categories allowed ("necessary" always)
  std::vector<std::string> rejected;  // cookie categories refused
  std::string policy_version;         // the policy whose cookie list was shown
  bool gpc = false;                   // the browser sent the Global Privacy Control signal
  std::string lang;
  std::string ip;                 // truncated to its network (services::TruncateIp)
  std::string user_agent_sha256;  // hex, "" when none was sent
  Timestamp at{};
  Timestamp expires_at{};  // when the banner asks again (the policy's consent_ttl)
};

// A subject's personal-cabinet sign-in: pending (an e-mailed code, found by the hash of its login
// id) or active (a session, found by the hash of its cookie).
struct SubjectSessionRow {
  std::string token_hash;  // hex
  SchoolId school;
  SubjectId subject;  // "" for a pending sign-in to an address that is not on file
  std::string state;  // pending | active
  std::string code_hash;
  int attempts = 0;
  std::string csrf_token;
  Timestamp created_at{};
  Timestamp expires_at{};
  std::string email_token;  // lookup token of the address signed in with (a guardian may hold no
                            // data of their own, so `subject` can be "")
  std::string acting_for;   // "" for the signed-in person, or a linked minor's subject id (B06)
};

// A subscription awaiting its double opt-in (R15, R54): the marketing grants of a consent given
// with an e-mail address, held until the e-mailed link (known by the hash of its token) confirms
// them. `consent` is the awaited consent as JSON (type, grants, wording, form; no personal data).
struct SubscriptionConfirmationRow {
  std::string token_hash;  // hex
  SchoolId school;
  SubjectId subject;
  std::string state;  // pending | confirmed
  std::string consent;
  Timestamp created_at{};
  Timestamp expires_at{};
  std::optional<Timestamp> confirmed_at;
};

// ---- Guardianships (R24, B06) ------------------------------------------------------------------
// A minor's legal representative and the proof of their permission: how it was checked, until
// when it holds (the minor's majority) and the minor's own re-consent on coming of age. No personal
// data in the clear: the representative's name and e-mail are in `sealed` (sealed with the minor's
// data key), the e-mail is found by its lookup token.
struct GuardianshipRow {
  SchoolId school;
  std::string id;
  SubjectId minor;
  std::string email_token;  // "" when no address of the representative is on file
  std::string state;        // unverified | verified
  std::string method;       // "" | email_code | document
  std::optional<Timestamp> verified_at;
  std::string verified_by;  // Actor::AuditName() of who checked it
  std::optional<Timestamp> majority_at;  // start of the majority day in the school's time zone
  std::string reconsent;    // "" | pending | confirmed | withdrawn
  std::optional<Timestamp> reconsent_at;
  std::optional<Timestamp> decided_at;
  std::string body;    // JSON without personal data: relation, permission_at, document reference
  std::string sealed;  // name and e-mail, sealed with the minor's data key
  Timestamp created_at{};
  Timestamp updated_at{};
};

// ---- Disclosures (R76) --------------------------------------------------------------------------
// One disclosure or transfer of a subject's data to a recipient the policy names. Append-only; the
// rows go with the subject on erasure (the subject's tombstone remains). No personal data: field
// and category ids, never values.
struct DisclosureRow {
  SchoolId school;
  std::string id;
  SubjectId subject;
  std::string recipient;  // [recipients.<id>] of the policy
  Timestamp at{};         // when the data went out
  std::vector<std::string> fields;      // the fields disclosed
  std::vector<std::string> categories;  // their categories
  std::string purpose;
  std::string basis;      // the legal basis of the disclosure
  std::string safeguard;  // the transfer safeguard (contract, scc, law, ...; "none")
  std::string country;    // the recipient's country for this transfer, "" when not stated
  std::string actor;      // Actor::AuditName() of who recorded it
  std::string request;    // the rights request it was made for (a corrected value, R48), or ""
  std::string detail;     // JSON without personal data (a formal request's reference, ...)
  Timestamp recorded_at{};
};

// How a recipient is told of rectifications, erasures and restrictions (R48): a webhook URL or
// an e-mail address, set by staff. `sealed` holds both, sealed with the school's KEK (a webhook
// URL often carries a secret). Not personal data of subjects.
struct RecipientContactRow {
  SchoolId school;
  std::string recipient;
  std::string sealed;
  Timestamp updated_at{};
  std::string updated_by;
};

// Which disclosures ListDisclosures returns: the subject's (every subject's when empty), newest
// first (at descending, then id descending), after the keyset cursor (before_at, before_id).
struct DisclosureFilter {
  std::string subject;
  std::string recipient;               // "" = any
  std::optional<Timestamp> since;      // at >= since
  std::optional<Timestamp> before_at;  // cursor
  std::string before_id;
  size_t limit = 100;
};

// ---- Legal holds (R50) ---------------------------------------------------------------------------
// Erasure of some of a subject's fields deferred because the law permits or requires keeping them
// (a retention term set by law, legal claims). No personal data: field and category ids, the
// reason and the law as staff recorded them, dates. A hold is changed (released, ended, its
// deferred erasure settled) by upserting its row; the rows go with the subject on erasure.
struct LegalHoldRow {
  SchoolId school;
  std::string id;
  SubjectId subject;
  std::vector<std::string> fields;      // the held fields (categories resolved when placed)
  std::vector<std::string> categories;  // the categories named when placed, if any
  std::string reason;
  std::string basis;  // a [[laws]] id of the policy
  std::string until;  // YYYY-MM-DD, the last day of the hold in the school's time zone
  std::string state;  // active | released | ended
  std::string request;  // the erasure or withdrawal deferred under it, "" while none is
  bool notify_subject = false;  // tell the subject when the deferred erasure is carried out
  Timestamp created_at{};
  std::string created_by;  // Actor::AuditName()
  std::optional<Timestamp> closed_at;  // released or ended
  std::string closed_by;
  std::string close_reason;
  // When the retention job dealt with the end of the hold (erased what it deferred); unset while
  // the hold is active or its end is still to be carried out.
  std::optional<Timestamp> settled_at;
};

// ---- Break-glass grants (R86, 004 §6.4) --------------------------------------------------------
// Access beyond a staff member's role where the law provides: one subject, one category, one
// purpose, until `expires_at`. Append only; the rows go with the subject.
struct AccessGrantRow {
  SchoolId school;
  std::string id;
  StaffId staff;
  SubjectId subject;
  std::string category;
  std::string purpose;
  std::string reason;      // as the officer recorded it
  std::string granted_by;  // Actor::AuditName() of the officer
  Timestamp granted_at{};
  Timestamp expires_at{};
};

// ---- Subjects assigned to outside organisations (R86, 002 L60) ---------------------------------
// The people of an affiliate or a contractor reach only the subjects assigned to their
// organisation. One row per (school, organisation, subject) while the assignment lasts; ending it
// deletes the row (the audit keeps both). The rows go with the subject.
struct SubjectAssignmentRow {
  SchoolId school;
  std::string organisation;
  SubjectId subject;
  std::string reference;    // the officer's reference (an order number), may be empty
  std::string assigned_by;  // Actor::AuditName()
  Timestamp assigned_at{};
};

// ---- Policy reviews (R117, R68) ------------------------------------------------------------------
// A review of the school's policy to be done by `due_date`: scheduled (the policy's review interval
// after the last review) or opened by a recorded change in the law. Open while `done_at` is unset;
// upserted by (school, id).
struct ReviewTaskRow {
  SchoolId school;
  std::string id;
  std::string reason;      // scheduled | law_change
  std::string law_change;  // law_change: what changed, as the officer recorded it
  std::string law;         // law_change: the law named, if any
  std::string due_date;    // YYYY-MM-DD, the local due day
  Timestamp due_at{};      // the end of the due day in the school's time zone
  std::string assignee;    // the staff account (id) who set the task, or ""
  Timestamp created_at{};
  std::string created_by;  // Actor::AuditName()
  std::optional<Timestamp> done_at;
  std::string done_by;
  std::string summary;     // what the review found
  std::optional<Timestamp> overdue_at;  // R68: when the deadline job found it open past due
  int64_t late_by_days = 0;             // R68: done this many local days after the due day
};

// ---- Retention (R21, R70-R72) --------------------------------------------------------------------
// The last time of one event a retention term is counted from (kinds: agreement_end, last_use,
// purpose_end:<purpose>). Upserted by (school, subject, kind): a later report replaces it. No
// personal data; the rows go with the subject.
struct SubjectEventRow {
  SchoolId school;
  SubjectId subject;
  std::string kind;
  Timestamp at{};
  std::string source;  // Actor::AuditName() of who reported it ("subject" for a cabinet sign-in)
  Timestamp recorded_at{};
};

// When the retention of one purpose of one subject ends (or, with purpose
// "legal_minimum:<category>", when a legal minimum keeping some of its fields passes). Upserted by
// (school, subject, purpose). The retention job reads the pending rows due by a day (an index, not
// a scan) and marks each ended once it has acted on it.
struct RetentionDueRow {
  SchoolId school;
  SubjectId subject;
  std::string purpose;
  std::string due_date;  // YYYY-MM-DD, the local day of due_at in the school's time zone
  Timestamp due_at{};
  std::string trigger;   // what it is counted from: agreement_end, last_use, consent_end, ...
  Timestamp trigger_at{};
  std::string state = "pending";  // pending | ended
};

// ---- Visit statistics (R101) ---------------------------------------------------------------------
// One visit to a school's site, depersonalised before it reaches the store: the address cut to its
// network, browser and OS families, the page's path, the referring domain, the day and hour (UTC).
// No subject, account or cookie id and no exact time. Append-only.
struct VisitRow {
  SchoolId school;
  std::string id;   // random
  std::string day;  // YYYY-MM-DD (UTC)
  int hour = 0;     // 0-23 (UTC)
  std::string network;  // "203.0.113.0/24", "2001:db8:1::/48", or "" when none was known
  std::string browser;  // family: chrome | firefox | safari | edge | opera | bot | other
  std::string os;       // family: windows | macos | ios | android | linux | other
  std::string page;     // the path, without query or fragment
  std::string referrer_domain;  // "" for none
};

// A condition on a batch: the subject's gate version is still `version` (0: no such subject).
//
// Several servers may serve one database, each deciding uses of personal data from its own copy
// of the subjects' gate state (consents, blocks, restrictions, ...). The store raises a subject's
// gate version in every batch that writes a row that state is built from (see GateSubjects), in
// the same transaction. A use's audit entry carries the version its decision was made on; if
// another server changed the subject since, the batch fails alone with reason "gate_stale" and
// the decision is made again on the state reloaded from the store. Versions only grow while the
// subject exists.
struct GateCheck {
  SchoolId school;
  SubjectId subject;
  int64_t version = 0;
};

// Everything one service call writes, applied atomically.
struct WriteBatch {
  // Checked first, in the batch's transaction (see GateCheck).
  std::vector<GateCheck> gate_checks;

  // Key vault (committed first).
  std::vector<SubjectKeyRow> subject_keys;    // insert or replace
  std::vector<std::pair<SchoolId, SubjectId>> destroyed_keys;  // overwrite, then delete

  // Data.
  std::vector<SchoolRow> schools;                  // upsert
  std::vector<PolicyVersionRow> policy_versions;   // insert; an existing version id is an error
  std::vector<SubjectRow> subjects;                // upsert
  std::vector<RecordRow> records;                  // upsert by id
  std::vector<std::pair<SchoolId, RecordId>> deleted_records;
  std::vector<std::pair<SchoolId, SubjectId>> erased_subjects;  // every row of the subject
  std::vector<ConsentRow> consents;                // append only
  std::vector<LookupRow> deleted_lookups;  // by (school, field, token), if it names the subject
  std::vector<LookupRow> lookups;                  // upsert, after deleted_lookups
  std::vector<AuditRow> audit;                     // append only, in seq order
  std::vector<CheckpointRow> checkpoints;          // append only
  std::vector<StaffRow> staff;                     // upsert
  std::vector<SessionRow> sessions;                // upsert
  std::vector<std::string> deleted_sessions;       // by token_hash
  std::vector<ApiKeyRow> api_keys;                 // upsert
  std::vector<RequestRow> requests;                // upsert
  std::vector<RequestEventRow> request_events;     // append only
  std::vector<OutboxRow> outbox;                   // upsert
  std::vector<TombstoneRow> tombstones;            // key vault, append only
  // Key vault: the school's audit anchor (B01), a copy of its newest signed checkpoint. One per
  // school; a later seq replaces it, an earlier or equal one leaves it as it is.
  std::vector<CheckpointRow> audit_anchors;

  // ---- Cookie consents ----
  std::vector<CookieConsentRow> cookie_consents;   // append only
  std::vector<SubjectSessionRow> subject_sessions;  // upsert
  std::vector<std::string> deleted_subject_sessions;  // by token_hash
  std::vector<SubscriptionConfirmationRow> subscription_confirmations;  // upsert

  // ---- Disclosures ----
  std::vector<DisclosureRow> disclosures;              // append only
  std::vector<RecipientContactRow> recipient_contacts;  // upsert

  // ---- Legal holds ----
  std::vector<LegalHoldRow> legal_holds;  // upsert by (school, id)
  std::vector<AccessGrantRow> access_grants;  // append only
  std::vector<SubjectAssignmentRow> subject_assignments;  // upsert by (school, organisation, subject)
  // By (school, organisation, subject); other members are ignored. After subject_assignments.
  std::vector<SubjectAssignmentRow> ended_assignments;
  std::vector<ReviewTaskRow> review_tasks;    // upsert by (school, id)
  // The blind-index entries of some fields of a subject (a partial erasure, R50): every lookup
  // row of the subject whose field is named. `token` is ignored.
  std::vector<LookupRow> deleted_field_lookups;
  // ---- Guardianships ----
  std::vector<GuardianshipRow> guardianships;  // upsert by id
  // ---- Visit statistics ----
  std::vector<VisitRow> visits;  // append only

  // ---- Retention ----
  std::vector<SubjectEventRow> subject_events;  // upsert by (school, subject, kind)
  std::vector<RetentionDueRow> retention_due;   // upsert by (school, subject, purpose)
  // By (school, subject, purpose); other members of the row are ignored.
  std::vector<RetentionDueRow> deleted_retention_due;
  // How far the retention index has caught up with changed subjects and consents, per school
  // (upsert).
  std::vector<std::pair<SchoolId, Timestamp>> retention_marks;

  // true: durable against a power cut before the callback runs (fsync). false: durable against a
  // crash of the process (the commit reaches the operating system) but may share a later fsync;
  // used for the audit entries of reads, which are not writes the client asked for. A group with
  // any power-safe batch is committed power-safe.
  bool power_safe = true;

  bool empty() const;
};

// The subjects whose gate version a batch raises: those of its subject, consent, request,
// guardianship, retention, assignment and break-glass rows; each once, ordered.
std::vector<std::pair<SchoolId, SubjectId>> GateSubjects(const WriteBatch& batch);

// The error of a batch whose GateCheck no longer holds.
Error GateStale(const SubjectId& subject);
inline constexpr char kGateStale[] = "gate_stale";

// Computes an audit entry's hash from the previous entry's hash (hex, "" for the first) and the
// entry itself (its seq and prev_hash already set). Returns the hex hash.
using AuditChainer = std::function<std::string(const std::string& prev_hash, const AuditRow& row)>;

class Store {
 public:
  virtual ~Store() = default;

  // Installs the chainer (call once, before the first Submit). From then on, audit rows submitted
  // with seq 0 are numbered and chained by the store in commit order, per school: seq is the
  // school's last seq + 1, prev_hash the last hash, hash = chainer(prev_hash, row). A batch that
  // fails takes its entries with it, so the chain never has a gap or a dangling link.
  virtual void SetAuditChainer(AuditChainer chainer) = 0;

  // Applies `batch` atomically and durably, grouped with concurrent batches; then calls `done`
  // (on the writer thread, so it must be quick) with the outcome. A batch that violates a rule
  // (a duplicate policy version, a consent row updated) fails alone; a storage failure (disk full,
  // I/O error) fails every batch of its group. A failed batch leaves no trace.
  virtual void Submit(WriteBatch batch, std::function<void(Status)> done) = 0;
  // Submit and wait.
  Status Commit(WriteBatch batch);

  // Schools and policies.
  virtual Result<std::optional<SchoolRow>> GetSchool(const SchoolId& id) = 0;
  virtual Result<std::vector<SchoolRow>> ListSchools() = 0;
  virtual Result<std::vector<PolicyVersionRow>> ListPolicyVersions(const SchoolId& school) = 0;

  // Subjects and their data.
  virtual Result<std::optional<SubjectRow>> GetSubject(const SchoolId& school,
                                                       const SubjectId& id) = 0;
  // The subject's gate version (0 when there is no such subject); see GateCheck.
  virtual Result<int64_t> GetGateVersion(const SchoolId& school, const SubjectId& id) = 0;
  virtual Result<std::optional<SubjectKeyRow>> GetSubjectKey(const SchoolId& school,
                                                             const SubjectId& id) = 0;
  virtual Status ForEachSubjectKey(const SchoolId& school,
                                   const std::function<void(const SubjectKeyRow&)>& fn) = 0;
  virtual Result<std::vector<RecordRow>> GetRecords(const SchoolId& school,
                                                    const SubjectId& subject) = 0;
  // GetRecords page by page: at most `limit` records with ids after `after_id` ("" for the first
  // page), in the same order. Each page is its own short read, so a caller that writes the records
  // out as it goes (the access package, the export) holds neither a snapshot nor every record.
  virtual Result<std::vector<RecordRow>> GetRecordsPage(const SchoolId& school,
                                                        const SubjectId& subject,
                                                        const std::string& after_id,
                                                        size_t limit) = 0;
  // The subject's records kept in one store (R92): GetRecords filtered by store.
  virtual Result<std::vector<RecordRow>> GetStoreRecords(const SchoolId& school,
                                                         const SubjectId& subject,
                                                         const std::string& store) = 0;
  virtual Result<std::vector<ConsentRow>> GetConsents(const SchoolId& school,
                                                      const SubjectId& subject) = 0;
  virtual Result<std::optional<SubjectId>> FindByLookup(const SchoolId& school,
                                                        const std::string& field,
                                                        const std::string& token) = 0;
  // Streams every subject / consent of a school (startup: building the gate's state).
  virtual Status ForEachSubject(const SchoolId& school,
                                const std::function<void(const SubjectRow&)>& fn) = 0;
  virtual Status ForEachConsent(const SchoolId& school,
                                const std::function<void(const ConsentRow&)>& fn) = 0;
  // Subjects page by page, ordered by id, after `after_id` ("" for the first page).
  virtual Result<std::vector<SubjectRow>> ListSubjects(const SchoolId& school,
                                                       const std::string& after_id,
                                                       size_t limit) = 0;

  // Audit.
  virtual Result<std::optional<AuditRow>> LastAudit(const SchoolId& school) = 0;
  // Entries with seq >= from_seq, in seq order, stopping when fn returns false.
  virtual Status ForEachAudit(const SchoolId& school, int64_t from_seq,
                              const std::function<bool(const AuditRow&)>& fn) = 0;
  virtual Result<std::vector<AuditRow>> AuditForSubject(const SchoolId& school,
                                                        const std::string& subject_ref,
                                                        int64_t after_seq, size_t limit) = 0;
  virtual Result<std::vector<CheckpointRow>> ListCheckpoints(const SchoolId& school) = 0;
  // The school's audit anchor (B01): the newest checkpoint written to WriteBatch::audit_anchors,
  // kept in the key vault, so that it survives the data it vouches for being cut short; nullopt
  // before the first.
  virtual Result<std::optional<CheckpointRow>> GetAuditAnchor(const SchoolId& school) = 0;

  // Staff, sessions, API keys.
  virtual Result<std::optional<StaffRow>> GetStaff(const SchoolId& school, const StaffId& id) = 0;
  virtual Result<std::optional<StaffRow>> FindStaffByEmail(const SchoolId& school,
                                                           const std::string& email) = 0;
  virtual Result<std::vector<StaffRow>> ListStaff(const SchoolId& school) = 0;
  virtual Result<std::optional<SessionRow>> GetSession(const std::string& token_hash) = 0;
  virtual Result<std::optional<SubscriptionConfirmationRow>> GetSubscriptionConfirmation(
      const std::string& token_hash) = 0;
  virtual Result<std::optional<SubjectSessionRow>> GetSubjectSession(
      const std::string& token_hash) = 0;
  virtual Result<std::optional<ApiKeyRow>> FindApiKey(const std::string& key_hash) = 0;
  virtual Result<std::vector<ApiKeyRow>> ListApiKeys(const SchoolId& school) = 0;

  // Requests (R35-R69).
  virtual Result<std::optional<RequestRow>> GetRequest(const SchoolId& school,
                                                       const std::string& id) = 0;
  virtual Result<std::vector<RequestRow>> ListRequests(const SchoolId& school,
                                                       const RequestFilter& filter) = 0;
  // Every request of the school (open ones only when `open_only`), in id order.
  virtual Status ForEachRequest(const SchoolId& school, bool open_only,
                                const std::function<void(const RequestRow&)>& fn) = 0;
  virtual Result<std::vector<RequestEventRow>> GetRequestEvents(const SchoolId& school,
                                                                const std::string& request) = 0;

  // Outbox: pending messages of every school whose next attempt is due at `now`, oldest first.
  virtual Result<std::vector<OutboxRow>> DueOutbox(Timestamp now, size_t limit) = 0;
  virtual Result<std::vector<OutboxRow>> RequestOutbox(const SchoolId& school,
                                                       const std::string& request) = 0;
  // The school's messages not sent yet (pending, or given up as failed), oldest first: the
  // deadline job looks among them for notices past their due time (R47, R68).
  virtual Result<std::vector<OutboxRow>> UnsentOutbox(const SchoolId& school) = 0;

  virtual Result<std::vector<TombstoneRow>> ListTombstones(const SchoolId& school) = 0;

  // Whether this process is to run the background jobs now (deadlines, the outbox, retention,
  // audit checkpoints). Several servers may share one database and the jobs must run once across
  // them: true for the one holder of the store's jobs lease, which the first server to ask takes
  // and keeps while it lives; the others ask again each round and take over when it goes.
  virtual Result<bool> HoldJobsLease() = 0;

  // An online, consistent copy of the data database to `path` (the key vault is not included).
  virtual Status Backup(const std::string& path) = 0;
  // An online copy of the key vault (kept apart from data backups; see B02, B09).
  virtual Status BackupKeyVault(const std::string& path) = 0;

  // ---- Cookie consents ----
  // The stored choice with this id, or nullopt.
  virtual Result<std::optional<CookieConsentRow>> GetCookieConsent(const SchoolId& school,
                                                                   const std::string& id) = 0;

  // ---- Disclosures (R76) ----
  virtual Result<std::vector<DisclosureRow>> ListDisclosures(const SchoolId& school,
                                                             const DisclosureFilter& filter) = 0;
  virtual Result<std::optional<RecipientContactRow>> GetRecipientContact(
      const SchoolId& school, const std::string& recipient) = 0;
  virtual Result<std::vector<RecipientContactRow>> ListRecipientContacts(
      const SchoolId& school) = 0;

  // ---- Legal holds (R50) ----
  // Every hold of the subject, in any state, oldest first (created_at, then id).
  virtual Result<std::vector<LegalHoldRow>> ListLegalHolds(const SchoolId& school,
                                                           const SubjectId& subject) = 0;
  virtual Result<std::optional<LegalHoldRow>> GetLegalHold(const SchoolId& school,
                                                           const std::string& id) = 0;
  // The holds whose end the retention job has still to carry out: not settled, and either no
  // longer active (released) or active with `until` before `today` (YYYY-MM-DD); by until, id.
  virtual Result<std::vector<LegalHoldRow>> DueLegalHolds(const SchoolId& school,
                                                          const std::string& today,
                                                          size_t limit) = 0;
  // ---- Subjects assigned to outside organisations (R86) ----
  // Every assignment of the school, by organisation, then oldest first.
  virtual Result<std::vector<SubjectAssignmentRow>> ListSubjectAssignments(
      const SchoolId& school) = 0;
  // ---- Policy reviews (R117) ----
  // The school's open review tasks (`open`), soonest due first; or the done ones, the most
  // recently done first. At most `limit` rows.
  virtual Result<std::vector<ReviewTaskRow>> ListReviewTasks(const SchoolId& school, bool open,
                                                             size_t limit) = 0;
  // ---- Break-glass grants (R86) ----
  // The school's grants that end after `after` (those in force then, and later ones), soonest
  // end first.
  virtual Result<std::vector<AccessGrantRow>> AccessGrantsEndingAfter(const SchoolId& school,
                                                                      Timestamp after) = 0;
  // ---- Guardianships (R24, B06) ----
  virtual Result<std::optional<GuardianshipRow>> GetGuardianship(const SchoolId& school,
                                                                 const std::string& id) = 0;
  // A minor's guardianships, oldest first.
  virtual Result<std::vector<GuardianshipRow>> MinorGuardianships(const SchoolId& school,
                                                                  const SubjectId& minor) = 0;
  // The guardianships of a representative's address (by its lookup token), oldest first.
  virtual Result<std::vector<GuardianshipRow>> GuardianshipsByEmail(
      const SchoolId& school, const std::string& email_token) = 0;
  // Every guardianship of the school (startup: the gate's re-consent state).
  virtual Status ForEachGuardianship(const SchoolId& school,
                                     const std::function<void(const GuardianshipRow&)>& fn) = 0;
  // Guardianships whose majority_at is at or before `at` and whose minor was not yet asked to
  // re-consent (reconsent ""), in majority order: the majority job's work.
  virtual Result<std::vector<GuardianshipRow>> DueMajorities(const SchoolId& school, Timestamp at,
                                                             size_t limit) = 0;

  // ---- Retention (R21, R70-R72) ----
  // The subject's events, by kind.
  virtual Result<std::vector<SubjectEventRow>> GetSubjectEvents(const SchoolId& school,
                                                                const SubjectId& subject) = 0;
  // The subject's retention rows (pending and ended), by purpose.
  virtual Result<std::vector<RetentionDueRow>> SubjectRetention(const SchoolId& school,
                                                                const SubjectId& subject) = 0;
  // Pending rows due on or before `through` (YYYY-MM-DD), ordered by (due_date, subject,
  // purpose), after the keyset cursor (after_date, after_subject, after_purpose; "" for the first
  // page). Reads an index: the cost grows with the rows returned, not with the school's subjects.
  virtual Result<std::vector<RetentionDueRow>> DueRetention(const SchoolId& school,
                                                            const std::string& through,
                                                            const std::string& after_date,
                                                            const std::string& after_subject,
                                                            const std::string& after_purpose,
                                                            size_t limit) = 0;
  // Every ended row of the school (startup: the gate's retention_ended bits).
  virtual Status ForEachEndedRetention(const SchoolId& school,
                                       const std::function<void(const RetentionDueRow&)>& fn) = 0;
  // The instant the retention index last caught up with the school's changes; nullopt before the
  // first time.
  virtual Result<std::optional<Timestamp>> GetRetentionMark(const SchoolId& school) = 0;
  // The subjects updated or with a consent row in (since, until], by id, each once. Reads the
  // subjects_by_update and consents_by_time indexes: the cost grows with the changes, not with
  // the school's subjects.
  virtual Result<std::vector<SubjectId>> SubjectsChangedBetween(const SchoolId& school,
                                                                Timestamp since,
                                                                Timestamp until) = 0;

  // ---- Visit statistics (R101) ----
  // Every visit of the school from day `from` to day `to` (YYYY-MM-DD, both included), by day and
  // hour.
  virtual Status ForEachVisit(const SchoolId& school, const std::string& from,
                              const std::string& to,
                              const std::function<void(const VisitRow&)>& fn) = 0;
};

}  // namespace dovira::ports
