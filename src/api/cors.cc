#include "api/cors.h"

#include <string>
#include <string_view>
#include <vector>

namespace dovira::api {

namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace

const char* CrossOriginMethod(const std::string& path) {
  const std::vector<std::string_view> s = Segments(path);
  if (s.size() < 4 || s[0] != "v1" || s[1] != "schools") return nullptr;
  // /v1/schools/{school}/cookies, /v1/schools/{school}/cookie-consents
  if (s.size() == 4 && s[3] == "cookies") return "GET";
  if (s.size() == 4 && s[3] == "cookie-consents") return "POST";
  // /v1/schools/{school}/visits: a page's own beacon reports its visit (R101)
  if (s.size() == 4 && s[3] == "visits") return "POST";
  // /v1/schools/{school}/forms/{form}, /v1/schools/{school}/forms/{form}/submissions
  if (s.size() == 5 && s[3] == "forms") return "GET";
  if (s.size() == 6 && s[3] == "forms" && s[5] == "submissions") return "POST";
  return nullptr;
}

std::optional<ports::HttpResponse> CorsPreflight(const ports::HttpRequest& req) {
  if (req.method != "OPTIONS" || req.Header("access-control-request-method").empty()) {
    return std::nullopt;
  }
  const char* method = CrossOriginMethod(req.path);
  if (!method) return std::nullopt;
  ports::HttpResponse r;
  r.status = 204;
  r.Header("Access-Control-Allow-Origin", "*");
  r.Header("Access-Control-Allow-Methods", std::string(method) + ", OPTIONS");
  r.Header("Access-Control-Allow-Headers", "Content-Type");
  r.Header("Access-Control-Max-Age", "600");
  r.Header("Vary", "Origin");
  return r;
}

void AddCorsHeaders(const ports::HttpRequest& req, ports::HttpResponse& resp) {
  if (req.method == "OPTIONS" || req.Header("origin").empty()) return;
  const char* method = CrossOriginMethod(req.path);
  if (!method ||
      (req.method != method && !(req.method == "HEAD" && std::string_view(method) == "GET"))) {
    return;
  }
  resp.Header("Access-Control-Allow-Origin", "*");
  resp.Header("Access-Control-Expose-Headers", "Retry-After, X-Request-Id");
}

}  // namespace dovira::api
