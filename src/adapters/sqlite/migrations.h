// The schema of the SQLite adapter's two databases as numbered migrations, and the runner that
// brings a database up to date. The migrations themselves are the files
// migrations/data/NNNN_*.sql (data.db) and migrations/keys/NNNN_*.sql (keys.db, the key vault),
// embedded at build time by embed_migrations.cmake. Applied versions are recorded in the
// schema_migrations table of each database.
//
// Thread-safety: the sets are constant; ApplyMigrations uses one connection on the calling thread.
#pragma once

#include <span>

#include "adapters/sqlite/connection.h"
#include "common/clock.h"
#include "common/result.h"

namespace dovira::sqlite {

struct Migration {
  int version;       // 1, 2, 3, ... (the file's number)
  const char* name;  // the file name, e.g. "0001_init.sql"
  const char* sql;   // the file's text
};

// The migrations of data.db and of keys.db, in version order.
std::span<const Migration> DataMigrations();
std::span<const Migration> KeyVaultMigrations();

// Applies every migration of `set` that `db` has not applied yet, each in its own transaction,
// recording it in schema_migrations with `now`. Safe against a concurrent opener (each step runs
// under the database's write lock and re-reads the version). Returns kFailedPrecondition when the
// database has a version newer than `set` knows (it was written by a newer program), and
// kUnavailable when the database cannot be read or a migration fails (nothing of that migration
// stays applied).
Status ApplyMigrations(Connection& db, std::span<const Migration> set, Timestamp now);

// The highest applied version (0 for a new database). Returns kUnavailable on a read failure.
Result<int> SchemaVersion(Connection& db);

}  // namespace dovira::sqlite
