// The read-only routes the staff console (web/src/console) needs that no other route gives: the
// school's policy vocabulary as the console shows it (roles, purposes, fields, the request types
// the policy offers with their terms, the calendar's time zone) and the consent rates per purpose.
// Api registers them (RegisterConsoleRoutes) for signed-in staff and calls these functions from
// its handler. Neither returns personal data nor changes anything.
//
// Thread-safety: reentrant; the services they call are safe for concurrent use.
#pragma once

#include <string>

#include "api/api.h"
#include "ports/http.h"

namespace dovira::api::console {

// GET /v1/schools/{school}/console: the school's name, policy version, time zone and languages;
// its roles (id, title, privileged), purposes (id, title, basis), fields (id, title) and the
// request types its policy offers (type, right, term, trigger, source "policy" or "default"),
// titles in `lang`. 404 "school_unknown".
ports::HttpResponse SchoolSettings(const ApiServices& s, const SchoolId& school,
                                   const std::string& lang);

// GET /v1/schools/{school}/consents/rates: for every consent-based purpose, how many subjects the
// purpose applies to (`eligible`, by subject kind), how many ever gave consent (`given`), and of
// those how many consents are `active` now, `withdrawn` or `expired`, from the gate's consent
// windows at the server's current time (no database read per subject, no audit entry). 404
// "school_unknown".
ports::HttpResponse ConsentRates(const ApiServices& s, const SchoolId& school,
                                 const std::string& lang);

}  // namespace dovira::api::console
