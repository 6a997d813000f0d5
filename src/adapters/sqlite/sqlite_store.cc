#include "adapters/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/sqlite/connection.h"
#include "adapters/sqlite/json_list.h"
#include "adapters/sqlite/migrations.h"
#include "adapters/sqlite/queries.h"

namespace dovira::sqlite {
namespace {

using ports::ApiKeyRow;
using ports::AuditRow;
using ports::CheckpointRow;
using ports::ConsentRow;
using ports::CookieConsentRow;
using ports::DisclosureFilter;
using ports::DisclosureRow;
using ports::RecipientContactRow;
using ports::LegalHoldRow;
using ports::LookupRow;
using ports::OutboxRow;
using ports::RequestEventRow;
using ports::RequestRow;
using ports::TombstoneRow;
using ports::PolicyVersionRow;
using ports::RecordRow;
using ports::SchoolRow;
using ports::SessionRow;
using ports::SubjectSessionRow;
using ports::StaffRow;
using ports::SubjectKeyRow;
using ports::SubjectRow;
using ports::WriteBatch;

constexpr int kBusyTimeoutMs = 5000;

// Waits up to `ms` for a lock another connection holds, polling every quarter millisecond.
// SQLite's own busy timeout sleeps in steps of up to 100 ms; a process waiting beside a server
// that commits group after group then keeps missing the moments the write lock is free, and an
// operator command on a live directory fails with "database is locked" although the lock was free
// thousands of times. Short polls find those moments.
int PollWhileBusy(void* arg, int count) {
  constexpr int64_t kStepUs = 250;
  const int64_t limit_us = static_cast<int64_t>(reinterpret_cast<intptr_t>(arg)) * 1000;
  if (static_cast<int64_t>(count) * kStepUs >= limit_us) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(kStepUs));
  return 1;
}

void WaitWhenBusy(sqlite3* db, int ms) {
  if (ms <= 0) {
    sqlite3_busy_timeout(db, 0);  // no handler: SQLITE_BUSY at once
    return;
  }
  sqlite3_busy_handler(db, &PollWhileBusy, reinterpret_cast<void*>(static_cast<intptr_t>(ms)));
}
// While truncating the key vault's WAL, wait at most this long for readers.
constexpr int kVaultCheckpointWaitMs = 100;

constexpr char kDataFile[] = "data.db";
constexpr char kKeysFile[] = "keys.db";

// Erasure of a subject, in this order inside one savepoint or transaction: mark, delete every row
// of the subject, unmark (see queries.h). Used by batches and by the tombstone replay alike, so a
// restored backup loses the same rows an erasure removes (B09).
constexpr const char* kErasureSteps[] = {
    sql::kMarkErasure,          sql::kEraseRecords,      sql::kEraseConsents,
    sql::kEraseLookups,         sql::kEraseSubjectSessions, sql::kEraseSubscriptionConfirmations,
    sql::kEraseDisclosures,
    sql::kEraseLegalHolds,      sql::kEraseGuardianships,   sql::kEraseSubjectEvents,
    sql::kEraseRetentionDue,    sql::kEraseAccessGrants,    sql::kEraseSubjectAssignments,
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

// --- Rows, read by the column orders documented in queries.h -------------------------------------

SchoolRow ReadSchool(const Statement& s) {
  SchoolRow r;
  r.id = SchoolId(s.Text(0));
  r.name = s.Text(1);
  r.active_policy_version = s.Text(2);
  r.created_at = s.Time(3);
  return r;
}

PolicyVersionRow ReadPolicyVersion(const Statement& s) {
  PolicyVersionRow r;
  r.school = SchoolId(s.Text(0));
  r.version_id = s.Text(1);
  r.text = s.Text(2);
  r.sha256 = s.Text(3);
  r.effective_date = s.Text(4);
  r.published_at = s.Time(5);
  return r;
}

SubjectRow ReadSubject(const Statement& s) {
  SubjectRow r;
  r.school = SchoolId(s.Text(0));
  r.id = SubjectId(s.Text(1));
  r.kind = s.Text(2);
  r.pseudonym = s.Text(3);
  r.policy_version = s.Text(4);
  r.channel = s.Text(5);
  r.form = s.Text(6);
  r.source = s.Text(7);
  r.state = s.Text(8);
  if (std::optional<std::string> g = s.OptionalText(9)) r.guardian = SubjectId(std::move(*g));
  r.sealed_profile = s.Blob(10);
  r.created_at = s.Time(11);
  r.updated_at = s.Time(12);
  r.gate_version = s.Int(13);
  return r;
}

int64_t ReadFirstInt(const Statement& s) { return s.Int(0); }

SubjectKeyRow ReadSubjectKey(const Statement& s) {
  SubjectKeyRow r;
  r.school = SchoolId(s.Text(0));
  r.subject = SubjectId(s.Text(1));
  r.kek_id = s.Text(2);
  r.wrapped_key = s.Blob(3);
  r.created_at = s.Time(4);
  return r;
}

RecordRow ReadRecord(const Statement& s) {
  RecordRow r;
  r.school = SchoolId(s.Text(0));
  r.id = RecordId(s.Text(1));
  r.subject = SubjectId(s.Text(2));
  r.store = s.Text(3);
  r.field = s.Text(4);
  r.category = s.Text(5);
  r.sealed_value = s.Blob(6);
  r.source = s.Text(7);
  r.channel = s.Text(8);
  r.form = s.Text(9);
  r.policy_version = s.Text(10);
  r.collected_at = s.Time(11);
  r.updated_at = s.Time(12);
  return r;
}

Result<ConsentRow> ReadConsent(const Statement& s) {
  ConsentRow r;
  r.school = SchoolId(s.Text(0));
  r.id = ConsentId(s.Text(1));
  r.subject = SubjectId(s.Text(2));
  r.consent_type = s.Text(3);
  Result<std::vector<std::string>> grants = DecodeJsonList(s.Text(4));
  if (!grants.ok()) return grants.error();
  r.grants = std::move(*grants);
  r.action = s.Text(5);
  r.policy_version = s.Text(6);
  r.text = s.Text(7);
  r.text_sha256 = s.Text(8);
  r.lang = s.Text(9);
  r.channel = s.Text(10);
  r.form = s.Text(11);
  r.checkbox = s.Text(12);
  r.given_by = s.Text(13);
  if (std::optional<std::string> g = s.OptionalText(14)) r.guardian = SubjectId(std::move(*g));
  r.evidence = s.Text(15);
  r.at = s.Time(16);
  r.expires_at = s.OptionalTime(17);
  return r;
}

Result<CookieConsentRow> ReadCookieConsent(const Statement& s) {
  CookieConsentRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.choice = s.Text(2);
  Result<std::vector<std::string>> accepted = DecodeJsonList(s.Text(3));
  if (!accepted.ok()) return accepted.error();
  r.accepted = std::move(*accepted);
  Result<std::vector<std::string>> rejected = DecodeJsonList(s.Text(4));
  if (!rejected.ok()) return rejected.error();
  r.rejected = std::move(*rejected);
  r.policy_version = s.Text(5);
  r.gpc = s.Bool(6);
  r.lang = s.Text(7);
  r.ip = s.Text(8);
  r.user_agent_sha256 = s.Text(9);
  r.at = s.Time(10);
  r.expires_at = s.Time(11);
  return r;
}

ports::VisitRow ReadVisit(const Statement& s) {
  ports::VisitRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.day = s.Text(2);
  r.hour = static_cast<int>(s.Int(3));
  r.network = s.Text(4);
  r.browser = s.Text(5);
  r.os = s.Text(6);
  r.page = s.Text(7);
  r.referrer_domain = s.Text(8);
  return r;
}

Result<DisclosureRow> ReadDisclosure(const Statement& s) {
  DisclosureRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.subject = SubjectId(s.Text(2));
  r.recipient = s.Text(3);
  r.at = s.Time(4);
  Result<std::vector<std::string>> fields = DecodeJsonList(s.Text(5));
  if (!fields.ok()) return fields.error();
  r.fields = std::move(*fields);
  Result<std::vector<std::string>> categories = DecodeJsonList(s.Text(6));
  if (!categories.ok()) return categories.error();
  r.categories = std::move(*categories);
  r.purpose = s.Text(7);
  r.basis = s.Text(8);
  r.safeguard = s.Text(9);
  r.country = s.Text(10);
  r.actor = s.Text(11);
  r.request = s.Text(12);
  r.detail = s.Text(13);
  r.recorded_at = s.Time(14);
  return r;
}

Result<LegalHoldRow> ReadLegalHold(const Statement& s) {
  LegalHoldRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.subject = SubjectId(s.Text(2));
  Result<std::vector<std::string>> fields = DecodeJsonList(s.Text(3));
  if (!fields.ok()) return fields.error();
  r.fields = std::move(*fields);
  Result<std::vector<std::string>> categories = DecodeJsonList(s.Text(4));
  if (!categories.ok()) return categories.error();
  r.categories = std::move(*categories);
  r.reason = s.Text(5);
  r.basis = s.Text(6);
  r.until = s.Text(7);
  r.state = s.Text(8);
  r.request = s.Text(9);
  r.notify_subject = s.Bool(10);
  r.created_at = s.Time(11);
  r.created_by = s.Text(12);
  r.closed_at = s.OptionalTime(13);
  r.closed_by = s.Text(14);
  r.close_reason = s.Text(15);
  r.settled_at = s.OptionalTime(16);
  return r;
}

RecipientContactRow ReadRecipientContact(const Statement& s) {
  RecipientContactRow r;
  r.school = SchoolId(s.Text(0));
  r.recipient = s.Text(1);
  r.sealed = s.Blob(2);
  r.updated_at = s.Time(3);
  r.updated_by = s.Text(4);
  return r;
}

AuditRow ReadAudit(const Statement& s) {
  AuditRow r;
  r.school = SchoolId(s.Text(0));
  r.seq = s.Int(1);
  r.at = s.Time(2);
  r.actor = s.Text(3);
  r.role = s.Text(4);
  r.action = s.Text(5);
  r.subject_ref = s.Text(6);
  r.purpose = s.Text(7);
  r.fields = s.Text(8);
  r.outcome = s.Text(9);
  r.reason = s.Text(10);
  r.decision_id = s.Text(11);
  r.request_id = s.Text(12);
  r.detail = s.Text(13);
  r.prev_hash = s.Text(14);
  r.hash = s.Text(15);
  return r;
}

RequestRow ReadRequest(const Statement& s) {
  RequestRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.type = s.Text(2);
  r.state = s.Text(3);
  r.subject = s.Text(4);
  r.open = s.Bool(5);
  r.overdue = s.Bool(6);
  r.assignee = s.Text(7);
  r.received_at = s.Time(8);
  r.due_at = s.Time(9);
  r.updated_at = s.Time(10);
  r.body = s.Text(11);
  r.sealed = s.Blob(12);
  return r;
}

RequestEventRow ReadRequestEvent(const Statement& s) {
  RequestEventRow r;
  r.school = SchoolId(s.Text(0));
  r.request = s.Text(1);
  r.seq = s.Int(2);
  r.at = s.Time(3);
  r.actor = s.Text(4);
  r.kind = s.Text(5);
  r.body = s.Text(6);
  r.sealed = s.Blob(7);
  return r;
}

OutboxRow ReadOutbox(const Statement& s) {
  OutboxRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.request = s.Text(2);
  r.channel = s.Text(3);
  r.state = s.Text(4);
  r.attempts = static_cast<int>(s.Int(5));
  r.created_at = s.Time(6);
  r.next_attempt_at = s.Time(7);
  r.sent_at = s.OptionalTime(8);
  r.last_error = s.Text(9);
  r.body = s.Text(10);
  r.sealed = s.Blob(11);
  return r;
}

TombstoneRow ReadTombstone(const Statement& s) {
  TombstoneRow r;
  r.school = SchoolId(s.Text(0));
  r.subject = SubjectId(s.Text(1));
  r.pseudonym = s.Text(2);
  r.ground = s.Text(3);
  r.request = s.Text(4);
  r.at = s.Time(5);
  return r;
}

CheckpointRow ReadCheckpoint(const Statement& s) {
  CheckpointRow r;
  r.school = SchoolId(s.Text(0));
  r.seq = s.Int(1);
  r.hash = s.Text(2);
  r.signature = s.Text(3);
  r.public_key = s.Text(4);
  r.at = s.Time(5);
  return r;
}

StaffRow ReadStaff(const Statement& s) {
  StaffRow r;
  r.school = SchoolId(s.Text(0));
  r.id = StaffId(s.Text(1));
  r.name = s.Text(2);
  r.email = s.Text(3);
  r.role = s.Text(4);
  r.password_hash = s.Text(5);
  r.password_set_at = s.Time(6);
  r.must_change_password = s.Bool(7);
  r.sealed_totp_secret = s.Blob(8);
  r.totp_enabled = s.Bool(9);
  r.failed_attempts = static_cast<int>(s.Int(10));
  r.locked_until = s.OptionalTime(11);
  r.briefing_completed_at = s.OptionalTime(12);
  r.left_at = s.OptionalTime(13);
  r.created_at = s.Time(14);
  r.totp_last_step = s.Int(15);
  // A list that does not decode holds no usable code: recovery then needs an administrator.
  if (auto codes = DecodeJsonList(s.Text(16)); codes.ok()) r.recovery_codes = std::move(*codes);
  r.organisation = s.Text(17);
  return r;
}

ports::SubscriptionConfirmationRow ReadSubscriptionConfirmation(const Statement& s) {
  ports::SubscriptionConfirmationRow r;
  r.token_hash = s.Text(0);
  r.school = SchoolId(s.Text(1));
  r.subject = SubjectId(s.Text(2));
  r.state = s.Text(3);
  r.consent = s.Text(4);
  r.created_at = s.Time(5);
  r.expires_at = s.Time(6);
  r.confirmed_at = s.OptionalTime(7);
  return r;
}

SubjectSessionRow ReadSubjectSession(const Statement& s) {
  SubjectSessionRow r;
  r.token_hash = s.Text(0);
  r.school = SchoolId(s.Text(1));
  r.subject = SubjectId(s.Text(2));
  r.state = s.Text(3);
  r.code_hash = s.Text(4);
  r.attempts = static_cast<int>(s.Int(5));
  r.csrf_token = s.Text(6);
  r.created_at = s.Time(7);
  r.expires_at = s.Time(8);
  r.email_token = s.Text(9);
  r.acting_for = s.Text(10);
  return r;
}

ports::GuardianshipRow ReadGuardianship(const Statement& s) {
  ports::GuardianshipRow r;
  r.school = SchoolId(s.Text(0));
  r.id = s.Text(1);
  r.minor = SubjectId(s.Text(2));
  r.email_token = s.Text(3);
  r.state = s.Text(4);
  r.method = s.Text(5);
  r.verified_at = s.OptionalTime(6);
  r.verified_by = s.Text(7);
  r.majority_at = s.OptionalTime(8);
  r.reconsent = s.Text(9);
  r.reconsent_at = s.OptionalTime(10);
  r.decided_at = s.OptionalTime(11);
  r.body = s.Text(12);
  r.sealed = s.Blob(13);
  r.created_at = s.Time(14);
  r.updated_at = s.Time(15);
  return r;
}

SessionRow ReadSession(const Statement& s) {
  SessionRow r;
  r.token_hash = s.Text(0);
  r.school = SchoolId(s.Text(1));
  r.staff = StaffId(s.Text(2));
  r.csrf_token = s.Text(3);
  r.mfa_passed = s.Bool(4);
  r.created_at = s.Time(5);
  r.expires_at = s.Time(6);
  return r;
}

Result<ApiKeyRow> ReadApiKey(const Statement& s) {
  ApiKeyRow r;
  r.school = SchoolId(s.Text(0));
  r.id = ApiKeyId(s.Text(1));
  r.name = s.Text(2);
  r.key_hash = s.Text(3);
  r.role = s.Text(4);
  Result<std::vector<std::string>> purposes = DecodeJsonList(s.Text(5));
  if (!purposes.ok()) return purposes.error();
  r.purposes = std::move(*purposes);
  r.created_at = s.Time(6);
  r.revoked_at = s.OptionalTime(7);
  r.created_by = s.Text(8);
  return r;
}

// --- Read connections ----------------------------------------------------------------------------

// Read-only connections to one database. Keeps up to `keep` idle connections; when none is idle it
// opens another, so nested reads (a read inside a ForEach callback) never wait for each other.
class ReaderPool {
 public:
  ReaderPool(std::string path, std::string label, int keep)
      : path_(std::move(path)), label_(std::move(label)), keep_(static_cast<size_t>(keep)) {}

  // A connection lent for one read; goes back to the pool when destroyed.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection& conn() { return *conn_; }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Returns kUnavailable when a new connection cannot be opened.
  Result<Lease> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
    }
    Result<std::unique_ptr<Connection>> conn = OpenOne();
    if (!conn.ok()) return conn.error();
    return Lease(this, std::move(*conn));
  }

  // Opens the connections to keep, so that a broken file is reported by Open. Returns
  // kUnavailable when one cannot be opened.
  Status Warm() {
    std::vector<std::unique_ptr<Connection>> opened;
    for (size_t i = 0; i < std::max<size_t>(keep_, 1); ++i) {
      Result<std::unique_ptr<Connection>> conn = OpenOne();
      if (!conn.ok()) return conn.error();
      opened.push_back(std::move(*conn));
    }
    for (auto& conn : opened) Release(std::move(conn));
    return Status::Ok();
  }

 private:
  Result<std::unique_ptr<Connection>> OpenOne() {
    Result<std::unique_ptr<Connection>> conn = Connection::Open(path_, label_, /*read_only=*/true);
    if (!conn.ok()) return conn.error();
    WaitWhenBusy((*conn)->handle(), kBusyTimeoutMs);
    int rc = (*conn)->Exec(sql::kTrustedSchemaOff);
    if (rc != SQLITE_OK) return (*conn)->StorageError("cannot configure a reader", rc);
    return conn;
  }

  void Release(std::unique_ptr<Connection> conn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < keep_) idle_.push_back(std::move(conn));
    // Otherwise `conn` closes here.
  }

  const std::string path_;
  const std::string label_;
  const size_t keep_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// --- Writing -------------------------------------------------------------------------------------

// Why one statement of a batch failed: a broken rule (the batch alone fails) or storage (the
// whole group fails).
struct WriteFailure {
  bool storage = false;
  Error error;
};
using WriteOutcome = std::optional<WriteFailure>;  // nullopt: success

WriteOutcome Classify(const Connection& conn, int rc, const char* part, size_t index) {
  const std::string where =
      "write batch rejected: " + std::string(part) + "[" + std::to_string(index) + "]: ";
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: {
      std::string what;
      switch (rc) {
        case SQLITE_CONSTRAINT_PRIMARYKEY:
        case SQLITE_CONSTRAINT_UNIQUE:
          what = "a row with the same key already exists";
          break;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
          what = "it refers to a subject that does not exist";
          break;
        case SQLITE_CONSTRAINT_TRIGGER:
          what = conn.ErrorMessage();  // the RAISE text of our own trigger
          break;
        case SQLITE_CONSTRAINT_NOTNULL:
        case SQLITE_CONSTRAINT_CHECK:
        case SQLITE_CONSTRAINT_DATATYPE:
          what = "an identifier is empty or a value is not allowed";
          break;
        default:
          what = "a storage rule was broken";
      }
      return WriteFailure{false, Error{ErrorCode::kFailedPrecondition, where + what, part}};
    }
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return WriteFailure{false, Error::Invalid(where + "a value is too large to store", part)};
    default:
      return WriteFailure{true, conn.StorageError("write failed", rc)};
  }
}

// Runs one write statement: `bind` binds its parameters. With `when_key_taken`, a row whose
// primary key is taken runs that statement instead, with the same parameters (RunUpsert).
template <typename Bind>
WriteOutcome RunWrite(Connection& conn, const char* sql_text, const char* part, size_t index,
                      Bind&& bind, const char* when_key_taken = nullptr) {
  Result<Statement*> stmt = conn.Prepare(sql_text);
  if (!stmt.ok()) return WriteFailure{true, stmt.error()};
  Statement& s = **stmt;
  ScopedReset reset(&s);
  bind(s);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (when_key_taken != nullptr &&
      (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)) {
    if (WriteOutcome failed = RunWrite(conn, when_key_taken, part, index, bind)) return failed;
    // No row of this key to update: the key taken was another unique index's.
    if (sqlite3_changes(conn.handle()) == 0) return Classify(conn, rc, part, index);
    return std::nullopt;
  }
  return Classify(conn, rc, part, index);
}

// An upsert as a plain INSERT and, when the row's key is taken, an UPDATE with the same
// parameters (both numbered ?1..?N). INSERT ... ON CONFLICT DO UPDATE may write several rows, so
// inside a transaction SQLite gives it a statement journal and copies there every page it is
// about to change, once per statement: a batch of a thousand new subjects wrote ~225 pages of
// 4 KiB per subject to a temporary file. A plain single-row INSERT needs no statement journal (it
// checks the key before it writes), and most upserts here insert.
template <typename Bind>
WriteOutcome RunUpsert(Connection& conn, const char* insert_sql, const char* update_sql,
                       const char* part, size_t index, Bind&& bind) {
  return RunWrite(conn, insert_sql, part, index, bind, update_sql);
}

// Runs a statement without parameters (BEGIN, SAVEPOINT, ...). Returns the SQLite result code.
int RunPlain(Connection& conn, const char* sql_text) {
  Result<Statement*> stmt = conn.Prepare(sql_text);
  if (!stmt.ok()) {
    int rc = conn.ExtendedErrorCode();
    return rc != SQLITE_OK ? rc : SQLITE_ERROR;
  }
  Statement& s = **stmt;
  ScopedReset reset(&s);
  int rc = s.Step();
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

bool HasKeyParts(const WriteBatch& b) {
  return !b.subject_keys.empty() || !b.destroyed_keys.empty() || !b.tombstones.empty() ||
         !b.audit_anchors.empty();
}

void BindSchoolSubject(Statement& s, const SchoolId& school, const SubjectId& subject) {
  s.BindText(1, school.value());
  s.BindText(2, subject.value());
}

// kCheckpointColumns (see queries.h): checkpoints in data.db and audit anchors in keys.db.
void BindCheckpoint(Statement& s, const CheckpointRow& r) {
  s.BindText(1, r.school.value());
  s.BindInt(2, r.seq);
  s.BindText(3, r.hash);
  s.BindText(4, r.signature);
  s.BindText(5, r.public_key);
  s.BindTime(6, r.at);
}

// The key-vault part of a batch, on keys.db. New and replaced keys first, then destroyed ones,
// so a batch that does both for one subject leaves no key.
WriteOutcome ApplyKeyParts(Connection& db, const WriteBatch& b) {
  for (size_t i = 0; i < b.subject_keys.size(); ++i) {
    const SubjectKeyRow& r = b.subject_keys[i];
    if (auto f = RunWrite(db, sql::kUpsertSubjectKey, "subject_keys", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.subject.value());
          s.BindText(3, r.kek_id);
          s.BindBlob(4, r.wrapped_key);
          s.BindTime(5, r.created_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.destroyed_keys.size(); ++i) {
    // (Not a structured binding: clang before 16 cannot capture one in a lambda.)
    const std::pair<SchoolId, SubjectId>& key = b.destroyed_keys[i];
    auto bind = [&](Statement& s) { BindSchoolSubject(s, key.first, key.second); };
    if (auto f = RunWrite(db, sql::kZeroSubjectKey, "destroyed_keys", i, bind)) return f;
    if (auto f = RunWrite(db, sql::kDeleteSubjectKey, "destroyed_keys", i, bind)) return f;
  }
  for (size_t i = 0; i < b.tombstones.size(); ++i) {
    const TombstoneRow& r = b.tombstones[i];
    if (auto f = RunWrite(db, sql::kInsertTombstone, "tombstones", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.subject.value());
          s.BindText(3, r.pseudonym);
          s.BindText(4, r.ground);
          s.BindText(5, r.request);
          s.BindTime(6, r.at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.audit_anchors.size(); ++i) {
    if (auto f = RunWrite(db, sql::kUpsertAuditAnchor, "audit_anchors", i,
                          [&](Statement& s) { BindCheckpoint(s, b.audit_anchors[i]); })) {
      return f;
    }
  }
  return std::nullopt;
}

// The data part of a batch, on data.db, in dependency order: parents before the rows that refer
// to them, erasure before the rows added after it.
WriteOutcome ApplyDataParts(Connection& db, const WriteBatch& b) {
  for (size_t i = 0; i < b.schools.size(); ++i) {
    const SchoolRow& r = b.schools[i];
    if (auto f = RunWrite(db, sql::kUpsertSchool, "schools", i, [&](Statement& s) {
          s.BindText(1, r.id.value());
          s.BindText(2, r.name);
          s.BindText(3, r.active_policy_version);
          s.BindTime(4, r.created_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.policy_versions.size(); ++i) {
    const PolicyVersionRow& r = b.policy_versions[i];
    if (auto f = RunWrite(db, sql::kInsertPolicyVersion, "policy_versions", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.version_id);
          s.BindText(3, r.text);
          s.BindText(4, r.sha256);
          s.BindText(5, r.effective_date);
          s.BindTime(6, r.published_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.subjects.size(); ++i) {
    const SubjectRow& r = b.subjects[i];
    if (auto f = RunUpsert(db, sql::kInsertSubject, sql::kUpdateSubject, "subjects", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id.value());
          s.BindText(3, r.kind);
          s.BindText(4, r.pseudonym);
          s.BindText(5, r.policy_version);
          s.BindText(6, r.channel);
          s.BindText(7, r.form);
          s.BindText(8, r.source);
          s.BindText(9, r.state);
          s.BindOptionalText(10, OptionalId(r.guardian));
          s.BindBlob(11, r.sealed_profile);
          s.BindTime(12, r.created_at);
          s.BindTime(13, r.updated_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.records.size(); ++i) {
    const RecordRow& r = b.records[i];
    if (auto f = RunUpsert(db, sql::kInsertRecord, sql::kUpdateRecord, "records", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id.value());
          s.BindText(3, r.subject.value());
          s.BindText(4, r.store);
          s.BindText(5, r.field);
          s.BindText(6, r.category);
          s.BindBlob(7, r.sealed_value);
          s.BindText(8, r.source);
          s.BindText(9, r.channel);
          s.BindText(10, r.form);
          s.BindText(11, r.policy_version);
          s.BindTime(12, r.collected_at);
          s.BindTime(13, r.updated_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.deleted_records.size(); ++i) {
    const std::pair<SchoolId, RecordId>& record = b.deleted_records[i];
    if (auto f = RunWrite(db, sql::kDeleteRecord, "deleted_records", i, [&](Statement& s) {
          s.BindText(1, record.first.value());
          s.BindText(2, record.second.value());
        })) {
      return f;
    }
  }
  // Assignments to outside organisations (R86), as break-glass grants, before erasure.
  for (size_t i = 0; i < b.subject_assignments.size(); ++i) {
    const ports::SubjectAssignmentRow& r = b.subject_assignments[i];
    if (auto f = RunWrite(db, sql::kUpsertSubjectAssignment, "subject_assignments", i,
                          [&](Statement& s) {
                            s.BindText(1, r.school.value());
                            s.BindText(2, r.organisation);
                            s.BindText(3, r.subject.value());
                            s.BindText(4, r.reference);
                            s.BindText(5, r.assigned_by);
                            s.BindTime(6, r.assigned_at);
                          })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.ended_assignments.size(); ++i) {
    const ports::SubjectAssignmentRow& r = b.ended_assignments[i];
    if (auto f = RunWrite(db, sql::kDeleteSubjectAssignment, "ended_assignments", i,
                          [&](Statement& s) {
                            s.BindText(1, r.school.value());
                            s.BindText(2, r.organisation);
                            s.BindText(3, r.subject.value());
                          })) {
      return f;
    }
  }
  // Break-glass grants, as legal holds, before erasure.
  for (size_t i = 0; i < b.access_grants.size(); ++i) {
    const ports::AccessGrantRow& r = b.access_grants[i];
    if (auto f = RunWrite(db, sql::kInsertAccessGrant, "access_grants", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.staff.value());
          s.BindText(4, r.subject.value());
          s.BindText(5, r.category);
          s.BindText(6, r.purpose);
          s.BindText(7, r.reason);
          s.BindText(8, r.granted_by);
          s.BindTime(9, r.granted_at);
          s.BindTime(10, r.expires_at);
        })) {
      return f;
    }
  }
  // Policy review tasks (R117): no link to a subject.
  for (size_t i = 0; i < b.review_tasks.size(); ++i) {
    const ports::ReviewTaskRow& r = b.review_tasks[i];
    if (auto f = RunWrite(db, sql::kUpsertReviewTask, "review_tasks", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.reason);
          s.BindText(4, r.law_change);
          s.BindText(5, r.law);
          s.BindText(6, r.due_date);
          s.BindTime(7, r.due_at);
          s.BindText(8, r.assignee);
          s.BindTime(9, r.created_at);
          s.BindText(10, r.created_by);
          s.BindOptionalTime(11, r.done_at);
          s.BindText(12, r.done_by);
          s.BindText(13, r.summary);
          s.BindOptionalTime(14, r.overdue_at);
          s.BindInt(15, r.late_by_days);
        })) {
      return f;
    }
  }
  // Legal holds before erasure, so that an erasure in the same batch takes them along.
  for (size_t i = 0; i < b.legal_holds.size(); ++i) {
    const LegalHoldRow& r = b.legal_holds[i];
    if (auto f = RunWrite(db, sql::kUpsertLegalHold, "legal_holds", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.subject.value());
          s.BindText(4, EncodeJsonList(r.fields));
          s.BindText(5, EncodeJsonList(r.categories));
          s.BindText(6, r.reason);
          s.BindText(7, r.basis);
          s.BindText(8, r.until);
          s.BindText(9, r.state);
          s.BindText(10, r.request);
          s.BindInt(11, r.notify_subject ? 1 : 0);
          s.BindTime(12, r.created_at);
          s.BindText(13, r.created_by);
          s.BindOptionalTime(14, r.closed_at);
          s.BindText(15, r.closed_by);
          s.BindText(16, r.close_reason);
          s.BindOptionalTime(17, r.settled_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.deleted_field_lookups.size(); ++i) {
    const LookupRow& r = b.deleted_field_lookups[i];
    if (auto f = RunWrite(db, sql::kDeleteSubjectLookups, "deleted_field_lookups", i,
                          [&](Statement& s) {
                            s.BindText(1, r.school.value());
                            s.BindText(2, r.subject.value());
                            s.BindText(3, r.field);
                          })) {
      return f;
    }
  }
  // Erasure: mark, delete every row of the subject, unmark (see queries.h). The marker never
  // outlives this savepoint: on failure the savepoint is rolled back with it.
  for (size_t i = 0; i < b.erased_subjects.size(); ++i) {
    const std::pair<SchoolId, SubjectId>& subject = b.erased_subjects[i];
    auto bind = [&](Statement& s) { BindSchoolSubject(s, subject.first, subject.second); };
    for (const char* step : kErasureSteps) {
      if (auto f = RunWrite(db, step, "erased_subjects", i, bind)) return f;
    }
  }
  for (size_t i = 0; i < b.consents.size(); ++i) {
    const ConsentRow& r = b.consents[i];
    if (auto f = RunWrite(db, sql::kInsertConsent, "consents", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id.value());
          s.BindText(3, r.subject.value());
          s.BindText(4, r.consent_type);
          s.BindText(5, EncodeJsonList(r.grants));
          s.BindText(6, r.action);
          s.BindText(7, r.policy_version);
          s.BindText(8, r.text);
          s.BindText(9, r.text_sha256);
          s.BindText(10, r.lang);
          s.BindText(11, r.channel);
          s.BindText(12, r.form);
          s.BindText(13, r.checkbox);
          s.BindText(14, r.given_by);
          s.BindOptionalText(15, OptionalId(r.guardian));
          s.BindText(16, r.evidence);
          s.BindTime(17, r.at);
          s.BindOptionalTime(18, r.expires_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.deleted_lookups.size(); ++i) {
    const LookupRow& r = b.deleted_lookups[i];
    if (auto f = RunWrite(db, sql::kDeleteLookup, "deleted_lookups", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.field);
          s.BindText(3, r.token);
          s.BindText(4, r.subject.value());
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.lookups.size(); ++i) {
    const LookupRow& r = b.lookups[i];
    if (auto f = RunUpsert(db, sql::kInsertLookup, sql::kUpdateLookup, "lookups", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.field);
          s.BindText(3, r.token);
          s.BindText(4, r.subject.value());
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.audit.size(); ++i) {
    const AuditRow& r = b.audit[i];
    if (auto f = RunWrite(db, sql::kInsertAudit, "audit", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindInt(2, r.seq);
          s.BindTime(3, r.at);
          s.BindText(4, r.actor);
          s.BindText(5, r.role);
          s.BindText(6, r.action);
          s.BindText(7, r.subject_ref);
          s.BindText(8, r.purpose);
          s.BindText(9, r.fields);
          s.BindText(10, r.outcome);
          s.BindText(11, r.reason);
          s.BindText(12, r.decision_id);
          s.BindText(13, r.request_id);
          s.BindText(14, r.detail);
          s.BindText(15, r.prev_hash);
          s.BindText(16, r.hash);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.checkpoints.size(); ++i) {
    if (auto f = RunWrite(db, sql::kInsertCheckpoint, "checkpoints", i,
                          [&](Statement& s) { BindCheckpoint(s, b.checkpoints[i]); })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.staff.size(); ++i) {
    const StaffRow& r = b.staff[i];
    if (auto f = RunWrite(db, sql::kUpsertStaff, "staff", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id.value());
          s.BindText(3, r.name);
          s.BindText(4, r.email);
          s.BindText(5, r.role);
          s.BindText(6, r.password_hash);
          s.BindTime(7, r.password_set_at);
          s.BindBool(8, r.must_change_password);
          s.BindBlob(9, r.sealed_totp_secret);
          s.BindBool(10, r.totp_enabled);
          s.BindInt(11, r.failed_attempts);
          s.BindOptionalTime(12, r.locked_until);
          s.BindOptionalTime(13, r.briefing_completed_at);
          s.BindOptionalTime(14, r.left_at);
          s.BindTime(15, r.created_at);
          s.BindInt(16, r.totp_last_step);
          s.BindText(17, EncodeJsonList(r.recovery_codes));
          s.BindText(18, r.organisation);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.sessions.size(); ++i) {
    const SessionRow& r = b.sessions[i];
    if (auto f = RunWrite(db, sql::kUpsertSession, "sessions", i, [&](Statement& s) {
          s.BindText(1, r.token_hash);
          s.BindText(2, r.school.value());
          s.BindText(3, r.staff.value());
          s.BindText(4, r.csrf_token);
          s.BindBool(5, r.mfa_passed);
          s.BindTime(6, r.created_at);
          s.BindTime(7, r.expires_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.deleted_sessions.size(); ++i) {
    const std::string& token_hash = b.deleted_sessions[i];
    if (auto f = RunWrite(db, sql::kDeleteSession, "deleted_sessions", i,
                          [&](Statement& s) { s.BindText(1, token_hash); })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.subject_sessions.size(); ++i) {
    const SubjectSessionRow& r = b.subject_sessions[i];
    if (auto f = RunWrite(db, sql::kUpsertSubjectSession, "subject_sessions", i,
                          [&](Statement& s) {
                            s.BindText(1, r.token_hash);
                            s.BindText(2, r.school.value());
                            s.BindText(3, r.subject.value());
                            s.BindText(4, r.state);
                            s.BindText(5, r.code_hash);
                            s.BindInt(6, r.attempts);
                            s.BindText(7, r.csrf_token);
                            s.BindTime(8, r.created_at);
                            s.BindTime(9, r.expires_at);
                            s.BindText(10, r.email_token);
                            s.BindText(11, r.acting_for);
                          })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.subscription_confirmations.size(); ++i) {
    const ports::SubscriptionConfirmationRow& r = b.subscription_confirmations[i];
    if (auto f = RunWrite(db, sql::kUpsertSubscriptionConfirmation, "subscription_confirmations",
                          i, [&](Statement& s) {
                            s.BindText(1, r.token_hash);
                            s.BindText(2, r.school.value());
                            s.BindText(3, r.subject.value());
                            s.BindText(4, r.state);
                            s.BindText(5, r.consent);
                            s.BindTime(6, r.created_at);
                            s.BindTime(7, r.expires_at);
                            s.BindOptionalTime(8, r.confirmed_at);
                          })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.deleted_subject_sessions.size(); ++i) {
    const std::string& token_hash = b.deleted_subject_sessions[i];
    if (auto f = RunWrite(db, sql::kDeleteSubjectSession, "deleted_subject_sessions", i,
                          [&](Statement& s) { s.BindText(1, token_hash); })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.api_keys.size(); ++i) {
    const ApiKeyRow& r = b.api_keys[i];
    if (auto f = RunWrite(db, sql::kUpsertApiKey, "api_keys", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id.value());
          s.BindText(3, r.name);
          s.BindText(4, r.key_hash);
          s.BindText(5, r.role);
          s.BindText(6, EncodeJsonList(r.purposes));
          s.BindTime(7, r.created_at);
          s.BindOptionalTime(8, r.revoked_at);
          s.BindText(9, r.created_by);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.requests.size(); ++i) {
    const RequestRow& r = b.requests[i];
    if (auto f = RunWrite(db, sql::kUpsertRequest, "requests", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.type);
          s.BindText(4, r.state);
          s.BindText(5, r.subject);
          s.BindBool(6, r.open);
          s.BindBool(7, r.overdue);
          s.BindText(8, r.assignee);
          s.BindTime(9, r.received_at);
          s.BindTime(10, r.due_at);
          s.BindTime(11, r.updated_at);
          s.BindText(12, r.body);
          s.BindBlob(13, r.sealed);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.request_events.size(); ++i) {
    const RequestEventRow& r = b.request_events[i];
    if (auto f = RunWrite(db, sql::kInsertRequestEvent, "request_events", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.request);
          s.BindInt(3, r.seq);
          s.BindTime(4, r.at);
          s.BindText(5, r.actor);
          s.BindText(6, r.kind);
          s.BindText(7, r.body);
          s.BindBlob(8, r.sealed);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.outbox.size(); ++i) {
    const OutboxRow& r = b.outbox[i];
    if (auto f = RunWrite(db, sql::kUpsertOutbox, "outbox", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.request);
          s.BindText(4, r.channel);
          s.BindText(5, r.state);
          s.BindInt(6, r.attempts);
          s.BindTime(7, r.created_at);
          s.BindTime(8, r.next_attempt_at);
          s.BindOptionalTime(9, r.sent_at);
          s.BindText(10, r.last_error);
          s.BindText(11, r.body);
          s.BindBlob(12, r.sealed);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.disclosures.size(); ++i) {
    const DisclosureRow& r = b.disclosures[i];
    if (auto f = RunWrite(db, sql::kInsertDisclosure, "disclosures", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.subject.value());
          s.BindText(4, r.recipient);
          s.BindTime(5, r.at);
          s.BindText(6, EncodeJsonList(r.fields));
          s.BindText(7, EncodeJsonList(r.categories));
          s.BindText(8, r.purpose);
          s.BindText(9, r.basis);
          s.BindText(10, r.safeguard);
          s.BindText(11, r.country);
          s.BindText(12, r.actor);
          s.BindText(13, r.request);
          s.BindText(14, r.detail.empty() ? std::string("{}") : r.detail);
          s.BindTime(15, r.recorded_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.recipient_contacts.size(); ++i) {
    const RecipientContactRow& r = b.recipient_contacts[i];
    if (auto f = RunWrite(db, sql::kUpsertRecipientContact, "recipient_contacts", i,
                          [&](Statement& s) {
                            s.BindText(1, r.school.value());
                            s.BindText(2, r.recipient);
                            s.BindBlob(3, r.sealed);
                            s.BindTime(4, r.updated_at);
                            s.BindText(5, r.updated_by);
                          })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.guardianships.size(); ++i) {
    const ports::GuardianshipRow& r = b.guardianships[i];
    if (auto f = RunWrite(db, sql::kUpsertGuardianship, "guardianships", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.minor.value());
          s.BindText(4, r.email_token);
          s.BindText(5, r.state);
          s.BindText(6, r.method);
          s.BindOptionalTime(7, r.verified_at);
          s.BindText(8, r.verified_by);
          s.BindOptionalTime(9, r.majority_at);
          s.BindText(10, r.reconsent);
          s.BindOptionalTime(11, r.reconsent_at);
          s.BindOptionalTime(12, r.decided_at);
          s.BindText(13, r.body.empty() ? std::string("{}") : r.body);
          s.BindBlob(14, r.sealed);
          s.BindTime(15, r.created_at);
          s.BindTime(16, r.updated_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.subject_events.size(); ++i) {
    const ports::SubjectEventRow& r = b.subject_events[i];
    if (auto f = RunWrite(db, sql::kUpsertSubjectEvent, "subject_events", i, [&](Statement& s) {
          BindSchoolSubject(s, r.school, r.subject);
          s.BindText(3, r.kind);
          s.BindTime(4, r.at);
          s.BindText(5, r.source);
          s.BindTime(6, r.recorded_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.deleted_retention_due.size(); ++i) {
    const ports::RetentionDueRow& r = b.deleted_retention_due[i];
    if (auto f = RunWrite(db, sql::kDeleteRetentionDue, "deleted_retention_due", i,
                          [&](Statement& s) {
                            BindSchoolSubject(s, r.school, r.subject);
                            s.BindText(3, r.purpose);
                          })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.retention_due.size(); ++i) {
    const ports::RetentionDueRow& r = b.retention_due[i];
    if (auto f = RunWrite(db, sql::kUpsertRetentionDue, "retention_due", i, [&](Statement& s) {
          BindSchoolSubject(s, r.school, r.subject);
          s.BindText(3, r.purpose);
          s.BindText(4, r.due_date);
          s.BindTime(5, r.due_at);
          s.BindText(6, r.trigger);
          s.BindTime(7, r.trigger_at);
          s.BindText(8, r.state);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.retention_marks.size(); ++i) {
    const auto& mark = b.retention_marks[i];  // (school, instant)
    if (auto f = RunWrite(db, sql::kUpsertRetentionMark, "retention_marks", i, [&](Statement& s) {
          s.BindText(1, mark.first.value());
          s.BindTime(2, mark.second);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.cookie_consents.size(); ++i) {
    const CookieConsentRow& r = b.cookie_consents[i];
    if (auto f = RunWrite(db, sql::kInsertCookieConsent, "cookie_consents", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.choice);
          s.BindText(4, EncodeJsonList(r.accepted));
          s.BindText(5, EncodeJsonList(r.rejected));
          s.BindText(6, r.policy_version);
          s.BindBool(7, r.gpc);
          s.BindText(8, r.lang);
          s.BindText(9, r.ip);
          s.BindText(10, r.user_agent_sha256);
          s.BindTime(11, r.at);
          s.BindTime(12, r.expires_at);
        })) {
      return f;
    }
  }
  for (size_t i = 0; i < b.visits.size(); ++i) {
    const ports::VisitRow& r = b.visits[i];
    if (auto f = RunWrite(db, sql::kInsertVisit, "visits", i, [&](Statement& s) {
          s.BindText(1, r.school.value());
          s.BindText(2, r.id);
          s.BindText(3, r.day);
          s.BindInt(4, r.hour);
          s.BindText(5, r.network);
          s.BindText(6, r.browser);
          s.BindText(7, r.os);
          s.BindText(8, r.page);
          s.BindText(9, r.referrer_domain);
        })) {
      return f;
    }
  }
  // Last: the gate version of every subject whose gate state the batch changed (ports::GateCheck).
  const auto gated = ports::GateSubjects(b);
  for (size_t i = 0; i < gated.size(); ++i) {
    if (auto f = RunWrite(db, sql::kBumpGateVersion, "gate", i, [&](Statement& s) {
          BindSchoolSubject(s, gated[i].first, gated[i].second);
        })) {
      return f;
    }
  }
  return std::nullopt;
}

// The batch's gate checks (ports::GateCheck), before anything of it is written: the writer holds
// the write lock, so the version read is the latest committed one.
WriteOutcome CheckGateVersions(Connection& db, const WriteBatch& b) {
  for (size_t i = 0; i < b.gate_checks.size(); ++i) {
    const ports::GateCheck& c = b.gate_checks[i];
    Result<Statement*> stmt = db.Prepare(sql::kGetGateVersion);
    if (!stmt.ok()) return WriteFailure{true, stmt.error()};
    Statement& s = **stmt;
    ScopedReset reset(&s);
    BindSchoolSubject(s, c.school, c.subject);
    int rc = s.Step();
    int64_t stored = 0;
    if (rc == SQLITE_ROW) {
      stored = s.Int(0);
    } else if (rc != SQLITE_DONE) {
      return Classify(db, rc, "gate_checks", i);
    }
    if (stored != c.version) return WriteFailure{false, ports::GateStale(c.subject)};
  }
  return std::nullopt;
}

// Opens and prepares a writer connection: WAL, synchronous, foreign keys, secure delete, then the
// migrations. Returns kUnavailable or kFailedPrecondition (schema too new).
Result<std::unique_ptr<Connection>> OpenWriter(const std::string& path, const char* label,
                                               std::span<const Migration> migrations,
                                               const SqliteOptions& options, int64_t max_pages) {
  Result<std::unique_ptr<Connection>> opened = Connection::Open(path, label, /*read_only=*/false);
  if (!opened.ok()) return opened.error();
  Connection& db = **opened;
  WaitWhenBusy(db.handle(), kBusyTimeoutMs);
  Result<std::string> mode = db.QueryText(sql::kJournalModeWal);
  if (!mode.ok()) return mode.error();
  if (*mode != "wal") {
    return Error::Unavailable(std::string(label) + ": cannot switch to WAL mode");
  }
  for (const char* pragma :
       {options.synchronous_full ? sql::kSynchronousFull : sql::kSynchronousNormal,
        sql::kForeignKeysOn, sql::kSecureDeleteOn, sql::kTrustedSchemaOff,
        sql::kWriterCacheSize}) {
    int rc = db.Exec(pragma);
    if (rc != SQLITE_OK) return db.StorageError("cannot configure the connection", rc);
  }
  auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  Status migrated = ApplyMigrations(db, migrations, now);
  if (!migrated.ok()) return migrated.error();
  if (max_pages > 0) {
    std::string pragma = std::string(sql::kMaxPageCountPrefix) + std::to_string(max_pages);
    int rc = db.Exec(pragma.c_str());
    if (rc != SQLITE_OK) return db.StorageError("cannot set the page limit", rc);
  }
  return opened;
}

// B09: erases again, in one transaction, every subject that has a tombstone in the key vault but
// still has rows in the data (an older data backup was restored). Runs before anything is served.
// Returns how many subjects were erased again.
Result<int64_t> ReplayTombstones(Connection& keys, Connection& data) {
  std::vector<std::pair<std::string, std::string>> tombstones;
  {
    Result<Statement*> all = keys.Prepare(sql::kAllTombstones);
    if (!all.ok()) return all.error();
    ScopedReset reset(*all);
    int rc;
    while ((rc = (*all)->Step()) == SQLITE_ROW) {
      tombstones.emplace_back((*all)->Text(0), (*all)->Text(1));
    }
    if (rc != SQLITE_DONE) return keys.StorageError("cannot read the tombstones", rc);
  }
  std::vector<size_t> present;
  for (size_t i = 0; i < tombstones.size(); ++i) {
    Result<Statement*> exists = data.Prepare(sql::kSubjectExists);
    if (!exists.ok()) return exists.error();
    ScopedReset reset(*exists);
    (*exists)->BindText(1, tombstones[i].first);
    (*exists)->BindText(2, tombstones[i].second);
    int rc = (*exists)->Step();
    if (rc == SQLITE_ROW) present.push_back(i);
    else if (rc != SQLITE_DONE) return data.StorageError("cannot look up a subject", rc);
  }
  if (present.empty()) return int64_t{0};
  int rc = RunPlain(data, sql::kBegin);
  if (rc != SQLITE_OK) return data.StorageError("cannot begin the tombstone replay", rc);
  for (size_t i : present) {
    auto bind = [&](Statement& s) {
      s.BindText(1, tombstones[i].first);
      s.BindText(2, tombstones[i].second);
    };
    for (const char* step : kErasureSteps) {
      if (auto f = RunWrite(data, step, "tombstones", i, bind)) {
        RunPlain(data, "ROLLBACK");
        return f->error;
      }
    }
  }
  rc = RunPlain(data, sql::kCommit);
  if (rc != SQLITE_OK) return data.StorageError("cannot commit the tombstone replay", rc);
  return static_cast<int64_t>(present.size());
}

// Copies the database behind `pool` to `path` with the online backup API: into a temporary file
// beside it (0600), made a single self-contained file (rollback journal mode), synced, then
// renamed over `path`.
Status CopyDatabase(ReaderPool& pool, const std::string& path, const char* label) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  auto remove_tmp = [&tmp] {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      ::unlink((tmp + suffix).c_str());
    }
  };
  remove_tmp();
  Status result = [&]() -> Status {
    Result<ReaderPool::Lease> source = pool.Acquire();
    if (!source.ok()) return source.error();
    std::string dest_label = std::string(label) + " backup";
    Result<std::unique_ptr<Connection>> dest = Connection::Open(tmp, dest_label, false);
    if (!dest.ok()) return dest.error();
    Connection& d = **dest;
    sqlite3_backup* backup =
        sqlite3_backup_init(d.handle(), "main", source->conn().handle(), "main");
    if (backup == nullptr) return d.StorageError("cannot start", d.ExtendedErrorCode());
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 100; ++attempt) {
      rc = sqlite3_backup_step(backup, -1);  // everything in one read transaction
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    int finish = sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) return d.StorageError("copy failed", rc);
    if (finish != SQLITE_OK) return d.StorageError("copy failed", finish);
    // The copied header says WAL; make the copy one file that any reader can open.
    Result<std::string> mode = d.QueryText(sql::kJournalModeDelete);
    if (!mode.ok()) return mode.error();
    return Status::Ok();
  }();
  if (result.ok()) {
    int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      result = Error::Unavailable(std::string(label) + " backup: cannot sync the copy");
    }
    if (fd >= 0) ::close(fd);
  }
  if (result.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    result = Error::Unavailable(std::string(label) + " backup: cannot rename the copy to " + path);
  }
  if (!result.ok()) {
    remove_tmp();
    return result;
  }
  return SyncParentDirectory(path);
}

}  // namespace

// --- The store -----------------------------------------------------------------------------------

class SqliteStore::Impl {
 public:
  Impl(const std::string& dir, SqliteOptions options, std::unique_ptr<Connection> data_writer,
       std::unique_ptr<Connection> keys_writer)
      : dir_(dir),
        options_(options),
        data_writer_(std::move(data_writer)),
        keys_writer_(std::move(keys_writer)),
        data_readers_(dir + "/" + kDataFile, kDataFile, options.reader_connections),
        keys_readers_(dir + "/" + kKeysFile, kKeysFile, options.reader_connections) {}

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    checkpoint_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    if (checkpointer_.joinable()) checkpointer_.join();
  }

  int64_t replayed_tombstones = 0;  // set once by Open

  Status Start() {
    Status warm = data_readers_.Warm();
    if (!warm.ok()) return warm;
    warm = keys_readers_.Warm();
    if (!warm.ok()) return warm;
    // The writer never checkpoints (wal_autocheckpoint=0): copying WAL frames into the database
    // and fsyncing it would stall the group commit. A background thread does it instead.
    if (data_writer_->Exec("PRAGMA wal_autocheckpoint=0") != SQLITE_OK) {
      return Error::Unavailable("data.db: cannot configure checkpointing");
    }
    auto ckpt = Connection::Open(dir_ + "/" + kDataFile, "data.db checkpoints", false);
    if (!ckpt.ok()) return ckpt.error();
    checkpoint_conn_ = std::move(*ckpt);
    WaitWhenBusy(checkpoint_conn_->handle(), kBusyTimeoutMs);
    // A connection learns that the database is in WAL mode on its first read; until then a
    // checkpoint on it does nothing (it reports -1 frames).
    if (checkpoint_conn_->Exec("PRAGMA schema_version") != SQLITE_OK) {
      return Error::Unavailable("data.db: the checkpointer cannot read the database");
    }
    sqlite3_wal_hook(data_writer_->handle(), &Impl::OnWalCommit, this);
    writer_ = std::thread([this] { WriterLoop(); });
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    return Status::Ok();
  }

  // Every 50 ms: a passive checkpoint (never blocks the writer or readers), then, when every
  // frame is in the database, an attempt to restart the WAL from its beginning. Without restarts
  // the WAL only grows, and every read searches an ever longer WAL index. The attempt does not
  // wait (busy timeout 0): if a reader still uses the WAL, the next round tries again.
  void CheckpointLoop() {
    sqlite3* db = checkpoint_conn_->handle();
    sqlite3_busy_timeout(db, 0);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      // Its own condition variable: sharing the writer's would let Submit's notify_one wake this
      // thread instead of the writer.
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(50));
      if (stopping_) break;
      lock.unlock();
      int log = 0, done = 0;
      int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc == SQLITE_OK && log > 1024 && done == log) {
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
      }
      lock.lock();
    }
    lock.unlock();
    // A last full checkpoint so that a clean shutdown leaves everything in data.db.
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
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

  // Runs `sql_text` on a reader of `pool`: `bind` binds it, `on_row` sees each row and returns
  // false to stop (or an error). Returns kUnavailable on a read failure, or `on_row`'s error.
  template <typename Bind, typename OnRow>
  Status Query(ReaderPool& pool, const char* sql_text, Bind&& bind, OnRow&& on_row) {
    Result<ReaderPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.error();
    Connection& conn = lease->conn();
    Result<Statement*> stmt = conn.Prepare(sql_text);
    if (!stmt.ok()) return stmt.error();
    Statement& s = **stmt;
    ScopedReset reset(&s);
    bind(s);
    for (;;) {
      int rc = s.Step();
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return conn.StorageError("read failed", rc);
      Result<bool> more = on_row(s);
      if (!more.ok()) return more.error();
      if (!*more) return Status::Ok();
    }
  }

  // Every row as a vector. `read` maps a row to T or Result<T>.
  template <typename T, typename Bind, typename Read>
  Result<std::vector<T>> QueryAll(ReaderPool& pool, const char* sql_text, Bind&& bind,
                                  Read&& read) {
    std::vector<T> rows;
    Status st = Query(pool, sql_text, bind, [&](const Statement& s) -> Result<bool> {
      Result<T> row = read(s);
      if (!row.ok()) return row.error();
      rows.push_back(std::move(*row));
      return true;
    });
    if (!st.ok()) return st.error();
    return rows;
  }

  // The first row, if any.
  template <typename T, typename Bind, typename Read>
  Result<std::optional<T>> QueryOne(ReaderPool& pool, const char* sql_text, Bind&& bind,
                                    Read&& read) {
    std::optional<T> found;
    Status st = Query(pool, sql_text, bind, [&](const Statement& s) -> Result<bool> {
      Result<T> row = read(s);
      if (!row.ok()) return row.error();
      found = std::move(*row);
      return false;
    });
    if (!st.ok()) return st.error();
    return found;
  }

  ReaderPool& data_readers() { return data_readers_; }
  ReaderPool& keys_readers() { return keys_readers_; }
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    WriteBatch batch;
    std::function<void(Status)> done;
  };

  void WriterLoop() {
    std::vector<Pending> group;
    const size_t max_group = static_cast<size_t>(options_.max_batches_per_group);
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping, and every queued batch is done
        size_t n = std::min(queue_.size(), max_group);
        for (size_t i = 0; i < n; ++i) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<Status> outcomes = ApplyGroup(group);
      for (size_t i = 0; i < group.size(); ++i) {
        if (group[i].done) group[i].done(std::move(outcomes[i]));
      }
      group.clear();
    }
  }

  // Applies a group in one transaction per database. Returns each batch's outcome.
  std::vector<Status> ApplyGroup(std::vector<Pending>& group) {
    batches_.fetch_add(group.size(), std::memory_order_relaxed);
    std::vector<Status> out(group.size());
    const bool keys = std::any_of(group.begin(), group.end(),
                                  [](const Pending& p) { return HasKeyParts(p.batch); });
    auto fail_all = [&](const Error& error) {
      // Nothing of the group is stored: forget every head learnt in it (reloaded from disk).
      audit_heads_.clear();
      staged_heads_.clear();
      RollbackQuietly(*data_writer_);
      RollbackQuietly(*keys_writer_);
      for (Status& s : out) s = error;
      return out;
    };

    // Reads' audit entries need only survive a crash of the process; anything else is fsynced.
    const bool power_safe = !options_.synchronous_full ||
                            std::any_of(group.begin(), group.end(),
                                        [](const Pending& p) { return p.batch.power_safe; });
    const bool full = options_.synchronous_full && power_safe;
    if (full != data_synchronous_full_) {
      if (data_writer_->Exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ==
          SQLITE_OK) {
        data_synchronous_full_ = full;
      }
    }
    if (keys) {
      int rc = RunPlain(*keys_writer_, sql::kBegin);
      if (rc != SQLITE_OK) return fail_all(keys_writer_->StorageError("cannot begin", rc));
    }
    int rc = RunPlain(*data_writer_, sql::kBegin);
    if (rc != SQLITE_OK) return fail_all(data_writer_->StorageError("cannot begin", rc));

    // Another process (an operator command on the live directory) may have committed since this
    // writer's last commit: its audit entries moved the chain heads this writer remembers. The
    // write lock is held now (BEGIN IMMEDIATE), so the heads read from here on are the real ones.
    if (ChangedByAnotherConnection()) audit_heads_.clear();
    bool destroyed_keys = false;
    staged_heads_ = audit_heads_;
    for (size_t i = 0; i < group.size(); ++i) {
      WriteBatch& batch = group[i].batch;
      WriteOutcome outcome = ApplyBatch(batch);
      if (outcome && outcome->storage) return fail_all(outcome->error);
      if (outcome) {
        out[i] = std::move(outcome->error);
      } else if (!batch.destroyed_keys.empty()) {
        destroyed_keys = true;
      }
    }

    // The vault first: a crash between the two commits leaves keys without data, never data
    // without its key.
    if (keys) {
      rc = RunPlain(*keys_writer_, sql::kCommit);
      if (rc != SQLITE_OK) return fail_all(keys_writer_->StorageError("cannot commit", rc));
    }
    rc = RunPlain(*data_writer_, sql::kCommit);
    if (rc != SQLITE_OK) return fail_all(data_writer_->StorageError("cannot commit", rc));
    commits_.fetch_add(1, std::memory_order_relaxed);
    audit_heads_ = std::move(staged_heads_);
    staged_heads_.clear();
    if (wal_frames_ > kWalResetFrames) ResetWal();

    if (destroyed_keys) vault_wal_holds_destroyed_keys_ = true;
    if (vault_wal_holds_destroyed_keys_) TruncateVaultWal();
    return out;
  }

  // One batch inside savepoints on both databases; on a broken rule both are rolled back.
  WriteOutcome ApplyBatch(WriteBatch& batch) {
    if (batch.empty()) return std::nullopt;
    // Audit entries submitted without a seq are numbered and chained here, in commit order; a
    // failed batch restores the heads it moved.
    if (auto stale = CheckGateVersions(*data_writer_, batch)) return stale;
    auto heads_before = staged_heads_;
    if (chainer_) {
      if (auto failure = ChainAudit(batch)) return failure;
    }
    Connection& keys = *keys_writer_;
    Connection& data = *data_writer_;
    const bool has_keys = HasKeyParts(batch);
    if (has_keys) {
      int rc = RunPlain(keys, sql::kSavepoint);
      if (rc != SQLITE_OK) return WriteFailure{true, keys.StorageError("savepoint failed", rc)};
    }
    int rc = RunPlain(data, sql::kSavepoint);
    if (rc != SQLITE_OK) return WriteFailure{true, data.StorageError("savepoint failed", rc)};

    WriteOutcome outcome = has_keys ? ApplyKeyParts(keys, batch) : std::nullopt;
    if (!outcome) outcome = ApplyDataParts(data, batch);
    if (outcome && outcome->storage) return outcome;  // the whole group is rolled back

    if (outcome) {
      staged_heads_ = std::move(heads_before);
      // A broken rule: undo this batch alone.
      for (Connection* conn : {&data, &keys}) {
        if (conn == &keys && !has_keys) continue;
        for (const char* step : {sql::kRollbackTo, sql::kRelease}) {
          rc = RunPlain(*conn, step);
          if (rc != SQLITE_OK) return WriteFailure{true, conn->StorageError("rollback failed", rc)};
        }
      }
      return outcome;
    }
    rc = RunPlain(data, sql::kRelease);
    if (rc != SQLITE_OK) return WriteFailure{true, data.StorageError("release failed", rc)};
    if (has_keys) {
      rc = RunPlain(keys, sql::kRelease);
      if (rc != SQLITE_OK) return WriteFailure{true, keys.StorageError("release failed", rc)};
    }
    return std::nullopt;
  }

  struct AuditHead {
    int64_t seq = 0;
    std::string hash;
  };

  // Whether a connection other than the writer committed to data.db since the last call
  // (`PRAGMA data_version` changes for every commit but the asking connection's own). A failed
  // read counts as a change: the heads are then reloaded, which is always safe.
  bool ChangedByAnotherConnection() {
    Result<Statement*> stmt = data_writer_->Prepare(sql::kDataVersion);
    if (!stmt.ok()) return true;
    ScopedReset reset(*stmt);
    if ((*stmt)->Step() != SQLITE_ROW) return true;
    const int64_t version = (*stmt)->Int(0);
    const bool changed = version != data_version_;
    data_version_ = version;
    return changed;
  }

  WriteOutcome ChainAudit(WriteBatch& batch) {
    for (auto& row : batch.audit) {
      if (row.seq != 0) continue;
      auto it = staged_heads_.find(row.school.value());
      if (it == staged_heads_.end()) {
        Result<AuditHead> head = LoadAuditHead(row.school);
        if (!head.ok()) return WriteFailure{true, head.error()};
        it = staged_heads_.emplace(row.school.value(), std::move(*head)).first;
      }
      row.seq = it->second.seq + 1;
      row.prev_hash = it->second.hash;
      row.hash = chainer_(row.prev_hash, row);
      it->second = AuditHead{row.seq, row.hash};
    }
    return std::nullopt;
  }

  // The school's last committed entry, read on the writer connection.
  Result<AuditHead> LoadAuditHead(const SchoolId& school) {
    Result<Statement*> stmt = data_writer_->Prepare(sql::kAuditHead);
    if (!stmt.ok()) return stmt.error();
    Statement& s = **stmt;
    ScopedReset reset(&s);
    s.BindText(1, school.value());
    int rc = s.Step();
    if (rc == SQLITE_DONE) return AuditHead{};
    if (rc != SQLITE_ROW) return data_writer_->StorageError("cannot read the audit head", rc);
    return AuditHead{s.Int(0), s.Text(1)};
  }

 public:
  void SetAuditChainer(ports::AuditChainer chainer) { chainer_ = std::move(chainer); }

 private:
  // The background checkpointer copies WAL frames into data.db but cannot restart the WAL while
  // readers keep using it, and a WAL that only grows makes every read search a longer index and
  // fills the disk. So when the WAL passes kWalResetFrames pages (256 MiB) the writer, the only
  // writer, checkpoints and truncates it, waiting briefly for readers of older snapshots.
  static constexpr int kWalResetFrames = 65536;
  void ResetWal() {
    sqlite3* db = data_writer_->handle();
    WaitWhenBusy(db, 200);
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    WaitWhenBusy(db, kBusyTimeoutMs);
    if (rc == SQLITE_OK) wal_frames_ = 0;
  }
  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    static_cast<Impl*>(self)->wal_frames_ = frames;
    return SQLITE_OK;
  }

  static void RollbackQuietly(Connection& conn) {
    if (conn.InTransaction()) conn.Exec(sql::kRollback);
  }

  // Destroyed keys were overwritten in place, but earlier versions of their pages may remain in
  // keys.db-wal until it is checkpointed and truncated. Done after every group that destroyed a
  // key, retried after later groups while readers keep it from completing.
  void TruncateVaultWal() {
    sqlite3* db = keys_writer_->handle();
    WaitWhenBusy(db, kVaultCheckpointWaitMs);
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    WaitWhenBusy(db, kBusyTimeoutMs);
    if (rc == SQLITE_OK) vault_wal_holds_destroyed_keys_ = false;
  }

  const std::string dir_;
  const SqliteOptions options_;
  std::unique_ptr<Connection> data_writer_;  // writer thread only (after Open)
  std::unique_ptr<Connection> keys_writer_;  // writer thread only (after Open)
  ReaderPool data_readers_;
  ReaderPool keys_readers_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread writer_;
  std::unique_ptr<Connection> checkpoint_conn_;  // checkpointer thread only
  std::condition_variable checkpoint_cv_;
  std::thread checkpointer_;

  bool vault_wal_holds_destroyed_keys_ = false;  // writer thread only
  ports::AuditChainer chainer_;                   // set before the first Submit
  bool data_synchronous_full_ = true;             // writer thread only
  int wal_frames_ = 0;                            // writer thread only: WAL size after a commit
  // Last committed audit entry per school, and the heads as this group moves them (writer only).
  std::unordered_map<std::string, AuditHead> audit_heads_;
  std::unordered_map<std::string, AuditHead> staged_heads_;
  int64_t data_version_ = -1;  // data.db's `PRAGMA data_version` at the last group (writer only)
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> batches_{0};
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& dir,
                                                       SqliteOptions options) {
  if (options.reader_connections < 0) {
    return Error::Invalid("reader_connections must not be negative", "reader_connections");
  }
  if (options.max_batches_per_group < 1) {
    return Error::Invalid("max_batches_per_group must be at least 1", "max_batches_per_group");
  }
  if (options.max_data_pages < 0) {
    return Error::Invalid("max_data_pages must not be negative", "max_data_pages");
  }
  Status made = MakePrivateDirectory(dir);
  if (!made.ok()) return made.error();

  Result<std::unique_ptr<Connection>> keys =
      OpenWriter(dir + "/" + kKeysFile, kKeysFile, KeyVaultMigrations(), options, 0);
  if (!keys.ok()) return keys.error();
  Result<std::unique_ptr<Connection>> data = OpenWriter(
      dir + "/" + kDataFile, kDataFile, DataMigrations(), options, options.max_data_pages);
  if (!data.ok()) return data.error();

  Result<int64_t> replayed = ReplayTombstones(**keys, **data);
  if (!replayed.ok()) return replayed.error();

  auto impl = std::make_unique<Impl>(dir, options, std::move(*data), std::move(*keys));
  impl->replayed_tombstones = *replayed;
  Status started = impl->Start();
  if (!started.ok()) return started.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

void SqliteStore::Submit(WriteBatch batch, std::function<void(Status)> done) {
  impl_->Submit(std::move(batch), std::move(done));
}

void SqliteStore::SetAuditChainer(ports::AuditChainer chainer) {
  impl_->SetAuditChainer(std::move(chainer));
}

uint64_t SqliteStore::commits() const { return impl_->commits(); }
int64_t SqliteStore::replayed_tombstones() const { return impl_->replayed_tombstones; }
uint64_t SqliteStore::batches() const { return impl_->batches(); }

// --- Reads ---------------------------------------------------------------------------------------

namespace {

auto BindNothing() {
  return [](Statement&) {};
}
auto BindSchool(const SchoolId& school) {
  return [&school](Statement& s) { s.BindText(1, school.value()); };
}
auto BindPair(const SchoolId& school, const std::string& second) {
  return [&school, &second](Statement& s) {
    s.BindText(1, school.value());
    s.BindText(2, second);
  };
}

}  // namespace

Result<std::optional<SchoolRow>> SqliteStore::GetSchool(const SchoolId& id) {
  return impl_->QueryOne<SchoolRow>(impl_->data_readers(), sql::kGetSchool, BindSchool(id),
                                    ReadSchool);
}

Result<std::vector<SchoolRow>> SqliteStore::ListSchools() {
  return impl_->QueryAll<SchoolRow>(impl_->data_readers(), sql::kListSchools, BindNothing(),
                                    ReadSchool);
}

Result<std::vector<PolicyVersionRow>> SqliteStore::ListPolicyVersions(const SchoolId& school) {
  return impl_->QueryAll<PolicyVersionRow>(impl_->data_readers(), sql::kListPolicyVersions,
                                           BindSchool(school), ReadPolicyVersion);
}

Result<std::optional<SubjectRow>> SqliteStore::GetSubject(const SchoolId& school,
                                                          const SubjectId& id) {
  return impl_->QueryOne<SubjectRow>(impl_->data_readers(), sql::kGetSubject,
                                     BindPair(school, id.value()), ReadSubject);
}

Result<int64_t> SqliteStore::GetGateVersion(const SchoolId& school, const SubjectId& id) {
  Result<std::optional<int64_t>> v = impl_->QueryOne<int64_t>(
      impl_->data_readers(), sql::kGetGateVersion, BindPair(school, id.value()), ReadFirstInt);
  if (!v.ok()) return v.error();
  return v->value_or(0);
}

Result<std::optional<SubjectKeyRow>> SqliteStore::GetSubjectKey(const SchoolId& school,
                                                                const SubjectId& id) {
  return impl_->QueryOne<SubjectKeyRow>(impl_->keys_readers(), sql::kGetSubjectKey,
                                        BindPair(school, id.value()), ReadSubjectKey);
}

Status SqliteStore::ForEachSubjectKey(const SchoolId& school,
                                      const std::function<void(const SubjectKeyRow&)>& fn) {
  return impl_->Query(impl_->keys_readers(), sql::kForEachSubjectKey, BindSchool(school),
                      [&](const Statement& s) -> Result<bool> {
                        fn(ReadSubjectKey(s));
                        return true;
                      });
}

Result<std::vector<RecordRow>> SqliteStore::GetRecords(const SchoolId& school,
                                                       const SubjectId& subject) {
  return impl_->QueryAll<RecordRow>(impl_->data_readers(), sql::kGetRecords,
                                    BindPair(school, subject.value()), ReadRecord);
}

Result<std::vector<RecordRow>> SqliteStore::GetRecordsPage(const SchoolId& school,
                                                           const SubjectId& subject,
                                                           const std::string& after_id,
                                                           size_t limit) {
  if (limit == 0) return std::vector<RecordRow>{};
  return impl_->QueryAll<RecordRow>(impl_->data_readers(), sql::kGetRecordsPage,
                                    [&](Statement& s) {
                                      s.BindText(1, school.value());
                                      s.BindText(2, subject.value());
                                      s.BindText(3, after_id);
                                      s.BindInt(4, ClampLimit(limit));
                                    },
                                    ReadRecord);
}

Result<std::vector<RecordRow>> SqliteStore::GetStoreRecords(const SchoolId& school,
                                                            const SubjectId& subject,
                                                            const std::string& store) {
  return impl_->QueryAll<RecordRow>(impl_->data_readers(), sql::kGetStoreRecords,
                                    [&](Statement& s) {
                                      s.BindText(1, school.value());
                                      s.BindText(2, subject.value());
                                      s.BindText(3, store);
                                    },
                                    ReadRecord);
}

Result<std::vector<ConsentRow>> SqliteStore::GetConsents(const SchoolId& school,
                                                         const SubjectId& subject) {
  return impl_->QueryAll<ConsentRow>(impl_->data_readers(), sql::kGetConsents,
                                     BindPair(school, subject.value()), ReadConsent);
}

Result<std::optional<SubjectId>> SqliteStore::FindByLookup(const SchoolId& school,
                                                           const std::string& field,
                                                           const std::string& token) {
  return impl_->QueryOne<SubjectId>(
      impl_->data_readers(), sql::kFindLookup,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindText(2, field);
        s.BindText(3, token);
      },
      [](const Statement& s) { return SubjectId(s.Text(0)); });
}

Status SqliteStore::ForEachSubject(const SchoolId& school,
                                   const std::function<void(const SubjectRow&)>& fn) {
  return impl_->Query(impl_->data_readers(), sql::kForEachSubject, BindSchool(school),
                      [&](const Statement& s) -> Result<bool> {
                        fn(ReadSubject(s));
                        return true;
                      });
}

Status SqliteStore::ForEachConsent(const SchoolId& school,
                                   const std::function<void(const ConsentRow&)>& fn) {
  return impl_->Query(impl_->data_readers(), sql::kForEachConsent, BindSchool(school),
                      [&](const Statement& s) -> Result<bool> {
                        Result<ConsentRow> row = ReadConsent(s);
                        if (!row.ok()) return row.error();
                        fn(*row);
                        return true;
                      });
}

Result<std::vector<SubjectRow>> SqliteStore::ListSubjects(const SchoolId& school,
                                                          const std::string& after_id,
                                                          size_t limit) {
  if (limit == 0) return std::vector<SubjectRow>{};
  return impl_->QueryAll<SubjectRow>(
      impl_->data_readers(), sql::kListSubjects,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindText(2, after_id);
        s.BindInt(3, ClampLimit(limit));
      },
      ReadSubject);
}

Result<std::optional<AuditRow>> SqliteStore::LastAudit(const SchoolId& school) {
  return impl_->QueryOne<AuditRow>(impl_->data_readers(), sql::kLastAudit, BindSchool(school),
                                   ReadAudit);
}

Status SqliteStore::ForEachAudit(const SchoolId& school, int64_t from_seq,
                                 const std::function<bool(const AuditRow&)>& fn) {
  return impl_->Query(
      impl_->data_readers(), sql::kForEachAudit,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindInt(2, from_seq);
      },
      [&](const Statement& s) -> Result<bool> { return fn(ReadAudit(s)); });
}

Result<std::vector<AuditRow>> SqliteStore::AuditForSubject(const SchoolId& school,
                                                           const std::string& subject_ref,
                                                           int64_t after_seq, size_t limit) {
  if (limit == 0) return std::vector<AuditRow>{};
  return impl_->QueryAll<AuditRow>(
      impl_->data_readers(), sql::kAuditForSubject,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindText(2, subject_ref);
        s.BindInt(3, after_seq);
        s.BindInt(4, ClampLimit(limit));
      },
      ReadAudit);
}

Result<std::vector<CheckpointRow>> SqliteStore::ListCheckpoints(const SchoolId& school) {
  return impl_->QueryAll<CheckpointRow>(impl_->data_readers(), sql::kListCheckpoints,
                                        BindSchool(school), ReadCheckpoint);
}

Result<std::optional<CheckpointRow>> SqliteStore::GetAuditAnchor(const SchoolId& school) {
  return impl_->QueryOne<CheckpointRow>(impl_->keys_readers(), sql::kGetAuditAnchor,
                                        BindSchool(school), ReadCheckpoint);
}

Result<std::optional<StaffRow>> SqliteStore::GetStaff(const SchoolId& school, const StaffId& id) {
  return impl_->QueryOne<StaffRow>(impl_->data_readers(), sql::kGetStaff,
                                   BindPair(school, id.value()), ReadStaff);
}

Result<std::optional<StaffRow>> SqliteStore::FindStaffByEmail(const SchoolId& school,
                                                              const std::string& email) {
  return impl_->QueryOne<StaffRow>(impl_->data_readers(), sql::kFindStaffByEmail,
                                   BindPair(school, email), ReadStaff);
}

Result<std::vector<StaffRow>> SqliteStore::ListStaff(const SchoolId& school) {
  return impl_->QueryAll<StaffRow>(impl_->data_readers(), sql::kListStaff, BindSchool(school),
                                   ReadStaff);
}

Result<std::optional<SessionRow>> SqliteStore::GetSession(const std::string& token_hash) {
  return impl_->QueryOne<SessionRow>(
      impl_->data_readers(), sql::kGetSession, [&](Statement& s) { s.BindText(1, token_hash); },
      ReadSession);
}

Result<std::optional<ports::SubscriptionConfirmationRow>>
SqliteStore::GetSubscriptionConfirmation(const std::string& token_hash) {
  return impl_->QueryOne<ports::SubscriptionConfirmationRow>(
      impl_->data_readers(), sql::kGetSubscriptionConfirmation,
      [&](Statement& s) { s.BindText(1, token_hash); }, ReadSubscriptionConfirmation);
}

Result<std::optional<SubjectSessionRow>> SqliteStore::GetSubjectSession(
    const std::string& token_hash) {
  return impl_->QueryOne<SubjectSessionRow>(
      impl_->data_readers(), sql::kGetSubjectSession,
      [&](Statement& s) { s.BindText(1, token_hash); }, ReadSubjectSession);
}

Result<std::optional<ApiKeyRow>> SqliteStore::FindApiKey(const std::string& key_hash) {
  return impl_->QueryOne<ApiKeyRow>(
      impl_->data_readers(), sql::kFindApiKey, [&](Statement& s) { s.BindText(1, key_hash); },
      ReadApiKey);
}

Result<std::vector<ApiKeyRow>> SqliteStore::ListApiKeys(const SchoolId& school) {
  return impl_->QueryAll<ApiKeyRow>(impl_->data_readers(), sql::kListApiKeys, BindSchool(school),
                                    ReadApiKey);
}

Result<std::optional<RequestRow>> SqliteStore::GetRequest(const SchoolId& school,
                                                          const std::string& id) {
  return impl_->QueryOne<RequestRow>(impl_->data_readers(), sql::kGetRequest,
                                     BindPair(school, id), ReadRequest);
}

Result<std::vector<RequestRow>> SqliteStore::ListRequests(const SchoolId& school,
                                                          const ports::RequestFilter& f) {
  if (f.limit == 0) return std::vector<RequestRow>{};
  const bool after = f.after_due.has_value();
  const char* query = f.open_only ? (after ? sql::kListOpenRequestsAfter : sql::kListOpenRequests)
                                  : (after ? sql::kListRequestsAfter : sql::kListRequests);
  return impl_->QueryAll<RequestRow>(
      impl_->data_readers(), query,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindBool(2, f.overdue_only);
        s.BindText(3, f.type);
        s.BindText(4, f.state);
        s.BindText(5, f.assignee);
        s.BindText(6, f.subject);
        s.BindOptionalTime(7, f.due_before);
        s.BindOptionalTime(8, f.after_due);
        s.BindText(9, f.after_id);
        s.BindInt(10, ClampLimit(f.limit));
      },
      ReadRequest);
}

Status SqliteStore::ForEachRequest(const SchoolId& school, bool open_only,
                                   const std::function<void(const RequestRow&)>& fn) {
  return impl_->Query(impl_->data_readers(), sql::kForEachRequest,
                      [&](Statement& s) {
                        s.BindText(1, school.value());
                        s.BindBool(2, open_only);
                      },
                      [&](const Statement& s) -> Result<bool> {
                        fn(ReadRequest(s));
                        return true;
                      });
}

Result<std::vector<RequestEventRow>> SqliteStore::GetRequestEvents(const SchoolId& school,
                                                                   const std::string& request) {
  return impl_->QueryAll<RequestEventRow>(impl_->data_readers(), sql::kGetRequestEvents,
                                          BindPair(school, request), ReadRequestEvent);
}

Result<std::vector<OutboxRow>> SqliteStore::DueOutbox(Timestamp now, size_t limit) {
  if (limit == 0) return std::vector<OutboxRow>{};
  return impl_->QueryAll<OutboxRow>(impl_->data_readers(), sql::kDueOutbox,
                                    [&](Statement& s) {
                                      s.BindTime(1, now);
                                      s.BindInt(2, ClampLimit(limit));
                                    },
                                    ReadOutbox);
}

Result<std::vector<OutboxRow>> SqliteStore::RequestOutbox(const SchoolId& school,
                                                          const std::string& request) {
  return impl_->QueryAll<OutboxRow>(impl_->data_readers(), sql::kRequestOutbox,
                                    BindPair(school, request), ReadOutbox);
}

Result<std::vector<OutboxRow>> SqliteStore::UnsentOutbox(const SchoolId& school) {
  return impl_->QueryAll<OutboxRow>(impl_->data_readers(), sql::kUnsentOutbox,
                                    [&](Statement& s) { s.BindText(1, school.value()); },
                                    ReadOutbox);
}

Result<std::vector<TombstoneRow>> SqliteStore::ListTombstones(const SchoolId& school) {
  return impl_->QueryAll<TombstoneRow>(impl_->keys_readers(), sql::kListTombstones,
                                       BindSchool(school), ReadTombstone);
}

// One server per data directory (its lock): the server is always the jobs' runner.
Result<bool> SqliteStore::HoldJobsLease() { return true; }

Status SqliteStore::Backup(const std::string& path) {
  return CopyDatabase(impl_->data_readers(), path, kDataFile);
}

Status SqliteStore::BackupKeyVault(const std::string& path) {
  return CopyDatabase(impl_->keys_readers(), path, kKeysFile);
}

Result<std::optional<CookieConsentRow>> SqliteStore::GetCookieConsent(const SchoolId& school,
                                                                    const std::string& id) {
  return impl_->QueryOne<CookieConsentRow>(impl_->data_readers(), sql::kGetCookieConsent,
                                           BindPair(school, id), ReadCookieConsent);
}

Result<std::vector<DisclosureRow>> SqliteStore::ListDisclosures(const SchoolId& school,
                                                                const DisclosureFilter& f) {
  if (f.limit == 0) return std::vector<DisclosureRow>{};
  const Timestamp since = f.since.value_or(Timestamp(std::chrono::microseconds(
      std::numeric_limits<int64_t>::min())));
  const Timestamp before = f.before_at.value_or(Timestamp(std::chrono::microseconds(
      std::numeric_limits<int64_t>::max())));
  const bool by_subject = !f.subject.empty();
  return impl_->QueryAll<DisclosureRow>(
      impl_->data_readers(), by_subject ? sql::kListSubjectDisclosures : sql::kListDisclosures,
      [&](Statement& s) {
        int i = 1;
        s.BindText(i++, school.value());
        if (by_subject) s.BindText(i++, f.subject);
        s.BindText(i++, f.recipient);
        s.BindText(i++, f.recipient);
        s.BindTime(i++, since);
        s.BindTime(i++, before);
        // No cursor: every id sorts below the sentinel at the largest time.
        s.BindText(i++, f.before_at ? f.before_id : std::string());
        s.BindInt(i++, ClampLimit(f.limit));
      },
      ReadDisclosure);
}

Result<std::optional<RecipientContactRow>> SqliteStore::GetRecipientContact(
    const SchoolId& school, const std::string& recipient) {
  return impl_->QueryOne<RecipientContactRow>(impl_->data_readers(), sql::kGetRecipientContact,
                                              BindPair(school, recipient), ReadRecipientContact);
}

Result<std::vector<RecipientContactRow>> SqliteStore::ListRecipientContacts(
    const SchoolId& school) {
  return impl_->QueryAll<RecipientContactRow>(impl_->data_readers(),
                                              sql::kListRecipientContacts, BindSchool(school),
                                              ReadRecipientContact);
}

Result<std::vector<ports::SubjectAssignmentRow>> SqliteStore::ListSubjectAssignments(
    const SchoolId& school) {
  return impl_->QueryAll<ports::SubjectAssignmentRow>(
      impl_->data_readers(), sql::kListSubjectAssignments, BindSchool(school),
      [](const Statement& s) {
        ports::SubjectAssignmentRow r;
        r.school = SchoolId(s.Text(0));
        r.organisation = s.Text(1);
        r.subject = SubjectId(s.Text(2));
        r.reference = s.Text(3);
        r.assigned_by = s.Text(4);
        r.assigned_at = s.Time(5);
        return r;
      });
}

Result<std::vector<ports::AccessGrantRow>> SqliteStore::AccessGrantsEndingAfter(
    const SchoolId& school, Timestamp after) {
  return impl_->QueryAll<ports::AccessGrantRow>(
      impl_->data_readers(), sql::kAccessGrantsEndingAfter,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindTime(2, after);
      },
      [](const Statement& s) {
        ports::AccessGrantRow r;
        r.school = SchoolId(s.Text(0));
        r.id = s.Text(1);
        r.staff = StaffId(s.Text(2));
        r.subject = SubjectId(s.Text(3));
        r.category = s.Text(4);
        r.purpose = s.Text(5);
        r.reason = s.Text(6);
        r.granted_by = s.Text(7);
        r.granted_at = s.Time(8);
        r.expires_at = s.Time(9);
        return r;
      });
}

Result<std::vector<ports::ReviewTaskRow>> SqliteStore::ListReviewTasks(const SchoolId& school,
                                                                       bool open, size_t limit) {
  return impl_->QueryAll<ports::ReviewTaskRow>(
      impl_->data_readers(), open ? sql::kOpenReviewTasks : sql::kDoneReviewTasks,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindInt(2, ClampLimit(limit));
      },
      [](const Statement& s) {
        ports::ReviewTaskRow r;
        r.school = SchoolId(s.Text(0));
        r.id = s.Text(1);
        r.reason = s.Text(2);
        r.law_change = s.Text(3);
        r.law = s.Text(4);
        r.due_date = s.Text(5);
        r.due_at = s.Time(6);
        r.assignee = s.Text(7);
        r.created_at = s.Time(8);
        r.created_by = s.Text(9);
        r.done_at = s.OptionalTime(10);
        r.done_by = s.Text(11);
        r.summary = s.Text(12);
        r.overdue_at = s.OptionalTime(13);
        r.late_by_days = s.Int(14);
        return r;
      });
}

Result<std::vector<LegalHoldRow>> SqliteStore::ListLegalHolds(const SchoolId& school,
                                                              const SubjectId& subject) {
  return impl_->QueryAll<LegalHoldRow>(impl_->data_readers(), sql::kListLegalHolds,
                                       BindPair(school, subject.value()), ReadLegalHold);
}

Result<std::optional<LegalHoldRow>> SqliteStore::GetLegalHold(const SchoolId& school,
                                                              const std::string& id) {
  return impl_->QueryOne<LegalHoldRow>(impl_->data_readers(), sql::kGetLegalHold,
                                       BindPair(school, id), ReadLegalHold);
}

Result<std::vector<LegalHoldRow>> SqliteStore::DueLegalHolds(const SchoolId& school,
                                                             const std::string& today,
                                                             size_t limit) {
  if (limit == 0) return std::vector<LegalHoldRow>{};
  return impl_->QueryAll<LegalHoldRow>(
      impl_->data_readers(), sql::kDueLegalHolds,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindText(2, today);
        s.BindInt(3, ClampLimit(limit));
      },
      ReadLegalHold);
}

Result<std::optional<ports::GuardianshipRow>> SqliteStore::GetGuardianship(
    const SchoolId& school, const std::string& id) {
  return impl_->QueryOne<ports::GuardianshipRow>(impl_->data_readers(), sql::kGetGuardianship,
                                                 BindPair(school, id), ReadGuardianship);
}

Result<std::vector<ports::GuardianshipRow>> SqliteStore::MinorGuardianships(
    const SchoolId& school, const SubjectId& minor) {
  return impl_->QueryAll<ports::GuardianshipRow>(impl_->data_readers(), sql::kMinorGuardianships,
                                                 BindPair(school, minor.value()),
                                                 ReadGuardianship);
}

Result<std::vector<ports::GuardianshipRow>> SqliteStore::GuardianshipsByEmail(
    const SchoolId& school, const std::string& email_token) {
  return impl_->QueryAll<ports::GuardianshipRow>(impl_->data_readers(),
                                                 sql::kGuardianshipsByEmail,
                                                 BindPair(school, email_token), ReadGuardianship);
}

Status SqliteStore::ForEachGuardianship(
    const SchoolId& school, const std::function<void(const ports::GuardianshipRow&)>& fn) {
  return impl_->Query(impl_->data_readers(), sql::kForEachGuardianship, BindSchool(school),
                      [&](const Statement& s) -> Result<bool> {
                        fn(ReadGuardianship(s));
                        return true;
                      });
}

Result<std::vector<ports::GuardianshipRow>> SqliteStore::DueMajorities(const SchoolId& school,
                                                                       Timestamp at,
                                                                       size_t limit) {
  return impl_->QueryAll<ports::GuardianshipRow>(
      impl_->data_readers(), sql::kDueMajorities,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindTime(2, at);
        s.BindInt(3, ClampLimit(limit));
      },
      ReadGuardianship);
}

namespace {

ports::SubjectEventRow ReadSubjectEvent(const Statement& s) {
  ports::SubjectEventRow r;
  r.school = SchoolId(s.Text(0));
  r.subject = SubjectId(s.Text(1));
  r.kind = s.Text(2);
  r.at = s.Time(3);
  r.source = s.Text(4);
  r.recorded_at = s.Time(5);
  return r;
}

ports::RetentionDueRow ReadRetentionDue(const Statement& s) {
  ports::RetentionDueRow r;
  r.school = SchoolId(s.Text(0));
  r.subject = SubjectId(s.Text(1));
  r.purpose = s.Text(2);
  r.due_date = s.Text(3);
  r.due_at = s.Time(4);
  r.trigger = s.Text(5);
  r.trigger_at = s.Time(6);
  r.state = s.Text(7);
  return r;
}

}  // namespace

Result<std::vector<ports::SubjectEventRow>> SqliteStore::GetSubjectEvents(
    const SchoolId& school, const SubjectId& subject) {
  return impl_->QueryAll<ports::SubjectEventRow>(impl_->data_readers(), sql::kGetSubjectEvents,
                                                 BindPair(school, subject.value()),
                                                 ReadSubjectEvent);
}

Result<std::vector<ports::RetentionDueRow>> SqliteStore::SubjectRetention(
    const SchoolId& school, const SubjectId& subject) {
  return impl_->QueryAll<ports::RetentionDueRow>(impl_->data_readers(), sql::kSubjectRetention,
                                                 BindPair(school, subject.value()),
                                                 ReadRetentionDue);
}

Result<std::vector<ports::RetentionDueRow>> SqliteStore::DueRetention(
    const SchoolId& school, const std::string& through, const std::string& after_date,
    const std::string& after_subject, const std::string& after_purpose, size_t limit) {
  if (limit == 0) return std::vector<ports::RetentionDueRow>{};
  return impl_->QueryAll<ports::RetentionDueRow>(
      impl_->data_readers(), sql::kDueRetention,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindText(2, through);
        s.BindText(3, after_date);
        s.BindText(4, after_date);
        s.BindText(5, after_subject);
        s.BindText(6, after_subject);
        s.BindText(7, after_purpose);
        s.BindInt(8, ClampLimit(limit));
      },
      ReadRetentionDue);
}

Status SqliteStore::ForEachEndedRetention(
    const SchoolId& school, const std::function<void(const ports::RetentionDueRow&)>& fn) {
  return impl_->Query(impl_->data_readers(), sql::kForEachEndedRetention, BindSchool(school),
                      [&](const Statement& s) -> Result<bool> {
                        fn(ReadRetentionDue(s));
                        return true;
                      });
}

Result<std::optional<Timestamp>> SqliteStore::GetRetentionMark(const SchoolId& school) {
  return impl_->QueryOne<Timestamp>(impl_->data_readers(), sql::kGetRetentionMark,
                                    BindSchool(school),
                                    [](const Statement& s) { return s.Time(0); });
}

Result<std::vector<SubjectId>> SqliteStore::SubjectsChangedBetween(const SchoolId& school,
                                                                   Timestamp since,
                                                                   Timestamp until) {
  std::set<std::string> ids;
  for (const char* query : {sql::kSubjectsUpdatedBetween, sql::kConsentSubjectsBetween}) {
    Status st = impl_->Query(impl_->data_readers(), query,
                             [&](Statement& s) {
                               s.BindText(1, school.value());
                               s.BindTime(2, since);
                               s.BindTime(3, until);
                             },
                             [&](const Statement& s) -> Result<bool> {
                               ids.insert(s.Text(0));
                               return true;
                             });
    if (!st.ok()) return st.error();
  }
  std::vector<SubjectId> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.emplace_back(id);
  return out;
}

Status SqliteStore::ForEachVisit(const SchoolId& school, const std::string& from,
                                 const std::string& to,
                                 const std::function<void(const ports::VisitRow&)>& fn) {
  return impl_->Query(
      impl_->data_readers(), sql::kForEachVisit,
      [&](Statement& s) {
        s.BindText(1, school.value());
        s.BindText(2, from);
        s.BindText(3, to);
      },
      [&](const Statement& s) -> Result<bool> {
        fn(ReadVisit(s));
        return true;
      });
}

}  // namespace dovira::sqlite
