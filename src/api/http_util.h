// The API's edge helpers: JSON bodies with clear errors, the one error shape
// {"error":{"code","message","field"}}, and the single mapping from ErrorCode to HTTP status.
// The message a client sees is the Error's message, which services keep free of internal detail;
// kInternal and kUnavailable errors (whose messages may name files, tables or a library's words)
// are replaced by a stable code and a plain sentence, and their message goes to the response's
// log_detail, which the API logs with the request id.
//
// Thread-safety: reentrant.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "ports/http.h"

namespace dovira::api {

using Json = nlohmann::json;

// ErrorCode → HTTP status (400, 401, 403, 404, 409, 422, 429, 503, 500).
int StatusFor(ErrorCode code);

ports::HttpResponse JsonResponse(int status, const Json& body);
ports::HttpResponse ErrorResponse(const Error& error);
ports::HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message,
                                  const std::string& field = "");

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
