// A thin layer over one libpq connection: statements prepared on first use (named by the address
// of their text, which queries.h keeps constant), typed parameters and typed reads of the text
// results, and the classification of a server error into a Dovira Error.
//
// Parameters: text values are sent in binary format (their exact bytes, with their length), so a
// NUL byte or invalid UTF-8 reaches the server and is refused there instead of being cut short;
// BYTEA values are sent in binary format; numbers and booleans as text. Results come as text; a
// BYTEA column arrives hex-encoded and Rows::Bytes decodes it.
//
// Thread-safety: a Connection is used by one thread at a time. Rows is a plain value.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace dovira::postgres {

// The parameters of one statement, in order ($1, $2, ...).
class Params {
 public:
  Params& Text(const std::string& value);
  Params& OptionalText(const std::optional<std::string>& value);
  Params& Bytes(const std::string& value);
  Params& Int(int64_t value);
  Params& Bool(bool value);
  Params& Time(Timestamp value);
  Params& OptionalTime(const std::optional<Timestamp>& value);

  int size() const { return static_cast<int>(values_.size()); }
  // Arrays for PQexecPrepared; valid while this object is neither changed nor destroyed.
  std::vector<const char*> Values() const;
  std::vector<int> Lengths() const;
  const int* Formats() const { return formats_.data(); }

 private:
  Params& Add(std::string value, bool null, int format);
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> formats_;
};

// A finished statement's rows (text format).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, &PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string Text(int row, int col) const;
  std::optional<std::string> OptionalText(int row, int col) const;
  // A BYTEA column (the server's hex output, decoded).
  std::string Bytes(int row, int col) const;
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const;
  Timestamp Time(int row, int col) const;
  std::optional<Timestamp> OptionalTime(int row, int col) const;
  const PGresult* raw() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

class Connection {
 public:
  // Connects and sets the search_path to `schema` (created first when `create_schema`).
  // Returns kUnavailable when the server cannot be reached or refuses.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                  const std::string& schema, bool create_schema,
                                                  std::string label);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs a statement of queries.h (prepared on first use). A failure is kFailedPrecondition when
  // the statement broke a rule of the schema (a key taken, a missing parent, a CHECK, an
  // append-only trigger), kInvalidArgument when the server refused a value (invalid UTF-8, a NUL
  // byte in text, a number out of range), and kUnavailable otherwise (the server or the
  // connection failed). Messages never carry SQL text.
  Result<Rows> Run(const char* sql, const Params& params);
  // Runs text without parameters (BEGIN, a migration's statements), unprepared.
  Status Exec(const std::string& sql);

  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  bool InTransaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }
  // Rolls back an open transaction, ignoring the outcome.
  void RollbackQuietly();
  const std::string& label() const { return label_; }

 private:
  Connection(PGconn* conn, std::string label) : conn_(conn), label_(std::move(label)) {}
  // The error a failed statement's result (or a missing result) stands for.
  Error Classify(const PGresult* result) const;

  PGconn* conn_;
  std::string label_;
  std::unordered_map<const char*, std::string> prepared_;  // statement text -> its name
};

}  // namespace dovira::postgres
