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

// Who may call a route, declared once per route when it is registered and enforced for every
// route by Api::Prepare before any handler runs (issue 11). There is no default: Access has no
// public constructor, so a route without a declaration does not compile, and Router::Add refuses
// a declaration that contradicts itself.
enum class Principal : unsigned {
  kAnonymous = 1,     // anyone: no credentials are asked for (alone: public routes)
  kSubject = 2,       // a subject's personal-cabinet session (cookie + CSRF for unsafe methods)
  kStaffSession = 4,  // a staff session (cookie + CSRF for unsafe methods)
  kApiKey = 8,        // an API key, limited to its role and purposes
};

// The staff capability a route needs, from the role's entry in the policy's [roles.*].
enum class Capability {
  kNone,        // any role of the school
  kDecides,     // a role that may decide requests: privileged, or decides = true (R31)
  kPrivileged,  // a privileged role
};

// What personal data a successful call hands out.
enum class PersonalData {
  kNone,      // none (metadata, counts, the caller's own settings)
  kGated,     // field values, each released by the purpose gate for the stated purpose: the
              // role's categories and an API key's own purposes decide (R28-R30, R86)
  kReleased,  // personal data released without a per-field gate decision (a request's details,
              // an access package): needs a role that may decide requests
};

class Access {
 public:
  // Anyone, without credentials.
  static Access Public() {
    return Access(P(Principal::kAnonymous), Capability::kNone, PersonalData::kNone);
  }
  // The signed-in subject, for their own data only.
  static Access Subject(PersonalData data) {
    return Access(P(Principal::kSubject), Capability::kNone, data);
  }
  // A staff session only (the console, the account, staff and keys management, the audit log).
  static Access StaffSession(Capability cap, PersonalData data) {
    return Access(P(Principal::kStaffSession), cap, data);
  }
  // A staff session or an API key of the school.
  static Access Staff(Capability cap, PersonalData data) {
    return Access(P(Principal::kStaffSession) | P(Principal::kApiKey), cap, data);
  }

  bool Allows(Principal p) const { return (principals_ & P(p)) != 0; }
  bool IsPublic() const { return Allows(Principal::kAnonymous); }
  bool IsStaff() const { return Allows(Principal::kStaffSession) || Allows(Principal::kApiKey); }
  Capability capability() const { return capability_; }
  PersonalData personal_data() const { return data_; }
  // "" when the declaration is sound, else what is wrong with it.
  std::string Problem() const;
  // The declaration as the OpenAPI document shows it (x-dovira-access).
  nlohmann::json ToJson() const;

 private:
  Access(unsigned principals, Capability cap, PersonalData data)
      : principals_(principals), capability_(cap), data_(data) {}
  static constexpr unsigned P(Principal p) { return static_cast<unsigned>(p); }
  unsigned principals_;
  Capability capability_;
  PersonalData data_;
};

const char* CapabilityName(Capability c);

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
  Access access;
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
  // Returns the index of the added route. A declaration that contradicts itself
  // (Access::Problem) is a programming error: the process aborts, naming the route.
  size_t Add(std::string method, std::string pattern, Access access, RouteDoc doc);
  Match Find(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }

  // The OpenAPI 3.0 document of every route.
  nlohmann::json OpenApi(const std::string& title, const std::string& version) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace dovira::api
