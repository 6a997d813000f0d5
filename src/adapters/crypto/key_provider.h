// ports::KeyProvider over key ring files: one file per school, `<dir>/<school>.keys`, created with
// mode 0600 on first use. Alternatively the DOVIRA_KEYS environment variable holds one ring's text
// (for a single-school deployment whose keys live in a secret store); it is then never written.
//
// Thread-safety: safe for concurrent use (one mutex; rings are small and lookups are rare on hot
// paths because subject keys are cached by the services).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "adapters/crypto/key_ring.h"
#include "ports/keys.h"

namespace dovira::crypto {

class KeyRingProvider final : public ports::KeyProvider {
 public:
  // `dir` holds the key files. `env_ring` (the DOVIRA_KEYS text), when set, is used for every
  // school instead of files.
  KeyRingProvider(ports::Crypto& crypto, std::string dir, std::optional<std::string> env_ring);

  Status EnsureSchool(const SchoolId& school) override;
  Result<ports::WrappedKey> Wrap(const SchoolId& school, const SubjectId& subject,
                                 const ports::SecretKey& key) override;
  Result<ports::SecretKey> Unwrap(const SchoolId& school, const SubjectId& subject,
                                  const ports::WrappedKey& wrapped) override;
  Result<ports::SecretKey> PseudonymKey(const SchoolId& school) override;
  Result<ports::SigningKey> AuditSigningKey(const SchoolId& school) override;
  Result<std::string> SealSecret(const SchoolId& school, std::string_view plaintext,
                                 std::string_view aad) override;
  Result<std::string> OpenSecret(const SchoolId& school, std::string_view sealed,
                                 std::string_view aad) override;
  Result<std::string> AddKek(const SchoolId& school) override;
  Status RetireKek(const SchoolId& school, const std::string& kek_id) override;
  Result<std::string> ActiveKekId(const SchoolId& school) override;
  Result<std::vector<std::string>> KekIds(const SchoolId& school) override;

  // The key file of a school.
  std::string PathOf(const SchoolId& school) const;

 private:
  Result<KeyRing*> RingLocked(const SchoolId& school);
  Status SaveLocked(const SchoolId& school, const KeyRing& ring);

  ports::Crypto& crypto_;
  const std::string dir_;
  const std::optional<std::string> env_ring_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<KeyRing>> rings_;  // guarded by mu_
};

}  // namespace dovira::crypto
