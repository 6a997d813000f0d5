#include "services/testdata.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>

namespace dovira::services {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr char kFormat[] = "dovira-testdata-v1";
constexpr char kReservedDomain[] = "@example.invalid";
constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr const char* kTables[] = {"subjects", "records", "consents", "requests"};

const policy::Category* CategoryOf(const policy::Policy& p, const policy::Field& f) {
  auto it = p.categories.find(f.category);
  return it == p.categories.end() ? nullptr : &it->second;
}

// Decodes one UTF-8 code point at `i` (advancing it); an invalid byte is returned as itself.
char32_t NextCodePoint(const std::string& s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  if (i + extra >= s.size()) {  // a sequence cut short: the byte stands for itself
    ++i;
    return b;
  }
  char32_t cp = extra == 0 ? b : extra == 1 ? (b & 0x1F) : extra == 2 ? (b & 0x0F) : (b & 0x07);
  ++i;
  for (int k = 0; k < extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Iso(Timestamp t) { return FormatTimestamp(t); }
Json OptIso(const std::optional<Timestamp>& t) { return t ? Json(Iso(*t)) : Json(nullptr); }

Result<Timestamp> ReadTime(const Json& j, const char* key) {
  Timestamp t{};
  std::string err;
  if (!j.contains(key) || !j[key].is_string() ||
      !ParseTimestamp(j[key].get<std::string>(), &t, &err)) {
    return Error::Invalid(std::string("\"") + key + "\" is not a timestamp", key);
  }
  return t;
}
std::optional<Timestamp> ReadOptTime(const Json& j, const char* key) {
  auto t = ReadTime(j, key);
  if (!t.ok()) return std::nullopt;
  return *t;
}
std::string Str(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

bool Bool(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}

bool InRange4(const std::string& ip) {
  unsigned char b[4];
  return inet_pton(AF_INET, ip.c_str(), b) == 1 && b[0] == 198 && (b[1] == 18 || b[1] == 19);
}
bool InRange6(const std::string& ip) {
  unsigned char b[16];
  return inet_pton(AF_INET6, ip.c_str(), b) == 1 && b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
         b[3] == 0xb8;
}

// An e-mail address anywhere in `text` that is not on the reserved domain: what a real one looks
// like. Returns it, or "".
std::string RealLookingEmail(const std::string& text) {
  size_t at = text.find('@');
  while (at != std::string::npos) {
    size_t end = at + 1;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                 text[end] == '.' || text[end] == '-')) {
      ++end;
    }
    const std::string domain = Lower(text.substr(at + 1, end - at - 1));
    const bool local =
        at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '.' ||
                   text[at - 1] == '_' || text[at - 1] == '+' || text[at - 1] == '-');
    if (local && domain.find('.') != std::string::npos && domain != "example.invalid") {
      size_t begin = at;
      while (begin > 0 && !std::isspace(static_cast<unsigned char>(text[begin - 1])) &&
             text[begin - 1] != '"') {
        --begin;
      }
      return text.substr(begin, end - begin);
    }
    at = text.find('@', at + 1);
  }
  return "";
}

// Creates `path` exclusively with mode 0600 and writes `text`.
Status WritePrivateFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Unavailable("cannot create the key file " + path);
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error::Unavailable("cannot write the key file " + path);
  return Status::Ok();
}

// Writes one JSON Lines table.
class TableWriter {
 public:
  explicit TableWriter(const std::string& path) : path_(path), out_(path, std::ios::binary) {}
  void Add(const Json& row) {
    out_ << row.dump() << '\n';
    ++rows_;
  }
  Status Close() {
    out_.close();
    if (!out_) return Error::Unavailable("cannot write " + path_);
    return Status::Ok();
  }
  int64_t rows() const { return rows_; }

 private:
  std::string path_;
  std::ofstream out_;
  int64_t rows_ = 0;
};

// The audit entry of an export or an import: who, when (the entry's own time) and how many rows;
// no personal data.
AuditEvent CountsEvent(const char* action, const TestDataReport& r, const Actor& actor,
                       const RequestContext& ctx) {
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = action;
  e.outcome = "ok";
  e.request_id = ctx.request_id;
  Json detail = {{"subjects", r.subjects},
                 {"records", r.records},
                 {"consents", r.consents},
                 {"requests", r.requests}};
  if (!r.key_fingerprint.empty()) detail["key_fingerprint"] = r.key_fingerprint;
  e.detail = detail.dump();
  return e;
}

// Is `path` inside `dir` (or `dir` itself), once both are made absolute and normal?
bool IsInside(const fs::path& path, const fs::path& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  fs::path d = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  auto [end, _] = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
  return end == d.end() || (std::next(end) == d.end() && end->empty());
}

// The request columns and body members a test system may see: no reasons, notes or statements.
Json RequestJson(const ports::RequestRow& r, const Pseudonymiser& pn) {
  Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) body = Json::object();
  auto list = [&](const char* k) {
    return body.contains(k) && body[k].is_array() ? body[k] : Json::array();
  };
  return Json{{"id", pn.Id("request", r.id)},
              {"type", r.type},
              {"state", r.state},
              {"subject", r.subject.empty() ? Json(nullptr) : Json(pn.Id("subject", r.subject))},
              {"open", r.open},
              {"overdue", r.overdue},
              {"assignee", r.assignee.empty() ? Json(nullptr) : Json(pn.Id("staff", r.assignee))},
              {"received_at", Iso(r.received_at)},
              {"due_at", Iso(r.due_at)},
              {"updated_at", Iso(r.updated_at)},
              {"right", Str(body, "right")},
              {"channel", Str(body, "channel")},
              {"lang", Str(body, "lang")},
              {"fields", list("fields")},
              {"purposes", list("purposes")},
              {"consents", list("consents")},
              {"outcome", Str(body, "outcome")}};
}

}  // namespace

// ---- treatments
// -----------------------------------------------------------------------------------

FieldTreatment TreatmentOf(const policy::Policy& p, const policy::Field& f) {
  const std::string& t = f.type;
  if (t == "text" || t == "file") return FieldTreatment::kDrop;
  const policy::Category* cat = CategoryOf(p, f);
  const std::string kind = cat ? cat->kind : "ordinary";
  const bool direct = f.identifier == "direct" || kind == "contact" ||
                      kind == "identity_document" || t == "email" || t == "phone" || t == "ip";
  const bool free_shape = t == "string" || t == "email" || t == "phone" || t == "ip" ||
                          t == "url" || t == "integer" || t == "decimal";
  const bool dated = t == "date" || t == "datetime";
  if (direct) {
    if (free_shape) return FieldTreatment::kPseudonymise;
    return dated ? FieldTreatment::kGeneralise : FieldTreatment::kDrop;
  }
  if (f.identifier == "indirect") {
    if (t == "string" || t == "url") return FieldTreatment::kPseudonymise;
    if (dated) return FieldTreatment::kGeneralise;
  }
  if (kind == "special" && t == "string") return FieldTreatment::kDrop;
  return FieldTreatment::kKeep;
}

const char* TreatmentName(FieldTreatment t) {
  switch (t) {
    case FieldTreatment::kKeep:
      return "kept";
    case FieldTreatment::kPseudonymise:
      return "pseudonymised";
    case FieldTreatment::kGeneralise:
      return "generalised";
    case FieldTreatment::kDrop:
      return "dropped";
  }
  return "dropped";
}

std::string GeneraliseDate(const std::string& type, const std::string& value) {
  if (value.size() < 7 || value[4] != '-') return "";
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (!std::isdigit(static_cast<unsigned char>(value[i]))) return "";
  }
  const std::string month = value.substr(0, 7);
  return type == "datetime" ? month + "-01T00:00:00Z" : month + "-01";
}

// ---- pseudonyms
// -----------------------------------------------------------------------------------

Pseudonymiser::Pseudonymiser(ports::Crypto& crypto, const ports::SecretKey& key)
    : crypto_(crypto), key_(key) {}

std::string Pseudonymiser::Stream(std::string_view domain, std::string_view value, size_t n) const {
  std::string out;
  for (uint32_t block = 0; out.size() < n; ++block) {
    std::string input(domain);
    input += '\0';
    input += std::to_string(block);
    input += '\0';
    input += value;
    out += crypto_.KeyedHash(key_, input);
  }
  return out;
}

std::string Pseudonymiser::Id(std::string_view kind, std::string_view id) const {
  const std::string bytes = Stream(std::string("id:") + std::string(kind), id, id.size());
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (c == '-' || c == '_')
      out += c;
    else if (std::isdigit(static_cast<unsigned char>(c)))
      out += static_cast<char>('0' + b % 10);
    else
      out += kBase32[b % 32];
  }
  return out;
}

std::string Pseudonymiser::Chars(std::string_view domain, const std::string& value) const {
  const std::string bytes = Stream(domain, value, value.size());
  std::string out;
  size_t i = 0, k = 0;
  while (i < value.size()) {
    const char32_t cp = NextCodePoint(value, i);
    const auto b = static_cast<unsigned char>(bytes[k++ % bytes.size()]);
    if (cp >= '0' && cp <= '9') {
      out += static_cast<char>('0' + b % 10);
    } else if (cp >= 'a' && cp <= 'z') {
      out += static_cast<char>('a' + b % 26);
    } else if (cp >= 'A' && cp <= 'Z') {
      out += static_cast<char>('A' + b % 26);
    } else if (cp >= 0x0430 && cp <= 0x045F) {  // Cyrillic small letters (а..я, і, ї, є, ...)
      AppendUtf8(out, 0x0430 + b % 32);
    } else if (cp >= 0x0400 && cp <= 0x042F) {  // Cyrillic capitals
      AppendUtf8(out, 0x0410 + b % 32);
    } else if (cp >= 0x0490 && cp <= 0x0491) {  // Ґ ґ
      AppendUtf8(out, cp == 0x0490 ? 0x0410 + b % 32 : 0x0430 + b % 32);
    } else if (cp < 0x80 && !std::isalnum(static_cast<int>(cp))) {
      AppendUtf8(out, cp);  // spaces, punctuation: the shape
    } else {
      out += static_cast<char>('a' + b % 26);  // any other letter
    }
  }
  return out;
}

std::string Pseudonymiser::Email(const std::string& value) const {
  const std::string bytes = Stream("email", Lower(value), 12);
  std::string local = "u";
  for (size_t i = 0; i < 12; ++i) local += kBase32[static_cast<unsigned char>(bytes[i]) % 32];
  return local + kReservedDomain;
}

std::string Pseudonymiser::Phone(const std::string& value) const {
  // The digits alone decide the pseudonym, so "+380 67 123 4567" and "+380671234567" agree; the
  // layout (plus sign, spaces, dashes) is the value's own.
  std::string digits;
  for (char c : value) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  }
  const std::string bytes = Stream("phone", digits, digits.size() + 1);
  std::string out;
  size_t k = 0;
  for (char c : value) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      out += static_cast<char>('0' + static_cast<unsigned char>(bytes[k++]) % 10);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Pseudonymiser::Ip(const std::string& value) const {
  unsigned char buf[16];
  const std::string bytes = Stream("ip", value, 16);
  auto b = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[i])); };
  if (inet_pton(AF_INET6, value.c_str(), buf) == 1) {
    char out[INET6_ADDRSTRLEN];
    unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8};  // 2001:db8::/32, for documentation
    for (size_t i = 4; i < 16; ++i) v6[i] = static_cast<unsigned char>(b(i));
    inet_ntop(AF_INET6, v6, out, sizeof out);
    return out;
  }
  // 198.18.0.0/15 (RFC 2544): never a host on the Internet.
  return "198." + std::to_string(18 + b(0) % 2) + "." + std::to_string(b(1)) + "." +
         std::to_string(b(2));
}

std::string Pseudonymiser::Url(const std::string& value) const {
  const std::string bytes = Stream("url", value, 10);
  std::string host;
  for (size_t i = 0; i < 10; ++i) host += kBase32[static_cast<unsigned char>(bytes[i]) % 32];
  return "https://" + host + ".example.invalid/";
}

std::string Pseudonymiser::Value(const std::string& type, const std::string& value) const {
  if (type == "email") return Email(value);
  if (type == "phone") return Phone(value);
  if (type == "ip") return Ip(value);
  if (type == "url") return Url(value);
  // Names, numbers, addresses: one domain for all, so a value repeated in two fields (a surname
  // shared by a learner and a representative) keeps one pseudonym.
  return Chars("value", value);
}

Result<std::string> PseudonymOf(ports::Crypto& crypto, const std::string& key_hex,
                                std::string_view kind, std::string_view id) {
  auto raw = ports::FromHex(key_hex);
  if (!raw.ok() || raw->size() != ports::kKeyBytes) {
    return Error::Invalid("the key is not 32 bytes of hex", "key");
  }
  return Pseudonymiser(crypto, ports::SecretKey(*raw)).Id(kind, id);
}

// ---- export
// ---------------------------------------------------------------------------------------

TestDataService::TestDataService(Deps deps, Schools& schools, SubjectService& subjects,
                                 AuditLog& audit)
    : deps_(deps), schools_(schools), subjects_(subjects), audit_(audit) {}

Result<TestDataReport> TestDataService::Export(const SchoolId& school_id,
                                               const TestDataExport& options, const Actor& actor,
                                               const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  const policy::Policy& policy = (*school)->policy()->policy();
  if (options.out_dir.empty()) return Error::Invalid("name the export directory", "out");
  if (options.key_out.empty()) {
    return Error::Invalid("name the key file (it is kept apart from the export)", "key_out");
  }
  std::error_code ec;
  if (fs::exists(options.out_dir, ec) &&
      (!fs::is_directory(options.out_dir, ec) || !fs::is_empty(options.out_dir, ec))) {
    return Error::Invalid("the export directory " + options.out_dir + " exists and is not empty",
                          "out");
  }
  if (IsInside(options.key_out, options.out_dir)) {
    return Error::Invalid(
        "the key file must not be inside the export directory: whoever receives the export "
        "would hold the key too",
        "key_out");
  }
  if (fs::exists(options.key_out, ec)) {
    return Error::Invalid("the key file " + options.key_out + " exists", "key_out");
  }
  fs::create_directories(options.out_dir, ec);
  if (ec) return Error::Unavailable("cannot create " + options.out_dir + ": " + ec.message());

  const ports::SecretKey key = deps_.crypto.NewKey();
  const Pseudonymiser pn(deps_.crypto, key);
  TestDataReport report;
  report.key_fingerprint = ports::ToHex(deps_.crypto.Hash(key.view())).substr(0, 32);

  std::map<std::string, FieldTreatment> treatments;
  Json fields = Json::object();
  for (const auto& [id, f] : policy.fields) {
    treatments[id] = TreatmentOf(policy, f);
    fields[id] = TreatmentName(treatments[id]);
  }

  const fs::path dir(options.out_dir);
  TableWriter subjects((dir / "subjects.jsonl").string());
  TableWriter records((dir / "records.jsonl").string());
  TableWriter consents((dir / "consents.jsonl").string());
  TableWriter requests((dir / "requests.jsonl").string());

  std::string after;
  for (;;) {
    auto page = deps_.store.ListSubjects(school_id, after, 500);
    if (!page.ok()) return page.error();
    if (page->empty()) break;
    for (const ports::SubjectRow& s : *page) {
      after = s.id.value();
      auto key_s = subjects_.SubjectKey(school_id, s.id);
      SubjectProfile profile;
      if (key_s.ok() && !s.sealed_profile.empty()) {
        auto plain = deps_.crypto.Open(*key_s, s.sealed_profile,
                                       "profile|" + school_id.value() + "|" + s.id.value());
        if (plain.ok()) profile = DecodeProfile(*plain);
      }
      subjects.Add(
          {{"id", pn.Id("subject", s.id.value())},
           {"kind", s.kind},
           {"policy_version", s.policy_version},
           {"channel", s.channel},
           {"form", s.form},
           {"source", s.source},
           {"state", s.state},
           {"guardian", s.guardian ? Json(pn.Id("subject", s.guardian->value())) : Json(nullptr)},
           {"minor",
            profile.minor_until_us > 0 && profile.minor_until_us > MicrosOf(deps_.clock.Now())},
           {"country", profile.country},
           {"lang", profile.lang},
           {"created_at", Iso(s.created_at)},
           {"updated_at", Iso(s.updated_at)}});
      // A held or erased subject without a key has no values to give; its rows still go.
      std::string after_record;
      for (;;) {
        auto recs = key_s.ok() ? subjects_.OpenPage(school_id, s.id, after_record, 500)
                               : Result<std::vector<SubjectService::OpenRecord>>(
                                     std::vector<SubjectService::OpenRecord>{});
        if (!recs.ok()) return recs.error();
        if (recs->empty()) break;
        for (const auto& r : *recs) {
          after_record = r.row.id.value();
          const policy::Field* f = policy.FindField(r.row.field);
          auto it = treatments.find(r.row.field);
          const FieldTreatment t =
              (f == nullptr || it == treatments.end()) ? FieldTreatment::kDrop : it->second;
          Json value = nullptr;
          if (t == FieldTreatment::kKeep) {
            value = r.value;
          } else if (t == FieldTreatment::kPseudonymise) {
            value = pn.Value(f->type, r.value);
            ++report.pseudonymised;
          } else if (t == FieldTreatment::kGeneralise) {
            std::string g = GeneraliseDate(f->type, r.value);
            value = g.empty() ? Json(nullptr) : Json(g);
            ++report.generalised;
          } else {
            ++report.dropped;
          }
          records.Add({{"id", pn.Id("record", r.row.id.value())},
                       {"subject", pn.Id("subject", s.id.value())},
                       {"store", r.row.store},
                       {"field", r.row.field},
                       {"category", r.row.category},
                       {"value", value},
                       {"treatment", TreatmentName(t)},
                       {"source", r.row.source},
                       {"channel", r.row.channel},
                       {"form", r.row.form},
                       {"policy_version", r.row.policy_version},
                       {"collected_at", Iso(r.row.collected_at)},
                       {"updated_at", Iso(r.row.updated_at)}});
        }
      }
      auto cons = deps_.store.GetConsents(school_id, s.id);
      if (!cons.ok()) return cons.error();
      for (const ports::ConsentRow& c : *cons) {
        consents.Add(
            {{"id", pn.Id("consent", c.id.value())},
             {"subject", pn.Id("subject", c.subject.value())},
             {"consent_type", c.consent_type},
             {"grants", c.grants},
             {"action", c.action},
             {"policy_version", c.policy_version},
             {"text", c.text},
             {"text_sha256", c.text_sha256},
             {"lang", c.lang},
             {"channel", c.channel},
             {"form", c.form},
             {"checkbox", c.checkbox},
             {"given_by", c.given_by},
             {"guardian", c.guardian ? Json(pn.Id("subject", c.guardian->value())) : Json(nullptr)},
             {"at", Iso(c.at)},
             {"expires_at", OptIso(c.expires_at)}});
      }
    }
  }
  Status st = deps_.store.ForEachRequest(
      school_id, false, [&](const ports::RequestRow& r) { requests.Add(RequestJson(r, pn)); });
  if (!st.ok()) return st.error();

  for (TableWriter* t : {&subjects, &records, &consents, &requests}) {
    Status closed = t->Close();
    if (!closed.ok()) return closed.error();
  }
  report.subjects = subjects.rows();
  report.records = records.rows();
  report.consents = consents.rows();
  report.requests = requests.rows();

  const Timestamp now = deps_.clock.Now();
  Json manifest = {{"format", kFormat},
                   {"pseudonymised", true},
                   {"school", school_id.value()},
                   {"policy_version", (*school)->version()},
                   {"exported_at", Iso(now)},
                   {"key_fingerprint", report.key_fingerprint},
                   {"counts",
                    {{"subjects", report.subjects},
                     {"records", report.records},
                     {"consents", report.consents},
                     {"requests", report.requests}}},
                   {"fields", fields}};
  {
    std::ofstream m(dir / "manifest.json", std::ios::binary);
    m << manifest.dump(2) << '\n';
    m.close();
    if (!m) return Error::Unavailable("cannot write " + (dir / "manifest.json").string());
  }
  Json key_file = {{"format", std::string(kFormat) + "-key"},
                   {"school", school_id.value()},
                   {"exported_at", Iso(now)},
                   {"algorithm", "keyed BLAKE2b-256"},
                   {"key_fingerprint", report.key_fingerprint},
                   {"key", ports::ToHex(key.view())}};
  Status written = WritePrivateFile(options.key_out, key_file.dump(2) + "\n");
  if (!written.ok()) return written.error();

  ports::WriteBatch batch;
  audit_.Add(batch, school_id, CountsEvent("testdata.export", report, actor, ctx));
  Status committed = deps_.store.Commit(std::move(batch));
  if (!committed.ok()) return committed.error();
  return report;
}

// ---- check and import
// -----------------------------------------------------------------------------

namespace {

// Parses a JSON Lines table (nullopt: missing); a line that is not an object is a problem.
std::vector<Json> ReadTable(const std::string& file, const std::optional<std::string>& text,
                            std::vector<ExportProblem>& problems) {
  std::vector<Json> rows;
  if (!text) {
    problems.push_back({file, 0, "", "the table is missing"});
    return rows;
  }
  std::istringstream in(*text);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      problems.push_back({file, n, "", "not a JSON object"});
      continue;
    }
    rows.push_back(std::move(j));
  }
  return rows;
}

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<Json> ReadTable(const fs::path& path, std::vector<ExportProblem>& problems) {
  return ReadTable(path.filename().string(), Slurp(path), problems);
}

// Every string in `j`, for the look for real e-mail addresses.
void Strings(const Json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_structured()) {
    for (const auto& v : j) Strings(v, out);
  }
}

}  // namespace

std::vector<ExportProblem> CheckExport(const std::string& dir_text, const policy::Policy& policy) {
  const fs::path dir(dir_text);
  ExportFiles files;
  for (const char* name :
       {"manifest.json", "subjects.jsonl", "records.jsonl", "consents.jsonl", "requests.jsonl"}) {
    if (auto text = Slurp(dir / name)) files.emplace(name, std::move(*text));
  }
  return CheckExportFiles(files, policy);
}

std::vector<ExportProblem> CheckExportFiles(const ExportFiles& files,
                                            const policy::Policy& policy) {
  std::vector<ExportProblem> problems;
  auto text = [&](const std::string& name) -> std::optional<std::string> {
    auto it = files.find(name);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  const std::optional<std::string> mf = text("manifest.json");
  Json manifest = mf ? Json::parse(*mf, nullptr, false) : Json();
  if (!manifest.is_object()) {
    problems.push_back({"manifest.json", 0, "", "missing or not a JSON object"});
    return problems;
  }
  if (Str(manifest, "format") != kFormat) {
    problems.push_back({"manifest.json", 0, "format", std::string("the format is not ") + kFormat});
  }
  if (!manifest.contains("pseudonymised") || manifest["pseudonymised"] != true) {
    problems.push_back(
        {"manifest.json", 0, "pseudonymised", "the export is not marked pseudonymised"});
  }
  if (Str(manifest, "school") != policy.school.id) {
    problems.push_back({"manifest.json", 0, "school", "the export is of another school"});
  }
  for (const char* table : kTables) {
    const std::string file = std::string(table) + ".jsonl";
    std::vector<Json> rows = ReadTable(file, text(file), problems);
    const Json counts = manifest.value("counts", Json::object());
    if (!counts.contains(table) || !counts[table].is_number_integer() ||
        counts[table].get<int64_t>() != static_cast<int64_t>(rows.size())) {
      problems.push_back({file, 0, "", "the row count differs from the manifest's"});
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t line = static_cast<int64_t>(i) + 1;
      std::vector<std::string> strings;
      Strings(rows[i], strings);
      for (const auto& s : strings) {
        if (!RealLookingEmail(s).empty()) {
          problems.push_back({file, line, Str(rows[i], "field"),
                              "holds an e-mail address that is not a pseudonym"});
          break;
        }
      }
      if (std::string(table) != "records") continue;
      const std::string field = Str(rows[i], "field");
      const policy::Field* f = policy.FindField(field);
      if (f == nullptr) {
        problems.push_back({file, line, field, "a field the policy does not declare"});
        continue;
      }
      const FieldTreatment t = TreatmentOf(policy, *f);
      const Json& v = rows[i].contains("value") ? rows[i]["value"] : Json();
      if (Str(rows[i], "treatment") != TreatmentName(t)) {
        problems.push_back(
            {file, line, field, std::string("the value should be ") + TreatmentName(t)});
        continue;
      }
      if (v.is_null()) continue;
      if (!v.is_string()) {
        problems.push_back({file, line, field, "the value is not a string"});
        continue;
      }
      const std::string s = v.get<std::string>();
      bool real = false;
      if (t == FieldTreatment::kDrop) real = true;
      if (t == FieldTreatment::kPseudonymise && f->type == "email") {
        real = s.size() <= std::strlen(kReservedDomain) ||
               s.compare(s.size() - std::strlen(kReservedDomain), std::string::npos,
                         kReservedDomain) != 0;
      }
      if (t == FieldTreatment::kPseudonymise && f->type == "ip")
        real = !InRange4(s) && !InRange6(s);
      if (t == FieldTreatment::kPseudonymise && f->type == "url") {
        real = s.find(".example.invalid/") == std::string::npos;
      }
      if (t == FieldTreatment::kGeneralise) real = GeneraliseDate(f->type, s) != s;
      if (real) problems.push_back({file, line, field, "the value looks real"});
    }
  }
  return problems;
}

Result<TestDataReport> TestDataService::Import(const SchoolId& school_id, const std::string& dir,
                                               const std::string& environment, const Actor& actor,
                                               const RequestContext& ctx) {
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  const policy::Policy& policy = (*school)->policy()->policy();
  if (environment != "test") {
    return Error::Refused("environment_not_test",
                          "test data are loaded only into an environment tagged test, not \"" +
                              environment.substr(0, 32) + "\"",
                          "environment");
  }
  std::vector<ExportProblem> problems = CheckExport(dir, policy);
  if (!problems.empty()) {
    const ExportProblem& p = problems.front();
    std::string where = p.file + (p.line > 0 ? ":" + std::to_string(p.line) : "") +
                        (p.field.empty() ? "" : " (" + p.field + ")");
    return Error::Refused("not_pseudonymised",
                          "refused: this environment is tagged test and the export is not a "
                          "pseudonymised one: " +
                              where + ": " + p.what + " (" + std::to_string(problems.size()) +
                              " problem(s) in all)",
                          "export");
  }
  std::vector<ExportProblem> unused;
  const fs::path d(dir);
  std::vector<Json> subjects = ReadTable(d / "subjects.jsonl", unused);
  std::vector<Json> records = ReadTable(d / "records.jsonl", unused);
  std::vector<Json> consents = ReadTable(d / "consents.jsonl", unused);
  std::vector<Json> requests = ReadTable(d / "requests.jsonl", unused);

  ports::WriteBatch batch;
  TestDataReport report;
  std::map<std::string, ports::SecretKey> keys;
  const Timestamp now = deps_.clock.Now();
  for (const Json& s : subjects) {
    ports::SubjectRow row;
    row.school = school_id;
    row.id = SubjectId(Str(s, "id"));
    if (row.id.value().empty()) return Error::Invalid("a subject without an id", "subjects");
    row.kind = Str(s, "kind");
    row.policy_version = Str(s, "policy_version");
    row.channel = Str(s, "channel");
    row.form = Str(s, "form");
    row.source = Str(s, "source");
    row.state = Str(s, "state");
    if (!Str(s, "guardian").empty()) row.guardian = SubjectId(Str(s, "guardian"));
    row.created_at = ReadOptTime(s, "created_at").value_or(now);
    row.updated_at = ReadOptTime(s, "updated_at").value_or(now);
    const ports::SecretKey key = deps_.crypto.NewKey();
    auto wrapped = deps_.keys.Wrap(school_id, row.id, key);
    if (!wrapped.ok()) return wrapped.error();
    auto pseudonym = audit_.Pseudonym(school_id, row.id);
    if (!pseudonym.ok()) return pseudonym.error();
    row.pseudonym = *pseudonym;
    SubjectProfile profile;
    profile.country = Str(s, "country");
    profile.lang = Str(s, "lang");
    row.sealed_profile = deps_.crypto.Seal(key, EncodeProfile(profile),
                                           "profile|" + school_id.value() + "|" + row.id.value());
    batch.subject_keys.push_back({school_id, row.id, wrapped->kek_id, wrapped->wrapped, now});
    keys[row.id.value()] = key;
    batch.subjects.push_back(std::move(row));
  }
  for (const Json& r : records) {
    auto key = keys.find(Str(r, "subject"));
    if (key == keys.end()) return Error::Invalid("a record of a subject not exported", "records");
    if (!r.contains("value") || !r["value"].is_string()) continue;  // dropped: nothing to keep
    ports::RecordRow row;
    row.school = school_id;
    row.id = RecordId(Str(r, "id"));
    row.subject = SubjectId(key->first);
    row.store = Str(r, "store");
    row.field = Str(r, "field");
    row.category = Str(r, "category");
    row.sealed_value = subjects_.SealValue(key->second, school_id, row.subject, row.field,
                                           row.id.value(), r["value"].get<std::string>());
    row.source = Str(r, "source");
    row.channel = Str(r, "channel");
    row.form = Str(r, "form");
    row.policy_version = Str(r, "policy_version");
    row.collected_at = ReadOptTime(r, "collected_at").value_or(now);
    row.updated_at = ReadOptTime(r, "updated_at").value_or(now);
    batch.records.push_back(std::move(row));
  }
  for (const Json& c : consents) {
    ports::ConsentRow row;
    row.school = school_id;
    row.id = ConsentId(Str(c, "id"));
    row.subject = SubjectId(Str(c, "subject"));
    row.consent_type = Str(c, "consent_type");
    if (c.contains("grants") && c["grants"].is_array()) {
      for (const auto& g : c["grants"]) {
        if (g.is_string()) row.grants.push_back(g.get<std::string>());
      }
    }
    row.action = Str(c, "action");
    row.policy_version = Str(c, "policy_version");
    row.text = Str(c, "text");
    row.text_sha256 = Str(c, "text_sha256");
    row.lang = Str(c, "lang");
    row.channel = Str(c, "channel");
    row.form = Str(c, "form");
    row.checkbox = Str(c, "checkbox");
    row.given_by = Str(c, "given_by");
    if (!Str(c, "guardian").empty()) row.guardian = SubjectId(Str(c, "guardian"));
    row.evidence = Json{{"imported_from", "testdata"}}.dump();
    row.at = ReadOptTime(c, "at").value_or(now);
    row.expires_at = ReadOptTime(c, "expires_at");
    batch.consents.push_back(std::move(row));
  }
  for (const Json& q : requests) {
    ports::RequestRow row;
    row.school = school_id;
    row.id = Str(q, "id");
    row.type = Str(q, "type");
    row.state = Str(q, "state");
    row.subject = Str(q, "subject");
    row.open = Bool(q, "open");
    row.overdue = Bool(q, "overdue");
    row.assignee = Str(q, "assignee");
    row.received_at = ReadOptTime(q, "received_at").value_or(now);
    row.due_at = ReadOptTime(q, "due_at").value_or(now);
    row.updated_at = ReadOptTime(q, "updated_at").value_or(now);
    Json body = {{"type", row.type}};
    for (const char* k : {"right", "channel", "lang", "outcome"}) body[k] = Str(q, k);
    for (const char* k : {"fields", "purposes", "consents"}) {
      body[k] = q.contains(k) && q[k].is_array() ? q[k] : Json::array();
    }
    row.body = body.dump();
    batch.requests.push_back(std::move(row));
  }
  report.subjects = static_cast<int64_t>(batch.subjects.size());
  report.records = static_cast<int64_t>(batch.records.size());
  report.consents = static_cast<int64_t>(batch.consents.size());
  report.requests = static_cast<int64_t>(batch.requests.size());

  audit_.Add(batch, school_id, CountsEvent("testdata.import", report, actor, ctx));
  Status st = deps_.store.Commit(std::move(batch));
  if (!st.ok()) return st.error();
  for (const auto& [id, _] : keys) subjects_.ForgetRecords(school_id, SubjectId(id));
  return report;
}

}  // namespace dovira::services
