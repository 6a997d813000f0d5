// pg_test_cluster: one throwaway PostgreSQL cluster for a whole ctest run (test_cluster.h).
//   pg_test_cluster start DIR   starts it in DIR (replacing what was there) with the databases
//                               the tests use (dovira_data, dovira_keys) and leaves it running
//   pg_test_cluster stop DIR    stops it and removes DIR
// Test processes reach it through DOVIRA_TEST_PG=DIR.
#include <cstdio>
#include <cstring>
#include <string>

#include "adapters/postgres/test_cluster.h"

int main(int argc, char** argv) {
  using dovira::postgres::TestCluster;
  if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
    std::fprintf(stderr, "usage: pg_test_cluster start|stop DIR\n");
    return 2;
  }
  const std::string root = argv[2];
  if (std::strcmp(argv[1], "stop") == 0) {
    TestCluster::Stop(root);
    return 0;
  }
  auto cluster = TestCluster::Start(root);
  if (!cluster.ok()) {
    std::fprintf(stderr, "pg_test_cluster: %s\n", cluster.error().message.c_str());
    return 1;
  }
  for (const char* db : {"dovira_data", "dovira_keys"}) {
    dovira::Status made = (*cluster)->Exec("postgres", std::string("CREATE DATABASE ") + db);
    if (!made.ok()) {
      std::fprintf(stderr, "pg_test_cluster: %s\n", made.error().message.c_str());
      TestCluster::Stop(root);
      return 1;
    }
  }
  std::printf("PostgreSQL test cluster running in %s\n", root.c_str());
  return 0;
}
