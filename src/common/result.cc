#include "common/result.h"

#include <cassert>

namespace dovira {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kRefused:
      return "refused";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kTooManyRequests:
      return "too_many_requests";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Error::ReasonOrCode() const { return reason.empty() ? ErrorCodeName(code) : reason; }

Error&& Error::With(std::string name, std::string value) && {
  args.emplace_back(std::move(name), std::move(value));
  return std::move(*this);
}

Error& Error::With(std::string name, std::string value) & {
  args.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string Error::Arg(const std::string& name) const {
  for (const auto& [k, v] : args) {
    if (k == name) return v;
  }
  return {};
}

std::vector<Error> Error::AllProblems() const {
  if (!problems.empty()) return problems;
  Error self = *this;
  self.problems.clear();
  return {self};
}

Error Error::Combine(std::vector<Error> all) {
  assert(!all.empty());
  for (auto& e : all) e.problems.clear();
  if (all.size() == 1) return std::move(all.front());
  Error first = all.front();
  first.problems = std::move(all);
  return first;
}

}  // namespace dovira
