#include "api/router.h"

#include <algorithm>

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

}  // namespace

size_t Router::Add(std::string method, std::string pattern, Auth auth, RouteDoc doc) {
  Route r{std::move(method), std::move(pattern), auth, std::move(doc), {}};
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
    for (int e : r.doc.errors) {
      responses[std::to_string(e)] = {
          {"description", "error"},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    }
    op["responses"] = responses;
    if (r.auth != Auth::kPublic) {
      op["security"] =
          r.auth == Auth::kSession   ? json::array({{{"session", json::array()}}})
          : r.auth == Auth::kSubject ? json::array({{{"subject", json::array()}}})
                                     : json::array({{{"session", json::array()}}, {{"apiKey", json::array()}}});
    }
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    doc["paths"][r.pattern][method] = op;
  }
  return doc;
}

}  // namespace dovira::api
