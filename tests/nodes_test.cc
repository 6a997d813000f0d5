// Several servers on one PostgreSQL database (issue 17): two real `dovira serve` processes, each
// with a data directory of its own, serving the same schema of the run's test cluster, as two
// nodes behind a load balancer would. A change acknowledged by one is never overtaken by a use
// the other decides on the state it had before (ports::GateCheck).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "forms.h"
#include "server.h"

namespace dovira::testing {
namespace {

constexpr char kS4[] = "bbooster-masterclass";  // policies/004_bbooster_masterclass.toml
const std::string kBase = std::string("/v1/schools/") + kS4;

Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

// A second server of the deployment `first` runs: its own data directory (a copy of the first's
// keys and settings), the same schema.
std::unique_ptr<TestServer> SecondNode(const TestServer& first, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::copy(first.data_dir(), dir, fs::copy_options::recursive);
  ServerOptions o;
  o.policies = {"004"};
  o.data_dir = dir;
  o.store_of = first.data_dir();
  o.bootstrap_admin = "";
  return std::make_unique<TestServer>(o);
}

class TwoNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(PgTestCluster().empty())
        << "runs on the test cluster: ctest starts it (fixture pg_cluster)";
    ServerOptions o;
    o.policies = {"004"};
    a_ = std::make_unique<TestServer>(o);
    ASSERT_EQ(a_->Start(), "");
    b_ = SecondNode(*a_, a_->root() + "/second");
    ASSERT_EQ(b_->Start(), "") << b_->stderr_text();
    admin_ = std::make_unique<StaffClient>(a_.get(), kS4, a_->bootstrap_email(),
                                           a_->BootstrapPassword(kS4));
    ASSERT_EQ(admin_->SignIn(), "");
    Response k = admin_->Post(kBase + "/api-keys",
                              Json{{"name", "marketing"},
                                   {"role", "marketing_manager"},
                                   {"purposes", {"partner_programmes", "marketing_policy"}}});
    ASSERT_EQ(k.status, 201) << k.Describe();
    key_ = k.Body().value("key", "");
    Response s = a_->Post(kBase + "/forms/masterclass/submissions",
                          Masterclass004("two-nodes@example.com"));
    ASSERT_EQ(s.status, 201) << s.Describe();
    subject_ = s.Body().value("subject", "");
  }

  Response Read(const TestServer& node, const std::string& purpose = "partner_programmes",
              const std::vector<std::string>& fields = {}) {
    Json body = {{"purpose", purpose}};
    if (!fields.empty()) body["fields"] = fields;
    return node.Post(kBase + "/subjects/" + subject_ + "/read", body, Bearer(key_));
  }
  // A use of data the caller holds ("may I?"): for the depersonalised purpose, never read.
  Response Process(const TestServer& node, const std::string& purpose) {
    return node.Post(kBase + "/process", Json{{"subject", subject_}, {"purpose", purpose}},
                     Bearer(key_));
  }

  std::unique_ptr<TestServer> a_, b_;
  std::unique_ptr<StaffClient> admin_;
  std::string key_, subject_;
};

// The test: withdraw on one node while the other reads the subject in a tight loop; no
// read that starts after the withdrawal's 200 is allowed. The second node learnt of the subject
// itself (stored by the first after it started) the same way, on its first read.
TEST_F(TwoNodes, NoReadOnTheOtherNodeIsAllowedAfterTheWithdrawalsAcknowledgement) {
  Response first = Read(*b_);
  ASSERT_EQ(first.status, 200) << first.Describe();
  ASSERT_EQ(first.Body()["fields"].value("email", ""), "two-nodes@example.com") << first.Describe();

  using Clock = std::chrono::steady_clock;
  struct Sample {
    Clock::time_point start;
    int status;
    std::string code;
  };
  std::mutex mu;
  std::vector<Sample> samples;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      const Clock::time_point start = Clock::now();
      Response r = Read(*b_);
      std::lock_guard<std::mutex> lock(mu);
      samples.push_back(Sample{start, r.status, r.ErrorCode()});
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const Clock::time_point asked = Clock::now();
  Response w = admin_->Post(kBase + "/subjects/" + subject_ + "/consents/withdraw",
                            Json{{"purposes", {"partner_programmes"}}, {"channel", "email"}});
  const Clock::time_point acknowledged = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  reader.join();
  ASSERT_EQ(w.status, 200) << w.Describe();

  size_t before = 0, after = 0, allowed_after = 0;
  for (const Sample& s : samples) {
    if (s.start < asked) {
      ++before;
      EXPECT_EQ(s.status, 200) << "a read before the withdrawal was refused: " << s.code;
    } else if (s.start > acknowledged) {
      ++after;
      if (s.status == 200) ++allowed_after;
      EXPECT_EQ(s.status, 403);
      EXPECT_EQ(s.code, "consent_withdrawn");
    }
  }
  EXPECT_GT(before, 0u);
  EXPECT_GT(after, 0u);
  EXPECT_EQ(allowed_after, 0u) << "reads allowed on the second node after the withdrawal's 200";
  std::cout << "[ reads ] " << before << " before the withdrawal, " << after
            << " after its acknowledgement, " << allowed_after << " of them allowed\n";
  // The purpose the withdrawal left alone is still allowed there.
  Response other = Process(*b_, "marketing_policy");
  EXPECT_EQ(other.status, 200) << other.Describe();
}

// The other way round, for a withdrawal, a block and an erasure made by staff on the second node:
// the first node's next use honours each at once.
TEST_F(TwoNodes, AWithdrawalABlockAndAnErasureOnOneNodeHoldOnTheOther) {
  ASSERT_EQ(Read(*a_).status, 200);
  // The administrator's session (kept in the shared database) on the second node.
  StaffClient on_b = *admin_;
  on_b.UseServer(b_.get());

  // R45: a rectification of the e-mail address filed on B blocks it on A while it is pending;
  // the other fields stay readable.
  Response filed = on_b.Post(kBase + "/requests", Json{{"type", "rectification"},
                                                      {"subject", subject_},
                                                      {"channel", "email"},
                                                      {"fields", {"email"}},
                                                      {"reply_email", "two-nodes@example.com"},
                                                      {"evidence_supplied", true}});
  ASSERT_EQ(filed.status, 201) << filed.Describe();
  Response blocked = Read(*a_, "partner_programmes", {"email"});
  EXPECT_EQ(blocked.status, 423) << blocked.Describe();
  EXPECT_EQ(blocked.ErrorCode(), "blocked");
  Response name = Read(*a_, "partner_programmes", {"first_name"});
  EXPECT_EQ(name.status, 200) << name.Describe();

  // R20: the consent withdrawn on B.
  Response w = on_b.Post(kBase + "/subjects/" + subject_ + "/consents/withdraw",
                         Json{{"purposes", {"partner_programmes"}}, {"channel", "email"}});
  ASSERT_EQ(w.status, 200) << w.Describe();
  Response withdrawn = Read(*a_, "partner_programmes", {"first_name"});
  EXPECT_EQ(withdrawn.status, 403) << withdrawn.Describe();
  EXPECT_EQ(withdrawn.ErrorCode(), "consent_withdrawn");
  Response still = Process(*a_, "marketing_policy");
  ASSERT_EQ(still.status, 200) << still.Describe();

  // R49: erased through B; A no longer knows the subject.
  Response erasure = on_b.Post(kBase + "/requests",
                               Json{{"type", "erasure"},
                                    {"acknowledged_warning", true},
                                    {"subject", subject_},
                                    {"channel", "email"},
                                    {"ground", "consent_withdrawn_no_other_basis"},
                                    {"reply_email", "two-nodes@example.com"}});
  ASSERT_EQ(erasure.status, 201) << erasure.Describe();
  const std::string request = erasure.Body().value("id", "");
  Response done = on_b.Post(kBase + "/requests/" + request + "/complete", Json::object());
  ASSERT_EQ(done.status, 200) << done.Describe();
  ASSERT_EQ(done.Body().value("outcome", ""), "erased") << done.Describe();
  Response gone = Process(*a_, "marketing_policy");
  EXPECT_EQ(gone.status, 404) << gone.Describe();
  EXPECT_EQ(gone.ErrorCode(), "subject_unknown");
}

}  // namespace
}  // namespace dovira::testing
