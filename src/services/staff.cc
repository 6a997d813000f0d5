#include "services/staff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calendar/date.h"
#include "calendar/term.h"

namespace dovira::services {
namespace {

using ports::ApiKeyRow;
using ports::SessionRow;
using ports::StaffRow;

constexpr std::chrono::hours kSessionLifetime{12};
constexpr size_t kTokenBytes = 32;
constexpr size_t kApiKeyBytes = 20;  // 40 hex characters
constexpr size_t kTotpSecretBytes = 20;
constexpr size_t kMaxOrganisationName = 200;
constexpr std::string_view kApiKeyPrefix = "dvk_";

// Read-modify-write of a staff row (failure counting, lockout, leaving, password changes) is
// serialised so that two concurrent updates cannot undo each other. Held only around a re-read and
// a commit, never around Argon2id. Intentionally leaked: it must outlive every service.
std::mutex& StaffWriteMutex() {
  static std::mutex& mu = *new std::mutex;
  return mu;
}

// --- Errors: one message per reason, never echoing the input -----------------------------------

Error InvalidCredentials() {
  return Error{ErrorCode::kUnauthenticated,
               "the e-mail, password or code is not correct",
               {},
               "invalid_credentials"};
}
Error SessionInvalid() {
  return Error{ErrorCode::kUnauthenticated,
               "the session is not valid; sign in again",
               {},
               "session_invalid"};
}
Error ApiKeyInvalid() {
  return Error{ErrorCode::kUnauthenticated, "the API key is not valid", {}, "api_key_invalid"};
}
Error LockedOut() {
  return Error{ErrorCode::kTooManyRequests,
               "too many failed sign-in attempts; the account is locked for a while",
               {},
               "locked_out"};
}
// The password was right, but the account has TOTP and no code came with it: the client asks
// for the code and signs in again. Not a failed attempt.
Error TotpRequired() {
  return Error{ErrorCode::kUnauthenticated, "this account needs the code from its authenticator app",
               "totp", "totp_required"};
}

Error RateLimited() {
  return Error{ErrorCode::kTooManyRequests,
               "too many sign-in attempts from this address; try again in a minute",
               {},
               "rate_limited"};
}
Error AccountLeft() {
  return Error::Denied("account_left", "this person has left and can no longer sign in");
}
Error StaffUnknown() {
  return Error{ErrorCode::kNotFound, "no such staff member in this school", "staff",
               "staff_unknown"};
}
Error PasswordWeak(std::string message) {
  return Error::Refused("password_weak", std::move(message), "password");
}

// --- Small helpers -------------------------------------------------------------------------------

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Staff addresses are compared case-insensitively (ASCII), so one person cannot hold two accounts
// differing only by case.
std::string NormaliseEmail(std::string_view email) { return Lower(Trim(email)); }

// A plausibility check, not RFC 5322: one '@', something on each side, a dot in the domain, no
// spaces or control characters.
bool PlausibleEmail(const std::string& email) {
  if (email.size() < 5 || email.size() > 254) return false;
  size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || email.find('@', at + 1) != std::string::npos) {
    return false;
  }
  std::string_view domain = std::string_view(email).substr(at + 1);
  size_t dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  return std::none_of(email.begin(), email.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// Characters, not bytes: the policy's minimum length is what a person counts.
size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Passwords long enough for every shipped policy (12+) that still top the breached-password lists.
bool IsCommonPassword(const std::string& password) {
  static constexpr std::array<std::string_view, 24> kCommon = {
      "123456789012", "1234567890123", "12345678901234", "123123123123",     "111111111111",
      "000000000000", "password1234",  "password12345",  "passwordpassword", "password123456",
      "qwerty123456", "qwertyuiop12",  "qwertyuiop123",  "1q2w3e4r5t6y",     "1qaz2wsx3edc",
      "qazwsxedcrfv", "iloveyou1234",  "letmeinletmein", "welcome12345",     "administrator",
      "changeme1234", "abcdefghijkl",  "abc123abc123",   "aaaaaaaaaaaa"};
  const std::string lower = Lower(password);
  if (std::find(kCommon.begin(), kCommon.end(), lower) != kCommon.end()) return true;
  // One character repeated is never a password, whatever its length.
  return !password.empty() &&
         std::all_of(password.begin(), password.end(), [&](char c) { return c == password[0]; });
}

Status CheckPasswordStrength(const policy::Security& security, const std::string& password,
                             const std::string& email) {
  const auto min = static_cast<size_t>(std::max<int64_t>(security.password_min_length, 1));
  if (CodePoints(password) < min) {
    return PasswordWeak("the password must be at least " + std::to_string(min) + " characters");
  }
  if (IsCommonPassword(password) || (!email.empty() && Lower(password) == email)) {
    return PasswordWeak("the password is too easy to guess; choose another");
  }
  return Status::Ok();
}

// RFC 4648 base32, upper case, no padding (what authenticator apps expect in otpauth URIs).
std::string Base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

// Percent-encodes everything but RFC 3986 unreserved characters and '@' (allowed in a path).
// The ten letters of a recovery code as typed ("abcde-fghjk", with or without the hyphen or
// spaces), upper-cased; "" when the text is not shaped like one.
std::string RecoveryLetters(std::string_view typed) {
  std::string letters;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    const char up = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!((up >= 'A' && up <= 'Z') || (up >= '2' && up <= '7'))) return {};
    letters += up;
  }
  return letters.size() == 10 ? letters : std::string();
}

std::string UriEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string JsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// A JSON object of string members, for audit details (ids and policy names only, never secrets).
std::string JsonObject(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += JsonString(key) + ":" + JsonString(value);
  }
  return out + "}";
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ',';
    out += i;
  }
  return out;
}

std::string TotpAad(const SchoolId& school, const StaffId& staff) {
  return "staff-totp|" + school.value() + "|" + staff.value();
}

// A role unknown to the policy (an "admin" made outside it, or a role a new policy version
// dropped) is treated as privileged: the stricter reading.
bool IsPrivileged(const domain::CompiledPolicy& policy, const std::string& role) {
  int i = policy.RoleIndex(role);
  return i < 0 || policy.role(static_cast<size_t>(i)).privileged;
}

bool MfaRequired(const domain::CompiledPolicy& policy, const std::string& role) {
  return policy.policy().security.mfa_for_privileged && IsPrivileged(policy, role);
}

// R90: the password is due for rotation once `max_age` has run from the day it was set. Day,
// month and year terms count from the UTC date of password_set_at and fall due at 00:00 UTC of the
// resulting date (working days in the school's calendar); hours are exact elapsed time. No
// max_age, or "indefinite", never falls due.
bool RotationDue(const domain::CompiledPolicy& policy, Timestamp set_at, Timestamp now) {
  const std::optional<calendar::Term>& term = policy.policy().security.password_max_age;
  if (!term) return false;
  const calendar::Date start{std::chrono::floor<std::chrono::days>(set_at)};
  std::optional<calendar::Date> due;
  switch (term->unit) {
    case calendar::TermUnit::kIndefinite:
      return false;
    case calendar::TermUnit::kImmediate:
      return true;
    case calendar::TermUnit::kHours:
      return set_at + std::chrono::hours(term->count) <= now;
    case calendar::TermUnit::kCalendarDays:
      due = calendar::AddDays(start, term->count);
      break;
    case calendar::TermUnit::kWorkingDays:
      due = policy.calendar().AddWorkingDays(start, term->count);
      break;
    case calendar::TermUnit::kCalendarMonths:
      due = calendar::AddMonths(start, term->count);
      break;
    case calendar::TermUnit::kCalendarYears:
      due = calendar::AddMonths(start, 12 * term->count);
      break;
  }
  if (!due) return false;
  return std::chrono::time_point_cast<std::chrono::microseconds>(due->days) <= now;
}

bool Locked(const StaffRow& staff, Timestamp now) {
  return staff.locked_until && *staff.locked_until > now;
}

AuditEvent Event(const Actor& by, std::string action, std::string outcome, std::string reason,
                 const RequestContext& ctx, std::string detail = {}) {
  AuditEvent e;
  e.actor = by.AuditName();
  e.role = by.role;
  e.action = std::move(action);
  e.outcome = std::move(outcome);
  e.reason = std::move(reason);
  e.request_id = ctx.request_id;
  e.detail = std::move(detail);
  return e;
}

Actor StaffActor(const StaffRow& staff) {
  return Actor{Actor::Kind::kStaff,       staff.id.value(), staff.role, {},
               staff.briefing_completed_at.has_value(), staff.organisation};
}

// The network the attempt came from (R101: truncated, never the full address).
std::string IpDetail(const RequestContext& ctx) {
  std::string net = TruncateIp(ctx.ip);
  return net.empty() ? std::string() : JsonObject({{"ip", net}});
}

// A session row and the staff row it belongs to, both still valid at `now`.
struct LiveSession {
  SessionRow session;
  StaffRow staff;
};

// Sessions die with the person's account (left_at), at their absolute expiry, and when the
// password is changed after they began (a new password ends every other session).
Result<LiveSession> LoadLiveSession(ports::Store& store, ports::Crypto& crypto,
                                    const std::string& token, Timestamp now) {
  if (token.size() != 2 * kTokenBytes) return SessionInvalid();
  auto session = store.GetSession(HashHex(crypto, token));
  if (!session.ok()) return session.error();
  if (!*session || (*session)->expires_at <= now) return SessionInvalid();
  auto staff = store.GetStaff((*session)->school, (*session)->staff);
  if (!staff.ok()) return staff.error();
  if (!*staff || (*staff)->left_at || (*session)->created_at < (*staff)->password_set_at) {
    return SessionInvalid();
  }
  return LiveSession{std::move(**session), std::move(**staff)};
}

StaffSession ToSession(const SessionRow& s, const StaffRow& staff,
                       const domain::CompiledPolicy& policy, Timestamp now) {
  StaffSession out;
  out.school = staff.school;
  out.staff = staff.id;
  out.name = staff.name;
  out.email = staff.email;
  out.role = staff.role;
  out.csrf_token = s.csrf_token;
  out.mfa_passed = s.mfa_passed;
  out.mfa_required = MfaRequired(policy, staff.role);
  out.must_change_password =
      staff.must_change_password || RotationDue(policy, staff.password_set_at, now);
  out.briefed = staff.briefing_completed_at.has_value();
  out.organisation = staff.organisation;
  out.expires_at = s.expires_at;
  return out;
}

// Counts a failed proof (password or TOTP code) against the account and locks it at the policy's
// threshold. Adds the row and its audit entries to `batch`; returns the error to report.
Error RecordFailure(StaffRow& staff, const policy::Security& security, Timestamp now,
                    const AuditLog& audit, const std::string& action, const RequestContext& ctx,
                    ports::WriteBatch& batch) {
  ++staff.failed_attempts;
  bool locked = false;
  if (security.lockout_attempts > 0 && staff.failed_attempts >= security.lockout_attempts) {
    staff.locked_until = now + std::chrono::minutes(std::max<int64_t>(security.lockout_minutes, 0));
    // The count starts over once the lock ends, so each lock follows a full set of failures.
    staff.failed_attempts = 0;
    locked = true;
  }
  batch.staff.push_back(staff);
  const Actor actor = StaffActor(staff);
  audit.Add(batch, staff.school,
            Event(actor, action, "deny", "invalid_credentials", ctx, IpDetail(ctx)));
  if (locked) {
    audit.Add(batch, staff.school,
              Event(actor, "staff.lockout", "ok", "", ctx,
                    JsonObject({{"minutes", std::to_string(security.lockout_minutes)}})));
    return LockedOut();
  }
  return InvalidCredentials();
}

}  // namespace

Actor StaffSession::ToActor() const {
  return Actor{Actor::Kind::kStaff, staff.value(), role, {}, briefed, organisation};
}

Actor ApiKeyIdentity::ToActor() const {
  return Actor{Actor::Kind::kApiKey, id.value(), role, purposes, true};
}

StaffService::StaffService(Deps deps, Schools& schools, AuditLog& audit)
    : deps_(deps), schools_(schools), audit_(audit) {}

Result<ports::StaffRow> StaffService::Create(const SchoolId& school, const std::string& name,
                                             const std::string& email, const std::string& role,
                                             const std::string& password, const Actor& by,
                                             const RequestContext& ctx,
                                             InitialPassword initial,
                                             const std::string& organisation) {
  auto runtime = schools_.Get(school);
  if (!runtime.ok()) return runtime.error();
  const auto policy = (*runtime)->policy();
  const std::string clean_name = Trim(name);
  if (clean_name.empty()) {
    return Error::Refused("name_required", "every staff account names one person (R87)", "name");
  }
  const std::string clean_email = NormaliseEmail(email);
  if (!PlausibleEmail(clean_email)) {
    return Error{ErrorCode::kInvalidArgument, "the e-mail address is not valid", "email",
                 "email_invalid"};
  }
  const int role_index = policy->RoleIndex(role);
  if (role_index < 0) {
    return Error::Refused("role_undeclared",
                          "\"" + role + "\" is not a role of the school's policy", "role");
  }
  // R86: a role the policy gives to an affiliate or a contractor is held by a named organisation's
  // people, and the school's own staff belong to none.
  const std::string clean_organisation = Trim(organisation);
  const bool scoped = policy->role(static_cast<size_t>(role_index)).scoped;
  if (scoped && clean_organisation.empty()) {
    return Error::Refused("organisation_required",
                          "this role is held by an outside organisation: name it", "organisation");
  }
  if (!scoped && !clean_organisation.empty()) {
    return Error::Refused("organisation_not_for_role",
                          "this role is held by the school's own staff, who name no organisation",
                          "organisation");
  }
  if (clean_organisation.size() > kMaxOrganisationName) {
    return Error::Refused("organisation_too_long", "an organisation's name is at most 200 bytes",
                          "organisation");
  }
  if (Status st = CheckPasswordStrength(policy->policy().security, password, clean_email);
      !st.ok()) {
    return st.error();
  }
  auto hash = deps_.crypto.HashPassword(password);
  if (!hash.ok()) return hash.error();

  const Timestamp now = deps_.clock.Now();
  StaffRow row;
  row.school = school;
  row.id = StaffId(deps_.crypto.NewId());
  row.name = clean_name;
  row.email = clean_email;
  row.role = role;
  row.organisation = clean_organisation;
  row.password_hash = std::move(*hash);
  row.password_set_at = now;
  row.must_change_password = initial == InitialPassword::kOneTime;
  row.created_at = now;

  ports::WriteBatch batch;
  batch.staff.push_back(row);
  audit_.Add(batch, school,
             Event(by, "staff.create", "ok", "", ctx,
                   JsonObject({{"staff", row.id.value()},
                               {"staff_role", role},
                               {"organisation", row.organisation},
                               {"one_time_password", row.must_change_password ? "true" : "false"}})));
  // The address check and the insert are one step, or two concurrent creations could both pass.
  std::lock_guard lock(StaffWriteMutex());
  auto existing = deps_.store.FindStaffByEmail(school, clean_email);
  if (!existing.ok()) return existing.error();
  if (*existing) {
    return Error::Conflict("email_taken", "a staff account with this e-mail already exists");
  }
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return row;
}

Result<LoginResult> StaffService::Login(const SchoolId& school, const std::string& email,
                                        const std::string& password, const std::string& totp_code,
                                        const RequestContext& ctx) {
  auto runtime = schools_.Get(school);
  if (!runtime.ok()) return runtime.error();
  const auto policy = (*runtime)->policy();
  const policy::Security& security = policy->policy().security;
  const Timestamp now = deps_.clock.Now();

  // Rate-limited attempts are refused before any work and are not audited: an address over the
  // limit could otherwise write to the audit log as fast as it can send.
  if (!attempts_by_ip_.Allow(ctx.ip, now)) return RateLimited();

  // Made before the first sign-in of any kind, so that its cost is not the first unknown
  // address's alone.
  const std::string& dummy_hash = DummyPasswordHash();
  const std::string address = NormaliseEmail(email);
  auto found = deps_.store.FindStaffByEmail(school, address);
  if (!found.ok()) return found.error();
  if (!*found) {
    // The same steps as for an account: no check while locked, else a check that costs what a
    // real one does, counted towards the same lock. The typed address is not recorded (people
    // type passwords into the e-mail field); the counter knows it only by a hash.
    const std::string key = HashHex(deps_.crypto, school.value() + "|" + address);
    auto locked_now = [&] {
      std::lock_guard lock(unknown_mu_);
      auto it = unknown_.find(key);
      return it != unknown_.end() && it->second.locked_until && *it->second.locked_until > now;
    };
    if (locked_now()) {
      Status st = audit_.Record(
          school, Event(Actor::Public(), "staff.login", "deny", "locked_out", ctx, IpDetail(ctx)));
      if (!st.ok()) return st.error();
      return LockedOut();
    }
    (void)deps_.crypto.VerifyPassword(dummy_hash, password);
    bool locked = false;
    {
      std::lock_guard lock(unknown_mu_);
      if (unknown_.size() >= kUnknownSweepThreshold) {
        const auto quiet = std::chrono::minutes(std::max<int64_t>(security.lockout_minutes, 1));
        std::erase_if(unknown_, [&](const auto& entry) {
          const UnknownAddress& u = entry.second;
          return !(u.locked_until && *u.locked_until > now) && u.last_failure + quiet <= now;
        });
      }
      UnknownAddress& u = unknown_[key];
      if (u.locked_until && *u.locked_until > now) {
        locked = true;  // locked by a concurrent attempt meanwhile
      } else {
        u.last_failure = now;
        if (++u.failed_attempts >= security.lockout_attempts && security.lockout_attempts > 0) {
          u.locked_until =
              now + std::chrono::minutes(std::max<int64_t>(security.lockout_minutes, 0));
          u.failed_attempts = 0;  // as for an account: each lock follows a full set of failures
          locked = true;
        }
      }
    }
    ports::WriteBatch batch;
    audit_.Add(batch, school,
               Event(Actor::Public(), "staff.login", "deny", "invalid_credentials", ctx,
                     IpDetail(ctx)));
    if (locked) {
      audit_.Add(batch, school,
                 Event(Actor::Public(), "staff.lockout", "ok", "", ctx,
                       JsonObject({{"minutes", std::to_string(security.lockout_minutes)}})));
    }
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return locked ? LockedOut() : InvalidCredentials();
  }
  const StaffRow& seen = **found;
  if (Locked(seen, now)) {
    // No password check while locked: the lock must stop guessing, not just hide its result.
    Status st = audit_.Record(
        school, Event(StaffActor(seen), "staff.login", "deny", "locked_out", ctx, IpDetail(ctx)));
    if (!st.ok()) return st.error();
    return LockedOut();
  }
  bool proven = deps_.crypto.VerifyPassword(seen.password_hash, password);
  const bool mfa_required = MfaRequired(*policy, seen.role);
  bool mfa_passed = !mfa_required;
  std::optional<int64_t> totp_step;
  std::string recovery_letters;
  if (proven && mfa_required && seen.totp_enabled) {
    if (totp_code.empty()) {
      attempts_by_ip_.Forget(ctx.ip, now);
      Status st = audit_.Record(school, Event(StaffActor(seen), "staff.login", "deny",
                                              "totp_required", ctx, IpDetail(ctx)));
      if (!st.ok()) return st.error();
      return TotpRequired();
    }
    auto secret = deps_.keys.OpenSecret(school, seen.sealed_totp_secret, TotpAad(school, seen.id));
    if (!secret.ok()) return secret.error();
    totp_step = deps_.crypto.MatchTotp(*secret, totp_code, now);
    // Not a current TOTP code: perhaps a recovery code, checked under the lock below.
    if (!totp_step) recovery_letters = RecoveryLetters(totp_code);
    proven = totp_step.has_value() || !recovery_letters.empty();
    mfa_passed = proven;
  }

  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(school, seen.id);
  if (!current.ok()) return current.error();
  if (!*current) return InvalidCredentials();
  StaffRow staff = std::move(**current);
  ports::WriteBatch batch;
  if (Locked(staff, now)) {  // locked by a concurrent attempt meanwhile
    audit_.Add(batch, school,
               Event(StaffActor(staff), "staff.login", "deny", "locked_out", ctx, IpDetail(ctx)));
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return LockedOut();
  }
  // A code is good once: one of a step already used (read under the lock, so two sign-ins with
  // the same code cannot both pass) counts as a wrong code.
  if (proven && totp_step && *totp_step <= staff.totp_last_step) {
    proven = false;
    mfa_passed = false;
  }
  // A recovery code is good once: it leaves the list in the batch that opens the session.
  bool used_recovery_code = false;
  if (proven && !recovery_letters.empty()) {
    auto it = std::find(staff.recovery_codes.begin(), staff.recovery_codes.end(),
                        RecoveryCodeHash(staff, recovery_letters));
    if (it == staff.recovery_codes.end()) {
      proven = false;
      mfa_passed = false;
    } else {
      staff.recovery_codes.erase(it);
      used_recovery_code = true;
    }
  }
  if (!proven) {
    Error err = RecordFailure(staff, security, now, audit_, "staff.login", ctx, batch);
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return err;
  }
  if (staff.left_at) {
    audit_.Add(batch, school,
               Event(StaffActor(staff), "staff.login", "deny", "account_left", ctx, IpDetail(ctx)));
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return AccountLeft();
  }

  if (used_recovery_code) {
    audit_.Add(batch, school,
               Event(StaffActor(staff), "staff.recovery_code.use", "ok", "", ctx,
                     JsonObject({{"remaining", std::to_string(staff.recovery_codes.size())}})));
  }
  if (staff.failed_attempts != 0 || staff.locked_until || totp_step || used_recovery_code) {
    staff.failed_attempts = 0;
    staff.locked_until.reset();
    if (totp_step) staff.totp_last_step = *totp_step;
    batch.staff.push_back(staff);
  }
  LoginResult result;
  result.session_token = RandomHex(deps_.crypto, kTokenBytes);
  SessionRow session;
  session.token_hash = HashHex(deps_.crypto, result.session_token);
  session.school = school;
  session.staff = staff.id;
  session.csrf_token = RandomHex(deps_.crypto, kTokenBytes);
  session.mfa_passed = mfa_passed;
  session.created_at = now;
  session.expires_at = now + kSessionLifetime;
  batch.sessions.push_back(session);
  audit_.Add(batch, school,
             Event(StaffActor(staff), "staff.login", "ok",
                   mfa_passed ? "" : "mfa_enrolment_required", ctx, IpDetail(ctx)));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  attempts_by_ip_.Forget(ctx.ip, now);  // the limit is on guessing, not on signing in
  result.session = ToSession(session, staff, *policy, now);
  if (used_recovery_code) result.recovery_codes_left = static_cast<int>(staff.recovery_codes.size());
  return result;
}

const std::string& StaffService::DummyPasswordHash() {
  std::call_once(dummy_hash_once_, [this] {
    Result<std::string> h = deps_.crypto.HashPassword(ports::ToHex(deps_.crypto.RandomBytes(16)));
    if (h.ok()) dummy_hash_ = std::move(*h);
  });
  return dummy_hash_;
}

Result<StaffSession> StaffService::Authenticate(const std::string& session_token) {
  const Timestamp now = deps_.clock.Now();
  auto live = LoadLiveSession(deps_.store, deps_.crypto, session_token, now);
  if (!live.ok()) return live.error();
  auto runtime = schools_.Get(live->staff.school);
  if (!runtime.ok()) return SessionInvalid();
  return ToSession(live->session, live->staff, *(*runtime)->policy(), now);
}

Status StaffService::Logout(const std::string& session_token, const RequestContext& ctx) {
  if (session_token.size() != 2 * kTokenBytes) return Status::Ok();
  const std::string token_hash = HashHex(deps_.crypto, session_token);
  auto session = deps_.store.GetSession(token_hash);
  if (!session.ok()) return session.error();
  // Signing out of a session that is already gone succeeds: the outcome the caller wants holds.
  if (!*session) return Status::Ok();
  ports::WriteBatch batch;
  batch.deleted_sessions.push_back(token_hash);
  Actor actor{Actor::Kind::kStaff, (*session)->staff.value(), "", {}, true};
  if (auto staff = deps_.store.GetStaff((*session)->school, (*session)->staff);
      staff.ok() && *staff) {
    actor = StaffActor(**staff);
  }
  audit_.Add(batch, (*session)->school, Event(actor, "staff.logout", "ok", "", ctx));
  return deps_.store.Commit(std::move(batch));
}

Result<TotpEnrolment> StaffService::BeginTotp(const StaffSession& session) {
  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(session.school, session.staff);
  if (!current.ok()) return current.error();
  if (!*current || (*current)->left_at) return SessionInvalid();
  StaffRow staff = std::move(**current);
  // Replacing a confirmed secret would let whoever holds a session take over the second factor.
  if (staff.totp_enabled) {
    return Error::Conflict("totp_enrolled", "TOTP is already set up for this account");
  }
  const std::string secret = deps_.crypto.RandomBytes(kTotpSecretBytes);
  auto sealed = deps_.keys.SealSecret(staff.school, secret, TotpAad(staff.school, staff.id));
  if (!sealed.ok()) return sealed.error();
  staff.sealed_totp_secret = std::move(*sealed);
  staff.totp_enabled = false;
  ports::WriteBatch batch;
  batch.staff.push_back(staff);
  audit_.Add(batch, staff.school, Event(StaffActor(staff), "staff.totp.begin", "ok", "", {}));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();

  TotpEnrolment out;
  out.secret_base32 = Base32(secret);
  // The authenticator's entry names the school the account belongs to.
  auto runtime = schools_.Get(staff.school);
  if (!runtime.ok()) return runtime.error();
  const policy::School& school = (*runtime)->policy()->policy().school;
  out.issuer = school.name.Get(school.authoritative_language);
  if (out.issuer.empty()) out.issuer = school.id;
  out.account = staff.email;
  out.otpauth_uri = "otpauth://totp/" + UriEscape(out.issuer) + ":" + UriEscape(staff.email) +
                    "?secret=" + out.secret_base32 + "&issuer=" + UriEscape(out.issuer);
  return out;
}

Result<std::vector<std::string>> StaffService::ConfirmTotp(const std::string& session_token,
                                                           const std::string& code,
                                                           const RequestContext& ctx) {
  const Timestamp now = deps_.clock.Now();
  std::lock_guard lock(StaffWriteMutex());
  auto live = LoadLiveSession(deps_.store, deps_.crypto, session_token, now);
  if (!live.ok()) return live.error();
  auto runtime = schools_.Get(live->staff.school);
  if (!runtime.ok()) return runtime.error();
  StaffRow& staff = live->staff;
  ports::WriteBatch batch;
  if (Locked(staff, now)) {
    audit_.Add(batch, staff.school,
               Event(StaffActor(staff), "staff.totp.confirm", "deny", "locked_out", ctx));
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return LockedOut();
  }
  if (staff.sealed_totp_secret.empty()) {
    return Error{
        ErrorCode::kFailedPrecondition, "TOTP set-up has not been started", {}, "totp_not_started"};
  }
  auto secret = deps_.keys.OpenSecret(staff.school, staff.sealed_totp_secret,
                                      TotpAad(staff.school, staff.id));
  if (!secret.ok()) return secret.error();
  // Wrong codes count towards the lockout like wrong passwords: a session must not allow
  // unlimited guessing of six digits.
  const std::optional<int64_t> step = deps_.crypto.MatchTotp(*secret, code, now);
  if (!step || *step <= staff.totp_last_step) {
    Error err = RecordFailure(staff, (*runtime)->policy()->policy().security, now, audit_,
                              "staff.totp.confirm", ctx, batch);
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return err;
  }
  const bool enrolled_now = !staff.totp_enabled;
  staff.totp_last_step = *step;
  staff.totp_enabled = true;
  staff.failed_attempts = 0;
  std::vector<std::string> codes;
  if (enrolled_now) codes = NewRecoveryCodes(staff);
  batch.staff.push_back(staff);
  live->session.mfa_passed = true;
  batch.sessions.push_back(live->session);
  audit_.Add(
      batch, staff.school,
      Event(StaffActor(staff), "staff.totp.confirm", "ok", enrolled_now ? "enrolled" : "", ctx));
  if (enrolled_now) {
    audit_.Add(batch, staff.school,
               Event(StaffActor(staff), "staff.recovery_codes.issue", "ok", "", ctx,
                     JsonObject({{"count", std::to_string(codes.size())}})));
  }
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return codes;
}

std::vector<std::string> StaffService::NewRecoveryCodes(StaffRow& staff) {
  std::vector<std::string> codes;
  staff.recovery_codes.clear();
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    // 50 random bits as ten base32 letters in two groups: typed by hand, guessed by nobody
    // within the lockout's few tries.
    const std::string letters = Base32(deps_.crypto.RandomBytes(7)).substr(0, 10);
    codes.push_back(letters.substr(0, 5) + "-" + letters.substr(5));
    staff.recovery_codes.push_back(RecoveryCodeHash(staff, letters));
  }
  return codes;
}

std::string StaffService::RecoveryCodeHash(const StaffRow& staff, std::string_view letters) {
  return HashHex(deps_.crypto, "staff-recovery|" + staff.school.value() + "|" +
                                   staff.id.value() + "|" + std::string(letters));
}

Result<std::vector<std::string>> StaffService::RegenerateRecoveryCodes(
    const StaffSession& session, const RequestContext& ctx) {
  if (!session.mfa_passed) {
    return Error{ErrorCode::kPermissionDenied, "sign in with the second factor first", {},
                 "mfa_required"};
  }
  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(session.school, session.staff);
  if (!current.ok()) return current.error();
  if (!*current || (*current)->left_at) return SessionInvalid();
  StaffRow staff = std::move(**current);
  if (!staff.totp_enabled) {
    return Error{ErrorCode::kFailedPrecondition, "two-factor sign-in is not set up yet", {},
                 "totp_not_enrolled"};
  }
  std::vector<std::string> codes = NewRecoveryCodes(staff);
  ports::WriteBatch batch;
  batch.staff.push_back(staff);
  audit_.Add(batch, staff.school,
             Event(StaffActor(staff), "staff.recovery_codes.issue", "ok", "replaced", ctx,
                   JsonObject({{"count", std::to_string(codes.size())}})));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return codes;
}

Status StaffService::ChangePassword(const std::string& session_token,
                                    const std::string& current_password,
                                    const std::string& new_password, const RequestContext& ctx) {
  const Timestamp now = deps_.clock.Now();
  auto live = LoadLiveSession(deps_.store, deps_.crypto, session_token, now);
  if (!live.ok()) return live.error();
  auto runtime = schools_.Get(live->staff.school);
  if (!runtime.ok()) return runtime.error();
  const policy::Security& security = (*runtime)->policy()->policy().security;
  const SchoolId school = live->staff.school;
  if (Locked(live->staff, now)) return LockedOut();
  const bool proven = deps_.crypto.VerifyPassword(live->staff.password_hash, current_password);
  if (proven) {
    if (Status st = CheckPasswordStrength(security, new_password, live->staff.email); !st.ok()) {
      return st;
    }
    // R90 asks for a change; the same password again would satisfy the letter only.
    if (new_password == current_password) {
      return PasswordWeak("the new password must differ from the current one");
    }
  }
  Result<std::string> hash = std::string();
  if (proven) {
    hash = deps_.crypto.HashPassword(new_password);
    if (!hash.ok()) return hash.error();
  }

  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(school, live->staff.id);
  if (!current.ok()) return current.error();
  if (!*current || (*current)->left_at) return SessionInvalid();
  StaffRow staff = std::move(**current);
  ports::WriteBatch batch;
  if (!proven) {
    Error err = RecordFailure(staff, security, now, audit_, "staff.password.change", ctx, batch);
    if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
    return err;
  }
  staff.password_hash = std::move(*hash);
  staff.password_set_at = now;
  staff.must_change_password = false;
  staff.failed_attempts = 0;
  batch.staff.push_back(staff);
  // Every other session began before the new password and so stops authenticating; this one is
  // carried over by restarting its clock (its absolute expiry is kept).
  live->session.created_at = now;
  batch.sessions.push_back(live->session);
  audit_.Add(batch, school, Event(StaffActor(staff), "staff.password.change", "ok", "", ctx));
  return deps_.store.Commit(std::move(batch));
}

Status StaffService::Leave(const SchoolId& school, const StaffId& staff_id, const Actor& by,
                           const RequestContext& ctx) {
  struct ClearOnReturn {
    StaffService* self;
    ~ClearOnReturn() { self->ClearKeyCache(); }
  } clear_on_return{this};
  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(school, staff_id);
  if (!current.ok()) return current.error();
  if (!*current) return StaffUnknown();
  StaffRow staff = std::move(**current);
  const Timestamp now = deps_.clock.Now();
  ports::WriteBatch batch;
  if (!staff.left_at) {
    staff.left_at = now;
    batch.staff.push_back(staff);
  }
  // Keys are revoked even when the person had already left, in case one was made in between.
  auto keys = deps_.store.ListApiKeys(school);
  if (!keys.ok()) return keys.error();
  int revoked = 0;
  for (ApiKeyRow& key : *keys) {
    if (key.created_by == staff_id.value() && !key.revoked_at) {
      key.revoked_at = now;
      batch.api_keys.push_back(std::move(key));
      ++revoked;
    }
  }
  if (batch.empty()) return Status::Ok();
  // Sessions need no rows here: Authenticate refuses every session of a person who has left.
  audit_.Add(batch, school,
             Event(by, "staff.leave", "ok", "", ctx,
                   JsonObject({{"staff", staff_id.value()},
                               {"api_keys_revoked", std::to_string(revoked)}})));
  return deps_.store.Commit(std::move(batch));
}

Status StaffService::RecordBriefing(const SchoolId& school, const StaffId& staff_id,
                                    const Actor& by, const RequestContext& ctx) {
  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(school, staff_id);
  if (!current.ok()) return current.error();
  if (!*current) return StaffUnknown();
  StaffRow staff = std::move(**current);
  if (staff.left_at) return AccountLeft();
  staff.briefing_completed_at = deps_.clock.Now();
  ports::WriteBatch batch;
  batch.staff.push_back(staff);
  audit_.Add(batch, school,
             Event(by, "staff.briefing", "ok", "", ctx, JsonObject({{"staff", staff_id.value()}})));
  return deps_.store.Commit(std::move(batch));
}

Status StaffService::RequirePasswordChange(const SchoolId& school, const StaffId& staff_id,
                                           const Actor& by, const RequestContext& ctx) {
  std::lock_guard lock(StaffWriteMutex());
  auto current = deps_.store.GetStaff(school, staff_id);
  if (!current.ok()) return current.error();
  if (!*current) return StaffUnknown();
  StaffRow staff = std::move(**current);
  staff.must_change_password = true;
  ports::WriteBatch batch;
  batch.staff.push_back(staff);
  audit_.Add(batch, school,
             Event(by, "staff.password.require_change", "ok", "", ctx,
                   JsonObject({{"staff", staff_id.value()}})));
  return deps_.store.Commit(std::move(batch));
}

Result<std::vector<ports::StaffRow>> StaffService::List(const SchoolId& school) {
  if (auto runtime = schools_.Get(school); !runtime.ok()) return runtime.error();
  auto rows = deps_.store.ListStaff(school);
  if (!rows.ok()) return rows.error();
  // Credentials never leave the service, not even hashed or sealed.
  for (StaffRow& r : *rows) {
    r.password_hash.clear();
    r.sealed_totp_secret.clear();
  }
  return rows;
}

Result<NewApiKey> StaffService::CreateApiKey(const SchoolId& school, const std::string& name,
                                             const std::string& role,
                                             const std::vector<std::string>& purposes,
                                             const Actor& by, const RequestContext& ctx) {
  auto runtime = schools_.Get(school);
  if (!runtime.ok()) return runtime.error();
  const auto policy = (*runtime)->policy();
  const std::string clean_name = Trim(name);
  if (clean_name.empty()) {
    return Error{ErrorCode::kInvalidArgument, "a name is required", "name", "name_required"};
  }
  if (policy->RoleIndex(role) < 0) {
    return Error::Refused("role_undeclared",
                          "\"" + role + "\" is not a role of the school's policy", "role");
  }
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const std::string& p : purposes) {
    if (policy->PurposeIndex(p) < 0) {
      return Error::Refused("purpose_undeclared",
                            "\"" + p + "\" is not a purpose of the school's policy", "purposes");
    }
    if (seen.insert(p).second) unique.push_back(p);
  }

  NewApiKey out;
  out.id = ApiKeyId(deps_.crypto.NewId());
  out.key = std::string(kApiKeyPrefix) + RandomHex(deps_.crypto, kApiKeyBytes);
  ApiKeyRow row;
  row.school = school;
  row.id = out.id;
  row.name = clean_name;
  row.key_hash = HashHex(deps_.crypto, out.key);
  row.role = role;
  row.purposes = unique;
  row.created_at = deps_.clock.Now();
  row.created_by = by.kind == Actor::Kind::kStaff ? by.id : std::string();
  ports::WriteBatch batch;
  batch.api_keys.push_back(std::move(row));
  audit_.Add(batch, school,
             Event(by, "api_key.create", "ok", "", ctx,
                   JsonObject({{"api_key", out.id.value()},
                               {"key_role", role},
                               {"purposes", JoinComma(unique)}})));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) return st.error();
  return out;
}

void StaffService::ClearKeyCache() {
  std::lock_guard lock(key_cache_mu_);
  key_cache_.clear();
}

Result<ApiKeyIdentity> StaffService::AuthenticateApiKey(const std::string& key) {
  if (key.size() != kApiKeyPrefix.size() + 2 * kApiKeyBytes || !key.starts_with(kApiKeyPrefix)) {
    return ApiKeyInvalid();
  }
  const std::string hash = HashHex(deps_.crypto, key);
  const Timestamp now = deps_.clock.Now();
  {
    std::lock_guard lock(key_cache_mu_);
    auto it = key_cache_.find(hash);
    if (it != key_cache_.end() && it->second.until > now) return it->second.identity;
  }
  auto row = deps_.store.FindApiKey(hash);
  if (!row.ok()) return row.error();
  if (!*row || (*row)->revoked_at) return ApiKeyInvalid();
  // A key of a school this deployment no longer serves opens nothing.
  if (!schools_.Get((*row)->school).ok()) return ApiKeyInvalid();
  ApiKeyIdentity out;
  out.school = (*row)->school;
  out.id = (*row)->id;
  out.name = (*row)->name;
  out.role = (*row)->role;
  out.purposes = (*row)->purposes;
  {
    std::lock_guard lock(key_cache_mu_);
    if (key_cache_.size() > 10000) key_cache_.clear();
    key_cache_[hash] = CachedKey{out, now + kApiKeyCacheTtl};
  }
  return out;
}

Status StaffService::RevokeApiKey(const SchoolId& school, const ApiKeyId& id, const Actor& by,
                                  const RequestContext& ctx) {
  // Cleared when the revocation is committed (on return), so no authentication in between can
  // cache the key again.
  struct ClearOnReturn {
    StaffService* self;
    ~ClearOnReturn() { self->ClearKeyCache(); }
  } clear_on_return{this};
  auto keys = deps_.store.ListApiKeys(school);
  if (!keys.ok()) return keys.error();
  auto it =
      std::find_if(keys->begin(), keys->end(), [&](const ApiKeyRow& k) { return k.id == id; });
  if (it == keys->end()) {
    return Error{ErrorCode::kNotFound, "no such API key in this school", "api_key",
                 "api_key_unknown"};
  }
  if (it->revoked_at) return Status::Ok();  // already revoked: nothing changes
  it->revoked_at = deps_.clock.Now();
  ports::WriteBatch batch;
  batch.api_keys.push_back(*it);
  audit_.Add(batch, school,
             Event(by, "api_key.revoke", "ok", "", ctx, JsonObject({{"api_key", id.value()}})));
  return deps_.store.Commit(std::move(batch));
}

Result<std::vector<ports::ApiKeyRow>> StaffService::ListApiKeys(const SchoolId& school) {
  if (auto runtime = schools_.Get(school); !runtime.ok()) return runtime.error();
  auto rows = deps_.store.ListApiKeys(school);
  if (!rows.ok()) return rows.error();
  for (ApiKeyRow& r : *rows) r.key_hash.clear();  // the key is shown once, at creation
  return rows;
}

}  // namespace dovira::services
