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

// R86 on 002 (L60: access is restricted for affiliated companies and contractors): the
// order-fulfilment contractor's people reach only the customers whose orders were assigned to
// their organisation, and nothing of the school as a whole.
class Access002 : public ::testing::Test {
 protected:
  static constexpr char k002[] = "soho-lms";
  static constexpr char kCourier[] = "Courier Express LLC";
  static constexpr char kCourierEmail[] = "driver@courier.test";

  static void SetUpTestSuite() {
    ServerOptions options;
    options.policies = {"002"};
    server_ = std::make_unique<TestServer>(options);
    start_error_ = server_->Start();
    if (!start_error_.empty()) return;
    // The bootstrap administrator of 002 holds its first privileged role (the authorised
    // representative).
    admin_ = std::make_unique<StaffClient>(server_.get(), k002, server_->bootstrap_email(),
                                           server_->BootstrapPassword(k002));
    start_error_ = admin_->SignIn();
  }
  static void TearDownTestSuite() {
    courier_.reset();
    admin_.reset();
    server_.reset();
  }
  void SetUp() override { ASSERT_EQ(start_error_, ""); }

  static Response CreateStaff(const std::string& role, const std::string& email,
                              const Json& organisation) {
    Json body{{"name", "Petro Kurier"}, {"email", email}, {"role", role}, {"password", kPassword}};
    if (!organisation.is_null()) body["organisation"] = organisation;
    return admin_->Post(admin_->Base() + "/staff", body);
  }

  static std::string NewCustomer(const std::string& email, const std::string& phone) {
    Response r = server_->Post(std::string("/v1/schools/") + k002 + "/forms/order/submissions",
                               Json{{"fields", {{"first_name", "Aigerim"},
                                                {"last_name", "Seitkali"},
                                                {"mobile_phone", phone},
                                                {"email", email},
                                                {"postal_address", "Almaty, Abaya 10"}}},
                                    {"accept_policy", true}});
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.Body().value("subject", "");
  }

  static Response Read(const StaffClient& who, const std::string& subject) {
    return who.Post(who.Base() + "/subjects/" + subject + "/read",
                    Json{{"purpose", "agreement_performance"},
                         {"fields", {"mobile_phone", "postal_address"}}});
  }

  static std::vector<std::string> Listed(const StaffClient& who) {
    Response r = who.Get(who.Base() + "/subjects");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::vector<std::string> ids;
    const Json body = r.Body();
    for (const auto& s : body["items"]) ids.push_back(s.value("id", ""));
    return ids;
  }

  static std::unique_ptr<TestServer> server_;
  static std::unique_ptr<StaffClient> admin_, courier_;
  static std::string start_error_;
};

std::unique_ptr<TestServer> Access002::server_;
std::unique_ptr<StaffClient> Access002::admin_, Access002::courier_;
std::string Access002::start_error_;

TEST_F(Access002, R86_AContractorSeesOnlyTheCustomersWhoseOrdersWereAssignedToIt) {
  // A contractor's account names its organisation; the school's own staff name none.
  Response unnamed = CreateStaff("order_contractor", kCourierEmail, nullptr);
  EXPECT_EQ(unnamed.status, 422) << unnamed.Describe();
  EXPECT_EQ(unnamed.ErrorCode(), "organisation_required");
  Response own = CreateStaff("support", "support@soho.test", kCourier);
  EXPECT_EQ(own.status, 422) << own.Describe();
  EXPECT_EQ(own.ErrorCode(), "organisation_not_for_role");
  Response created = CreateStaff("order_contractor", kCourierEmail, kCourier);
  ASSERT_EQ(created.status, 201) << created.Describe();
  EXPECT_EQ(created.Body().value("organisation", ""), kCourier);
  const std::string courier_id = created.Body().value("id", "");
  ASSERT_EQ(admin_->Post(admin_->Base() + "/staff/" + courier_id + "/briefing", Json::object())
                .status,
            200);
  courier_ = std::make_unique<StaffClient>(server_.get(), k002, kCourierEmail, kPassword);
  ASSERT_EQ(courier_->SignIn(), "");

  const std::string assigned = NewCustomer("assigned@example.com", "+77011230041");
  const std::string other = NewCustomer("other@example.com", "+77011230042");
  ASSERT_FALSE(assigned.empty());
  ASSERT_FALSE(other.empty());
  // The school's own staff of the same categories reach both (the rule narrows only contractors).
  Response by_admin = Read(*admin_, other);
  ASSERT_EQ(by_admin.status, 200) << by_admin.Describe();

  // Before any assignment the contractor reaches nobody, and learns nothing of who is on file.
  Response before = Read(*courier_, assigned);
  EXPECT_EQ(before.status, 404) << before.Describe();
  EXPECT_EQ(before.ErrorCode(), "subject_unknown");
  EXPECT_EQ(before.body.find("+77011230041"), std::string::npos);
  EXPECT_EQ(courier_->Get(courier_->Base() + "/subjects/" + assigned).status, 404);
  EXPECT_TRUE(Listed(*courier_).empty());
  // Routes about the school as a whole are not the contractor's.
  Response console = courier_->Get(courier_->Base() + "/consents/rates");
  EXPECT_EQ(console.status, 403) << console.Describe();
  EXPECT_EQ(console.ErrorCode(), "role_denied");

  // Assignment: only to an organisation a contractor's account names; a reference is kept.
  Response stray = admin_->Post(admin_->Base() + "/assignments",
                                Json{{"organisation", "Nobody Ltd"}, {"subject", assigned}});
  EXPECT_EQ(stray.status, 422) << stray.Describe();
  EXPECT_EQ(stray.ErrorCode(), "organisation_unknown");
  Response by_courier = courier_->Post(courier_->Base() + "/assignments",
                                       Json{{"organisation", kCourier}, {"subject", assigned}});
  EXPECT_EQ(by_courier.status, 403) << by_courier.Describe();
  Response assign = admin_->Post(admin_->Base() + "/assignments",
                                 Json{{"organisation", kCourier},
                                      {"subject", assigned},
                                      {"reference", "order 1042"}});
  ASSERT_EQ(assign.status, 201) << assign.Describe();
  EXPECT_EQ(assign.Body().value("reference", ""), "order 1042");

  // The assigned customer's order contacts, and no one else's.
  Response read = Read(*courier_, assigned);
  ASSERT_EQ(read.status, 200) << read.Describe();
  EXPECT_NE(read.body.find("+77011230041"), std::string::npos) << read.body;
  Response not_theirs = Read(*courier_, other);
  EXPECT_EQ(not_theirs.status, 404) << not_theirs.Describe();
  EXPECT_EQ(not_theirs.body.find("+77011230042"), std::string::npos);
  EXPECT_EQ(Listed(*courier_), std::vector<std::string>{assigned});
  Response search = courier_->Post(courier_->Base() + "/subject-search",
                                   Json{{"purpose", "agreement_performance"},
                                        {"email", "other@example.com"}});
  EXPECT_EQ(search.status, 404) << search.Describe();
  EXPECT_EQ(search.body.find(other), std::string::npos);

  // The access list names the organisation and how many subjects it reaches.
  Response list = admin_->Get(admin_->Base() + "/access-list");
  ASSERT_EQ(list.status, 200) << list.Describe();
  bool listed = false;
  const Json holders = list.Body()["holders"];
  for (const auto& h : holders) {
    if (h.value("id", "") != courier_id) continue;
    listed = true;
    EXPECT_EQ(h.value("organisation", ""), "contractor");
    EXPECT_EQ(h.value("organisation_name", ""), kCourier);
    EXPECT_EQ(h.value("assigned_subjects", 0), 1);
  }
  EXPECT_TRUE(listed);

  // Assignments outlive a restart of the server.
  ASSERT_EQ(server_->Stop(), 0);
  ASSERT_EQ(server_->Start(), "");
  ASSERT_EQ(admin_->SignIn(), "");
  ASSERT_EQ(courier_->SignIn(), "");
  EXPECT_EQ(Read(*courier_, assigned).status, 200);
  EXPECT_EQ(Read(*courier_, other).status, 404);

  // The end of the assignment ends the access at once.
  Response end = admin_->Post(admin_->Base() + "/assignments/end",
                              Json{{"organisation", kCourier}, {"subject", assigned}});
  ASSERT_EQ(end.status, 200) << end.Describe();
  EXPECT_EQ(Read(*courier_, assigned).status, 404);
  Response again = admin_->Post(admin_->Base() + "/assignments/end",
                                Json{{"organisation", kCourier}, {"subject", assigned}});
  EXPECT_EQ(again.status, 404) << again.Describe();
  EXPECT_EQ(again.ErrorCode(), "assignment_unknown");

  // Both are audited with the organisation.
  Response audit = admin_->Get(admin_->Base() + "/audit?order=desc&limit=200");
  ASSERT_EQ(audit.status, 200) << audit.Describe();
  std::set<std::string> actions;
  const Json entries = audit.Body()["items"];
  for (const auto& e : entries) {
    const std::string action = e.value("action", "");
    if (action.rfind("access.", 0) != 0) continue;
    EXPECT_NE(e.dump().find(kCourier), std::string::npos) << e.dump();
    actions.insert(action);
  }
  EXPECT_EQ(actions, (std::set<std::string>{"access.assign", "access.unassign"}));
}

}  // namespace
}  // namespace dovira::testing
