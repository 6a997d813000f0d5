// Routing for the HTTP API: method + path pattern ("/v1/schools/{school}/subjects/{subject}") to a
// handler, with the metadata the OpenAPI document is generated from, so the document and the
// routes cannot disagree.
//
// Thread-safety: routes are added before serving; Match() is then read-only and reentrant.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ports/http.h"

namespace dovira::api {

using PathParams = std::map<std::string, std::string>;

enum class Auth {
  kPublic,   // anyone
  kStaff,    // a staff session (cookie + CSRF for unsafe methods) or an API key
  kSession,  // a staff session only (sign-out, TOTP, password)
  kSubject,  // a subject's personal-cabinet session (cookie + CSRF for unsafe methods)
};

struct RouteDoc {
  std::string summary;
  std::string tag;
  nlohmann::json request_schema;            // null when there is no body
  nlohmann::json response_schema;           // the 2xx body
  int success_status = 200;
  std::vector<std::string> query;           // query parameter names
  std::vector<int> errors;                  // statuses it may answer besides success
  std::string content_type = "application/json";
};

struct Route {
  std::string method;
  std::string pattern;
  Auth auth = Auth::kStaff;
  RouteDoc doc;
  std::vector<std::string> segments;  // split pattern
};

struct Match {
  const Route* route = nullptr;
  PathParams params;
  bool method_mismatch = false;  // the path exists, with other methods (405)
  std::vector<std::string> allowed;
};

class Router {
 public:
  // Returns the index of the added route.
  size_t Add(std::string method, std::string pattern, Auth auth, RouteDoc doc);
  Match Find(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

  // The OpenAPI 3.0 document of every route.
  nlohmann::json OpenApi(const std::string& title, const std::string& version) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace dovira::api
