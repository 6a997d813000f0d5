#include "services/gate_loader.h"

#include "services/guardians.h"
#include "services/requests.h"
#include "services/retention.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

GateLoader::GateLoader(SubjectService& subjects, GuardianService* guardians,
                       RequestService* requests, RetentionService* retention)
    : subjects_(subjects), guardians_(guardians), requests_(requests), retention_(retention) {}

Result<std::optional<domain::SubjectState>> GateLoader::Load(SchoolRuntime& school,
                                                             const SubjectId& subject) {
  domain::SubjectState state;
  auto found = subjects_.LoadSubjectGate(school, subject, state);
  if (!found.ok()) return found.error();
  if (!*found) return std::optional<domain::SubjectState>();
  if (guardians_ != nullptr) {
    if (Status st = guardians_->LoadSubjectGate(school, subject, state); !st.ok()) {
      return st.error();
    }
  }
  if (requests_ != nullptr) {
    if (Status st = requests_->LoadSubjectGate(school, subject, state); !st.ok()) {
      return st.error();
    }
  }
  if (retention_ != nullptr) {
    if (Status st = retention_->LoadSubjectGate(school, subject, state); !st.ok()) {
      return st.error();
    }
  }
  return std::optional<domain::SubjectState>(std::move(state));
}

void GateLoader::Install(SchoolRuntime& school, size_t capacity) {
  school.gate().SetLoader(
      [this, &school](const SubjectId& subject) { return Load(school, subject); }, capacity);
}

}  // namespace dovira::services
