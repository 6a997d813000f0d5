#include "api/static_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace dovira::api {
namespace {

namespace fs = std::filesystem;

std::string Header(const ports::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "dovira_static_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base = pattern;
    root = base / "dist";
    fs::create_directories(root / "assets");
    fs::create_directories(root / "docs");
    fs::create_directories(root / ".hidden");
    Write(root / "index.html", "<!doctype html><title>home</title>");
    Write(root / "notice.html", "<!doctype html><title>notice</title>");
    Write(root / "banner.js", "console.log(1)");
    Write(root / "assets" / "app-1a2b.css", "body{}");
    Write(root / "docs" / "index.html", "docs");
    Write(root / ".env", "SECRET=1");
    Write(root / ".hidden" / "x.html", "hidden");
    Write(base / "outside.txt", "outside the root");
    fs::create_symlink(base / "outside.txt", root / "escape.txt");
    fs::create_symlink(base, root / "up");
    fs::create_symlink(root / "banner.js", root / "inside.js");
  }
  void TearDown() override { fs::remove_all(base); }

  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  std::optional<ports::HttpResponse> Get(const std::string& path, const std::string& method = "GET",
                                         const std::string& if_none_match = "") {
    ports::HttpRequest req;
    req.method = method;
    req.path = path;
    if (!if_none_match.empty()) req.headers["if-none-match"] = if_none_match;
    return StaticFiles(root.string()).Serve(req);
  }

  fs::path base, root;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirContentTypes) {
  auto page = Get("/notice.html");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<!doctype html><title>notice</title>");
  EXPECT_EQ(Header(*page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(Header(*page, "Content-Security-Policy").empty());
  EXPECT_EQ(Header(*page, "Cache-Control"), "no-cache");
  auto script = Get("/banner.js");
  ASSERT_TRUE(script.has_value());
  EXPECT_EQ(Header(*script, "Content-Type"), "text/javascript; charset=utf-8");
  auto css = Get("/assets/app-1a2b.css");
  ASSERT_TRUE(css.has_value());
  EXPECT_EQ(Header(*css, "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(Header(*css, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(ContentTypeFor("a/b.PNG"), "image/png");
  EXPECT_EQ(ContentTypeFor("a/b.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a/b.unknown"), "application/octet-stream");
}

TEST_F(StaticFilesTest, DirectoriesAnswerWithTheirIndex) {
  auto home = Get("/");
  ASSERT_TRUE(home.has_value());
  EXPECT_EQ(home->body, "<!doctype html><title>home</title>");
  auto docs = Get("/docs/");
  ASSERT_TRUE(docs.has_value());
  EXPECT_EQ(docs->body, "docs");
  auto docs_no_slash = Get("/docs");
  ASSERT_TRUE(docs_no_slash.has_value());
  EXPECT_EQ(docs_no_slash->body, "docs");
}

TEST_F(StaticFilesTest, PathTraversalDotFilesAndSymlinkEscapesAreRefused) {
  for (const char* path :
       {"/../outside.txt", "/docs/../../outside.txt", "/..", "/./index.html", "/.env",
        "/.hidden/x.html", "/escape.txt", "/up/outside.txt", "/docs//index.html",
        "/docs\\..\\index.html", "relative.html", "/missing.html"}) {
    EXPECT_FALSE(Get(path).has_value()) << path;
  }
  // A link that stays inside the root is a file like any other.
  EXPECT_TRUE(Get("/inside.js").has_value());
}

TEST_F(StaticFilesTest, OnlyGetAndHeadOutsideTheApi) {
  EXPECT_FALSE(Get("/index.html", "POST").has_value());
  EXPECT_FALSE(Get("/index.html", "DELETE").has_value());
  auto head = Get("/index.html", "HEAD");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  fs::create_directories(root / "v1");
  Write(root / "v1" / "x.json", "{}");
  EXPECT_FALSE(Get("/v1/x.json").has_value());
  ports::HttpRequest req;
  req.method = "GET";
  req.path = "/index.html";
  EXPECT_FALSE(StaticFiles("").Serve(req).has_value());
  EXPECT_FALSE(StaticFiles((base / "no-such-dir").string()).Serve(req).has_value());
}

TEST_F(StaticFilesTest, ETagAnswersNotModified) {
  auto first = Get("/banner.js");
  ASSERT_TRUE(first.has_value());
  const std::string etag = Header(*first, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_FALSE(Header(*first, "Last-Modified").empty());
  auto again = Get("/banner.js", "GET", etag);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = Get("/banner.js", "GET", "\"something-else\"");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 200);
}

}  // namespace
}  // namespace dovira::api
