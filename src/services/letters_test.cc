// The letters a school sends (R36, R47, R64; issue 12): one sender for every letter, the school's
// mailbox with the school's name; signed by the school, never by Dovira; dates as a person writes
// them in the letter's language and the school's time zone; texts from the catalogue in each
// language.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "services/consents.h"
#include "services/data_access.h"
#include "services/disclosures.h"
#include "services/outbox.h"
#include "services/request_texts.h"
#include "services/requests.h"
#include "services/subjects.h"
#include "services/test_env.h"

namespace dovira::services {
namespace {

using test::TestEnv;

domain::Submission Payment(const std::string& email) {
  domain::Submission s;
  s.form = "payment";
  s.fields = {{"first_name", "Oksana"},      {"last_name", "Melnyk"},
              {"email", email},              {"mobile_phone", "+380671234567"},
              {"purchased_service", "Course A"}, {"purchase_amount", "990"}};
  s.ticked = {"pd_consent"};
  s.accept_policy = true;
  s.age_statement = "adult";
  return s;
}

class LettersTest : public ::testing::Test {
 protected:
  LettersTest()
      : subjects(env.deps(), env.schools, env.audit),
        consents(env.deps(), env.schools, subjects, env.audit),
        outbox(env.deps(), &mail, nullptr, "privacy@dovira.test", env.schools),
        access(env.deps(), env.schools, subjects, env.audit),
        disclosures(env.deps(), env.schools, access, env.audit, outbox),
        requests(env.deps(), env.schools, subjects, consents, env.audit, outbox, disclosures) {}

  void SetUp() override {
    ASSERT_TRUE(env.LoadShipped("001_vkluchi_zhizn.toml").ok());
  }

  // Files an access request in `lang` for a new subject, confirms it with the e-mailed code and
  // returns it; the letter of receipt and the identity-code letter are then in `mail.sent`.
  RequestInfo FileAndConfirm(const std::string& lang) {
    const std::string email = "oksana-" + lang + "@example.org";
    EXPECT_TRUE(subjects.Intake(school, Payment(email), Actor::Public(), {}).ok());
    FileRequest f;
    f.type = "access";
    f.email = email;
    f.channel = "web";
    f.filed_by = "subject";
    f.lang = lang;
    auto r = requests.File(school, f, Actor::Public(), {});
    EXPECT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(outbox.DeliverDue().ok());
    std::smatch found;
    std::string code;
    for (const auto& m : mail.sent) {
      if (std::regex_search(m.text, found, std::regex(R"(: (\d{6}))"))) code = found[1];
    }
    if (code.empty()) {
      ADD_FAILURE() << "no identity code was mailed";
      return *r;
    }
    auto v = requests.Verify(school, r->id, "email_code", code, "", Actor::Public(), {});
    EXPECT_TRUE(v.ok()) << v.error().message;
    EXPECT_TRUE(outbox.DeliverDue().ok());
    return v.ok() ? *v : *r;
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
};

const std::regex kIsoDate(R"(\d{4}-\d{2}-\d{2})");

// R36: the identity code and the answer that follows come from the same sender, the school's
// mailbox named in the policy, with the school's name in the letter's language; each is signed
// by the school with that mailbox, and none names Dovira.
TEST_F(LettersTest, R36_EveryLetterHasOneSenderAndTheSchoolsSignature) {
  const std::map<std::string, std::string> names = {
      {"uk", "Включи життя"}, {"ru", "Включи Жизнь"}, {"en", "Vkluchi Zhizn"}};
  for (const auto& [lang, name] : names) {
    mail.sent.clear();
    FileAndConfirm(lang);
    ASSERT_GE(mail.sent.size(), 2u) << lang;
    std::set<std::string> senders;
    for (const auto& m : mail.sent) {
      senders.insert(m.from + " " + m.from_name);
      EXPECT_EQ(m.from, "natalia.lomonosova.kurs@gmail.com") << lang << ": " << m.subject;
      EXPECT_EQ(m.from_name, name) << lang;
      const std::string signature = "\n" + name + "\nnatalia.lomonosova.kurs@gmail.com";
      ASSERT_GE(m.text.size(), signature.size());
      EXPECT_EQ(m.text.substr(m.text.size() - signature.size()), signature) << m.text;
      EXPECT_EQ(m.text.find("Dovira"), std::string::npos) << m.text;
      EXPECT_EQ(m.subject.find("Dovira"), std::string::npos) << m.subject;
    }
    EXPECT_EQ(senders.size(), 1u) << lang;
  }
}

// Issue 12: the dates in a letter are the school's local dates written in the letter's language,
// never ISO 8601 ("…T23:59:59+02:00").
TEST_F(LettersTest, DatesAreWrittenInTheLettersLanguageAndTheSchoolsTimeZone) {
  for (const std::string lang : {"uk", "ru", "en"}) {
    mail.sent.clear();
    RequestInfo r = FileAndConfirm(lang);
    ASSERT_FALSE(mail.sent.empty());
    const auto& cal = (*env.schools.Get(school))->policy()->calendar();
    const std::string due = LetterDate(cal, r.due_at, lang);
    bool names_due = false;
    for (const auto& m : mail.sent) {
      EXPECT_FALSE(std::regex_search(m.text, kIsoDate)) << lang << ":\n" << m.text;
      EXPECT_EQ(m.text.find("T23:59"), std::string::npos) << m.text;
      if (m.text.find(due) != std::string::npos) names_due = true;
    }
    EXPECT_TRUE(names_due) << lang << ": no letter names the due date " << due;
    for (const auto& m : mail.sent) {
      EXPECT_EQ(m.text.find(".."), std::string::npos) << "one full stop after a date:\n" << m.text;
    }
  }
}

TEST(LetterDates, ADayIsWrittenAsAPersonWritesIt) {
  const calendar::Date day = *calendar::ParseDate("2026-12-31");
  EXPECT_EQ(LetterDay(day, "uk"), "31 грудня 2026 р.");
  EXPECT_EQ(LetterDay(day, "ru"), "31 декабря 2026 г.");
  EXPECT_EQ(LetterDay(day, "en"), "31 December 2026");
  EXPECT_EQ(LetterDayText("2027-03-01", "ru"), "1 марта 2027 г.");
}

TEST(LetterDates, TheTimeIsTheSchoolsLocalTime) {
  calendar::CalendarConfig config;
  config.timezone = "Europe/Kyiv";
  auto cal = calendar::Calendar::Create(config);
  ASSERT_TRUE(cal.ok()) << cal.error().message;
  // 22:30 UTC on 31 December is 00:30 on 1 January in Kyiv.
  const Timestamp t = Timestamp(std::chrono::sys_days(std::chrono::year{2026} / 12 / 31)) +
                      std::chrono::hours(22) + std::chrono::minutes(30);
  EXPECT_EQ(LetterDateTime(*cal, t, "uk"), "1 січня 2027 р. о 00:30");
  EXPECT_EQ(LetterDateTime(*cal, t, "en"), "1 January 2027 at 00:30");
  EXPECT_EQ(LetterDate(*cal, t, "ru"), "1 января 2027 г.");
}

// A letter names fields and purposes by their titles in its language, never by their ids.
TEST_F(LettersTest, FieldsAndPurposesAreNamedByTheirTitles) {
  const policy::Policy& p = (*env.schools.Get(school))->policy()->policy();
  EXPECT_EQ(FieldTitles(p, {"email", "mobile_phone"}, "uk"),
            p.fields.at("email").title.Get("uk") + ", " + p.fields.at("mobile_phone").title.Get("uk"));
  EXPECT_EQ(PurposeTitles(p, {"marketing_mailing"}, "ru"), "Рекламная и маркетинговая рассылка");
  EXPECT_EQ(FieldTitles(p, {}, "en"), "-");
  EXPECT_EQ(LetterText("complaint_authority_unknown", "en", {{"jurisdiction", "UA"}}),
            "the personal-data protection authority of the school's jurisdiction (UA); the "
            "school's policy does not name it");
}

// Every letter exists in Ukrainian, Russian and English, each its own text.
TEST(LetterTexts, EveryKindHasItsOwnTextInEachLanguage) {
  for (const std::string kind :
       {"received", "identity_code", "sign_in_code", "reconsent_required", "answer", "no_data",
        "rejected", "action_notice", "restriction_lifted", "objection_decided", "segment_decided",
        "erasure_offer", "warning", "overdue", "legal_hold_ended", "recipient_notice",
        "subscription_confirm"}) {
    std::set<std::string> texts;
    for (const std::string lang : {"uk", "ru", "en"}) {
      MessageText t = RenderMessage(kind, lang, {});
      EXPECT_FALSE(t.subject.empty()) << kind << " " << lang;
      EXPECT_FALSE(t.body.empty()) << kind << " " << lang;
      texts.insert(t.body);
    }
    EXPECT_EQ(texts.size(), 3u) << kind;
  }
  EXPECT_EQ(RequestTypeName("erasure", "ru"), "удаление данных");
}

}  // namespace
}  // namespace dovira::services
