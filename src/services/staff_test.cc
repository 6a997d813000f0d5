#include "services/staff.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include <chrono>
#include <string>
#include <vector>

#include "services/test_env.h"

namespace dovira::services {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using test::At;
using test::TestEnv;

constexpr char kPassword[] = "correct horse battery";
constexpr char kWrongPassword[] = "incorrect horse battery";

bool IsLowerHex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// RFC 4648 base32 without padding, as BeginTotp hands it out, back to raw bytes.
std::string FromBase32(const std::string& text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= '2' && c <= '7' ? c - '2' + 26 : -1;
    EXPECT_GE(v, 0) << "not base32: " << text;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

class StaffServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok()); }

  const policy::Security& Security(const SchoolId& id) {
    return (*env.schools.Get(id))->policy()->policy().security;
  }

  ports::StaffRow MustCreate(const std::string& email, const std::string& role,
                             const SchoolId& in = SchoolId("vkluchi_zhizn")) {
    auto row = staff.Create(in, "Olena Koval", email, role, kPassword, admin, ctx,
                            StaffService::InitialPassword::kChosenByHolder);
    EXPECT_TRUE(row.ok()) << row.error().message;
    return row.ok() ? *row : ports::StaffRow{};
  }

  LoginResult MustLogin(const std::string& email, const std::string& password = kPassword,
                        const std::string& code = "") {
    auto r = staff.Login(school, email, password, code, ctx);
    EXPECT_TRUE(r.ok()) << r.error().ReasonOrCode();
    return r.ok() ? *r : LoginResult{};
  }

  // The reason of a failed call, "ok" for success.
  template <typename T>
  static std::string Reason(const Result<T>& r) {
    return r.ok() ? "ok" : r.error().ReasonOrCode();
  }
  static std::string Reason(const Status& s) { return s.ok() ? "ok" : s.error().ReasonOrCode(); }

  std::vector<ports::AuditRow> AuditRows(const SchoolId& id) {
    std::vector<ports::AuditRow> rows;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(id, 0,
                                   [&](const ports::AuditRow& r) {
                                     rows.push_back(r);
                                     return true;
                                   })
                    .ok());
    return rows;
  }

  // Enrols TOTP for a freshly signed-in privileged person; returns the raw secret.
  std::string EnrolTotp(const LoginResult& login) {
    auto enrolment = staff.BeginTotp(login.session);
    EXPECT_TRUE(enrolment.ok()) << Reason(enrolment);
    if (!enrolment.ok()) return "";
    const std::string secret = FromBase32(enrolment->secret_base32);
    const std::string code = env.crypto->TotpCode(secret, env.clock.Now());
    EXPECT_EQ(Reason(staff.ConfirmTotp(login.session_token, code, ctx)), "ok");
    return secret;
  }

  // Signs a new privileged account in and enrols TOTP; returns its secret and recovery codes.
  struct Enrolled {
    LoginResult login;
    std::string secret;
    std::vector<std::string> codes;
  };
  Enrolled EnrolWithRecoveryCodes(const std::string& email) {
    MustCreate(email, "responsible_person");
    Enrolled out{MustLogin(email), "", {}};
    auto enrolment = staff.BeginTotp(out.login.session);
    EXPECT_TRUE(enrolment.ok()) << Reason(enrolment);
    if (!enrolment.ok()) return out;
    out.secret = FromBase32(enrolment->secret_base32);
    auto codes = staff.ConfirmTotp(out.login.session_token,
                                   env.crypto->TotpCode(out.secret, env.clock.Now()), ctx);
    EXPECT_TRUE(codes.ok()) << Reason(codes);
    if (codes.ok()) out.codes = *codes;
    return out;
  }

  TestEnv env;
  StaffService staff{env.deps(), env.schools, env.audit};
  const SchoolId school{"vkluchi_zhizn"};
  const RequestContext ctx{"req-1", "203.0.113.7", "test-agent"};
  const Actor admin{Actor::Kind::kStaff, "st-admin", "responsible_person", {}, true};
};

// --- Accounts ------------------------------------------------------------------------------------

TEST_F(StaffServiceTest, CreatesAnAccountWithAPolicyRoleAndAnArgon2idHash) {
  ports::StaffRow row = MustCreate("  Olena.Koval@Example.org ", "support");
  EXPECT_FALSE(row.id.empty());
  EXPECT_EQ(row.email, "olena.koval@example.org");
  EXPECT_EQ(row.role, "support");
  EXPECT_EQ(row.password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(row.password_set_at, env.clock.Now());
  EXPECT_FALSE(row.totp_enabled);

  auto listed = staff.List(school);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, row.id);
  EXPECT_TRUE((*listed)[0].password_hash.empty()) << "credentials never leave the service";
}

TEST_F(StaffServiceTest, RefusesASecondAccountForTheSameEmailInAnyCase) {
  MustCreate("olena@example.org", "support");
  auto again = staff.Create(school, "Other", "OLENA@example.org", "curator", kPassword, admin, ctx);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(again.error().reason, "email_taken");
}

TEST_F(StaffServiceTest, RefusesARoleThePolicyDoesNotDeclare_R86) {
  auto r = staff.Create(school, "Olena", "olena@example.org", "superuser", kPassword, admin, ctx);
  EXPECT_EQ(Reason(r), "role_undeclared");
}

TEST_F(StaffServiceTest, RefusesPasswordsShorterThanThePolicyMinimumOrCommon) {
  const auto min = static_cast<size_t>(Security(school).password_min_length);
  EXPECT_EQ(Reason(staff.Create(school, "O", "a@example.org", "support",
                                std::string("abcdefghijklmnop").substr(0, min - 1), admin, ctx)),
            "password_weak");
  EXPECT_EQ(
      Reason(staff.Create(school, "O", "a@example.org", "support", "password1234", admin, ctx)),
      "password_weak");
  EXPECT_EQ(Reason(staff.Create(school, "O", "a@example.org", "support", std::string(min + 4, 'z'),
                                admin, ctx)),
            "password_weak");
  EXPECT_EQ(Reason(staff.Create(school, "O", "a@example.org", "support", kPassword, admin, ctx)),
            "ok");
}

TEST_F(StaffServiceTest, RequiresANameAndAPlausibleEmail) {
  EXPECT_EQ(Reason(staff.Create(school, "  ", "a@example.org", "support", kPassword, admin, ctx)),
            "name_required");
  EXPECT_EQ(Reason(staff.Create(school, "O", "not-an-address", "support", kPassword, admin, ctx)),
            "email_invalid");
}

// --- Signing in ----------------------------------------------------------------------------------

TEST_F(StaffServiceTest, APasswordSetByAnotherMustBeReplacedAtTheFirstSignIn_R87) {
  auto row = staff.Create(school, "Ivan Petrenko", "ivan@example.org", "support", kPassword, admin,
                          ctx);  // an administrator chose it: one-time by default
  ASSERT_TRUE(row.ok()) << Reason(row);
  EXPECT_TRUE(row->must_change_password);
  LoginResult login = MustLogin("ivan@example.org");
  EXPECT_TRUE(login.session.must_change_password);
  MustCreate("olena@example.org", "support");  // the holder's own
  EXPECT_FALSE(MustLogin("olena@example.org").session.must_change_password);
}

TEST_F(StaffServiceTest, LoginReturnsASessionWhoseTokenAuthenticates) {
  ports::StaffRow row = MustCreate("olena@example.org", "support");
  LoginResult login = MustLogin("olena@example.org");
  EXPECT_EQ(login.session_token.size(), 64u);
  EXPECT_TRUE(IsLowerHex(login.session_token));
  EXPECT_EQ(login.session.csrf_token.size(), 64u);
  EXPECT_TRUE(login.session.mfa_passed) << "a role that is not privileged needs no TOTP";
  EXPECT_FALSE(login.session.mfa_required);
  EXPECT_FALSE(login.session.must_change_password);
  EXPECT_EQ(login.session.expires_at, env.clock.Now() + hours(12));

  auto auth = staff.Authenticate(login.session_token);
  ASSERT_TRUE(auth.ok()) << Reason(auth);
  EXPECT_EQ(auth->staff, row.id);
  EXPECT_EQ(auth->school, school);
  EXPECT_EQ(auth->role, "support");
  EXPECT_EQ(auth->csrf_token, login.session.csrf_token);
  Actor actor = auth->ToActor();
  EXPECT_EQ(actor.kind, Actor::Kind::kStaff);
  EXPECT_EQ(actor.id, row.id.value());
  EXPECT_EQ(actor.role, "support");
  EXPECT_FALSE(actor.briefed) << "no briefing recorded yet (R87)";

  // Only a hash of the token is stored.
  EXPECT_FALSE(env.store->GetSession(login.session_token).value().has_value());
  EXPECT_TRUE(env.store->GetSession(ports::ToHex(env.crypto->Hash(login.session_token)))
                  .value()
                  .has_value());
}

TEST_F(StaffServiceTest, UnknownTokensDoNotAuthenticate) {
  EXPECT_EQ(Reason(staff.Authenticate("")), "session_invalid");
  EXPECT_EQ(Reason(staff.Authenticate(std::string(64, 'a'))), "session_invalid");
}

TEST_F(StaffServiceTest, AWrongPasswordAndAnUnknownEmailGetTheSameAnswer) {
  MustCreate("olena@example.org", "support");
  auto wrong = staff.Login(school, "olena@example.org", kWrongPassword, "", ctx);
  auto unknown = staff.Login(school, "nobody@example.org", kPassword, "", ctx);
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(wrong.error().reason, "invalid_credentials");
  EXPECT_EQ(unknown.error().code, wrong.error().code);
  EXPECT_EQ(unknown.error().reason, wrong.error().reason);
  EXPECT_EQ(unknown.error().message, wrong.error().message);
}

TEST_F(StaffServiceTest, LocksTheAccountAfterThePolicysFailuresEvenForTheRightPassword) {
  const policy::Security& sec = Security(school);
  ASSERT_GT(sec.lockout_attempts, 1);
  MustCreate("olena@example.org", "support");
  for (int64_t i = 1; i < sec.lockout_attempts; ++i) {
    EXPECT_EQ(Reason(staff.Login(school, "olena@example.org", kWrongPassword, "", ctx)),
              "invalid_credentials")
        << "attempt " << i;
  }
  auto last = staff.Login(school, "olena@example.org", kWrongPassword, "", ctx);
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, ErrorCode::kTooManyRequests);
  EXPECT_EQ(last.error().reason, "locked_out");
  EXPECT_EQ(Reason(staff.Login(school, "olena@example.org", kPassword, "", ctx)), "locked_out");

  env.clock.Advance(minutes(sec.lockout_minutes) - seconds(1));
  EXPECT_EQ(Reason(staff.Login(school, "olena@example.org", kPassword, "", ctx)), "locked_out");
  env.clock.Advance(seconds(1));
  EXPECT_EQ(Reason(staff.Login(school, "olena@example.org", kPassword, "", ctx)), "ok");

  bool lockout_audited = false;
  for (const auto& row : AuditRows(school)) lockout_audited |= row.action == "staff.lockout";
  EXPECT_TRUE(lockout_audited);
}

// An address with no account locks after as many failures as one with an account, with the same
// answers on the way, so a guesser cannot tell which addresses have one (R86).
TEST_F(StaffServiceTest, AnUnknownAddressLocksAfterTheSameFailuresWithTheSameAnswers) {
  const policy::Security& sec = Security(school);
  ASSERT_GT(sec.lockout_attempts, 1);
  MustCreate("olena@example.org", "support");
  for (int64_t i = 1; i <= sec.lockout_attempts + 1; ++i) {
    SCOPED_TRACE(i);
    // Each from an address of its own, so that the per-address limit plays no part.
    RequestContext from = ctx;
    from.ip = "198.51.100." + std::to_string(i);
    auto known = staff.Login(school, "olena@example.org", kWrongPassword, "", from);
    auto unknown = staff.Login(school, "Nobody@Example.org", kWrongPassword, "", from);
    ASSERT_FALSE(known.ok());
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, known.error().code);
    EXPECT_EQ(unknown.error().reason, known.error().reason);
    EXPECT_EQ(unknown.error().message, known.error().message);
    EXPECT_EQ(known.error().reason, i < sec.lockout_attempts ? "invalid_credentials" : "locked_out");
  }
  // Locked alike until the lock ends; another unknown address is not locked.
  EXPECT_EQ(Reason(staff.Login(school, "nobody@example.org", kPassword, "", ctx)), "locked_out");
  EXPECT_EQ(Reason(staff.Login(school, "someone@example.org", kPassword, "", ctx)),
            "invalid_credentials");
  env.clock.Advance(minutes(sec.lockout_minutes));
  EXPECT_EQ(Reason(staff.Login(school, "nobody@example.org", kPassword, "", ctx)),
            "invalid_credentials");
  EXPECT_EQ(Reason(staff.Login(school, "olena@example.org", kPassword, "", ctx)), "ok");

  // The lock of an unknown address is in the audit log too; the address is not.
  int lockouts = 0;
  for (const auto& row : AuditRows(school)) {
    lockouts += row.action == "staff.lockout";
    EXPECT_EQ(row.detail.find("nobody"), std::string::npos) << row.detail;
  }
  EXPECT_EQ(lockouts, 2);
}

// The real crypto, counting the password verifications and remembering the hashes used.
class CountingCrypto : public ports::Crypto {
 public:
  explicit CountingCrypto(ports::Crypto& real) : real_(real) {}
  std::string RandomBytes(size_t n) override { return real_.RandomBytes(n); }
  std::string NewId() override { return real_.NewId(); }
  ports::SecretKey NewKey() override { return real_.NewKey(); }
  std::string Seal(const ports::SecretKey& k, std::string_view p, std::string_view a) override {
    return real_.Seal(k, p, a);
  }
  Result<std::string> Open(const ports::SecretKey& k, std::string_view s,
                           std::string_view a) override {
    return real_.Open(k, s, a);
  }
  std::string Hash(std::string_view d) override { return real_.Hash(d); }
  std::string Hash2(std::string_view a, std::string_view b) override { return real_.Hash2(a, b); }
  std::string KeyedHash(const ports::SecretKey& k, std::string_view d) override {
    return real_.KeyedHash(k, d);
  }
  std::string Sha256(std::string_view d) override { return real_.Sha256(d); }
  ports::SigningKey NewSigningKey() override { return real_.NewSigningKey(); }
  std::string Sign(const ports::SigningKey& k, std::string_view m) override {
    return real_.Sign(k, m);
  }
  bool Verify(std::string_view pk, std::string_view m, std::string_view s) override {
    return real_.Verify(pk, m, s);
  }
  Result<std::string> HashPassword(std::string_view p) override { return real_.HashPassword(p); }
  bool VerifyPassword(std::string_view hash, std::string_view password) override {
    verified.emplace_back(hash);
    return real_.VerifyPassword(hash, password);
  }
  std::optional<int64_t> MatchTotp(std::string_view s, std::string_view c, Timestamp n) override {
    return real_.MatchTotp(s, c, n);
  }
  std::string TotpCode(std::string_view s, Timestamp n) override { return real_.TotpCode(s, n); }
  bool Equal(std::string_view a, std::string_view b) override { return real_.Equal(a, b); }

  std::vector<std::string> verified;  // the hash of each VerifyPassword call

 private:
  ports::Crypto& real_;
};

// The same work for an address with no account: one Argon2id verification against a hash with
// the parameters of a real one (what makes both answers take the same time).
TEST_F(StaffServiceTest, AnUnknownAddressCostsOneArgon2idVerificationAsAKnownOneDoes) {
  CountingCrypto counting(*env.crypto);
  StaffService measured(Deps{*env.store, counting, *env.keys, env.clock}, env.schools, env.audit);
  const ports::StaffRow row = MustCreate("olena@example.org", "support");
  ASSERT_FALSE(measured.Login(school, "olena@example.org", kWrongPassword, "", ctx).ok());
  ASSERT_EQ(counting.verified.size(), 1u);
  EXPECT_EQ(counting.verified[0], row.password_hash);
  ASSERT_FALSE(measured.Login(school, "nobody@example.org", kWrongPassword, "", ctx).ok());
  ASSERT_EQ(counting.verified.size(), 2u);
  const std::string dummy = counting.verified[1];
  EXPECT_NE(dummy, row.password_hash);
  // "$argon2id$v=19$m=...,t=...,p=...$salt$hash": the same algorithm and parameters.
  auto params = [](const std::string& h) { return h.substr(0, h.find('$', h.find("m=")) + 1); };
  EXPECT_EQ(dummy.rfind("$argon2id$", 0), 0u) << dummy;
  EXPECT_EQ(params(dummy), params(row.password_hash));
  // Made once: the next unknown address is checked against the same hash.
  ASSERT_FALSE(measured.Login(school, "someone@example.org", kWrongPassword, "", ctx).ok());
  ASSERT_EQ(counting.verified.size(), 3u);
  EXPECT_EQ(counting.verified[2], dummy);
}

TEST_F(StaffServiceTest, ASuccessfulSignInStartsTheFailureCountAgain) {
  const int64_t attempts = Security(school).lockout_attempts;
  MustCreate("olena@example.org", "support");
  for (int round = 0; round < 2; ++round) {
    for (int64_t i = 1; i < attempts; ++i) {
      ASSERT_EQ(Reason(staff.Login(school, "olena@example.org", kWrongPassword, "", ctx)),
                "invalid_credentials");
    }
    if (round == 0) MustLogin("olena@example.org");
  }
  auto row = env.store->FindStaffByEmail(school, "olena@example.org");
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_FALSE((*row)->locked_until.has_value());
}

TEST_F(StaffServiceTest, LimitsSignInAttemptsToTenAMinutePerAddress) {
  // A different address each time: one address alone would lock first.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Reason(staff.Login(school, "nobody" + std::to_string(i) + "@example.org", kPassword,
                                 "", ctx)),
              "invalid_credentials");
  }
  auto limited = staff.Login(school, "nobody@example.org", kPassword, "", ctx);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, ErrorCode::kTooManyRequests);
  EXPECT_EQ(limited.error().reason, "rate_limited");

  RequestContext other = ctx;
  other.ip = "198.51.100.20";
  EXPECT_EQ(Reason(staff.Login(school, "nobody@example.org", kPassword, "", other)),
            "invalid_credentials");

  env.clock.Advance(seconds(61));
  EXPECT_EQ(Reason(staff.Login(school, "nobody@example.org", kPassword, "", ctx)),
            "invalid_credentials");
}

TEST_F(StaffServiceTest, SuccessfulSignInsDoNotCountTowardsTheAddressLimit) {
  MustCreate("olena@example.org", "support");
  for (int i = 0; i < 25; ++i) MustLogin("olena@example.org");  // a shared school network
  EXPECT_EQ(Reason(staff.Login(school, "nobody@example.org", kPassword, "", ctx)),
            "invalid_credentials");
}

TEST_F(StaffServiceTest, APersonWhoLeftCannotSignIn_R87) {
  ports::StaffRow row = MustCreate("olena@example.org", "support");
  ASSERT_EQ(Reason(staff.Leave(school, row.id, admin, ctx)), "ok");
  auto login = staff.Login(school, "olena@example.org", kPassword, "", ctx);
  ASSERT_FALSE(login.ok());
  EXPECT_EQ(login.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(login.error().reason, "account_left");
}

// --- TOTP for privileged roles -------------------------------------------------------------------

TEST_F(StaffServiceTest, APrivilegedRoleWithoutTotpGetsASessionLimitedToEnrolment) {
  ASSERT_TRUE(Security(school).mfa_for_privileged);
  MustCreate("owner@example.org", "responsible_person");
  LoginResult login = MustLogin("owner@example.org");
  EXPECT_FALSE(login.session.mfa_passed);
  EXPECT_TRUE(login.session.mfa_required);

  auto enrolment = staff.BeginTotp(login.session);
  ASSERT_TRUE(enrolment.ok()) << Reason(enrolment);
  EXPECT_EQ(enrolment->secret_base32.size(), 32u) << "20 random bytes";
  // The authenticator's entry names the school (issue 12), in the policy's authoritative language.
  EXPECT_EQ(enrolment->issuer, "Включи Жизнь");
  EXPECT_EQ(enrolment->account, "owner@example.org");
  const std::string school_name = "%D0%92%D0%BA%D0%BB%D1%8E%D1%87%D0%B8%20%D0%96%D0%B8%D0%B7%D0%BD%D1%8C";
  EXPECT_EQ(enrolment->otpauth_uri, "otpauth://totp/" + school_name +
                                        ":owner@example.org?secret=" + enrolment->secret_base32 +
                                        "&issuer=" + school_name);
  EXPECT_EQ(enrolment->otpauth_uri.find("Dovira"), std::string::npos);
  const std::string secret = FromBase32(enrolment->secret_base32);
  ASSERT_EQ(secret.size(), 20u);

  auto stored = env.store->FindStaffByEmail(school, "owner@example.org");
  ASSERT_TRUE(stored.ok() && *stored);
  EXPECT_FALSE((*stored)->totp_enabled) << "not until a code confirms it";
  EXPECT_EQ((*stored)->sealed_totp_secret.find(secret), std::string::npos) << "stored sealed";

  const std::string code = env.crypto->TotpCode(secret, env.clock.Now());
  const std::string wrong = code == "000000" ? "000001" : "000000";
  EXPECT_EQ(Reason(staff.ConfirmTotp(login.session_token, wrong, ctx)), "invalid_credentials");
  ASSERT_EQ(Reason(staff.ConfirmTotp(login.session_token, code, ctx)), "ok");

  auto auth = staff.Authenticate(login.session_token);
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(auth->mfa_passed);
  stored = env.store->FindStaffByEmail(school, "owner@example.org");
  EXPECT_TRUE((*stored)->totp_enabled);
}

TEST_F(StaffServiceTest, OnceEnrolledAPrivilegedSignInNeedsTheCurrentCode) {
  MustCreate("owner@example.org", "responsible_person");
  const std::string secret = EnrolTotp(MustLogin("owner@example.org"));
  ASSERT_FALSE(secret.empty());

  env.clock.Advance(minutes(5));
  // The right password without a code: the client is told to ask for it, and the account's
  // failure count does not move; with a wrong password nothing about the code is said.
  auto asked = staff.Login(school, "owner@example.org", kPassword, "", ctx);
  ASSERT_FALSE(asked.ok());
  EXPECT_EQ(asked.error().reason, "totp_required");
  EXPECT_EQ(asked.error().field, "totp");
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kWrongPassword, "", ctx)),
            "invalid_credentials");
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, "123", ctx)),
            "invalid_credentials");
  const std::string code = env.crypto->TotpCode(secret, env.clock.Now());
  auto login = staff.Login(school, "owner@example.org", kPassword, code, ctx);
  ASSERT_TRUE(login.ok()) << Reason(login);
  EXPECT_TRUE(login->session.mfa_passed);
  // The same code again, within its window, is refused: a code is good once.
  env.clock.Advance(seconds(5));
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, code, ctx)),
            "invalid_credentials");
  env.clock.Advance(seconds(30));
  const std::string next = env.crypto->TotpCode(secret, env.clock.Now());
  ASSERT_NE(next, code);
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, next, ctx)), "ok");
  // A confirmed secret cannot be replaced by whoever holds a session.
  EXPECT_EQ(Reason(staff.BeginTotp(login->session)), "totp_enrolled");
}

// --- Recovery codes (issue 12) -------------------------------------------------------------------

// Enrolment hands out ten one-time recovery codes, kept only as hashes; each signs in once in
// place of a TOTP code, and every use is audited with the count left.
TEST_F(StaffServiceTest, ARecoveryCodeSignsInOnceInsteadOfTheTotpCode) {
  const Enrolled enrolled = EnrolWithRecoveryCodes("owner@example.org");
  const std::string& secret = enrolled.secret;
  const std::vector<std::string>* codes = &enrolled.codes;
  ASSERT_EQ(codes->size(), static_cast<size_t>(kRecoveryCodeCount));
  const std::set<std::string> distinct(codes->begin(), codes->end());
  EXPECT_EQ(distinct.size(), codes->size());
  auto stored = env.store->FindStaffByEmail(school, "owner@example.org");
  ASSERT_TRUE(stored.ok() && *stored);
  ASSERT_EQ((*stored)->recovery_codes.size(), codes->size());
  for (const auto& code : *codes) {
    EXPECT_TRUE(std::regex_match(code, std::regex("[A-Z2-7]{5}-[A-Z2-7]{5}"))) << code;
    for (const auto& hash : (*stored)->recovery_codes) {
      EXPECT_EQ(hash.find(code.substr(0, 5)), std::string::npos) << "stored hashed";
    }
  }

  env.clock.Advance(minutes(5));
  // Typed in lower case without the hyphen, as people do.
  std::string typed;
  for (char c : (*codes)[3]) {
    if (c != '-') typed += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto login = staff.Login(school, "owner@example.org", kPassword, typed, ctx);
  ASSERT_TRUE(login.ok()) << Reason(login);
  EXPECT_TRUE(login->session.mfa_passed);
  ASSERT_TRUE(login->recovery_codes_left.has_value());
  EXPECT_EQ(*login->recovery_codes_left, kRecoveryCodeCount - 1);
  int uses = 0;
  for (const auto& row : AuditRows(school)) {
    if (row.action != "staff.recovery_code.use") continue;
    ++uses;
    EXPECT_NE(row.detail.find("\"remaining\":\"9\""), std::string::npos) << row.detail;
  }
  EXPECT_EQ(uses, 1);
  // Not twice.
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, (*codes)[3], ctx)),
            "invalid_credentials");
  // Another code still works; a TOTP sign-in says nothing of recovery codes.
  auto other = staff.Login(school, "owner@example.org", kPassword, (*codes)[0], ctx);
  ASSERT_TRUE(other.ok()) << Reason(other);
  EXPECT_EQ(*other->recovery_codes_left, kRecoveryCodeCount - 2);
  auto with_totp = staff.Login(school, "owner@example.org", kPassword,
                               env.crypto->TotpCode(secret, env.clock.Now()), ctx);
  ASSERT_TRUE(with_totp.ok()) << Reason(with_totp);
  EXPECT_FALSE(with_totp->recovery_codes_left.has_value());
}

// A wrong recovery code is a wrong second factor: refused, and counted by the lockout.
TEST_F(StaffServiceTest, AWrongRecoveryCodeCountsTowardsTheLockout) {
  const Enrolled enrolled = EnrolWithRecoveryCodes("owner@example.org");
  const std::vector<std::string>* codes = &enrolled.codes;
  ASSERT_FALSE(codes->empty());
  const int attempts = Security(school).lockout_attempts;
  ASSERT_GT(attempts, 0);
  for (int i = 0; i < attempts; ++i) {
    const std::string reason = Reason(staff.Login(school, "owner@example.org", kPassword,
                                                  "AAAAA-AAAA" + std::string(1, 'A' + i), ctx));
    EXPECT_TRUE(reason == "invalid_credentials" || (i == attempts - 1 && reason == "locked_out"))
        << i << ": " << reason;
  }
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, (*codes)[0], ctx)),
            "locked_out")
      << "even a good code waits for the lock to end";
  auto stored = env.store->FindStaffByEmail(school, "owner@example.org");
  ASSERT_TRUE(stored.ok() && *stored);
  EXPECT_EQ((*stored)->recovery_codes.size(), codes->size()) << "the lock spent no code";
}

// New codes replace the old ones, only from a session that passed the second factor.
TEST_F(StaffServiceTest, NewRecoveryCodesReplaceTheOldOnes) {
  MustCreate("other@example.org", "responsible_person");
  EXPECT_EQ(Reason(staff.RegenerateRecoveryCodes(MustLogin("other@example.org").session, ctx)),
            "mfa_required");
  const Enrolled enrolled = EnrolWithRecoveryCodes("owner@example.org");
  const std::vector<std::string>* old = &enrolled.codes;
  ASSERT_FALSE(old->empty());
  auto session = staff.Authenticate(enrolled.login.session_token);
  ASSERT_TRUE(session.ok() && session->mfa_passed);
  auto fresh = staff.RegenerateRecoveryCodes(*session, ctx);
  ASSERT_TRUE(fresh.ok()) << Reason(fresh);
  ASSERT_EQ(fresh->size(), static_cast<size_t>(kRecoveryCodeCount));
  env.clock.Advance(minutes(1));
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, (*old)[0], ctx)),
            "invalid_credentials");
  EXPECT_EQ(Reason(staff.Login(school, "owner@example.org", kPassword, (*fresh)[0], ctx)), "ok");
}

// --- Passwords -----------------------------------------------------------------------------------

TEST_F(StaffServiceTest, APasswordOlderThanThePolicysMaxAgeMustBeChanged_R90) {
  ASSERT_TRUE(env.LoadShipped("003_it_pro.toml").ok());
  const SchoolId it_pro("it-pro");
  ASSERT_TRUE(Security(it_pro).password_max_age.has_value()) << "003 §22.6: 3 months";
  env.clock.Set(At("2025-03-03T09:00:00Z"));
  ASSERT_EQ(
      Reason(staff.Create(it_pro, "Ivan", "ivan@example.org", "support", kPassword, admin, ctx,
                          StaffService::InitialPassword::kChosenByHolder)),
      "ok");

  env.clock.Set(At("2025-06-02T09:00:00Z"));
  auto early = staff.Login(it_pro, "ivan@example.org", kPassword, "", ctx);
  ASSERT_TRUE(early.ok()) << Reason(early);
  EXPECT_FALSE(early->session.must_change_password);

  env.clock.Set(At("2025-06-04T09:00:00Z"));
  auto due = staff.Login(it_pro, "ivan@example.org", kPassword, "", ctx);
  ASSERT_TRUE(due.ok()) << Reason(due);
  EXPECT_TRUE(due->session.must_change_password);

  const std::string next = "a brand new passphrase";
  EXPECT_EQ(Reason(staff.ChangePassword(due->session_token, kWrongPassword, next, ctx)),
            "invalid_credentials");
  EXPECT_EQ(Reason(staff.ChangePassword(due->session_token, kPassword, kPassword, ctx)),
            "password_weak");
  EXPECT_EQ(Reason(staff.ChangePassword(due->session_token, kPassword, "short", ctx)),
            "password_weak");
  ASSERT_EQ(Reason(staff.ChangePassword(due->session_token, kPassword, next, ctx)), "ok");
  auto after = staff.Authenticate(due->session_token);
  ASSERT_TRUE(after.ok()) << "the session that changed the password goes on";
  EXPECT_FALSE(after->must_change_password);
  EXPECT_EQ(Reason(staff.Authenticate(early->session_token)), "session_invalid")
      << "a new password ends every other session";
  EXPECT_EQ(Reason(staff.Login(it_pro, "ivan@example.org", kPassword, "", ctx)),
            "invalid_credentials");
  EXPECT_EQ(Reason(staff.Login(it_pro, "ivan@example.org", next, "", ctx)), "ok");
}

TEST_F(StaffServiceTest, WithoutAMaxAgeAPasswordNeverFallsDue) {
  ASSERT_FALSE(Security(school).password_max_age.has_value());
  MustCreate("olena@example.org", "support");
  env.clock.Advance(hours(24 * 800));
  EXPECT_FALSE(MustLogin("olena@example.org").session.must_change_password);
}

TEST_F(StaffServiceTest, AnAdministratorCanRequireAPasswordChange_R90) {
  ports::StaffRow row = MustCreate("olena@example.org", "support");
  LoginResult login = MustLogin("olena@example.org");
  ASSERT_EQ(Reason(staff.RequirePasswordChange(school, row.id, admin, ctx)), "ok");
  EXPECT_TRUE(staff.Authenticate(login.session_token)->must_change_password);
  ASSERT_EQ(
      Reason(staff.ChangePassword(login.session_token, kPassword, "another long phrase", ctx)),
      "ok");
  EXPECT_FALSE(staff.Authenticate(login.session_token)->must_change_password);
}

TEST_F(StaffServiceTest, ABriefingIsRecordedOnTheSessionAndActor_R87) {
  ports::StaffRow row = MustCreate("olena@example.org", "support");
  LoginResult login = MustLogin("olena@example.org");
  ASSERT_EQ(Reason(staff.RecordBriefing(school, row.id, admin, ctx)), "ok");
  auto auth = staff.Authenticate(login.session_token);
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(auth->briefed);
  EXPECT_TRUE(auth->ToActor().briefed);
}

// --- Sessions ------------------------------------------------------------------------------------

TEST_F(StaffServiceTest, LogoutEndsTheSession) {
  MustCreate("olena@example.org", "support");
  LoginResult login = MustLogin("olena@example.org");
  ASSERT_EQ(Reason(staff.Logout(login.session_token, ctx)), "ok");
  EXPECT_EQ(Reason(staff.Authenticate(login.session_token)), "session_invalid");
  EXPECT_EQ(Reason(staff.Logout(login.session_token, ctx)), "ok") << "already gone";
}

TEST_F(StaffServiceTest, SessionsEndTwelveHoursAfterSignIn) {
  MustCreate("olena@example.org", "support");
  LoginResult login = MustLogin("olena@example.org");
  env.clock.Advance(hours(12) - seconds(1));
  EXPECT_EQ(Reason(staff.Authenticate(login.session_token)), "ok");
  env.clock.Advance(seconds(1));
  EXPECT_EQ(Reason(staff.Authenticate(login.session_token)), "session_invalid");
}

TEST_F(StaffServiceTest, LeavingEndsTheSessionsAndApiKeysOfThePersonAtOnce_R87) {
  ports::StaffRow leaver = MustCreate("olena@example.org", "support");
  ports::StaffRow stays = MustCreate("ivan@example.org", "support");
  LoginResult login = MustLogin("olena@example.org");
  auto own_key = staff.CreateApiKey(school, "LMS sync", "support", {"identification"},
                                    login.session.ToActor(), ctx);
  ASSERT_TRUE(own_key.ok()) << Reason(own_key);
  Actor other{Actor::Kind::kStaff, stays.id.value(), "support", {}, true};
  auto other_key = staff.CreateApiKey(school, "CRM", "support", {"identification"}, other, ctx);
  ASSERT_TRUE(other_key.ok());
  ASSERT_EQ(Reason(staff.AuthenticateApiKey(own_key->key)), "ok");

  ASSERT_EQ(Reason(staff.Leave(school, leaver.id, admin, ctx)), "ok");
  EXPECT_EQ(Reason(staff.Authenticate(login.session_token)), "session_invalid");
  EXPECT_EQ(Reason(staff.AuthenticateApiKey(own_key->key)), "api_key_invalid");
  EXPECT_EQ(Reason(staff.AuthenticateApiKey(other_key->key)), "ok") << "not theirs";

  auto keys = staff.ListApiKeys(school);
  ASSERT_TRUE(keys.ok());
  for (const auto& k : *keys) {
    EXPECT_EQ(k.revoked_at.has_value(), k.id == own_key->id) << k.name;
    EXPECT_EQ(k.created_by, k.id == own_key->id ? leaver.id.value() : stays.id.value());
  }
}

// --- API keys ------------------------------------------------------------------------------------

TEST_F(StaffServiceTest, AnApiKeyAuthenticatesToItsRoleAndPurposes) {
  auto key = staff.CreateApiKey(school, "LMS", "support",
                                {"identification", "contract_performance"}, admin, ctx);
  ASSERT_TRUE(key.ok()) << Reason(key);
  EXPECT_EQ(key->key.rfind("dvk_", 0), 0u);
  EXPECT_EQ(key->key.size(), 44u);
  EXPECT_TRUE(IsLowerHex(key->key.substr(4)));

  auto identity = staff.AuthenticateApiKey(key->key);
  ASSERT_TRUE(identity.ok()) << Reason(identity);
  EXPECT_EQ(identity->school, school);
  EXPECT_EQ(identity->id, key->id);
  EXPECT_EQ(identity->name, "LMS");
  EXPECT_EQ(identity->role, "support");
  EXPECT_EQ(identity->purposes,
            (std::vector<std::string>{"identification", "contract_performance"}));
  Actor actor = identity->ToActor();
  EXPECT_EQ(actor.kind, Actor::Kind::kApiKey);
  EXPECT_EQ(actor.purposes, identity->purposes);

  EXPECT_EQ(env.store->FindApiKey(ports::ToHex(env.crypto->Hash(key->key)))->value().id, key->id)
      << "only the hash is stored";
}

TEST_F(StaffServiceTest, UnknownAndRevokedApiKeysAreRefused) {
  EXPECT_EQ(Reason(staff.AuthenticateApiKey("dvk_" + std::string(40, '0'))), "api_key_invalid");
  EXPECT_EQ(Reason(staff.AuthenticateApiKey("not a key")), "api_key_invalid");
  auto key = staff.CreateApiKey(school, "LMS", "support", {"identification"}, admin, ctx);
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(Reason(staff.RevokeApiKey(school, key->id, admin, ctx)), "ok");
  EXPECT_EQ(Reason(staff.AuthenticateApiKey(key->key)), "api_key_invalid");
  EXPECT_EQ(Reason(staff.RevokeApiKey(school, ApiKeyId("nope"), admin, ctx)), "api_key_unknown");
}

TEST_F(StaffServiceTest, AnApiKeyNamesOnlyDeclaredRolesAndPurposes) {
  EXPECT_EQ(Reason(staff.CreateApiKey(school, "LMS", "support", {"world_domination"}, admin, ctx)),
            "purpose_undeclared");
  EXPECT_EQ(Reason(staff.CreateApiKey(school, "LMS", "robot", {"identification"}, admin, ctx)),
            "role_undeclared");
  EXPECT_EQ(Reason(staff.CreateApiKey(school, " ", "support", {"identification"}, admin, ctx)),
            "name_required");
}

// --- Audit ---------------------------------------------------------------------------------------

TEST_F(StaffServiceTest, SignInsAreAuditedAndTheChainVerifies_R88) {
  ports::StaffRow row = MustCreate("olena@example.org", "support");
  MustLogin("olena@example.org");
  ASSERT_FALSE(staff.Login(school, "olena@example.org", kWrongPassword, "", ctx).ok());
  ASSERT_FALSE(staff.Login(school, "nobody@example.org", kWrongPassword, "", ctx).ok());

  int ok = 0, denied = 0, unknown = 0;
  for (const auto& r : AuditRows(school)) {
    if (r.action != "staff.login") continue;
    EXPECT_EQ(r.request_id, "req-1");
    EXPECT_NE(r.detail.find("203.0.113.0/24"), std::string::npos) << "truncated address";
    if (r.outcome == "ok" && r.actor == "staff:" + row.id.value()) ++ok;
    if (r.outcome == "deny" && r.reason == "invalid_credentials") {
      (r.actor == "public" ? unknown : denied)++;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(denied, 1);
  EXPECT_EQ(unknown, 1);

  auto verified = env.audit.Verify(school);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok) << verified->problem;
}

TEST_F(StaffServiceTest, NoSecretReachesTheAuditLog) {
  ports::StaffRow row = MustCreate("owner@example.org", "responsible_person");
  MustCreate("olena@example.org", "support");
  ASSERT_FALSE(staff.Login(school, "olena@example.org", kWrongPassword, "", ctx).ok());
  ASSERT_FALSE(staff.Login(school, kWrongPassword, kWrongPassword, "", ctx).ok());
  LoginResult login = MustLogin("owner@example.org");
  const std::string secret = EnrolTotp(login);
  const std::string code = env.crypto->TotpCode(secret, env.clock.Now());
  const std::string next = "a brand new passphrase";
  ASSERT_EQ(Reason(staff.ChangePassword(login.session_token, kPassword, next, ctx)), "ok");
  auto key = staff.CreateApiKey(school, "LMS", "support", {"identification"}, admin, ctx);
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(Reason(staff.RevokeApiKey(school, key->id, admin, ctx)), "ok");
  ASSERT_EQ(Reason(staff.Logout(login.session_token, ctx)), "ok");
  ASSERT_EQ(Reason(staff.Leave(school, row.id, admin, ctx)), "ok");

  const std::vector<std::string> secrets = {kPassword,
                                            kWrongPassword,
                                            next,
                                            login.session_token,
                                            login.session.csrf_token,
                                            ports::ToHex(secret),
                                            code,
                                            key->key};
  std::vector<ports::AuditRow> rows = AuditRows(school);
  ASSERT_GE(rows.size(), 10u);
  for (const auto& r : rows) {
    const std::string all = r.actor + "|" + r.role + "|" + r.action + "|" + r.subject_ref + "|" +
                            r.purpose + "|" + r.fields + "|" + r.outcome + "|" + r.reason + "|" +
                            r.decision_id + "|" + r.request_id + "|" + r.detail;
    for (const auto& s : secrets) {
      EXPECT_EQ(all.find(s), std::string::npos) << r.action << " (seq " << r.seq << ")";
    }
  }
}

}  // namespace
}  // namespace dovira::services
