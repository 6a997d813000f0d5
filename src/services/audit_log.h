// The audit log (R88, B01): every action on personal data and every gate decision becomes an
// entry of a per-school hash chain. Entries name subjects only by a keyed pseudonym, so erasing a
// person never rewrites history. Entries are numbered and chained by the store at commit time
// (ports::Store::SetAuditChainer), in commit order; checkpoints sign the chain head with the
// school's Ed25519 key.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "services/context.h"

namespace dovira::services {

struct AuditEvent {
  std::string actor;  // Actor::AuditName()
  std::string role;
  std::string action;  // read, create, update, consent.grant, consent.withdraw, gate, login, ...
  std::string subject_ref;  // the pseudonym (AuditLog::Pseudonym) or ""
  std::string purpose;
  std::string fields;   // comma-separated field ids
  std::string outcome;  // allow | deny | ok | error
  std::string reason;
  std::string decision_id;
  std::string request_id;
  std::string detail;  // JSON with no personal data
};

struct AuditVerification {
  bool ok = true;
  int64_t entries = 0;
  int64_t checkpoints = 0;
  std::optional<int64_t> first_broken;  // seq of the first entry that fails
  std::string problem;                  // what is wrong there
};

class AuditLog {
 public:
  explicit AuditLog(Deps deps);

  // The hash function installed into the store: BLAKE2b(prev_hash || canonical entry), hex.
  static ports::AuditChainer Chainer(ports::Crypto& crypto);
  // Length-prefixed serialisation of every field of the row except `hash`.
  static std::string Canonical(const ports::AuditRow& row);

  // The subject's pseudonym: hex keyed BLAKE2b of the subject id under the school's key.
  Result<std::string> Pseudonym(const SchoolId& school, const SubjectId& subject);

  // Appends an entry to `batch`; it is stored, numbered and chained when the batch commits.
  void Add(ports::WriteBatch& batch, const SchoolId& school, AuditEvent event) const;
  // Records an entry in a batch of its own; returns once it is durable. `power_safe` false lets
  // it share a commit without an fsync of its own (reads; see ports::WriteBatch).
  Status Record(const SchoolId& school, AuditEvent event);

  // Walks the whole chain: recomputes every hash, checks every link and every checkpoint
  // signature, and names the first broken entry.
  Result<AuditVerification> Verify(const SchoolId& school);
  // Signs the current head if it moved since the last checkpoint.
  Status Checkpoint(const SchoolId& school);
  // Entries after `after_seq`, at most `limit`, in seq order.
  Result<std::vector<ports::AuditRow>> Page(const SchoolId& school, int64_t after_seq,
                                            size_t limit);
  // Entries before `before_seq` (every entry when it is nullopt), at most `limit`, newest first.
  Result<std::vector<ports::AuditRow>> PageBackward(const SchoolId& school,
                                                    std::optional<int64_t> before_seq,
                                                    size_t limit);
  // The newest entry's seq, 0 for an empty log.
  Result<int64_t> LastSeq(const SchoolId& school);
  // The subject's own entries (for an access request).
  Result<std::vector<ports::AuditRow>> ForSubject(const SchoolId& school, const SubjectId& subject,
                                                  int64_t after_seq, size_t limit);

 private:
  Deps deps_;
};

}  // namespace dovira::services
