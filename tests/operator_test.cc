// Black-box trust tests against the real `dovira` binary (issue 11):
// - every operator command run on the live data directory of a server under write load loses no
//   acknowledged write, even when the server is then killed with SIGKILL; a backup taken during
//   the load holds every write acknowledged before it started; the audit chain stays verifiable;
// - the commands that must not run beside a server (keys rotate, a second serve) are refused with
//   a clear message and change nothing;
// - numbers no double holds (1e400, -1e400, [1e309]) sent to every route never end the server and
//   never get a 500.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "server.h"

namespace dovira::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kS1[] = "vkluchi_zhizn";  // policies/001_vkluchi_zhizn.toml

// 001's payment form for buyer number `n` (a different e-mail and phone each).
Json Payment001(const std::string& tag, int n) {
  char phone[32];
  std::snprintf(phone, sizeof phone, "+38067%07d", n);
  return Json{{"fields",
               {{"first_name", "Olena"},
                {"email", "buyer-" + tag + "-" + std::to_string(n) + "@example.com"},
                {"mobile_phone", phone},
                {"purchased_service", "Course: Breathing"},
                {"purchase_amount", "1200.00"}}},
              {"accept_policy", true},
              {"age_statement", "adult"},
              {"consents", {"pd_consent"}}};
}

// Form submissions from two client threads until stopped (or 60 s at most), keeping the subject
// id of every submission the server acknowledged (201).
class WriteLoad {
 public:
  WriteLoad(const TestServer& server, std::string tag) : server_(server), tag_(std::move(tag)) {}
  ~WriteLoad() { Stop(); }

  void Start() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int t = 0; t < 2; ++t) {
      threads_.emplace_back([this, give_up] {
        while (!stop_.load() && std::chrono::steady_clock::now() < give_up) {
          const int n = next_.fetch_add(1);
          Response r = server_.Post(std::string("/v1/schools/") + kS1 +
                                        "/forms/payment/submissions",
                                    Payment001(tag_, n));
          if (r.status == 201) {
            std::string id = r.Body().value("subject", "");
            std::lock_guard lock(mu_);
            acknowledged_.push_back(id);
          } else if (r.status != 0) {
            std::lock_guard lock(mu_);
            refused_.push_back(r.Describe());
          }
        }
      });
    }
  }

  void Stop() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  std::vector<std::string> Acknowledged() const {
    std::lock_guard lock(mu_);
    return acknowledged_;
  }
  std::vector<std::string> Refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }
  // Waits until `n` submissions were acknowledged in all; false after 30 s.
  bool WaitFor(size_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Acknowledged().size() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

 private:
  const TestServer& server_;
  const std::string tag_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_{1};
  mutable std::mutex mu_;
  std::vector<std::string> acknowledged_;
  std::vector<std::string> refused_;
  std::vector<std::thread> threads_;
};

// The subject ids of school 001 in a data.db (a live directory's or a backup copy), read by the
// sqlite3 program, not by Dovira.
std::set<std::string> SubjectIdsIn(const std::string& db) {
  RunResult r = RunProgram({"sqlite3", "-readonly", db,
                            std::string("SELECT subject_id FROM subjects WHERE school_id = '") +
                                kS1 + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> ids;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) ids.insert(line);
  }
  return ids;
}

size_t MissingFrom(const std::vector<std::string>& acknowledged, const std::set<std::string>& ids) {
  size_t missing = 0;
  for (const auto& id : acknowledged) missing += ids.count(id) == 0 ? 1 : 0;
  return missing;
}

struct OperatorCommand {
  const char* name;
  // The command's arguments for the data directory `dir`, writing into the scratch `root`.
  std::vector<std::string> (*args)(const std::string& dir, const std::string& root);
};

const OperatorCommand kBesideAServer[] = {
    {"audit_verify",
     [](const std::string& dir, const std::string&) -> std::vector<std::string> {
       return {"audit", "verify", "--data", dir};
     }},
    {"backup",
     [](const std::string& dir, const std::string& root) -> std::vector<std::string> {
       return {"backup", "--data", dir, "--out", root + "/data.bak", "--keys-out",
               root + "/keys.bak"};
     }},
    {"apikey_create",
     [](const std::string& dir, const std::string&) -> std::vector<std::string> {
       return {"apikey", "create", "--data", dir, "--name", "lms", "--role", "support",
               "--purpose", "contract_performance"};
     }},
    {"admin_create",
     [](const std::string& dir, const std::string&) -> std::vector<std::string> {
       return {"admin", "create", "--data", dir, "--email", "second@test.local", "--name",
               "Second Administrator"};
     }},
};

// The totals over every round, printed once at the end for the record.
struct Totals {
  int rounds = 0;
  size_t writes_checked = 0;
};
Totals& CrashTotals() {
  static Totals t;
  return t;
}

class OperatorBesideAServer : public ::testing::TestWithParam<OperatorCommand> {};

// Issue 11, defect 1: serve 001, acknowledged writes, the command on the live directory, more
// acknowledged writes, SIGKILL, restart: every acknowledged write is there, and the chain verifies.
TEST_P(OperatorBesideAServer, LosesNoAcknowledgedWriteThroughAKill) {
  const OperatorCommand& command = GetParam();
  ServerOptions options;
  options.policies = {"001"};
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  const std::string store = server.data_dir() + "/store";

  WriteLoad load(server, command.name);
  load.Start();
  ASSERT_TRUE(load.WaitFor(5)) << "the server acknowledged fewer than 5 submissions";
  const std::vector<std::string> before = load.Acknowledged();
  RunResult run = RunDovira(command.args(server.data_dir(), server.root()));
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(fs::exists(store + "/data.db-wal")) << "the live server's WAL was deleted";
  const size_t after_command = load.Acknowledged().size();
  ASSERT_TRUE(load.WaitFor(after_command + 5)) << "writes stopped after the command";
  EXPECT_EQ(server.Kill(), 128 + SIGKILL);
  load.Stop();
  const std::vector<std::string> acknowledged = load.Acknowledged();
  EXPECT_TRUE(load.Refused().empty()) << load.Refused().front();

  if (std::string(command.name) == "backup") {
    // Everything acknowledged before the backup started is in it.
    std::set<std::string> in_backup = SubjectIdsIn(server.root() + "/data.bak");
    EXPECT_EQ(MissingFrom(before, in_backup), 0u) << "of " << before.size();
  }

  ASSERT_EQ(server.Start(), "");
  EXPECT_EQ(server.Get("/healthz").status, 200);
  std::set<std::string> present = SubjectIdsIn(store + "/data.db");
  EXPECT_EQ(MissingFrom(acknowledged, present), 0u) << "of " << acknowledged.size();
  EXPECT_EQ(server.Stop(), 0);
  RunResult verify = RunDovira({"audit", "verify", "--data", server.data_dir()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.out.rfind("ok: ", 0), 0u) << verify.out;

  CrashTotals().rounds += 1;
  CrashTotals().writes_checked += acknowledged.size();
  std::printf("crash round %s: %zu acknowledged writes checked after SIGKILL (%zu before the "
              "command); totals: %d rounds, %zu writes\n",
              command.name, acknowledged.size(), before.size(), CrashTotals().rounds,
              CrashTotals().writes_checked);
}

INSTANTIATE_TEST_SUITE_P(EveryCommand, OperatorBesideAServer, ::testing::ValuesIn(kBesideAServer),
                         [](const ::testing::TestParamInfo<OperatorCommand>& param) {
                           return std::string(param.param.name);
                         });

// Commands that must not run beside a server are refused with a message naming the server, and
// change nothing: the server goes on, and its writes survive a kill.
// R74, R34: `dovira anonymise` beside the running 004 server writes the research data set of
// the applicants who agreed to research, without any value of a direct identifier, and its
// report; the audit chain still verifies.
TEST(AnonymiseCommand, R74_R34_WritesTheDataSetAndItsReportBesideAServer) {
  ServerOptions options;
  options.policies = {"004"};
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  std::vector<std::string> identifiers;
  for (int i = 0; i < 7; ++i) {
    const std::string n = std::to_string(i);
    Json fields = {{"first_name", "Applicant" + n + "x"},
                   {"last_name", "Surname" + n + "x"},
                   {"email", "applicant" + n + "@example.com"},
                   {"phone", "+38050222000" + n},
                   {"location_city", i < 6 ? "Kyiv" : "Lviv"},
                   {"job_position", "Position " + n}};
    for (const char* f : {"first_name", "last_name", "email", "phone"}) {
      identifiers.push_back(fields[f].get<std::string>());
    }
    Json consents = Json::array({"button_consent"});
    if (i != 3) consents.push_back("research_optin");  // one applicant does not agree
    Response r = server.Post("/v1/schools/bbooster-masterclass/forms/masterclass/submissions",
                             Json{{"fields", fields},
                                  {"consents", consents},
                                  {"accept_policy", true},
                                  {"age_statement", "adult"},
                                  {"country", "UA"}});
    ASSERT_EQ(r.status, 201) << r.Describe();
  }
  const std::string csv_path = server.root() + "/research.csv";
  const std::string report_path = server.root() + "/research.json";
  RunResult run = RunDovira({"anonymise", "--data", server.data_dir(), "--purpose",
                             "ad_targeting_research", "--out", csv_path, "--report", report_path});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("6 records in 1 groups"), std::string::npos) << run.out;
  const std::string csv = Slurp(csv_path);
  EXPECT_EQ(csv.rfind("row,location_city,job_position\r\n", 0), 0u) << csv;
  for (const auto& v : identifiers) EXPECT_EQ(csv.find(v), std::string::npos) << v;
  const Json report = Json::parse(Slurp(report_path));
  EXPECT_EQ(report["records_in"], 6);
  EXPECT_EQ(report["excluded_by_reason"]["no_consent"], 1);
  EXPECT_GE(report["k_achieved"].get<int>(), 5);
  EXPECT_EQ(report["risk"]["model"], "prosecutor");
  // A purpose [anonymisation] does not name is refused; the run is in the verified chain.
  RunResult refused = RunDovira({"anonymise", "--data", server.data_dir(), "--purpose",
                                 "newsletter", "--out", csv_path, "--report", report_path});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("makes no data set for \"newsletter\""), std::string::npos);
  RunResult verify = RunDovira({"audit", "verify", "--data", server.data_dir()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(OperatorRefusedBesideAServer, KeysRotateAndASecondServerAreRefused) {
  ServerOptions options;
  options.policies = {"001"};
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  const std::string keys_file = server.data_dir() + "/keys/" + kS1 + ".keys";
  const std::string keys_before = Slurp(keys_file);
  ASSERT_FALSE(keys_before.empty());

  WriteLoad load(server, "refused");
  load.Start();
  ASSERT_TRUE(load.WaitFor(5));

  RunResult rotate = RunDovira({"keys", "rotate", "--data", server.data_dir()});
  EXPECT_EQ(rotate.exit_code, 1) << rotate.out << rotate.err;
  EXPECT_NE(rotate.err.find("is serving " + server.data_dir()), std::string::npos) << rotate.err;
  EXPECT_NE(rotate.err.find("stop it before you rotate the keys"), std::string::npos)
      << rotate.err;
  EXPECT_EQ(Slurp(keys_file), keys_before) << "the refused rotation changed the key file";

  // A second server would keep a gate state of its own: refused before it touches anything.
  RunResult second = RunProgram({"timeout", "20", DOVIRA_BIN, "serve", "--data",
                                 server.data_dir(), "--policy", PolicyPath("001"), "--port", "0"});
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("stop it before you start another server on it"), std::string::npos)
      << second.err;

  const size_t now = load.Acknowledged().size();
  ASSERT_TRUE(load.WaitFor(now + 5));
  server.Kill();
  load.Stop();
  ASSERT_EQ(server.Start(), "");
  std::set<std::string> present = SubjectIdsIn(server.data_dir() + "/store/data.db");
  EXPECT_EQ(MissingFrom(load.Acknowledged(), present), 0u);
  EXPECT_EQ(server.Stop(), 0);

  // With the server stopped, the rotation runs.
  RunResult rotated = RunDovira({"keys", "rotate", "--data", server.data_dir()});
  EXPECT_EQ(rotated.exit_code, 0) << rotated.out << rotated.err;
}

// `dovira import` (issue 17): a CSV of another system into a stopped school, a report naming the
// refused rows by file and line; refused while a server holds the directory.
TEST(ImportCommand, R02_StoresTheValidRowsAndNamesTheRefusedOnesByLine) {
  ServerOptions options;
  options.policies = {"001"};
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  const std::string file = server.data_dir() + "/../rows.csv";
  {
    std::ofstream out(file);
    out << "form,accept_policy,age_statement,consents,fields.first_name,fields.email,"
           "fields.mobile_phone,fields.purchased_service,fields.purchase_amount\n"
           "payment,true,adult,pd_consent,Ivan,import-ivan@example.org,+380501234567,basic,100\n"
           "payment,true,adult,pd_consent,Olha,not-an-address,+380501234568,basic,100\n"
           "payment,true,adult,pd_consent,\"Petro, Jr.\",import-petro@example.org,+380501234569,"
           "basic,120\n";
  }
  RunResult refused = RunDovira({"import", "--data", server.data_dir(), "--file", file});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("is serving " + server.data_dir()), std::string::npos) << refused.err;
  const std::set<std::string> before = SubjectIdsIn(server.data_dir() + "/store/data.db");
  EXPECT_EQ(server.Stop(), 0);

  RunResult run = RunDovira({"import", "--data", server.data_dir(), "--file", file});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;  // one row refused
  EXPECT_NE(run.out.find("3 rows, 2 subjects stored, 1 refused"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("rows.csv:3: refused: field_invalid (email)"), std::string::npos)
      << run.err;
  const std::set<std::string> after = SubjectIdsIn(server.data_dir() + "/store/data.db");
  EXPECT_EQ(after.size(), before.size() + 2);

  // Resuming from a line stores the rows from there on only.
  RunResult resumed =
      RunDovira({"import", "--data", server.data_dir(), "--file", file, "--from-line", "4"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("1 rows, 1 subjects stored, 0 refused"), std::string::npos)
      << resumed.out;
  EXPECT_EQ(SubjectIdsIn(server.data_dir() + "/store/data.db").size(), before.size() + 3);

  // The server serves them, and the audit chain still verifies.
  ASSERT_EQ(server.Start(), "");
  RunResult verify = RunDovira({"audit", "verify", "--data", server.data_dir()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  RunResult bad_header = RunDovira({"import", "--data", server.data_dir(), "--file", file,
                                    "--format", "jsonl"});
  EXPECT_EQ(bad_header.exit_code, 1) << bad_header.err;  // refused while the server runs
}

// Issue 11, defect 2: numbers beyond a double, in every body shape, to every route of the API
// document, anonymously and as a signed-in privileged staff member: never a 500, never a dead
// server.
TEST(HostileNumbers, EveryRouteAnswersWithoutDyingOrA500) {
  ServerOptions options;
  options.policies = {"001"};
  TestServer server(options);
  ASSERT_EQ(server.Start(), "");
  StaffClient admin(&server, kS1, server.bootstrap_email(), server.BootstrapPassword(kS1));
  ASSERT_EQ(admin.SignIn(), "");

  Json doc = server.Get("/v1/openapi.json").Body();
  ASSERT_TRUE(doc.contains("paths"));
  const std::vector<std::string> bodies = {
      R"({"x":1e400})",  R"({"x":-1e400})", R"([1e309])", R"(1e400)",
      R"({"fields":{"email":1e400},"consents":[-1e400]})",
      R"({"purpose":1e999,"subject":"x","limit":1e400,"advance_seconds":1e400})"};
  int calls = 0;
  for (auto& [pattern, methods] : doc["paths"].items()) {
    std::string path;
    for (size_t i = 0; i < pattern.size();) {
      if (pattern[i] == '{') {
        size_t end = pattern.find('}', i);
        std::string name = pattern.substr(i + 1, end - i - 1);
        path += name == "school" ? std::string(kS1) : "x1";
        i = end + 1;
      } else {
        path += pattern[i++];
      }
    }
    for (auto& [method, spec] : methods.items()) {
      std::string m = Lower(method);
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (pattern == "/v1/auth/logout") continue;  // would end the admin's session
      for (const auto& body : bodies) {
        const Headers json = {{"Content-Type", "application/json"}};
        Response anon = server.Call(m, path, body, json);
        Response staff = admin.Call(m, path, body, json);
        for (const Response* r : {&anon, &staff}) {
          EXPECT_NE(r->status, 0) << m << " " << path << " " << body << ": no answer";
          EXPECT_NE(r->status, 500) << m << " " << path << " " << body << ": " << r->body;
          ++calls;
        }
      }
    }
  }
  EXPECT_EQ(server.Get("/healthz").status, 200);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.Stop(), 0) << "the server did not stop cleanly after the hostile numbers";
  std::printf("hostile numbers: %d calls\n", calls);
}

}  // namespace
}  // namespace dovira::testing
