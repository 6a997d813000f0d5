// Black-box tests of the `dovira` command line: the real binary, its output and exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "process.h"

namespace dovira::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ShippedPolicies() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(std::string(DOVIRA_SOURCE_DIR) + "/policies")) {
    if (e.path().extension() == ".toml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Policy(const std::string& prefix) {
  for (const auto& p : ShippedPolicies()) {
    if (fs::path(p).filename().string().rfind(prefix, 0) == 0) return p;
  }
  ADD_FAILURE() << "no shipped policy starting with " << prefix;
  return {};
}

int LineOf(const std::string& text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

// ---- dovira policy check ----

TEST(PolicyCheckCommand, AllFiveShippedPoliciesPassWithoutErrors) {
  auto files = ShippedPolicies();
  ASSERT_EQ(files.size(), 5u);
  for (const auto& f : files) {
    auto r = RunDovira({"policy", "check", f});
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.out << r.err;
    EXPECT_EQ(r.out.find(": E-"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find(" 0 errors"), std::string::npos) << r.err;
  }
}

TEST(PolicyCheckCommand, PrintsFindingsAsFileLineColumnCodeMessage) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/bad.toml";
  WriteFile(path, "format = 1\n[school]\nid = \"x\"\nnam = \"X\"\n");
  auto r = RunDovira({"policy", "check", path});
  EXPECT_EQ(r.exit_code, 1);
  std::regex line_re("^" + path + ":[0-9]+:[0-9]+: [EWI]-[A-Z0-9-]+ .+$");
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    EXPECT_TRUE(std::regex_match(line, line_re)) << line;
  }
  EXPECT_GT(n, 0);
  EXPECT_NE(r.out.find(path + ":4:1: E-KEY-UNKNOWN unknown key `school.nam`; did you mean `name`?"),
            std::string::npos)
      << r.out;
}

// A broken copy of each shipped policy is refused, and the finding points at the broken line.
struct Mutation {
  const char* name;
  const char* code;
  // Returns the mutated text and the expected line, or an empty text if the policy has no place
  // for this mutation.
  std::pair<std::string, int> (*apply)(const std::string&);
};

std::pair<std::string, int> DeleteLawfulBasis(const std::string& text) {
  std::smatch m;
  std::regex re(R"((^|\n)(\[purposes\.[a-z0-9_-]+\])\n)");
  if (!std::regex_search(text, m, re)) return {};
  size_t header = static_cast<size_t>(m.position(2));
  size_t basis = text.find("\nbasis = ", header);
  if (basis == std::string::npos) return {};
  std::string out = text;
  size_t end = out.find('\n', basis + 1);
  out.erase(basis, end - basis);
  return {out, LineOf(text, header)};
}

std::pair<std::string, int> MisspellKey(const std::string& text) {
  size_t at = text.find("\nbasis = ");
  if (at == std::string::npos) return {};
  std::string out = text;
  out.replace(at + 1, 5, "basys");
  return {out, LineOf(text, at + 1)};
}

std::pair<std::string, int> UnknownFieldInPurpose(const std::string& text) {
  size_t header = text.find("\n[purposes.");
  if (header == std::string::npos) return {};
  size_t fields = text.find("\nfields = [", header);
  if (fields == std::string::npos) return {};
  std::string out = text;
  out.insert(fields + 11, "\"no_such_field\", ");
  return {out, LineOf(text, header + 1)};
}

std::pair<std::string, int> NonNumberTerm(const std::string& text) {
  std::smatch m;
  std::regex re(R"(\nterm = "([0-9]+) )");
  if (!std::regex_search(text, m, re)) return {};
  std::string out = text;
  out.replace(static_cast<size_t>(m.position(1)), static_cast<size_t>(m.length(1)), "thirty");
  return {out, LineOf(text, static_cast<size_t>(m.position(0)) + 1)};
}

TEST(PolicyCheckCommand, BrokenCopiesOfEveryShippedPolicyAreRefusedWithTheirLine) {
  const Mutation mutations[] = {
      {"deleted lawful basis", "E-BASIS-MISSING", DeleteLawfulBasis},
      {"misspelt key", "E-KEY-UNKNOWN", MisspellKey},
      {"purpose naming an unknown field", "E-REF-FIELD", UnknownFieldInPurpose},
      {"non-number term", "E-TERM", NonNumberTerm},
  };
  std::string dir = MakeTempDir();
  for (const auto& file : ShippedPolicies()) {
    std::string text = Slurp(file);
    for (const auto& m : mutations) {
      auto [broken, line] = m.apply(text);
      ASSERT_FALSE(broken.empty()) << m.name << " cannot be applied to " << file;
      std::string path = dir + "/" + fs::path(file).filename().string();
      WriteFile(path, broken);
      auto r = RunDovira({"policy", "check", path});
      EXPECT_EQ(r.exit_code, 1) << m.name << " in " << file;
      std::string expected = path + ":" + std::to_string(line) + ":";
      bool found = false;
      std::istringstream lines(r.out);
      std::string l;
      while (std::getline(lines, l)) {
        if (l.rfind(expected, 0) == 0 && l.find(std::string(" ") + m.code + " ") != std::string::npos) {
          found = true;
        }
      }
      EXPECT_TRUE(found) << m.name << " in " << file << ": expected " << m.code << " at line "
                         << line << "\n"
                         << r.out;
    }
  }
}

TEST(PolicyCheckCommand, MissingFileIsAUsageError) {
  auto r = RunDovira({"policy", "check", "/nonexistent.toml"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(PolicyCheckCommand, BinaryGarbageIsRefusedNotCrashed) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/garbage.toml";
  WriteFile(path, std::string("\x00\xff\xfe[[[\"\n\x01", 9));
  auto r = RunDovira({"policy", "check", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("E-SYNTAX"), std::string::npos) << r.out;
}

// ---- dovira deadline (R65-R67) ----

struct DeadlineCase {
  std::vector<std::string> args;
  const char* due;
};

TEST(DeadlineCommand, ComputesTheRequirementsExamples) {  // R65, Part 0 table
  const DeadlineCase cases[] = {
      {{"--from", "2025-03-03", "--term", "3 working days"}, "2025-03-06"},
      {{"--from", "2025-03-03", "--term", "5 calendar days"}, "2025-03-08"},
      {{"--from", "2025-03-03", "--term", "5 calendar days", "--roll-forward"}, "2025-03-10"},
      {{"--from", "2025-03-03", "--term", "7 working days"}, "2025-03-12"},
      {{"--from", "2025-03-03", "--term", "7 working days", "--holiday", "2025-03-05"}, "2025-03-13"},
      {{"--from", "2025-03-03", "--term", "7 working days", "--holiday", "2025-03-05",
        "--holidays-are-working-days"},
       "2025-03-12"},
      {{"--from", "2025-03-03", "--term", "10 working days"}, "2025-03-17"},
      {{"--from", "2025-03-03", "--term", "30 calendar days"}, "2025-04-02"},
      {{"--from", "2025-03-03", "--term", "30 working days"}, "2025-04-14"},
      {{"--from", "2025-03-03", "--term", "30 working days", "--holiday", "2025-03-10"}, "2025-04-15"},
      {{"--from", "2025-01-31", "--term", "1 calendar month"}, "2025-02-28"},
      {{"--from", "2024-01-31", "--term", "1 calendar month"}, "2024-02-29"},
      {{"--from", "2025-03-03", "--term", "3 calendar months"}, "2025-06-03"},
      {{"--from", "2025-12-31", "--term", "1 working day", "--holiday", "2026-01-01"}, "2026-01-02"},
      {{"--from", "2025-03-29T12:00", "--term", "24 hours", "--timezone", "Europe/Kyiv"},
       "2025-03-30T13:00:00+03:00"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"deadline"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = RunDovira(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string(c.due) + "\n") << c.args[3];
  }
}

TEST(DeadlineCommand, Policy001RectificationUnderBothHolidayModes) {  // R46, R65, R66
  std::string p = Policy("001");
  // Evidence supplied on Wed 2025-03-05: 7 working days.
  auto plain = RunDovira({"deadline", "--policy", p, "--from", "2025-03-05", "--right", "rectification"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  // 001 runs under martial-law rules: listed holidays are working days, so the 2025-03-08 holiday
  // (a Saturday anyway) changes nothing and the date is the plain count.
  EXPECT_EQ(plain.out, "2025-03-14\n");
  auto with_day_off = RunDovira({"deadline", "--policy", p, "--from", "2025-03-05", "--term",
                                 "7 working days", "--holiday", "2025-03-10"});
  EXPECT_EQ(with_day_off.exit_code, 0) << with_day_off.err;
  // --holiday adds a listed holiday; whether it is a day off follows the policy's mode.
  auto expected_mode = RunDovira({"deadline", "--from", "2025-03-05", "--term", "7 working days",
                                  "--holiday", "2025-03-10", "--holidays-are-working-days"});
  EXPECT_EQ(with_day_off.out, expected_mode.out);
  auto days_off = RunDovira({"deadline", "--from", "2025-03-05", "--term", "7 working days",
                             "--holiday", "2025-03-10", "--timezone", "Europe/Kyiv"});
  EXPECT_EQ(days_off.out, "2025-03-17\n");
}

TEST(DeadlineCommand, RefusesBadInputWithAClearMessage) {
  auto r = RunDovira({"deadline", "--from", "2025-02-30", "--term", "7 working days"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--from"), std::string::npos) << r.err;
  r = RunDovira({"deadline", "--from", "2025-03-03", "--term", "seven working days"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--term"), std::string::npos) << r.err;
  r = RunDovira({"deadline", "--from", "2025-03-03", "--term", "indefinite"});
  EXPECT_EQ(r.exit_code, 1);
  r = RunDovira({"deadline", "--from", "2025-03-03"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunDovira({"deadline", "--from", "2025-03-03", "--term", "1 day", "--timezone", "Mars/Base"});
  EXPECT_EQ(r.exit_code, 1);
}

// ---- dovira policy render (R01) ----

TEST(PolicyRenderCommand, RendersEveryPolicyInEveryLanguageAndFormat) {
  for (const auto& f : ShippedPolicies()) {
    for (const char* lang : {"uk", "ru", "en"}) {
      for (const char* fmt : {"html", "md"}) {
        auto r = RunDovira({"policy", "render", f, "--lang", lang, "--format", fmt});
        EXPECT_EQ(r.exit_code, 0) << f << " " << lang << " " << fmt << "\n" << r.err;
        EXPECT_GT(r.out.size(), 3000u) << f << " " << lang << " " << fmt;
        if (std::string(fmt) == "html") {
          EXPECT_NE(r.out.find(std::string("<html lang=\"") + lang + "\""), std::string::npos);
        }
      }
    }
  }
}

TEST(PolicyRenderCommand, RefusesAPolicyWithErrors) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/p.toml";
  WriteFile(path, "format = 1\n");
  auto r = RunDovira({"policy", "render", path, "--lang", "en"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("E-"), std::string::npos) << r.err;
}

// R01, issue 12: `policy render` prints the public notice unless asked for the data-protection
// officer's edition; only that edition shows the resolutions' codes.
TEST(PolicyRenderCommand, PublicByDefaultAndTheDpoEditionOnRequest) {
  auto pub = RunDovira({"policy", "render", Policy("001"), "--lang", "uk", "--format", "html"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_EQ(pub.out.find("W-001"), std::string::npos);
  EXPECT_NE(pub.out.find("Переважає російський текст політики."), std::string::npos);
  auto explicit_pub = RunDovira({"policy", "render", Policy("001"), "--lang", "uk", "--format",
                                 "html", "--audience", "public"});
  EXPECT_EQ(explicit_pub.out, pub.out);

  auto dpo = RunDovira({"policy", "render", Policy("001"), "--lang", "uk", "--format", "html",
                        "--audience", "dpo"});
  ASSERT_EQ(dpo.exit_code, 0) << dpo.err;
  EXPECT_NE(dpo.out.find("W-001-RETENTION"), std::string::npos);

  auto bad = RunDovira({"policy", "render", Policy("001"), "--audience", "everyone"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--audience"), std::string::npos) << bad.err;
}

TEST(PolicyRenderCommand, RefusesAnUnknownLanguage) {
  auto r = RunDovira({"policy", "render", Policy("001"), "--lang", "de"});
  EXPECT_EQ(r.exit_code, 2);
}

// ---- dovira audit verify: the chain's end is anchored in the key vault (B01) ----

// Runs the sqlite3 command-line shell on `db`; returns its exit code and output.
RunResult Sqlite(const std::string& db, const std::string& sql) {
  return RunProgram({"sqlite3", "-bail", db, sql});
}

// Every command opens the store and, on its way out, signs the chain head: three accounts make
// three entries (and more) under three signed checkpoints.
std::string DataWithThreeCheckpoints() {
  const std::string dir = MakeTempDir() + "/data";
  for (const char* who : {"one", "two", "three"}) {
    RunResult r = RunDovira({"admin", "create", "--data", dir, "--policy", Policy("001"),
                             "--email", std::string(who) + "@school.test", "--name",
                             std::string("Staff ") + who});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  return dir;
}

TEST(AuditVerifyCommand, B01_DeletingAuditRowsIsRefusedByTheDatabase) {
  const std::string dir = DataWithThreeCheckpoints();
  const std::string db = dir + "/store/data.db";
  RunResult entries = Sqlite(db, "DELETE FROM audit");
  EXPECT_NE(entries.exit_code, 0);
  EXPECT_NE(entries.err.find("the audit log is append-only"), std::string::npos) << entries.err;
  RunResult checkpoints = Sqlite(db, "DELETE FROM audit_checkpoints");
  EXPECT_NE(checkpoints.exit_code, 0);
  EXPECT_NE(checkpoints.err.find("audit checkpoints are append-only"), std::string::npos)
      << checkpoints.err;
  RunResult verify = RunDovira({"audit", "verify", "--data", dir});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.out.rfind("ok: ", 0), 0u) << verify.out;
  fs::remove_all(fs::path(dir).parent_path());
}

TEST(AuditVerifyCommand, B01_RemovingTheNewestEntriesWithTheNewestCheckpointIsDetected) {
  const std::string dir = DataWithThreeCheckpoints();
  const std::string db = dir + "/store/data.db";
  RunResult before = RunDovira({"audit", "verify", "--data", dir});
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;

  // What someone with the data file can do: drop the guards, cut the entries after the
  // second-newest checkpoint, and the newest checkpoint with them. The data alone look whole.
  const std::string school = "school_id = 'vkluchi_zhizn'";
  const std::string kept = "(SELECT seq FROM audit_checkpoints WHERE " + school +
                           " ORDER BY seq DESC LIMIT 1 OFFSET 1)";
  RunResult last = Sqlite(db, "SELECT " + kept);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  const int64_t remaining = std::stoll(last.out);
  RunResult cut = Sqlite(
      db, "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_checkpoints_no_delete;"
          " DELETE FROM audit WHERE " + school + " AND seq > " + kept + ";"
          " DELETE FROM audit_checkpoints WHERE " + school + " AND seq > " +
          std::to_string(remaining) + ";"
          " SELECT max(seq) FROM audit WHERE " + school + ";");
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  ASSERT_EQ(std::stoll(cut.out), remaining);

  RunResult after = RunDovira({"audit", "verify", "--data", dir});
  EXPECT_EQ(after.exit_code, 1) << after.out << after.err;
  EXPECT_EQ(after.out.rfind("BROKEN at entry " + std::to_string(remaining + 1) + ": ", 0), 0u)
      << after.out;
  EXPECT_NE(after.out.find("key vault"), std::string::npos) << after.out;
  // Opening the store says so too, and the command still runs.
  EXPECT_NE(after.err.find("error: the audit log of school vkluchi_zhizn is tail_missing"),
            std::string::npos)
      << after.err;
  fs::remove_all(fs::path(dir).parent_path());
}

}  // namespace
}  // namespace dovira::testing
