// Subjects: intake through the policy's forms and the API (R02, R07-R12, R15-R18, R24, R25), each
// subject's data key (XChaCha20-Poly1305, wrapped by the school's KEK; B02), the records sealed
// under it and kept per store (R92), provenance (R11), and the gate's compact state for every
// subject, rebuilt from the store at start.
//
// Personal data is never stored, logged or put in an error message in plain text: values are
// sealed before they reach the store, the audit names subjects by pseudonym, and refusals name
// fields, never values.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/intake.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"

namespace dovira::services {

class Outbox;
class SubscriptionService;

struct ConsentReceipt {
  ConsentId id;
  std::string consent_type;
  std::string action;  // grant | withdraw
  std::vector<std::string> grants;
  std::string text;
  std::string text_sha256;
  std::string lang;
  std::string channel;
  std::string policy_version;
  std::string given_by;
  std::string withdrawal_procedure;  // shown when consent is given (R19)
  Timestamp at{};
  std::optional<Timestamp> expires_at;
};

// The receipt of a stored ledger row; `withdrawal_procedure` is shown with a grant (R19).
ConsentReceipt ReceiptOf(const ports::ConsentRow& row, std::string withdrawal_procedure = {});

struct IntakeReceipt {
  SubjectId subject;
  std::string kind;
  std::string policy_version;
  std::string channel;
  std::string form;
  bool minor = false;
  std::vector<std::string> fields;  // field ids stored
  std::vector<ConsentReceipt> consents;
  // Marketing purposes ticked on a public form that wait for the double opt-in: a confirmation
  // letter went to the e-mail address given (R15, R54).
  std::vector<std::string> awaiting_confirmation;
  Timestamp at{};
};

struct ProvenanceEntry {
  std::string field;
  std::string category;
  std::string store;
  std::string source, channel, form, policy_version;
  Timestamp collected_at{};
};

// R44: an additional statement the subject attached to one of their fields.
struct FieldStatement {
  std::string field;
  std::string text;
  Timestamp at{};
};

struct SubjectSummary {
  ports::SubjectRow row;
  bool minor = false;
  std::optional<domain::Representative> representative;
  std::string country;      // residence (R05), "" when not on file
  std::string citizenship;  // R05, "" when not on file
  std::vector<FieldStatement> statements;  // R44: the fields and times; the texts are cleared
};

// One row of a bulk import: its line in the file (the first line of a CSV record that spans
// several) and the submission read from it, or why it could not be read.
struct ImportRow {
  size_t line = 0;
  domain::Submission submission;
  std::optional<Error> unreadable;
};

// Where an import's rows come from (api::ImportReader reads CSV and JSON lines).
class ImportSource {
 public:
  virtual ~ImportSource() = default;
  // The next row into `row`; false at the end.
  virtual bool Next(ImportRow& row) = 0;
};

struct ImportOptions {
  // For the rows that do not name them ("" source: "subject", as for one intake through the API).
  std::string kind, channel, source;
  std::string label;  // what the rows came from (a file name), for the audit
  size_t batch_size = 1000;
  bool list_stored = false;  // ImportReport::stored: the subject stored from each line
};

struct ImportRefusal {
  size_t line = 0;
  Error error;  // the first reason; every reason in error.problems
};

struct ImportReport {
  std::string id;  // named in the audit entry of every subject it stored
  size_t rows = 0;
  size_t imported = 0;
  std::vector<std::pair<size_t, SubjectId>> stored;  // with ImportOptions::list_stored
  std::vector<ImportRefusal> refused;  // the first kMaxListed; `refused_count` counts them all
  size_t refused_count = 0;
  std::optional<Error> stopped;  // a store error that ended the import early
  size_t stopped_at_line = 0;    // the first line not stored because of it
  static constexpr size_t kMaxListed = 1000;
};

class SubjectService {
 public:
  // With `subscriptions`, marketing grants given on a public form with an e-mail address wait for
  // their double opt-in (subscriptions.h); without, they are granted at intake. With `outbox`,
  // a person who gives consent on a public form with an e-mail address is sent its receipt (B07):
  // each consent's exact text, time, policy version and SHA-256, in the same batch as the intake.
  SubjectService(Deps deps, Schools& schools, AuditLog& audit,
                 SubscriptionService* subscriptions = nullptr, Outbox* outbox = nullptr);

  // One subject's part of the gate state, from the store, into `state`: its gate version (read
  // first, see ports::GateCheck), kind, status, minor status and consent windows. False when the
  // subject is not stored.
  // Destroys the reserved keys no intake took (at shutdown, once no intake runs), so that a
  // restart leaves no unused key in the vault; a crash leaves at most kReservedKeys per school.
  Status ReleaseReservedKeys();
  Result<bool> LoadSubjectGate(SchoolRuntime& school, const SubjectId& subject,
                               domain::SubjectState& state);

  // Validates (domain::ValidateSubmission) and stores a new subject atomically: key, subject row,
  // sealed records in every store of their purposes, consents, lookup tokens and audit entries.
  // Refusals are Error::Refused with the domain's reasons; nothing is stored then.
  Result<IntakeReceipt> Intake(const SchoolId& school, const domain::Submission& submission,
                               const Actor& actor, const RequestContext& ctx);

  // Bulk import (`dovira import`, POST .../subject-imports): rows of subjects from the school's
  // other systems, each through the same validation as Intake, stored in batches of
  // `options.batch_size` (one durable commit each). A refused row is reported with its line and
  // its reasons and stores nothing; the rows before and after it are stored. Each subject's audit
  // entry names the import and the row's line (provenance); one "subject.import" entry at the end
  // counts the rows. An error of the store stops the import: the report says how many rows were
  // stored before it (`stopped`, `stopped_at_line`).
  Result<ImportReport> Import(const SchoolId& school, ImportSource& source,
                              const ImportOptions& options, const Actor& actor,
                              const RequestContext& ctx);

  // Metadata only (no personal data values); kNotFound "subject_unknown". Audited.
  Result<SubjectSummary> Get(const SchoolId& school, const SubjectId& subject, const Actor& actor,
                             const RequestContext& ctx);
  // Subjects after `after` by id. With `only` (R86: the subjects assigned to an outside
  // organisation), those alone.
  Result<std::vector<ports::SubjectRow>> List(const SchoolId& school, const std::string& after,
                                              size_t limit,
                                              const std::set<std::string>* only = nullptr);

  // R44 (004 §9.3, §9.6): the subject supplements a field they have on file with a statement of
  // their own, kept sealed in the subject's profile; a new statement on the same field replaces
  // the earlier one. Audited ("subject.statement", naming the field, never the text). Errors:
  // kNotFound "subject_unknown".
  Result<FieldStatement> AttachStatement(const SchoolId& school, const SubjectId& subject,
                                         const std::string& field, const std::string& text,
                                         const Actor& actor, const RequestContext& ctx);
  // R44: commits `batch`, which deletes the subject's `field`, together with the removal of the
  // subject's statement on that field, so that no statement outlives what it supplements.
  // Errors: the store's; kInternal "integrity" when the profile cannot be opened.
  Status CommitFieldDeletion(const SchoolId& school, const SubjectId& subject,
                             const std::string& field, ports::WriteBatch batch);
  // The subject's statements, oldest first; empty when there are none.
  Result<std::vector<FieldStatement>> Statements(const SchoolId& school, const SubjectId& subject);
  Result<std::vector<ProvenanceEntry>> Provenance(const SchoolId& school, const SubjectId& subject,
                                                  const Actor& actor, const RequestContext& ctx);

  // The subject's data key (cached); kNotFound when the subject or its key is gone.
  Result<ports::SecretKey> SubjectKey(const SchoolId& school, const SubjectId& subject);

  // Destroys the subject's key first, then every row of the subject, and forgets its gate state;
  // the audit keeps a tombstone naming only the pseudonym and the ground. Old backups of the data
  // cannot be decrypted for this subject afterwards (B02). The erasure request workflow around it
  // comes with the rights workflows.
  // A tombstone (B09) goes to the key vault in the same batch; `extra` (the closing of the erasure
  // request, its notices) commits atomically with the erasure.
  Status DestroySubject(const SchoolId& school, const SubjectId& subject, const std::string& ground,
                        const Actor& actor, const RequestContext& ctx,
                        ports::WriteBatch extra = {}, const std::string& request = {});

  // Every record of the subject with its value opened (access packages, exports, R38, R40).
  struct OpenRecord {
    ports::RecordRow row;
    std::string value;
  };
  Result<std::vector<OpenRecord>> OpenAll(const SchoolId& school, const SubjectId& subject);
  // OpenAll page by page (ports::Store::GetRecordsPage): at most `limit` records with ids after
  // `after_id` ("" for the first page), so that a caller writing them out holds one page at a time.
  Result<std::vector<OpenRecord>> OpenPage(const SchoolId& school, const SubjectId& subject,
                                           const std::string& after_id, size_t limit);

  // Adds to `batch` new sealed values for fields the subject already has (rectification, R46):
  // every stored copy of each field is replaced. kRefused "field_not_held" for a field without a
  // record, "field_undeclared" for a field the policy does not declare. Call ForgetRecords after
  // the batch commits.
  Status PrepareFieldUpdate(const SchoolId& school, const SubjectId& subject,
                            const std::map<std::string, std::string>& values, Timestamp now,
                            ports::WriteBatch& batch);

  struct RotationReport {
    std::string new_kek;
    std::vector<std::string> retired;
    int64_t rewrapped = 0;
  };
  // `dovira keys rotate`: a new KEK, every subject key rewrapped with it in batches (the service
  // stays up: reads unwrap with whichever KEK wrapped the key), then the old KEKs retired.
  Result<RotationReport> RotateKeys(const SchoolId& school, const Actor& actor,
                                    const RequestContext& ctx);

  // Seals/opens one value of a subject (aad binds school, subject, field and record id).
  std::string SealValue(const ports::SecretKey& key, const SchoolId& school,
                        const SubjectId& subject, const std::string& field,
                        const std::string& record_id, const std::string& value);
  Result<std::string> OpenValue(const ports::SecretKey& key, const ports::RecordRow& record);

  // The subject's sealed records kept in `store`, from a bounded in-memory cache of ciphertext
  // (never plaintext). Every write to a subject's records in this service forgets its entries.
  Result<std::shared_ptr<const std::vector<ports::RecordRow>>> StoreRecords(
      const SchoolId& school, const SubjectId& subject, const std::string& store);
  void ForgetRecords(const SchoolId& school, const SubjectId& subject);

  // A lookup token for a normalised value (e.g. an e-mail), keyed by the school's pseudonym key.
  Result<std::string> LookupToken(const SchoolId& school, const std::string& field,
                                  const std::string& normalised_value);

 private:
  // A validated submission as rows added to a batch, and what the school's gate and the key cache
  // learn once the batch commits (Admit).
  struct PreparedIntake {
    IntakeReceipt receipt;
    ports::SecretKey key;
    uint16_t kind = 63;
    int64_t minor_until_us = 0;
    int64_t reconsent_from_us = domain::kForever;
    std::vector<domain::ConsentWindow> consents;
    size_t line = 0;  // of an imported row
  };
  // A subject id and its key, already durable in the key vault (TakeReservedKey).
  struct ReservedKey {
    SubjectId subject;
    ports::SecretKey key;
  };
  // Adds the subject's rows and audit entries to `batch`; `provenance` (members of a JSON object,
  // each after a comma, or "") joins the detail of its subject.create entry and the evidence of
  // its consents. With `reserved`, the subject takes that id and key, already in the vault, and
  // the batch touches the data alone; otherwise the new key joins the batch. A refusal leaves
  // `batch` as it was; after any other error it must be dropped.
  Result<PreparedIntake> PrepareIntake(const SchoolId& school_id, const SchoolRuntime& school,
                                       const domain::CompiledPolicy& policy,
                                       const domain::Submission& submission,
                                       const domain::ValidatedSubmission& v, const Actor& actor,
                                       const RequestContext& ctx, const std::string& provenance,
                                       ports::WriteBatch& batch,
                                       const ReservedKey* reserved = nullptr);
  // A subject id and key for one intake. The keys are made and committed to the vault
  // kReservedKeys at a time, so that an intake's own commit has no key in it: one durable commit
  // (one fsync on SQLite) per submission instead of the vault's and then the data's. The vault
  // always holds a key before any data sealed under it (a crash leaves at most unused keys).
  Result<ReservedKey> TakeReservedKey(const SchoolId& school);
  void Admit(const SchoolId& school_id, SchoolRuntime& school, const PreparedIntake& p);

  // The end of the subject's minority, from its sealed profile (0: an adult or not known).
  int64_t MinorUntil(const SchoolId& school, const ports::SubjectRow& row);

  struct CachedKey {
    ports::SecretKey key;
    std::list<std::string>::iterator lru;
  };
  void CacheKey(const std::string& cache_key, const ports::SecretKey& key);
  void ForgetKey(const std::string& cache_key);

  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  SubscriptionService* subscriptions_;
  Outbox* outbox_;

  static constexpr size_t kRecordCacheSize = 20000;
  std::mutex records_mu_;
  // "school|subject|store" → records; guarded by records_mu_. Cleared wholesale when full.
  std::unordered_map<std::string, std::shared_ptr<const std::vector<ports::RecordRow>>> records_;

  static constexpr size_t kReservedKeys = 32;
  std::mutex reserved_mu_;
  // school → subject ids and keys committed to the vault and not used yet; guarded by reserved_mu_.
  std::map<SchoolId, std::vector<ReservedKey>> reserved_;

  static constexpr size_t kKeyCacheSize = 100000;
  std::mutex cache_mu_;
  std::unordered_map<std::string, CachedKey> key_cache_;  // guarded by cache_mu_
  std::list<std::string> lru_;                             // guarded by cache_mu_
};

// The sealed profile of a subject: facts the gate needs that are themselves personal data.
struct SubjectProfile {
  int64_t minor_until_us = 0;
  std::optional<domain::Representative> representative;
  std::string country;      // residence
  std::string citizenship;  // R05: a fact apart from residence
  std::string lang;
  std::vector<FieldStatement> statements;  // R44
};
std::string EncodeProfile(const SubjectProfile& p);
SubjectProfile DecodeProfile(const std::string& json);

}  // namespace dovira::services
