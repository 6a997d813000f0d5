#include "api/static_files.h"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

#include "api/http_util.h"

namespace dovira::api {

namespace fs = std::filesystem;

namespace {

// Larger files are not part of a web build; refusing them keeps a worker from reading a mistake.
constexpr uintmax_t kMaxFileBytes = 16u << 20;

bool IsHashedAsset(std::string_view url_path) { return url_path.rfind("/assets/", 0) == 0; }

std::string HttpDate(time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 64> buf{};
  size_t n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf.data(), n);
}

// Every segment must be a plain name: no "", ".", "..", no leading dot (dot-files and
// directories such as .git), no backslash or NUL.
bool SafeSegments(std::string_view path, fs::path* relative) {
  size_t i = 1;  // after the leading '/'
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(i, end - i);
    const bool last = end == path.size();
    if (seg.empty()) {
      if (!last) return false;  // "//" inside the path
    } else {
      if (seg.front() == '.') return false;
      if (seg.find('\\') != std::string_view::npos || seg.find('\0') != std::string_view::npos) {
        return false;
      }
      *relative /= std::string(seg);
    }
    i = end + 1;
  }
  return true;
}

// True when `p` is `root` or lies below it (component-wise, not by string prefix).
bool Within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

}  // namespace

void AddSecurityHeaders(ports::HttpResponse& response, bool html_page) {
  response.Header("X-Content-Type-Options", "nosniff");
  if (html_page) {
    // Pages load only their own scripts and styles and talk only to this server.
    response.Header("Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                    "script-src 'self'; object-src 'none'; base-uri 'none'; "
                    "frame-ancestors 'none'; form-action 'self'");
    response.Header("Referrer-Policy", "no-referrer");
  }
}

std::string ContentTypeFor(const fs::path& file) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".webmanifest", "application/manifest+json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
  };
  std::string ext = file.extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(const std::string& root) {
  if (root.empty()) return;
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(root, ec), ec);
  root_ = ec ? fs::absolute(root) : canonical;
}

std::optional<fs::path> StaticFiles::Resolve(std::string_view url_path) const {
  if (root_.empty() || url_path.empty() || url_path.front() != '/') return std::nullopt;
  fs::path relative;
  if (!SafeSegments(url_path, &relative)) return std::nullopt;
  std::error_code ec;
  fs::path candidate = root_ / relative;
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  // canonical() follows every symbolic link, so a link that leads out of the root is caught here.
  fs::path real = fs::canonical(candidate, ec);
  if (ec || !Within(root_, real)) return std::nullopt;
  if (!fs::is_regular_file(real, ec) || ec) return std::nullopt;
  return real;
}

std::optional<ports::HttpResponse> StaticFiles::Serve(const ports::HttpRequest& req) const {
  if (root_.empty() || (req.method != "GET" && req.method != "HEAD")) return std::nullopt;
  if (req.path == "/v1" || req.path.rfind("/v1/", 0) == 0) return std::nullopt;
  std::optional<fs::path> file = Resolve(req.path);
  if (!file) return std::nullopt;

  struct stat st {};
  if (::stat(file->c_str(), &st) != 0 || static_cast<uintmax_t>(st.st_size) > kMaxFileBytes) {
    return std::nullopt;
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::array<char, 64> tag{};
  std::snprintf(tag.data(), tag.size(), "\"%llx-%llx\"",
                static_cast<unsigned long long>(st.st_size),
                static_cast<unsigned long long>(mtime_ns));
  const std::string etag = tag.data();

  ports::HttpResponse r;
  r.Header("ETag", etag);
  r.Header("Last-Modified", HttpDate(st.st_mtim.tv_sec));
  r.Header("Cache-Control", IsHashedAsset(req.path)        ? "public, max-age=31536000, immutable"
                            : file->extension() == ".html" ? "no-cache"
                                                           : "public, max-age=300");
  AddSecurityHeaders(r, file->extension() == ".html");
  const std::string type = ContentTypeFor(*file);
  const std::string& if_none_match = req.Header("if-none-match");
  if (!if_none_match.empty() &&
      (if_none_match == "*" || if_none_match.find(etag) != std::string::npos)) {
    r.status = 304;
    return r;
  }
  std::ifstream in(*file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  r.Header("Content-Type", type);
  r.body = std::move(body).str();
  return r;
}

}  // namespace dovira::api
