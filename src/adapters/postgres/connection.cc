#include "adapters/postgres/connection.h"

#include <charconv>
#include <chrono>
#include <cstring>
#include <string_view>
#include <utility>

namespace dovira::postgres {
namespace {

constexpr int kTextFormat = 0;
constexpr int kBinaryFormat = 1;

// The SQLSTATE our own triggers raise (migrations/*/0001_init.sql): an append-only rule.
constexpr char kRuleState[] = "DV001";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Field(const PGresult* result, int field) {
  const char* value = result != nullptr ? PQresultErrorField(result, field) : nullptr;
  return value != nullptr ? value : "";
}

// libpq's own message without its trailing newline.
std::string ConnectionMessage(const PGconn* conn) {
  std::string message = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

}  // namespace

// --- Params --------------------------------------------------------------------------------------

Params& Params::Add(std::string value, bool null, int format) {
  values_.push_back(std::move(value));
  nulls_.push_back(null);
  formats_.push_back(format);
  return *this;
}

Params& Params::Text(const std::string& value) { return Add(value, false, kBinaryFormat); }
Params& Params::OptionalText(const std::optional<std::string>& value) {
  return value ? Text(*value) : Add({}, true, kTextFormat);
}
Params& Params::Bytes(const std::string& value) { return Add(value, false, kBinaryFormat); }
Params& Params::Int(int64_t value) { return Add(std::to_string(value), false, kTextFormat); }
Params& Params::Bool(bool value) { return Add(value ? "true" : "false", false, kTextFormat); }
Params& Params::Time(Timestamp value) { return Int(value.time_since_epoch().count()); }
Params& Params::OptionalTime(const std::optional<Timestamp>& value) {
  return value ? Time(*value) : Add({}, true, kTextFormat);
}

std::vector<const char*> Params::Values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    out.push_back(nulls_[i] ? nullptr : values_[i].data());
  }
  return out;
}

std::vector<int> Params::Lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const std::string& v : values_) out.push_back(static_cast<int>(v.size()));
  return out;
}

// --- Rows ----------------------------------------------------------------------------------------

std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(result_.get(), row, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

std::optional<std::string> Rows::OptionalText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

std::string Rows::Bytes(int row, int col) const {
  // bytea_output = hex (the default since PostgreSQL 9.0, and set by Connection::Open): "\x0a1b".
  std::string_view text(PQgetvalue(result_.get(), row, col),
                        static_cast<size_t>(PQgetlength(result_.get(), row, col)));
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return {};
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

int64_t Rows::Int(int row, int col) const {
  const char* text = PQgetvalue(result_.get(), row, col);
  int64_t value = 0;
  std::from_chars(text, text + PQgetlength(result_.get(), row, col), value);
  return value;
}

bool Rows::Bool(int row, int col) const { return PQgetvalue(result_.get(), row, col)[0] == 't'; }

Timestamp Rows::Time(int row, int col) const {
  return Timestamp(std::chrono::microseconds(Int(row, col)));
}

std::optional<Timestamp> Rows::OptionalTime(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Time(row, col);
}

// --- Connection ----------------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo,
                                                     const std::string& schema, bool create_schema,
                                                     std::string label) {
  PGconn* raw = PQconnectdb(conninfo.c_str());
  if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
    Error error = Error::Unavailable(label + ": cannot connect: " + ConnectionMessage(raw));
    if (raw != nullptr) PQfinish(raw);
    return error;
  }
  // The server's notices ("schema already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> conn(new Connection(raw, std::move(label)));
  char* quoted = PQescapeIdentifier(raw, schema.data(), schema.size());
  if (quoted == nullptr) {
    return Error::Invalid(conn->label_ + ": the schema name cannot be used", "schema");
  }
  const std::string identifier = quoted;
  PQfreemem(quoted);
  if (create_schema) {
    Status made = conn->Exec("CREATE SCHEMA IF NOT EXISTS " + identifier);
    if (!made.ok()) return made.error();
  }
  // Every name resolves in the store's schema only (and pg_catalog, always searched first).
  Status set = conn->Exec("SET search_path TO " + identifier +
                          "; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'");
  if (!set.ok()) return set.error();
  return conn;
}

Connection::~Connection() { PQfinish(conn_); }

void Connection::RollbackQuietly() {
  if (Healthy() && InTransaction()) PQclear(PQexec(conn_, "ROLLBACK"));
}

namespace {

bool Succeeded(const PGresult* result) {
  if (result == nullptr) return false;
  ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

Status Connection::Exec(const std::string& sql) {
  Rows result(PQexec(conn_, sql.c_str()));
  if (!Succeeded(result.raw())) return Classify(result.raw());
  return Status::Ok();
}

Result<Rows> Connection::Run(const char* sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    // Parameter types are left to the server, which infers them from the statement.
    Rows prepared(PQprepare(conn_, name.c_str(), sql, 0, nullptr));
    if (!Succeeded(prepared.raw())) return Classify(prepared.raw());
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values = params.Values();
  std::vector<int> lengths = params.Lengths();
  Rows rows(PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(), lengths.data(),
                           params.Formats(), kTextFormat));
  if (!Succeeded(rows.raw())) return Classify(rows.raw());
  return rows;
}

Error Connection::Classify(const PGresult* result) const {
  if (result == nullptr) {
    return Error::Unavailable(label_ + ": " + ConnectionMessage(conn_));
  }
  const std::string state = Field(result, PG_DIAG_SQLSTATE);
  if (state == kRuleState) {
    // The text of our own trigger.
    return Error{ErrorCode::kFailedPrecondition, Field(result, PG_DIAG_MESSAGE_PRIMARY), {}, {}};
  }
  if (state.rfind("23", 0) == 0) {
    std::string what;
    if (state == "23505") {
      what = "a row with the same key already exists";
    } else if (state == "23503") {
      what = "it refers to a row that does not exist";
    } else if (state == "23502" || state == "23514") {
      what = "an identifier is empty or a value is not allowed";
    } else {
      what = "a storage rule was broken";
    }
    return Error{ErrorCode::kFailedPrecondition, what, {}, {}};
  }
  if (state.rfind("22", 0) == 0 || state == "54000") {
    return Error::Invalid("a value cannot be stored (invalid text or out of range)");
  }
  // Anything else is the server's or the connection's failure. The primary message names what
  // failed (a lost connection, a missing relation, a permission), not the statement.
  std::string message = Field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = ConnectionMessage(conn_);
  return Error::Unavailable(label_ + ": " + message + (state.empty() ? "" : " (" + state + ")"));
}

}  // namespace dovira::postgres
