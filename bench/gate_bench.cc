// B12: the latency the purpose gate adds to each use of personal data, per check, as the median
// (p50) and the 99th percentile (p99), beside an empty baseline measured by the same harness in
// the same run:
//  - BM_GateCheck_Empty: the harness alone (two reads of the steady clock around nothing);
//  - BM_GateCheck_Decide: domain::Decide over policy 001 compiled and a subject's state (a role,
//    four purposes, 1,024 subjects, half of them with a marketing consent);
//  - BM_GateCheck_WithState: the same through the sharded GateState, as the services use it;
//  - BM_GateCheck_Audited: DataAccessService::Decide, the whole check `POST /process` makes
//    below HTTP: the actor's rules, the gate, a decision id and the audit entry committed to a
//    real SQLite store on disk before the answer.
// Every iteration times one check. The counters p50_ns and p99_ns are the percentiles of those
// times; added_p50_ns and added_p99_ns subtract the empty baseline's, which is the cost of timing.
// docs/performance.md (section B12) has the figures.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "bench_env.h"
#include "domain/gate.h"
#include "policy/checker.h"

namespace {

using namespace dovira;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

struct Percentiles {
  double p50 = 0, p99 = 0;
};

Percentiles Of(std::vector<int64_t>& ns) {
  if (ns.empty()) return {};
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return static_cast<double>(ns[static_cast<size_t>(q * (ns.size() - 1))]); };
  return {at(0.50), at(0.99)};
}

// Times `check` once per iteration and reports the percentiles, and what they add to the
// harness's own (`baseline`, measured the same way with nothing between the clock reads).
template <typename Check>
Percentiles Measure(benchmark::State& state, const Percentiles* baseline, Check&& check) {
  std::vector<int64_t> ns;
  ns.reserve(1 << 20);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    check();
    const auto t1 = Clock::now();
    ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  const Percentiles p = Of(ns);
  state.counters["p50_ns"] = p.p50;
  state.counters["p99_ns"] = p.p99;
  if (baseline != nullptr) {
    state.counters["added_p50_ns"] = p.p50 - baseline->p50;
    state.counters["added_p99_ns"] = p.p99 - baseline->p99;
  }
  state.SetItemsProcessed(state.iterations());
  return p;
}

Percentiles& Baseline() {
  static Percentiles p;
  return p;
}

struct GateFixture {
  std::shared_ptr<const domain::CompiledPolicy> policy;
  std::vector<domain::SubjectState> subjects;
  std::vector<domain::GateRequest> requests;
  domain::GateState state;
  std::vector<SubjectId> ids;
};

GateFixture& Gate() {
  static GateFixture* f = [] {
    auto* g = new GateFixture;
    auto p = policy::LoadCheckedPolicy(std::string(DOVIRA_SOURCE_DIR) +
                                       "/policies/001_vkluchi_zhizn.toml");
    g->policy = *domain::CompiledPolicy::Compile(*p);
    const int64_t now = 1741000000000000;
    for (int i = 0; i < 1024; ++i) {
      domain::SubjectState s;
      s.kind = static_cast<uint16_t>(g->policy->SubjectKindIndex("buyer"));
      if (i % 2 == 0) {
        s.Grant(static_cast<size_t>(g->policy->PurposeIndex("marketing_mailing")), now - 1000,
                domain::kForever);
      }
      SubjectId id("subject-" + std::to_string(i));
      g->state.Update(id, [&](domain::SubjectState& x) { x = s; });
      g->ids.push_back(id);
      g->subjects.push_back(std::move(s));
    }
    for (const char* purpose :
         {"marketing_mailing", "contract_performance", "identification", "fraud_prevention"}) {
      domain::GateRequest r;
      r.purpose = g->policy->PurposeIndex(purpose);
      r.role = g->policy->RoleIndex("support");
      r.all_fields = true;
      r.now_us = now;
      g->requests.push_back(r);
    }
    return g;
  }();
  return *f;
}

void BM_GateCheck_Empty(benchmark::State& state) {
  Baseline() = Measure(state, nullptr, [] {});
}
BENCHMARK(BM_GateCheck_Empty)->Iterations(1 << 20);

void BM_GateCheck_Decide(benchmark::State& state) {
  GateFixture& g = Gate();
  size_t i = 0;
  Measure(state, &Baseline(), [&] {
    domain::Decision d = domain::Decide(g.policy.get(), &g.subjects[i & 1023], g.requests[i & 3]);
    benchmark::DoNotOptimize(d);
    ++i;
  });
}
BENCHMARK(BM_GateCheck_Decide)->Iterations(1 << 20);

void BM_GateCheck_WithState(benchmark::State& state) {
  GateFixture& g = Gate();
  size_t i = 0;
  Measure(state, &Baseline(), [&] {
    auto d = g.state.With(g.ids[i & 1023], [&](const domain::SubjectState* s) {
      return domain::Decide(g.policy.get(), s, g.requests[i & 3]);
    });
    benchmark::DoNotOptimize(d);
    ++i;
  });
}
BENCHMARK(BM_GateCheck_WithState)->Iterations(1 << 20);

void BM_GateCheck_Audited(benchmark::State& state) {
  bench::Env env;
  auto subject = env.subjects->Intake(env.school, bench::PaymentForm(0),
                                      services::Actor::Public(), {});
  if (!subject.ok()) {
    state.SkipWithError(subject.error().message.c_str());
    return;
  }
  services::Actor key;
  key.kind = services::Actor::Kind::kApiKey;
  key.id = "bench";
  key.role = "support";
  key.purposes = {"contract_performance"};
  const services::AccessRequest req{subject->subject, "contract_performance", {},
                                    domain::Operation::kRead};
  bool all_allowed = true;
  Measure(state, &Baseline(), [&] {
    auto r = env.access->Decide(env.school, req, key, {});
    all_allowed = all_allowed && r.ok() && r->allowed;
  });
  if (!all_allowed) state.SkipWithError("a check was not allowed");
}
BENCHMARK(BM_GateCheck_Audited)->Iterations(20000)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
