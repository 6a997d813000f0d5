#include "adapters/crypto/sodium_crypto.h"

#include <liboath/oath.h>
#include <sodium.h>

#include <array>
#include <chrono>
#include <chrono>
#include <cstdint>
#include <ctime>

namespace dovira::crypto {
namespace {

constexpr size_t kHashBytes = 32;
constexpr size_t kIdBytes = 16;
constexpr unsigned kTotpDigits = 6;
constexpr unsigned kTotpStepSeconds = 30;
constexpr size_t kTotpWindow = 1;

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == ports::kKeyBytes);
static_assert(crypto_generichash_KEYBYTES_MAX >= ports::kKeyBytes);
static_assert(crypto_generichash_BYTES_MIN <= kHashBytes &&
              kHashBytes <= crypto_generichash_BYTES_MAX);
static_assert(crypto_hash_sha256_BYTES == 32);
static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64 &&
              crypto_sign_BYTES == 64);

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Error CannotDecrypt() { return Error{ErrorCode::kPermissionDenied, "cannot decrypt", {}}; }

// RFC 4648 base32, lower case, no padding.
std::string Base32Lower(std::string_view bytes) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

// Whole seconds since the Unix epoch, or -1 for a time before it.
time_t UnixSeconds(Timestamp now) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  return seconds < 0 ? -1 : static_cast<time_t>(seconds);
}

bool IsTotpCodeShape(std::string_view code) {
  if (code.size() != kTotpDigits) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<SodiumCrypto>> SodiumCrypto::Create() {
  // sodium_init is thread-safe and idempotent (0: initialised now, 1: already initialised).
  if (sodium_init() < 0) return Error::Unavailable("cannot initialise libsodium");
  // oath_init is not documented as thread-safe, so it runs once, under the static-local guard.
  static const int oath_rc = oath_init();
  if (oath_rc != OATH_OK) return Error::Unavailable("cannot initialise liboath");
  return std::unique_ptr<SodiumCrypto>(new SodiumCrypto());
}

std::string SodiumCrypto::RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0) randombytes_buf(out.data(), n);
  return out;
}

std::string SodiumCrypto::NewId() {
  std::array<unsigned char, kIdBytes> raw;
  // The first 48 bits: milliseconds since 1970, big-endian; the other 80 random.
  const uint64_t ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (size_t i = 0; i < 6; ++i) raw[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  randombytes_buf(raw.data() + 6, raw.size() - 6);
  return Base32Lower(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

ports::SecretKey SodiumCrypto::NewKey() {
  ports::SecretKey key;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  return key;
}

std::string SodiumCrypto::Seal(const ports::SecretKey& key, std::string_view plaintext,
                               std::string_view aad) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  std::string out(kNonce + plaintext.size() + kTag, '\0');
  unsigned char* nonce = Bytes(out);
  randombytes_buf(nonce, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &written, Bytes(plaintext),
                                             plaintext.size(), Bytes(aad), aad.size(),
                                             /*nsec=*/nullptr, nonce, key.data());
  out.resize(kNonce + written);
  return out;
}

Result<std::string> SodiumCrypto::Open(const ports::SecretKey& key, std::string_view sealed,
                                       std::string_view aad) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (sealed.size() < kNonce + kTag) return CannotDecrypt();
  const unsigned char* nonce = Bytes(sealed);
  const size_t ciphertext_size = sealed.size() - kNonce;
  std::string out(ciphertext_size - kTag, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(Bytes(out), &written, /*nsec=*/nullptr,
                                                 nonce + kNonce, ciphertext_size, Bytes(aad),
                                                 aad.size(), nonce, key.data()) != 0) {
    sodium_memzero(out.data(), out.size());
    return CannotDecrypt();
  }
  out.resize(written);
  return out;
}

std::string SodiumCrypto::Hash(std::string_view data) {
  std::string out(kHashBytes, '\0');
  crypto_generichash(Bytes(out), out.size(), Bytes(data), data.size(), /*key=*/nullptr, 0);
  return out;
}

std::string SodiumCrypto::Hash2(std::string_view a, std::string_view b) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, /*key=*/nullptr, 0, kHashBytes);
  crypto_generichash_update(&state, Bytes(a), a.size());
  crypto_generichash_update(&state, Bytes(b), b.size());
  std::string out(kHashBytes, '\0');
  crypto_generichash_final(&state, Bytes(out), out.size());
  return out;
}

std::string SodiumCrypto::KeyedHash(const ports::SecretKey& key, std::string_view data) {
  std::string out(kHashBytes, '\0');
  crypto_generichash(Bytes(out), out.size(), Bytes(data), data.size(), key.data(), key.size());
  return out;
}

std::string SodiumCrypto::Sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(Bytes(out), Bytes(data), data.size());
  return out;
}

ports::SigningKey SodiumCrypto::NewSigningKey() {
  ports::SigningKey key;
  key.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  key.secret_key.assign(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_keypair(Bytes(key.public_key), Bytes(key.secret_key));
  return key;
}

std::string SodiumCrypto::Sign(const ports::SigningKey& key, std::string_view message) {
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES) return {};
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(Bytes(signature), /*siglen_p=*/nullptr, Bytes(message), message.size(),
                       Bytes(key.secret_key));
  return signature;
}

bool SodiumCrypto::Verify(std::string_view public_key, std::string_view message,
                          std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) return false;
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(Bytes(signature), Bytes(message), message.size(),
                                     Bytes(public_key)) == 0;
}

Result<std::string> SodiumCrypto::HashPassword(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Error::Invalid("password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes",
                          "password");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Error::Unavailable("password hashing failed (not enough memory)");
  }
  return std::string(out.data());
}

bool SodiumCrypto::VerifyPassword(std::string_view hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes) return false;
  // crypto_pwhash_str_verify reads a NUL-terminated string of at most STRBYTES - 1 characters.
  std::array<char, crypto_pwhash_STRBYTES> str{};
  if (hash.empty() || hash.size() >= str.size()) return false;
  if (hash.find('\0') != std::string_view::npos) return false;
  hash.copy(str.data(), hash.size());
  return crypto_pwhash_str_verify(str.data(), password.data(), password.size()) == 0;
}

std::optional<int64_t> SodiumCrypto::MatchTotp(std::string_view secret, std::string_view code,
                                               Timestamp now) {
  if (secret.empty() || !IsTotpCodeShape(code)) return std::nullopt;
  const time_t seconds = UnixSeconds(now);
  if (seconds < 0) return std::nullopt;
  // liboath takes the digit count from strlen(code), hence the shape check above.
  const std::string otp(code);
  int position = 0;  // the matching step relative to now's: -1, 0 or +1
  const int rc = oath_totp_validate2(secret.data(), secret.size(), seconds, kTotpStepSeconds,
                                     OATH_TOTP_DEFAULT_START_TIME, kTotpWindow, &position,
                                     otp.c_str());
  if (rc < 0) return std::nullopt;
  return static_cast<int64_t>(seconds / kTotpStepSeconds) + position;
}

std::string SodiumCrypto::TotpCode(std::string_view secret, Timestamp now) {
  if (secret.empty()) return {};
  const time_t seconds = UnixSeconds(now);
  if (seconds < 0) return {};
  std::array<char, kTotpDigits + 1> out{};
  if (oath_totp_generate(secret.data(), secret.size(), seconds, kTotpStepSeconds,
                         OATH_TOTP_DEFAULT_START_TIME, kTotpDigits, out.data()) != OATH_OK) {
    return {};
  }
  return std::string(out.data(), kTotpDigits);
}

bool SodiumCrypto::Equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dovira::crypto
