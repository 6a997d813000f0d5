// The retention job (R70-R72) over a school of `total` subjects of which `due` have a retention
// ending now: the job reads the retention_due index up to today, so its time grows with the
// subjects due and not with the school's size.
//
// Setup, outside the timing: policy 001; `total - due` subjects stored directly as rows (a
// subject, and a retention_due row for a day years ahead, as the index holds them for every
// subject), then per iteration `due` learners taken in through the payment form whose agreement
// ended an hour ago. The timed part is one RetentionService::Run: the catch-up pass (only what
// changed since the last run) and the job, which destroys each due learner's contract data
// (records, lookups, audit entries, one commit per subject).
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>

#include "bench_env.h"
#include "services/retention.h"

namespace dovira::bench {
namespace {

struct RetentionEnv {
  Env env;
  std::unique_ptr<services::RetentionService> retention;
  int next = 0;

  explicit RetentionEnv(int64_t background) {
    services::Deps deps{*env.store, *env.crypto, *env.keys, env.clock};
    retention = std::make_unique<services::RetentionService>(deps, *env.schools, *env.subjects,
                                                             *env.audit, *env.disclosures);
    const Timestamp long_ago = env.clock.Now() - std::chrono::hours(24 * 400);
    constexpr int64_t kPerBatch = 20000;
    for (int64_t i = 0; i < background; i += kPerBatch) {
      ports::WriteBatch b;
      for (int64_t j = i; j < std::min(background, i + kPerBatch); ++j) {
        ports::SubjectRow s;
        s.school = env.school;
        s.id = SubjectId("bg_" + std::to_string(j));
        s.kind = "buyer";
        s.pseudonym = "pn_" + std::to_string(j);
        s.policy_version = "v";
        s.channel = "web";
        s.source = "subject";
        s.state = "active";
        s.sealed_profile = "x";
        s.created_at = s.updated_at = long_ago;
        ports::RetentionDueRow r;
        r.school = env.school;
        r.subject = s.id;
        r.purpose = "contract_performance";
        // Spread over the coming years, none due today.
        r.due_date = "20" + std::to_string(27 + j % 10) + "-0" + std::to_string(1 + j % 9) + "-15";
        r.due_at = env.clock.Now() + std::chrono::hours(24 * 700);
        r.trigger = "agreement_end";
        r.trigger_at = r.due_at;
        b.subjects.push_back(std::move(s));
        b.retention_due.push_back(std::move(r));
      }
      if (!env.store->Commit(std::move(b)).ok()) std::abort();
    }
    // The first catch-up reads what changed since the beginning: done here, not timed.
    if (!retention->Run(env.school, {}).ok()) std::abort();
  }

  void AddDue(int64_t due) {
    const Timestamp ended = env.clock.Now() - std::chrono::hours(1);
    for (int64_t i = 0; i < due; ++i) {
      auto taken = env.subjects->Intake(env.school, PaymentForm(next++),
                                        services::Actor::Public(), {});
      if (!taken.ok()) std::abort();
      if (!retention
               ->RecordEvent(env.school, taken->subject, "agreement_end", ended, Officer(), {})
               .ok()) {
        std::abort();
      }
    }
  }
};

RetentionEnv& Shared(int64_t total) {
  static std::map<int64_t, std::unique_ptr<RetentionEnv>> envs;
  auto& e = envs[total];
  if (!e) e = std::make_unique<RetentionEnv>(total);
  return *e;
}

void BM_RetentionRun(benchmark::State& state) {
  const int64_t total = state.range(0);
  const int64_t due = state.range(1);
  RetentionEnv& e = Shared(total);
  int64_t destroyed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    e.AddDue(due);
    state.ResumeTiming();
    auto report = e.retention->Run(e.env.school, {});
    if (!report.ok()) {
      state.SkipWithError(report.error().message.c_str());
      break;
    }
    destroyed += report->fields_destroyed;
    if (report->subjects_checked != due) {
      state.SkipWithError("the run did not check exactly the due subjects");
      break;
    }
  }
  state.counters["due"] = static_cast<double>(due);
  state.counters["subjects"] = static_cast<double>(total);
  state.counters["fields_destroyed_per_run"] =
      benchmark::Counter(static_cast<double>(destroyed), benchmark::Counter::kAvgIterations);
  state.counters["per_due_subject"] = benchmark::Counter(
      static_cast<double>(due), benchmark::Counter::kIsIterationInvariantRate |
                                    benchmark::Counter::kInvert);
}

// {background subjects, due subjects}; DOVIRA_RETENTION_BENCH_TOTAL overrides the large size.
void Sizes(benchmark::internal::Benchmark* b) {
  const char* env = std::getenv("DOVIRA_RETENTION_BENCH_TOTAL");
  const int64_t large = env ? std::atoll(env) : 1000000;
  for (int64_t total : {int64_t{10000}, large}) {
    for (int64_t due : {10, 100, 1000}) b->Args({total, due});
  }
}
BENCHMARK(BM_RetentionRun)->Apply(Sizes)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dovira::bench

BENCHMARK_MAIN();
