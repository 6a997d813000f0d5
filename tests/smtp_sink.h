// A real SMTP server for tests: it listens on 127.0.0.1 on an ephemeral port, speaks enough
// ESMTP for libcurl and ordinary clients (EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT;
// 502 for anything else, no AUTH, no STARTTLS) and records every message it accepts. Nothing is
// relayed anywhere. Failures can be injected to test retry behaviour, and static helpers decode
// what was recorded (headers, RFC 2047 words, the text part, attachments).
//
// Used by the mail adapter's unit tests and by black-box tests that point the real server at it
// ("smtp://127.0.0.1:<port>"), so it depends on the standard library and POSIX only.
//
// Design: one accepting thread and one thread per connection; a self-pipe wakes them all on
// Stop(). A connection idle for 30 seconds is closed.
//
// Thread-safety: all member functions may be called from any thread. The destructor calls Stop(),
// which closes every connection and joins every thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "codec.h"

namespace dovira::testing {

class SmtpSink {
 public:
  // One accepted message: the envelope and the data as received, dot-stuffing undone, without
  // the terminating "<CRLF>.<CRLF>" (so it ends with the CRLF of its last line).
  struct Message {
    std::string from;               // MAIL FROM address, without angle brackets
    std::vector<std::string> rcpt;  // RCPT TO addresses, without angle brackets
    std::string data;
  };

  // Where an injected failure answers.
  enum class FailAt { kMailFrom, kRcptTo, kDataEnd };

  // One MIME part of a recorded message, decoded.
  struct Part {
    std::string content_type;  // lower-case type/subtype, no parameters ("text/plain")
    std::string disposition;   // lower-case ("attachment"), "" when absent
    std::string filename;      // decoded (RFC 2231 or RFC 2047), "" when absent
    std::string body;          // transfer encoding undone (base64, quoted-printable or as is)
  };

  SmtpSink() { Start(); }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;
  ~SmtpSink() { Stop(); }

  // False if the listening socket could not be set up; port() is 0 then.
  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }

  // Closes the listener and every connection and joins all threads. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    if (wake_write_ >= 0) {
      char byte = 1;
      (void)!::write(wake_write_, &byte, 1);
    }
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<Connection> connections;
    {
      std::lock_guard<std::mutex> lock(mu_);
      connections.swap(connections_);
    }
    for (Connection& c : connections) c.thread.join();
    for (int* fd : {&listen_fd_, &wake_read_, &wake_write_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  // Every accepted message so far, in order of acceptance.
  std::vector<Message> messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

  // Waits until at least `n` messages have been accepted; false if `timeout` passes first.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
  }

  // The next `count` MAIL FROM commands (or RCPT TO commands, or message ends after DATA) are
  // answered with `code` ("451 ..." or "550 ..."); for kDataEnd the message is not recorded.
  void FailNext(int count, int code, FailAt at = FailAt::kMailFrom) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_count_ = count;
    fail_code_ = code;
    fail_at_ = at;
  }

  // How many connections were accepted (a client that never connected leaves it at 0).
  size_t connections() const { return accepted_.load(); }

  // ---------------------------------------------------------------------------------------------
  // Decoding what was recorded.

  // The value of the first header `name` (case-insensitive) of the message's header block,
  // unfolded, leading blanks removed; "" when absent. Not decoded: see DecodeWords().
  static std::string HeaderOf(const std::string& data, std::string_view name) {
    return HeaderIn(HeaderBlock(data), name);
  }

  // `value` with its RFC 2047 encoded-words (B or Q, charset taken as UTF-8) decoded; blanks
  // between adjacent encoded-words are dropped, as the RFC says.
  static std::string DecodeWords(std::string_view value) {
    std::string out;
    std::string pending_blank;
    bool last_was_word = false;
    size_t i = 0;
    while (i < value.size()) {
      std::string decoded;
      size_t used = DecodeOneWord(value.substr(i), &decoded);
      if (used > 0) {
        if (!last_was_word) out += pending_blank;
        pending_blank.clear();
        out += decoded;
        last_was_word = true;
        i += used;
        continue;
      }
      char c = value[i++];
      if (c == ' ' || c == '\t') {
        pending_blank += c;
        continue;
      }
      out += pending_blank;
      pending_blank.clear();
      out += c;
      last_was_word = false;
    }
    return out + pending_blank;
  }

  // The MIME parts of a message: the parts of a multipart/* body (one level), or the body itself
  // as one part.
  static std::vector<Part> Parts(const std::string& data) {
    std::string headers = HeaderBlock(data);
    std::string body = BodyOf(data);
    std::string type_header = HeaderIn(headers, "content-type");
    std::string type = Lower(Trim(type_header.substr(0, type_header.find(';'))));
    if (type.rfind("multipart/", 0) != 0) return {MakePart(headers, body)};
    std::string boundary = Parameters(type_header)["boundary"];
    if (boundary.empty()) return {};
    std::vector<Part> parts;
    std::string delimiter = "--" + boundary;
    size_t pos = 0;
    bool in_part = false;
    size_t part_start = 0;
    while (pos <= body.size()) {
      size_t eol = body.find("\r\n", pos);
      size_t line_end = eol == std::string::npos ? body.size() : eol;
      std::string_view line(body.data() + pos, line_end - pos);
      bool close = line == delimiter + "--";
      if (line == delimiter || close) {
        if (in_part) {
          // The CRLF before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
          size_t end = pos >= part_start + 2 ? pos - 2 : part_start;
          std::string part(body, part_start, end - part_start);
          parts.push_back(MakePart(HeaderBlock(part), BodyOf(part)));
        }
        if (close) break;
        in_part = true;
        part_start = std::min(line_end + 2, body.size());
      }
      if (eol == std::string::npos) break;
      pos = eol + 2;
    }
    return parts;
  }

  // The first text/plain part, decoded, with CRLF line breaks turned into LF (the form a service
  // writes its text in); "" when there is none.
  static std::string DecodedText(const std::string& data) {
    for (const Part& part : Parts(data)) {
      if ((part.content_type.empty() || part.content_type == "text/plain") &&
          part.disposition != "attachment") {
        std::string out;
        for (size_t i = 0; i < part.body.size(); ++i) {
          if (part.body[i] == '\r' && i + 1 < part.body.size() && part.body[i + 1] == '\n') {
            continue;
          }
          out += part.body[i];
        }
        return out;
      }
    }
    return {};
  }

 private:
  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  // Per-connection SMTP state.
  struct Session {
    bool in_transaction = false;
    Message message;
  };

  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxData = size_t{64} << 20;
  static constexpr int kIdleMs = 30000;

  void Start() {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    wake_read_ = pipe_fds[0];
    wake_write_ = pipe_fds[1];
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  void AcceptLoop() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if ((fds[0].revents & POLLIN) == 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard<std::mutex> lock(mu_);
      // Join connections that have ended, so a long-lived sink does not pile up threads.
      for (auto it = connections_.begin(); it != connections_.end();) {
        if (it->done->load()) {
          it->thread.join();
          it = connections_.erase(it);
        } else {
          ++it;
        }
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      connections_.push_back({std::thread([this, fd, done] {
                                Serve(fd);
                                ::close(fd);
                                done->store(true);
                              }),
                              done});
    }
  }

  static bool Send(int fd, std::string_view text) {
    while (!text.empty()) {
      ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one CRLF-terminated line (without the CRLF) into `line`; false on close, error, idle
  // timeout, Stop() or an over-long command line.
  bool ReadLine(int fd, std::string& buffer, std::string* line, size_t max) {
    for (;;) {
      size_t eol = buffer.find("\r\n");
      if (eol != std::string::npos) {
        line->assign(buffer, 0, eol);
        buffer.erase(0, eol + 2);
        return true;
      }
      if (buffer.size() > max) return false;
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
      int n = ::poll(fds, 2, kIdleMs);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || fds[1].revents != 0) return false;
      char chunk[16384];
      ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(got));
    }
  }

  // The injected answer for `at`, or 0.
  int TakeFailure(FailAt at) {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_count_ <= 0 || fail_at_ != at) return 0;
    --fail_count_;
    return fail_code_;
  }

  static std::string FailureReply(int code) {
    return std::to_string(code) + (code < 500 ? " 4.3.0 Try again later (injected)\r\n"
                                              : " 5.7.1 Rejected (injected)\r\n");
  }

  // "MAIL FROM:<a@b> SIZE=1" → "a@b"; false without angle brackets.
  static bool PathArgument(std::string_view args, std::string_view keyword, std::string* out) {
    if (args.size() < keyword.size() ||
        Lower(std::string(args.substr(0, keyword.size()))) != Lower(std::string(keyword))) {
      return false;
    }
    args.remove_prefix(keyword.size());
    while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
    if (args.empty() || args.front() != '<') return false;
    size_t close = args.find('>');
    if (close == std::string_view::npos) return false;
    out->assign(args.substr(1, close - 1));
    return true;
  }

  void Serve(int fd) {
    if (!Send(fd, "220 127.0.0.1 ESMTP test sink ready\r\n")) return;
    std::string buffer;
    std::string line;
    Session session;
    while (ReadLine(fd, buffer, &line, kMaxLine)) {
      std::string verb = Lower(line.substr(0, line.find(' ')));
      std::string_view args = std::string_view(line).substr(std::min(line.size(), verb.size()));
      while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
      std::string reply;
      if (verb == "ehlo") {
        reply = "250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250 SIZE 67108864\r\n";
        session = {};
      } else if (verb == "helo") {
        reply = "250 127.0.0.1\r\n";
        session = {};
      } else if (verb == "mail") {
        std::string from;
        if (session.in_transaction) {
          reply = "503 5.5.1 Nested MAIL command\r\n";
        } else if (!PathArgument(args, "FROM:", &from)) {
          reply = "501 5.5.4 Syntax: MAIL FROM:<address>\r\n";
        } else if (int code = TakeFailure(FailAt::kMailFrom); code != 0) {
          reply = FailureReply(code);
        } else {
          session.in_transaction = true;
          session.message = {};
          session.message.from = from;
          reply = "250 2.1.0 OK\r\n";
        }
      } else if (verb == "rcpt") {
        std::string to;
        if (!session.in_transaction) {
          reply = "503 5.5.1 Need MAIL first\r\n";
        } else if (!PathArgument(args, "TO:", &to)) {
          reply = "501 5.5.4 Syntax: RCPT TO:<address>\r\n";
        } else if (int code = TakeFailure(FailAt::kRcptTo); code != 0) {
          reply = FailureReply(code);
        } else {
          session.message.rcpt.push_back(to);
          reply = "250 2.1.5 OK\r\n";
        }
      } else if (verb == "data") {
        if (!session.in_transaction || session.message.rcpt.empty()) {
          reply = "503 5.5.1 Need RCPT first\r\n";
        } else {
          if (!Send(fd, "354 End data with <CR><LF>.<CR><LF>\r\n")) return;
          std::string data;
          bool too_big = false;
          for (;;) {
            if (!ReadLine(fd, buffer, &line, kMaxData)) return;
            if (line == ".") break;
            if (too_big) continue;
            std::string_view text = line;
            if (!text.empty() && text.front() == '.') text.remove_prefix(1);
            data.append(text);
            data += "\r\n";
            too_big = data.size() > kMaxData;
          }
          if (too_big) {
            reply = "552 5.3.4 Message too big\r\n";
          } else if (int code = TakeFailure(FailAt::kDataEnd); code != 0) {
            reply = FailureReply(code);
          } else {
            session.message.data = std::move(data);
            {
              std::lock_guard<std::mutex> lock(mu_);
              messages_.push_back(std::move(session.message));
            }
            changed_.notify_all();
            reply = "250 2.0.0 OK queued\r\n";
          }
          session = {};
        }
      } else if (verb == "rset") {
        session = {};
        reply = "250 2.0.0 OK\r\n";
      } else if (verb == "noop") {
        reply = "250 2.0.0 OK\r\n";
      } else if (verb == "quit") {
        (void)Send(fd, "221 2.0.0 Bye\r\n");
        return;
      } else {
        reply = "502 5.5.2 Command not implemented\r\n";
      }
      if (!Send(fd, reply)) return;
    }
  }

  // --- MIME helpers ---

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  static std::string Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
  }

  // The header block of an entity, each header ending in CRLF; "" when it has none.
  static std::string HeaderBlock(const std::string& entity) {
    if (entity.rfind("\r\n", 0) == 0) return {};
    size_t end = entity.find("\r\n\r\n");
    return end == std::string::npos ? entity : entity.substr(0, end + 2);
  }

  static std::string BodyOf(const std::string& entity) {
    if (entity.rfind("\r\n", 0) == 0) return entity.substr(2);
    size_t end = entity.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : entity.substr(end + 4);
  }

  static std::string HeaderIn(const std::string& block, std::string_view name) {
    std::string wanted = Lower(std::string(name));
    std::string value;
    bool found = false;
    size_t pos = 0;
    while (pos < block.size()) {
      size_t eol = block.find("\r\n", pos);
      if (eol == std::string::npos) eol = block.size();
      std::string_view line(block.data() + pos, eol - pos);
      pos = eol + 2;
      bool continuation = !line.empty() && (line.front() == ' ' || line.front() == '\t');
      if (found) {
        if (!continuation) break;
        value.append(line);  // unfolding removes the CRLF only
        continue;
      }
      size_t colon = line.find(':');
      if (continuation || colon == std::string_view::npos) continue;
      if (Lower(std::string(line.substr(0, colon))) == wanted) {
        found = true;
        value = std::string(line.substr(colon + 1));
      }
    }
    size_t start = value.find_first_not_of(" \t");
    return start == std::string::npos ? std::string() : value.substr(start);
  }

  // Decodes one encoded-word at the start of `s`; returns the characters used, 0 if none.
  static size_t DecodeOneWord(std::string_view s, std::string* out) {
    if (s.rfind("=?", 0) != 0) return 0;
    size_t q1 = s.find('?', 2);
    if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return 0;
    char encoding = static_cast<char>(std::toupper(static_cast<unsigned char>(s[q1 + 1])));
    size_t end = s.find("?=", q1 + 3);
    if (end == std::string_view::npos) return 0;
    std::string_view text = s.substr(q1 + 3, end - q1 - 3);
    if (text.find_first_of(" \t") != std::string_view::npos) return 0;
    if (encoding == 'B') {
      *out = Base64Decode(text);
    } else if (encoding == 'Q') {
      std::string underscores(text);
      std::replace(underscores.begin(), underscores.end(), '_', ' ');
      *out = QuotedPrintableDecode(underscores);
    } else {
      return 0;
    }
    return end + 2;
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  // Quoted-printable (and the %XX of RFC 2231 when `escape` is '%').
  static std::string QuotedPrintableDecode(std::string_view in, char escape = '=') {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != escape) {
        out += in[i];
        continue;
      }
      if (escape == '=' && in.substr(i + 1, 2) == "\r\n") {  // soft line break
        i += 2;
        continue;
      }
      int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        out += in[i];
        continue;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    return out;
  }

  // The parameters of a structured header value ("type; a=b; c=\"d\""), lower-case names,
  // quoted values unquoted.
  static std::map<std::string, std::string> Parameters(std::string_view value) {
    std::map<std::string, std::string> params;
    size_t i = value.find(';');
    while (i != std::string_view::npos && i < value.size()) {
      ++i;
      while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
      size_t eq = value.find('=', i);
      if (eq == std::string_view::npos) break;
      std::string name = Lower(Trim(value.substr(i, eq - i)));
      std::string param;
      i = eq + 1;
      if (i < value.size() && value[i] == '"') {
        for (++i; i < value.size() && value[i] != '"'; ++i) {
          if (value[i] == '\\' && i + 1 < value.size()) ++i;
          param += value[i];
        }
        i = value.find(';', i);
      } else {
        size_t end = value.find(';', i);
        param = Trim(value.substr(i, end == std::string_view::npos ? value.size() - i : end - i));
        i = end;
      }
      params[name] = param;
    }
    return params;
  }

  // RFC 2231 "charset'language'%XX..." → the bytes.
  static std::string ExtendedValue(std::string_view value, bool first) {
    if (first) {
      size_t q = value.find('\'');
      size_t q2 = q == std::string_view::npos ? q : value.find('\'', q + 1);
      if (q2 != std::string_view::npos) value.remove_prefix(q2 + 1);
    }
    return QuotedPrintableDecode(value, '%');
  }

  static std::string Filename(const std::map<std::string, std::string>& params) {
    if (auto it = params.find("filename*"); it != params.end()) {
      return ExtendedValue(it->second, true);
    }
    if (params.count("filename*0*") != 0 || params.count("filename*0") != 0) {
      std::string out;
      for (int n = 0;; ++n) {
        std::string key = "filename*" + std::to_string(n);
        if (auto it = params.find(key + "*"); it != params.end()) {
          out += ExtendedValue(it->second, n == 0);
        } else if (auto plain = params.find(key); plain != params.end()) {
          out += plain->second;
        } else {
          break;
        }
      }
      return out;
    }
    if (auto it = params.find("filename"); it != params.end()) return DecodeWords(it->second);
    if (auto it = params.find("name"); it != params.end()) return DecodeWords(it->second);
    return {};
  }

  static Part MakePart(const std::string& headers, const std::string& body) {
    Part part;
    std::string type = HeaderIn(headers, "content-type");
    part.content_type = Lower(Trim(type.substr(0, type.find(';'))));
    std::string disposition = HeaderIn(headers, "content-disposition");
    part.disposition = Lower(Trim(disposition.substr(0, disposition.find(';'))));
    part.filename = Filename(Parameters(disposition));
    if (part.filename.empty()) part.filename = Filename(Parameters(type));
    std::string encoding = Lower(Trim(HeaderIn(headers, "content-transfer-encoding")));
    if (encoding == "base64") {
      part.body = Base64Decode(body);
    } else if (encoding == "quoted-printable") {
      part.body = QuotedPrintableDecode(body);
    } else {
      part.body = body;
    }
    return part;
  }

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<Message> messages_;
  std::vector<Connection> connections_;
  bool stopped_ = false;
  int fail_count_ = 0;
  int fail_code_ = 0;
  FailAt fail_at_ = FailAt::kMailFrom;

  std::atomic<size_t> accepted_{0};
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::thread acceptor_;
};

}  // namespace dovira::testing
