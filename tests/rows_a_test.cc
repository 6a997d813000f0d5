// Rows proven against the real server on the policy each row names (issue 19): reports about a
// child's data (R26, 004), minors on 003 (R27), decisions of authorised representatives on 002
// (R31) and a subject's additional statements (R44, 004).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "server.h"
#include "smtp_sink.h"

namespace dovira::testing {
namespace {

constexpr char k002[] = "soho-lms";
constexpr char k003[] = "it-pro";
constexpr char k004[] = "bbooster-masterclass";

Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

class RowsA : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sink_ = std::make_unique<SmtpSink>();
    ServerOptions options;
    options.policies = {"001", "002", "003", "004"};
    options.extra_args = {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(sink_->port()),
                          "--mail-from", "privacy@school.test"};
    server_ = std::make_unique<TestServer>(options);
    start_error_ = sink_->ok() ? server_->Start() : "no SMTP sink";
  }
  static void TearDownTestSuite() {
    admins_.clear();
    server_.reset();
    sink_.reset();
  }
  void SetUp() override { ASSERT_EQ(start_error_, ""); }

  TestServer& server() { return *server_; }

  // The bootstrap administrator of `school` (on 002 the authorised representative: the first
  // privileged role of the policy).
  StaffClient& Admin(const std::string& school) {
    auto& slot = admins_[school];
    if (!slot) {
      slot = std::make_unique<StaffClient>(server_.get(), school, server_->bootstrap_email(),
                                           server_->BootstrapPassword(school));
      EXPECT_EQ(slot->SignIn(), "") << school;
    }
    return *slot;
  }

  std::string Key(const std::string& school, const std::string& role,
                  const std::vector<std::string>& purposes) {
    StaffClient& admin = Admin(school);
    Response r = admin.Post(admin.Base() + "/api-keys",
                            Json{{"name", "rows-a-" + role}, {"role", role}, {"purposes", purposes}});
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.Body().value("key", "");
  }

  std::string NewSubject(const std::string& school, const std::string& form, const Json& body) {
    Response r = server_->Post("/v1/schools/" + school + "/forms/" + form + "/submissions", body);
    EXPECT_EQ(r.status, 201) << r.Describe();
    return r.Body().value("subject", "");
  }

  // The audit entry with this decision id, as the administrator reads the log.
  Json AuditEntry(const std::string& school, const std::string& decision_id) {
    StaffClient& admin = Admin(school);
    Response r = admin.Get(admin.Base() + "/audit?order=desc&limit=200");
    EXPECT_EQ(r.status, 200) << r.Describe();
    const Json items = r.Body()["items"];
    for (const auto& e : items) {
      if (e.value("decision_id", "") == decision_id) return e;
    }
    ADD_FAILURE() << "no audit entry for " << decision_id;
    return Json::object();
  }

  // Signs `email` in to the personal cabinet of `school` with the code e-mailed to the address on
  // file; the cookie and CSRF headers of the session, or empty with a failure.
  Headers CabinetSession(const std::string& school, const std::string& email) {
    const std::string base = "/v1/schools/" + school;
    Response begin = server_->Post(base + "/me/sign-in", Json{{"email", email}});
    EXPECT_EQ(begin.status, 202) << begin.Describe();
    StaffClient& admin = Admin(school);
    EXPECT_EQ(admin.Post(admin.Base() + "/jobs/outbox/run", Json::object()).status, 200);
    std::string code;
    const std::regex six(R"(: (\d{6}))");
    for (const auto& m : sink_->messages()) {
      if (std::find(m.rcpt.begin(), m.rcpt.end(), email) == m.rcpt.end()) continue;
      std::smatch found;
      const std::string text = SmtpSink::DecodedText(m.data);
      if (std::regex_search(text, found, six)) code = found[1].str();
    }
    Response done = server_->Post(base + "/me/sign-in/verify",
                                  Json{{"login", begin.Body().value("login", "")}, {"code", code}});
    EXPECT_EQ(done.status, 200) << done.Describe();
    const std::string set = done.Header("set-cookie");
    const size_t eq = set.find('='), semi = set.find(';');
    if (done.status != 200 || semi == std::string::npos) return {};
    return {{"Cookie", "dovira_me=" + set.substr(eq + 1, semi - eq - 1)},
            {"X-CSRF-Token", done.Body().value("csrf_token", "")}};
  }

  static std::unique_ptr<SmtpSink> sink_;
  static std::unique_ptr<TestServer> server_;
  static std::string start_error_;
  static std::map<std::string, std::unique_ptr<StaffClient>> admins_;
};

std::unique_ptr<SmtpSink> RowsA::sink_;
std::unique_ptr<TestServer> RowsA::server_;
std::string RowsA::start_error_;
std::map<std::string, std::unique_ptr<StaffClient>> RowsA::admins_;

Json Registration003(const std::string& email, const std::string& born) {
  return Json{{"fields",
               {{"first_name", "Taras"},
                {"last_name", "Koval"},
                {"email", email},
                {"date_of_birth", born}}},
              {"consents", {"direct_marketing"}},
              {"accept_policy", true},
              {"representative",
               {{"name", "Halyna Koval"}, {"relation", "parent"}, {"permission_at", "2025-03-01"}}}};
}

// R27 (003 L45, IC-003-4): a pupil born on 2012-05-01 is a minor on 2025-03-03 by the birth date;
// with the marketing and profiling consent given, direct marketing is refused to them and a
// profiling run leaves them out, while an adult with the same consent is allowed and included.
TEST_F(RowsA, R27MinorsOn003GetNoMarketingAndAreLeftOutOfProfiling) {
  const std::string minor = NewSubject(k003, "registration",
                                       Registration003("pupil.r27@example.com", "2012-05-01"));
  Json adult_body = Registration003("adult.r27@example.com", "1990-01-01");
  adult_body.erase("representative");
  const std::string adult = NewSubject(k003, "registration", adult_body);
  ASSERT_FALSE(minor.empty());
  ASSERT_FALSE(adult.empty());
  StaffClient& admin = Admin(k003);
  Response facts = admin.Get(admin.Base() + "/subjects/" + minor);
  ASSERT_EQ(facts.status, 200) << facts.Describe();
  EXPECT_TRUE(facts.Body().value("minor", false)) << facts.body;

  const std::string key = Key(k003, "marketing_manager", {"direct_marketing", "profiling_segmentation"});
  const std::string process = std::string("/v1/schools/") + k003 + "/process";
  Response refused = server().Post(process, Json{{"subject", minor}, {"purpose", "direct_marketing"}},
                                   Bearer(key));
  EXPECT_EQ(refused.status, 403) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "minor");
  Response allowed = server().Post(process, Json{{"subject", adult}, {"purpose", "direct_marketing"}},
                                   Bearer(key));
  EXPECT_EQ(allowed.status, 200) << allowed.Describe();
  // The gate refuses profiling of the minor too, when asked about one use...
  Response profile = server().Post(
      process, Json{{"subject", minor}, {"purpose", "profiling_segmentation"}, {"operation", "profile"}},
      Bearer(key));
  EXPECT_EQ(profile.status, 403) << profile.Describe();
  EXPECT_EQ(profile.ErrorCode(), "minor");

  // ...and in a profiling run, which leaves the minor out with the reason.
  Response run = server().Post(std::string("/v1/schools/") + k003 + "/profiling-runs",
                               Json{{"purpose", "profiling_segmentation"}, {"subjects", {minor, adult}}},
                               Bearer(key));
  ASSERT_EQ(run.status, 200) << run.Describe();
  const Json j = run.Body();
  ASSERT_EQ(j["included"].size(), 1u) << run.body;
  EXPECT_EQ(j["included"][0].value("subject", ""), adult);
  ASSERT_EQ(j["skipped"].size(), 1u) << run.body;
  EXPECT_EQ(j["skipped"][0].value("subject", ""), minor);
  EXPECT_EQ(j["skipped"][0].value("reason", ""), "minor");
}

Json Registration002(const std::string& phone) {
  return Json{{"fields",
               {{"first_name", "Aigerim"}, {"last_name", "Seitkali"}, {"mobile_phone", phone}}},
              {"consents", {"policy_agreement"}},
              {"accept_policy", true}};
}

// R31 (002 L64): a routine use runs under the standing decision the policy names for its purpose,
// and the answer and the audit entry carry that decision's id.
TEST_F(RowsA, R31ARoutineUseOn002CarriesItsStandingDecision) {
  const std::string subject = NewSubject(k002, "registration", Registration002("+77011230031"));
  ASSERT_FALSE(subject.empty());
  const std::string key = Key(k002, "support", {"customer_support"});
  Response r = server().Post(std::string("/v1/schools/") + k002 + "/process",
                             Json{{"subject", subject}, {"purpose", "customer_support"}}, Bearer(key));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Body().value("standing_decision", ""), "sd_customer_support");
  EXPECT_FALSE(r.Body().contains("decided_by")) << r.body;
  const Json entry = AuditEntry(k002, r.Body().value("decision_id", ""));
  EXPECT_EQ(entry.value("action", ""), "gate.read");
  ASSERT_TRUE(entry["detail"].is_object()) << entry.dump();
  EXPECT_EQ(entry["detail"].value("standing_decision", ""), "sd_customer_support");
}

// R31 (002 L64): a purpose with no standing decision (authority disclosures) is used only on a
// decision taken by an authorised representative: a privileged responsible person whose role lists
// the purpose is refused, and so is an API key; the authorised representative is allowed, and the
// use records who decided it.
TEST_F(RowsA, R31OnlyTheAuthorisedRepresentativeUsesAPurposeDecidedCaseByCase) {
  const std::string subject = NewSubject(k002, "registration", Registration002("+77011230032"));
  ASSERT_FALSE(subject.empty());
  const std::string process = std::string("/v1/schools/") + k002 + "/process";
  const Json body = {{"subject", subject}, {"purpose", "authority_disclosure"}};

  const std::string officer = Key(k002, "responsible_person", {"authority_disclosure"});
  Response by_key = server().Post(process, body, Bearer(officer));
  EXPECT_EQ(by_key.status, 403) << by_key.Describe();
  EXPECT_EQ(by_key.ErrorCode(), "decision_role_required");
  const Json refused = AuditEntry(k002, by_key.Header("x-decision-id"));
  EXPECT_EQ(refused.value("outcome", ""), "deny");
  EXPECT_EQ(refused.value("reason", ""), "decision_role_required");

  StaffClient& admin = Admin(k002);
  Response created = admin.Post(admin.Base() + "/staff",
                                Json{{"name", "Dana Officer"},
                                     {"email", "officer.r31@example.com"},
                                     {"role", "responsible_person"},
                                     {"password", "Tall-Otter-Runs-7319!"}});
  ASSERT_EQ(created.status, 201) << created.Describe();
  ASSERT_EQ(admin.Post(admin.Base() + "/staff/" + created.Body().value("id", "") + "/briefing",
                       Json::object())
                .status,
            200);
  StaffClient person(&server(), k002, "officer.r31@example.com", "Tall-Otter-Runs-7319!");
  ASSERT_EQ(person.SignIn("Quiet-Heron-Waits-5821!"), "");
  Response by_officer = person.Post(person.Base() + "/process", body);
  EXPECT_EQ(by_officer.status, 403) << by_officer.Describe();
  EXPECT_EQ(by_officer.ErrorCode(), "decision_role_required");

  ASSERT_EQ(admin.me().value("role", ""), "authorised_representative") << admin.me().dump();
  Response decided = admin.Post(admin.Base() + "/process", body);
  ASSERT_EQ(decided.status, 200) << decided.Describe();
  EXPECT_EQ(decided.Body().value("decided_by", ""), "staff:" + admin.staff_id());
  EXPECT_FALSE(decided.Body().contains("standing_decision")) << decided.body;
  const Json entry = AuditEntry(k002, decided.Body().value("decision_id", ""));
  EXPECT_EQ(entry.value("outcome", ""), "allow");
  ASSERT_TRUE(entry["detail"].is_object()) << entry.dump();
  EXPECT_EQ(entry["detail"].value("decided_by", ""), "staff:" + admin.staff_id());
}

Json Masterclass004(const std::string& email) {
  return Json{{"fields",
               {{"first_name", "Taras"},
                {"email", email},
                {"phone", "+380501112233"},
                {"job_position", "Maths teacher"}}},
              {"accept_policy", true},
              {"age_statement", "adult"},
              {"lang", "uk"},
              {"consents", {"button_consent"}}};
}

// R26 (004 §5.7.3): anyone, without signing in, reports that a child's data were collected. The
// report opens a case for the officer on the policy's deletion term for a minor's data (004:
// immediate, so due when received, by the server's clock); the answer does not say whether the
// child is on file. The route is public and declared so in the route table.
TEST_F(RowsA, R26AChildReportOpensACaseForTheOfficerOnTheDeletionTerm) {
  const std::string kid = NewSubject(k004, "masterclass", Masterclass004("kid.r26@example.com"));
  ASSERT_FALSE(kid.empty());
  ASSERT_FALSE(server().SetClock("2025-03-04T10:15:00Z").empty());
  const std::string route = std::string("/v1/schools/") + k004 + "/reports/child-data";
  Response r = server().Post(route, Json{{"reporter_email", "parent.r26@example.com"},
                                         {"hint", "Kid.R26@example.com"},
                                         {"details", "My son is 12 and filled in the form."}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  const Json j = r.Body();
  EXPECT_EQ(j.value("type", ""), "child_data_report");
  EXPECT_EQ(j.value("received_at", ""), "2025-03-04T10:15:00.000000Z");
  EXPECT_EQ(j.value("due_at", ""), "2025-03-04T10:15:00.000000Z");  // minors.deletion_term = immediate
  EXPECT_FALSE(j.contains("subject")) << r.body;
  EXPECT_EQ(r.body.find(kid), std::string::npos) << r.body;

  // The officer's case: the child matched by the hint, the term from the policy, the report's
  // words kept for the officer; no identity step, since nothing is released to the reporter.
  StaffClient& admin = Admin(k004);
  Response c = admin.Get(admin.Base() + "/requests/" + j.value("id", ""));
  ASSERT_EQ(c.status, 200) << c.Describe();
  const Json cs = c.Body();
  EXPECT_EQ(cs["subject"], Json(kid)) << c.body;
  EXPECT_EQ(cs.value("filed_by", ""), "reporter");
  EXPECT_EQ(cs.value("state", ""), "in_progress");
  EXPECT_EQ(cs.value("due_at", ""), "2025-03-04T10:15:00.000000Z");
  EXPECT_EQ(cs.value("term", ""), "immediate");
  EXPECT_EQ(cs.value("due_source", ""), "policy");
  EXPECT_NE(c.body.find("My son is 12"), std::string::npos) << c.body;
  Response queue = admin.Get(admin.Base() + "/requests?type=child_data_report");
  ASSERT_EQ(queue.status, 200) << queue.Describe();
  EXPECT_NE(queue.body.find(j.value("id", "")), std::string::npos) << queue.body;

  // A hint that matches nobody opens a case too, with the same answer.
  Response unknown = server().Post(route, Json{{"reporter_email", "teacher.r26@example.com"},
                                               {"hint", "Sofiia, class 6-B"}});
  ASSERT_EQ(unknown.status, 201) << unknown.Describe();
  Response uc = admin.Get(admin.Base() + "/requests/" + unknown.Body().value("id", ""));
  ASSERT_EQ(uc.status, 200) << uc.Describe();
  EXPECT_TRUE(uc.Body()["subject"].is_null()) << uc.body;

  // The route is declared public in the route table.
  Response api = server().Get("/v1/openapi.json");
  ASSERT_EQ(api.status, 200);
  const Json op = api.Body()["paths"]["/v1/schools/{school}/reports/child-data"]["post"];
  ASSERT_TRUE(op.is_object()) << "the route is not in the route table";
  EXPECT_EQ(op["x-dovira-access"]["principals"], Json::array({"anonymous"}));
}

// R26: a report with something wrong is refused with 400 naming the member, and opens nothing.
TEST_F(RowsA, R26ABadChildReportIsRefusedNamingWhatIsWrong) {
  const std::string route = std::string("/v1/schools/") + k004 + "/reports/child-data";
  StaffClient& admin = Admin(k004);
  auto count = [&] {
    Response q = admin.Get(admin.Base() + "/requests?type=child_data_report&limit=500");
    EXPECT_EQ(q.status, 200) << q.Describe();
    return q.Body()["items"].size();
  };
  const size_t before = count();
  const std::vector<std::pair<Json, std::string>> bad = {
      {Json::object(), "reporter_email"},
      {Json{{"reporter_email", "not an address"}, {"hint", "kid@example.com"}}, "reporter_email"},
      {Json{{"reporter_email", "parent@example.com"}}, "hint"},
      {Json{{"reporter_email", "parent@example.com"}, {"hint", std::string(201, 'x')}}, "hint"},
      {Json{{"reporter_email", "parent@example.com"}, {"hint", "x"}, {"details", 5}}, "details"},
      {Json{{"reporter_email", "parent@example.com"}, {"hint", "x"}, {"child", "y"}}, "child"},
  };
  for (const auto& [body, field] : bad) {
    Response r = server().Post(route, body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.Describe();
    EXPECT_EQ(r.Body()["error"]["field"], Json(field)) << body.dump() << " " << r.body;
  }
  Response not_json = server().Call("POST", route, "{");
  EXPECT_EQ(not_json.status, 400) << not_json.Describe();
  EXPECT_EQ(count(), before);
}

// R26: the route is limited like the other public routes that mail someone: five a quarter of an
// hour per address, known or not; then 429 and no case.
TEST_F(RowsA, R26ChildReportsAreRateLimitedLikeThePublicRoutes) {
  ASSERT_FALSE(server().Advance(3600).empty());
  const std::string route = std::string("/v1/schools/") + k004 + "/reports/child-data";
  const Json body = {{"reporter_email", "busy.r26@example.com"}, {"hint", "a child in 5-A"}};
  for (int i = 0; i < 5; ++i) {
    Response r = server().Post(route, body);
    ASSERT_EQ(r.status, 201) << i << " " << r.Describe();
  }
  Response limited = server().Post(route, body);
  EXPECT_EQ(limited.status, 429) << limited.Describe();
  EXPECT_EQ(limited.ErrorCode(), "rate_limited");
  ASSERT_FALSE(server().Advance(16 * 60).empty());
  EXPECT_EQ(server().Post(route, body).status, 201);
}

// R44 (004 §9.3, §9.6): a signed-in subject attaches an additional statement to a field; it is in
// the access package with its text, the staff view of the subject says which field carries one,
// and staff who may read the field get the statement with it (and those who may not, neither).
TEST_F(RowsA, R44AStatementAttachedToAFieldReachesThePackageAndTheStaffView) {
  const std::string email = "statement.r44@example.com";
  const std::string subject = NewSubject(k004, "masterclass", Masterclass004(email));
  ASSERT_FALSE(subject.empty());
  ASSERT_FALSE(server().Advance(3600).empty());
  const Headers me = CabinetSession(k004, email);
  ASSERT_FALSE(me.empty());
  const std::string base = std::string("/v1/schools/") + k004;
  const std::string text = "Since September I also lead the school's robotics club.";

  // Bad statements are refused naming the member, and change nothing.
  const std::vector<std::tuple<Json, int, std::string>> bad = {
      {Json{{"text", text}}, 400, "field"},
      {Json{{"field", "job_position"}}, 400, "text"},
      {Json{{"field", "job_position"}, {"text", "   "}}, 400, "text"},
      {Json{{"field", "job_position"}, {"text", std::string(2001, 'a')}}, 400, "text"},
      {Json{{"field", "shoe_size"}, {"text", text}}, 422, "field"},
      {Json{{"field", "patronymic"}, {"text", text}}, 422, "field"},  // none on file
  };
  for (const auto& [body, status, field] : bad) {
    Response r = server().Call("POST", base + "/me/statements", body.dump(), me);
    EXPECT_EQ(r.status, status) << body.dump().substr(0, 80) << " " << r.Describe();
    EXPECT_EQ(r.Body()["error"]["field"], Json(field)) << r.body;
  }
  Response none = server().Call("GET", base + "/me/data", "", me);
  ASSERT_EQ(none.status, 200);
  EXPECT_FALSE(none.Body().contains("statements")) << none.body;

  Response attached = server().Call(
      "POST", base + "/me/statements", Json{{"field", "job_position"}, {"text", text}}.dump(), me);
  ASSERT_EQ(attached.status, 201) << attached.Describe();
  EXPECT_EQ(attached.Body().value("field", ""), "job_position");

  // The subject's own view and the access package carry it with its text.
  Response data = server().Call("GET", base + "/me/data", "", me);
  ASSERT_EQ(data.status, 200);
  ASSERT_TRUE(data.Body()["statements"].is_array()) << data.body;
  EXPECT_EQ(data.Body()["statements"][0].value("text", ""), text);
  StaffClient& admin = Admin(k004);
  Response filed = admin.Post(admin.Base() + "/requests",
                              Json{{"type", "access"}, {"subject", subject}, {"channel", "email"}});
  ASSERT_EQ(filed.status, 201) << filed.Describe();
  const std::string request = filed.Body().value("id", "");
  if (filed.Body().value("state", "") == "awaiting_identity") {
    ASSERT_EQ(admin.Post(admin.Base() + "/requests/" + request + "/verify",
                         Json{{"method", "document"}, {"evidence", "passport seen"}})
                  .status,
              200);
  }
  Response package = admin.Get(admin.Base() + "/requests/" + request + "/package");
  ASSERT_EQ(package.status, 200) << package.Describe();
  const Json statements = package.Body()["statements"];
  ASSERT_TRUE(statements.is_array()) << package.body.substr(0, 2000);
  ASSERT_EQ(statements.size(), 1u);
  EXPECT_EQ(statements[0].value("field", ""), "job_position");
  EXPECT_EQ(statements[0].value("text", ""), text);

  // The staff view of the subject names the field, without the text (that view releases no
  // personal data); a read that releases the field brings the statement along.
  Response facts = admin.Get(admin.Base() + "/subjects/" + subject);
  ASSERT_EQ(facts.status, 200) << facts.Describe();
  ASSERT_TRUE(facts.Body()["statements"].is_array()) << facts.body;
  EXPECT_EQ(facts.Body()["statements"][0].value("field", ""), "job_position");
  EXPECT_EQ(facts.body.find("robotics"), std::string::npos) << facts.body;
  const std::string sales = Key(k004, "sales_manager", {"application_handling"});
  Response read = server().Post(base + "/subjects/" + subject + "/read",
                                Json{{"purpose", "application_handling"}}, Bearer(sales));
  ASSERT_EQ(read.status, 200) << read.Describe();
  EXPECT_EQ(read.Body()["fields"].value("job_position", ""), "Maths teacher");
  EXPECT_EQ(read.Body()["statements"], Json({{"job_position", text}})) << read.body;
  // Support's role does not see the profile category: neither the field nor its statement.
  const std::string support = Key(k004, "support", {"application_handling"});
  Response narrow = server().Post(base + "/subjects/" + subject + "/read",
                                  Json{{"purpose", "application_handling"}}, Bearer(support));
  ASSERT_EQ(narrow.status, 200) << narrow.Describe();
  EXPECT_FALSE(narrow.Body()["fields"].contains("job_position")) << narrow.body;
  EXPECT_EQ(narrow.body.find("robotics"), std::string::npos) << narrow.body;

  // The audit names the field, never the text.
  Response trail = admin.Get(admin.Base() + "/subjects/" + subject + "/audit?limit=200");
  ASSERT_EQ(trail.status, 200) << trail.Describe();
  bool audited = false;
  const Json entries = trail.Body()["items"];
  for (const auto& e : entries) {
    if (e.value("action", "") == "subject.statement") audited = e.value("fields", "") == "job_position";
  }
  EXPECT_TRUE(audited) << trail.body;
  EXPECT_EQ(trail.body.find("robotics"), std::string::npos);
}

// R44 (004 §9.3, §9.6, §14.4): deleting a field the subject provided takes the statement attached
// to it along; a statement on another field stays.
TEST_F(RowsA, R44DeletingAFieldRemovesTheStatementOnIt) {
  const std::string email = "statement.delete.r44@example.com";
  const std::string subject = NewSubject(k004, "masterclass", Masterclass004(email));
  ASSERT_FALSE(subject.empty());
  ASSERT_FALSE(server().Advance(3600).empty());
  const Headers me = CabinetSession(k004, email);
  ASSERT_FALSE(me.empty());
  const std::string base = std::string("/v1/schools/") + k004;
  for (const auto& [field, text] : std::vector<std::pair<std::string, std::string>>{
           {"job_position", "I also lead the robotics club."},
           {"phone", "Call me after six in the evening."}}) {
    Response attached = server().Call("POST", base + "/me/statements",
                                      Json{{"field", field}, {"text", text}}.dump(), me);
    ASSERT_EQ(attached.status, 201) << attached.Describe();
  }
  Response deleted = server().Call("DELETE", base + "/me/fields/job_position", "", me);
  ASSERT_EQ(deleted.status, 204) << deleted.Describe();

  Response data = server().Call("GET", base + "/me/data", "", me);
  ASSERT_EQ(data.status, 200) << data.Describe();
  ASSERT_TRUE(data.Body()["statements"].is_array()) << data.body;
  ASSERT_EQ(data.Body()["statements"].size(), 1u) << data.body;
  EXPECT_EQ(data.Body()["statements"][0].value("field", ""), "phone");
  EXPECT_EQ(data.body.find("robotics"), std::string::npos) << data.body;
  StaffClient& admin = Admin(k004);
  Response facts = admin.Get(admin.Base() + "/subjects/" + subject);
  ASSERT_EQ(facts.status, 200) << facts.Describe();
  ASSERT_EQ(facts.Body()["statements"].size(), 1u) << facts.body;
  EXPECT_EQ(facts.Body()["statements"][0].value("field", ""), "phone");
}

}  // namespace
}  // namespace dovira::testing
