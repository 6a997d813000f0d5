// Fuzz target: the request headers and query the API reads itself, after the HTTP adapter. The
// input is split at '\n' into the method, path, query and the headers Cookie, X-CSRF-Token,
// Accept-Language, Origin, Access-Control-Request-Method, If-None-Match and a cookie or query
// name; each goes through its parser: CookieValue, QueryParam, CheckCsrf, PreferredLang, the CORS
// rules and the static files' path resolution. Nothing may crash, and what they answer must keep
// their contracts (a language of the three, a resolved file inside the root, ...).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/cors.h"
#include "api/http_util.h"
#include "api/static_files.h"

namespace {

namespace fs = std::filesystem;
using namespace dovira;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "contract broken: %s\n", what);
    std::abort();
  }
}

// A web root with a page, a hidden file and a folder with its index, made once.
struct WebRoot {
  fs::path root;
  api::StaticFiles files;
};

fs::path MakeRoot() {
  char templ[] = "/tmp/dovira-headers-fuzz-XXXXXX";
  const char* dir = ::mkdtemp(templ);
  Check(dir != nullptr, "mkdtemp");
  fs::path r = fs::canonical(dir);
  fs::create_directories(r / "docs");
  std::ofstream(r / "index.html") << "<!doctype html>";
  std::ofstream(r / "docs" / "index.html") << "<!doctype html>";
  std::ofstream(r / ".secret") << "no";
  return r;
}

const WebRoot& Web() {
  static const WebRoot* web = [] {
    fs::path root = MakeRoot();
    auto* w = new WebRoot{root, api::StaticFiles(root.string())};
    std::atexit([] { fs::remove_all(Web().root); });
    return w;
  }();
  return *web;
}

std::vector<std::string> SplitLines(std::string_view text, size_t n) {
  std::vector<std::string> out(n);
  for (size_t i = 0; i < n && !text.empty(); ++i) {
    size_t eol = text.find('\n');
    out[i] = std::string(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = SplitLines(std::string_view(reinterpret_cast<const char*>(data), size), 10);
  ports::HttpRequest req;
  req.method = parts[0];
  req.path = parts[1];
  req.query = parts[2];
  req.headers["cookie"] = parts[3];
  req.headers["x-csrf-token"] = parts[4];
  req.headers["accept-language"] = parts[5];
  req.headers["origin"] = parts[6];
  req.headers["access-control-request-method"] = parts[7];
  req.headers["if-none-match"] = parts[8];
  const std::string& name = parts[9];

  for (const std::string& cookie : {std::string("dovira_session"), std::string("dovira_me"), name}) {
    std::string value = api::CookieValue(req.Header("cookie"), cookie);
    Check(value.size() <= req.Header("cookie").size(), "a cookie value is a part of the header");
    Status csrf = api::CheckCsrf(req, value);
    if (!api::IsUnsafe(req.method)) Check(csrf.ok(), "safe methods need no CSRF token");
    if (csrf.ok() && api::IsUnsafe(req.method)) {
      Check(!value.empty() && value == req.Header("x-csrf-token"), "CSRF passes on a match only");
    }
  }
  for (const std::string& param : {std::string("lang"), std::string("school"), name}) {
    (void)api::QueryParam(req.query, param);
  }
  const std::string lang = api::PreferredLang(req);
  Check(lang == "uk" || lang == "ru" || lang == "en", "a language of the three");

  if (auto preflight = api::CorsPreflight(req)) {
    Check(preflight->status >= 200 && preflight->status < 600, "a preflight status");
  }
  ports::HttpResponse response;
  api::AddCorsHeaders(req, response);
  (void)api::CrossOriginMethod(req.path);

  const WebRoot& web = Web();
  if (auto file = web.files.Resolve(req.path)) {
    const fs::path resolved = fs::canonical(*file);
    Check(resolved.string().rfind(web.root.string() + "/", 0) == 0, "a file inside the root");
    Check(resolved.filename().string()[0] != '.', "no dot-files");
  }
  req.method = "GET";
  if (auto served = web.files.Serve(req)) {
    Check(served->status == 200 || served->status == 304, "a file is 200 or 304");
  }
  return 0;
}
