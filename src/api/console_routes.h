// The read-only routes the staff console (web/src/console) needs that no other route gives: the
// school's policy vocabulary as the console shows it (roles with the purposes each may state,
// purposes, fields, the request types the policy offers with their terms, the calendar's time
// zone), the consent rates per purpose, and the search for a subject by e-mail address or phone
// number for a stated purpose. Api registers them (RegisterConsoleRoutes) for signed-in staff
// and calls these functions from its handler. None changes anything; only the search returns
// personal data, the fields the gate releases, and it is audited as a read.
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

// POST /v1/schools/{school}/subject-search {purpose, email | phone, fields?}: the subject found
// by the lookup token of the address or number, read through the gate for the purpose
// (DataAccessService::Search). 200 {allowed, decision_id, subject, fields: {id: value}}; a
// refusal is the error shape with the gate's status and reason (403 role_denied, no_consent, ...;
// 423 restricted, blocked, objection_pending; 404 subject_unknown) plus decision_id and subject
// (when the refusal concerns the subject found). Reads only; the audit entry is its one write.
ports::HttpResponse SearchSubject(const ApiServices& s, const SchoolId& school,
                                  const ports::HttpRequest& req, const services::Actor& actor,
                                  const services::RequestContext& ctx);

}  // namespace dovira::api::console
