// Opening a data directory for an operator command (ops_commands.cc), shared by the commands in
// other files of the command line.
#pragma once

#include <memory>
#include <string>

#include "app/app.h"
#include "cli/commands.h"
#include "common/ids.h"
#include "common/result.h"

namespace dovira::cli {

// Opens the application on `d`. `fake_clock` (RFC 3339) runs it on a manual clock; `serve` passes
// the mail settings of `dovira serve`; `exclusive_for`: empty for the commands that work beside a
// running server, otherwise the directory's lock is taken (see ops_commands.cc).
Result<std::unique_ptr<app::App>> OpenApp(const DataArgs& d, const std::string& fake_clock = "",
                                          const ServeArgs* serve = nullptr,
                                          const std::string& exclusive_for = "");

// The school named by `school`, or the only one served when it is empty; kInvalidArgument when
// several are served and none is named, kNotFound for an unknown one.
Result<SchoolId> PickSchool(app::App& a, const std::string& school);

}  // namespace dovira::cli
