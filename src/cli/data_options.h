// The options every command that opens a deployment shares: the data directory, the policies,
// and where the data are kept (the embedded SQLite store, or PostgreSQL with the key vault in its
// own database). The connection strings may carry passwords, so each can come from the
// environment instead of the command line (DOVIRA_STORE, DOVIRA_KEYS_STORE).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace dovira::cli {

inline void AddDataOptions(CLI::App* cmd, DataArgs& d) {
  cmd->add_option("--data", d.data, "Data directory (the SQLite store and the key file)")
      ->capture_default_str();
  cmd->add_option("--policy", d.policies,
                  "A school's policy file (repeatable; default: the schools already stored)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--store", d.store,
                  "Keep the data in PostgreSQL: the data database's connection string "
                  "(postgresql://... or host=... dbname=...); default: SQLite in --data")
      ->envname("DOVIRA_STORE");
  cmd->add_option("--keys-store", d.keys_store,
                  "With --store: the key vault's own database (its own credentials), so a backup "
                  "of the data never holds a key")
      ->envname("DOVIRA_KEYS_STORE");
  cmd->add_option("--store-schema", d.store_schema,
                  "With --store: the schema in both databases (created when missing)")
      ->capture_default_str();
}

}  // namespace dovira::cli
