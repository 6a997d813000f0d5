#include "adapters/mail/mail_dir.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/mail/smtp_mailer.h"

namespace dovira::mail {
namespace {

std::string Describe(int error) { return std::strerror(error); }

Status FileError(const std::string& what, const std::string& path, int error) {
  return Error::Unavailable("mail-dir: cannot " + what + " " + path + ": " + Describe(error));
}

// Closes the descriptor on every path out of Send().
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now; the error of close(2) (a delayed write error) is the caller's to see.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError("write", path, errno);
    written += static_cast<size_t>(n);
  }
  return {};
}

// "20250303T100000.000000Z": sorts in time order as text.
std::string CompactTime(Timestamp now) {
  namespace chrono = std::chrono;
  auto day = chrono::floor<chrono::days>(now);
  chrono::year_month_day ymd{day};
  chrono::hh_mm_ss<chrono::microseconds> time{now - day};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02uT%02d%02d%02d.%06dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                static_cast<int>(time.subseconds().count()));
  return buffer;
}

}  // namespace

Result<std::unique_ptr<MailDirMailer>> MailDirMailer::Create(MailDirOptions options) {
  if (options.dir.empty()) return Error::Invalid("the mail directory is not named", "mail_dir");
  while (options.dir.size() > 1 && options.dir.back() == '/') options.dir.pop_back();
  struct stat st {};
  if (::stat(options.dir.c_str(), &st) != 0) {
    return Error::Invalid("mail directory " + options.dir + ": " + Describe(errno), "mail_dir");
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error::Invalid("mail directory " + options.dir + ": not a directory", "mail_dir");
  }
  // As the server's effective (file-system) user, not its real one.
  if (::faccessat(AT_FDCWD, options.dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    return Error::Invalid(
        "mail directory " + options.dir + ": not writable (" + Describe(errno) + ")", "mail_dir");
  }
  return std::unique_ptr<MailDirMailer>(new MailDirMailer(std::move(options)));
}

MailDirMailer::MailDirMailer(MailDirOptions options) : options_(std::move(options)) {}

std::string MailDirMailer::FileName(const ports::MailMessage& message, Timestamp now) {
  std::string_view id = message.message_id;
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  std::string name = CompactTime(now) + "-";
  for (char ch : id) {
    auto c = static_cast<unsigned char>(ch);
    name += (c < 0x80 && std::isalnum(c) != 0) || ch == '.' || ch == '-' || ch == '_' || ch == '@'
                ? ch
                : '_';
  }
  return name + ".eml";
}

Status MailDirMailer::Send(const ports::MailMessage& message) {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : system_clock_;
  const Timestamp now = clock.Now();
  Result<std::string> composed = SmtpMailer::Compose(message, now);
  if (!composed) return composed.error();

  const std::string name = FileName(message, now);
  const std::string path = options_.dir + "/" + name;
  const std::string temp = options_.dir + "/." + name + "." + std::to_string(::getpid()) + "." +
                           std::to_string(sequence_.fetch_add(1)) + ".tmp";
  Fd file(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (file.get() < 0) return FileError("create", temp, errno);
  Status written = WriteAll(file.get(), *composed, temp);
  if (written.ok() && ::fsync(file.get()) != 0) written = FileError("fsync", temp, errno);
  if (int rc = file.Close(); written.ok() && rc != 0) written = FileError("close", temp, errno);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = FileError("rename into", path, errno);
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  // The rename is durable only once the directory is: until then the message is not sent.
  Fd dir(::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return FileError("open", options_.dir, errno);
  if (::fsync(dir.get()) != 0) return FileError("fsync", options_.dir, errno);

  nlohmann::json line = {{"ts", FormatTimestamp(now)}, {"level", "info"},
                         {"msg", "mail written"},      {"to", message.to},
                         {"subject", message.subject}, {"file", path}};
  spdlog::info("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return {};
}

}  // namespace dovira::mail
