#include "adapters/postgres/migrations.h"

#include <string>

#include "adapters/postgres/queries.h"

namespace dovira::postgres {
namespace {

Result<int> ReadVersion(Connection& db) {
  Result<Rows> rows = db.Run(sql::kSchemaVersion, Params());
  if (!rows.ok()) return rows.error();
  return static_cast<int>(rows->Int(0, 0));
}

Error TooNew(const Connection& db, int found, int known) {
  return Error{ErrorCode::kFailedPrecondition,
               db.label() + " has schema version " + std::to_string(found) +
                   ", newer than this program supports (" + std::to_string(known) +
                   "); run a newer Dovira or restore a matching backup",
               {}};
}

// One migration in its own transaction. Returns Ok when it was applied here or by another opener.
Status ApplyOne(Connection& db, const Migration& m, int known, Timestamp now) {
  Status st = db.Exec(sql::kBegin);
  if (!st.ok()) return st;
  // Openers of the same schema take turns; the version read under the lock is the real one.
  st = db.Exec(sql::kLockMigrations);
  if (!st.ok()) return st;
  Result<int> current = ReadVersion(db);
  if (!current.ok()) return current.error();
  if (*current > known) return TooNew(db, *current, known);
  if (*current >= m.version) return db.Exec(sql::kRollback);
  if (*current != m.version - 1) {
    return Error{ErrorCode::kFailedPrecondition,
                 db.label() + " has schema version " + std::to_string(*current) +
                     " but migration " + m.name + " needs version " + std::to_string(m.version - 1),
                 {}};
  }
  st = db.Exec(m.sql);
  if (!st.ok()) {
    return Error::Unavailable(db.label() + ": migration " + m.name +
                              " failed: " + st.error().message);
  }
  Result<Rows> recorded =
      db.Run(sql::kRecordMigration, Params().Int(m.version).Text(m.name).Time(now));
  if (!recorded.ok()) return recorded.error();
  return db.Exec(sql::kCommit);
}

}  // namespace

Status ApplyMigrations(Connection& db, std::span<const Migration> set, Timestamp now) {
  const int known = set.empty() ? 0 : set.back().version;
  // Created under the migrations' lock too: two first openers would otherwise race to create it.
  Status created = db.Exec(std::string(sql::kBegin) + "; " + sql::kLockMigrations + "; " +
                           sql::kCreateSchemaMigrations + "; " + sql::kCommit);
  if (!created.ok()) {
    db.RollbackQuietly();
    return created;
  }
  Result<int> initial = ReadVersion(db);
  if (!initial.ok()) return initial.error();
  if (*initial > known) return TooNew(db, *initial, known);
  for (const Migration& m : set) {
    if (m.version <= *initial) continue;
    Status st = ApplyOne(db, m, known, now);
    if (!st.ok()) {
      db.RollbackQuietly();
      return st;
    }
  }
  return Status::Ok();
}

}  // namespace dovira::postgres
