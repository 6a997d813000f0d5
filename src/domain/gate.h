// The purpose gate: every use of personal data (read, update, disclose, export, send a message)
// names an actor, a role, a purpose and the fields it wants; the gate answers allow or deny with a
// reason, from the compiled policy and the subject's compact state (consent windows, blocks,
// restrictions, objections, minor status). It fails closed: anything unknown is denied.
//
// Decide() is a pure function over in-memory values (no I/O), so a decision costs well under a
// microsecond. GateState keeps the compact state of the school's subjects in use, loaded on demand,
// bounded, and sharded for concurrent readers.
//
// Thread-safety: Decide() is reentrant. GateState is safe for concurrent use.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "domain/compiled_policy.h"

namespace dovira::domain {

enum class Operation : uint8_t {
  kStore,     // storage only: backups, integrity jobs; allowed even while blocked or restricted
  kRead,
  kUpdate,
  kDisclose,
  kExport,
  kMessage,
  kDelete,
  kProfile,   // an automated evaluation of the subject (a profiling or segmentation run)
};

// Returns "read", "update", ... or "" for an out-of-range value; ParseOperation the reverse.
const char* OperationName(Operation op);
std::optional<Operation> ParseOperation(std::string_view name);

enum class Reason : uint8_t {
  kAllowed,
  kPurposeUndeclared,   // the policy declares no such purpose
  kPurposeDisabled,     // declared but switched off
  kSubjectUnknown,
  kSubjectKindExcluded, // the purpose is not for this kind of person
  kRoleDenied,          // the actor's role may not use this purpose
  kFieldNotInPurpose,   // a requested field is not mapped to the purpose (R30)
  kFieldNotInRole,      // a requested field is outside the role's categories (R86)
  kNoConsent,           // a consent purpose without an active grant (R29)
  kConsentNotYetGiven,  // the grant starts after this instant (R17)
  kConsentWithdrawn,
  kConsentExpired,      // R21
  kMinor,               // the purpose is not allowed for minors (R27)
  kSubjectClosing,      // the subject disagreed with the policy; storage only (R03)
  kBlocked,             // a rectification is pending on a requested field (R45)
  kRestricted,          // restriction: storage only (R51)
  kObjectionPending,    // objection to this purpose awaiting a decision (R52)
  kObjectionUpheld,     // objection decided for the subject (R52, R53)
  kRetentionEnded,      // the purpose's retention has ended for this subject (R70)
  kReconsentRequired,   // consent given through a representative; the now-adult must confirm (B06)
  kAutomatedOptOut,     // profiling of a subject who opted out of automated decisions (R62)
  kUnavailable,         // no policy or state: fail closed (B12)
};

// A stable snake_case code for logs, the audit and API responses ("no_consent").
const char* ReasonCode(Reason r);
// The HTTP status the API uses for a decision: 200 allowed, 423 blocked/restricted/objection
// pending, re-consent required, 404 unknown subject, 503 unavailable, 403 otherwise.
int ReasonStatus(Reason r);

inline constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

struct ConsentWindow {
  uint8_t purpose = 0;
  int64_t from_us = 0;         // active from this instant (inclusive)
  int64_t until_us = kForever; // until this instant (exclusive): expiry or withdrawal
  bool withdrawn = false;
};

// The version of a subject's state changed by this server since it was loaded: it matches no
// stored version, so the next use reloads the state from the store (ports::GateCheck).
inline constexpr int64_t kVersionChangedHere = -1;

// Everything the gate needs to know about one subject, in about a hundred bytes.
struct SubjectState {
  // The store's gate version of the subject this state was loaded at (ports::GateCheck), or
  // kVersionChangedHere. A use's audit entry carries it; the store refuses the entry when the
  // subject changed since, and the use is decided again on the state reloaded.
  int64_t version = kVersionChangedHere;
  uint16_t kind = 0;
  bool closing = false;
  int64_t minor_until_us = 0;  // a minor before this instant; 0 when an adult or unknown
  // From this instant (the majority of a minor whose consents a representative gave) consent-based
  // processing waits for the now-adult's own confirmation (B06); kForever when none is awaited.
  int64_t reconsent_from_us = std::numeric_limits<int64_t>::max();
  std::vector<ConsentWindow> consents;  // one per consent purpose ever granted, by purpose
  FieldSet blocked;
  FieldSet restricted;
  PurposeSet restricted_purposes = 0;
  PurposeSet objection_pending = 0;
  PurposeSet objection_upheld = 0;
  PurposeSet retention_ended = 0;
  bool no_automated = false;  // R62: an upheld no_automated_decisions request; no profiling
  // The state could not be loaded from the store: every use is refused as unavailable (B12).
  bool unavailable = false;

  const ConsentWindow* Consent(size_t purpose) const;
  // Records a grant from `at` until `until` (kForever when indefinite), replacing an earlier one.
  void Grant(size_t purpose, int64_t at_us, int64_t until_us);
  // Ends the window of `purpose` at `at`.
  void Withdraw(size_t purpose, int64_t at_us);
};

struct GateRequest {
  int purpose = -1;  // CompiledPolicy::PurposeIndex; -1 is an undeclared purpose
  int role = -1;     // CompiledPolicy::RoleIndex; -1: no staff role (the subject or a system job)
  Operation operation = Operation::kRead;
  FieldSet fields;          // requested fields
  bool all_fields = false;  // no explicit list: every field the purpose (and role) allows
  int64_t now_us = 0;
  // A break-glass grant in force for this actor, subject and purpose (R86, 004 §6.4): the fields
  // of the granted category, reachable beyond the role. Where the role lacks the purpose, the
  // grant is all it may reach; empty: no grant.
  FieldSet granted_fields;
};

struct Decision {
  Reason reason = Reason::kUnavailable;
  FieldSet fields;  // the fields released when allowed
  bool allowed() const { return reason == Reason::kAllowed; }
};

// The decision for one use. `subject` null means unknown subject; `policy` null fails closed.
Decision Decide(const CompiledPolicy* policy, const SubjectState* subject, const GateRequest& req);

// The compact state of the subjects of one school that the gate has seen: a bounded cache in
// front of the store. A subject not held is loaded on its first use through the loader (every
// part of its state, read from the store with its gate version), so start-up reads nothing and
// memory is bounded by the capacity, not by the number of subjects; decisions on a held subject
// are made in memory. A full shard forgets a subject it holds, chosen at random; the next use
// loads it again.
class GateState {
 public:
  // Builds one subject's state from the store: nullopt when the store has no such subject.
  using Loader = std::function<Result<std::optional<SubjectState>>(const SubjectId&)>;
  // Subjects held per school when no capacity is configured.
  static constexpr size_t kDefaultCapacity = 100000;

  GateState() = default;
  GateState(const GateState&) = delete;
  GateState& operator=(const GateState&) = delete;

  // From now on a subject not held is loaded through `loader`, and at most about `capacity`
  // subjects are held. Without a loader (tests of one service) only admitted subjects are known.
  void SetLoader(Loader loader, size_t capacity = kDefaultCapacity);

  // Runs fn with the subject's state, or nullptr when the store has no such subject. A state
  // that cannot be loaded is handed as one marked `unavailable`, which the gate refuses (B12).
  // fn runs under the subject's shard lock: it must not call back into this GateState.
  template <typename Fn>
  auto With(const SubjectId& id, Fn&& fn) const {
    return Use(id, std::forward<Fn>(fn), /*hold=*/true);
  }
  // As With, but a subject not held is loaded for this call only: for runs over every subject
  // (an anonymised data set, the consent counts), which would otherwise push out the subjects
  // in use.
  template <typename Fn>
  auto Peek(const SubjectId& id, Fn&& fn) const {
    return Use(id, std::forward<Fn>(fn), /*hold=*/false);
  }
  // A subject this server has just stored (intake, after its commit): its whole state.
  void Admit(const SubjectId& id, SubjectState state);
  // A change this server made (after its commit) to a subject held: runs fn on its state under an
  // exclusive lock and forgets its version, so that the next use that checks it reloads the state
  // from the store, where other servers' changes are. A subject not held is left to be loaded,
  // with the change, on its next use.
  void Update(const SubjectId& id, const std::function<void(SubjectState&)>& fn);
  // The subject's state as reloaded from the store, version included.
  void Replace(const SubjectId& id, SubjectState state);
  void Erase(const SubjectId& id);
  // The subjects held now.
  size_t size() const;

  struct Counters {
    uint64_t misses = 0, evictions = 0;  // loads from the store, subjects forgotten
  };
  Counters counters() const;

 private:
  template <typename Fn>
  auto Use(const SubjectId& id, Fn&& fn, bool hold) const {
    Shard& s = ShardOf(id);
    uint64_t changes = 0;
    {
      std::shared_lock lock(s.mu);
      auto it = s.subjects.find(id);
      // A hit counts nothing: a shared counter would be written by every reader on every use.
      if (it != s.subjects.end() || !loader_) {
        return fn(it == s.subjects.end() ? nullptr : &it->second);
      }
      changes = s.changes;
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    auto loaded = loader_(id);  // outside the lock: the store is read
    if (!loaded.ok()) {
      SubjectState unavailable;
      unavailable.unavailable = true;
      return fn(&unavailable);
    }
    if (!*loaded) return fn(nullptr);
    if (!hold) return fn(&**loaded);
    std::unique_lock lock(s.mu);
    if (s.changes != changes) {
      // A change was made here while the state was read: its version no longer vouches for it,
      // so a use's audit entry will have it reloaded (ports::GateCheck).
      (*loaded)->version = kVersionChangedHere;
    }
    SubjectState* held = Hold(s, id, std::move(**loaded), /*replace=*/false);
    return fn(held);
  }
  static constexpr size_t kShards = 64;
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<SubjectId, SubjectState> subjects;
    uint64_t changes = 0;  // Update/Erase/Admit/Replace calls, so a load can tell it raced one
    uint64_t random = 0x9E3779B97F4A7C15ull;  // the eviction's xorshift state
  };
  // Inserts (or, with replace, overwrites) the subject's state, first forgetting another subject
  // when the shard is full. Under the shard's exclusive lock.
  SubjectState* Hold(Shard& s, const SubjectId& id, SubjectState state, bool replace) const;
  Shard& ShardOf(const SubjectId& id) const {
    return shards_[std::hash<SubjectId>{}(id) % kShards];
  }
  mutable std::array<Shard, kShards> shards_;
  Loader loader_;               // set before use; null: only admitted subjects are known
  size_t per_shard_ = std::numeric_limits<size_t>::max();
  mutable std::atomic<uint64_t> misses_{0}, evictions_{0};
};

}  // namespace dovira::domain
