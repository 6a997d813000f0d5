// Break-glass grants (R86, 004 §6.4): access beyond a staff member's role, given only where the law
// provides, for one subject, one purpose and one category, until a time. The grants in force are
// kept in memory per school so the gate can honour them without touching the database; the
// service that records them (services/access_control) also persists them and reloads them at
// start.
//
// Thread-safety: BreakGlassGrants is safe for concurrent use.
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/ids.h"
#include "domain/compiled_policy.h"

namespace dovira::domain {

struct BreakGlassGrant {
  std::string id;
  std::string staff;  // the staff account's id
  SubjectId subject{""};
  int purpose = -1;    // CompiledPolicy::PurposeIndex
  FieldSet fields;     // the fields of the granted category
  int64_t until_us = 0;  // in force before this instant (exclusive)
};

// What the grants in force give one staff member for one subject and purpose.
struct GrantedAccess {
  FieldSet fields;
  std::vector<std::string> grants;  // the ids of the grants that gave them
  bool empty() const { return grants.empty(); }
};

class BreakGlassGrants {
 public:
  // Adds a grant; grants ended before `now_us` are dropped on the way.
  void Add(BreakGlassGrant grant, int64_t now_us);
  // Makes `grants` the subject's only grants (reloaded from the store).
  void ReplaceFor(const SubjectId& subject, std::vector<BreakGlassGrant> grants, int64_t now_us);
  // The union of the grants of `staff` for `subject` and `purpose` in force at `now_us`; a grant
  // stops counting at its end, so an expired grant gives nothing even before it is dropped.
  GrantedAccess For(const std::string& staff, const SubjectId& subject, int purpose,
                    int64_t now_us) const;
  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::vector<BreakGlassGrant> grants_;  // guarded by mu_
};

}  // namespace dovira::domain
