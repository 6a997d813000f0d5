// Purpose retention through the real binary (R70-R72, issue 14): the events a term runs from
// (POST /subjects/{id}/events), what ends next (GET /retention/upcoming), the job acting on the
// day and not the day before (POST /jobs/retention/run, on the fake clock), and `dovira retention
// preview --data DIR --until DATE` naming in advance exactly what the job then does.
//
// 001's buyer: the contract's purposes (basis contract, "while needed") end with the agreement;
// the purchase amount and the purchased service serve no other purpose that keeps data, so they
// go on the agreement's last day, while the name and contacts stay under the consent.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "server.h"

namespace dovira::testing {
namespace {

constexpr char kSchool[] = "vkluchi_zhizn";
const std::string kBase = std::string("/v1/schools/") + kSchool;
const Json kOlena = Json::parse(R"({"fields":{"first_name":"Olena","email":"olena@example.com",
  "mobile_phone":"+380671234567","purchased_service":"Course","purchase_amount":"1200"},
  "consents":["pd_consent"],"accept_policy":true,"age_statement":"adult"})");
// The agreement ends at 14:00 in Kyiv on 13 March 2025.
constexpr char kAgreementEnd[] = "2025-03-13T12:00:00Z";
const std::set<std::string> kContractOnly = {"purchase_amount", "purchased_service"};

Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.policies = {"001"};
    server_ = std::make_unique<TestServer>(o);
    ASSERT_EQ(server_->Start(), "");
    admin_ = std::make_unique<StaffClient>(server_.get(), kSchool, server_->bootstrap_email(),
                                           server_->BootstrapPassword(kSchool));
    ASSERT_EQ(admin_->SignIn(), "");
    Response r = server_->Post(kBase + "/forms/payment/submissions", kOlena);
    ASSERT_EQ(r.status, 201) << r.Describe();
    subject_ = r.Body().value("subject", "");
    ASSERT_FALSE(subject_.empty());
  }

  // Moves the fake clock; staff sessions end with a jump of hours, so the administrator signs in
  // again.
  void SetClock(const std::string& now) {
    ASSERT_FALSE(server_->SetClock(now).empty());
    ASSERT_EQ(admin_->SignIn(), "");
  }

  Response Event(const Json& body, const Headers& auth = {}) {
    const std::string path = kBase + "/subjects/" + subject_ + "/events";
    return auth.empty() ? admin_->Post(path, body) : server_->Post(path, body, auth);
  }

  Json Upcoming(const std::string& days = "30") {
    Response r = admin_->Get(kBase + "/retention/upcoming?days=" + days);
    EXPECT_EQ(r.status, 200) << r.Describe();
    return r.Body();
  }

  // "field action date" of each upcoming item of the subject.
  std::set<std::string> Ending(const std::string& days = "30") {
    std::set<std::string> out;
    const Json body = Upcoming(days);
    for (const auto& item : body["items"]) {
      if (item.value("subject", "") != subject_) continue;
      out.insert(item.value("field", "") + " " + item.value("action", "") + " " +
                 item.value("date", ""));
    }
    return out;
  }

  // The subject's audit entries with `action`, oldest first.
  std::vector<Json> Audit(const std::string& action) {
    Response r = admin_->Get(kBase + "/subjects/" + subject_ + "/audit?limit=500");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::vector<Json> out;
    const Json body = r.Body();
    for (const auto& e : body["items"]) {
      if (e.value("action", "") == action) out.push_back(e);
    }
    return out;
  }

  // The fields the subject still has on file.
  std::set<std::string> Fields() {
    Response r = admin_->Get(kBase + "/subjects/" + subject_ + "/provenance");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::set<std::string> out;
    const Json body = r.Body();
    for (const auto& item : body["items"]) out.insert(item.value("field", ""));
    return out;
  }

  Response RunJob() { return admin_->Post(kBase + "/jobs/retention/run", Json::object()); }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<StaffClient> admin_;
  std::string subject_;
};

std::set<std::string> Split(const std::string& csv) {
  std::set<std::string> out;
  std::istringstream in(csv);
  for (std::string part; std::getline(in, part, ',');) out.insert(part);
  return out;
}

TEST_F(Retention, R70AnAgreementsEndIsRecordedAuditedAndSetsTheDay) {
  EXPECT_TRUE(Ending().empty()) << "nothing ends while the agreement runs";
  Response r = Event(Json{{"kind", "agreement_end"}, {"at", kAgreementEnd}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  const Json body = r.Body();
  EXPECT_EQ(body.value("subject", ""), subject_);
  EXPECT_EQ(body.value("kind", ""), "agreement_end");
  EXPECT_EQ(body.value("at", "").substr(0, 19), "2025-03-13T12:00:00");
  EXPECT_EQ(Ending(), (std::set<std::string>{"purchase_amount destroy 2025-03-13",
                                             "purchased_service destroy 2025-03-13"}));
  // Every item names its purpose, trigger and a sentence in the reader's language.
  const Json items = Upcoming()["items"];
  ASSERT_EQ(items.size(), 2u) << items.dump();
  for (const auto& item : items) {
    EXPECT_EQ(item.value("trigger", ""), "agreement_end") << item.dump();
    EXPECT_FALSE(item.value("purpose", "").empty()) << item.dump();
    EXPECT_FALSE(item.value("text", "").empty()) << item.dump();
  }
  const auto audited = Audit("retention.event");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].value("reason", ""), "agreement_end");
  EXPECT_EQ(audited[0].value("actor", "").rfind("staff:", 0), 0u) << audited[0].dump();

  // Without `at` the event is now: the agreement ends today, and the day moves with it.
  Response now = Event(Json{{"kind", "agreement_end"}});
  ASSERT_EQ(now.status, 200) << now.Describe();
  EXPECT_EQ(now.Body().value("at", "").substr(0, 10), "2025-03-03");
  EXPECT_EQ(Ending(), (std::set<std::string>{"purchase_amount destroy 2025-03-03",
                                             "purchased_service destroy 2025-03-03"}));
}

TEST_F(Retention, R70ABadEventIsRefusedNamingWhatIsWrongAndChangesNothing) {
  ASSERT_EQ(Event(Json{{"kind", "agreement_end"}, {"at", kAgreementEnd}}).status, 200);
  const Json before = Upcoming();
  const size_t events = Audit("retention.event").size();
  struct Case {
    std::string body;
    std::string code, field;  // field "" for none
  };
  const std::vector<Case> cases = {
      {"{}", "event_kind_unknown", "kind"},
      {R"({"kind":"birthday"})", "event_kind_unknown", "kind"},
      {R"({"kind":5})", "invalid_field", "kind"},
      {R"({"kind":"purpose_end:no_such_purpose"})", "event_purpose_unknown", "kind"},
      {R"({"kind":"agreement_end","at":"next Friday"})", "event_at_invalid", "at"},
      {R"({"kind":"agreement_end","at":"2025-02-30T10:00:00Z"})", "event_at_invalid", "at"},
      // A use is a fact: it cannot be reported ahead (an agreement's end can).
      {R"({"kind":"last_use","at":"2025-03-04T09:00:00Z"})", "last_use_in_future", "at"},
      {R"({"kind":"agreement_end","when":"2025-03-20T10:00:00Z"})", "unknown_field", "when"},
      {"[1]", "invalid_json", ""},
      {"{\"kind\":", "invalid_json", ""},
  };
  for (const auto& c : cases) {
    Response r = admin_->Call("POST", kBase + "/subjects/" + subject_ + "/events", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " → " << r.Describe();
    EXPECT_EQ(r.ErrorCode(), c.code) << c.body << " → " << r.Describe();
    const Json error = r.Body()["error"];
    if (c.field.empty()) {
      EXPECT_TRUE(error["field"].is_null()) << c.body << " → " << r.Describe();
    } else {
      EXPECT_EQ(error.value("field", ""), c.field) << c.body << " → " << r.Describe();
    }
    EXPECT_FALSE(error.value("message", "").empty()) << c.body;
  }
  // An unknown subject: 404 naming the subject.
  Response nobody =
      admin_->Post(kBase + "/subjects/no_such_subject/events", Json{{"kind", "agreement_end"}});
  EXPECT_EQ(nobody.status, 404) << nobody.Describe();
  EXPECT_EQ(nobody.Body()["error"].value("field", ""), "subject");
  // Nothing changed: the same days ahead, and no other event in the audit trail.
  EXPECT_EQ(Upcoming(), before);
  EXPECT_EQ(Audit("retention.event").size(), events);
}

TEST_F(Retention, R70ARoleThatDoesNotDecideRequestsIsRefused) {
  // An API key and a staff member of the support service (decides = false).
  Response key = admin_->Post(
      kBase + "/api-keys",
      Json{{"name", "helpdesk"}, {"role", "support"}, {"purposes", {"identification"}}});
  ASSERT_EQ(key.status, 201) << key.Describe();
  const Headers support_key = Bearer(key.Body().value("key", ""));
  Response created = admin_->Post(kBase + "/staff", Json{{"name", "Iryna Bondar"},
                                                         {"email", "iryna@school.test"},
                                                         {"role", "support"},
                                                         {"password", "Violet-Otter-Drifts-5712"}});
  ASSERT_EQ(created.status, 201) << created.Describe();
  StaffClient support(server_.get(), kSchool, "iryna@school.test", "Violet-Otter-Drifts-5712");
  ASSERT_EQ(support.SignIn(), "");

  const std::string events = kBase + "/subjects/" + subject_ + "/events";
  const Json body = {{"kind", "agreement_end"}, {"at", kAgreementEnd}};
  for (const Response& r : {server_->Post(events, body, support_key), support.Post(events, body),
                            server_->Get(kBase + "/retention/upcoming?days=30", support_key),
                            support.Get(kBase + "/retention/upcoming?days=30")}) {
    EXPECT_EQ(r.status, 403) << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "role_denied") << r.Describe();
  }
  // Without credentials: 401.
  EXPECT_EQ(server_->Post(events, body).status, 401);
  EXPECT_EQ(server_->Get(kBase + "/retention/upcoming").status, 401);
  // Nothing was recorded.
  EXPECT_TRUE(Ending().empty());
  EXPECT_TRUE(Audit("retention.event").empty());
}

TEST_F(Retention, R70UpcomingTakesZeroTo366DaysAndRefusesTheRest) {
  ASSERT_EQ(Event(Json{{"kind", "agreement_end"}, {"at", kAgreementEnd}}).status, 200);
  for (const std::string days : {"-1", "367", "1000000000000", "abc", "1.5", "10days", "0x10"}) {
    Response r = admin_->Get(kBase + "/retention/upcoming?days=" + days);
    EXPECT_EQ(r.status, 400) << days << " → " << r.Describe();
    EXPECT_EQ(r.Body()["error"].value("field", ""), "days") << days << " → " << r.Describe();
  }
  // The window is counted in the school's days: 13 March is ten days after 3 March.
  EXPECT_EQ(Upcoming("9").value("until", ""), "2025-03-12");
  EXPECT_TRUE(Ending("9").empty());
  EXPECT_EQ(Ending("10").size(), 2u);
  EXPECT_EQ(Upcoming("0").value("until", ""), "2025-03-03");
  EXPECT_EQ(Upcoming("366").value("until", ""), "2026-03-04");
  // Without `days`: thirty.
  Response plain = admin_->Get(kBase + "/retention/upcoming");
  ASSERT_EQ(plain.status, 200) << plain.Describe();
  EXPECT_EQ(plain.Body().value("until", ""), "2025-04-02");
}

TEST_F(Retention, R70TheJobActsOnTheDayAndNotTheDayBefore) {
  ASSERT_EQ(Event(Json{{"kind", "agreement_end"}, {"at", kAgreementEnd}}).status, 200);
  const std::set<std::string> all = Fields();
  ASSERT_TRUE(std::includes(all.begin(), all.end(), kContractOnly.begin(), kContractOnly.end()));

  // The day before (23:59 in Kyiv on 12 March): nothing happens.
  SetClock("2025-03-12T21:59:00Z");
  Response before = RunJob();
  ASSERT_EQ(before.status, 200) << before.Describe();
  EXPECT_EQ(before.Body().value("fields_destroyed", -1), 0) << before.body;
  EXPECT_EQ(Fields(), all);
  EXPECT_TRUE(Audit("retention.destroy").empty());

  // On the day, once the agreement has ended: the contract's fields go, the rest stays.
  SetClock(kAgreementEnd);
  Response on = RunJob();
  ASSERT_EQ(on.status, 200) << on.Describe();
  EXPECT_EQ(on.Body().value("fields_destroyed", -1), 2) << on.body;
  EXPECT_EQ(on.Body().value("subjects_erased", -1), 0) << on.body;
  std::set<std::string> left = all;
  for (const auto& f : kContractOnly) left.erase(f);
  EXPECT_EQ(Fields(), left);
  const auto destroyed = Audit("retention.destroy");
  ASSERT_EQ(destroyed.size(), 1u);
  EXPECT_EQ(Split(destroyed[0].value("fields", "")), kContractOnly) << destroyed[0].dump();
  EXPECT_EQ(destroyed[0].value("actor", ""), "system:retention");
  // A second run the same day finds nothing more to do.
  Response again = RunJob();
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(again.Body().value("fields_destroyed", -1), 0) << again.body;
  EXPECT_EQ(Audit("retention.destroy").size(), 1u);
}

// ---- dovira retention preview ----

// The preview's lines: day, subject, field, purpose, trigger, action, sentence.
std::vector<std::vector<std::string>> Lines(const std::string& out) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream parts(line);
    for (std::string cell; std::getline(parts, cell, '\t');) cells.push_back(cell);
    lines.push_back(cells);
  }
  return lines;
}

TEST_F(Retention, R70ThePreviewNamesInAdvanceWhatTheJobThenDoes) {
  ASSERT_EQ(Event(Json{{"kind", "agreement_end"}, {"at", kAgreementEnd}}).status, 200);
  const std::string data = server_->data_dir();
  server_->Stop();

  // Up to the day before: nothing.
  RunResult early = RunDovira({"retention", "preview", "--data", data, "--until", "2025-03-12"});
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_EQ(early.out, "");
  EXPECT_NE(early.err.find("0 field(s) up to 2025-03-12"), std::string::npos) << early.err;

  // Up to the day: the two fields, each with its day, subject, purpose, trigger, action and why.
  RunResult preview = RunDovira({"retention", "preview", "--data", data, "--until", "2025-03-13"});
  ASSERT_EQ(preview.exit_code, 0) << preview.err;
  std::set<std::string> named;
  for (const auto& cells : Lines(preview.out)) {
    ASSERT_EQ(cells.size(), 7u) << preview.out;
    EXPECT_EQ(cells[0], "2025-03-13");
    EXPECT_EQ(cells[1], subject_);
    EXPECT_EQ(cells[4], "agreement_end");
    EXPECT_EQ(cells[5], "destroy");
    EXPECT_NE(cells[6].find("the agreement ended"), std::string::npos) << cells[6];
    named.insert(cells[2]);
  }
  EXPECT_EQ(named, kContractOnly) << preview.out;
  EXPECT_NE(preview.err.find("2 field(s) up to 2025-03-13"), std::string::npos) << preview.err;
  // In Ukrainian on request.
  RunResult uk =
      RunDovira({"retention", "preview", "--data", data, "--until", "2025-03-13", "--lang", "uk"});
  ASSERT_EQ(uk.exit_code, 0) << uk.err;
  EXPECT_NE(uk.out.find("договір"), std::string::npos) << uk.out;

  // The job on that day destroys exactly what the preview named.
  ASSERT_EQ(server_->Start(), "");
  SetClock(kAgreementEnd);
  Response run = RunJob();
  ASSERT_EQ(run.status, 200) << run.Describe();
  const auto destroyed = Audit("retention.destroy");
  ASSERT_EQ(destroyed.size(), 1u);
  EXPECT_EQ(Split(destroyed[0].value("fields", "")), named);
}

TEST_F(Retention, R70APreviewWithABadDateSaysSoAndFails) {
  const std::string data = server_->data_dir();
  server_->Stop();
  for (const std::string until : {"2025-02-30", "13.03.2025", "tomorrow", ""}) {
    RunResult r = RunDovira({"retention", "preview", "--data", data, "--until", until});
    EXPECT_NE(r.exit_code, 0) << until;
    EXPECT_EQ(r.out, "") << until;
    EXPECT_NE(r.err.find("--until must be a date YYYY-MM-DD, not \"" + until + "\""),
              std::string::npos)
        << until << ": " << r.err;
  }
  // Without --until at all: the command line says it is required.
  RunResult missing = RunDovira({"retention", "preview", "--data", data});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--until"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace dovira::testing
