// The check the services that record on behalf of the school (break-glass grants, assignments to
// outside organisations, legal holds, policy reviews) share: only staff of a privileged role.
#pragma once

#include <string>

#include "common/result.h"
#include "domain/compiled_policy.h"
#include "services/context.h"

namespace dovira::services {

// kDenied "role_denied" (variant "privileged") unless `actor` is staff holding a privileged role
// of `cp`. `what` begins the message: "<what> by a privileged role of the school's policy".
Status RequirePrivilegedStaff(const domain::CompiledPolicy& cp, const Actor& actor,
                              const std::string& what);

}  // namespace dovira::services
