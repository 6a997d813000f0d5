// The school's key ring: the key-encryption keys (KEKs) that wrap each data subject's data key,
// the keyed-hash key for audit pseudonyms and lookup tokens, and the Ed25519 key that signs audit
// checkpoints. Loaded from a key file (created on first start) or from the DOVIRA_KEYS
// environment variable.
//
// Text format, one item per line; blank lines and '#' comments (to the end of the line) allowed:
//   kek <id> <64 hex>          key-encryption keys; several during rotation
//   active-kek <id>            the KEK that wraps new subject keys
//   pseudonym <64 hex>         keyed-hash key for audit pseudonyms and lookup tokens
//   signing <128 hex>          Ed25519 secret key (libsodium layout: seed || public key); the
//                              public key is derived from it
// KEK ids are 1 to 32 characters from [A-Za-z0-9_-].
//
// Error messages name files, line numbers and problems, never key bytes.
//
// Thread-safety: a KeyRing is a plain value. Const methods may run concurrently; AddKek and
// RetireKek need external synchronisation against every other use of the same KeyRing. The free
// functions are reentrant.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "ports/crypto.h"

namespace dovira::crypto {

class KeyRing {
 public:
  KeyRing(const KeyRing&) = default;
  KeyRing(KeyRing&&) = default;
  KeyRing& operator=(const KeyRing&) = default;
  KeyRing& operator=(KeyRing&&) = default;
  // Zeroes the signing secret key (the SecretKeys zero themselves).
  ~KeyRing();

  // Reads the key file at `path`. If it does not exist, creates a new ring (one KEK "k1", a
  // pseudonym key and a signing key) and writes it with mode 0600 (O_CREAT|O_EXCL, write, fsync,
  // fsync of the directory). Errors: kFailedPrecondition for an existing file that group or
  // others may read or write (the message names the mode and the fix, chmod 600);
  // kInvalidArgument for a file that is not a regular file, is too large or does not parse (see
  // Parse; the message is prefixed with the path); kUnavailable if the file or its directory
  // cannot be read or written.
  static Result<KeyRing> LoadOrCreate(const std::string& path, ports::Crypto& crypto);

  // Parses the text format above (the key file, or the DOVIRA_KEYS environment variable).
  // kInvalidArgument naming the line number and the problem (bad hex, unknown item, duplicate
  // item or KEK id, a signing key whose halves do not match) or the missing item (active-kek,
  // pseudonym, signing); never key bytes.
  static Result<KeyRing> Parse(std::string_view text, ports::Crypto& crypto);

  // A fresh ring: one KEK "k1" (active), a pseudonym key and a signing key. Cannot fail.
  static KeyRing Generate(ports::Crypto& crypto);

  // The text format above; Parse(Serialize()) gives back an equal ring. The result holds secret
  // key material: do not log it.
  std::string Serialize() const;

  // Writes the ring to `path` atomically: a temporary file (mode 0600) in the same directory,
  // fsync, rename over `path`, fsync of the directory. kUnavailable naming the path and the
  // system error if any step fails (the temporary file is removed).
  Status Save(const std::string& path) const;

  const std::string& active_kek_id() const { return active_kek_id_; }
  // The KEK with this id; nullptr if unknown.
  const ports::SecretKey* Kek(const std::string& id) const;
  // The KEK ids in file order (oldest first).
  std::vector<std::string> kek_ids() const;
  const ports::SecretKey& pseudonym_key() const { return pseudonym_key_; }
  const ports::SigningKey& signing_key() const { return signing_key_; }

  // Rotation: adds a new random KEK and makes it active; returns its id ("k<n+1>" where n is the
  // highest number among ids of the form "k<n>"). Old KEKs stay until RetireKek. Cannot fail.
  std::string AddKek(ports::Crypto& crypto);
  // Removes a KEK that no longer wraps any subject key. kFailedPrecondition if it is the active
  // KEK; kNotFound if there is no KEK with this id.
  Status RetireKek(const std::string& id);

 private:
  KeyRing() = default;

  std::vector<std::pair<std::string, ports::SecretKey>> keks_;
  std::string active_kek_id_;
  ports::SecretKey pseudonym_key_;
  ports::SigningKey signing_key_;
};

// Seals a subject's data key under `kek`, bound to the school and subject by the aad
// "dovira-subject-key|" + school + "|" + subject. Returns nonce || ciphertext || tag. Cannot fail.
std::string WrapSubjectKey(ports::Crypto& crypto, const ports::SecretKey& kek,
                           const ports::SecretKey& subject_key, std::string_view school,
                           std::string_view subject);

// Opens a key sealed by WrapSubjectKey. kPermissionDenied "cannot decrypt" for a wrong KEK, a
// different school or subject, a changed byte, or a sealed value that is not a 32-byte key.
Result<ports::SecretKey> UnwrapSubjectKey(ports::Crypto& crypto, const ports::SecretKey& kek,
                                          std::string_view wrapped, std::string_view school,
                                          std::string_view subject);

}  // namespace dovira::crypto
