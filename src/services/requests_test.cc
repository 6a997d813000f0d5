#include "services/requests.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "services/consents.h"
#include "services/data_access.h"
#include "services/disclosures.h"
#include "services/outbox.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {

// Reaches the package built in memory (what the e-mailed answer attaches) for comparison.
class RequestServicePeer {
 public:
  static Result<std::string> Built(RequestService& service, SchoolRuntime& school,
                                   const std::string& id) {
    auto r = service.Load(school.id(), id);
    if (!r.ok()) return r.error();
    return service.BuildPackage(school, *r);
  }
};

namespace {

using test::TestEnv;

Actor Officer() {
  Actor a;
  a.kind = Actor::Kind::kStaff;
  a.id = "st_officer";
  a.role = "responsible_person";
  return a;
}

domain::Submission PaymentForm() {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Оксана"},
              {"last_name", "Melnyk \"O'Neil\""},
              {"email", "oksana@example.org"},
              {"mobile_phone", "+380 67 123 4567"},
              {"home_address", "Київ, Хрещатик 1, кв. 5"},
              {"purchased_service", "Course: Mindful Mornings"},
              {"purchase_amount", "1200.50"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  s.lang = "uk";
  return s;
}

class RequestPackageTest : public ::testing::Test {
 protected:
  RequestPackageTest()
      : subjects(env.deps(), env.schools, env.audit),
        consents(env.deps(), env.schools, subjects, env.audit),
        outbox(env.deps(), nullptr, nullptr, "privacy@school.test", env.schools),
        access(env.deps(), env.schools, subjects, env.audit),
        disclosures(env.deps(), env.schools, access, env.audit, outbox),
        requests(env.deps(), env.schools, subjects, consents, env.audit, outbox, disclosures) {}

  void SetUp() override {
    auto rt = env.LoadShipped("001_vkluchi_zhizn.toml");
    ASSERT_TRUE(rt.ok());
    school = *rt;
    auto taken = subjects.Intake(school->id(), PaymentForm(), Actor::Public(), {});
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    subject = taken->subject;
  }

  // Copies of the subject's records, each sealed under its key with its own value, as a subject
  // collected many times over has them.
  void AddRecords(size_t total) {
    auto model = env.store->GetRecords(school->id(), subject);
    ASSERT_TRUE(model.ok());
    ASSERT_FALSE(model->empty());
    auto key = subjects.SubjectKey(school->id(), subject);
    ASSERT_TRUE(key.ok());
    ports::WriteBatch batch;
    for (size_t n = model->size(); n < total; ++n) {
      ports::RecordRow r = (*model)[n % model->size()];
      r.id = RecordId(subject.value() + "-" + std::to_string(n));
      r.sealed_value = subjects.SealValue(*key, school->id(), subject, r.field, r.id.value(),
                                          "заняття \"" + std::to_string(n) + "\"\t\\ ✓");
      batch.records.push_back(std::move(r));
    }
    ASSERT_TRUE(env.store->Commit(std::move(batch)).ok());
    subjects.ForgetRecords(school->id(), subject);
  }

  std::string FileAccess() {
    FileRequest f;
    f.type = "access";
    f.subject = subject;
    f.channel = "email";
    f.reply_email = "oksana@example.org";
    f.lang = "uk";
    auto filed = requests.File(school->id(), f, Officer(), {});
    EXPECT_TRUE(filed.ok()) << filed.error().message;
    EXPECT_NE(filed->identity, "required");
    return filed->id;
  }

  size_t Exports() {
    size_t n = 0;
    EXPECT_TRUE(env.store
                    ->ForEachAudit(school->id(), 0,
                                   [&](const ports::AuditRow& a) {
                                     if (a.action == "export" && a.reason == "access_package") ++n;
                                     return true;
                                   })
                    .ok());
    return n;
  }

  TestEnv env;
  SubjectService subjects;
  ConsentService consents;
  Outbox outbox;
  DataAccessService access;
  DisclosureService disclosures;
  RequestService requests;
  SchoolRuntime* school = nullptr;
  SubjectId subject{""};
};

// R40, R88: the package written out page by page is byte for byte the package built in memory,
// its summary leaves before any record is opened, no piece holds more than a bounded part of it,
// and the export is audited once, before anything is written.
TEST_F(RequestPackageTest, R40_StreamedPackageIsTheBuiltOneByteForByte) {
  ASSERT_NO_FATAL_FAILURE(AddRecords(3000));
  const std::string id = FileAccess();
  auto built = RequestServicePeer::Built(requests, *school, id);
  ASSERT_TRUE(built.ok()) << built.error().message;

  const size_t before = Exports();
  auto stream = requests.Package(school->id(), id, Officer(), {});
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  EXPECT_EQ(Exports(), before + 1);
  std::vector<std::string> pieces;
  Status st = stream->Write([&](std::string piece) {
    pieces.push_back(std::move(piece));
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(Exports(), before + 1);

  std::string streamed;
  size_t largest = 0;
  for (const auto& p : pieces) {
    streamed += p;
    largest = std::max(largest, p.size());
  }
  EXPECT_EQ(streamed, *built);
  EXPECT_GT(built->size(), size_t{400} * 1024);
  ASSERT_GE(pieces.size(), 4u);
  EXPECT_LT(largest, size_t{96} * 1024);
  EXPECT_TRUE(pieces.front().ends_with("\"data\":[")) << pieces.front();
  EXPECT_EQ(pieces.front().find("заняття"), std::string::npos);
}

// A subject with no records, and a request about no known subject, stream the same bytes too.
TEST_F(RequestPackageTest, R40_StreamedPackageWithoutRecordsIsTheBuiltOne) {
  FileRequest f;
  f.type = "access";
  f.email = "nobody@example.org";
  f.channel = "email";
  f.lang = "en";
  auto filed = requests.File(school->id(), f, Officer(), {});
  ASSERT_TRUE(filed.ok()) << filed.error().message;
  if (filed->identity == "required") GTEST_SKIP() << "the unmatched request waits for identity";
  auto built = RequestServicePeer::Built(requests, *school, filed->id);
  ASSERT_TRUE(built.ok());
  auto stream = requests.Package(school->id(), filed->id, Officer(), {});
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  std::string streamed;
  ASSERT_TRUE(stream->Write([&](std::string p) {
                      streamed += p;
                      return true;
                    })
                  .ok());
  EXPECT_EQ(streamed, *built);
}

// The summary is written before the records: records that change in between (here more records
// than the summary counted) end the package with an error instead of contradicting it, and a
// reader that goes away stops the writing.
TEST_F(RequestPackageTest, R40_StreamedPackageStopsWhenTheRecordsChangeOrTheReaderLeaves) {
  ASSERT_NO_FATAL_FAILURE(AddRecords(600));
  const std::string id = FileAccess();

  auto stream = requests.Package(school->id(), id, Officer(), {});
  ASSERT_TRUE(stream.ok());
  int calls = 0;
  Status stopped = stream->Write([&](std::string) { return ++calls < 2; });
  EXPECT_FALSE(stopped.ok());
  EXPECT_EQ(calls, 2);

  auto again = requests.Package(school->id(), id, Officer(), {});
  ASSERT_TRUE(again.ok());
  ASSERT_NO_FATAL_FAILURE(AddRecords(700));
  std::string partial;
  Status changed = again->Write([&](std::string p) {
    partial += p;
    return true;
  });
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.error().message.find("changed"), std::string::npos) << changed.error().message;
  EXPECT_NE(partial.find("\"data\":["), std::string::npos);
  EXPECT_EQ(partial.find("\"generated_at\""), std::string::npos);  // written after "data"
}

// --- R37: the public request's identity code ------------------------------------------------------

class RequestCodeTest : public ::testing::Test {
 protected:
  RequestCodeTest()
      : subjects(env.deps(), env.schools, env.audit),
        consents(env.deps(), env.schools, subjects, env.audit),
        outbox(env.deps(), &mail, nullptr, "privacy@school.test", env.schools),
        access(env.deps(), env.schools, subjects, env.audit),
        disclosures(env.deps(), env.schools, access, env.audit, outbox),
        requests(env.deps(), env.schools, subjects, consents, env.audit, outbox, disclosures) {}

  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
    ASSERT_TRUE(subjects.Intake(school, PaymentForm(), Actor::Public(), {}).ok());
    FileRequest f;
    f.type = "access";
    f.email = "oksana@example.org";
    f.channel = "web";
    f.filed_by = "subject";
    auto r = requests.File(school, f, Actor::Public(), {});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->state, "awaiting_identity");
    id = r->id;
  }

  // The code in the last identity-code e-mail delivered ("" when none).
  std::string MailedCode() {
    EXPECT_TRUE(outbox.DeliverDue().ok());
    std::string code;
    std::smatch found;
    for (const auto& m : mail.sent) {
      if (std::regex_search(m.text, found, std::regex(R"(: (\d{6}))"))) code = found[1];
    }
    return code;
  }
  static std::string Wrong(const std::string& code) { return code == "111111" ? "222222" : "111111"; }
  Result<RequestInfo> Verify(const std::string& code) {
    return requests.Verify(school, id, "email_code", code, "", Actor::Public(), {});
  }
  static std::string Reason(const Result<RequestInfo>& r) {
    return r.ok() ? r->state : r.error().ReasonOrCode();
  }

  TestEnv env;
  test::KeptMail mail;
  SubjectService subjects;
  ConsentService consents;
  Outbox outbox;
  DataAccessService access;
  DisclosureService disclosures;
  RequestService requests;
  const SchoolId school{"vkluchi_zhizn"};
  std::string id;
};

TEST_F(RequestCodeTest, R37_AfterFiveWrongCodesEvenTheRightOneIsRefusedUntilANewOneIsSent) {
  const std::string code = MailedCode();
  ASSERT_EQ(code.size(), 6u);
  for (int i = 1; i <= kMaxCodeAttempts; ++i) {
    auto r = Verify(Wrong(code));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kRefused);
    EXPECT_EQ(r.error().reason, "code_invalid");
    EXPECT_NE(r.error().message.find(i < kMaxCodeAttempts ? std::to_string(kMaxCodeAttempts - i)
                                                           : std::string("last try")),
              std::string::npos)
        << r.error().message;
  }
  auto right = Verify(code);
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.error().code, ErrorCode::kTooManyRequests);
  EXPECT_EQ(right.error().reason, "code_attempts_exceeded");
  // The tries are on the timeline (and survive a reload: they are stored with the request).
  auto events = requests.Events(school, id);
  ASSERT_TRUE(events.ok());
  int failed = 0;
  for (const auto& e : *events) failed += e.kind == "code_failed";
  EXPECT_EQ(failed, kMaxCodeAttempts);

  EXPECT_EQ(Reason(requests.ResendCode(school, id, "other@example.org", Actor::Public(), {})),
            "email_mismatch");
  EXPECT_EQ(Reason(requests.ResendCode(school, id, "not an address", Actor::Public(), {})),
            "invalid_argument");
  auto resent = requests.ResendCode(school, id, "Oksana@Example.org", Actor::Public(), {});
  ASSERT_TRUE(resent.ok()) << resent.error().message;
  EXPECT_EQ(resent->code_expires_at, env.clock.Now() + kCodeLifetime);
  const std::string fresh = MailedCode();
  ASSERT_EQ(fresh.size(), 6u);
  EXPECT_EQ(Reason(Verify(fresh)), "in_progress");
  EXPECT_EQ(Reason(requests.ResendCode(school, id, "oksana@example.org", Actor::Public(), {})),
            "identity_not_awaited");
}

TEST_F(RequestCodeTest, R37_ACodeStopsWorkingFifteenMinutesAfterItWasSent) {
  const std::string code = MailedCode();
  ASSERT_EQ(code.size(), 6u);
  env.clock.Advance(kCodeLifetime - std::chrono::seconds(1));
  EXPECT_EQ(Reason(Verify(Wrong(code))), "code_invalid");
  env.clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Reason(Verify(code)), "code_expired");
  env.clock.Advance(std::chrono::hours(24 * 10));
  EXPECT_EQ(Reason(Verify(code)), "code_expired");
  ASSERT_TRUE(requests.ResendCode(school, id, "oksana@example.org", Actor::Public(), {}).ok());
  const std::string fresh = MailedCode();
  env.clock.Advance(kCodeLifetime - std::chrono::seconds(1));
  EXPECT_EQ(Reason(Verify(fresh)), "in_progress");
}

}  // namespace
}  // namespace dovira::services
