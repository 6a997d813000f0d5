// Black-box tests of the HTTP API: the real `dovira serve` on a fake clock, spoken to over HTTP as
// the schools' forms, staff and other systems would. Each test names the requirement row it
// proves (requirements.md); the placeholder endpoints of the acceptance tests map to ours:
//   POST /subjects            -> POST /v1/schools/{s}/subjects (API intake) or
//                                POST /v1/schools/{s}/forms/{form}/submissions (a form)
//   POST /process             -> POST /v1/schools/{s}/process (decision only) or
//                                POST /v1/schools/{s}/subjects/{id}/read (decision and values)
//   GET /consents?subject=    -> GET /v1/schools/{s}/subjects/{id}/consents
//   GET /audit                -> GET /v1/schools/{s}/audit
//   pdp audit verify          -> dovira audit verify
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "forms.h"
#include "server.h"
#include "smtp_sink.h"

namespace dovira::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kS1[] = "vkluchi_zhizn";         // policies/001_vkluchi_zhizn.toml
constexpr char kS3[] = "it-pro";                // policies/003_it_pro.toml
constexpr char kS4[] = "bbooster-masterclass";  // policies/004_bbooster_masterclass.toml

// The exact check-box text of 001's forms (§3.2.3).
constexpr char kConsent001Uk[] = "Я згоден на обробку моїх персональних даних";
constexpr char kConsent001Ru[] = "Я согласен на обработку моих персональных данных";
constexpr char kStaffPassword[] = "Quiet-Heron-Walks-5821";

std::string SchoolPath(const std::string& school) { return "/v1/schools/" + school; }

// An e-mail address no other test uses.
std::string UniqueEmail(const std::string& tag) {
  static int n = 0;
  return tag + "-" + std::to_string(getpid()) + "-" + std::to_string(++n) + "@example.com";
}

// A request id no other call uses (the audit entries are found by it).
std::string UniqueRequestId(const std::string& tag) {
  static int n = 0;
  return tag + "-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

// RFC 3339 text in the server's canonical form, so that equal instants compare equal as text.
std::string Instant(const std::string& text) {
  Timestamp t;
  std::string err;
  if (!ParseTimestamp(text, &t, &err)) return "unparseable: " + text;
  return FormatTimestamp(t);
}

std::string Sha256Hex(const std::string& text) {
  auto crypto = crypto::SodiumCrypto::Create();
  if (!crypto.ok()) return "no crypto";
  return ports::ToHex((*crypto)->Sha256(text));
}

std::set<std::string> StringSet(const Json& array) {
  std::set<std::string> out;
  if (!array.is_array()) return out;
  for (const auto& v : array) {
    if (v.is_string()) out.insert(v.get<std::string>());
  }
  return out;
}

// ---- submissions that pass, per school ----

// 001 payment form: an adult buyer who ticks the check-box.
Json Payment001(const std::string& email) {
  return Json{{"fields",
               {{"first_name", "Olena"},
                {"last_name", "Shevchenko"},
                {"email", email},
                {"mobile_phone", "+380671234567"},
                {"home_address", "Kyiv, Khreshchatyk 1"},
                {"purchased_service", "Course: Breathing"},
                {"purchase_amount", "1200.00"}}},
              {"accept_policy", true},
              {"age_statement", "adult"},
              {"lang", "uk"},
              {"consents", {"pd_consent"}}};
}

// 003 registration form of an adult user.
Json Registration003(const std::string& email, bool accept) {
  return Json{{"fields",
               {{"first_name", "Iryna"},
                {"last_name", "Bondar"},
                {"email", email},
                {"date_of_birth", "2000-05-01"}}},
              {"accept_policy", accept},
              {"lang", "uk"}};
}

// ---- the server shared by the tests that neither stop it nor move its clock far ----

struct Shared {
  std::unique_ptr<TestServer> server;
  std::string start_error;
  std::map<std::string, std::unique_ptr<StaffClient>> admins;
  std::map<std::string, std::string> keys;
};

Shared& State() {
  static Shared s;
  return s;
}

class SharedTeardown : public ::testing::Environment {
 public:
  void TearDown() override {
    State().admins.clear();
    State().server.reset();
  }
};
::testing::Environment* const kSharedTeardown =
    ::testing::AddGlobalTestEnvironment(new SharedTeardown);

// Signs in the bootstrap administrator of `school` on `server` (password change and TOTP included).
std::unique_ptr<StaffClient> SignInAdmin(const TestServer& server, const std::string& school) {
  auto c = std::make_unique<StaffClient>(&server, school, server.bootstrap_email(),
                                         server.BootstrapPassword(school));
  std::string err = c->SignIn();
  if (!err.empty()) ADD_FAILURE() << "admin of " << school << ": " << err;
  return c;
}

// Creates an API key on `school` with a privileged session; returns the key or "".
std::string CreateKey(const StaffClient& admin, const std::string& role,
                      const std::vector<std::string>& purposes) {
  Response r = admin.Post(admin.Base() + "/api-keys",
                          Json{{"name", "key-" + role}, {"role", role}, {"purposes", purposes}});
  if (r.status != 201) {
    ADD_FAILURE() << "api key " << role << ": " << r.Describe();
    return {};
  }
  return r.Body().value("key", "");
}

Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

class SharedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Shared& s = State();
    if (!s.server) {
      // The smallest gate cache (one subject per shard): nearly every use of a subject loads its
      // state from the store, so every test here also proves the load on first use.
      ServerOptions options;
      options.extra_args = {"--gate-cache", "64"};
      s.server = std::make_unique<TestServer>(options);
      s.start_error = s.server->Start();
    }
    ASSERT_EQ(s.start_error, "");
  }

  TestServer& server() { return *State().server; }

  StaffClient& Admin(const std::string& school) {
    auto& slot = State().admins[school];
    if (!slot) slot = SignInAdmin(server(), school);
    return *slot;
  }

  // 004: a key of the marketing manager, for the consent-based purposes.
  std::string MarketingKey004() {
    return Key(kS4, "marketing_manager",
               {"partner_programmes", "marketing_policy", "marketing_communications", "newsletter",
                "ad_targeting_research"});
  }
  // 004: a key of the sales manager, for another system that brings offline contacts.
  std::string SalesKey004() {
    return Key(kS4, "sales_manager", {"application_handling", "sales_followup"});
  }

  std::string Key(const std::string& school, const std::string& role,
                  const std::vector<std::string>& purposes) {
    std::string name = school + "/" + role;
    auto& slot = State().keys[name];
    if (slot.empty()) slot = CreateKey(Admin(school), role, purposes);
    return slot;
  }

  Response Submit(const std::string& school, const std::string& form, const Json& body,
                  const Headers& headers = {}) {
    return server().Post(SchoolPath(school) + "/forms/" + form + "/submissions", body, headers);
  }

  // A new subject through a form; "" (and a failure) when refused.
  std::string NewSubject(const std::string& school, const std::string& form, const Json& body) {
    Response r = Submit(school, form, body);
    if (r.status != 201) {
      ADD_FAILURE() << school << "/" << form << ": " << r.Describe();
      return {};
    }
    return r.Body().value("subject", "");
  }

  Response Process(const StaffClient& staff, const std::string& subject,
                   const std::string& purpose) {
    return staff.Post(staff.Base() + "/process", Json{{"subject", subject}, {"purpose", purpose}});
  }
  Response ProcessWithKey(const std::string& school, const std::string& key,
                          const std::string& subject, const std::string& purpose) {
    return server().Post(SchoolPath(school) + "/process",
                         Json{{"subject", subject}, {"purpose", purpose}}, Bearer(key));
  }

  // R11: the fields of a subject's provenance, each checked to carry `source`, `channel` and
  // `version`.
  std::set<std::string> ProvenanceFields(const StaffClient& admin, const std::string& subject,
                                         const std::string& source, const std::string& channel,
                                         const std::string& version) {
    Response p = admin.Get(admin.Base() + "/subjects/" + subject + "/provenance");
    EXPECT_EQ(p.status, 200) << p.Describe();
    std::set<std::string> fields;
    const Json items = p.Body()["items"];
    for (const auto& e : items) {
      fields.insert(e.value("field", ""));
      EXPECT_EQ(e.value("source", ""), source) << e.dump();
      EXPECT_EQ(e.value("channel", ""), channel) << e.dump();
      EXPECT_EQ(e.value("policy_version", ""), version) << e.dump();
    }
    return fields;
  }

  // Every subject of the school, page by page.
  size_t CountSubjects(const StaffClient& admin) {
    size_t n = 0;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      Response r = admin.Get(admin.Base() + "/subjects?limit=500" +
                             (cursor.empty() ? "" : "&cursor=" + cursor));
      if (r.status != 200) {
        ADD_FAILURE() << r.Describe();
        return 0;
      }
      Json j = r.Body();
      n += j["items"].size();
      if (j["next_cursor"].is_null()) break;
      cursor = j["next_cursor"].get<std::string>();
    }
    return n;
  }

  Json Ledger(const StaffClient& admin, const std::string& subject) {
    Response r = admin.Get(admin.Base() + "/subjects/" + subject + "/consents");
    EXPECT_EQ(r.status, 200) << r.Describe();
    return r.Body().value("items", Json::array());
  }
};

// Every audit entry of the school, page by page.
std::vector<Json> AuditEntries(const StaffClient& admin, const std::string& path) {
  std::vector<Json> out;
  int64_t after = 0;
  for (int page = 0; page < 1000; ++page) {
    Response r = admin.Get(path + "?limit=1000&after=" + std::to_string(after));
    if (r.status != 200) {
      ADD_FAILURE() << r.Describe();
      break;
    }
    Json j = r.Body();
    for (const auto& e : j["items"]) out.push_back(e);
    if (j["next_cursor"].is_null()) break;
    after = j["next_cursor"].get<int64_t>();
  }
  return out;
}

// ======================================================================================
// R01: the notice and every published version, public
// ======================================================================================

class Notice : public SharedServerTest {};

TEST_F(Notice, R01_PublicNoticeIsServedWithoutSignInInEveryLanguageWithItsVersion) {
  for (const char* lang : {"uk", "ru", "en"}) {
    Response r = server().Get(std::string("/policy?school=") + kS4 + "&lang=" + lang);
    ASSERT_EQ(r.status, 200) << lang << ": " << r.Describe();
    EXPECT_EQ(r.Header("content-type").rfind("text/html", 0), 0u) << r.Header("content-type");
    EXPECT_EQ(r.Header("content-language"), lang);
    EXPECT_NE(r.body.find("2025-03-10"), std::string::npos) << lang << ": no version id";
    // Issue 12: the route serves the public notice only, never the officer's codes.
    EXPECT_EQ(r.body.find("E-004-REGION"), std::string::npos) << lang;
  }
  Response info = server().Get(SchoolPath(kS4) + "/policy");
  ASSERT_EQ(info.status, 200) << info.Describe();
  EXPECT_EQ(info.Body().value("version", ""), "2025-03-10");
  EXPECT_EQ(info.Body().value("effective", ""), "2025-03-10");
}

// Issue 11: the notice at /policy is a page of this server like the web build's pages, and
// carries the same security headers (it had none of them).
TEST(NoticeHeaders, R01_PolicyPageCarriesTheSecurityHeadersOfTheOtherPages) {
  const std::string web_root = MakeTempDir();
  WriteFile(web_root + "/page.html", "<!doctype html><title>p</title>");
  ServerOptions options;
  options.policies = {"004"};
  options.extra_args = {"--web-root", web_root};
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  Response page = server.Get("/page.html");
  ASSERT_EQ(page.status, 200) << page.Describe();
  ASSERT_FALSE(page.Header("content-security-policy").empty());
  Response notice = server.Get(std::string("/policy?school=") + kS4 + "&lang=en");
  ASSERT_EQ(notice.status, 200) << notice.Describe();
  for (const char* name : {"content-security-policy", "x-content-type-options", "referrer-policy"}) {
    EXPECT_EQ(notice.Header(name), page.Header(name)) << name;
  }
  Response markdown = server.Get(std::string("/policy?school=") + kS4 + "&format=md");
  ASSERT_EQ(markdown.status, 200) << markdown.Describe();
  EXPECT_EQ(markdown.Header("x-content-type-options"), "nosniff");
  std::filesystem::remove_all(web_root);
}

TEST_F(Notice, R01_EveryPublishedVersionIsListedAndKeepsItsExactText) {
  const std::string file_text = Slurp(PolicyPath("004"));
  ASSERT_FALSE(file_text.empty());
  Response list = server().Get(SchoolPath(kS4) + "/policy/versions");
  ASSERT_EQ(list.status, 200) << list.Describe();
  Json items = list.Body()["items"];
  ASSERT_EQ(items.size(), 1u) << list.body;
  EXPECT_EQ(items[0].value("version", ""), "2025-03-10");
  EXPECT_EQ(items[0].value("sha256", ""), Sha256Hex(file_text));

  Response one = server().Get(SchoolPath(kS4) + "/policy/versions/2025-03-10");
  ASSERT_EQ(one.status, 200) << one.Describe();
  EXPECT_EQ(one.Body().value("text", ""), file_text);
  EXPECT_EQ(one.Body().value("sha256", ""), Sha256Hex(file_text));

  Response unknown = server().Get(SchoolPath(kS4) + "/policy/versions/1999-01-01");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.ErrorCode(), "version_unknown");
}

// ======================================================================================
// Intake: R02, R03, R07-R13, R24, R25, R92
// ======================================================================================

class Intake : public SharedServerTest {};

TEST_F(Intake, R02_ApiIntakeRecordsChannelSourceAndPolicyVersion) {
  const std::string key = SalesKey004();
  ASSERT_FALSE(key.empty());
  Response r =
      server().Post(SchoolPath(kS4) + "/subjects",
                    Json{{"kind", "applicant"},
                         {"channel", "phone_call"},
                         {"source", "offline"},
                         {"fields", {{"first_name", "Mykola"}, {"phone", "+380931234567"}}}},
                    Bearer(key));
  ASSERT_EQ(r.status, 201) << r.Describe();
  const std::string id = r.Body().value("subject", "");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(r.Body().value("policy_version", ""), "2025-03-10");

  StaffClient& admin = Admin(kS4);
  Response s = admin.Get(admin.Base() + "/subjects/" + id);
  ASSERT_EQ(s.status, 200) << s.Describe();
  EXPECT_EQ(s.Body().value("channel", ""), "phone_call");
  EXPECT_EQ(s.Body().value("source", ""), "offline");
  EXPECT_EQ(s.Body().value("policy_version", ""), "2025-03-10");
  EXPECT_EQ(s.Body().value("kind", ""), "applicant");

  EXPECT_EQ(ProvenanceFields(admin, id, "offline", "phone_call", "2025-03-10"),
            (std::set<std::string>{"first_name", "phone"}));
}

// Bulk import (issue 17): the rows of another system through the same validation as one intake,
// each stored row with its provenance, each refused row named by its line, in the reader's
// language; the audit names the import in every subject's entry.
TEST_F(Intake, R02_R11_ImportStoresValidRowsWithProvenanceAndRefusesTheOthersByLine) {
  const std::string key = SalesKey004();
  ASSERT_FALSE(key.empty());
  StaffClient& admin = Admin(kS4);
  const size_t before = CountSubjects(admin);
  const std::string csv =
      "kind,channel,fields.first_name,fields.phone\n"
      "applicant,phone_call,Mykola,+380931234501\n"
      "applicant,phone_call,\"Petro, Jr.\",+380931234502\n"
      "applicant,phone_call,Olha,not-a-phone\n"
      "applicant,phone_call,Ivan\n"
      "applicant,,Taras,+380931234503\n";
  Headers headers = Bearer(key);
  headers.emplace_back("Content-Type", "text/csv");
  headers.emplace_back("Accept-Language", "en");
  Response r = server().Call("POST", SchoolPath(kS4) + "/subject-imports?source=offline", csv,
                             headers);
  ASSERT_EQ(r.status, 200) << r.Describe();
  const Json report = r.Body();
  EXPECT_EQ(report.value("rows", 0), 5);
  EXPECT_EQ(report.value("imported", 0), 2);
  EXPECT_EQ(report.value("refused_count", 0), 3);
  ASSERT_EQ(report["stored"].size(), 2u);
  EXPECT_EQ(report["stored"][0].value("line", 0), 2);
  EXPECT_EQ(report["stored"][1].value("line", 0), 3);
  ASSERT_EQ(report["refused"].size(), 3u);
  const Json& bad_phone = report["refused"][0];
  EXPECT_EQ(bad_phone.value("line", 0), 4);
  EXPECT_EQ(bad_phone["errors"][0].value("code", ""), "field_invalid");
  EXPECT_EQ(bad_phone["errors"][0].value("field", ""), "phone");
  const std::string message = bad_phone["errors"][0].value("message", "");
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(message.find("field_invalid"), std::string::npos) << message;
  EXPECT_EQ(report["refused"][1].value("line", 0), 5);
  EXPECT_EQ(report["refused"][1]["errors"][0].value("code", ""), "import_cells");
  EXPECT_EQ(report["refused"][2].value("line", 0), 6);
  EXPECT_EQ(report["refused"][2]["errors"][0].value("code", ""), "channel_invalid");
  EXPECT_EQ(CountSubjects(admin), before + 2);

  // R11: each stored row keeps where it came from.
  const std::string id = report["stored"][1].value("subject", "");
  EXPECT_EQ(ProvenanceFields(admin, id, "offline", "phone_call", "2025-03-10"),
            (std::set<std::string>{"first_name", "phone"}));

  // The audit: one entry counting the import, and the import and line in each subject's entry.
  const std::string import_id = report.value("import", "");
  bool summary = false;
  int created = 0;
  Response audit = admin.Get(admin.Base() + "/audit?order=desc&limit=500");
  ASSERT_EQ(audit.status, 200) << audit.Describe();
  const Json entries = audit.Body()["items"];
  for (const Json& e : entries) {
    const Json detail = e["detail"];
    if (!detail.is_object() || detail.value("import", "") != import_id) continue;
    if (e.value("action", "") == "subject.import") {
      summary = true;
      EXPECT_EQ(detail.value("imported", 0), 2);
      EXPECT_EQ(detail.value("refused", 0), 3);
      EXPECT_EQ(detail["refused_lines"], Json({4, 5, 6}));
    } else if (e.value("action", "") == "subject.create") {
      ++created;
      EXPECT_TRUE(detail.value("line", 0) == 2 || detail.value("line", 0) == 3) << e.dump();
    }
  }
  EXPECT_TRUE(summary);
  EXPECT_EQ(created, 2);
}

TEST_F(Intake, R02_AnImportWithAnUnreadableHeaderOrOfAnotherTypeStoresNothing) {
  StaffClient& admin = Admin(kS4);
  const size_t before = CountSubjects(admin);
  Response unknown = admin.Call("POST", admin.Base() + "/subject-imports",
                                "kind,channel,email\napplicant,phone_call,a@b.org\n",
                                {{"Content-Type", "text/csv"}});
  EXPECT_EQ(unknown.status, 400) << unknown.Describe();
  EXPECT_EQ(unknown.ErrorCode(), "import_column_unknown");
  EXPECT_NE(unknown.Body()["error"].value("message", "").find("email"), std::string::npos)
      << unknown.Describe();
  Response json = admin.Post(admin.Base() + "/subject-imports",
                             Json{{"kind", "applicant"}, {"channel", "phone_call"}});
  EXPECT_EQ(json.status, 415) << json.Describe();
  EXPECT_EQ(json.ErrorCode(), "import_format");
  // JSON lines: a line that is not an object is refused alone.
  Response lines = admin.Call(
      "POST", admin.Base() + "/subject-imports",
      "{\"kind\":\"applicant\",\"channel\":\"phone_call\",\"fields\":{\"first_name\":\"Ira\","
      "\"phone\":\"+380931234504\"}}\nnot json\n",
      {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(lines.status, 200) << lines.Describe();
  EXPECT_EQ(lines.Body().value("imported", 0), 1);
  EXPECT_EQ(lines.Body()["refused"][0]["errors"][0].value("code", ""), "import_line_invalid");
  EXPECT_EQ(CountSubjects(admin), before + 1);
}

TEST_F(Intake, R03_RegistrationWithoutPolicyAcceptanceIsRefusedAndStoresNothing) {
  StaffClient& admin = Admin(kS3);
  const size_t before = CountSubjects(admin);
  Response r = Submit(kS3, "registration", Registration003(UniqueEmail("r03-refused"), false));
  EXPECT_EQ(r.status, 422) << r.Describe();
  EXPECT_EQ(r.ErrorCode(), "policy_not_accepted");
  EXPECT_EQ(CountSubjects(admin), before);
}

TEST_F(Intake, R03_AcceptedRegistrationRecordsPolicyVersionAndTime) {
  StaffClient& admin = Admin(kS3);
  const size_t before = CountSubjects(admin);
  auto now = server().Now();
  ASSERT_TRUE(now);
  Response r = Submit(kS3, "registration", Registration003(UniqueEmail("r03-accepted"), true));
  ASSERT_EQ(r.status, 201) << r.Describe();
  EXPECT_EQ(CountSubjects(admin), before + 1);
  const std::string id = r.Body().value("subject", "");
  Response s = admin.Get(admin.Base() + "/subjects/" + id);
  ASSERT_EQ(s.status, 200) << s.Describe();
  EXPECT_EQ(s.Body().value("policy_version", ""), "2025-03-03");
  EXPECT_EQ(s.Body().value("channel", ""), "registration");
  EXPECT_EQ(Instant(s.Body().value("created_at", "")), FormatTimestamp(*now));
}

TEST_F(Intake, R07_FieldOutsideTheInventoryIsRefusedNamingIt) {
  // 001 §2.2 lists no birth date.
  StaffClient& a1 = Admin(kS1);
  const size_t before = CountSubjects(a1);
  Response r1 = a1.Post(a1.Base() + "/subjects", Json{{"kind", "buyer"},
                                                      {"channel", "application"},
                                                      {"source", "subject"},
                                                      {"fields",
                                                       {{"first_name", "Oksana"},
                                                        {"email", UniqueEmail("r07")},
                                                        {"date_of_birth", "2001-01-01"}}}});
  EXPECT_EQ(r1.status, 422) << r1.Describe();
  EXPECT_EQ(r1.ErrorCode(), "field_undeclared");
  EXPECT_EQ(r1.Body()["error"].value("field", ""), "date_of_birth");
  EXPECT_EQ(CountSubjects(a1), before);

  // 003 L45 lists it.
  StaffClient& a3 = Admin(kS3);
  Response r3 = a3.Post(a3.Base() + "/subjects", Json{{"kind", "user"},
                                                      {"channel", "registration"},
                                                      {"source", "subject"},
                                                      {"fields",
                                                       {{"first_name", "Oksana"},
                                                        {"email", UniqueEmail("r07")},
                                                        {"date_of_birth", "2001-01-01"}}}});
  EXPECT_EQ(r3.status, 201) << r3.Describe();
}

TEST_F(Intake, R08_FormAcceptsMandatoryFieldsAloneAndRefusesMissingOrForeignFields) {
  // Only the mandatory fields (photo and the rest are optional).
  Response ok = Submit(kS4, "masterclass", Masterclass004(UniqueEmail("r08")));
  EXPECT_EQ(ok.status, 201) << ok.Describe();
  EXPECT_EQ(StringSet(ok.Body()["fields"]),
            (std::set<std::string>{"first_name", "email", "phone"}));

  Json no_phone = Masterclass004(UniqueEmail("r08"));
  no_phone["fields"].erase("phone");
  Response missing = Submit(kS4, "masterclass", no_phone);
  EXPECT_EQ(missing.status, 422) << missing.Describe();
  EXPECT_EQ(missing.ErrorCode(), "field_required");
  EXPECT_EQ(missing.Body()["error"].value("field", ""), "phone");

  // Declared by the school, but not part of this form.
  Json foreign = Masterclass004(UniqueEmail("r08"));
  foreign["fields"]["service_package"] = "Premium";
  Response not_in_form = Submit(kS4, "masterclass", foreign);
  EXPECT_EQ(not_in_form.status, 422) << not_in_form.Describe();
  EXPECT_EQ(not_in_form.ErrorCode(), "field_not_in_form");
  EXPECT_EQ(not_in_form.Body()["error"].value("field", ""), "service_package");

  // Not declared at all.
  Json extra = Masterclass004(UniqueEmail("r08"));
  extra["fields"]["shoe_size"] = "42";
  Response undeclared = Submit(kS4, "masterclass", extra);
  EXPECT_EQ(undeclared.status, 422) << undeclared.Describe();
  EXPECT_EQ(undeclared.ErrorCode(), "field_undeclared");
}

TEST_F(Intake, R08_SubscriptionNeedsAnEmailOrAPhoneAndSaysSoByTitle) {
  // 001 §2.1: a subscription by e-mail or by SMS, so one of the two must be given.
  auto body = [](Json fields) {
    return Json{{"fields", std::move(fields)},
                {"accept_policy", true},
                {"age_statement", "adult"},
                {"lang", "en"},
                {"consents", {"pd_consent"}}};
  };
  Response neither = Submit(kS1, "subscription", body({{"first_name", "Olena"}}));
  EXPECT_EQ(neither.status, 422) << neither.Describe();
  EXPECT_EQ(neither.ErrorCode(), "field_one_of_required");
  EXPECT_EQ(neither.Body()["error"].value("field", ""), "email");
  const std::string message = neither.Body()["error"].value("message", "");
  EXPECT_NE(message.find("E-mail"), std::string::npos) << message;
  EXPECT_EQ(message.find("mobile_phone"), std::string::npos) << message;

  Response by_mail =
      Submit(kS1, "subscription", body({{"first_name", "Olena"}, {"email", UniqueEmail("r08")}}));
  EXPECT_EQ(by_mail.status, 201) << by_mail.Describe();
  Response by_sms = Submit(kS1, "subscription",
                           body({{"first_name", "Olena"}, {"mobile_phone", "+380501234508"}}));
  EXPECT_EQ(by_sms.status, 201) << by_sms.Describe();

  // The form tells the person so before they send it.
  const Json def = server().Get(SchoolPath(kS1) + "/forms/subscription?lang=en").Body();
  ASSERT_EQ(def["one_of"].size(), 1u) << def.dump();
  EXPECT_EQ(def["one_of"][0], (Json{"email", "mobile_phone"}));
}

TEST_F(Intake, R09_UndeclaredSubjectKindIsRefused) {
  StaffClient& a1 = Admin(kS1);
  Response r1 = a1.Post(a1.Base() + "/subjects",
                        Json{{"kind", "employee"},
                             {"channel", "application"},
                             {"source", "subject"},
                             {"fields", {{"first_name", "Ivan"}, {"last_name", "Franko"}}}});
  EXPECT_EQ(r1.status, 422) << r1.Describe();
  EXPECT_EQ(r1.ErrorCode(), "subject_kind_undeclared");

  // 004 §5.4 lists employees.
  StaffClient& a4 = Admin(kS4);
  Response r4 = a4.Post(a4.Base() + "/subjects",
                        Json{{"kind", "employee"},
                             {"channel", "in_person"},
                             {"source", "offline"},
                             {"fields", {{"first_name", "Ivan"}, {"last_name", "Franko"}}}});
  EXPECT_EQ(r4.status, 201) << r4.Describe();
  EXPECT_EQ(r4.Body().value("kind", ""), "employee");
}

TEST_F(Intake, R10_HealthFieldIsRefusedWhereTheInventoryExcludesIt) {
  StaffClient& a4 = Admin(kS4);
  const size_t before = CountSubjects(a4);
  Response r4 = a4.Post(a4.Base() + "/subjects",
                        Json{{"kind", "applicant"},
                             {"channel", "in_person"},
                             {"source", "offline"},
                             {"fields", {{"first_name", "Petro"}, {"eyesight", "-2.5"}}}});
  EXPECT_EQ(r4.status, 422) << r4.Describe();
  EXPECT_EQ(r4.ErrorCode(), "field_undeclared");
  EXPECT_EQ(r4.Body()["error"].value("field", ""), "eyesight");
  EXPECT_EQ(CountSubjects(a4), before);

  // 003 L47 declares eyesight.
  StaffClient& a3 = Admin(kS3);
  Response r3 = a3.Post(a3.Base() + "/subjects",
                        Json{{"kind", "pupil"},
                             {"channel", "personal_account"},
                             {"source", "subject"},
                             {"fields", {{"first_name", "Petro"}, {"eyesight", "-2.5"}}}});
  EXPECT_EQ(r3.status, 201) << r3.Describe();
}

TEST_F(Intake, R11_ProvenanceListsSourceChannelFormAndTimePerField) {
  Response sub = Submit(kS4, "masterclass", Masterclass004(UniqueEmail("r11")));
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const std::string id = sub.Body().value("subject", "");
  const std::string at = Instant(sub.Body().value("at", ""));
  StaffClient& admin = Admin(kS4);
  Response p = admin.Get(admin.Base() + "/subjects/" + id + "/provenance");
  ASSERT_EQ(p.status, 200) << p.Describe();
  std::set<std::string> fields;
  const Json items = p.Body()["items"];
  for (const auto& e : items) {
    fields.insert(e.value("field", ""));
    EXPECT_EQ(e.value("source", ""), "subject") << e.dump();
    EXPECT_EQ(e.value("channel", ""), "application") << e.dump();
    EXPECT_EQ(e.value("form", ""), "masterclass") << e.dump();
    EXPECT_EQ(Instant(e.value("collected_at", "")), at) << e.dump();
    EXPECT_FALSE(e.value("store", "").empty()) << e.dump();
  }
  EXPECT_EQ(fields, (std::set<std::string>{"first_name", "email", "phone"}));
}

TEST_F(Intake, R12_SchoolThatAcceptsDataOnlyFromTheSubjectRefusesOtherSources) {
  StaffClient& a1 = Admin(kS1);
  const size_t before = CountSubjects(a1);
  for (const char* source : {"third_party", "client"}) {
    Response r = a1.Post(a1.Base() + "/subjects",
                         Json{{"kind", "subscriber"},
                              {"channel", "subscription_form"},
                              {"source", source},
                              {"fields", {{"first_name", "Anna"}, {"email", UniqueEmail("r12")}}}});
    EXPECT_EQ(r.status, 422) << source << ": " << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "source_not_allowed") << source;
    EXPECT_EQ(r.Body()["error"].value("field", ""), "source");
  }
  EXPECT_EQ(CountSubjects(a1), before);
  // The subject's own submission is accepted.
  Response own = a1.Post(a1.Base() + "/subjects",
                         Json{{"kind", "subscriber"},
                              {"channel", "subscription_form"},
                              {"source", "subject"},
                              {"fields", {{"first_name", "Anna"}, {"email", UniqueEmail("r12")}}}});
  EXPECT_EQ(own.status, 201) << own.Describe();
}

TEST_F(Intake, R13_TechnicalDataIsStoredAsPersonalDataInTheTechnicalCategory) {
  StaffClient& a4 = Admin(kS4);
  Response r = a4.Post(a4.Base() + "/subjects", Json{{"kind", "visitor"},
                                                     {"channel", "api"},
                                                     {"source", "automatic"},
                                                     {"fields",
                                                      {{"ip_address", "203.0.113.5"},
                                                       {"device_id", "dev-8841"},
                                                       {"learning_progress", "module 3 of 8"}}}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  const std::string id = r.Body().value("subject", "");
  Response p = a4.Get(a4.Base() + "/subjects/" + id + "/provenance");
  ASSERT_EQ(p.status, 200) << p.Describe();
  std::set<std::string> fields;
  const Json items = p.Body()["items"];
  for (const auto& e : items) {
    fields.insert(e.value("field", ""));
    EXPECT_EQ(e.value("category", ""), "technical") << e.dump();
    EXPECT_EQ(e.value("source", ""), "automatic") << e.dump();
  }
  EXPECT_EQ(fields, (std::set<std::string>{"ip_address", "device_id", "learning_progress"}));
}

TEST_F(Intake, R24_MinorNeedsARecordedRepresentative) {
  Json body = Json{{"fields", {{"first_name", "Sofiia"}, {"email", UniqueEmail("r24")}}},
                   {"accept_policy", true},
                   {"lang", "uk"},
                   {"consents", {"pd_consent"}}};
  Response no_statement = Submit(kS1, "subscription", body);
  EXPECT_EQ(no_statement.status, 422) << no_statement.Describe();
  EXPECT_EQ(no_statement.ErrorCode(), "age_statement_required");

  body["age_statement"] = "minor";
  Response no_rep = Submit(kS1, "subscription", body);
  EXPECT_EQ(no_rep.status, 422) << no_rep.Describe();
  EXPECT_EQ(no_rep.ErrorCode(), "representative_required");

  body["representative"] = {
      {"name", "Halyna Koval"}, {"relation", "parent"}, {"permission_at", "2025-03-01"}};
  Response ok = Submit(kS1, "subscription", body);
  ASSERT_EQ(ok.status, 201) << ok.Describe();
  EXPECT_TRUE(ok.Body().value("minor", false));
  const std::string id = ok.Body().value("subject", "");

  StaffClient& admin = Admin(kS1);
  Response s = admin.Get(admin.Base() + "/subjects/" + id);
  ASSERT_EQ(s.status, 200) << s.Describe();
  EXPECT_TRUE(s.Body().value("minor", false)) << s.body;
  ASSERT_TRUE(s.Body().contains("representative")) << s.body;
  EXPECT_EQ(s.Body()["representative"].value("relation", ""), "parent");
  EXPECT_EQ(s.Body()["representative"].value("permission_at", ""), "2025-03-01");
  // The representative's name is personal data: shown only through the gate.
  EXPECT_EQ(s.body.find("Halyna"), std::string::npos) << s.body;
  Response read =
      admin.Post(admin.Base() + "/subjects/" + id + "/read", Json{{"purpose", "minor_permission"}});
  ASSERT_EQ(read.status, 200) << read.Describe();
  EXPECT_EQ(read.Body()["fields"].value("representative_name", ""), "Halyna Koval");
  EXPECT_EQ(read.Body()["fields"].value("representative_relation", ""), "parent");
}

TEST_F(Intake, R25_MinorsAreRefusedAndNothingIsStored) {
  StaffClient& admin = Admin(kS4);
  const size_t before = CountSubjects(admin);
  Json body = Masterclass004(UniqueEmail("r25"));
  body["age_statement"] = "minor";
  Response r = Submit(kS4, "masterclass", body);
  EXPECT_EQ(r.status, 422) << r.Describe();
  EXPECT_EQ(r.ErrorCode(), "minor_not_accepted");
  // Even with a representative: 004 accepts no data of minors at all.
  body["representative"] = {
      {"name", "Halyna Koval"}, {"relation", "parent"}, {"permission_at", "2025-03-01"}};
  Response with_rep = Submit(kS4, "masterclass", body);
  EXPECT_EQ(with_rep.status, 422) << with_rep.Describe();
  EXPECT_EQ(CountSubjects(admin), before);
}

TEST_F(Intake, R92_EachFieldIsKeptInTheStoreOfEachOfItsPurposes) {
  const std::string id = NewSubject(kS1, "payment", Payment001(UniqueEmail("r92")));
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS1);
  Response p = admin.Get(admin.Base() + "/subjects/" + id + "/provenance");
  ASSERT_EQ(p.status, 200) << p.Describe();
  std::map<std::string, std::set<std::string>> stores;
  const Json items = p.Body()["items"];
  for (const auto& e : items) stores[e.value("field", "")].insert(e.value("store", ""));
  // 001 §3.5.3: the e-mail serves the contract and identification (contracts), contract mailings
  // (service_messages), marketing (marketing_subscribers), fraud prevention (security_events) and
  // requests (requests_register); the home address only the contract.
  EXPECT_EQ(stores["email"],
            (std::set<std::string>{"contracts", "service_messages", "marketing_subscribers",
                                   "security_events", "requests_register"}));
  EXPECT_EQ(stores["home_address"], (std::set<std::string>{"contracts"}));
}

// ======================================================================================
// Consents: R15, R16, R18-R20, B07
// ======================================================================================

class Consent : public SharedServerTest {};

TEST_F(Consent, R15_PaymentFormRequiresTheUntickedCheckboxWithItsExactText) {
  for (const auto& [lang, text] :
       {std::pair<std::string, std::string>{"uk", kConsent001Uk}, {"ru", kConsent001Ru}}) {
    Response form = server().Get(SchoolPath(kS1) + "/forms/payment?lang=" + lang);
    ASSERT_EQ(form.status, 200) << form.Describe();
    Json consents = form.Body()["consents"];
    ASSERT_EQ(consents.size(), 1u) << form.body;
    EXPECT_EQ(consents[0].value("id", ""), "pd_consent");
    EXPECT_EQ(consents[0].value("text", ""), text);
    EXPECT_TRUE(consents[0].value("required", false));
    EXPECT_EQ(consents[0]["checked"], false);
  }

  StaffClient& admin = Admin(kS1);
  const size_t before = CountSubjects(admin);
  Json unticked = Payment001(UniqueEmail("r15"));
  unticked["consents"] = Json::array();
  Response refused = Submit(kS1, "payment", unticked);
  EXPECT_EQ(refused.status, 422) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "consent_required");
  EXPECT_EQ(CountSubjects(admin), before);

  auto now = server().Now();
  ASSERT_TRUE(now);
  Response ok = Submit(kS1, "payment", Payment001(UniqueEmail("r15")));
  ASSERT_EQ(ok.status, 201) << ok.Describe();
  Json ledger = Ledger(admin, ok.Body().value("subject", ""));
  ASSERT_EQ(ledger.size(), 1u) << ledger.dump();
  EXPECT_EQ(ledger[0].value("form", ""), "payment");
  EXPECT_EQ(ledger[0].value("checkbox", ""), "pd_consent");
  EXPECT_EQ(ledger[0].value("lang", ""), "uk");
  EXPECT_EQ(ledger[0].value("text", ""), kConsent001Uk);
  EXPECT_EQ(Instant(ledger[0].value("at", "")), FormatTimestamp(*now));
}

TEST_F(Consent, R16_OneTickRecordsOneConsentWithTheSixBundledGrants) {
  Response ok = Submit(kS1, "payment", Payment001(UniqueEmail("r16")));
  ASSERT_EQ(ok.status, 201) << ok.Describe();
  ASSERT_EQ(ok.Body()["consents"].size(), 1u) << ok.body;
  Json ledger = Ledger(Admin(kS1), ok.Body().value("subject", ""));
  ASSERT_EQ(ledger.size(), 1u) << ledger.dump();
  EXPECT_EQ(ledger[0].value("action", ""), "grant");
  EXPECT_EQ(ledger[0].value("id", ""), ok.Body()["consents"][0].value("id", ""));
  EXPECT_EQ(StringSet(ledger[0]["grants"]),
            (std::set<std::string>{"processing", "third_party_transfer", "processor_entrustment",
                                   "cross_border", "contract_mailing", "marketing_mailing"}));
}

TEST_F(Consent, R18_WrittenConsentNeedsItsDocument) {
  const std::string id = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("r18")));
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS4);
  const std::string path = admin.Base() + "/subjects/" + id + "/consents";
  Json grant = {{"consent", "written_processing"},
                {"text", "Я даю письмову згоду на обробку моїх персональних даних."},
                {"lang", "uk"},
                {"channel", "written"}};
  Response refused = admin.Post(path, grant);
  EXPECT_EQ(refused.status, 422) << refused.Describe();
  EXPECT_EQ(refused.ErrorCode(), "evidence_required");
  EXPECT_EQ(refused.Body()["error"].value("field", ""), "evidence_document");

  grant["evidence_document"] = "scans/2025-03-03-consent-0042.pdf";
  Response ok = admin.Post(path, grant);
  ASSERT_EQ(ok.status, 201) << ok.Describe();
  EXPECT_EQ(ok.Body().value("channel", ""), "written");
  Json ledger = Ledger(admin, id);
  ASSERT_FALSE(ledger.empty());
  const Json& last = ledger.back();
  EXPECT_EQ(last.value("channel", ""), "written");
  EXPECT_EQ(last["evidence"].value("document", ""), "scans/2025-03-03-consent-0042.pdf");
}

TEST_F(Consent, R18_NewsletterSubscriptionChannelGrantsOnlyTheNewsletter) {
  const std::string id = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("r18n")));
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS4);
  Response ok =
      admin.Post(admin.Base() + "/subjects/" + id + "/consents",
                 Json{{"consent", "newsletter"},
                      {"text", "Я хочу отримувати інформаційні розсилки на свою електронну пошту."},
                      {"lang", "uk"},
                      {"channel", "newsletter_subscription"}});
  ASSERT_EQ(ok.status, 201) << ok.Describe();
  EXPECT_EQ(ok.Body().value("channel", ""), "newsletter_subscription");
  EXPECT_EQ(StringSet(ok.Body()["grants"]),
            (std::set<std::string>{"newsletter", "hiring_newsletters"}));
  EXPECT_FALSE(ok.Body().value("withdrawal_procedure", "").empty()) << ok.body;
}

TEST_F(Consent, R19_WithdrawalAppendsARowAndLeavesTheGrantUnchanged) {
  Json body = Masterclass004(UniqueEmail("r19"));
  body["consents"] = {"button_consent", "newsletter_optin"};
  const std::string id = NewSubject(kS4, "masterclass", body);
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS4);
  Json before = Ledger(admin, id);
  ASSERT_EQ(before.size(), 2u) << before.dump();

  Response w = admin.Post(admin.Base() + "/subjects/" + id + "/consents/withdraw",
                          Json{{"consents", {"newsletter"}}, {"channel", "email"}});
  ASSERT_EQ(w.status, 200) << w.Describe();
  ASSERT_EQ(w.Body()["items"].size(), 1u) << w.body;

  Json after = Ledger(admin, id);
  ASSERT_EQ(after.size(), 3u) << after.dump();
  // The earlier rows are exactly as they were; the withdrawal is a new row.
  for (const auto& row : before) {
    bool found = std::any_of(after.begin(), after.end(), [&](const Json& a) { return a == row; });
    EXPECT_TRUE(found) << "grant row changed or gone: " << row.dump();
  }
  int withdrawals = 0;
  for (const auto& row : after) {
    if (row.value("action", "") == "withdraw") {
      ++withdrawals;
      EXPECT_EQ(row.value("consent", ""), "newsletter");
      EXPECT_EQ(row.value("channel", ""), "email");
    }
  }
  EXPECT_EQ(withdrawals, 1);
}

TEST_F(Consent, R19_LedgerRowsCannotBeEditedOrDeletedThroughTheApi) {
  const std::string id = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("r19e")));
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS4);
  Json ledger = Ledger(admin, id);
  ASSERT_EQ(ledger.size(), 1u);
  const std::string consents = admin.Base() + "/subjects/" + id + "/consents";
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    Response r = admin.Call(method, consents, Json{{"text", "edited"}}.dump());
    EXPECT_EQ(r.status, 405) << method << ": " << r.Describe();
    Response row = admin.Call(method, consents + "/" + ledger[0].value("id", ""),
                              Json{{"text", "edited"}}.dump());
    EXPECT_TRUE(row.status == 404 || row.status == 405) << method << ": " << row.Describe();
  }
  EXPECT_EQ(Ledger(admin, id), ledger);
}

TEST_F(Consent, R20_WithdrawingOnePurposeLeavesOtherPurposesAllowed) {
  const std::string key = MarketingKey004();
  ASSERT_FALSE(key.empty());
  const std::string id = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("r20")));
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS4);
  ASSERT_EQ(ProcessWithKey(kS4, key, id, "partner_programmes").status, 200);

  Response w = admin.Post(admin.Base() + "/subjects/" + id + "/consents/withdraw",
                          Json{{"purposes", {"partner_programmes"}}, {"channel", "email"}});
  ASSERT_EQ(w.status, 200) << w.Describe();

  Response withdrawn = ProcessWithKey(kS4, key, id, "partner_programmes");
  EXPECT_EQ(withdrawn.status, 403) << withdrawn.Describe();
  EXPECT_EQ(withdrawn.ErrorCode(), "consent_withdrawn");
  // Another purpose of the same consent, and a contract purpose, are untouched.
  Response other = ProcessWithKey(kS4, key, id, "marketing_policy");
  EXPECT_EQ(other.status, 200) << other.Describe();
  Response contract = Process(admin, id, "account_management");
  EXPECT_EQ(contract.status, 200) << contract.Describe();
}

TEST_F(Consent, B07_ReceiptHashIsTheSha256OfTheExactText) {
  Response ok = Submit(kS1, "payment", Payment001(UniqueEmail("b07")));
  ASSERT_EQ(ok.status, 201) << ok.Describe();
  ASSERT_EQ(ok.Body()["consents"].size(), 1u);
  const Json receipt = ok.Body()["consents"][0];
  EXPECT_EQ(receipt.value("text", ""), kConsent001Uk);
  EXPECT_EQ(receipt.value("text_sha256", ""), Sha256Hex(kConsent001Uk));
  Json ledger = Ledger(Admin(kS1), ok.Body().value("subject", ""));
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].value("text_sha256", ""), Sha256Hex(kConsent001Uk));

  // A consent recorded by staff: the hash of the text given, byte for byte.
  StaffClient& admin = Admin(kS1);
  const std::string text = "Я згоден на обробку моїх персональних даних (телефонна розмова).";
  Response g =
      admin.Post(admin.Base() + "/subjects/" + ok.Body().value("subject", "") + "/consents",
                 Json{{"consent", "personal_data"},
                      {"text", text},
                      {"lang", "uk"},
                      {"channel", "application"}});
  ASSERT_EQ(g.status, 201) << g.Describe();
  EXPECT_EQ(g.Body().value("text_sha256", ""), Sha256Hex(text));
}

// ======================================================================================
// The purpose gate: R28-R30, B12
// ======================================================================================

class Gate : public SharedServerTest {};

TEST_F(Gate, R28_UndeclaredPurposeIsDeniedAndDeclaredOneAllowed) {
  const std::string s1 = NewSubject(kS1, "payment", Payment001(UniqueEmail("r28")));
  ASSERT_FALSE(s1.empty());
  Response undeclared = Process(Admin(kS1), s1, "partner_programmes");
  EXPECT_EQ(undeclared.status, 403) << undeclared.Describe();
  EXPECT_EQ(undeclared.ErrorCode(), "purpose_undeclared");
  EXPECT_FALSE(undeclared.Header("x-decision-id").empty());

  // 004 §6.1.7 declares it; the Button consent grants it.
  const std::string key = MarketingKey004();
  const std::string s4 = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("r28")));
  ASSERT_FALSE(s4.empty());
  Response declared = ProcessWithKey(kS4, key, s4, "partner_programmes");
  EXPECT_EQ(declared.status, 200) << declared.Describe();
  EXPECT_TRUE(declared.Body().value("allowed", false));
}

TEST_F(Gate, R29_ConsentPurposeNeedsAnActiveGrantContractPurposeDoesNot) {
  StaffClient& admin = Admin(kS1);
  Response created =
      admin.Post(admin.Base() + "/subjects", Json{{"kind", "buyer"},
                                                  {"channel", "application"},
                                                  {"source", "subject"},
                                                  {"fields",
                                                   {{"first_name", "Marta"},
                                                    {"email", UniqueEmail("r29")},
                                                    {"mobile_phone", "+380661112233"}}}});
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string id = created.Body().value("subject", "");

  Response no_consent = Process(admin, id, "marketing_mailing");
  EXPECT_EQ(no_consent.status, 403) << no_consent.Describe();
  EXPECT_EQ(no_consent.ErrorCode(), "no_consent");
  Response contract = Process(admin, id, "contract_performance");
  EXPECT_EQ(contract.status, 200) << contract.Describe();

  Response g =
      admin.Post(admin.Base() + "/subjects/" + id + "/consents", Json{{"consent", "personal_data"},
                                                                      {"text", kConsent001Uk},
                                                                      {"lang", "uk"},
                                                                      {"channel", "application"}});
  ASSERT_EQ(g.status, 201) << g.Describe();
  Response granted = Process(admin, id, "marketing_mailing");
  EXPECT_EQ(granted.status, 200) << granted.Describe();
  EXPECT_EQ(Process(admin, id, "contract_performance").status, 200);
}

TEST_F(Gate, R30_ReadReturnsOnlyThePurposeFields) {
  const std::string email = UniqueEmail("r30");
  const std::string id = NewSubject(kS1, "payment", Payment001(email));
  ASSERT_FALSE(id.empty());
  StaffClient& admin = Admin(kS1);
  const std::string read = admin.Base() + "/subjects/" + id + "/read";
  Response r = admin.Post(read, Json{{"purpose", "marketing_mailing"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  Json fields = r.Body()["fields"];
  std::set<std::string> names;
  for (auto it = fields.begin(); it != fields.end(); ++it) names.insert(it.key());
  EXPECT_EQ(names, (std::set<std::string>{"first_name", "email", "mobile_phone"}));
  EXPECT_EQ(fields.value("email", ""), email);
  EXPECT_EQ(fields.value("first_name", ""), "Olena");

  Response denied =
      admin.Post(read, Json{{"purpose", "marketing_mailing"}, {"fields", {"home_address"}}});
  EXPECT_EQ(denied.status, 403) << denied.Describe();
  EXPECT_EQ(denied.ErrorCode(), "field_not_in_purpose");
  EXPECT_EQ(denied.body.find("Khreshchatyk"), std::string::npos);

  // The contract purpose does include the address.
  Response contract =
      admin.Post(read, Json{{"purpose", "contract_performance"}, {"fields", {"home_address"}}});
  ASSERT_EQ(contract.status, 200) << contract.Describe();
  EXPECT_EQ(contract.Body()["fields"].value("home_address", ""), "Kyiv, Khreshchatyk 1");
}

TEST_F(Gate, B12_UnknownSubjectIsDenied) {
  StaffClient& admin = Admin(kS1);
  Response p = Process(admin, "nosuchsubjectaaaaaaaaaaaaa", "identification");
  EXPECT_EQ(p.status, 404) << p.Describe();
  EXPECT_EQ(p.ErrorCode(), "subject_unknown");
  Response r = admin.Post(admin.Base() + "/subjects/nosuchsubjectaaaaaaaaaaaaa/read",
                          Json{{"purpose", "identification"}});
  EXPECT_EQ(r.status, 404) << r.Describe();
  EXPECT_EQ(r.ErrorCode(), "subject_unknown");
}

// ======================================================================================
// Staff access: R86, R87, R118
// ======================================================================================

class StaffAccess : public SharedServerTest {
 protected:
  // Creates a staff member of `school` with `role`; returns the id (or "").
  std::string CreateStaff(const std::string& school, const std::string& role,
                          const std::string& email, const std::string& name = "Maria Petrenko") {
    StaffClient& admin = Admin(school);
    Response r = admin.Post(
        admin.Base() + "/staff",
        Json{{"name", name}, {"email", email}, {"role", role}, {"password", kStaffPassword}});
    if (r.status != 201) {
      ADD_FAILURE() << "create staff: " << r.Describe();
      return {};
    }
    return r.Body().value("id", "");
  }
  Response Brief(const std::string& school, const std::string& staff) {
    StaffClient& admin = Admin(school);
    return admin.Post(admin.Base() + "/staff/" + staff + "/briefing", Json::object());
  }
};

TEST_F(StaffAccess, R86_RoleWithoutThePurposeIsDenied) {
  const std::string subject = NewSubject(kS1, "payment", Payment001(UniqueEmail("r86")));
  ASSERT_FALSE(subject.empty());
  const std::string email = UniqueEmail("r86-support");
  const std::string staff = CreateStaff(kS1, "support", email);
  ASSERT_FALSE(staff.empty());
  ASSERT_EQ(Brief(kS1, staff).status, 200);
  StaffClient support(&server(), kS1, email, kStaffPassword);
  ASSERT_EQ(support.SignIn(), "");
  const std::string read = support.Base() + "/subjects/" + subject + "/read";

  Response marketing = support.Post(read, Json{{"purpose", "marketing_mailing"}});
  EXPECT_EQ(marketing.status, 403) << marketing.Describe();
  EXPECT_EQ(marketing.ErrorCode(), "role_denied");

  Response ident = support.Post(read, Json{{"purpose", "identification"}});
  ASSERT_EQ(ident.status, 200) << ident.Describe();
  EXPECT_EQ(ident.Body()["fields"].value("first_name", ""), "Olena");
  // Privileged operations stay with privileged roles.
  Response staff_list = support.Get(support.Base() + "/staff");
  EXPECT_EQ(staff_list.status, 403) << staff_list.Describe();
}

TEST_F(StaffAccess, R87_PersonalDataNeedsTheBriefing) {
  const std::string subject = NewSubject(kS1, "payment", Payment001(UniqueEmail("r87b")));
  ASSERT_FALSE(subject.empty());
  const std::string email = UniqueEmail("r87-new");
  const std::string staff = CreateStaff(kS1, "support", email);
  ASSERT_FALSE(staff.empty());
  StaffClient person(&server(), kS1, email, kStaffPassword);
  ASSERT_EQ(person.SignIn(), "");
  EXPECT_FALSE(person.me().value("briefed", true));
  const std::string read = person.Base() + "/subjects/" + subject + "/read";

  Response before = person.Post(read, Json{{"purpose", "identification"}});
  EXPECT_EQ(before.status, 403) << before.Describe();
  EXPECT_EQ(before.ErrorCode(), "briefing_required");
  EXPECT_EQ(before.body.find("Olena"), std::string::npos);

  ASSERT_EQ(Brief(kS1, staff).status, 200);
  Response after = person.Post(read, Json{{"purpose", "identification"}});
  EXPECT_EQ(after.status, 200) << after.Describe();
}

TEST_F(StaffAccess, R87_CallsWithoutCredentialsAreRefused) {
  const std::string base = SchoolPath(kS1);
  Response anonymous = server().Get(base + "/subjects");
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
  Response bad_key =
      server().Get(base + "/subjects", Bearer("dvk_0000000000000000000000000000000000000000"));
  EXPECT_EQ(bad_key.status, 401) << bad_key.Describe();
  Response bad_cookie = server().Get(base + "/subjects", {{"Cookie", "dovira_session=deadbeef"}});
  EXPECT_EQ(bad_cookie.status, 401) << bad_cookie.Describe();
  Response process =
      server().Post(base + "/process", Json{{"subject", "x"}, {"purpose", "identification"}});
  EXPECT_EQ(process.status, 401) << process.Describe();
  // A session without its CSRF token cannot make changes.
  StaffClient& admin = Admin(kS1);
  Response no_csrf =
      server().Post(base + "/process", Json{{"subject", "x"}, {"purpose", "identification"}},
                    {{"Cookie", "dovira_session=" + admin.cookie()}});
  EXPECT_EQ(no_csrf.status, 403) << no_csrf.Describe();
  EXPECT_EQ(no_csrf.ErrorCode(), "csrf_token_invalid");
}

TEST_F(StaffAccess, R87_StaffAccountNeedsANamedPerson) {
  StaffClient& admin = Admin(kS1);
  Response r = admin.Post(admin.Base() + "/staff", Json{{"name", ""},
                                                        {"email", UniqueEmail("r87-anon")},
                                                        {"role", "support"},
                                                        {"password", kStaffPassword}});
  // R87: refused (422) with the field named.
  EXPECT_EQ(r.status, 422) << r.Describe();
  EXPECT_EQ(r.ErrorCode(), "name_required");
  EXPECT_EQ(r.Body()["error"].value("field", ""), "name");
}

TEST_F(StaffAccess, R87_LeaverLosesSessionsAndKeysAtOnce) {
  const std::string subject = NewSubject(kS1, "payment", Payment001(UniqueEmail("r87l")));
  ASSERT_FALSE(subject.empty());
  // A privileged person (they can make API keys), signed in with TOTP.
  const std::string email = UniqueEmail("r87-leaver");
  const std::string staff = CreateStaff(kS1, "security_officer", email);
  ASSERT_FALSE(staff.empty());
  ASSERT_EQ(Brief(kS1, staff).status, 200);
  StaffClient leaver(&server(), kS1, email, kStaffPassword);
  ASSERT_EQ(leaver.SignIn(), "");
  const std::string key = CreateKey(leaver, "support", {"identification"});
  ASSERT_FALSE(key.empty());
  ASSERT_EQ(ProcessWithKey(kS1, key, subject, "identification").status, 200);
  ASSERT_EQ(leaver.Get("/v1/auth/me").status, 200);

  StaffClient& admin = Admin(kS1);
  Response left = admin.Post(admin.Base() + "/staff/" + staff + "/leave", Json::object());
  ASSERT_EQ(left.status, 200) << left.Describe();

  Response session = leaver.Get("/v1/auth/me");
  EXPECT_EQ(session.status, 401) << session.Describe();
  Response keyed = ProcessWithKey(kS1, key, subject, "identification");
  EXPECT_EQ(keyed.status, 401) << keyed.Describe();
  Response again = leaver.Login();
  EXPECT_EQ(again.status, 403) << again.Describe();
  EXPECT_EQ(again.ErrorCode(), "account_left");
}

class Tenancy : public SharedServerTest {};

TEST_F(Tenancy, R118_CredentialsOfOneSchoolCannotReachAnother) {
  const std::string s4 = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("r118")));
  ASSERT_FALSE(s4.empty());
  StaffClient& a1 = Admin(kS1);
  Response list = a1.Get(SchoolPath(kS4) + "/subjects");
  EXPECT_EQ(list.status, 403) << list.Describe();
  EXPECT_EQ(list.ErrorCode(), "school_mismatch");
  Response read = a1.Post(SchoolPath(kS4) + "/subjects/" + s4 + "/read",
                          Json{{"purpose", "account_management"}});
  EXPECT_EQ(read.status, 403) << read.Describe();
  EXPECT_EQ(read.ErrorCode(), "school_mismatch");
  EXPECT_EQ(read.body.find("Taras"), std::string::npos);

  // An API key of 004 against 001.
  const std::string key = SalesKey004();
  Response keyed = server().Get(SchoolPath(kS1) + "/subjects", Bearer(key));
  EXPECT_EQ(keyed.status, 403) << keyed.Describe();
  EXPECT_EQ(keyed.ErrorCode(), "school_mismatch");
  // The same subject id is unknown to 001's own gate.
  Response own = Process(a1, s4, "identification");
  EXPECT_EQ(own.status, 404) << own.Describe();
}

// ======================================================================================
// The staff console's read-only routes (console_routes.cc)
// ======================================================================================

class Console : public SharedServerTest {};

// The newsletter row of GET /consents/rates.
Json NewsletterRate(const StaffClient& admin) {
  Response r = admin.Get(admin.Base() + "/consents/rates?lang=en");
  EXPECT_EQ(r.status, 200) << r.Describe();
  for (const auto& item : r.Body().value("items", Json::array())) {
    if (item.value("purpose", "") == "newsletter") return item;
  }
  ADD_FAILURE() << "no newsletter row: " << r.body;
  return Json::object();
}

TEST_F(Console, ConsentRatesCountGivenActiveAndWithdrawnPerConsentPurpose) {
  StaffClient& admin = Admin(kS4);
  const Json before = NewsletterRate(admin);
  Json both = Masterclass004(UniqueEmail("rates-both"));
  both["consents"] = {"button_consent", "newsletter_optin"};
  const std::string a = NewSubject(kS4, "masterclass", both);
  const std::string b = NewSubject(kS4, "masterclass", Masterclass004(UniqueEmail("rates-one")));
  ASSERT_FALSE(a.empty() || b.empty());
  const Json given = NewsletterRate(admin);
  EXPECT_EQ(given.value("title", ""), "Informational newsletters by e-mail") << given.dump();
  EXPECT_EQ(given.value("eligible", 0) - before.value("eligible", 0), 2) << given.dump();
  EXPECT_EQ(given.value("given", 0) - before.value("given", 0), 1) << given.dump();
  EXPECT_EQ(given.value("active", 0) - before.value("active", 0), 1) << given.dump();

  Response w = admin.Post(admin.Base() + "/subjects/" + a + "/consents/withdraw",
                          Json{{"consents", {"newsletter"}}, {"channel", "email"}});
  ASSERT_EQ(w.status, 200) << w.Describe();
  const Json after = NewsletterRate(admin);
  EXPECT_EQ(after.value("given", 0) - before.value("given", 0), 1) << after.dump();
  EXPECT_EQ(after.value("active", 0) - before.value("active", 0), 0) << after.dump();
  EXPECT_EQ(after.value("withdrawn", 0) - before.value("withdrawn", 0), 1) << after.dump();
  // Contract purposes are not consent rates.
  Response r = admin.Get(admin.Base() + "/consents/rates");
  const Json rates = r.Body();  // kept: the loop must not iterate a destroyed temporary
  for (const auto& item : rates["items"]) {
    EXPECT_NE(item.value("purpose", ""), "application_handling") << item.dump();
  }
  // Signed-in staff only, and only of their own school.
  EXPECT_EQ(server().Get(SchoolPath(kS4) + "/consents/rates").status, 401);
  EXPECT_EQ(Admin(kS1).Get(SchoolPath(kS4) + "/consents/rates").status, 403);
}

TEST_F(Console, R67_SettingsListRolesPurposesAndTheRequestTypesThePolicyOffers) {
  StaffClient& admin = Admin(kS4);
  Response r = admin.Get(admin.Base() + "/console?lang=en");
  ASSERT_EQ(r.status, 200) << r.Describe();
  Json j = r.Body();
  EXPECT_EQ(j.value("time_zone", ""), "Europe/Kyiv");
  auto find = [](const Json& list, const std::string& key, const std::string& value) {
    for (const auto& item : list) {
      if (item.value(key, "") == value) return item;
    }
    return Json(nullptr);
  };
  Json role = find(j["roles"], "id", "marketing_manager");
  ASSERT_TRUE(role.is_object()) << j["roles"].dump();
  EXPECT_FALSE(role.value("title", "").empty());
  EXPECT_FALSE(role.value("privileged", true));
  EXPECT_EQ(find(j["purposes"], "id", "newsletter").value("basis", ""), "consent");
  EXPECT_TRUE(find(j["fields"], "id", "email").is_object());
  // R67: a right without a term of its own runs on the default and says so.
  Json objection = find(j["request_types"], "type", "objection");
  ASSERT_TRUE(objection.is_object()) << j["request_types"].dump();
  EXPECT_EQ(objection.value("source", ""), "default");
  EXPECT_EQ(objection.value("term", ""), "30 calendar days");
  Json access = find(j["request_types"], "type", "access");
  EXPECT_EQ(access.value("right", ""), "access");
  EXPECT_EQ(server().Get(SchoolPath(kS4) + "/console").status, 401);
}

// The console's subject search: POST /subject-search for a stated purpose, through the gate.
class ConsoleSearch : public StaffAccess {
 protected:
  // A briefed support-service member of 001 (identification, contract performance, ...; no
  // marketing), signed in once for the suite.
  StaffClient& Support() {
    static std::unique_ptr<StaffClient> support;
    static const TestServer* on = nullptr;
    if (!support || on != &server()) {
      const std::string email = UniqueEmail("search-support");
      const std::string id = CreateStaff(kS1, "support", email, "Iryna Bondar");
      EXPECT_EQ(Brief(kS1, id).status, 200);
      support = std::make_unique<StaffClient>(&server(), kS1, email, kStaffPassword);
      EXPECT_EQ(support->SignIn(), "");
      on = &server();
    }
    return *support;
  }
  static Response Search(const StaffClient& staff, const Json& body) {
    return staff.Post(staff.Base() + "/subject-search", body);
  }
  // The newest audit entries (newest first), as the privileged admin reads them.
  Json NewestAudit(const std::string& school, int limit = 50) {
    StaffClient& admin = Admin(school);
    Response r = admin.Get(admin.Base() + "/audit?order=desc&limit=" + std::to_string(limit));
    EXPECT_EQ(r.status, 200) << r.Describe();
    return r.Body()["items"];
  }
};

TEST_F(ConsoleSearch, R28_R30_R86_SearchByEmailReleasesOnlyThePurposesFieldsForTheRole) {
  const std::string email = UniqueEmail("search-found");
  const std::string subject = NewSubject(kS1, "payment", Payment001(email));
  ASSERT_FALSE(subject.empty());
  StaffClient& support = Support();
  // The address as a person might type it: spaces and capitals are normalised like the intake's.
  std::string typed = "  " + email + " ";
  std::transform(typed.begin(), typed.end(), typed.begin(), ::toupper);
  Response r = Search(support, Json{{"purpose", "identification"}, {"email", typed}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  const Json j = r.Body();
  EXPECT_TRUE(j.value("allowed", false));
  EXPECT_EQ(j.value("subject", ""), subject);
  EXPECT_EQ(j.value("purpose", ""), "identification");
  EXPECT_FALSE(r.Header("x-decision-id").empty());
  EXPECT_EQ(j.value("decision_id", ""), r.Header("x-decision-id"));
  EXPECT_EQ(j["fields"].value("first_name", ""), "Olena");
  EXPECT_EQ(j["fields"].value("email", ""), email);
  // Only identification's fields: the purchase and the home address stay closed (R30).
  for (const auto& [field, value] : j["fields"].items()) {
    EXPECT_TRUE(field == "first_name" || field == "last_name" || field == "patronymic" ||
                field == "email" || field == "mobile_phone")
        << field;
  }
  EXPECT_EQ(r.body.find("1200.00"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("Khreshchatyk"), std::string::npos) << r.body;
  // By phone: the number as the intake stored it.
  Json other = Payment001(UniqueEmail("search-phone"));
  other["fields"]["mobile_phone"] = "+380 44 555 01 99";
  const std::string by_phone = NewSubject(kS1, "payment", other);
  Response phone =
      Search(support, Json{{"purpose", "identification"}, {"phone", "+380 44 555 01 99"}});
  ASSERT_EQ(phone.status, 200) << phone.Describe();
  EXPECT_EQ(phone.Body().value("subject", ""), by_phone);
}

TEST_F(ConsoleSearch, R86_APurposeTheRoleMayNotUseIsRefusedWithoutSayingWhoIsOnFile) {
  const std::string email = UniqueEmail("search-role");
  ASSERT_FALSE(NewSubject(kS1, "payment", Payment001(email)).empty());
  StaffClient& support = Support();
  Response known = Search(support, Json{{"purpose", "marketing_mailing"}, {"email", email}});
  EXPECT_EQ(known.status, 403) << known.Describe();
  EXPECT_EQ(known.ErrorCode(), "role_denied");
  EXPECT_TRUE(known.Body()["error"]["subject"].is_null()) << known.body;
  EXPECT_FALSE(known.Body()["error"].value("decision_id", "").empty());
  EXPECT_EQ(known.body.find("Olena"), std::string::npos);
  // The same answer for an address nobody has: the refusal is the role's, not the subject's.
  Response unknown = Search(
      support, Json{{"purpose", "marketing_mailing"}, {"email", UniqueEmail("search-nobody")}});
  EXPECT_EQ(unknown.status, 403) << unknown.Describe();
  EXPECT_EQ(unknown.ErrorCode(), "role_denied");
  // A purpose of the role, an address nobody has: 404.
  Response none =
      Search(support, Json{{"purpose", "identification"}, {"email", UniqueEmail("search-nobody")}});
  EXPECT_EQ(none.status, 404) << none.Describe();
  EXPECT_EQ(none.ErrorCode(), "subject_unknown");
  EXPECT_TRUE(none.Body()["error"]["subject"].is_null());
  // The console's settings list the purposes each role may state.
  Response settings = support.Get(support.Base() + "/console?lang=en");
  ASSERT_EQ(settings.status, 200) << settings.Describe();
  const Json settings_body = settings.Body();
  for (const auto& role : settings_body["roles"]) {
    if (role.value("id", "") != "support") continue;
    const Json purposes = role["purposes"];
    EXPECT_NE(std::find(purposes.begin(), purposes.end(), "identification"), purposes.end());
    EXPECT_EQ(std::find(purposes.begin(), purposes.end(), "marketing_mailing"), purposes.end());
  }
}

TEST_F(ConsoleSearch, R45_R29_RestrictedDataAndAMissingConsentAreRefusedNamingTheSubject) {
  const std::string email = UniqueEmail("search-gate");
  const std::string subject = NewSubject(kS1, "payment", Payment001(email));
  ASSERT_FALSE(subject.empty());
  StaffClient& admin = Admin(kS1);
  // A rectification of the phone blocks it while pending (R45): 423 for a purpose that uses it.
  Response filed = admin.Post(admin.Base() + "/requests", Json{{"type", "rectification"},
                                                               {"subject", subject},
                                                               {"channel", "support"},
                                                               {"fields", {"mobile_phone"}},
                                                               {"reply_email", email},
                                                               {"evidence_supplied", true}});
  ASSERT_EQ(filed.status, 201) << filed.Describe();
  Response blocked = Search(admin, Json{{"purpose", "identification"}, {"email", email}});
  EXPECT_EQ(blocked.status, 423) << blocked.Describe();
  EXPECT_EQ(blocked.ErrorCode(), "blocked");
  EXPECT_EQ(blocked.Body()["error"].value("subject", ""), subject);
  EXPECT_EQ(blocked.body.find("Olena"), std::string::npos);
  // A consent purpose after the marketing grant is withdrawn (R29), for another subject.
  const std::string other_email = UniqueEmail("search-consent");
  const std::string other = NewSubject(kS1, "payment", Payment001(other_email));
  Response w = admin.Post(admin.Base() + "/subjects/" + other + "/consents/withdraw",
                          Json{{"purposes", {"marketing_mailing"}}, {"channel", "email"}});
  ASSERT_EQ(w.status, 200) << w.Describe();
  Response consent = Search(admin, Json{{"purpose", "marketing_mailing"}, {"email", other_email}});
  EXPECT_EQ(consent.status, 403) << consent.Describe();
  EXPECT_EQ(consent.ErrorCode(), "consent_withdrawn");
  EXPECT_EQ(consent.Body()["error"].value("subject", ""), other);
  EXPECT_EQ(consent.body.find("Olena"), std::string::npos);
}

TEST_F(ConsoleSearch, R88_EverySearchIsAnAuditedReadWithItsPurpose) {
  const std::string email = UniqueEmail("search-audit");
  ASSERT_FALSE(NewSubject(kS1, "payment", Payment001(email)).empty());
  StaffClient& support = Support();
  const std::string who = "staff:" + support.me().value("staff", "");
  Response ok = Search(support, Json{{"purpose", "identification"}, {"email", email}});
  ASSERT_EQ(ok.status, 200) << ok.Describe();
  Response refused = Search(support, Json{{"purpose", "marketing_mailing"}, {"email", email}});
  ASSERT_EQ(refused.status, 403) << refused.Describe();
  Response missing = Search(
      support, Json{{"purpose", "identification"}, {"email", UniqueEmail("search-audit-nobody")}});
  ASSERT_EQ(missing.status, 404) << missing.Describe();
  auto entry = [&](const std::string& decision) {
    for (const auto& e : NewestAudit(kS1)) {
      if (e.value("decision_id", "") == decision) return e;
    }
    ADD_FAILURE() << "no audit entry for " << decision;
    return Json::object();
  };
  const Json a = entry(ok.Header("x-decision-id"));
  EXPECT_EQ(a.value("action", ""), "gate.read");
  EXPECT_EQ(a.value("actor", ""), who);
  EXPECT_EQ(a.value("role", ""), "support");
  EXPECT_EQ(a.value("purpose", ""), "identification");
  EXPECT_EQ(a.value("outcome", ""), "allow");
  EXPECT_FALSE(a.value("subject_ref", "").empty());
  EXPECT_EQ(a["detail"].value("lookup", ""), "email");
  EXPECT_EQ(a.dump().find(email), std::string::npos) << "the address itself is not logged";
  const Json b = entry(refused.Header("x-decision-id"));
  EXPECT_EQ(b.value("purpose", ""), "marketing_mailing");
  EXPECT_EQ(b.value("outcome", ""), "deny");
  EXPECT_EQ(b.value("reason", ""), "role_denied");
  const Json c = entry(missing.Header("x-decision-id"));
  EXPECT_EQ(c.value("reason", ""), "subject_unknown");
  EXPECT_EQ(c.value("subject_ref", "x"), "");
  EXPECT_FALSE(c["detail"].value("matched", true));
}

TEST_F(ConsoleSearch, BadSearchesAreRefusedNamingTheMemberAndStaffSessionsOnly) {
  StaffClient& support = Support();
  Response neither = Search(support, Json{{"purpose", "identification"}});
  EXPECT_EQ(neither.status, 400) << neither.Describe();
  EXPECT_EQ(neither.Body()["error"].value("field", ""), "email");
  Response both = Search(
      support,
      Json{{"purpose", "identification"}, {"email", "a@example.com"}, {"phone", "+380671234567"}});
  EXPECT_EQ(both.status, 400) << both.Describe();
  Response bad_email =
      Search(support, Json{{"purpose", "identification"}, {"email", "not-an-address"}});
  EXPECT_EQ(bad_email.status, 400) << bad_email.Describe();
  EXPECT_EQ(bad_email.Body()["error"].value("field", ""), "email");
  Response bad_phone = Search(support, Json{{"purpose", "identification"}, {"phone", "call me"}});
  EXPECT_EQ(bad_phone.status, 400) << bad_phone.Describe();
  EXPECT_EQ(bad_phone.Body()["error"].value("field", ""), "phone");
  Response no_purpose = Search(support, Json{{"email", "a@example.com"}});
  EXPECT_EQ(no_purpose.status, 400) << no_purpose.Describe();
  EXPECT_EQ(no_purpose.Body()["error"].value("field", ""), "purpose");
  Response extra = Search(
      support, Json{{"purpose", "identification"}, {"email", "a@example.com"}, {"subject", "x"}});
  EXPECT_EQ(extra.status, 400) << extra.Describe();
  const std::string path = SchoolPath(kS1) + "/subject-search";
  const Json body = {{"purpose", "identification"}, {"email", "a@example.com"}};
  EXPECT_EQ(server().Post(path, body).status, 401);
  // An API key is another system, not a member of staff at the console: the route's declaration
  // names the staff session as its only principal, and the refusal says so.
  Response keyed = server().Post(path, body, Bearer(Key(kS1, "support", {"identification"})));
  EXPECT_EQ(keyed.status, 403) << keyed.Describe();
  EXPECT_EQ(keyed.ErrorCode(), "principal_denied");
}

// ======================================================================================
// R88: the audit log
// ======================================================================================

class AuditLog : public SharedServerTest {};

TEST_F(AuditLog, R88_EveryDecisionAndConsentChangeIsLoggedUnderAPseudonym) {
  const std::string email = UniqueEmail("r88");
  const std::string create_rid = UniqueRequestId("r88-create");
  Response created = Submit(kS1, "payment", Payment001(email), {{"X-Request-Id", create_rid}});
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string id = created.Body().value("subject", "");
  StaffClient& admin = Admin(kS1);
  const std::string subject_path = admin.Base() + "/subjects/" + id;

  const std::string read_rid = UniqueRequestId("r88-read");
  Response read =
      admin.Call("POST", subject_path + "/read", Json{{"purpose", "identification"}}.dump(),
                 {{"X-Request-Id", read_rid}});
  ASSERT_EQ(read.status, 200) << read.Describe();
  const std::string withdraw_rid = UniqueRequestId("r88-withdraw");
  Response withdraw =
      admin.Call("POST", subject_path + "/consents/withdraw",
                 Json{{"purposes", {"marketing_mailing"}}, {"channel", "email"}}.dump(),
                 {{"X-Request-Id", withdraw_rid}});
  ASSERT_EQ(withdraw.status, 200) << withdraw.Describe();
  const std::string denied_rid = UniqueRequestId("r88-denied");
  Response denied =
      admin.Call("POST", subject_path + "/read", Json{{"purpose", "marketing_mailing"}}.dump(),
                 {{"X-Request-Id", denied_rid}});
  ASSERT_EQ(denied.status, 403) << denied.Describe();

  std::vector<Json> entries = AuditEntries(admin, admin.Base() + "/audit");
  std::map<std::string, Json> by_rid;
  for (const auto& e : entries) {
    const std::string dump = e.dump();
    EXPECT_EQ(dump.find(id), std::string::npos) << "subject id in the audit: " << dump;
    EXPECT_EQ(dump.find(email), std::string::npos) << "e-mail in the audit: " << dump;
    EXPECT_EQ(dump.find("Olena"), std::string::npos) << "name in the audit: " << dump;
    const std::string rid = e.value("request_id", "");
    if (rid == create_rid || rid == read_rid || rid == withdraw_rid || rid == denied_rid) {
      // A request may log more than one entry (the intake logs the consent too): keep the main.
      if (!by_rid.count(rid) || e.value("action", "").rfind("subject.", 0) == 0 ||
          e.value("action", "").rfind("gate.", 0) == 0 ||
          e.value("action", "") == "consent.withdraw") {
        by_rid[rid] = e;
      }
    }
  }
  ASSERT_EQ(by_rid.size(), 4u) << "entries found for: " << Json(by_rid).dump();
  const std::string pseudonym = by_rid[read_rid].value("subject_ref", "");
  EXPECT_FALSE(pseudonym.empty());
  EXPECT_NE(pseudonym, id);
  for (const auto& [rid, e] : by_rid) {
    EXPECT_EQ(e.value("subject_ref", ""), pseudonym) << e.dump();
    EXPECT_FALSE(e.value("at", "").empty()) << e.dump();
    EXPECT_FALSE(e.value("actor", "").empty()) << e.dump();
  }
  const Json& c = by_rid[create_rid];
  EXPECT_EQ(c.value("action", ""), "subject.create");
  EXPECT_EQ(c.value("outcome", ""), "ok");

  const Json& r = by_rid[read_rid];
  EXPECT_EQ(r.value("action", ""), "gate.read");
  EXPECT_EQ(r.value("actor", ""), "staff:" + admin.staff_id());
  EXPECT_EQ(r.value("role", ""), "responsible_person");
  EXPECT_EQ(r.value("purpose", ""), "identification");
  EXPECT_EQ(r.value("outcome", ""), "allow");
  EXPECT_EQ(r.value("decision_id", ""), read.Body().value("decision_id", ""));
  EXPECT_FALSE(r.value("fields", "").empty());

  const Json& w = by_rid[withdraw_rid];
  EXPECT_EQ(w.value("action", ""), "consent.withdraw");
  EXPECT_EQ(w.value("actor", ""), "staff:" + admin.staff_id());
  EXPECT_EQ(w.value("outcome", ""), "ok");

  const Json& d = by_rid[denied_rid];
  EXPECT_EQ(d.value("action", ""), "gate.read");
  EXPECT_EQ(d.value("purpose", ""), "marketing_mailing");
  EXPECT_EQ(d.value("outcome", ""), "deny");
  EXPECT_EQ(d.value("reason", ""), "consent_withdrawn");
  EXPECT_EQ(d.value("decision_id", ""), denied.Header("x-decision-id"));

  // The subject's own trail has the same entries.
  std::vector<Json> own = AuditEntries(admin, subject_path + "/audit");
  std::set<std::string> own_rids;
  for (const auto& e : own) own_rids.insert(e.value("request_id", ""));
  for (const auto& rid : {create_rid, read_rid, withdraw_rid, denied_rid}) {
    EXPECT_TRUE(own_rids.count(rid)) << rid;
  }
}

// ======================================================================================
// Tests on a server of their own: they move the clock far, or stop the server
// ======================================================================================

TEST(ConsentClock, R17_ConsentStartsAtTheSubmitInstant) {
  TestServer server(ServerOptions{{"004"}});
  ASSERT_EQ(server.Start(), "");
  auto admin = SignInAdmin(server, kS4);
  const std::string key = CreateKey(*admin, "marketing_manager", {"partner_programmes"});
  ASSERT_FALSE(key.empty());

  ASSERT_EQ(server.SetClock("2025-03-03T10:15:00Z"), "2025-03-03T10:15:00.000000Z");
  Response sub = server.Post(SchoolPath(kS4) + "/forms/masterclass/submissions",
                             Masterclass004(UniqueEmail("r17")));
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const std::string id = sub.Body().value("subject", "");
  ASSERT_EQ(sub.Body()["consents"].size(), 1u);
  EXPECT_EQ(Instant(sub.Body()["consents"][0].value("at", "")), "2025-03-03T10:15:00.000000Z");
  EXPECT_EQ(sub.Body()["consents"][0].value("channel", ""), "application");
  Response ledger = admin->Get(admin->Base() + "/subjects/" + id + "/consents");
  ASSERT_EQ(ledger.status, 200);
  EXPECT_EQ(Instant(ledger.Body()["items"][0].value("at", "")), "2025-03-03T10:15:00.000000Z");

  auto process = [&] {
    return server.Post(SchoolPath(kS4) + "/process",
                       Json{{"subject", id}, {"purpose", "partner_programmes"}}, Bearer(key));
  };
  EXPECT_EQ(process().status, 200) << "at the submit instant";
  server.SetClock("2025-03-03T10:14:59Z");
  Response before = process();
  EXPECT_EQ(before.status, 403) << before.Describe();
  EXPECT_EQ(before.ErrorCode(), "consent_not_yet_given");
  server.SetClock("2025-03-03T10:15:01Z");
  EXPECT_EQ(process().status, 200);

  // A consent cannot be recorded as given later than now.
  Response future = admin->Post(admin->Base() + "/subjects/" + id + "/consents",
                                Json{{"consent", "marketing"},
                                     {"text", "Я погоджуюся отримувати рекламні матеріали."},
                                     {"channel", "personal_account"},
                                     {"at", "2025-03-03T10:16:00Z"}});
  EXPECT_EQ(future.status, 422) << future.Describe();
  EXPECT_EQ(future.ErrorCode(), "time_in_future");
}

TEST(ConsentClock, R21_ConsentWithAnExpiryDateEndsAtMidnightSchoolTime) {
  TestServer server(ServerOptions{{"004"}});
  ASSERT_EQ(server.Start(), "");
  auto admin = SignInAdmin(server, kS4);
  const std::string key = CreateKey(*admin, "marketing_manager", {"marketing_communications"});
  ASSERT_FALSE(key.empty());
  Response sub = server.Post(SchoolPath(kS4) + "/forms/masterclass/submissions",
                             Masterclass004(UniqueEmail("r21")));
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const std::string id = sub.Body().value("subject", "");
  Response g = admin->Post(admin->Base() + "/subjects/" + id + "/consents",
                           Json{{"consent", "marketing"},
                                {"text", "Я погоджуюся отримувати рекламні матеріали та розсилки."},
                                {"lang", "uk"},
                                {"channel", "personal_account"},
                                {"expires", "2025-04-02"}});
  ASSERT_EQ(g.status, 201) << g.Describe();
  // The end of 2025-04-02 in Europe/Kyiv (UTC+3 in April).
  EXPECT_EQ(Instant(g.Body().value("expires_at", "")), "2025-04-02T21:00:00.000000Z") << g.body;

  auto process = [&] {
    return server.Post(SchoolPath(kS4) + "/process",
                       Json{{"subject", id}, {"purpose", "marketing_communications"}}, Bearer(key));
  };
  EXPECT_EQ(process().status, 200) << "right after the grant";
  ASSERT_FALSE(server.SetClock("2025-04-02T20:00:00Z").empty());
  EXPECT_EQ(process().status, 200) << "23:00 Kyiv on the last day";
  ASSERT_FALSE(server.SetClock("2025-04-02T23:59:59+03:00").empty());
  EXPECT_EQ(process().status, 200) << "the last second of the last day";
  ASSERT_FALSE(server.SetClock("2025-04-03T00:00:00+03:00").empty());
  Response expired = process();
  EXPECT_EQ(expired.status, 403) << expired.Describe();
  EXPECT_EQ(expired.ErrorCode(), "consent_expired");
}

TEST(StaffPasswords, R90_PasswordOlderThanThreeMonthsMustBeChanged) {
  TestServer server(ServerOptions{{"003"}});
  ASSERT_EQ(server.Start(), "");
  auto admin = SignInAdmin(server, kS3);
  const std::string email = UniqueEmail("r90");
  Response created = admin->Post(admin->Base() + "/staff", Json{{"name", "Vasyl Teacher"},
                                                                {"email", email},
                                                                {"role", "support"},
                                                                {"password", kStaffPassword}});
  ASSERT_EQ(created.status, 201) << created.Describe();

  // The administrator chose that password, so it is one-time: the holder replaces it first.
  StaffClient first(&server, kS3, email, kStaffPassword);
  Response fresh = first.Login();
  ASSERT_EQ(fresh.status, 200) << fresh.Describe();
  EXPECT_TRUE(fresh.Body().value("must_change_password", false)) << "a password set by another";
  EXPECT_EQ(first.Get(first.Base() + "/subjects").ErrorCode(), "password_change_required");
  const std::string own = "Amber-Kestrel-Wades-1934";
  ASSERT_EQ(first.Post("/v1/auth/password",
                       Json{{"current_password", kStaffPassword}, {"new_password", own}})
                .status,
            200);

  StaffClient person(&server, kS3, email, own);
  Response chosen = person.Login();
  ASSERT_EQ(chosen.status, 200) << chosen.Describe();
  EXPECT_FALSE(chosen.Body().value("must_change_password", true)) << "the holder's own password";

  ASSERT_FALSE(server.SetClock("2025-06-02T09:00:00Z").empty());
  Response within = person.Login();
  ASSERT_EQ(within.status, 200) << within.Describe();
  EXPECT_FALSE(within.Body().value("must_change_password", true)) << "before three months";

  ASSERT_FALSE(server.SetClock("2025-06-04T09:00:00Z").empty());
  Response due = person.Login();
  ASSERT_EQ(due.status, 200) << due.Describe();
  EXPECT_TRUE(due.Body().value("must_change_password", false)) << "after three months";
  // Until it is changed, nothing else is served.
  Response blocked = person.Get(person.Base() + "/subjects");
  EXPECT_EQ(blocked.status, 403) << blocked.Describe();
  EXPECT_EQ(blocked.ErrorCode(), "password_change_required");
  Response change = person.Post(
      "/v1/auth/password",
      Json{{"current_password", own}, {"new_password", "Brave-Linden-Grows-4410"}});
  ASSERT_EQ(change.status, 200) << change.Describe();
  EXPECT_EQ(person.Get(person.Base() + "/subjects").status, 200);
}

// Every file among `roots` (files, or directories searched recursively) that contains `needle`.
std::vector<std::string> FilesContaining(const std::vector<std::string>& roots,
                                         const std::string& needle) {
  std::vector<std::string> hits;
  auto check = [&](const fs::path& p) {
    std::string bytes = Slurp(p.string());
    if (bytes.find(needle) != std::string::npos) hits.push_back(p.string());
  };
  for (const auto& root : roots) {
    if (fs::is_regular_file(root)) {
      check(root);
      continue;
    }
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) check(it->path());
    }
  }
  return hits;
}

TEST(Encryption, R89_NoPlaintextPersonalDataInDatabaseFilesOrBackups) {
  TestServer server(ServerOptions{{"001"}});
  ASSERT_EQ(server.Start(), "");
  const std::string probe = "probe-7f3a";
  const std::string email = probe + "@example.com";
  Json body = Payment001(email);
  body["fields"]["first_name"] = "Probe7f3aName";
  Response sub = server.Post(SchoolPath(kS1) + "/forms/payment/submissions", body);
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const std::string id = sub.Body().value("subject", "");
  auto admin = SignInAdmin(server, kS1);
  // The value is really there: the gate gives it back.
  Response read =
      admin->Post(admin->Base() + "/subjects/" + id + "/read", Json{{"purpose", "identification"}});
  ASSERT_EQ(read.status, 200) << read.Describe();
  ASSERT_EQ(read.Body()["fields"].value("email", ""), email);

  // An online backup, while the server runs.
  const std::string backup = server.root() + "/backup.db";
  const std::string keys_backup = server.root() + "/keys-backup.db";
  RunResult b = RunDovira(
      {"backup", "--data", server.data_dir(), "--out", backup, "--keys-out", keys_backup});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  ASSERT_TRUE(fs::exists(backup));
  EXPECT_GT(fs::file_size(backup), 0u);
  // On PostgreSQL the data live in the cluster's files (tables, indexes, write-ahead log).
  const std::string live = PgTestCluster().empty() ? server.data_dir() : PgTestCluster();
  const std::vector<std::string> roots = {server.data_dir(), live, backup, keys_backup};
  // The scan does read the stored bytes: the school id is kept in the clear.
  EXPECT_FALSE(FilesContaining({live}, kS1).empty());
  EXPECT_FALSE(FilesContaining({backup}, kS1).empty());
  for (const std::string& needle : {probe, std::string("Probe7f3aName")}) {
    EXPECT_EQ(FilesContaining(roots, needle), std::vector<std::string>{}) << needle;
  }
  EXPECT_EQ(server.stderr_text().find(probe), std::string::npos);

  // And once stopped (the write-ahead log checkpointed into the database).
  EXPECT_EQ(server.Stop(), 0);
  if (PgTestCluster().empty()) {
    EXPECT_TRUE(fs::exists(server.data_dir() + "/store/data.db"));
  }
  for (const std::string& needle : {probe, std::string("Probe7f3aName")}) {
    EXPECT_EQ(FilesContaining(roots, needle), std::vector<std::string>{}) << needle;
  }
}

TEST(AuditChain, B01_EditedEntryIsReportedByVerify) {
  TestServer server(ServerOptions{{"001"}});
  ASSERT_EQ(server.Start(), "");
  auto admin = SignInAdmin(server, kS1);
  Response sub =
      server.Post(SchoolPath(kS1) + "/forms/payment/submissions", Payment001(UniqueEmail("b01")));
  ASSERT_EQ(sub.status, 201) << sub.Describe();
  const std::string id = sub.Body().value("subject", "");
  const std::string rid = UniqueRequestId("b01-read");
  Response read = admin->Call("POST", admin->Base() + "/subjects/" + id + "/read",
                              Json{{"purpose", "identification"}}.dump(), {{"X-Request-Id", rid}});
  ASSERT_EQ(read.status, 200) << read.Describe();
  ASSERT_EQ(admin
                ->Post(admin->Base() + "/subjects/" + id + "/read",
                       Json{{"purpose", "fraud_prevention"}, {"fields", {"home_address"}}})
                .status,
            403);
  Response online = admin->Get(admin->Base() + "/audit/verify");
  ASSERT_EQ(online.status, 200) << online.Describe();
  EXPECT_TRUE(online.Body().value("ok", false)) << online.body;
  ASSERT_EQ(server.Stop(), 0);

  RunResult clean = RunDovira({"audit", "verify", "--data", server.data_dir(), "--school", kS1});
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_EQ(clean.out.rfind("ok: ", 0), 0u) << clean.out;

  // Someone with the database's files (SQLite) or a superuser's connection (PostgreSQL), past
  // the append-only rule.
  const std::string db = server.data_dir() + "/store/data.db";
  auto sql = [&](const std::string& statement) {
    return PgTestCluster().empty() ? RunProgram({"sqlite3", db, statement})
                                   : PsqlData(server.data_dir(), statement);
  };
  RunResult seq = sql("SELECT seq FROM audit WHERE school_id = '" + std::string(kS1) +
                      "' AND request_id = '" + rid + "' AND purpose <> '';");
  ASSERT_EQ(seq.exit_code, 0) << seq.err;
  std::string n = seq.out.substr(0, seq.out.find('\n'));
  ASSERT_FALSE(n.empty()) << "no audit entry for the read";
  // One byte of the purpose: "identification" -> "xdentification".
  const std::string edit = "UPDATE audit SET purpose = 'x' || substr(purpose, 2) WHERE school_id = '" +
                           std::string(kS1) + "' AND seq = " + n + ";";
  RunResult tamper = sql(PgTestCluster().empty()
                             ? "DROP TRIGGER audit_no_update; " + edit
                             : "ALTER TABLE audit DISABLE TRIGGER USER; " + edit);
  ASSERT_EQ(tamper.exit_code, 0) << tamper.err;

  RunResult broken = RunDovira({"audit", "verify", "--data", server.data_dir(), "--school", kS1});
  EXPECT_EQ(broken.exit_code, 1) << broken.out << broken.err;
  EXPECT_NE(broken.out.find("BROKEN at entry " + n + ":"), std::string::npos) << broken.out;
}

// ======================================================================================
// The shape of the API: errors, request ids, routing, health, metrics, the OpenAPI document
// ======================================================================================

class ApiShape : public SharedServerTest {};

void ExpectErrorShape(const Response& r) {
  Json j = r.Body();
  ASSERT_TRUE(j.is_object()) << r.Describe();
  ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << r.Describe();
  EXPECT_TRUE(j["error"]["code"].is_string()) << r.Describe();
  EXPECT_TRUE(j["error"]["message"].is_string()) << r.Describe();
  EXPECT_FALSE(j["error"].value("message", "").empty()) << r.Describe();
  ASSERT_TRUE(j["error"].contains("field")) << r.Describe();
  EXPECT_TRUE(j["error"]["field"].is_null() || j["error"]["field"].is_string()) << r.Describe();
  EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u) << r.Describe();
}

TEST_F(ApiShape, ErrorsHaveCodeMessageAndField) {
  std::vector<Response> errors = {
      server().Get("/v1/nope"),                                           // 404
      server().Call("DELETE", "/healthz"),                                // 405
      server().Get(SchoolPath(kS1) + "/subjects"),                        // 401
      server().Post("/v1/auth/login", Json{{"school", kS1}}),             // 400
      Submit(kS4, "masterclass", Json{{"fields", {{"eyesight", "1"}}}}),  // 422
      server().Get(SchoolPath("nosuchschool") + "/forms"),                // 404 school
  };
  for (const auto& r : errors) {
    EXPECT_GE(r.status, 400) << r.Describe();
    ExpectErrorShape(r);
  }
  EXPECT_EQ(errors[4].Body()["error"].value("field", ""), "eyesight");
}

TEST_F(ApiShape, RequestIdIsEchoed) {
  Response r = server().Get("/healthz", {{"X-Request-Id", "test-req.42_A"}});
  EXPECT_EQ(r.Header("x-request-id"), "test-req.42_A");
  Response err = server().Get("/v1/nope", {{"X-Request-Id", "test-req-404"}});
  EXPECT_EQ(err.Header("x-request-id"), "test-req-404");
  Response generated = server().Get("/healthz");
  EXPECT_FALSE(generated.Header("x-request-id").empty());
  EXPECT_NE(generated.Header("x-request-id"), r.Header("x-request-id"));
}

TEST_F(ApiShape, UnknownRouteIs404AndWrongMethodIs405WithAllow) {
  Response unknown = server().Get("/v1/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.ErrorCode(), "not_found");
  Response deep = server().Get(SchoolPath(kS1) + "/subjects/x/nope");
  EXPECT_EQ(deep.status, 404);
  EXPECT_EQ(deep.ErrorCode(), "not_found");
  Response wrong = server().Call("DELETE", "/healthz");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.ErrorCode(), "method_not_allowed");
  EXPECT_EQ(wrong.Header("allow"), "GET");
}

TEST_F(ApiShape, MalformedJsonAndUnknownMembersAre400) {
  Response bad = server().Call("POST", "/v1/auth/login", "{\"school\": ");
  EXPECT_EQ(bad.status, 400) << bad.Describe();
  EXPECT_EQ(bad.ErrorCode(), "invalid_json");
  Response not_object = server().Call("POST", "/v1/auth/login", "[1, 2]");
  EXPECT_EQ(not_object.status, 400) << not_object.Describe();
  EXPECT_EQ(not_object.ErrorCode(), "invalid_json");
  Json extra = Masterclass004(UniqueEmail("shape"));
  extra["favourite_colour"] = "blue";
  Response unknown = Submit(kS4, "masterclass", extra);
  EXPECT_EQ(unknown.status, 400) << unknown.Describe();
  EXPECT_EQ(unknown.ErrorCode(), "unknown_field");
  EXPECT_EQ(unknown.Body()["error"].value("field", ""), "favourite_colour");
}

TEST_F(ApiShape, HealthAndMetrics) {
  Response h = server().Get("/healthz");
  ASSERT_EQ(h.status, 200) << h.Describe();
  EXPECT_EQ(h.Body().value("status", ""), "ok");
  EXPECT_EQ(StringSet(h.Body()["schools"]), (std::set<std::string>{kS1, kS3, kS4}));
  // Metrics are no longer public: a privileged role reads them (issue 11).
  Response anonymous = server().Get("/metrics");
  EXPECT_EQ(anonymous.status, 401) << anonymous.Describe();
  Response m = Admin(kS1).Get("/metrics");
  ASSERT_EQ(m.status, 200) << m.Describe();
  EXPECT_EQ(m.Header("content-type").rfind("text/plain", 0), 0u);
  EXPECT_NE(m.body.find("dovira_http_requests_total"), std::string::npos);
  // Metrics carry route patterns, never personal data or ids from paths.
  EXPECT_EQ(m.body.find("@example.com"), std::string::npos);
}

TEST_F(ApiShape, OpenApiListsExactlyTheRoutesServed) {
  Response doc = server().Get("/v1/openapi.json");
  ASSERT_EQ(doc.status, 200) << doc.Describe();
  Json paths = doc.Body()["paths"];
  ASSERT_TRUE(paths.is_object() && !paths.empty()) << doc.body.substr(0, 300);
  const std::set<std::string> kMethods = {"get", "post", "put", "patch", "delete"};
  int operations = 0;
  for (auto p = paths.begin(); p != paths.end(); ++p) {
    // Fake ids for every parameter; no credentials, so nothing changes.
    std::string path;
    for (size_t i = 0; i < p.key().size(); ++i) {
      if (p.key()[i] == '{') {
        size_t close = p.key().find('}', i);
        path += "zz" + p.key().substr(i + 1, close - i - 1);
        i = close;
      } else {
        path += p.key()[i];
      }
    }
    std::set<std::string> documented;
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      if (!kMethods.count(m.key())) continue;
      documented.insert(m.key());
      std::string method = m.key();
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      Response r = method == "GET" || method == "DELETE" ? server().Call(method, path)
                                                         : server().Call(method, path, "{}");
      ++operations;
      EXPECT_NE(r.status, 0) << method << " " << path << ": " << r.body;
      EXPECT_NE(r.status, 405) << method << " " << path << ": " << r.Describe();
      EXPECT_FALSE(r.status == 404 && r.ErrorCode() == "not_found")
          << method << " " << path << " is documented but not served";
    }
    // The methods not documented for the path are not served there either.
    std::set<std::string> allowed_expected;
    for (const auto& m : documented) {
      std::string up = m;
      std::transform(up.begin(), up.end(), up.begin(), ::toupper);
      allowed_expected.insert(up);
    }
    for (const auto& m : kMethods) {
      if (documented.count(m)) continue;
      std::string up = m;
      std::transform(up.begin(), up.end(), up.begin(), ::toupper);
      Response r = server().Call(up, path, up == "DELETE" ? "" : "{}");
      EXPECT_EQ(r.status, 405) << up << " " << path << ": " << r.Describe();
      std::set<std::string> allow;
      std::string header = r.Header("allow");
      for (size_t start = 0; start < header.size();) {
        size_t comma = header.find(',', start);
        std::string part =
            header.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        part.erase(0, part.find_first_not_of(' '));
        while (!part.empty() && part.back() == ' ') part.pop_back();
        if (!part.empty()) allow.insert(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      EXPECT_EQ(allow, allowed_expected) << up << " " << path;
    }
  }
  EXPECT_GE(operations, 30);
  // What the document does not list is not served.
  for (const char* path : {"/v1/nope", "/v1/schools/x/erase", "/v1/admin", "/policy/versions"}) {
    Response r = server().Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.ErrorCode(), "not_found") << path;
  }
}

}  // namespace
}  // namespace dovira::testing

namespace dovira::testing {
namespace {

// R60: a legally significant decision needs a human decision-maker; the register is the audit
// log, one entry per decision.
TEST_F(ApiShape, R60LegallySignificantDecisionsNeedAHuman) {
  StaffClient& admin = Admin(kS4);
  const std::string path = admin.Base() + "/decisions";
  Response solo = admin.Post(path, Json{{"class", "legally_significant"},
                                        {"decided_by", nullptr},
                                        {"outcome", "refuse_enrolment"}});
  EXPECT_EQ(solo.status, 422) << solo.Describe();
  EXPECT_EQ(solo.ErrorCode(), "human_decision_required");
  Response ghost = admin.Post(path, Json{{"class", "legally_significant"},
                                         {"decided_by", "nobody"},
                                         {"outcome", "refuse_enrolment"}});
  EXPECT_EQ(ghost.ErrorCode(), "staff_unknown");
  // 004 names no exception: an answer to the user's own query is no class it knows.
  EXPECT_EQ(admin.Post(path, Json{{"class", "self_query_answer"}, {"outcome", "x"}}).status, 400);
  Response human = admin.Post(path, Json{{"class", "legally_significant"},
                                         {"decided_by", admin.staff_id()},
                                         {"model", "enrolment_rules"},
                                         {"outcome", "refuse_enrolment"}});
  ASSERT_EQ(human.status, 201) << human.Describe();
  const std::string id = human.Body().value("id", "");
  Response audit = admin.Get(admin.Base() + "/audit?limit=1000");
  ASSERT_EQ(audit.status, 200);
  const Json entries = audit.Body()["items"];
  bool found = false;
  for (const auto& e : entries) {
    if (e.value("decision_id", "") == id && e.value("action", "") == "decision.record") {
      found = e["detail"].value("decided_by", "") == admin.staff_id();
    }
  }
  EXPECT_TRUE(found) << "decision " << id << " is not in the audit log";
}

// R06/B01: the audit log pages backwards too, newest first, and says where its head is; the
// pages meet the forward pages exactly.
TEST(AuditPaging, PagesNewestFirstFromItsHead_B01) {
  TestServer server(ServerOptions{{"004"}});
  ASSERT_EQ(server.Start(), "");
  auto admin = SignInAdmin(server, kS4);
  Response all = admin->Get(admin->Base() + "/audit?limit=1000");
  ASSERT_EQ(all.status, 200) << all.Describe();
  std::vector<int64_t> forward;
  const Json all_body = all.Body();
  for (const auto& e : all_body["items"]) forward.push_back(e.value("seq", int64_t{0}));
  ASSERT_GE(forward.size(), 5u) << all.Describe();
  EXPECT_EQ(all_body.value("last_seq", int64_t{0}), forward.back());

  std::vector<int64_t> backward;
  std::string path = admin->Base() + "/audit?order=desc&limit=2";
  for (int guard = 0; guard < 1000; ++guard) {
    Response page = admin->Get(path);
    ASSERT_EQ(page.status, 200) << page.Describe();
    const Json body = page.Body();
    for (const auto& e : body["items"]) backward.push_back(e.value("seq", int64_t{0}));
    const Json next = body["next_cursor"];
    if (next.is_null()) break;
    path = admin->Base() + "/audit?order=desc&limit=2&before=" + std::to_string(next.get<int64_t>());
  }
  // Reading the log backwards adds entries of its own (reads are audited), so compare the part
  // both saw.
  std::vector<int64_t> tail(backward.end() - static_cast<std::ptrdiff_t>(forward.size()),
                            backward.end());
  std::reverse(tail.begin(), tail.end());
  EXPECT_EQ(tail, forward);
  EXPECT_EQ(backward.back(), 1);

  for (const char* bad : {"?order=sideways", "?before=3", "?order=desc&before=0",
                          "?order=desc&before=x", "?order=desc&after=2"}) {
    Response r = admin->Get(admin->Base() + "/audit" + bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.Describe();
  }
}

// ---- R37: the identity code of a public request ----
// Five tries and fifteen minutes, as the cabinet's sign-in code: a wrong code is refused and
// counted, after the fifth every code (the right one too) is refused with 429 until a new one is
// asked for, and a code stops working fifteen minutes after it was sent.
class PublicRequestCode : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sink_.ok());
    ServerOptions o;
    o.policies = {"001"};
    o.extra_args = {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(sink_.port())};
    server_ = std::make_unique<TestServer>(o);
    ASSERT_EQ(server_->Start(), "");
    admin_ = SignInAdmin(*server_, kS1);
    Response r = server_->Post(SchoolPath(kS1) + "/forms/payment/submissions", Payment001(kEmail));
    ASSERT_EQ(r.status, 201) << r.Describe();
  }

  // Files an access request as the public; returns its id.
  std::string File() {
    Response r = server_->Post(SchoolPath(kS1) + "/public/requests",
                               Json{{"type", "access"}, {"email", kEmail}, {"lang", "en"}});
    EXPECT_EQ(r.status, 201) << r.Describe();
    EXPECT_EQ(r.Body().value("state", ""), "awaiting_identity");
    return r.Body().value("id", "");
  }
  // Delivers the outbox; the last code e-mailed to the subject ("" when none).
  std::string MailedCode() {
    Response job = admin_->Post(admin_->Base() + "/jobs/outbox/run", Json::object());
    EXPECT_EQ(job.status, 200) << job.Describe();
    std::string code;
    const std::regex six(R"(: (\d{6}))");
    for (const auto& m : sink_.messages()) {
      if (std::find(m.rcpt.begin(), m.rcpt.end(), kEmail) == m.rcpt.end()) continue;
      std::smatch found;
      const std::string text = SmtpSink::DecodedText(m.data);
      if (text.find("confirm") != std::string::npos && std::regex_search(text, found, six)) {
        code = found[1].str();
      }
    }
    return code;
  }
  Response Verify(const std::string& id, const std::string& code) {
    return server_->Post(SchoolPath(kS1) + "/public/requests/" + id + "/verify",
                         Json{{"code", code}});
  }
  Response Resend(const std::string& id, const std::string& email) {
    return server_->Post(SchoolPath(kS1) + "/public/requests/" + id + "/code",
                         Json{{"email", email}});
  }
  static std::string Wrong(const std::string& code) {
    return code == "123456" ? "654321" : "123456";
  }

  static constexpr char kEmail[] = "olena.r37@example.com";
  SmtpSink sink_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<StaffClient> admin_;
};

TEST_F(PublicRequestCode, R37_FiveWrongCodesVoidTheCodeUntilANewOneIsAskedFor) {
  const std::string id = File();
  const std::string code = MailedCode();
  ASSERT_FALSE(code.empty());
  for (int i = 1; i <= 5; ++i) {
    Response r = Verify(id, Wrong(code));
    EXPECT_EQ(r.status, 422) << i << " " << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "code_invalid");
  }
  for (const std::string& attempt : {Wrong(code), code}) {
    Response r = Verify(id, attempt);
    EXPECT_EQ(r.status, 429) << r.Describe();
    EXPECT_EQ(r.ErrorCode(), "code_attempts_exceeded");
    // In the school's language (issue 12): 001's authoritative language is Russian.
    EXPECT_NE(r.Body()["error"].value("message", "").find("запросите новый код"), std::string::npos)
        << r.body;
  }
  Response got = admin_->Get(admin_->Base() + "/requests/" + id);
  EXPECT_EQ(got.Body().value("state", ""), "awaiting_identity") << got.body;

  // A new code, asked for with the address the request was filed with, replaces the old one.
  Response other = Resend(id, "someone.else@example.com");
  EXPECT_EQ(other.status, 422) << other.Describe();
  EXPECT_EQ(other.ErrorCode(), "email_mismatch");
  Response resent = Resend(id, "Olena.R37@Example.com");
  ASSERT_EQ(resent.status, 202) << resent.Describe();
  const std::string fresh = MailedCode();
  ASSERT_FALSE(fresh.empty());
  if (fresh != code) {
    Response old = Verify(id, code);
    EXPECT_EQ(old.status, 422) << old.Describe();
  }
  Response ok = Verify(id, fresh);
  ASSERT_EQ(ok.status, 200) << ok.Describe();
  EXPECT_EQ(ok.Body().value("state", ""), "in_progress");
  // Nothing awaits a code any more.
  Response late = Resend(id, kEmail);
  EXPECT_EQ(late.status, 409) << late.Describe();
  EXPECT_EQ(late.ErrorCode(), "identity_not_awaited");
}

TEST_F(PublicRequestCode, R37_ACodeExpiresFifteenMinutesAfterItWasSent) {
  const std::string id = File();
  const std::string code = MailedCode();
  ASSERT_FALSE(code.empty());
  ASSERT_FALSE(server_->Advance(15 * 60).empty());
  Response expired = Verify(id, code);
  EXPECT_EQ(expired.status, 422) << expired.Describe();
  EXPECT_EQ(expired.ErrorCode(), "code_expired");
  // Ten days later it is still refused (the defect: it confirmed the request).
  ASSERT_FALSE(server_->Advance(10 * 24 * 3600).empty());
  EXPECT_EQ(Verify(id, code).ErrorCode(), "code_expired");

  ASSERT_EQ(admin_->Login().status, 200);  // the old session ended with the time
  ASSERT_EQ(Resend(id, kEmail).status, 202);
  const std::string fresh = MailedCode();
  ASSERT_FALSE(fresh.empty());
  ASSERT_FALSE(server_->Advance(15 * 60 - 1).empty());
  Response ok = Verify(id, fresh);
  EXPECT_EQ(ok.status, 200) << ok.Describe();
}

// ---- B01: the audit chain's end is anchored in the key vault ----
// Restoring an older data backup legitimately loses the latest entries: the server starts, says
// so in its log and on /healthz.
TEST(AuditAnchor, B01_AfterAnOlderDataBackupIsRestoredTheServerStartsAndHealthzSaysTheTailIsMissing) {
  TestServer server(ServerOptions{{"001"}});
  ASSERT_EQ(server.Start(), "");
  auto admin = SignInAdmin(server, kS1);
  auto submit = [&](const std::string& who) {
    Response r = server.Post(SchoolPath(kS1) + "/forms/payment/submissions", Payment001(who));
    ASSERT_EQ(r.status, 201) << r.Describe();
  };
  submit("b01-one@example.com");
  ASSERT_EQ(admin->Post(admin->Base() + "/audit/checkpoint", Json::object()).status, 200);
  const std::string backup = server.root() + "/older.db";
  RunResult b = RunDovira({"backup", "--data", server.data_dir(), "--out", backup});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  submit("b01-two@example.com");
  submit("b01-three@example.com");
  ASSERT_EQ(admin->Post(admin->Base() + "/audit/checkpoint", Json::object()).status, 200);
  EXPECT_EQ(server.Get("/healthz").Body().value("audit", ""), "ok");
  ASSERT_EQ(server.Stop(), 0);

  if (PgTestCluster().empty()) {
    const std::string data = server.data_dir() + "/store/data.db";
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(data + suffix);
    fs::copy_file(backup, data, fs::copy_options::overwrite_existing);
  } else {
    // The operator's restore of the dump: the schema dropped, then pg_restore.
    RunResult dropped = PsqlData(server.data_dir(), "DROP SCHEMA \"" +
                                                        SchemaFor(server.data_dir()) +
                                                        "\" CASCADE;");
    ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
    RunResult restored =
        RunProgram({"pg_restore", "--dbname=" + ClusterConninfo("dovira_data"), backup});
    ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  }
  ASSERT_EQ(server.Start(), "");
  EXPECT_EQ(server.Get("/healthz").Body().value("audit", ""), "tail_missing");
  EXPECT_NE(server.stderr_text().find("error: the audit log of school vkluchi_zhizn is tail_missing"),
            std::string::npos)
      << server.stderr_text();
  // The server works on.
  submit("b01-four@example.com");
}

// ======================================================================================
// R101: visit statistics of a school's site, kept only depersonalised
// ======================================================================================
class Visits : public SharedServerTest {};

TEST_F(Visits, R101_AVisitFrom203_0_113_5IsStoredAsItsNetworkAndIdentifiersAreDropped) {
  const std::string path = SchoolPath(kS4) + "/visits";
  Response r = server().Post(
      path, Json{{"ip", "203.0.113.5"},
                 {"user_agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
                                "Firefox/128.0"},
                 {"page", "/masterclass?email=olena%40ukr.net"},
                 {"referrer", "https://www.google.com/search?q=masterclass"},
                 {"email", "olena.koval@ukr.net"},
                 {"account_id", "acc-5512"}});
  ASSERT_EQ(r.status, 201) << r.Describe();
  const Json j = r.Body();
  EXPECT_EQ(j["stored"]["network"], "203.0.113.0/24");
  EXPECT_EQ(j["stored"]["browser"], "firefox");
  EXPECT_EQ(j["stored"]["os"], "linux");
  EXPECT_EQ(j["stored"]["page"], "/masterclass");
  EXPECT_EQ(j["stored"]["referrer_domain"], "www.google.com");
  EXPECT_EQ(StringSet(j["dropped"]), (std::set<std::string>{"email", "account_id"}));
  EXPECT_EQ(r.body.find("olena"), std::string::npos);
  EXPECT_EQ(r.body.find("acc-5512"), std::string::npos);
  EXPECT_EQ(r.body.find("203.0.113.5"), std::string::npos);
  // A page path that is itself an address is refused, naming the field, in the reader's language.
  Response bad = server().Post(path + "?lang=en", Json{{"page", "/u/olena.koval@ukr.net"}});
  EXPECT_EQ(bad.status, 400) << bad.Describe();
  EXPECT_EQ(bad.Body()["error"].value("field", ""), "page");
  EXPECT_EQ(bad.body.find("olena"), std::string::npos);
  // An unknown member is refused as in every route.
  EXPECT_EQ(server().Post(path, Json{{"page", "/"}, {"colour", "blue"}}).status, 400);
}

TEST_F(Visits, R101_StaffReadCountsThatAddUpAndTheStatisticsAreNotPublic) {
  const std::string path = SchoolPath(kS4) + "/visits";
  Response first = server().Post(path, Json{{"ip", "192.0.2.10"}, {"page", "/"}});
  ASSERT_EQ(first.status, 201) << first.Describe();
  const std::string day = first.Body()["stored"]["day"];
  StaffClient& admin = Admin(kS4);
  const std::string stats = admin.Base() + "/visits/stats?from=" + day + "&to=" + day;
  Response before = admin.Get(stats);
  ASSERT_EQ(before.status, 200) << before.Describe();
  for (const char* ip : {"192.0.2.11", "192.0.2.12", "198.51.100.7"}) {
    ASSERT_EQ(server().Post(path, Json{{"ip", ip}, {"page", "/prices"}}).status, 201);
  }
  Response after = admin.Get(stats);
  ASSERT_EQ(after.status, 200) << after.Describe();
  const Json a = after.Body(), b = before.Body();
  EXPECT_EQ(a["total"].get<int64_t>() - b["total"].get<int64_t>(), 3);
  EXPECT_EQ(a["pages"]["/prices"].get<int64_t>() - b["pages"].value("/prices", 0), 3);
  int64_t hours = 0;
  for (const auto& n : a["by_hour"]) hours += n.get<int64_t>();
  EXPECT_EQ(hours, a["total"].get<int64_t>());
  EXPECT_EQ(a["by_day"][day], a["total"]);
  EXPECT_EQ(server().Get(stats).status, 401);
  EXPECT_EQ(admin.Get(admin.Base() + "/visits/stats?from=" + day + "&to=yesterday").status, 400);
}

// ======================================================================================
// R91: pseudonymised test data, out of one data directory and into a test environment's
// ======================================================================================
TEST(TestDataCommands, R91_AnExportHoldsNoRealValueAndOnlyAPseudonymisedOneLoadsIntoTest) {
  TestServer server(ServerOptions{{"003"}, "2025-03-03T09:00:00Z", "admin@test.local", {}, {}});
  ASSERT_EQ(server.Start(), "");
  const Json form = {{"fields",
                      {{"first_name", "Svitozara"},
                       {"last_name", "Kvitchenko"},
                       {"email", "svitozara.kvitchenko@ukr.net"},
                       {"phone", "+380 63 918 2745"},
                       {"date_of_birth", "1994-11-23"}}},
                     {"accept_policy", true},
                     {"lang", "uk"}};
  Response r = server.Post(SchoolPath(kS3) + "/forms/registration/submissions", form);
  ASSERT_EQ(r.status, 201) << r.Describe();
  const std::string subject = r.Body().value("subject", "");
  ASSERT_EQ(server.Stop(), 0);

  const std::string root = MakeTempDir();
  RunResult inside = RunDovira({"testdata", "export", "--data", server.data_dir(), "--out",
                                root + "/export", "--key-out", root + "/export/key.json"});
  EXPECT_EQ(inside.exit_code, 2) << inside.out << inside.err;
  EXPECT_NE(inside.err.find("--key-out"), std::string::npos) << inside.err;
  RunResult out = RunDovira({"testdata", "export", "--data", server.data_dir(), "--out",
                             root + "/export", "--key-out", root + "/export.key"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_NE(out.out.find("1 subjects"), std::string::npos) << out.out;
  for (const auto& e : fs::directory_iterator(root + "/export")) {
    const std::string text = Slurp(e.path().string());
    for (const std::string& real : std::vector<std::string>{
             "Svitozara", "Kvitchenko", "svitozara.kvitchenko@ukr.net", "918 2745",
             "380639182745", "1994-11-23", subject}) {
      EXPECT_EQ(text.find(real), std::string::npos) << e.path() << " holds " << real;
    }
  }
  EXPECT_EQ(fs::status(root + "/export.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  const std::string target = root + "/test-data";
  RunResult loaded = RunDovira({"testdata", "import", "--data", target, "--policy",
                                PolicyPath("003"), "--in", root + "/export", "--environment",
                                "test"});
  EXPECT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
  EXPECT_NE(loaded.out.find("1 subjects"), std::string::npos) << loaded.out;
  // The same export marked as not pseudonymised is refused, and so is an environment not test.
  const std::string manifest = root + "/export/manifest.json";
  Json m = Json::parse(Slurp(manifest));
  m["pseudonymised"] = false;
  std::ofstream(manifest, std::ios::trunc) << m.dump();
  RunResult refused = RunDovira({"testdata", "import", "--data", root + "/other", "--policy",
                                 PolicyPath("003"), "--in", root + "/export", "--environment",
                                 "test"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("not marked pseudonymised"), std::string::npos) << refused.err;
  RunResult production = RunDovira({"testdata", "import", "--data", root + "/prod", "--policy",
                                    PolicyPath("003"), "--in", root + "/export", "--environment",
                                    "production"});
  EXPECT_EQ(production.exit_code, 1);
  fs::remove_all(root);
}

}  // namespace
}  // namespace dovira::testing
