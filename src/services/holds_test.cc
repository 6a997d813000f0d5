#include "services/holds.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "services/consents.h"
#include "services/data_access.h"
#include "services/disclosures.h"
#include "services/gate_loader.h"
#include "services/outbox.h"
#include "services/requests.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::At;
using test::TestEnv;

Actor Staff(const std::string& role) {
  Actor a;
  a.kind = Actor::Kind::kStaff;
  a.id = "st_" + role;
  a.role = role;
  return a;
}

domain::Submission PaymentForm() {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Оксана"},
              {"email", "oksana@example.org"},
              {"mobile_phone", "+380 67 123 4567"},
              {"purchased_service", "Course: Mindful Mornings"},
              {"purchase_amount", "1200.50"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.lang = "uk";
  return s;
}

class LegalHoldTest : public ::testing::Test {
 protected:
  LegalHoldTest()
      : subjects(env.deps(), env.schools, env.audit),
        consents(env.deps(), env.schools, subjects, env.audit),
        outbox(env.deps(), nullptr, nullptr, "privacy@school.test", env.schools),
        access(env.deps(), env.schools, subjects, env.audit),
        disclosures(env.deps(), env.schools, access, env.audit, outbox),
        holds(env.deps(), env.schools, env.audit),
        requests(env.deps(), env.schools, subjects, consents, env.audit, outbox, disclosures,
                 &holds) {}

  void SetUp() override {
    auto rt = env.LoadShipped("001_vkluchi_zhizn.toml");
    ASSERT_TRUE(rt.ok());
    school = *rt;
    auto taken = subjects.Intake(school->id(), PaymentForm(), Actor::Public(), {});
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    subject = taken->subject;
  }

  PlaceHold Purchases(const std::string& until = "2028-03-03") {
    PlaceHold h;
    h.subject = subject;
    h.categories = {"purchases"};
    h.reason = "limitation period of claims under the contract";
    h.basis = "civil_code_ua";
    h.until = until;
    return h;
  }

  std::vector<std::string> FieldsLeft() {
    auto rows = env.store->GetRecords(school->id(), subject);
    EXPECT_TRUE(rows.ok());
    std::set<std::string> fields;
    for (const auto& r : *rows) fields.insert(r.field);
    return {fields.begin(), fields.end()};
  }

  size_t AuditCount(const std::string& action) {
    size_t n = 0;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school->id(), 0,
                                   [&](const ports::AuditRow& a) {
                                     if (a.action == action) ++n;
                                     return true;
                                   })
                    .ok());
    return n;
  }

  Result<RequestInfo> Erase() {
    FileRequest f;
    f.type = "erasure";
    f.subject = subject;
    f.channel = "email";
    f.ground = "not_necessary";
    f.acknowledged_warning = true;  // R58: 001 §3.2.5
    f.reply_email = "oksana@example.org";
    auto filed = requests.File(school->id(), f, Staff("responsible_person"), {});
    if (!filed.ok()) return filed.error();
    return requests.Complete(school->id(), filed->id, CompleteRequest{},
                             Staff("responsible_person"), {});
  }

  domain::Reason Gate(const std::string& purpose, const std::vector<std::string>& fields,
                      domain::Operation op) {
    auto cp = school->policy();
    domain::GateRequest req;
    req.purpose = cp->PurposeIndex(purpose);
    for (const auto& f : fields) req.fields.Set(static_cast<size_t>(cp->FieldIndex(f)));
    req.operation = op;
    req.now_us = MicrosOf(env.clock.Now());
    return school->gate().With(subject, [&](const domain::SubjectState* s) {
      return domain::Decide(cp.get(), s, req).reason;
    });
  }

  TestEnv env;
  SubjectService subjects;
  ConsentService consents;
  Outbox outbox;
  DataAccessService access;
  DisclosureService disclosures;
  LegalHoldService holds;
  RequestService requests;
  SchoolRuntime* school = nullptr;
  SubjectId subject{""};
};

TEST_F(LegalHoldTest, R50_PlacingIsCheckedAgainstThePolicyTheSubjectAndTheRole) {
  const Actor officer = Staff("responsible_person");
  auto denied = holds.Place(school->id(), Purchases(), Staff("support"), {});
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);

  struct Case {
    std::function<void(PlaceHold&)> change;
    std::string field, reason;
  };
  const std::vector<Case> cases = {
      {[](PlaceHold& h) { h.categories.clear(); }, "fields", "fields_required"},
      {[](PlaceHold& h) { h.fields = {"passport"}; }, "fields", "field_undeclared"},
      {[](PlaceHold& h) { h.fields = {"home_address"}; }, "fields", "field_not_held"},
      {[](PlaceHold& h) { h.categories = {"savings"}; }, "categories", "category_undeclared"},
      {[](PlaceHold& h) { h.categories = {"address"}; }, "categories", "category_not_held"},
      {[](PlaceHold& h) { h.reason.clear(); }, "reason", "reason_required"},
      {[](PlaceHold& h) { h.reason.assign(501, 'x'); }, "reason", "reason_too_long"},
      {[](PlaceHold& h) { h.basis = "ua_tax_code"; }, "basis", "basis_unknown"},
      {[](PlaceHold& h) { h.until = "2028-02-30"; }, "until", "until_invalid"},
      {[](PlaceHold& h) { h.until = "2025-03-02"; }, "until", "until_in_past"},
  };
  for (const auto& c : cases) {
    PlaceHold h = Purchases();
    c.change(h);
    auto placed = holds.Place(school->id(), h, officer, {});
    ASSERT_FALSE(placed.ok()) << c.reason;
    EXPECT_EQ(placed.error().code, ErrorCode::kRefused) << c.reason;
    EXPECT_EQ(placed.error().field, c.field) << c.reason;
    EXPECT_EQ(placed.error().reason, c.reason);
  }
  PlaceHold unknown = Purchases();
  unknown.subject = SubjectId("nobody");
  EXPECT_EQ(holds.Place(school->id(), unknown, officer, {}).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(holds.List(school->id(), subject)->empty());
  EXPECT_EQ(AuditCount("legal_hold.place"), 0u);

  // Today is the earliest last day; the category resolves to the subject's fields in it.
  auto placed = holds.Place(school->id(), Purchases("2025-03-03"), officer, {});
  ASSERT_TRUE(placed.ok()) << placed.error().message;
  EXPECT_EQ(placed->fields, (std::vector<std::string>{"purchase_amount", "purchased_service"}));
  EXPECT_EQ(placed->state, "active");
  EXPECT_EQ(placed->created_by, officer.AuditName());
  EXPECT_EQ(holds.List(school->id(), subject)->size(), 1u);
  EXPECT_EQ(AuditCount("legal_hold.place"), 1u);
}

TEST_F(LegalHoldTest, R50_ErasureKeepsHeldFieldsForStorageAndRetentionFinishesIt) {
  ASSERT_TRUE(holds.Place(school->id(), Purchases(), Staff("responsible_person"), {}).ok());
  // Before the erasure the held data are ordinary data.
  EXPECT_EQ(Gate("contract_performance", {"purchase_amount"}, domain::Operation::kRead),
            domain::Reason::kAllowed);
  auto erased = Erase();
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(erased->state, "done");
  EXPECT_EQ(erased->outcome, "partly_erased_held");
  EXPECT_EQ(erased->deferred, (std::vector<std::string>{"purchase_amount", "purchased_service"}));
  EXPECT_TRUE(erased->restrict_all);
  EXPECT_EQ(FieldsLeft(), (std::vector<std::string>{"purchase_amount", "purchased_service"}));
  // The key stays while held data remain; they are restricted to storage.
  EXPECT_TRUE(env.store->GetSubjectKey(school->id(), subject)->has_value());
  EXPECT_EQ((*env.store->GetSubject(school->id(), subject))->state, "held");
  EXPECT_TRUE(env.store->ListTombstones(school->id())->empty());
  EXPECT_EQ(Gate("contract_performance", {"purchase_amount"}, domain::Operation::kRead),
            domain::Reason::kRestricted);
  EXPECT_EQ(Gate("contract_performance", {"purchase_amount"}, domain::Operation::kStore),
            domain::Reason::kAllowed);
  EXPECT_EQ(AuditCount("legal_hold.defer"), 1u);
  // The e-mail lookup went with the e-mail.
  auto token = subjects.LookupToken(school->id(), "email", "oksana@example.org");
  ASSERT_TRUE(token.ok());
  EXPECT_FALSE(env.store->FindByLookup(school->id(), "email", *token)->has_value());

  // The restriction survives the subject's state being forgotten and loaded again from the store.
  GateLoader loader(subjects, nullptr, &requests, nullptr);
  loader.Install(*school, 1000);
  school->gate().Erase(subject);
  EXPECT_EQ(school->gate().size(), 0u);
  EXPECT_EQ(Gate("contract_performance", {"purchase_amount"}, domain::Operation::kRead),
            domain::Reason::kRestricted);

  // The last day of the hold: nothing happens.
  env.clock.Set(At("2028-03-03T20:00:00Z"));
  auto early = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->holds_settled, 0);
  EXPECT_EQ(FieldsLeft().size(), 2u);
  // The day after (in Kyiv): the held data go, and the erasure finishes.
  env.clock.Set(At("2028-03-03T22:30:00Z"));
  auto run = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->holds_ended, 1);
  EXPECT_EQ(run->fields_erased, 2);
  EXPECT_EQ(run->subjects_erased, 1);
  EXPECT_FALSE(env.store->GetSubject(school->id(), subject)->has_value());
  EXPECT_FALSE(env.store->GetSubjectKey(school->id(), subject)->has_value());
  ASSERT_EQ(env.store->ListTombstones(school->id())->size(), 1u);
  EXPECT_EQ((*env.store->ListTombstones(school->id()))[0].request, erased->id);
  auto after = requests.Get(school->id(), erased->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->outcome, "erased");
  EXPECT_TRUE(after->deferred.empty());
  auto events = requests.Events(school->id(), erased->id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->back().kind, "hold_ended");
  EXPECT_EQ(events->back().actor, Actor::System("retention").AuditName());
  EXPECT_EQ(AuditCount("legal_hold.end"), 1u);
  // A second run finds nothing to do.
  EXPECT_EQ(requests.RunRetention(school->id(), {})->holds_settled, 0);
}

TEST_F(LegalHoldTest, R50_AHoldThatDeferredNothingEndsWithoutErasing) {
  const Actor officer = Staff("responsible_person");
  auto placed = holds.Place(school->id(), Purchases("2025-06-30"), officer, {});
  ASSERT_TRUE(placed.ok());
  env.clock.Set(At("2025-07-01T09:00:00Z"));
  auto run = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->holds_ended, 1);
  EXPECT_EQ(run->fields_erased, 0);
  EXPECT_EQ(FieldsLeft().size(), 5u);
  auto list = holds.List(school->id(), subject);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].state, "ended");
  EXPECT_TRUE((*list)[0].settled_at.has_value());
  // An ended hold is no longer honoured: the erasure now takes everything.
  auto erased = Erase();
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_EQ(erased->outcome, "erased");
  EXPECT_FALSE(env.store->GetSubject(school->id(), subject)->has_value());
}

TEST_F(LegalHoldTest, R50_ReleasingNeedsAReasonAndLetsRetentionErase) {
  const Actor officer = Staff("responsible_person");
  auto placed = holds.Place(school->id(), Purchases(), officer, {});
  ASSERT_TRUE(placed.ok());
  ASSERT_TRUE(Erase().ok());
  EXPECT_EQ(holds.Release(school->id(), subject, placed->id, "", officer, {}).error().field,
            "reason");
  EXPECT_EQ(holds.Release(school->id(), subject, "hold_x", "done", officer, {}).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(
      holds.Release(school->id(), subject, placed->id, "done", Staff("support"), {}).error().code,
      ErrorCode::kPermissionDenied);
  auto released =
      holds.Release(school->id(), subject, placed->id, "the claim was settled", officer, {});
  ASSERT_TRUE(released.ok()) << released.error().message;
  EXPECT_EQ(released->state, "released");
  EXPECT_FALSE(released->settled_at.has_value());
  EXPECT_EQ(holds.Release(school->id(), subject, placed->id, "again", officer, {}).error().code,
            ErrorCode::kConflict);
  // Released, it no longer keeps anything: the retention job finishes the erasure.
  auto run = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->holds_ended, 0);
  EXPECT_EQ(run->holds_settled, 1);
  EXPECT_EQ(run->subjects_erased, 1);
  EXPECT_FALSE(env.store->GetSubject(school->id(), subject)->has_value());
  EXPECT_EQ(AuditCount("legal_hold.release"), 1u);
  EXPECT_EQ(AuditCount("legal_hold.settle"), 1u);
}

// Two holds with different last days: the first end erases only what no other hold keeps.
TEST_F(LegalHoldTest, R50_FieldsGoAsTheirLastHoldEnds) {
  const Actor officer = Staff("responsible_person");
  PlaceHold amount = Purchases("2026-01-31");
  amount.categories.clear();
  amount.fields = {"purchase_amount"};
  PlaceHold service = Purchases("2027-01-31");
  service.categories.clear();
  service.fields = {"purchased_service"};
  ASSERT_TRUE(holds.Place(school->id(), amount, officer, {}).ok());
  ASSERT_TRUE(holds.Place(school->id(), service, officer, {}).ok());
  ASSERT_TRUE(Erase().ok());
  env.clock.Set(At("2026-02-02T09:00:00Z"));
  auto first = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->fields_erased, 1);
  EXPECT_EQ(first->subjects_erased, 0);
  EXPECT_EQ(FieldsLeft(), std::vector<std::string>{"purchased_service"});
  EXPECT_EQ(Gate("contract_performance", {"purchased_service"}, domain::Operation::kRead),
            domain::Reason::kRestricted);
  env.clock.Set(At("2027-02-02T09:00:00Z"));
  auto second = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->subjects_erased, 1);
  EXPECT_FALSE(env.store->GetSubject(school->id(), subject)->has_value());
}

}  // namespace
}  // namespace dovira::services
