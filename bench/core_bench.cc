// The core engine beside the machine's own ceilings, measured in the same run:
//  - gate decisions in process (target: 1,000,000 a second on one core);
//  - durable intake (subject, records, consent, audit, committed with fsync) against raw SQLite
//    inserts of the same bytes with the same durability (WAL, synchronous=FULL, one transaction
//    per submission);
//  - audit-chain verification against raw BLAKE2b over the same bytes.
// bench/run.py prints the ratios and writes docs/performance.md.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>

#include "bench_env.h"
#include "domain/gate.h"
#include "policy/checker.h"

namespace {

using namespace dovira;  // NOLINT(google-build-using-namespace)
using bench::Env;
using bench::PaymentForm;
using bench::TempDir;

// ---- gate ----

struct GateFixture {
  std::shared_ptr<const domain::CompiledPolicy> policy;
  std::vector<domain::SubjectState> subjects;
  std::vector<domain::GateRequest> requests;
};

GateFixture& Gate() {
  static GateFixture f = [] {
    GateFixture g;
    auto p = policy::LoadCheckedPolicy(std::string(DOVIRA_SOURCE_DIR) +
                                       "/policies/001_vkluchi_zhizn.toml");
    g.policy = *domain::CompiledPolicy::Compile(*p);
    const int64_t now = 1741000000000000;
    for (int i = 0; i < 1024; ++i) {
      domain::SubjectState s;
      s.kind = static_cast<uint16_t>(g.policy->SubjectKindIndex("buyer"));
      if (i % 2 == 0) {
        s.Grant(static_cast<size_t>(g.policy->PurposeIndex("marketing_mailing")), now - 1000,
                domain::kForever);
      }
      g.subjects.push_back(std::move(s));
    }
    for (const char* purpose :
         {"marketing_mailing", "contract_performance", "identification", "fraud_prevention"}) {
      domain::GateRequest r;
      r.purpose = g.policy->PurposeIndex(purpose);
      r.role = g.policy->RoleIndex("support");
      r.all_fields = true;
      r.now_us = now;
      g.requests.push_back(r);
    }
    return g;
  }();
  return f;
}

void BM_GateDecision(benchmark::State& state) {
  GateFixture& g = Gate();
  size_t i = 0;
  int64_t allowed = 0;
  for (auto _ : state) {
    const auto& s = g.subjects[i & 1023];
    const auto& r = g.requests[i & 3];
    domain::Decision d = domain::Decide(g.policy.get(), &s, r);
    allowed += d.allowed();
    ++i;
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GateDecision);

// The same through GateState (the sharded map and its shared lock), as the services use it.
void BM_GateDecisionWithState(benchmark::State& state) {
  GateFixture& g = Gate();
  static domain::GateState gs;
  static std::vector<SubjectId> ids = [&] {
    std::vector<SubjectId> v;
    for (size_t k = 0; k < g.subjects.size(); ++k) {
      SubjectId id("subject-" + std::to_string(k));
      gs.Update(id, [&](domain::SubjectState& s) { s = g.subjects[k]; });
      v.push_back(id);
    }
    return v;
  }();
  size_t i = 0;
  for (auto _ : state) {
    auto d = gs.With(ids[i & 1023], [&](const domain::SubjectState* s) {
      return domain::Decide(g.policy.get(), s, g.requests[i & 3]);
    });
    benchmark::DoNotOptimize(d);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GateDecisionWithState);

// ---- durable intake vs raw SQLite ----

// Bytes one intake writes (subject, key, sealed records, consent, lookup and audit rows), counted
// once so that the raw benchmark inserts as much.
size_t IntakeBytes() {
  static size_t bytes = [] {
    Env env;
    uint64_t before = 0;
    (void)before;
    auto r = env.subjects->Intake(env.school, PaymentForm(0), services::Actor::Public(), {});
    size_t n = 0;
    auto recs = env.store->GetRecords(env.school, r->subject);
    for (const auto& rec : *recs) n += rec.sealed_value.size() + 120;
    n += 600;   // subject row, key, lookups
    n += 700;   // consent row with text and evidence
    n += 2 * 400;  // two audit entries
    return n;
  }();
  return bytes;
}

void BM_IntakeDurable(benchmark::State& state) {
  static Env* env = nullptr;
  if (state.thread_index() == 0) env = new Env();
  static std::atomic<int> counter{0};
  for (auto _ : state) {
    auto r = env->subjects->Intake(env->school, PaymentForm(counter++), services::Actor::Public(),
                                   {});
    if (!r.ok()) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["fsync_groups"] = static_cast<double>(env->store->commits());
    delete env;
    env = nullptr;
  }
}
BENCHMARK(BM_IntakeDurable)->UseRealTime()->Threads(1);
BENCHMARK(BM_IntakeDurable)->UseRealTime()->Threads(16);

void BM_RawSqliteInsertDurable(benchmark::State& state) {
  std::string dir = TempDir();
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/raw.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
  sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)", nullptr, nullptr,
               nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (payload) VALUES (?)", -1, &ins, nullptr);
  const std::string payload(IntakeBytes() / 8, 'x');  // eight rows per submission, like ours
  for (auto _ : state) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < 8; ++i) {
      sqlite3_bind_blob(ins, 1, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
      sqlite3_step(ins);
      sqlite3_reset(ins);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
  sqlite3_finalize(ins);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RawSqliteInsertDurable)->UseRealTime();

// ---- audit verification vs raw BLAKE2b ----

struct AuditFixture {
  std::unique_ptr<Env> env;
  std::vector<std::string> canonical;  // the bytes verification hashes
  int64_t entries = 0;
};

AuditFixture& Audit() {
  static AuditFixture f = [] {
    AuditFixture a;
    a.env = std::make_unique<Env>();
    constexpr int kEntries = 20000;
    for (int b = 0; b < kEntries / 500; ++b) {
      ports::WriteBatch batch;
      for (int i = 0; i < 500; ++i) {
        services::AuditEvent e;
        e.actor = "staff:st1";
        e.role = "support";
        e.action = "gate.read";
        e.subject_ref = "pn_0123456789abcdef0123456789abcdef";
        e.purpose = "contract_performance";
        e.fields = "email,first_name,mobile_phone";
        e.outcome = "allow";
        e.reason = "allowed";
        e.decision_id = "dec_" + std::to_string(b * 500 + i);
        e.request_id = "req_" + std::to_string(b * 500 + i);
        a.env->audit->Add(batch, a.env->school, std::move(e));
      }
      (void)a.env->store->Commit(std::move(batch));
    }
    (void)a.env->store->ForEachAudit(a.env->school, 0, [&](const ports::AuditRow& r) {
      a.canonical.push_back(services::AuditLog::Canonical(r));
      return true;
    });
    a.entries = static_cast<int64_t>(a.canonical.size());
    return a;
  }();
  return f;
}

void BM_AuditVerify(benchmark::State& state) {
  AuditFixture& a = Audit();
  for (auto _ : state) {
    auto v = a.env->audit->Verify(a.env->school);
    if (!v.ok() || !v->ok) state.SkipWithError("verification failed");
  }
  state.SetItemsProcessed(state.iterations() * a.entries);
}
BENCHMARK(BM_AuditVerify)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RawBlake2bSameBytes(benchmark::State& state) {
  AuditFixture& a = Audit();
  for (auto _ : state) {
    std::string prev;
    for (const auto& c : a.canonical) prev = a.env->crypto->Hash2(prev, c);
    benchmark::DoNotOptimize(prev);
  }
  state.SetItemsProcessed(state.iterations() * a.entries);
}
BENCHMARK(BM_RawBlake2bSameBytes)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
