// Who may reach personal data (R86, 001 §3.5.2b, 002 L60, 003 §22.2, 004 §6.4, §12.1):
//
// - The access list: every active staff account with the categories and purposes its role in the
//   policy reaches, every active API key with the same, and per category the persons who can
//   reach it (by their role, or by a break-glass grant in force). Computed on demand from the
//   policy and the accounts; nothing is stored.
// - Break-glass grants: where the law provides access beyond a role (004 §6.4), a privileged
//   officer lets a named staff account reach one category of one subject's data for one purpose,
//   with a reason and for at most kMaxBreakGlassHours. The grant is stored, audited
//   ("access.break_glass", naming the subject by pseudonym) and e-mailed to the policy's
//   responsible person in the same batch; the gate honours it only until it ends (the injected
//   clock decides), only for that subject, purpose and category.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <string>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/outbox.h"
#include "services/schools.h"

namespace dovira::services {

// No policy key sets the time box of a break-glass grant; this is the longest one (hours).
inline constexpr int kMaxBreakGlassHours = 24;

// One account on the access list: who, with which role, and what the role reaches.
struct AccessHolder {
  std::string kind;  // "staff" | "api_key"
  std::string id;
  std::string name;
  std::string email;         // staff only
  std::string role;          // a role id of the policy ("" never; unknown roles reach nothing)
  bool role_declared = false;
  bool privileged = false;
  bool briefed = false;      // staff: briefing recorded (R87); unbriefed staff read nothing yet
  std::string organisation = "staff";
  std::vector<std::string> categories;  // the categories the role reaches, in policy order
  std::vector<std::string> purposes;    // the purposes it may state (an API key: its own within)
  std::vector<ports::AccessGrantRow> break_glass;  // staff: the grants in force
};

struct AccessList {
  std::vector<AccessHolder> holders;
  // Per category of the policy: the holders who reach it (indexes into `holders`), and whether
  // each does so by a break-glass grant only.
  struct Reach {
    size_t holder = 0;
    bool break_glass_only = false;
  };
  struct Category {
    std::string id;
    std::vector<Reach> reached_by;
  };
  std::vector<Category> categories;
  Timestamp generated_at{};
};

struct BreakGlassRequest {
  StaffId staff;            // the account let in
  SubjectId subject{""};
  std::string category;     // a category of the policy
  std::string purpose;      // the declared purpose the access serves
  std::string reason;       // required, at most 1000 bytes
  int hours = 0;            // 1..kMaxBreakGlassHours
};

class AccessControlService {
 public:
  // `outbox` may be null: the alert is then not written (tests of the list alone).
  AccessControlService(Deps deps, Schools& schools, AuditLog& audit, Outbox* outbox);

  // kNotFound "school_unknown"; store failures as they come.
  Result<AccessList> List(const SchoolId& school);

  // Records a grant and hands it to the gate. Errors: kDenied "role_denied" unless the actor is
  // staff of a privileged role; kNotFound "staff_unknown", "subject_unknown"; kDenied
  // "account_left"; kRefused (422) naming the field: "staff_required", "category_undeclared",
  // "purpose_undeclared", "category_not_in_purpose" (the purpose uses no field of the category),
  // "reason_required", "reason_too_long", "hours_invalid" (not 1..kMaxBreakGlassHours).
  Result<ports::AccessGrantRow> BreakGlass(const SchoolId& school, const BreakGlassRequest& in,
                                           const Actor& actor, const RequestContext& ctx);

  // Loads the school's grants still in force into its runtime (at start).
  Status LoadGrants(SchoolRuntime& school);

 private:
  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  Outbox* outbox_;
};

}  // namespace dovira::services
