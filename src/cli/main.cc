// dovira: the operator command line. The composition root: it wires the layers together and maps
// their results to exit codes and text.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/data_options.h"
#include "cli/import_command.h"
#include "cli/testdata_commands.h"

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

  std::string render_file, lang = "uk", format = "html", audience = "public";
  auto* render = policy->add_subcommand("render", "Render the human-readable privacy notice");
  render->add_option("file", render_file, "Policy file")->required()->check(CLI::ExistingFile);
  render->add_option("--lang", lang, "Language")->check(CLI::IsMember({"uk", "ru", "en"}));
  render->add_option("--format", format, "Output format")->check(CLI::IsMember({"html", "md"}));
  render
      ->add_option("--audience", audience,
                   "public (the published notice) or dpo (adds codes, choices and reasons)")
      ->check(CLI::IsMember({"public", "dpo"}));
  render->callback([&] {
    exit_code =
        dovira::cli::PolicyRender(render_file, lang, format, audience, std::cout, std::cerr);
  });

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

  auto add_data = [](CLI::App* cmd, dovira::cli::DataArgs& d) {
    dovira::cli::AddDataOptions(cmd, d);
  };

  dovira::cli::ServeArgs serve_args;
  auto* serve = app.add_subcommand("serve", "Serve the API and the public pages");
  add_data(serve, serve_args.data);
  serve->add_option("--address", serve_args.address, "Address to listen on")->capture_default_str();
  serve->add_option("--port", serve_args.port, "Port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  serve->add_option("--io-threads", serve_args.io_threads, "HTTP event loops")
      ->check(CLI::Range(1, 64));
  serve->add_option("--workers", serve_args.worker_threads, "Request worker threads")
      ->check(CLI::Range(1, 1024));
  serve->add_option("--gate-cache", serve_args.gate_cache,
                    "Subjects whose purpose-gate state each school holds in memory; the others "
                    "are read from the store on their next use")
      ->check(CLI::Range(size_t{64}, size_t{1} << 32))
      ->capture_default_str();
  serve->add_option("--fake-clock", serve_args.fake_clock,
                    "Run on a manual clock starting at this RFC 3339 time (tests)");
  serve->add_flag("--insecure-cookies", serve_args.insecure_cookies,
                  "Session cookies without the Secure attribute (plain-HTTP development only)");
  serve->add_flag("--quiet", serve_args.quiet, "No access log");
  serve->add_option("--web-root", serve_args.web_root,
                    "Serve the web pages in DIR (web/dist) outside /v1");
  serve->add_option("--bootstrap-admin", serve_args.bootstrap_admin,
                    "Create a first account with this e-mail when a school has none");
  serve->add_option("--smtp-url", serve_args.smtp_url,
                    "SMTP server for the outbox (smtp://host:port); without it or --mail-dir "
                    "messages wait");
  serve->add_option("--mail-dir", serve_args.mail_dir,
                    "Write each outbox e-mail as an .eml file into DIR instead of sending it "
                    "(demos, or another program delivers them); not with --smtp-url");
  serve->add_option("--mail-from", serve_args.mail_from,
                    "Sender address when the school's policy names no mailbox");
  serve->add_option("--public-url", serve_args.public_url,
                    "Where people reach the web pages (https://privacy.school.example), for the "
                    "links in letters; default: this server's own address");
  serve->callback([&] { exit_code = dovira::cli::Serve(serve_args, std::cout, std::cerr); });

  auto* admin = app.add_subcommand("admin", "Staff accounts");
  admin->require_subcommand(1);
  dovira::cli::AdminArgs admin_args;
  auto* admin_create = admin->add_subcommand("create", "Create a staff account");
  add_data(admin_create, admin_args.data);
  admin_create->add_option("--school", admin_args.school, "School id");
  admin_create->add_option("--email", admin_args.email, "Work e-mail")->required();
  admin_create->add_option("--name", admin_args.name, "Full name")->required();
  admin_create->add_option("--role", admin_args.role,
                           "A role of the school's policy (default: the first privileged one)");
  admin_create->add_flag("--password-stdin", admin_args.password_stdin,
                         "Read the password from standard input instead of generating one");
  admin_create->callback([&] {
    exit_code = dovira::cli::AdminCreate(admin_args, std::cin, std::cout, std::cerr);
  });

  auto* apikey = app.add_subcommand("apikey", "API keys for the school's other systems");
  apikey->require_subcommand(1);
  dovira::cli::DataArgs key_data;
  std::string key_school, key_name, key_role;
  std::vector<std::string> key_purposes;
  auto* key_create = apikey->add_subcommand("create", "Create a key; it is printed once");
  add_data(key_create, key_data);
  key_create->add_option("--school", key_school, "School id");
  key_create->add_option("--name", key_name, "What the key is for")->required();
  key_create->add_option("--role", key_role, "A role of the school's policy")->required();
  key_create->add_option("--purpose", key_purposes, "A purpose it may state (repeatable)")
      ->required();
  key_create->callback([&] {
    exit_code = dovira::cli::ApiKeyCreate(key_data, key_school, key_name, key_role, key_purposes,
                                          std::cout, std::cerr);
  });

  dovira::cli::AddAnonymiseCommand(app, exit_code);  // anonymise_commands.cc

  auto* audit = app.add_subcommand("audit", "The audit log");
  audit->require_subcommand(1);
  dovira::cli::DataArgs audit_data;
  std::string audit_school;
  auto* verify = audit->add_subcommand("verify", "Verify the hash chain and signed checkpoints");
  add_data(verify, audit_data);
  verify->add_option("--school", audit_school, "School id");
  verify->callback(
      [&] { exit_code = dovira::cli::AuditVerify(audit_data, audit_school, std::cout, std::cerr); });

  dovira::cli::AddRetentionCommands(app, exit_code);

  auto* keys = app.add_subcommand("keys", "Key management");
  keys->require_subcommand(1);
  dovira::cli::DataArgs keys_data;
  std::string keys_school;
  auto* rotate = keys->add_subcommand("rotate", "Rotate the key-encryption key");
  add_data(rotate, keys_data);
  rotate->add_option("--school", keys_school, "School id");
  rotate->callback(
      [&] { exit_code = dovira::cli::KeysRotate(keys_data, keys_school, std::cout, std::cerr); });

  dovira::cli::DataArgs backup_data;
  std::string backup_out, backup_keys;
  auto* backup = app.add_subcommand("backup", "Online, consistent backup");
  add_data(backup, backup_data);
  backup->add_option("--out", backup_out, "Data backup file")->required();
  backup->add_option("--keys-out", backup_keys, "Key vault backup file (keep apart)");
  backup->callback([&] {
    exit_code = dovira::cli::Backup(backup_data, backup_out, backup_keys, std::cout, std::cerr);
  });

  dovira::cli::AddTestDataCommands(app, exit_code);
  dovira::cli::AddImportCommand(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
