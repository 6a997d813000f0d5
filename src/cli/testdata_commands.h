// The `dovira testdata` commands (R91): `export --data DIR --school ID --out DIR2 --key-out FILE`
// and `import --data DIR --school ID --in DIR2 --environment test`. Exit codes as commands.h.
#pragma once

#include <CLI/CLI.hpp>

namespace dovira::cli {

// Adds `testdata` and its subcommands to `app`; each sets `exit_code` when it runs.
void AddTestDataCommands(CLI::App& app, int& exit_code);

}  // namespace dovira::cli
