#include "domain/gate.h"

#include <algorithm>

namespace dovira::domain {

const char* OperationName(Operation op) {
  switch (op) {
    case Operation::kStore:
      return "store";
    case Operation::kRead:
      return "read";
    case Operation::kUpdate:
      return "update";
    case Operation::kDisclose:
      return "disclose";
    case Operation::kExport:
      return "export";
    case Operation::kMessage:
      return "message";
    case Operation::kDelete:
      return "delete";
    case Operation::kProfile:
      return "profile";
  }
  return "";
}

std::optional<Operation> ParseOperation(std::string_view name) {
  for (Operation op : {Operation::kStore, Operation::kRead, Operation::kUpdate, Operation::kDisclose,
                       Operation::kExport, Operation::kMessage, Operation::kDelete,
                       Operation::kProfile}) {
    if (name == OperationName(op)) return op;
  }
  return std::nullopt;
}

const char* ReasonCode(Reason r) {
  switch (r) {
    case Reason::kAllowed:
      return "allowed";
    case Reason::kPurposeUndeclared:
      return "purpose_undeclared";
    case Reason::kPurposeDisabled:
      return "purpose_disabled";
    case Reason::kSubjectUnknown:
      return "subject_unknown";
    case Reason::kSubjectKindExcluded:
      return "subject_kind_excluded";
    case Reason::kRoleDenied:
      return "role_denied";
    case Reason::kFieldNotInPurpose:
      return "field_not_in_purpose";
    case Reason::kFieldNotInRole:
      return "field_not_in_role";
    case Reason::kNoConsent:
      return "no_consent";
    case Reason::kConsentNotYetGiven:
      return "consent_not_yet_given";
    case Reason::kConsentWithdrawn:
      return "consent_withdrawn";
    case Reason::kConsentExpired:
      return "consent_expired";
    case Reason::kMinor:
      return "minor";
    case Reason::kSubjectClosing:
      return "subject_closing";
    case Reason::kBlocked:
      return "blocked";
    case Reason::kRestricted:
      return "restricted";
    case Reason::kObjectionPending:
      return "objection_pending";
    case Reason::kObjectionUpheld:
      return "objection_upheld";
    case Reason::kRetentionEnded:
      return "retention_ended";
    case Reason::kReconsentRequired:
      return "reconsent_required";
    case Reason::kAutomatedOptOut:
      return "no_automated_decisions";
    case Reason::kUnavailable:
      return "unavailable";
  }
  return "unavailable";
}

int ReasonStatus(Reason r) {
  switch (r) {
    case Reason::kAllowed:
      return 200;
    case Reason::kBlocked:
    case Reason::kRestricted:
    case Reason::kObjectionPending:
    case Reason::kReconsentRequired:
      return 423;
    case Reason::kSubjectUnknown:
      return 404;
    case Reason::kUnavailable:
      return 503;
    default:
      return 403;
  }
}

const ConsentWindow* SubjectState::Consent(size_t purpose) const {
  for (const auto& c : consents) {
    if (c.purpose == purpose) return &c;
  }
  return nullptr;
}

void SubjectState::Grant(size_t purpose, int64_t at_us, int64_t until_us) {
  for (auto& c : consents) {
    if (c.purpose == purpose) {
      c = ConsentWindow{static_cast<uint8_t>(purpose), at_us, until_us, false};
      return;
    }
  }
  consents.push_back(ConsentWindow{static_cast<uint8_t>(purpose), at_us, until_us, false});
}

void SubjectState::Withdraw(size_t purpose, int64_t at_us) {
  for (auto& c : consents) {
    if (c.purpose == purpose && !c.withdrawn) {
      c.until_us = std::min(c.until_us, at_us);
      c.withdrawn = true;
    }
  }
}

Decision Decide(const CompiledPolicy* policy, const SubjectState* subject, const GateRequest& req) {
  Decision d;
  // kUnavailable: fail closed without a policy or a subject's state that could not be loaded.
  if (policy == nullptr || (subject != nullptr && subject->unavailable)) return d;
  if (req.purpose < 0 || static_cast<size_t>(req.purpose) >= policy->purpose_count()) {
    d.reason = Reason::kPurposeUndeclared;
    return d;
  }
  const size_t p = static_cast<size_t>(req.purpose);
  const CompiledPurpose& cp = policy->purpose(p);
  if (!cp.enabled) {
    d.reason = Reason::kPurposeDisabled;
    return d;
  }
  const CompiledRole* role = nullptr;
  FieldSet role_fields;
  if (req.role >= 0) {
    role = &policy->role(static_cast<size_t>(req.role));
    const bool role_has_purpose = role->all_purposes || ((role->purposes >> p) & 1);
    if (!role_has_purpose && req.granted_fields.Empty()) {
      d.reason = Reason::kRoleDenied;
      return d;
    }
    // A break-glass grant adds its category's fields; for a purpose the role lacks, it is the
    // only way in, so the role's own categories do not come along.
    role_fields = role_has_purpose ? role->fields | req.granted_fields : req.granted_fields;
  }
  // The fields this use may touch: the request, within the purpose (R30) and the role (R86).
  FieldSet fields;
  if (req.all_fields) {
    fields = cp.fields;
    if (role) fields = fields & role_fields;
  } else {
    if (!req.fields.SubsetOf(cp.fields)) {
      d.reason = Reason::kFieldNotInPurpose;
      return d;
    }
    if (role && !req.fields.SubsetOf(role_fields)) {
      d.reason = Reason::kFieldNotInRole;
      return d;
    }
    fields = req.fields;
  }
  if (subject == nullptr) {
    d.reason = Reason::kSubjectUnknown;
    return d;
  }
  if (!((cp.subject_kinds >> subject->kind) & 1)) {
    d.reason = Reason::kSubjectKindExcluded;
    return d;
  }
  // Storage only (backups, integrity): allowed through blocks and restrictions (R45, R51).
  if (req.operation == Operation::kStore) {
    d.reason = Reason::kAllowed;
    d.fields = fields;
    return d;
  }
  // R62: a subject who opted out of automated decisions is left out of every profiling run,
  // whatever its purpose.
  if (req.operation == Operation::kProfile && subject->no_automated) {
    d.reason = Reason::kAutomatedOptOut;
    return d;
  }
  const uint64_t bit = PurposeSet{1} << p;
  if (subject->retention_ended & bit) {
    d.reason = Reason::kRetentionEnded;
    return d;
  }
  if (subject->closing) {
    d.reason = Reason::kSubjectClosing;
    return d;
  }
  if (subject->objection_upheld & bit) {
    d.reason = Reason::kObjectionUpheld;
    return d;
  }
  if (subject->objection_pending & bit) {
    d.reason = Reason::kObjectionPending;
    return d;
  }
  if ((subject->restricted_purposes & bit) || fields.Intersects(subject->restricted)) {
    d.reason = Reason::kRestricted;
    return d;
  }
  if (fields.Intersects(subject->blocked)) {
    d.reason = Reason::kBlocked;
    return d;
  }
  if (!cp.minors_allowed && req.now_us < subject->minor_until_us) {
    d.reason = Reason::kMinor;
    return d;
  }
  if (cp.basis == Basis::kConsent) {
    const ConsentWindow* w = subject->Consent(p);
    if (w == nullptr) {
      d.reason = Reason::kNoConsent;
      return d;
    }
    if (req.now_us < w->from_us) {
      d.reason = Reason::kConsentNotYetGiven;
      return d;
    }
    if (req.now_us >= w->until_us) {
      d.reason = w->withdrawn ? Reason::kConsentWithdrawn : Reason::kConsentExpired;
      return d;
    }
    if (req.now_us >= subject->reconsent_from_us) {
      d.reason = Reason::kReconsentRequired;
      return d;
    }
  }
  d.reason = Reason::kAllowed;
  d.fields = fields;
  return d;
}

void GateState::SetLoader(Loader loader, size_t capacity) {
  loader_ = std::move(loader);
  per_shard_ = std::max<size_t>(1, capacity / kShards);
}

SubjectState* GateState::Hold(Shard& s, const SubjectId& id, SubjectState state,
                              bool replace) const {
  auto it = s.subjects.find(id);
  if (it != s.subjects.end()) {
    if (replace) it->second = std::move(state);
    return &it->second;
  }
  if (s.subjects.size() >= per_shard_ && !s.subjects.empty()) {
    // Forget one subject chosen at random: the first one at or after a random bucket.
    s.random ^= s.random << 13;
    s.random ^= s.random >> 7;
    s.random ^= s.random << 17;
    const size_t buckets = s.subjects.bucket_count();
    for (size_t b = s.random % buckets;; b = (b + 1) % buckets) {
      if (s.subjects.bucket_size(b) == 0) continue;
      s.subjects.erase(s.subjects.begin(b)->first);
      evictions_.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  return &s.subjects.emplace(id, std::move(state)).first->second;
}

void GateState::Admit(const SubjectId& id, SubjectState state) {
  Shard& s = ShardOf(id);
  std::unique_lock lock(s.mu);
  ++s.changes;
  state.version = kVersionChangedHere;
  Hold(s, id, std::move(state), /*replace=*/true);
}

void GateState::Update(const SubjectId& id, const std::function<void(SubjectState&)>& fn) {
  Shard& s = ShardOf(id);
  std::unique_lock lock(s.mu);
  ++s.changes;
  auto it = s.subjects.find(id);
  if (it == s.subjects.end()) return;
  fn(it->second);
  it->second.version = kVersionChangedHere;
}

void GateState::Replace(const SubjectId& id, SubjectState state) {
  Shard& s = ShardOf(id);
  std::unique_lock lock(s.mu);
  ++s.changes;
  Hold(s, id, std::move(state), /*replace=*/true);
}

void GateState::Erase(const SubjectId& id) {
  Shard& s = ShardOf(id);
  std::unique_lock lock(s.mu);
  ++s.changes;
  s.subjects.erase(id);
}

size_t GateState::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::shared_lock lock(s.mu);
    n += s.subjects.size();
  }
  return n;
}

GateState::Counters GateState::counters() const {
  return Counters{misses_.load(std::memory_order_relaxed),
                  evictions_.load(std::memory_order_relaxed)};
}

}  // namespace dovira::domain
