#include "adapters/postgres/dump.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace dovira::postgres {
namespace {

// `conninfo` without its password, and the password apart ("" when there is none).
Result<std::pair<std::string, std::string>> SplitPassword(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Error::Invalid("the connection string cannot be read: " + why, "conninfo");
  }
  std::string rest, password;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    if (std::strcmp(o->keyword, "password") == 0) {
      password = o->val;
      continue;
    }
    // key='value' with quotes and backslashes escaped, as libpq reads it back.
    std::string value;
    for (const char* c = o->val; *c != '\0'; ++c) {
      if (*c == '\'' || *c == '\\') value += '\\';
      value += *c;
    }
    rest += std::string(rest.empty() ? "" : " ") + o->keyword + "='" + value + "'";
  }
  PQconninfoFree(options);
  return std::make_pair(rest, password);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  while (!all.empty() && (all.back() == '\n' || all.back() == ' ')) all.pop_back();
  if (all.size() > 1000) all = all.substr(0, 1000) + "...";
  return all;
}

}  // namespace

Status DumpSchema(const std::string& conninfo, const std::string& schema, const std::string& path,
                  const std::string& label) {
  Result<std::pair<std::string, std::string>> split = SplitPassword(conninfo);
  if (!split.ok()) return split.error();
  static std::atomic<uint64_t> counter{0};
  const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const std::string tmp = path + ".tmp-" + suffix;
  const std::string err_path = path + ".err-" + suffix;

  // pg_dump's --schema is a pattern: in double quotes the name is taken as it is (case kept,
  // wildcards literal), a double quote in it doubled.
  std::string quoted = "\"";
  for (char c : schema) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  quoted += "\"";
  std::vector<std::string> args = {"pg_dump",   "--format=custom", "--compress=0",
                                   "--no-owner", "--schema=" + quoted, "--file=" + tmp,
                                   "--dbname=" + split->first};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0) env_strings.emplace_back(*e);
  }
  if (!split->second.empty()) env_strings.push_back("PGPASSWORD=" + split->second);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "pg_dump", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ::unlink(err_path.c_str());
    return Error::Unavailable(label + ": cannot run pg_dump (" + std::strerror(spawned) +
                              "): install the PostgreSQL client (postgresql-client-15)");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string errors = ReadAll(err_path);
  ::unlink(err_path.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ::unlink(tmp.c_str());
    return Error::Unavailable(label + ": pg_dump failed: " + errors);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Error::Unavailable(label + ": cannot write the backup " + path + ": " + why);
  }
  return Status::Ok();
}

}  // namespace dovira::postgres
