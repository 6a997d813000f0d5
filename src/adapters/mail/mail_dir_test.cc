// The mail directory against a real temporary directory: the file holds exactly what the SMTP
// path sends, appears whole under its .eml name, is logged, and every failure of the directory
// (missing, not a directory, not writable, removed while serving) is reported without leaving
// anything behind.
#include "adapters/mail/mail_dir.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/mail/smtp_mailer.h"
#include "common/clock.h"
#include "tests/smtp_sink.h"

namespace dovira::mail {
namespace {

namespace fs = std::filesystem;
using dovira::testing::SmtpSink;

// Monday, 3 March 2025, 10:00:00 UTC.
constexpr Timestamp kMonday{std::chrono::seconds(1740996000)};

const char kSubject[] = "Код для входу до особистого кабінету: 428113";
const char kText[] =
    "Добрий день!\n"
    "\n"
    "Ваш код для входу: 428113. Він дійсний 15 хвилин.\n";

ports::MailMessage SignInMessage() {
  ports::MailMessage m;
  m.from = "privacy@school.example";
  m.from_name = "Dovira";
  m.to = {"olena@example.com"};
  m.subject = kSubject;
  m.text = kText;
  m.message_id = "<k3x9q2wz@dovira>";
  return m;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Filesystem checks of this thread made as an unprivileged user, so that a test run as root
// (which ignores permission bits) meets the same refusal as a deployment does. Linux: the
// file-system uid is per thread, and leaving uid 0 drops CAP_DAC_OVERRIDE until it is restored.
class AsNobody {
 public:
  AsNobody() : was_root_(::geteuid() == 0) {
    if (was_root_) ::setfsuid(65534);
  }
  AsNobody(const AsNobody&) = delete;
  AsNobody& operator=(const AsNobody&) = delete;
  ~AsNobody() {
    if (was_root_) ::setfsuid(0);
  }

 private:
  bool was_root_;
};

class MailDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/dovira-maildir-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    // Others may pass through the root (AsNobody); the mail directory itself is the subject.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
    dir_ = root_ / "mail";
    fs::create_directory(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(root_, ec);
  }

  std::unique_ptr<MailDirMailer> Make() {
    auto made = MailDirMailer::Create({dir_.string(), &clock_});
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(made).value() : nullptr;
  }

  ManualClock clock_{kMonday};
  fs::path root_, dir_;
};

TEST_F(MailDirTest, WritesExactlyWhatTheSmtpPathSendsAsOneEmlFile) {
  auto mailer = Make();
  ASSERT_NE(mailer, nullptr);
  ports::MailMessage m = SignInMessage();
  m.attachments.push_back(
      {"мої-дані.json", "application/json", R"({"email":"olena@example.com"})"});
  Status sent = mailer->Send(m);
  ASSERT_TRUE(sent.ok()) << sent.error().message;

  ASSERT_EQ(Names(dir_), std::vector<std::string>{"20250303T100000.000000Z-k3x9q2wz@dovira.eml"});
  const fs::path file = dir_ / "20250303T100000.000000Z-k3x9q2wz@dovira.eml";
  auto wire = SmtpMailer::Compose(m, kMonday);
  ASSERT_TRUE(wire.ok());
  const std::string data = Slurp(file);
  EXPECT_EQ(data, *wire);
  EXPECT_EQ(SmtpSink::HeaderOf(data, "To"), "olena@example.com");
  EXPECT_EQ(SmtpSink::HeaderOf(data, "Date"), "Mon, 03 Mar 2025 10:00:00 +0000");
  EXPECT_EQ(SmtpSink::DecodeWords(SmtpSink::HeaderOf(data, "Subject")), kSubject);
  EXPECT_EQ(SmtpSink::DecodedText(data), kText);
  ASSERT_EQ(SmtpSink::Parts(data).size(), 2u);
  EXPECT_EQ(SmtpSink::Parts(data)[1].filename, "мої-дані.json");
  // Personal data: readable by the server's own user only.
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(MailDirTest, FileNamesSortInTimeOrderAndCarryOnlySafeCharacters) {
  auto mailer = Make();
  ASSERT_NE(mailer, nullptr);
  ports::MailMessage first = SignInMessage();
  ASSERT_TRUE(mailer->Send(first).ok());
  clock_.Advance(std::chrono::microseconds(1500));
  ports::MailMessage second = SignInMessage();
  second.message_id = "<.a/b%c@dovira>";
  ASSERT_TRUE(mailer->Send(second).ok());
  EXPECT_EQ(Names(dir_), (std::vector<std::string>{"20250303T100000.000000Z-k3x9q2wz@dovira.eml",
                                                   "20250303T100000.001500Z-.a_b_c@dovira.eml"}));
  // The id never starts the name, so no message is a hidden file.
  EXPECT_EQ(MailDirMailer::FileName(second, kMonday)[0], '2');
}

TEST_F(MailDirTest, LogsOneInfoLineWithTheRecipientTheSubjectAndTheFile) {
  auto mailer = Make();
  ASSERT_NE(mailer, nullptr);
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "mail_dir_test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_pattern("%l %v");
  spdlog::set_default_logger(logger);
  Status sent = mailer->Send(SignInMessage());
  spdlog::set_default_logger(previous);
  ASSERT_TRUE(sent.ok()) << sent.error().message;

  std::string text = captured.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  ASSERT_EQ(text.rfind("info {", 0), 0u) << text;
  auto line = nlohmann::json::parse(text.substr(5), nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << text;
  EXPECT_EQ(line["msg"], "mail written");
  EXPECT_EQ(line["to"], nlohmann::json::array({"olena@example.com"}));
  EXPECT_EQ(line["subject"], kSubject);
  EXPECT_EQ(line["file"], (dir_ / "20250303T100000.000000Z-k3x9q2wz@dovira.eml").string());
}

TEST_F(MailDirTest, MissingOrUnusableDirectoryIsRefusedAtCreateNamingIt) {
  auto missing = MailDirMailer::Create({(root_ / "nowhere").string(), &clock_});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.error().field, "mail_dir");
  EXPECT_NE(missing.error().message.find((root_ / "nowhere").string()), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos);

  std::ofstream(root_ / "file") << "x";
  auto file = MailDirMailer::Create({(root_ / "file").string(), &clock_});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("not a directory"), std::string::npos);

  auto unnamed = MailDirMailer::Create({"", &clock_});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.error().field, "mail_dir");

  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  AsNobody nobody;
  auto read_only = MailDirMailer::Create({dir_.string(), &clock_});
  ASSERT_FALSE(read_only.ok());
  EXPECT_NE(read_only.error().message.find("not writable"), std::string::npos);
}

TEST_F(MailDirTest, DirectoryRemovedWhileServingIsUnavailableAndTheRetryWrites) {
  auto mailer = Make();
  ASSERT_NE(mailer, nullptr);
  fs::remove(dir_);
  Status failed = mailer->Send(SignInMessage());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);  // the outbox retries it
  EXPECT_NE(failed.error().message.find(dir_.string()), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_));

  fs::create_directory(dir_);
  Status retried = mailer->Send(SignInMessage());
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(Names(dir_).size(), 1u);
}

TEST_F(MailDirTest, DirectoryThatIsNoLongerWritableIsUnavailableAndLeavesNothing) {
  auto mailer = Make();
  ASSERT_NE(mailer, nullptr);
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  {
    AsNobody nobody;
    Status failed = mailer->Send(SignInMessage());
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(failed.error().message.find("Permission denied"), std::string::npos)
        << failed.error().message;
  }
  EXPECT_TRUE(Names(dir_).empty());
  fs::permissions(dir_, fs::perms::owner_all);
  ASSERT_TRUE(mailer->Send(SignInMessage()).ok());
  EXPECT_EQ(Names(dir_).size(), 1u);
}

TEST_F(MailDirTest, InvalidMessagesArePermanentAndWriteNothing) {
  auto mailer = Make();
  ASSERT_NE(mailer, nullptr);
  ports::MailMessage injected = SignInMessage();
  injected.subject = "Code\r\nBcc: everyone@example.com";
  Status s = mailer->Send(injected);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().field, "subject");
  ports::MailMessage nobody = SignInMessage();
  nobody.to.clear();
  EXPECT_EQ(mailer->Send(nobody).error().field, "to");
  EXPECT_TRUE(Names(dir_).empty());
}

}  // namespace
}  // namespace dovira::mail
