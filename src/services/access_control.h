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
// - Organisation scope (002 L60): a role the policy gives to an affiliate or a contractor reaches
//   only the subjects a privileged officer assigned to the holder's organisation (an order handed
//   to a delivery contractor). Assigning and ending an assignment are audited (access.assign,
//   access.unassign); the gate and the API answer 404 for any other subject, as if it did not
//   exist.
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
  // R86: whose people hold the role ("staff": the school's own, "affiliate", "contractor"), the
  // organisation's name, and how many subjects are assigned to it (scoped roles only).
  std::string organisation_kind = "staff";
  std::string organisation;
  size_t assigned_subjects = 0;
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

struct AssignmentRequest {
  std::string organisation;  // the name staff accounts of a scoped role carry
  SubjectId subject{""};
  std::string reference;     // optional, at most 200 bytes (an order number)
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

  // Loads the school's grants still in force and its assignments into its runtime (at start).
  Status LoadGrants(SchoolRuntime& school);
  // One subject's grants in force and assignments, reloaded from the store.
  Status LoadSubjectAccess(SchoolRuntime& school, const SubjectId& subject);

  // R86: assigns a subject to an outside organisation, whose people holding a scoped role then
  // reach it. Errors: kDenied "role_denied" unless the actor is staff of a privileged role;
  // kRefused "organisation_required", "organisation_unknown" (no active account of a scoped role
  // names it), "reference_too_long"; kNotFound "subject_unknown". Assigning again updates the
  // reference.
  Result<ports::SubjectAssignmentRow> Assign(const SchoolId& school, const AssignmentRequest& in,
                                             const Actor& actor, const RequestContext& ctx);
  // Ends an assignment; kNotFound "assignment_unknown" when there is none. Same role rule.
  Status Unassign(const SchoolId& school, const std::string& organisation,
                  const SubjectId& subject, const Actor& actor, const RequestContext& ctx);
  // Every assignment of the school (privileged staff; the caller checks the role).
  Result<std::vector<ports::SubjectAssignmentRow>> Assignments(const SchoolId& school);

 private:
  Status AddAssignmentAudit(const SchoolId& school, const char* action,
                            const ports::SubjectAssignmentRow& row, const Actor& actor,
                            const RequestContext& ctx, ports::WriteBatch& batch);

  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  Outbox* outbox_;
};

}  // namespace dovira::services
