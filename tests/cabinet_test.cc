// The personal cabinet against the real server (R37, R38, R44, R54, R55, R58): sign-in with an
// e-mailed code delivered to a real SMTP sink (or written into a --mail-dir directory), the
// subject's data, self-service edits and deletions, the export checked against
// schema/export-v1.json, withdrawal and sign-out.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "server.h"
#include "smtp_sink.h"

namespace dovira::testing {
namespace {

constexpr char kSchool[] = "vkluchi_zhizn";
const std::string kBase = std::string("/v1/schools/") + kSchool;
const Json kOlena = Json::parse(R"({"fields":{"first_name":"Олена","email":"olena@example.com",
  "mobile_phone":"+380671234567","purchased_service":"Курс","purchase_amount":"1200"},
  "consents":["pd_consent"],"accept_policy":true,"age_statement":"adult"})");

class Cabinet : public ::testing::Test {
 protected:
  void SetUp() override { Serve("001", kSchool, "2025-03-03T09:00:00Z", "payment", kOlena); }

  // Serves the shipped policy `policy` (school `school`) on a fake clock set to `now`, signs its
  // administrator in and takes `submission` on `form` as subject_.
  void Serve(const std::string& policy, const std::string& school, const std::string& now,
             const std::string& form, const Json& submission) {
    ASSERT_TRUE(sink_.ok());
    base_ = "/v1/schools/" + school;
    ServerOptions o;
    o.policies = {policy};
    o.extra_args = {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(sink_.port()),
                    "--mail-from", "privacy@school.test"};
    server_ = std::make_unique<TestServer>(o);
    ASSERT_EQ(server_->Start(), "");
    ASSERT_FALSE(server_->SetClock(now).empty());
    staff_ = std::make_unique<StaffClient>(server_.get(), school, server_->bootstrap_email(),
                                           server_->BootstrapPassword(school));
    ASSERT_EQ(staff_->SignIn(), "");
    Response r = server_->Post(base_ + "/forms/" + form + "/submissions", submission);
    ASSERT_EQ(r.status, 201) << r.Describe();
    subject_ = r.Body().value("subject", "");
    ASSERT_FALSE(subject_.empty());
  }

  // Runs the outbox and returns the last 6-digit code e-mailed to `address` ("" if none).
  std::string MailedCode(const std::string& address) {
    Response job = staff_->Post(base_ + "/jobs/outbox/run", Json::object());
    EXPECT_EQ(job.status, 200) << job.Describe();
    std::string code;
    const std::regex six(R"(: (\d{6}))");
    for (const auto& m : sink_.messages()) {
      if (std::find(m.rcpt.begin(), m.rcpt.end(), address) == m.rcpt.end()) continue;
      std::smatch found;
      std::string text = SmtpSink::DecodedText(m.data);
      if (std::regex_search(text, found, six)) code = found[1].str();
    }
    return code;
  }

  // Signs in as `email`; returns "" or what went wrong. Sets cookie_ and csrf_.
  std::string SignIn(const std::string& email) {
    Response begin = server_->Post(base_ + "/me/sign-in", Json{{"email", email}});
    if (begin.status != 202) return "sign-in: " + begin.Describe();
    const std::string login = begin.Body().value("login", "");
    const std::string code = MailedCode(email);
    if (code.empty()) return "no code was e-mailed to " + email;
    Response done =
        server_->Post(base_ + "/me/sign-in/verify", Json{{"login", login}, {"code", code}});
    if (done.status != 200) return "verify: " + done.Describe();
    const std::string set = done.Header("set-cookie");
    const size_t eq = set.find('='), semi = set.find(';');
    if (set.rfind("dovira_me=", 0) != 0 || semi == std::string::npos) return "cookie: " + set;
    cookie_ = "dovira_me=" + set.substr(eq + 1, semi - eq - 1);
    csrf_ = done.Body().value("csrf_token", "");
    return "";
  }

  Response Me(const std::string& method, const std::string& path, const Json& body = nullptr,
              bool with_csrf = true) {
    Headers h = {{"Cookie", cookie_}};
    if (with_csrf) h.emplace_back("X-CSRF-Token", csrf_);
    return server_->Call(method, base_ + "/me" + path, body.is_null() ? "" : body.dump(), h);
  }

  // The subject's audit trail has an entry by the subject with this action, reason and fields.
  bool Audited(const std::string& action, const std::string& reason,
               const std::string& fields = "") {
    Response r = staff_->Get(base_ + "/subjects/" + subject_ + "/audit?limit=500");
    EXPECT_EQ(r.status, 200) << r.Describe();
    const Json body = r.Body();
    for (const auto& e : body["items"]) {
      if (e.value("actor", "") == "subject" && e.value("action", "") == action &&
          e.value("reason", "") == reason && (fields.empty() || e.value("fields", "") == fields)) {
        return true;
      }
    }
    ADD_FAILURE() << "no " << action << "/" << reason << " entry by the subject in " << r.body;
    return false;
  }

  static const Json* FieldOf(const Json& data, const std::string& field) {
    for (const auto& f : data["fields"]) {
      if (f.value("field", "") == field) return &f;
    }
    return nullptr;
  }

  SmtpSink sink_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<StaffClient> staff_;
  std::string base_, subject_, cookie_, csrf_;
};

TEST_F(Cabinet, R37SignInWithTheCodeMailedToTheAddressOnFile) {
  // An address that is not on file gets the same answer, and no e-mail.
  Response unknown = server_->Post(kBase + "/me/sign-in", Json{{"email", "nobody@example.com"}});
  ASSERT_EQ(unknown.status, 202) << unknown.Describe();
  EXPECT_EQ(MailedCode("nobody@example.com"), "");
  Response bad = server_->Post(kBase + "/me/sign-in", Json{{"email", "not an address"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Body()["error"].value("field", ""), "email");

  // Wrong codes count; after five, even the right one is refused.
  Response begin = server_->Post(kBase + "/me/sign-in", Json{{"email", "Olena@Example.com"}});
  ASSERT_EQ(begin.status, 202);
  const std::string login = begin.Body().value("login", "");
  const std::string code = MailedCode("olena@example.com");
  ASSERT_EQ(code.size(), 6u);
  const std::string wrong = code == "123456" ? "654321" : "123456";
  for (int i = 0; i < 5; ++i) {
    Response r = server_->Post(kBase + "/me/sign-in/verify", Json{{"login", login}, {"code", wrong}});
    ASSERT_EQ(r.status, 403) << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "code_invalid");
  }
  Response late = server_->Post(kBase + "/me/sign-in/verify", Json{{"login", login}, {"code", code}});
  EXPECT_EQ(late.status, 403);

  // A fresh code works once, and expires after 15 minutes.
  ASSERT_EQ(SignIn("olena@example.com"), "");
  Response me = Me("GET", "");
  ASSERT_EQ(me.status, 200) << me.Describe();
  EXPECT_EQ(me.Body().value("subject", ""), subject_);
  Response again = server_->Post(kBase + "/me/sign-in", Json{{"email", "olena@example.com"}});
  const std::string login2 = again.Body().value("login", "");
  const std::string code2 = MailedCode("olena@example.com");
  ASSERT_FALSE(server_->Advance(16 * 60).empty());
  Response expired =
      server_->Post(kBase + "/me/sign-in/verify", Json{{"login", login2}, {"code", code2}});
  EXPECT_EQ(expired.status, 403);

  // Sign-out ends the session.
  ASSERT_EQ(Me("POST", "/sign-out").status, 200);
  EXPECT_EQ(Me("GET", "").status, 401);
  // Without a cookie, and on another school's path, nothing is served.
  EXPECT_EQ(server_->Get(kBase + "/me/data").status, 401);
}

TEST_F(Cabinet, R38TheSubjectSeesEverythingStoredAboutThem) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  Response r = Me("GET", "/data");
  ASSERT_EQ(r.status, 200) << r.Describe();
  Json data = r.Body();
  const Json* phone = FieldOf(data, "mobile_phone");
  ASSERT_NE(phone, nullptr) << data.dump();
  EXPECT_EQ((*phone)["value"], "+380671234567");
  EXPECT_EQ((*phone)["editable"], true);
  ASSERT_NE(FieldOf(data, "first_name"), nullptr);
  ASSERT_TRUE(data["consents"].is_array()) << data.dump();
  EXPECT_EQ(data["consents"][0]["consent"], "personal_data");
  EXPECT_TRUE(data["purposes"].is_array());
  EXPECT_TRUE(data.contains("automated_decisions"));
  // Titles beside the ids, in the reader's language (issue 12): the field, its category, the
  // stores that keep it and each consent of the ledger, from the policy.
  Response uk = Me("GET", "/data?lang=uk");
  ASSERT_EQ(uk.status, 200) << uk.Describe();
  const Json uk_data = uk.Body();
  const Json* uk_phone = FieldOf(uk_data, "mobile_phone");
  ASSERT_NE(uk_phone, nullptr);
  EXPECT_EQ((*uk_phone)["title"], "Номер мобільного телефону") << uk_phone->dump();
  EXPECT_FALSE((*uk_phone)["category_title"].get<std::string>().empty());
  EXPECT_NE((*uk_phone)["category_title"], (*uk_phone)["category"]);
  ASSERT_EQ((*uk_phone)["kept_in"].size(), (*uk_phone)["stores"].size()) << uk_phone->dump();
  for (const auto& store : (*uk_phone)["kept_in"]) {
    EXPECT_FALSE(store.value("title", "").empty()) << store.dump();
    EXPECT_NE(store.value("title", ""), store.value("id", "")) << store.dump();
  }
  ASSERT_TRUE(uk_data["consents"].is_array());
  EXPECT_EQ(uk_data["consents"][0].value("title", ""),
            "Згода на обробку персональних даних (єдина)")
      << uk_data["consents"].dump();
  // The read is in the subject's audit trail, as the subject's own.
  EXPECT_TRUE(Audited("read", "self_service")) << "no self-service read in the audit trail";
}

TEST_F(Cabinet, R44EditsAndDeletionsOfProvidedFieldsAreAudited) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  // CSRF: an edit without the session's token is refused and changes nothing.
  Response no_csrf = Me("PATCH", "", Json{{"mobile_phone", "+380501112233"}}, false);
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(no_csrf.ErrorCode(), "csrf_token_invalid");
  Response too_long = Me("PATCH", "", Json{{"mobile_phone", std::string(500, '1')}});
  EXPECT_EQ(too_long.status, 422) << too_long.Describe();
  EXPECT_EQ(too_long.Body()["error"].value("field", ""), "mobile_phone");
  Response unknown = Me("PATCH", "", Json{{"shoe_size", "42"}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.Body()["error"].value("field", ""), "shoe_size");
  EXPECT_EQ(Me("PATCH", "", Json{{"mobile_phone", 5}}).status, 400);
  EXPECT_EQ((*FieldOf(Me("GET", "/data").Body(), "mobile_phone"))["value"], "+380671234567");

  Response ok = Me("PATCH", "", Json{{"mobile_phone", "+380501112233"}});
  ASSERT_EQ(ok.status, 200) << ok.Describe();
  EXPECT_EQ((*FieldOf(Me("GET", "/data").Body(), "mobile_phone"))["value"], "+380501112233");
  EXPECT_TRUE(Audited("update", "self_service", "mobile_phone"));

  // Deleting: the sign-in address stays; another provided field goes from every store.
  Response email = Me("DELETE", "/fields/email");
  EXPECT_EQ(email.status, 422);
  EXPECT_EQ(email.ErrorCode(), "field_required");
  Response gone = Me("DELETE", "/fields/purchase_amount");
  ASSERT_EQ(gone.status, 204) << gone.Describe();
  EXPECT_EQ(FieldOf(Me("GET", "/data").Body(), "purchase_amount"), nullptr);
  EXPECT_EQ(Me("DELETE", "/fields/purchase_amount").ErrorCode(), "field_not_held");
}

// R44, R37: a changed e-mail address is the one that finds the subject from then on; the old one
// finds nobody, and another person's address is refused without changing anything.
TEST_F(Cabinet, R44AChangedAddressReplacesTheOldOneForSignIn) {
  Json taras = kOlena;
  taras["fields"]["email"] = "taras@example.com";
  taras["fields"]["mobile_phone"] = "+380671230000";
  ASSERT_EQ(server_->Post(kBase + "/forms/payment/submissions", taras).status, 201);
  ASSERT_EQ(SignIn("olena@example.com"), "");
  Response taken = Me("PATCH", "", Json{{"email", "Taras@Example.com"}});
  EXPECT_EQ(taken.status, 409) << taken.Describe();
  EXPECT_EQ(taken.ErrorCode(), "value_taken");
  EXPECT_EQ(taken.Body()["error"].value("field", ""), "email");
  EXPECT_EQ((*FieldOf(Me("GET", "/data").Body(), "email"))["value"], "olena@example.com");

  Response moved = Me("PATCH", "", Json{{"email", "olena.new@example.com"}});
  ASSERT_EQ(moved.status, 200) << moved.Describe();
  auto mailed_to = [&](const std::string& address) {
    size_t n = 0;
    for (const auto& m : sink_.messages()) {
      n += std::count(m.rcpt.begin(), m.rcpt.end(), address);
    }
    return n;
  };
  const size_t old_before = mailed_to("olena@example.com");
  Response old_login = server_->Post(kBase + "/me/sign-in", Json{{"email", "olena@example.com"}});
  EXPECT_EQ(old_login.status, 202) << "the same answer for any address";
  ASSERT_EQ(staff_->Post(kBase + "/jobs/outbox/run", Json::object()).status, 200);
  EXPECT_EQ(mailed_to("olena@example.com"), old_before) << "the old address still finds her";
  ASSERT_EQ(SignIn("olena.new@example.com"), "");
  EXPECT_EQ(Me("GET", "").Body().value("subject", ""), subject_);
}

// R37: codes are mailed to whoever is asked for, so one address gets at most 5 in 15 minutes,
// and one client at most 20 public mail-sending calls a minute; known and unknown addresses are
// limited alike.
TEST_F(Cabinet, R37CodesPerAddressAndCallsPerClientAreLimited) {
  for (const std::string address : {"olena@example.com", "nobody@example.com"}) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(server_->Post(kBase + "/me/sign-in", Json{{"email", address}}).status, 202);
    }
    Response over = server_->Post(kBase + "/me/sign-in", Json{{"email", address}});
    EXPECT_EQ(over.status, 429) << over.Describe();
    EXPECT_EQ(over.ErrorCode(), "rate_limited");
  }
  // Public requests share the per-address limit.
  Response request = server_->Post(kBase + "/public/requests",
                                   Json{{"type", "access"}, {"email", "olena@example.com"}});
  EXPECT_EQ(request.status, 429) << request.Describe();
  // The client's own limit: 20 calls a minute, whatever the address.
  int accepted = 13;  // the calls above, each counted by the client limit
  for (int i = 0; accepted < 20; ++i, ++accepted) {
    ASSERT_EQ(server_->Post(kBase + "/me/sign-in",
                            Json{{"email", "n" + std::to_string(i) + "@example.com"}})
                  .status,
              202);
  }
  EXPECT_EQ(server_->Post(kBase + "/me/sign-in", Json{{"email", "fresh@example.com"}}).status, 429);
  // Later the client and the address may ask again.
  ASSERT_FALSE(server_->SetClock("2025-03-03T09:16:00Z").empty());
  EXPECT_EQ(SignIn("olena@example.com"), "");
}

TEST_F(Cabinet, R54TheExportFollowsItsPublishedSchemaInJsonAndCsv) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  Response r = Me("GET", "/export");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u);
  Json exp = r.Body();
  std::set<std::string> fields;
  for (const auto& f : exp["fields"]) fields.insert(f.value("field", ""));
  for (const auto& [field, value] : kOlena["fields"].items()) {
    EXPECT_TRUE(fields.count(field)) << field << " missing from " << exp.dump();
  }
  // Validated by an independent JSON Schema implementation.
  const std::string path = ::testing::TempDir() + "/export.json";
  std::ofstream(path) << r.body;
  const std::string cmd = "python3 -c \"import json,sys,jsonschema; "
                          "jsonschema.Draft202012Validator(json.load(open(sys.argv[1])),"
                          "format_checker=jsonschema.FormatChecker()).validate(json.load(open(sys.argv[2])))\" " +
                          std::string(DOVIRA_SOURCE_DIR) + "/schema/export-v1.json " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << r.body;

  // The CSV opens in a spreadsheet with its Cyrillic intact (a UTF-8 byte-order mark first) and
  // holds each value exactly as stored: no apostrophe before a phone's "+" (issue 12, R54).
  Response csv = Me("GET", "/export?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.Header("content-type").rfind("text/csv", 0), 0u);
  EXPECT_EQ(csv.body.rfind("\xEF\xBB\xBF" "field,category,value,collected_at,channel,form\r\n", 0),
            0u)
      << csv.body.substr(0, 64);
  EXPECT_NE(csv.body.find(",+380671234567,"), std::string::npos) << csv.body;
  EXPECT_EQ(csv.body.find("'+380"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",Олена,"), std::string::npos) << csv.body;
  EXPECT_EQ(Me("GET", "/export?format=xml").status, 400);

  // A transfer needs an https destination; a good one is filed as portability and queued.
  Response plain = Me("POST", "/export", Json{{"destination_url", "http://example.com/in"}});
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(plain.Body()["error"].value("field", ""), "destination_url");
  // 001 offers no portability; the refusal names the right and files nothing.
  Response sent = Me("POST", "/export", Json{{"destination_url", "https://lms.example.com/in"}});
  ASSERT_EQ(sent.status, 422) << sent.Describe();
  EXPECT_EQ(sent.ErrorCode(), "right_not_offered");
  Response mine = Me("GET", "/requests");
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(mine.Body()["requests"].size(), 0u);
  EXPECT_TRUE(Audited("export", "portability_json"));
}

// A minor registered with a representative's permission, coming of age on 2025-03-10 (B06).
std::string NewMinor(TestServer& server, const std::string& email) {
  Json body = Json::parse(R"({"fields":{"first_name":"Софія","email":""},
    "consents":["pd_consent"],"accept_policy":true,"lang":"uk","age_statement":"minor",
    "date_of_majority":"2025-03-10",
    "representative":{"name":"Галина Коваль","relation":"parent","email":"halyna@example.com",
                      "permission_at":"2025-03-01"}})");
  body["fields"]["email"] = email;
  Response r = server.Post(kBase + "/forms/subscription/submissions", body);
  EXPECT_EQ(r.status, 201) << r.Describe();
  return r.Body().value("subject", "");
}

TEST_F(Cabinet, B06_AGuardianActsForALinkedMinorUntilMajority) {
  const std::string minor = NewMinor(*server_, "sofiia@example.com");
  ASSERT_FALSE(minor.empty());
  // The representative holds no data of their own, yet signs in with the address on file.
  ASSERT_EQ(SignIn("halyna@example.com"), "");
  Response me = Me("GET", "");
  ASSERT_EQ(me.status, 200) << me.Describe();
  EXPECT_TRUE(me.Body()["self"].is_null()) << me.body;
  ASSERT_EQ(me.Body()["people"].size(), 1u) << me.body;
  const Json person = me.Body()["people"][0];
  EXPECT_EQ(person.value("subject", ""), minor);
  EXPECT_EQ(person.value("name", ""), "Софія");
  EXPECT_EQ(person.value("relation", ""), "parent");
  EXPECT_EQ(person.value("until", ""), "2025-03-10");
  // The code reached the representative: the permission is verified by it.
  EXPECT_EQ(person.value("verification", ""), "verified");
  Response g = staff_->Get(kBase + "/subjects/" + minor + "/guardianships");
  ASSERT_EQ(g.status, 200) << g.Describe();
  EXPECT_EQ(g.Body()["items"][0].value("method", ""), "email_code");
  const std::string guardianship = g.Body()["items"][0].value("id", "");

  // Nothing to show before a person is chosen.
  Response none = Me("GET", "/data");
  EXPECT_EQ(none.status, 422) << none.Describe();
  EXPECT_EQ(none.ErrorCode(), "no_own_data");
  EXPECT_EQ(Me("POST", "/acting-for", Json{{"subject", nullptr}}).ErrorCode(), "no_own_data");
  // Only linked minors: another subject of the school is refused.
  Response other = Me("POST", "/acting-for", Json{{"subject", subject_}});
  EXPECT_EQ(other.status, 403) << other.Describe();
  EXPECT_EQ(other.ErrorCode(), "not_linked");
  EXPECT_EQ(Me("POST", "/acting-for", Json{{"subject", minor}}, false).status, 403);  // CSRF

  Response act = Me("POST", "/acting-for", Json{{"subject", minor}});
  ASSERT_EQ(act.status, 200) << act.Describe();
  EXPECT_EQ(act.Body().value("acting_for", ""), minor);
  EXPECT_EQ(act.Body().value("name", ""), "Софія");
  Response data = Me("GET", "/data");
  ASSERT_EQ(data.status, 200) << data.Describe();
  const Json minor_data = data.Body();
  const Json* first = FieldOf(minor_data, "first_name");
  ASSERT_NE(first, nullptr) << data.body;
  EXPECT_EQ(first->value("value", ""), "Софія");

  // A withdrawal for the minor is filed by the representative and answered to them.
  Response w = Me("POST", "/withdraw", Json{{"acknowledged_warning", true}});
  ASSERT_EQ(w.status, 202) << w.Describe();
  EXPECT_EQ(w.Body().value("filed_by", ""), "representative");
  EXPECT_EQ(w.Body().value("reply_email", ""), "halyna@example.com");
  Response ledger = staff_->Get(kBase + "/subjects/" + minor + "/consents");
  ASSERT_EQ(ledger.status, 200);
  bool by_guardian = false;
  const Json ledger_body = ledger.Body();
  for (const auto& c : ledger_body["items"]) {
    if (c.value("action", "") == "withdraw" && c.value("given_by", "") == "guardian") {
      by_guardian = true;
    }
  }
  EXPECT_TRUE(by_guardian) << ledger.body;
  // Every action is audited as the guardian's, on the minor.
  Response audit = staff_->Get(kBase + "/subjects/" + minor + "/audit?limit=500");
  ASSERT_EQ(audit.status, 200);
  std::set<std::string> actions;
  const Json audit_body = audit.Body();
  for (const auto& e : audit_body["items"]) {
    if (e.value("actor", "") == "guardian:" + guardianship) actions.insert(e.value("action", ""));
  }
  for (const char* a : {"guardianship.verify", "cabinet.act_for", "read", "consent.withdraw"}) {
    EXPECT_TRUE(actions.count(a)) << a << " in " << audit.body;
  }

  // On the day of majority (Kyiv) the guardian loses access.
  ASSERT_FALSE(server_->SetClock("2025-03-09T22:00:00Z").empty());
  ASSERT_EQ(staff_->Login().status, 200);  // the staff session lived twelve hours too
  ASSERT_EQ(SignIn("halyna@example.com"), "");  // the earlier session lived twelve hours
  Response after = Me("GET", "");
  ASSERT_EQ(after.status, 200) << after.Describe();
  EXPECT_TRUE(after.Body()["acting_for"].is_null()) << after.body;
  EXPECT_EQ(after.Body()["people"].size(), 0u) << after.body;
  EXPECT_EQ(Me("GET", "/data").ErrorCode(), "no_own_data");
  Response ended = Me("POST", "/acting-for", Json{{"subject", minor}});
  EXPECT_EQ(ended.status, 403) << ended.Describe();
  EXPECT_EQ(ended.ErrorCode(), "guardian_access_ended");
}

TEST_F(Cabinet, B06_TheNowAdultConfirmsTheirConsentInTheCabinet) {
  const std::string minor = NewMinor(*server_, "sofiia@example.com");
  ASSERT_FALSE(minor.empty());
  ASSERT_EQ(SignIn("sofiia@example.com"), "");
  Response before = Me("GET", "");
  ASSERT_EQ(before.status, 200);
  EXPECT_TRUE(before.Body()["reconsent"].is_null()) << before.body;
  EXPECT_EQ(Me("POST", "/consents/reconfirm", Json{{"decision", "confirm"}}).ErrorCode(),
            "reconsent_not_pending");
  ASSERT_FALSE(server_->SetClock("2025-03-10T08:00:00Z").empty());
  ASSERT_EQ(staff_->Login().status, 200);  // the staff session ended with the days that passed
  ASSERT_EQ(SignIn("sofiia@example.com"), "");
  Response job = staff_->Post(kBase + "/jobs/deadlines/run", Json::object());
  ASSERT_EQ(job.status, 200) << job.Describe();
  EXPECT_EQ(job.Body().value("reconsent_opened", -1), 1);
  Response pending = Me("GET", "");
  ASSERT_EQ(pending.status, 200);
  EXPECT_EQ(pending.Body()["reconsent"].value("state", ""), "pending") << pending.body;
  EXPECT_EQ(Me("POST", "/consents/reconfirm", Json{{"decision", "maybe"}}).status, 400);
  Response ok = Me("POST", "/consents/reconfirm", Json{{"decision", "confirm"}});
  ASSERT_EQ(ok.status, 200) << ok.Describe();
  EXPECT_EQ(ok.Body().value("reconsent", ""), "confirmed");
  ASSERT_EQ(ok.Body()["consents"].size(), 1u) << ok.body;
  EXPECT_EQ(ok.Body()["consents"][0].value("given_by", ""), "subject");
  EXPECT_EQ(Me("GET", "").Body()["reconsent"].value("state", ""), "confirmed");
}

TEST_F(Cabinet, R55R58WithdrawalFromTheCabinetNeedsTheWarningAcknowledged) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  Response first = Me("POST", "/withdraw", Json::object());
  ASSERT_EQ(first.status, 409) << first.Describe();
  EXPECT_EQ(first.ErrorCode(), "acknowledgement_required");
  Response ok = Me("POST", "/withdraw", Json{{"acknowledged_warning", true}});
  ASSERT_EQ(ok.status, 202) << ok.Describe();
  Json w = ok.Body();
  EXPECT_EQ(w.value("type", ""), "withdrawal");
  EXPECT_EQ(w.value("channel", ""), "personal_account");
  EXPECT_EQ(w.value("restrict_all", false), true);
  EXPECT_EQ(w.value("identity", ""), "not_required");
  // The term shown beside the due date is the one the due date was counted with: the policy's
  // destruction term after a withdrawal of everything, not "immediate" beside a date weeks away
  // (issue 12).
  EXPECT_EQ(w.value("term", ""), "30 working days") << w.dump();
  EXPECT_EQ(w.value("trigger", ""), "withdrawal_received") << w.dump();
  EXPECT_GT(w.value("due_at", ""), w.value("received_at", "")) << w.dump();
  // States that agree (issue 12): with all processing restricted, an opt-in would record a grant
  // that changes nothing, so it is refused and the ledger keeps what it had.
  const size_t rows_before = Me("GET", "/data").Body()["consents"].size();
  Response opt_in =
      Me("PUT", "/marketing", Json{{"purpose", "marketing_mailing"}, {"opt_in", true}, {"lang", "uk"}});
  EXPECT_EQ(opt_in.status, 409) << opt_in.Describe();
  EXPECT_EQ(opt_in.ErrorCode(), "marketing_stopped") << opt_in.body;
  EXPECT_NE(opt_in.Body()["error"].value("message", "").find("Нічого не записано"), std::string::npos)
      << opt_in.body;
  EXPECT_EQ(Me("GET", "/data").Body()["consents"].size(), rows_before);
  // R47: the subject is told at the address they signed in with, which the request keeps.
  const size_t before = sink_.messages().size();
  ASSERT_EQ(staff_->Post(kBase + "/jobs/outbox/run", Json::object()).status, 200);
  size_t told = 0;
  const auto mail = sink_.messages();
  for (size_t i = before; i < mail.size(); ++i) {
    const auto& m = mail[i];
    if (std::find(m.rcpt.begin(), m.rcpt.end(), "olena@example.com") != m.rcpt.end()) ++told;
  }
  EXPECT_GE(told, 1u) << "no e-mail about the withdrawal";
  // A request filed from the cabinet is about the signed-in subject; naming another is refused.
  EXPECT_EQ(Me("POST", "/requests", Json{{"type", "access"}, {"email", "x@example.com"}}).status,
            400);
  Response access = Me("POST", "/requests", Json{{"type", "access"}});
  ASSERT_EQ(access.status, 201) << access.Describe();
  EXPECT_EQ(access.Body().value("subject", ""), subject_);
}

// Marketing preferences (GET/PUT /me/marketing): an opt-out is a withdrawal of the marketing
// grant alone that the gate honours at once, with no request and no officer step (R20, R53);
// service messages go on (R103); an opt-in records the wording shown and the policy's version.
TEST_F(Cabinet, R49R58AnErasureStatesAListedGroundAndAcknowledgesWhatFollows) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  // The request form's grounds: those 001 §3.3.2 lists for erasure, in its order, by their
  // titles in the reader's language; a type whose right lists none has no entry.
  const std::vector<std::string> ids = {"incomplete", "outdated", "inaccurate",
                                        "unlawfully_obtained", "not_necessary"};
  for (const auto& [lang, last_title] : std::vector<std::pair<std::string, std::string>>{
           {"en", "the data are not necessary for the stated purpose of processing"},
           {"uk", "дані не потрібні для заявленої мети обробки"},
           {"ru", "данные не нужны для заявленной цели обработки"}}) {
    Response data = Me("GET", "/data?lang=" + lang);
    ASSERT_EQ(data.status, 200) << data.Describe();
    const Json grounds = data.Body()["grounds"];
    ASSERT_TRUE(grounds.contains("erasure")) << data.body;
    ASSERT_EQ(grounds["erasure"].size(), ids.size()) << data.body;
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(grounds["erasure"][i].value("id", ""), ids[i]);
      const std::string title = grounds["erasure"][i].value("title", "");
      EXPECT_FALSE(title.empty() || title == ids[i] || title.find("api.") == 0) << title;
    }
    EXPECT_EQ(grounds["erasure"][4].value("title", ""), last_title) << lang;
    EXPECT_FALSE(grounds.contains("access")) << data.body;
  }

  // No ground, or one the policy does not list: refused, naming the grounds by their titles.
  Response none = Me("POST", "/requests", Json{{"type", "erasure"}, {"lang", "en"}});
  ASSERT_EQ(none.status, 422) << none.Describe();
  EXPECT_EQ(none.ErrorCode(), "erasure_ground_unknown");
  EXPECT_EQ(none.Body()["error"].value("field", ""), "ground");
  EXPECT_NE(none.Body()["error"]
                .value("message", "")
                .find("the data are incomplete; the data are outdated"),
            std::string::npos)
      << none.body;
  Response unlisted =
      Me("POST", "/requests",
         Json{{"type", "erasure"}, {"ground", "consent_withdrawn"}, {"lang", "en"}});
  EXPECT_EQ(unlisted.ErrorCode(), "erasure_ground_unknown") << unlisted.Describe();

  // A listed ground without the acknowledgement: 409 with 001 §3.2.5's notice, in the request's
  // language only, and nothing is filed.
  const Json erasure = {{"type", "erasure"}, {"ground", "not_necessary"}, {"lang", "en"}};
  Response unacknowledged = Me("POST", "/requests", erasure);
  ASSERT_EQ(unacknowledged.status, 409) << unacknowledged.Describe();
  EXPECT_EQ(unacknowledged.ErrorCode(), "acknowledgement_required");
  EXPECT_EQ(unacknowledged.Body()["error"].value("field", ""), "acknowledged_warning");
  const std::string notice = unacknowledged.Body()["error"].value("message", "");
  EXPECT_EQ(
      notice.rfind("Please note: after your data are erased, the Project does not guarantee", 0),
      0u)
      << notice;
  EXPECT_NE(notice.find("caches, search engines and interconnected proxy servers"),
            std::string::npos)
      << notice;
  EXPECT_EQ(notice.find("кеш"), std::string::npos) << notice;
  Response listed = staff_->Get(kBase + "/requests?subject=" + subject_);
  ASSERT_EQ(listed.status, 200) << listed.Describe();
  EXPECT_EQ(listed.Body()["items"].size(), 0u) << listed.body;

  // Acknowledged: filed from the personal account, and the timeline keeps the SHA-256 of the
  // very text the 409 showed, its language and the policy version.
  Json acknowledged = erasure;
  acknowledged["acknowledged_warning"] = true;
  Response filed = Me("POST", "/requests", acknowledged);
  ASSERT_EQ(filed.status, 201) << filed.Describe();
  EXPECT_EQ(filed.Body().value("type", ""), "erasure");
  EXPECT_EQ(filed.Body().value("ground", ""), "not_necessary");
  EXPECT_EQ(filed.Body().value("channel", ""), "personal_account");
  Response full = staff_->Get(kBase + "/requests/" + filed.Body().value("id", ""));
  ASSERT_EQ(full.status, 200) << full.Describe();
  const Json request = full.Body();
  Json ack;
  for (const auto& e : request["timeline"]) {
    if (e.value("kind", "") == "filed" && e["detail"].contains("acknowledged")) {
      ack = e["detail"]["acknowledged"];
    }
  }
  ASSERT_TRUE(ack.is_object()) << full.body;
  auto crypto = crypto::SodiumCrypto::Create();
  ASSERT_TRUE(crypto.ok());
  EXPECT_EQ(ack.value("sha256", ""), ports::ToHex((*crypto)->Sha256(notice)));
  EXPECT_EQ(ack.value("lang", ""), "en");
  EXPECT_EQ(ack.value("policy_version", ""), "2025-03-03");
}

TEST_F(Cabinet, R20R53MarketingOptOutStopsTheGateAtOnceAndOptInRecordsTheWording) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  auto process = [&](const std::string& purpose) {
    return staff_->Post(kBase + "/process", Json{{"subject", subject_}, {"purpose", purpose}});
  };
  auto find = [](const Json& prefs, const std::string& purpose) {
    for (const auto& p : prefs["purposes"]) {
      if (p.value("purpose", "") == purpose) return p;
    }
    return Json(nullptr);
  };
  Response got = Me("GET", "/marketing?lang=en");
  ASSERT_EQ(got.status, 200) << got.Describe();
  Json mk = find(got.Body(), "marketing_mailing");
  ASSERT_TRUE(mk.is_object()) << got.body;
  EXPECT_EQ(got.Body().value("model", ""), "opt_in");
  EXPECT_EQ(mk.value("state", ""), "in");
  EXPECT_TRUE(mk.value("consent_active", false));
  EXPECT_EQ(mk["channels"], Json({"email", "sms"}));
  EXPECT_EQ(mk.value("consent", ""), "personal_data");
  EXPECT_EQ(mk.value("title", ""), "Advertising and marketing mailings");
  // Only marketing purposes: contract mailings are service messages (R103).
  EXPECT_TRUE(find(got.Body(), "contract_mailing").is_null());
  ASSERT_EQ(process("marketing_mailing").status, 200);

  // Opt out: the gate refuses the purpose from this very instant (the clock has not moved).
  Response out = Me("PUT", "/marketing", Json{{"purpose", "marketing_mailing"}, {"opt_in", false}});
  ASSERT_EQ(out.status, 200) << out.Describe();
  ASSERT_EQ(out.Body()["recorded"].size(), 1u) << out.body;
  const Json withdrawal = out.Body()["recorded"][0];
  EXPECT_EQ(withdrawal.value("action", ""), "withdraw");
  EXPECT_EQ(withdrawal["grants"], Json({"marketing_mailing"}));
  EXPECT_EQ(find(out.Body(), "marketing_mailing").value("state", ""), "out");
  Response refused = process("marketing_mailing");
  EXPECT_EQ(refused.status, 403) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "consent_withdrawn");
  // The rest of the consent and the contract's service messages go on (R20, R103).
  EXPECT_EQ(process("contract_mailing").status, 200);
  EXPECT_EQ(process("identification").status, 200);
  // No request and no officer task: it is in effect already (R53).
  Response requests = Me("GET", "/requests");
  ASSERT_EQ(requests.status, 200);
  EXPECT_TRUE(requests.Body()["requests"].empty()) << requests.body;
  // The ledger the school keeps shows the withdrawal of that grant alone.
  Response ledger = staff_->Get(kBase + "/subjects/" + subject_ + "/consents");
  ASSERT_EQ(ledger.status, 200) << ledger.Describe();
  const Json last = ledger.Body()["items"].back();
  EXPECT_EQ(last.value("action", ""), "withdraw");
  EXPECT_EQ(last["grants"], Json({"marketing_mailing"}));
  EXPECT_EQ(last.value("channel", ""), "personal_account");
  EXPECT_TRUE(Audited("consent.withdraw", "", ""));
  Response again =
      Me("PUT", "/marketing", Json{{"purpose", "marketing_mailing"}, {"opt_in", false}});
  EXPECT_EQ(again.status, 409) << again.Describe();
  EXPECT_EQ(again.ErrorCode(), "already_opted_out");

  // Opt back in: a grant of marketing alone, with the wording the preferences showed.
  Response shown = Me("GET", "/marketing?lang=uk");
  const std::string wording = find(shown.Body(), "marketing_mailing").value("text", "");
  EXPECT_NE(wording.find("Рекламна та маркетингова розсилка"), std::string::npos) << wording;
  Response in = Me("PUT", "/marketing",
                   Json{{"purpose", "marketing_mailing"}, {"opt_in", true}, {"lang", "uk"}});
  ASSERT_EQ(in.status, 200) << in.Describe();
  const Json grant = in.Body()["recorded"][0];
  EXPECT_EQ(grant.value("action", ""), "grant");
  EXPECT_EQ(grant["grants"], Json({"marketing_mailing"}));
  EXPECT_EQ(grant.value("text", ""), wording);
  EXPECT_EQ(grant.value("lang", ""), "uk");
  EXPECT_EQ(grant.value("channel", ""), "personal_account");
  EXPECT_EQ(grant.value("policy_version", ""), in.Body().value("policy_version", "x"));
  EXPECT_FALSE(grant.value("withdrawal_procedure", "").empty());
  EXPECT_EQ(find(in.Body(), "marketing_mailing").value("state", ""), "in");
  EXPECT_EQ(process("marketing_mailing").status, 200);
  EXPECT_EQ(
      Me("PUT", "/marketing", Json{{"purpose", "marketing_mailing"}, {"opt_in", true}}).ErrorCode(),
      "already_opted_in");

  // A later full withdrawal still withdraws every grant of the consent, the marketing grant
  // given alone included; under 001 everything but storage stops at once (R55).
  Response all = Me("POST", "/withdraw", Json{{"acknowledged_warning", true}});
  ASSERT_EQ(all.status, 202) << all.Describe();
  EXPECT_EQ(process("marketing_mailing").status, 423);
  Response after = staff_->Get(kBase + "/subjects/" + subject_ + "/consents");
  const Json full = after.Body()["items"].back();
  EXPECT_EQ(full.value("action", ""), "withdraw");
  const Json grants = full["grants"];
  for (const char* g : {"processing", "contract_mailing", "marketing_mailing"}) {
    EXPECT_NE(std::find(grants.begin(), grants.end(), g), grants.end()) << g << " in " << full;
  }
}

TEST_F(Cabinet, R53MarketingPreferencesRefuseWhatIsNotAMarketingChoice) {
  ASSERT_EQ(SignIn("olena@example.com"), "");
  Response service =
      Me("PUT", "/marketing", Json{{"purpose", "contract_mailing"}, {"opt_in", false}});
  EXPECT_EQ(service.status, 422) << service.Describe();
  EXPECT_EQ(service.ErrorCode(), "purpose_not_marketing");
  EXPECT_EQ(service.Body()["error"].value("field", ""), "purpose");
  Response no_choice = Me("PUT", "/marketing", Json{{"purpose", "marketing_mailing"}});
  EXPECT_EQ(no_choice.status, 400) << no_choice.Describe();
  EXPECT_EQ(no_choice.Body()["error"].value("field", ""), "opt_in");
  Response bad_lang = Me("PUT", "/marketing",
                         Json{{"purpose", "marketing_mailing"}, {"opt_in", true}, {"lang", "de"}});
  EXPECT_EQ(bad_lang.status, 400) << bad_lang.Describe();
  Response no_csrf =
      Me("PUT", "/marketing", Json{{"purpose", "marketing_mailing"}, {"opt_in", false}}, false);
  EXPECT_EQ(no_csrf.status, 403) << no_csrf.Describe();
  // Nothing changed: the consent is still in force.
  EXPECT_EQ(
      staff_
          ->Post(kBase + "/process", Json{{"subject", subject_}, {"purpose", "marketing_mailing"}})
          .status,
      200);
  EXPECT_EQ(server_->Get(kBase + "/me/marketing").status, 401);
}

// `dovira serve --mail-dir`: the outbox writes each e-mail as an .eml file, so a subject can
// sign in with the code read from the directory; a directory that is gone is retried like an
// unreachable relay, and the message is written once it is back (R37).
// 004's inactivity rule (§4.6, R71, issue 14): an applicant's data serve the use of the site and
// end twelve months after its last use. Signing in to the personal account is a use, so it moves
// that day; the answers to the application, which only those purposes use, show it.
class CabinetInactivity : public Cabinet {
 protected:
  void SetUp() override {
    Serve("004", "bbooster-masterclass", "2025-03-05T10:00:00Z", "masterclass",
          Json::parse(R"({"fields":{"first_name":"Ivan","email":"ivan@example.com",
            "phone":"+380501234567","application_answers":"Sales, 5 years"},
            "consents":["button_consent"],"accept_policy":true,"age_statement":"adult"})"));
  }

  // The subject's fields whose retention ends within a year, with the trigger and the day.
  std::map<std::string, std::string> Ending() {
    Response r = staff_->Get(base_ + "/retention/upcoming?days=366");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::map<std::string, std::string> out;
    const Json body = r.Body();
    for (const auto& item : body["items"]) {
      if (item.value("subject", "") != subject_) continue;
      out[item.value("field", "")] =
          item.value("trigger", "") + " " + item.value("action", "") + " " + item.value("date", "");
    }
    return out;
  }
};

TEST_F(CabinetInactivity, R71SigningInMovesTheEndOfUse) {
  // Collected on 5 March 2025 and not used since: the twelve months run out on 5 March 2026,
  // and the answers go the next day.
  EXPECT_EQ(Ending()["application_answers"], "end_of_use destroy 2026-03-06");

  ASSERT_FALSE(server_->SetClock("2025-06-14T08:00:00Z").empty());
  ASSERT_EQ(staff_->SignIn(), "");  // the staff session ended meanwhile
  ASSERT_EQ(SignIn("ivan@example.com"), "");
  // The sign-in is the last use now: twelve months from 14 June 2025.
  EXPECT_EQ(Ending()["application_answers"], "end_of_use destroy 2026-06-15");
  EXPECT_TRUE(Audited("retention.event", "last_use"));

  // On that very day the subject signs in again before the retention job runs: the end moves a
  // year on, and the job destroys nothing.
  ASSERT_FALSE(server_->SetClock("2026-06-15T08:00:00Z").empty());
  ASSERT_EQ(staff_->SignIn(), "");
  EXPECT_EQ(Ending()["application_answers"], "end_of_use destroy 2026-06-15");
  ASSERT_EQ(SignIn("ivan@example.com"), "");
  EXPECT_EQ(Ending()["application_answers"], "end_of_use destroy 2027-06-16");
  Response job = staff_->Post(base_ + "/jobs/retention/run", Json::object());
  ASSERT_EQ(job.status, 200) << job.Describe();
  EXPECT_EQ(job.Body().value("fields_destroyed", -1), 0) << job.body;
  Response data = Me("GET", "/data");
  ASSERT_EQ(data.status, 200) << data.Describe();
  EXPECT_NE(FieldOf(data.Body(), "application_answers"), nullptr) << data.body;
}

TEST(CabinetMailDir, R37TheSignInCodeIsWrittenIntoTheMailDirectoryAndAFailureIsRetried) {
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/dovira-mail-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path root = pattern;
  const fs::path mail = root / "mail";
  fs::create_directory(mail);
  ServerOptions o;
  o.policies = {"001"};
  o.extra_args = {"--mail-dir", mail.string()};
  TestServer server(o);
  ASSERT_EQ(server.Start(), "");
  EXPECT_NE(server.stdout_text().find("e-mail is written into " + mail.string()), std::string::npos)
      << server.stdout_text();
  StaffClient staff(&server, kSchool, server.bootstrap_email(), server.BootstrapPassword(kSchool));
  ASSERT_EQ(staff.SignIn(), "");
  ASSERT_EQ(server.Post(kBase + "/forms/payment/submissions", kOlena).status, 201);
  auto eml = [&] {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(mail)) files.push_back(e.path());
    return files;
  };
  auto run = [&] {
    Response r = staff.Post(kBase + "/jobs/outbox/run", Json::object());
    EXPECT_EQ(r.status, 200) << r.Describe();
    return r.Body();
  };

  // The payment form's consent receipt (B07) goes first; the directory is then emptied.
  EXPECT_EQ(run().value("sent", -1), 1);
  for (const auto& f : eml()) fs::remove(f);
  // The directory is gone when the code is sent: nothing is written, the message waits.
  fs::rename(mail, root / "away");
  Response begin = server.Post(kBase + "/me/sign-in", Json{{"email", "olena@example.com"}});
  ASSERT_EQ(begin.status, 202) << begin.Describe();
  Json failed = run();
  EXPECT_EQ(failed.value("retried", -1), 1) << failed;
  EXPECT_EQ(failed.value("sent", -1), 0) << failed;
  fs::rename(root / "away", mail);
  EXPECT_TRUE(eml().empty());
  // Retried after its back-off (one minute), into the directory that is back.
  EXPECT_EQ(run().value("sent", -1), 0);
  ASSERT_FALSE(server.Advance(61).empty());
  EXPECT_EQ(run().value("sent", -1), 1);
  const std::vector<fs::path> files = eml();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".eml");
  const std::string data = Slurp(files[0].string());
  EXPECT_EQ(SmtpSink::HeaderOf(data, "To"), "olena@example.com");
  std::smatch found;
  const std::string text = SmtpSink::DecodedText(data);
  ASSERT_TRUE(std::regex_search(text, found, std::regex(R"(: (\d{6}))"))) << text;
  Response done =
      server.Post(kBase + "/me/sign-in/verify",
                  Json{{"login", begin.Body().value("login", "")}, {"code", found[1].str()}});
  EXPECT_EQ(done.status, 200) << done.Describe();
  server.Stop();
  fs::remove_all(root);
}

TEST(CabinetMailDir, SmtpUrlAndMailDirTogetherAreRefusedNamingBoth) {
  namespace fs = std::filesystem;
  char pattern[] = "/tmp/dovira-mail-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path root = pattern;
  RunResult r =
      RunDovira({"serve", "--data", (root / "data").string(), "--policy", PolicyPath("001"),
                 "--port", "0", "--smtp-url", "smtp://127.0.0.1:25", "--mail-dir", root.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--smtp-url and --mail-dir are alternatives"), std::string::npos) << r.err;
  // A missing directory is named; nothing is created in either case.
  RunResult missing =
      RunDovira({"serve", "--data", (root / "data").string(), "--policy", PolicyPath("001"),
                 "--port", "0", "--mail-dir", (root / "nowhere").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("--mail-dir: mail directory " + (root / "nowhere").string()),
            std::string::npos)
      << missing.err;
  EXPECT_FALSE(fs::exists(root / "data"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace dovira::testing
