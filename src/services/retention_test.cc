#include "services/retention.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "services/consents.h"
#include "services/data_access.h"
#include "services/disclosures.h"
#include "services/holds.h"
#include "services/outbox.h"
#include "services/requests.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::At;
using test::TestEnv;

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest()
      : subjects(env.deps(), env.schools, env.audit),
        consents(env.deps(), env.schools, subjects, env.audit),
        outbox(env.deps(), &mail, nullptr, "privacy@school.test", env.schools),
        access(env.deps(), env.schools, subjects, env.audit),
        disclosures(env.deps(), env.schools, access, env.audit, outbox),
        retention(env.deps(), env.schools, subjects, env.audit, disclosures),
        holds(env.deps(), env.schools, env.audit),
        requests(env.deps(), env.schools, subjects, consents, env.audit, outbox, disclosures,
                 &holds) {}

  void Load(const std::string& file, const std::string& text = "") {
    auto rt = text.empty() ? env.LoadShipped(file) : env.schools.Load(text, file);
    ASSERT_TRUE(rt.ok()) << (rt.ok() ? "" : rt.error().message);
    school = *rt;
  }

  SubjectId Take(domain::Submission s) {
    auto taken = subjects.Intake(school->id(), s, Actor::Public(), {});
    EXPECT_TRUE(taken.ok()) << (taken.ok() ? "" : taken.error().message);
    return taken.ok() ? taken->subject : SubjectId("");
  }

  // A value the school's own systems wrote (no form collects it).
  void Write(const SubjectId& subject, const std::string& field, const std::string& value) {
    auto cp = school->policy();
    auto key = subjects.SubjectKey(school->id(), subject);
    ASSERT_TRUE(key.ok());
    const auto& f = cp->field(static_cast<size_t>(cp->FieldIndex(field)));
    ports::WriteBatch batch;
    for (const auto& store : f.stores) {
      ports::RecordRow r;
      r.school = school->id();
      r.id = RecordId("rec_" + field + "_" + store + "_" + subject.value());
      r.subject = subject;
      r.store = store;
      r.field = field;
      r.category = f.category;
      r.sealed_value =
          subjects.SealValue(*key, school->id(), subject, field, r.id.value(), value);
      r.source = "staff";
      r.channel = "api";
      r.policy_version = school->version();
      r.collected_at = r.updated_at = env.clock.Now();
      batch.records.push_back(std::move(r));
    }
    ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
    subjects.ForgetRecords(school->id(), subject);
  }

  std::set<std::string> Fields(const SubjectId& subject) {
    auto rows = env.store->GetRecords(school->id(), subject);
    EXPECT_TRUE(rows.ok());
    std::set<std::string> out;
    for (const auto& r : *rows) out.insert(r.field);
    return out;
  }

  std::vector<ports::AuditRow> Audit(const std::string& action) {
    std::vector<ports::AuditRow> out;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school->id(), 0,
                                   [&](const ports::AuditRow& a) {
                                     if (a.action == action) out.push_back(a);
                                     return true;
                                   })
                    .ok());
    return out;
  }

  RetentionRunReport RunAt(const std::string& at) {
    env.clock.Set(At(at));
    auto report = retention.Run(school->id(), {});
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message);
    return report.ok() ? *report : RetentionRunReport{};
  }

  std::vector<RetentionItem> Preview(const std::string& until) {
    auto items = retention.Upcoming(school->id(), until);
    EXPECT_TRUE(items.ok()) << (items.ok() ? "" : items.error().message);
    return items.ok() ? *items : std::vector<RetentionItem>{};
  }

  domain::Reason Gate(const SubjectId& subject, const std::string& purpose,
                      const std::vector<std::string>& fields, domain::Operation op) {
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

  bool Erased(const SubjectId& subject) {
    auto tombs = env.store->ListTombstones(school->id());
    EXPECT_TRUE(tombs.ok());
    for (const auto& t : *tombs) {
      if (t.subject == subject) return true;
    }
    return false;
  }

  Actor Staff() {
    Actor a;
    a.kind = Actor::Kind::kStaff;
    a.id = "st_1";
    a.role = "administrator";
    return a;
  }

  TestEnv env;
  test::KeptMail mail;
  SubjectService subjects;
  ConsentService consents;
  Outbox outbox;
  DataAccessService access;
  DisclosureService disclosures;
  RetentionService retention;
  LegalHoldService holds;
  RequestService requests;
  SchoolRuntime* school = nullptr;
};

domain::Submission PackageOrder() {
  domain::Submission s;
  s.form = "package_order";
  s.fields = {{"last_name", "Шевченко"},
              {"first_name", "Олена"},
              {"email", "olena@example.org"},
              {"phone", "+380 67 765 4321"},
              {"service_package", "Marketing for founders"}};
  s.accept_policy = true;
  s.age_statement = "adult";
  return s;
}

// R71 (004 §4.6): a customer's contract data go on the day the agreement ends, not a day earlier,
// and the preview named them in advance.
TEST_F(RetentionTest, R71_AgreementEndDestroysContractDataOnItsDayNotBefore) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  Write(learner, "agreement_status", "active");
  // The school's system reports the agreement's last moment ahead (Kyiv: 15:00 on 10 June).
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), learner, "agreement_end",
                               At("2025-06-10T12:00:00Z"), Staff(), {})
                  .ok());

  auto before = Preview("2025-06-09");
  for (const auto& item : before) EXPECT_NE(item.field, "agreement_status");
  auto preview = Preview("2025-06-10");
  bool named = false;
  for (const auto& item : preview) {
    if (item.subject != learner || item.field != "agreement_status") continue;
    named = true;
    EXPECT_EQ(item.action, "destroy");
    EXPECT_EQ(item.purpose, "contract_performance");
    EXPECT_EQ(item.trigger, "agreement_end");
    EXPECT_EQ(item.due_date, "2025-06-10");
  }
  EXPECT_TRUE(named);

  RunAt("2025-06-09T12:00:00Z");
  EXPECT_TRUE(Fields(learner).count("agreement_status"));
  RunAt("2025-06-10T11:59:00Z");  // the day, before the agreement's end
  EXPECT_TRUE(Fields(learner).count("agreement_status"));
  EXPECT_EQ(Gate(learner, "contract_performance", {"agreement_status"}, domain::Operation::kRead),
            domain::Reason::kAllowed);

  auto report = RunAt("2025-06-10T13:00:00Z");
  EXPECT_EQ(report.fields_destroyed, 1);
  const auto left = Fields(learner);
  EXPECT_FALSE(left.count("agreement_status"));
  // R70: the account (end of use, 12 months) and invoicing (3 years) still use the rest.
  EXPECT_TRUE(left.count("phone"));
  EXPECT_TRUE(left.count("service_package"));
  EXPECT_EQ(Gate(learner, "contract_performance", {"email"}, domain::Operation::kRead),
            domain::Reason::kRetentionEnded);
  // Invoicing stopped too; its data are kept for its three years, restricted to storage.
  EXPECT_EQ(Gate(learner, "contract_invoicing", {"email"}, domain::Operation::kRead),
            domain::Reason::kRetentionEnded);
  EXPECT_EQ(Gate(learner, "account_management", {"email"}, domain::Operation::kRead),
            domain::Reason::kAllowed);
  auto destroyed = Audit("retention.destroy");
  ASSERT_EQ(destroyed.size(), 1U);
  EXPECT_EQ(destroyed[0].fields, "agreement_status");
  EXPECT_EQ(destroyed[0].actor, "system:retention");
  EXPECT_FALSE(Audit("retention.purpose_ended").empty());
  // A second run on the same day finds nothing more to do.
  EXPECT_EQ(RunAt("2025-06-10T14:00:00Z").fields_destroyed, 0);
}

// The preview (`dovira retention preview`, GET /retention/upcoming) only reads: a subject taken in
// since the job's last pass is named from its records, and the index and the job's mark stay as
// they were.
TEST_F(RetentionTest, R71_PreviewNamesNewSubjectsAndWritesNothing) {
  Load("004_bbooster_masterclass.toml");
  env.clock.Set(At("2024-01-10T09:00:00Z"));
  domain::Submission s;
  s.form = "phone_contact";
  s.fields = {{"first_name", "Ігор"}, {"phone", "+380 50 111 2233"}};
  s.age_statement = "adult";
  const SubjectId user = Take(s);

  // Twelve months from the collection (the last use on file) run out on 10 January 2025.
  for (const auto& item : Preview("2025-01-10")) EXPECT_NE(item.subject, user);
  size_t named = 0;
  for (const auto& item : Preview("2025-01-11")) {
    if (item.subject == user && item.trigger == "end_of_use") ++named;
  }
  EXPECT_EQ(named, 2U);
  auto mark = env.store->GetRetentionMark(school->id());
  ASSERT_TRUE(mark.ok());
  EXPECT_FALSE(mark->has_value());
  auto due = env.store->DueRetention(school->id(), "2099-12-31", "", "", "", 100);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty());

  // The job, which does write, acts as the preview said.
  EXPECT_EQ(RunAt("2025-01-10T12:00:00Z").subjects_erased, 0);
  EXPECT_EQ(RunAt("2025-01-10T22:30:00Z").subjects_erased, 1);  // 00:30 on 11 January in Kyiv
}

// R71 (004 §4.6, C-20): a user with no agreement is kept until the end of use, the last use plus
// `end_of_use_inactivity` (12 months); then the last field goes and the subject is erased.
TEST_F(RetentionTest, R71_InactiveAccountErasedAfterEndOfUseInactivity) {
  Load("004_bbooster_masterclass.toml");
  env.clock.Set(At("2024-01-10T09:00:00Z"));
  domain::Submission s;
  s.form = "phone_contact";
  s.fields = {{"first_name", "Ігор"}, {"phone", "+380 50 111 2233"},
              {"sales_contact_notes", "asked about the spring course"}};
  s.age_statement = "adult";
  const SubjectId user = Take(s);
  env.clock.Set(At("2024-03-02T10:00:00Z"));
  ASSERT_TRUE(
      retention.RecordEvent(school->id(), user, "last_use", At("2024-03-02T10:00:00Z"), Staff(), {})
          .ok());
  // An earlier use reported late changes nothing.
  ASSERT_TRUE(
      retention.RecordEvent(school->id(), user, "last_use", At("2024-02-01T10:00:00Z"), Staff(), {})
          .ok());

  auto preview = Preview("2025-03-03");
  size_t named = 0;
  for (const auto& item : preview) {
    if (item.subject != user) continue;
    ++named;
    EXPECT_EQ(item.trigger, "end_of_use");
    EXPECT_EQ(item.due_date, "2025-03-03");
    EXPECT_EQ(item.action, "destroy");
  }
  EXPECT_EQ(named, 3U);

  RunAt("2025-03-02T20:00:00Z");  // 22:00 in Kyiv on the last day of use
  EXPECT_EQ(Fields(user).size(), 3U);
  auto report = RunAt("2025-03-02T22:30:00Z");  // 00:30 on 3 March in Kyiv
  EXPECT_EQ(report.subjects_erased, 1);
  EXPECT_TRUE(Fields(user).empty());
  EXPECT_TRUE(Erased(user));
  auto destroyed = Audit("retention.destroy");
  ASSERT_EQ(destroyed.size(), 1U);
  EXPECT_NE(destroyed[0].detail.find("\"subject_erased\":true"), std::string::npos);
}

// The scenario on every seed that states a term from the agreement's end (000, 002) or leaves it to
// the events the policy names (001, while_needed): the fields go on the day the term ends, not a
// day earlier; the preview named them; the job's destruction is audited.
struct SeedScenario {
  const char* file;
  domain::Submission form;
  const char* field;        // the field that goes
  const char* stays;        // a field a running purpose keeps, or nullptr (the subject goes)
  std::vector<std::pair<std::string, std::string>> events;  // kind, instant
  const char* due;          // the day it goes (school's zone)
  const char* before;       // an instant of the day before it goes (or just before, "immediate")
  const char* after;        // an instant on the day it goes
};

std::vector<SeedScenario> SeedScenarios() {
  std::vector<SeedScenario> out;
  {
    // 000 L42: 30 calendar days after the Service Agreement ends, then destroyed.
    domain::Submission s;
    s.form = "client_order";
    s.fields = {{"client_admin_name", "Олег Петренко"}, {"client_admin_email", "oleg@client.example"}};
    s.ticked = {"accept_policy_and_transfer"};
    s.accept_policy = true;
    out.push_back({"000_lms_collaborator.toml", s, "client_admin_email", nullptr,
                   {{"agreement_end", "2025-03-10T12:00:00Z"}}, "2025-04-10",
                   "2025-04-09T12:00:00Z", "2025-04-10T12:00:00Z"});
  }
  {
    // 001 §3.5.2a, §3.6.4: identifiable only while the purposes need them (while_needed): the
    // sale's data go when the contract ends; fraud prevention, a legitimate interest with no term
    // of its own, keeps nothing by itself.
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
    // The contacts stay while the consent given with the payment runs.
    out.push_back({"001_vkluchi_zhizn.toml", s, "purchase_amount", "email",
                   {{"agreement_end", "2025-03-10T12:00:00Z"}}, "2025-03-10",
                   "2025-03-10T11:00:00Z", "2025-03-10T13:00:00Z"});
  }
  {
    // 002 L25: 30 calendar days after the agreement for the delivery address; the account's
    // e-mail stays for the product, in use.
    domain::Submission s;
    s.form = "order";
    s.fields = {{"first_name", "Айгерим"},
                {"last_name", "Садыкова"},
                {"mobile_phone", "+7 701 123 4567"},
                {"email", "aigerim@example.org"},
                {"postal_address", "Алматы, ул. Абая, 1"}};
    s.age_statement = "adult";
    out.push_back({"002_soho_lms.toml", s, "postal_address", "email",
                   {{"agreement_end", "2025-03-10T12:00:00Z"}}, "2025-04-10",
                   "2025-04-09T12:00:00Z", "2025-04-10T12:00:00Z"});
  }
  return out;
}

TEST_F(RetentionTest, R70_R71_EverySeedEndsItsDataOnTheDayItsTermEnds) {
  for (const SeedScenario& c : SeedScenarios()) {
    SCOPED_TRACE(c.file);
    env.clock.Set(At("2025-03-03T09:00:00Z"));
    Load(c.file);
    const SubjectId subject = Take(c.form);
    ASSERT_FALSE(subject.value().empty());
    ASSERT_TRUE(Fields(subject).count(c.field));
    for (const auto& e : c.events) {
      Status st = retention.RecordEvent(school->id(), subject, e.first, At(e.second), Staff(), {});
      ASSERT_TRUE(st.ok()) << e.first << ": " << st.error().message;
    }
    // The preview names the field on its day and no earlier.
    bool named = false;
    for (const auto& item : Preview(c.due)) {
      if (item.subject != subject || item.field != c.field) continue;
      named = true;
      EXPECT_EQ(item.due_date, c.due);
      EXPECT_EQ(item.action, "destroy");
    }
    EXPECT_TRUE(named);
    const size_t audited = Audit("retention.destroy").size();
    RunAt(c.before);
    EXPECT_TRUE(Fields(subject).count(c.field)) << "gone before its day";
    RunAt(c.after);
    EXPECT_FALSE(Fields(subject).count(c.field)) << "kept past its day";
    if (c.stays != nullptr) {
      EXPECT_TRUE(Fields(subject).count(c.stays));
      EXPECT_FALSE(Erased(subject));
    } else {
      EXPECT_TRUE(Erased(subject)) << ::testing::PrintToString(Fields(subject));
    }
    auto destroyed = Audit("retention.destroy");
    ASSERT_EQ(destroyed.size(), audited + 1);
    EXPECT_NE(destroyed.back().fields.find(c.field), std::string::npos);
    EXPECT_EQ(destroyed.back().actor, Actor::System("retention").AuditName());
  }
}

// R71: a use reported after the job stopped a purpose for inactivity opens it again at once, in
// the running gate (not only after a restart): the account is in use.
TEST_F(RetentionTest, R71_ALaterUseReopensAPurposeTheJobStopped) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), learner, "last_use", At("2025-03-03T09:00:00Z"),
                               Staff(), {})
                  .ok());
  RunAt("2026-03-04T09:00:00Z");  // twelve months of inactivity have passed
  // The e-mail stays for the running agreement; the account's purpose has stopped.
  EXPECT_TRUE(Fields(learner).count("email"));
  EXPECT_EQ(Gate(learner, "account_management", {"email"}, domain::Operation::kRead),
            domain::Reason::kRetentionEnded);
  EXPECT_EQ(Gate(learner, "contract_invoicing", {"email"}, domain::Operation::kRead),
            domain::Reason::kAllowed);
  env.clock.Set(At("2026-03-04T12:00:00Z"));  // the learner signs in again
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), learner, "last_use", At("2026-03-04T10:00:00Z"),
                               Staff(), {})
                  .ok());
  EXPECT_EQ(Gate(learner, "account_management", {"email"}, domain::Operation::kRead),
            domain::Reason::kAllowed);
  // And the next run leaves it open.
  RunAt("2026-03-05T09:00:00Z");
  EXPECT_EQ(Gate(learner, "account_management", {"email"}, domain::Operation::kRead),
            domain::Reason::kAllowed);
}

// R72 (004 §8.6): after the agreement ends, invoices are kept restricted to storage while the
// legal minimum of their category (3 years, ua_tax_code) runs, and go the day after it passes.
TEST_F(RetentionTest, R72_LegalMinimumKeepsInvoicesRestrictedUntilItPasses) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  Write(learner, "invoice_details", "invoice 17/2025, paid");
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), learner, "agreement_end",
                               At("2025-06-10T12:00:00Z"), Staff(), {})
                  .ok());
  bool named = false;
  for (const auto& item : Preview("2025-06-10")) {
    if (item.field != "invoice_details") continue;
    named = true;
    EXPECT_EQ(item.action, "keep");
    EXPECT_EQ(item.law, "ua_tax_code");
    EXPECT_EQ(item.kept_until, "2028-06-10");
  }
  EXPECT_TRUE(named);

  auto report = RunAt("2025-06-11T09:00:00Z");
  EXPECT_GE(report.fields_kept, 1);
  EXPECT_TRUE(Fields(learner).count("invoice_details"));
  EXPECT_EQ(Gate(learner, "contract_invoicing", {"invoice_details"}, domain::Operation::kRead),
            domain::Reason::kRetentionEnded);
  EXPECT_EQ(Gate(learner, "contract_invoicing", {"invoice_details"}, domain::Operation::kStore),
            domain::Reason::kAllowed);
  bool logged = false;
  for (const auto& a : Audit("retention.keep")) {
    if (a.fields.find("invoice_details") == std::string::npos) continue;
    logged = true;
    EXPECT_EQ(a.reason, "legal_minimum");
    EXPECT_NE(a.detail.find("ua_tax_code"), std::string::npos);
    EXPECT_NE(a.detail.find("2028-06-10"), std::string::npos);
  }
  EXPECT_TRUE(logged);

  bool ahead = false;
  for (const auto& item : Preview("2028-06-11")) {
    if (item.field == "invoice_details" && item.action == "destroy") {
      ahead = true;
      EXPECT_EQ(item.due_date, "2028-06-11");
    }
  }
  EXPECT_TRUE(ahead);
  RunAt("2028-06-10T12:00:00Z");  // the minimum's last day
  EXPECT_TRUE(Fields(learner).count("invoice_details"));
  auto last = RunAt("2028-06-11T09:00:00Z");
  EXPECT_FALSE(Fields(learner).count("invoice_details"));
  // Nothing else kept the learner (the account ended with its use in 2026): erased.
  EXPECT_EQ(last.subjects_erased, 1);
  EXPECT_TRUE(Erased(learner));
}

// R72 (004 §8.6): an erasure asked for before the legal minimum of invoices has passed is refused
// for them: every other field goes, the invoices stay restricted to storage under a hold naming
// the law and the last day, the answer says so, and the retention job erases them (and finishes
// the erasure) the day after the minimum passes, not a day earlier.
TEST_F(RetentionTest, R72_ErasureBeforeTheLegalMinimumKeepsInvoicesWithTheReason) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  Write(learner, "invoice_details", "invoice 17/2025, paid");
  // The agreement ended on 10 June 2025; the erasure is asked for on 1 September 2025.
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), learner, "agreement_end",
                               At("2025-06-10T12:00:00Z"), Staff(), {})
                  .ok());
  env.clock.Set(At("2025-09-01T09:00:00Z"));
  FileRequest f;
  f.type = "erasure";
  f.subject = learner;
  f.channel = "email";
  f.ground = "no_longer_needed";
  f.acknowledged_warning = true;  // R58
  f.reply_email = "olena@example.org";
  f.lang = "en";
  Actor officer = Staff();
  officer.role = "responsible_person";
  auto filed = requests.File(school->id(), f, officer, {});
  ASSERT_TRUE(filed.ok()) << filed.error().message;
  auto done = requests.Complete(school->id(), filed->id, CompleteRequest{}, officer, {});
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->outcome, "partly_erased_held");
  EXPECT_EQ(done->deferred, (std::vector<std::string>{"invoice_details"}));
  EXPECT_EQ(Fields(learner), (std::set<std::string>{"invoice_details"}));
  EXPECT_FALSE(Erased(learner));
  EXPECT_EQ(Gate(learner, "contract_invoicing", {"invoice_details"}, domain::Operation::kRead),
            domain::Reason::kRestricted);
  EXPECT_EQ(Gate(learner, "contract_invoicing", {"invoice_details"}, domain::Operation::kStore),
            domain::Reason::kAllowed);
  // The hold the erasure placed: the law of the minimum, three years from the agreement's end.
  auto held = holds.List(school->id(), learner);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1U);
  EXPECT_EQ((*held)[0].basis, "ua_tax_code");
  EXPECT_EQ((*held)[0].until, "2028-06-10");
  EXPECT_EQ((*held)[0].fields, (std::vector<std::string>{"invoice_details"}));
  EXPECT_EQ((*held)[0].request, filed->id);
  EXPECT_EQ(Audit("legal_hold.place").size(), 1U);
  // The answer names what was kept, the reason, the law and the last day.
  ASSERT_TRUE(outbox.DeliverDue().ok());
  std::string answer;
  for (const auto& m : mail.sent) answer += m.subject + "\n" + m.text + "\n";
  EXPECT_NE(answer.find("Invoices and payment records"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Tax Code of Ukraine"), std::string::npos) << answer;
  EXPECT_NE(answer.find("the minimum retention term the law sets for"), std::string::npos)
      << answer;
  EXPECT_NE(answer.find("10 June 2028"), std::string::npos) << answer;

  // The minimum's last day: kept. The day after: erased, and the learner with them.
  env.clock.Set(At("2028-06-10T12:00:00Z"));
  ASSERT_TRUE(requests.RunRetention(school->id(), {}).ok());
  EXPECT_EQ(Fields(learner), (std::set<std::string>{"invoice_details"}));
  env.clock.Set(At("2028-06-11T09:00:00Z"));
  auto run = requests.RunRetention(school->id(), {});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->subjects_erased, 1);
  EXPECT_TRUE(Fields(learner).empty());
  EXPECT_TRUE(Erased(learner));
}

// R72: with no agreement end on file the minimum runs from the erasure itself; a school whose
// policy states no legal minimum erases everything at once.
TEST_F(RetentionTest, R72_MinimumRunsFromTheErasureWhileTheAgreementRuns) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  Write(learner, "invoice_details", "invoice 18/2025");
  FileRequest f;
  f.type = "erasure";
  f.subject = learner;
  f.channel = "email";
  f.ground = "no_longer_needed";
  f.acknowledged_warning = true;
  Actor officer = Staff();
  officer.role = "responsible_person";
  auto filed = requests.File(school->id(), f, officer, {});
  ASSERT_TRUE(filed.ok()) << filed.error().message;
  auto done = requests.Complete(school->id(), filed->id, CompleteRequest{}, officer, {});
  ASSERT_TRUE(done.ok()) << done.error().message;
  auto held = holds.List(school->id(), learner);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1U);
  EXPECT_EQ((*held)[0].until, "2028-03-03");  // three years from 3 March 2025
}

// R21, R72: a consent given with a term ends at its expiry; consent-based processing stops and the
// next run destroys what only that consent kept (004's newsletter subscriber: the whole subject).
TEST_F(RetentionTest, R21_R72_ConsentTermEndsNewsletterData) {
  Load("004_bbooster_masterclass.toml");
  env.clock.Set(At("2025-03-04T09:00:00Z"));
  domain::Submission s;
  s.form = "newsletter_signup";
  s.fields = {{"email", "reader@example.org"}, {"first_name", "Марта"}};
  s.ticked = {"newsletter_subscribe"};
  s.accept_policy = true;
  s.age_statement = "adult";
  const SubjectId reader = Take(s);
  GrantRequest g;
  g.subject = reader;
  g.consent_type = "newsletter";
  g.text = "I subscribe to the newsletters.";
  g.channel = "personal_account";
  g.expires = "2025-09-04";
  auto granted = consents.Grant(school->id(), g, Actor::Public(), {});
  ASSERT_TRUE(granted.ok()) << granted.error().message;

  env.clock.Set(At("2025-09-04T20:59:00Z"));  // 23:59 in Kyiv, the consent's last day
  EXPECT_EQ(Gate(reader, "newsletter", {"email"}, domain::Operation::kMessage),
            domain::Reason::kAllowed);
  bool named = false;
  for (const auto& item : Preview("2025-09-05")) {
    if (item.subject == reader && item.field == "email") {
      named = true;
      EXPECT_EQ(item.trigger, "consent_expired");
      EXPECT_EQ(item.due_date, "2025-09-05");
    }
  }
  EXPECT_TRUE(named);
  RunAt("2025-09-04T20:59:00Z");
  EXPECT_EQ(Fields(reader).size(), 2U);
  env.clock.Set(At("2025-09-04T21:00:00Z"));  // 00:00 on 5 September in Kyiv
  EXPECT_NE(Gate(reader, "newsletter", {"email"}, domain::Operation::kMessage),
            domain::Reason::kAllowed);
  auto report = RunAt("2025-09-04T21:00:00Z");
  EXPECT_EQ(report.subjects_erased, 1);
  EXPECT_TRUE(Erased(reader));
}

// R70 (003): a field goes when its last purpose ends; a field another running purpose uses stays.
TEST_F(RetentionTest, R70_FieldStaysWhileAnotherPurposeUsesIt) {
  Load("003_it_pro.toml");
  domain::Submission s;
  s.subject_kind = "pupil";
  s.channel = "api";
  s.source = "automatic";
  s.fields = {{"first_name", "Петро"}, {"last_name", "Коваль"}};
  s.accept_policy = true;
  s.age_statement = "adult";
  const SubjectId pupil = Take(s);
  ASSERT_FALSE(pupil.value().empty());
  Write(pupil, "eid_number", "EID-0042");
  Write(pupil, "eid_library_events", "2025-03-01 borrowed 3 books");
  Write(pupil, "eid_transport_events", "2025-03-01 bus 12");
  env.clock.Set(At("2025-03-04T08:00:00Z"));
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), pupil, "purpose_end:eid_library",
                               At("2025-03-04T08:00:00Z"), Staff(), {})
                  .ok());
  RunAt("2025-03-04T09:00:00Z");
  const auto left = Fields(pupil);
  EXPECT_FALSE(left.count("eid_library_events"));
  EXPECT_TRUE(left.count("eid_number"));  // transport and entry control still use it
  EXPECT_TRUE(left.count("eid_transport_events"));
  EXPECT_EQ(Gate(pupil, "eid_library", {"eid_number"}, domain::Operation::kRead),
            domain::Reason::kRetentionEnded);
}

// R51: data past retention under a restriction on the ground of legal claims are skipped, and the
// reason is logged, every run until the restriction goes.
TEST_F(RetentionTest, R51_LegalClaimsRestrictionSkipsAndLogsTheReason) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  Write(learner, "agreement_status", "ended");
  ports::RequestRow r;
  r.school = school->id();
  r.id = "req_claims";
  r.type = "restriction";
  r.state = "in_progress";
  r.subject = learner.value();
  r.received_at = r.updated_at = r.due_at = env.clock.Now();
  r.body = R"({"ground":"needed_by_subject_for_legal_claims","restricted":["agreement_status"]})";
  ports::WriteBatch batch;
  batch.requests.push_back(r);
  ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
  ASSERT_TRUE(retention
                  .RecordEvent(school->id(), learner, "agreement_end", env.clock.Now(), Staff(),
                               {})
                  .ok());
  auto report = RunAt("2025-03-04T09:00:00Z");
  EXPECT_EQ(report.fields_skipped, 1);
  EXPECT_TRUE(Fields(learner).count("agreement_status"));
  auto skipped = Audit("retention.skip");
  ASSERT_EQ(skipped.size(), 1U);
  EXPECT_EQ(skipped[0].reason, "legal_claims_restriction");
  RunAt("2025-03-05T09:00:00Z");
  EXPECT_EQ(Audit("retention.skip").size(), 2U);
}

TEST_F(RetentionTest, R70_BadEventsAreRefusedAndChangeNothing) {
  Load("004_bbooster_masterclass.toml");
  const SubjectId learner = Take(PackageOrder());
  auto bad = retention.RecordEvent(school->id(), learner, "graduated", env.clock.Now(), Staff(), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "kind");
  auto unknown = retention.RecordEvent(school->id(), learner, "purpose_end:astrology",
                                       env.clock.Now(), Staff(), {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "kind");
  auto future = retention.RecordEvent(school->id(), learner, "last_use",
                                      env.clock.Now() + std::chrono::hours(1), Staff(), {});
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().field, "at");
  auto nobody = retention.RecordEvent(school->id(), SubjectId("sub_nobody"), "last_use",
                                      env.clock.Now(), Staff(), {});
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().code, ErrorCode::kNotFound);
  auto events = env.store->GetSubjectEvents(school->id(), learner);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
  EXPECT_TRUE(Audit("retention.event").empty());
}

}  // namespace
}  // namespace dovira::services
