#include "adapters/crypto/key_ring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/crypto/sodium_crypto.h"
#include "ports/crypto.h"

namespace dovira::crypto {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

mode_t FileMode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// Fails if `message` contains any 16-digit run of the given key hex strings.
void ExpectNoKeyMaterial(const std::string& message, const std::vector<std::string>& key_hexes) {
  for (const std::string& hex : key_hexes) {
    for (size_t i = 0; i + 16 <= hex.size(); ++i) {
      ASSERT_THAT(message, Not(HasSubstr(hex.substr(i, 16)))) << "key material in: " << message;
    }
  }
}

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = SodiumCrypto::Create();
    ASSERT_TRUE(created.ok());
    crypto_ = std::move(created).value();
    char pattern[] = "/tmp/dovira-keyring-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/keys";

    kek1_hex_ = ports::ToHex(crypto_->NewKey().view());
    kek2_hex_ = ports::ToHex(crypto_->NewKey().view());
    pseudonym_hex_ = ports::ToHex(crypto_->NewKey().view());
    signing_ = crypto_->NewSigningKey();
    signing_hex_ = ports::ToHex(signing_.secret_key);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> AllKeyHex() const {
    return {kek1_hex_, kek2_hex_, pseudonym_hex_, signing_hex_};
  }

  // A valid ring text: line 1 comment, 2 kek k1, 3 kek k2, 4 active-kek k2, 5 pseudonym,
  // 6 signing.
  std::vector<std::string> ValidLines() const {
    return {
        "# school keys", "kek k1 " + kek1_hex_,         "kek k2 " + kek2_hex_,
        "active-kek k2", "pseudonym " + pseudonym_hex_, "signing " + signing_hex_,
    };
  }

  static std::string Join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    return text;
  }

  // Parses `lines` expecting failure; returns the message after checking it has no key bytes.
  std::string ParseError(const std::vector<std::string>& lines) {
    auto ring = KeyRing::Parse(Join(lines), *crypto_);
    EXPECT_FALSE(ring.ok());
    if (ring.ok()) return "";
    EXPECT_EQ(ring.error().code, ErrorCode::kInvalidArgument);
    ExpectNoKeyMaterial(ring.error().message, AllKeyHex());
    return ring.error().message;
  }

  std::unique_ptr<SodiumCrypto> crypto_;
  std::string dir_;
  std::string path_;
  std::string kek1_hex_, kek2_hex_, pseudonym_hex_, signing_hex_;
  ports::SigningKey signing_;
};

// --- LoadOrCreate and Save ---

TEST_F(KeyRingTest, LoadOrCreateCreatesAFileWithMode0600HoldingANewRing) {
  auto ring = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ(FileMode(path_), 0600u);
  EXPECT_EQ(ReadFile(path_), ring->Serialize());
  EXPECT_THAT(ring->kek_ids(), ElementsAre("k1"));
  EXPECT_EQ(ring->active_kek_id(), "k1");
  ASSERT_NE(ring->Kek("k1"), nullptr);
  EXPECT_NE(ring->Kek("k1")->view(), ring->pseudonym_key().view());
  EXPECT_EQ(ring->signing_key().public_key.size(), 32u);
  EXPECT_EQ(ring->signing_key().secret_key.size(), 64u);
  const std::string signature = crypto_->Sign(ring->signing_key(), "checkpoint");
  EXPECT_TRUE(crypto_->Verify(ring->signing_key().public_key, "checkpoint", signature));
}

TEST_F(KeyRingTest, LoadOrCreateReadsAnExistingFileBackIdentically) {
  auto created = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_TRUE(created.ok());
  auto loaded = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->Serialize(), created->Serialize());
  EXPECT_EQ(loaded->Kek("k1")->view(), created->Kek("k1")->view());
  EXPECT_EQ(loaded->pseudonym_key().view(), created->pseudonym_key().view());
  EXPECT_EQ(loaded->signing_key().public_key, created->signing_key().public_key);
  EXPECT_EQ(loaded->signing_key().secret_key, created->signing_key().secret_key);
}

TEST_F(KeyRingTest, LoadOrCreateWritesMode0600EvenUnderARestrictiveUmask) {
  const mode_t old_umask = ::umask(0377);
  auto ring = KeyRing::LoadOrCreate(path_, *crypto_);
  ::umask(old_umask);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ(FileMode(path_), 0600u);
}

TEST_F(KeyRingTest, LoadOrCreateRefusesAFileReadableByOthersNamingTheModeAndTheFix) {
  ASSERT_TRUE(KeyRing::LoadOrCreate(path_, *crypto_).ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto ring = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(ring.error().message, HasSubstr("0644"));
  EXPECT_THAT(ring.error().message, HasSubstr("chmod 600 " + path_));
  EXPECT_EQ(FileMode(path_), 0644u) << "the file is left alone";
}

TEST_F(KeyRingTest, LoadOrCreateRefusesAFileReadableOrWritableByGroupOrOthers) {
  ASSERT_TRUE(KeyRing::LoadOrCreate(path_, *crypto_).ok());
  for (mode_t mode : {0640, 0620, 0604, 0602, 0666}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    EXPECT_FALSE(KeyRing::LoadOrCreate(path_, *crypto_).ok()) << std::oct << mode;
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);
  EXPECT_TRUE(KeyRing::LoadOrCreate(path_, *crypto_).ok()) << "owner-only read is fine";
}

TEST_F(KeyRingTest, LoadOrCreateReportsADamagedFileWithPathAndLine) {
  auto lines = ValidLines();
  lines[4] = "pseudonym " + pseudonym_hex_.substr(0, 63) + "z";
  WriteFile(path_, Join(lines), 0600);
  auto ring = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(ring.error().message, HasSubstr(path_));
  EXPECT_THAT(ring.error().message, HasSubstr("line 5"));
  ExpectNoKeyMaterial(ring.error().message, AllKeyHex());
}

TEST_F(KeyRingTest, LoadOrCreateFailsWhenTheDirectoryDoesNotExist) {
  auto ring = KeyRing::LoadOrCreate(dir_ + "/missing/keys", *crypto_);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(ring.error().message, HasSubstr(dir_ + "/missing/keys"));
}

TEST_F(KeyRingTest, LoadOrCreateRefusesADirectory) {
  auto ring = KeyRing::LoadOrCreate(dir_, *crypto_);
  EXPECT_FALSE(ring.ok());
}

TEST_F(KeyRingTest, SaveReplacesTheFileAtomicallyWithMode0600AndLeavesNoTemporaryFile) {
  auto ring = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_TRUE(ring.ok());
  ring->AddKek(*crypto_);
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  Status saved = ring->Save(path_);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  EXPECT_EQ(FileMode(path_), 0600u);
  auto loaded = KeyRing::LoadOrCreate(path_, *crypto_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->Serialize(), ring->Serialize());
  EXPECT_THAT(loaded->kek_ids(), ElementsAre("k1", "k2"));
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "keys");
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(KeyRingTest, SaveFailsWhenTheDirectoryDoesNotExist) {
  auto ring = KeyRing::Parse(Join(ValidLines()), *crypto_);
  ASSERT_TRUE(ring.ok());
  Status saved = ring->Save(dir_ + "/missing/keys");
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, ErrorCode::kUnavailable);
}

// --- Parse and Serialize ---

TEST_F(KeyRingTest, ParseReadsEveryItem) {
  auto ring = KeyRing::Parse(Join(ValidLines()), *crypto_);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_THAT(ring->kek_ids(), ElementsAre("k1", "k2"));
  EXPECT_EQ(ring->active_kek_id(), "k2");
  EXPECT_EQ(ports::ToHex(ring->Kek("k1")->view()), kek1_hex_);
  EXPECT_EQ(ports::ToHex(ring->Kek("k2")->view()), kek2_hex_);
  EXPECT_EQ(ring->Kek("k3"), nullptr);
  EXPECT_EQ(ports::ToHex(ring->pseudonym_key().view()), pseudonym_hex_);
  EXPECT_EQ(ring->signing_key().secret_key, signing_.secret_key);
  EXPECT_EQ(ring->signing_key().public_key, signing_.public_key) << "derived from the secret key";
}

TEST_F(KeyRingTest, ParseAllowsCommentsBlankLinesExtraSpacesCrLfAndUpperCaseHex) {
  std::string upper = kek1_hex_;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string text = "# keys\r\n\r\n  kek\tk1   " + upper + "  # first\r\n" +
                           "active-kek k1\r\npseudonym " + pseudonym_hex_ + "\r\n" + "signing " +
                           signing_hex_;  // no final newline
  auto ring = KeyRing::Parse(text, *crypto_);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ(ports::ToHex(ring->Kek("k1")->view()), kek1_hex_);
}

TEST_F(KeyRingTest, SerializeThenParseGivesTheSameRing) {
  auto ring = KeyRing::Parse(Join(ValidLines()), *crypto_);
  ASSERT_TRUE(ring.ok());
  auto again = KeyRing::Parse(ring->Serialize(), *crypto_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->Serialize(), ring->Serialize());
  EXPECT_THAT(again->kek_ids(), ElementsAre("k1", "k2"));
  EXPECT_EQ(again->active_kek_id(), "k2");
}

TEST_F(KeyRingTest, ParseRejectsBadHexNamingTheLineWithoutKeyMaterial) {
  auto lines = ValidLines();
  lines[2] = "kek k2 " + kek2_hex_.substr(0, 63) + "g";
  std::string message = ParseError(lines);
  EXPECT_THAT(message, HasSubstr("line 3"));
  EXPECT_THAT(message, HasSubstr("64 hex digits"));

  lines = ValidLines();
  lines[2] = "kek k2 " + kek2_hex_.substr(0, 62);
  EXPECT_THAT(ParseError(lines), HasSubstr("line 3"));

  lines = ValidLines();
  lines[5] = "signing " + signing_hex_ + "00";
  message = ParseError(lines);
  EXPECT_THAT(message, HasSubstr("line 6"));
  EXPECT_THAT(message, HasSubstr("128 hex digits"));
}

TEST_F(KeyRingTest, ParseRejectsAnUnknownLineWithoutEchoingIt) {
  auto lines = ValidLines();
  lines.insert(lines.begin() + 2, kek2_hex_ + " " + pseudonym_hex_);  // a pasted key, say
  const std::string message = ParseError(lines);
  EXPECT_THAT(message, HasSubstr("line 3"));
  EXPECT_THAT(message, HasSubstr("unknown item"));
}

TEST_F(KeyRingTest, ParseRejectsAMissingActiveKek) {
  auto lines = ValidLines();
  lines.erase(lines.begin() + 3);
  EXPECT_THAT(ParseError(lines), HasSubstr("active-kek"));
}

TEST_F(KeyRingTest, ParseRejectsAnActiveKekThatNamesNoKek) {
  auto lines = ValidLines();
  lines[3] = "active-kek k9";
  const std::string message = ParseError(lines);
  EXPECT_THAT(message, HasSubstr("line 4"));
  EXPECT_THAT(message, HasSubstr("active-kek"));
}

TEST_F(KeyRingTest, ParseRejectsADuplicateKekIdNamingBothLines) {
  auto lines = ValidLines();
  lines[2] = "kek k1 " + kek2_hex_;
  const std::string message = ParseError(lines);
  EXPECT_THAT(message, HasSubstr("line 3"));
  EXPECT_THAT(message, HasSubstr("duplicate kek id"));
  EXPECT_THAT(message, HasSubstr("line 2"));
}

TEST_F(KeyRingTest, ParseRejectsRepeatedSingleItems) {
  for (size_t i : {3u, 4u, 5u}) {
    auto lines = ValidLines();
    lines.push_back(lines[i]);
    EXPECT_THAT(ParseError(lines), HasSubstr("line 7")) << lines[i].substr(0, 10);
  }
}

TEST_F(KeyRingTest, ParseRejectsMissingPseudonymOrSigningKey) {
  auto lines = ValidLines();
  lines.erase(lines.begin() + 4);
  EXPECT_THAT(ParseError(lines), HasSubstr("pseudonym"));
  lines = ValidLines();
  lines.erase(lines.begin() + 5);
  EXPECT_THAT(ParseError(lines), HasSubstr("signing"));
  EXPECT_THAT(ParseError({}), HasSubstr("missing"));
}

TEST_F(KeyRingTest, ParseRejectsWrongFieldCountsAndBadKekIds) {
  auto lines = ValidLines();
  lines[1] = "kek " + kek1_hex_;
  EXPECT_THAT(ParseError(lines), HasSubstr("line 2"));
  lines = ValidLines();
  lines[1] = "kek k1 " + kek1_hex_ + " extra";
  EXPECT_THAT(ParseError(lines), HasSubstr("line 2"));
  lines = ValidLines();
  lines[1] = "kek k/1 " + kek1_hex_;
  EXPECT_THAT(ParseError(lines), HasSubstr("kek id"));
  lines = ValidLines();
  lines[3] = "active-kek";
  EXPECT_THAT(ParseError(lines), HasSubstr("line 4"));
}

TEST_F(KeyRingTest, ParseRejectsASigningKeyWhosePublicHalfDoesNotMatchItsSeed) {
  auto lines = ValidLines();
  std::string damaged = signing_hex_;
  damaged[100] = damaged[100] == '0' ? '1' : '0';
  lines[5] = "signing " + damaged;
  const std::string message = ParseError(lines);
  EXPECT_THAT(message, HasSubstr("line 6"));
  ExpectNoKeyMaterial(message, {damaged});
}

// --- Rotation and subject-key wrapping ---

TEST_F(KeyRingTest, AddKekMakesANewActiveKekAndKeepsTheOldOnes) {
  KeyRing ring = KeyRing::Generate(*crypto_);
  const std::string old_key(ring.Kek("k1")->view());
  EXPECT_EQ(ring.AddKek(*crypto_), "k2");
  EXPECT_EQ(ring.active_kek_id(), "k2");
  EXPECT_THAT(ring.kek_ids(), ElementsAre("k1", "k2"));
  EXPECT_EQ(ring.Kek("k1")->view(), old_key);
  EXPECT_NE(ring.Kek("k2")->view(), old_key);
}

TEST_F(KeyRingTest, AddKekNumbersAfterTheHighestKekNumber) {
  auto lines = ValidLines();
  lines[1] = "kek k9 " + kek1_hex_;
  lines[2] = "kek old " + kek2_hex_;
  lines[3] = "active-kek old";
  auto ring = KeyRing::Parse(Join(lines), *crypto_);
  ASSERT_TRUE(ring.ok()) << ring.error().message;
  EXPECT_EQ(ring->AddKek(*crypto_), "k10");
}

TEST_F(KeyRingTest, OldWrappedKeysStillUnwrapAfterRotationUntilTheOldKekIsRetired) {
  KeyRing ring = KeyRing::Generate(*crypto_);
  const ports::SecretKey old_subject_key = crypto_->NewKey();
  const std::string old_wrapped =
      WrapSubjectKey(*crypto_, *ring.Kek(ring.active_kek_id()), old_subject_key, "s1", "subj-a");

  const std::string new_id = ring.AddKek(*crypto_);
  const ports::SecretKey new_subject_key = crypto_->NewKey();
  const std::string new_wrapped =
      WrapSubjectKey(*crypto_, *ring.Kek(new_id), new_subject_key, "s1", "subj-b");

  auto old_unwrapped = UnwrapSubjectKey(*crypto_, *ring.Kek("k1"), old_wrapped, "s1", "subj-a");
  ASSERT_TRUE(old_unwrapped.ok());
  EXPECT_EQ(old_unwrapped->view(), old_subject_key.view());
  auto new_unwrapped = UnwrapSubjectKey(*crypto_, *ring.Kek("k2"), new_wrapped, "s1", "subj-b");
  ASSERT_TRUE(new_unwrapped.ok());
  EXPECT_EQ(new_unwrapped->view(), new_subject_key.view());
  EXPECT_FALSE(UnwrapSubjectKey(*crypto_, *ring.Kek("k2"), old_wrapped, "s1", "subj-a").ok());

  // Re-wrap the old subject under the new KEK, then retire the old KEK.
  const std::string rewrapped =
      WrapSubjectKey(*crypto_, *ring.Kek("k2"), *old_unwrapped, "s1", "subj-a");
  Status retired_active = ring.RetireKek("k2");
  ASSERT_FALSE(retired_active.ok());
  EXPECT_EQ(retired_active.error().code, ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(ring.RetireKek("k1").ok());
  EXPECT_EQ(ring.Kek("k1"), nullptr);
  EXPECT_THAT(ring.kek_ids(), ElementsAre("k2"));
  auto after = UnwrapSubjectKey(*crypto_, *ring.Kek("k2"), rewrapped, "s1", "subj-a");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->view(), old_subject_key.view());

  Status unknown = ring.RetireKek("k1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(KeyRingTest, WrapThenUnwrapReturnsTheSubjectKey) {
  const ports::SecretKey kek = crypto_->NewKey();
  const ports::SecretKey subject_key = crypto_->NewKey();
  const std::string wrapped = WrapSubjectKey(*crypto_, kek, subject_key, "school-1", "subject-1");
  EXPECT_EQ(wrapped.size(), 24u + 32u + 16u);
  EXPECT_EQ(wrapped.find(std::string(subject_key.view())), std::string::npos);
  auto unwrapped = UnwrapSubjectKey(*crypto_, kek, wrapped, "school-1", "subject-1");
  ASSERT_TRUE(unwrapped.ok());
  EXPECT_EQ(unwrapped->view(), subject_key.view());
}

TEST_F(KeyRingTest, UnwrapFailsForAnotherSubjectSchoolKekOrAChangedByte) {
  const ports::SecretKey kek = crypto_->NewKey();
  const std::string wrapped =
      WrapSubjectKey(*crypto_, kek, crypto_->NewKey(), "school-1", "subject-1");
  std::string changed = wrapped;
  changed[30] = static_cast<char>(changed[30] ^ 1);
  for (const auto& unwrapped :
       {UnwrapSubjectKey(*crypto_, kek, wrapped, "school-1", "subject-2"),
        UnwrapSubjectKey(*crypto_, kek, wrapped, "school-2", "subject-1"),
        UnwrapSubjectKey(*crypto_, crypto_->NewKey(), wrapped, "school-1", "subject-1"),
        UnwrapSubjectKey(*crypto_, kek, changed, "school-1", "subject-1"),
        UnwrapSubjectKey(*crypto_, kek, "", "school-1", "subject-1")}) {
    ASSERT_FALSE(unwrapped.ok());
    EXPECT_EQ(unwrapped.error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(unwrapped.error().message, "cannot decrypt");
  }
}

TEST_F(KeyRingTest, UnwrapRefusesASealedValueThatIsNotA32ByteKey) {
  const ports::SecretKey kek = crypto_->NewKey();
  const std::string sealed = crypto_->Seal(kek, "short", "dovira-subject-key|school-1|subject-1");
  auto unwrapped = UnwrapSubjectKey(*crypto_, kek, sealed, "school-1", "subject-1");
  ASSERT_FALSE(unwrapped.ok());
  EXPECT_EQ(unwrapped.error().code, ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace dovira::crypto
