// The one place that includes toml++. Header-only mode keeps the parser in this translation unit,
// so the fuzz build instruments it too; exceptions are off so parse errors come back as values.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
// toml++ 3.3 asserts that a table header's key starts with a key character or a quote before it
// checks and reports exactly that ("[%school]": "expected bare key starting character"). Without
// NDEBUG (the asan build) the assert would end the process on such a file instead of the error a
// hostile or mistyped policy must get, so its assertions are off; the parser's own checks stay.
// (With NDEBUG the same line is a compiler assumption under clang; the release build is gcc's,
// where it is nothing.)
#define TOML_ASSERT(expr) static_cast<void>(0)
#include "policy/loader.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "anon/hierarchy.h"
#include "calendar/date.h"
#include "calendar/term.h"

namespace dovira::policy {
namespace {

// Inputs larger than this are refused before parsing: no real policy comes near it, and it bounds
// the work an untrusted file can cause.
constexpr size_t kMaxPolicyBytes = 4 * 1024 * 1024;

SourcePos PosOf(const toml::source_region& r) {
  return SourcePos{static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

const char* TypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number with a fraction";
    case toml::node_type::boolean:
      return "true/false";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

using Allowed = std::vector<std::string>;

// Reads one TOML table against a schema: each accessor records the key as known; Finish() reports
// every key no accessor asked for.
class Reader {
 public:
  Reader(const toml::table& table, std::string path, Findings& findings, SourcePos pos)
      : table_(table), path_(std::move(path)), findings_(findings), pos_(pos) {}
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader() { Finish(); }

  SourcePos pos() const { return pos_; }
  const std::string& path() const { return path_; }
  Findings& findings() { return findings_; }

  std::string KeyPath(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  // The node at `key`, or nullptr; marks the key as known.
  const toml::node* Node(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  SourcePos PosOfKey(std::string_view key) const {
    for (auto&& [k, v] : table_) {
      if (k.str() == key) return PosOf(k.source());
    }
    return pos_;
  }

  void Missing(std::string_view key, const std::string& code = "E-KEY-MISSING") {
    findings_.Add(pos_, code, "`" + KeyPath(key) + "` is required");
  }

  void WrongType(std::string_view key, const toml::node& n, const char* expected) {
    findings_.Add(PosOf(n.source()), "E-TYPE",
                  "`" + KeyPath(key) + "` must be " + expected + ", found " + TypeName(n.type()));
  }

  bool Str(std::string_view key, std::string* out, bool required = false) {
    const toml::node* n = Node(key);
    if (!n) {
      if (required) Missing(key);
      return false;
    }
    if (auto s = n->as_string()) {
      *out = s->get();
      if (required && out->empty()) Missing(key);
      return true;
    }
    WrongType(key, *n, "a string");
    return false;
  }

  bool Id(std::string_view key, std::string* out, bool required = false) {
    if (!Str(key, out, required)) return false;
    if (!out->empty() && !IsValidId(*out)) {
      findings_.Add(PosOfKey(key), "E-ID",
                    "`" + KeyPath(key) + "` = \"" + Clip(*out) +
                        "\" is not a valid id (use a-z, 0-9, _ and -, up to 64 characters)");
      out->clear();
      return false;
    }
    return true;
  }

  bool Enum(std::string_view key, std::string* out, const Allowed& allowed, bool required = false) {
    std::string v;
    if (!Str(key, &v, required)) return false;
    if (v.empty() && !required) return false;
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      findings_.Add(PosOfKey(key), "E-ENUM",
                    "`" + KeyPath(key) + "` = \"" + Clip(v) + "\" is not one of: " + Join(allowed));
      return false;
    }
    *out = v;
    return true;
  }

  bool Bool(std::string_view key, bool* out) {
    const toml::node* n = Node(key);
    if (!n) return false;
    if (auto b = n->as_boolean()) {
      *out = b->get();
      return true;
    }
    WrongType(key, *n, "true or false");
    return false;
  }

  bool Int(std::string_view key, int64_t* out, int64_t lo, int64_t hi, bool required = false) {
    const toml::node* n = Node(key);
    if (!n) {
      if (required) Missing(key);
      return false;
    }
    auto i = n->as_integer();
    if (!i) {
      WrongType(key, *n, "a whole number");
      return false;
    }
    int64_t v = i->get();
    if (v < lo || v > hi) {
      findings_.Add(PosOf(n->source()), "E-RANGE",
                    "`" + KeyPath(key) + "` = " + std::to_string(v) + " is out of range " +
                        std::to_string(lo) + ".." + std::to_string(hi));
      return false;
    }
    *out = v;
    return true;
  }

  bool IntNarrow(std::string_view key, int* out, int lo, int hi, bool required = false) {
    int64_t v = 0;
    if (!Int(key, &v, lo, hi, required)) return false;
    *out = static_cast<int>(v);
    return true;
  }

  // An array of strings. With `allowed`, every item must be in it.
  bool StrList(std::string_view key, std::vector<std::string>* out, const Allowed* allowed = nullptr,
               bool ids = false) {
    const toml::node* n = Node(key);
    if (!n) return false;
    auto arr = n->as_array();
    if (!arr) {
      WrongType(key, *n, "an array of strings");
      return false;
    }
    out->clear();
    std::set<std::string> seen;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& el = *arr->get(i);
      auto s = el.as_string();
      if (!s) {
        findings_.Add(PosOf(el.source()), "E-TYPE",
                      "`" + KeyPath(key) + "[" + std::to_string(i) + "]` must be a string, found " +
                          TypeName(el.type()));
        continue;
      }
      const std::string& v = s->get();
      if (allowed && std::find(allowed->begin(), allowed->end(), v) == allowed->end()) {
        findings_.Add(PosOf(el.source()), "E-ENUM",
                      "`" + KeyPath(key) + "` item \"" + Clip(v) + "\" is not one of: " +
                          Join(*allowed));
        continue;
      }
      if (ids && !IsValidId(v)) {
        findings_.Add(PosOf(el.source()), "E-ID",
                      "`" + KeyPath(key) + "` item \"" + Clip(v) + "\" is not a valid id");
        continue;
      }
      if (!seen.insert(v).second) {
        findings_.Add(PosOf(el.source()), "E-DUPLICATE",
                      "`" + KeyPath(key) + "` lists \"" + Clip(v) + "\" twice");
        continue;
      }
      out->push_back(v);
    }
    return true;
  }

  bool Text(std::string_view key, LocalText* out, bool required = false) {
    const toml::node* n = Node(key);
    if (!n) {
      if (required) Missing(key);
      return false;
    }
    out->pos = PosOf(n->source());
    out->by_lang.clear();
    if (auto s = n->as_string()) {
      if (s->get().empty()) {
        if (required) Missing(key);
        return false;
      }
      for (const char* lang : kLanguages) out->by_lang[lang] = s->get();
      return true;
    }
    if (auto t = n->as_table()) {
      for (auto&& [k, v] : *t) {
        std::string lang(k.str());
        if (lang != "uk" && lang != "ru" && lang != "en") {
          findings_.Add(PosOf(k.source()), "E-KEY-UNKNOWN",
                        "`" + KeyPath(key) + "." + Clip(lang) +
                            "` is not a notice language (use uk, ru, en)");
          continue;
        }
        auto s = v.as_string();
        if (!s) {
          WrongType(std::string(key) + "." + lang, v, "a string");
          continue;
        }
        if (!s->get().empty()) out->by_lang[lang] = s->get();
      }
      if (out->by_lang.empty() && required) Missing(key);
      return !out->by_lang.empty();
    }
    WrongType(key, *n, "a string or a table {uk, ru, en}");
    return false;
  }

  // A term ("7 working days"). `allow_session` accepts "session" (returns true, out unset).
  bool TermKey(std::string_view key, std::optional<calendar::Term>* out, bool required = false,
               std::string* raw = nullptr, bool allow_session = false) {
    std::string text;
    if (!Str(key, &text, required)) return false;
    if (raw) *raw = text;
    if (allow_session && text == "session") {
      out->reset();
      return true;
    }
    auto term = calendar::ParseTerm(text);
    if (!term.ok()) {
      findings_.Add(PosOfKey(key), "E-TERM", "`" + KeyPath(key) + "`: " + term.error().message);
      return false;
    }
    if (!term->unit_stated) {
      findings_.Add(PosOfKey(key), "W-TERM-UNIT",
                    "`" + KeyPath(key) + "` = \"" + Clip(text) +
                        "\" does not say calendar or working days; read as calendar days");
    }
    *out = *term;
    return true;
  }

  bool TermValue(std::string_view key, calendar::Term* out) {
    std::optional<calendar::Term> t;
    if (!TermKey(key, &t)) return false;
    if (t) *out = *t;
    return t.has_value();
  }

  bool DateKey(std::string_view key, std::optional<calendar::Date>* out, bool required = false) {
    const toml::node* n = Node(key);
    if (!n) {
      if (required) Missing(key);
      return false;
    }
    auto d = n->as_date();
    if (!d) {
      WrongType(key, *n, "a date (2025-03-10, without quotes)");
      return false;
    }
    auto parsed = ParseTomlDate(d->get());
    if (!parsed.ok()) {
      findings_.Add(PosOf(n->source()), "E-DATE",
                    "`" + KeyPath(key) + "`: " + parsed.error().message);
      return false;
    }
    *out = *parsed;
    return true;
  }

  static Result<calendar::Date> ParseTomlDate(const toml::date& d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", unsigned{d.year}, unsigned{d.month},
                  unsigned{d.day});
    return calendar::ParseDate(buf);
  }

  // A sub-table; calls fn with its reader. Returns false when absent (or not a table).
  bool Table(std::string_view key, const std::function<void(Reader&)>& fn,
             bool required = false) {
    const toml::node* n = Node(key);
    if (!n) {
      if (required) Missing(key);
      return false;
    }
    auto t = n->as_table();
    if (!t) {
      WrongType(key, *n, "a table");
      return false;
    }
    Reader sub(*t, KeyPath(key), findings_, PosOf(n->source()));
    fn(sub);
    return true;
  }

  // A table of tables keyed by id ([purposes.<id>]).
  bool Tables(std::string_view key,
              const std::function<void(const std::string& id, SourcePos, Reader&)>& fn,
              bool required = false) {
    return Table(
        key,
        [&](Reader& outer) {
          for (auto&& [k, v] : outer.table_) {
            std::string id(k.str());
            outer.known_.insert(id);
            SourcePos kpos = PosOf(k.source());
            if (!IsValidId(id)) {
              findings_.Add(kpos, "E-ID",
                            "`" + outer.KeyPath(Clip(id)) +
                                "`: not a valid id (use a-z, 0-9, _ and -, up to 64 characters)");
              continue;
            }
            auto t = v.as_table();
            if (!t) {
              outer.WrongType(id, v, "a table");
              continue;
            }
            Reader sub(*t, outer.KeyPath(id), findings_, kpos);
            fn(id, kpos, sub);
          }
          if (required && outer.table_.empty()) {
            findings_.Add(outer.pos_, "E-KEY-MISSING",
                          "`" + outer.path_ + "` must declare at least one entry");
          }
        },
        required);
  }

  // An array of tables ([[conflicts]]).
  bool ArrayOfTables(std::string_view key, const std::function<void(size_t, Reader&)>& fn) {
    const toml::node* n = Node(key);
    if (!n) return false;
    auto arr = n->as_array();
    if (!arr) {
      WrongType(key, *n, "an array of tables");
      return false;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& el = *arr->get(i);
      auto t = el.as_table();
      if (!t) {
        findings_.Add(PosOf(el.source()), "E-TYPE",
                      "`" + KeyPath(key) + "[" + std::to_string(i) + "]` must be a table, found " +
                          TypeName(el.type()));
        continue;
      }
      Reader sub(*t, KeyPath(key) + "[" + std::to_string(i) + "]", findings_,
                 PosOf(el.source()));
      fn(i, sub);
    }
    return true;
  }

  // Treats every key of this table as known (used where the keys are data, e.g. age_map).
  void AcceptAll() {
    for (auto&& [k, v] : table_) known_.insert(std::string(k.str()));
  }
  const toml::table& table() const { return table_; }

  static std::string Clip(std::string_view s) {
    std::string out(s.substr(0, 60));
    if (s.size() > 60) out += "…";
    return out;
  }

 private:
  void Finish() {
    if (finished_) return;
    finished_ = true;
    for (auto&& [k, v] : table_) {
      std::string key(k.str());
      if (known_.count(key)) continue;
      // Every table may cite the seed clause it encodes (docs/policy-reference.md).
      if (key == "clause") {
        if (!v.is_string()) WrongType(key, v, "a string");
        continue;
      }
      std::string msg = "unknown key `" + KeyPath(Clip(key)) + "`";
      std::string best;
      size_t best_d = 3;
      for (const auto& cand : known_) {
        size_t d = EditDistance(key, cand);
        if (d < best_d) {
          best_d = d;
          best = cand;
        }
      }
      if (!best.empty()) msg += "; did you mean `" + best + "`?";
      findings_.Add(PosOf(k.source()), "E-KEY-UNKNOWN", msg);
    }
  }

  const toml::table& table_;
  std::string path_;
  Findings& findings_;
  SourcePos pos_;
  std::set<std::string> known_;
  bool finished_ = false;
};

// ---- enumerations (docs/policy-reference.md) ----
const Allowed kLangs = {"uk", "ru", "en"};
const Allowed kControllerKinds = {"company", "sole_proprietor", "individual"};
const Allowed kControllerRoles = {"controller", "processor"};
const Allowed kRoleOrganisations = {"staff", "affiliate", "contractor"};
const Allowed kCategoryKinds = {"ordinary",  "contact",           "special",      "technical",
                                "financial", "identity_document", "transactional"};
const Allowed kSpecialTypes = {"racial_ethnic_origin", "national_origin",      "political_opinions",
                               "religious_beliefs",    "philosophical_beliefs", "party_membership",
                               "trade_union",          "criminal",             "health",
                               "sex_life",             "biometric",            "genetic"};
const Allowed kFieldTypes = {"string", "text",    "email",   "phone",   "date",
                             "datetime", "integer", "decimal", "boolean", "enum",
                             "country", "url",     "ip",      "file"};
const Allowed kIdentifier = {"direct", "indirect", "none"};
const Allowed kFieldSources = {"subject", "automatic", "client", "staff", "third_party"};
const Allowed kChannels = {"registration", "application",         "subscription_form",
                           "newsletter_subscription", "payment", "order",
                           "written",      "acceptance_by_use",   "acceptance_plus_order",
                           "personal_account", "phone_call",      "in_person",
                           "paper",        "import",              "api"};
const Allowed kBases = {"consent",           "contract",           "pre_contract",
                        "legal_obligation",  "legitimate_interest", "vital_interests",
                        "public_task"};
const Allowed kRetentionFrom = {"purpose_end", "collection", "agreement_end",
                                "end_of_use",  "withdrawal", "verification_decision"};
const Allowed kMessageChannels = {"email", "sms", "phone", "post", "messenger"};
const Allowed kDataForms = {"identified", "depersonalised"};
const Allowed kRecipientKinds = {"processor", "sub_processor", "affiliate", "service_provider",
                                 "direct_marketing", "analytics", "authority", "participants",
                                 "client", "other"};
const Allowed kSafeguards = {"none", "adequacy", "scc", "convention108", "consent", "contract",
                             "law"};
const Allowed kInstructedBy = {"none", "client", "subject"};
const Allowed kTriggers = {"request_received", "evidence_supplied", "action_performed",
                           "detected",         "claim_received",    "withdrawal_received"};
const Allowed kFees = {"free", "free_once_per_calendar_year", "may_charge"};
const Allowed kVerification = {"none", "allowed", "required"};
const Allowed kVerificationMethods = {"signed_in", "email_code", "document_check"};
const Allowed kScopes = {"all", "eu_overlay"};
const Allowed kPortabilityFormats = {"json", "csv"};
const Allowed kWithdrawalEffects = {"stop_all_but_storage", "stop_consent_purposes"};
const Allowed kWithdrawalThen = {"destroy", "anonymise", "destroy_consent_only_fields",
                                 "return_or_delete"};
const Allowed kWithdrawalModes = {"return", "delete"};
const Allowed kMinorRules = {"none", "self_declaration", "birth_date"};
const Allowed kRepresentativeConsent = {"required_before_collection", "not_accepted", "verified"};
const Allowed kCookieCategories = {"necessary", "preferences", "statistics", "marketing"};
const Allowed kCookieCreated = {"first_visit", "visit"};
const Allowed kMarketingModels = {"none", "opt_in", "opt_out"};
const Allowed kProfilingEffects = {"none", "legal", "similarly_significant"};
const Allowed kRetentionAfter = {"destroy", "anonymise", "destroy_or_anonymise"};
const Allowed kCombine = {"never", "depersonalised_only"};
const Allowed kHierarchies = {"age", "date", "region", "value"};
const Allowed kCollectionSources = {"subject", "client", "offline", "automatic", "third_party"};
const Allowed kEuTriggers = {"residence", "citizenship", "either"};
const Allowed kCrossBorder = {"allowed", "denied"};
const Allowed kTransferBases = {"consent", "contract", "law", "law_of_user_country",
                                "processor_contract"};
const Allowed kTransferSafeguards = {"scc", "adequacy", "convention108", "remote_access"};
const Allowed kTransferScopes = {"contract_only", "all_declared_purposes"};
const Allowed kEffectiveRules = {"on_posting", "on_posting_unless_stated", "after_notice"};
const Allowed kAcceptanceModes = {"none", "continued_use", "explicit"};
const Allowed kWeekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

Allowed RightIds() { return Allowed(std::begin(kRightIds), std::end(kRightIds)); }

void ReadDeadline(Reader& r, Deadline* d, bool required) {
  d->pos = r.pos();
  std::optional<calendar::Term> t;
  if (r.TermKey("term", &t, required, &d->term_text)) d->term = t;
  r.Enum("trigger", &d->trigger, kTriggers);
}

void ReadPerson(Reader& r, Person* p) {
  p->pos = r.pos();
  r.Str("name", &p->name);
  r.Str("email", &p->email);
  r.Str("phone", &p->phone);
}

void ReadSchool(Reader& r, School* s) {
  s->pos = r.pos();
  r.Id("id", &s->id, true);
  r.Text("name", &s->name, true);
  r.Str("website", &s->website);
  r.StrList("scope", &s->scope);
  r.Str("jurisdiction", &s->jurisdiction, true);
  if (!r.StrList("languages", &s->languages, &kLangs)) s->languages = {"uk", "ru", "en"};
  if (!r.Enum("authoritative_language", &s->authoritative_language, kLangs)) {
    s->authoritative_language = s->languages.empty() ? "uk" : s->languages.front();
  }
}

void ReadCalendar(Reader& r, Policy* p) {
  p->calendar_pos = r.pos();
  auto& c = p->calendar;
  if (!r.Str("timezone", &c.timezone, false)) {
    r.findings().Add(r.pos(), "E-TIMEZONE",
                     "`calendar.timezone` is required: a wrong zone shifts every due date");
    c.timezone.clear();
  }
  std::vector<std::string> days;
  if (r.StrList("workweek", &days, &kWeekdays)) {
    c.workweek.fill(false);
    for (const auto& d : days) {
      auto it = std::find(kWeekdays.begin(), kWeekdays.end(), d);
      c.workweek[static_cast<size_t>(it - kWeekdays.begin())] = true;
    }
    if (days.empty()) {
      r.findings().Add(r.PosOfKey("workweek"), "E-RANGE",
                       "`calendar.workweek` must name at least one working day");
      c.workweek = {true, true, true, true, true, false, false};
    }
  }
  if (const toml::node* n = r.Node("holidays")) {
    if (auto arr = n->as_array()) {
      std::set<std::string> seen;
      for (size_t i = 0; i < arr->size(); ++i) {
        const toml::node& el = *arr->get(i);
        auto d = el.as_date();
        if (!d) {
          r.findings().Add(PosOf(el.source()), "E-TYPE",
                           "`calendar.holidays[" + std::to_string(i) +
                               "]` must be a date (2025-01-01, without quotes), found " +
                               TypeName(el.type()));
          continue;
        }
        auto parsed = Reader::ParseTomlDate(d->get());
        if (!parsed.ok()) {
          r.findings().Add(PosOf(el.source()), "E-DATE",
                           "`calendar.holidays`: " + parsed.error().message);
          continue;
        }
        if (!seen.insert(calendar::FormatDate(*parsed)).second) {
          r.findings().Add(PosOf(el.source()), "W-DUPLICATE",
                           "`calendar.holidays` lists " + calendar::FormatDate(*parsed) + " twice");
          continue;
        }
        c.holidays.push_back(*parsed);
      }
    } else {
      r.WrongType("holidays", *n, "an array of dates");
    }
  }
  r.Bool("holidays_are_working_days", &c.holidays_are_working_days);
  r.Bool("roll_forward_non_working", &c.roll_forward_non_working);
  std::string clause;
  r.Str("clause", &clause);
}

void ReadPolicy(Reader& root, Policy* p) {
  int64_t format = 0;
  if (root.Int("format", &format, 1, 1000, true)) {
    p->format = static_cast<int>(format);
    if (format != 1) {
      root.findings().Add(root.PosOfKey("format"), "E-FORMAT",
                          "`format` = " + std::to_string(format) +
                              " is not supported; this Dovira reads format 1");
    }
  }
  root.Table("school", [&](Reader& r) { ReadSchool(r, &p->school); }, true);
  root.Table(
      "version",
      [&](Reader& r) {
        p->version.pos = r.pos();
        r.Str("id", &p->version.id, true);
        r.DateKey("published", &p->version.published, true);
        if (!r.DateKey("effective", &p->version.effective)) {
          p->version.effective = p->version.published;
        }
        r.Bool("requires_explicit_consent", &p->version.requires_explicit_consent);
      },
      true);
  if (!root.Table("controller", [&](Reader& r) {
        auto& c = p->controller;
        c.pos = r.pos();
        if (!r.Text("name", &c.name)) {
          r.findings().Add(r.pos(), "E-CONTROLLER-MISSING", "`controller.name` is required");
        }
        r.Str("reg_id", &c.reg_id);
        r.Enum("kind", &c.kind, kControllerKinds);
        r.Enum("role", &c.role, kControllerRoles);
        r.Str("address", &c.address);
        r.Str("email", &c.email);
        r.Str("phone", &c.phone);
        r.Str("website", &c.website);
      })) {
    root.findings().Add(root.pos(), "E-CONTROLLER-MISSING", "the policy names no [controller]");
  }
  root.Table(
      "contacts",
      [&](Reader& r) {
        auto& c = p->contacts;
        c.pos = r.pos();
        r.Str("rights_requests", &c.rights_requests);
        r.Str("support", &c.support);
        r.Str("policy_comments", &c.policy_comments);
        r.Str("child_data_reports", &c.child_data_reports);
        r.Str("security_reports", &c.security_reports);
      },
      true);
  root.Table(
      "officers",
      [&](Reader& r) {
        p->officers.pos = r.pos();
        r.Table("responsible_person", [&](Reader& s) { ReadPerson(s, &p->officers.responsible_person); });
        r.Table("security_officer", [&](Reader& s) { ReadPerson(s, &p->officers.security_officer); });
        r.Table("authorised_representative",
                [&](Reader& s) { ReadPerson(s, &p->officers.authorised_representative); });
      },
      true);
  root.ArrayOfTables("laws", [&](size_t, Reader& r) {
    Law law;
    law.pos = r.pos();
    r.Id("id", &law.id, true);
    r.Text("title", &law.title, true);
    r.Str("citation", &law.citation);
    r.Str("clause", &law.clause);
    p->laws.push_back(std::move(law));
  });
  root.Table(
      "storage",
      [&](Reader& r) {
        auto& s = p->storage;
        s.pos = r.pos();
        r.StrList("regions", &s.regions);
        r.Bool("require_audit", &s.require_audit);
        r.Bool("import_move_immediately", &s.import_move_immediately);
        r.Str("clause", &s.clause);
        r.ArrayOfTables("stores", [&](size_t, Reader& sr) {
          Store st;
          st.pos = sr.pos();
          sr.Id("id", &st.id, true);
          sr.Text("title", &st.title);
          sr.Str("region", &st.region, true);
          sr.Bool("audit", &st.audit);
          sr.StrList("purposes", &st.purposes, nullptr, true);
          sr.Str("clause", &st.clause);
          s.stores.push_back(std::move(st));
        });
      },
      true);
  root.Table("transfers", [&](Reader& r) {
    auto& t = p->transfers;
    t.declared = true;
    t.pos = r.pos();
    r.Enum("cross_border", &t.cross_border, kCrossBorder);
    r.StrList("bases", &t.bases, &kTransferBases);
    r.StrList("safeguards", &t.safeguards, &kTransferSafeguards);
    r.Enum("scope", &t.scope, kTransferScopes);
    r.Bool("eu_origin_requires_scc", &t.eu_origin_requires_scc);
    r.Bool("scc_copies_on_request", &t.scc_copies_on_request);
    r.Bool("remote_access_instead", &t.remote_access_instead);
    r.Str("clause", &t.clause);
  });
  if (!root.Table("calendar", [&](Reader& r) { ReadCalendar(r, p); })) {
    p->calendar.timezone.clear();
    root.findings().Add(root.pos(), "E-TIMEZONE",
                        "the policy has no [calendar]; `calendar.timezone` is required");
  }
  root.Table("terms", [&](Reader& r) {
    p->terms.pos = r.pos();
    r.TermValue("default_request", &p->terms.default_request);
    r.TermValue("immediate_automated", &p->terms.immediate_automated);
    std::string human;
    if (r.Str("immediate_human", &human)) {
      if (human != "end_of_working_day") {
        auto t = calendar::ParseTerm(human);
        if (!t.ok()) {
          r.findings().Add(r.PosOfKey("immediate_human"), "E-TERM",
                           "`terms.immediate_human` must be end_of_working_day or a term: " +
                               t.error().message);
          human = "end_of_working_day";
        }
      }
      p->terms.immediate_human = human;
    }
  });
  root.Tables(
      "subject_kinds",
      [&](const std::string& id, SourcePos pos, Reader& r) {
        SubjectKind k;
        k.id = id;
        k.pos = pos;
        r.Text("title", &k.title, true);
        r.Text("description", &k.description);
        r.Str("clause", &k.clause);
        p->subject_kinds[id] = std::move(k);
      },
      true);
  root.Tables(
      "categories",
      [&](const std::string& id, SourcePos pos, Reader& r) {
        Category c;
        c.id = id;
        c.pos = pos;
        r.Text("title", &c.title, true);
        r.Enum("kind", &c.kind, kCategoryKinds);
        r.Enum("special_type", &c.special_type, kSpecialTypes);
        r.Bool("stored_apart", &c.stored_apart);
        r.Str("clause", &c.clause);
        p->categories[id] = std::move(c);
      },
      true);
  root.Table("special_categories", [&](Reader& r) {
    auto& s = p->special_categories;
    s.pos = r.pos();
    r.StrList("excluded", &s.excluded, &kSpecialTypes);
    r.StrList("allowed", &s.allowed, &kSpecialTypes);
    r.Str("clause", &s.clause);
  });
  root.Tables(
      "fields",
      [&](const std::string& id, SourcePos pos, Reader& r) {
        Field f;
        f.id = id;
        f.pos = pos;
        r.Id("category", &f.category, true);
        r.Enum("type", &f.type, kFieldTypes);
        if (f.type == "text") f.max_length = 10000;
        r.Text("title", &f.title, true);
        r.Int("max_length", &f.max_length, 1, 1000000);
        r.StrList("values", &f.values);
        r.Enum("identifier", &f.identifier, kIdentifier);
        r.Enum("source", &f.source, kFieldSources);
        r.Bool("shareable", &f.shareable);
        r.Str("clause", &f.clause);
        p->fields[id] = std::move(f);
      },
      true);
  root.Tables("forms", [&](const std::string& id, SourcePos pos, Reader& r) {
    Form f;
    f.id = id;
    f.pos = pos;
    r.Text("title", &f.title, true);
    r.Id("subject_kind", &f.subject_kind, true);
    r.Enum("channel", &f.channel, kChannels, true);
    if (!r.StrList("fields", &f.fields, nullptr, true)) r.Missing("fields");
    r.StrList("required", &f.required, nullptr, true);
    r.ArrayOfTables("one_of", [&](size_t, Reader& gr) {
      FieldGroup g;
      g.pos = gr.pos();
      if (!gr.StrList("fields", &g.fields, nullptr, true)) gr.Missing("fields");
      gr.Str("clause", &g.clause);
      f.one_of.push_back(std::move(g));
    });
    r.Bool("accept_policy", &f.accept_policy);
    r.Bool("age_statement", &f.age_statement);
    r.Str("clause", &f.clause);
    r.ArrayOfTables("consents", [&](size_t, Reader& cr) {
      ConsentCheckbox cb;
      cb.pos = cr.pos();
      cr.Id("id", &cb.id, true);
      cr.Id("consent", &cb.consent, true);
      cr.Text("text", &cb.text, true);
      cr.Bool("required", &cb.required);
      cr.Bool("default_unticked", &cb.default_unticked);
      cr.Str("clause", &cb.clause);
      f.consents.push_back(std::move(cb));
    });
    p->forms[id] = std::move(f);
  });
  root.Tables("consents", [&](const std::string& id, SourcePos pos, Reader& r) {
    ConsentType c;
    c.id = id;
    c.pos = pos;
    r.Text("title", &c.title, true);
    if (!r.StrList("grants", &c.grants, nullptr, true)) r.Missing("grants");
    r.TermValue("term", &c.term);
    r.Text("withdrawal_procedure", &c.withdrawal_procedure);
    r.StrList("withdrawal_channels", &c.withdrawal_channels);
    r.StrList("channels", &c.channels, &kChannels);
    r.Bool("evidence_required", &c.evidence_required);
    r.Str("clause", &c.clause);
    p->consents[id] = std::move(c);
  });
  root.Tables(
      "purposes",
      [&](const std::string& id, SourcePos pos, Reader& r) {
        Purpose pu;
        pu.id = id;
        pu.pos = pos;
        r.Text("title", &pu.title, true);
        r.Text("description", &pu.description);
        if (!r.Enum("basis", &pu.basis, kBases)) {
          if (!r.table().contains("basis")) {
            r.findings().Add(pos, "E-BASIS-MISSING",
                             "purpose `" + id + "` names no lawful basis (`basis`)");
          }
        }
        r.StrList("fields", &pu.fields, nullptr, true);
        r.StrList("recipients", &pu.recipients, nullptr, true);
        std::string retention;
        if (const toml::node* n = r.table().get("retention"); n && n->as_string() &&
                                                              n->as_string()->get() == "while_needed") {
          r.Node("retention");
        } else {
          r.TermKey("retention", &pu.retention);
        }
        r.Enum("retention_from", &pu.retention_from, kRetentionFrom);
        r.StrList("subject_kinds", &pu.subject_kinds, nullptr, true);
        r.Bool("marketing", &pu.marketing);
        r.Bool("profiling", &pu.profiling);
        r.StrList("channels", &pu.channels, &kMessageChannels);
        r.StrList("contact_sources", &pu.contact_sources, nullptr, true);
        r.Enum("data_form", &pu.data_form, kDataForms);
        r.Bool("enabled", &pu.enabled);
        r.Str("decision", &pu.decision);
        r.Bool("minors_allowed", &pu.minors_allowed);
        r.Str("clause", &pu.clause);
        p->purposes[id] = std::move(pu);
      },
      true);
  root.Tables("recipients", [&](const std::string& id, SourcePos pos, Reader& r) {
    Recipient re;
    re.id = id;
    re.pos = pos;
    r.Text("title", &re.title, true);
    r.Enum("kind", &re.kind, kRecipientKinds, true);
    r.StrList("countries", &re.countries);
    r.Enum("safeguard", &re.safeguard, kSafeguards);
    r.Str("contract_ref", &re.contract_ref);
    r.Bool("confidentiality_clause", &re.confidentiality_clause);
    r.StrList("purposes", &re.purposes, nullptr, true);
    r.Enum("data_form", &re.data_form, kDataForms);
    r.Enum("instructed_by", &re.instructed_by, kInstructedBy);
    r.Bool("formal_request_required", &re.formal_request_required);
    r.Str("clause", &re.clause);
    p->recipients[id] = std::move(re);
  });
  const Allowed right_ids = RightIds();
  root.Table("rights", [&](Reader& outer) {
    for (const auto& rid : right_ids) {
      outer.Table(rid, [&](Reader& r) {
        Right rt;
        rt.id = rid;
        rt.pos = r.pos();
        r.Bool("enabled", &rt.enabled);
        ReadDeadline(r, &rt.deadline, false);
        rt.deadline.pos = r.pos();
        r.Enum("fee", &rt.fee, kFees);
        r.StrList("channels", &rt.channels);
        r.Enum("identity_verification", &rt.identity_verification, kVerification);
        r.StrList("verification_methods", &rt.verification_methods, &kVerificationMethods);
        r.Bool("clock_pauses", &rt.clock_pauses);
        r.Enum("scope", &rt.scope, kScopes);
        r.Bool("block_on_filing", &rt.block_on_filing);
        r.Str("block_exception", &rt.block_exception);
        r.Bool("evidence_required", &rt.evidence_required);
        r.Bool("notify_recipients", &rt.notify_recipients);
        r.StrList("grounds", &rt.grounds);
        r.Text("consequence_notice", &rt.consequence_notice);
        r.TermKey("lookback", &rt.lookback);
        r.StrList("formats", &rt.formats, &kPortabilityFormats);
        r.Bool("transmit_to_third_party", &rt.transmit_to_third_party);
        r.Bool("immediate", &rt.immediate);
        r.Str("clause", &rt.clause);
        p->rights[rid] = std::move(rt);
      });
    }
  });
  root.Table("withdrawal", [&](Reader& r) {
    auto& w = p->withdrawal;
    w.declared = true;
    w.pos = r.pos();
    r.Enum("effect", &w.effect, kWithdrawalEffects, true);
    r.Enum("then", &w.then, kWithdrawalThen, true);
    w.deadline.trigger = "withdrawal_received";
    ReadDeadline(r, &w.deadline, true);
    r.Bool("storage_need_check", &w.storage_need_check);
    r.StrList("channels", &w.channels);
    r.Text("consequence_notice", &w.consequence_notice);
    r.Enum("default_mode", &w.default_mode, kWithdrawalModes);
    r.Str("clause", &w.clause);
  });
  root.Table("unlawful_processing", [&](Reader& r) {
    auto& u = p->unlawful_processing;
    u.declared = true;
    u.pos = r.pos();
    r.TermKey("stop", &u.stop, true);
    r.TermKey("destroy", &u.destroy, true);
    r.Enum("trigger", &u.trigger, kTriggers);
    r.Bool("notify_subject", &u.notify_subject);
    r.Bool("covers_processors", &u.covers_processors);
    r.Str("clause", &u.clause);
  });
  root.Table("action_notice", [&](Reader& r) {
    auto& a = p->action_notice;
    a.declared = true;
    a.pos = r.pos();
    a.deadline.trigger = "action_performed";
    ReadDeadline(r, &a.deadline, true);
    r.Str("clause", &a.clause);
  });
  root.Table("minors", [&](Reader& r) {
    auto& m = p->minors;
    m.pos = r.pos();
    r.Enum("rule", &m.rule, kMinorRules);
    r.Id("birth_date_field", &m.birth_date_field);
    r.IntNarrow("threshold", &m.threshold, 1, 25);
    r.Table("age_map", [&](Reader& ar) {
      ar.AcceptAll();
      for (auto&& [k, v] : ar.table()) {
        std::string country(k.str());
        auto i = v.as_integer();
        if (!i || i->get() < 1 || i->get() > 25) {
          ar.findings().Add(PosOf(v.source()), "E-RANGE",
                            "`minors.age_map." + Reader::Clip(country) +
                                "` must be an age from 1 to 25");
          continue;
        }
        m.age_map[country] = static_cast<int>(i->get());
      }
    });
    r.Table("representative_fields", [&](Reader& rr) {
      for (const char* k : {"name", "relation", "permission_at", "email"}) {
        std::string v;
        if (rr.Id(k, &v) && !v.empty()) m.representative_fields[k] = v;
      }
    });
    r.Enum("representative_consent", &m.representative_consent, kRepresentativeConsent);
    r.IntNarrow("never_collect_under", &m.never_collect_under, 0, 25);
    r.TermValue("deletion_term", &m.deletion_term);
    r.Bool("reconsent_at_majority", &m.reconsent_at_majority);
    r.Bool("marketing_allowed", &m.marketing_allowed);
    r.Str("clause", &m.clause);
  });
  root.Table("cookies", [&](Reader& r) {
    auto& c = p->cookies;
    c.pos = r.pos();
    r.Bool("used", &c.used);
    r.Bool("beacons", &c.beacons);
    r.Str("consent_cookie", &c.consent_cookie);
    r.TermValue("consent_ttl", &c.consent_ttl);
    r.StrList("consent_required_for", &c.consent_required_for, &kCookieCategories);
    r.StrList("third_party_tools", &c.third_party_tools);
    r.Str("clause", &c.clause);
    r.ArrayOfTables("inventory", [&](size_t, Reader& cr) {
      Cookie ck;
      ck.pos = cr.pos();
      cr.Str("name", &ck.name, true);
      cr.Str("provider", &ck.provider);
      cr.Enum("category", &ck.category, kCookieCategories, true);
      cr.Text("purpose", &ck.purpose, true);
      cr.TermKey("lifetime", &ck.lifetime, true, nullptr, /*allow_session=*/true);
      cr.Enum("created", &ck.created, kCookieCreated);
      cr.Str("clause", &ck.clause);
      c.inventory.push_back(std::move(ck));
    });
  });
  root.Table("marketing", [&](Reader& r) {
    auto& m = p->marketing;
    m.pos = r.pos();
    r.Enum("model", &m.model, kMarketingModels);
    r.StrList("channels", &m.channels, &kMessageChannels);
    r.StrList("contact_sources", &m.contact_sources, nullptr, true);
    r.Bool("granular_optout", &m.granular_optout);
    r.Str("withdrawal_channel", &m.withdrawal_channel);
    r.Str("clause", &m.clause);
  });
  root.Table("automated_decisions", [&](Reader& r) {
    auto& a = p->automated_decisions;
    a.pos = r.pos();
    r.Bool("solely_automated_allowed", &a.solely_automated_allowed);
    r.StrList("exceptions", &a.exceptions);
    r.Bool("profiling", &a.profiling);
    r.StrList("profiling_purposes", &a.profiling_purposes, nullptr, true);
    r.StrList("profiling_attributes", &a.profiling_attributes, nullptr, true);
    r.Enum("profiling_effect", &a.profiling_effect, kProfilingEffects);
    r.Enum("scope", &a.scope, kScopes);
    r.Str("clause", &a.clause);
  });
  root.Table("retention", [&](Reader& r) {
    auto& re = p->retention;
    re.declared = true;
    re.pos = r.pos();
    r.Enum("after", &re.after, kRetentionAfter, true);
    r.TermKey("end_of_use_inactivity", &re.end_of_use_inactivity);
    r.TermKey("backup_retention", &re.backup_retention);
    r.Str("clause", &re.clause);
    r.ArrayOfTables("legal_minimum", [&](size_t, Reader& lr) {
      LegalMinimum lm;
      lm.pos = lr.pos();
      lr.Id("category", &lm.category, true);
      std::optional<calendar::Term> t;
      if (lr.TermKey("term", &t, true) && t) lm.term = *t;
      lr.Str("law", &lm.law, true);
      lr.Str("clause", &lm.clause);
      re.legal_minimum.push_back(std::move(lm));
    });
  });
  root.Table("reuse", [&](Reader& r) {
    auto& u = p->reuse;
    u.pos = r.pos();
    r.Bool("depersonalised_allowed", &u.depersonalised_allowed);
    r.Enum("combine_with_third_party", &u.combine_with_third_party, kCombine);
    r.Bool("needs_consent", &u.needs_consent);
    r.Str("clause", &u.clause);
  });
  root.Table("anonymisation", [&](Reader& r) {
    auto& a = p->anonymisation;
    a.declared = true;
    a.pos = r.pos();
    r.Int("k", &a.k, 2, 1000, true);
    r.Int("l", &a.l, 2, 100);
    r.Id("sensitive", &a.sensitive);
    if (a.l > 0 && a.sensitive.empty()) {
      r.findings().Add(r.PosOfKey("l"), "E-ANONYMISATION-L",
                       "`anonymisation.l` needs `anonymisation.sensitive`, the field whose values "
                       "must differ within each group");
    }
    if (!a.sensitive.empty() && a.l == 0) {
      r.findings().Add(r.PosOfKey("sensitive"), "E-ANONYMISATION-L",
                       "`anonymisation.sensitive` needs `anonymisation.l`, how many distinct "
                       "values each group must hold (at least 2)");
    }
    r.StrList("attributes", &a.attributes, nullptr, true);
    r.Int("max_suppressed_percent", &a.max_suppressed_percent, 0, 50);
    r.Int("risk_threshold_percent", &a.risk_threshold_percent, 1, 100);
    if (!r.StrList("purposes", &a.purposes, nullptr, true) || a.purposes.empty()) {
      r.Missing("purposes");
    }
    r.Str("clause", &a.clause);
    r.ArrayOfTables("quasi_identifiers", [&](size_t, Reader& qr) {
      QuasiIdentifier q;
      q.pos = qr.pos();
      qr.Id("field", &q.field, true);
      qr.Enum("hierarchy", &q.hierarchy, kHierarchies, true);
      if (const toml::node* n = qr.Node("bands")) {
        auto arr = n->as_array();
        q.bands.clear();
        for (size_t i = 0; arr && i < arr->size(); ++i) {
          auto v = arr->get(i)->as_integer();
          if (!v) {
            arr = nullptr;
            break;
          }
          q.bands.push_back(static_cast<int>(std::clamp<int64_t>(v->get(), -1, 1000)));
        }
        if (!arr) {
          qr.WrongType("bands", *n, "an array of whole numbers of years");
        } else if (q.hierarchy != "age") {
          qr.findings().Add(qr.PosOfKey("bands"), "E-ANONYMISATION-HIERARCHY",
                            "`" + qr.KeyPath("bands") + "` belongs to the age hierarchy only");
        } else if (std::string why = anon::CheckAgeBands(q.bands); !why.empty()) {
          qr.findings().Add(qr.PosOfKey("bands"), "E-ANONYMISATION-HIERARCHY",
                            "`" + qr.KeyPath("bands") + "`: " + why);
        }
      }
      qr.StrList("via", &q.via, nullptr, true);
      if (q.hierarchy == "region" && q.via.empty()) {
        qr.findings().Add(qr.pos(), "E-ANONYMISATION-HIERARCHY",
                          "`" + qr.KeyPath("via") + "` must name the fields that stand for `" +
                              q.field + "` at coarser levels (a region, a country)");
      } else if (q.hierarchy != "region" && !q.via.empty()) {
        qr.findings().Add(qr.PosOfKey("via"), "E-ANONYMISATION-HIERARCHY",
                          "`" + qr.KeyPath("via") + "` belongs to the region hierarchy only");
      }
      qr.Str("clause", &q.clause);
      a.quasi_identifiers.push_back(std::move(q));
    });
    if (a.quasi_identifiers.empty()) {
      r.findings().Add(r.pos(), "E-KEY-MISSING",
                       "`anonymisation.quasi_identifiers` must declare at least one entry");
    } else if (a.quasi_identifiers.size() > 6) {
      r.findings().Add(r.pos(), "E-RANGE",
                       "`anonymisation.quasi_identifiers` may declare at most 6 entries");
    }
  });
  root.Table("collection", [&](Reader& r) {
    auto& c = p->collection;
    c.pos = r.pos();
    r.StrList("sources", &c.sources, &kCollectionSources);
    r.StrList("channels", &c.channels, &kChannels);
    r.Bool("automatic_requires_notice", &c.automatic_requires_notice);
    r.Bool("imports", &c.imports);
    r.Bool("import_attestation_required", &c.import_attestation_required);
    r.Bool("quarantine_unmapped_columns", &c.quarantine_unmapped_columns);
    r.Str("clause", &c.clause);
  });
  root.Table("decisions", [&](Reader& r) {
    auto& d = p->decisions;
    d.pos = r.pos();
    r.StrList("required_for", &d.required_for);
    r.Str("decided_by", &d.decided_by);
    r.Str("clause", &d.clause);
    r.ArrayOfTables("standing", [&](size_t, Reader& sr) {
      StandingDecision sd;
      sd.pos = sr.pos();
      sr.Str("id", &sd.id, true);
      sr.StrList("purposes", &sd.purposes, nullptr, true);
      sr.Str("decided_by", &sd.decided_by, true);
      sr.DateKey("date", &sd.date, true);
      sr.Str("clause", &sd.clause);
      d.standing.push_back(std::move(sd));
    });
  });
  root.Table("eu_overlay", [&](Reader& r) {
    auto& e = p->eu_overlay;
    e.pos = r.pos();
    r.Bool("enabled", &e.enabled);
    r.Enum("trigger", &e.trigger, kEuTriggers);
    r.StrList("rights", &e.rights, &right_ids);
    r.Str("clause", &e.clause);
  });
  root.Table("claims", [&](Reader& r) {
    auto& c = p->claims;
    c.pos = r.pos();
    r.Bool("pretrial", &c.pretrial);
    c.deadline.trigger = "claim_received";
    ReadDeadline(r, &c.deadline, c.pretrial);
    r.Str("clause", &c.clause);
  });
  root.Table("complaint_authorities", [&](Reader& outer) {
    outer.AcceptAll();
    for (auto&& [k, v] : outer.table()) {
      std::string region(k.str());
      auto t = v.as_table();
      if (!t) {
        outer.WrongType(region, v, "a table {name, url}");
        continue;
      }
      Reader r(*t, "complaint_authorities." + Reader::Clip(region), outer.findings(),
               PosOf(k.source()));
      Authority a;
      a.region = region;
      a.pos = PosOf(k.source());
      r.Text("name", &a.name, true);
      r.Str("url", &a.url);
      r.Str("clause", &a.clause);
      p->complaint_authorities[region] = std::move(a);
    }
  });
  root.Table("security", [&](Reader& r) {
    auto& s = p->security;
    s.pos = r.pos();
    r.Bool("mfa_for_privileged", &s.mfa_for_privileged);
    r.Str("clause", &s.clause);
    r.Table("staff_password", [&](Reader& pr) {
      pr.TermKey("max_age", &s.password_max_age);
      pr.StrList("change_on", &s.password_change_on);
      pr.Int("min_length", &s.password_min_length, 8, 128);
      std::string clause;
      pr.Str("clause", &clause);
    });
    r.Table("assessment", [&](Reader& ar) {
      ar.Bool("required_before_activation", &s.assessment_required);
      ar.TermKey("check_interval", &s.check_interval);
      std::string clause;
      ar.Str("clause", &clause);
    });
    r.Table("lockout", [&](Reader& lr) {
      lr.Int("attempts", &s.lockout_attempts, 1, 100);
      lr.Int("minutes", &s.lockout_minutes, 1, 1440);
    });
  });
  root.Tables(
      "roles",
      [&](const std::string& id, SourcePos pos, Reader& r) {
        Role ro;
        ro.id = id;
        ro.pos = pos;
        r.Text("title", &ro.title, true);
        r.Bool("privileged", &ro.privileged);
        r.StrList("categories", &ro.categories, nullptr, true);
        r.StrList("purposes", &ro.purposes, nullptr, true);
        r.Bool("decides", &ro.decides);
        r.Enum("organisation", &ro.organisation, kRoleOrganisations);
        r.Str("clause", &ro.clause);
        p->roles[id] = std::move(ro);
      },
      true);
  root.Table("policy_change", [&](Reader& r) {
    auto& c = p->policy_change;
    c.pos = r.pos();
    r.Enum("effective_rule", &c.effective_rule, kEffectiveRules);
    r.TermKey("advance_notice", &c.advance_notice);
    r.StrList("notify_channels", &c.notify_channels);
    r.Enum("acceptance_mode", &c.acceptance_mode, kAcceptanceModes);
    r.TermKey("review_interval", &c.review_interval);
    r.Bool("review_on_law_change", &c.review_on_law_change);
    r.Str("clause", &c.clause);
  });
  root.Table("notice", [&](Reader& r) {
    p->notice.pos = r.pos();
    r.Text("intro", &p->notice.intro);
    if (const toml::node* n = r.Node("extra")) {
      if (auto arr = n->as_array()) {
        for (size_t i = 0; i < arr->size(); ++i) {
          const toml::node& el = *arr->get(i);
          LocalText t;
          t.pos = PosOf(el.source());
          if (auto s = el.as_string()) {
            for (const char* lang : kLanguages) t.by_lang[lang] = s->get();
          } else if (auto tb = el.as_table()) {
            Reader tr(*tb, "notice.extra[" + std::to_string(i) + "]", r.findings(), t.pos);
            for (const char* lang : kLanguages) {
              std::string v;
              if (tr.Str(lang, &v) && !v.empty()) t.by_lang[lang] = v;
            }
          } else {
            r.findings().Add(t.pos, "E-TYPE", "`notice.extra` items must be texts");
            continue;
          }
          p->notice.extra.push_back(std::move(t));
        }
      } else {
        r.WrongType("extra", *n, "an array of texts");
      }
    }
  });
  root.ArrayOfTables("conflicts", [&](size_t, Reader& r) {
    Conflict c;
    c.pos = r.pos();
    r.Str("code", &c.code, true);
    r.Str("clauses", &c.clauses, true);
    r.Str("summary", &c.summary, true);
    r.Str("default", &c.default_reading, true);
    p->conflicts.push_back(std::move(c));
  });
  root.ArrayOfTables("resolutions", [&](size_t, Reader& r) {
    Resolution res;
    res.pos = r.pos();
    r.Str("code", &res.code, true);
    r.Str("choice", &res.choice, true);
    r.Str("reason", &res.reason, true);
    r.Str("approved_by", &res.approved_by);
    r.DateKey("date", &res.date, true);
    r.Str("clause", &res.clause);
    r.StrList("rights", &res.rights, &right_ids);
    r.Text("notice", &res.notice);
    p->resolutions.push_back(std::move(res));
  });
}

// toml++ 3.3.0 (Debian 12) reaches __builtin_unreachable() when it asks whether a non-ASCII
// character is whitespace in certain states (upstream issues #190 and #295): right after a bare
// key or keyword, in leading whitespace, and after a line-ending backslash in a multi-line basic
// string. Outside strings and comments a non-ASCII character is invalid TOML anyway, so this scan
// refuses it before the parser sees it; the one valid case (a line-ending backslash followed by a
// non-ASCII character on the next line) is refused with a hint. Returns the first offending
// position, if any.
struct PrescanIssue {
  SourcePos pos;
  std::string message;
};

std::optional<PrescanIssue> PrescanToml(std::string_view t) {
  enum class State { kNormal, kComment, kBasic, kLiteral, kMlBasic, kMlLiteral };
  State st = State::kNormal;
  int line = 1, col = 0;
  bool after_line_ending_backslash = false;
  // The last character outside strings and comments that was not a space or tab, on this line.
  // toml++ reads a bare value up to its terminator, so `20"…` is scanned as one bare token: a
  // string must follow one of = [ , { . or start the line, as in any valid TOML.
  char prev = '\n';
  auto string_may_start = [&] { return std::string_view("\n=[,{.").find(prev) != std::string_view::npos; };
  auto starts = [&](size_t i, std::string_view s) { return t.substr(i, s.size()) == s; };
  auto is_lead = [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; };
  for (size_t i = 0; i < t.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (is_lead(t[i])) ++col;  // columns count code points, not bytes
    if (c == '\n') {
      ++line;
      col = 0;
      if (st == State::kComment || st == State::kBasic || st == State::kLiteral) st = State::kNormal;
      if (st == State::kNormal) prev = '\n';
      continue;
    }
    const bool non_ascii = c >= 0x80;
    switch (st) {
      case State::kNormal:
        if (non_ascii) {
          return PrescanIssue{{line, col},
                              "not valid TOML: a non-ASCII character outside a quoted string or "
                              "comment (keys must be ASCII; put text in quotes)"};
        }
        if ((c == '"' || c == '\'') && !string_may_start()) {
          return PrescanIssue{{line, col},
                              "not valid TOML: a quoted string must follow =, [, {, a comma or a "
                              "dot, or start the line"};
        }
        if (c != ' ' && c != '\t' && c != '\r' && c != '#') prev = static_cast<char>(c);
        if (c == '#') {
          st = State::kComment;
        } else if (starts(i, R"(""")")) {
          st = State::kMlBasic;
          i += 2;
          col += 2;
        } else if (c == '"') {
          st = State::kBasic;
        } else if (starts(i, "'''")) {
          st = State::kMlLiteral;
          i += 2;
          col += 2;
        } else if (c == '\'') {
          st = State::kLiteral;
        }
        break;
      case State::kComment:
        break;
      case State::kBasic:
        if (c == '\\' && i + 1 < t.size() && t[i + 1] != '\n') {
          ++i;  // the escaped character (an invalid escape is the parser's to report)
          if (is_lead(t[i])) ++col;
        } else if (c == '"') {
          st = State::kNormal;
          prev = '"';
        }
        break;
      case State::kLiteral:
        if (c == '\'') {
          st = State::kNormal;
          prev = '"';
        }
        break;
      case State::kMlBasic:
        if (after_line_ending_backslash) {
          if (c == ' ' || c == '\t' || c == '\r') break;
          after_line_ending_backslash = false;
          if (non_ascii) {
            return PrescanIssue{{line, col},
                                "a line-ending backslash in a multi-line string may not be followed "
                                "by a non-ASCII character on the next line; join the lines"};
          }
        }
        if (c == '\\') {
          size_t j = i + 1;
          while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r')) ++j;
          if (j < t.size() && t[j] == '\n') {
            after_line_ending_backslash = true;  // spaces and newlines up to the next text are skipped
          } else if (i + 1 < t.size()) {
            ++i;
            if (is_lead(t[i])) ++col;
          }
        } else if (starts(i, R"(""")")) {
          i += 2;
          col += 2;
          // Up to two more quotes belong to the string's content.
          for (int k = 0; k < 2 && i + 1 < t.size() && t[i + 1] == '"'; ++k, ++i, ++col) {
          }
          st = State::kNormal;
          prev = '"';
        }
        break;
      case State::kMlLiteral:
        if (starts(i, "'''")) {
          i += 2;
          col += 2;
          for (int k = 0; k < 2 && i + 1 < t.size() && t[i + 1] == '\''; ++k, ++i, ++col) {
          }
          st = State::kNormal;
          prev = '"';
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

LoadResult LoadPolicy(std::string_view text, const std::string& source_name) {
  LoadResult out;
  if (text.size() > kMaxPolicyBytes) {
    out.findings.Add(SourcePos{1, 1}, "E-SYNTAX",
                     "the file is larger than " + std::to_string(kMaxPolicyBytes / (1024 * 1024)) +
                         " MiB; a policy file is expected to be far smaller");
    return out;
  }
  if (auto issue = PrescanToml(text)) {
    out.findings.Add(issue->pos, "E-SYNTAX", issue->message);
    return out;
  }
  toml::parse_result parsed = toml::parse(text, source_name);
  if (!parsed) {
    const toml::parse_error& err = parsed.error();
    out.findings.Add(PosOf(err.source()), "E-SYNTAX",
                     "not valid TOML: " + std::string(err.description()));
    return out;
  }
  Policy policy;
  {
    Reader root(parsed.table(), "", out.findings, SourcePos{1, 1});
    ReadPolicy(root, &policy);
  }
  out.policy = std::move(policy);
  return out;
}

LoadResult LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult out;
    out.findings.Add(SourcePos{0, 0}, "E-IO", "cannot read the file");
    return out;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return LoadPolicy(buf.str(), path);
}

}  // namespace dovira::policy
