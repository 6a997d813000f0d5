// One API call as the handlers see it: the request, the route and its path parameters, the
// authenticated actor and the school its credentials belong to. Shared by the handler files of
// the API (api.cc, requests_api.cc).
//
// Thread-safety: a Call belongs to one request; it is not shared.
#pragma once

#include <optional>
#include <string>

#include "api/api.h"
#include "api/http_util.h"

namespace dovira::api {

struct Api::Call {
  ports::HttpRequest req;
  PathParams params;
  const Route* route = nullptr;
  services::Actor actor;
  services::RequestContext ctx;
  std::optional<services::StaffSession> session;
  std::optional<services::SubjectSession> subject_session;
  std::string session_token;
  std::optional<SchoolId> actor_school;  // the school the credentials belong to
  std::string lang = "uk";

  SchoolId school() const {
    auto it = params.find("school");
    return SchoolId(it == params.end() ? std::string() : it->second);
  }
  const std::string& param(const std::string& k) const { return params.at(k); }
};

// requests_api.cc: a request as the API shows it (`full`: with every detail, not just the queue's
// columns), and a filing read from a request body. Staff may give every key; the public must give
// the requester's e-mail; the cabinet's subject is the signed-in one (no e-mail).
enum class Filer { kStaff, kPublic, kCabinet };
Json RequestJson(const services::RequestInfo& r, bool full);
Result<services::FileRequest> FileRequestFrom(const Json& body, Filer filer);

// api.cc: a consent ledger row as every route shows it.
Json ConsentReceiptJson(const services::ConsentReceipt& r);
// The staff capability `need` of the call's role in the policy of the school its credentials
// belong to; role_denied saying what is missing otherwise. Api::Prepare applies each route's
// declared capability (router.h); a handler asks again only for what depends on the body.
Status RequireCapability(services::Schools& schools, const Api::Call& c, Capability need);

}  // namespace dovira::api
