// Cross-origin access for the public endpoints a school's own web site calls from the browser
// (the embeddable form and the cookie banner): reading a form, submitting it, reading the cookie
// settings and recording a cookie choice. Only these paths get CORS headers; staff endpoints never
// do, so a foreign page cannot read them even with a stolen session. Requests are made without
// credentials, so "*" is the allowed origin.
//
// Thread-safety: reentrant.
#pragma once

#include <optional>

#include "ports/http.h"

namespace dovira::api {

// The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method) on one of the
// cross-origin paths, or nullopt for any other request.
std::optional<ports::HttpResponse> CorsPreflight(const ports::HttpRequest& request);

// Adds Access-Control-Allow-Origin (and the headers a script may read) to a response of one of
// the cross-origin paths; leaves every other response alone.
void AddCorsHeaders(const ports::HttpRequest& request, ports::HttpResponse& response);

// The methods allowed cross-origin on `path` ("GET", "POST"), or nullptr when none are.
const char* CrossOriginMethod(const std::string& path);

}  // namespace dovira::api
