// The lattice search (R74): checked against an exhaustive evaluation of every node.
#include "anon/anonymiser.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "anon/hierarchy.h"

namespace dovira::anon {
namespace {

// Ages with 5/10/20-year bands, a city with its region, and a course as the sensitive value.
Dataset AgesAndCities(const std::vector<std::tuple<int, std::string, std::string, std::string>>& rows,
                      bool sensitive = false) {
  Dataset d({{"age", AgeLevelNames({5, 10, 20})}, {"city", {"city", "region"}}},
            sensitive ? "course" : "", {});
  for (const auto& [age, city, region, course] : rows) {
    EXPECT_TRUE(d.AddRow({AgeLevels(age, {5, 10, 20}), {city, region}}, course, {}).ok());
  }
  return d;
}

Dataset RandomData(uint64_t seed, size_t n, bool sensitive) {
  std::mt19937_64 rng(seed);
  Dataset d({{"age", AgeLevelNames({5, 10})}, {"city", {"city", "region"}}, {"date", DateLevelNames()}},
            sensitive ? "course" : "", {});
  const char* cities[] = {"Kyiv", "Lviv", "Odesa", "Brovary", "Irpin", "Stryi"};
  const char* regions[] = {"Kyiv", "Lviv", "Odesa", "Kyiv", "Kyiv", "Lviv"};
  for (size_t i = 0; i < n; ++i) {
    const int age = 16 + static_cast<int>(rng() % 30);
    const size_t c = rng() % 6;
    char date[11];
    std::snprintf(date, sizeof date, "2025-%02d-%02d", static_cast<int>(1 + rng() % 4),
                  static_cast<int>(1 + rng() % 28));
    std::string course = "c" + std::to_string(rng() % 3);
    EXPECT_TRUE(d.AddRow({AgeLevels(age, {5, 10}), {cities[c], regions[c]}, *DateLevels(date)},
                         course, {})
                    .ok());
  }
  return d;
}

std::vector<std::vector<int>> AllNodes(const Dataset& d) {
  std::vector<std::vector<int>> out{{}};
  for (const auto& q : d.quasi()) {
    std::vector<std::vector<int>> next;
    for (const auto& prefix : out) {
      for (int lv = 0; lv <= static_cast<int>(q.levels.size()); ++lv) {
        auto n = prefix;
        n.push_back(lv);
        next.push_back(n);
      }
    }
    out = next;
  }
  return out;
}

bool Below(const std::vector<int>& a, const std::vector<int>& b) {  // a <= b, a != b
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
  }
  return a != b;
}

TEST(AnonLattice, R74_ChoosesTheLeastGeneralisedNodeThatReachesK) {
  // Exact ages are all unique; 5-year bands pair them up within each region's cities.
  Dataset d = AgesAndCities({{21, "Kyiv", "Kyiv", ""},
                             {23, "Kyiv", "Kyiv", ""},
                             {31, "Lviv", "Lviv", ""},
                             {33, "Lviv", "Lviv", ""},
                             {41, "Odesa", "Odesa", ""},
                             {44, "Odesa", "Odesa", ""}});
  auto out = Anonymise(d, Config{.k = 2}, 7);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const Report& r = out->report;
  ASSERT_EQ(r.levels.size(), 2u);
  EXPECT_EQ(r.levels[0].level, 1);  // 5-year bands
  EXPECT_EQ(r.levels[0].name, "5-year bands");
  EXPECT_EQ(r.levels[1].level, 0);  // the city as it is
  EXPECT_EQ(r.groups, 3u);
  EXPECT_EQ(r.k_achieved, 2);
  EXPECT_EQ(r.suppressed, 0u);
  EXPECT_DOUBLE_EQ(r.highest_risk, 0.5);
  EXPECT_DOUBLE_EQ(r.average_risk, 0.5);
  std::multiset<std::string> ages;
  for (const auto& row : out->rows) ages.insert(row[1]);
  EXPECT_EQ(ages, (std::multiset<std::string>{"20-24", "20-24", "30-34", "30-34", "40-44",
                                              "40-44"}));
}

TEST(AnonLattice, R74_MatchesAnExhaustiveSearchAndPrunesTheLattice) {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    for (bool sensitive : {false, true}) {
      Dataset d = RandomData(seed, 400, sensitive);
      Config c{.k = 4, .l = sensitive ? 2 : 0, .max_suppression = 0.02};
      // Every node, evaluated on its own.
      std::map<std::vector<int>, Evaluation> all;
      for (const auto& n : AllNodes(d)) all[n] = *Evaluate(d, c, n);
      // Monotonicity, which the pruning relies on: above an anonymous node all are anonymous.
      for (const auto& [a, ea] : all) {
        for (const auto& [b, eb] : all) {
          if (ea.anonymous && Below(a, b)) {
            EXPECT_TRUE(eb.anonymous);
          }
        }
      }
      // The minimal anonymous nodes, and the least loss among them.
      double best = 2;
      std::set<std::vector<int>> minimal;
      for (const auto& [a, ea] : all) {
        if (!ea.anonymous || ea.groups == 0) continue;
        bool has_anonymous_below = false;
        for (const auto& [b, eb] : all) {
          if (eb.anonymous && eb.groups > 0 && Below(b, a)) has_anonymous_below = true;
        }
        if (has_anonymous_below) continue;
        minimal.insert(a);
        best = std::min(best, ea.loss);
      }
      auto out = Anonymise(d, c, seed);
      ASSERT_TRUE(out.ok()) << out.error().message;
      std::vector<int> chosen;
      for (const auto& l : out->report.levels) chosen.push_back(l.level);
      EXPECT_TRUE(minimal.count(chosen)) << "seed " << seed;
      EXPECT_DOUBLE_EQ(all[chosen].loss, best);
      EXPECT_DOUBLE_EQ(out->report.information_loss, best);
      EXPECT_EQ(out->report.lattice_nodes, all.size());
      EXPECT_LT(out->report.nodes_evaluated, all.size());  // predictive tagging skipped some
      EXPECT_EQ(out->report.suppressed, all[chosen].suppressed);
    }
  }
}

TEST(AnonLattice, R74_SuppressesOutliersWithinTheAllowedShareInsteadOfGeneralising) {
  std::vector<std::tuple<int, std::string, std::string, std::string>> rows;
  for (int i = 0; i < 19; ++i) rows.push_back({20 + i % 2, "Kyiv", "Kyiv", ""});
  rows.push_back({87, "Stryi", "Lviv", ""});  // one outlier
  Dataset d = AgesAndCities(rows);
  auto strict = Anonymise(d, Config{.k = 3}, 1);
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->report.suppressed, 0u);
  EXPECT_EQ(strict->rows.size(), 20u);
  auto lenient = Anonymise(d, Config{.k = 3, .max_suppression = 0.05}, 1);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->report.suppressed, 1u);
  EXPECT_EQ(lenient->rows.size(), 19u);
  EXPECT_LT(lenient->report.information_loss, strict->report.information_loss);
  for (const auto& row : lenient->rows) EXPECT_NE(row[2], "Stryi");
}

TEST(AnonLattice, R74_LDiversityGeneralisesGroupsThatShareOneSensitiveValue) {
  // Two pairs of the same age and city: each pair takes one course only, so ℓ = 2 needs the
  // pairs merged (10-year bands) although k = 2 holds at exact ages.
  Dataset d = AgesAndCities({{21, "Kyiv", "Kyiv", "math"},
                             {21, "Kyiv", "Kyiv", "math"},
                             {27, "Kyiv", "Kyiv", "art"},
                             {27, "Kyiv", "Kyiv", "art"}},
                            true);
  auto k_only = Anonymise(d, Config{.k = 2}, 1);
  ASSERT_TRUE(k_only.ok());
  EXPECT_EQ(k_only->report.levels[0].level, 0);
  auto diverse = Anonymise(d, Config{.k = 2, .l = 2}, 1);
  ASSERT_TRUE(diverse.ok());
  EXPECT_EQ(diverse->report.levels[0].name, "10-year bands");
  EXPECT_EQ(diverse->report.groups, 1u);
  EXPECT_EQ(diverse->report.l_achieved, 2);
  EXPECT_EQ(diverse->header,
            (std::vector<std::string>{"row", "age", "city", "course"}));
}

TEST(AnonLattice, R74_RefusesWhatCannotReachKAndBadSettings) {
  Dataset d = AgesAndCities({{21, "Kyiv", "Kyiv", ""}, {22, "Lviv", "Lviv", ""}});
  auto small = Anonymise(d, Config{.k = 3}, 1);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(small.error().message.find("k = 3"), std::string::npos);
  EXPECT_EQ(Anonymise(d, Config{.k = 1}, 1).error().field, "k");
  EXPECT_EQ(Anonymise(d, Config{.k = 2, .l = 2}, 1).error().field, "l");  // no sensitive value
  EXPECT_EQ(Anonymise(d, Config{.k = 2, .max_suppression = 1.5}, 1).error().field,
            "max_suppression");
  EXPECT_FALSE(d.AddRow({{"21"}}, "", {}).ok());  // one quasi-identifier short
  EXPECT_FALSE(d.AddRow({AgeLevels(21, {5, 10, 20}), {"Kyiv"}}, "", {}).ok());  // a level short
  std::vector<QuasiIdentifier> many(12, QuasiIdentifier{"q", {"a", "b", "c"}});
  Dataset huge(many, "", {});
  EXPECT_NE(Anonymise(huge, Config{.k = 2}, 1).error().message.find("100000"), std::string::npos);
}

TEST(AnonLattice, R74_RowsGetNewRandomIdsAndOrderAndNoLinkBack) {
  Dataset d({{"city", {"city"}}}, "", {"course"});
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(d.AddRow({{i % 2 ? "Kyiv" : "Lviv"}}, "", {"c" + std::to_string(i)}).ok());
  }
  auto a = Anonymise(d, Config{.k = 2}, 11);
  auto b = Anonymise(d, Config{.k = 2}, 12);
  ASSERT_TRUE(a.ok() && b.ok());
  std::set<std::string> ids;
  std::vector<std::string> order_a, order_b;
  for (const auto& row : a->rows) {
    EXPECT_EQ(row[0].size(), 16u);
    ids.insert(row[0]);
    order_a.push_back(row[2]);
  }
  for (const auto& row : b->rows) order_b.push_back(row[2]);
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_NE(order_a, order_b);  // the order is drawn anew, not the input's
  std::vector<std::string> input_order;
  for (int i = 0; i < 200; ++i) input_order.push_back("c" + std::to_string(i));
  EXPECT_NE(order_a, input_order);
  EXPECT_NE(a->rows[0][0], b->rows[0][0]);
}

TEST(AnonLattice, R74_AValueFiledUnderTwoParentsKeepsItsFirstSoGroupsNeverSplit) {
  // Stryi is filed under Lviv, then once under Kyiv: were the second kept, generalising the
  // city to its region would split the Stryi group in two groups below k.
  Dataset d({{"city", {"city", "region"}}}, "", {});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(d.AddRow({{"Stryi", "Lviv"}}, "", {}).ok());
  ASSERT_TRUE(d.AddRow({{"Stryi", "Kyiv"}}, "", {}).ok());
  auto e = Evaluate(d, Config{.k = 4}, {1});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->groups, 1u);
  EXPECT_EQ(e->suppressed, 0u);
  EXPECT_EQ(d.Value(0, 1, 3), "Lviv");
}

TEST(AnonCsv, QuotesAndGuardsFormulas) {
  Output o;
  o.header = {"row", "city"};
  o.rows = {{"1", "Kyiv, centre"}, {"2", "=HYPERLINK(\"x\")"}, {"3", "30-34"}};
  EXPECT_EQ(ToCsv(o),
            "row,city\r\n1,\"Kyiv, centre\"\r\n2,\"'=HYPERLINK(\"\"x\"\")\"\r\n3,30-34\r\n");
}

}  // namespace
}  // namespace dovira::anon
