#include "api/router.h"

#include <gtest/gtest.h>

namespace dovira::api {
namespace {

RouteDoc Doc() {
  RouteDoc d;
  d.summary = "a route";
  d.tag = "test";
  d.errors = {404};
  return d;
}

// Issue 11: a declaration that contradicts itself is refused when the route is registered, so a
// server with such a route never starts.
TEST(RouterDeathTest, AContradictoryDeclarationIsRefusedAtRegistration) {
  Router router;
  EXPECT_DEATH(router.Add("GET", "/v1/schools/{school}/leak",
                          Access::Staff(Capability::kNone, PersonalData::kReleased), Doc()),
               "releases personal data needs a role that may decide requests");
  EXPECT_DEATH(router.Add("GET", "/v1/schools/{school}/leak",
                          Access::StaffSession(Capability::kNone, PersonalData::kReleased), Doc()),
               "GET /v1/schools/\\{school\\}/leak");
}

TEST(Router, EverySoundDeclarationIsAcceptedAndShownInTheDocument) {
  Router router;
  router.Add("GET", "/open", Access::Public(), Doc());
  router.Add("GET", "/v1/schools/{school}/me/data", Access::Subject(PersonalData::kReleased),
             Doc());
  router.Add("GET", "/v1/schools/{school}/requests/{request}/package",
             Access::Staff(Capability::kDecides, PersonalData::kReleased), Doc());
  router.Add("GET", "/v1/schools/{school}/staff",
             Access::StaffSession(Capability::kPrivileged, PersonalData::kNone), Doc());
  const nlohmann::json paths = router.OpenApi("t", "1")["paths"];

  const auto& open = paths["/open"]["get"];
  EXPECT_EQ(open["x-dovira-access"], nlohmann::json({{"principals", {"anonymous"}},
                                                     {"capability", "none"},
                                                     {"personal_data", "none"}}));
  EXPECT_FALSE(open.contains("security"));
  EXPECT_FALSE(open["responses"].contains("401"));

  const auto& package = paths["/v1/schools/{school}/requests/{request}/package"]["get"];
  EXPECT_EQ(package["x-dovira-access"],
            nlohmann::json({{"principals", {"staff_session", "api_key"}},
                            {"capability", "decides_requests"},
                            {"personal_data", "released"}}));
  EXPECT_EQ(package["security"].size(), 2u);
  // Every route that asks who calls it may answer 401 and 403, whatever its own list says.
  EXPECT_TRUE(package["responses"].contains("401"));
  EXPECT_TRUE(package["responses"].contains("403"));
  EXPECT_TRUE(package["responses"].contains("404"));

  EXPECT_EQ(paths["/v1/schools/{school}/me/data"]["get"]["x-dovira-access"]["principals"],
            nlohmann::json({"subject"}));
  EXPECT_EQ(paths["/v1/schools/{school}/staff"]["get"]["x-dovira-access"]["capability"],
            "privileged");
}

}  // namespace
}  // namespace dovira::api
