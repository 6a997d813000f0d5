// Strong identifier types: a SubjectId cannot be passed where a RecordId is expected.
// Identifiers are opaque strings (random, URL-safe); the tag type only separates them at compile
// time.
//
// Thread-safety: plain values.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <utility>

namespace dovira {

template <typename Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend bool operator==(const Id&, const Id&) = default;
  friend auto operator<=>(const Id&, const Id&) = default;

 private:
  std::string value_;
};

using SchoolId = Id<struct SchoolIdTag>;
using SubjectId = Id<struct SubjectIdTag>;
using RecordId = Id<struct RecordIdTag>;
using ConsentId = Id<struct ConsentIdTag>;
using StaffId = Id<struct StaffIdTag>;
using ApiKeyId = Id<struct ApiKeyIdTag>;
using SessionId = Id<struct SessionIdTag>;
using DecisionId = Id<struct DecisionIdTag>;

}  // namespace dovira

template <typename Tag>
struct std::hash<dovira::Id<Tag>> {
  size_t operator()(const dovira::Id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.value());
  }
};
