#include "domain/assignments.h"

#include <iterator>
#include <mutex>

namespace dovira::domain {

void SubjectAssignments::Assign(const std::string& organisation, const SubjectId& subject) {
  std::unique_lock lock(mu_);
  by_org_[organisation].insert(subject.value());
}

void SubjectAssignments::Unassign(const std::string& organisation, const SubjectId& subject) {
  std::unique_lock lock(mu_);
  auto it = by_org_.find(organisation);
  if (it == by_org_.end()) return;
  it->second.erase(subject.value());
  if (it->second.empty()) by_org_.erase(it);
}

bool SubjectAssignments::Assigned(const std::string& organisation,
                                  const SubjectId& subject) const {
  std::shared_lock lock(mu_);
  auto it = by_org_.find(organisation);
  return it != by_org_.end() && it->second.count(subject.value()) > 0;
}

void SubjectAssignments::SetFor(const SubjectId& subject,
                                const std::set<std::string>& organisations) {
  std::unique_lock lock(mu_);
  for (auto it = by_org_.begin(); it != by_org_.end();) {
    if (!organisations.count(it->first)) it->second.erase(subject.value());
    it = it->second.empty() ? by_org_.erase(it) : std::next(it);
  }
  for (const auto& org : organisations) by_org_[org].insert(subject.value());
}

std::set<std::string> SubjectAssignments::Of(const std::string& organisation) const {
  std::shared_lock lock(mu_);
  auto it = by_org_.find(organisation);
  return it == by_org_.end() ? std::set<std::string>{} : it->second;
}

}  // namespace dovira::domain
