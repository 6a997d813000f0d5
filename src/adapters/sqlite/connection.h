// One SQLite connection with its cache of prepared statements, and the few file-system helpers
// the adapter needs (private directory, 0600 files). Internal to the SQLite adapter: the store
// uses it; nothing outside src/adapters/sqlite includes it. <sqlite3.h> stays out of this header,
// so result codes are plain ints (SQLITE_OK, SQLITE_ROW, ... as defined there).
//
// Thread-safety: a Connection and its Statements are used by one thread at a time; different
// Connections may be used concurrently (each is opened in SQLite's multi-thread mode).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dovira::sqlite {

// A prepared statement owned by a Connection's cache. Bind, Step until it returns SQLITE_DONE,
// then let a ScopedReset (or Reset) clear it for the next use.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1. A failed bind is remembered and returned by the next Step.
  void BindText(int i, std::string_view value);
  void BindBlob(int i, std::string_view value);
  void BindInt(int i, int64_t value);
  void BindBool(int i, bool value) { BindInt(i, value ? 1 : 0); }
  void BindTime(int i, Timestamp value) { BindInt(i, value.time_since_epoch().count()); }
  void BindNull(int i);
  void BindOptionalText(int i, const std::optional<std::string>& value);
  void BindOptionalTime(int i, const std::optional<Timestamp>& value);

  // Runs one step. Returns SQLITE_ROW, SQLITE_DONE or an (extended) error code.
  int Step();

  // Columns of the current row, numbered from 0. Text and Blob copy the bytes exactly,
  // including NUL bytes; a NULL column reads as "" / 0 / nullopt.
  std::string Text(int i) const;
  std::string Blob(int i) const;
  int64_t Int(int i) const;
  bool Bool(int i) const { return Int(i) != 0; }
  Timestamp Time(int i) const;
  bool IsNull(int i) const;
  std::optional<std::string> OptionalText(int i) const;
  std::optional<Timestamp> OptionalTime(int i) const;

  // Ends the statement's current execution (and the implicit transaction of a read) and clears
  // its bindings.
  void Reset();

 private:
  friend class Connection;  // finalizes the statement when it closes
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;
};

// Resets a statement when it goes out of scope.
class ScopedReset {
 public:
  explicit ScopedReset(Statement* stmt) : stmt_(stmt) {}
  ~ScopedReset() { stmt_->Reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement* stmt_;
};

class Connection {
 public:
  // Opens the database file `path`; `label` names it in error messages ("data.db"). A writable
  // connection creates the file (mode 0600) when missing. Returns kUnavailable when the file
  // cannot be opened.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, std::string label,
                                                  bool read_only);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results. Returns the SQLite result code.
  int Exec(const char* sql);
  // Runs a statement that returns one text value (a PRAGMA). Returns kUnavailable on failure.
  Result<std::string> QueryText(const char* sql);

  // The prepared statement for `sql`, cached by the address of `sql` (pass the constants from
  // queries.h). Returns kUnavailable if it cannot be prepared.
  Result<Statement*> Prepare(const char* sql);

  // True inside an explicit transaction (BEGIN ... COMMIT/ROLLBACK).
  bool InTransaction() const;
  // The extended result code of the last failed call on this connection.
  int ExtendedErrorCode() const;
  // SQLite's message for the last failed call. It may name tables and columns; only pass it on
  // when the text is known to be ours (a trigger's RAISE message).
  std::string ErrorMessage() const;

  // A kUnavailable error "<label>: <what>: <SQLite's generic text for rc>" that never includes
  // SQL text or values.
  Error StorageError(std::string_view what, int rc) const;

  sqlite3* handle() { return db_; }
  const std::string& label() const { return label_; }

 private:
  Connection(sqlite3* db, std::string label) : db_(db), label_(std::move(label)) {}

  sqlite3* db_;
  std::string label_;
  std::unordered_map<const char*, std::unique_ptr<Statement>> cache_;
};

// Creates `dir` (and missing parents) with mode 0700. An existing directory is left as it is.
// Returns kUnavailable when it cannot be created or is not a directory.
Status MakePrivateDirectory(const std::string& dir);

// Creates `path` empty with mode 0600 when it does not exist, so SQLite (which gives its -wal and
// -shm files the mode of the database file) never creates a wider one. Returns kUnavailable on
// failure.
Status CreatePrivateFile(const std::string& path);

// fsyncs the directory holding `path` so a rename into it is durable. Returns kUnavailable on
// failure.
Status SyncParentDirectory(const std::string& path);

}  // namespace dovira::sqlite
