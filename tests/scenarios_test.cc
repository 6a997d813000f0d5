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
//                                   value ~text: the string contains text instead; a pair in
//                                   double quotes ("key=a value") may hold blanks.
//                                   In a key, a part after an array picks an element: a number
//                                   is its index (items.0.id), k:v the first element whose k is
//                                   v (messages.kind:action_notice.due); the part # is the size
//                                   of the array or object before it (tasks.#=3).
//   key ROLE PURPOSE,...            later `process` calls use an API key of that role
//   process SUBJECT PURPOSE N [FIELD,...] [OPERATION]   POST /process answers N (FIELD,... as -:
//                                   every field, to name an OPERATION)
//   job deadlines | outbox          run a job now
//   mail N                          the sink has received N messages in all
//   mailto ADDRESS TEXT...          some message to ADDRESS contains TEXT (decoded)
//   mailnot ADDRESS TEXT...         no message to ADDRESS contains TEXT (decoded)
//   mailfrom ADDRESS SENDER         some message to ADDRESS has SENDER in its From header
//   confirm ADDRESS                 confirms the subscription of the last confirmation letter to ADDRESS (R15)
//   attachment ADDRESS NAME [TEXT...]  some message to ADDRESS has an attachment whose file name
//                                   contains NAME (and whose decoded content contains TEXT)
//   nomail ADDRESS                  no message was sent to ADDRESS
//   noattachment ADDRESS            no message to ADDRESS has an attachment
//   post PATH {json} | put PATH {json}  POST / PUT /v1/schools/<school>/PATH as staff
//   disclose {json}                 POST /disclosures with the API key of the last `key` line
//                                   (as staff before any)
//   keypost PATH {json}             POST /v1/schools/<school>/PATH with the API key of the last
//                                   `key` line
//   webhook N                       the webhook receiver (${webhook} is its URL) has received N
//                                   calls in all; ${unreachable} is an https URL on a loopback
//                                   port that refuses every connection
//   hook TEXT...                    some webhook call's body contains TEXT
//   nohook TEXT...                  no webhook call's body contains TEXT
//   restart                         stop the server and start it again on the same data
//   signin ADDRESS                  sign in to the personal cabinet with the code e-mailed to
//                                   ADDRESS (later `me` lines use that session)
//   me METHOD PATH [{json}]         METHOD /v1/schools/<school>/me PATH in the cabinet session
//                                   (with its CSRF token); PATH "-" is /me itself
//   remember NAME KEY               ${NAME} is the string at KEY (a path as in `body`) of the last
//                                   response's body (an id the other commands do not name)
//   print                           write the last response to the test log (when writing one)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "adapters/http/http_server.h"
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

// The key=value pairs of a check or body line, split on blanks; a pair written in double quotes
// ("key=a value") may hold blanks.
std::vector<std::string> Pairs(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
    } else if (text[i] == '"') {
      size_t close = text.find("\" ", i + 1);
      if (close == std::string::npos) close = text.size() - 1;
      out.push_back(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t end = text.find_first_of(" \t", i);
      if (end == std::string::npos) end = text.size();
      out.push_back(text.substr(i, end - i));
      i = end;
    }
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
  ~Runner() {
    if (unreachable_ >= 0) close(unreachable_);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void Run() {
    std::vector<Line> lines = Parse(file_);
    ASSERT_FALSE(lines.empty()) << file_;
    ASSERT_EQ(lines[0].cmd, "policy") << "the first line names the policy";
    policy_ = lines[0].words.at(0);
    school_ = SchoolOf(policy_);
    ASSERT_TRUE(sink_.ok());
    // The webhook receiver: records every call and answers 200.
    auto hooks = http::HttpServer::Start(
        {}, [this](ports::HttpRequest&& request, const ports::HttpResponder& respond) {
          {
            std::lock_guard<std::mutex> lock(hooks_mu_);
            hook_bodies_.push_back(request.body);
          }
          ports::HttpResponse response;
          response.status = 200;
          response.body = "{}";
          respond(std::move(response));
        });
    ASSERT_TRUE(hooks.ok()) << hooks.error().message;
    hooks_ = std::move(*hooks);
    names_["webhook"] = "http://127.0.0.1:" + std::to_string(hooks_->port()) + "/hooks/dovira";
    // A loopback port bound but never listening: every connection to it is refused.
    unreachable_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(bind(unreachable_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(getsockname(unreachable_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    names_["unreachable"] = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/import";
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

  // Signs in again after the clock moved; a password that expired meanwhile is changed.
  void Relogin() {
    ASSERT_EQ(staff_->SignIn("Tall-Otter-Runs-" + std::to_string(7320 + ++relogins_) + "!"), "");
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
    if (actual.is_string() && !expected.empty() && expected[0] == '~') {
      return actual.get<std::string>().find(expected.substr(1)) != std::string::npos;
    }
    if (actual.is_string()) return actual.get<std::string>().rfind(expected, 0) == 0;
    return actual.dump() == expected;
  }

  // One part of a key path (see the header): an object member, an array element by index or by
  // k:v, or # for the size.
  static bool Step(const Json& at, const std::string& part, Json* out) {
    if (part == "#" && (at.is_array() || at.is_object())) {
      *out = at.size();
      return true;
    }
    if (at.is_object()) {
      if (!at.contains(part)) return false;
      *out = at[part];
      return true;
    }
    if (!at.is_array()) return false;
    const size_t colon = part.find(':');
    if (colon == std::string::npos) {
      if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return false;
      const size_t i = std::stoul(part);
      if (i >= at.size()) return false;
      *out = at[i];
      return true;
    }
    const std::string k = part.substr(0, colon), v = part.substr(colon + 1);
    for (const Json& e : at) {
      if (!e.is_object() || !e.contains(k)) continue;
      const Json& ev = e[k];
      if ((ev.is_string() && ev.get<std::string>() == v) || (!ev.is_string() && ev.dump() == v)) {
        *out = e;
        return true;
      }
    }
    return false;
  }

  void CheckKeys(const Json& j, const std::vector<std::string>& pairs, size_t from) {
    ASSERT_TRUE(j.is_object()) << last_.Describe();
    for (size_t i = from; i < pairs.size(); ++i) {
      size_t eq = pairs[i].find('=');
      ASSERT_NE(eq, std::string::npos) << pairs[i];
      const std::string key = pairs[i].substr(0, eq), value = Subst(pairs[i].substr(eq + 1));
      Json at = j;
      std::istringstream path(key);
      std::string part;
      while (std::getline(path, part, '.')) {
        Json next;
        const bool found = Step(at, part, &next);
        ASSERT_TRUE(found) << key << ": no " << part << " in " << at.dump();
        at = std::move(next);
      }
      EXPECT_TRUE(Matches(at, value)) << key << " = " << at.dump() << ", expected " << value;
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
      Relogin();  // sessions expire as the clock moves
    } else if (c == "advance") {
      const std::string& w = l.words.at(0);
      int64_t n = std::stoll(w.substr(0, w.size() - 1));
      const char unit = w.back();
      int64_t seconds = unit == 'd' ? n * 86400 : unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : n;
      ASSERT_FALSE(server_->Advance(seconds).empty());
      Relogin();
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
      CheckKeys(last_.Body(), Pairs(l.rest), 1);
    } else if (c == "body") {
      CheckKeys(last_.Body(), Pairs(l.rest), 0);
    } else if (c == "process") {
      Json body = {{"subject", Subst("${" + l.words.at(0) + "}")}, {"purpose", l.words.at(1)}};
      if (l.words.size() > 3 && l.words[3] != "-") {
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
    } else if (c == "confirm") {
      // Double opt-in (R15): the link of the last confirmation letter to the address, confirmed.
      const std::string address = l.words.at(0);
      std::string token;
      for (const auto& m : sink_.messages()) {
        if (std::find(m.rcpt.begin(), m.rcpt.end(), address) == m.rcpt.end()) continue;
        const std::string text = SmtpSink::DecodedText(m.data);
        if (auto at = text.find("&token="); at != std::string::npos) token = text.substr(at + 7, 64);
      }
      ASSERT_FALSE(token.empty()) << "no confirmation letter to " << address;
      last_ = server_->Post(Base() + "/subscriptions/confirm", Json{{"token", token}});
    } else if (c == "job") {
      last_ = staff_->Post(Base() + "/jobs/" + l.words.at(0) + "/run", Json::object());
      ASSERT_EQ(last_.status, 200) << last_.Describe();
    } else if (c == "mail") {
      const size_t n = std::stoul(l.words.at(0));
      sink_.WaitFor(n, std::chrono::seconds(5));
      EXPECT_EQ(sink_.messages().size(), n);
    } else if (c == "noattachment") {
      const std::string address = l.words.at(0);
      for (const auto& m : sink_.messages()) {
        if (std::find(m.rcpt.begin(), m.rcpt.end(), address) == m.rcpt.end()) continue;
        for (const auto& part : SmtpSink::Parts(m.data)) {
          EXPECT_NE(part.disposition, "attachment")
              << "a message to " << address << " has the attachment " << part.filename;
        }
      }
    } else if (c == "mailfrom" || c == "attachment") {
      const std::string address = l.words.at(0);
      const std::string want = l.words.at(1);
      std::string text;
      for (size_t i = 2; i < l.words.size(); ++i) text += (text.empty() ? "" : " ") + l.words[i];
      text = Subst(text);
      bool found = false;
      std::string seen;
      for (const auto& m : sink_.messages()) {
        if (std::find(m.rcpt.begin(), m.rcpt.end(), address) == m.rcpt.end()) continue;
        if (c == "mailfrom") {
          const std::string from = SmtpSink::HeaderOf(m.data, "From");
          seen += from + "\n";
          if (from.find(want) != std::string::npos) found = true;
          continue;
        }
        for (const auto& part : SmtpSink::Parts(m.data)) {
          if (part.disposition != "attachment") continue;
          seen += part.filename + " (" + std::to_string(part.body.size()) + " bytes)\n";
          if (part.filename.find(Subst(want)) != std::string::npos &&
              part.body.find(text) != std::string::npos) {
            found = true;
          }
        }
      }
      EXPECT_TRUE(found) << "no message to " << address << " has " << c << " " << want << " "
                         << text << "; seen:\n"
                         << seen;
    } else if (c == "mailto" || c == "nomail" || c == "mailnot") {
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
      if (c == "mailnot") {
        EXPECT_FALSE(found) << "a message to " << address << " contains \"" << text
                            << "\":\n" << seen;
      } else if (c == "mailto") {
        EXPECT_TRUE(found) << "no message to " << address << " contains \"" << text
                           << "\"; seen:\n" << seen;
      } else {
        EXPECT_FALSE(found) << "a message went to " << address << ":\n" << seen;
      }
    } else if (c == "post" || c == "put") {
      auto [path, body] = NameAndBody(l);
      last_ = c == "post" ? staff_->Post(Base() + "/" + Subst(path), body)
                          : staff_->Call("PUT", Base() + "/" + Subst(path), body.dump());
    } else if (c == "disclose") {
      Json body = Json::parse(Subst(l.rest), nullptr, false);
      ASSERT_FALSE(body.is_discarded()) << "bad JSON: " << l.rest;
      last_ = key_.empty() ? staff_->Post(Base() + "/disclosures", body)
                           : server_->Post(Base() + "/disclosures", body,
                                           Headers{{"Authorization", "Bearer " + key_}});
    } else if (c == "keypost") {
      const std::string path = l.words.at(0);
      Json body = Json::parse(Subst(l.rest.substr(l.rest.find(' ') + 1)), nullptr, false);
      ASSERT_FALSE(body.is_discarded()) << "bad JSON: " << l.rest;
      ASSERT_FALSE(key_.empty()) << "keypost needs a `key` line before it";
      last_ = server_->Post(Base() + "/" + Subst(path), body,
                            Headers{{"Authorization", "Bearer " + key_}});
    } else if (c == "webhook") {
      const size_t n = std::stoul(l.words.at(0));
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (HookBodies().size() < n && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      EXPECT_EQ(HookBodies().size(), n);
    } else if (c == "hook" || c == "nohook") {
      const std::string text = Subst(l.rest);
      bool found = false;
      std::string seen;
      for (const auto& b : HookBodies()) {
        seen += b + "\n";
        if (b.find(text) != std::string::npos) found = true;
      }
      if (c == "hook") {
        EXPECT_TRUE(found) << "no webhook call contains \"" << text << "\"; seen:\n" << seen;
      } else {
        EXPECT_FALSE(found) << "a webhook call contains \"" << text << "\":\n" << seen;
      }
    } else if (c == "remember") {
      Json at = last_.Body();
      std::istringstream path(l.words.at(1));
      std::string part;
      while (std::getline(path, part, '.')) {
        Json next;
        ASSERT_TRUE(Step(at, part, &next)) << l.words[1] << ": no " << part << " in " << at.dump();
        at = std::move(next);
      }
      ASSERT_TRUE(at.is_string()) << l.words[1] << " = " << at.dump();
      names_[l.words.at(0)] = at.get<std::string>();
    } else if (c == "signin") {
      const std::string address = l.words.at(0);
      const size_t before = sink_.messages().size();
      last_ = server_->Post(Base() + "/me/sign-in", Json{{"email", address}});
      ASSERT_EQ(last_.status, 202) << last_.Describe();
      const std::string login = last_.Body().value("login", "");
      ASSERT_EQ(staff_->Post(Base() + "/jobs/outbox/run", Json::object()).status, 200);
      ASSERT_TRUE(sink_.WaitFor(before + 1, std::chrono::seconds(5)));
      const std::string code = LastCode(address);
      ASSERT_FALSE(code.empty()) << "no code was e-mailed to " << address;
      last_ = server_->Post(Base() + "/me/sign-in/verify", Json{{"login", login}, {"code", code}});
      ASSERT_EQ(last_.status, 200) << last_.Describe();
      const std::string set = last_.Header("set-cookie");
      const size_t eq = set.find('='), semi = set.find(';');
      ASSERT_TRUE(set.rfind("dovira_me=", 0) == 0 && semi != std::string::npos) << set;
      me_cookie_ = "dovira_me=" + set.substr(eq + 1, semi - eq - 1);
      me_csrf_ = last_.Body().value("csrf_token", "");
    } else if (c == "me") {
      ASSERT_FALSE(me_cookie_.empty()) << "`me` before `signin`";
      const std::string method = l.words.at(0);
      const std::string path = l.words.at(1) == "-" ? "" : Subst(l.words.at(1));
      std::string body;
      if (l.words.size() > 2) {
        auto [ignored, json] = NameAndBody(l, 2);
        body = json.dump();
      }
      Headers h = {{"Cookie", me_cookie_}};
      if (method != "GET") h.emplace_back("X-CSRF-Token", me_csrf_);
      last_ = server_->Call(method, Base() + "/me" + path, body, h);
    } else if (c == "print") {
      std::cout << l.number << ": HTTP " << last_.status << " " << last_.body << "\n";
    } else if (c == "restart") {
      server_->Stop();
      ASSERT_EQ(server_->Start(), "");
      ASSERT_EQ(staff_->Login().status, 200);
    } else {
      FAIL() << "unknown command " << c;
    }
  }

  std::vector<std::string> HookBodies() {
    std::lock_guard<std::mutex> lock(hooks_mu_);
    return hook_bodies_;
  }

  std::string file_;
  std::string policy_, school_;
  std::mutex hooks_mu_;
  std::vector<std::string> hook_bodies_;
  int unreachable_ = -1;  // the socket behind ${unreachable}
  std::unique_ptr<http::HttpServer> hooks_;  // last: stopped first, before what its handler uses
  SmtpSink sink_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<StaffClient> staff_;
  std::map<std::string, std::string> names_;
  Response last_;
  std::string last_code_;
  std::string key_;
  std::string me_cookie_, me_csrf_;  // the cabinet session of the last `signin`
  int relogins_ = 0;
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
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param.substr(0, param.param.size() - 4);
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace dovira::testing
