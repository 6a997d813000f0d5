// Failover without loss (issue 17): the real server on a PostgreSQL primary with a synchronous
// streaming standby, both on loopback sockets, reached through one multi-host connection string
// (target_session_attrs=read-write). The primary dies while forms are being submitted, the
// standby is promoted; every submission the server acknowledged is on the promoted standby, the
// server carries on by itself (no restart), and the audit chain is whole.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "adapters/postgres/test_cluster.h"
#include "forms.h"
#include "server.h"

namespace dovira::testing {
namespace {

using postgres::TestCluster;

constexpr char kS4[] = "bbooster-masterclass";  // policies/004_bbooster_masterclass.toml

TEST(Failover, APromotedStandbyHoldsEveryAcknowledgedWriteAndTheServerCarriesOn) {
  // This test brings its own pair of clusters; the run's shared one is not used.
  ::unsetenv("DOVIRA_TEST_PG");
  auto primary = TestCluster::Start();
  ASSERT_TRUE(primary.ok()) << primary.error().message;
  for (const char* db : {"dovira_data", "dovira_keys"}) {
    ASSERT_TRUE((*primary)->Exec("postgres", std::string("CREATE DATABASE ") + db).ok());
  }
  auto standby = TestCluster::StartStandby(**primary);
  ASSERT_TRUE(standby.ok()) << standby.error().message;
  auto conninfo = [&](const std::string& db) {
    return "host=" + (*primary)->socket_dir() + "," + (*standby)->socket_dir() +
           " port=5432,5432 user=postgres dbname=" + db +
           " target_session_attrs=read-write connect_timeout=2";
  };
  ServerOptions o;
  o.policies = {"004"};
  o.extra_args = {"--store", conninfo("dovira_data"), "--keys-store", conninfo("dovira_keys")};
  TestServer server(o);
  ASSERT_EQ(server.Start(), "");

  std::mutex mu;
  std::vector<std::string> acknowledged;
  int refused = 0;
  std::atomic<bool> stop{false};
  std::atomic<int> n{0};
  std::thread writer([&] {
    while (!stop.load()) {
      const std::string email = "failover-" + std::to_string(++n) + "@example.com";
      Response r = server.Post(std::string("/v1/schools/") + kS4 + "/forms/masterclass/submissions",
                               Masterclass004(email));
      std::lock_guard<std::mutex> lock(mu);
      if (r.status == 201) {
        acknowledged.push_back(r.Body().value("subject", ""));
      } else {
        ++refused;  // the server could not reach a primary: nothing acknowledged
      }
    }
  });
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acknowledged.size();
  };
  auto wait_for = [&](size_t target) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (count() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return count() >= target;
  };
  ASSERT_TRUE(wait_for(20)) << "no submissions before the failover";
  (*primary)->Crash();
  const size_t before_promotion = count();
  ASSERT_TRUE((*standby)->Promote().ok());
  // The new primary has no standby of its own yet: it stops waiting for one (what the failover
  // manager, pg_auto_failover or Patroni, does in production; see docs/scale.md).
  ASSERT_TRUE((*standby)->Exec("postgres", "ALTER SYSTEM SET synchronous_standby_names = ''").ok());
  ASSERT_TRUE((*standby)->Exec("postgres", "SELECT pg_reload_conf()").ok());
  const bool carried_on = wait_for(before_promotion + 20);
  stop = true;
  writer.join();
  ASSERT_TRUE(carried_on) << "the server did not write again after the promotion; refused "
                          << refused << "\n"
                          << server.stderr_text();
  EXPECT_TRUE(server.running()) << "the server had to be restarted";

  // Every acknowledged subject is on the promoted standby, with its sealed records and its key.
  std::string ids;
  for (const auto& id : acknowledged) ids += (ids.empty() ? "'" : ",'") + id + "'";
  auto subjects = (*standby)->Query(
      "dovira_data", "SELECT count(*) FROM dovira.subjects WHERE subject_id IN (" + ids + ")");
  ASSERT_TRUE(subjects.ok()) << subjects.error().message;
  EXPECT_EQ(*subjects, std::to_string(acknowledged.size()));
  auto keys = (*standby)->Query(
      "dovira_keys", "SELECT count(*) FROM dovira.subject_keys WHERE subject_id IN (" + ids + ")");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(*keys, std::to_string(acknowledged.size()));
  std::cout << "[ failover ] " << acknowledged.size() << " submissions acknowledged ("
            << before_promotion << " before the promotion), " << refused
            << " refused while no primary was reachable; all " << acknowledged.size()
            << " on the promoted standby\n";

  // The audit chain is whole on the new primary.
  RunResult verify = RunProgram({DOVIRA_BIN, "audit", "verify", "--data", server.data_dir(),
                                 "--store", conninfo("dovira_data"), "--keys-store",
                                 conninfo("dovira_keys"), "--school", kS4});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace dovira::testing
