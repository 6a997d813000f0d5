// R86 against the real server on 004 (bbooster-masterclass, §6.4, §12.1 bullets 3 and 5): need to
// know per role, the list of persons with access per category, and break-glass access beyond a
// role, alerted to the responsible person and honoured only until it ends (fake clock).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "server.h"
#include "smtp_sink.h"

namespace dovira::testing {
namespace {

constexpr char k004[] = "bbooster-masterclass";
constexpr char kPassword[] = "Quiet-Heron-Walks-5821";
constexpr char kCuratorEmail[] = "curator@bbooster.test";
constexpr char kFinanceEmail[] = "finance@bbooster.test";

class Access004 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sink_ = std::make_unique<SmtpSink>();
    ServerOptions options;
    options.policies = {"004"};
    options.extra_args = {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(sink_->port()),
                          "--mail-from", "privacy@school.test"};
    server_ = std::make_unique<TestServer>(options);
    start_error_ = sink_->ok() ? server_->Start() : "no SMTP sink";
    if (!start_error_.empty()) return;
    admin_ = std::make_unique<StaffClient>(server_.get(), k004, server_->bootstrap_email(),
                                           server_->BootstrapPassword(k004));
    start_error_ = admin_->SignIn();
    if (!start_error_.empty()) return;
    curator_id_ = CreateStaff("curator", kCuratorEmail, "Iryna Kurator");
    finance_id_ = CreateStaff("finance", kFinanceEmail, "Oleh Finansyst");
    curator_ = std::make_unique<StaffClient>(server_.get(), k004, kCuratorEmail, kPassword);
    if (start_error_.empty()) start_error_ = curator_->SignIn();
  }
  static void TearDownTestSuite() {
    curator_.reset();
    admin_.reset();
    server_.reset();
    sink_.reset();
  }
  void SetUp() override { ASSERT_EQ(start_error_, ""); }

  // A briefed staff account of `role`; its id, or "" with start_error_ set.
  static std::string CreateStaff(const std::string& role, const std::string& email,
                                 const std::string& name) {
    Response r = admin_->Post(admin_->Base() + "/staff", Json{{"name", name},
                                                              {"email", email},
                                                              {"role", role},
                                                              {"password", kPassword}});
    if (r.status != 201) {
      start_error_ = "create staff: " + r.Describe();
      return {};
    }
    const std::string id = r.Body().value("id", "");
    Response b = admin_->Post(admin_->Base() + "/staff/" + id + "/briefing", Json::object());
    if (b.status != 200) start_error_ = "briefing: " + b.Describe();
    return id;
  }

  static std::string NewApplicant(const std::string& email, const std::string& phone) {
    Response r = server_->Post(std::string("/v1/schools/") + k004 + "/forms/masterclass/submissions",
                               Json{{"fields", {{"first_name", "Taras"}, {"email", email},
                                                {"phone", phone}}},
                                    {"accept_policy", true},
                                    {"age_statement", "adult"},
                                    {"lang", "uk"},
                                    {"consents", {"button_consent"}}});
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.Body().value("subject", "");
  }

  static Response ReadAs(const StaffClient& who, const std::string& subject,
                         const std::string& purpose, const Json& fields) {
    return who.Post(who.Base() + "/subjects/" + subject + "/read",
                    Json{{"purpose", purpose}, {"fields", fields}});
  }

  static std::unique_ptr<SmtpSink> sink_;
  static std::unique_ptr<TestServer> server_;
  static std::unique_ptr<StaffClient> admin_, curator_;
  static std::string start_error_, curator_id_, finance_id_;
};

std::unique_ptr<SmtpSink> Access004::sink_;
std::unique_ptr<TestServer> Access004::server_;
std::unique_ptr<StaffClient> Access004::admin_, Access004::curator_;
std::string Access004::start_error_, Access004::curator_id_, Access004::finance_id_;

// R86 acceptance (004 §6.4): a curator asking for `phone` under a purpose outside the role's
// (contract_performance, events) gets 403 and no value; within the role's purposes the gate
// decides on the subject's state instead.
TEST_F(Access004, R86_CuratorReadingThePhoneOutsideTheRolesPurposesIs403) {
  const std::string subject = NewApplicant("r86-phone@example.com", "+380501112233");
  ASSERT_FALSE(subject.empty());
  Response r = ReadAs(*curator_, subject, "application_handling", Json::array({"phone"}));
  EXPECT_EQ(r.status, 403) << r.Describe();
  EXPECT_EQ(r.ErrorCode(), "role_denied");
  EXPECT_EQ(r.body.find("+380501112233"), std::string::npos);
  Response marketing = ReadAs(*curator_, subject, "marketing_communications",
                              Json::array({"phone"}));
  EXPECT_EQ(marketing.status, 403) << marketing.Describe();
  EXPECT_EQ(marketing.ErrorCode(), "role_denied");
}

// R86 acceptance (004 §12.1 bullet 3): the list of persons with access to personal data, per
// category, on demand: each active account with its role's title, organisation, categories and
// purposes, and per category who reaches it; only privileged roles may ask for it.
TEST_F(Access004, R86_AccessListNamesEveryPersonWithAccessPerCategory) {
  Response r = admin_->Get(admin_->Base() + "/access-list?lang=en");
  ASSERT_EQ(r.status, 200) << r.Describe();
  const Json list = r.Body();
  std::map<std::string, Json> holders;
  for (const auto& h : list["holders"]) holders[h.value("id", "")] = h;
  ASSERT_TRUE(holders.count(curator_id_)) << list.dump();
  const Json& curator = holders[curator_id_];
  EXPECT_EQ(curator["name"], "Iryna Kurator");
  EXPECT_EQ(curator["email"], kCuratorEmail);
  EXPECT_EQ(curator["organisation"], "staff");
  EXPECT_EQ(curator["role"]["id"], "curator");
  EXPECT_EQ(curator["role"]["title"], "Masterclass host or curator");
  std::set<std::string> categories, purposes;
  for (const auto& c : curator["categories"]) categories.insert(c.value("id", ""));
  for (const auto& p : curator["purposes"]) purposes.insert(p.value("id", ""));
  EXPECT_EQ(categories, (std::set<std::string>{"identity", "contact", "image", "transactional",
                                                "technical"}));
  EXPECT_EQ(purposes, (std::set<std::string>{"contract_performance", "events"}));
  EXPECT_EQ(curator["categories"][0]["title"].get<std::string>().empty(), false);

  std::map<std::string, std::set<std::string>> by_category;
  for (const auto& c : list["categories"]) {
    for (const auto& h : c["holders"]) by_category[c.value("id", "")].insert(h.value("id", ""));
  }
  // Every category of the policy is listed; finance data reach finance and the responsible
  // person, not the curator.
  EXPECT_TRUE(by_category["financial"].count(finance_id_));
  EXPECT_FALSE(by_category["financial"].count(curator_id_));
  EXPECT_TRUE(by_category["contact"].count(curator_id_));
  EXPECT_TRUE(by_category["contact"].count(finance_id_));
  EXPECT_FALSE(by_category["user_content"].count(curator_id_));

  Response denied = curator_->Get(curator_->Base() + "/access-list");
  EXPECT_EQ(denied.status, 403) << denied.Describe();
  EXPECT_EQ(denied.ErrorCode(), "role_denied");
}

// R86 (004 §6.4): others get access only where the law provides, through a logged break-glass
// grant: the officer lets the curator read one applicant's contact data for justice_requests for
// one hour, with a reason; the grant is audited, the responsible person is e-mailed, the curator
// reads the phone of that applicant only, and after the hour the gate refuses again.
TEST_F(Access004, R86_BreakGlassIsLoggedAlertedAndHonouredOnlyUntilItEnds) {
  const std::string subject = NewApplicant("r86-bg@example.com", "+380671234567");
  const std::string other = NewApplicant("r86-bg-other@example.com", "+380671230000");
  ASSERT_FALSE(subject.empty());
  const Json phone = Json::array({"phone"});
  Response before = ReadAs(*curator_, subject, "justice_requests", phone);
  EXPECT_EQ(before.status, 403) << before.Describe();

  const std::string grants = admin_->Base() + "/access-grants";
  Json body = {{"staff", curator_id_},         {"subject", subject},
               {"category", "contact"},        {"purpose", "justice_requests"},
               {"reason", "Court order 2/135/25"}, {"hours", 1}};
  // Bad input is refused naming the field, and grants nothing.
  Json no_reason = body;
  no_reason["reason"] = "";
  Response r1 = admin_->Post(grants, no_reason);
  EXPECT_EQ(r1.status, 422) << r1.Describe();
  EXPECT_EQ(r1.Body()["error"].value("field", ""), "reason");
  Json too_long = body;
  too_long["hours"] = 48;
  Response r2 = admin_->Post(grants, too_long);
  EXPECT_EQ(r2.status, 422) << r2.Describe();
  EXPECT_EQ(r2.ErrorCode(), "hours_invalid");
  EXPECT_EQ(r2.Body()["error"].value("field", ""), "hours");
  Response by_curator = curator_->Post(curator_->Base() + "/access-grants", body);
  EXPECT_EQ(by_curator.status, 403) << by_curator.Describe();
  EXPECT_EQ(ReadAs(*curator_, subject, "justice_requests", phone).status, 403);

  Response granted = admin_->Post(grants, body);
  ASSERT_EQ(granted.status, 201) << granted.Describe();
  const std::string grant_id = granted.Body().value("id", "");

  Response read = ReadAs(*curator_, subject, "justice_requests", phone);
  ASSERT_EQ(read.status, 200) << read.Describe();
  EXPECT_EQ(read.Body()["fields"].value("phone", ""), "+380671234567");
  EXPECT_EQ(ReadAs(*curator_, other, "justice_requests", phone).status, 403);
  EXPECT_EQ(ReadAs(*curator_, subject, "justice_requests", Json::array({"first_name"})).status,
            403);

  // The access list shows the grant in force.
  Response list = admin_->Get(admin_->Base() + "/access-list");
  ASSERT_EQ(list.status, 200) << list.Describe();
  bool listed = false;
  const Json list_body = list.Body();
  for (const auto& h : list_body["holders"]) {
    if (h.value("id", "") != curator_id_) continue;
    for (const auto& g : h["break_glass"]) listed = listed || g.value("id", "") == grant_id;
  }
  EXPECT_TRUE(listed) << list.body.substr(0, 600);

  // Logged: one access.break_glass entry under the grant's id.
  Response audit = admin_->Get(admin_->Base() + "/audit?order=desc&limit=200");
  ASSERT_EQ(audit.status, 200) << audit.Describe();
  bool logged = false;
  const Json entries = audit.Body();
  for (const auto& e : entries["items"]) {
    if (e.value("decision_id", "") == grant_id) {
      logged = e.value("action", "") == "access.break_glass";
    }
  }
  EXPECT_TRUE(logged);

  // Alerted: the responsible person of 004 ([officers]) gets the letter.
  ASSERT_EQ(admin_->Post(admin_->Base() + "/jobs/outbox/run", Json::object()).status, 200);
  bool alerted = false;
  for (const auto& m : sink_->messages()) {
    if (std::find(m.rcpt.begin(), m.rcpt.end(), "admin@visotsky.com") == m.rcpt.end()) continue;
    const std::string text = SmtpSink::DecodedText(m.data);
    alerted = alerted || (text.find("Iryna Kurator") != std::string::npos &&
                          text.find("Court order 2/135/25") != std::string::npos);
  }
  EXPECT_TRUE(alerted);

  // Expired: the hour is over and the gate refuses again.
  ASSERT_NE(server_->Advance(3600), "");
  Response after = ReadAs(*curator_, subject, "justice_requests", phone);
  EXPECT_EQ(after.status, 403) << after.Describe();
  EXPECT_EQ(after.ErrorCode(), "role_denied");
  EXPECT_EQ(after.body.find("+380671234567"), std::string::npos);
}

}  // namespace
}  // namespace dovira::testing
