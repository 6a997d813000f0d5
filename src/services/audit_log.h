// The audit log (R88, B01): every action on personal data and every gate decision becomes an
// entry of a per-school hash chain. Entries name subjects only by a keyed pseudonym, so erasing a
// person never rewrites history. Entries are numbered and chained by the store at commit time
// (ports::Store::SetAuditChainer), in commit order; checkpoints sign the chain head with the
// school's Ed25519 key. The newest checkpoint is also kept in the key vault as the chain's anchor
// (ports::WriteBatch::audit_anchors), which data backups never contain: entries cut off the end
// of the data together with their checkpoint rows are still missed by the anchor (B01).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <mutex>
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

// B01: the data compared with the school's anchor in the key vault.
struct AuditTail {
  // ok: no anchor yet, or the entry it names is there with its hash. tail_missing: the data end
  // before that entry (entries removed, or an older data backup restored). tail_changed: the
  // entry is there with another hash, or the anchor is not signed by the school's key.
  std::string state = "ok";
  int64_t anchored_seq = 0;             // the entry the anchor names, 0 without one
  std::optional<int64_t> first_broken;  // the first entry missing or changed
  std::string problem;                  // what is wrong there, for the operator
  bool ok() const { return state == "ok"; }
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
  // signature, compares the tail with the anchor (CheckTail), and names the first broken entry.
  Result<AuditVerification> Verify(const SchoolId& school);
  // Signs the current head if it moved since the last checkpoint, and makes it the anchor. An
  // anchor the data no longer match is kept as it is, so that the evidence of a cut-off tail
  // stays until someone looks (the new checkpoint is still written to the data).
  Status Checkpoint(const SchoolId& school);
  // B01: compares the anchor with the data without walking the chain (run at start). The result
  // is also remembered for TailState. Returns an error only when the store cannot be read.
  Result<AuditTail> CheckTail(const SchoolId& school);
  // "ok", or the state of the last CheckTail or Verify of any school that found the tail missing
  // or changed (for /healthz).
  std::string TailState() const;
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
  // The comparison behind CheckTail and Verify, with the anchor read before the data (so that a
  // checkpoint taken meanwhile cannot look like a missing tail).
  Result<AuditTail> CompareTail(const SchoolId& school,
                                const std::optional<ports::CheckpointRow>& anchor);
  void RememberTail(const SchoolId& school, const AuditTail& tail);

  Deps deps_;
  mutable std::mutex tails_mu_;
  std::map<SchoolId, std::string> tails_;  // guarded by tails_mu_: state per school, if not ok
};

}  // namespace dovira::services
