#include "adapters/postgres/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/dump.h"
#include "adapters/postgres/migrations.h"
#include "adapters/postgres/queries.h"

namespace dovira::postgres {
namespace {

using ports::ApiKeyRow;
using ports::AuditRow;
using ports::CheckpointRow;
using ports::ConsentRow;
using ports::CookieConsentRow;
using ports::DisclosureFilter;
using ports::DisclosureRow;
using ports::LegalHoldRow;
using ports::LookupRow;
using ports::OutboxRow;
using ports::PolicyVersionRow;
using ports::RecipientContactRow;
using ports::RecordRow;
using ports::RequestEventRow;
using ports::RequestRow;
using ports::SchoolRow;
using ports::SessionRow;
using ports::StaffRow;
using ports::SubjectKeyRow;
using ports::SubjectRow;
using ports::SubjectSessionRow;
using ports::TombstoneRow;
using ports::WriteBatch;

// Erasure of a subject, in this order inside one transaction: mark, delete every row of the
// subject, unmark (see queries.h). Used by batches and by the tombstone replay alike (B09).
constexpr const char* kErasureSteps[] = {sql::kMarkErasure,
                                         sql::kEraseRecords,
                                         sql::kEraseConsents,
                                         sql::kEraseLookups,
                                         sql::kEraseSubjectSessions,
                                         sql::kEraseSubscriptionConfirmations,
                                         sql::kEraseDisclosures,
                                         sql::kEraseLegalHolds,
                                         sql::kEraseGuardianships,
                                         sql::kEraseSubjectEvents,
                                         sql::kEraseRetentionDue,
                                         sql::kEraseAccessGrants,
                                         sql::kEraseSubjectAssignments,
                                         sql::kEraseSubject,
                                         sql::kUnmarkErasure};

int64_t ClampLimit(size_t limit) {
  return static_cast<int64_t>(
      std::min<size_t>(limit, static_cast<size_t>(std::numeric_limits<int64_t>::max())));
}

std::optional<std::string> OptionalId(const auto& id) {
  if (!id) return std::nullopt;
  return id->value();
}

// --- Lists of ids as JSON arrays of strings (as the SQLite adapter stores them)
// -------------------

std::string EncodeList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (u < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 0xf];
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

Result<std::vector<std::string>> DecodeList(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return Error{ErrorCode::kInternal, "malformed list in the store", {}, {}};
  }
  std::vector<std::string> out;
  out.reserve(parsed.size());
  for (const auto& item : parsed) {
    if (!item.is_string())
      return Error{ErrorCode::kInternal, "malformed list in the store", {}, {}};
    out.push_back(item.get<std::string>());
  }
  return out;
}

// --- Rows, read by the column orders of queries.h
// -------------------------------------------------

SchoolRow ReadSchool(const Rows& r, int i) {
  return SchoolRow{SchoolId(r.Text(i, 0)), r.Text(i, 1), r.Text(i, 2), r.Time(i, 3)};
}

PolicyVersionRow ReadPolicyVersion(const Rows& r, int i) {
  return PolicyVersionRow{SchoolId(r.Text(i, 0)), r.Text(i, 1), r.Text(i, 2),
                          r.Text(i, 3),           r.Text(i, 4), r.Time(i, 5)};
}

SubjectRow ReadSubject(const Rows& r, int i) {
  SubjectRow s;
  s.school = SchoolId(r.Text(i, 0));
  s.id = SubjectId(r.Text(i, 1));
  s.kind = r.Text(i, 2);
  s.pseudonym = r.Text(i, 3);
  s.policy_version = r.Text(i, 4);
  s.channel = r.Text(i, 5);
  s.form = r.Text(i, 6);
  s.source = r.Text(i, 7);
  s.state = r.Text(i, 8);
  if (std::optional<std::string> g = r.OptionalText(i, 9)) s.guardian = SubjectId(std::move(*g));
  s.sealed_profile = r.Bytes(i, 10);
  s.created_at = r.Time(i, 11);
  s.updated_at = r.Time(i, 12);
  s.gate_version = r.Int(i, 13);
  return s;
}

int64_t ReadFirstInt(const Rows& r, int i) { return r.Int(i, 0); }

SubjectKeyRow ReadSubjectKey(const Rows& r, int i) {
  return SubjectKeyRow{SchoolId(r.Text(i, 0)), SubjectId(r.Text(i, 1)), r.Text(i, 2), r.Bytes(i, 3),
                       r.Time(i, 4)};
}

RecordRow ReadRecord(const Rows& r, int i) {
  RecordRow x;
  x.school = SchoolId(r.Text(i, 0));
  x.id = RecordId(r.Text(i, 1));
  x.subject = SubjectId(r.Text(i, 2));
  x.store = r.Text(i, 3);
  x.field = r.Text(i, 4);
  x.category = r.Text(i, 5);
  x.sealed_value = r.Bytes(i, 6);
  x.source = r.Text(i, 7);
  x.channel = r.Text(i, 8);
  x.form = r.Text(i, 9);
  x.policy_version = r.Text(i, 10);
  x.collected_at = r.Time(i, 11);
  x.updated_at = r.Time(i, 12);
  return x;
}

Result<ConsentRow> ReadConsent(const Rows& r, int i) {
  ConsentRow c;
  c.school = SchoolId(r.Text(i, 0));
  c.id = ConsentId(r.Text(i, 1));
  c.subject = SubjectId(r.Text(i, 2));
  c.consent_type = r.Text(i, 3);
  Result<std::vector<std::string>> grants = DecodeList(r.Text(i, 4));
  if (!grants.ok()) return grants.error();
  c.grants = std::move(*grants);
  c.action = r.Text(i, 5);
  c.policy_version = r.Text(i, 6);
  c.text = r.Text(i, 7);
  c.text_sha256 = r.Text(i, 8);
  c.lang = r.Text(i, 9);
  c.channel = r.Text(i, 10);
  c.form = r.Text(i, 11);
  c.checkbox = r.Text(i, 12);
  c.given_by = r.Text(i, 13);
  if (std::optional<std::string> g = r.OptionalText(i, 14)) c.guardian = SubjectId(std::move(*g));
  c.evidence = r.Text(i, 15);
  c.at = r.Time(i, 16);
  c.expires_at = r.OptionalTime(i, 17);
  return c;
}

Result<CookieConsentRow> ReadCookieConsent(const Rows& r, int i) {
  CookieConsentRow c;
  c.school = SchoolId(r.Text(i, 0));
  c.id = r.Text(i, 1);
  c.choice = r.Text(i, 2);
  Result<std::vector<std::string>> accepted = DecodeList(r.Text(i, 3));
  if (!accepted.ok()) return accepted.error();
  Result<std::vector<std::string>> rejected = DecodeList(r.Text(i, 4));
  if (!rejected.ok()) return rejected.error();
  c.accepted = std::move(*accepted);
  c.rejected = std::move(*rejected);
  c.policy_version = r.Text(i, 5);
  c.gpc = r.Bool(i, 6);
  c.lang = r.Text(i, 7);
  c.ip = r.Text(i, 8);
  c.user_agent_sha256 = r.Text(i, 9);
  c.at = r.Time(i, 10);
  c.expires_at = r.Time(i, 11);
  return c;
}

ports::VisitRow ReadVisit(const Rows& r, int i) {
  ports::VisitRow v;
  v.school = SchoolId(r.Text(i, 0));
  v.id = r.Text(i, 1);
  v.day = r.Text(i, 2);
  v.hour = static_cast<int>(r.Int(i, 3));
  v.network = r.Text(i, 4);
  v.browser = r.Text(i, 5);
  v.os = r.Text(i, 6);
  v.page = r.Text(i, 7);
  v.referrer_domain = r.Text(i, 8);
  return v;
}

Result<DisclosureRow> ReadDisclosure(const Rows& r, int i) {
  DisclosureRow d;
  d.school = SchoolId(r.Text(i, 0));
  d.id = r.Text(i, 1);
  d.subject = SubjectId(r.Text(i, 2));
  d.recipient = r.Text(i, 3);
  d.at = r.Time(i, 4);
  Result<std::vector<std::string>> fields = DecodeList(r.Text(i, 5));
  if (!fields.ok()) return fields.error();
  Result<std::vector<std::string>> categories = DecodeList(r.Text(i, 6));
  if (!categories.ok()) return categories.error();
  d.fields = std::move(*fields);
  d.categories = std::move(*categories);
  d.purpose = r.Text(i, 7);
  d.basis = r.Text(i, 8);
  d.safeguard = r.Text(i, 9);
  d.country = r.Text(i, 10);
  d.actor = r.Text(i, 11);
  d.request = r.Text(i, 12);
  d.detail = r.Text(i, 13);
  d.recorded_at = r.Time(i, 14);
  return d;
}

Result<LegalHoldRow> ReadLegalHold(const Rows& r, int i) {
  LegalHoldRow h;
  h.school = SchoolId(r.Text(i, 0));
  h.id = r.Text(i, 1);
  h.subject = SubjectId(r.Text(i, 2));
  Result<std::vector<std::string>> fields = DecodeList(r.Text(i, 3));
  if (!fields.ok()) return fields.error();
  Result<std::vector<std::string>> categories = DecodeList(r.Text(i, 4));
  if (!categories.ok()) return categories.error();
  h.fields = std::move(*fields);
  h.categories = std::move(*categories);
  h.reason = r.Text(i, 5);
  h.basis = r.Text(i, 6);
  h.until = r.Text(i, 7);
  h.state = r.Text(i, 8);
  h.request = r.Text(i, 9);
  h.notify_subject = r.Bool(i, 10);
  h.created_at = r.Time(i, 11);
  h.created_by = r.Text(i, 12);
  h.closed_at = r.OptionalTime(i, 13);
  h.closed_by = r.Text(i, 14);
  h.close_reason = r.Text(i, 15);
  h.settled_at = r.OptionalTime(i, 16);
  return h;
}

RecipientContactRow ReadRecipientContact(const Rows& r, int i) {
  return RecipientContactRow{SchoolId(r.Text(i, 0)), r.Text(i, 1), r.Bytes(i, 2), r.Time(i, 3),
                             r.Text(i, 4)};
}

AuditRow ReadAudit(const Rows& r, int i) {
  AuditRow a;
  a.school = SchoolId(r.Text(i, 0));
  a.seq = r.Int(i, 1);
  a.at = r.Time(i, 2);
  a.actor = r.Text(i, 3);
  a.role = r.Text(i, 4);
  a.action = r.Text(i, 5);
  a.subject_ref = r.Text(i, 6);
  a.purpose = r.Text(i, 7);
  a.fields = r.Text(i, 8);
  a.outcome = r.Text(i, 9);
  a.reason = r.Text(i, 10);
  a.decision_id = r.Text(i, 11);
  a.request_id = r.Text(i, 12);
  a.detail = r.Text(i, 13);
  a.prev_hash = r.Text(i, 14);
  a.hash = r.Text(i, 15);
  return a;
}

RequestRow ReadRequest(const Rows& r, int i) {
  RequestRow q;
  q.school = SchoolId(r.Text(i, 0));
  q.id = r.Text(i, 1);
  q.type = r.Text(i, 2);
  q.state = r.Text(i, 3);
  q.subject = r.Text(i, 4);
  q.open = r.Bool(i, 5);
  q.overdue = r.Bool(i, 6);
  q.assignee = r.Text(i, 7);
  q.received_at = r.Time(i, 8);
  q.due_at = r.Time(i, 9);
  q.updated_at = r.Time(i, 10);
  q.body = r.Text(i, 11);
  q.sealed = r.Bytes(i, 12);
  return q;
}

RequestEventRow ReadRequestEvent(const Rows& r, int i) {
  RequestEventRow e;
  e.school = SchoolId(r.Text(i, 0));
  e.request = r.Text(i, 1);
  e.seq = r.Int(i, 2);
  e.at = r.Time(i, 3);
  e.actor = r.Text(i, 4);
  e.kind = r.Text(i, 5);
  e.body = r.Text(i, 6);
  e.sealed = r.Bytes(i, 7);
  return e;
}

OutboxRow ReadOutbox(const Rows& r, int i) {
  OutboxRow o;
  o.school = SchoolId(r.Text(i, 0));
  o.id = r.Text(i, 1);
  o.request = r.Text(i, 2);
  o.channel = r.Text(i, 3);
  o.state = r.Text(i, 4);
  o.attempts = static_cast<int>(r.Int(i, 5));
  o.created_at = r.Time(i, 6);
  o.next_attempt_at = r.Time(i, 7);
  o.sent_at = r.OptionalTime(i, 8);
  o.last_error = r.Text(i, 9);
  o.body = r.Text(i, 10);
  o.sealed = r.Bytes(i, 11);
  return o;
}

TombstoneRow ReadTombstone(const Rows& r, int i) {
  return TombstoneRow{SchoolId(r.Text(i, 0)), SubjectId(r.Text(i, 1)),
                      r.Text(i, 2),           r.Text(i, 3),
                      r.Text(i, 4),           r.Time(i, 5)};
}

CheckpointRow ReadCheckpoint(const Rows& r, int i) {
  return CheckpointRow{SchoolId(r.Text(i, 0)), r.Int(i, 1),  r.Text(i, 2),
                       r.Text(i, 3),           r.Text(i, 4), r.Time(i, 5)};
}

Result<StaffRow> ReadStaff(const Rows& r, int i) {
  StaffRow s;
  s.school = SchoolId(r.Text(i, 0));
  s.id = StaffId(r.Text(i, 1));
  s.name = r.Text(i, 2);
  s.email = r.Text(i, 3);
  s.role = r.Text(i, 4);
  s.password_hash = r.Text(i, 5);
  s.password_set_at = r.Time(i, 6);
  s.must_change_password = r.Bool(i, 7);
  s.sealed_totp_secret = r.Bytes(i, 8);
  s.totp_enabled = r.Bool(i, 9);
  s.failed_attempts = static_cast<int>(r.Int(i, 10));
  s.locked_until = r.OptionalTime(i, 11);
  s.briefing_completed_at = r.OptionalTime(i, 12);
  s.left_at = r.OptionalTime(i, 13);
  s.created_at = r.Time(i, 14);
  s.totp_last_step = r.Int(i, 15);
  Result<std::vector<std::string>> codes = DecodeList(r.Text(i, 16));
  if (!codes.ok()) return codes.error();
  s.recovery_codes = std::move(*codes);
  s.organisation = r.Text(i, 17);
  return s;
}

SessionRow ReadSession(const Rows& r, int i) {
  SessionRow s;
  s.token_hash = r.Text(i, 0);
  s.school = SchoolId(r.Text(i, 1));
  s.staff = StaffId(r.Text(i, 2));
  s.csrf_token = r.Text(i, 3);
  s.mfa_passed = r.Bool(i, 4);
  s.created_at = r.Time(i, 5);
  s.expires_at = r.Time(i, 6);
  return s;
}

SubjectSessionRow ReadSubjectSession(const Rows& r, int i) {
  SubjectSessionRow s;
  s.token_hash = r.Text(i, 0);
  s.school = SchoolId(r.Text(i, 1));
  s.subject = SubjectId(r.Text(i, 2));
  s.state = r.Text(i, 3);
  s.code_hash = r.Text(i, 4);
  s.attempts = static_cast<int>(r.Int(i, 5));
  s.csrf_token = r.Text(i, 6);
  s.created_at = r.Time(i, 7);
  s.expires_at = r.Time(i, 8);
  s.email_token = r.Text(i, 9);
  s.acting_for = r.Text(i, 10);
  return s;
}

ports::SubscriptionConfirmationRow ReadSubscriptionConfirmation(const Rows& r, int i) {
  ports::SubscriptionConfirmationRow s;
  s.token_hash = r.Text(i, 0);
  s.school = SchoolId(r.Text(i, 1));
  s.subject = SubjectId(r.Text(i, 2));
  s.state = r.Text(i, 3);
  s.consent = r.Text(i, 4);
  s.created_at = r.Time(i, 5);
  s.expires_at = r.Time(i, 6);
  s.confirmed_at = r.OptionalTime(i, 7);
  return s;
}

Result<ApiKeyRow> ReadApiKey(const Rows& r, int i) {
  ApiKeyRow k;
  k.school = SchoolId(r.Text(i, 0));
  k.id = ApiKeyId(r.Text(i, 1));
  k.name = r.Text(i, 2);
  k.key_hash = r.Text(i, 3);
  k.role = r.Text(i, 4);
  Result<std::vector<std::string>> purposes = DecodeList(r.Text(i, 5));
  if (!purposes.ok()) return purposes.error();
  k.purposes = std::move(*purposes);
  k.created_at = r.Time(i, 6);
  k.revoked_at = r.OptionalTime(i, 7);
  k.created_by = r.Text(i, 8);
  return k;
}

ports::GuardianshipRow ReadGuardianship(const Rows& r, int i) {
  ports::GuardianshipRow g;
  g.school = SchoolId(r.Text(i, 0));
  g.id = r.Text(i, 1);
  g.minor = SubjectId(r.Text(i, 2));
  g.email_token = r.Text(i, 3);
  g.state = r.Text(i, 4);
  g.method = r.Text(i, 5);
  g.verified_at = r.OptionalTime(i, 6);
  g.verified_by = r.Text(i, 7);
  g.majority_at = r.OptionalTime(i, 8);
  g.reconsent = r.Text(i, 9);
  g.reconsent_at = r.OptionalTime(i, 10);
  g.decided_at = r.OptionalTime(i, 11);
  g.body = r.Text(i, 12);
  g.sealed = r.Bytes(i, 13);
  g.created_at = r.Time(i, 14);
  g.updated_at = r.Time(i, 15);
  return g;
}

ports::SubjectEventRow ReadSubjectEvent(const Rows& r, int i) {
  ports::SubjectEventRow e;
  e.school = SchoolId(r.Text(i, 0));
  e.subject = SubjectId(r.Text(i, 1));
  e.kind = r.Text(i, 2);
  e.at = r.Time(i, 3);
  e.source = r.Text(i, 4);
  e.recorded_at = r.Time(i, 5);
  return e;
}

ports::RetentionDueRow ReadRetentionDue(const Rows& r, int i) {
  ports::RetentionDueRow d;
  d.school = SchoolId(r.Text(i, 0));
  d.subject = SubjectId(r.Text(i, 1));
  d.purpose = r.Text(i, 2);
  d.due_date = r.Text(i, 3);
  d.due_at = r.Time(i, 4);
  d.trigger = r.Text(i, 5);
  d.trigger_at = r.Time(i, 6);
  d.state = r.Text(i, 7);
  return d;
}

ports::SubjectAssignmentRow ReadSubjectAssignment(const Rows& r, int i) {
  ports::SubjectAssignmentRow a;
  a.school = SchoolId(r.Text(i, 0));
  a.organisation = r.Text(i, 1);
  a.subject = SubjectId(r.Text(i, 2));
  a.reference = r.Text(i, 3);
  a.assigned_by = r.Text(i, 4);
  a.assigned_at = r.Time(i, 5);
  return a;
}

ports::AccessGrantRow ReadAccessGrant(const Rows& r, int i) {
  ports::AccessGrantRow g;
  g.school = SchoolId(r.Text(i, 0));
  g.id = r.Text(i, 1);
  g.staff = StaffId(r.Text(i, 2));
  g.subject = SubjectId(r.Text(i, 3));
  g.category = r.Text(i, 4);
  g.purpose = r.Text(i, 5);
  g.reason = r.Text(i, 6);
  g.granted_by = r.Text(i, 7);
  g.granted_at = r.Time(i, 8);
  g.expires_at = r.Time(i, 9);
  return g;
}

ports::ReviewTaskRow ReadReviewTask(const Rows& r, int i) {
  ports::ReviewTaskRow t;
  t.school = SchoolId(r.Text(i, 0));
  t.id = r.Text(i, 1);
  t.reason = r.Text(i, 2);
  t.law_change = r.Text(i, 3);
  t.law = r.Text(i, 4);
  t.due_date = r.Text(i, 5);
  t.due_at = r.Time(i, 6);
  t.assignee = r.Text(i, 7);
  t.created_at = r.Time(i, 8);
  t.created_by = r.Text(i, 9);
  t.done_at = r.OptionalTime(i, 10);
  t.done_by = r.Text(i, 11);
  t.summary = r.Text(i, 12);
  t.overdue_at = r.OptionalTime(i, 13);
  t.late_by_days = r.Int(i, 14);
  return t;
}

// --- Parameters of the writes, in the column orders of queries.h ---------------------------------

Params CheckpointParams(const CheckpointRow& r) {
  return Params()
      .Text(r.school.value())
      .Int(r.seq)
      .Text(r.hash)
      .Text(r.signature)
      .Text(r.public_key)
      .Time(r.at);
}

Params SchoolSubject(const SchoolId& school, const SubjectId& subject) {
  return Params().Text(school.value()).Text(subject.value());
}

// --- Connection pools ----------------------------------------------------------------------------

// Idle connections to one database, opened on demand. A lease returns its connection when it
// ends, unless the connection broke (it is dropped; the next lease opens a new one).
class Pool {
 public:
  Pool(std::string conninfo, std::string schema, std::string label, int keep)
      : conninfo_(std::move(conninfo)),
        schema_(std::move(schema)),
        label_(std::move(label)),
        keep_(static_cast<size_t>(keep)) {}

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_ != nullptr) pool_->Return(std::move(conn_));
    }
    Connection& conn() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Lease> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
    }
    Result<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_, schema_, false, label_);
    if (!conn.ok()) return conn.error();
    return Lease(this, std::move(*conn));
  }

  // Runs one statement on a pooled connection.
  Result<Rows> Run(const char* sql, const Params& params) {
    Result<Lease> lease = Acquire();
    if (!lease.ok()) return lease.error();
    return lease->conn().Run(sql, params);
  }

 private:
  void Return(std::unique_ptr<Connection> conn) {
    if (!conn->Healthy() || conn->InTransaction()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < keep_) idle_.push_back(std::move(conn));
  }

  const std::string conninfo_;
  const std::string schema_;
  const std::string label_;
  const size_t keep_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

// --- Writing -------------------------------------------------------------------------------------

// Why a batch failed: a broken rule or a refused value (the batch alone fails) or storage.
struct WriteFailure {
  bool storage = false;
  Error error;
};
using WriteOutcome = std::optional<WriteFailure>;  // nullopt: success

// Runs one write statement of batch member part[index].
WriteOutcome RunWrite(Connection& conn, const char* sql_text, const Params& params,
                      const char* part, size_t index) {
  Result<Rows> rows = conn.Run(sql_text, params);
  if (rows.ok()) return std::nullopt;
  Error error = rows.error();
  if (error.code == ErrorCode::kUnavailable) return WriteFailure{true, std::move(error)};
  error.message = "write batch rejected: " + std::string(part) + "[" + std::to_string(index) +
                  "]: " + error.message;
  error.field = part;
  return WriteFailure{false, std::move(error)};
}

bool HasKeyParts(const WriteBatch& b) {
  return !b.subject_keys.empty() || !b.destroyed_keys.empty() || !b.tombstones.empty() ||
         !b.audit_anchors.empty();
}

// Runs `write(row)` for each row of one batch member, stopping at the first failure.
template <typename Row, typename Write>
WriteOutcome EachRow(const std::vector<Row>& rows, Write&& write) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (WriteOutcome f = write(rows[i], i)) return f;
  }
  return std::nullopt;
}

// The key-vault part of a batch. New and replaced keys first, then destroyed ones, so a batch
// that does both for one subject leaves no key. (A deleted row's bytes stay in the table's file
// until VACUUM reclaims them; see ARCHITECTURE.md.)
WriteOutcome ApplyKeyParts(Connection& db, const WriteBatch& b) {
  if (auto f = EachRow(b.subject_keys, [&](const SubjectKeyRow& r, size_t i) {
        return RunWrite(db, sql::kUpsertSubjectKey,
                        Params()
                            .Text(r.school.value())
                            .Text(r.subject.value())
                            .Text(r.kek_id)
                            .Bytes(r.wrapped_key)
                            .Time(r.created_at),
                        "subject_keys", i);
      })) {
    return f;
  }
  if (auto f = EachRow(b.destroyed_keys, [&](const std::pair<SchoolId, SubjectId>& k, size_t i) {
        return RunWrite(db, sql::kDeleteSubjectKey, SchoolSubject(k.first, k.second),
                        "destroyed_keys", i);
      })) {
    return f;
  }
  if (auto f = EachRow(b.tombstones, [&](const TombstoneRow& r, size_t i) {
        return RunWrite(db, sql::kInsertTombstone,
                        Params()
                            .Text(r.school.value())
                            .Text(r.subject.value())
                            .Text(r.pseudonym)
                            .Text(r.ground)
                            .Text(r.request)
                            .Time(r.at),
                        "tombstones", i);
      })) {
    return f;
  }
  return EachRow(b.audit_anchors, [&](const CheckpointRow& r, size_t i) {
    return RunWrite(db, sql::kUpsertAuditAnchor, CheckpointParams(r), "audit_anchors", i);
  });
}

WriteOutcome EraseSubject(Connection& db, const SchoolId& school, const SubjectId& subject,
                          const char* part, size_t index) {
  const Params params = SchoolSubject(school, subject);
  for (const char* step : kErasureSteps) {
    if (auto f = RunWrite(db, step, params, part, index)) return f;
  }
  return std::nullopt;
}

// The batch's gate checks (ports::GateCheck), before anything of it is written. A plain read in
// the batch's transaction: under READ COMMITTED it sees every change committed before it runs,
// so a change acknowledged before a use began is seen by that use's check.
WriteOutcome CheckGateVersions(Connection& db, const WriteBatch& b) {
  for (size_t i = 0; i < b.gate_checks.size(); ++i) {
    const ports::GateCheck& c = b.gate_checks[i];
    Result<Rows> rows = db.Run(sql::kGetGateVersion, Params().Text(c.school.value()).Text(c.subject.value()));
    if (!rows.ok()) {
      Error error = rows.error();
      return WriteFailure{error.code == ErrorCode::kUnavailable, std::move(error)};
    }
    const int64_t stored = rows->size() > 0 ? rows->Int(0, 0) : 0;
    if (stored != c.version) return WriteFailure{false, ports::GateStale(c.subject)};
  }
  return std::nullopt;
}

// Raises the gate version of every subject the batch changes the gate's state of.
WriteOutcome BumpGateVersions(Connection& db, const WriteBatch& b) {
  const auto subjects = ports::GateSubjects(b);
  for (size_t i = 0; i < subjects.size(); ++i) {
    const auto& [school, subject] = subjects[i];
    const Params params = Params().Text(school.value()).Text(subject.value());
    if (auto f = RunWrite(db, sql::kBumpGateVersion, params, "gate", i)) return f;
  }
  return std::nullopt;
}

// The data part of a batch, in the SQLite adapter's order: parents before the rows that refer to
// them, erasure before the rows added after it.
WriteOutcome ApplyDataParts(Connection& db, const WriteBatch& b) {
  using Steps = std::vector<std::function<WriteOutcome()>>;
  const Steps steps = {
      [&] {
        return EachRow(b.schools, [&](const SchoolRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertSchool,
                          Params()
                              .Text(r.id.value())
                              .Text(r.name)
                              .Text(r.active_policy_version)
                              .Time(r.created_at),
                          "schools", i);
        });
      },
      [&] {
        return EachRow(b.policy_versions, [&](const PolicyVersionRow& r, size_t i) {
          return RunWrite(db, sql::kInsertPolicyVersion,
                          Params()
                              .Text(r.school.value())
                              .Text(r.version_id)
                              .Text(r.text)
                              .Text(r.sha256)
                              .Text(r.effective_date)
                              .Time(r.published_at),
                          "policy_versions", i);
        });
      },
      [&] {
        return EachRow(b.subjects, [&](const SubjectRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertSubject,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id.value())
                              .Text(r.kind)
                              .Text(r.pseudonym)
                              .Text(r.policy_version)
                              .Text(r.channel)
                              .Text(r.form)
                              .Text(r.source)
                              .Text(r.state)
                              .OptionalText(OptionalId(r.guardian))
                              .Bytes(r.sealed_profile)
                              .Time(r.created_at)
                              .Time(r.updated_at),
                          "subjects", i);
        });
      },
      [&] {
        return EachRow(b.records, [&](const RecordRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertRecord,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id.value())
                              .Text(r.subject.value())
                              .Text(r.store)
                              .Text(r.field)
                              .Text(r.category)
                              .Bytes(r.sealed_value)
                              .Text(r.source)
                              .Text(r.channel)
                              .Text(r.form)
                              .Text(r.policy_version)
                              .Time(r.collected_at)
                              .Time(r.updated_at),
                          "records", i);
        });
      },
      [&] {
        return EachRow(b.deleted_records, [&](const std::pair<SchoolId, RecordId>& r, size_t i) {
          return RunWrite(db, sql::kDeleteRecord,
                          Params().Text(r.first.value()).Text(r.second.value()), "deleted_records",
                          i);
        });
      },
      // Assignments, grants, review tasks and legal holds before erasure, so that an erasure in
      // the same batch takes them along.
      [&] {
        return EachRow(b.subject_assignments, [&](const ports::SubjectAssignmentRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertSubjectAssignment,
                          Params()
                              .Text(r.school.value())
                              .Text(r.organisation)
                              .Text(r.subject.value())
                              .Text(r.reference)
                              .Text(r.assigned_by)
                              .Time(r.assigned_at),
                          "subject_assignments", i);
        });
      },
      [&] {
        return EachRow(b.ended_assignments, [&](const ports::SubjectAssignmentRow& r, size_t i) {
          return RunWrite(
              db, sql::kDeleteSubjectAssignment,
              Params().Text(r.school.value()).Text(r.organisation).Text(r.subject.value()),
              "ended_assignments", i);
        });
      },
      [&] {
        return EachRow(b.access_grants, [&](const ports::AccessGrantRow& r, size_t i) {
          return RunWrite(db, sql::kInsertAccessGrant,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.staff.value())
                              .Text(r.subject.value())
                              .Text(r.category)
                              .Text(r.purpose)
                              .Text(r.reason)
                              .Text(r.granted_by)
                              .Time(r.granted_at)
                              .Time(r.expires_at),
                          "access_grants", i);
        });
      },
      [&] {
        return EachRow(b.review_tasks, [&](const ports::ReviewTaskRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertReviewTask,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.reason)
                              .Text(r.law_change)
                              .Text(r.law)
                              .Text(r.due_date)
                              .Time(r.due_at)
                              .Text(r.assignee)
                              .Time(r.created_at)
                              .Text(r.created_by)
                              .OptionalTime(r.done_at)
                              .Text(r.done_by)
                              .Text(r.summary)
                              .OptionalTime(r.overdue_at)
                              .Int(r.late_by_days),
                          "review_tasks", i);
        });
      },
      [&] {
        return EachRow(b.legal_holds, [&](const LegalHoldRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertLegalHold,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.subject.value())
                              .Text(EncodeList(r.fields))
                              .Text(EncodeList(r.categories))
                              .Text(r.reason)
                              .Text(r.basis)
                              .Text(r.until)
                              .Text(r.state)
                              .Text(r.request)
                              .Bool(r.notify_subject)
                              .Time(r.created_at)
                              .Text(r.created_by)
                              .OptionalTime(r.closed_at)
                              .Text(r.closed_by)
                              .Text(r.close_reason)
                              .OptionalTime(r.settled_at),
                          "legal_holds", i);
        });
      },
      [&] {
        return EachRow(b.deleted_field_lookups, [&](const LookupRow& r, size_t i) {
          return RunWrite(db, sql::kDeleteSubjectLookups,
                          SchoolSubject(r.school, r.subject).Text(r.field), "deleted_field_lookups",
                          i);
        });
      },
      [&] {
        return EachRow(b.erased_subjects, [&](const std::pair<SchoolId, SubjectId>& s, size_t i) {
          return EraseSubject(db, s.first, s.second, "erased_subjects", i);
        });
      },
      [&] {
        return EachRow(b.consents, [&](const ConsentRow& r, size_t i) {
          return RunWrite(db, sql::kInsertConsent,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id.value())
                              .Text(r.subject.value())
                              .Text(r.consent_type)
                              .Text(EncodeList(r.grants))
                              .Text(r.action)
                              .Text(r.policy_version)
                              .Text(r.text)
                              .Text(r.text_sha256)
                              .Text(r.lang)
                              .Text(r.channel)
                              .Text(r.form)
                              .Text(r.checkbox)
                              .Text(r.given_by)
                              .OptionalText(OptionalId(r.guardian))
                              .Text(r.evidence)
                              .Time(r.at)
                              .OptionalTime(r.expires_at),
                          "consents", i);
        });
      },
      [&] {
        return EachRow(b.deleted_lookups, [&](const LookupRow& r, size_t i) {
          return RunWrite(
              db, sql::kDeleteLookup,
              Params().Text(r.school.value()).Text(r.field).Text(r.token).Text(r.subject.value()),
              "deleted_lookups", i);
        });
      },
      [&] {
        return EachRow(b.lookups, [&](const LookupRow& r, size_t i) {
          return RunWrite(
              db, sql::kUpsertLookup,
              Params().Text(r.school.value()).Text(r.field).Text(r.token).Text(r.subject.value()),
              "lookups", i);
        });
      },
      [&] {
        return EachRow(b.audit, [&](const AuditRow& r, size_t i) {
          return RunWrite(db, sql::kInsertAudit,
                          Params()
                              .Text(r.school.value())
                              .Int(r.seq)
                              .Time(r.at)
                              .Text(r.actor)
                              .Text(r.role)
                              .Text(r.action)
                              .Text(r.subject_ref)
                              .Text(r.purpose)
                              .Text(r.fields)
                              .Text(r.outcome)
                              .Text(r.reason)
                              .Text(r.decision_id)
                              .Text(r.request_id)
                              .Text(r.detail)
                              .Text(r.prev_hash)
                              .Text(r.hash),
                          "audit", i);
        });
      },
      [&] {
        return EachRow(b.checkpoints, [&](const CheckpointRow& r, size_t i) {
          return RunWrite(db, sql::kInsertCheckpoint, CheckpointParams(r), "checkpoints", i);
        });
      },
      [&] {
        return EachRow(b.staff, [&](const StaffRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertStaff,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id.value())
                              .Text(r.name)
                              .Text(r.email)
                              .Text(r.role)
                              .Text(r.password_hash)
                              .Time(r.password_set_at)
                              .Bool(r.must_change_password)
                              .Bytes(r.sealed_totp_secret)
                              .Bool(r.totp_enabled)
                              .Int(r.failed_attempts)
                              .OptionalTime(r.locked_until)
                              .OptionalTime(r.briefing_completed_at)
                              .OptionalTime(r.left_at)
                              .Time(r.created_at)
                              .Int(r.totp_last_step)
                              .Text(EncodeList(r.recovery_codes))
                              .Text(r.organisation),
                          "staff", i);
        });
      },
      [&] {
        return EachRow(b.sessions, [&](const SessionRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertSession,
                          Params()
                              .Text(r.token_hash)
                              .Text(r.school.value())
                              .Text(r.staff.value())
                              .Text(r.csrf_token)
                              .Bool(r.mfa_passed)
                              .Time(r.created_at)
                              .Time(r.expires_at),
                          "sessions", i);
        });
      },
      [&] {
        return EachRow(b.deleted_sessions, [&](const std::string& token_hash, size_t i) {
          return RunWrite(db, sql::kDeleteSession, Params().Text(token_hash), "deleted_sessions",
                          i);
        });
      },
      [&] {
        return EachRow(b.subject_sessions, [&](const SubjectSessionRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertSubjectSession,
                          Params()
                              .Text(r.token_hash)
                              .Text(r.school.value())
                              .Text(r.subject.value())
                              .Text(r.state)
                              .Text(r.code_hash)
                              .Int(r.attempts)
                              .Text(r.csrf_token)
                              .Time(r.created_at)
                              .Time(r.expires_at)
                              .Text(r.email_token)
                              .Text(r.acting_for),
                          "subject_sessions", i);
        });
      },
      [&] {
        return EachRow(b.subscription_confirmations,
                       [&](const ports::SubscriptionConfirmationRow& r, size_t i) {
                         return RunWrite(db, sql::kUpsertSubscriptionConfirmation,
                                         Params()
                                             .Text(r.token_hash)
                                             .Text(r.school.value())
                                             .Text(r.subject.value())
                                             .Text(r.state)
                                             .Text(r.consent)
                                             .Time(r.created_at)
                                             .Time(r.expires_at)
                                             .OptionalTime(r.confirmed_at),
                                         "subscription_confirmations", i);
                       });
      },
      [&] {
        return EachRow(b.deleted_subject_sessions, [&](const std::string& token_hash, size_t i) {
          return RunWrite(db, sql::kDeleteSubjectSession, Params().Text(token_hash),
                          "deleted_subject_sessions", i);
        });
      },
      [&] {
        return EachRow(b.api_keys, [&](const ApiKeyRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertApiKey,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id.value())
                              .Text(r.name)
                              .Text(r.key_hash)
                              .Text(r.role)
                              .Text(EncodeList(r.purposes))
                              .Time(r.created_at)
                              .OptionalTime(r.revoked_at)
                              .Text(r.created_by),
                          "api_keys", i);
        });
      },
      [&] {
        return EachRow(b.requests, [&](const RequestRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertRequest,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.type)
                              .Text(r.state)
                              .Text(r.subject)
                              .Bool(r.open)
                              .Bool(r.overdue)
                              .Text(r.assignee)
                              .Time(r.received_at)
                              .Time(r.due_at)
                              .Time(r.updated_at)
                              .Text(r.body)
                              .Bytes(r.sealed),
                          "requests", i);
        });
      },
      [&] {
        return EachRow(b.request_events, [&](const RequestEventRow& r, size_t i) {
          return RunWrite(db, sql::kInsertRequestEvent,
                          Params()
                              .Text(r.school.value())
                              .Text(r.request)
                              .Int(r.seq)
                              .Time(r.at)
                              .Text(r.actor)
                              .Text(r.kind)
                              .Text(r.body)
                              .Bytes(r.sealed),
                          "request_events", i);
        });
      },
      [&] {
        return EachRow(b.outbox, [&](const OutboxRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertOutbox,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.request)
                              .Text(r.channel)
                              .Text(r.state)
                              .Int(r.attempts)
                              .Time(r.created_at)
                              .Time(r.next_attempt_at)
                              .OptionalTime(r.sent_at)
                              .Text(r.last_error)
                              .Text(r.body)
                              .Bytes(r.sealed),
                          "outbox", i);
        });
      },
      [&] {
        return EachRow(b.disclosures, [&](const DisclosureRow& r, size_t i) {
          return RunWrite(db, sql::kInsertDisclosure,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.subject.value())
                              .Text(r.recipient)
                              .Time(r.at)
                              .Text(EncodeList(r.fields))
                              .Text(EncodeList(r.categories))
                              .Text(r.purpose)
                              .Text(r.basis)
                              .Text(r.safeguard)
                              .Text(r.country)
                              .Text(r.actor)
                              .Text(r.request)
                              .Text(r.detail.empty() ? std::string("{}") : r.detail)
                              .Time(r.recorded_at),
                          "disclosures", i);
        });
      },
      [&] {
        return EachRow(b.recipient_contacts, [&](const RecipientContactRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertRecipientContact,
                          Params()
                              .Text(r.school.value())
                              .Text(r.recipient)
                              .Bytes(r.sealed)
                              .Time(r.updated_at)
                              .Text(r.updated_by),
                          "recipient_contacts", i);
        });
      },
      [&] {
        return EachRow(b.guardianships, [&](const ports::GuardianshipRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertGuardianship,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.minor.value())
                              .Text(r.email_token)
                              .Text(r.state)
                              .Text(r.method)
                              .OptionalTime(r.verified_at)
                              .Text(r.verified_by)
                              .OptionalTime(r.majority_at)
                              .Text(r.reconsent)
                              .OptionalTime(r.reconsent_at)
                              .OptionalTime(r.decided_at)
                              .Text(r.body.empty() ? std::string("{}") : r.body)
                              .Bytes(r.sealed)
                              .Time(r.created_at)
                              .Time(r.updated_at),
                          "guardianships", i);
        });
      },
      [&] {
        return EachRow(b.subject_events, [&](const ports::SubjectEventRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertSubjectEvent,
                          SchoolSubject(r.school, r.subject)
                              .Text(r.kind)
                              .Time(r.at)
                              .Text(r.source)
                              .Time(r.recorded_at),
                          "subject_events", i);
        });
      },
      [&] {
        return EachRow(b.deleted_retention_due, [&](const ports::RetentionDueRow& r, size_t i) {
          return RunWrite(db, sql::kDeleteRetentionDue,
                          SchoolSubject(r.school, r.subject).Text(r.purpose),
                          "deleted_retention_due", i);
        });
      },
      [&] {
        return EachRow(b.retention_due, [&](const ports::RetentionDueRow& r, size_t i) {
          return RunWrite(db, sql::kUpsertRetentionDue,
                          SchoolSubject(r.school, r.subject)
                              .Text(r.purpose)
                              .Text(r.due_date)
                              .Time(r.due_at)
                              .Text(r.trigger)
                              .Time(r.trigger_at)
                              .Text(r.state),
                          "retention_due", i);
        });
      },
      [&] {
        return EachRow(b.retention_marks, [&](const std::pair<SchoolId, Timestamp>& m, size_t i) {
          return RunWrite(db, sql::kUpsertRetentionMark,
                          Params().Text(m.first.value()).Time(m.second), "retention_marks", i);
        });
      },
      [&] {
        return EachRow(b.cookie_consents, [&](const CookieConsentRow& r, size_t i) {
          return RunWrite(db, sql::kInsertCookieConsent,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.choice)
                              .Text(EncodeList(r.accepted))
                              .Text(EncodeList(r.rejected))
                              .Text(r.policy_version)
                              .Bool(r.gpc)
                              .Text(r.lang)
                              .Text(r.ip)
                              .Text(r.user_agent_sha256)
                              .Time(r.at)
                              .Time(r.expires_at),
                          "cookie_consents", i);
        });
      },
      [&] {
        return EachRow(b.visits, [&](const ports::VisitRow& r, size_t i) {
          return RunWrite(db, sql::kInsertVisit,
                          Params()
                              .Text(r.school.value())
                              .Text(r.id)
                              .Text(r.day)
                              .Int(r.hour)
                              .Text(r.network)
                              .Text(r.browser)
                              .Text(r.os)
                              .Text(r.page)
                              .Text(r.referrer_domain),
                          "visits", i);
        });
      },
  };
  for (const auto& step : steps) {
    if (WriteOutcome f = step()) return f;
  }
  return BumpGateVersions(db, b);
}

// B09: erases again every subject that has a tombstone in the key vault but still has rows in
// the data (an older data backup was restored), in one transaction, before anything is served.
// Returns how many subjects were erased again.
Result<int64_t> ReplayTombstones(Connection& keys, Connection& data) {
  Result<Rows> tombstones = keys.Run(sql::kAllTombstones, Params());
  if (!tombstones.ok()) return tombstones.error();
  std::vector<std::pair<SchoolId, SubjectId>> present;
  for (int i = 0; i < tombstones->size(); ++i) {
    SchoolId school(tombstones->Text(i, 0));
    SubjectId subject(tombstones->Text(i, 1));
    Result<Rows> exists = data.Run(sql::kSubjectExists, SchoolSubject(school, subject));
    if (!exists.ok()) return exists.error();
    if (exists->size() > 0) present.emplace_back(std::move(school), std::move(subject));
  }
  if (present.empty()) return int64_t{0};
  Status begun = data.Exec(sql::kBegin);
  if (!begun.ok()) return begun.error();
  for (size_t i = 0; i < present.size(); ++i) {
    if (auto f = EraseSubject(data, present[i].first, present[i].second, "tombstones", i)) {
      data.RollbackQuietly();
      return f->error;
    }
  }
  Status committed = data.Exec(sql::kCommit);
  if (!committed.ok()) {
    data.RollbackQuietly();
    return committed.error();
  }
  return static_cast<int64_t>(present.size());
}

// Refuses a key vault in the data database (B02). Advisory locks are scoped by database: a lock
// the vault's connection holds is free to take from the data connection unless both are one
// database of one server.
Status CheckApart(Connection& keys, Connection& data) {
  Result<Rows> pid = keys.Run(sql::kBackendPid, Params());
  if (!pid.ok()) return pid.error();
  const Params probe = Params().Int(pid->Int(0, 0));
  Result<Rows> held = keys.Run(sql::kHoldProbe, probe);
  if (!held.ok()) return held.error();
  Result<Rows> taken = data.Run(sql::kTryProbe, probe);
  if (!taken.ok()) return taken.error();
  const bool apart = taken->Bool(0, 0);
  if (apart) {
    Result<Rows> released = data.Run(sql::kReleaseProbe, probe);
    if (!released.ok()) return released.error();
  }
  Result<Rows> released = keys.Run(sql::kReleaseProbe, probe);
  if (!released.ok()) return released.error();
  if (!apart) {
    return Error::Invalid("the key vault must be a different database from the data",
                          "keys_conninfo");
  }
  return Status::Ok();
}

Timestamp WallClockNow() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace

// --- The store -----------------------------------------------------------------------------------

class PostgresStore::Impl {
 public:
  Impl(const PostgresOptions& options, std::unique_ptr<Connection> data_writer,
       std::unique_ptr<Connection> keys_writer)
      : options_(options),
        data_writer_(std::move(data_writer)),
        keys_writer_(std::move(keys_writer)),
        data_readers_(options.data_conninfo, options.schema, "data database",
                      options.reader_connections),
        keys_readers_(options.keys_conninfo, options.schema, "key vault",
                      options.reader_connections) {
    writer_ = std::thread([this] { WriterLoop(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
  }

  int64_t replayed_tombstones = 0;  // set once by Open
  // Holds the schema's serving lock for the store's life (PostgresOptions::exclusive_for); the
  // lock goes with the session when the store closes or the process ends.
  std::unique_ptr<Connection> schema_lock;
  const PostgresOptions& options() const { return options_; }

  // The jobs lease is a session advisory lock held by a connection of its own: it lasts as long
  // as that session, and goes with it when the process dies or the connection breaks (a failover
  // included), so another server takes it over at its next round.
  Result<bool> HoldJobsLease() {
    std::lock_guard<std::mutex> lock(jobs_mu_);
    if (jobs_held_ && jobs_conn_ && jobs_conn_->Run(sql::kPing, Params()).ok()) return true;
    jobs_held_ = false;
    if (!jobs_conn_ || !jobs_conn_->Healthy()) {
      jobs_conn_.reset();
      auto conn = Connection::Open(options_.data_conninfo, options_.schema, false, "jobs lease");
      if (!conn.ok()) return conn.error();
      jobs_conn_ = std::move(*conn);
    }
    Result<Rows> taken = jobs_conn_->Run(sql::kTryLockJobs, Params());
    if (!taken.ok()) {
      jobs_conn_.reset();
      return taken.error();
    }
    jobs_held_ = taken->size() == 1 && taken->Bool(0, 0);
    return jobs_held_;
  }

  void Submit(WriteBatch batch, std::function<void(Status)> done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        queue_.push_back(Pending{std::move(batch), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    if (done) done(Error::Unavailable("the store is closing"));
  }

  void SetAuditChainer(ports::AuditChainer chainer) { chainer_ = std::move(chainer); }

  Pool& data() { return data_readers_; }
  Pool& keys() { return keys_readers_; }

  // Every row of `sql_text` mapped by `read` (a row to T or Result<T>).
  template <typename T, typename Read>
  Result<std::vector<T>> All(Pool& pool, const char* sql_text, const Params& params, Read&& read) {
    Result<Rows> rows = pool.Run(sql_text, params);
    if (!rows.ok()) return rows.error();
    std::vector<T> out;
    out.reserve(static_cast<size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i) {
      Result<T> row = read(*rows, i);
      if (!row.ok()) return row.error();
      out.push_back(std::move(*row));
    }
    return out;
  }

  // The first row, if any.
  template <typename T, typename Read>
  Result<std::optional<T>> One(Pool& pool, const char* sql_text, const Params& params,
                               Read&& read) {
    Result<Rows> rows = pool.Run(sql_text, params);
    if (!rows.ok()) return rows.error();
    if (rows->size() == 0) return std::optional<T>();
    Result<T> row = read(*rows, 0);
    if (!row.ok()) return row.error();
    return std::optional<T>(std::move(*row));
  }

  // Calls `fn` with each row (read whole first, the connection back in its pool), stopping when
  // `fn` returns false.
  template <typename T, typename Read, typename Fn>
  Status Each(Pool& pool, const char* sql_text, const Params& params, Read&& read, Fn&& fn) {
    Result<Rows> rows = pool.Run(sql_text, params);
    if (!rows.ok()) return rows.error();
    for (int i = 0; i < rows->size(); ++i) {
      Result<T> row = read(*rows, i);
      if (!row.ok()) return row.error();
      if (!fn(*row)) break;
    }
    return Status::Ok();
  }

 private:
  struct Pending {
    WriteBatch batch;
    std::function<void(Status)> done;
  };

  void WriterLoop() {
    for (;;) {
      Pending next;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping, and every queued batch is done
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      Status outcome = Apply(next.batch);
      if (next.done) next.done(std::move(outcome));
    }
  }

  // One batch in one transaction per database it touches: the vault commits first.
  Status Apply(WriteBatch& batch) {
    if (batch.empty()) return Status::Ok();
    const bool has_keys = HasKeyParts(batch);
    Status ready = Reconnect(has_keys);
    if (!ready.ok()) return ready;
    WriteOutcome outcome = ApplyInTransactions(batch, has_keys);
    if (outcome) {
      data_writer_->RollbackQuietly();
      keys_writer_->RollbackQuietly();
      return std::move(outcome->error);
    }
    if (!batch.destroyed_keys.empty()) ReclaimDestroyedKeys();
    return Status::Ok();
  }

  // A deleted row stays in the table's pages as a dead tuple until VACUUM prunes it. VACUUM
  // cannot run inside a transaction, so it follows the commit, before the batch is acknowledged:
  // it prunes the destroyed keys' tuples (no open snapshot can still see them: readers run one
  // autocommit statement each) and compacts their pages. PostgreSQL does not zero freed space, so
  // a pruned tuple's bytes can linger in a page's free space until a later write reuses it; they
  // are a subject key wrapped under the school's key, which `dovira keys rotate` retires (see
  // ARCHITECTURE.md). A failure is not the batch's: the key is deleted either way, and the next
  // erasure's VACUUM prunes it.
  void ReclaimDestroyedKeys() {
    Status vacuumed = keys_writer_->Exec(sql::kVacuumSubjectKeys);
    if (!vacuumed.ok()) {
      std::fprintf(stderr, "dovira: key vault: VACUUM after an erasure failed: %s\n",
                   vacuumed.error().message.c_str());
    }
  }

  WriteOutcome ApplyInTransactions(WriteBatch& batch, bool has_keys) {
    Connection& data = *data_writer_;
    Connection& keys = *keys_writer_;
    if (has_keys) {
      if (Status st = keys.Exec(sql::kBegin); !st.ok()) return WriteFailure{true, st.error()};
    }
    if (Status st = data.Exec(sql::kBegin); !st.ok()) return WriteFailure{true, st.error()};
    if (!batch.power_safe) {
      for (Connection* conn : {&data, &keys}) {
        if (conn == &keys && !has_keys) continue;
        Status st = conn->Exec(sql::kCommitWithoutWaitingForFlush);
        if (!st.ok()) return WriteFailure{true, st.error()};
      }
    }
    if (auto f = CheckGateVersions(data, batch)) return f;
    if (chainer_) {
      if (auto f = ChainAudit(data, batch)) return f;
    }
    if (has_keys) {
      if (auto f = ApplyKeyParts(keys, batch)) return f;
    }
    if (auto f = ApplyDataParts(data, batch)) return f;
    // The vault first: a crash between the two commits leaves keys without data, never data
    // without its key.
    if (has_keys) {
      if (Status st = keys.Exec(sql::kCommit); !st.ok()) return WriteFailure{true, st.error()};
    }
    if (Status st = data.Exec(sql::kCommit); !st.ok()) return WriteFailure{true, st.error()};
    return std::nullopt;
  }

  // Numbers and chains the batch's audit rows submitted with seq 0, in the batch's transaction,
  // under the school's chain lock (see the header).
  WriteOutcome ChainAudit(Connection& data, WriteBatch& batch) {
    struct Head {
      int64_t seq = 0;
      std::string hash;
    };
    std::unordered_map<std::string, Head> heads;
    for (size_t i = 0; i < batch.audit.size(); ++i) {
      AuditRow& row = batch.audit[i];
      if (row.seq != 0) continue;
      auto it = heads.find(row.school.value());
      if (it == heads.end()) {
        const Params school = Params().Text(row.school.value());
        if (auto f = RunWrite(data, sql::kLockAuditChain, school, "audit", i)) return f;
        Result<Rows> head = data.Run(sql::kAuditHead, school);
        if (!head.ok()) return WriteFailure{true, head.error()};
        Head h;
        if (head->size() > 0) h = Head{head->Int(0, 0), head->Text(0, 1)};
        it = heads.emplace(row.school.value(), std::move(h)).first;
      }
      row.seq = it->second.seq + 1;
      row.prev_hash = it->second.hash;
      row.hash = chainer_(row.prev_hash, row);
      it->second = Head{row.seq, row.hash};
    }
    return std::nullopt;
  }

  // Opens the writer connections again when the server dropped them.
  Status Reconnect(bool keys_too) {
    if (!data_writer_->Healthy()) {
      auto conn = Connection::Open(options_.data_conninfo, options_.schema, false, "data database");
      if (!conn.ok()) return conn.error();
      data_writer_ = std::move(*conn);
    }
    if (keys_too && !keys_writer_->Healthy()) {
      auto conn = Connection::Open(options_.keys_conninfo, options_.schema, false, "key vault");
      if (!conn.ok()) return conn.error();
      keys_writer_ = std::move(*conn);
    }
    return Status::Ok();
  }

  const PostgresOptions options_;
  std::unique_ptr<Connection> data_writer_;  // writer thread only (after Open)
  std::unique_ptr<Connection> keys_writer_;  // writer thread only (after Open)
  Pool data_readers_;
  Pool keys_readers_;
  ports::AuditChainer chainer_;  // set before the first Submit

  std::mutex jobs_mu_;
  std::unique_ptr<Connection> jobs_conn_;  // guarded by jobs_mu_
  bool jobs_held_ = false;                 // guarded by jobs_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread writer_;         // started last, in the constructor
};

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresOptions options) {
  if (options.data_conninfo.empty()) {
    return Error::Invalid("the data database's connection string is empty", "data_conninfo");
  }
  if (options.keys_conninfo.empty()) {
    return Error::Invalid("the key vault's connection string is empty", "keys_conninfo");
  }
  if (options.schema.empty()) return Error::Invalid("the schema name is empty", "schema");
  if (options.reader_connections < 0) {
    return Error::Invalid("reader_connections must not be negative", "reader_connections");
  }
  // The schema's serving lock before anything is migrated or replayed.
  std::unique_ptr<Connection> holder;
  if (!options.exclusive_for.empty()) {
    Result<std::unique_ptr<Connection>> conn =
        Connection::Open(options.data_conninfo, options.schema, true, "data database");
    if (!conn.ok()) return conn.error();
    Result<Rows> held = (*conn)->Run(
        options.shared_hold ? sql::kTryLockSchemaShared : sql::kTryLockSchema, Params());
    if (!held.ok()) return held.error();
    if (held->size() != 1 || !held->Bool(0, 0)) {
      const std::string who =
          options.shared_hold
              ? "a command that needs the schema " + options.schema +
                    " of this database alone is running: wait for it to end before you "
              : "a server is serving the schema " + options.schema +
                    " of this database: stop it before you ";
      return Error{ErrorCode::kFailedPrecondition, who + options.exclusive_for, {},
                   "schema_in_use"};
    }
    holder = std::move(*conn);
  }
  Result<std::unique_ptr<Connection>> keys =
      Connection::Open(options.keys_conninfo, options.schema, true, "key vault");
  if (!keys.ok()) return keys.error();
  Result<std::unique_ptr<Connection>> data =
      Connection::Open(options.data_conninfo, options.schema, true, "data database");
  if (!data.ok()) return data.error();
  // B02: one database for both would put keys into every data backup.
  Status apart = CheckApart(**keys, **data);
  if (!apart.ok()) return apart.error();

  const Timestamp now = WallClockNow();
  Status migrated = ApplyMigrations(**keys, KeyVaultMigrations(), now);
  if (!migrated.ok()) return migrated.error();
  migrated = ApplyMigrations(**data, DataMigrations(), now);
  if (!migrated.ok()) return migrated.error();

  Result<int64_t> replayed = ReplayTombstones(**keys, **data);
  if (!replayed.ok()) return replayed.error();

  auto impl = std::make_unique<Impl>(options, std::move(*data), std::move(*keys));
  impl->replayed_tombstones = *replayed;
  impl->schema_lock = std::move(holder);
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
}

void PostgresStore::Submit(WriteBatch batch, std::function<void(Status)> done) {
  impl_->Submit(std::move(batch), std::move(done));
}

void PostgresStore::SetAuditChainer(ports::AuditChainer chainer) {
  impl_->SetAuditChainer(std::move(chainer));
}

int64_t PostgresStore::replayed_tombstones() const { return impl_->replayed_tombstones; }

// --- Reads ---------------------------------------------------------------------------------------

namespace {

Params School(const SchoolId& school) { return Params().Text(school.value()); }
Params Pair(const SchoolId& school, const std::string& second) {
  return Params().Text(school.value()).Text(second);
}

// Adapts a row reader whose rows cannot fail to the Result<T> the helpers take.
template <typename T>
auto Plain(T (*read)(const Rows&, int)) {
  return [read](const Rows& r, int i) -> Result<T> { return read(r, i); };
}

}  // namespace

Result<std::optional<SchoolRow>> PostgresStore::GetSchool(const SchoolId& id) {
  return impl_->One<SchoolRow>(impl_->data(), sql::kGetSchool, School(id), Plain(ReadSchool));
}

Result<std::vector<SchoolRow>> PostgresStore::ListSchools() {
  return impl_->All<SchoolRow>(impl_->data(), sql::kListSchools, Params(), Plain(ReadSchool));
}

Result<std::vector<PolicyVersionRow>> PostgresStore::ListPolicyVersions(const SchoolId& school) {
  return impl_->All<PolicyVersionRow>(impl_->data(), sql::kListPolicyVersions, School(school),
                                      Plain(ReadPolicyVersion));
}

Result<std::optional<SubjectRow>> PostgresStore::GetSubject(const SchoolId& school,
                                                            const SubjectId& id) {
  return impl_->One<SubjectRow>(impl_->data(), sql::kGetSubject, Pair(school, id.value()),
                                Plain(ReadSubject));
}

Result<int64_t> PostgresStore::GetGateVersion(const SchoolId& school, const SubjectId& id) {
  Result<std::optional<int64_t>> v =
      impl_->One<int64_t>(impl_->data(), sql::kGetGateVersion, Pair(school, id.value()),
                          Plain(ReadFirstInt));
  if (!v.ok()) return v.error();
  return v->value_or(0);
}

Result<std::optional<SubjectKeyRow>> PostgresStore::GetSubjectKey(const SchoolId& school,
                                                                  const SubjectId& id) {
  return impl_->One<SubjectKeyRow>(impl_->keys(), sql::kGetSubjectKey, Pair(school, id.value()),
                                   Plain(ReadSubjectKey));
}

Status PostgresStore::ForEachSubjectKey(const SchoolId& school,
                                        const std::function<void(const SubjectKeyRow&)>& fn) {
  return impl_->Each<SubjectKeyRow>(impl_->keys(), sql::kForEachSubjectKey, School(school),
                                    Plain(ReadSubjectKey), [&](const SubjectKeyRow& row) {
                                      fn(row);
                                      return true;
                                    });
}

Result<std::vector<RecordRow>> PostgresStore::GetRecords(const SchoolId& school,
                                                         const SubjectId& subject) {
  return impl_->All<RecordRow>(impl_->data(), sql::kGetRecords, Pair(school, subject.value()),
                               Plain(ReadRecord));
}

Result<std::vector<RecordRow>> PostgresStore::GetRecordsPage(const SchoolId& school,
                                                             const SubjectId& subject,
                                                             const std::string& after_id,
                                                             size_t limit) {
  if (limit == 0) return std::vector<RecordRow>{};
  return impl_->All<RecordRow>(impl_->data(), sql::kGetRecordsPage,
                               Pair(school, subject.value()).Text(after_id).Int(ClampLimit(limit)),
                               Plain(ReadRecord));
}

Result<std::vector<RecordRow>> PostgresStore::GetStoreRecords(const SchoolId& school,
                                                              const SubjectId& subject,
                                                              const std::string& store) {
  return impl_->All<RecordRow>(impl_->data(), sql::kGetStoreRecords,
                               Pair(school, subject.value()).Text(store), Plain(ReadRecord));
}

Result<std::vector<ConsentRow>> PostgresStore::GetConsents(const SchoolId& school,
                                                           const SubjectId& subject) {
  return impl_->All<ConsentRow>(impl_->data(), sql::kGetConsents, Pair(school, subject.value()),
                                ReadConsent);
}

Result<std::optional<SubjectId>> PostgresStore::FindByLookup(const SchoolId& school,
                                                             const std::string& field,
                                                             const std::string& token) {
  return impl_->One<SubjectId>(
      impl_->data(), sql::kFindLookup, Pair(school, field).Text(token),
      [](const Rows& r, int i) -> Result<SubjectId> { return SubjectId(r.Text(i, 0)); });
}

Status PostgresStore::ForEachSubject(const SchoolId& school,
                                     const std::function<void(const SubjectRow&)>& fn) {
  return impl_->Each<SubjectRow>(impl_->data(), sql::kForEachSubject, School(school),
                                 Plain(ReadSubject), [&](const SubjectRow& row) {
                                   fn(row);
                                   return true;
                                 });
}

Status PostgresStore::ForEachConsent(const SchoolId& school,
                                     const std::function<void(const ConsentRow&)>& fn) {
  return impl_->Each<ConsentRow>(impl_->data(), sql::kForEachConsent, School(school), ReadConsent,
                                 [&](const ConsentRow& row) {
                                   fn(row);
                                   return true;
                                 });
}

Result<std::vector<SubjectRow>> PostgresStore::ListSubjects(const SchoolId& school,
                                                            const std::string& after_id,
                                                            size_t limit) {
  if (limit == 0) return std::vector<SubjectRow>{};
  return impl_->All<SubjectRow>(impl_->data(), sql::kListSubjects,
                                Pair(school, after_id).Int(ClampLimit(limit)), Plain(ReadSubject));
}

Result<std::optional<AuditRow>> PostgresStore::LastAudit(const SchoolId& school) {
  return impl_->One<AuditRow>(impl_->data(), sql::kLastAudit, School(school), Plain(ReadAudit));
}

Status PostgresStore::ForEachAudit(const SchoolId& school, int64_t from_seq,
                                   const std::function<bool(const AuditRow&)>& fn) {
  return impl_->Each<AuditRow>(impl_->data(), sql::kForEachAudit, School(school).Int(from_seq),
                               Plain(ReadAudit), fn);
}

Result<std::vector<AuditRow>> PostgresStore::AuditForSubject(const SchoolId& school,
                                                             const std::string& subject_ref,
                                                             int64_t after_seq, size_t limit) {
  if (limit == 0) return std::vector<AuditRow>{};
  return impl_->All<AuditRow>(impl_->data(), sql::kAuditForSubject,
                              Pair(school, subject_ref).Int(after_seq).Int(ClampLimit(limit)),
                              Plain(ReadAudit));
}

Result<std::vector<CheckpointRow>> PostgresStore::ListCheckpoints(const SchoolId& school) {
  return impl_->All<CheckpointRow>(impl_->data(), sql::kListCheckpoints, School(school),
                                   Plain(ReadCheckpoint));
}

Result<std::optional<CheckpointRow>> PostgresStore::GetAuditAnchor(const SchoolId& school) {
  return impl_->One<CheckpointRow>(impl_->keys(), sql::kGetAuditAnchor, School(school),
                                   Plain(ReadCheckpoint));
}

Result<std::optional<StaffRow>> PostgresStore::GetStaff(const SchoolId& school, const StaffId& id) {
  return impl_->One<StaffRow>(impl_->data(), sql::kGetStaff, Pair(school, id.value()), ReadStaff);
}

Result<std::optional<StaffRow>> PostgresStore::FindStaffByEmail(const SchoolId& school,
                                                                const std::string& email) {
  return impl_->One<StaffRow>(impl_->data(), sql::kFindStaffByEmail, Pair(school, email),
                              ReadStaff);
}

Result<std::vector<StaffRow>> PostgresStore::ListStaff(const SchoolId& school) {
  return impl_->All<StaffRow>(impl_->data(), sql::kListStaff, School(school), ReadStaff);
}

Result<std::optional<SessionRow>> PostgresStore::GetSession(const std::string& token_hash) {
  return impl_->One<SessionRow>(impl_->data(), sql::kGetSession, Params().Text(token_hash),
                                Plain(ReadSession));
}

Result<std::optional<ports::SubscriptionConfirmationRow>>
PostgresStore::GetSubscriptionConfirmation(const std::string& token_hash) {
  return impl_->One<ports::SubscriptionConfirmationRow>(
      impl_->data(), sql::kGetSubscriptionConfirmation, Params().Text(token_hash),
      Plain(ReadSubscriptionConfirmation));
}

Result<std::optional<SubjectSessionRow>> PostgresStore::GetSubjectSession(
    const std::string& token_hash) {
  return impl_->One<SubjectSessionRow>(impl_->data(), sql::kGetSubjectSession,
                                       Params().Text(token_hash), Plain(ReadSubjectSession));
}

Result<std::optional<ApiKeyRow>> PostgresStore::FindApiKey(const std::string& key_hash) {
  return impl_->One<ApiKeyRow>(impl_->data(), sql::kFindApiKey, Params().Text(key_hash),
                               ReadApiKey);
}

Result<std::vector<ApiKeyRow>> PostgresStore::ListApiKeys(const SchoolId& school) {
  return impl_->All<ApiKeyRow>(impl_->data(), sql::kListApiKeys, School(school), ReadApiKey);
}

Result<std::optional<RequestRow>> PostgresStore::GetRequest(const SchoolId& school,
                                                            const std::string& id) {
  return impl_->One<RequestRow>(impl_->data(), sql::kGetRequest, Pair(school, id),
                                Plain(ReadRequest));
}

Result<std::vector<RequestRow>> PostgresStore::ListRequests(const SchoolId& school,
                                                            const ports::RequestFilter& f) {
  if (f.limit == 0) return std::vector<RequestRow>{};
  return impl_->All<RequestRow>(impl_->data(), sql::kListRequests,
                                School(school)
                                    .Bool(f.open_only)
                                    .Bool(f.overdue_only)
                                    .Text(f.type)
                                    .Text(f.state)
                                    .Text(f.assignee)
                                    .Text(f.subject)
                                    .OptionalTime(f.due_before)
                                    .OptionalTime(f.after_due)
                                    .Text(f.after_id)
                                    .Int(ClampLimit(f.limit)),
                                Plain(ReadRequest));
}

Status PostgresStore::ForEachRequest(const SchoolId& school, bool open_only,
                                     const std::function<void(const RequestRow&)>& fn) {
  return impl_->Each<RequestRow>(impl_->data(), sql::kForEachRequest,
                                 School(school).Bool(open_only), Plain(ReadRequest),
                                 [&](const RequestRow& row) {
                                   fn(row);
                                   return true;
                                 });
}

Result<std::vector<RequestEventRow>> PostgresStore::GetRequestEvents(const SchoolId& school,
                                                                     const std::string& request) {
  return impl_->All<RequestEventRow>(impl_->data(), sql::kGetRequestEvents, Pair(school, request),
                                     Plain(ReadRequestEvent));
}

Result<std::vector<OutboxRow>> PostgresStore::DueOutbox(Timestamp now, size_t limit) {
  if (limit == 0) return std::vector<OutboxRow>{};
  return impl_->All<OutboxRow>(impl_->data(), sql::kDueOutbox,
                               Params().Time(now).Int(ClampLimit(limit)), Plain(ReadOutbox));
}

Result<std::vector<OutboxRow>> PostgresStore::RequestOutbox(const SchoolId& school,
                                                            const std::string& request) {
  return impl_->All<OutboxRow>(impl_->data(), sql::kRequestOutbox, Pair(school, request),
                               Plain(ReadOutbox));
}

Result<std::vector<OutboxRow>> PostgresStore::UnsentOutbox(const SchoolId& school) {
  return impl_->All<OutboxRow>(impl_->data(), sql::kUnsentOutbox, School(school),
                               Plain(ReadOutbox));
}

Result<std::vector<TombstoneRow>> PostgresStore::ListTombstones(const SchoolId& school) {
  return impl_->All<TombstoneRow>(impl_->keys(), sql::kListTombstones, School(school),
                                  Plain(ReadTombstone));
}

Result<bool> PostgresStore::HoldJobsLease() { return impl_->HoldJobsLease(); }

Status PostgresStore::Backup(const std::string& path) {
  return DumpSchema(impl_->options().data_conninfo, impl_->options().schema, path,
                    "data database");
}

Status PostgresStore::BackupKeyVault(const std::string& path) {
  return DumpSchema(impl_->options().keys_conninfo, impl_->options().schema, path, "key vault");
}

Result<std::optional<CookieConsentRow>> PostgresStore::GetCookieConsent(const SchoolId& school,
                                                                        const std::string& id) {
  return impl_->One<CookieConsentRow>(impl_->data(), sql::kGetCookieConsent, Pair(school, id),
                                      ReadCookieConsent);
}

Status PostgresStore::ForEachVisit(const SchoolId& school, const std::string& from,
                                   const std::string& to,
                                   const std::function<void(const ports::VisitRow&)>& fn) {
  return impl_->Each<ports::VisitRow>(impl_->data(), sql::kForEachVisit,
                                      Pair(school, from).Text(to), Plain(ReadVisit),
                                      [&](const ports::VisitRow& row) {
                                        fn(row);
                                        return true;
                                      });
}

Result<std::vector<DisclosureRow>> PostgresStore::ListDisclosures(const SchoolId& school,
                                                                  const DisclosureFilter& f) {
  if (f.limit == 0) return std::vector<DisclosureRow>{};
  const Timestamp since =
      f.since.value_or(Timestamp(std::chrono::microseconds(std::numeric_limits<int64_t>::min())));
  const Timestamp before = f.before_at.value_or(
      Timestamp(std::chrono::microseconds(std::numeric_limits<int64_t>::max())));
  // No cursor: the sentinel's time is after every stored row's, whatever the id.
  return impl_->All<DisclosureRow>(impl_->data(), sql::kListDisclosures,
                                   Pair(school, f.subject)
                                       .Text(f.recipient)
                                       .Time(since)
                                       .Time(before)
                                       .Text(f.before_at ? f.before_id : std::string())
                                       .Int(ClampLimit(f.limit)),
                                   ReadDisclosure);
}

Result<std::optional<RecipientContactRow>> PostgresStore::GetRecipientContact(
    const SchoolId& school, const std::string& recipient) {
  return impl_->One<RecipientContactRow>(impl_->data(), sql::kGetRecipientContact,
                                         Pair(school, recipient), Plain(ReadRecipientContact));
}

Result<std::vector<RecipientContactRow>> PostgresStore::ListRecipientContacts(
    const SchoolId& school) {
  return impl_->All<RecipientContactRow>(impl_->data(), sql::kListRecipientContacts, School(school),
                                         Plain(ReadRecipientContact));
}

Result<std::vector<LegalHoldRow>> PostgresStore::ListLegalHolds(const SchoolId& school,
                                                                const SubjectId& subject) {
  return impl_->All<LegalHoldRow>(impl_->data(), sql::kListLegalHolds,
                                  Pair(school, subject.value()), ReadLegalHold);
}

Result<std::optional<LegalHoldRow>> PostgresStore::GetLegalHold(const SchoolId& school,
                                                                const std::string& id) {
  return impl_->One<LegalHoldRow>(impl_->data(), sql::kGetLegalHold, Pair(school, id),
                                  ReadLegalHold);
}

Result<std::vector<LegalHoldRow>> PostgresStore::DueLegalHolds(const SchoolId& school,
                                                               const std::string& today,
                                                               size_t limit) {
  if (limit == 0) return std::vector<LegalHoldRow>{};
  return impl_->All<LegalHoldRow>(impl_->data(), sql::kDueLegalHolds,
                                  Pair(school, today).Int(ClampLimit(limit)), ReadLegalHold);
}

Result<std::vector<ports::ReviewTaskRow>> PostgresStore::ListReviewTasks(const SchoolId& school,
                                                                         bool open, size_t limit) {
  return impl_->All<ports::ReviewTaskRow>(
      impl_->data(), open ? sql::kOpenReviewTasks : sql::kDoneReviewTasks,
      School(school).Int(ClampLimit(limit)), Plain(ReadReviewTask));
}

Result<std::vector<ports::SubjectAssignmentRow>> PostgresStore::ListSubjectAssignments(
    const SchoolId& school) {
  return impl_->All<ports::SubjectAssignmentRow>(impl_->data(), sql::kListSubjectAssignments,
                                                 School(school), Plain(ReadSubjectAssignment));
}

Result<std::vector<ports::AccessGrantRow>> PostgresStore::AccessGrantsEndingAfter(
    const SchoolId& school, Timestamp after) {
  return impl_->All<ports::AccessGrantRow>(impl_->data(), sql::kAccessGrantsEndingAfter,
                                           School(school).Time(after), Plain(ReadAccessGrant));
}

Result<std::optional<ports::GuardianshipRow>> PostgresStore::GetGuardianship(
    const SchoolId& school, const std::string& id) {
  return impl_->One<ports::GuardianshipRow>(impl_->data(), sql::kGetGuardianship, Pair(school, id),
                                            Plain(ReadGuardianship));
}

Result<std::vector<ports::GuardianshipRow>> PostgresStore::MinorGuardianships(
    const SchoolId& school, const SubjectId& minor) {
  return impl_->All<ports::GuardianshipRow>(impl_->data(), sql::kMinorGuardianships,
                                            Pair(school, minor.value()), Plain(ReadGuardianship));
}

Result<std::vector<ports::GuardianshipRow>> PostgresStore::GuardianshipsByEmail(
    const SchoolId& school, const std::string& email_token) {
  return impl_->All<ports::GuardianshipRow>(impl_->data(), sql::kGuardianshipsByEmail,
                                            Pair(school, email_token), Plain(ReadGuardianship));
}

Status PostgresStore::ForEachGuardianship(
    const SchoolId& school, const std::function<void(const ports::GuardianshipRow&)>& fn) {
  return impl_->Each<ports::GuardianshipRow>(impl_->data(), sql::kForEachGuardianship,
                                             School(school), Plain(ReadGuardianship),
                                             [&](const ports::GuardianshipRow& row) {
                                               fn(row);
                                               return true;
                                             });
}

Result<std::vector<ports::GuardianshipRow>> PostgresStore::DueMajorities(const SchoolId& school,
                                                                         Timestamp at,
                                                                         size_t limit) {
  return impl_->All<ports::GuardianshipRow>(impl_->data(), sql::kDueMajorities,
                                            School(school).Time(at).Int(ClampLimit(limit)),
                                            Plain(ReadGuardianship));
}

Result<std::vector<ports::SubjectEventRow>> PostgresStore::GetSubjectEvents(
    const SchoolId& school, const SubjectId& subject) {
  return impl_->All<ports::SubjectEventRow>(impl_->data(), sql::kGetSubjectEvents,
                                            Pair(school, subject.value()), Plain(ReadSubjectEvent));
}

Result<std::vector<ports::RetentionDueRow>> PostgresStore::SubjectRetention(
    const SchoolId& school, const SubjectId& subject) {
  return impl_->All<ports::RetentionDueRow>(impl_->data(), sql::kSubjectRetention,
                                            Pair(school, subject.value()), Plain(ReadRetentionDue));
}

Result<std::vector<ports::RetentionDueRow>> PostgresStore::DueRetention(
    const SchoolId& school, const std::string& through, const std::string& after_date,
    const std::string& after_subject, const std::string& after_purpose, size_t limit) {
  if (limit == 0) return std::vector<ports::RetentionDueRow>{};
  return impl_->All<ports::RetentionDueRow>(impl_->data(), sql::kDueRetention,
                                            Pair(school, through)
                                                .Text(after_date)
                                                .Text(after_subject)
                                                .Text(after_purpose)
                                                .Int(ClampLimit(limit)),
                                            Plain(ReadRetentionDue));
}

Status PostgresStore::ForEachEndedRetention(
    const SchoolId& school, const std::function<void(const ports::RetentionDueRow&)>& fn) {
  return impl_->Each<ports::RetentionDueRow>(impl_->data(), sql::kForEachEndedRetention,
                                             School(school), Plain(ReadRetentionDue),
                                             [&](const ports::RetentionDueRow& row) {
                                               fn(row);
                                               return true;
                                             });
}

Result<std::optional<Timestamp>> PostgresStore::GetRetentionMark(const SchoolId& school) {
  return impl_->One<Timestamp>(
      impl_->data(), sql::kGetRetentionMark, School(school),
      [](const Rows& r, int i) -> Result<Timestamp> { return r.Time(i, 0); });
}

Result<std::vector<SubjectId>> PostgresStore::SubjectsChangedBetween(const SchoolId& school,
                                                                     Timestamp since,
                                                                     Timestamp until) {
  return impl_->All<SubjectId>(
      impl_->data(), sql::kSubjectsChangedBetween, School(school).Time(since).Time(until),
      [](const Rows& r, int i) -> Result<SubjectId> { return SubjectId(r.Text(i, 0)); });
}

}  // namespace dovira::postgres
