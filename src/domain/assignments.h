// The subjects assigned to outside organisations (R86, 002 L60): the in-memory copy the gate and
// the API consult for every call of a person whose role an affiliate or a contractor holds. The
// store keeps the rows (ports::SubjectAssignmentRow); this is loaded from them at start and kept
// in step by the service that writes them, after each commit.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <set>
#include <shared_mutex>
#include <string>

#include "common/ids.h"

namespace dovira::domain {

class SubjectAssignments {
 public:
  void Assign(const std::string& organisation, const SubjectId& subject);
  void Unassign(const std::string& organisation, const SubjectId& subject);
  bool Assigned(const std::string& organisation, const SubjectId& subject) const;
  // Makes `organisations` the only ones the subject is assigned to (reloaded from the store).
  void SetFor(const SubjectId& subject, const std::set<std::string>& organisations);
  // The subjects assigned to `organisation`, ordered.
  std::set<std::string> Of(const std::string& organisation) const;

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::set<std::string>, std::less<>> by_org_;  // guarded by mu_
};

}  // namespace dovira::domain
