#include "adapters/mail/webhook_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace dovira::mail {
namespace {

// curl_global_init is not safe to race with itself; the first sender does it for the process.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

bool IsLoopbackHost(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

// RFC 9110 token characters.
bool IsToken(std::string_view name) {
  static constexpr std::string_view kPunct = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x80 && std::isalnum(c) != 0) || kPunct.find(ch) != std::string_view::npos;
  });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Parses and checks the URL; on success `url` is the handle libcurl will use, so what was checked
// is what is connected to, and `loopback` tells whether it names the loopback interface.
Status CheckUrl(const std::string& text, bool allow_plain_http_loopback, CURLU* url,
                bool* loopback) {
  const Error must_be_https = Error::Invalid("webhook url must be https", "url");
  if (text.find_first_of(std::string_view("\r\n\0 \t", 5)) != std::string::npos ||
      curl_url_set(url, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return Error::Invalid("webhook url does not parse", "url");
  }
  char* part = nullptr;
  if (curl_url_get(url, CURLUPART_SCHEME, &part, 0) != CURLUE_OK) return must_be_https;
  std::string scheme = part;
  curl_free(part);
  if (curl_url_get(url, CURLUPART_HOST, &part, 0) != CURLUE_OK) {
    return Error::Invalid("webhook url has no host", "url");
  }
  std::string host = part;
  curl_free(part);
  *loopback = IsLoopbackHost(host);
  if (scheme == "https") return {};
  if (scheme == "http" && allow_plain_http_loopback && *loopback) return {};
  return must_be_https;
}

Error TransferError(CURLcode code, const char* detail) {
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error::Invalid("webhook url is not usable", "url");
    default:
      break;
  }
  // Everything else is on the way to the recipient: it could not be resolved or reached, timed
  // out, dropped the connection or failed TLS. All of these may pass, so the call is kept.
  std::string text = detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(code);
  return Error::Unavailable("webhook: " + text);
}

}  // namespace

Result<std::unique_ptr<CurlWebhookSender>> CurlWebhookSender::Create(WebhookSenderOptions options) {
  if (GlobalInit() != CURLE_OK) {
    return Error::Unavailable("webhook: libcurl could not be initialised");
  }
  if (options.timeout_ms <= 0) return Error::Invalid("timeout_ms must be positive", "timeout_ms");
  return std::unique_ptr<CurlWebhookSender>(new CurlWebhookSender(options));
}

Result<int> CurlWebhookSender::Post(const ports::WebhookCall& call) {
  std::unique_ptr<CURLU, CurlDeleter> url(curl_url());
  if (!url) return Error::Unavailable("webhook: out of memory");
  bool loopback = false;
  if (Status s = CheckUrl(call.url, options_.allow_plain_http_loopback, url.get(), &loopback); !s) {
    return s.error();
  }

  bool has_content_type = false;
  std::unique_ptr<curl_slist, CurlDeleter> headers;
  auto add = [&headers](const std::string& line) {
    // Appending keeps the head of a non-empty list; only the first append creates it.
    curl_slist* head = curl_slist_append(headers.get(), line.c_str());
    if (head == nullptr) return false;
    if (!headers) headers.reset(head);
    return true;
  };
  for (const auto& [name, value] : call.headers) {
    if (!IsToken(name)) return Error::Invalid("webhook header name is not a token", "headers");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return Error::Invalid("webhook header " + name + " must not contain CR, LF or NUL",
                            "headers");
    }
    if (EqualsIgnoreCase(name, "content-type")) has_content_type = true;
    // "Name;" is libcurl's way of sending a header with an empty value.
    std::string line = name;
    line += value.empty() ? ";" : ": ";
    line += value;
    if (!add(line)) {
      return Error::Unavailable("webhook: out of memory");
    }
  }
  // No "Expect: 100-continue" round trip: the body is small and the recipient answers anyway.
  if ((!has_content_type && !add("Content-Type: application/json")) || !add("Expect:")) {
    return Error::Unavailable("webhook: out of memory");
  }

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Error::Unavailable("webhook: libcurl could not create a handle");
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_CURLU, url.get());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // A proxy from the environment (https_proxy, ...) applies, except to this host itself.
  if (loopback) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &DiscardBody);

  CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) return TransferError(code, error_buffer);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return static_cast<int>(status);
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    return Error::Unavailable("webhook: the recipient answered " + std::to_string(status) +
                              " (temporary failure)");
  }
  return Error{ErrorCode::kFailedPrecondition,
               "webhook: the recipient refused the call with status " + std::to_string(status), "",
               "webhook_rejected"};
}

}  // namespace dovira::mail
