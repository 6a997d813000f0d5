// The operator commands behind `dovira ...`. Each returns the process exit code and writes its
// output to `out` and its diagnostics to `err`, so the black-box tests and main() share one path.
//
// Exit codes: 0 success, 1 the input was refused (policy errors, an impossible deadline),
// 2 usage error.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dovira::cli {

// `dovira policy check FILE...`: prints each finding as FILE:LINE:COL: CODE message, then a
// summary line per file. Exit 1 when any file has an error finding.
int PolicyCheck(const std::vector<std::string>& files, bool quiet_info, std::ostream& out,
                std::ostream& err);

// `dovira policy render FILE --lang L --format html|md --audience public|dpo`. The public notice
// (the default) shows no finding codes or engineering notes; the data-protection officer's
// edition does (issue 12).
int PolicyRender(const std::string& file, const std::string& lang, const std::string& format,
                 const std::string& audience, std::ostream& out, std::ostream& err);

struct DeadlineArgs {
  std::string policy;       // optional policy file: its calendar is used
  std::string from;         // YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] for hour terms
  std::string term;         // "7 working days"
  std::string right;        // alternatively: the policy's right whose term applies
  std::string timezone;     // overrides the policy's time zone
  std::vector<std::string> holidays;
  bool holidays_are_working_days = false;
  bool roll_forward = false;
};

// `dovira deadline ...`: prints the due date as YYYY-MM-DD (hour terms: local date-time).
int Deadline(const DeadlineArgs& args, std::ostream& out, std::ostream& err);

// Where a deployment keeps its data and which policies it serves (none: the ones stored).
struct DataArgs {
  std::string data = "data";
  std::vector<std::string> policies;
  std::string store;       // "" = SQLite in `data`; else PostgreSQL (app::AppOptions::store)
  std::string keys_store;  // the PostgreSQL key vault
  std::string store_schema = "dovira";
};

struct ServeArgs {
  DataArgs data;
  std::string address = "127.0.0.1";
  int port = 8080;
  int io_threads = 2;
  int worker_threads = 32;
  std::string fake_clock;  // RFC 3339: run on a manual clock (tests)
  bool insecure_cookies = false;
  bool quiet = false;       // no access log
  std::string bootstrap_admin;  // e-mail: create a first account if the school has none
  std::string smtp_url;         // where the outbox sends e-mail; "" = messages wait
  std::string mail_dir;         // or: the directory it writes e-mail into as .eml files
  std::string mail_from;        // the sender when the school's policy names no mailbox
  std::string public_url;       // where people reach the web pages, for links in letters
  std::string web_root;         // web pages served outside /v1 (web/dist); "" = none
  size_t gate_cache = 100000;   // subjects whose gate state each school holds in memory
};

// `dovira serve`: serves until SIGINT or SIGTERM. Prints the URL (and a bootstrap admin's
// one-time password) on `out`.
int Serve(const ServeArgs& args, std::ostream& out, std::ostream& err);

struct AdminArgs {
  DataArgs data;
  std::string school;
  std::string email;
  std::string name;
  std::string role;       // default: the first privileged role of the policy
  bool password_stdin = false;
};
// `dovira admin create`: prints the one-time password (changed at first sign-in).
int AdminCreate(const AdminArgs& args, std::istream& in, std::ostream& out, std::ostream& err);

// `dovira apikey create`: an API key for another system, limited to a role and purposes; the key
// is printed once.
int ApiKeyCreate(const DataArgs& data, const std::string& school, const std::string& name,
                 const std::string& role, const std::vector<std::string>& purposes,
                 std::ostream& out, std::ostream& err);

// `dovira audit verify`: exit 0 when the chain verifies, 1 naming the first broken entry.
int AuditVerify(const DataArgs& data, const std::string& school, std::ostream& out,
                std::ostream& err);
// `dovira keys rotate`: a new key-encryption key; every subject key rewrapped.
int KeysRotate(const DataArgs& data, const std::string& school, std::ostream& out,
               std::ostream& err);
// `dovira anonymise --data DIR --school ID --purpose P --out FILE.csv --report FILE.json`: a
// depersonalised data set for a purpose of the policy's [anonymisation] (R74, R34); prints the
// summary (records, groups, k achieved, suppressed, highest risk). Exit 1 when refused.
struct AnonymiseArgs {
  DataArgs data;
  std::string school;
  std::string purpose;
  std::string out;     // the CSV
  std::string report;  // the JSON report
};
int Anonymise(const AnonymiseArgs& args, std::ostream& out, std::ostream& err);
// Registers `dovira anonymise` on the command line.
void AddAnonymiseCommand(CLI::App& app, int& exit_code);

// `dovira backup`: an online, consistent copy of the data (and, separately, the key vault).
int Backup(const DataArgs& data, const std::string& out_path, const std::string& keys_out,
           std::ostream& out, std::ostream& err);

// `dovira retention preview` (retention_commands.cc): registers the command on `app`; its
// callback sets `exit_code`.
void AddRetentionCommands(CLI::App& app, int& exit_code);

}  // namespace dovira::cli
