// Fuzz target: the JSON body of every route, through the real application. Once, it opens the
// application (app::App, policies/001 on a fake clock, in a temporary data directory), starts its
// API, and signs in a staff member of a privileged role (briefed, TOTP enrolled) and makes an API
// key of that role with every purpose, and signs a subject (the payment form) in to the personal
// cabinet with the code it was e-mailed. Per input, the first byte picks a route from the router's
// table, the second the credentials (on a cabinet route the subject's session, else the staff
// session with its CSRF token or the API key; or none)
// and the rest is the body, sent as application/json through Api::Handle, the entry point the HTTP
// adapter calls; the target waits for the response. A 500, a status outside 200-599, a dropped
// responder or an exception ends the run as a crash.
//
// Routes that would take the fuzzer's own credentials or clock away (the two sign-outs, password
// change, leaving, revoking keys, moving the fake clock) are left out; every other route is fuzzed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/crypto/sodium_crypto.h"
#include "api/api.h"
#include "app/app.h"
#include "common/clock.h"
#include "services/outbox.h"
#include "services/staff.h"
#include "../tests/codec.h"

namespace {

namespace fs = std::filesystem;
using namespace dovira;
using dovira::testing::Base32Decode;
using dovira::testing::Base64Decode;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "api_body_fuzz: %s\n", what.c_str());
  std::abort();
}

class MemoryWriter : public ports::HttpBodyWriter {
 public:
  bool Write(std::string chunk) override {
    body.append(chunk);
    return true;
  }
  std::string body;
};

// Sends the request through Api::Handle and waits for its response (its stream, if any, run into
// the body). A dropped responder, an exception or no answer within a minute is a crash.
ports::HttpResponse Send(api::Api& api, ports::HttpRequest req, const std::string& where) {
  struct Pending {
    std::promise<ports::HttpResponse> promise;
    std::atomic<bool> answered{false};
    ~Pending() {
      if (!answered.exchange(true)) {
        ports::HttpResponse dropped;
        dropped.status = -1;
        promise.set_value(std::move(dropped));
      }
    }
  };
  auto pending = std::make_shared<Pending>();
  std::future<ports::HttpResponse> answer = pending->promise.get_future();
  try {
    api.Handle(std::move(req), [pending](ports::HttpResponse&& r) {
      if (!pending->answered.exchange(true)) pending->promise.set_value(std::move(r));
    });
  } catch (const std::exception& e) {
    Fail(where + ": Handle threw " + e.what());
  }
  pending.reset();
  if (answer.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    Fail(where + ": no response within 60 s");
  }
  ports::HttpResponse response = answer.get();
  if (response.status == -1) Fail(where + ": the responder was dropped unanswered");
  if (response.stream) {
    MemoryWriter writer;
    (void)response.stream(writer);
    response.stream = nullptr;
    response.body = std::move(writer.body);
  }
  return response;
}

ports::HttpRequest JsonRequest(const std::string& method, const std::string& path,
                               const std::string& body) {
  ports::HttpRequest req;
  req.method = method;
  req.path = path;
  req.target = path;
  req.headers["host"] = "localhost";
  req.headers["content-type"] = "application/json";
  req.headers["content-length"] = std::to_string(body.size());
  req.remote_address = "127.0.0.1";
  req.request_id = "fuzz-setup";
  req.body = body;
  return req;
}

// The six-digit code of the newest message in the mail directory: the base64 text parts decoded,
// then the first ": dddddd".
std::string MailedCode(const std::string& mail_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(mail_dir)) {
    if (e.path().extension() == ".eml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    std::ifstream in(*it, std::ios::binary);
    const std::string eml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = 0;
    while ((at = eml.find("Content-Transfer-Encoding: base64\r\n\r\n", at)) != std::string::npos) {
      at += 37;
      const size_t end = eml.find("\r\n\r\n", at);
      const std::string text = Base64Decode(eml.substr(at, end - at));
      std::smatch found;
      if (std::regex_search(text, found, std::regex(R"(: (\d{6}))"))) return found[1].str();
    }
  }
  return "";
}

struct Fixture {
  std::string dir;
  std::unique_ptr<app::App> app;
  api::Api* api = nullptr;
  std::string school;
  std::string session_token;
  std::string csrf_token;
  std::string api_key;
  std::string subject_cookie;  // a cabinet session of a subject, with its CSRF token
  std::string subject_csrf;
  std::vector<size_t> routes;  // indices into the router's table
};

// Every route but those that would end the fuzzer's own session, key or clock.
bool Fuzzed(const api::Route& route) {
  for (const char* left_out : {"/v1/auth/logout", "/v1/auth/password", "/v1/_test/clock"}) {
    if (route.pattern == left_out) return false;
  }
  if (route.pattern.find("/me/sign-out") != std::string::npos) return false;
  if (route.pattern.find("/leave") != std::string::npos) return false;
  if (route.method == "DELETE" && route.pattern.find("/api-keys/") != std::string::npos) {
    return false;
  }
  return true;
}

Fixture& Setup() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    char templ[] = "/tmp/dovira-api-fuzz-XXXXXX";
    if (::mkdtemp(templ) == nullptr) Fail("mkdtemp");
    fx->dir = templ;
    std::atexit([] { fs::remove_all(Setup().dir); });

    app::AppOptions options;
    options.data_dir = fx->dir + "/data";
    options.policy_files = {std::string(DOVIRA_SOURCE_DIR) + "/policies/001_vkluchi_zhizn.toml"};
    Timestamp start;
    std::string err;
    if (!ParseTimestamp("2025-03-03T09:00:00Z", &start, &err)) Fail(err);
    options.fake_clock = start;
    options.reader_connections = 4;
    options.mail_dir = fx->dir + "/mail";
    fs::create_directories(options.mail_dir);
    auto opened = app::App::Open(options);
    if (!opened.ok()) Fail("App::Open: " + opened.error().message);
    fx->app = std::move(*opened);

    app::ServeOptions serve;
    serve.port = 0;
    serve.io_threads = 1;
    serve.worker_threads = 4;
    serve.secure_cookies = false;
    serve.access_log = false;
    if (Status st = fx->app->Serve(serve); !st.ok()) Fail("Serve: " + st.error().message);
    fx->api = fx->app->api();

    const SchoolId school = fx->app->schools().List().front();
    fx->school = school.value();
    auto runtime = fx->app->schools().Get(school);
    if (!runtime.ok()) Fail("no school");
    const policy::Policy& policy = (*runtime)->policy()->policy();
    std::string role;
    for (const auto& [id, r] : policy.roles) {
      if (r.privileged) {
        role = id;
        break;
      }
    }
    if (role.empty()) Fail("policy 001 has no privileged role");
    std::vector<std::string> purposes;
    for (const auto& [id, p] : policy.purposes) purposes.push_back(id);

    services::StaffService& staff = fx->app->staff();
    const services::RequestContext ctx{"fuzz-setup", "127.0.0.1", "fuzz"};
    const std::string password = "Fuzzing-passphrase-for-the-api-2025";
    auto created = staff.Create(school, "Fuzz Officer", "fuzz.officer@school.test", role, password,
                                services::Actor::System("fuzz"), ctx,
                                services::StaffService::InitialPassword::kChosenByHolder);
    if (!created.ok()) Fail("staff: " + created.error().message);
    (void)staff.RecordBriefing(school, created->id, services::Actor::System("fuzz"), ctx);
    auto login = staff.Login(school, "fuzz.officer@school.test", password, "", ctx);
    if (!login.ok()) Fail("login: " + login.error().message);
    fx->session_token = login->session_token;
    fx->csrf_token = login->session.csrf_token;
    if (login->session.mfa_required && !login->session.mfa_passed) {
      auto enrol = staff.BeginTotp(login->session);
      if (!enrol.ok()) Fail("totp: " + enrol.error().message);
      auto crypto = crypto::SodiumCrypto::Create();
      if (!crypto.ok()) Fail("crypto");
      const std::string code =
          (*crypto)->TotpCode(Base32Decode(enrol->secret_base32), fx->app->clock().Now());
      if (auto st = staff.ConfirmTotp(fx->session_token, code, ctx); !st.ok()) {
        Fail("totp confirm: " + st.error().message);
      }
    }
    auto key = staff.CreateApiKey(school, "fuzz", role, purposes, services::Actor::System("fuzz"),
                                  ctx);
    if (!key.ok()) Fail("api key: " + key.error().message);
    fx->api_key = key->key;

    // A subject (the payment form of 001) signed in to the cabinet with the code e-mailed.
    const std::string base = "/v1/schools/" + fx->school;
    const std::string email = "fuzz.subject@example.com";
    ports::HttpResponse submitted = Send(
        *fx->api,
        JsonRequest("POST", base + "/forms/payment/submissions",
                    R"({"fields":{"first_name":"Olena","email":")" + email +
                        R"(","mobile_phone":"+380671234567","purchased_service":"Course",)"
                        R"("purchase_amount":"1200"},"consents":["pd_consent"],)"
                        R"("accept_policy":true,"age_statement":"adult"})"),
        "setup: submission");
    if (submitted.status != 201) Fail("setup: submission: " + submitted.body);
    ports::HttpResponse begun =
        Send(*fx->api, JsonRequest("POST", base + "/me/sign-in", R"({"email":")" + email + R"("})"),
             "setup: sign-in");
    if (begun.status != 202) Fail("setup: sign-in: " + begun.body);
    const std::string login_id = nlohmann::json::parse(begun.body).value("login", "");
    (void)fx->app->outbox().DeliverDue();
    const std::string code = MailedCode(options.mail_dir);
    if (code.empty()) Fail("setup: no sign-in code in " + options.mail_dir);
    ports::HttpResponse verified = Send(
        *fx->api,
        JsonRequest("POST", base + "/me/sign-in/verify",
                    nlohmann::json{{"login", login_id}, {"code", code}}.dump()),
        "setup: verify");
    if (verified.status != 200) Fail("setup: verify: " + verified.body);
    for (const auto& [name, value] : verified.headers) {
      if (name == "Set-Cookie" && value.rfind("dovira_me=", 0) == 0) {
        fx->subject_cookie = value.substr(0, value.find(';'));
      }
    }
    fx->subject_csrf = nlohmann::json::parse(verified.body).value("csrf_token", "");
    if (fx->subject_cookie.empty() || fx->subject_csrf.empty()) Fail("setup: no cabinet session");

    const auto& table = fx->api->router().routes();
    for (size_t i = 0; i < table.size(); ++i) {
      if (Fuzzed(table[i])) fx->routes.push_back(i);
    }
    return fx;
  }();
  return *f;
}

// The route's path with {school} the school served and every other parameter a fixed value.
std::string PathOf(const api::Route& route, const std::string& school) {
  std::string path;
  for (const std::string& segment : route.segments) {
    path += "/";
    if (segment.size() > 1 && segment.front() == '{') {
      path += segment == "{school}" ? school : "x1";
    } else {
      path += segment;
    }
  }
  return path.empty() ? "/" : path;
}

// An example of a JSON schema fragment from the route's OpenAPI document: every property filled.
nlohmann::json Example(const nlohmann::json& schema) {
  if (!schema.is_object()) return "x";
  const std::string type = schema.contains("type") && schema["type"].is_string()
                               ? schema["type"].get<std::string>()
                               : "";
  if (type == "object") {
    nlohmann::json out = nlohmann::json::object();
    if (schema.contains("properties") && schema["properties"].is_object()) {
      for (const auto& [key, sub] : schema["properties"].items()) out[key] = Example(sub);
    }
    return out;
  }
  if (type == "array") {
    return nlohmann::json::array({Example(schema.contains("items") ? schema["items"] : nlohmann::json())});
  }
  if (type == "boolean") return true;
  if (type == "integer" || type == "number") return 1;
  return "x";
}

// DOVIRA_FUZZ_WRITE_SEEDS=DIR: writes one seed per fuzzed route and credential (its documented
// request body, every member filled) into DIR; fuzz/corpus/api_body was made so.
void WriteSeeds(const Fixture& fx, const std::string& dir) {
  fs::create_directories(dir);
  const auto& table = fx.api->router().routes();
  for (size_t i = 0; i < fx.routes.size(); ++i) {
    const api::Route& route = table[fx.routes[i]];
    const std::string body =
        route.doc.request_schema.is_null() ? "{}" : Example(route.doc.request_schema).dump();
    for (uint8_t mode : {0, 1}) {
      std::string seed;
      seed.push_back(static_cast<char>(i));
      seed.push_back(static_cast<char>(mode));
      seed += body;
      std::FILE* out =
          std::fopen((dir + "/route-" + std::to_string(i) + "-" + std::to_string(mode)).c_str(), "wb");
      if (out == nullptr) Fail("cannot write seeds into " + dir);
      std::fwrite(seed.data(), 1, seed.size(), out);
      std::fclose(out);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Fixture& fx = Setup();
  if (const char* dir = std::getenv("DOVIRA_FUZZ_WRITE_SEEDS")) WriteSeeds(fx, dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Fixture& fx = Setup();
  const api::Route& route = fx.api->router().routes()[fx.routes[data[0] % fx.routes.size()]];
  const uint8_t mode = data[1];
  std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);

  ports::HttpRequest req;
  req.method = route.method;
  req.path = PathOf(route, fx.school);
  req.target = req.path;
  req.headers["host"] = "localhost";
  req.headers["content-type"] = "application/json";
  req.headers["content-length"] = std::to_string(body.size());
  // The credentials: the cabinet session on a subject's route, else the staff session or the API
  // key; or none at all.
  const int credential = mode % 3;
  if (credential != 2 && route.access.Allows(api::Principal::kSubject)) {
    req.headers["cookie"] = fx.subject_cookie;
    req.headers["x-csrf-token"] = fx.subject_csrf;
  } else if (credential == 0) {
    req.headers["cookie"] = "dovira_session=" + fx.session_token;
    req.headers["x-csrf-token"] = fx.csrf_token;
  } else if (credential == 1) {
    req.headers["authorization"] = "Bearer " + fx.api_key;
  }
  // Public routes limit calls per client address; spread the inputs over many addresses.
  static std::atomic<uint32_t> calls{0};
  const uint32_t n = calls.fetch_add(1) & 0xffff;
  req.remote_address = "10.9." + std::to_string(n >> 8) + "." + std::to_string(n & 0xff);
  req.request_id = "fuzz";
  req.body = std::move(body);

  const std::string where = route.method + " " + route.pattern;
  ports::HttpResponse response = Send(*fx.api, std::move(req), where);
  static const bool verbose = std::getenv("DOVIRA_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s -> %d\n", where.c_str(), response.status);
  if (response.status < 200 || response.status > 599 || response.status == 500) {
    Fail(where + ": status " + std::to_string(response.status) + " " +
         response.body.substr(0, 500));
  }
  return 0;
}
