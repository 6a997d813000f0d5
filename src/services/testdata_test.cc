#include "services/testdata.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "services/test_env.h"

namespace dovira::services {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using test::TestEnv;

constexpr char kPolicyFile[] = "003_it_pro.toml";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Json> ReadLines(const fs::path& path) {
  std::vector<Json> rows;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) rows.push_back(Json::parse(line));
  return rows;
}

// The values a real school would hold, and each is looked for in every file of the export.
struct Seed {
  std::string first = "Zoryana", last = "Hnatyshyn", email = "zoryana.hnatyshyn@ukr.net",
              phone = "+380 50 765 4321", phone_digits = "380507654321", born = "1990-06-17";
  std::string sister = "Bohdana", sister_email = "B.Hnatyshyn@Gmail.com", id_number = "3141592653",
              address = "вул. Городоцька 48, кв. 12",
              interests = "Loves chess and bandura lessons on Sundays";
  std::string request_reason = "Called from the number ending 4321 about her marks";
};

class TestDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped(kPolicyFile).ok());
    domain::Submission reg;
    reg.form = "registration";
    reg.fields = {{"first_name", seed.first},   {"last_name", seed.last},
                  {"email", seed.email},        {"phone", seed.phone},
                  {"date_of_birth", seed.born}, {"place_of_study_or_work", "IT Step"}};
    reg.ticked = {"direct_marketing"};
    reg.accept_policy = true;
    auto a = subjects.Intake(school, reg, Actor::Public(), ctx);
    ASSERT_TRUE(a.ok()) << a.error().message;
    first = a->subject;

    domain::Submission api;
    api.subject_kind = "user";
    api.channel = "personal_account";
    api.fields = {{"first_name", seed.sister},
                  {"last_name", seed.last},
                  {"email", seed.sister_email},
                  {"identification_number", seed.id_number},
                  {"address", seed.address},
                  {"interests", seed.interests},
                  {"sex", "female"}};
    auto b = subjects.Intake(school, api, Actor::Public(), ctx);
    ASSERT_TRUE(b.ok()) << b.error().message;
    second = b->subject;

    // A request about the first subject, with a note typed by staff and a sealed reply address.
    ports::WriteBatch batch;
    ports::RequestRow r;
    r.school = school;
    r.id = "rq" + env.crypto->NewId().substr(0, 20);
    r.type = "access";
    r.state = "received";
    r.subject = first.value();
    r.assignee = "st-officer";
    r.received_at = r.due_at = r.updated_at = env.clock.Now();
    r.body = Json{{"type", "access"},
                  {"right", "access"},
                  {"channel", "email"},
                  {"lang", "uk"},
                  {"reason", seed.request_reason},
                  {"tasks", {{{"note", seed.request_reason}}}}}
                 .dump();
    r.sealed = "sealed reply address " + seed.email;
    request_id = r.id;
    batch.requests.push_back(r);
    ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
  }

  TestDataExport Paths(const std::string& name) {
    return TestDataExport{env.dir + "/" + name, env.dir + "/" + name + ".key"};
  }

  Result<TestDataReport> Export(const std::string& name) {
    return testdata.Export(school, Paths(name), officer, ctx);
  }

  // The export's subject row and records of the subject whose pseudonym is `id`.
  std::map<std::string, std::string> ValuesOf(const fs::path& dir, const std::string& id) {
    std::map<std::string, std::string> out;
    for (const Json& r : ReadLines(dir / "records.jsonl")) {
      if (r["subject"] == id && r["value"].is_string()) out[r["field"]] = r["value"];
    }
    return out;
  }

  std::string KeyHex(const std::string& path) { return Json::parse(ReadFile(path))["key"]; }

  TestEnv env;
  SubjectService subjects{env.deps(), env.schools, env.audit};
  TestDataService testdata{env.deps(), env.schools, subjects, env.audit};
  const SchoolId school{"it-pro"};
  const RequestContext ctx{"req-1", "203.0.113.7", "test-agent"};
  const Actor officer{Actor::Kind::kStaff, "st-officer", "responsible_person", {}, true};
  Seed seed;
  SubjectId first, second;
  std::string request_id;
};

TEST_F(TestDataTest, R91_TheExportHoldsNoRealValueInAnyFile) {
  auto report = Export("out");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->subjects, 2);
  EXPECT_EQ(report->requests, 1);
  EXPECT_GT(report->consents, 0);
  const std::vector<std::string> real = {seed.first,
                                         seed.last,
                                         seed.email,
                                         "zoryana.hnatyshyn",
                                         seed.phone,
                                         seed.phone_digits,
                                         "765 4321",
                                         seed.born,
                                         seed.sister,
                                         seed.sister_email,
                                         "b.hnatyshyn@gmail.com",
                                         seed.id_number,
                                         seed.address,
                                         "Городоцька",
                                         seed.interests,
                                         "bandura",
                                         seed.request_reason,
                                         first.value(),
                                         second.value(),
                                         request_id,
                                         "st-officer",
                                         "203.0.113"};
  int files = 0;
  for (const auto& entry : fs::directory_iterator(env.dir + "/out")) {
    ++files;
    const std::string text = ReadFile(entry.path());
    for (const auto& value : real) {
      EXPECT_EQ(text.find(value), std::string::npos)
          << entry.path().filename() << " holds the real value \"" << value << "\"";
    }
  }
  EXPECT_EQ(files, 5);  // the manifest and four tables, and nothing else: no key
  const Json manifest = Json::parse(ReadFile(env.dir + "/out/manifest.json"));
  EXPECT_EQ(manifest["pseudonymised"], true);
  EXPECT_EQ(manifest["fields"]["interests"], "dropped");
  EXPECT_EQ(manifest["fields"]["email"], "pseudonymised");
}

TEST_F(TestDataTest, R91_PseudonymsKeepTheValuesShape) {
  ASSERT_TRUE(Export("out").ok());
  const fs::path dir = env.dir + "/out";
  const std::string key = KeyHex(env.dir + "/out.key");
  auto id = PseudonymOf(*env.crypto, key, "subject", first.value());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), first.value().size());
  std::map<std::string, std::string> v = ValuesOf(dir, *id);
  ASSERT_EQ(v.count("email"), 1u);
  const std::string& email = v["email"];
  EXPECT_EQ(email.substr(email.size() - 16), "@example.invalid");
  EXPECT_EQ(email.find('@'), email.rfind('@'));
  EXPECT_GT(email.find('@'), 0u);
  ASSERT_EQ(v["phone"].size(), seed.phone.size());
  for (size_t i = 0; i < seed.phone.size(); ++i) {
    EXPECT_EQ(std::isdigit(static_cast<unsigned char>(v["phone"][i])) != 0,
              std::isdigit(static_cast<unsigned char>(seed.phone[i])) != 0)
        << v["phone"];
  }
  EXPECT_EQ(v["phone"][0], '+');
  EXPECT_EQ(v["date_of_birth"], "1990-06-01");  // generalised to its month
  EXPECT_EQ(v["first_name"].size(), seed.first.size());
  EXPECT_TRUE(std::isupper(static_cast<unsigned char>(v["first_name"][0])));
  EXPECT_EQ(v["place_of_study_or_work"], "IT Step");  // not an identifier: kept

  auto sid = PseudonymOf(*env.crypto, key, "subject", second.value());
  std::map<std::string, std::string> w = ValuesOf(dir, *sid);
  EXPECT_EQ(w["identification_number"].size(), seed.id_number.size());
  EXPECT_EQ(w["identification_number"].find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(w.count("interests"), 0u);  // free text: dropped
  EXPECT_EQ(w["sex"], "female");
  // The address keeps its script, spaces and punctuation.
  EXPECT_NE(w["address"].find(", "), std::string::npos);
  EXPECT_EQ(w["address"].size(), seed.address.size());
}

TEST_F(TestDataTest, R91_JoinsHoldBetweenTables) {
  ASSERT_TRUE(Export("out").ok());
  const fs::path dir = env.dir + "/out";
  std::set<std::string> ids;
  for (const Json& s : ReadLines(dir / "subjects.jsonl")) ids.insert(s["id"]);
  ASSERT_EQ(ids.size(), 2u);
  const std::string key = KeyHex(env.dir + "/out.key");
  const std::string a = *PseudonymOf(*env.crypto, key, "subject", first.value());
  EXPECT_EQ(ids.count(a), 1u);
  int records = 0;
  for (const Json& r : ReadLines(dir / "records.jsonl")) {
    EXPECT_EQ(ids.count(r["subject"]), 1u) << r.dump();
    records += r["subject"] == a;
  }
  EXPECT_GE(records, 5);
  int consents = 0;
  for (const Json& c : ReadLines(dir / "consents.jsonl")) {
    EXPECT_EQ(ids.count(c["subject"]), 1u) << c.dump();
    consents += c["subject"] == a;
  }
  EXPECT_GE(consents, 1);  // the direct-marketing consent of the registration
  const std::vector<Json> requests = ReadLines(dir / "requests.jsonl");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["subject"], a);
  EXPECT_EQ(requests[0]["right"], "access");
  EXPECT_FALSE(requests[0].contains("reason"));
  // The shared surname has one pseudonym in both subjects' records.
  const std::string b = *PseudonymOf(*env.crypto, key, "subject", second.value());
  EXPECT_EQ(ValuesOf(dir, a)["last_name"], ValuesOf(dir, b)["last_name"]);
  // And an e-mail's pseudonym does not depend on its case.
  Pseudonymiser pn(*env.crypto, ports::SecretKey(*ports::FromHex(key)));
  EXPECT_EQ(ValuesOf(dir, b)["email"], pn.Value("email", "b.hnatyshyn@gmail.com"));
  EXPECT_EQ(pn.Value("phone", "+380507654321"), [&] {
    std::string p = ValuesOf(dir, a)["phone"];
    p.erase(std::remove(p.begin(), p.end(), ' '), p.end());
    return p;
  }());
}

TEST_F(TestDataTest, R91_TheKeyFileIsApartPrivateAndMapsBack) {
  auto report = Export("out");
  ASSERT_TRUE(report.ok());
  struct stat st {};
  ASSERT_EQ(::stat((env.dir + "/out.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  const Json key = Json::parse(ReadFile(env.dir + "/out.key"));
  EXPECT_EQ(key["key_fingerprint"], report->key_fingerprint);
  // With the key, the production subject's id gives the pseudonym the export holds, and its
  // e-mail the pseudonymised address.
  Pseudonymiser pn(*env.crypto, ports::SecretKey(*ports::FromHex(key["key"].get<std::string>())));
  std::map<std::string, std::string> v =
      ValuesOf(env.dir + "/out", pn.Id("subject", first.value()));
  EXPECT_EQ(v["email"], pn.Value("email", seed.email));
  EXPECT_EQ(v["first_name"], pn.Value("string", seed.first));
  // A wrong key maps to nobody in the export.
  auto wrong =
      PseudonymOf(*env.crypto, ports::ToHex(env.crypto->NewKey().view()), "subject", first.value());
  EXPECT_TRUE(ValuesOf(env.dir + "/out", *wrong).empty());
}

TEST_F(TestDataTest, R91_TwoExportsHaveDifferentKeysAndPseudonyms) {
  ASSERT_TRUE(Export("one").ok());
  ASSERT_TRUE(Export("two").ok());
  const std::string k1 = KeyHex(env.dir + "/one.key"), k2 = KeyHex(env.dir + "/two.key");
  EXPECT_NE(k1, k2);
  const std::string a1 = *PseudonymOf(*env.crypto, k1, "subject", first.value());
  const std::string a2 = *PseudonymOf(*env.crypto, k2, "subject", first.value());
  EXPECT_NE(a1, a2);
  EXPECT_NE(ValuesOf(env.dir + "/one", a1)["email"], ValuesOf(env.dir + "/two", a2)["email"]);
  EXPECT_NE(ValuesOf(env.dir + "/one", a1)["last_name"],
            ValuesOf(env.dir + "/two", a2)["last_name"]);
}

TEST_F(TestDataTest, R91_AKeyFileInsideTheExportOrAFullDirectoryIsRefused) {
  auto inside =
      testdata.Export(school, {env.dir + "/out", env.dir + "/out/sub/../key.json"}, officer, ctx);
  ASSERT_FALSE(inside.ok());
  EXPECT_EQ(inside.error().field, "key_out");
  EXPECT_FALSE(fs::exists(env.dir + "/out/key.json"));
  fs::create_directories(env.dir + "/full");
  std::ofstream(env.dir + "/full/other.txt") << "x";
  auto full = testdata.Export(school, {env.dir + "/full", env.dir + "/full.key"}, officer, ctx);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().field, "out");
  EXPECT_FALSE(fs::exists(env.dir + "/full.key"));
}

TEST_F(TestDataTest, R91_TheExportIsAuditedWithCountsAndNoPersonalData) {
  auto report = Export("out");
  ASSERT_TRUE(report.ok());
  std::vector<ports::AuditRow> rows;
  ASSERT_TRUE(env.store
                  ->ForEachAudit(school, 0,
                                 [&](const ports::AuditRow& r) {
                                   if (r.action == "testdata.export") rows.push_back(r);
                                   return true;
                                 })
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].actor, "staff:st-officer");
  EXPECT_EQ(rows[0].at, env.clock.Now());
  const Json detail = Json::parse(rows[0].detail);
  EXPECT_EQ(detail["subjects"], 2);
  EXPECT_EQ(detail["records"], report->records);
  EXPECT_EQ(rows[0].detail.find(seed.email), std::string::npos);
  EXPECT_EQ(rows[0].detail.find(KeyHex(env.dir + "/out.key")), std::string::npos);
}

// The other side: a data directory of an environment tagged `test`.
class TestDataImportTest : public TestDataTest {
 protected:
  void SetUp() override {
    TestDataTest::SetUp();
    ASSERT_TRUE(target.LoadShipped(kPolicyFile).ok());
  }
  Result<TestDataReport> Import(const std::string& name, const std::string& environment = "test") {
    return target_testdata.Import(school, env.dir + "/" + name, environment,
                                  Actor::System("testdata-import"), ctx);
  }
  void Rewrite(const fs::path& path, const std::function<void(Json&)>& change) {
    std::vector<Json> rows = ReadLines(path);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (Json& r : rows) {
      change(r);
      out << r.dump() << '\n';
    }
  }
  TestEnv target;
  SubjectService target_subjects{target.deps(), target.schools, target.audit};
  TestDataService target_testdata{target.deps(), target.schools, target_subjects, target.audit};
};

TEST_F(TestDataImportTest, R91_APseudonymisedExportLoadsIntoATestEnvironment) {
  auto report = Export("out");
  ASSERT_TRUE(report.ok());
  auto loaded = Import("out");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->subjects, 2);
  EXPECT_EQ(loaded->consents, report->consents);
  EXPECT_EQ(loaded->requests, 1);
  // Records come back sealed under fresh keys, holding the pseudonyms.
  Pseudonymiser pn(*env.crypto, ports::SecretKey(*ports::FromHex(KeyHex(env.dir + "/out.key"))));
  const SubjectId a(pn.Id("subject", first.value()));
  auto open = target_subjects.OpenAll(school, a);
  ASSERT_TRUE(open.ok()) << open.error().message;
  std::map<std::string, std::string> v;
  for (const auto& r : *open) v[r.row.field] = r.value;
  EXPECT_EQ(v["email"], pn.Value("email", seed.email));
  EXPECT_EQ(v.count("place_of_study_or_work"), 1u);
}

TEST_F(TestDataImportTest, R91_AnExportNotMarkedPseudonymisedIsRefusedInATestEnvironment) {
  ASSERT_TRUE(Export("out").ok());
  const fs::path manifest = env.dir + "/out/manifest.json";
  Json m = Json::parse(ReadFile(manifest));
  m["pseudonymised"] = false;
  std::ofstream(manifest, std::ios::trunc) << m.dump();
  auto loaded = Import("out");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().reason, "not_pseudonymised");
  EXPECT_NE(loaded.error().message.find("not marked pseudonymised"), std::string::npos);
  auto rows = target.store->ListSubjects(school, "", 10);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(TestDataImportTest, R91_AnExportHoldingARealLookingValueIsRefused) {
  ASSERT_TRUE(Export("out").ok());
  // A real address slipped into a record (an export made by hand, or an older tool).
  Rewrite(env.dir + "/out/records.jsonl", [&](Json& r) {
    if (r["field"] == "email") r["value"] = seed.email;
  });
  auto loaded = Import("out");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().reason, "not_pseudonymised");
  EXPECT_NE(loaded.error().message.find("records.jsonl:"), std::string::npos);
  EXPECT_NE(loaded.error().message.find("(email)"), std::string::npos);
  EXPECT_EQ(loaded.error().message.find(seed.email), std::string::npos);  // never the value
  // A dropped field that carries a value again.
  ASSERT_TRUE(Export("again").ok());
  Rewrite(env.dir + "/again/records.jsonl", [&](Json& r) {
    if (r["field"] == "interests") r["value"] = seed.interests;
  });
  auto again = Import("again");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("(interests)"), std::string::npos);
}

TEST_F(TestDataImportTest, R91_OnlyATestEnvironmentTakesTestData) {
  ASSERT_TRUE(Export("out").ok());
  auto loaded = Import("out", "production");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().reason, "environment_not_test");
}

}  // namespace
}  // namespace dovira::services
