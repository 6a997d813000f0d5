#include "api/router.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace dovira::api {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

const char* PersonalDataName(PersonalData d) {
  switch (d) {
    case PersonalData::kNone:
      return "none";
    case PersonalData::kGated:
      return "gated";
    case PersonalData::kReleased:
      return "released";
  }
  return "none";
}

}  // namespace

const char* CapabilityName(Capability c) {
  switch (c) {
    case Capability::kNone:
      return "none";
    case Capability::kDecides:
      return "decides_requests";
    case Capability::kPrivileged:
      return "privileged";
  }
  return "none";
}

std::string Access::Problem() const {
  if (principals_ == 0) return "no principal may call it";
  if (IsPublic() && principals_ != P(Principal::kAnonymous)) {
    return "anonymous access cannot be combined with other principals";
  }
  if (IsPublic() && (capability_ != Capability::kNone || data_ == PersonalData::kReleased)) {
    return "a public route can neither need a staff capability nor release personal data";
  }
  if (Allows(Principal::kSubject) && principals_ != P(Principal::kSubject)) {
    return "a subject's cabinet route is for the subject alone";
  }
  if (Allows(Principal::kSubject) && capability_ != Capability::kNone) {
    return "a subject has no staff capability";
  }
  // Issue 11: personal data released to staff without a per-field gate decision (a request's
  // details, an access package) needs a role that may decide requests, never merely any key.
  if (IsStaff() && data_ == PersonalData::kReleased && capability_ == Capability::kNone) {
    return "a staff route that releases personal data needs a role that may decide requests";
  }
  return {};
}

nlohmann::json Access::ToJson() const {
  nlohmann::json principals = nlohmann::json::array();
  if (Allows(Principal::kAnonymous)) principals.push_back("anonymous");
  if (Allows(Principal::kSubject)) principals.push_back("subject");
  if (Allows(Principal::kStaffSession)) principals.push_back("staff_session");
  if (Allows(Principal::kApiKey)) principals.push_back("api_key");
  return {{"principals", principals},
          {"capability", CapabilityName(capability_)},
          {"personal_data", PersonalDataName(data_)}};
}

size_t Router::Add(std::string method, std::string pattern, Access access, RouteDoc doc) {
  if (std::string problem = access.Problem(); !problem.empty()) {
    // A programming error, found the moment the server builds its routes: it does not start.
    std::fprintf(stderr, "route %s %s: %s\n", method.c_str(), pattern.c_str(), problem.c_str());
    std::abort();
  }
  Route r{std::move(method), std::move(pattern), access, std::move(doc), {}};
  r.segments = Split(r.pattern);
  routes_.push_back(std::move(r));
  return routes_.size() - 1;
}

Match Router::Find(const std::string& method, const std::string& path) const {
  Match m;
  const std::vector<std::string> segs = Split(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    PathParams params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      if (IsParam(r.segments[i])) {
        if (segs[i].empty()) ok = false;
        params[r.segments[i].substr(1, r.segments[i].size() - 2)] = segs[i];
      } else if (r.segments[i] != segs[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.params = std::move(params);
      m.method_mismatch = false;
      return m;
    }
    m.method_mismatch = true;
    m.allowed.push_back(r.method);
  }
  return m;
}

nlohmann::json Router::OpenApi(const std::string& title, const std::string& version) const {
  using nlohmann::json;
  json doc = {{"openapi", "3.0.3"},
              {"info", {{"title", title}, {"version", version}}},
              {"paths", json::object()},
              {"components",
               {{"securitySchemes",
                 {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "dovira_session"}}},
                  {"subject", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "dovira_me"}}},
                  {"apiKey", {{"type", "http"}, {"scheme", "bearer"}}}}},
                {"schemas",
                 {{"Error",
                   {{"type", "object"},
                    {"required", {"error"}},
                    {"properties",
                     {{"error",
                       {{"type", "object"},
                        {"required", {"code", "message"}},
                        {"properties",
                         {{"code", {{"type", "string"}}},
                          {"message", {{"type", "string"}}},
                          {"field", {{"type", "string"}, {"nullable", true}}}}}}}}}}}}}}}};
  for (const auto& r : routes_) {
    json op = {{"summary", r.doc.summary}, {"tags", {r.doc.tag}}, {"operationId", ""}};
    std::string op_id = r.method;
    std::transform(op_id.begin(), op_id.end(), op_id.begin(), ::tolower);
    for (const auto& s : r.segments) {
      op_id += "_" + (IsParam(s) ? s.substr(1, s.size() - 2) : s);
    }
    std::replace(op_id.begin(), op_id.end(), '-', '_');
    std::replace(op_id.begin(), op_id.end(), '.', '_');
    op["operationId"] = op_id;
    json params = json::array();
    for (const auto& s : r.segments) {
      if (IsParam(s)) {
        params.push_back({{"name", s.substr(1, s.size() - 2)},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
    }
    for (const auto& q : r.doc.query) {
      params.push_back(
          {{"name", q}, {"in", "query"}, {"required", false}, {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.doc.request_schema.is_null()) {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", r.doc.request_schema}}}}}};
    }
    json responses = json::object();
    json ok = {{"description", "success"}};
    if (!r.doc.response_schema.is_null()) {
      ok["content"] = {{r.doc.content_type, {{"schema", r.doc.response_schema}}}};
    }
    responses[std::to_string(r.doc.success_status)] = ok;
    std::vector<int> errors = r.doc.errors;
    if (!r.access.IsPublic()) {  // Api::Prepare answers these for every route that asks who calls
      for (int e : {401, 403}) {
        if (std::find(errors.begin(), errors.end(), e) == errors.end()) errors.push_back(e);
      }
    }
    for (int e : errors) {
      responses[std::to_string(e)] = {
          {"description", "error"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    }
    op["responses"] = responses;
    if (!r.access.IsPublic()) {
      json security = json::array();
      if (r.access.Allows(Principal::kSubject)) security.push_back({{"subject", json::array()}});
      if (r.access.Allows(Principal::kStaffSession))
        security.push_back({{"session", json::array()}});
      if (r.access.Allows(Principal::kApiKey)) security.push_back({{"apiKey", json::array()}});
      op["security"] = security;
    }
    op["x-dovira-access"] = r.access.ToJson();
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    doc["paths"][r.pattern][method] = op;
  }
  return doc;
}

}  // namespace dovira::api
