// Scenario tests for the rights workflows (R35-R69): each file in tests/scenarios/ is a small
// script run against the real server on a fake clock, with a real SMTP sink on loopback.
//
// The format, one command per line ('#' starts a comment; ${name} is replaced by the id of a
// subject or request created earlier in the file):
//   policy 004                      the shipped policy to serve (file prefix); first line
//   clock 2025-03-03T09:00:00Z      set the server's clock
//   advance 3d | 5h | 30s           move it forward
//   subject NAME {json}             POST /subjects (staff); NAME = the new subject's id
//   form NAME FORM {json}           a public form submission; NAME = the new subject's id
//   request NAME {json}             POST /requests (staff); NAME = the request's id
//   public NAME {json}              POST /public/requests (no account)
//   code NAME                       POST /public/requests/NAME/verify with the e-mailed code
//   step NAME STEP {json}           POST /requests/NAME/STEP
//   get PATH                        GET /v1/schools/<school>/PATH
//   status N                        the last call answered N
//   check NAME key=value ...        GET /requests/NAME: each key's value (a.b for nested keys)
//                                   starts with value (strings), or equals it (other JSON)
//   body key=value ...              the same on the last response's body
//   key ROLE PURPOSE,...            later `process` calls use an API key of that role
//   process SUBJECT PURPOSE N [FIELD,...] [OPERATION]   POST /process answers N
//   job deadlines | outbox          run a job now
//   mail N                          the sink has received N messages in all
//   mailto ADDRESS TEXT...          some message to ADDRESS contains TEXT (decoded)
//   nomail ADDRESS                  no message was sent to ADDRESS
//   restart                         stop the server and start it again on the same data
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "server.h"
#include "smtp_sink.h"

namespace dovira::testing {
namespace {

struct Line {
  int number = 0;
  std::string cmd;
  std::vector<std::string> words;  // after the command, split on spaces (JSON kept whole)
  std::string rest;                // everything after the command
};

std::vector<Line> Parse(const std::string& path) {
  std::ifstream in(path);
  std::vector<Line> out;
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    size_t start = text.find_first_not_of(" \t");
    if (start == std::string::npos || text[start] == '#') continue;
    text = text.substr(start);
    Line l;
    l.number = n;
    size_t sp = text.find(' ');
    l.cmd = text.substr(0, sp);
    l.rest = sp == std::string::npos ? "" : text.substr(sp + 1);
    std::istringstream words(l.rest);
    std::string w;
    while (words >> w) l.words.push_back(w);
    out.push_back(std::move(l));
  }
  return out;
}

std::string SchoolOf(const std::string& policy) {
  static const std::map<std::string, std::string> kSchools = {
      {"000", "lms-collaborator"}, {"001", "vkluchi_zhizn"}, {"002", "soho-lms"},
      {"003", "it-pro"},           {"004", "bbooster-masterclass"}};
  return kSchools.at(policy);
}

class Runner {
 public:
  explicit Runner(std::string file) : file_(std::move(file)) {}

  void Run() {
    std::vector<Line> lines = Parse(file_);
    ASSERT_FALSE(lines.empty()) << file_;
    ASSERT_EQ(lines[0].cmd, "policy") << "the first line names the policy";
    policy_ = lines[0].words.at(0);
    school_ = SchoolOf(policy_);
    ASSERT_TRUE(sink_.ok());
    ServerOptions o;
    o.policies = {policy_};
    o.extra_args = {"--smtp-url", "smtp://127.0.0.1:" + std::to_string(sink_.port()),
                    "--mail-from", "privacy@school.test"};
    server_ = std::make_unique<TestServer>(o);
    ASSERT_EQ(server_->Start(), "");
    SignIn();
    for (size_t i = 1; i < lines.size(); ++i) {
      SCOPED_TRACE(file_ + ":" + std::to_string(lines[i].number) + ": " + lines[i].cmd + " " +
                   lines[i].rest);
      Exec(lines[i]);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

 private:
  void SignIn() {
    staff_ = std::make_unique<StaffClient>(server_.get(), school_, server_->bootstrap_email(),
                                           server_->BootstrapPassword(school_));
    ASSERT_EQ(staff_->SignIn(), "");
  }

  std::string Subst(std::string text) const {
    static const std::regex var(R"(\$\{([A-Za-z0-9_]+)\})");
    std::smatch m;
    std::string out;
    while (std::regex_search(text, m, var)) {
      auto it = names_.find(m[1].str());
      out += m.prefix().str() + (it == names_.end() ? m[0].str() : it->second);
      text = m.suffix().str();
    }
    return out + text;
  }

  std::string Base() const { return "/v1/schools/" + school_; }

  // "NAME {json}" → name and parsed body.
  std::pair<std::string, Json> NameAndBody(const Line& l, size_t skip_words = 1) {
    std::string rest = l.rest;
    for (size_t i = 0; i < skip_words; ++i) {
      size_t sp = rest.find(' ');
      rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
    }
    Json body = rest.empty() ? Json::object() : Json::parse(Subst(rest), nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << "bad JSON: " << rest;
    return {l.words.at(0), body};
  }

  void Remember(const std::string& name) {
    Json j = last_.Body();
    ASSERT_TRUE(j.is_object()) << last_.Describe();
    std::string id = j.contains("subject") && !j.contains("type") ? j["subject"].get<std::string>()
                                                                  : j.value("id", "");
    ASSERT_FALSE(id.empty()) << last_.Describe();
    names_[name] = id;
  }

  static bool Matches(const Json& actual, const std::string& expected) {
    if (actual.is_string()) return actual.get<std::string>().rfind(expected, 0) == 0;
    return actual.dump() == expected;
  }

  void CheckKeys(const Json& j, const std::vector<std::string>& pairs, size_t from) {
    ASSERT_TRUE(j.is_object()) << last_.Describe();
    for (size_t i = from; i < pairs.size(); ++i) {
      size_t eq = pairs[i].find('=');
      ASSERT_NE(eq, std::string::npos) << pairs[i];
      const std::string key = pairs[i].substr(0, eq), value = Subst(pairs[i].substr(eq + 1));
      const Json* at = &j;
      std::istringstream path(key);
      std::string part;
      while (std::getline(path, part, '.')) {
        ASSERT_TRUE(at->is_object() && at->contains(part)) << key << " missing in " << j.dump();
        at = &(*at)[part];
      }
      EXPECT_TRUE(Matches(*at, value)) << key << " = " << at->dump() << ", expected " << value;
    }
  }

  std::string LastCode(const std::string& address) {
    const std::regex code(R"(: (\d{6}))");
    for (const auto& m : sink_.messages()) {
      if (std::find(m.rcpt.begin(), m.rcpt.end(), address) == m.rcpt.end()) continue;
      std::smatch found;
      std::string text = SmtpSink::DecodedText(m.data);
      if (std::regex_search(text, found, code)) last_code_ = found[1].str();
    }
    return last_code_;
  }

  void Exec(const Line& l) {
    const std::string& c = l.cmd;
    if (c == "clock") {
      ASSERT_FALSE(server_->SetClock(l.words.at(0)).empty());
      ASSERT_EQ(staff_->Login().status, 200);  // sessions expire as the clock moves
    } else if (c == "advance") {
      const std::string& w = l.words.at(0);
      int64_t n = std::stoll(w.substr(0, w.size() - 1));
      const char unit = w.back();
      int64_t seconds = unit == 'd' ? n * 86400 : unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : n;
      ASSERT_FALSE(server_->Advance(seconds).empty());
      ASSERT_EQ(staff_->Login().status, 200);
    } else if (c == "key") {
      Json purposes = Json::array();
      std::istringstream list(l.words.at(1));
      std::string p;
      while (std::getline(list, p, ',')) purposes.push_back(p);
      last_ = staff_->Post(Base() + "/api-keys",
                           Json{{"name", "scenario"}, {"role", l.words.at(0)}, {"purposes", purposes}});
      ASSERT_EQ(last_.status, 201) << last_.Describe();
      key_ = last_.Body().value("key", "");
    } else if (c == "subject") {
      auto [name, body] = NameAndBody(l);
      last_ = staff_->Post(Base() + "/subjects", body);
      ASSERT_EQ(last_.status, 201) << last_.Describe();
      Remember(name);
    } else if (c == "form") {
      auto [name, body] = NameAndBody(l, 2);
      last_ = server_->Post(Base() + "/forms/" + l.words.at(1) + "/submissions", body);
      ASSERT_EQ(last_.status, 201) << last_.Describe();
      Remember(name);
    } else if (c == "request" || c == "public") {
      auto [name, body] = NameAndBody(l);
      last_ = c == "request" ? staff_->Post(Base() + "/requests", body)
                             : server_->Post(Base() + "/public/requests", body);
      if (last_.status == 201) Remember(name);
    } else if (c == "code") {
      ASSERT_TRUE(sink_.WaitFor(1, std::chrono::seconds(5)));
      const std::string address = l.words.at(1);
      const std::string code = LastCode(address);
      if (code.empty()) {
        for (const auto& m : sink_.messages()) ADD_FAILURE() << SmtpSink::DecodedText(m.data);
      }
      ASSERT_FALSE(code.empty()) << "no code was e-mailed to " << address;
      last_ = server_->Post(Base() + "/public/requests/" + Subst("${" + l.words.at(0) + "}") +
                                "/verify",
                            Json{{"code", code}});
    } else if (c == "step") {
      auto [name, body] = NameAndBody(l, 2);
      last_ = staff_->Post(Base() + "/requests/" + Subst("${" + name + "}") + "/" + l.words.at(1),
                           body);
    } else if (c == "get") {
      last_ = staff_->Get(Base() + "/" + Subst(l.words.at(0)));
    } else if (c == "status") {
      EXPECT_EQ(last_.status, std::stoi(l.words.at(0))) << last_.Describe();
    } else if (c == "check") {
      last_ = staff_->Get(Base() + "/requests/" + Subst("${" + l.words.at(0) + "}"));
      ASSERT_EQ(last_.status, 200) << last_.Describe();
      CheckKeys(last_.Body(), l.words, 1);
    } else if (c == "body") {
      CheckKeys(last_.Body(), l.words, 0);
    } else if (c == "process") {
      Json body = {{"subject", Subst("${" + l.words.at(0) + "}")}, {"purpose", l.words.at(1)}};
      if (l.words.size() > 3) {
        Json fields = Json::array();
        std::istringstream list(l.words[3]);
        std::string f;
        while (std::getline(list, f, ',')) fields.push_back(f);
        body["fields"] = fields;
      }
      if (l.words.size() > 4) body["operation"] = l.words[4];
      last_ = key_.empty() ? staff_->Post(Base() + "/process", body)
                           : server_->Post(Base() + "/process", body,
                                           Headers{{"Authorization", "Bearer " + key_}});
      EXPECT_EQ(last_.status, std::stoi(l.words.at(2))) << last_.Describe();
    } else if (c == "job") {
      last_ = staff_->Post(Base() + "/jobs/" + l.words.at(0) + "/run", Json::object());
      ASSERT_EQ(last_.status, 200) << last_.Describe();
    } else if (c == "mail") {
      const size_t n = std::stoul(l.words.at(0));
      sink_.WaitFor(n, std::chrono::seconds(5));
      EXPECT_EQ(sink_.messages().size(), n);
    } else if (c == "mailto" || c == "nomail") {
      const std::string address = l.words.at(0);
      std::string text = l.rest.substr(std::min(l.rest.size(), address.size() + 1));
      bool found = false;
      std::string seen;
      for (const auto& m : sink_.messages()) {
        if (std::find(m.rcpt.begin(), m.rcpt.end(), address) == m.rcpt.end()) continue;
        const std::string decoded = SmtpSink::DecodeWords(SmtpSink::HeaderOf(m.data, "Subject")) +
                                    "\n" + SmtpSink::DecodedText(m.data);
        seen += decoded + "\n---\n";
        if (c == "nomail" || decoded.find(Subst(text)) != std::string::npos) found = true;
      }
      if (c == "mailto") {
        EXPECT_TRUE(found) << "no message to " << address << " contains \"" << text
                           << "\"; seen:\n" << seen;
      } else {
        EXPECT_FALSE(found) << "a message went to " << address << ":\n" << seen;
      }
    } else if (c == "restart") {
      server_->Stop();
      ASSERT_EQ(server_->Start(), "");
      ASSERT_EQ(staff_->Login().status, 200);
    } else {
      FAIL() << "unknown command " << c;
    }
  }

  std::string file_;
  std::string policy_, school_;
  SmtpSink sink_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<StaffClient> staff_;
  std::map<std::string, std::string> names_;
  Response last_;
  std::string last_code_;
  std::string key_;
};

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(DOVIRA_SOURCE_DIR) + "/tests/scenarios")) {
    if (e.path().extension() == ".scn") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Runs) {
  Runner(std::string(DOVIRA_SOURCE_DIR) + "/tests/scenarios/" + GetParam()).Run();
}

INSTANTIATE_TEST_SUITE_P(Rights, Scenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace dovira::testing
