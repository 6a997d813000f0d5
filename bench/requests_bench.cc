// The rights-request workflows beside the machine's own ceilings, measured in the same run:
//  - the due list: the first page of 50 open requests by due date out of 100,000 open requests of
//    one school, a page from a keyset cursor in the middle, and the overdue ones only, through
//    SqliteStore::ListRequests (and RequestService::List, which GET /requests calls), against a
//    raw indexed SELECT of the same 50 rows from a table of the same shape with the same rows;
//  - erasure of a subject with 10 and with 10,000 records through SubjectService::DestroySubject
//    (key destroyed in the vault, every row of the subject deleted, tombstone and audit entry,
//    durable), against a raw libsodium key wipe with a durable DELETE of the key row and a
//    durable SQLite DELETE of the same number of rows from a table of the same shape.
// The access package is measured over HTTP against the real server (bench/package_bench.py).
// bench/run.py prints the ratios and writes docs/performance.md.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_env.h"
#include "calendar/term.h"
#include "domain/requests.h"

namespace {

using namespace dovira;  // NOLINT(google-build-using-namespace)
using bench::Env;

constexpr int kOpenRequests = 100000;
constexpr size_t kPage = 50;

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::abort();
  }
}

void Exec(sqlite3* db, const char* sql) {
  Check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql);
}

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  Check(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), db, sql);
  return s;
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

int64_t Us(Timestamp t) { return t.time_since_epoch().count(); }

// ---- the due list ----

enum class Page { kFirst, kMiddle, kOverdue };

// The columns of the store's requests table (data.db migration 0004), as the raw ceiling keeps
// them: the same table, the same index, the same rows.
constexpr char kRawRequestsSchema[] =
    "CREATE TABLE requests (school_id TEXT NOT NULL, request_id TEXT NOT NULL,"
    " type TEXT NOT NULL, state TEXT NOT NULL, subject_id TEXT NOT NULL,"
    " open INTEGER NOT NULL, overdue INTEGER NOT NULL, assignee TEXT NOT NULL,"
    " received_at INTEGER NOT NULL, due_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " body TEXT NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (school_id, request_id))"
    " STRICT, WITHOUT ROWID;"
    "CREATE INDEX requests_by_due ON requests (school_id, open, due_at, request_id);";
#define RAW_COLUMNS                                                                   \
  "SELECT school_id, request_id, type, state, subject_id, open, overdue, assignee,"   \
  " received_at, due_at, updated_at, body, sealed FROM requests WHERE school_id = ?1" \
  " AND open = 1"
constexpr char kRawFirst[] = RAW_COLUMNS " ORDER BY due_at, request_id LIMIT 50";
constexpr char kRawMiddle[] =
    RAW_COLUMNS " AND (due_at, request_id) > (?2, ?3) ORDER BY due_at, request_id LIMIT 50";
constexpr char kRawOverdue[] = RAW_COLUMNS " AND overdue = 1 ORDER BY due_at, request_id LIMIT 50";
#undef RAW_COLUMNS

struct DueListFixture {
  std::unique_ptr<Env> env;
  Timestamp mid_due{};  // the keyset cursor of the middle page
  std::string mid_id;
  std::string raw_dir;
  sqlite3* raw = nullptr;
  sqlite3_stmt* raw_first = nullptr;
  sqlite3_stmt* raw_middle = nullptr;
  sqlite3_stmt* raw_overdue = nullptr;
  int overdue = 0;
  std::string setup_error;

  DueListFixture() = default;
  DueListFixture(const DueListFixture&) = delete;
  DueListFixture& operator=(const DueListFixture&) = delete;
  ~DueListFixture() {
    for (sqlite3_stmt* s : {raw_first, raw_middle, raw_overdue}) sqlite3_finalize(s);
    if (raw != nullptr) sqlite3_close(raw);
    if (!raw_dir.empty()) std::filesystem::remove_all(raw_dir);
  }

  ports::RequestFilter Filter(Page page) const {
    ports::RequestFilter f;
    f.open_only = true;
    f.limit = kPage;
    if (page == Page::kMiddle) {
      f.after_due = mid_due;
      f.after_id = mid_id;
    }
    if (page == Page::kOverdue) f.overdue_only = true;
    return f;
  }
  sqlite3_stmt* RawStatement(Page page) const {
    return page == Page::kFirst ? raw_first : page == Page::kMiddle ? raw_middle : raw_overdue;
  }
};

// One request as the raw ceiling reads it: every column copied out, as the store does.
struct RawRow {
  std::string school, id, type, state, subject, assignee, body, sealed;
  int64_t open = 0, overdue = 0, received = 0, due = 0, updated = 0;
};

std::string ColumnText(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string(static_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

std::vector<RawRow> RawList(const DueListFixture& f, Page page, const std::string& school) {
  sqlite3_stmt* s = f.RawStatement(page);
  sqlite3_reset(s);
  BindText(s, 1, school);
  if (page == Page::kMiddle) {
    sqlite3_bind_int64(s, 2, Us(f.mid_due));
    BindText(s, 3, f.mid_id);
  }
  std::vector<RawRow> rows;
  rows.reserve(kPage);
  while (sqlite3_step(s) == SQLITE_ROW) {
    RawRow r;
    r.school = ColumnText(s, 0);
    r.id = ColumnText(s, 1);
    r.type = ColumnText(s, 2);
    r.state = ColumnText(s, 3);
    r.subject = ColumnText(s, 4);
    r.open = sqlite3_column_int64(s, 5);
    r.overdue = sqlite3_column_int64(s, 6);
    r.assignee = ColumnText(s, 7);
    r.received = sqlite3_column_int64(s, 8);
    r.due = sqlite3_column_int64(s, 9);
    r.updated = sqlite3_column_int64(s, 10);
    r.body = ColumnText(s, 11);
    r.sealed = ColumnText(s, 12);
    rows.push_back(std::move(r));
  }
  return rows;
}

// 100,000 open requests of one school, received over the last 32 days and due 30 calendar days
// after receipt at the end of the local day (so many share a due instant and the id breaks the
// tie); those past due are marked overdue, as the deadline job marks them. Each is a copy of a
// request filed through RequestService::File, with its own id, subject and times.
DueListFixture& DueList() {
  static std::unique_ptr<DueListFixture> f = [] {
    auto fixture = std::make_unique<DueListFixture>();
    DueListFixture& d = *fixture;
    d.env = std::make_unique<Env>();
    Env& env = *d.env;
    auto subject =
        env.subjects->Intake(env.school, bench::PaymentForm(0), services::Actor::Public(), {});
    if (!subject.ok()) {
      d.setup_error = "intake: " + subject.error().message;
      return fixture;
    }
    services::FileRequest file;
    file.type = "access";
    file.subject = subject->subject;
    file.channel = "email";
    file.reply_email = "learner0@example.com";
    file.lang = "uk";
    auto filed = env.requests->File(env.school, file, bench::Officer(), {});
    if (!filed.ok()) {
      d.setup_error = "filing: " + filed.error().message;
      return fixture;
    }
    auto model = env.store->GetRequest(env.school, filed->id);
    if (!model.ok() || !*model) {
      d.setup_error = "the filed request is not in the store";
      return fixture;
    }
    auto rt = env.schools->Get(env.school);
    const calendar::Calendar cal = (*rt)->policy()->calendar();
    const calendar::Term term = *calendar::ParseTerm("30 calendar days");

    const Timestamp now = env.clock.Now();
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int64_t> age_us(0, int64_t{32} * 86400 * 1000000);
    std::vector<ports::RequestRow> rows;
    rows.reserve(kOpenRequests);
    for (int i = 0; i < kOpenRequests; ++i) {
      ports::RequestRow r = **model;
      r.id = env.crypto->NewId();
      r.subject = "bench-subject-" + std::to_string(i);
      r.received_at = now - std::chrono::microseconds(age_us(rng));
      r.due_at = *domain::DueAt(cal, r.received_at, term);
      r.updated_at = r.received_at;
      r.open = true;
      r.overdue = r.due_at < now;
      r.assignee = i % 3 == 0 ? "" : "st_" + std::to_string(i % 7);
      d.overdue += r.overdue;
      rows.push_back(std::move(r));
    }
    // The store, in big batches.
    constexpr size_t kBatch = 5000;
    for (size_t i = 0; i < rows.size(); i += kBatch) {
      ports::WriteBatch batch;
      batch.requests.assign(
          rows.begin() + static_cast<ptrdiff_t>(i),
          rows.begin() + static_cast<ptrdiff_t>(std::min(rows.size(), i + kBatch)));
      if (Status st = env.store->Commit(std::move(batch)); !st.ok()) {
        d.setup_error = "commit: " + st.error().message;
        return fixture;
      }
    }
    // The middle page starts after the 50,000th request in due order.
    std::vector<std::pair<int64_t, std::string>> order;
    order.reserve(rows.size());
    for (const auto& r : rows) order.emplace_back(Us(r.due_at), r.id);
    std::sort(order.begin(), order.end());
    const auto& mid = order[order.size() / 2];
    d.mid_due = Timestamp(std::chrono::microseconds(mid.first));
    d.mid_id = mid.second;

    // The ceiling: the same rows in a bare database with the same table and index.
    d.raw_dir = bench::TempDir();
    Check(sqlite3_open((d.raw_dir + "/raw.db").c_str(), &d.raw), d.raw, "open");
    Exec(d.raw, "PRAGMA journal_mode=WAL");
    Exec(d.raw, kRawRequestsSchema);
    Exec(d.raw, "BEGIN");
    sqlite3_stmt* ins =
        Prepare(d.raw, "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const auto& r : rows) {
      BindText(ins, 1, r.school.value());
      BindText(ins, 2, r.id);
      BindText(ins, 3, r.type);
      BindText(ins, 4, r.state);
      BindText(ins, 5, r.subject);
      sqlite3_bind_int(ins, 6, r.open);
      sqlite3_bind_int(ins, 7, r.overdue);
      BindText(ins, 8, r.assignee);
      sqlite3_bind_int64(ins, 9, Us(r.received_at));
      sqlite3_bind_int64(ins, 10, Us(r.due_at));
      sqlite3_bind_int64(ins, 11, Us(r.updated_at));
      BindText(ins, 12, r.body);
      sqlite3_bind_blob(ins, 13, r.sealed.data(), static_cast<int>(r.sealed.size()),
                        SQLITE_TRANSIENT);
      Check(sqlite3_step(ins), d.raw, "insert");
      sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    Exec(d.raw, "COMMIT");
    d.raw_first = Prepare(d.raw, kRawFirst);
    d.raw_middle = Prepare(d.raw, kRawMiddle);
    d.raw_overdue = Prepare(d.raw, kRawOverdue);

    // Both sides must answer with the same 50 requests, in the same order.
    for (Page page : {Page::kFirst, Page::kMiddle, Page::kOverdue}) {
      auto ours = env.store->ListRequests(env.school, d.Filter(page));
      auto raw = RawList(d, page, env.school.value());
      bool same = ours.ok() && ours->size() == kPage && raw.size() == kPage;
      for (size_t i = 0; same && i < kPage; ++i) same = (*ours)[i].id == raw[i].id;
      if (!same) d.setup_error = "the store and the raw query disagree on a page";
    }
    return fixture;
  }();
  return *f;
}

void BM_DueList(benchmark::State& state, Page page) {
  DueListFixture& f = DueList();
  if (!f.setup_error.empty()) {
    state.SkipWithError(f.setup_error.c_str());
    return;
  }
  const ports::RequestFilter filter = f.Filter(page);
  for (auto _ : state) {
    auto rows = f.env->store->ListRequests(f.env->school, filter);
    if (!rows.ok() || rows->size() != kPage) state.SkipWithError("ListRequests failed");
    benchmark::DoNotOptimize(rows);
  }
  state.counters["open"] = kOpenRequests;
  state.counters["overdue"] = f.overdue;
}
BENCHMARK_CAPTURE(BM_DueList, first_page, Page::kFirst)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DueList, middle_page, Page::kMiddle)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DueList, overdue_only, Page::kOverdue)->Unit(benchmark::kMillisecond);

// What GET /v1/schools/{s}/requests calls: the store's page with each request's JSON body read.
void BM_DueListService(benchmark::State& state, Page page) {
  DueListFixture& f = DueList();
  if (!f.setup_error.empty()) {
    state.SkipWithError(f.setup_error.c_str());
    return;
  }
  const ports::RequestFilter filter = f.Filter(page);
  for (auto _ : state) {
    auto rows = f.env->requests->List(f.env->school, filter);
    if (!rows.ok() || rows->size() != kPage) state.SkipWithError("List failed");
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK_CAPTURE(BM_DueListService, first_page, Page::kFirst)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DueListService, middle_page, Page::kMiddle)->Unit(benchmark::kMillisecond);

void BM_RawSqliteDueList(benchmark::State& state, Page page) {
  DueListFixture& f = DueList();
  if (!f.setup_error.empty()) {
    state.SkipWithError(f.setup_error.c_str());
    return;
  }
  const std::string school = f.env->school.value();
  for (auto _ : state) {
    auto rows = RawList(f, page, school);
    if (rows.size() != kPage) state.SkipWithError("raw select failed");
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK_CAPTURE(BM_RawSqliteDueList, first_page, Page::kFirst)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RawSqliteDueList, middle_page, Page::kMiddle)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RawSqliteDueList, overdue_only, Page::kOverdue)->Unit(benchmark::kMillisecond);

// ---- erasure ----

// A value as long as a typical field of the payment form.
std::string RecordValue(int i) { return "Курс англійської мови, заняття " + std::to_string(i); }

// A subject taken in through the subscription form, then given more records of the same fields
// (sealed under its own key, in every store the field is kept in) until it has `count`.
Result<SubjectId> SubjectWithRecords(Env& env, int i, int count) {
  auto receipt =
      env.subjects->Intake(env.school, bench::SubscriptionForm(i), services::Actor::Public(), {});
  if (!receipt.ok()) return receipt.error();
  const SubjectId subject = receipt->subject;
  auto records = env.store->GetRecords(env.school, subject);
  if (!records.ok()) return records.error();
  const std::vector<ports::RecordRow> model = *records;
  if (static_cast<int>(model.size()) > count) {
    return Error::Invalid("the subscription form alone makes " + std::to_string(model.size()) +
                          " records");
  }
  auto key = env.subjects->SubjectKey(env.school, subject);
  if (!key.ok()) return key.error();
  ports::WriteBatch batch;
  for (int n = static_cast<int>(model.size()); n < count; ++n) {
    ports::RecordRow r = model[static_cast<size_t>(n) % model.size()];
    r.id = RecordId(subject.value() + "-" + std::to_string(n));
    r.sealed_value =
        env.subjects->SealValue(*key, env.school, subject, r.field, r.id.value(), RecordValue(n));
    batch.records.push_back(std::move(r));
    if (batch.records.size() == 5000) {
      if (Status st = env.store->Commit(std::move(batch)); !st.ok()) return st.error();
      batch = ports::WriteBatch{};
    }
  }
  if (!batch.records.empty()) {
    if (Status st = env.store->Commit(std::move(batch)); !st.ok()) return st.error();
  }
  return subject;
}

void BM_Erasure(benchmark::State& state) {
  static auto env = std::make_unique<Env>();  // both sizes run on one store
  static int next = 0;
  const int count = static_cast<int>(state.range(0));
  const services::Actor officer = bench::Officer();
  for (auto _ : state) {
    auto subject = SubjectWithRecords(*env, ++next, count);
    if (!subject.ok()) {
      state.SkipWithError(subject.error().message.c_str());
      break;
    }
    const auto start = std::chrono::steady_clock::now();
    Status st = env->subjects->DestroySubject(env->school, *subject, "request", officer, {});
    const auto took = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(std::chrono::duration<double>(took).count());
    if (!st.ok()) {
      state.SkipWithError(st.error().message.c_str());
      break;
    }
    auto left = env->store->GetRecords(env->school, *subject);
    if (!left.ok() || !left->empty()) state.SkipWithError("records left after erasure");
  }
  state.counters["records"] = count;
}
// Half a second of erasures per size at least (bench/run.py repeats it five times).
BENCHMARK(BM_Erasure)
    ->MinTime(0.5)
    ->ArgName("records")
    ->Arg(10)
    ->Arg(10000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The ceiling: a 32-byte key wiped with sodium_memzero and its row deleted from a bare key
// database (one durable commit), then the subject's rows deleted from a bare data database with
// the records table's shape (a second durable commit): the two fsyncs the store also makes, one
// per database, and nothing else (no tombstone, no audit entry, no consents or lookups). With
// secure_delete:1 SQLite overwrites the deleted rows with zeros, as the store's connections do.
void BM_RawErasure(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const bool secure_delete = state.range(1) != 0;
  const std::string dir = bench::TempDir();
  sqlite3 *data = nullptr, *keys = nullptr;
  Check(sqlite3_open((dir + "/data.db").c_str(), &data), data, "open");
  Check(sqlite3_open((dir + "/keys.db").c_str(), &keys), keys, "open");
  for (sqlite3* db : {data, keys}) {
    Exec(db, "PRAGMA journal_mode=WAL");
    Exec(db, "PRAGMA synchronous=FULL");
    Exec(db, secure_delete ? "PRAGMA secure_delete=ON" : "PRAGMA secure_delete=OFF");
  }
  Exec(keys,
       "CREATE TABLE subject_keys (school_id TEXT NOT NULL, subject_id TEXT NOT NULL,"
       " wrapped_key BLOB NOT NULL, PRIMARY KEY (school_id, subject_id)) STRICT,"
       " WITHOUT ROWID");
  Exec(data,
       "CREATE TABLE records (school_id TEXT NOT NULL, record_id TEXT NOT NULL,"
       " subject_id TEXT NOT NULL, store TEXT NOT NULL, field TEXT NOT NULL,"
       " category TEXT NOT NULL, sealed_value BLOB NOT NULL, source TEXT NOT NULL,"
       " channel TEXT NOT NULL, form TEXT NOT NULL, policy_version TEXT NOT NULL,"
       " collected_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
       " PRIMARY KEY (school_id, subject_id, record_id)) STRICT, WITHOUT ROWID;"
       "CREATE UNIQUE INDEX records_by_id ON records (school_id, record_id)");
  sqlite3_stmt* ins_key = Prepare(keys, "INSERT INTO subject_keys VALUES ('s', ?, ?)");
  sqlite3_stmt* del_key =
      Prepare(keys, "DELETE FROM subject_keys WHERE school_id = 's' AND subject_id = ?");
  sqlite3_stmt* ins = Prepare(data,
                              "INSERT INTO records VALUES ('s', ?, ?, 'lms', 'purchased_service',"
                              " 'purchases', ?, 'subject', 'web', 'payment', '001', 0, 0)");
  sqlite3_stmt* del = Prepare(data, "DELETE FROM records WHERE school_id = 's' AND subject_id = ?");
  // As long as one of our sealed values: nonce, ciphertext and tag.
  const std::string sealed(24 + RecordValue(count).size() + 16, 'x');
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  int next = 0;
  for (auto _ : state) {
    const std::string subject = "subject-" + std::to_string(++next);
    randombytes_buf(key, sizeof key);
    BindText(ins_key, 1, subject);
    sqlite3_bind_blob(ins_key, 2, key, sizeof key, SQLITE_TRANSIENT);
    Check(sqlite3_step(ins_key), keys, "insert key");
    sqlite3_reset(ins_key);
    Exec(data, "BEGIN");
    for (int n = 0; n < count; ++n) {
      BindText(ins, 1, subject + "-" + std::to_string(n));
      BindText(ins, 2, subject);
      sqlite3_bind_blob(ins, 3, sealed.data(), static_cast<int>(sealed.size()), SQLITE_STATIC);
      Check(sqlite3_step(ins), data, "insert");
      sqlite3_reset(ins);
    }
    Exec(data, "COMMIT");

    const auto start = std::chrono::steady_clock::now();
    sodium_memzero(key, sizeof key);
    BindText(del_key, 1, subject);
    Check(sqlite3_step(del_key), keys, "delete key");
    sqlite3_reset(del_key);
    BindText(del, 1, subject);
    Check(sqlite3_step(del), data, "delete");
    sqlite3_reset(del);
    const auto took = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(std::chrono::duration<double>(took).count());
    if (sqlite3_changes(data) != count) state.SkipWithError("deleted a different number of rows");
  }
  for (sqlite3_stmt* s : {ins_key, del_key, ins, del}) sqlite3_finalize(s);
  sqlite3_close(data);
  sqlite3_close(keys);
  std::filesystem::remove_all(dir);
  state.counters["records"] = count;
}
BENCHMARK(BM_RawErasure)
    ->MinTime(0.5)
    ->ArgNames({"records", "secure_delete"})
    ->ArgsProduct({{10, 10000}, {0, 1}})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
