// Starts the real `dovira serve` for black-box API tests and talks HTTP/1.1 to it over plain POSIX
// sockets: a fresh data directory per server, the fake clock, the bootstrap passwords it prints,
// and a staff client that signs in the way a browser would (cookie + CSRF token, password change,
// TOTP enrolment).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/crypto/sodium_crypto.h"
#include "common/clock.h"
#include "codec.h"
#include "process.h"

namespace dovira::testing {

using Json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

inline std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// One HTTP response: status, headers with lower-case names, body.
struct Response {
  int status = 0;  // 0: no response (connection failed); `body` then says why
  std::map<std::string, std::string> headers;
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(Lower(name));
    return it == headers.end() ? std::string() : it->second;
  }
  // The body as JSON; a discarded value when it is not JSON.
  Json Body() const { return Json::parse(body, nullptr, false); }
  // error.code of an error body, or "".
  std::string ErrorCode() const {
    Json j = Body();
    if (j.is_object() && j.contains("error") && j["error"].is_object() &&
        j["error"].contains("code") && j["error"]["code"].is_string()) {
      return j["error"]["code"].get<std::string>();
    }
    return {};
  }
  // For failure messages.
  std::string Describe() const {
    return "HTTP " + std::to_string(status) + " " + body.substr(0, 600);
  }
};

namespace internal {

inline bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

inline std::string DecodeChunked(const std::string& in) {
  std::string out;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t len = std::strtoul(in.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (len == 0) break;
    out += in.substr(pos, len);
    pos += len + 2;
  }
  return out;
}

inline Response Parse(const std::string& raw) {
  Response r;
  size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    r.body = "malformed response: " + raw.substr(0, 200);
    return r;
  }
  size_t line_end = raw.find("\r\n");
  std::string status_line = raw.substr(0, line_end);
  size_t sp = status_line.find(' ');
  r.status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
  size_t pos = line_end + 2;
  while (pos < head_end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    auto it = r.headers.find(name);
    if (it == r.headers.end()) {
      r.headers[name] = value;
    } else {
      it->second += ", " + value;
    }
  }
  std::string rest = raw.substr(head_end + 4);
  if (Lower(r.Header("transfer-encoding")).find("chunked") != std::string::npos) {
    r.body = DecodeChunked(rest);
  } else if (!r.Header("content-length").empty()) {
    size_t len = std::strtoul(r.Header("content-length").c_str(), nullptr, 10);
    r.body = rest.substr(0, std::min(len, rest.size()));
  } else {
    r.body = rest;
  }
  return r;
}

}  // namespace internal

// One request on a fresh connection (Connection: close). A non-empty body without a Content-Type
// header goes as application/json.
inline Response HttpCall(int port, const std::string& method, const std::string& target,
                         const std::string& body = "", const Headers& headers = {}) {
  Response failed;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    failed.body = "socket: " + std::string(std::strerror(errno));
    return failed;
  }
  timeval tv{};
  tv.tv_sec = 30;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    failed.body = "connect: " + std::string(std::strerror(errno));
    close(fd);
    return failed;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    if (Lower(k) == "content-type") has_type = true;
    req += k + ": " + v + "\r\n";
  }
  if (!body.empty() && !has_type) req += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (!internal::SendAll(fd, req)) {
    failed.body = "send: " + std::string(std::strerror(errno));
    close(fd);
    return failed;
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return internal::Parse(raw);
}

inline std::string PolicyPath(const std::string& prefix) {
  namespace fs = std::filesystem;
  for (const auto& e : fs::directory_iterator(std::string(DOVIRA_SOURCE_DIR) + "/policies")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".toml" && name.rfind(prefix, 0) == 0) return e.path().string();
  }
  return {};
}


struct ServerOptions {
  // Prefixes of the shipped policy files to serve ("001", "004", ...).
  std::vector<std::string> policies = {"001", "003", "004"};
  std::string fake_clock = "2025-03-03T09:00:00Z";
  std::string bootstrap_admin = "admin@test.local";
  // Serve an existing data directory instead of a fresh one (a restart).
  std::string data_dir;
  std::vector<std::string> extra_args;  // appended to `dovira serve` (e.g. --smtp-url)
  // On the test cluster: serve the schema of this other data directory (another server of the
  // same deployment, with a directory of its own).
  std::string store_of;
};

// The real server in a child process. Start() and Stop() may be called more than once; the
// destructor stops it and removes the directory it created.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}) : options_(std::move(options)) {
    if (options_.data_dir.empty()) {
      root_ = MakeTempDir();
      data_dir_ = root_ + "/data";
    } else {
      data_dir_ = options_.data_dir;
      root_ = MakeTempDir();
      owns_data_ = false;
    }
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() {
    Stop();
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove_all(root_, ec);
  }

  // Spawns the server and waits (10 s at most) until it listens. Returns "" or what went wrong.
  std::string Start() {
    if (pid_ > 0) return {};
    std::vector<std::string> args = {DOVIRA_BIN, "serve", "--data", data_dir_};
    for (const auto& p : options_.policies) {
      std::string path = PolicyPath(p);
      if (path.empty()) return "no shipped policy starting with " + p;
      args.push_back("--policy");
      args.push_back(path);
    }
    args.insert(args.end(), {"--port", "0", "--insecure-cookies", "--quiet"});
    // On the ctest run's PostgreSQL cluster (the `pg.` copies of the black-box tests), the data
    // go there, in a schema of this data directory's own (found again on a restart).
    const std::string& store_of = options_.store_of.empty() ? data_dir_ : options_.store_of;
    for (std::string& a : StoreArgsFor(store_of)) args.push_back(std::move(a));
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    if (!options_.fake_clock.empty())
      args.insert(args.end(), {"--fake-clock", options_.fake_clock});
    if (!options_.bootstrap_admin.empty()) {
      args.insert(args.end(), {"--bootstrap-admin", options_.bootstrap_admin});
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return "pipe: " + std::string(std::strerror(errno));
    const std::string err_path = root_ + "/server" + std::to_string(starts_++) + ".err";
    err_paths_.push_back(err_path);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      return "posix_spawn: " + std::string(std::strerror(rc));
    }
    pid_ = pid;
    out_fd_ = fds[0];
    stdout_.clear();

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const std::string kListening = "Dovira is listening on http://";
    size_t at = std::string::npos;
    while ((at = stdout_.find(kListening)) == std::string::npos ||
           stdout_.find('\n', at) == std::string::npos) {
      if (!ReadSome(deadline)) {
        std::string why = "the server did not report listening within 10 s\nstdout: " + stdout_ +
                          "\nstderr: " + Slurp(err_path);
        Stop();
        return why;
      }
    }
    // The bootstrap lines follow the listening line in the same flush; take what is there.
    const size_t expected = owns_data_ && starts_ == 1 && !options_.bootstrap_admin.empty()
                                ? options_.policies.size()
                                : 0;
    const auto short_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (CountOf(stdout_, "with the one-time password ") < expected) {
      if (!ReadSome(short_deadline)) break;
    }
    size_t colon = stdout_.find(':', at + kListening.size());
    port_ = std::atoi(stdout_.c_str() + colon + 1);
    ParseBootstrap();
    if (port_ <= 0) {
      Stop();
      return "no port in: " + stdout_;
    }
    return {};
  }

  // SIGTERM, then waits 5 s (SIGKILL after that). Returns the exit status (128+signal when
  // killed), or -1 when it was not running.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    pid_t done = 0;
    while ((done = waitpid(pid_, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      // Drain stdout so a late write can never block the server.
      ReadSome(std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
    }
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    return Reaped(status);
  }

  // SIGKILL: the server gets no chance to flush or checkpoint anything (a crash, a power cut of
  // the process). Returns 128+9, or -1 when it was not running.
  int Kill() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    return Reaped(status);
  }

  // After the child was waited for: drains its output and keeps its exit status.
  int Reaped(int status) {
    pid_ = -1;
    if (out_fd_ >= 0) {
      while (ReadSome(std::chrono::steady_clock::now())) {
      }
      close(out_fd_);
      out_fd_ = -1;
    }
    last_exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return last_exit_;
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  int last_exit() const { return last_exit_; }
  const std::string& data_dir() const { return data_dir_; }
  // A scratch directory beside the data (removed with the server).
  const std::string& root() const { return root_; }
  const std::string& stdout_text() const { return stdout_; }
  std::string stderr_text() const {
    std::string all;
    for (const auto& p : err_paths_) all += Slurp(p);
    return all;
  }
  // The one-time password printed for the bootstrap administrator of `school`.
  std::string BootstrapPassword(const std::string& school) const {
    auto it = bootstrap_.find(school);
    return it == bootstrap_.end() ? std::string() : it->second;
  }
  const std::string& bootstrap_email() const { return options_.bootstrap_admin; }

  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const Headers& headers = {}) const {
    return HttpCall(port_, method, path, body, headers);
  }
  Response Get(const std::string& path, const Headers& headers = {}) const {
    return Call("GET", path, "", headers);
  }
  Response Post(const std::string& path, const Json& body, const Headers& headers = {}) const {
    return Call("POST", path, body.dump(), headers);
  }

  // The fake clock. Both return the server's time after the change ("" on failure).
  std::string SetClock(const std::string& rfc3339) const {
    Response r = Post("/v1/_test/clock", Json{{"set", rfc3339}});
    return r.status == 200 ? r.Body().value("now", "") : std::string();
  }
  std::string Advance(int64_t seconds) const {
    Response r = Post("/v1/_test/clock", Json{{"advance_seconds", seconds}});
    return r.status == 200 ? r.Body().value("now", "") : std::string();
  }
  // The server's current time, from /healthz.
  std::optional<Timestamp> Now() const {
    Response r = Get("/healthz");
    Json j = r.Body();
    if (r.status != 200 || !j.is_object() || !j.contains("now")) return std::nullopt;
    Timestamp t;
    std::string err;
    if (!ParseTimestamp(j["now"].get<std::string>(), &t, &err)) return std::nullopt;
    return t;
  }

 private:
  static size_t CountOf(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }

  // Reads what is available on stdout, waiting until `deadline`; false at the deadline or EOF.
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    if (out_fd_ < 0) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{out_fd_, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (ready <= 0) return false;
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    stdout_.append(buf, static_cast<size_t>(n));
    return true;
  }

  // "  school <id>: sign in as <email> (role <role>) with the one-time password <pw>"
  void ParseBootstrap() {
    size_t pos = 0;
    while (pos < stdout_.size()) {
      size_t eol = stdout_.find('\n', pos);
      if (eol == std::string::npos) eol = stdout_.size();
      std::string line = stdout_.substr(pos, eol - pos);
      pos = eol + 1;
      const std::string kSchool = "school ", kPw = "with the one-time password ";
      size_t s = line.find(kSchool), c = line.find(": sign in as "), w = line.find(kPw);
      if (s == std::string::npos || c == std::string::npos || w == std::string::npos) continue;
      std::string id = line.substr(s + kSchool.size(), c - s - kSchool.size());
      std::string pw = line.substr(w + kPw.size());
      while (!pw.empty() && std::isspace(static_cast<unsigned char>(pw.back()))) pw.pop_back();
      bootstrap_[id] = pw;
    }
  }

  ServerOptions options_;
  std::string root_, data_dir_;
  bool owns_data_ = true;
  int starts_ = 0;
  std::vector<std::string> err_paths_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  int last_exit_ = -1;
  std::string stdout_;
  std::map<std::string, std::string> bootstrap_;
};

// A staff member using the API as the browser would: the session cookie, and the CSRF token on
// every unsafe request.
class StaffClient {
 public:
  StaffClient(const TestServer* server, std::string school, std::string email, std::string password)
      : server_(server),
        school_(std::move(school)),
        email_(std::move(email)),
        password_(std::move(password)) {}

  // Sends the calls to another server from now on (one of several serving the same database,
  // where the session is known too).
  void UseServer(const TestServer* server) { server_ = server; }

  // Signs in; changes the password when the server asks for it and enrols (or passes) TOTP when
  // the role needs it. Returns "" or what went wrong.
  std::string SignIn(const std::string& new_password = "Tall-Otter-Runs-7319!") {
    Response r = Login();
    if (r.status != 200) return "login: " + r.Describe();
    Json j = r.Body();
    if (j.value("must_change_password", false)) {
      Response c = Post("/v1/auth/password",
                        Json{{"current_password", password_}, {"new_password", new_password}});
      if (c.status != 200) return "password change: " + c.Describe();
      password_ = new_password;
    }
    if (j.value("mfa_required", false)) {
      if (totp_secret_.empty()) {
        Response b = Post("/v1/auth/totp/begin", Json::object());
        if (b.status != 200) return "totp begin: " + b.Describe();
        totp_secret_ = Base32Decode(b.Body().value("secret", ""));
      }
      std::string code = TotpNow();
      if (code.empty()) return "cannot compute a TOTP code";
      Response c = Post("/v1/auth/totp/confirm", Json{{"code", code}});
      if (c.status != 200) return "totp confirm: " + c.Describe();
    }
    Response me = Get("/v1/auth/me");
    if (me.status != 200) return "me: " + me.Describe();
    me_ = me.Body();
    return {};
  }

  // The raw sign-in call (with a TOTP code once enrolled). A rate-limited attempt is retried a
  // minute of fake time later.
  Response Login() {
    Response r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      Json body = {{"school", school_}, {"email", email_}, {"password", password_}};
      if (!totp_secret_.empty()) body["totp"] = TotpNow();
      r = server_->Post("/v1/auth/login", body);
      if (r.status != 429) break;
      server_->Advance(61);
    }
    if (r.status == 200) {
      cookie_ = CookieFrom(r.Header("set-cookie"));
      csrf_ = r.Body().value("csrf_token", "");
      login_ = r.Body();
    }
    return r;
  }

  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                Headers headers = {}) const {
    if (!cookie_.empty()) headers.emplace_back("Cookie", "dovira_session=" + cookie_);
    if (method != "GET" && method != "HEAD" && !csrf_.empty()) {
      headers.emplace_back("X-CSRF-Token", csrf_);
    }
    return server_->Call(method, path, body, headers);
  }
  Response Get(const std::string& path) const { return Call("GET", path); }
  Response Post(const std::string& path, const Json& body) const {
    return Call("POST", path, body.dump());
  }
  Response Delete(const std::string& path) const { return Call("DELETE", path); }

  // A TOTP code for the server's clock, as an authenticator gives it. The server takes each code
  // once (a replay within its window is refused), so a sign-in in the same 30-second step as the
  // last one uses the next step's code (one step of drift is allowed), and if that one is used
  // too the fake clock is moved on, as a person would wait for the next code.
  std::string TotpNow() {
    auto now = server_->Now();
    if (!now || totp_secret_.empty()) return {};
    auto crypto = crypto::SodiumCrypto::Create();
    if (!crypto.ok()) return {};
    auto step_of = [](Timestamp t) {
      return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count() / 30;
    };
    int64_t step = step_of(*now);
    if (last_step_ + 1 > step + 1) {
      server_->Advance((last_step_ - step) * 30);
      now = server_->Now();
      if (!now) return {};
      step = step_of(*now);
    }
    const int64_t use = std::max(step, last_step_ + 1);
    last_step_ = use;
    return (*crypto)->TotpCode(totp_secret_, Timestamp(std::chrono::seconds(use * 30)));
  }

  const std::string& school() const { return school_; }
  const std::string& email() const { return email_; }
  const std::string& password() const { return password_; }
  const std::string& cookie() const { return cookie_; }
  const std::string& csrf() const { return csrf_; }
  // The body of the last successful sign-in and of /v1/auth/me after SignIn().
  const Json& login_body() const { return login_; }
  const Json& me() const { return me_; }
  std::string staff_id() const { return me_.value("staff", login_.value("staff", "")); }
  // The school's path prefix: "/v1/schools/<school>".
  std::string Base() const { return "/v1/schools/" + school_; }

 private:
  static std::string CookieFrom(const std::string& set_cookie) {
    const std::string kName = "dovira_session=";
    size_t p = set_cookie.find(kName);
    if (p == std::string::npos) return {};
    size_t end = set_cookie.find(';', p);
    return set_cookie.substr(p + kName.size(),
                             end == std::string::npos ? std::string::npos : end - p - kName.size());
  }

  const TestServer* server_;
  std::string school_, email_, password_;
  std::string cookie_, csrf_, totp_secret_;
  int64_t last_step_ = 0;  // the TOTP step of the last code sent
  Json login_, me_;
};

}  // namespace dovira::testing
