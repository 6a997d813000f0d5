// The libsodium implementation of the cryptography port (ports::Crypto), with liboath for the
// time-based one-time passwords. This is the only code that talks to those libraries: <sodium.h>
// and <liboath/oath.h> are included by the .cc files of this folder and nowhere else.
//
// Algorithms: XChaCha20-Poly1305 (Seal/Open), BLAKE2b-256 (Hash, Hash2, KeyedHash), SHA-256,
// Ed25519, Argon2id with libsodium's interactive limits, RFC 6238 TOTP (HMAC-SHA-1, 6 digits,
// 30-second steps, one step of drift either way).
//
// Thread-safety: a SodiumCrypto holds no mutable state; all methods may be called concurrently
// from any thread. Create() may also be called from several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "ports/crypto.h"

namespace dovira::crypto {

class SodiumCrypto final : public ports::Crypto {
 public:
  // Initialises libsodium and liboath (once per process). Returns kUnavailable if either library
  // cannot be initialised (for example, no usable random source).
  static Result<std::unique_ptr<SodiumCrypto>> Create();

  SodiumCrypto(const SodiumCrypto&) = delete;
  SodiumCrypto& operator=(const SodiumCrypto&) = delete;

  // `n` bytes from the operating system's secure random source. Cannot fail once Create() has
  // succeeded.
  std::string RandomBytes(size_t n) override;
  // 16 random bytes as 26 lower-case RFC 4648 base32 characters (a-z, 2-7), no padding.
  std::string NewId() override;
  // A new random 256-bit key.
  ports::SecretKey NewKey() override;

  // nonce (24 bytes) || ciphertext || tag (16 bytes), with a fresh random nonce.
  std::string Seal(const ports::SecretKey& key, std::string_view plaintext,
                   std::string_view aad) override;
  // The plaintext; kPermissionDenied "cannot decrypt" (and nothing more) if the input is too
  // short, the key or aad is wrong, or any byte was changed.
  Result<std::string> Open(const ports::SecretKey& key, std::string_view sealed,
                           std::string_view aad) override;

  // 32-byte BLAKE2b digests. Hash2(a, b) == Hash(a + b). Cannot fail.
  std::string Hash(std::string_view data) override;
  std::string Hash2(std::string_view a, std::string_view b) override;
  // 32-byte keyed BLAKE2b. Cannot fail.
  std::string KeyedHash(const ports::SecretKey& key, std::string_view data) override;
  // 32-byte SHA-256 digest. Cannot fail.
  std::string Sha256(std::string_view data) override;

  // A new Ed25519 key pair (32-byte public key, 64-byte libsodium secret key).
  ports::SigningKey NewSigningKey() override;
  // A 64-byte detached signature; an empty string if `key.secret_key` is not 64 bytes.
  std::string Sign(const ports::SigningKey& key, std::string_view message) override;
  // True only for a valid signature; false (never a crash) for wrong lengths or a bad signature.
  bool Verify(std::string_view public_key, std::string_view message,
              std::string_view signature) override;

  // An Argon2id hash string ("$argon2id$v=19$m=...") embedding its parameters and salt.
  // kInvalidArgument if the password is longer than kMaxPasswordBytes; kUnavailable if the
  // hashing memory cannot be allocated.
  Result<std::string> HashPassword(std::string_view password) override;
  // True if `password` matches `hash`; false for a wrong password, a malformed hash or an
  // over-long password.
  bool VerifyPassword(std::string_view hash, std::string_view password) override;

  // True if `code` is exactly 6 ASCII digits and matches the TOTP for `now` or one 30-second step
  // either side. False for anything else, including an empty secret or a time before 1970.
  // The wall clock is never read.
  std::optional<int64_t> MatchTotp(std::string_view secret, std::string_view code,
                                   Timestamp now) override;
  // The 6-digit TOTP for `now`; an empty string for an empty secret or a time before 1970.
  std::string TotpCode(std::string_view secret, Timestamp now) override;

  // Constant-time comparison of equal-length inputs; false if the lengths differ (the length
  // itself is not secret).
  bool Equal(std::string_view a, std::string_view b) override;

  // The longest password HashPassword accepts.
  static constexpr size_t kMaxPasswordBytes = 1024;

 private:
  SodiumCrypto() = default;
};

}  // namespace dovira::crypto
