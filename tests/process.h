// Runs the real `dovira` binary for black-box tests and captures its exit code and output.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace dovira::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh private directory under the system temp dir, removed by the caller if it wishes.
inline std::string MakeTempDir() {
  std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                     "/dovira-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* dir = mkdtemp(buf.data());
  return dir ? std::string(dir) : std::string();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Runs any program (looked up in PATH) with `args` (args[0] is the program); stdout and stderr go
// to files so neither pipe can fill and block.
inline RunResult RunProgram(const std::vector<std::string>& args) {
  const std::string dir = MakeTempDir();
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  RunResult r;
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&fa);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return r;
}

// The ctest run's PostgreSQL test cluster (DOVIRA_TEST_PG, set for the `pg.` copies of the
// black-box tests), or "" when the tests keep their data in SQLite.
inline std::string PgTestCluster() {
  const char* cluster = std::getenv("DOVIRA_TEST_PG");
  return cluster != nullptr ? cluster : "";
}

// A libpq connection string for database `db` of that cluster.
inline std::string ClusterConninfo(const std::string& db) {
  return "host=" + PgTestCluster() + " port=5432 user=postgres dbname=" + db;
}

// The schema a deployment whose data directory is `data_dir` keeps its data in on that cluster:
// the same for every server and command on that directory.
inline std::string SchemaFor(const std::string& data_dir) {
  std::string schema = "t_";
  for (char c : data_dir) schema += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (schema.size() > 63) schema = "t_" + schema.substr(schema.size() - 61);
  return schema;
}

// On the cluster: the options that keep a deployment's data there instead of in `data_dir`.
inline std::vector<std::string> StoreArgsFor(const std::string& data_dir) {
  if (PgTestCluster().empty()) return {};
  return {"--store", ClusterConninfo("dovira_data"), "--keys-store",
          ClusterConninfo("dovira_keys"), "--store-schema", SchemaFor(data_dir)};
}

// Runs DOVIRA_BIN with `args`. A command given `--data DIR` gets StoreArgsFor(DIR) too, so an
// operator command finds the data of the server that ran on DIR, on either store.
inline RunResult RunDovira(const std::vector<std::string>& args) {
  std::vector<std::string> all = {DOVIRA_BIN};
  all.insert(all.end(), args.begin(), args.end());
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "--data") continue;
    const std::vector<std::string> store = StoreArgsFor(args[i + 1]);
    all.insert(all.end(), store.begin(), store.end());
    break;
  }
  return RunProgram(all);
}

// On the cluster: runs `sql` with psql in the data database, in the schema of `data_dir`.
inline RunResult PsqlData(const std::string& data_dir, const std::string& sql) {
  return RunProgram({"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                     ClusterConninfo("dovira_data"), "-c",
                     "SET search_path TO \"" + SchemaFor(data_dir) + "\"; " + sql});
}

}  // namespace dovira::testing
