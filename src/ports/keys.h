// The key port: each school's key-encryption keys (KEKs), its pseudonym key and its audit signing
// key. Services wrap and unwrap subject data keys through it and never see the key file. The
// adapter (src/adapters/crypto/key_provider.h) keeps one key ring file per school.
//
// Thread-safety: implementations are safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "ports/crypto.h"

namespace dovira::ports {

struct WrappedKey {
  std::string kek_id;
  std::string wrapped;
};

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;

  // Makes sure the school has a key ring (creating one on first use). kUnavailable when the key
  // file cannot be read or written; kFailedPrecondition when its permissions are too open.
  virtual Status EnsureSchool(const SchoolId& school) = 0;

  // Wraps a subject's data key with the school's active KEK, bound to school and subject.
  virtual Result<WrappedKey> Wrap(const SchoolId& school, const SubjectId& subject,
                                  const SecretKey& key) = 0;
  // kPermissionDenied "cannot decrypt" for a wrong KEK, subject or tampered bytes; kNotFound for a
  // KEK id the ring no longer has.
  virtual Result<SecretKey> Unwrap(const SchoolId& school, const SubjectId& subject,
                                   const WrappedKey& wrapped) = 0;

  // The keyed-hash key for pseudonyms and lookup tokens, and the Ed25519 checkpoint key.
  virtual Result<SecretKey> PseudonymKey(const SchoolId& school) = 0;
  virtual Result<SigningKey> AuditSigningKey(const SchoolId& school) = 0;

  // Seals small school secrets (staff TOTP secrets) with the active KEK; the KEK id travels with
  // the sealed bytes so they open after a rotation.
  virtual Result<std::string> SealSecret(const SchoolId& school, std::string_view plaintext,
                                         std::string_view aad) = 0;
  virtual Result<std::string> OpenSecret(const SchoolId& school, std::string_view sealed,
                                         std::string_view aad) = 0;

  // Rotation: a new active KEK, persisted before it is returned; old KEKs stay until retired.
  virtual Result<std::string> AddKek(const SchoolId& school) = 0;
  virtual Status RetireKek(const SchoolId& school, const std::string& kek_id) = 0;
  virtual Result<std::string> ActiveKekId(const SchoolId& school) = 0;
  virtual Result<std::vector<std::string>> KekIds(const SchoolId& school) = 0;
};

}  // namespace dovira::ports
