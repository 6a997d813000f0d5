// A throwaway PostgreSQL cluster for tests: initdb into a fresh temporary directory, a server
// listening on a Unix socket in that directory only (no TCP), stopped and removed when the object
// goes. The server binaries come from DOVIRA_PG_BIN, else /usr/lib/postgresql/15/bin (Debian's
// postgresql-15). initdb and the server refuse to run as root, so under root they run as the
// `postgres` user the Debian package creates (through runuser).
//
// The cluster favours speed over durability (fsync off): tests check what is committed, not what
// survives a power cut.
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
  // Creates and starts the cluster. Returns kUnavailable with what is missing or what failed
  // (the tail of the server's log) when it cannot.
  static Result<std::unique_ptr<TestCluster>> Start();
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // A libpq connection string for database `dbname` as the cluster's superuser.
  std::string Conninfo(const std::string& dbname) const;
  // Runs `sql` (no parameters) in database `dbname`. Returns kUnavailable with the server's
  // message on failure.
  Status Exec(const std::string& dbname, const std::string& sql) const;

 private:
  TestCluster(std::string root, std::string run_as)
      : root_(std::move(root)), run_as_(std::move(run_as)) {}
  void Stop();

  std::string root_;    // the temporary directory: data/, the socket, the logs
  std::string run_as_;  // "runuser -u postgres -- " under root, else ""
  bool running_ = false;
};

}  // namespace dovira::postgres
