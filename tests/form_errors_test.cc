// Errors for people (issue 12; R15, R24, R36, R54): every form of every shipped policy, sent
// with every kind of mistake at once, through the real server, in Ukrainian, Russian and English.
// The answer names every problem at once (`errors`, the first also as `error`), each by its field,
// and each message is in the request's language: the uk and ru messages hold no English word and
// no internal id outside the quoted titles of the policy, and name fields and consent check-boxes
// by their titles, never by their ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "server.h"

namespace dovira::testing {
namespace {

const char* const kLangs[] = {"uk", "ru", "en"};

// A message without its «quoted» parts (titles of the policy and the like). By hand: std::regex
// works on bytes, and a bracket of the two bytes of "»" would also stop at "л".
std::string Unquoted(const std::string& message) {
  std::string out;
  size_t i = 0;
  while (i < message.size()) {
    const size_t open = message.find("«", i);
    if (open == std::string::npos) break;
    out += message.substr(i, open - i);
    const size_t close = message.find("»", open);
    if (close == std::string::npos) return out;
    i = close + std::string("»").size();
  }
  return out + message.substr(std::min(i, message.size()));
}

// Whether the text holds a Cyrillic letter (U+0400 to U+04FF: lead bytes 0xD0 to 0xD3).
bool HasCyrillic(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b >= 0xD0 && b <= 0xD3;
  });
}

// A value the field's type refuses (too long where the type takes any text).
std::string BadValue(const Json& field) {
  const std::string type = field.value("type", "");
  if (type == "email") return "not an address";
  if (type == "phone") return "call me maybe";
  if (type == "date") return "2010-13-45";
  if (type == "datetime") return "yesterday";
  if (type == "integer" || type == "decimal") return "a lot";
  if (type == "boolean") return "perhaps";
  if (type == "enum") return "no_such_choice";
  if (type == "country") return "Ukraine";
  if (type == "url") return "somewhere";
  if (type == "ip") return "300.1.1.1";
  return std::string(static_cast<size_t>(field.value("max_length", 100)) + 1, 'x');
}

struct Expected {
  std::string code;
  std::string field;
  std::string title;  // what the message must name, in the reader's language ("" for none)
};

// Checks one answer: every expected problem once, nothing else, each message in `lang`.
void CheckAnswer(const Response& r, const std::vector<Expected>& expected, const std::string& lang,
                 const std::set<std::string>& ids) {
  ASSERT_EQ(r.status, 422) << r.Describe();
  const Json body = r.Body();
  ASSERT_TRUE(body.contains("errors") && body["errors"].is_array()) << r.Describe();
  const Json& errors = body["errors"];
  ASSERT_FALSE(errors.empty());
  // The first problem is also the top-level error, for clients that read one.
  EXPECT_EQ(body["error"], errors[0]);
  std::multiset<std::string> got, want;
  for (const Json& e : errors) {
    got.insert(e.value("code", "") + " " + (e["field"].is_string() ? e["field"].get<std::string>() : ""));
  }
  for (const auto& e : expected) want.insert(e.code + " " + e.field);
  EXPECT_EQ(got, want) << r.Describe();

  for (const Json& e : errors) {
    const std::string message = e.value("message", "");
    const std::string code = e.value("code", "");
    SCOPED_TRACE(code + ": " + message);
    ASSERT_FALSE(message.empty());
    const std::string plain = Unquoted(message);
    // No internal code or id in the visible text, in any language.
    EXPECT_FALSE(std::regex_search(plain, std::regex("[a-z0-9]+_[a-z0-9_]+")));
    // (In English an id may also be a word: "phone".)
    for (const auto& id : lang == "en" ? std::set<std::string>() : ids) {
      EXPECT_FALSE(std::regex_search(plain, std::regex("(^|[^A-Za-z_])" + id + "($|[^A-Za-z_])")))
          << "names the id " << id;
    }
    if (lang == "en") {
      EXPECT_TRUE(std::regex_search(plain, std::regex("[A-Za-z]{3,}")));
      EXPECT_FALSE(HasCyrillic(plain));
    } else {
      EXPECT_FALSE(std::regex_search(plain, std::regex("[A-Za-z]{3,}"))) << "an English word";
      EXPECT_TRUE(HasCyrillic(plain));
    }
    const std::string field = e["field"].is_string() ? e["field"].get<std::string>() : "";
    for (const auto& x : expected) {
      if (x.code == code && x.field == field && !x.title.empty()) {
        EXPECT_NE(message.find(x.title), std::string::npos) << "names " << x.title;
      }
    }
  }
  // A Ukrainian answer has a Ukrainian letter (і).
  if (lang == "uk") {
    EXPECT_NE(r.body.find("\u0456"), std::string::npos) << "a Ukrainian letter";
  }
}

class FormErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerOptions options;
    options.policies = {"000", "001", "002", "003", "004"};
    server_ = new TestServer(options);
    ASSERT_EQ(server_->Start(), "");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::vector<std::string> Schools() {
    std::vector<std::string> out;
    const Json health = server_->Get("/healthz").Body();
    for (const auto& s : health["schools"]) out.push_back(s);
    return out;
  }
  static TestServer* server_;
};
TestServer* FormErrors::server_ = nullptr;

// Every form, with required fields left empty, optional fields filled wrongly, no consent ticked,
// the policy not accepted and no age stated.
TEST_F(FormErrors, Issue12_R15_EveryFormReportsEveryMistakeAtOnceInTheReadersLanguage) {
  int forms = 0;
  const std::vector<std::string> schools = Schools();
  ASSERT_EQ(schools.size(), 5u);
  for (const std::string& school : schools) {
    const std::string base = "/v1/schools/" + school;
    const Json list = server_->Get(base + "/forms").Body();
    ASSERT_TRUE(list.contains("items")) << list.dump();
    const Json& items = list["items"];
    for (const Json& item : items) {
      const std::string form = item.value("id", "");
      SCOPED_TRACE(school + "/" + form);
      ++forms;
      for (const char* lang : kLangs) {
        SCOPED_TRACE(lang);
        const Json def = server_->Get(base + "/forms/" + form + "?lang=" + lang).Body();
        ASSERT_TRUE(def.contains("fields")) << def.dump();
        std::set<std::string> ids = {form};
        Json fields = Json::object();
        std::vector<Expected> expected;
        for (const Json& f : def["fields"]) {
          const std::string id = f["id"];
          ids.insert(id);
          if (f.value("required", false)) {
            expected.push_back({"field_required", id, "«" + f["title"].get<std::string>() + "»"});
          } else {
            fields[id] = BadValue(f);
            expected.push_back({"field_invalid", id, "«" + f["title"].get<std::string>() + "»"});
          }
        }
        for (const Json& c : def["consents"]) {
          ids.insert(c["id"].get<std::string>());
          ids.insert(c["consent"].get<std::string>());
          if (c.value("required", false)) {
            expected.push_back({"consent_required", "consents", "«" + c["text"].get<std::string>() + "»"});
          }
        }
        if (def.value("accept_policy", false)) expected.push_back({"policy_not_accepted", "accept_policy", ""});
        if (def.value("age_statement", false)) expected.push_back({"age_statement_required", "age_statement", ""});
        Response r = server_->Post(base + "/forms/" + form + "/submissions?lang=" + lang,
                                   Json{{"fields", fields}});
        CheckAnswer(r, expected, lang, ids);
      }
    }
  }
  EXPECT_GE(forms, 20);
}

// The age rules: a person under age needs the representative's fields (001, by the policy's
// representative fields; 003, by the birth date), or is not accepted at all (004).
TEST_F(FormErrors, Issue12_R24_R25_AgeRulesAreReportedWithTheOtherMistakes) {
  for (const char* lang : kLangs) {
    SCOPED_TRACE(lang);
    const std::string q = std::string("?lang=") + lang;
    // 001: a minor without the representative's name, relation and date of permission, and a
    // wrong e-mail address.
    const Json def = server_->Get(std::string("/v1/schools/vkluchi_zhizn/forms/subscription") + q).Body();
    std::map<std::string, std::string> title;
    for (const Json& f : def["fields"]) title[f["id"]] = "«" + f["title"].get<std::string>() + "»";
    std::set<std::string> ids = {"subscription", "pd_consent", "representative_name",
                                 "representative_relation", "representative_permission_date"};
    Response r = server_->Post("/v1/schools/vkluchi_zhizn/forms/subscription/submissions" + q,
                               Json{{"fields", {{"first_name", "Петро"}, {"email", "not an address"}}},
                                    {"consents", {"pd_consent"}},
                                    {"accept_policy", true},
                                    {"age_statement", "minor"}});
    CheckAnswer(r,
                {{"field_invalid", "email", title["email"]},
                 {"representative_required", "representative_name", ""},
                 {"representative_required", "representative_relation", ""},
                 {"representative_required", "representative_permission_date", ""}},
                lang, ids);
    // 003: a birth date under 18 without a representative, and the policy not accepted.
    Response young = server_->Post(
        "/v1/schools/it-pro/forms/registration/submissions" + q,
        Json{{"fields", {{"first_name", "Оля"}, {"last_name", "Мельник"}, {"email", "olia@example.com"},
                         {"date_of_birth", "2015-01-01"}}}});
    CheckAnswer(young, {{"policy_not_accepted", "accept_policy", ""}, {"representative_required", "representative", ""}},
                lang, {"registration", "date_of_birth"});
    // 004: minors are not accepted; the phone is missing too.
    Response minor = server_->Post(
        "/v1/schools/bbooster-masterclass/forms/masterclass/submissions" + q,
        Json{{"fields", {{"first_name", "Іван"}, {"email", "ivan@example.com"}}},
             {"consents", {"button_consent"}},
             {"accept_policy", true},
             {"age_statement", "minor"}});
    CheckAnswer(minor, {{"field_required", "phone", ""}, {"minor_not_accepted", "age_statement", ""}},
                lang, {"masterclass", "phone", "button_consent"});
  }
}

// The public rights-request form (R36): no type and no e-mail address are reported together,
// in the reader's language; a wrong address with no type too.
TEST_F(FormErrors, Issue12_R36_APublicRequestReportsEveryMistakeAtOnce) {
  for (const char* lang : kLangs) {
    SCOPED_TRACE(lang);
    const std::string url = std::string("/v1/schools/it-pro/public/requests?lang=") + lang;
    Response empty = server_->Post(url, Json::object());
    ASSERT_EQ(empty.status, 400) << empty.Describe();
    std::vector<std::string> got;
    const Json empty_body = empty.Body();
    for (const Json& e : empty_body["errors"]) got.push_back(e.value("code", "") + " " + e.value("field", ""));
    EXPECT_EQ(got, (std::vector<std::string>{"missing_field type", "missing_field email"}));
    Response wrong = server_->Post(url, Json{{"email", "not an address"}});
    got.clear();
    const Json wrong_body = wrong.Body();
    for (const Json& e : wrong_body["errors"]) {
      got.push_back(e.value("code", "") + " " + e.value("field", ""));
      const std::string plain = Unquoted(e.value("message", ""));
      if (std::string(lang) != "en") {
        EXPECT_FALSE(std::regex_search(plain, std::regex("[A-Za-z]{3,}"))) << plain;
        EXPECT_TRUE(HasCyrillic(plain)) << plain;
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"missing_field type", "email_invalid email"}));
  }
}

// The language: the `lang` parameter, else the body's `lang`, else Accept-Language, else the
// policy's authoritative language.
TEST_F(FormErrors, Issue12_TheMessageLanguageFollowsTheRequestThenThePolicy) {
  const std::string url = "/v1/schools/vkluchi_zhizn/forms/subscription/submissions";
  auto message = [](const Response& r) { return r.Body()["error"].value("message", ""); };
  const Json empty = Json{{"fields", Json::object()}};
  const std::string uk = message(server_->Post(url + "?lang=uk", empty));
  const std::string ru = message(server_->Post(url + "?lang=ru", empty));
  const std::string en = message(server_->Post(url + "?lang=en", empty));
  EXPECT_NE(uk, ru);
  EXPECT_NE(uk, en);
  EXPECT_EQ(message(server_->Post(url, Json{{"fields", Json::object()}, {"lang", "ru"}},
                                  {{"Accept-Language", "en"}})),
            ru);
  EXPECT_EQ(message(server_->Post(url, empty, {{"Accept-Language", "en-GB,en;q=0.9"}})), en);
  // 001's authoritative language is Russian; 003's Ukrainian.
  EXPECT_EQ(message(server_->Post(url, empty, {{"Accept-Language", "de"}})), ru);
  EXPECT_EQ(message(server_->Post(url, empty)), ru);
  const std::string it_pro = "/v1/schools/it-pro/forms/registration/submissions";
  EXPECT_EQ(message(server_->Post(it_pro, empty)),
            message(server_->Post(it_pro + "?lang=uk", empty)));
  EXPECT_NE(message(server_->Post(it_pro, empty)),
            message(server_->Post(it_pro + "?lang=ru", empty)));
  // An error of a route without a school is in Ukrainian, unless the request says otherwise.
  Response none = server_->Get("/v1/no-such-route");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.Body()["error"].value("message", ""), "Не знайдено.");
  EXPECT_EQ(server_->Get("/v1/no-such-route?lang=ru").Body()["error"].value("message", ""),
            "Не найдено.");
}

}  // namespace
}  // namespace dovira::testing
