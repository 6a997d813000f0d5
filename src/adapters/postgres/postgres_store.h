// The PostgreSQL implementation of the storage port (ports::Store), first step of issue 17: the
// same rows, rules and conformance suite as the SQLite adapter (src/adapters/sqlite), on a
// PostgreSQL 15 server through libpq. <libpq-fe.h> stays inside this folder's .cc files.
//
// Two databases, two connection strings (B02). The data database holds everything but subject
// keys; the key vault (subject keys, tombstones of erased subjects, audit anchors) is a separate
// database reached with its own connection string, so that a backup of the data database never
// holds a key, and the vault can have its own credentials. Tests may point both at one cluster
// with different databases; production gives the vault its own credentials (and may give it its
// own server).
//
// One schema per store. Every table lives in the schema named by PostgresOptions::schema, in both
// databases; Open creates it when missing and sets it as the connections' search_path. One
// schema (and one role) per school is the later goal (R118, R92); for now a store instance is
// one schema, and the conformance test derives a fresh schema from each test's directory.
//
// Schema migrations are numbered like SQLite's (migrations/data/NNNN_*.sql for the data
// database, migrations/keys/NNNN_*.sql for the vault), embedded at build time by
// embed_migrations.cmake and recorded in each schema's schema_migrations table. Version 1 of each
// is the SQLite schema at its current version translated in one step: BIGINT microsecond instants,
// TEXT (ids COLLATE "C", so ids order byte by byte as in SQLite), BYTEA for sealed values,
// BOOLEAN flags, the CHECK constraints kept, and the append-only rules as triggers that raise
// SQLSTATE DV001 with a text fit for the operator. Open refuses a schema newer than the program.
//
// Writes. Submit() queues a batch; one writer thread applies the batches in submission order,
// each in its own transaction on each database it touches (no group commit yet: correctness
// first). The vault's transaction commits first, then the data's: a crash between the two leaves
// a key without data (harmless), never data without its key. A batch that breaks a rule
// (constraint or trigger) is rolled back on both and fails alone with kFailedPrecondition (no
// SQL text in the message); a value the server cannot store (invalid UTF-8, a NUL byte in text)
// fails with kInvalidArgument; a lost connection or any other server failure fails the batch
// with kUnavailable and the writer reconnects for the next one. A batch whose power_safe is false
// commits with synchronous_commit off (durable against a crash of Dovira, not of the server).
//
// Audit chaining. Rows submitted with seq 0 are numbered and chained inside the batch's
// transaction, after taking a transaction-scoped advisory lock on the school's chain and reading
// its head: seq and hash follow in commit order per school even if another process writes to the
// same schema, and a failed batch takes its entries with it. This puts the chain head on the
// transactions' critical path; issue 17 asks to move it off (the SQLite writer keeps the heads in
// memory) once several nodes are designed.
//
// Reads use pools of connections per database (one statement each, autocommit, so a read sees
// the last committed state). A ForEach* query is read whole, the connection goes back to the
// pool, then the callback sees the rows: a callback may call other reads but must not wait for a
// write to complete. Large schools will need the rows streamed (single-row mode or a cursor).
//
// Backups. Backup and BackupKeyVault run pg_dump on the store's schema of each database
// (dump.h): custom format, restored with pg_restore; the tombstones are replayed when the store
// next opens (B09).
//
// Thread-safety: every method may be called concurrently from any thread. The destructor waits
// for queued batches to complete (their callbacks run) and must not race with Submit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "ports/store.h"

namespace dovira::postgres {

struct PostgresOptions {
  // libpq connection strings ("host=/run/postgresql dbname=dovira" or "postgresql://..."): the
  // data database and the key vault. Must name different databases.
  std::string data_conninfo;
  std::string keys_conninfo;
  // The schema of this store in both databases (created when missing).
  std::string schema = "dovira";
  // Read connections kept open per database (more are opened while all are busy).
  int reader_connections = 4;
  // When set, the store holds a session advisory lock on the schema, by a connection of its own
  // for the store's life, and Open refuses (kFailedPrecondition "schema_in_use") while another
  // process holds it in a way that conflicts, with this text completing the message ("rotate the
  // keys"). The PostgreSQL counterpart of the data directory's lock.
  std::string exclusive_for;
  // With exclusive_for: the lock is shared, as several servers share one schema (each decides
  // uses from its own copy of the gate's state and checks it against the store's gate versions,
  // ports::GateCheck), while a command that needs the schema alone (keys rotate) holds it
  // exclusively and is refused while any server runs.
  bool shared_hold = false;
};

class PostgresStore final : public ports::Store {
 public:
  // Connects, creates the schema when missing and applies the migrations each database lacks.
  // Returns kInvalidArgument for bad options, kFailedPrecondition when a schema was written by a
  // newer program, and kUnavailable when a server cannot be reached or a migration fails.
  static Result<std::unique_ptr<PostgresStore>> Open(PostgresOptions options);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  void Submit(ports::WriteBatch batch, std::function<void(Status)> done) override;
  void SetAuditChainer(ports::AuditChainer chainer) override;

  // Every read returns kUnavailable when the database cannot be read, and kInternal when a stored
  // value is malformed.
  Result<std::optional<ports::SchoolRow>> GetSchool(const SchoolId& id) override;
  Result<std::vector<ports::SchoolRow>> ListSchools() override;
  Result<std::vector<ports::PolicyVersionRow>> ListPolicyVersions(const SchoolId& school) override;

  Result<std::optional<ports::SubjectRow>> GetSubject(const SchoolId& school,
                                                      const SubjectId& id) override;
  Result<int64_t> GetGateVersion(const SchoolId& school, const SubjectId& id) override;
  Result<std::optional<ports::SubjectKeyRow>> GetSubjectKey(const SchoolId& school,
                                                            const SubjectId& id) override;
  Status ForEachSubjectKey(const SchoolId& school,
                           const std::function<void(const ports::SubjectKeyRow&)>& fn) override;
  Result<std::vector<ports::RecordRow>> GetRecords(const SchoolId& school,
                                                   const SubjectId& subject) override;
  Result<std::vector<ports::RecordRow>> GetRecordsPage(const SchoolId& school,
                                                       const SubjectId& subject,
                                                       const std::string& after_id,
                                                       size_t limit) override;
  Result<std::vector<ports::RecordRow>> GetStoreRecords(const SchoolId& school,
                                                        const SubjectId& subject,
                                                        const std::string& store) override;
  Result<std::vector<ports::ConsentRow>> GetConsents(const SchoolId& school,
                                                     const SubjectId& subject) override;
  Result<std::optional<SubjectId>> FindByLookup(const SchoolId& school, const std::string& field,
                                                const std::string& token) override;
  Status ForEachSubject(const SchoolId& school,
                        const std::function<void(const ports::SubjectRow&)>& fn) override;
  Status ForEachConsent(const SchoolId& school,
                        const std::function<void(const ports::ConsentRow&)>& fn) override;
  Result<std::vector<ports::SubjectRow>> ListSubjects(const SchoolId& school,
                                                      const std::string& after_id,
                                                      size_t limit) override;

  Result<std::optional<ports::AuditRow>> LastAudit(const SchoolId& school) override;
  Status ForEachAudit(const SchoolId& school, int64_t from_seq,
                      const std::function<bool(const ports::AuditRow&)>& fn) override;
  Result<std::vector<ports::AuditRow>> AuditForSubject(const SchoolId& school,
                                                       const std::string& subject_ref,
                                                       int64_t after_seq, size_t limit) override;
  Result<std::vector<ports::CheckpointRow>> ListCheckpoints(const SchoolId& school) override;
  Result<std::optional<ports::CheckpointRow>> GetAuditAnchor(const SchoolId& school) override;

  Result<std::optional<ports::StaffRow>> GetStaff(const SchoolId& school,
                                                  const StaffId& id) override;
  Result<std::optional<ports::StaffRow>> FindStaffByEmail(const SchoolId& school,
                                                          const std::string& email) override;
  Result<std::vector<ports::StaffRow>> ListStaff(const SchoolId& school) override;
  Result<std::optional<ports::SessionRow>> GetSession(const std::string& token_hash) override;
  Result<std::optional<ports::SubscriptionConfirmationRow>> GetSubscriptionConfirmation(
      const std::string& token_hash) override;
  Result<std::optional<ports::SubjectSessionRow>> GetSubjectSession(
      const std::string& token_hash) override;
  Result<std::optional<ports::ApiKeyRow>> FindApiKey(const std::string& key_hash) override;
  Result<std::vector<ports::ApiKeyRow>> ListApiKeys(const SchoolId& school) override;
  Result<std::optional<ports::RequestRow>> GetRequest(const SchoolId& school,
                                                      const std::string& id) override;
  Result<std::vector<ports::RequestRow>> ListRequests(const SchoolId& school,
                                                      const ports::RequestFilter& filter) override;
  Status ForEachRequest(const SchoolId& school, bool open_only,
                        const std::function<void(const ports::RequestRow&)>& fn) override;
  Result<std::vector<ports::RequestEventRow>> GetRequestEvents(const SchoolId& school,
                                                               const std::string& request) override;
  Result<std::vector<ports::OutboxRow>> DueOutbox(Timestamp now, size_t limit) override;
  Result<std::vector<ports::OutboxRow>> RequestOutbox(const SchoolId& school,
                                                      const std::string& request) override;
  Result<std::vector<ports::OutboxRow>> UnsentOutbox(const SchoolId& school) override;
  Result<std::vector<ports::TombstoneRow>> ListTombstones(const SchoolId& school) override;
  // Erasures recorded in the key vault re-applied to the data (B09) when the store was opened.
  int64_t replayed_tombstones() const;

  // Not implemented yet: kUnavailable.
  Result<bool> HoldJobsLease() override;
  Status Backup(const std::string& path) override;
  Status BackupKeyVault(const std::string& path) override;

  Result<std::optional<ports::CookieConsentRow>> GetCookieConsent(const SchoolId& school,
                                                                  const std::string& id) override;
  Status ForEachVisit(const SchoolId& school, const std::string& from, const std::string& to,
                      const std::function<void(const ports::VisitRow&)>& fn) override;
  Result<std::vector<ports::DisclosureRow>> ListDisclosures(
      const SchoolId& school, const ports::DisclosureFilter& filter) override;
  Result<std::optional<ports::RecipientContactRow>> GetRecipientContact(
      const SchoolId& school, const std::string& recipient) override;
  Result<std::vector<ports::RecipientContactRow>> ListRecipientContacts(
      const SchoolId& school) override;
  Result<std::vector<ports::LegalHoldRow>> ListLegalHolds(const SchoolId& school,
                                                          const SubjectId& subject) override;
  Result<std::optional<ports::LegalHoldRow>> GetLegalHold(const SchoolId& school,
                                                          const std::string& id) override;
  Result<std::vector<ports::LegalHoldRow>> DueLegalHolds(const SchoolId& school,
                                                         const std::string& today,
                                                         size_t limit) override;
  Result<std::vector<ports::ReviewTaskRow>> ListReviewTasks(const SchoolId& school, bool open,
                                                            size_t limit) override;
  Result<std::vector<ports::SubjectAssignmentRow>> ListSubjectAssignments(
      const SchoolId& school) override;
  Result<std::vector<ports::AccessGrantRow>> AccessGrantsEndingAfter(const SchoolId& school,
                                                                     Timestamp after) override;
  Result<std::optional<ports::GuardianshipRow>> GetGuardianship(const SchoolId& school,
                                                                const std::string& id) override;
  Result<std::vector<ports::GuardianshipRow>> MinorGuardianships(const SchoolId& school,
                                                                 const SubjectId& minor) override;
  Result<std::vector<ports::GuardianshipRow>> GuardianshipsByEmail(
      const SchoolId& school, const std::string& email_token) override;
  Status ForEachGuardianship(const SchoolId& school,
                             const std::function<void(const ports::GuardianshipRow&)>& fn) override;
  Result<std::vector<ports::GuardianshipRow>> DueMajorities(const SchoolId& school, Timestamp at,
                                                            size_t limit) override;
  Result<std::vector<ports::SubjectEventRow>> GetSubjectEvents(const SchoolId& school,
                                                               const SubjectId& subject) override;
  Result<std::vector<ports::RetentionDueRow>> SubjectRetention(const SchoolId& school,
                                                               const SubjectId& subject) override;
  Result<std::vector<ports::RetentionDueRow>> DueRetention(
      const SchoolId& school, const std::string& through, const std::string& after_date,
      const std::string& after_subject, const std::string& after_purpose, size_t limit) override;
  Status ForEachEndedRetention(
      const SchoolId& school,
      const std::function<void(const ports::RetentionDueRow&)>& fn) override;
  Result<std::optional<Timestamp>> GetRetentionMark(const SchoolId& school) override;
  Result<std::vector<SubjectId>> SubjectsChangedBetween(const SchoolId& school, Timestamp since,
                                                        Timestamp until) override;

 private:
  class Impl;
  explicit PostgresStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace dovira::postgres
