// A policy compiled for enforcement: purposes, fields, roles and consent grants turned into small
// integer indexes and bit sets, so that a gate decision is a handful of array reads and bit
// operations (no strings, no maps, no database).
//
// Thread-safety: immutable after Compile(); share it read-only between threads.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "calendar/calendar.h"
#include "common/result.h"
#include "policy/model.h"

namespace dovira::domain {

// Up to 256 fields per policy (the five seeds use at most 40).
inline constexpr size_t kMaxFields = 256;
// Up to 64 purposes per policy (the five seeds use at most 25).
inline constexpr size_t kMaxPurposes = 64;

class FieldSet {
 public:
  void Set(size_t i) { w_[i >> 6] |= uint64_t{1} << (i & 63); }
  void Reset(size_t i) { w_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  bool Test(size_t i) const { return (w_[i >> 6] >> (i & 63)) & 1; }
  bool Empty() const { return (w_[0] | w_[1] | w_[2] | w_[3]) == 0; }
  bool Intersects(const FieldSet& o) const {
    return ((w_[0] & o.w_[0]) | (w_[1] & o.w_[1]) | (w_[2] & o.w_[2]) | (w_[3] & o.w_[3])) != 0;
  }
  // True when every field of this set is also in `o`.
  bool SubsetOf(const FieldSet& o) const {
    return ((w_[0] & ~o.w_[0]) | (w_[1] & ~o.w_[1]) | (w_[2] & ~o.w_[2]) | (w_[3] & ~o.w_[3])) == 0;
  }
  FieldSet operator&(const FieldSet& o) const {
    FieldSet r;
    for (size_t i = 0; i < 4; ++i) r.w_[i] = w_[i] & o.w_[i];
    return r;
  }
  FieldSet operator|(const FieldSet& o) const {
    FieldSet r;
    for (size_t i = 0; i < 4; ++i) r.w_[i] = w_[i] | o.w_[i];
    return r;
  }
  FieldSet Minus(const FieldSet& o) const {
    FieldSet r;
    for (size_t i = 0; i < 4; ++i) r.w_[i] = w_[i] & ~o.w_[i];
    return r;
  }
  size_t Count() const {
    return std::popcount(w_[0]) + std::popcount(w_[1]) + std::popcount(w_[2]) +
           std::popcount(w_[3]);
  }
  // Calls fn(index) for each member, in ascending order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t w = 0; w < 4; ++w) {
      uint64_t bits = w_[w];
      while (bits) {
        size_t b = static_cast<size_t>(std::countr_zero(bits));
        fn(w * 64 + b);
        bits &= bits - 1;
      }
    }
  }
  friend bool operator==(const FieldSet&, const FieldSet&) = default;

 private:
  std::array<uint64_t, 4> w_{};
};

using PurposeSet = uint64_t;  // bit i = purpose index i

enum class Basis : uint8_t {
  kConsent,
  kContract,
  kPreContract,
  kLegalObligation,
  kLegitimateInterest,
  kVitalInterests,
  kPublicTask,
};

struct CompiledPurpose {
  std::string id;
  Basis basis = Basis::kContract;
  bool enabled = true;
  bool marketing = false;
  bool profiling = false;
  bool minors_allowed = true;
  bool depersonalised_only = false;
  FieldSet fields;
  uint64_t subject_kinds = ~uint64_t{0};  // bit i = subject-kind index i; all when unrestricted
  std::string store;                       // the store holding its data
  // R31: the standing decision a routine use runs under (its id, "" when none), or a use that
  // needs a decision per case, taken by a member of `decisions.decided_by`.
  std::string standing_decision;
  bool per_case = false;
};

struct CompiledField {
  std::string id;
  std::string category;
  std::string type;
  bool special = false;
  bool technical = false;
  int64_t max_length = 200;
  std::vector<std::string> values;
  std::string identifier;
  // The stores this field's values are kept in (one copy per store of a purpose using it).
  std::vector<std::string> stores;
};

struct CompiledRole {
  std::string id;
  bool privileged = false;
  bool decides = false;
  // Held by an affiliate or a contractor (R86): reaches only the subjects assigned to the
  // holder's organisation.
  bool scoped = false;
  bool all_purposes = false;  // lists no purposes: may state any purpose its categories allow
  PurposeSet purposes = 0;
  FieldSet fields;  // the fields of the categories it may see
};

class CompiledPolicy {
 public:
  // Error when the policy exceeds the index limits or names something undeclared (a checked
  // policy never does).
  static Result<std::shared_ptr<const CompiledPolicy>> Compile(const policy::Policy& policy);

  const policy::Policy& policy() const { return policy_; }
  const calendar::Calendar& calendar() const { return calendar_; }

  // Index lookups; -1 when unknown.
  int PurposeIndex(std::string_view id) const;
  int FieldIndex(std::string_view id) const;
  int RoleIndex(std::string_view id) const;
  int SubjectKindIndex(std::string_view id) const;

  const CompiledPurpose& purpose(size_t i) const { return purposes_[i]; }
  const CompiledField& field(size_t i) const { return fields_[i]; }
  const CompiledRole& role(size_t i) const { return roles_[i]; }
  size_t purpose_count() const { return purposes_.size(); }
  size_t field_count() const { return fields_.size(); }

  // The purposes a consent type grants (permissions such as cross_border are not purposes).
  PurposeSet GrantedPurposes(std::string_view consent_type) const;
  // Resolves field ids into a set; error naming the first unknown field.
  Result<FieldSet> Fields(const std::vector<std::string>& ids) const;
  std::vector<std::string> FieldIds(const FieldSet& set) const;
  // Every store id the policy names, plus "default" for purposes without one.
  const std::vector<std::string>& stores() const { return stores_; }

 private:
  CompiledPolicy(policy::Policy p, calendar::Calendar cal)
      : policy_(std::move(p)), calendar_(std::move(cal)) {}

  policy::Policy policy_;
  calendar::Calendar calendar_;
  std::vector<CompiledPurpose> purposes_;
  std::vector<CompiledField> fields_;
  std::vector<CompiledRole> roles_;
  std::vector<std::string> subject_kinds_;
  std::unordered_map<std::string, int> purpose_index_, field_index_, role_index_, kind_index_;
  std::unordered_map<std::string, PurposeSet> consent_grants_;
  std::vector<std::string> stores_;
};

}  // namespace dovira::domain
