#include "domain/intake.h"

#include <gtest/gtest.h>

#include "domain/gate.h"
#include "domain/test_policies.h"

namespace dovira::domain {
namespace {

using namespace ::dovira::domain::testing;  // NOLINT(google-build-using-namespace)

std::string ReasonOf(const Result<ValidatedSubmission>& r) {
  return r.ok() ? "ok" : r.error().reason;
}

Submission Payment001() {
  Submission s;
  s.form = "payment";
  s.lang = "uk";
  s.fields = {{"first_name", "Олена"},
              {"email", " Olena@Example.com "},
              {"mobile_phone", "+380 67 123 45 67"},
              {"purchased_service", "Курс"},
              {"purchase_amount", "1200"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  return s;
}

TEST(Intake, FormSubmissionWithConsentIsAccepted) {  // R15, R16
  auto r = ValidateSubmission(*P001(), Payment001(), At("2025-03-03T10:00:00Z"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->subject_kind, "buyer");
  EXPECT_EQ(r->channel, "payment");
  EXPECT_EQ(r->fields.at("email"), "olena@example.com");
  ASSERT_EQ(r->consents.size(), 1u);
  EXPECT_EQ(r->consents[0].text, "Я згоден на обробку моїх персональних даних");
  EXPECT_EQ(r->consents[0].grants.size(), 6u);
}

TEST(Intake, UntickedRequiredConsentIsRefused) {  // R15
  auto s = Payment001();
  s.ticked.clear();
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))),
            "consent_required");
}

TEST(Intake, UndeclaredFieldIsRefused) {  // R07: 001 §2.2 lists no birth date
  Submission s;
  s.subject_kind = "buyer";
  s.channel = "api";
  s.fields = {{"first_name", "A"}, {"date_of_birth", "2001-01-01"}};
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  EXPECT_EQ(ReasonOf(r), "field_undeclared");
  EXPECT_EQ(r.error().field, "date_of_birth");
  // 003 L45 lists it.
  Submission t;
  t.subject_kind = "user";
  t.channel = "api";
  t.fields = {{"first_name", "A"}, {"date_of_birth", "2001-01-01"}};
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P003(), t, At("2025-03-03T10:00:00Z"))), "ok");
}

TEST(Intake, MandatoryFieldsAloneSuffice) {  // R08
  Submission s;
  s.form = "masterclass";
  s.fields = {{"first_name", "Ivan"}, {"email", "ivan@example.com"}, {"phone", "+380501234567"}};
  s.ticked = {"button_consent"};
  s.age_statement = "adult";
  s.accept_policy = true;
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P004(), s, At("2025-03-03T10:00:00Z"))), "ok");
  s.fields.erase("phone");
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P004(), s, At("2025-03-03T10:00:00Z"))), "field_required");
  s.fields["phone"] = "+380501234567";
  s.fields["date_of_birth"] = "2001-01-01";
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P004(), s, At("2025-03-03T10:00:00Z"))),
            "field_undeclared");
}

TEST(Intake, UndeclaredSubjectKindIsRefused) {  // R09
  Submission s;
  s.subject_kind = "employee";
  s.channel = "api";
  s.fields = {{"first_name", "A"}};
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))),
            "subject_kind_undeclared");
  Submission t = s;
  t.fields = {{"first_name", "A"}};
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P004(), t, At("2025-03-03T10:00:00Z"))), "ok");
}

TEST(Intake, R18_ApiIntakeTakesOnlyAChannelThePolicyDeclares) {
  Submission s;
  s.subject_kind = "buyer";
  s.fields = {{"first_name", "A"}};
  s.channel = "carrier_pigeon";
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  EXPECT_EQ(ReasonOf(r), "channel_invalid");
  EXPECT_EQ(r.error().field, "channel");
  s.channel = "phone_call";  // declared by 004, not by 001
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))), "channel_invalid");
  for (const char* ok : {"subscription_form", "api"}) {
    s.channel = ok;
    EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))), "ok") << ok;
  }
}

TEST(Intake, Policy001AcceptsDataOnlyFromTheSubject) {  // R12
  Submission s;
  s.subject_kind = "buyer";
  s.channel = "import";
  s.source = "third_party";
  s.fields = {{"first_name", "A"}};
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))),
            "source_not_allowed");
}

TEST(Intake, MinorsNeedARepresentativeOn001) {  // R24
  auto s = Payment001();
  s.age_statement = "";
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))),
            "age_statement_required");
  s.age_statement = "minor";
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))),
            "representative_required");
  s.representative = Representative{"Mariia Koval", "parent", "", "2025-03-03"};
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->minor);
  EXPECT_EQ(r->fields.at("representative_name"), "Mariia Koval");
  EXPECT_EQ(r->fields.at("representative_permission_date"), "2025-03-03");
}

TEST(Intake, Policy004RefusesMinors) {  // R25
  Submission s;
  s.form = "masterclass";
  s.fields = {{"first_name", "Ivan"}, {"email", "kid@example.com"}, {"phone", "+380501234567"}};
  s.ticked = {"button_consent"};
  s.accept_policy = true;
  s.age_statement = "minor";
  s.representative = Representative{"Parent", "parent", "", "2025-03-01"};
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P004(), s, At("2025-03-03T10:00:00Z"))),
            "minor_not_accepted");
}

TEST(Intake, BirthDateMakesAMinorOn003) {  // R27
  Submission s;
  s.form = "registration";
  s.fields = {{"first_name", "Taras"},
              {"last_name", "Shevchuk"},
              {"email", "taras@example.com"},
              {"date_of_birth", "2012-05-01"}};
  s.accept_policy = true;
  s.representative = Representative{"Parent", "parent", "", "2025-03-01"};
  auto r = ValidateSubmission(*P003(), s, At("2025-03-03T10:00:00Z"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->minor);
  // Majority starts at local midnight in the school's time zone (Europe/Kyiv, summer time).
  EXPECT_EQ(r->minor_until_us, Us("2030-04-30T21:00:00Z"));
  ASSERT_TRUE(r->majority.has_value());
  EXPECT_EQ(calendar::FormatDate(*r->majority), "2030-05-01");
}

TEST(Intake, AStatedDayOfMajorityEndsTheMinorityInTheSchoolsZone) {  // B06
  auto s = Payment001();
  s.age_statement = "minor";
  s.representative = Representative{"Mariia Koval", "parent", "mariia@example.com", "2025-03-03"};
  s.date_of_majority = "2025-03-10";
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->minor);
  EXPECT_EQ(r->minor_until_us, Us("2025-03-09T22:00:00Z"));  // Kyiv, winter time
  ASSERT_TRUE(r->majority.has_value());
  EXPECT_EQ(calendar::FormatDate(*r->majority), "2025-03-10");

  for (const char* bad : {"10.03.2025", "2025-02-30", "2025-03-03"}) {
    s.date_of_majority = bad;
    auto e = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
    EXPECT_EQ(ReasonOf(e), "field_invalid") << bad;
    EXPECT_EQ(e.error().field, "date_of_majority") << bad;
  }
  // Only a minor has a day of majority to come.
  s.date_of_majority = "2025-03-10";
  s.age_statement = "adult";
  s.representative.reset();
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))), "field_invalid");
}

TEST(Intake, FieldValuesAreValidatedByType) {
  auto s = Payment001();
  s.fields["email"] = "not-an-email";
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  EXPECT_EQ(ReasonOf(r), "field_invalid");
  EXPECT_EQ(r.error().field, "email");
  s = Payment001();
  s.fields["mobile_phone"] = "call me";
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))), "field_invalid");
  s = Payment001();
  s.fields["first_name"] = std::string("bad\xff", 4);
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))), "field_invalid");
  s = Payment001();
  s.fields["first_name"] = std::string(300, 'a');
  EXPECT_EQ(ReasonOf(ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"))), "field_invalid");
}

TEST(Intake, PolicyAcceptanceIsRequiredWhereTheFormSaysSo) {  // R03
  Submission s;
  s.form = "registration";
  s.fields = {{"first_name", "A"}, {"last_name", "B"}, {"email", "a@example.com"},
              {"date_of_birth", "1990-01-01"}};
  s.accept_policy = false;
  auto r = ValidateSubmission(*P003(), s, At("2025-03-03T10:00:00Z"));
  if (P003()->policy().forms.at("registration").accept_policy) {
    EXPECT_EQ(ReasonOf(r), "policy_not_accepted");
  }
}

// Issue 12 (R15, R24): a form with several mistakes is refused with every one of them, each
// naming its field and carrying what the reader's message needs.
TEST(Intake, EveryProblemOfAFormIsReportedAtOnce) {
  Submission s;
  s.form = "payment";
  s.lang = "uk";
  s.fields = {{"first_name", "Олена"}, {"email", "not an address"}, {"purchase_amount", "a lot"},
              {"representative_name", "Марія Коваль"}};
  s.age_statement = "minor";  // and no relation or date of permission
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  ASSERT_FALSE(r.ok());
  std::vector<std::string> got;
  for (const Error& e : r.error().AllProblems()) got.push_back(e.reason + ":" + e.field);
  const std::vector<std::string> want = {
      "field_invalid:email",
      "field_invalid:purchase_amount",
      "field_required:mobile_phone",
      "field_required:purchased_service",
      "policy_not_accepted:accept_policy",
      "consent_required:consents",
      "representative_required:representative_relation",
      "representative_required:representative_permission_date"};
  EXPECT_EQ(got, want);
  // The first problem is the error itself, for clients that read one.
  EXPECT_EQ(r.error().reason, "field_invalid");
  EXPECT_EQ(r.error().field, "email");
  const auto all = r.error().AllProblems();
  EXPECT_EQ(all[0].Arg("variant"), "email");
  EXPECT_EQ(all[1].Arg("variant"), "decimal");
  EXPECT_EQ(all[2].Arg("field"), "mobile_phone");
  EXPECT_EQ(all[5].Arg("consent"), "pd_consent");
}

TEST(Intake, AnAdultIsNotAskedForARepresentative) {  // R24, issue 12
  Submission s = Payment001();
  s.fields.erase("mobile_phone");
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.error().AllProblems().size(), 1u);
  EXPECT_EQ(r.error().reason, "field_required");
  EXPECT_TRUE(r.error().problems.empty()) << "a single problem stays a plain error";
}

TEST(Intake, TooLongValueNamesItsLimit) {  // issue 12
  Submission s = Payment001();
  s.fields["first_name"] = std::string(101, 'a');
  auto r = ValidateSubmission(*P001(), s, At("2025-03-03T10:00:00Z"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().Arg("variant"), "too_long");
  EXPECT_EQ(r.error().Arg("max"), "100");
  EXPECT_EQ(r.error().Arg("field"), "first_name");
}

}  // namespace
}  // namespace dovira::domain
