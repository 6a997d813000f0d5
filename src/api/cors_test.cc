#include "api/cors.h"

#include <gtest/gtest.h>

#include <string>

namespace dovira::api {
namespace {

std::string Header(const ports::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

ports::HttpRequest Req(const std::string& method, const std::string& path) {
  ports::HttpRequest r;
  r.method = method;
  r.path = path;
  r.headers["origin"] = "https://school.example";
  return r;
}

TEST(Cors, OnlyTheEmbeddablePublicRoutesAreCrossOrigin) {
  EXPECT_STREQ(CrossOriginMethod("/v1/schools/s/forms/payment"), "GET");
  EXPECT_STREQ(CrossOriginMethod("/v1/schools/s/forms/payment/submissions"), "POST");
  EXPECT_STREQ(CrossOriginMethod("/v1/schools/s/cookies"), "GET");
  EXPECT_STREQ(CrossOriginMethod("/v1/schools/s/cookie-consents"), "POST");
  EXPECT_STREQ(CrossOriginMethod("/v1/schools/s/visits"), "POST");
  EXPECT_EQ(CrossOriginMethod("/v1/schools/s/visits/stats"), nullptr);
  for (const char* staff : {"/v1/schools/s/subjects", "/v1/auth/login", "/v1/schools/s/audit",
                            "/v1/schools/s/forms/x/submissions/y", "/policy", "/"}) {
    EXPECT_EQ(CrossOriginMethod(staff), nullptr) << staff;
  }
}

TEST(Cors, PreflightAnswersWithTheRoutesMethod) {
  ports::HttpRequest req = Req("OPTIONS", "/v1/schools/s/forms/payment/submissions");
  req.headers["access-control-request-method"] = "POST";
  auto r = CorsPreflight(req);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(Header(*r, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(Header(*r, "Access-Control-Allow-Methods"), "POST, OPTIONS");
  EXPECT_EQ(Header(*r, "Access-Control-Allow-Headers"), "Content-Type");
  ports::HttpRequest staff = Req("OPTIONS", "/v1/schools/s/subjects");
  staff.headers["access-control-request-method"] = "POST";
  EXPECT_FALSE(CorsPreflight(staff).has_value());
}

TEST(Cors, ResponsesOfOtherRoutesGetNoCorsHeaders) {
  ports::HttpResponse ok;
  AddCorsHeaders(Req("POST", "/v1/schools/s/cookie-consents"), ok);
  EXPECT_EQ(Header(ok, "Access-Control-Allow-Origin"), "*");
  ports::HttpResponse staff;
  AddCorsHeaders(Req("GET", "/v1/schools/s/subjects"), staff);
  EXPECT_EQ(Header(staff, "Access-Control-Allow-Origin"), "");
  ports::HttpResponse wrong_method;
  AddCorsHeaders(Req("DELETE", "/v1/schools/s/cookies"), wrong_method);
  EXPECT_EQ(Header(wrong_method, "Access-Control-Allow-Origin"), "");
}

}  // namespace
}  // namespace dovira::api
