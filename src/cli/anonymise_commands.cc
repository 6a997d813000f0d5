// `dovira anonymise`: a depersonalised data set and its risk report, written to files (R74, R34).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <fstream>
#include <ostream>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/open_app.h"
#include "services/anonymisation.h"

namespace dovira::cli {
namespace {

// Writes `text` to `path` through a temporary file renamed over it, so a reader never sees half.
Status WriteWhole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) return Error::Unavailable("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error::Unavailable("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace

int Anonymise(const AnonymiseArgs& args, std::ostream& out, std::ostream& err) {
  auto app = OpenApp(args.data);
  if (!app.ok()) {
    err << "dovira anonymise: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, args.school);
  if (!school.ok()) {
    err << "dovira anonymise: " << school.error().message << "\n";
    return 2;
  }
  auto ds = (*app)->anonymisation().Produce(*school, services::AnonymiseRequest{args.purpose},
                                            services::Actor::System("anonymise"), {});
  if (!ds.ok()) {
    err << "dovira anonymise: " << ds.error().message << "\n";
    return 1;
  }
  const std::vector<std::pair<std::string, std::string>> files = {
      {args.out, ds->csv}, {args.report, ds->ReportJson() + "\n"}};
  for (const auto& [path, text] : files) {
    if (Status st = WriteWhole(path, text); !st.ok()) {
      err << "dovira anonymise: " << st.error().message << "\n";
      return 1;
    }
  }
  const anon::Report& r = ds->report;
  char risk[32];
  std::snprintf(risk, sizeof risk, "%.4f", r.highest_risk);
  out << ds->id << ": " << r.records_out << " records in " << r.groups << " groups (k " << r.k
      << " required, smallest group " << r.smallest_group << "), " << r.suppressed
      << " suppressed, highest prosecutor risk " << risk << "; " << ds->subjects
      << " subjects, " << (ds->subjects - r.records_in) << " left out by the gate\n";
  return 0;
}

}  // namespace dovira::cli

namespace dovira::cli {

void AddAnonymiseCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AnonymiseArgs>();
  auto* cmd = app.add_subcommand(
      "anonymise", "A depersonalised data set and its risk report, for a purpose of [anonymisation]");
  AddDataOptions(cmd, args->data);
  cmd->add_option("--school", args->school, "School id (default: the only school)");
  cmd->add_option("--purpose", args->purpose, "A purpose [anonymisation] names")->required();
  cmd->add_option("--out", args->out, "The data set (CSV)")->required();
  cmd->add_option("--report", args->report, "The risk report (JSON)")->required();
  cmd->callback([args, &exit_code] { exit_code = Anonymise(*args, std::cout, std::cerr); });
}

}  // namespace dovira::cli
