// The schema of the PostgreSQL adapter's two databases as numbered migrations, and the runner that
// brings a schema up to date. The migrations are the files migrations/data/NNNN_*.sql (the data
// database) and migrations/keys/NNNN_*.sql (the key vault), embedded at build time by the SQLite
// adapter's embed_migrations.cmake. Applied versions are recorded in the schema_migrations table
// of the store's schema in each database.
//
// Thread-safety: the sets are constant; ApplyMigrations uses one connection on the calling thread.
#pragma once

#include <span>

#include "adapters/postgres/connection.h"
#include "common/clock.h"
#include "common/result.h"

namespace dovira::postgres {

struct Migration {
  int version;       // 1, 2, 3, ... (the file's number)
  const char* name;  // the file name, e.g. "0001_init.sql"
  const char* sql;   // the file's text
};

// The migrations of the data database and of the key vault, in version order.
std::span<const Migration> DataMigrations();
std::span<const Migration> KeyVaultMigrations();

// Applies every migration of `set` that the connection's schema lacks, each in its own
// transaction under an advisory lock (a concurrent opener waits, then finds it applied),
// recording it in schema_migrations with `now`. Returns kFailedPrecondition when the schema has a
// version newer than `set` knows, and kUnavailable when it cannot be read or a migration fails
// (nothing of that migration stays applied).
Status ApplyMigrations(Connection& db, std::span<const Migration> set, Timestamp now);

}  // namespace dovira::postgres
