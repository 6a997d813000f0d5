// dovira: the operator command line. The composition root: it wires the layers together and maps
// their results to exit codes and text.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Dovira: a school's privacy policy, made executable."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dovira 0.1.0");

  int exit_code = 0;

  auto* policy = app.add_subcommand("policy", "Check and render policy files");
  policy->require_subcommand(1);

  std::vector<std::string> check_files;
  bool quiet = false;
  auto* check = policy->add_subcommand(
      "check", "Check policy files; print FILE:LINE:COL: CODE message per finding");
  check->add_option("files", check_files, "Policy files")->required()->check(CLI::ExistingFile);
  check->add_flag("-q,--quiet", quiet, "Do not print I- (information) findings");
  check->callback([&] { exit_code = dovira::cli::PolicyCheck(check_files, quiet, std::cout, std::cerr); });

  std::string render_file, lang = "uk", format = "html";
  auto* render = policy->add_subcommand("render", "Render the human-readable privacy notice");
  render->add_option("file", render_file, "Policy file")->required()->check(CLI::ExistingFile);
  render->add_option("--lang", lang, "Language")->check(CLI::IsMember({"uk", "ru", "en"}));
  render->add_option("--format", format, "Output format")->check(CLI::IsMember({"html", "md"}));
  render->callback(
      [&] { exit_code = dovira::cli::PolicyRender(render_file, lang, format, std::cout, std::cerr); });

  dovira::cli::DeadlineArgs dl;
  auto* deadline = app.add_subcommand("deadline", "Compute a due date from a term and a calendar");
  deadline->add_option("--policy", dl.policy, "Policy file whose calendar applies")
      ->check(CLI::ExistingFile);
  deadline->add_option("--from", dl.from, "Trigger date YYYY-MM-DD (or local date-time)")->required();
  deadline->add_option("--term", dl.term, "Term, e.g. \"7 working days\"");
  deadline->add_option("--right", dl.right, "Use the policy's term for this right");
  deadline->add_option("--timezone", dl.timezone, "IANA time zone (overrides the policy)");
  deadline->add_option("--holiday", dl.holidays, "An extra day off (repeatable)");
  deadline->add_flag("--holidays-are-working-days", dl.holidays_are_working_days,
                     "Holidays are not days off");
  deadline->add_flag("--roll-forward", dl.roll_forward,
                     "A term ending on a non-working day moves to the next working day");
  deadline->callback([&] { exit_code = dovira::cli::Deadline(dl, std::cout, std::cerr); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
