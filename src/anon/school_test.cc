// A generated school of 100,000 learners with a realistic skew (most learners are teenagers, a
// few cities hold most of them, enrolments peak in September), anonymised and then checked by an
// independent recomputation over the output rows alone (R74).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <regex>
#include <set>

#include "anon/anonymiser.h"
#include "anon/hierarchy.h"

namespace dovira::anon {
namespace {

struct Learner {
  std::string birth, city, region, country, enrolled, course;
};

std::vector<Learner> GenerateSchool(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  // 60 cities in 12 regions of 3 countries; city i has weight 1/(i+1) (Zipf).
  std::vector<double> city_weight;
  for (int i = 0; i < 60; ++i) city_weight.push_back(1.0 / (i + 1));
  std::discrete_distribution<int> city_pick(city_weight.begin(), city_weight.end());
  std::discrete_distribution<int> course_pick({30, 20, 15, 10, 10, 8, 5, 2});
  std::discrete_distribution<int> month_pick({6, 8, 5, 4, 4, 3, 2, 6, 40, 12, 6, 4});
  std::vector<Learner> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Learner l;
    const double a = u(rng);
    const int age = a < 0.7 ? 14 + static_cast<int>(rng() % 5)             // school age
                    : a < 0.9 ? 19 + static_cast<int>(rng() % 7)           // students
                              : 26 + static_cast<int>(std::pow(u(rng), 2) * 45);  // adults
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", 2026 - age - 1,
                  static_cast<int>(1 + rng() % 12), static_cast<int>(1 + rng() % 28));
    l.birth = buf;
    const int c = city_pick(rng);
    l.city = "city" + std::to_string(c);
    l.region = "region" + std::to_string(c % 12);
    l.country = c % 12 < 9 ? "UA" : (c % 12 < 11 ? "PL" : "DE");
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", 2023 + static_cast<int>(rng() % 4),
                  1 + month_pick(rng), static_cast<int>(1 + rng() % 28));
    l.enrolled = buf;
    l.course = "course" + std::to_string(course_pick(rng));
    out.push_back(std::move(l));
  }
  return out;
}

TEST(AnonSchool, R74_HundredThousandLearnersReachKInEveryGroupAndTheReportMatches) {
  const std::vector<int> bands = {5, 10, 20};
  const auto learners = GenerateSchool(100000, 2026);
  Dataset data({{"age", AgeLevelNames(bands)},
                {"city", {"city", "region", "country"}},
                {"enrolled", DateLevelNames()}},
               "course", {});
  for (const auto& l : learners) {
    auto age = AgeOn(l.birth, "2026-12-01");
    ASSERT_TRUE(age.ok());
    auto enrolled = DateLevels(l.enrolled);
    ASSERT_TRUE(enrolled.ok());
    ASSERT_TRUE(data.AddRow({AgeLevels(*age, bands), {l.city, l.region, l.country}, *enrolled},
                            l.course, {})
                    .ok());
  }
  const Config config{.k = 10, .l = 3, .max_suppression = 0.01, .risk_threshold = 0.05};
  auto out = Anonymise(data, config, 99);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const Report& r = out->report;

  // The recomputation: group the output rows by their quasi-identifier tuple.
  std::map<std::vector<std::string>, std::pair<size_t, std::set<std::string>>> groups;
  std::set<std::string> ids;
  for (const auto& row : out->rows) {
    ASSERT_EQ(row.size(), 5u);
    ids.insert(row[0]);
    auto& g = groups[{row[1], row[2], row[3]}];
    ++g.first;
    g.second.insert(row[4]);
  }
  size_t smallest = SIZE_MAX, largest = 0, at_risk = 0;
  size_t fewest_courses = SIZE_MAX;
  for (const auto& [key, g] : groups) {
    EXPECT_GE(g.first, 10u) << key[0] << "," << key[1] << "," << key[2];
    EXPECT_GE(g.second.size(), 3u);
    smallest = std::min(smallest, g.first);
    largest = std::max(largest, g.first);
    fewest_courses = std::min(fewest_courses, g.second.size());
    if (1.0 / static_cast<double>(g.first) > 0.05) at_risk += g.first;
  }
  const size_t rows = out->rows.size();
  EXPECT_EQ(ids.size(), rows);
  EXPECT_EQ(r.records_in, 100000u);
  EXPECT_EQ(r.records_out, rows);
  EXPECT_EQ(r.suppressed, 100000u - rows);
  EXPECT_LE(r.suppressed, 1000u);
  EXPECT_EQ(r.groups, groups.size());
  EXPECT_EQ(r.smallest_group, smallest);
  EXPECT_EQ(r.largest_group, largest);
  EXPECT_EQ(r.k_achieved, static_cast<int>(smallest));
  EXPECT_EQ(r.l_achieved, static_cast<int>(fewest_courses));
  EXPECT_DOUBLE_EQ(r.highest_risk, 1.0 / static_cast<double>(smallest));
  EXPECT_DOUBLE_EQ(r.average_risk,
                   static_cast<double>(groups.size()) / static_cast<double>(rows));
  EXPECT_DOUBLE_EQ(r.records_at_risk, static_cast<double>(at_risk) / static_cast<double>(rows));

  // Every value is at the level the report names.
  const std::regex band(R"((\d+)-(\d+))");
  for (const auto& row : out->rows) {
    const auto& age = r.levels[0];
    if (age.level == 0) {
      EXPECT_TRUE(std::regex_match(row[1], std::regex(R"(\d+)")));
    } else if (age.level < age.top) {
      std::smatch m;
      ASSERT_TRUE(std::regex_match(row[1], m, band)) << row[1];
      EXPECT_EQ(std::stoi(m[2]) - std::stoi(m[1]) + 1, bands[static_cast<size_t>(age.level - 1)]);
    } else {
      EXPECT_EQ(row[1], "*");
    }
    const auto& enrolled = r.levels[2];
    const size_t len[] = {10, 7, 4, 1};
    EXPECT_EQ(row[3].size(), len[enrolled.level]);
    const auto& city = r.levels[1];
    const char* prefix[] = {"city", "region", "", "*"};
    if (city.level < 2 || city.level == 3) {
      EXPECT_EQ(row[2].rfind(prefix[city.level], 0), 0u);
    }
  }
  // The search stopped short of the whole lattice (5 x 4 x 4 nodes).
  EXPECT_EQ(r.lattice_nodes, 80u);
  EXPECT_LT(r.nodes_evaluated, r.lattice_nodes);
}

}  // namespace
}  // namespace dovira::anon
