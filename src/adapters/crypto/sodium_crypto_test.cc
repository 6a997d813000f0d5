#include "adapters/crypto/sodium_crypto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "ports/crypto.h"

namespace dovira::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

std::string Unhex(std::string_view hex) {
  auto bytes = ports::FromHex(hex);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

Timestamp AtSeconds(int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

class SodiumCryptoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = SodiumCrypto::Create();
    ASSERT_TRUE(created.ok()) << created.error().message;
    crypto_ = std::move(created).value();
  }

  void ExpectCannotDecrypt(const Result<std::string>& opened) {
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(opened.error().message, "cannot decrypt");
  }

  std::unique_ptr<SodiumCrypto> crypto_;
};

// --- Setup and randomness ---

TEST_F(SodiumCryptoTest, CreateCanBeCalledMoreThanOnce) {
  auto again = SodiumCrypto::Create();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Hash(""), crypto_->Hash(""));
}

TEST_F(SodiumCryptoTest, RandomBytesHasRequestedLengthAndDiffersEachCall) {
  EXPECT_EQ(crypto_->RandomBytes(0), "");
  const std::string a = crypto_->RandomBytes(32);
  const std::string b = crypto_->RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST_F(SodiumCryptoTest, NewIdIs26LowerCaseBase32CharactersWithoutPadding) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = crypto_->NewId();
    ASSERT_THAT(id, MatchesRegex("[a-z2-7]{26}"));
    // 128 bits fill 25 characters and 3 bits of the last; its low 2 bits are zero padding.
    const char last = id.back();
    const int value = last >= 'a' ? last - 'a' : last - '2' + 26;
    EXPECT_EQ(value & 3, 0) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST_F(SodiumCryptoTest, IdsMadeTogetherShareTheirPrefix) {
  // The first six characters hold the top 30 bits of the time in milliseconds: they change
  // every 262 seconds, so a thousand ids made in a row show at most two prefixes.
  std::set<std::string> prefixes;
  std::set<std::string> tails;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = crypto_->NewId();
    prefixes.insert(id.substr(0, 6));
    tails.insert(id.substr(10));  // random bits only
  }
  EXPECT_LE(prefixes.size(), 2u);
  EXPECT_EQ(tails.size(), 1000u);
}

TEST_F(SodiumCryptoTest, NewKeyIsRandom) {
  EXPECT_NE(crypto_->NewKey().view(), crypto_->NewKey().view());
}

// --- Seal / Open ---

TEST_F(SodiumCryptoTest, SealThenOpenReturnsThePlaintext) {
  const ports::SecretKey key = crypto_->NewKey();
  for (const std::string& plaintext :
       {std::string(), std::string("x"), std::string("Olena Petrenko, 2011-04-02"),
        std::string(10000, '\x7f'), std::string("a\0b", 3)}) {
    const std::string sealed = crypto_->Seal(key, plaintext, "school|subject|name");
    EXPECT_EQ(sealed.size(), 24 + plaintext.size() + 16);
    auto opened = crypto_->Open(key, sealed, "school|subject|name");
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST_F(SodiumCryptoTest, TwoSealsOfTheSamePlaintextDiffer) {
  const ports::SecretKey key = crypto_->NewKey();
  const std::string a = crypto_->Seal(key, "same", "aad");
  const std::string b = crypto_->Seal(key, "same", "aad");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(0, 24), b.substr(0, 24)) << "nonces must be fresh";
}

TEST_F(SodiumCryptoTest, OpenFailsOnAFlippedBitInAnyByte) {
  const ports::SecretKey key = crypto_->NewKey();
  const std::string sealed = crypto_->Seal(key, "date of birth 2011-04-02", "aad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char bit : {0x01, 0x80}) {
      std::string changed = sealed;
      changed[i] = static_cast<char>(changed[i] ^ bit);
      SCOPED_TRACE(i);
      ExpectCannotDecrypt(crypto_->Open(key, changed, "aad"));
    }
  }
}

TEST_F(SodiumCryptoTest, OpenFailsWithAWrongAad) {
  const ports::SecretKey key = crypto_->NewKey();
  const std::string sealed = crypto_->Seal(key, "value", "school-a|subject-1|email");
  ExpectCannotDecrypt(crypto_->Open(key, sealed, "school-a|subject-2|email"));
  ExpectCannotDecrypt(crypto_->Open(key, sealed, ""));
}

TEST_F(SodiumCryptoTest, OpenFailsWithAWrongKey) {
  const std::string sealed = crypto_->Seal(crypto_->NewKey(), "value", "aad");
  ExpectCannotDecrypt(crypto_->Open(crypto_->NewKey(), sealed, "aad"));
}

TEST_F(SodiumCryptoTest, OpenFailsOnTruncatedOrExtendedInput) {
  const ports::SecretKey key = crypto_->NewKey();
  const std::string sealed = crypto_->Seal(key, "value", "aad");
  for (size_t n = 0; n < sealed.size(); ++n) {
    SCOPED_TRACE(n);
    ExpectCannotDecrypt(crypto_->Open(key, sealed.substr(0, n), "aad"));
  }
  ExpectCannotDecrypt(crypto_->Open(key, sealed + "x", "aad"));
  ExpectCannotDecrypt(crypto_->Open(key, std::string_view(), "aad"));
}

// --- Hashes ---

TEST_F(SodiumCryptoTest, Blake2bOfEmptyInputMatchesTheReferenceVector) {
  EXPECT_EQ(ports::ToHex(crypto_->Hash("")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST_F(SodiumCryptoTest, Blake2bOfAbcMatchesTheReferenceVector) {
  EXPECT_EQ(ports::ToHex(crypto_->Hash("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_F(SodiumCryptoTest, Hash2OfAAndBEqualsHashOfTheirConcatenation) {
  const std::string text = "previous-hash|entry: consent withdrawn";
  for (size_t split = 0; split <= text.size(); ++split) {
    EXPECT_EQ(crypto_->Hash2(text.substr(0, split), text.substr(split)), crypto_->Hash(text));
  }
  EXPECT_EQ(crypto_->Hash2("", ""), crypto_->Hash(""));
}

TEST_F(SodiumCryptoTest, KeyedHashIsDeterministicPerKeyAndDiffersFromTheUnkeyedHash) {
  const ports::SecretKey k1 = crypto_->NewKey();
  const ports::SecretKey k2 = crypto_->NewKey();
  EXPECT_EQ(crypto_->KeyedHash(k1, "subject-1").size(), 32u);
  EXPECT_EQ(crypto_->KeyedHash(k1, "subject-1"), crypto_->KeyedHash(k1, "subject-1"));
  EXPECT_NE(crypto_->KeyedHash(k1, "subject-1"), crypto_->KeyedHash(k2, "subject-1"));
  EXPECT_NE(crypto_->KeyedHash(k1, "subject-1"), crypto_->KeyedHash(k1, "subject-2"));
  EXPECT_NE(crypto_->KeyedHash(k1, "subject-1"), crypto_->Hash("subject-1"));
}

TEST_F(SodiumCryptoTest, Sha256MatchesTheFips180Vectors) {
  EXPECT_EQ(ports::ToHex(crypto_->Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ports::ToHex(crypto_->Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// --- Ed25519 ---

TEST_F(SodiumCryptoTest, SignedMessageVerifies) {
  const ports::SigningKey key = crypto_->NewSigningKey();
  EXPECT_EQ(key.public_key.size(), 32u);
  EXPECT_EQ(key.secret_key.size(), 64u);
  const std::string signature = crypto_->Sign(key, "checkpoint 42");
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_TRUE(crypto_->Verify(key.public_key, "checkpoint 42", signature));
}

TEST_F(SodiumCryptoTest, VerifyFailsOnAChangedMessageSignatureOrKey) {
  const ports::SigningKey key = crypto_->NewSigningKey();
  const std::string signature = crypto_->Sign(key, "checkpoint 42");
  EXPECT_FALSE(crypto_->Verify(key.public_key, "checkpoint 43", signature));
  for (size_t i = 0; i < signature.size(); ++i) {
    std::string changed = signature;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(crypto_->Verify(key.public_key, "checkpoint 42", changed)) << i;
  }
  EXPECT_FALSE(crypto_->Verify(crypto_->NewSigningKey().public_key, "checkpoint 42", signature));
}

TEST_F(SodiumCryptoTest, VerifyReturnsFalseForWrongLengthsInsteadOfCrashing) {
  const ports::SigningKey key = crypto_->NewSigningKey();
  const std::string signature = crypto_->Sign(key, "m");
  EXPECT_FALSE(crypto_->Verify("", "m", signature));
  EXPECT_FALSE(crypto_->Verify(key.public_key.substr(0, 31), "m", signature));
  EXPECT_FALSE(crypto_->Verify(key.public_key + "x", "m", signature));
  EXPECT_FALSE(crypto_->Verify(key.public_key, "m", ""));
  EXPECT_FALSE(crypto_->Verify(key.public_key, "m", signature.substr(0, 63)));
  EXPECT_FALSE(crypto_->Verify(key.public_key, "m", signature + "x"));
}

TEST_F(SodiumCryptoTest, SignWithAMalformedSecretKeyReturnsEmpty) {
  ports::SigningKey key = crypto_->NewSigningKey();
  key.secret_key.resize(63);
  EXPECT_EQ(crypto_->Sign(key, "m"), "");
}

TEST_F(SodiumCryptoTest, Ed25519MatchesRfc8032TestVector1) {
  ports::SigningKey key;
  key.public_key = Unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  key.secret_key =
      Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60") + key.public_key;
  const std::string signature = crypto_->Sign(key, "");
  EXPECT_EQ(ports::ToHex(signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(crypto_->Verify(key.public_key, "", signature));
}

// --- Argon2id ---

TEST_F(SodiumCryptoTest, HashedPasswordVerifiesAndAWrongPasswordDoesNot) {
  auto hash = crypto_->HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_THAT(*hash, StartsWith("$argon2id$"));
  EXPECT_TRUE(crypto_->VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(crypto_->VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(crypto_->VerifyPassword(*hash, ""));
}

TEST_F(SodiumCryptoTest, TwoHashesOfTheSamePasswordDifferBySalt) {
  auto a = crypto_->HashPassword("pw");
  auto b = crypto_->HashPassword("pw");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST_F(SodiumCryptoTest, PasswordsLongerThan1024BytesAreRefused) {
  auto too_long = crypto_->HashPassword(std::string(1025, 'p'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(too_long.error().message, HasSubstr("1024"));

  auto longest = crypto_->HashPassword(std::string(1024, 'p'));
  ASSERT_TRUE(longest.ok());
  EXPECT_TRUE(crypto_->VerifyPassword(*longest, std::string(1024, 'p')));
  EXPECT_FALSE(crypto_->VerifyPassword(*longest, std::string(1025, 'p')));
}

TEST_F(SodiumCryptoTest, VerifyPasswordReturnsFalseForAMalformedHash) {
  auto hash = crypto_->HashPassword("pw");
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(crypto_->VerifyPassword("", "pw"));
  EXPECT_FALSE(crypto_->VerifyPassword("not a hash", "pw"));
  EXPECT_FALSE(crypto_->VerifyPassword("$argon2id$", "pw"));
  EXPECT_FALSE(crypto_->VerifyPassword(hash->substr(0, hash->size() - 5), "pw"));
  EXPECT_FALSE(crypto_->VerifyPassword(std::string(*hash).insert(10, 1, '\0'), "pw"));
  EXPECT_FALSE(crypto_->VerifyPassword(std::string(500, '$'), "pw"));
}

// --- TOTP (RFC 6238, SHA-1 secret "12345678901234567890") ---

constexpr std::string_view kRfcSecret = "12345678901234567890";

TEST_F(SodiumCryptoTest, TotpCodeMatchesTheRfc6238VectorsTruncatedToSixDigits) {
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(59)), "287082");
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(1111111109)), "081804");
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(1111111111)), "050471");
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(1234567890)), "005924");
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(2000000000)), "279037");
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(20000000000)), "353130");
}

TEST_F(SodiumCryptoTest, TotpUsesTheGivenTimeDownToTheStepBoundary) {
  const Timestamp just_before_60 = AtSeconds(60) - std::chrono::microseconds(1);
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, just_before_60), "287082");
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(30)), "287082");
  EXPECT_NE(crypto_->TotpCode(kRfcSecret, AtSeconds(60)), "287082");
}

TEST_F(SodiumCryptoTest, VerifyTotpAcceptsTheCurrentCode) {
  EXPECT_TRUE(crypto_->VerifyTotp(kRfcSecret, "287082", AtSeconds(59)));
  EXPECT_TRUE(crypto_->VerifyTotp(kRfcSecret, "081804", AtSeconds(1111111109)));
  EXPECT_FALSE(crypto_->VerifyTotp("another secret 12345", "081804", AtSeconds(1111111109)));
}

TEST_F(SodiumCryptoTest, VerifyTotpAcceptsOneStepOfDriftEitherWay) {
  const Timestamp now = AtSeconds(1111111109);
  const std::string code = crypto_->TotpCode(kRfcSecret, now);
  EXPECT_TRUE(crypto_->VerifyTotp(kRfcSecret, code, now + std::chrono::seconds(30)));
  EXPECT_TRUE(crypto_->VerifyTotp(kRfcSecret, code, now - std::chrono::seconds(30)));
}

TEST_F(SodiumCryptoTest, VerifyTotpRefusesTwoStepsOfDrift) {
  const Timestamp now = AtSeconds(1111111109);
  const std::string code = crypto_->TotpCode(kRfcSecret, now);
  EXPECT_FALSE(crypto_->VerifyTotp(kRfcSecret, code, now + std::chrono::seconds(60)));
  EXPECT_FALSE(crypto_->VerifyTotp(kRfcSecret, code, now - std::chrono::seconds(60)));
}

TEST_F(SodiumCryptoTest, VerifyTotpRefusesCodesThatAreNotExactlySixDigits) {
  const Timestamp now = AtSeconds(59);
  for (const std::string& code :
       {std::string(""), std::string("28708"), std::string("2870820"), std::string("94287082"),
        std::string("28708a"), std::string(" 87082"), std::string("287082 "), std::string("+87082"),
        std::string("28708\0", 6), std::string("２８７０８２")}) {
    EXPECT_FALSE(crypto_->VerifyTotp(kRfcSecret, code, now)) << code;
  }
}

TEST_F(SodiumCryptoTest, TotpRefusesAnEmptySecretAndTimesBeforeTheEpoch) {
  EXPECT_EQ(crypto_->TotpCode("", AtSeconds(59)), "");
  EXPECT_FALSE(crypto_->VerifyTotp("", crypto_->TotpCode("", AtSeconds(59)), AtSeconds(59)));
  EXPECT_EQ(crypto_->TotpCode(kRfcSecret, AtSeconds(-1)), "");
  EXPECT_FALSE(crypto_->VerifyTotp(kRfcSecret, "287082", AtSeconds(-1)));
}

// --- Equal ---

TEST_F(SodiumCryptoTest, EqualComparesContentsAndLengths) {
  EXPECT_TRUE(crypto_->Equal("", ""));
  EXPECT_TRUE(crypto_->Equal("token", "token"));
  EXPECT_FALSE(crypto_->Equal("token", "tokem"));
  EXPECT_FALSE(crypto_->Equal("token", "token!"));
  EXPECT_FALSE(crypto_->Equal("", "x"));
  EXPECT_TRUE(crypto_->Equal(std::string_view(), ""));
}

}  // namespace
}  // namespace dovira::crypto
