#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/http/http_server.h"
#include "adapters/mail/smtp_mailer.h"
#include "adapters/mail/webhook_sender.h"
#include "common/clock.h"
#include "tests/smtp_sink.h"

namespace dovira::mail {
namespace {

using namespace std::chrono_literals;
using dovira::testing::SmtpSink;

// Monday, 3 March 2025, 10:00:00 UTC.
constexpr Timestamp kMonday{std::chrono::seconds(1740996000)};

// A TCP port on loopback that refuses connections: bound, never listening, held for the test.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  ~ClosedPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A loopback port that accepts TCP connections (the kernel completes them) but never says a word.
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  ~SilentPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

const char kSubject[] =
    "Відповідь на ваш запит щодо доступу до персональних даних № 42 (строк — 30 днів)";
const char kText[] =
    "Добрий день, пані Олено!\n"
    "\n"
    "Ваш запит щодо доступу до персональних даних виконано. Копію даних додано до листа.\n"
    ".Рядок, що починається з крапки.\n"
    "З повагою, відповідальна особа ліцею.\n";
const char kJson[] = R"({"ім'я":"Олена","клас":"7-Б","записи":[1,2,3]})";

ports::MailMessage UkrainianMessage() {
  ports::MailMessage m;
  m.from = "privacy@school.example";
  m.from_name = "Ліцей «Ключі» — захист персональних даних";
  m.to = {"olena.parent@example.org"};
  m.subject = kSubject;
  m.text = kText;
  m.attachments.push_back({"дані-суб'єкта.json", "application/json", kJson});
  m.message_id = "<request-42.1@school.example>";
  return m;
}

class SmtpMailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sink_.ok());
    mailer_ = MakeMailer(sink_.url());
    ASSERT_NE(mailer_, nullptr);
  }

  std::unique_ptr<SmtpMailer> MakeMailer(std::string url, long timeout_ms = 10000) {
    SmtpMailerOptions options;
    options.url = std::move(url);
    options.timeout_ms = timeout_ms;
    options.clock = &clock_;
    auto created = SmtpMailer::Create(std::move(options));
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? std::move(created).value() : nullptr;
  }

  ManualClock clock_{kMonday};
  SmtpSink sink_;
  std::unique_ptr<SmtpMailer> mailer_;
};

TEST_F(SmtpMailerTest, DeliversUkrainianMessageWithAttachment) {
  ports::MailMessage message = UkrainianMessage();
  message.to.push_back("class.teacher@school.example");
  Status sent = mailer_->Send(message);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(sink_.WaitFor(1, 5s));

  std::vector<SmtpSink::Message> got = sink_.messages();
  ASSERT_EQ(got.size(), 1u);
  const SmtpSink::Message& m = got[0];
  EXPECT_EQ(m.from, "privacy@school.example");
  EXPECT_EQ(m.rcpt,
            (std::vector<std::string>{"olena.parent@example.org", "class.teacher@school.example"}));

  EXPECT_EQ(SmtpSink::HeaderOf(m.data, "Date"), "Mon, 03 Mar 2025 10:00:00 +0000");
  EXPECT_EQ(SmtpSink::HeaderOf(m.data, "Message-ID"), "<request-42.1@school.example>");
  EXPECT_EQ(SmtpSink::HeaderOf(m.data, "MIME-Version"), "1.0");
  EXPECT_EQ(SmtpSink::HeaderOf(m.data, "To"),
            "olena.parent@example.org, class.teacher@school.example");
  EXPECT_EQ(SmtpSink::DecodeWords(SmtpSink::HeaderOf(m.data, "Subject")), kSubject);
  EXPECT_EQ(SmtpSink::DecodeWords(SmtpSink::HeaderOf(m.data, "From")),
            "Ліцей «Ключі» — захист персональних даних <privacy@school.example>");
  EXPECT_EQ(SmtpSink::DecodedText(m.data), kText);

  std::vector<SmtpSink::Part> parts = SmtpSink::Parts(m.data);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].content_type, "text/plain");
  EXPECT_EQ(parts[1].content_type, "application/json");
  EXPECT_EQ(parts[1].disposition, "attachment");
  EXPECT_EQ(parts[1].filename, "дані-суб'єкта.json");
  EXPECT_EQ(parts[1].body, kJson);
}

TEST_F(SmtpMailerTest, WireFormIsSevenBitWithShortLines) {
  Status sent = mailer_->Send(UkrainianMessage());
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(sink_.WaitFor(1, 5s));
  const std::string data = sink_.messages()[0].data;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every line ends in CRLF";
    std::string line = data.substr(start, end - start);
    EXPECT_LE(line.size(), 78u) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << "no bare LF";
    EXPECT_EQ(line.find('\r'), std::string::npos) << "no bare CR";
    for (char c : line) ASSERT_EQ(static_cast<unsigned char>(c) & 0x80, 0) << line;
    start = end + 2;
  }
}

TEST_F(SmtpMailerTest, ConcurrentSendsAreAllDelivered) {
  constexpr size_t kThreads = 4;
  constexpr size_t kEach = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < kEach; ++i) {
        ports::MailMessage m = UkrainianMessage();
        m.message_id = "<m" + std::to_string(t) + "." + std::to_string(i) + "@school.example>";
        if (!mailer_->Send(m).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(sink_.WaitFor(kThreads * kEach, 5s));
  std::set<std::string> ids;
  for (const SmtpSink::Message& m : sink_.messages()) {
    ids.insert(SmtpSink::HeaderOf(m.data, "Message-ID"));
    EXPECT_EQ(SmtpSink::DecodedText(m.data), kText);
  }
  EXPECT_EQ(ids.size(), kThreads * kEach);
}

TEST(SmtpCompose, PlainMessageIsOneBase64TextPart) {
  ports::MailMessage m = UkrainianMessage();
  m.attachments.clear();
  m.from_name = "";
  m.subject = "Your data request";
  auto composed = SmtpMailer::Compose(m, kMonday);
  ASSERT_TRUE(composed.ok()) << composed.error().message;
  const std::string& data = *composed;
  EXPECT_EQ(SmtpSink::HeaderOf(data, "Subject"), "Your data request");
  EXPECT_EQ(SmtpSink::HeaderOf(data, "From"), "privacy@school.example");
  EXPECT_EQ(SmtpSink::HeaderOf(data, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(SmtpSink::HeaderOf(data, "Content-Transfer-Encoding"), "base64");
  EXPECT_EQ(SmtpSink::DecodedText(data), kText);
  // The body is base64 in lines of 76 characters, CRLF line breaks encoded.
  std::string body = data.substr(data.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.find("\r\n"), 76u);
  EXPECT_NE(testing::Base64Decode(body).find("пані Олено!\r\n\r\nВаш"), std::string::npos);
}

TEST(SmtpCompose, LongNonAsciiFilenameUsesRfc2231Continuations) {
  ports::MailMessage m = UkrainianMessage();
  std::string name = "Копія персональних даних учня за 2024-2025 навчальний рік (повна).json";
  m.attachments = {{name, "", "{}"}, {"report \"final\".txt", "text/plain", "ok"}};
  auto composed = SmtpMailer::Compose(m, kMonday);
  ASSERT_TRUE(composed.ok()) << composed.error().message;
  EXPECT_NE(composed->find("filename*0*=UTF-8''"), std::string::npos);
  EXPECT_NE(composed->find("filename*1*="), std::string::npos);
  std::vector<SmtpSink::Part> parts = SmtpSink::Parts(*composed);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].filename, name);
  EXPECT_EQ(parts[1].content_type, "application/octet-stream");
  EXPECT_EQ(parts[1].body, "{}");
  EXPECT_EQ(parts[2].filename, "report \"final\".txt");
  EXPECT_EQ(parts[2].body, "ok");
}

TEST_F(SmtpMailerTest, TemporaryRefusalIsUnavailableAndTheRetrySucceeds) {
  sink_.FailNext(1, 451);
  Status first = mailer_->Send(UkrainianMessage());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kUnavailable) << first.error().message;
  EXPECT_TRUE(sink_.messages().empty());

  Status retry = mailer_->Send(UkrainianMessage());
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  ASSERT_EQ(sink_.messages().size(), 1u);
  EXPECT_EQ(SmtpSink::HeaderOf(sink_.messages()[0].data, "Message-ID"),
            "<request-42.1@school.example>");
}

TEST_F(SmtpMailerTest, TemporaryRefusalAfterDataIsUnavailable) {
  sink_.FailNext(1, 452, SmtpSink::FailAt::kDataEnd);
  Status sent = mailer_->Send(UkrainianMessage());
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable) << sent.error().message;
  EXPECT_TRUE(sink_.messages().empty());
}

TEST_F(SmtpMailerTest, PermanentRefusalIsNotRetryable) {
  sink_.FailNext(1, 550);
  Status sent = mailer_->Send(UkrainianMessage());
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(sent.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(sent.error().reason, "smtp_rejected");
  EXPECT_NE(sent.error().message.find("550"), std::string::npos) << sent.error().message;
}

TEST_F(SmtpMailerTest, RefusedRecipientFailsTheWholeMessage) {
  sink_.FailNext(1, 550, SmtpSink::FailAt::kRcptTo);
  ports::MailMessage m = UkrainianMessage();
  m.to.push_back("second@example.org");
  Status sent = mailer_->Send(m);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().reason, "smtp_rejected");
  EXPECT_TRUE(sink_.messages().empty());
}

TEST_F(SmtpMailerTest, UnreachableRelayIsUnavailable) {
  ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  auto mailer = MakeMailer("smtp://127.0.0.1:" + std::to_string(closed.port()));
  ASSERT_NE(mailer, nullptr);
  Status sent = mailer->Send(UkrainianMessage());
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable) << sent.error().message;
}

TEST_F(SmtpMailerTest, SilentRelayTimesOutAsUnavailable) {
  SilentPort silent;
  ASSERT_NE(silent.port(), 0);
  auto mailer = MakeMailer("smtp://127.0.0.1:" + std::to_string(silent.port()), 300);
  ASSERT_NE(mailer, nullptr);
  Status sent = mailer->Send(UkrainianMessage());
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable) << sent.error().message;
}

TEST_F(SmtpMailerTest, HeaderInjectionIsRefusedBeforeConnecting) {
  struct Case {
    const char* field;
    void (*spoil)(ports::MailMessage&);
  };
  const Case cases[] = {
      {"subject", [](ports::MailMessage& m) { m.subject = "Привіт\r\nBcc: all@example.org"; }},
      {"subject", [](ports::MailMessage& m) { m.subject = "Привіт\nBcc: all@example.org"; }},
      {"to", [](ports::MailMessage& m) { m.to = {"a@example.org\r\nRCPT TO:<b@example.org>"}; }},
      {"from", [](ports::MailMessage& m) { m.from = "a@example.org\nX: y"; }},
      {"from_name", [](ports::MailMessage& m) { m.from_name = "Ліцей\r\nBcc: x@example.org"; }},
      {"attachments[0].filename",
       [](ports::MailMessage& m) { m.attachments[0].filename = "a.json\r\nX: y"; }},
      {"attachments[0].content_type",
       [](ports::MailMessage& m) { m.attachments[0].content_type = "text/plain\r\nX: y"; }},
      {"message_id", [](ports::MailMessage& m) { m.message_id = "<a@b>\r\nX: y"; }},
  };
  for (const Case& c : cases) {
    ports::MailMessage m = UkrainianMessage();
    c.spoil(m);
    Status sent = mailer_->Send(m);
    ASSERT_FALSE(sent.ok()) << c.field;
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument) << c.field;
    EXPECT_EQ(sent.error().field, c.field);
  }
  EXPECT_EQ(sink_.connections(), 0u);
  EXPECT_TRUE(sink_.messages().empty());
}

TEST_F(SmtpMailerTest, MalformedAddressesAndMessagesAreInvalid) {
  for (const char* address : {"", "olena", "olena@", "@example.org", "o lena@example.org",
                              "a@b@example.org", "Олена@example.org", "a@exa_mple.org",
                              "a@.example.org", "a@example..org", "<a@example.org>"}) {
    ports::MailMessage m = UkrainianMessage();
    m.to = {address};
    Status sent = mailer_->Send(m);
    ASSERT_FALSE(sent.ok()) << address;
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument) << address;
  }
  ports::MailMessage none = UkrainianMessage();
  none.to.clear();
  EXPECT_EQ(mailer_->Send(none).error().field, "to");
  ports::MailMessage no_id = UkrainianMessage();
  no_id.message_id = "";
  EXPECT_EQ(mailer_->Send(no_id).error().field, "message_id");
  ports::MailMessage bad_utf8 = UkrainianMessage();
  bad_utf8.subject = "\xD0";
  EXPECT_EQ(mailer_->Send(bad_utf8).error().field, "subject");
  EXPECT_EQ(sink_.connections(), 0u);
}

TEST(SmtpMailerCreate, RefusesUnusableOptions) {
  SmtpMailerOptions http;
  http.url = "http://127.0.0.1:25";
  EXPECT_EQ(SmtpMailer::Create(http).error().code, ErrorCode::kInvalidArgument);

  SmtpMailerOptions plain_credentials;
  plain_credentials.url = "smtp://relay.example.org:587";
  plain_credentials.username = "school";
  plain_credentials.password = "secret";
  EXPECT_EQ(SmtpMailer::Create(plain_credentials).error().field, "require_tls");

  plain_credentials.require_tls = true;
  EXPECT_TRUE(SmtpMailer::Create(plain_credentials).ok());
  plain_credentials.require_tls = false;
  plain_credentials.url = "smtps://relay.example.org:465";
  EXPECT_TRUE(SmtpMailer::Create(plain_credentials).ok());
  plain_credentials.url = "smtp://127.0.0.1:25";
  EXPECT_TRUE(SmtpMailer::Create(plain_credentials).ok());
}

// ---------------------------------------------------------------------------------------------
// Webhooks, against the project's own HTTP server on loopback.

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = http::HttpServer::Start(
        {}, [this](ports::HttpRequest&& request, const ports::HttpResponder& respond) {
          ports::HttpResponse response;
          response.status = status_.load();
          if (response.status / 100 == 3) response.Header("Location", Url("/elsewhere"));
          response.body = "{\"answer\":true}";
          {
            std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(std::move(request));
          }
          respond(std::move(response));
        });
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(started).value();
    auto sender = CurlWebhookSender::Create();
    ASSERT_TRUE(sender.ok()) << sender.error().message;
    sender_ = std::move(sender).value();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  std::vector<ports::HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  ports::WebhookCall Call() const {
    ports::WebhookCall call;
    call.url = Url("/hooks/dovira?token=t0k3n");
    call.body = R"({"event":"subject.erased","subject":"Олена"})";
    call.headers = {{"X-Dovira-Event", "subject.erased"}, {"X-Dovira-Signature", "v1=abc"}};
    return call;
  }

  std::atomic<int> status_{200};
  std::mutex mu_;
  std::vector<ports::HttpRequest> requests_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<CurlWebhookSender> sender_;
};

TEST_F(WebhookTest, SuccessReturnsTheStatusAndDeliversBodyAndHeaders) {
  status_ = 202;
  Result<int> posted = sender_->Post(Call());
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(*posted, 202);
  std::vector<ports::HttpRequest> got = requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].path, "/hooks/dovira");
  EXPECT_EQ(got[0].query, "token=t0k3n");
  EXPECT_EQ(got[0].body, Call().body);
  EXPECT_EQ(got[0].Header("content-type"), "application/json");
  EXPECT_EQ(got[0].Header("x-dovira-event"), "subject.erased");
  EXPECT_EQ(got[0].Header("x-dovira-signature"), "v1=abc");
}

TEST_F(WebhookTest, ServerErrorsAndThrottlingAreUnavailable) {
  for (int status : {500, 503, 429, 408}) {
    status_ = status;
    Result<int> posted = sender_->Post(Call());
    ASSERT_FALSE(posted.ok()) << status;
    EXPECT_EQ(posted.error().code, ErrorCode::kUnavailable) << status;
  }
}

TEST_F(WebhookTest, ClientErrorsArePermanent) {
  for (int status : {404, 400, 410}) {
    status_ = status;
    Result<int> posted = sender_->Post(Call());
    ASSERT_FALSE(posted.ok()) << status;
    EXPECT_EQ(posted.error().code, ErrorCode::kFailedPrecondition) << status;
    EXPECT_EQ(posted.error().reason, "webhook_rejected");
    EXPECT_EQ(posted.error().message.find("t0k3n"), std::string::npos);
  }
}

TEST_F(WebhookTest, RedirectsAreNotFollowed) {
  status_ = 307;
  Result<int> posted = sender_->Post(Call());
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(posted.error().reason, "webhook_rejected");
  EXPECT_EQ(requests().size(), 1u);
}

TEST_F(WebhookTest, PlainHttpOffLoopbackIsRefusedWithoutConnecting) {
  for (const char* url : {"http://example.com/hook", "ftp://127.0.0.1/hook", "http://10.0.0.1/",
                          "127.0.0.1/hook", "", "https://exa mple.com/"}) {
    ports::WebhookCall call = Call();
    call.url = url;
    Result<int> posted = sender_->Post(call);
    ASSERT_FALSE(posted.ok()) << url;
    EXPECT_EQ(posted.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(posted.error().field, "url") << url;
  }
  EXPECT_EQ(sender_->Post({"http://example.com", "{}", {}}).error().message,
            "webhook url must be https");

  WebhookSenderOptions strict;
  strict.allow_plain_http_loopback = false;
  auto strict_sender = CurlWebhookSender::Create(strict);
  ASSERT_TRUE(strict_sender.ok());
  EXPECT_EQ((*strict_sender)->Post(Call()).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(requests().empty());
}

TEST_F(WebhookTest, HeaderInjectionIsRefusedWithoutConnecting) {
  ports::WebhookCall call = Call();
  call.headers.push_back({"X-Note", "a\r\nX-Injected: 1"});
  Result<int> posted = sender_->Post(call);
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(posted.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(posted.error().field, "headers");

  call = Call();
  call.headers.push_back({"X Bad: name", "1"});
  EXPECT_EQ(sender_->Post(call).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(requests().empty());
}

TEST_F(WebhookTest, UnreachableRecipientIsUnavailable) {
  ClosedPort closed;
  ASSERT_NE(closed.port(), 0);
  ports::WebhookCall call = Call();
  call.url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/hook";
  Result<int> posted = sender_->Post(call);
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(posted.error().code, ErrorCode::kUnavailable) << posted.error().message;
}

}  // namespace
}  // namespace dovira::mail
