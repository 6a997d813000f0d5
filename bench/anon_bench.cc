// Anonymising a school (R74): 100,000 generated learners with three quasi-identifiers (age from
// the birth date with 5/10/20-year bands, city → region → country, enrolment date → month →
// year) and a sensitive course, k = 10, ℓ = 3, 1% suppression: the whole lattice search and the
// output rows. The ceiling beside it is one sort of the same number of 64-bit keys, the unit of
// work each evaluated lattice node costs.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "anon/anonymiser.h"
#include "anon/hierarchy.h"

namespace {

using namespace dovira::anon;  // NOLINT(google-build-using-namespace)

Dataset School(size_t n) {
  const std::vector<int> bands = {5, 10, 20};
  Dataset d({{"age", AgeLevelNames(bands)},
             {"city", {"city", "region", "country"}},
             {"enrolled", DateLevelNames()}},
            "course", {});
  std::mt19937_64 rng(2026);
  std::vector<double> w;
  for (int i = 0; i < 60; ++i) w.push_back(1.0 / (i + 1));
  std::discrete_distribution<int> city(w.begin(), w.end());
  std::discrete_distribution<int> month({6, 8, 5, 4, 4, 3, 2, 6, 40, 12, 6, 4});
  std::discrete_distribution<int> course({30, 20, 15, 10, 10, 8, 5, 2});
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    const int age = rng() % 10 < 7 ? 14 + static_cast<int>(rng() % 5) : 19 + static_cast<int>(rng() % 50);
    const int c = city(rng);
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", 2023 + static_cast<int>(rng() % 4),
                  1 + month(rng), static_cast<int>(1 + rng() % 28));
    auto enrolled = DateLevels(buf);
    (void)d.AddRow({AgeLevels(age, bands),
                    {"city" + std::to_string(c), "region" + std::to_string(c % 12),
                     c % 12 < 9 ? "UA" : "PL"},
                    *enrolled},
                   "course" + std::to_string(course(rng)), {});
  }
  return d;
}

void BM_Anonymise100k(benchmark::State& state) {
  const Dataset d = School(100000);
  const Config c{.k = 10, .l = 3, .max_suppression = 0.01};
  size_t evaluated = 0;
  for (auto _ : state) {
    auto out = Anonymise(d, c, 7);
    if (!out.ok()) state.SkipWithError("anonymise failed");
    evaluated = out->report.nodes_evaluated;
    benchmark::DoNotOptimize(out->rows.data());
  }
  state.counters["nodes_evaluated"] = static_cast<double>(evaluated);
  state.counters["records"] = 100000;
}
BENCHMARK(BM_Anonymise100k)->Unit(benchmark::kMillisecond);

void BM_Ceiling_Sort100kKeys(benchmark::State& state) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> keys(100000);
  for (auto& k : keys) k = rng();
  for (auto _ : state) {
    std::vector<uint64_t> copy = keys;
    std::sort(copy.begin(), copy.end());
    benchmark::DoNotOptimize(copy.data());
  }
}
BENCHMARK(BM_Ceiling_Sort100kKeys)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
