// The SQLite implementation of the storage port (ports::Store).
//
// A store is a directory holding two databases:
//   <dir>/data.db  everything except subject keys (schools, policies, subjects, records, consents,
//                  lookups, audit, checkpoints, staff, sessions, API keys);
//   <dir>/keys.db  the key vault: subject data keys (B02), tombstones of erased subjects (B09)
//                  and each school's audit anchor, its newest signed checkpoint (B01).
// Both run in WAL mode with synchronous=FULL (an acknowledged write survives a power cut),
// foreign keys on and secure_delete on. The directory is created 0700 and the files 0600.
// Open applies the numbered schema migrations (migrations/data, migrations/keys) each database
// is missing, and refuses a database written by a newer program.
//
// Writes: Submit() queues a batch. One writer thread takes every queued batch (up to
// max_batches_per_group) as one group. It opens one transaction on keys.db (only when the group
// touches keys) and one on data.db, applies each batch inside its own SAVEPOINT on both, so a
// batch that breaks a rule (constraint or trigger) is rolled back alone, commits keys.db first
// and data.db second (one fsync per database for the whole group), then calls every callback in
// submission order. A storage failure (disk full, I/O error) fails every batch of the group with
// kUnavailable. Append-only rules (consents, audit, checkpoints, policy versions) are also
// enforced by triggers in data.db (audit entries and checkpoints refuse UPDATE and DELETE);
// erasing a subject is the only way consent rows are deleted.
//
// Reads use a pool of read-only connections (WAL readers, so they never wait for the writer);
// each read is one statement in its own implicit transaction. A ForEach* callback runs while its
// connection is held; it may call other reads (the pool opens an extra connection when none is
// free) but must not wait for a write to complete.
//
// Thread-safety: every method may be called concurrently from any thread. The destructor waits
// for queued batches to complete (their callbacks run) and must not race with Submit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "ports/store.h"

namespace dovira::sqlite {

struct SqliteOptions {
  // Read connections kept open per database (more are opened while all are busy).
  int reader_connections = 4;
  // The most batches committed together in one transaction.
  int max_batches_per_group = 256;
  // FULL: an acknowledged batch survives a power cut. NORMAL (false): it survives a crash of the
  // process but the last commits may be lost on a power cut.
  bool synchronous_full = true;
  // A cap on the size of data.db in pages (0: none). When reached, writes fail as on a full disk.
  int64_t max_data_pages = 0;
};

class SqliteStore final : public ports::Store {
 public:
  // Opens (creating when missing) the store in `dir`. Returns kFailedPrecondition when a database
  // has a schema version newer than this program, kInvalidArgument for bad options, and
  // kUnavailable when the directory or a database cannot be created, opened or migrated.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& dir,
                                                   SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Queues the batch; `done` runs on the writer thread. After the destructor has begun, `done`
  // gets kUnavailable. A rejected batch gets kFailedPrecondition (a rule such as append-only or a
  // duplicate id) or kInvalidArgument (a value SQLite cannot store) and leaves no trace.
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
  Result<std::vector<ports::RequestEventRow>> GetRequestEvents(
      const SchoolId& school, const std::string& request) override;
  Result<std::vector<ports::OutboxRow>> DueOutbox(Timestamp now, size_t limit) override;
  Result<std::vector<ports::OutboxRow>> RequestOutbox(const SchoolId& school,
                                                      const std::string& request) override;
  Result<std::vector<ports::OutboxRow>> UnsentOutbox(const SchoolId& school) override;
  Result<std::vector<ports::TombstoneRow>> ListTombstones(const SchoolId& school) override;
  // Erasures recorded in the key vault re-applied to the data (B09): how many subjects were
  // found in the data and erased again when the store was opened.
  int64_t replayed_tombstones() const;

  // Both write a temporary file beside `path` (mode 0600), fsync it and rename it over `path`.
  // Return kUnavailable when the copy cannot be made (nothing is left at `path` then).
  Result<bool> HoldJobsLease() override;
  Status Backup(const std::string& path) override;
  Status BackupKeyVault(const std::string& path) override;

  // ---- Cookie consents ----
  Result<std::optional<ports::CookieConsentRow>> GetCookieConsent(const SchoolId& school,
                                                                  const std::string& id) override;
  // ---- Visit statistics ----
  Status ForEachVisit(const SchoolId& school, const std::string& from, const std::string& to,
                      const std::function<void(const ports::VisitRow&)>& fn) override;

  // ---- Disclosures ----
  Result<std::vector<ports::DisclosureRow>> ListDisclosures(
      const SchoolId& school, const ports::DisclosureFilter& filter) override;
  Result<std::optional<ports::RecipientContactRow>> GetRecipientContact(
      const SchoolId& school, const std::string& recipient) override;
  Result<std::vector<ports::RecipientContactRow>> ListRecipientContacts(
      const SchoolId& school) override;

  // ---- Legal holds ----
  Result<std::vector<ports::LegalHoldRow>> ListLegalHolds(const SchoolId& school,
                                                          const SubjectId& subject) override;
  Result<std::optional<ports::LegalHoldRow>> GetLegalHold(const SchoolId& school,
                                                          const std::string& id) override;
  Result<std::vector<ports::LegalHoldRow>> DueLegalHolds(const SchoolId& school,
                                                         const std::string& today,
                                                         size_t limit) override;
  // ---- Policy reviews ----
  Result<std::vector<ports::ReviewTaskRow>> ListReviewTasks(const SchoolId& school, bool open,
                                                            size_t limit) override;
  // ---- Break-glass grants ----
  Result<std::vector<ports::SubjectAssignmentRow>> ListSubjectAssignments(
      const SchoolId& school) override;
  Result<std::vector<ports::AccessGrantRow>> AccessGrantsEndingAfter(const SchoolId& school,
                                                                     Timestamp after) override;
  // ---- Guardianships ----
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
  Result<std::vector<ports::RetentionDueRow>> DueRetention(const SchoolId& school,
                                                           const std::string& through,
                                                           const std::string& after_date,
                                                           const std::string& after_subject,
                                                           const std::string& after_purpose,
                                                           size_t limit) override;
  Status ForEachEndedRetention(
      const SchoolId& school,
      const std::function<void(const ports::RetentionDueRow&)>& fn) override;
  Result<std::optional<Timestamp>> GetRetentionMark(const SchoolId& school) override;
  Result<std::vector<SubjectId>> SubjectsChangedBetween(const SchoolId& school, Timestamp since,
                                                        Timestamp until) override;

  // Data transactions committed (one per group), and batches taken by the writer (whatever
  // their outcome). batches() / commits() is the average group size.
  uint64_t commits() const;
  uint64_t batches() const;

 private:
  class Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace dovira::sqlite
