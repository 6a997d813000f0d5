// The API's edge helpers: JSON bodies with clear errors, the one error shape, and the single
// mapping from ErrorCode to HTTP status.
//
// The error shape: {"error": {"code", "field", "message", "args"}, "errors": [...]}. `code` is the
// stable reason for programs (Error::ReasonOrCode), `field` the input it concerns (or null),
// `args` the error's named arguments (ids and numbers, for programs), and `errors` holds every
// problem when one call found several (a form with three mistakes), the first being `error`.
// `message` is for people: LocaliseError (run by the API on every answer) writes it from the
// catalogue (i18n/api/<lang>.json) by the code, filled with the arguments, in the reader's
// language, with field ids turned into the policy's titles; a code without an entry gets the
// generic text of its kind. The English operator message of an Error never reaches the client.
// kInternal and kUnavailable errors (whose messages may name files, tables or a library's words)
// keep their message in the response's log_detail, which the API logs with the request id.
//
// Thread-safety: reentrant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "i18n/i18n.h"
#include "policy/model.h"
#include "ports/http.h"

namespace dovira::api {

using Json = nlohmann::json;

// ErrorCode → HTTP status (400, 401, 403, 404, 409, 422, 429, 503, 500).
int StatusFor(ErrorCode code);

ports::HttpResponse JsonResponse(int status, const Json& body);
// One error as {"code", "message", "field", "args"} (the message still the operator's English;
// LocaliseError or ErrorMessage writes the reader's).
Json ErrorJson(const Error& e);
// The error shape for `error` and every one of its problems.
ports::HttpResponse ErrorResponse(const Error& error);
ports::HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message,
                                  const std::string& field = "");

// Who reads an error: their language, and the school's policy the call concerns (for the titles
// of fields, consent check-boxes and forms), or null when it names no school.
struct ErrorReader {
  i18n::Lang lang = i18n::Lang::kUk;
  const policy::Policy* policy = nullptr;
};
// The reader's language: the `lang` query parameter, else a `lang` member of a JSON body, else
// Accept-Language, else the policy's authoritative language, else Ukrainian (issue 12).
i18n::Lang ReaderLang(const ports::HttpRequest& req, const policy::Policy* policy);
// The message of one error for the reader: the catalogue's text for `code` (or
// "<code>.<variant>" when args name a variant), else the generic text of `status`'s kind,
// filled with `args` ("field" becomes the policy's title of the field in quotes, or "this field"
// for a field the policy does not name; "consent" the check-box's text, "form" the form's title). `field` stands in for an absent "field" argument.
std::string ErrorMessage(const std::string& code, const Json& args, const std::string& field,
                         int status, const ErrorReader& reader);
// A ground a request may state (R49) by its title in the reader's language (api.ground.<id>, else
// its English text); an id the catalogue lacks comes back as words ("some_ground": "some ground"),
// never as the id (policies_test checks that every ground of the shipped policies has a title).
std::string GroundTitle(i18n::Lang lang, const std::string& id);
// The grounds `right` lists, each {"id", "title"} in `lang`, in the policy's order; an empty array
// for a right that lists none (any ground is accepted) or for no right.
Json GroundsJson(const policy::Right* right, i18n::Lang lang);
// Rewrites the messages of an error answer (status 400 or above in the error shape) for the
// reader; any other answer is left as it is.
void LocaliseError(ports::HttpResponse& resp, const ErrorReader& reader);

// The body as a JSON object. Errors name the problem: wrong Content-Type, invalid JSON (with the
// byte offset), or not an object.
// Schema fragments for the OpenAPI document: an object with `props` (and `required` keys), a
// string, a boolean, a list of strings.
Json Obj(std::initializer_list<std::pair<const std::string, Json>> props,
         std::vector<std::string> required = {});
inline const Json kStr = {{"type", "string"}};
inline const Json kBool = {{"type", "boolean"}};
inline const Json kStrList = {{"type", "array"}, {"items", {{"type", "string"}}}};

// A method that may change something (CSRF applies): anything but GET, HEAD and OPTIONS.
bool IsUnsafe(const std::string& method);
// CSRF: an unsafe request carrying a session cookie must also carry that session's token in
// X-CSRF-Token (compared in constant time). kDenied "csrf_token_invalid" otherwise.
Status CheckCsrf(const ports::HttpRequest& req, const std::string& session_token);

Result<Json> ParseJsonObject(const ports::HttpRequest& req);

// Typed member access; each error names the member. Absent optional members give nullopt.
Result<std::optional<std::string>> OptString(const Json& obj, const std::string& key);
Result<std::string> ReqString(const Json& obj, const std::string& key);
Result<std::optional<bool>> OptBool(const Json& obj, const std::string& key);
Result<std::vector<std::string>> OptStringList(const Json& obj, const std::string& key);
// An RFC 3339 member; the error names the member and what is wrong with the text.
Result<std::optional<Timestamp>> OptTimestamp(const Json& obj, const std::string& key);
// An optional instant as RFC 3339 text, or null.
Json TimeOrNull(const std::optional<Timestamp>& t);
// Rejects members not in `allowed` (clients learn of typos instead of silent ignoring).
Status OnlyKeys(const Json& obj, const std::vector<std::string>& allowed);

// Query string parameter (decoded), or "" when absent.
std::string QueryParam(const std::string& query, const std::string& name);
// The response language: a `lang` query parameter of uk, ru or en, else the first of them that
// Accept-Language starts with, else "uk".
std::string PreferredLang(const ports::HttpRequest& req);
// The cookie's value, or "" when absent.
std::string CookieValue(const std::string& cookie_header, const std::string& name);

}  // namespace dovira::api
