// Opening a data directory for an operator command, shared by the command files.
#pragma once

#include <memory>
#include <string>

#include "app/app.h"
#include "cli/commands.h"
#include "common/ids.h"
#include "common/result.h"

namespace dovira::cli {

// The application over `d`. `exclusive_for`: empty for the commands that work beside a running
// server (audit verify, backup, admin and apikey create, anonymise); otherwise the directory's
// lock is taken and the command is refused while a server holds it (app/dir_lock.h), with this
// text completing the message.
Result<std::unique_ptr<app::App>> OpenApp(const DataArgs& d, const std::string& fake_clock = "",
                                          const ServeArgs* serve = nullptr,
                                          const std::string& exclusive_for = "");

// `school`, or the only school served when it is empty. Error (kInvalidArgument) when several
// are served and none is named; kNotFound for an unknown one.
Result<SchoolId> PickSchool(app::App& a, const std::string& school);

}  // namespace dovira::cli
