#include "adapters/postgres/test_cluster.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace dovira::postgres {
namespace {

constexpr char kDefaultBin[] = "/usr/lib/postgresql/15/bin";
// The socket's name only: it lives in the cluster's own directory, so no two clusters clash.
constexpr int kPort = 5432;

std::string BinDir() {
  const char* env = std::getenv("DOVIRA_PG_BIN");
  return env != nullptr && *env != '\0' ? env : kDefaultBin;
}

// The last lines of a log file, for an error message.
std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  if (text.size() > 1500) text = "..." + text.substr(text.size() - 1500);
  return text;
}

}  // namespace

namespace {

// "runuser -u postgres -- " when running as root (initdb and the server refuse root), after
// handing `dir` to that user; "" otherwise.
Result<std::string> RunAs(const std::string& dir) {
  if (::geteuid() != 0) return std::string();
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return Error::Unavailable(
        "running as root, and there is no `postgres` user to run the test cluster as "
        "(the postgresql-15 package creates it)");
  }
  if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return Error::Unavailable("cannot hand the test cluster's directory to `postgres`");
  }
  return std::string("runuser -u postgres -- ");
}

// Starts the server of the cluster in `root` (its data in root/data, its socket in root) and waits
// until it accepts connections.
Status StartServer(const std::string& run_as, const std::string& root, const std::string& what) {
  const std::string start = run_as + BinDir() + "/pg_ctl -D " + root + "/data -l " + root +
                            "/server.log -w -t 60 -o \"-k " + root + " -p " +
                            std::to_string(kPort) +
                            " -c listen_addresses='' -c fsync=off -c full_page_writes=off" +
                            " -c max_connections=400\" start > " + root + "/pg_ctl.log 2>&1";
  if (std::system(start.c_str()) != 0) {
    return Error::Unavailable(what + " did not start: " + Tail(root + "/server.log"));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<TestCluster>> TestCluster::Start(const std::string& root_dir) {
  const std::string bin = BinDir();
  for (const char* tool : {"initdb", "pg_ctl", "postgres"}) {
    if (::access((bin + "/" + tool).c_str(), X_OK) != 0) {
      return Error::Unavailable("PostgreSQL 15 server program " + bin + "/" + tool +
                                " not found: install postgresql-15 (scripts/install-deps.sh) or "
                                "set DOVIRA_PG_BIN to the directory holding initdb and postgres");
    }
  }
  std::string root = root_dir;
  if (root.empty()) {
    root = ::testing::TempDir() + "dovira_pg_XXXXXX";
    if (::mkdtemp(root.data()) == nullptr) {
      return Error::Unavailable("cannot create a temporary directory for the test cluster");
    }
  } else {
    Stop(root);
    if (::mkdir(root.c_str(), 0700) != 0) {
      return Error::Unavailable("cannot create the test cluster's directory " + root);
    }
  }
  Result<std::string> run_as = RunAs(root);
  if (!run_as.ok()) return run_as.error();
  std::unique_ptr<TestCluster> cluster(new TestCluster(root, *run_as, root_dir.empty()));

  const std::string initdb = *run_as + bin + "/initdb -D " + root + "/data -A trust -U postgres" +
                             " -E UTF8 --locale=C --no-sync > " + root + "/initdb.log 2>&1";
  if (std::system(initdb.c_str()) != 0) {
    return Error::Unavailable("initdb failed: " + Tail(root + "/initdb.log"));
  }
  if (Status started = StartServer(*run_as, root, "the test cluster"); !started.ok()) {
    return started.error();
  }
  return cluster;
}

Result<std::unique_ptr<TestCluster>> TestCluster::StartStandby(const TestCluster& primary) {
  const std::string bin = BinDir();
  Status sync = primary.Exec("postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'");
  if (sync.ok()) sync = primary.Exec("postgres", "SELECT pg_reload_conf()");
  if (!sync.ok()) return sync.error();
  std::string root = ::testing::TempDir() + "dovira_pg_standby_XXXXXX";
  if (::mkdtemp(root.data()) == nullptr) {
    return Error::Unavailable("cannot create a temporary directory for the standby");
  }
  Result<std::string> run_as = RunAs(root);
  if (!run_as.ok()) return run_as.error();
  std::unique_ptr<TestCluster> standby(new TestCluster(root, *run_as, true));
  // -R writes standby.signal and the primary's connection string; the application name is how
  // the primary lists it.
  const std::string backup = *run_as + bin + "/pg_basebackup -D " + root +
                             "/data -R -X stream -c fast --no-sync -d \"" + primary.Conninfo("postgres") +
                             " application_name=standby\" > " + root + "/basebackup.log 2>&1";
  if (std::system(backup.c_str()) != 0) {
    return Error::Unavailable("pg_basebackup failed: " + Tail(root + "/basebackup.log"));
  }
  if (Status started = StartServer(*run_as, root, "the standby"); !started.ok()) {
    return started.error();
  }
  for (int i = 0; i < 300; ++i) {
    Result<std::string> state = primary.Query(
        "postgres", "SELECT sync_state FROM pg_stat_replication WHERE application_name = "
                    "'standby'");
    if (state.ok() && *state == "sync") return standby;
    ::usleep(100 * 1000);
  }
  return Error::Unavailable("the standby did not catch up with the primary within 30 s: " +
                            Tail(root + "/server.log"));
}

void TestCluster::Crash() {
  const std::string stop = run_as_ + BinDir() + "/pg_ctl -D " + root_ +
                           "/data -m immediate -w stop > /dev/null 2>&1";
  (void)std::system(stop.c_str());
}

Status TestCluster::Promote() {
  const std::string promote = run_as_ + BinDir() + "/pg_ctl -D " + root_ + "/data -w -t 60 promote > " +
                              root_ + "/promote.log 2>&1";
  if (std::system(promote.c_str()) != 0) {
    return Error::Unavailable("pg_ctl promote failed: " + Tail(root_ + "/promote.log"));
  }
  return Status::Ok();
}

Result<std::string> TestCluster::Query(const std::string& dbname, const std::string& sql) const {
  PGconn* conn = PQconnectdb(Conninfo(dbname).c_str());
  std::string error, value;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_TUPLES_OK) {
      error = PQerrorMessage(conn);
    } else if (PQntuples(result) > 0 && PQnfields(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(conn);
  if (!error.empty()) return Error::Unavailable(dbname + ": " + error);
  return value;
}

std::unique_ptr<TestCluster> TestCluster::Attach(const std::string& root) {
  return std::unique_ptr<TestCluster>(new TestCluster(root, "", false));
}

TestCluster::~TestCluster() {
  if (!owned_) return;
  Stop(root_);
}

void TestCluster::Stop(const std::string& root) {
  std::error_code ec;
  if (std::filesystem::exists(root + "/data/postmaster.pid", ec)) {
    Result<std::string> run_as = RunAs(root);
    const std::string stop = (run_as.ok() ? *run_as : std::string()) + BinDir() + "/pg_ctl -D " +
                             root + "/data -m immediate -w stop > /dev/null 2>&1";
    (void)std::system(stop.c_str());
  }
  std::filesystem::remove_all(root, ec);
}

std::string TestCluster::Conninfo(const std::string& dbname) const {
  return "host=" + root_ + " port=" + std::to_string(kPort) + " user=postgres dbname=" + dbname;
}

Status TestCluster::Exec(const std::string& dbname, const std::string& sql) const {
  PGconn* conn = PQconnectdb(Conninfo(dbname).c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQerrorMessage(conn);
    PQclear(result);
  }
  PQfinish(conn);
  if (!error.empty()) return Error::Unavailable(dbname + ": " + error);
  return Status::Ok();
}

}  // namespace dovira::postgres
