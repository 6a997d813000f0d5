// The public routes of the cookie banner (web/src/banner): the school's cookie settings, a
// visitor's choice recorded as proof, and that proof read back by its id. Api registers them
// (RegisterWebRoutes) and calls these functions from its handlers.
//
// Thread-safety: reentrant; the services they call are safe for concurrent use.
#pragma once

#include <string>

#include "api/api.h"
#include "ports/http.h"

namespace dovira::api::web {

// GET /v1/schools/{school}/cookies: the policy's cookie section in `lang`: categories (necessary
// first), the inventory with purposes and lifetimes, the consent cookie's name and lifetime, the
// policy version.
ports::HttpResponse CookieSettings(const ApiServices& s, const SchoolId& school,
                                   const std::string& lang);

// POST /v1/schools/{school}/cookie-consents {"choice","accepted","policy_version","gpc","lang"}:
// 201 with the stored record; 400 naming the bad member; 409 when the policy changed since the
// banner loaded it.
ports::HttpResponse RecordCookieConsent(const ApiServices& s, const SchoolId& school,
                                        const std::string& lang, const ports::HttpRequest& req,
                                        const services::RequestContext& ctx);

// GET /v1/schools/{school}/cookie-consents/{consent}: the stored record (proof of the choice).
ports::HttpResponse CookieConsentProof(const ApiServices& s, const SchoolId& school,
                                       const std::string& id);

}  // namespace dovira::api::web
