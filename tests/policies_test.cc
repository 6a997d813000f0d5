// Key facts of the five shipped policies (policies/*.toml), pinned so that an edit that changes a
// promise made in the seed text fails here. Each test names the requirement rows it proves.
#include <gtest/gtest.h>

#include <algorithm>

#include "calendar/term.h"
#include "i18n/i18n.h"
#include "policy/checker.h"

namespace dovira::policy {
namespace {

using calendar::FormatTerm;

const Policy& Load(const std::string& file) {
  static std::map<std::string, Policy> cache;
  auto it = cache.find(file);
  if (it == cache.end()) {
    auto r = LoadCheckedPolicy(std::string(DOVIRA_SOURCE_DIR) + "/policies/" + file);
    if (!r.ok()) {
      ADD_FAILURE() << r.error().message;
      static Policy empty;
      return empty;
    }
    it = cache.emplace(file, std::move(*r)).first;
  }
  return it->second;
}

std::string TermOf(const Right* r) {
  if (!r || !r->deadline.term) return "<none>";
  return FormatTerm(*r->deadline.term);
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

const Policy& P000() { return Load("000_lms_collaborator.toml"); }
const Policy& P001() { return Load("001_vkluchi_zhizn.toml"); }
const Policy& P002() { return Load("002_soho_lms.toml"); }
const Policy& P003() { return Load("003_it_pro.toml"); }
const Policy& P004() { return Load("004_bbooster_masterclass.toml"); }

// ---- 000 LMS Collaborator ----

TEST(Policy000, GivesOneCalendarMonthsNoticeOfChangesToClientAdmins) {  // R114, C-15
  const auto& c = P000().policy_change;
  ASSERT_TRUE(c.advance_notice);
  EXPECT_EQ(FormatTerm(*c.advance_notice), "1 calendar month");
  EXPECT_EQ(c.effective_rule, "after_notice");
  EXPECT_TRUE(Contains(c.notify_channels, "client_admins"));
}

TEST(Policy000, ProviderIsAProcessorStoringInTheEuAndMovingImportsAtOnce) {  // C-01, R83
  EXPECT_EQ(P000().controller.role, "processor");
  EXPECT_EQ(P000().storage.regions, std::vector<std::string>{"EU"});
  EXPECT_TRUE(P000().storage.import_move_immediately);
}

TEST(Policy000, ExcludesSpecialCategories) {  // R10
  const auto& ex = P000().special_categories.excluded;
  for (const char* t : {"national_origin", "racial_ethnic_origin", "philosophical_beliefs",
                        "religious_beliefs", "political_opinions", "health"}) {
    EXPECT_TRUE(Contains(ex, t)) << t;
  }
}

TEST(Policy000, ClientWithdrawalReturnsOrDeletes) {  // R59, IC-000-3
  EXPECT_EQ(P000().withdrawal.then, "return_or_delete");
  EXPECT_EQ(P000().withdrawal.default_mode, "return");
}

// ---- 001 Vkluchi Zhizn ----

TEST(Policy001, RectificationIsSevenWorkingDaysFromTheEvidenceWithBlocking) {  // R45, R46, R66
  const Right* r = P001().FindRight("rectification");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(TermOf(r), "7 working days");
  EXPECT_EQ(r->deadline.trigger, "evidence_supplied");
  EXPECT_TRUE(r->block_on_filing);
  EXPECT_TRUE(r->notify_recipients);  // R48
}

TEST(Policy001, AccessIsThirtyCalendarDaysAndFree) {  // R39, R41
  const Right* r = P001().FindRight("access");
  EXPECT_EQ(TermOf(r), "30 calendar days");
  EXPECT_EQ(r->deadline.trigger, "request_received");
  EXPECT_EQ(r->fee, "free");
}

TEST(Policy001, WithdrawalStopsAllButStorageThenDestroysWithinThirtyWorkingDays) {  // R56
  const auto& w = P001().withdrawal;
  EXPECT_EQ(w.effect, "stop_all_but_storage");
  EXPECT_EQ(w.then, "destroy");
  ASSERT_TRUE(w.deadline.term);
  EXPECT_EQ(FormatTerm(*w.deadline.term), "30 working days");
  EXPECT_EQ(w.deadline.trigger, "withdrawal_received");
}

TEST(Policy001, UnlawfulProcessingStopsInThreeAndIsDestroyedInTenWorkingDays) {  // R93
  const auto& u = P001().unlawful_processing;
  EXPECT_EQ(FormatTerm(*u.stop), "3 working days");
  EXPECT_EQ(FormatTerm(*u.destroy), "10 working days");
  EXPECT_TRUE(u.notify_subject);
}

TEST(Policy001, TheCheckboxHasTheExactTextsAndGrantsTheSixBundledElements) {  // R15, R16
  for (const char* form : {"subscription", "application", "payment"}) {
    ASSERT_TRUE(P001().forms.count(form)) << form;
    const auto& cbs = P001().forms.at(form).consents;
    ASSERT_EQ(cbs.size(), 1u) << form;
    EXPECT_EQ(cbs[0].text.Get("ru"), "Я согласен на обработку моих персональных данных");
    EXPECT_EQ(cbs[0].text.Get("uk"), "Я згоден на обробку моїх персональних даних");
    EXPECT_TRUE(cbs[0].default_unticked);
    EXPECT_TRUE(cbs[0].required);
    const auto& grants = P001().consents.at(cbs[0].consent).grants;
    for (const char* g : {"processing", "third_party_transfer", "processor_entrustment",
                          "cross_border", "contract_mailing", "marketing_mailing"}) {
      EXPECT_TRUE(Contains(grants, g)) << g;
    }
  }
}

TEST(Policy001, MinorsNeedARepresentativesPermissionBeforehand) {  // R24
  const auto& m = P001().minors;
  EXPECT_EQ(m.rule, "self_declaration");
  EXPECT_EQ(m.threshold, 18);
  EXPECT_EQ(m.representative_consent, "required_before_collection");
}

TEST(Policy001, StoresInUkraineApartPerPurposeAndCollectsOnlyFromTheSubject) {  // R12, R83, R92
  EXPECT_EQ(P001().storage.regions, std::vector<std::string>{"UA"});
  EXPECT_GE(P001().storage.stores.size(), 2u);
  EXPECT_FALSE(Contains(P001().collection.sources, "third_party"));
  EXPECT_FALSE(Contains(P001().collection.sources, "client"));
  EXPECT_FALSE(P001().collection.imports);
  EXPECT_TRUE(P001().collection.automatic_requires_notice);  // R22
}

TEST(Policy001, ClaimsAreAnsweredWithinThirtyCalendarDays) {  // R63
  EXPECT_TRUE(P001().claims.pretrial);
  EXPECT_EQ(FormatTerm(*P001().claims.deadline.term), "30 calendar days");
}

TEST(Policy001, RussianTextIsAuthoritative) {  // C-25, IC-001-8
  EXPECT_EQ(P001().school.authoritative_language, "ru");
}

// ---- 002 SOHO LMS ----

TEST(Policy002, EveryRoutinePurposeRunsUnderAStandingDecision) {  // R31, IC-002-3
  const auto& d = P002().decisions;
  EXPECT_FALSE(d.required_for.empty());
  EXPECT_FALSE(d.standing.empty());
}

TEST(Policy002, StoresInRussiaAndNeverKeepsCardNumbers) {  // R84, R107
  EXPECT_EQ(P002().storage.regions, std::vector<std::string>{"RU"});
  for (const auto& [id, f] : P002().fields) {
    EXPECT_EQ(id.find("card_number"), std::string::npos) << id;
  }
}

TEST(Policy002, MarketingIsOptOut) {  // R102, C-17
  EXPECT_EQ(P002().marketing.model, "opt_out");
}

TEST(Policy002, NoSolelyAutomatedDecisions) {  // R60
  EXPECT_FALSE(P002().automated_decisions.solely_automated_allowed);
}

TEST(Policy002, UsesCookiesAndWebBeacons) {  // R100
  EXPECT_TRUE(P002().cookies.used);
  EXPECT_TRUE(P002().cookies.beacons);
}

// ---- 003 IT PRO ----

const Cookie* FindCookie(const Policy& p, const std::string& name) {
  for (const auto& c : p.cookies.inventory) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Lifetime(const Cookie* c) {
  if (!c) return "<missing>";
  return c->lifetime ? FormatTerm(*c->lifetime) : "session";
}

TEST(Policy003, CookieInventoryHasItsRowsAndLifetimes) {  // R98, R99
  const Policy& p = P003();
  EXPECT_EQ(Lifetime(FindCookie(p, "_ga")), "2 calendar years");
  EXPECT_EQ(Lifetime(FindCookie(p, "catAccCookies")), "1 calendar month");
  EXPECT_EQ(Lifetime(FindCookie(p, "__cfduid")), "1 calendar year");
  EXPECT_EQ(Lifetime(FindCookie(p, "DSID")), "14 calendar days");
  EXPECT_EQ(Lifetime(FindCookie(p, "IDE")), "1 calendar day");
  EXPECT_EQ(Lifetime(FindCookie(p, "SIDCC")), "2 calendar months");
  EXPECT_EQ(Lifetime(FindCookie(p, "ANID")), "1 calendar year");  // IC-003-2: the shorter entry
  EXPECT_EQ(Lifetime(FindCookie(p, ".ASPXAUTH")), "session");
  EXPECT_EQ(Lifetime(FindCookie(p, "ASP.NET_SessionId")), "session");
  for (const char* name : {"1P_JAR", "DV", "APISID", "CONSENT", "HSID", "NID", "SAPISID", "SID",
                           "SSID", "AID", "_gid"}) {
    EXPECT_NE(FindCookie(p, name), nullptr) << name;
  }
  int anid = 0;
  for (const auto& c : p.cookies.inventory) anid += c.name == "ANID";
  EXPECT_EQ(anid, 1);
  EXPECT_EQ(p.cookies.consent_cookie, "catAccCookies");
  EXPECT_EQ(FormatTerm(p.cookies.consent_ttl), "1 calendar month");
}

TEST(Policy003, InformationIsThirtyCalendarDaysFreeOncePerYearCoveringTheLastYear) {  // R41, R42
  const Right* r = P003().FindRight("information");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(TermOf(r), "30 calendar days");
  EXPECT_EQ(r->fee, "free_once_per_calendar_year");
  ASSERT_TRUE(r->lookback);
  EXPECT_EQ(FormatTerm(*r->lookback), "12 calendar months");
}

TEST(Policy003, NoticeAfterActionIsFiveCalendarDaysFromTheAction) {  // R47, IC-003-1
  const auto& a = P003().action_notice;
  ASSERT_TRUE(a.declared);
  EXPECT_EQ(FormatTerm(*a.deadline.term), "5 calendar days");
  EXPECT_EQ(a.deadline.trigger, "action_performed");
}

TEST(Policy003, StaffPasswordsChangeAtLeastEveryThreeMonths) {  // R90
  ASSERT_TRUE(P003().security.password_max_age);
  EXPECT_EQ(FormatTerm(*P003().security.password_max_age), "3 calendar months");
}

TEST(Policy003, HealthIsAnAllowedSpecialCategoryStoredApart) {  // R110
  EXPECT_TRUE(Contains(P003().special_categories.allowed, "health"));
  bool apart = false;
  for (const auto& [id, c] : P003().categories) {
    if (c.special_type == "health") apart = c.stored_apart;
  }
  EXPECT_TRUE(apart);
}

TEST(Policy003, ProfilingHasNoLegalEffect) {  // R60, R106
  EXPECT_EQ(P003().automated_decisions.profiling_effect, "none");
}

// ---- 004 masterclass platform ----

TEST(Policy004, WithdrawalStopsAndDestroysImmediately) {  // R57, R69
  const auto& w = P004().withdrawal;
  ASSERT_TRUE(w.deadline.term);
  EXPECT_EQ(w.deadline.term->unit, calendar::TermUnit::kImmediate);
  EXPECT_EQ(w.then, "destroy_consent_only_fields");  // IC-004-4
}

TEST(Policy004, AccessIsThirtyCalendarDaysFromReceiptAndMayNeedIdentity) {  // R37, R39
  const Right* r = P004().FindRight("access");
  EXPECT_EQ(TermOf(r), "30 calendar days");
  EXPECT_EQ(r->identity_verification, "allowed");
  EXPECT_FALSE(r->clock_pauses);
}

TEST(Policy004, UnlawfulProcessingCoversProcessors) {  // R93
  const auto& u = P004().unlawful_processing;
  EXPECT_EQ(FormatTerm(*u.stop), "3 working days");
  EXPECT_EQ(FormatTerm(*u.destroy), "10 working days");
  EXPECT_TRUE(u.covers_processors);
}

TEST(Policy004, NobodyUnderEighteenAndNeverUnderThirteen) {  // R25, R26
  const auto& m = P004().minors;
  EXPECT_EQ(m.threshold, 18);
  EXPECT_EQ(m.never_collect_under, 13);
  EXPECT_EQ(m.age_map.at("UA"), 18);
}

TEST(Policy004, ExcludesEverySpecialCategory) {  // R10
  for (const char* t : {"racial_ethnic_origin", "political_opinions", "religious_beliefs",
                        "philosophical_beliefs", "party_membership", "trade_union", "criminal",
                        "health", "sex_life", "biometric", "genetic"}) {
    EXPECT_TRUE(Contains(P004().special_categories.excluded, t)) << t;
  }
}

TEST(Policy004, EuOverlayAppliesToResidentsOrCitizens) {  // R05, IC-004-6
  EXPECT_TRUE(P004().eu_overlay.enabled);
  EXPECT_EQ(P004().eu_overlay.trigger, "either");
  EXPECT_TRUE(Contains(P004().eu_overlay.rights, "no_automated_decisions"));
}

TEST(Policy004, RegionAndControllerContradictionsAreResolvedByAnOfficer) {  // IC-004-1, IC-004-2
  for (const char* code : {"E-004-REGION", "E-004-CONTROLLER"}) {
    const Resolution* r = P004().FindResolution(code);
    ASSERT_NE(r, nullptr) << code;
    EXPECT_FALSE(r->approved_by.empty());
  }
  EXPECT_EQ(P004().version.id, "2025-03-10");
}

TEST(Policy004, HiringNewslettersAreDisabled) {  // IC-004-13
  ASSERT_NE(P004().FindPurpose("hiring_newsletters"), nullptr);
  EXPECT_FALSE(P004().FindPurpose("hiring_newsletters")->enabled);
}

// ---- all five ----

// The grounds a right lists are offered to the person by their titles (the cabinet's and the
// console's request forms, the refusal that names them): each has one in every language.
TEST(EveryPolicy, EachGroundOfEachRightHasATitleInEveryLanguage) {  // R49
  for (const Policy* p : {&P000(), &P001(), &P002(), &P003(), &P004()}) {
    for (const auto& [right_id, right] : p->rights) {
      for (const auto& ground : right.grounds) {
        for (i18n::Lang lang : i18n::kAllLangs) {
          EXPECT_NE(i18n::Find(lang, "api.ground." + ground), nullptr)
              << p->school.id << " [rights." << right_id << "] ground " << ground
              << ": no api.ground." << ground << " in i18n/api/" << i18n::LangCode(lang) << ".json";
        }
      }
    }
  }
}

}  // namespace
}  // namespace dovira::policy
