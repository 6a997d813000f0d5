// Restriction (R45, R51) and objection (R52): a restriction holds from filing and is lifted at
// completion; an objection restricts its purposes from filing and is decided here, with or
// without overriding grounds.
#include "services/requests.h"

#include "services/request_internal.h"
#include "services/request_texts.h"

namespace dovira::services {

using namespace request_internal;  // NOLINT(google-build-using-namespace)
using domain::RequestState;

Result<RequestInfo> RequestService::CompleteRestriction(SchoolRuntime& rt, RequestInfo r,
                                                        const CompleteRequest& in, const Actor& actor,
                                                        const RequestContext& ctx) {
  const SchoolId& school = rt.id();
  (void)in;
  ports::WriteBatch batch;
  r.restricted.clear();
  r.restrict_all = false;
  if (auto st = Notify(batch, school, r, "restriction_lifted", ""); !st.ok()) return st.error();
  return Close(school, std::move(r), RequestState::kDone, "lifted", "{}", actor, ctx,
               std::move(batch));
}

Result<RequestInfo> RequestService::CompleteObjection(SchoolRuntime& rt, RequestInfo r,
                                                      const CompleteRequest& in, const Actor& actor,
                                                      const RequestContext& ctx) {
  const SchoolId& school = rt.id();
  ports::WriteBatch batch;
  if (in.decision == "overriding_grounds") {
    if (in.justification.empty()) {
      return Error::Invalid("justification is required for overriding grounds", "justification");
    }
    r.objection_pending.clear();
  } else if (in.decision == "no_overriding_grounds") {
    r.objection_upheld = r.purposes;
    r.objection_pending.clear();
  } else {
    return Error::Invalid("decision must be overriding_grounds or no_overriding_grounds",
                          "decision");
  }
  r.decision = in.decision;
  if (auto st = Notify(batch, school, r, "objection_decided", in.justification); !st.ok()) {
    return st.error();
  }
  if (in.decision == "no_overriding_grounds") {
    if (auto st = Notify(batch, school, r, "erasure_offer", ""); !st.ok()) return st.error();
  }
  return Close(school, std::move(r), RequestState::kDone, in.decision,
               Dump({{"decision", in.decision}}), actor, ctx, std::move(batch));
}

}  // namespace dovira::services
