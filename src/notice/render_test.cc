// R01: the human-readable notice is rendered from the policy alone, in Ukrainian, Russian and
// English, as HTML and as Markdown.
#include "notice/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "i18n/i18n.h"
#include "notice/document.h"
#include "notice/phrases.h"
#include "policy/checker.h"
#include "policy/model.h"

namespace dovira::notice {
namespace {

using calendar::Term;
using calendar::TermUnit;

const char* const kLangs[] = {"uk", "ru", "en"};
const Format kFormats[] = {Format::kHtml, Format::kMarkdown};

policy::LocalText Tx(std::string uk, std::string ru, std::string en) {
  policy::LocalText t;
  t.by_lang = {{"uk", std::move(uk)}, {"ru", std::move(ru)}, {"en", std::move(en)}};
  return t;
}

calendar::Date D(const char* text) {
  auto d = calendar::ParseDate(text);
  EXPECT_TRUE(d.ok()) << text;
  return d.ok() ? *d : calendar::Date{};
}

policy::Deadline Due(Term term, std::string trigger = "request_received") {
  policy::Deadline d;
  d.term = term;
  d.trigger = std::move(trigger);
  return d;
}

// A representative school policy: two purposes (consent and contract), a disabled purpose, a
// recipient abroad under SCCs, access in 30 calendar days, rectification in 7 working days from
// the evidence, a cookie inventory with a session cookie, minors under 18, one resolution.
policy::Policy RepresentativePolicy() {
  policy::Policy p;
  p.format = 1;
  p.school.id = "sunrise";
  p.school.name = Tx("Школа «Світанок»", "Школа «Рассвет»", "Sunrise School");
  p.school.website = "https://sunrise.example";
  p.school.scope = {"sunrise.example", "app.sunrise.example"};
  p.school.jurisdiction = "UA";
  p.school.languages = {"uk", "ru", "en"};
  p.school.authoritative_language = "uk";

  p.version.id = "2025-03-10";
  p.version.published = D("2025-03-10");
  p.version.effective = D("2025-03-17");

  p.controller.name =
      Tx("ТОВ «Світанок Освіта»", "ООО «Рассвет Образование»", "Sunrise Education LLC");
  p.controller.reg_id = "12345678";
  p.controller.address = "вул. Прорізна, 1, Київ";
  p.controller.email = "office@sunrise.example";

  p.contacts.rights_requests = "privacy@sunrise.example";
  p.contacts.support = "https://sunrise.example/help";
  p.contacts.policy_comments = "policy@sunrise.example";
  p.contacts.child_data_reports = "children@sunrise.example";
  p.contacts.security_reports = "security@sunrise.example";
  p.officers.responsible_person = {"Олена Коваль", "dpo@sunrise.example", "", {}};
  p.officers.security_officer = {"Ігор Мельник", "security@sunrise.example", "", {}};

  policy::Law law;
  law.id = "zpd";
  law.title = Tx("Закон України «Про захист персональних даних»",
                 "Закон Украины «О защите персональных данных»",
                 "Law of Ukraine on Personal Data Protection");
  law.citation = "№ 2297-VI";
  p.laws.push_back(law);

  p.storage.regions = {"UA", "EU"};
  p.transfers.declared = true;
  p.transfers.cross_border = "allowed";
  p.transfers.bases = {"consent", "contract"};
  p.transfers.safeguards = {"scc"};
  p.transfers.eu_origin_requires_scc = true;

  p.subject_kinds["student"].id = "student";
  p.subject_kinds["student"].title = Tx("Учні", "Ученики", "Students");
  p.subject_kinds["parent"].id = "parent";
  p.subject_kinds["parent"].title = Tx("Батьки", "Родители", "Parents");

  auto category = [&](const std::string& id, policy::LocalText title, std::string kind) {
    policy::Category& c = p.categories[id];
    c.id = id;
    c.title = std::move(title);
    c.kind = std::move(kind);
    return &c;
  };
  category("identity", Tx("Ідентифікаційні дані", "Идентификационные данные", "Identity data"),
           "ordinary");
  category("contact", Tx("Контактні дані", "Контактные данные", "Contact details"), "contact");
  policy::Category* health = category("health", Tx("Здоров’я", "Здоровье", "Health"), "special");
  health->special_type = "health";
  health->stored_apart = true;
  category("technical", Tx("Технічні дані", "Технические данные", "Technical data"), "technical");
  p.special_categories.excluded = {"biometric", "genetic"};
  p.special_categories.allowed = {"health"};

  auto field = [&](const std::string& id, const std::string& cat, policy::LocalText title) {
    policy::Field& f = p.fields[id];
    f.id = id;
    f.category = cat;
    f.title = std::move(title);
  };
  field("full_name", "identity", Tx("Ім’я та прізвище", "Имя и фамилия", "Full name"));
  field("email", "contact",
        Tx("Адреса електронної пошти", "Адрес электронной почты", "Email address"));
  field("allergy", "health", Tx("Алергії", "Аллергии", "Allergies"));
  field("ip", "technical", Tx("IP-адреса", "IP-адрес", "IP address"));

  policy::ConsentType& newsletter_consent = p.consents["newsletter"];
  newsletter_consent.id = "newsletter";
  newsletter_consent.title = Tx("Згода на розсилку", "Согласие на рассылку", "Newsletter consent");
  newsletter_consent.grants = {"newsletter", "processing"};
  newsletter_consent.withdrawal_procedure =
      Tx("Натисніть «Відписатися» в будь-якому листі.", "Нажмите «Отписаться» в любом письме.",
         "Click “Unsubscribe” in any message.");
  newsletter_consent.withdrawal_channels = {"email", "personal_account"};

  policy::Form& signup = p.forms["signup"];
  signup.id = "signup";
  signup.title = Tx("Реєстрація", "Регистрация", "Sign-up form");
  policy::ConsentCheckbox box;
  box.id = "newsletter_box";
  box.consent = "newsletter";
  box.text = Tx("Я хочу отримувати новини школи", "Я хочу получать новости школы",
                "I want to receive school news");
  signup.consents.push_back(box);

  policy::Purpose& teaching = p.purposes["teaching"];
  teaching.id = "teaching";
  teaching.title = Tx("Навчання на курсах", "Обучение на курсах", "Teaching courses");
  teaching.description = Tx("Доступ до уроків і перевірка домашніх завдань.",
                            "Доступ к урокам и проверка домашних заданий.",
                            "Access to lessons and marking of homework.");
  teaching.basis = "contract";
  teaching.fields = {"full_name", "email"};
  teaching.recipients = {"cloud_host"};
  teaching.retention = Term{3, TermUnit::kCalendarYears, true};
  teaching.retention_from = "agreement_end";

  policy::Purpose& newsletter = p.purposes["newsletter"];
  newsletter.id = "newsletter";
  newsletter.title = Tx("Розсилка новин", "Рассылка новостей", "School newsletter");
  newsletter.basis = "consent";
  newsletter.fields = {"email"};
  newsletter.marketing = true;
  newsletter.channels = {"email"};

  policy::Purpose& legacy = p.purposes["legacy_ads"];
  legacy.id = "legacy_ads";
  legacy.title = Tx("Стара рекламна кампанія", "Старая рекламная кампания", "Old ad campaign");
  legacy.basis = "consent";
  legacy.enabled = false;

  policy::Recipient& host = p.recipients["cloud_host"];
  host.id = "cloud_host";
  host.title = Tx("Хмарний хостинг", "Облачный хостинг", "Cloud hosting");
  host.kind = "processor";
  host.countries = {"DE"};
  host.safeguard = "scc";
  host.confidentiality_clause = true;

  policy::Right& access = p.rights["access"];
  access.id = "access";
  access.deadline = Due(Term{30, TermUnit::kCalendarDays, true});
  access.channels = {"email", "personal_account"};
  access.identity_verification = "required";
  access.verification_methods = {"signed_in", "email_code"};

  policy::Right& rectification = p.rights["rectification"];
  rectification.id = "rectification";
  rectification.deadline = Due(Term{7, TermUnit::kWorkingDays, true}, "evidence_supplied");
  rectification.evidence_required = true;
  rectification.notify_recipients = true;

  policy::Right& portability = p.rights["portability"];
  portability.id = "portability";
  portability.deadline = Due(Term{30, TermUnit::kCalendarDays, true});
  portability.formats = {"json", "csv"};
  portability.scope = "eu_overlay";

  policy::Right& restriction = p.rights["restriction"];
  restriction.id = "restriction";
  restriction.enabled = false;

  p.withdrawal.declared = true;
  p.withdrawal.effect = "stop_consent_purposes";
  p.withdrawal.then = "destroy";
  p.withdrawal.deadline = Due(Term{30, TermUnit::kWorkingDays, true}, "withdrawal_received");
  p.withdrawal.consequence_notice =
      Tx("Після відкликання згоди ви більше не отримуватимете новин.",
         "После отзыва согласия вы больше не будете получать новости.",
         "After you withdraw consent you will no longer receive news.");

  p.unlawful_processing.declared = true;
  p.unlawful_processing.stop = Term{0, TermUnit::kImmediate, true};
  p.unlawful_processing.destroy = Term{10, TermUnit::kWorkingDays, true};

  p.action_notice.declared = true;
  p.action_notice.deadline = Due(Term{5, TermUnit::kWorkingDays, true}, "action_performed");

  p.claims.pretrial = true;
  p.claims.deadline = Due(Term{30, TermUnit::kCalendarDays, true}, "claim_received");

  policy::Authority& ombudsman = p.complaint_authorities["UA"];
  ombudsman.region = "UA";
  ombudsman.name = Tx("Уповноважений Верховної Ради України з прав людини",
                      "Уполномоченный Верховной Рады Украины по правам человека",
                      "Ukrainian Parliament Commissioner for Human Rights");
  ombudsman.url = "https://ombudsman.gov.ua";

  p.minors.rule = "birth_date";
  p.minors.threshold = 18;
  p.minors.age_map = {{"DE", 16}};
  p.minors.never_collect_under = 13;
  p.minors.marketing_allowed = false;

  p.cookies.used = true;
  p.cookies.consent_cookie = "cookie_consent";
  p.cookies.third_party_tools = {"Google Analytics"};
  policy::Cookie session;
  session.name = "sunrise_session";
  session.provider = "Sunrise";
  session.category = "necessary";
  session.purpose = Tx("Тримає вас у системі", "Держит вас в системе", "Keeps you signed in");
  p.cookies.inventory.push_back(session);
  policy::Cookie ga;
  ga.name = "_ga";
  ga.provider = "Google";
  ga.category = "statistics";
  ga.purpose = Tx("Статистика відвідувань", "Статистика посещений", "Visit statistics");
  ga.lifetime = Term{24, TermUnit::kCalendarMonths, true};
  p.cookies.inventory.push_back(ga);

  p.marketing.model = "opt_in";
  p.marketing.channels = {"email"};
  p.marketing.granular_optout = true;

  p.retention.declared = true;
  p.retention.after = "destroy";
  policy::LegalMinimum minimum;
  minimum.category = "identity";
  minimum.term = Term{3, TermUnit::kCalendarYears, true};
  minimum.law = "zpd";
  p.retention.legal_minimum.push_back(minimum);

  p.eu_overlay.enabled = true;
  p.eu_overlay.trigger = "residence";
  p.eu_overlay.rights = {"portability"};

  p.security.password_max_age = Term{90, TermUnit::kCalendarDays, true};

  p.policy_change.effective_rule = "after_notice";
  p.policy_change.advance_notice = Term{30, TermUnit::kCalendarDays, true};
  p.policy_change.notify_channels = {"email", "personal_account"};
  p.policy_change.acceptance_mode = "explicit";
  p.policy_change.review_interval = Term{1, TermUnit::kCalendarYears, true};

  p.notice.intro =
      Tx("Ми дбаємо про ваші дані.", "Мы заботимся о ваших данных.", "We care about your data.");

  policy::Conflict conflict;
  conflict.code = "W-001-WITHDRAWAL-ALT";
  conflict.clauses = "§3.6.4 vs §3.6.5";
  conflict.summary = "Destroy within 30 working days vs anonymise and keep using";
  p.conflicts.push_back(conflict);
  policy::Resolution resolution;
  resolution.code = "W-001-WITHDRAWAL-ALT";
  resolution.choice = "destroy";
  resolution.reason = "The subject-protective reading";
  resolution.approved_by = "security_officer";
  resolution.date = D("2025-03-10");
  resolution.clause = "§3.6.4";
  resolution.notice = Tx("Після відкликання згоди ми знищуємо ваші дані.",
                         "После отзыва согласия мы уничтожаем ваши данные.",
                         "When you withdraw your consent, we destroy your data.");
  p.resolutions.push_back(resolution);
  return p;
}

policy::Policy ProcessorPolicy() {
  policy::Policy p = RepresentativePolicy();
  p.controller.role = "processor";
  return p;
}

std::string Render(const policy::Policy& p, const std::string& lang, Format format,
                   Audience audience = Audience::kPublic) {
  auto text = RenderNotice(p, lang, format, audience);
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? *text : std::string();
}

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

const char* FormatName(Format f) { return f == Format::kHtml ? "html" : "md"; }

TEST(R01RenderNotice, EverySectionHeadingIsPresentInEachLanguageAndFormat) {
  const std::vector<std::vector<std::string>> headings = {
      {"1. Хто ми", "2. Чиї дані ми обробляємо", "3. Які дані ми обробляємо",
       "4. Навіщо ми обробляємо дані", "5. Ваша згода", "6. Кому ми передаємо дані",
       "7. Скільки ми зберігаємо дані", "8. Ваші права", "9. Діти", "10. Файли cookie",
       "11. Маркетинг, автоматизовані рішення та профілювання", "12. Як ми захищаємо дані",
       "13. Зміни цієї політики", "14. Як ми тлумачимо неоднозначні положення"},
      {"1. Кто мы", "2. Чьи данные мы обрабатываем", "3. Какие данные мы обрабатываем",
       "4. Зачем мы обрабатываем данные", "5. Ваше согласие", "6. Кому мы передаём данные",
       "7. Сколько мы храним данные", "8. Ваши права", "9. Дети", "10. Файлы cookie",
       "11. Маркетинг, автоматизированные решения и профилирование", "12. Как мы защищаем данные",
       "13. Изменения этой политики", "14. Как мы толкуем неоднозначные положения"},
      {"1. Who we are", "2. Whose data we process", "3. What data we process",
       "4. Why we process your data", "5. Your consent", "6. Who receives your data",
       "7. How long we keep your data", "8. Your rights", "9. Children", "10. Cookies",
       "11. Marketing, automated decisions and profiling", "12. How we protect your data",
       "13. Changes to this policy", "14. How we read ambiguous clauses"},
  };
  const policy::Policy p = RepresentativePolicy();
  for (size_t i = 0; i < 3; ++i) {
    const std::string html = Render(p, kLangs[i], Format::kHtml);
    const std::string md = Render(p, kLangs[i], Format::kMarkdown);
    size_t html_at = 0;
    size_t md_at = 0;
    for (const std::string& heading : headings[i]) {
      // In order, as <h2> and as "## ".
      const size_t h = html.find(">" + heading + "</h2>", html_at);
      EXPECT_NE(h, std::string::npos) << kLangs[i] << " html: " << heading;
      if (h != std::string::npos) html_at = h;
      const size_t m = md.find("\n## " + heading + "\n", md_at);
      EXPECT_NE(m, std::string::npos) << kLangs[i] << " md: " << heading;
      if (m != std::string::npos) md_at = m;
    }
  }
}

TEST(R01RenderNotice, TitleNamesTheSchoolAndTheVersionDatesAreWrittenOut) {
  const policy::Policy p = RepresentativePolicy();
  const std::string uk = Render(p, "uk", Format::kMarkdown);
  EXPECT_TRUE(Has(uk, "# Політика конфіденційності — Школа «Світанок»\n")) << uk;
  EXPECT_TRUE(Has(uk,
                  "Версія 2025-03-10 · опубліковано 10 березня 2025 р. · чинна з 17 березня "
                  "2025 р."));
  const std::string ru = Render(p, "ru", Format::kMarkdown);
  EXPECT_TRUE(Has(ru, "опубликована 10 марта 2025 г."));
  const std::string en = Render(p, "en", Format::kHtml);
  EXPECT_TRUE(Has(en, "<h1>Privacy policy — Sunrise School</h1>"));
  EXPECT_TRUE(Has(en, "published 10 March 2025 · effective from 17 March 2025"));
  EXPECT_TRUE(Has(en, "<p>We care about your data.</p>"));
}

TEST(R01RenderNotice, TermsAreWrittenInWordsWithTheirTriggerInEachLanguage) {
  const policy::Policy p = RepresentativePolicy();
  for (Format f : kFormats) {
    const std::string uk = Render(p, "uk", f);
    EXPECT_TRUE(Has(uk, "7 робочих днів з дня надання вами підтвердних документів"))
        << FormatName(f);
    EXPECT_TRUE(Has(uk, "30 календарних днів з дня отримання запиту"));
    EXPECT_TRUE(Has(uk, "3 роки після припинення договору"));
    const std::string ru = Render(p, "ru", f);
    EXPECT_TRUE(Has(ru, "7 рабочих дней со дня предоставления вами подтверждающих документов"));
    EXPECT_TRUE(Has(ru, "30 календарных дней со дня получения запроса"));
    const std::string en = Render(p, "en", f);
    EXPECT_TRUE(Has(en, "7 working days from the day you supply the evidence"));
    EXPECT_TRUE(Has(en, "30 calendar days from receipt of the request"));
    EXPECT_TRUE(Has(en, "as long as needed for the purpose"));
  }
}

TEST(R01RenderNotice, ControllerRoleSaysTheSchoolDecidesWhyAndHow) {
  const std::string en = Render(RepresentativePolicy(), "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en, "Sunrise Education LLC is the controller of your personal data"));
  EXPECT_FALSE(Has(en, "as a processor"));
}

TEST(R01RenderNotice, ProcessorRoleExplainsTheSchoolActsForItsClientOrganisations) {
  const policy::Policy p = ProcessorPolicy();
  EXPECT_TRUE(Has(Render(p, "uk", Format::kMarkdown),
                  "обробляє персональні дані як розпорядник — від імені та за дорученням "
                  "організацій-клієнтів"));
  EXPECT_TRUE(Has(Render(p, "ru", Format::kMarkdown),
                  "обрабатывает персональные данные как распорядитель — от имени и по поручению "
                  "организаций-клиентов"));
  const std::string en = Render(p, "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en,
                  "Sunrise Education LLC processes personal data as a processor, on behalf "
                  "of and on the instructions of the client organisations"));
  EXPECT_TRUE(Has(en, "We will forward your request to the client organisation"));
  EXPECT_FALSE(Has(en, "is the controller of your personal data"));
}

TEST(R01RenderNotice, EveryEnabledPurposeTitleAndEveryCookieNameAppearInBothFormats) {
  const policy::Policy p = RepresentativePolicy();
  for (const char* lang : kLangs) {
    for (Format f : kFormats) {
      const std::string text = Render(p, lang, f);
      for (const auto& [id, purpose] : p.purposes) {
        if (!purpose.enabled) continue;
        EXPECT_TRUE(Has(text, purpose.title.Get(lang)))
            << lang << " " << FormatName(f) << " " << id;
      }
      for (const policy::Cookie& cookie : p.cookies.inventory) {
        EXPECT_TRUE(Has(text, cookie.name)) << lang << " " << FormatName(f) << " " << cookie.name;
      }
    }
  }
}

TEST(R01RenderNotice, DisabledPurposeIsOmittedEverywhere) {
  const policy::Policy p = RepresentativePolicy();
  const policy::Purpose& legacy = p.purposes.at("legacy_ads");
  for (const char* lang : kLangs) {
    for (Format f : kFormats) {
      const std::string text = Render(p, lang, f);
      EXPECT_FALSE(Has(text, legacy.title.Get(lang))) << lang << " " << FormatName(f);
      EXPECT_FALSE(Has(text, "legacy_ads")) << lang << " " << FormatName(f);
    }
  }
}

TEST(R01RenderNotice, DisabledRightIsOmittedAndRightsFollowTheCanonicalOrder) {
  const std::string en = Render(RepresentativePolicy(), "en", Format::kMarkdown);
  EXPECT_FALSE(Has(en, "Right to restrict processing"));
  const size_t access = en.find("### Right of access");
  const size_t rectification = en.find("### Right to rectification");
  const size_t portability = en.find("### Right to data portability");
  ASSERT_NE(access, std::string::npos);
  ASSERT_NE(rectification, std::string::npos);
  ASSERT_NE(portability, std::string::npos);
  EXPECT_LT(access, rectification);
  EXPECT_LT(rectification, portability);
}

TEST(R01RenderNotice, RightsShowFeeChannelsIdentityCheckAndEuScope) {
  const std::string en = Render(RepresentativePolicy(), "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en, "**Fee**: free of charge"));
  EXPECT_TRUE(Has(en, "**How to ask**: email, your account"));
  EXPECT_TRUE(Has(en,
                  "**Proof of identity**: required: signing in to your account or a code "
                  "sent to your email"));
  EXPECT_TRUE(Has(en, "**Formats**: JSON, CSV"));
  EXPECT_TRUE(Has(en,
                  "This right applies if the EU General Data Protection Regulation (GDPR) "
                  "applies to you: you live in the EU or EEA."));
  EXPECT_TRUE(Has(en, "After you withdraw consent you will no longer receive news."));
  EXPECT_TRUE(Has(en, "**We destroy that data**: 10 working days from detection"));
  EXPECT_TRUE(Has(en, "**Time limit**: 30 calendar days from receipt of the claim"));
  EXPECT_TRUE(Has(en, "[https://ombudsman.gov.ua](https://ombudsman.gov.ua)"));
}

TEST(R01RenderNotice, RecipientAbroadIsListedWithCountryAndSafeguard) {
  const std::string uk = Render(RepresentativePolicy(), "uk", Format::kMarkdown);
  EXPECT_TRUE(Has(uk,
                  "| Хмарний хостинг | розпорядник | Навчання на курсах | Німеччина | "
                  "стандартні договірні умови (SCC) | персоніфіковані |"))
      << uk;
  EXPECT_TRUE(Has(uk, "Ми можемо передавати ваші дані за кордон."));
  EXPECT_TRUE(Has(uk, "**Країни зберігання**: Україна, Європейський Союз"));
}

TEST(R01RenderNotice, DataInventoryMarksSpecialCategoriesAndListsExcludedOnes) {
  const std::string en = Render(RepresentativePolicy(), "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en,
                  "**Health** (special category: health; kept apart from other data): "
                  "Allergies"));
  EXPECT_TRUE(Has(en,
                  "We do not process these special categories of data:\n\n- biometric data\n"
                  "- genetic data\n"));
  EXPECT_TRUE(Has(en, "**Technical data** — data that arises automatically"));
}

TEST(R01RenderNotice, ConsentShowsWhatItGrantsItsTermWithdrawalAndFormWording) {
  const std::string uk = Render(RepresentativePolicy(), "uk", Format::kMarkdown);
  EXPECT_TRUE(Has(uk, "**Що ви дозволяєте**: Розсилка новин; обробку ваших даних"));
  EXPECT_TRUE(Has(uk, "**Строк дії згоди**: до її відкликання"));
  EXPECT_TRUE(Has(uk, "**Як відкликати**: Натисніть «Відписатися» в будь-якому листі."));
  EXPECT_TRUE(Has(uk,
                  "**Реєстрація**: «Я хочу отримувати новини школи» (необов’язкова "
                  "позначка; позначку не встановлено заздалегідь)"));
}

TEST(R01RenderNotice, ChildrenSectionStatesTheAgeRules) {
  const std::string uk = Render(RepresentativePolicy(), "uk", Format::kMarkdown);
  EXPECT_TRUE(Has(uk, "**Вік, з якого ви самостійно даєте згоду на обробку даних**: 18 років"));
  EXPECT_TRUE(Has(uk, "- Німеччина: 16 років"));
  EXPECT_TRUE(Has(uk, "**Мінімальний вік, з якого ми взагалі збираємо дані**: 13 років"));
  const std::string ru = Render(RepresentativePolicy(), "ru", Format::kMarkdown);
  EXPECT_TRUE(Has(ru, "согласие на обработку данных**: 18 лет"));
}

TEST(R01RenderNotice, AgeMapListsOnlyCountriesWhoseAgeDiffers) {
  policy::Policy p = RepresentativePolicy();
  p.minors.age_map = {{"UA", 18}};
  const std::string en = Render(p, "en", Format::kMarkdown);
  EXPECT_FALSE(Has(en, "In some countries this age is different"));
  EXPECT_FALSE(Has(en, "Ukraine: 18"));
}

TEST(R01RenderNotice, NoAgeRuleSaysSoAndListsNoAges) {
  policy::Policy p = RepresentativePolicy();
  p.minors.rule = "none";
  const std::string en = Render(p, "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en, "We do not apply special age rules."));
  EXPECT_FALSE(Has(en, "Age from which you can consent on your own"));
}

TEST(R01RenderNotice, SessionCookieLifetimeReadsSession) {
  const policy::Policy p = RepresentativePolicy();
  EXPECT_TRUE(Has(Render(p, "en", Format::kMarkdown),
                  "| sunrise_session | Sunrise | strictly necessary | Keeps you signed in | "
                  "session (until you close the browser) |"));
  EXPECT_TRUE(Has(Render(p, "uk", Format::kHtml), "<td>сеанс (до закриття браузера)</td>"));
  EXPECT_TRUE(Has(Render(p, "ru", Format::kMarkdown), "| 24 календарных месяца |"));
}

// Issue 12: the public notice states the school's decision in the reader's language and cites
// the school's clause; the code, the conflict's summary, the choice and the reason are for the
// data-protection officer's edition only.
TEST(R01RenderNotice, ResolutionsStateTheDecisionAndOnlyTheDpoEditionShowsTheNotes) {
  const std::string en = Render(RepresentativePolicy(), "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en,
                  "- **§3.6.4** — When you withdraw your consent, we destroy your data. Approved "
                  "by: the data security officer, 10 March 2025."))
      << en;
  const std::string uk = Render(RepresentativePolicy(), "uk", Format::kHtml);
  EXPECT_TRUE(Has(uk, "Після відкликання згоди ми знищуємо ваші дані.")) << uk;
  for (const std::string& text : {en, uk}) {
    EXPECT_FALSE(Has(text, "W-001-WITHDRAWAL-ALT"));
    EXPECT_FALSE(Has(text, "subject-protective"));
    EXPECT_FALSE(Has(text, "anonymise and keep using"));
    EXPECT_FALSE(Has(text, "Our reading"));
  }

  const std::string dpo = Render(RepresentativePolicy(), "en", Format::kMarkdown, Audience::kDpo);
  EXPECT_TRUE(Has(dpo,
                  "**§3.6.4 (W-001-WITHDRAWAL-ALT)** — Destroy within 30 working days vs "
                  "anonymise and keep using. When you withdraw your consent, we destroy your "
                  "data. Our reading: destroy. Why: The subject-protective reading. Approved by: "
                  "the data security officer, 10 March 2025."))
      << dpo;
  EXPECT_TRUE(Has(dpo, "Edition for the data-protection officer"));
  EXPECT_FALSE(Has(en, "Edition for the data-protection officer"));

  // A resolution with no words for people is left out of the public notice (the checker reports
  // it as an error); with none left, the section says there is nothing to interpret.
  policy::Policy silent = RepresentativePolicy();
  silent.resolutions[0].notice = {};
  const std::string none = Render(silent, "uk", Format::kMarkdown);
  EXPECT_FALSE(Has(none, "§3.6.4")) << none;
  EXPECT_TRUE(Has(none, "У цій політиці немає положень, які довелося б тлумачити."));
  EXPECT_TRUE(Has(Render(silent, "uk", Format::kMarkdown, Audience::kDpo), "W-001-WITHDRAWAL-ALT"));
}

TEST(R01RenderNotice, SecurityAndChangesComeFromThePolicy) {
  const std::string en = Render(RepresentativePolicy(), "en", Format::kMarkdown);
  EXPECT_TRUE(Has(en, "- Staff passwords are changed at least every 90 calendar days."));
  EXPECT_TRUE(Has(en, "- Staff with privileged access sign in with two-factor authentication."));
  EXPECT_TRUE(Has(en, "- Every action on your data is recorded in an audit log."));
  EXPECT_TRUE(Has(en, "We tell you about changes at least 30 calendar days in advance."));
  EXPECT_TRUE(Has(en, "We review this policy at least every year."));
  const std::string uk = Render(RepresentativePolicy(), "uk", Format::kMarkdown);
  EXPECT_TRUE(Has(uk, "Ми переглядаємо цю політику щонайменше раз на рік."));
}

TEST(R01RenderNotice, HtmlIsACompleteStandaloneDocument) {
  const std::string html = Render(RepresentativePolicy(), "ru", Format::kHtml);
  EXPECT_EQ(html.rfind("<!doctype html>\n<html lang=\"ru\">", 0), 0u);
  EXPECT_TRUE(Has(html, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(
      Has(html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
  EXPECT_TRUE(Has(html, "<style>"));
  EXPECT_TRUE(Has(html, "<h2 id=\"rights\">8. Ваши права</h2>"));
  EXPECT_TRUE(Has(html, "<th scope=\"col\">Название</th>"));
  EXPECT_TRUE(Has(html, "<a href=\"#cookies\">10. Файлы cookie</a>"));
  EXPECT_TRUE(Has(html, "<a href=\"mailto:privacy@sunrise.example\">privacy@sunrise.example</a>"));
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
}

TEST(R01RenderNotice, HtmlEscapesEveryPolicyString) {
  policy::Policy p = RepresentativePolicy();
  const std::string evil = "<script>alert(1)</script> & \"Co\" 'x'";
  p.purposes.at("teaching").title = Tx(evil, evil, evil);
  p.school.name = Tx(evil, evil, evil);
  p.cookies.inventory[0].purpose = Tx(evil, evil, evil);
  p.contacts.support = "javascript:alert(1)";
  for (const char* lang : kLangs) {
    const std::string html = Render(p, lang, Format::kHtml);
    EXPECT_FALSE(Has(html, "<script>")) << lang;
    EXPECT_FALSE(Has(html, "href=\"javascript:")) << lang;
    EXPECT_TRUE(Has(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot; &#39;x&#39;"))
        << lang;
  }
}

TEST(R01RenderNotice, MarkdownEscapesPipesInTableCellsAndMarkupInText) {
  policy::Policy p = RepresentativePolicy();
  p.cookies.inventory[1].purpose = Tx("a | b", "a | b", "a | b");
  p.purposes.at("teaching").title = Tx("<b>*Bold*</b>", "<b>*Bold*</b>", "<b>*Bold*</b>");
  const std::string md = Render(p, "en", Format::kMarkdown);
  EXPECT_TRUE(Has(md, "| a \\| b |")) << md;
  EXPECT_FALSE(Has(md, "a | b"));
  EXPECT_TRUE(Has(md, "### \\<b\\>\\*Bold\\*\\</b\\>"));
  EXPECT_FALSE(Has(md, "<b>"));
}

TEST(R01RenderNotice, SchoolTextFallsBackToTheAuthoritativeLanguage) {
  policy::Policy p = RepresentativePolicy();
  p.purposes.at("newsletter").title.by_lang.erase("en");
  EXPECT_TRUE(Has(Render(p, "en", Format::kMarkdown), "### Розсилка новин"));
}

TEST(R01RenderNotice, UnknownLanguageIsAnError) {
  const policy::Policy p = RepresentativePolicy();
  for (const char* lang : {"de", "", "UK", "uk-UA"}) {
    auto text = RenderNotice(p, lang, Format::kHtml);
    ASSERT_FALSE(text.ok()) << lang;
    EXPECT_EQ(text.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(text.error().field, "lang");
  }
}

TEST(R01RenderNotice, EmptyPolicyStillRendersEverySection) {
  const policy::Policy p;
  for (const char* lang : kLangs) {
    for (Format f : kFormats) {
      auto text = RenderNotice(p, lang, f);
      ASSERT_TRUE(text.ok());
      EXPECT_TRUE(Has(*text, "14. ")) << lang;
    }
  }
}

TEST(R01RenderNotice, OutputIsDeterministic) {
  const policy::Policy p = RepresentativePolicy();
  EXPECT_EQ(Render(p, "uk", Format::kHtml), Render(p, "uk", Format::kHtml));
}

// ---- The five shipped policies: the public notice is for people (R01, issue 12) ----

std::vector<std::string> ShippedPolicies() {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(DOVIRA_SOURCE_DIR) + "/policies")) {
    if (e.path().extension() == ".toml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The text a person reads: tags and Markdown escapes undone, web addresses and e-mail addresses
// removed (an address may contain an underscore or a dot, and is what it is).
std::string VisibleWords(const std::string& rendered) {
  static const std::regex tags("<[^>]*>");
  static const std::regex escapes(R"(\\([[:punct:]]))");
  static const std::regex addresses(
      R"((https?://|mailto:)[^\s)\]<>"]*|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+|)"
      R"([A-Za-z0-9*-]+(\.[A-Za-z0-9-]+)+/[^\s)\]<>"]*)");
  const std::string text = std::regex_replace(rendered, tags, " ");
  return std::regex_replace(std::regex_replace(text, escapes, "$1"), addresses, " ");
}

std::vector<std::string> Matches(const std::string& text, const std::regex& re) {
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back(it->str());
  }
  return out;
}

bool HasCyrillic(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) == 0xD0 || static_cast<unsigned char>(c) == 0xD1;
  });
}

bool EndsASentence(const std::string& text) {
  return text.ends_with(".") || text.ends_with("!") || text.ends_with("?") ||
         text.ends_with("…");
}

// Issue 12 "Done when": for all five policies × uk/ru/en × HTML/Markdown, the public notice shows
// no finding code, no config key and no requirement id, and each of the school's decisions reads
// as a sentence in that language.
TEST(R01PublicNotice, ShippedPoliciesShowNoCodesKeysOrRowIdsAndStateEachDecision) {
  const std::vector<std::string> files = ShippedPolicies();
  ASSERT_EQ(files.size(), 5u);
  const std::regex finding_code(R"(\b[WIE]-[0-9A-Z]+-[A-Z-]+)");
  const std::regex row_id(R"(\bR[0-9]{2,3}\b|\bB[0-9]{2}\b)");
  const std::regex snake_case(R"(\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b)");
  const std::regex dotted_key(
      R"(\b(school|version|controller|contacts|officers|storage|transfers|calendar|terms|)"
      R"(fields|forms|consents|purposes|recipients|rights|withdrawal|unlawful_processing|)"
      R"(action_notice|minors|cookies|marketing|automated_decisions|retention|reuse|)"
      R"(collection|decisions|eu_overlay|claims|security|roles|policy_change|notice|)"
      R"(resolutions|conflicts)\.[a-z_]+)");
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    auto loaded = policy::LoadCheckedPolicy(file);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    const policy::Policy& p = *loaded;
    ASSERT_FALSE(p.resolutions.empty());
    std::set<std::string> codes;
    for (const auto& r : p.resolutions) codes.insert(r.code);
    for (const auto& c : p.conflicts) codes.insert(c.code);
    // A cookie's name is what the browser stores, so the cookie table shows it as it is.
    std::set<std::string> cookie_names;
    for (const auto& c : p.cookies.inventory) cookie_names.insert(c.name);
    for (const char* lang : {"uk", "ru", "en"}) {
      for (Format format : {Format::kHtml, Format::kMarkdown}) {
        SCOPED_TRACE(std::string(lang) + " " + FormatName(format));
        const std::string text = Render(p, lang, format);
        ASSERT_FALSE(text.empty());
        for (const std::string& code : codes) EXPECT_FALSE(Has(text, code)) << code;
        EXPECT_EQ(Matches(text, finding_code), std::vector<std::string>{});
        const std::string words = VisibleWords(text);
        EXPECT_EQ(Matches(words, row_id), std::vector<std::string>{});
        EXPECT_EQ(Matches(words, dotted_key), std::vector<std::string>{});
        std::vector<std::string> snake;
        for (const std::string& token : Matches(words, snake_case)) {
          if (!cookie_names.count(token)) snake.push_back(token);
        }
        EXPECT_EQ(snake, std::vector<std::string>{});

        for (const auto& r : p.resolutions) {
          ASSERT_TRUE(r.notice.Has(lang)) << r.code << " has no notice text in " << lang;
          const std::string& decision = r.notice.by_lang.at(lang);
          EXPECT_TRUE(EndsASentence(decision)) << r.code << " " << lang << ": " << decision;
          if (std::string(lang) != "en") {
            EXPECT_TRUE(HasCyrillic(decision)) << r.code << " " << lang << ": " << decision;
          }
          const std::string shown = format == Format::kHtml
                                        ? internal::EscapeHtml(decision)
                                        : internal::EscapeMarkdown(decision, false);
          EXPECT_TRUE(Has(text, shown)) << r.code << " " << lang << ": " << decision;
        }
      }
    }
    // The data-protection officer's edition keeps the engineering notes.
    const std::string dpo = Render(p, "uk", Format::kHtml, Audience::kDpo);
    for (const auto& r : p.resolutions) EXPECT_TRUE(Has(dpo, r.code)) << r.code;
  }
}

// Issue 12: the notice's words live in the catalogue (i18n/notice/<lang>.json). Every sentence
// the renderer uses is there in each language, so none reads as its own key.
TEST(R01Phrases, EveryPhraseIsInTheCatalogueInEachLanguage) {
  ASSERT_FALSE(internal::PhraseKeys().empty());
  for (i18n::Lang lang : i18n::kAllLangs) {
    for (std::string_view key : internal::PhraseKeys()) {
      const std::string full = "notice." + std::string(key);
      EXPECT_NE(i18n::Find(lang, full), nullptr) << full << " in " << i18n::LangCode(lang);
    }
  }
  EXPECT_STREQ(internal::PhrasesFor(i18n::Lang::kUk).h_rights.text, "Ваші права");
  EXPECT_EQ(internal::Lookup(internal::Vocab::kBasis, "consent", i18n::Lang::kEn), "your consent");
  EXPECT_EQ(internal::Lookup(internal::Vocab::kBasis, "no_such_basis", i18n::Lang::kEn),
            std::nullopt);
}

TEST(R01Phrases, EveryRightAndLawfulBasisHasWordsInEachLanguage) {
  using internal::Lookup;
  using internal::Vocab;
  for (internal::Lang lang : {internal::Lang::kUk, internal::Lang::kRu, internal::Lang::kEn}) {
    for (const char* right : policy::kRightIds) {
      EXPECT_TRUE(Lookup(Vocab::kRightTitle, right, lang).has_value()) << right;
      EXPECT_TRUE(Lookup(Vocab::kRightText, right, lang).has_value()) << right;
    }
    for (const char* basis : {"consent", "contract", "pre_contract", "legal_obligation",
                              "legitimate_interest", "vital_interests", "public_task"}) {
      EXPECT_TRUE(Lookup(Vocab::kBasis, basis, lang).has_value()) << basis;
    }
    for (const char* kind :
         {"processor", "sub_processor", "affiliate", "service_provider", "direct_marketing",
          "analytics", "authority", "participants", "client", "other"}) {
      EXPECT_TRUE(Lookup(Vocab::kRecipientKind, kind, lang).has_value()) << kind;
    }
    for (const char* type :
         {"racial_ethnic_origin", "national_origin", "political_opinions", "religious_beliefs",
          "philosophical_beliefs", "party_membership", "trade_union", "criminal", "health",
          "sex_life", "biometric", "genetic"}) {
      EXPECT_TRUE(Lookup(Vocab::kSpecialType, type, lang).has_value()) << type;
    }
  }
}

TEST(R01Document, EscapersNeutraliseMarkup) {
  EXPECT_EQ(internal::EscapeHtml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(internal::EscapeMarkdownCell("x|y\nz"), "x\\|y z");
  EXPECT_EQ(internal::EscapeMarkdown("# not a heading", true), "\\# not a heading");
  EXPECT_EQ(internal::EscapeMarkdown("1. not a list", true), "1\\. not a list");
  EXPECT_EQ(internal::EscapeMarkdown("Q&A &amp; &#38; R & D", false), "Q&A \\&amp; \\&#38; R & D");
  EXPECT_EQ(internal::SafeHref("javascript:alert(1)"), "");
  EXPECT_EQ(internal::SafeHref("https://x.example/a b"), "");
  EXPECT_EQ(internal::SafeHref("mailto:a@b.example"), "mailto:a@b.example");
}

}  // namespace
}  // namespace dovira::notice
