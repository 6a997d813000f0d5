#include "adapters/sqlite/connection.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>

namespace dovira::sqlite {

void Statement::BindText(int i, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, i, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindBlob(int i, std::string_view value) {
  // A null pointer would bind NULL; an empty value must stay an empty blob.
  static const char kEmpty = 0;
  const char* data = value.empty() ? &kEmpty : value.data();
  int rc = sqlite3_bind_blob64(stmt_, i, data, value.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindInt(int i, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, i, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindNull(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindOptionalText(int i, const std::optional<std::string>& value) {
  if (value) {
    BindText(i, *value);
  } else {
    BindNull(i);
  }
}

void Statement::BindOptionalTime(int i, const std::optional<Timestamp>& value) {
  if (value) {
    BindTime(i, *value);
  } else {
    BindNull(i);
  }
}

int Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return bind_rc_;
  return sqlite3_step(stmt_);
}

std::string Statement::Text(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  if (p == nullptr || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

std::string Statement::Blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  if (p == nullptr || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

int64_t Statement::Int(int i) const { return sqlite3_column_int64(stmt_, i); }

Timestamp Statement::Time(int i) const { return Timestamp(std::chrono::microseconds(Int(i))); }

bool Statement::IsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

std::optional<std::string> Statement::OptionalText(int i) const {
  if (IsNull(i)) return std::nullopt;
  return Text(i);
}

std::optional<Timestamp> Statement::OptionalTime(int i) const {
  if (IsNull(i)) return std::nullopt;
  return Time(i);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, std::string label,
                                                     bool read_only) {
  if (!read_only) {
    Status created = CreatePrivateFile(path);
    if (!created.ok()) return created.error();
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE |
              (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = label + ": cannot open: " + sqlite3_errstr(rc);
    sqlite3_close_v2(db);  // a handle is returned even on failure
    return Error::Unavailable(std::move(message));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db, std::move(label)));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt->stmt_);
  cache_.clear();
  sqlite3_close_v2(db_);
}

int Connection::Exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }

Result<std::string> Connection::QueryText(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return StorageError("cannot prepare a statement", rc);
  std::string value;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const unsigned char* p = sqlite3_column_text(stmt, 0);
    if (p != nullptr) value = reinterpret_cast<const char*>(p);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return StorageError("query failed", rc);
  return value;
}

Result<Statement*> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return StorageError("cannot prepare a statement", rc);
  }
  auto owned = std::make_unique<Statement>(stmt);
  Statement* raw = owned.get();
  cache_.emplace(sql, std::move(owned));
  return raw;
}

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

int Connection::ExtendedErrorCode() const { return sqlite3_extended_errcode(db_); }

std::string Connection::ErrorMessage() const { return sqlite3_errmsg(db_); }

Error Connection::StorageError(std::string_view what, int rc) const {
  std::string message = label_;
  message += ": ";
  message += what;
  message += ": ";
  message += sqlite3_errstr(rc);
  return Error::Unavailable(std::move(message));
}

Status MakePrivateDirectory(const std::string& dir) {
  if (dir.empty()) return Error::Invalid("the store directory is empty", "dir");
  std::error_code ec;
  std::filesystem::path path(dir);
  if (std::filesystem::is_directory(path, ec)) return Status::Ok();
  if (path.has_parent_path() && path.parent_path() != path) {
    Status parent = MakePrivateDirectory(path.parent_path().string());
    if (!parent.ok()) return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::Unavailable("cannot create the store directory " + dir + ": " +
                              std::strerror(errno));
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return Error::Unavailable("the store path " + dir + " is not a directory");
  }
  return Status::Ok();
}

Status CreatePrivateFile(const std::string& path) {
  // Never open a database file that exists: SQLite keeps POSIX advisory locks on it, and closing
  // any descriptor of a file drops every lock the process holds on that file. A server whose
  // shared lock is gone looks absent to the next process, which then checkpoints and deletes the
  // WAL the server still writes to (acknowledged writes lost). So: create it only when missing,
  // with O_EXCL, before SQLite has it open; an existing file is left to SQLite alone.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return Status::Ok();
  if (errno != ENOENT) {
    return Error::Unavailable("cannot inspect " + path + ": " + std::strerror(errno));
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Ok();  // created meanwhile by another process
    return Error::Unavailable("cannot create " + path + ": " + std::strerror(errno));
  }
  ::close(fd);
  return Status::Ok();
}

Status SyncParentDirectory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error::Unavailable("cannot open directory " + parent.string() + ": " +
                              std::strerror(errno));
  }
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    return Error::Unavailable("cannot sync directory " + parent.string() + ": " +
                              std::strerror(saved));
  }
  return Status::Ok();
}

}  // namespace dovira::sqlite
