// Depersonalised data sets through the policy, the gate, the store and the audit (R74, R34).
#include "services/anonymisation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unordered_set>

#include "policy/checker.h"
#include "services/data_access.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::TestEnv;

std::string LearnersPolicy() {
  std::ifstream in(std::string(DOVIRA_SOURCE_DIR) + "/src/policy/testdata/learners.toml");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The fields R74 lists, as the learners' policy declares them.
const std::vector<std::string> kDirect = {"first_name", "last_name", "email",     "phone",
                                          "home_address", "passport_number", "ip_address",
                                          "device_id"};

// One learner with every field of the policy, values unique to them; ages, cities and
// enrolment months skewed as a school's are.
std::map<std::string, std::string> Learner(size_t i, std::mt19937_64& rng) {
  static const char* kCities[][3] = {{"Kyiv", "Kyiv region", "UA"},  {"Brovary", "Kyiv region", "UA"},
                                     {"Lviv", "Lviv region", "UA"},  {"Stryi", "Lviv region", "UA"},
                                     {"Odesa", "Odesa region", "UA"}, {"Krakow", "Lesser Poland", "PL"}};
  std::discrete_distribution<int> city({50, 8, 20, 4, 15, 3});
  std::discrete_distribution<int> month({4, 4, 3, 3, 3, 2, 2, 8, 50, 10, 6, 5});
  std::discrete_distribution<int> course({40, 25, 20, 10, 5});
  const int c = city(rng);
  const int age = rng() % 10 < 8 ? 14 + static_cast<int>(rng() % 5) : 19 + static_cast<int>(rng() % 40);
  char birth[32], enrolled[32];
  std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", 2024 - age, static_cast<int>(1 + rng() % 12),
                static_cast<int>(1 + rng() % 28));
  std::snprintf(enrolled, sizeof enrolled, "%04d-%02d-%02d", 2022 + static_cast<int>(rng() % 3),
                1 + month(rng), static_cast<int>(1 + rng() % 28));
  const std::string n = std::to_string(i);
  return {{"first_name", "Firstname" + n + "q"},
          {"last_name", "Surname" + n + "q"},
          {"email", "learner" + n + "@school.example"},
          {"phone", "+38067" + std::to_string(1000000 + i)},
          {"home_address", "Street " + n + " apt 4"},
          {"passport_number", "PX" + std::to_string(100000 + i)},
          {"ip_address", "10." + std::to_string(i / 65536 % 256) + "." +
                             std::to_string(i / 256 % 256) + "." + std::to_string(i % 256)},
          {"device_id", "device-" + n + "-z"},
          {"birth_date", birth},
          {"city", kCities[c][0]},
          {"region", kCities[c][1]},
          {"country", kCities[c][2]},
          {"enrolled_on", enrolled},
          {"course", "course " + std::string(1, static_cast<char>('A' + course(rng)))},
          {"notes", "Note about learner " + n + " only"}};
}

std::vector<std::vector<std::string>> ParseCsv(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream l(line);
    while (std::getline(l, cell, ',')) cells.push_back(cell);  // no cell here holds a comma
    rows.push_back(cells);
  }
  return rows;
}

// Every value of `identifiers` that occurs anywhere in the CSV's cells (a grep that also finds a
// value inside a longer cell). Row ids are lower-case hex, which no identifier here is.
std::vector<std::string> Occurring(const std::vector<std::vector<std::string>>& rows,
                                   const std::vector<std::string>& identifiers) {
  std::unordered_set<std::string> substrings;
  std::set<std::string> cells;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = r == 0 ? 0 : 1; c < rows[r].size(); ++c) cells.insert(rows[r][c]);
  }
  for (const auto& cell : cells) {
    for (size_t i = 0; i < cell.size(); ++i) {
      for (size_t len = 1; i + len <= cell.size(); ++len) substrings.insert(cell.substr(i, len));
    }
  }
  std::vector<std::string> found;
  for (const auto& v : identifiers) {
    EXPECT_NE(v.find_first_not_of("0123456789abcdef"), std::string::npos) << v;
    if (substrings.count(v)) found.push_back(v);
  }
  return found;
}

// Groups the data rows by their quasi-identifier tuple (columns 1..3): size and sensitive values.
std::map<std::vector<std::string>, std::pair<size_t, std::set<std::string>>> Groups(
    const std::vector<std::vector<std::string>>& rows) {
  std::map<std::vector<std::string>, std::pair<size_t, std::set<std::string>>> g;
  for (size_t r = 1; r < rows.size(); ++r) {
    auto& e = g[{rows[r][1], rows[r][2], rows[r][3]}];
    ++e.first;
    e.second.insert(rows[r][4]);
  }
  return g;
}

TEST(AnonymisationPolicy, R74_HundredThousandLearnersLeaveNoDirectIdentifierAndReachK) {
  auto checked = policy::CheckPolicyText(LearnersPolicy(), "learners.toml");
  ASSERT_TRUE(checked.ok());
  const policy::Policy& pol = *checked.policy;
  std::mt19937_64 rng(14);
  std::vector<std::map<std::string, std::string>> records;
  std::vector<std::string> identifiers;
  for (size_t i = 0; i < 100000; ++i) {
    records.push_back(Learner(i, rng));
    for (const auto& f : kDirect) identifiers.push_back(records.back().at(f));
    identifiers.push_back(records.back().at("notes"));
  }
  auto data = BuildDataset(pol, records, "2025-03-03");
  ASSERT_TRUE(data.ok()) << data.error().message;
  auto out = anon::Anonymise(*data, ConfigOf(pol.anonymisation), 5);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const auto rows = ParseCsv(anon::ToCsv(*out));
  EXPECT_EQ(rows[0], (std::vector<std::string>{"row", "birth_date", "city", "enrolled_on",
                                               "course"}));
  EXPECT_EQ(Occurring(rows, identifiers), std::vector<std::string>{});
  const auto groups = Groups(rows);
  size_t smallest = SIZE_MAX;
  for (const auto& [key, g] : groups) {
    EXPECT_GE(g.first, 5u);
    EXPECT_GE(g.second.size(), 2u);
    smallest = std::min(smallest, g.first);
  }
  EXPECT_EQ(out->report.groups, groups.size());
  EXPECT_EQ(out->report.smallest_group, smallest);
  EXPECT_EQ(out->report.suppressed, 100000 - (rows.size() - 1));
  EXPECT_LE(out->report.suppressed, 2000u);
  EXPECT_DOUBLE_EQ(out->report.highest_risk, 1.0 / static_cast<double>(smallest));
}

class AnonymisationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = env.schools.Load(LearnersPolicy(), "learners.toml");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  }

  // Takes in `n` learners through the sign-up form; every `research_every`-th agrees to research.
  void Enrol(size_t n, size_t research_every) {
    std::mt19937_64 rng(3);
    for (size_t i = 0; i < n; ++i) {
      domain::Submission s;
      s.form = "signup";
      s.fields = Learner(i, rng);
      s.fields.erase("notes");
      for (const auto& f : kDirect) identifiers.push_back(s.fields.at(f));
      if (i % research_every == 0) s.ticked = {"research_optin"};
      s.accept_policy = true;
      auto r = subjects.Intake(school, s, Actor::Public(), ctx);
      ASSERT_TRUE(r.ok()) << r.error().message;
      learners.push_back(r->subject);
    }
  }

  std::vector<ports::AuditRow> Runs() {
    std::vector<ports::AuditRow> rows;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school, 0,
                                   [&](const ports::AuditRow& r) {
                                     if (r.action == "anonymise.run") rows.push_back(r);
                                     return true;
                                   })
                    .ok());
    return rows;
  }

  TestEnv env;
  SubjectService subjects{env.deps(), env.schools, env.audit};
  DataAccessService access{env.deps(), env.schools, subjects, env.audit};
  AnonymisationService anonymisation{env.deps(), env.schools, subjects, env.audit};
  const SchoolId school{"demo-school"};
  const RequestContext ctx{"req-14", "198.51.100.4", "agent"};
  std::vector<SubjectId> learners;
  std::vector<std::string> identifiers;
};

TEST_F(AnonymisationServiceTest, R74_TheSchoolsRecordsBecomeADataSetWithNoIdentifierNoKeyAndKInEveryGroup) {
  Enrol(120, 1);
  auto ds = anonymisation.Produce(school, {"statistics"}, Actor::System("anonymise"), ctx);
  ASSERT_TRUE(ds.ok()) << ds.error().message;
  const auto rows = ParseCsv(ds->csv);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"row", "birth_date", "city", "enrolled_on",
                                               "course"}));
  EXPECT_EQ(Occurring(rows, identifiers), std::vector<std::string>{});
  // No subject id, pseudonym or record id survives either: nothing leads back.
  std::vector<std::string> links;
  for (const auto& id : learners) {
    links.push_back(id.value());
    auto pn = env.audit.Pseudonym(school, id);
    ASSERT_TRUE(pn.ok());
    links.push_back(*pn);
  }
  for (const auto& row : rows) {
    for (const auto& cell : row) {
      for (const auto& l : links) EXPECT_EQ(cell.find(l), std::string::npos);
    }
  }
  for (const auto& [key, g] : Groups(rows)) {
    EXPECT_GE(g.first, 5u);
    EXPECT_GE(g.second.size(), 2u);
  }
  EXPECT_EQ(ds->subjects, 120u);
  EXPECT_EQ(ds->report.records_in, 120u);
  EXPECT_EQ(ds->report.records_out, rows.size() - 1);
  EXPECT_EQ(ds->report.groups, Groups(rows).size());
  EXPECT_TRUE(ds->excluded.empty());
  // One audit entry for the run, naming no subject.
  const auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].subject_ref, "");
  EXPECT_EQ(runs[0].outcome, "ok");
  EXPECT_EQ(runs[0].decision_id, ds->id);
  EXPECT_NE(runs[0].detail.find("\"k_achieved\""), std::string::npos);
  // The report says the same as the data set.
  EXPECT_NE(ds->ReportJson().find("\"groups\": " + std::to_string(ds->report.groups)),
            std::string::npos);
}

TEST_F(AnonymisationServiceTest, R34_ResearchReadsNoIdentifiedRowButRunsOnTheDepersonalisedDataSet) {
  Enrol(90, 3);  // a third agree to research
  // Identified rows for research: refused, whoever asks, even with consent.
  AccessRequest read{learners[0], "research", {}, domain::Operation::kRead};
  auto refused = access.Read(school, read, Actor::System("research-job"), ctx);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->reason, "depersonalised_only");
  EXPECT_EQ(refused->status, 403);
  EXPECT_TRUE(refused->values.empty());
  // A purpose of identified data still reads.
  auto teaching = access.Read(school, {learners[0], "teaching", {"course"}, domain::Operation::kRead},
                              Actor::System("teaching"), ctx);
  ASSERT_TRUE(teaching.ok());
  EXPECT_TRUE(teaching->allowed);
  // The depersonalised data set: only those who agreed take part.
  auto ds = anonymisation.Produce(school, {"research"}, Actor::System("research-job"), ctx);
  ASSERT_TRUE(ds.ok()) << ds.error().message;
  EXPECT_EQ(ds->subjects, 90u);
  EXPECT_EQ(ds->report.records_in, 30u);
  EXPECT_EQ(ds->excluded.at("no_consent"), 60u);
  EXPECT_EQ(Occurring(ParseCsv(ds->csv), identifiers), std::vector<std::string>{});
}

TEST_F(AnonymisationServiceTest, R74_RefusesWhatThePolicyDoesNotProvideAndTooFewRecords) {
  Enrol(3, 1);
  auto none = anonymisation.Produce(school, {""}, Actor::System("x"), ctx);
  EXPECT_EQ(none.error().field, "purpose");
  auto teaching = anonymisation.Produce(school, {"teaching"}, Actor::System("x"), ctx);
  EXPECT_EQ(teaching.error().reason, "purpose_not_anonymisable");
  EXPECT_EQ(teaching.error().code, ErrorCode::kRefused);
  auto key = anonymisation.Produce(
      school, {"statistics"}, Actor{Actor::Kind::kApiKey, "k", "dpo", {"research"}, true}, ctx);
  EXPECT_EQ(key.error().reason, "purpose_not_allowed_for_key");
  EXPECT_TRUE(Runs().empty());  // refused before anything was read
  // Three learners cannot form a group of five: refused, and the refusal is audited.
  auto small = anonymisation.Produce(school, {"statistics"}, Actor::System("x"), ctx);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().reason, "k_unreachable");
  ASSERT_EQ(Runs().size(), 1u);
  EXPECT_EQ(Runs()[0].outcome, "deny");
  // A policy without [anonymisation] makes no data set.
  ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
  auto undeclared =
      anonymisation.Produce(SchoolId("vkluchi_zhizn"), {"statistics"}, Actor::System("x"), ctx);
  EXPECT_EQ(undeclared.error().reason, "anonymisation_undeclared");
}

}  // namespace
}  // namespace dovira::services
