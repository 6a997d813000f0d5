#include "domain/consent_ledger.h"

#include <gtest/gtest.h>

#include "domain/test_policies.h"

namespace dovira::domain {
namespace {

using namespace ::dovira::domain::testing;  // NOLINT(google-build-using-namespace)

const ConsentWindow* Find(const std::vector<ConsentWindow>& ws, int p) {
  for (const auto& w : ws) {
    if (w.purpose == p) return &w;
  }
  return nullptr;
}

TEST(ConsentLedger, WithdrawingOneConsentLeavesTheOthers) {  // R20
  auto pol = P004();
  int research = pol->PurposeIndex("ad_targeting_research");
  int newsletter = pol->PurposeIndex("newsletter");
  ASSERT_GE(research, 0);
  ASSERT_GE(newsletter, 0);
  std::string research_type, newsletter_type = "newsletter";
  for (const auto& [id, c] : pol->policy().consents) {
    for (const auto& g : c.grants) {
      if (g == "ad_targeting_research") research_type = id;
    }
  }
  ASSERT_FALSE(research_type.empty());
  std::vector<LedgerEntry> ledger = {
      {research_type, pol->policy().consents.at(research_type).grants, false, 100, kForever},
      {newsletter_type, pol->policy().consents.at(newsletter_type).grants, false, 110, kForever},
      {research_type, pol->policy().consents.at(research_type).grants, true, 200, kForever},
  };
  auto ws = ConsentWindows(*pol, ledger);
  ASSERT_NE(Find(ws, research), nullptr);
  EXPECT_TRUE(Find(ws, research)->withdrawn);
  EXPECT_EQ(Find(ws, research)->until_us, 200);
  ASSERT_NE(Find(ws, newsletter), nullptr);
  EXPECT_FALSE(Find(ws, newsletter)->withdrawn);
}

TEST(ConsentLedger, APurposeGrantedByTwoConsentsStaysWhileOneIsActive) {
  auto pol = P004();
  int p = pol->PurposeIndex("contact_maintenance");
  const auto& g1 = pol->policy().consents.at("processing").grants;
  const auto& g2 = pol->policy().consents.at("written_processing").grants;
  std::vector<LedgerEntry> ledger = {{"processing", g1, false, 100, kForever},
                                     {"written_processing", g2, false, 150, kForever},
                                     {"processing", g1, true, 300, kForever}};
  auto ws = ConsentWindows(*pol, ledger);
  ASSERT_NE(Find(ws, p), nullptr);
  EXPECT_FALSE(Find(ws, p)->withdrawn);
  EXPECT_EQ(Find(ws, p)->from_us, 150);
}

TEST(ConsentLedger, RegrantAfterWithdrawalOpensANewWindow) {
  auto pol = P001();
  int p = pol->PurposeIndex("marketing_mailing");
  const auto& g = pol->policy().consents.at("personal_data").grants;
  std::vector<LedgerEntry> ledger = {{"personal_data", g, false, 100, kForever},
                                     {"personal_data", g, true, 200, kForever},
                                     {"personal_data", g, false, 300, 400}};
  auto ws = ConsentWindows(*pol, ledger);
  ASSERT_NE(Find(ws, p), nullptr);
  EXPECT_EQ(Find(ws, p)->from_us, 300);
  EXPECT_EQ(Find(ws, p)->until_us, 400);  // R21: expiry
  EXPECT_FALSE(Find(ws, p)->withdrawn);
}

TEST(ConsentLedger, WithdrawingOnlyMarketingLeavesTheRestOfABundle) {  // IC-001-5
  auto pol = P001();
  const auto& g = pol->policy().consents.at("personal_data").grants;
  std::vector<LedgerEntry> ledger = {{"personal_data", g, false, 100, kForever},
                                     {"personal_data", {"marketing_mailing"}, true, 200, kForever}};
  auto ws = ConsentWindows(*pol, ledger);
  EXPECT_TRUE(Find(ws, pol->PurposeIndex("marketing_mailing"))->withdrawn);
}

}  // namespace
}  // namespace dovira::domain
