// Errors as values. A Result<T> holds either a T or an Error; an Error has a code from one enum,
// a message meant for the operator and the logs (English; never internal detail such as SQL text
// or key material), optionally the input field it concerns, a stable reason code, and the named
// arguments of the reader's message. People never read `message`: the API answers with the text
// the catalogue keeps for the reason (i18n/api/<lang>.json) in the reader's language, filled with
// `args`. A check that found several problems at once (a form with three mistakes) returns the
// first of them with every one in `problems`.
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dovira {

// The kinds of failure the layers report. Mapped to exit codes and HTTP statuses in one place at
// each edge.
enum class ErrorCode {
  kInvalidArgument,  // bad input: parse error, out-of-range value, unknown key
  kNotFound,         // a referenced thing does not exist
  kFailedPrecondition,  // the request is well formed but the state does not allow it
  kPermissionDenied,    // refused by the policy or the caller's role
  kRefused,             // well-formed input that the school's policy does not accept (HTTP 422)
  kUnauthenticated,     // no or bad credentials
  kConflict,            // the target's state does not allow it (HTTP 409)
  kTooManyRequests,     // rate limited or locked out
  kUnavailable,         // a dependency (file, store) could not be reached
  kInternal,            // a broken invariant in our own code
};

// Returns a stable lower_snake name for the code ("invalid_argument").
const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string field;   // the offending input field or key, when there is one
  std::string reason;  // a stable snake_case code for clients ("field_undeclared"); "" = by code
  // Named values for the reader's message ({"max", "100"}), set where the error is made. The API
  // turns an argument "field" (a field id of the policy), "consent" (a consent check-box id) or
  // "form" (a form id) into its title in the reader's language; the others are filled as given.
  // An argument "variant" picks a more precise text ("api.field_invalid.email").
  std::vector<std::pair<std::string, std::string>> args;
  // Every problem when several were found at once, this one first; empty for a single problem.
  std::vector<Error> problems;

  static Error Invalid(std::string message, std::string field = {}) {
    return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(field), {}};
  }
  static Error NotFound(std::string message, std::string field = {}) {
    return Error{ErrorCode::kNotFound, std::move(message), std::move(field), {}};
  }
  static Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, std::move(message), {}, {}};
  }
  // Refused by the policy: `reason` is the client-facing code.
  static Error Refused(std::string reason, std::string message, std::string field = {}) {
    return Error{ErrorCode::kRefused, std::move(message), std::move(field), std::move(reason)};
  }
  static Error Denied(std::string reason, std::string message) {
    return Error{ErrorCode::kPermissionDenied, std::move(message), {}, std::move(reason)};
  }
  static Error Conflict(std::string reason, std::string message) {
    return Error{ErrorCode::kConflict, std::move(message), {}, std::move(reason)};
  }
  static Error Unauthenticated(std::string message) {
    return Error{ErrorCode::kUnauthenticated, std::move(message), {}, "unauthenticated"};
  }
  // The client-facing code: `reason` when set, else the code's name.
  std::string ReasonOrCode() const;
  // Adds a named argument and returns the error (chainable where the error is made).
  Error&& With(std::string name, std::string value) &&;
  Error& With(std::string name, std::string value) &;
  // The value of argument `name`, or "" when it has none.
  std::string Arg(const std::string& name) const;
  // Every problem: `problems` when there are several, else this error alone.
  std::vector<Error> AllProblems() const;
  // Several problems as one error (the first, carrying all); `all` must not be empty.
  static Error Combine(std::vector<Error> all);
};

// Either a value or an Error. Access the value only after checking ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// A Result with no value: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace dovira
