// Policy loading, checking, rendering and deadline arithmetic, each beside its ceiling:
//  - BM_TomlParseOnly: toml++ parsing the same bytes (the floor under any policy loader);
//  - BM_WorkingDaysNaive: a day-by-day loop over the same calendar (what a simple
//    implementation costs).
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "calendar/calendar.h"
#include "notice/render.h"
#include "policy/checker.h"

namespace {

std::string ReadPolicy() {
  std::ifstream in(std::string(DOVIRA_SOURCE_DIR) + "/policies/004_bbooster_masterclass.toml");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string& PolicyText() {
  static const std::string text = ReadPolicy();
  return text;
}

void BM_TomlParseOnly(benchmark::State& state) {
  const std::string& text = PolicyText();
  for (auto _ : state) {
    auto r = toml::parse(std::string_view(text), std::string_view("bench.toml"));
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_TomlParseOnly);

void BM_PolicyLoadAndCheck(benchmark::State& state) {
  const std::string& text = PolicyText();
  for (auto _ : state) {
    auto r = dovira::policy::CheckPolicyText(text, "bench.toml");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PolicyLoadAndCheck);

void BM_RenderNoticeHtml(benchmark::State& state) {
  auto r = dovira::policy::CheckPolicyText(PolicyText(), "bench.toml");
  for (auto _ : state) {
    auto html = dovira::notice::RenderNotice(*r.policy, "uk", dovira::notice::Format::kHtml);
    benchmark::DoNotOptimize(html);
  }
}
BENCHMARK(BM_RenderNoticeHtml);

dovira::calendar::Calendar KyivCalendar() {
  dovira::calendar::CalendarConfig c;
  c.timezone = "Europe/Kyiv";
  for (const char* d : {"2025-01-01", "2025-03-10", "2025-04-21", "2025-05-01", "2025-06-09",
                        "2025-06-30", "2025-08-25", "2025-10-14", "2025-12-25"}) {
    c.holidays.push_back(*dovira::calendar::ParseDate(d));
  }
  return *dovira::calendar::Calendar::Create(c);
}

void BM_DueDate30WorkingDays(benchmark::State& state) {
  auto cal = KyivCalendar();
  auto from = *dovira::calendar::ParseDate("2025-03-03");
  dovira::calendar::Term term{30, dovira::calendar::TermUnit::kWorkingDays, true};
  int64_t i = 0;
  for (auto _ : state) {
    auto due = dovira::calendar::DueDate(cal, from + (i++ % 365), term);
    benchmark::DoNotOptimize(due);
  }
}
BENCHMARK(BM_DueDate30WorkingDays);

void BM_WorkingDaysNaive(benchmark::State& state) {
  auto cal = KyivCalendar();
  auto from = *dovira::calendar::ParseDate("2025-03-03");
  int64_t i = 0;
  for (auto _ : state) {
    auto d = from + (i++ % 365);
    int n = 0;
    while (n < 30) {
      d = d + 1;
      if (cal.IsWorkingDay(d)) ++n;
    }
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_WorkingDaysNaive);

void BM_DueDate100000WorkingDays(benchmark::State& state) {
  auto cal = KyivCalendar();
  auto from = *dovira::calendar::ParseDate("2025-03-03");
  dovira::calendar::Term term{100000, dovira::calendar::TermUnit::kWorkingDays, true};
  for (auto _ : state) {
    auto due = dovira::calendar::DueDate(cal, from, term);
    benchmark::DoNotOptimize(due);
  }
}
BENCHMARK(BM_DueDate100000WorkingDays);

}  // namespace

BENCHMARK_MAIN();
