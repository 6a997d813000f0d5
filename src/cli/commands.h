// The operator commands behind `dovira ...`. Each returns the process exit code and writes its
// output to `out` and its diagnostics to `err`, so the black-box tests and main() share one path.
//
// Exit codes: 0 success, 1 the input was refused (policy errors, an impossible deadline),
// 2 usage error.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace dovira::cli {

// `dovira policy check FILE...`: prints each finding as FILE:LINE:COL: CODE message, then a
// summary line per file. Exit 1 when any file has an error finding.
int PolicyCheck(const std::vector<std::string>& files, bool quiet_info, std::ostream& out,
                std::ostream& err);

// `dovira policy render FILE --lang L --format html|md`.
int PolicyRender(const std::string& file, const std::string& lang, const std::string& format,
                 std::ostream& out, std::ostream& err);

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

}  // namespace dovira::cli
