#include "adapters/crypto/key_provider.h"

#include <sys/stat.h>

#include <cerrno>

namespace dovira::crypto {

KeyRingProvider::KeyRingProvider(ports::Crypto& crypto, std::string dir,
                                 std::optional<std::string> env_ring)
    : crypto_(crypto), dir_(std::move(dir)), env_ring_(std::move(env_ring)) {}

std::string KeyRingProvider::PathOf(const SchoolId& school) const {
  return dir_ + "/" + school.value() + ".keys";
}

Result<KeyRing*> KeyRingProvider::RingLocked(const SchoolId& school) {
  auto it = rings_.find(school.value());
  if (it != rings_.end()) return it->second.get();
  Result<KeyRing> ring = Error::Unavailable("no key ring");
  if (env_ring_) {
    ring = KeyRing::Parse(*env_ring_, crypto_);
    if (!ring.ok()) {
      return Error{ring.error().code, "DOVIRA_KEYS: " + ring.error().message, {}, {}};
    }
  } else {
    if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error::Unavailable("cannot create the key directory " + dir_);
    }
    ring = KeyRing::LoadOrCreate(PathOf(school), crypto_);
    if (!ring.ok()) return ring.error();
  }
  auto owned = std::make_unique<KeyRing>(std::move(*ring));
  KeyRing* raw = owned.get();
  rings_.emplace(school.value(), std::move(owned));
  return raw;
}

Status KeyRingProvider::SaveLocked(const SchoolId& school, const KeyRing& ring) {
  if (env_ring_) {
    return Error{ErrorCode::kFailedPrecondition,
                 "the key ring comes from DOVIRA_KEYS and cannot be changed here; rotate it in "
                 "the secret store",
                 {},
                 {}};
  }
  return ring.Save(PathOf(school));
}

Status KeyRingProvider::EnsureSchool(const SchoolId& school) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<ports::WrappedKey> KeyRingProvider::Wrap(const SchoolId& school, const SubjectId& subject,
                                                const ports::SecretKey& key) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  const KeyRing& ring = **r;
  const ports::SecretKey* kek = ring.Kek(ring.active_kek_id());
  if (!kek) return Error{ErrorCode::kInternal, "the active key is missing", {}, {}};
  return ports::WrappedKey{ring.active_kek_id(),
                           WrapSubjectKey(crypto_, *kek, key, school.value(), subject.value())};
}

Result<ports::SecretKey> KeyRingProvider::Unwrap(const SchoolId& school, const SubjectId& subject,
                                                 const ports::WrappedKey& wrapped) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  const ports::SecretKey* kek = (*r)->Kek(wrapped.kek_id);
  if (!kek) return Error::NotFound("the key that wrapped this subject's key has been retired");
  return UnwrapSubjectKey(crypto_, *kek, wrapped.wrapped, school.value(), subject.value());
}

Result<ports::SecretKey> KeyRingProvider::PseudonymKey(const SchoolId& school) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  return (*r)->pseudonym_key();
}

Result<ports::SigningKey> KeyRingProvider::AuditSigningKey(const SchoolId& school) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  return (*r)->signing_key();
}

// Sealed secret layout: <kek id length byte><kek id><sealed bytes>.
Result<std::string> KeyRingProvider::SealSecret(const SchoolId& school, std::string_view plaintext,
                                                std::string_view aad) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  const std::string& id = (*r)->active_kek_id();
  const ports::SecretKey* kek = (*r)->Kek(id);
  if (!kek || id.size() > 255) return Error{ErrorCode::kInternal, "no usable key", {}, {}};
  std::string out(1, static_cast<char>(id.size()));
  out += id;
  out += crypto_.Seal(*kek, plaintext, aad);
  return out;
}

Result<std::string> KeyRingProvider::OpenSecret(const SchoolId& school, std::string_view sealed,
                                                std::string_view aad) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  if (sealed.empty()) return Error{ErrorCode::kPermissionDenied, "cannot decrypt", {}, {}};
  size_t n = static_cast<unsigned char>(sealed[0]);
  if (sealed.size() < 1 + n) return Error{ErrorCode::kPermissionDenied, "cannot decrypt", {}, {}};
  const ports::SecretKey* kek = (*r)->Kek(std::string(sealed.substr(1, n)));
  if (!kek) return Error{ErrorCode::kPermissionDenied, "cannot decrypt", {}, {}};
  return crypto_.Open(*kek, sealed.substr(1 + n), aad);
}

Result<std::string> KeyRingProvider::AddKek(const SchoolId& school) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  KeyRing next = **r;
  std::string id = next.AddKek(crypto_);
  Status saved = SaveLocked(school, next);
  if (!saved.ok()) return saved.error();
  **r = std::move(next);
  return id;
}

Status KeyRingProvider::RetireKek(const SchoolId& school, const std::string& kek_id) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  KeyRing next = **r;
  Status st = next.RetireKek(kek_id);
  if (!st.ok()) return st;
  Status saved = SaveLocked(school, next);
  if (!saved.ok()) return saved;
  **r = std::move(next);
  return Status::Ok();
}

Result<std::string> KeyRingProvider::ActiveKekId(const SchoolId& school) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  return (*r)->active_kek_id();
}

Result<std::vector<std::string>> KeyRingProvider::KekIds(const SchoolId& school) {
  std::lock_guard lock(mu_);
  auto r = RingLocked(school);
  if (!r.ok()) return r.error();
  return (*r)->kek_ids();
}

}  // namespace dovira::crypto
