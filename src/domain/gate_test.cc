#include "domain/gate.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/test_policies.h"

namespace dovira::domain {
namespace {

using namespace ::dovira::domain::testing;  // NOLINT(google-build-using-namespace)

struct Fixture {
  std::shared_ptr<const CompiledPolicy> policy;
  SubjectState subject;

  GateRequest Req(const std::string& purpose, std::vector<std::string> fields = {},
                  const std::string& now = "2025-03-03T12:00:00Z", const std::string& role = "") {
    GateRequest r;
    r.purpose = policy->PurposeIndex(purpose);
    r.role = role.empty() ? -1 : policy->RoleIndex(role);
    r.all_fields = fields.empty();
    if (!fields.empty()) {
      auto fs = policy->Fields(fields);
      EXPECT_TRUE(fs.ok()) << fs.error().message;
      if (fs.ok()) r.fields = *fs;
    }
    r.now_us = Us(now);
    return r;
  }
  Decision Decide(const GateRequest& r) { return domain::Decide(policy.get(), &subject, r); }
};

Fixture For001() {
  Fixture f{P001(), {}};
  f.subject.kind = static_cast<uint16_t>(f.policy->SubjectKindIndex("buyer"));
  return f;
}

TEST(Gate, UndeclaredPurposeIsDenied) {  // R28
  auto f = For001();
  auto d = f.Decide(f.Req("partner_programme"));
  EXPECT_EQ(d.reason, Reason::kPurposeUndeclared);
  EXPECT_EQ(ReasonStatus(d.reason), 403);
  EXPECT_STREQ(ReasonCode(d.reason), "purpose_undeclared");
}

TEST(Gate, DeclaredPurposeOn004IsAllowed) {  // R28: 004 §6.1.7 partner programmes (consent)
  Fixture f{P004(), {}};
  f.subject.kind = static_cast<uint16_t>(f.policy->SubjectKindIndex("applicant"));
  int p = f.policy->PurposeIndex("partner_programmes");
  ASSERT_GE(p, 0);
  f.subject.Grant(static_cast<size_t>(p), Us("2025-03-03T10:00:00Z"), kForever);
  EXPECT_TRUE(f.Decide(f.Req("partner_programmes")).allowed());
}

TEST(Gate, ConsentPurposeNeedsAnActiveGrant) {  // R29
  auto f = For001();
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing")).reason, Reason::kNoConsent);
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("marketing_mailing"));
  f.subject.Grant(p, Us("2025-03-03T10:15:00Z"), kForever);
  EXPECT_TRUE(f.Decide(f.Req("marketing_mailing")).allowed());
  f.subject.Withdraw(p, Us("2025-03-03T12:30:00Z"));
  EXPECT_TRUE(f.Decide(f.Req("marketing_mailing", {}, "2025-03-03T12:29:59Z")).allowed());
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing", {}, "2025-03-03T12:30:00Z")).reason,
            Reason::kConsentWithdrawn);  // R55: effective from receipt
}

TEST(Gate, NoConsentBasedProcessingBeforeTheConsentInstant) {  // R17
  auto f = For001();
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("marketing_mailing"));
  f.subject.Grant(p, Us("2025-03-03T10:15:00Z"), kForever);
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing", {}, "2025-03-03T10:14:59Z")).reason,
            Reason::kConsentNotYetGiven);
  EXPECT_TRUE(f.Decide(f.Req("marketing_mailing", {}, "2025-03-03T10:15:01Z")).allowed());
}

TEST(Gate, ExpiredConsentIsDenied) {  // R21
  auto f = For001();
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("marketing_mailing"));
  f.subject.Grant(p, Us("2025-03-03T00:00:00Z"), Us("2025-04-03T00:00:00Z"));
  EXPECT_TRUE(f.Decide(f.Req("marketing_mailing", {}, "2025-04-02T23:59:00Z")).allowed());
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing", {}, "2025-04-03T00:00:00Z")).reason,
            Reason::kConsentExpired);
}

TEST(Gate, ConsentGivenThroughARepresentativeWaitsForTheNowAdult) {  // B06
  auto f = For001();
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("marketing_mailing"));
  f.subject.Grant(p, Us("2025-01-10T10:00:00Z"), kForever);
  // Majority on 2025-03-10 in Kyiv: the day starts at 2025-03-09T22:00Z.
  f.subject.reconsent_from_us = Us("2025-03-09T22:00:00Z");
  EXPECT_TRUE(f.Decide(f.Req("marketing_mailing", {}, "2025-03-09T21:59:59Z")).allowed());
  auto d = f.Decide(f.Req("marketing_mailing", {}, "2025-03-09T22:00:00Z"));
  EXPECT_EQ(d.reason, Reason::kReconsentRequired);
  EXPECT_EQ(ReasonStatus(d.reason), 423);
  EXPECT_STREQ(ReasonCode(d.reason), "reconsent_required");
  // Processing on another basis goes on.
  EXPECT_TRUE(f.Decide(f.Req("contract_performance", {}, "2025-03-10T12:00:00Z")).allowed());
  // A withdrawn consent stays withdrawn rather than waiting for a confirmation.
  f.subject.Withdraw(p, Us("2025-03-10T09:00:00Z"));
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing", {}, "2025-03-10T12:00:00Z")).reason,
            Reason::kConsentWithdrawn);
  // Confirmed: nothing is awaited any more.
  f.subject.Grant(p, Us("2025-03-10T12:00:00Z"), kForever);
  f.subject.reconsent_from_us = kForever;
  EXPECT_TRUE(f.Decide(f.Req("marketing_mailing", {}, "2025-03-10T12:00:01Z")).allowed());
}

TEST(Gate, ContractPurposeNeedsNoConsent) {  // R29
  auto f = For001();
  auto d = f.Decide(f.Req("contract_performance"));
  EXPECT_TRUE(d.allowed());
  EXPECT_FALSE(d.fields.Empty());
}

TEST(Gate, OnlyFieldsMappedToThePurposeComeBack) {  // R30
  auto f = For001();
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("marketing_mailing"));
  f.subject.Grant(p, Us("2025-03-03T10:00:00Z"), kForever);
  auto all = f.Decide(f.Req("marketing_mailing"));
  ASSERT_TRUE(all.allowed());
  auto ids = f.policy->FieldIds(all.fields);
  EXPECT_EQ(ids, (std::vector<std::string>{"email", "first_name", "mobile_phone"}));
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing", {"home_address"})).reason,
            Reason::kFieldNotInPurpose);
}

TEST(Gate, RectificationBlocksEverythingButStorage) {  // R45
  auto f = For001();
  f.subject.blocked.Set(static_cast<size_t>(f.policy->FieldIndex("mobile_phone")));
  auto use = f.Req("contract_mailing", {"mobile_phone"});
  EXPECT_EQ(f.Decide(use).reason, Reason::kBlocked);
  EXPECT_EQ(ReasonStatus(Reason::kBlocked), 423);
  use.operation = Operation::kStore;
  EXPECT_TRUE(f.Decide(use).allowed());
  // Other fields of the same purpose stay usable.
  EXPECT_TRUE(f.Decide(f.Req("contract_mailing", {"email"})).allowed());
}

TEST(Gate, RestrictionAndObjectionsAreHonoured) {  // R51, R52, R53
  auto f = For001();
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("service_improvement"));
  f.subject.objection_pending |= PurposeSet{1} << p;
  EXPECT_EQ(f.Decide(f.Req("service_improvement")).reason, Reason::kObjectionPending);
  f.subject.objection_pending = 0;
  f.subject.objection_upheld |= PurposeSet{1} << p;
  EXPECT_EQ(f.Decide(f.Req("service_improvement")).reason, Reason::kObjectionUpheld);
  f.subject.objection_upheld = 0;
  f.subject.restricted.Set(static_cast<size_t>(f.policy->FieldIndex("email")));
  EXPECT_EQ(f.Decide(f.Req("identification", {"email"})).reason, Reason::kRestricted);
}

TEST(Gate, OptOutOfAutomatedDecisionsStopsProfilingOnly) {  // R62
  auto f = For001();
  GateRequest profile = f.Req("service_improvement");
  profile.operation = Operation::kProfile;
  EXPECT_TRUE(f.Decide(profile).allowed());
  f.subject.no_automated = true;
  EXPECT_EQ(f.Decide(profile).reason, Reason::kAutomatedOptOut);
  EXPECT_STREQ(ReasonCode(Reason::kAutomatedOptOut), "no_automated_decisions");
  EXPECT_EQ(ReasonStatus(Reason::kAutomatedOptOut), 403);
  // Every other use of the same purpose goes on.
  EXPECT_TRUE(f.Decide(f.Req("service_improvement")).allowed());
  EXPECT_EQ(ParseOperation("profile"), Operation::kProfile);
  EXPECT_STREQ(OperationName(Operation::kProfile), "profile");
}

TEST(Gate, RoleMustBeAllowedThePurposeAndTheFields) {  // R86
  auto f = For001();
  EXPECT_EQ(f.Decide(f.Req("marketing_mailing", {}, "2025-03-03T12:00:00Z", "support")).reason,
            Reason::kRoleDenied);
  EXPECT_TRUE(
      f.Decide(f.Req("contract_performance", {"email"}, "2025-03-03T12:00:00Z", "support")).allowed());
}

// R86 (004 §6.4): a break-glass grant opens a purpose the role lacks for the granted fields only,
// and adds its fields to a purpose the role has.
TEST(Gate, R86_BreakGlassFieldsReachBeyondTheRoleAndNoFurther) {
  Fixture f{P004(), {}};
  f.subject.kind = static_cast<uint16_t>(f.policy->SubjectKindIndex("applicant"));
  auto phone = f.policy->Fields({"phone", "email"});
  ASSERT_TRUE(phone.ok());
  GateRequest r = f.Req("justice_requests", {"phone"}, "2025-03-03T12:00:00Z", "curator");
  EXPECT_EQ(f.Decide(r).reason, Reason::kRoleDenied);
  r.granted_fields = *phone;
  EXPECT_TRUE(f.Decide(r).allowed());
  GateRequest name = f.Req("justice_requests", {"last_name"}, "2025-03-03T12:00:00Z", "curator");
  name.granted_fields = *phone;
  EXPECT_EQ(f.Decide(name).reason, Reason::kFieldNotInRole);
  GateRequest all = f.Req("justice_requests", {}, "2025-03-03T12:00:00Z", "curator");
  all.granted_fields = *phone;
  Decision d = f.Decide(all);
  ASSERT_TRUE(d.allowed());
  EXPECT_EQ(f.policy->FieldIds(d.fields), (std::vector<std::string>{"email", "phone"}));
}

TEST(Gate, UnknownSubjectAndMissingPolicyFailClosed) {  // B12
  auto f = For001();
  auto r = f.Req("contract_performance");
  EXPECT_EQ(Decide(f.policy.get(), nullptr, r).reason, Reason::kSubjectUnknown);
  EXPECT_EQ(Decide(nullptr, &f.subject, r).reason, Reason::kUnavailable);
  EXPECT_EQ(ReasonStatus(Reason::kUnavailable), 503);
}

TEST(Gate, DisabledPurposeIsDenied) {  // IC-004-13
  Fixture f{P004(), {}};
  EXPECT_EQ(f.Decide(f.Req("hiring_newsletters")).reason, Reason::kPurposeDisabled);
}

TEST(Gate, MinorsGetNoMarketingWhereThePolicySays) {  // R27
  Fixture f{P003(), {}};
  f.subject.kind = static_cast<uint16_t>(f.policy->SubjectKindIndex("user"));
  size_t p = static_cast<size_t>(f.policy->PurposeIndex("direct_marketing"));
  f.subject.Grant(p, Us("2025-01-01T00:00:00Z"), kForever);
  f.subject.minor_until_us = Us("2030-05-01T00:00:00Z");
  EXPECT_EQ(f.Decide(f.Req("direct_marketing")).reason, Reason::kMinor);
  EXPECT_TRUE(f.Decide(f.Req("direct_marketing", {}, "2030-05-01T00:00:01Z")).allowed());
}

TEST(Gate, ClosingAccountAllowsOnlyStorage) {  // R03
  Fixture f{P004(), {}};
  f.subject.closing = true;
  EXPECT_EQ(f.Decide(f.Req("account_management")).reason, Reason::kSubjectClosing);
  auto store = f.Req("account_management");
  store.operation = Operation::kStore;
  EXPECT_TRUE(f.Decide(store).allowed());
}

TEST(GateState, AnUpdateChangesAnAdmittedSubjectAndLeavesAnUnknownOneUnknown) {
  GateState state;
  SubjectId id("s1");
  SubjectState admitted;
  admitted.kind = 2;
  state.Admit(id, admitted);
  state.Update(id, [](SubjectState& s) { s.kind = 3; });
  EXPECT_EQ(state.With(id, [](const SubjectState* s) { return s ? s->kind : 0; }), 3);
  EXPECT_EQ(state.With(id, [](const SubjectState* s) { return s->version; }),
            kVersionChangedHere);
  state.Update(SubjectId("nobody"), [](SubjectState& s) { s.kind = 3; });
  EXPECT_EQ(state.With(SubjectId("nobody"), [](const SubjectState* s) { return s == nullptr; }),
            true);
  state.Erase(id);
  EXPECT_EQ(state.size(), 0u);
}

// A store of subject states for the loader: what GateLoader reads, by id.
struct FakeStore {
  std::map<std::string, SubjectState> rows;
  int loads = 0;
  bool failing = false;
  GateState::Loader Loader() {
    return [this](const SubjectId& id) -> Result<std::optional<SubjectState>> {
      ++loads;
      if (failing) return Error::Unavailable("the store is down");
      auto it = rows.find(id.value());
      if (it == rows.end()) return std::optional<SubjectState>();
      return std::optional<SubjectState>(it->second);
    };
  }
};

TEST(GateState, ASubjectNotHeldIsLoadedOnItsFirstUseWithItsStoredVersion) {
  FakeStore store;
  SubjectState row;
  row.kind = 4;
  row.version = 17;
  store.rows["s1"] = row;
  GateState state;
  state.SetLoader(store.Loader(), 1000);
  EXPECT_EQ(state.size(), 0u);
  EXPECT_EQ(state.With(SubjectId("s1"), [](const SubjectState* s) { return s->version; }), 17);
  EXPECT_EQ(state.With(SubjectId("s1"), [](const SubjectState* s) { return s->kind; }), 4);
  EXPECT_EQ(store.loads, 1) << "the second use is a hit";
  EXPECT_EQ(state.size(), 1u);
  EXPECT_EQ(state.counters().misses, 1u);
  // The store has no such subject: unknown, and nothing is held.
  EXPECT_TRUE(state.With(SubjectId("ghost"), [](const SubjectState* s) { return s == nullptr; }));
  EXPECT_EQ(state.size(), 1u);
  // A change made here to a subject not held is left to its next load.
  store.rows["s2"] = row;
  state.Update(SubjectId("s2"), [](SubjectState& s) { s.closing = true; });
  EXPECT_EQ(state.size(), 1u);
  EXPECT_FALSE(state.With(SubjectId("s2"), [](const SubjectState* s) { return s->closing; }));
}

TEST(GateState, B12_AStateThatCannotBeLoadedIsRefusedAsUnavailableAndNotHeld) {
  auto policy = P001();
  FakeStore store;
  store.rows["s1"] = SubjectState();
  store.failing = true;
  GateState state;
  state.SetLoader(store.Loader(), 1000);
  GateRequest req;
  req.purpose = policy->PurposeIndex("contract_performance");
  req.all_fields = true;
  const Decision d = state.With(SubjectId("s1"), [&](const SubjectState* s) {
    return domain::Decide(policy.get(), s, req);
  });
  EXPECT_EQ(d.reason, Reason::kUnavailable);
  EXPECT_EQ(state.size(), 0u);
  store.failing = false;
  EXPECT_NE(state.With(SubjectId("s1"), [&](const SubjectState* s) {
    return domain::Decide(policy.get(), s, req).reason;
  }), Reason::kUnavailable);
  EXPECT_EQ(state.size(), 1u);
}

TEST(GateState, MemoryIsBoundedByTheCapacityWhateverTheNumberOfSubjects) {
  FakeStore store;
  constexpr int kSubjects = 20000;
  for (int i = 0; i < kSubjects; ++i) store.rows["s" + std::to_string(i)] = SubjectState();
  GateState state;
  constexpr size_t kCapacity = 64 * 16;  // 16 per shard
  state.SetLoader(store.Loader(), kCapacity);
  for (int i = 0; i < kSubjects; ++i) {
    EXPECT_TRUE(state.With(SubjectId("s" + std::to_string(i)),
                           [](const SubjectState* s) { return s != nullptr; }));
  }
  EXPECT_LE(state.size(), kCapacity);
  EXPECT_GE(state.size(), kCapacity / 2);
  EXPECT_EQ(state.counters().evictions, kSubjects - state.size());
  // A forgotten subject is loaded again, the same as before.
  for (int i = 0; i < kSubjects; i += 97) {
    EXPECT_TRUE(state.With(SubjectId("s" + std::to_string(i)),
                           [](const SubjectState* s) { return s != nullptr; }));
  }
  EXPECT_LE(state.size(), kCapacity);
}

TEST(GateState, APeekLoadsWithoutHoldingSoARunOverEverySubjectKeepsTheSubjectsInUse) {
  FakeStore store;
  for (int i = 0; i < 100; ++i) store.rows["s" + std::to_string(i)] = SubjectState();
  GateState state;
  state.SetLoader(store.Loader(), 1000);
  state.With(SubjectId("s0"), [](const SubjectState*) { return 0; });
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(state.Peek(SubjectId("s" + std::to_string(i)),
                           [](const SubjectState* s) { return s != nullptr; }));
  }
  EXPECT_EQ(state.size(), 1u);
}

TEST(GateState, ALoadThatRacesAChangeHereIsHeldWithoutItsVersion) {
  // The loader reads the store; meanwhile this server commits a change and updates the gate,
  // which does not hold the subject. The state loaded may predate the change, so it must not
  // vouch for itself: its version is forgotten and the next audited use reloads it.
  GateState state;
  SubjectState row;
  row.version = 5;
  state.SetLoader(
      [&](const SubjectId& id) -> Result<std::optional<SubjectState>> {
        state.Erase(id);  // stands for a change committed while the rows were read
        return std::optional<SubjectState>(row);
      },
      1000);
  EXPECT_EQ(state.With(SubjectId("s1"), [](const SubjectState* s) { return s->version; }),
            kVersionChangedHere);
}

TEST(GateState, ConcurrentUsesLoadsAndChangesKeepOneStatePerSubject) {
  FakeStore store;
  for (int i = 0; i < 256; ++i) store.rows["s" + std::to_string(i)] = SubjectState();
  std::mutex mu;
  GateState state;
  auto loader = store.Loader();
  state.SetLoader(
      [&](const SubjectId& id) {
        std::lock_guard lock(mu);
        return loader(id);
      },
      64 * 2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const SubjectId id("s" + std::to_string((i * 7 + t * 13) % 256));
        if (i % 5 == 0) {
          state.Update(id, [](SubjectState& s) { s.closing = true; });
        } else if (i % 17 == 0) {
          state.Erase(id);
        } else {
          EXPECT_TRUE(state.With(id, [](const SubjectState* s) { return s != nullptr; }));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(state.size(), 64u * 2);
}

}  // namespace
}  // namespace dovira::domain
