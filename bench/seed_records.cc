// Gives one subject of a stopped server's data directory more records, for the access-package
// benchmark (bench/package_bench.py): the API takes a subject's fields once per form, so a
// subject with thousands of records cannot be made through it. The subject is taken in through
// the API first; this adds records of the fields it already has, each sealed under the subject's
// own key exactly as intake seals them, until it holds --records of them.
//
//   seed_records --data DIR --policy FILE --school ID --subject ID --records N
//
// Prints the subject's record count. Opens the data directory as `dovira serve` does, so the
// server must not be running.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "adapters/sqlite/sqlite_store.h"
#include "app/app.h"
#include "services/subjects.h"

namespace {

using namespace dovira;  // NOLINT(google-build-using-namespace)

int Fail(const std::string& what) {
  std::fprintf(stderr, "seed_records: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  for (const char* need : {"--data", "--policy", "--school", "--subject", "--records"}) {
    if (args.count(need) == 0) return Fail(std::string("missing ") + need);
  }
  const SchoolId school(args["--school"]);
  const SubjectId subject(args["--subject"]);
  const long count = std::strtol(args["--records"].c_str(), nullptr, 10);

  app::AppOptions options;
  options.data_dir = args["--data"];
  options.policy_files = {args["--policy"]};
  options.reader_connections = 2;
  auto app = app::App::Open(options);
  if (!app.ok()) return Fail(app.error().message);
  services::SubjectService& subjects = (*app)->subjects();
  ports::Store& store = (*app)->store();

  auto records = store.GetRecords(school, subject);
  if (!records.ok()) return Fail(records.error().message);
  if (records->empty()) return Fail("the subject has no records");
  const std::vector<ports::RecordRow> model = *records;
  auto key = subjects.SubjectKey(school, subject);
  if (!key.ok()) return Fail(key.error().message);

  const Timestamp now = (*app)->clock().Now();
  ports::WriteBatch batch;
  for (long n = static_cast<long>(model.size()); n < count; ++n) {
    ports::RecordRow r = model[static_cast<size_t>(n) % model.size()];
    r.id = RecordId(subject.value() + "-" + std::to_string(n));
    r.sealed_value = subjects.SealValue(*key, school, subject, r.field, r.id.value(),
                                        "Курс англійської мови, заняття " + std::to_string(n));
    r.collected_at = now;
    r.updated_at = now;
    batch.records.push_back(std::move(r));
    if (batch.records.size() == 5000) {
      if (Status st = store.Commit(std::move(batch)); !st.ok()) return Fail(st.error().message);
      batch = ports::WriteBatch{};
    }
  }
  if (!batch.records.empty()) {
    if (Status st = store.Commit(std::move(batch)); !st.ok()) return Fail(st.error().message);
  }
  auto after = store.GetRecords(school, subject);
  if (!after.ok()) return Fail(after.error().message);
  std::printf("%zu\n", after->size());
  return 0;
}
