#include "policy/checker.h"

#include <gtest/gtest.h>

#include "policy/test_util.h"

namespace dovira::policy {
namespace {

using namespace ::dovira::policy::testing;  // NOLINT(google-build-using-namespace)

CheckResult Check(const std::string& text) { return CheckPolicyText(text, "x.toml"); }

void ExpectCodeAtLine(const std::string& text, const std::string& code, const std::string& needle) {
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, code);
  ASSERT_NE(f, nullptr) << "expected " << code;
  EXPECT_EQ(f->pos.line, LineOf(text, needle)) << FormatFinding("x.toml", *f);
  EXPECT_FALSE(r.ok());
}

TEST(PolicyChecker, MinimalPolicyHasNoErrorsOrWarnings) {
  auto r = Check(ReadMinimal());
  ASSERT_TRUE(r.policy);
  for (const auto& f : r.findings.all()) {
    if (f.severity != Severity::kInfo) ADD_FAILURE() << FormatFinding("minimal.toml", f);
  }
  EXPECT_TRUE(r.ok());
}

TEST(PolicyChecker, PurposeNamingAnUnknownFieldIsRefusedWithItsLine) {
  std::string text = Replace(ReadMinimal(), "fields = [\"email\"]\nmarketing", "fields = [\"phone\"]\nmarketing");
  ExpectCodeAtLine(text, "E-REF-FIELD", "[purposes.newsletter]");
}

// R86 (002 L60): an outside organisation reaches only the subjects assigned to it, so its role can
// neither be privileged nor decide; a contractor's role that does neither is accepted.
TEST(PolicyChecker, R86_AContractorsRoleCanNeitherBePrivilegedNorDecide) {
  const std::string privileged = Replace(ReadMinimal(), "privileged = true\ncategories",
                                         "privileged = true\norganisation = \"contractor\"\ncategories");
  ExpectCodeAtLine(privileged, "E-ROLE-ORGANISATION-SCOPE", "[roles.dpo]");
  const std::string plain = Replace(ReadMinimal(), "privileged = true\ncategories",
                                    "organisation = \"affiliate\"\ncategories");
  auto r = Check(plain);
  EXPECT_FALSE(r.findings.HasCode("E-ROLE-ORGANISATION-SCOPE"));
  ASSERT_TRUE(r.policy);
  EXPECT_TRUE(r.policy->roles.at("dpo").scoped());
  EXPECT_TRUE(Check(Replace(ReadMinimal(), "privileged = true\ncategories",
                            "organisation = \"partner\"\ncategories"))
                  .findings.HasCode("E-ENUM"));
}

TEST(PolicyChecker, FormRequiringAFieldItDoesNotCollectIsAnError) {
  std::string text = Replace(ReadMinimal(), "required = [\"email\"]", "required = [\"email\", \"phone\"]");
  ExpectCodeAtLine(text, "E-FORM-REQUIRED", "[forms.signup]");
}

TEST(PolicyChecker, OneOfGroupMustNameTwoFieldsTheFormCollects) {  // R08 pin
  std::string base = ReadMinimal();
  std::string good = Replace(base, "accept_policy = true\n\n[[forms.signup.consents]]",
                             "accept_policy = true\n\n[[forms.signup.one_of]]\nfields = "
                             "[\"first_name\", \"email\"]\n\n[[forms.signup.consents]]");
  EXPECT_EQ(FindCode(Check(good).findings, "E-FORM-ONE-OF"), nullptr);
  ExpectCodeAtLine(Replace(good, "[\"first_name\", \"email\"]", "[\"first_name\", \"phone\"]"),
                   "E-FORM-ONE-OF", "[[forms.signup.one_of]]");
  ExpectCodeAtLine(Replace(good, "[\"first_name\", \"email\"]", "[\"email\"]"), "E-FORM-ONE-OF",
                   "[[forms.signup.one_of]]");
}

TEST(PolicyChecker, ConsentPurposeNotGrantedByAnyConsentIsAnError) {  // R29
  std::string text = Replace(ReadMinimal(), "grants = [\"newsletter\"]", "grants = [\"processing\"]");
  ExpectCodeAtLine(text, "E-CONSENT-PURPOSE-UNGRANTED", "[purposes.newsletter]");
}

TEST(PolicyChecker, ConsentWithoutWithdrawalProcedureIsAnError) {  // R19
  std::string text = ReadMinimal();
  auto from = text.find("withdrawal_procedure = {");
  auto to = text.find('\n', from);
  text.erase(from, to - from + 1);
  ExpectCodeAtLine(text, "E-CONSENT-NO-WITHDRAWAL", "[consents.newsletter]");
}

TEST(PolicyChecker, MissingResponsiblePersonIsAnError) {  // R04
  std::string text = Replace(ReadMinimal(), "responsible_person = { name = \"Olena Koval\", ", "responsible_person = { ");
  ExpectCodeAtLine(text, "E-ROLE-MISSING", "[officers]");
}

TEST(PolicyChecker, MissingSecurityOfficerIsAnError) {  // R04
  std::string text = ReadMinimal();
  auto from = text.find("security_officer = ");
  text.erase(from, text.find('\n', from) - from + 1);
  ExpectCodeAtLine(text, "E-ROLE-MISSING", "[officers]");
}

TEST(PolicyChecker, ZeroWorkingDaysIsImpossible) {
  std::string text = Replace(ReadMinimal(), "\"7 working days\"", "\"0 working days\"");
  ExpectCodeAtLine(text, "E-TERM-ZERO", "[rights.rectification]");
}

TEST(PolicyChecker, StoreOutsideTheRegionsIsAnError) {  // R83
  std::string text = Replace(ReadMinimal(), "region = \"UA\"", "region = \"DE\"");
  ExpectCodeAtLine(text, "E-REGION", "[[storage.stores]]");
}

TEST(PolicyChecker, EuRegionCoversMemberStates) {
  std::string text = Replace(ReadMinimal(), "regions = [\"UA\"]", "regions = [\"EU\"]");
  text = Replace(text, "region = \"UA\"", "region = \"DE\"");
  auto r = Check(text);
  EXPECT_EQ(FindCode(r.findings, "E-REGION"), nullptr);
}

TEST(PolicyChecker, EmptyRegionsAreAnError) {
  std::string text = Replace(ReadMinimal(), "regions = [\"UA\"]", "regions = []");
  ExpectCodeAtLine(text, "E-REGION-UNSET", "[storage]");
}

TEST(PolicyChecker, UnknownTimeZoneIsAnError) {
  std::string text = Replace(ReadMinimal(), "Europe/Kyiv", "Europe/Atlantis");
  ExpectCodeAtLine(text, "E-TIMEZONE", "[calendar]");
}

TEST(PolicyChecker, RightWithoutTermGetsTheDefaultAndAWarning) {  // R67
  std::string text = Replace(ReadMinimal(), "term = \"30 calendar days\"\n", "");
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, "W-TERM-DEFAULTED");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(r.ok());
  const Right* access = r.policy->FindRight("access");
  ASSERT_TRUE(access->deadline.term);
  EXPECT_TRUE(access->deadline.defaulted);
  EXPECT_EQ(calendar::FormatTerm(*access->deadline.term), "30 calendar days");
}

TEST(PolicyChecker, ResolutionTurnsAWarningIntoInformation) {
  std::string text = Replace(ReadMinimal(), "term = \"30 calendar days\"\n", "");
  text += R"(
[[resolutions]]
code = "W-TERM-DEFAULTED"
choice = "30 calendar days"
reason = "the only term the policy states for requests"
date = 2025-03-10
)";
  auto r = Check(text);
  EXPECT_EQ(FindCode(r.findings, "W-TERM-DEFAULTED"), nullptr);
  EXPECT_NE(FindCode(r.findings, "I-RESOLVED"), nullptr);
  EXPECT_EQ(FindCode(r.findings, "I-RESOLUTION-UNUSED"), nullptr);
}

TEST(PolicyChecker, R67WrittenOutDefaultTermsAreListedByTheResolution) {
  // The term is written out, and the resolution lists the right whose term it is: validation
  // names the right, and the right's requests report the default as their source.
  std::string text = ReadMinimal() + R"(
[[resolutions]]
code = "W-TERM-DEFAULTED"
choice = "30 calendar days"
rights = ["access"]
reason = "the source text states no term"
date = 2025-03-10
notice = { uk = "Відповідаємо протягом 30 календарних днів.", ru = "Отвечаем в течение 30 календарных дней.", en = "We answer within 30 calendar days." }
)";
  auto r = Check(text);
  EXPECT_TRUE(r.ok());
  const Finding* f = FindCode(r.findings, "I-RESOLVED");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("`access`"), std::string::npos) << f->message;
  EXPECT_EQ(FindCode(r.findings, "I-RESOLUTION-UNUSED"), nullptr);
  ASSERT_EQ(r.policy->FindResolution("W-TERM-DEFAULTED")->rights,
            std::vector<std::string>{"access"});
}

TEST(PolicyChecker, R67ResolutionListingAnUndeclaredRightIsAnError) {
  std::string text = ReadMinimal() + R"(
[[resolutions]]
code = "W-TERM-DEFAULTED"
choice = "30 calendar days"
rights = ["objection"]
reason = "the source text states no term"
)";
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, "E-REF-RIGHT");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("`objection`"), std::string::npos) << f->message;
  EXPECT_FALSE(r.ok());
  // A right id the format does not know is refused by the loader.
  auto unknown = Check(Replace(text, "rights = [\"objection\"]", "rights = [\"teleport\"]"));
  EXPECT_FALSE(unknown.ok());
}

TEST(PolicyChecker, UnresolvedErrorConflictBlocksActivation) {
  std::string text = ReadMinimal() + R"(
[[conflicts]]
code = "E-004-REGION"
clauses = "§3.3 vs §5.2"
summary = "Databases in the USA vs the EU as the place of storage."
default = "none: activation blocked"
)";
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, "E-004-REGION");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, LineOf(text, "[[conflicts]]"));
  EXPECT_FALSE(r.ok());

  std::string resolved = text + R"(
[[resolutions]]
code = "E-004-REGION"
choice = "EU"
reason = "the stricter reading"
approved_by = "security_officer"
date = 2025-03-10
notice = { uk = "Дані зберігаються в ЄС.", ru = "Данные хранятся в ЕС.", en = "Data are stored in the EU." }
)";
  auto r2 = Check(resolved);
  EXPECT_EQ(FindCode(r2.findings, "E-004-REGION"), nullptr);
  EXPECT_TRUE(r2.ok());
}

TEST(PolicyChecker, ErrorResolutionNeedsAnApprover) {
  std::string text = ReadMinimal() + R"(
[[conflicts]]
code = "E-004-REGION"
clauses = "§3.3 vs §5.2"
summary = "USA vs EU"
default = "none"

[[resolutions]]
code = "E-004-REGION"
choice = "EU"
reason = "stricter"
date = 2025-03-10
)";
  EXPECT_NE(FindCode(Check(text).findings, "E-RESOLUTION-APPROVER"), nullptr);
}

TEST(PolicyChecker, StructuralErrorsCannotBeResolvedAway) {
  std::string text = Replace(ReadMinimal(), "fields = [\"email\"]\nmarketing", "fields = [\"phone\"]\nmarketing");
  text += R"(
[[resolutions]]
code = "E-REF-FIELD"
choice = "ignore"
reason = "no"
approved_by = "x"
date = 2025-03-10
)";
  auto r = Check(text);
  EXPECT_NE(FindCode(r.findings, "E-REF-FIELD"), nullptr);
  EXPECT_FALSE(r.ok());
}

TEST(PolicyChecker, ExcludedSpecialCategoryIsAnError) {  // R10
  std::string text = ReadMinimal() + R"(
[special_categories]
excluded = ["health"]

[categories.health]
title = { uk = "Здоров'я", ru = "Здоровье", en = "Health" }
kind = "special"
special_type = "health"
)";
  ExpectCodeAtLine(text, "E-SPECIAL-EXCLUDED", "[categories.health]");
}

TEST(PolicyChecker, RetentionBelowLegalMinimumIsAnError) {  // R72
  std::string text = Replace(ReadMinimal(), "basis = \"contract\"\n",
                             "basis = \"contract\"\nretention = \"6 calendar months\"\n");
  text = Replace(text, "[retention]\nafter = \"destroy\"\n", R"([retention]
after = "destroy"

[[retention.legal_minimum]]
category = "contact"
term = "3 calendar years"
law = "Tax Code"
)");
  ExpectCodeAtLine(text, "E-RETENTION-BELOW-LEGAL-MIN", "[purposes.teaching]");
}

TEST(PolicyChecker, PretickedConsentIsAnError) {  // R15
  std::string text = Replace(ReadMinimal(), "consent = \"newsletter\"\n",
                             "consent = \"newsletter\"\ndefault_unticked = false\n");
  ExpectCodeAtLine(text, "E-CONSENT-PRETICKED", "[[forms.signup.consents]]");
}

TEST(PolicyChecker, MissingTranslationIsAWarning) {
  std::string text = Replace(ReadMinimal(), "{ uk = \"Новини\", ru = \"Новости\", en = \"News\" }",
                             "{ uk = \"Новини\" }");
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, "W-I18N-MISSING");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("ru, en"), std::string::npos) << f->message;
  EXPECT_TRUE(r.ok());
}

// R01, issue 12: the public notice states each resolution as the school's decision, in every
// language the school publishes. A resolution without that text is an error naming the resolution
// and the languages it lacks.
const char kResolution[] = R"(
[[resolutions]]
code = "W-DEMO-READING"
choice = "calendar_days"
reason = "The protective reading."
approved_by = "responsible_person"
date = 2025-03-10
clause = "§2.1"
)";

TEST(PolicyChecker, ResolutionWithoutNoticeTextInAPublishedLanguageIsAnError) {
  const std::string text = ReadMinimal() + kResolution + "notice.uk = \"Ми рахуємо календарні дні.\"\n";
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, "E-RESOLUTION-NOTICE");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->pos.line, LineOf(text, "[[resolutions]]")) << FormatFinding("x.toml", *f);
  EXPECT_NE(f->message.find("W-DEMO-READING"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("ru, en"), std::string::npos) << f->message;
  EXPECT_EQ(f->message.find("uk"), std::string::npos) << f->message;
  EXPECT_FALSE(r.ok());

  // Only the languages of school.languages are required; with all of them the error is gone.
  const std::string uk_only = Replace(text, "jurisdiction = \"UA\"",
                                      "jurisdiction = \"UA\"\nlanguages = [\"uk\"]");
  EXPECT_EQ(FindCode(Check(uk_only).findings, "E-RESOLUTION-NOTICE"), nullptr);
  const std::string all = text + "notice.ru = \"Мы считаем календарные дни.\"\n" +
                          "notice.en = \"We count calendar days.\"\n";
  EXPECT_EQ(FindCode(Check(all).findings, "E-RESOLUTION-NOTICE"), nullptr);
}

// R01, issue 12: a snake_case word in a text the public notice shows reads as a config key or a
// code; the checker warns, naming the text, the language and the word. Addresses are exempt.
TEST(PolicyChecker, SnakeCaseInPublicTextIsAWarningNamingWhere) {
  const std::string ok = ReadMinimal() + kResolution +
                         "notice.uk = \"Пишіть на dpo_office@demo.example або "
                         "https://demo.example/privacy_requests.\"\n"
                         "notice.ru = \"Пишите на demo.example/privacy_requests.\"\n"
                         "notice.en = \"We count calendar days.\"\n";
  auto clean = Check(ok);
  EXPECT_EQ(FindCode(clean.findings, "W-PUBLIC-SNAKE-CASE"), nullptr);
  EXPECT_EQ(FindCode(clean.findings, "E-RESOLUTION-NOTICE"), nullptr);

  const std::string text =
      Replace(ok, "\"We count calendar days.\"", "\"We apply withdrawal_then = destroy.\"");
  auto r = Check(text);
  const Finding* f = FindCode(r.findings, "W-PUBLIC-SNAKE-CASE");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("resolution W-DEMO-READING"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("(en)"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("`withdrawal_then`"), std::string::npos) << f->message;
  EXPECT_TRUE(r.ok());  // a warning

  const std::string title = Replace(ReadMinimal(), "en = \"News\"", "en = \"News (marketing_email)\"");
  auto titled = Check(title);
  const Finding* t = FindCode(titled.findings, "W-PUBLIC-SNAKE-CASE");
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t->message.find("`marketing_email`"), std::string::npos) << t->message;
  EXPECT_NE(t->message.find("(en)"), std::string::npos) << t->message;
  EXPECT_EQ(t->pos.line, LineOf(title, "marketing_email")) << FormatFinding("x.toml", *t);
}

TEST(PolicyChecker, StandingDecisionsAreRequiredWhenEveryOperationNeedsADecision) {  // R31
  std::string text = ReadMinimal() + "\n[decisions]\nrequired_for = [\"use\"]\n";
  ExpectCodeAtLine(text, "E-NO-STANDING-DECISIONS", "[decisions]");
}

// 003 as shipped, but with no age rule: birth dates are processed and nothing says how minors are
// treated (003 L45, IC-003-4).
std::string P003WithoutAnAgeRule() {
  std::string text =
      ReadFile(std::string(DOVIRA_SOURCE_DIR) + "/policies/003_it_pro.toml");
  text = Replace(text, "rule = \"birth_date\"\nbirth_date_field = \"date_of_birth\"", "rule = \"none\"");
  text = Replace(text, "marketing_allowed = false\ndeletion_term", "marketing_allowed = true\ndeletion_term");
  // Nor do the purposes exclude minors themselves.
  for (size_t at; (at = text.find("minors_allowed = false\n")) != std::string::npos;) {
    text.erase(at, std::string("minors_allowed = false\n").size());
  }
  return text;
}

TEST(PolicyChecker, R27BirthDatesWithoutAnAgeRuleWarnAndMinorsGetNoMarketingOrProfiling) {
  const std::string text = P003WithoutAnAgeRule();
  auto r = CheckPolicyText(text, "003.toml");
  ASSERT_TRUE(r.policy);
  const Finding* f = FindCode(r.findings, "W-MINORS-NO-RULE");
  ASSERT_NE(f, nullptr) << "expected W-MINORS-NO-RULE";
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_EQ(f->pos.line, LineOf(text, "[minors]"));
  EXPECT_NE(f->message.find("date_of_birth"), std::string::npos) << f->message;
  // The seed's own record of the gap stays declared (and resolved) beside it.
  EXPECT_EQ(FindCode(r.findings, "W-003-MINORS-NO-RULE"), nullptr);
  // Until the policy states a rule, minor status comes from the birth date, and consent-based
  // marketing and profiling are refused to minors; contract purposes are untouched.
  const Policy& p = *r.policy;
  EXPECT_EQ(p.minors.rule, "birth_date");
  EXPECT_EQ(p.minors.birth_date_field, "date_of_birth");
  EXPECT_FALSE(p.minors.marketing_allowed);
  EXPECT_EQ(p.minors.representative_consent, "not_stated");  // intake is not narrowed
  EXPECT_FALSE(p.purposes.at("direct_marketing").minors_allowed);
  EXPECT_FALSE(p.purposes.at("profiling_segmentation").minors_allowed);
  EXPECT_FALSE(p.purposes.at("google_advertising").minors_allowed);
  EXPECT_TRUE(p.purposes.at("site_functions").minors_allowed);
  EXPECT_TRUE(r.ok());  // a warning: the policy stays usable

  // 003 as shipped states the rule: no warning, and the declared conflict is resolved.
  auto shipped = CheckPolicyFile(std::string(DOVIRA_SOURCE_DIR) + "/policies/003_it_pro.toml");
  EXPECT_EQ(FindCode(shipped.findings, "W-MINORS-NO-RULE"), nullptr);
  // A policy with no birth date and no rule (002) has nothing to warn about.
  auto no_birth_date = CheckPolicyFile(std::string(DOVIRA_SOURCE_DIR) + "/policies/002_soho_lms.toml");
  ASSERT_TRUE(no_birth_date.policy);
  EXPECT_EQ(FindCode(no_birth_date.findings, "W-MINORS-NO-RULE"), nullptr);
  EXPECT_EQ(no_birth_date.policy->minors.rule, "none");
}

TEST(PolicyChecker, R31APurposeDecidedCaseByCaseNeedsTheRoleThatDecides) {
  const std::string path = std::string(DOVIRA_SOURCE_DIR) + "/policies/002_soho_lms.toml";
  const std::string shipped = ReadFile(path);
  auto ok = CheckPolicyText(shipped, "002.toml");
  EXPECT_TRUE(ok.ok());
  ASSERT_TRUE(ok.policy);
  EXPECT_EQ(ok.policy->decisions.decided_by, "authorised_representative");

  const std::string line = "decided_by = \"authorised_representative\"\nclause = \"L64\"";
  const std::string none = Replace(shipped, line, "clause = \"L64\"");
  auto missing = CheckPolicyText(none, "002.toml");
  const Finding* f = FindCode(missing.findings, "E-KEY-MISSING");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("decisions.decided_by"), std::string::npos) << f->message;
  EXPECT_FALSE(missing.ok());

  const std::string unknown =
      Replace(shipped, line, "decided_by = \"board\"\nclause = \"L64\"");
  auto bad = CheckPolicyText(unknown, "002.toml");
  const Finding* g = FindCode(bad.findings, "E-REF-ROLE");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->pos.line, LineOf(unknown, "[decisions]"));
  EXPECT_FALSE(bad.ok());
}

TEST(PolicyChecker, ProfilingWithLegalEffectIsAnError) {  // R60
  std::string text = ReadMinimal() + "\n[automated_decisions]\nprofiling = true\nprofiling_effect = \"legal\"\n";
  ExpectCodeAtLine(text, "E-PROFILING-EFFECT", "[automated_decisions]");
}

TEST(PolicyChecker, FindingsAreSortedByPosition) {
  std::string text = Replace(ReadMinimal(), "basis = \"consent\"", "basis = \"whim\"");
  text = Replace(text, "basis = \"contract\"", "basys = \"contract\"");
  auto r = Check(text);
  int last = 0;
  for (const auto& f : r.findings.all()) {
    EXPECT_GE(f.pos.line, last);
    last = f.pos.line;
  }
}


std::string Learners() {
  return ReadFile(std::string(DOVIRA_SOURCE_DIR) + "/src/policy/testdata/learners.toml");
}

TEST(PolicyAnonymisation, R74_ASectionOverQuasiIdentifiersOfDepersonalisedPurposesIsClean) {
  auto r = Check(Learners());
  for (const auto& f : r.findings.all()) {
    if (f.severity == Severity::kError) ADD_FAILURE() << FormatFinding("learners.toml", f);
  }
  ASSERT_TRUE(r.ok());
  const Anonymisation& a = r.policy->anonymisation;
  EXPECT_TRUE(a.declared);
  EXPECT_EQ(a.k, 5);
  EXPECT_EQ(a.l, 2);
  EXPECT_EQ(a.sensitive, "course");
  EXPECT_EQ(a.max_suppressed_percent, 2);
  ASSERT_EQ(a.quasi_identifiers.size(), 3u);
  EXPECT_EQ(a.quasi_identifiers[0].bands, (std::vector<int>{5, 10, 20}));
  EXPECT_EQ(a.quasi_identifiers[1].via, (std::vector<std::string>{"region", "country"}));
}

TEST(PolicyAnonymisation, R74_KIsRequiredAndAtLeastTwo) {
  ExpectCodeAtLine(Replace(Learners(), "k = 5\n", ""), "E-KEY-MISSING",
                   "[anonymisation]\nl = 2");
  ExpectCodeAtLine(Replace(Learners(), "k = 5\n", "k = 1\n"), "E-RANGE", "k = 1");
}

TEST(PolicyAnonymisation, R74_LAndTheSensitiveFieldGoTogether) {
  ExpectCodeAtLine(Replace(Learners(), "sensitive = \"course\"\n", ""), "E-ANONYMISATION-L",
                   "l = 2");
  ExpectCodeAtLine(Replace(Learners(), "l = 2\n", ""), "E-ANONYMISATION-L", "sensitive = ");
}

TEST(PolicyAnonymisation, R74_HierarchiesMustNestAndFitTheField) {
  ExpectCodeAtLine(Replace(Learners(), "bands = [5, 10, 20]", "bands = [5, 12]"),
                   "E-ANONYMISATION-HIERARCHY", "bands = [5, 12]");
  EXPECT_TRUE(Check(Replace(Learners(), "via = [\"region\", \"country\"]\n", ""))
                  .findings.HasCode("E-ANONYMISATION-HIERARCHY"));
  EXPECT_TRUE(Check(Replace(Learners(), "field = \"city\"\nhierarchy = \"region\"",
                            "field = \"city\"\nhierarchy = \"date\""))
                  .findings.HasCode("E-ANONYMISATION-HIERARCHY"));
  auto r = Check(Replace(Learners(), "field = \"enrolled_on\"\nhierarchy = \"date\"",
                         "field = \"course\"\nhierarchy = \"date\""));
  EXPECT_NE(FindCode(r.findings, "E-ANONYMISATION-HIERARCHY"), nullptr);
  EXPECT_EQ(Check(Replace(Learners(), "hierarchy = \"date\"", "hierarchy = \"season\""))
                .findings.HasCode("E-ENUM"),
            true);
}

TEST(PolicyAnonymisation, R74_NoDirectIdentifierOrFreeTextMayLeave) {
  for (const char* field : {"email", "first_name", "home_address", "passport_number",
                            "ip_address", "device_id"}) {
    std::string text = Replace(Learners(), "max_suppressed_percent = 2\n",
                               "max_suppressed_percent = 2\nattributes = [\"" +
                                   std::string(field) + "\"]\n");
    text = Replace(text, "fields = [\"birth_date\", \"city\"",
                   "fields = [\"" + std::string(field) + "\", \"birth_date\", \"city\"");
    text = Replace(text, "fields = [\"birth_date\", \"city\"",
                   "fields = [\"" + std::string(field) + "\", \"birth_date\", \"city\"");
    auto r = Check(text);
    const Finding* f = FindCode(r.findings, "E-ANONYMISATION-IDENTIFIER");
    ASSERT_NE(f, nullptr) << field;
    EXPECT_NE(f->message.find(field), std::string::npos);
  }
  std::string notes = Replace(Learners(), "max_suppressed_percent = 2\n",
                              "max_suppressed_percent = 2\nattributes = [\"notes\"]\n");
  EXPECT_TRUE(Check(notes).findings.HasCode("E-ANONYMISATION-FREE-TEXT"));
}

TEST(PolicyAnonymisation, R34_DataSetsAreForDepersonalisedPurposesThatUseTheirFields) {
  const std::string listed = "percent = 2\npurposes = [\"statistics\", \"research\"]";
  auto teaching =
      Check(Replace(Learners(), listed, "percent = 2\npurposes = [\"statistics\", \"teaching\"]"));
  EXPECT_TRUE(teaching.findings.HasCode("E-ANONYMISATION-PURPOSE"));
  auto undeclared =
      Check(Replace(Learners(), listed, "percent = 2\npurposes = [\"statistics\", \"surveys\"]"));
  EXPECT_TRUE(undeclared.findings.HasCode("E-REF-PURPOSE"));
  auto field = Check(Replace(Learners(),
                             "fields = [\"birth_date\", \"city\", \"region\", \"country\", "
                             "\"enrolled_on\", \"course\"]\ndata_form",
                             "fields = [\"birth_date\", \"city\", \"region\", \"country\", "
                             "\"enrolled_on\"]\ndata_form"));
  const Finding* f = FindCode(field.findings, "E-ANONYMISATION-FIELD");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("`course`"), std::string::npos);
  auto reuse = Check(Replace(Learners(), "depersonalised_allowed = true",
                             "depersonalised_allowed = false"));
  EXPECT_TRUE(reuse.findings.HasCode("E-ANONYMISATION-REUSE"));
}

}  // namespace
}  // namespace dovira::policy
