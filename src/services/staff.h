// Staff accounts, sign-in, browser sessions and API keys (R86, R87, R90).
//
// - Passwords: Argon2id (ports::Crypto::HashPassword); at least the policy's minimum length
//   (security.staff_password.min_length); rotation after security.staff_password.max_age (003: 3
//   months, R90), which forces a change at the next sign-in.
// - Sign-in: lockout after security.lockout.attempts failures for security.lockout.minutes, and a
//   per-IP rate limit (10 attempts a minute). Unknown e-mails cost the same Argon2id work as known
//   ones, so timing does not reveal accounts.
// - TOTP (RFC 6238) for privileged roles when security.mfa_for_privileged: a privileged account
//   without TOTP gets a session limited to enrolling it (mfa_passed = false).
// - Sessions: a random 256-bit token (the cookie value) of which only a hash is stored; a CSRF
//   token per session; 12 hours absolute lifetime.
// - API keys: "dvk_" + random; only a hash is stored; each limited to a role and named purposes.
// - Leaving (R87): sessions and API keys created by the person are revoked in the same call.
// Every sign-in, failure, lockout, change and revocation is audited.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <chrono>
#include <map>
#include <unordered_map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/audit_log.h"
#include "services/context.h"
#include "services/rate_limiter.h"
#include "services/schools.h"

namespace dovira::services {

struct StaffSession {
  SchoolId school;
  StaffId staff;
  std::string name;
  std::string email;
  std::string role;
  std::string csrf_token;
  bool mfa_passed = false;
  bool mfa_required = false;          // a privileged role under mfa_for_privileged
  bool must_change_password = false;  // rotation due (R90) or set by an administrator
  bool briefed = false;               // briefing recorded (R87)
  std::string organisation;           // R86: "" for the school's own staff
  Timestamp expires_at{};

  // The actor for audited calls: Kind::kStaff with the role; briefed as recorded.
  Actor ToActor() const;
};

struct LoginResult {
  std::string session_token;  // the cookie value; shown only here
  StaffSession session;
  // Set when a recovery code stood in for the TOTP code: how many unused ones are left.
  std::optional<int> recovery_codes_left;
};

struct NewApiKey {
  ApiKeyId id;
  std::string key;  // shown only here
};

struct ApiKeyIdentity {
  SchoolId school;
  ApiKeyId id;
  std::string name;
  std::string role;
  std::vector<std::string> purposes;
  Actor ToActor() const;
};

// What an authenticator app needs: the key, and the otpauth URI a QR code carries. The entry
// names the school: issuer = the school's name (in the policy's authoritative language), label
// "<school>:<email>".
struct TotpEnrolment {
  std::string secret_base32;
  std::string issuer;
  std::string account;
  std::string otpauth_uri;  // otpauth://totp/<school>:<email>?secret=...&issuer=<school>
};

// One-time recovery codes, each usable once at sign-in instead of a TOTP code.
inline constexpr int kRecoveryCodeCount = 10;

class StaffService {
 public:
  StaffService(Deps deps, Schools& schools, AuditLog& audit);

  // Who chose the first password. A password someone else set (an administrator, the bootstrap)
  // is one-time: the holder must replace it at the first sign-in.
  enum class InitialPassword { kOneTime, kChosenByHolder };

  // Errors (Error::reason): "name_required", "email_invalid", "role_undeclared" (not a role of the
  // school's policy), "password_weak" (shorter than the policy minimum or on a small built-in list
  // of common passwords), kConflict "email_taken"; R86: "organisation_required" (the role is one
  // the policy gives to an affiliate or a contractor), "organisation_not_for_role" (it is the
  // school's own), "organisation_too_long".
  Result<ports::StaffRow> Create(const SchoolId& school, const std::string& name,
                                 const std::string& email, const std::string& role,
                                 const std::string& password, const Actor& by,
                                 const RequestContext& ctx,
                                 InitialPassword initial = InitialPassword::kOneTime,
                                 const std::string& organisation = "");

  // kUnauthenticated "invalid_credentials" for a wrong e-mail, password or TOTP code (the same
  // message for all); kTooManyRequests "locked_out" / "rate_limited"; kPermissionDenied
  // "account_left" for a person who has left. An address with no account costs the same work
  // (an Argon2id verification) and locks after the same failures as one with an account, so
  // neither the answers nor their timing tell which addresses have one.
  Result<LoginResult> Login(const SchoolId& school, const std::string& email,
                            const std::string& password, const std::string& totp_code,
                            const RequestContext& ctx);
  // kUnauthenticated "session_invalid" for an unknown, expired or revoked token.
  Result<StaffSession> Authenticate(const std::string& session_token);
  Status Logout(const std::string& session_token, const RequestContext& ctx);

  Result<TotpEnrolment> BeginTotp(const StaffSession& session);
  // Confirms enrolment with a current code; marks the session mfa_passed. The confirmation that
  // enrols returns kRecoveryCodeCount new recovery codes ("ABCDE-FGHJK"; shown only here, kept as
  // keyed BLAKE2b hashes); a later confirmation returns none. At sign-in an unused recovery code
  // is accepted once in place of the TOTP code (audited "staff.recovery_code.use" with the count
  // left); a wrong one counts towards the lockout like a wrong TOTP code.
  Result<std::vector<std::string>> ConfirmTotp(const std::string& session_token,
                                               const std::string& code,
                                               const RequestContext& ctx);
  // A new set of recovery codes replacing every earlier one. kFailedPrecondition
  // "totp_not_enrolled" before enrolment; kPermissionDenied "mfa_required" from a session that
  // has not passed the second factor.
  Result<std::vector<std::string>> RegenerateRecoveryCodes(const StaffSession& session,
                                                           const RequestContext& ctx);
  // kUnauthenticated "invalid_credentials" for a wrong current password; "password_weak".
  Status ChangePassword(const std::string& session_token, const std::string& current_password,
                        const std::string& new_password, const RequestContext& ctx);

  // R87: marks the person as left and revokes their sessions and the API keys they created.
  Status Leave(const SchoolId& school, const StaffId& staff, const Actor& by,
               const RequestContext& ctx);
  Status RecordBriefing(const SchoolId& school, const StaffId& staff, const Actor& by,
                        const RequestContext& ctx);
  // R90: every account of the school must change its password at the next sign-in.
  Status RequirePasswordChange(const SchoolId& school, const StaffId& staff, const Actor& by,
                               const RequestContext& ctx);
  Result<std::vector<ports::StaffRow>> List(const SchoolId& school);

  // Errors: "role_undeclared", "purpose_undeclared" (a purpose the policy does not declare),
  // "name_required".
  Result<NewApiKey> CreateApiKey(const SchoolId& school, const std::string& name,
                                 const std::string& role, const std::vector<std::string>& purposes,
                                 const Actor& by, const RequestContext& ctx);
  // kUnauthenticated "api_key_invalid" for an unknown or revoked key.
  Result<ApiKeyIdentity> AuthenticateApiKey(const std::string& key);
  Status RevokeApiKey(const SchoolId& school, const ApiKeyId& id, const Actor& by,
                      const RequestContext& ctx);
  Result<std::vector<ports::ApiKeyRow>> ListApiKeys(const SchoolId& school);

  // A random one-time password: four groups of five characters from a 32-letter alphabet
  // without look-alikes (100 bits), for first accounts created by an operator.
  std::string GeneratePassword();

 private:
  // Fills staff.recovery_codes with the hashes of kRecoveryCodeCount new codes; returns the codes.
  std::vector<std::string> NewRecoveryCodes(ports::StaffRow& staff);
  // The stored form of a recovery code's ten letters (as RecoveryLetters in staff.cc gives them).
  std::string RecoveryCodeHash(const ports::StaffRow& staff, std::string_view letters);

  Deps deps_;
  Schools& schools_;
  AuditLog& audit_;
  // Recently authenticated API keys (by key hash), for at most kApiKeyCacheTtl; revoking a key or
  // a leaver clears it, so revocation in this process takes effect at once.
  struct CachedKey {
    ApiKeyIdentity identity;
    Timestamp until;
  };
  static constexpr std::chrono::seconds kApiKeyCacheTtl{2};
  std::mutex key_cache_mu_;
  std::unordered_map<std::string, CachedKey> key_cache_;  // guarded by key_cache_mu_
  void ClearKeyCache();

  // The Argon2id hash an address with no account is checked against: made once, from a random
  // password, with the parameters of every stored hash.
  const std::string& DummyPasswordHash();
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;  // set once under dummy_hash_once_

  // Failed sign-ins at addresses with no account, counted and locked as an account's are (in
  // memory, by a hash of school and address; the address itself is never kept).
  struct UnknownAddress {
    int failed_attempts = 0;
    std::optional<Timestamp> locked_until;
    Timestamp last_failure{};
  };
  // Past this many tracked addresses, those neither locked nor failed within the lockout time
  // are forgotten, so that a stream of invented addresses cannot grow the table without bound.
  static constexpr size_t kUnknownSweepThreshold = 4096;
  std::mutex unknown_mu_;
  std::unordered_map<std::string, UnknownAddress> unknown_;  // guarded by unknown_mu_

  // Sign-in attempts per client address: 10 a rolling minute. A sign-in that succeeds, or a
  // right password waiting for its TOTP code, is taken back: the limit is on guessing.
  RateLimiter attempts_by_ip_{10, std::chrono::minutes(1)};
};

}  // namespace dovira::services
