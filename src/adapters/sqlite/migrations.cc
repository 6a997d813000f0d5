#include "adapters/sqlite/migrations.h"

#include <sqlite3.h>

#include <string>

#include "adapters/sqlite/queries.h"

namespace dovira::sqlite {
namespace {

// Reads the applied version inside the current transaction (or on its own).
Result<int> ReadVersion(Connection& db) {
  Result<Statement*> stmt = db.Prepare(sql::kSchemaVersion);
  if (!stmt.ok()) return stmt.error();
  Statement& s = **stmt;
  ScopedReset reset(&s);
  int rc = s.Step();
  if (rc != SQLITE_ROW) return db.StorageError("cannot read the schema version", rc);
  return static_cast<int>(s.Int(0));
}

void RollbackQuietly(Connection& db) {
  if (db.InTransaction()) db.Exec(sql::kRollback);
}

Error TooNew(const Connection& db, int found, int known) {
  return Error{ErrorCode::kFailedPrecondition,
               db.label() + " has schema version " + std::to_string(found) +
                   ", newer than this program supports (" + std::to_string(known) +
                   "); run a newer Dovira or restore a matching backup",
               {}};
}

}  // namespace

Result<int> SchemaVersion(Connection& db) {
  int rc = db.Exec(sql::kCreateSchemaMigrations);
  if (rc != SQLITE_OK) return db.StorageError("cannot create schema_migrations", rc);
  return ReadVersion(db);
}

Status ApplyMigrations(Connection& db, std::span<const Migration> set, Timestamp now) {
  const int known = set.empty() ? 0 : set.back().version;
  Result<int> initial = SchemaVersion(db);
  if (!initial.ok()) return initial.error();
  if (*initial > known) return TooNew(db, *initial, known);

  for (const Migration& m : set) {
    if (m.version <= *initial) continue;
    int rc = db.Exec(sql::kBegin);
    if (rc != SQLITE_OK) return db.StorageError("cannot start a migration", rc);
    // Another process may have migrated since the first read; decide under the write lock.
    Result<int> current = ReadVersion(db);
    if (!current.ok()) {
      RollbackQuietly(db);
      return current.error();
    }
    if (*current > known) {
      RollbackQuietly(db);
      return TooNew(db, *current, known);
    }
    if (*current >= m.version) {
      RollbackQuietly(db);
      continue;
    }
    if (*current != m.version - 1) {
      RollbackQuietly(db);
      return Error{ErrorCode::kFailedPrecondition,
                   db.label() + " has schema version " + std::to_string(*current) +
                       " but migration " + m.name + " needs version " +
                       std::to_string(m.version - 1),
                   {}};
    }
    rc = db.Exec(m.sql);
    if (rc != SQLITE_OK) {
      Error error = db.StorageError(std::string("migration ") + m.name + " failed", rc);
      RollbackQuietly(db);
      return error;
    }
    Result<Statement*> record = db.Prepare(sql::kRecordMigration);
    if (!record.ok()) {
      RollbackQuietly(db);
      return record.error();
    }
    {
      Statement& s = **record;
      ScopedReset reset(&s);
      s.BindInt(1, m.version);
      s.BindText(2, m.name);
      s.BindTime(3, now);
      rc = s.Step();
    }
    if (rc != SQLITE_DONE) {
      Error error = db.StorageError("cannot record a migration", rc);
      RollbackQuietly(db);
      return error;
    }
    rc = db.Exec(sql::kCommit);
    if (rc != SQLITE_OK) {
      Error error = db.StorageError(std::string("cannot commit migration ") + m.name, rc);
      RollbackQuietly(db);
      return error;
    }
  }
  return Status::Ok();
}

}  // namespace dovira::sqlite
