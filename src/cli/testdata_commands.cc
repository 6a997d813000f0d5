// `dovira testdata export` and `dovira testdata import` (R91): pseudonymised test data out of a
// school's data directory, and into the data directory of a test environment. The work is
// services::TestDataService's; this file reads the options and prints the outcome.
#include "cli/testdata_commands.h"

#include <iostream>

#include "app/app.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/open_app.h"
#include "services/testdata.h"

namespace dovira::cli {

namespace {

struct TestDataArgs {
  DataArgs data;
  std::string school;
  std::string out, key_out;     // export
  std::string in, environment;  // import
};

void PrintCounts(const services::TestDataReport& r, std::ostream& out) {
  out << r.subjects << " subjects, " << r.records << " records, " << r.consents << " consents, "
      << r.requests << " requests";
}

int Export(const TestDataArgs& a, std::ostream& out, std::ostream& err) {
  auto app = OpenApp(a.data);
  if (!app.ok()) {
    err << "dovira testdata export: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, a.school);
  if (!school.ok()) {
    err << "dovira testdata export: " << school.error().message << "\n";
    return 2;
  }
  auto r = (*app)->testdata().Export(*school, {a.out, a.key_out},
                                     services::Actor::System("testdata-export"), {});
  if (!r.ok()) {
    err << "dovira testdata export: "
        << (r.error().field.empty()
                ? ""
                : "--" + std::string(r.error().field == "key_out" ? "key-out" : r.error().field) +
                      ": ")
        << r.error().message << "\n";
    return r.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  out << "pseudonymised export of " << school->value() << " written to " << a.out << ": ";
  PrintCounts(*r, out);
  out << " (" << r->pseudonymised << " values pseudonymised, " << r->generalised << " generalised, "
      << r->dropped << " dropped)\n"
      << "re-identification key " << r->key_fingerprint << " written to " << a.key_out
      << " (mode 0600): keep it apart from the export\n";
  return 0;
}

int Import(const TestDataArgs& a, std::ostream& out, std::ostream& err) {
  auto app = OpenApp(a.data, "", nullptr,
                     "import test data (a running server would not see the subjects loaded)");
  if (!app.ok()) {
    err << "dovira testdata import: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, a.school);
  if (!school.ok()) {
    err << "dovira testdata import: " << school.error().message << "\n";
    return 2;
  }
  auto r = (*app)->testdata().Import(*school, a.in, a.environment,
                                     services::Actor::System("testdata-import"), {});
  if (!r.ok()) {
    err << "dovira testdata import: " << r.error().message << "\n";
    return 1;
  }
  out << "loaded into " << school->value() << " (environment " << a.environment << "): ";
  PrintCounts(*r, out);
  out << "\n";
  return 0;
}

}  // namespace

void AddTestDataCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TestDataArgs>();
  auto* testdata = app.add_subcommand("testdata", "Pseudonymised test data (R91)");
  testdata->require_subcommand(1);
  auto add_data = [&](CLI::App* cmd) {
    AddDataOptions(cmd, args->data);
    cmd->add_option("--school", args->school, "School id");
  };
  auto* ex = testdata->add_subcommand(
      "export", "Write a pseudonymised copy of a school's data for a test system");
  add_data(ex);
  ex->add_option("--out", args->out, "Export directory (new or empty)")->required();
  ex->add_option("--key-out", args->key_out,
                 "Re-identification key file, outside the export directory")
      ->required();
  ex->callback([args, &exit_code] { exit_code = Export(*args, std::cout, std::cerr); });
  auto* im = testdata->add_subcommand(
      "import", "Load a pseudonymised export into the data directory of a test environment");
  add_data(im);
  im->add_option("--in", args->in, "Export directory")->required()->check(CLI::ExistingDirectory);
  im->add_option("--environment", args->environment,
                 "The environment this data directory serves; test data load only into test")
      ->required();
  im->callback([args, &exit_code] { exit_code = Import(*args, std::cout, std::cerr); });
}

}  // namespace dovira::cli
