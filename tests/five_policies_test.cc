// The core engine on each of the five shipped policies, end to end through the real server: a
// learner (or the policy's own kind of person) registers through one of the policy's forms with
// its consents; a read for a purpose the person consented to, or one resting on the contract,
// succeeds with only that purpose's fields; an undeclared purpose and an unconsented one are
// refused with their reason; withdrawing consent takes effect on the next read (R15, R16, R28-R30,
// R55).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server.h"

namespace dovira::testing {
namespace {

Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

struct Case {
  const char* policy;  // file prefix
  const char* school;
  const char* form;
  Json submission;
  const char* contract_purpose;
  const char* contract_role;
  const char* consent_purpose;  // "" when the policy has no consent purpose (000, a processor)
  const char* consent_role;
  const char* unconsented_purpose;  // a consent purpose the submission did not grant, or ""
};

std::vector<Case> Cases() {
  return {
      {"000", "lms-collaborator", "user_cabinet",
       Json{{"fields", {{"user_full_name", "Iryna Melnyk"}, {"user_login", "imelnyk"}}}},
       "service_provision", "platform_operations", "", "", ""},
      {"001", "vkluchi_zhizn", "payment",
       Json{{"fields",
             {{"first_name", "Олена"},
              {"email", "olena.five@example.com"},
              {"mobile_phone", "+380671234567"},
              {"purchased_service", "Курс"},
              {"purchase_amount", "1200"}}},
            {"consents", {"pd_consent"}},
            {"accept_policy", true},
            {"age_statement", "adult"}},
       "contract_performance", "support", "marketing_mailing", "mailing_manager", ""},
      {"002", "soho-lms", "registration",
       Json{{"fields",
             {{"first_name", "Aigerim"}, {"last_name", "Seitkali"}, {"mobile_phone", "+77011234567"}}},
            {"consents", {"policy_agreement"}},
            {"accept_policy", true}},
       "customer_support", "support", "marketing_messages", "marketing", ""},
      {"003", "it-pro", "registration",
       Json{{"fields",
             {{"first_name", "Taras"},
              {"last_name", "Koval"},
              {"email", "taras.five@example.com"},
              {"date_of_birth", "1990-01-01"}}},
            {"consents", {"direct_marketing"}},
            {"accept_policy", true}},
       "site_functions", "support", "direct_marketing", "marketing_manager", "google_advertising"},
      {"004", "bbooster-masterclass", "masterclass",
       Json{{"fields",
             {{"first_name", "Ivan"}, {"email", "ivan.five@example.com"}, {"phone", "+380501234567"}}},
            {"consents", {"button_consent", "newsletter_optin"}},
            {"accept_policy", true},
            {"age_statement", "adult"}},
       "application_handling", "support", "newsletter", "marketing_manager",
       "marketing_communications"},
  };
}

std::string ApiKey(const std::string& data, const Case& c, const char* role, const char* purpose) {
  std::vector<std::string> args = {DOVIRA_BIN, "apikey", "create", "--data", data};
  for (const auto& x : Cases()) {
    args.push_back("--policy");
    args.push_back(PolicyPath(x.policy));
  }
  args.insert(args.end(), {"--school", c.school, "--name", std::string("five-") + role, "--role",
                           role, "--purpose", purpose});
  RunResult r = RunProgram(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string key = r.out;
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

TEST(FivePolicies, R28_R29_R30_R55_RegisterReadRefuseAndWithdrawOnEveryShippedPolicy) {
  std::string root = MakeTempDir();
  std::string data = root + "/data";
  struct Keys {
    std::string contract, consent, decider;
  };
  std::vector<Keys> keys;
  const std::vector<Case> cases = Cases();
  for (const auto& c : cases) {
    Keys k;
    k.contract = ApiKey(data, c, c.contract_role, c.contract_purpose);
    if (*c.consent_purpose) {
      k.consent = ApiKey(data, c, c.consent_role, c.consent_purpose);
      // Withdrawing on a subject's behalf needs a role that may decide requests (issue 11): every
      // shipped policy's responsible person is privileged.
      k.decider = ApiKey(data, c, "responsible_person", c.contract_purpose);
    }
    keys.push_back(k);
  }
  ServerOptions options;
  options.policies = {"000", "001", "002", "003", "004"};
  options.data_dir = data;
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");

  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.school);
    const std::string base = std::string("/v1/schools/") + c.school;
    Response reg = server.Post(base + "/forms/" + c.form + "/submissions", c.submission);
    ASSERT_EQ(reg.status, 201) << reg.Describe();
    const std::string subject = reg.Body()["subject"].get<std::string>();
    const std::string read = base + "/subjects/" + subject + "/read";

    // A purpose resting on the contract: allowed, only that purpose's fields come back (R30).
    Response ok = server.Post(read, Json{{"purpose", c.contract_purpose}}, Bearer(keys[i].contract));
    ASSERT_EQ(ok.status, 200) << ok.Describe();
    const Json released = ok.Body()["fields"];
    ASSERT_TRUE(released.is_object()) << ok.Describe();
    for (auto it = released.begin(); it != released.end(); ++it) {
      EXPECT_TRUE(c.submission["fields"].contains(it.key())) << it.key();
    }
    EXPECT_FALSE(released.empty());

    // An undeclared purpose: refused with the reason (R28).
    Response undeclared = server.Post(base + "/process",
                                      Json{{"subject", subject}, {"purpose", "sale_of_data"}},
                                      Bearer(keys[i].contract));
    EXPECT_EQ(undeclared.status, 403) << undeclared.Describe();
    EXPECT_EQ(undeclared.ErrorCode(), "purpose_undeclared");
    if (!*c.consent_purpose) continue;

    // The consented purpose: allowed (R29).
    Response consented = server.Post(read, Json{{"purpose", c.consent_purpose}}, Bearer(keys[i].consent));
    ASSERT_EQ(consented.status, 200) << consented.Describe();

    // Withdrawal takes effect on the next read (R55).
    Response withdrawn =
        server.Post(base + "/subjects/" + subject + "/consents/withdraw",
                    Json{{"channel", "personal_account"}}, Bearer(keys[i].decider));
    ASSERT_EQ(withdrawn.status, 200) << withdrawn.Describe();
    Response after = server.Post(read, Json{{"purpose", c.consent_purpose}}, Bearer(keys[i].consent));
    EXPECT_EQ(after.status, 403) << after.Describe();
    EXPECT_EQ(after.ErrorCode(), "consent_withdrawn");
    // The contract purpose is untouched by the withdrawal (R20).
    EXPECT_EQ(server.Post(read, Json{{"purpose", c.contract_purpose}}, Bearer(keys[i].contract)).status,
              200);
  }
}

// An undeclared purpose is refused by the gate itself, whatever the key may state (R28), and a
// consent purpose nobody granted is refused with no_consent (R29).
TEST(FivePolicies, R28_R29_UndeclaredAndUnconsentedPurposesAreRefusedWithTheirReason) {
  std::string root = MakeTempDir();
  std::string data = root + "/data";
  std::vector<std::string> unconsented_keys;
  const std::vector<Case> cases = Cases();
  for (const auto& c : cases) {
    unconsented_keys.push_back(*c.unconsented_purpose
                                   ? ApiKey(data, c, c.consent_role, c.unconsented_purpose)
                                   : ApiKey(data, c, c.contract_role, c.contract_purpose));
  }
  ServerOptions options;
  options.policies = {"000", "001", "002", "003", "004"};
  options.data_dir = data;
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.school);
    const std::string base = std::string("/v1/schools/") + c.school;
    Response reg = server.Post(base + "/forms/" + c.form + "/submissions", c.submission);
    ASSERT_EQ(reg.status, 201) << reg.Describe();
    const std::string subject = reg.Body()["subject"].get<std::string>();
    if (!*c.unconsented_purpose) continue;
    Response r = server.Post(base + "/subjects/" + subject + "/read",
                             Json{{"purpose", c.unconsented_purpose}}, Bearer(unconsented_keys[i]));
    EXPECT_EQ(r.status, 403) << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "no_consent");
  }
}

}  // namespace
}  // namespace dovira::testing
