// One subject's purpose-gate state built from the store, as the gate loads it on the subject's
// first use (domain::GateState::SetLoader) and reloads it when a use's audit entry finds it
// overtaken (ports::GateCheck): the gate version first, then the subject's row (kind, status,
// minor status), its consent windows, its guardianships (B06), its open requests' effects (blocks,
// restrictions, objections) and its ended retention terms (R70).
//
// Thread-safety: safe for concurrent use; Load reads the store only.
#pragma once

#include <cstddef>
#include <optional>

#include "common/ids.h"
#include "common/result.h"
#include "domain/gate.h"

namespace dovira::services {

class GuardianService;
class RequestService;
class RetentionService;
class SchoolRuntime;
class Schools;
class SubjectService;

class GateLoader {
 public:
  // A service left null (the tests of one service) contributes nothing to the state.
  GateLoader(SubjectService& subjects, GuardianService* guardians, RequestService* requests,
             RetentionService* retention);

  // The subject's whole state, or nullopt when the store has no such subject.
  Result<std::optional<domain::SubjectState>> Load(SchoolRuntime& school,
                                                   const SubjectId& subject);
  // Makes Load the gate's loader of the school, holding at most about `capacity` subjects.
  void Install(SchoolRuntime& school, size_t capacity);

 private:
  SubjectService& subjects_;
  GuardianService* guardians_;
  RequestService* requests_;
  RetentionService* retention_;
};

}  // namespace dovira::services
