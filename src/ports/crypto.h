// The cryptography port. Services use these operations; the libsodium adapter
// (src/adapters/sodium) implements them. Nothing else in the tree includes <sodium.h>.
//
// Byte strings are std::string holding raw bytes. Error messages never contain key material or
// plaintext.
//
// Thread-safety: implementations are safe to call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace dovira::ports {

inline constexpr size_t kKeyBytes = 32;

// A 256-bit secret key. Zeroed when destroyed.
class SecretKey {
 public:
  SecretKey() { bytes_.fill(0); }
  explicit SecretKey(std::string_view raw);  // raw.size() must be kKeyBytes
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  static constexpr size_t size() { return kKeyBytes; }
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  }

 private:
  std::array<uint8_t, kKeyBytes> bytes_;
};

// An Ed25519 key pair for signing audit checkpoints.
struct SigningKey {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes
};

class Crypto {
 public:
  virtual ~Crypto() = default;

  // Cryptographically secure random bytes.
  virtual std::string RandomBytes(size_t n) = 0;
  // A new identifier: 128 bits, lower-case base32 (26 characters), URL-safe. The first 48 bits
  // are the time it was made in milliseconds and the other 80 random, so that ids made together
  // share a prefix and their rows sit together in the store's indexes: a batch of a thousand new
  // subjects then writes to a few pages of each index rather than to a page per row. An id is
  // unguessable (80 random bits) but tells when it was made, as the row it names does.
  virtual std::string NewId() = 0;
  virtual SecretKey NewKey() = 0;

  // Authenticated encryption (XChaCha20-Poly1305). Seal returns nonce || ciphertext || tag, with a
  // fresh random nonce; `aad` is bound to the ciphertext (e.g. school|subject|field) so a value
  // cannot be moved to another row. Open fails (kPermissionDenied, "cannot decrypt") on a wrong
  // key, wrong aad or any changed byte.
  virtual std::string Seal(const SecretKey& key, std::string_view plaintext,
                           std::string_view aad) = 0;
  virtual Result<std::string> Open(const SecretKey& key, std::string_view sealed,
                                   std::string_view aad) = 0;

  // BLAKE2b with a 32-byte output. Hash2 hashes `a` then `b` (the audit chain: H(prev || entry)).
  virtual std::string Hash(std::string_view data) = 0;
  virtual std::string Hash2(std::string_view a, std::string_view b) = 0;
  // Keyed BLAKE2b, 32 bytes: pseudonyms and lookup tokens.
  virtual std::string KeyedHash(const SecretKey& key, std::string_view data) = 0;
  // SHA-256 (consent text hashes, B07: verifiable with standard tools).
  virtual std::string Sha256(std::string_view data) = 0;

  // Ed25519.
  virtual SigningKey NewSigningKey() = 0;
  virtual std::string Sign(const SigningKey& key, std::string_view message) = 0;
  virtual bool Verify(std::string_view public_key, std::string_view message,
                      std::string_view signature) = 0;

  // Argon2id password hashing (libsodium's interactive limits). The hash string embeds its
  // parameters and salt.
  virtual Result<std::string> HashPassword(std::string_view password) = 0;
  virtual bool VerifyPassword(std::string_view hash, std::string_view password) = 0;

  // Time-based one-time passwords (RFC 6238, SHA-1, 6 digits, 30 s steps), accepting one step of
  // drift either way. `secret` is raw bytes.
  // The TOTP time step (Unix seconds / 30) whose code `code` is, within one step of drift of
  // `now`; nullopt when it is none of them.
  virtual std::optional<int64_t> MatchTotp(std::string_view secret, std::string_view code,
                                           Timestamp now) = 0;
  bool VerifyTotp(std::string_view secret, std::string_view code, Timestamp now) {
    return MatchTotp(secret, code, now).has_value();
  }
  virtual std::string TotpCode(std::string_view secret, Timestamp now) = 0;

  // Constant-time comparison.
  virtual bool Equal(std::string_view a, std::string_view b) = 0;
};

// Hex encoding helpers (no secrets are logged; these are for ids, hashes and key files).
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);

}  // namespace dovira::ports
