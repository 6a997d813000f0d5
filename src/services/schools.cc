#include "services/schools.h"

#include "policy/checker.h"
#include "ports/crypto.h"
#include "services/privileged.h"

namespace dovira::services {

std::string SchoolRuntime::version() const {
  std::lock_guard lock(mu_);
  return version_;
}
std::string SchoolRuntime::sha256() const {
  std::lock_guard lock(mu_);
  return sha256_;
}
std::string SchoolRuntime::text() const {
  std::lock_guard lock(mu_);
  return text_;
}
void SchoolRuntime::set_version(std::string version, std::string sha256, std::string text) {
  std::lock_guard lock(mu_);
  version_ = std::move(version);
  sha256_ = std::move(sha256);
  text_ = std::move(text);
}

Schools::Schools(Deps deps) : deps_(deps) {}

Result<SchoolRuntime*> Schools::Load(const std::string& policy_text,
                                     const std::string& source_name) {
  policy::CheckResult checked = policy::CheckPolicyText(policy_text, source_name);
  if (!checked.ok()) {
    for (const auto& f : checked.findings.all()) {
      if (f.severity == policy::Severity::kError) {
        return Error::Refused("policy_invalid", policy::FormatFinding(source_name, f));
      }
    }
    return Error::Refused("policy_invalid", source_name + ": the policy could not be read");
  }
  const policy::Policy& pol = *checked.policy;
  auto compiled = domain::CompiledPolicy::Compile(pol);
  if (!compiled.ok()) return Error::Refused("policy_invalid", compiled.error().message);
  SchoolId id(pol.school.id);
  Status keys = deps_.keys.EnsureSchool(id);
  if (!keys.ok()) return keys.error();

  const std::string sha = ports::ToHex(deps_.crypto.Sha256(policy_text));
  auto versions = deps_.store.ListPolicyVersions(id);
  if (!versions.ok()) return versions.error();
  bool stored = false;
  for (const auto& v : *versions) {
    if (v.version_id == pol.version.id) {
      if (v.sha256 != sha) {
        return Error::Conflict("policy_version_immutable",
                               "policy version " + pol.version.id +
                                   " is already published with a different text; give the "
                                   "changed policy a new version id");
      }
      stored = true;
    }
  }
  ports::WriteBatch batch;
  ports::SchoolRow school;
  school.id = id;
  school.name = pol.school.name.Get("en", pol.school.authoritative_language);
  school.active_policy_version = pol.version.id;
  school.created_at = deps_.clock.Now();
  bool unchanged = false;
  if (auto existing = deps_.store.GetSchool(id); existing.ok() && *existing) {
    school.created_at = (*existing)->created_at;
    unchanged = (*existing)->name == school.name &&
                (*existing)->active_policy_version == school.active_policy_version;
  }
  // Nothing to write when the school and its version are stored as they are: an operator command
  // opening a live directory then writes nothing at all.
  if (!unchanged) batch.schools.push_back(school);
  if (!stored) {
    ports::PolicyVersionRow row;
    row.school = id;
    row.version_id = pol.version.id;
    row.text = policy_text;
    row.sha256 = sha;
    row.effective_date =
        pol.version.effective ? calendar::FormatDate(*pol.version.effective) : std::string();
    row.published_at = deps_.clock.Now();
    batch.policy_versions.push_back(std::move(row));
  }
  if (!batch.empty()) {
    Status committed = deps_.store.Commit(std::move(batch));
    if (!committed.ok()) return committed.error();
  }

  std::unique_lock lock(mu_);
  auto& slot = schools_[id];
  if (!slot) slot = std::make_unique<SchoolRuntime>(id);
  slot->set_policy(*compiled);
  slot->set_version(pol.version.id, sha, policy_text);
  return slot.get();
}

Result<SchoolRuntime*> Schools::Get(const SchoolId& id) const {
  std::shared_lock lock(mu_);
  auto it = schools_.find(id);
  if (it == schools_.end()) {
    return Error{ErrorCode::kNotFound, "this deployment serves no school \"" + id.value() + "\"",
                 "school", "school_unknown"};
  }
  return it->second.get();
}

Result<std::vector<ports::PolicyVersionRow>> Schools::Versions(const SchoolId& id) const {
  auto rt = Get(id);
  if (!rt.ok()) return rt.error();
  return deps_.store.ListPolicyVersions(id);
}

std::vector<SchoolId> Schools::List() const {
  std::shared_lock lock(mu_);
  std::vector<SchoolId> out;
  for (const auto& [id, s] : schools_) out.push_back(id);
  return out;
}

Status RequirePrivilegedStaff(const domain::CompiledPolicy& cp, const Actor& actor,
                              const std::string& what) {
  const int r = cp.RoleIndex(actor.role);
  if (actor.kind != Actor::Kind::kStaff || r < 0 || !cp.role(static_cast<size_t>(r)).privileged) {
    return Error::Denied("role_denied", what + " by a privileged role of the school's policy")
        .With("variant", "privileged");
  }
  return Status::Ok();
}

}  // namespace dovira::services
