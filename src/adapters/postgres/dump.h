// A consistent online copy of one schema of one database, made by PostgreSQL's own pg_dump
// (PostgresStore::Backup and BackupKeyVault): custom format, restorable with pg_restore.
//
// The password, when the connection string carries one, reaches pg_dump through its environment
// (PGPASSWORD), never its command line, which other users of the machine can read. The dump is
// written beside `path` and renamed into place when complete, so `path` is either the whole dump
// or untouched. Sealed values do not compress, so the dump is left uncompressed.
#pragma once

#include <string>

#include "common/result.h"

namespace dovira::postgres {

// Runs pg_dump (from PATH) for `schema` of the database `conninfo` names. Returns
// kInvalidArgument for a connection string libpq cannot parse, kUnavailable with pg_dump's own
// message when it is missing or fails. `label` names the database in messages.
Status DumpSchema(const std::string& conninfo, const std::string& schema, const std::string& path,
                  const std::string& label);

}  // namespace dovira::postgres
