// A throwaway PostgreSQL cluster for tests: initdb into a fresh temporary directory, a server
// listening on a Unix socket in that directory only (no TCP), stopped and removed when the object
// goes. The server binaries come from DOVIRA_PG_BIN, else /usr/lib/postgresql/15/bin (Debian's
// postgresql-15). initdb and the server refuse to run as root, so under root they run as the
// `postgres` user the Debian package creates (through runuser).
//
// The cluster favours speed over durability (fsync off): tests check what is committed, not what
// survives a power cut.
//
// One cluster can serve a whole ctest run: `pg_test_cluster start DIR` (a ctest fixture, see
// tests/CMakeLists.txt) starts it in DIR with the databases the tests use, and every test process
// that finds DOVIRA_TEST_PG=DIR in its environment attaches to it instead of starting its own.
//
// Thread-safety: Start and the destructor on one thread; Conninfo from any.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "common/result.h"

namespace dovira::postgres {

class TestCluster {
 public:
  // Creates and starts the cluster in a fresh temporary directory (`root` empty), removed with
  // the object, or in `root` (replacing whatever was there), left running for Stop(root).
  // Returns kUnavailable with what is missing or what failed (the tail of the server's log).
  static Result<std::unique_ptr<TestCluster>> Start(const std::string& root = "");
  // The cluster running in `root` (started by Start(root)); the object leaves it running.
  static std::unique_ptr<TestCluster> Attach(const std::string& root);
  // Stops the cluster running in `root` (if any) and removes the directory.
  static void Stop(const std::string& root);
  // A streaming-replication standby of `primary` in a fresh temporary directory (pg_basebackup),
  // and `primary` made to wait for it on every commit (synchronous_standby_names '*',
  // synchronous_commit on): a commit the primary acknowledges is on the standby too. Returns once
  // the standby streams synchronously.
  static Result<std::unique_ptr<TestCluster>> StartStandby(const TestCluster& primary);
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // A libpq connection string for database `dbname` as the cluster's superuser.
  std::string Conninfo(const std::string& dbname) const;
  // Runs `sql` (no parameters) in database `dbname`. Returns kUnavailable with the server's
  // message on failure.
  Status Exec(const std::string& dbname, const std::string& sql) const;
  // The first column of the first row of `sql`'s result ("" when none), or kUnavailable.
  Result<std::string> Query(const std::string& dbname, const std::string& sql) const;
  // The server dies at once (immediate shutdown: no checkpoint, clients cut off), as in a crash.
  void Crash();
  // Promotes a standby to a primary and waits until it accepts writes.
  Status Promote();
  // The directory holding the cluster's socket (a libpq host).
  const std::string& socket_dir() const { return root_; }

 private:
  TestCluster(std::string root, std::string run_as, bool owned)
      : root_(std::move(root)), run_as_(std::move(run_as)), owned_(owned) {}

  std::string root_;    // the cluster's directory: data/, the socket, the logs
  std::string run_as_;  // "runuser -u postgres -- " under root, else ""
  bool owned_ = true;   // stopped and removed with this object
};

}  // namespace dovira::postgres
