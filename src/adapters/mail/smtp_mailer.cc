#include "adapters/mail/smtp_mailer.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace dovira::mail {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// Never appears in base64 text ('_' is not in its alphabet and '=' only ends a line), and every
// part is base64, so it cannot collide with content.
constexpr std::string_view kBoundary = "=_dovira_mixed_0";
// 42 bytes become 56 base64 characters; with "=?UTF-8?B?" and "?=" an encoded-word is 68
// characters, which keeps "Subject: " plus the first word within 78.
constexpr size_t kEncodedWordBytes = 42;
constexpr size_t kBase64LineChars = 76;

// curl_global_init is not safe to race with itself; the first mailer does it for the process.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Encodings

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Base64 in lines of 76 characters, each ending in CRLF (RFC 2045 6.8).
std::string Base64Lines(std::string_view in) {
  std::string encoded = Base64(in);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / kBase64LineChars * 2 + 2);
  for (size_t i = 0; i < encoded.size(); i += kBase64LineChars) {
    out.append(encoded, i, kBase64LineChars);
    out += kCrlf;
  }
  return out;
}

// Text in canonical form for MIME (RFC 2046 4.1.1): every line break is CRLF.
std::string CanonicalLineBreaks(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += kCrlf;
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += kCrlf;
    } else {
      out += c;
    }
  }
  return out;
}

bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if (!IsContinuationByte(d)) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

// RFC 2047 B encoded-words, each at most kEncodedWordBytes of input and never splitting a UTF-8
// sequence, joined by folding whitespace (which decoders drop between encoded-words).
std::string EncodedWords(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + kEncodedWordBytes);
    if (end < text.size()) {
      size_t cut = end;
      while (cut > i && IsContinuationByte(static_cast<unsigned char>(text[cut]))) --cut;
      if (cut > i) end = cut;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?";
    out += Base64(text.substr(i, end - i));
    out += "?=";
    i = end;
  }
  return out;
}

// The Subject value: plain when it is short printable ASCII that cannot be mistaken for an
// encoded-word, encoded-words otherwise.
std::string SubjectValue(std::string_view subject) {
  if (IsPrintableAscii(subject) && subject.size() <= 66 &&
      subject.find("=?") == std::string_view::npos) {
    return std::string(subject);
  }
  return EncodedWords(subject);
}

// A display name as an RFC 5322 phrase: a quoted-string for printable ASCII, encoded-words
// otherwise.
std::string DisplayName(std::string_view name) {
  if (IsPrintableAscii(name) && name.find("=?") == std::string_view::npos) {
    std::string out = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    return out;
  }
  return EncodedWords(name);
}

// The filename parameter of Content-Disposition: a quoted-string for short printable ASCII,
// else RFC 2231 UTF-8 percent-encoding, split into numbered continuations to keep lines short.
std::string FilenameParameter(std::string_view filename) {
  if (IsPrintableAscii(filename) && filename.size() <= 50) {
    std::string out = "filename=\"";
    for (char c : filename) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
    return out;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kAttrPunct = "!#$&+-.^_`|~";
  std::string encoded = "UTF-8''";
  for (char ch : filename) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x80 && std::isalnum(c) != 0) || kAttrPunct.find(ch) != std::string_view::npos) {
      encoded += ch;
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  constexpr size_t kSegment = 60;
  if (encoded.size() <= kSegment) return "filename*=" + encoded;
  std::string out;
  size_t i = 0;
  for (int n = 0; i < encoded.size(); ++n) {
    size_t end = std::min(encoded.size(), i + kSegment);
    // Never cut a %XX triplet.
    if (end < encoded.size()) {
      if (encoded[end - 1] == '%') {
        end -= 1;
      } else if (end >= 2 && encoded[end - 2] == '%') {
        end -= 2;
      }
    }
    if (n > 0) out += ";\r\n ";
    out += "filename*" + std::to_string(n) + "*=" + encoded.substr(i, end - i);
    i = end;
  }
  return out;
}

// "Mon, 03 Mar 2025 10:00:00 +0000" (RFC 5322 3.3), in UTC.
std::string DateValue(Timestamp now) {
  namespace chrono = std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = chrono::floor<chrono::days>(now);
  chrono::year_month_day ymd{day};
  chrono::hh_mm_ss<chrono::seconds> time{chrono::floor<chrono::seconds>(now - day)};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[chrono::weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

// ---------------------------------------------------------------------------------------------
// Input checks

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

Status CheckHeaderText(std::string_view value, const std::string& field) {
  if (HasLineBreakOrNul(value)) {
    return Error::Invalid(field + " must not contain CR, LF or NUL", field);
  }
  if (!IsValidUtf8(value)) return Error::Invalid(field + " is not valid UTF-8", field);
  return {};
}

// A bare address, local@domain, in plain ASCII. Quoted local parts, comments, address literals
// and internationalised addresses are refused: the mailer does not negotiate SMTPUTF8.
Status CheckAddress(std::string_view address, const std::string& field) {
  if (HasLineBreakOrNul(address)) {
    return Error::Invalid(field + " must not contain CR, LF or NUL", field);
  }
  auto invalid = [&] {
    return Error::Invalid(field + " is not an e-mail address (local@domain)", field);
  };
  size_t at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= address.size() ||
      address.find('@', at + 1) != std::string_view::npos || address.size() > 254) {
    return invalid();
  }
  static constexpr std::string_view kLocalPunct = "!#$%&'*+-/=?^_`{|}~.";
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return invalid();
  }
  for (char ch : local) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || (std::isalnum(c) == 0 && kLocalPunct.find(ch) == std::string_view::npos)) {
      return invalid();
    }
  }
  size_t label = 0;
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (label == 0 || label > 63) return invalid();
      if (domain[i - 1] == '-' || domain[i - label] == '-') return invalid();
      label = 0;
      continue;
    }
    auto c = static_cast<unsigned char>(domain[i]);
    if (c >= 0x80 || (std::isalnum(c) == 0 && c != '-')) return invalid();
    ++label;
  }
  return {};
}

// "<left@right>" in printable ASCII without spaces or further angle brackets.
Status CheckMessageId(std::string_view id) {
  if (HasLineBreakOrNul(id)) {
    return Error::Invalid("message_id must not contain CR, LF or NUL", "message_id");
  }
  bool ok = id.size() >= 5 && id.size() <= 250 && id.front() == '<' && id.back() == '>';
  if (ok) {
    std::string_view inner = id.substr(1, id.size() - 2);
    size_t at = inner.find('@');
    ok = at != std::string_view::npos && at > 0 && at + 1 < inner.size() &&
         std::all_of(inner.begin(), inner.end(),
                     [](char c) { return c > 0x20 && c < 0x7F && c != '<' && c != '>'; });
  }
  if (!ok) return Error::Invalid("message_id must look like <id@host>", "message_id");
  return {};
}

// type/subtype with optional parameters, printable ASCII; "" means application/octet-stream.
Status CheckContentType(std::string_view type, const std::string& field) {
  if (HasLineBreakOrNul(type)) {
    return Error::Invalid(field + " must not contain CR, LF or NUL", field);
  }
  if (type.empty()) return {};
  size_t slash = type.find('/');
  if (!IsPrintableAscii(type) || slash == std::string_view::npos || slash == 0 ||
      slash + 1 >= type.size()) {
    return Error::Invalid(field + " must look like type/subtype", field);
  }
  return {};
}

Status CheckMessage(const ports::MailMessage& m) {
  if (Status s = CheckAddress(m.from, "from"); !s) return s;
  if (m.to.empty()) return Error::Invalid("a message needs at least one recipient", "to");
  for (const std::string& to : m.to) {
    if (Status s = CheckAddress(to, "to"); !s) return s;
  }
  if (Status s = CheckHeaderText(m.from_name, "from_name"); !s) return s;
  if (Status s = CheckHeaderText(m.subject, "subject"); !s) return s;
  if (!IsValidUtf8(m.text)) return Error::Invalid("text is not valid UTF-8", "text");
  if (Status s = CheckMessageId(m.message_id); !s) return s;
  for (size_t i = 0; i < m.attachments.size(); ++i) {
    const ports::MailAttachment& a = m.attachments[i];
    std::string prefix = "attachments[" + std::to_string(i) + "].";
    if (a.filename.empty()) {
      return Error::Invalid(prefix + "filename must not be empty", prefix + "filename");
    }
    if (Status s = CheckHeaderText(a.filename, prefix + "filename"); !s) return s;
    if (Status s = CheckContentType(a.content_type, prefix + "content_type"); !s) return s;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// libcurl

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

struct Upload {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// The scheme and host of `url` as libcurl parses them; false if it does not parse.
bool ParseUrl(const std::string& url, std::string* scheme, std::string* host) {
  std::unique_ptr<CURLU, CurlDeleter> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return false;
  }
  char* part = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &part, 0) != CURLUE_OK) return false;
  *scheme = part;
  curl_free(part);
  if (curl_url_get(handle.get(), CURLUPART_HOST, &part, 0) != CURLUE_OK) return false;
  *host = part;
  curl_free(part);
  return true;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

Status TransferError(CURLcode code, long reply, const char* detail) {
  if (reply >= 500 && reply < 600) {
    return Error{ErrorCode::kFailedPrecondition,
                 "smtp: the relay refused the message with reply " + std::to_string(reply), "",
                 "smtp_rejected"};
  }
  if (reply >= 400 && reply < 500) {
    return Error::Unavailable("smtp: the relay answered " + std::to_string(reply) +
                              " (temporary failure)");
  }
  // Everything else is on the way to the relay: it could not be reached, timed out, dropped the
  // connection, spoke no SMTP or failed TLS. All of these may pass, so the message is kept.
  std::string text = detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(code);
  return Error::Unavailable("smtp: " + text);
}

}  // namespace

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::Create(SmtpMailerOptions options) {
  if (GlobalInit() != CURLE_OK) return Error::Unavailable("smtp: libcurl could not be initialised");
  std::string scheme, host;
  if (!ParseUrl(options.url, &scheme, &host) || (scheme != "smtp" && scheme != "smtps")) {
    return Error::Invalid("smtp url must be smtp://host:port or smtps://host:port", "url");
  }
  if (options.timeout_ms <= 0) return Error::Invalid("timeout_ms must be positive", "timeout_ms");
  if (!options.username.empty() && scheme == "smtp" && !options.require_tls &&
      !IsLoopbackHost(host)) {
    return Error::Invalid("smtp credentials need smtps:// or require_tls for a remote relay",
                          "require_tls");
  }
  return std::unique_ptr<SmtpMailer>(new SmtpMailer(std::move(options)));
}

SmtpMailer::SmtpMailer(SmtpMailerOptions options) : options_(std::move(options)) {}

Result<std::string> SmtpMailer::Compose(const ports::MailMessage& m, Timestamp now) {
  if (Status s = CheckMessage(m); !s) return s.error();

  std::string out;
  out += "Date: " + DateValue(now) + "\r\n";
  if (m.from_name.empty()) {
    out += "From: " + m.from + "\r\n";
  } else {
    std::string line = "From: " + DisplayName(m.from_name);
    size_t last_line = line.rfind('\n');
    size_t last_length = line.size() - (last_line == std::string::npos ? 0 : last_line + 1);
    line += last_length + m.from.size() + 3 > 78 ? "\r\n <" : " <";
    out += line + m.from + ">\r\n";
  }
  std::string to_line = "To: ";
  for (size_t i = 0; i < m.to.size(); ++i) {
    std::string piece = m.to[i] + (i + 1 < m.to.size() ? "," : "");
    if (i > 0 && to_line.size() + 1 + piece.size() > 78) {
      out += to_line + "\r\n";
      to_line = " " + piece;
    } else {
      to_line += (i > 0 ? " " : "") + piece;
    }
  }
  out += to_line + "\r\n";
  out += "Subject: " + SubjectValue(m.subject) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";

  const std::string text_headers =
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n";
  std::string text = Base64Lines(CanonicalLineBreaks(m.text));
  if (m.attachments.empty()) {
    out += text_headers + "\r\n" + text;
    return out;
  }

  std::string delimiter = "--" + std::string(kBoundary) + "\r\n";
  out += "Content-Type: multipart/mixed; boundary=\"" + std::string(kBoundary) + "\"\r\n\r\n";
  out += delimiter + text_headers + "\r\n" + text;
  for (const ports::MailAttachment& a : m.attachments) {
    out += delimiter;
    out += "Content-Type: " +
           (a.content_type.empty() ? std::string("application/octet-stream") : a.content_type) +
           "\r\n";
    out += "Content-Disposition: attachment;\r\n " + FilenameParameter(a.filename) + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += Base64Lines(a.data);
  }
  out += "--" + std::string(kBoundary) + "--\r\n";
  return out;
}

Status SmtpMailer::Send(const ports::MailMessage& message) {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : system_clock_;
  Result<std::string> composed = Compose(message, clock.Now());
  if (!composed) return composed.error();

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error::Unavailable("smtp: libcurl could not create a handle");
  std::unique_ptr<curl_slist, CurlDeleter> recipients;
  for (const std::string& to : message.to) {
    // Appending keeps the head of a non-empty list; only the first append creates it.
    curl_slist* head = curl_slist_append(recipients.get(), ("<" + to + ">").c_str());
    if (head == nullptr) return Error::Unavailable("smtp: out of memory");
    if (!recipients) recipients.reset(head);
  }

  std::string scheme, host;
  (void)ParseUrl(options_.url, &scheme, &host);  // validated by Create()
  long use_ssl = CURLUSESSL_TRY;
  if (options_.require_tls) {
    use_ssl = CURLUSESSL_ALL;
  } else if (scheme == "smtp" && IsLoopbackHost(host)) {
    use_ssl = CURLUSESSL_NONE;
  }

  Upload upload{*composed, 0};
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string mail_from = "<" + message.from + ">";
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
  // A proxy from the environment (all_proxy, ...) applies, except to this host itself.
  if (IsLoopbackHost(host)) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  if (!options_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(composed->size()));

  CURLcode code = curl_easy_perform(h);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  if (code == CURLE_OK) return {};
  return TransferError(code, reply, error_buffer);
}

}  // namespace dovira::mail
