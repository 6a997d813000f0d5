// The one error mapping at the API's edge, against the real store: a store that runs out of room
// answers 503 with a stable code and a plain sentence, and the detail (file, SQLite's words) goes
// to the log with the request id, never to the client.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>

#include "adapters/crypto/key_provider.h"
#include "adapters/crypto/sodium_crypto.h"
#include "adapters/sqlite/sqlite_store.h"
#include "api/api.h"
#include "api/http_util.h"
#include "i18n/i18n.h"
#include "services/gate_loader.h"

namespace dovira::api {
namespace {

namespace fs = std::filesystem;

std::string ReadPolicy(const std::string& name) {
  std::ifstream in(std::string(DOVIRA_SOURCE_DIR) + "/policies/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Everything `dovira serve` wires for the intake, over a store in `dir` capped at `max_pages`
// pages of data.db (0: none).
struct Stack {
  Stack(const std::string& dir, int64_t max_pages)
      : crypto(std::move(*crypto::SodiumCrypto::Create())),
        store(Open(dir + "/store", max_pages, *crypto)),
        keys(*crypto, dir + "/keys", std::nullopt),
        clock(Timestamp(std::chrono::seconds(1740992400))),  // 2025-03-03T09:00:00Z
        deps{*store, *crypto, keys, clock},
        schools(deps),
        audit(deps),
        subjects(deps, schools, audit),
        consents(deps, schools, subjects, audit),
        access(deps, schools, subjects, audit),
        loader(subjects, nullptr, nullptr, nullptr),
        staff(deps, schools, audit) {
    auto school = schools.Load(ReadPolicy("001_vkluchi_zhizn.toml"), "001");
    EXPECT_TRUE(school.ok()) << school.error().message;
    if (school.ok()) loader.Install(**school, 1000);
  }
  static std::unique_ptr<sqlite::SqliteStore> Open(const std::string& dir, int64_t max_pages,
                                                   ports::Crypto& crypto) {
    sqlite::SqliteOptions o;
    o.max_data_pages = max_pages;
    auto s = sqlite::SqliteStore::Open(dir, o);
    EXPECT_TRUE(s.ok()) << s.error().message;
    (*s)->SetAuditChainer(services::AuditLog::Chainer(crypto));
    return std::move(*s);
  }

  std::unique_ptr<crypto::SodiumCrypto> crypto;
  std::unique_ptr<sqlite::SqliteStore> store;
  crypto::KeyRingProvider keys;
  ManualClock clock;
  services::Deps deps;
  services::Schools schools;
  services::AuditLog audit;
  services::SubjectService subjects;
  services::ConsentService consents;
  services::DataAccessService access;
  services::GateLoader loader;  // the subjects' gate states load on their first use
  services::StaffService staff;
};

ports::HttpResponse Call(Api& api, const std::string& path, const Json& body,
                         const std::string& request_id, const std::string& api_key = {}) {
  ports::HttpRequest req;
  req.method = "POST";
  req.target = req.path = path;
  req.headers = {{"content-type", "application/json"}, {"host", "127.0.0.1"}};
  if (!api_key.empty()) req.headers["authorization"] = "Bearer " + api_key;
  req.body = body.dump();
  req.remote_address = "203.0.113.9";
  req.request_id = request_id;
  std::promise<ports::HttpResponse> done;
  auto answer = done.get_future();
  api.Handle(std::move(req), [&done](ports::HttpResponse&& r) { done.set_value(std::move(r)); });
  return answer.get();
}

TEST(ErrorResponse, A_FullDataStoreAnswers503WithoutFileTableOrLibraryWordsAndLogsTheDetail) {
  std::string pattern = ::testing::TempDir() + "dovira_api_errors_XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::string dir = pattern;
  int64_t pages = 0;
  {
    Stack first(dir, 0);  // the school and its policy, stored without a cap
  }
  pages = static_cast<int64_t>(fs::file_size(dir + "/store/data.db") / 4096);
  ASSERT_GT(pages, 0);

  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "error_log_test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_pattern("%l %v");
  spdlog::set_default_logger(logger);
  ports::HttpResponse full;
  std::string full_id;
  {
    Stack stack(dir, pages + 8);
    ApiOptions options;
    options.worker_threads = 2;
    options.access_log = false;  // the detail is logged without the access log too
    Api api(ApiServices{stack.schools, stack.subjects, stack.consents, stack.access, stack.staff,
                        stack.audit, stack.clock},
            options);
    for (int i = 0; i < 2000 && full.status != 503; ++i) {
      full_id = "req-full-" + std::to_string(i);
      Json body = {{"fields",
                    {{"first_name", "Olena"},
                     {"last_name", "Shevchenko"},
                     {"email", "olena" + std::to_string(i) + "@example.com"},
                     {"mobile_phone", "+380671234567"},
                     {"home_address", "Kyiv, Khreshchatyk 1"},
                     {"purchased_service", "Course: Breathing"},
                     {"purchase_amount", "1200.00"}}},
                   {"accept_policy", true},
                   {"age_statement", "adult"},
                   {"consents", {"pd_consent"}}};
      full = Call(api, "/v1/schools/vkluchi_zhizn/forms/payment/submissions", body, full_id);
      ASSERT_TRUE(full.status == 201 || full.status == 503) << full.status << " " << full.body;
    }
  }
  spdlog::set_default_logger(previous);
  ASSERT_EQ(full.status, 503) << "the store never filled up";

  const Json body = Json::parse(full.body);
  EXPECT_EQ(body["error"].value("code", ""), "unavailable") << full.body;
  EXPECT_FALSE(body["error"].value("message", "").empty());
  for (const char* word : {"data.db", "keys.db", "sqlite", "SQLite", "disk", "full", "records",
                           "subjects", "audit", "table"}) {
    EXPECT_EQ(full.body.find(word), std::string::npos) << word << " in " << full.body;
  }
  const std::string log = captured.str();
  size_t line = log.find("\"request_id\":\"" + full_id + "\"");
  ASSERT_NE(line, std::string::npos) << log;
  const std::string text = log.substr(log.rfind('\n', line) + 1,
                                      log.find('\n', line) - log.rfind('\n', line) - 1);
  EXPECT_EQ(text.rfind("error {", 0), 0u) << text;
  EXPECT_NE(text.find("database or disk is full"), std::string::npos) << text;
  EXPECT_NE(text.find("data.db"), std::string::npos) << text;
  EXPECT_NE(text.find("\"status\":503"), std::string::npos) << text;

  std::error_code ec;
  fs::remove_all(dir, ec);
}

// ---- B12: the purpose gate fails closed ----------------------------------------------------

constexpr char kProcess[] = "/v1/schools/vkluchi_zhizn/process";

Json PaymentBody(const std::string& email) {
  return {{"fields",
           {{"first_name", "Olena"},
            {"last_name", "Shevchenko"},
            {"email", email},
            {"mobile_phone", "+380671234567"},
            {"home_address", "Kyiv, Khreshchatyk 1"},
            {"purchased_service", "Course: Breathing"},
            {"purchase_amount", "1200.00"}}},
          {"accept_policy", true},
          {"age_statement", "adult"},
          {"consents", {"pd_consent"}}};
}

// A data directory with one learner of policy 001 and an API key of its support role, which may
// state contract_performance; the stack that made them is closed again.
struct Prepared {
  std::string dir, subject, key;
};

Prepared Prepare(const std::string& name) {
  std::string pattern = ::testing::TempDir() + name + "_XXXXXX";
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  Prepared p{pattern, {}, {}};
  Stack stack(p.dir, 0);
  Api api(ApiServices{stack.schools, stack.subjects, stack.consents, stack.access, stack.staff,
                      stack.audit, stack.clock},
          ApiOptions{});
  ports::HttpResponse made = Call(api, "/v1/schools/vkluchi_zhizn/forms/payment/submissions",
                                  PaymentBody("olena.b12@example.com"), "req-intake");
  EXPECT_EQ(made.status, 201) << made.body;
  p.subject = Json::parse(made.body).value("subject", "");
  auto key = stack.staff.CreateApiKey(SchoolId("vkluchi_zhizn"), "b12", "support",
                                      {"contract_performance"},
                                      services::Actor::System("test"), {});
  EXPECT_TRUE(key.ok()) << key.error().message;
  if (key.ok()) p.key = key->key;
  return p;
}

Json ProcessBody(const std::string& subject) {
  return {{"subject", subject}, {"purpose", "contract_performance"}};
}

// B12: the policy a school runs under is swapped only when the new text loads; a text that does
// not (broken, or changed under a version id already published) leaves the compiled policy in
// force, and the gate keeps deciding by it.
TEST(GateFailsClosed, B12_AReloadThatFailsKeepsThePolicyInForce) {
  const Prepared p = Prepare("dovira_b12_reload");
  Stack stack(p.dir, 0);
  Api api(ApiServices{stack.schools, stack.subjects, stack.consents, stack.access, stack.staff,
                      stack.audit, stack.clock},
          ApiOptions{});
  auto rt = stack.schools.Get(SchoolId("vkluchi_zhizn"));
  ASSERT_TRUE(rt.ok());
  const auto before = (*rt)->policy();
  const std::string version = (*rt)->version();
  ASSERT_EQ(Call(api, kProcess, ProcessBody(p.subject), "req-before", p.key).status, 200);

  const std::string text = ReadPolicy("001_vkluchi_zhizn.toml");
  // Not TOML: a string left open at the end of a line (a malformed table header such as "[[["
  // trips an assertion inside toml++ in builds with assertions on).
  auto broken = stack.schools.Load(text + "\nbroken_value = \"unterminated\n", "broken.toml");
  EXPECT_FALSE(broken.ok());
  std::string changed = text;
  changed.replace(changed.find("[roles.support]"), 15, "[roles.support_desk]");
  auto same_version = stack.schools.Load(changed, "changed.toml");
  EXPECT_FALSE(same_version.ok());

  EXPECT_EQ((*rt)->policy(), before);
  EXPECT_EQ((*rt)->version(), version);
  ports::HttpResponse after = Call(api, kProcess, ProcessBody(p.subject), "req-after", p.key);
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(Json::parse(after.body).value("allowed", false));
  std::error_code ec;
  fs::remove_all(p.dir, ec);
}

// B12: with no policy in force the gate cannot decide, so /process answers 503 with the reason
// gate_unavailable and a sentence that says the use is not allowed, and allows nothing.
TEST(GateFailsClosed, B12_WithoutAPolicyInForceProcessingAnswers503AndIsDenied) {
  const Prepared p = Prepare("dovira_b12_nopolicy");
  Stack stack(p.dir, 0);
  Api api(ApiServices{stack.schools, stack.subjects, stack.consents, stack.access, stack.staff,
                      stack.audit, stack.clock},
          ApiOptions{});
  auto rt = stack.schools.Get(SchoolId("vkluchi_zhizn"));
  ASSERT_TRUE(rt.ok());
  (*rt)->set_policy(nullptr);
  ports::HttpResponse r = Call(api, kProcess, ProcessBody(p.subject), "req-nopolicy", p.key);
  EXPECT_EQ(r.status, 503) << r.body;
  const Json body = Json::parse(r.body);
  EXPECT_FALSE(body.contains("allowed")) << r.body;
  EXPECT_EQ(body["error"].value("code", ""), "gate_unavailable") << r.body;
  EXPECT_EQ(body["error"].value("message", ""),
            i18n::Text(i18n::Lang::kUk, "api.gate_unavailable"));
  // The refusal is on record like any decision.
  bool audited = false;
  ASSERT_TRUE(stack.store
                  ->ForEachAudit(SchoolId("vkluchi_zhizn"), 0,
                                 [&](const ports::AuditRow& e) {
                                   audited = audited || (e.action.rfind("gate.", 0) == 0 &&
                                                         e.outcome == "deny" &&
                                                         e.reason == "gate_unavailable");
                                   return true;
                                 })
                  .ok());
  EXPECT_TRUE(audited);
  std::error_code ec;
  fs::remove_all(p.dir, ec);
}

// B12: no audit entry, no processing. Once the store refuses to write (data.db may not grow),
// /process answers 503 gate_unavailable, never 200; and every use it did allow before has its
// entry in the audit log.
TEST(GateFailsClosed, B12_AStoreThatRefusesWritesAnswers503AndAllowsNothingUnrecorded) {
  const Prepared p = Prepare("dovira_b12_store");
  const int64_t pages = static_cast<int64_t>(fs::file_size(p.dir + "/store/data.db") / 4096);
  ASSERT_GT(pages, 0);
  Stack stack(p.dir, pages);
  Api api(ApiServices{stack.schools, stack.subjects, stack.consents, stack.access, stack.staff,
                      stack.audit, stack.clock},
          ApiOptions{});
  int allowed = 0;
  ports::HttpResponse r;
  for (int i = 0; i < 5000 && r.status != 503; ++i) {
    r = Call(api, kProcess, ProcessBody(p.subject), "req-" + std::to_string(i), p.key);
    ASSERT_TRUE(r.status == 200 || r.status == 503) << r.status << " " << r.body;
    if (r.status == 200) ++allowed;
  }
  ASSERT_EQ(r.status, 503) << "the store never refused a write";
  const Json body = Json::parse(r.body);
  EXPECT_FALSE(body.contains("allowed")) << r.body;
  EXPECT_EQ(body["error"].value("code", ""), "gate_unavailable") << r.body;
  // Still refused while the store refuses; nothing was allowed without its entry.
  EXPECT_EQ(Call(api, kProcess, ProcessBody(p.subject), "req-again", p.key).status, 503);
  int recorded = 0;
  ASSERT_TRUE(stack.store
                  ->ForEachAudit(SchoolId("vkluchi_zhizn"), 0,
                                 [&](const ports::AuditRow& e) {
                                   if (e.action.rfind("gate.", 0) == 0 && e.outcome == "allow") {
                                     ++recorded;
                                   }
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(recorded, allowed);
  std::error_code ec;
  fs::remove_all(p.dir, ec);
}

// Other kinds keep their client-facing messages; only unreachable dependencies and broken
// invariants are replaced.
TEST(ErrorResponse, KeepsTheMessageOfOtherKindsAndHidesUnavailableAndInternalDetail) {
  ports::HttpResponse refused =
      ErrorResponse(Error::Refused("field_undeclared", "the policy declares no field \"x\"", "x"));
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("the policy declares no field"), std::string::npos);
  EXPECT_TRUE(refused.log_detail.empty());
  ports::HttpResponse unavailable =
      ErrorResponse(Error::Unavailable("data.db: cannot commit: database or disk is full"));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.body.find("data.db"), std::string::npos) << unavailable.body;
  EXPECT_NE(unavailable.log_detail.find("data.db: cannot commit"), std::string::npos);
  ports::HttpResponse internal = ErrorResponse(Error{ErrorCode::kInternal, "request body is not JSON", {}, {}});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("JSON"), std::string::npos) << internal.body;
  EXPECT_NE(internal.log_detail.find("request body is not JSON"), std::string::npos);
}

// Issue 12: the message a person reads comes from the catalogue in their language, never the
// English operator message; a code the catalogue lacks gets the generic text of its kind.
TEST(ErrorMessages, AreTheCataloguesInTheReadersLanguageNeverTheOperatorsText) {
  ports::HttpResponse r = ErrorResponse(
      Error::Refused("policy_not_accepted", "the privacy policy must be accepted", "accept_policy"));
  LocaliseError(r, ErrorReader{i18n::Lang::kRu, nullptr});
  Json body = Json::parse(r.body);
  EXPECT_EQ(body["error"]["message"], i18n::Text(i18n::Lang::kRu, "api.policy_not_accepted"));
  EXPECT_EQ(body["error"]["code"], "policy_not_accepted");
  EXPECT_EQ(body["error"]["field"], "accept_policy");
  EXPECT_EQ(body["errors"].size(), 1u);

  ports::HttpResponse unknown =
      ErrorResponse(Error::Refused("not_in_the_catalogue", "an English operator message"));
  LocaliseError(unknown, ErrorReader{i18n::Lang::kUk, nullptr});
  body = Json::parse(unknown.body);
  EXPECT_EQ(body["error"]["code"], "not_in_the_catalogue");
  EXPECT_EQ(body["error"]["message"], i18n::Text(i18n::Lang::kUk, "api.generic_refused"));
  EXPECT_EQ(unknown.body.find("English operator"), std::string::npos);

  // Several problems: each localised, the first also as `error`; a limit filled in; a field the
  // reader has no title for is "this field".
  Error first = Error::Refused("field_invalid", "too long", "nickname")
                    .With("field", "nickname")
                    .With("variant", "too_long")
                    .With("max", "64");
  ports::HttpResponse both = ErrorResponse(
      Error::Combine({first, Error::Refused("policy_not_accepted", "accept it", "accept_policy")}));
  LocaliseError(both, ErrorReader{i18n::Lang::kEn, nullptr});
  body = Json::parse(both.body);
  ASSERT_EQ(body["errors"].size(), 2u);
  EXPECT_EQ(body["error"], body["errors"][0]);
  EXPECT_EQ(body["errors"][0]["message"], "This field may be at most 64 characters long.");
  EXPECT_EQ(body["errors"][0]["args"]["max"], "64");
  EXPECT_EQ(body["errors"][1]["message"], i18n::Text(i18n::Lang::kEn, "api.policy_not_accepted"));
  // A success is left alone.
  ports::HttpResponse ok = JsonResponse(200, Json{{"error", {{"code", "x"}}}});
  const std::string before = ok.body;
  LocaliseError(ok, ErrorReader{i18n::Lang::kUk, nullptr});
  EXPECT_EQ(ok.body, before);
}

}  // namespace
}  // namespace dovira::api
