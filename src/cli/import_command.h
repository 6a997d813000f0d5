// `dovira import --data DIR --school ID --file FILE [--format csv|jsonl] [--kind K --channel C
// --source S] [--batch N] [--from-line N]`: bulk import of subjects from the school's other systems
// (api/submissions.h has the file formats). Exit codes as commands.h: 0 when every row was stored,
// 1 when some were refused or the import stopped, 2 usage errors (an unreadable file or header).
#pragma once

#include <CLI/CLI.hpp>

namespace dovira::cli {

// Adds `import` to `app`; it sets `exit_code` when it runs.
void AddImportCommand(CLI::App& app, int& exit_code);

}  // namespace dovira::cli
