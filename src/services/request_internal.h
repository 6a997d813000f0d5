// Internal to the request modules (request_*.cc): the helpers they share. Not part of the
// services' API; nothing outside src/services/request_*.cc includes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "services/requests.h"

namespace dovira::services::request_internal {

using Json = nlohmann::json;

// R61: a segment id as the decisions register and a contest_segment request name it.
Status ValidSegment(const std::string& segment);

Json OptTime(const std::optional<Timestamp>& t);
std::optional<Timestamp> ReadOptTime(const Json& j, const char* key);
Timestamp ReadTime(const Json& j, const char* key);
// JSON without the exceptions of invalid UTF-8 (replaced).
std::string Dump(const Json& j);
std::string Join(const std::vector<std::string>& ids);
bool Contains(const std::vector<std::string>& v, const std::string& s);

// The request row's JSON body (no personal data) and back.
Json ToBody(const RequestInfo& r);
void FromBody(const Json& b, RequestInfo& r);
// What the request does to the gate.
domain::RequestEffect EffectOf(const domain::CompiledPolicy& cp, const RequestInfo& r);
// kConflict "request_closed" unless the request is still open.
Status MustBeOpen(const RequestInfo& r);

// R54: where a portability transfer goes, as a person and the disclosure log name it: the URL's
// scheme and authority without any user part ("https://lms.example:8443"), and that authority
// alone ("lms.example:8443"). The path and query are left out: they often carry a secret.
std::string DestinationOrigin(const std::string& url);
std::string DestinationHost(const std::string& url);

}  // namespace dovira::services::request_internal
