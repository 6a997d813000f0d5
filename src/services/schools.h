// The schools this deployment serves: each with its policy (checked, compiled, its version stored
// immutably, R112) and its gate state. One deployment may serve several schools (R118); every
// service call names its school and sees only that school's data.
//
// Thread-safety: safe for concurrent use. A school's compiled policy is swapped atomically when a
// new version is loaded; readers keep the version they started with.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "domain/assignments.h"
#include "domain/break_glass.h"
#include "domain/compiled_policy.h"
#include "domain/gate.h"
#include "services/context.h"

namespace dovira::services {

class SchoolRuntime {
 public:
  explicit SchoolRuntime(SchoolId id) : id_(std::move(id)) {}
  const SchoolId& id() const { return id_; }

  std::shared_ptr<const domain::CompiledPolicy> policy() const {
    return std::atomic_load(&policy_);
  }
  void set_policy(std::shared_ptr<const domain::CompiledPolicy> p) {
    std::atomic_store(&policy_, std::move(p));
  }
  domain::GateState& gate() { return gate_; }
  const domain::GateState& gate() const { return gate_; }
  // Break-glass grants in force (R86), which the gate honours until each ends.
  domain::BreakGlassGrants& grants() { return grants_; }
  const domain::BreakGlassGrants& grants() const { return grants_; }
  // The subjects assigned to outside organisations (R86), which their people alone may reach.
  domain::SubjectAssignments& assignments() { return assignments_; }
  const domain::SubjectAssignments& assignments() const { return assignments_; }

  // The version id, SHA-256 (hex) and text of the policy in force.
  std::string version() const;
  std::string sha256() const;
  std::string text() const;
  void set_version(std::string version, std::string sha256, std::string text);

 private:
  const SchoolId id_;
  std::shared_ptr<const domain::CompiledPolicy> policy_;
  domain::GateState gate_;
  domain::BreakGlassGrants grants_;
  domain::SubjectAssignments assignments_;
  mutable std::mutex mu_;
  std::string version_, sha256_, text_;  // guarded by mu_
};

class Schools {
 public:
  explicit Schools(Deps deps);

  // Loads a school from its policy file text: checks it (any E- finding refuses it, naming the
  // first: kRefused "policy_invalid"), compiles it, creates the school's key ring, stores the
  // school and the policy version (a different text under an already stored version id is
  // kConflict "policy_version_immutable", R112) and registers the runtime. The gate state is
  // empty: the composition root gives it its loader (GateLoader::Install).
  Result<SchoolRuntime*> Load(const std::string& policy_text, const std::string& source_name);

  // kNotFound "school_unknown" for a school this deployment does not serve.
  Result<SchoolRuntime*> Get(const SchoolId& id) const;
  std::vector<SchoolId> List() const;
  // Every published version of the school's policy, oldest first (R01, R112).
  Result<std::vector<ports::PolicyVersionRow>> Versions(const SchoolId& id) const;

 private:
  Deps deps_;
  mutable std::shared_mutex mu_;
  std::map<SchoolId, std::unique_ptr<SchoolRuntime>> schools_;  // guarded by mu_
};

}  // namespace dovira::services
