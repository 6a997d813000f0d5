// The web pages and scripts under `dovira serve --web-root DIR` (web/dist): GET and HEAD of paths
// outside /v1 that no route answers. Paths are resolved safely: no "..", no dot-files, nothing
// outside the root through a symbolic link, regular files only; a directory answers with its
// index.html. Responses carry the Content-Type of the file's extension, a strong ETag (answered
// with 304 on If-None-Match), Last-Modified and a Cache-Control that lets hashed build assets be
// cached for good while pages and embeddable scripts are revalidated.
//
// Thread-safety: immutable after construction; Serve() is reentrant.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ports/http.h"

namespace dovira::api {

class StaticFiles {
 public:
  // `root` "" disables static files. A root that does not exist serves nothing (every lookup
  // misses) rather than failing the server: the API works without the web build.
  explicit StaticFiles(const std::string& root);

  bool enabled() const { return !root_.empty(); }

  // The file's response, or nullopt when the request is not for a static file (not GET/HEAD, a
  // /v1 path, static files disabled) or no file may be served for it (missing, refused path).
  // The caller then answers with its own 404/405.
  std::optional<ports::HttpResponse> Serve(const ports::HttpRequest& request) const;

  // The file under the root that `url_path` names, or nullopt when it is refused or missing.
  // Exposed for tests.
  std::optional<std::filesystem::path> Resolve(std::string_view url_path) const;

 private:
  std::filesystem::path root_;  // canonical
};

// The security headers of everything the server sends as a file or a page, from this one place
// (the web build's files here, the notice at /policy in api.cc): X-Content-Type-Options on all,
// and for an HTML page a Content-Security-Policy (only the server's own scripts and styles, no
// framing, no plugins) and Referrer-Policy.
void AddSecurityHeaders(ports::HttpResponse& response, bool html_page);

// "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... by extension;
// "application/octet-stream" when unknown.
std::string ContentTypeFor(const std::filesystem::path& file);

}  // namespace dovira::api
