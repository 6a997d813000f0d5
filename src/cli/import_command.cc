// `dovira import`: reads the options, opens the data directory for the import alone (a running
// server on the embedded store would not see the subjects stored; it takes the API's import
// route instead) and prints the report. The work is services::SubjectService::Import's.
#include "cli/import_command.h"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "api/submissions.h"
#include "app/app.h"
#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/open_app.h"

namespace dovira::cli {

namespace {

struct ImportArgs {
  DataArgs data;
  std::string school;
  std::string file;
  std::string format;  // csv | jsonl; "" = by the file's extension
  std::string kind, channel, source;
  size_t batch = 1000;
  size_t from_line = 0;  // resume: rows that begin before this line are skipped
};

// The rows of `rows` that begin on `from` or later: an import stopped by a store error resumes
// where its report says, without storing the rows before it a second time.
class RowsFrom : public services::ImportSource {
 public:
  RowsFrom(services::ImportSource& rows, size_t from) : rows_(rows), from_(from) {}
  bool Next(services::ImportRow& row) override {
    while (rows_.Next(row)) {
      if (row.line >= from_) return true;
    }
    return false;
  }

 private:
  services::ImportSource& rows_;
  size_t from_;
};

int Run(const ImportArgs& a, std::ostream& out, std::ostream& err) {
  const auto ends_with = [&](const std::string& suffix) {
    return a.file.size() >= suffix.size() &&
           a.file.compare(a.file.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  api::ImportFormat format;
  if (a.format == "csv" || (a.format.empty() && ends_with(".csv"))) {
    format = api::ImportFormat::kCsv;
  } else if (a.format == "jsonl" || (a.format.empty() && (ends_with(".jsonl") ||
                                                          ends_with(".ndjson")))) {
    format = api::ImportFormat::kJsonLines;
  } else {
    err << "dovira import: --format: give csv or jsonl (the file's name ends in neither .csv nor "
           ".jsonl)\n";
    return 2;
  }
  std::ifstream in(a.file, std::ios::binary);
  if (!in) {
    err << "dovira import: --file: cannot read " << a.file << "\n";
    return 2;
  }
  auto app = OpenApp(a.data, "", nullptr,
                     "import subjects (a running server would not see them; use its import "
                     "route, POST /v1/schools/{school}/subject-imports)");
  if (!app.ok()) {
    err << "dovira import: " << app.error().message << "\n";
    return 1;
  }
  auto school = PickSchool(**app, a.school);
  if (!school.ok()) {
    err << "dovira import: " << school.error().message << "\n";
    return 2;
  }
  auto rt = (*app)->schools().Get(*school);
  if (!rt.ok()) {
    err << "dovira import: " << rt.error().message << "\n";
    return 1;
  }
  const std::string lang = (*rt)->policy()->policy().school.authoritative_language;
  auto rows = api::ImportReader::Open(in, format, lang.empty() ? "uk" : lang);
  if (!rows.ok()) {
    err << "dovira import: " << a.file << ": " << rows.error().message << "\n";
    return 2;
  }
  services::ImportOptions options;
  options.kind = a.kind;
  options.channel = a.channel;
  options.source = a.source;
  options.label = a.file;
  options.batch_size = a.batch;
  const auto started = std::chrono::steady_clock::now();
  RowsFrom from(**rows, a.from_line);
  auto report = (*app)->subjects().Import(*school, from, options,
                                          services::Actor::System("import"), {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!report.ok()) {
    err << "dovira import: " << report.error().message << "\n";
    return 1;
  }
  for (const auto& r : report->refused) {
    for (const Error& p : r.error.AllProblems()) {
      err << a.file << ":" << r.line << ": refused: " << p.ReasonOrCode()
          << (p.field.empty() ? "" : " (" + p.field + ")") << ": " << p.message << "\n";
    }
  }
  if (report->refused_count > report->refused.size()) {
    err << "... and " << report->refused_count - report->refused.size() << " more refused rows\n";
  }
  out << "import " << report->id << " into " << school->value() << ": " << report->rows
      << " rows, " << report->imported << " subjects stored, " << report->refused_count
      << " refused, in " << std::fixed << std::setprecision(1) << seconds << " s ("
      << std::setprecision(0) << (seconds > 0 ? static_cast<double>(report->imported) / seconds : 0)
      << " subjects/s)\n";
  if (report->stopped) {
    err << "dovira import: stopped: " << report->stopped->message
        << "; the rows before line " << report->stopped_at_line
        << " are stored; import the rest with --from-line " << report->stopped_at_line << "\n";
    return 1;
  }
  return report->refused_count == 0 ? 0 : 1;
}

}  // namespace

void AddImportCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand(
      "import", "Bulk import of subjects (CSV or JSON lines), each row validated as one intake");
  AddDataOptions(cmd, args->data);
  cmd->add_option("--school", args->school, "School id");
  cmd->add_option("--file", args->file, "The rows: a .csv or .jsonl file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--format", args->format, "csv or jsonl (default: by the file's extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("--kind", args->kind, "Subject kind of the rows that name none");
  cmd->add_option("--channel", args->channel, "Channel of the rows that name none");
  cmd->add_option("--source", args->source,
                  "Source of the rows that name none: client, offline, third_party, automatic or "
                  "subject (default: subject, as for POST .../subjects)");
  cmd->add_option("--batch", args->batch, "Rows per durable commit")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--from-line", args->from_line,
                  "Skip the rows that begin before this line of the file (to resume an import "
                  "that stopped)");
  cmd->callback([args, &exit_code] { exit_code = Run(*args, std::cout, std::cerr); });
}

}  // namespace dovira::cli
