#include "domain/intake.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>

#include "calendar/date.h"
#include "domain/gate.h"

namespace dovira::domain {
namespace {

// Counts code points; false on invalid UTF-8 or a control character (except \n \t in text).
bool CheckUtf8(const std::string& s, bool multiline, size_t* code_points) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are invalid UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    if (cp < 0x20 || cp == 0x7F) {
      if (!(multiline && (cp == '\n' || cp == '\t' || cp == '\r'))) return false;
    }
    i += len;
    ++n;
  }
  *code_points = n;
  return true;
}

// A value that does not fit its field; `variant` picks the reader's text
// ("api.field_invalid.email").
Error Invalid(const CompiledField& f, const std::string& why, const char* variant) {
  return Error::Refused("field_invalid", "field \"" + f.id + "\": " + why, f.id)
      .With("field", f.id)
      .With("variant", variant);
}

bool IsEmail(const std::string& v) {
  if (v.size() > 254) return false;
  auto at = v.find('@');
  if (at == std::string::npos || at == 0 || at > 64 || v.find('@', at + 1) != std::string::npos) {
    return false;
  }
  std::string domain = v.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string::npos) {
    return false;
  }
  for (unsigned char c : v) {
    if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == '\\') {
      return false;
    }
  }
  return true;
}

// The first instant of local day `d` in the school's time zone, in microseconds.
int64_t StartOfDayUs(const CompiledPolicy& cp, calendar::Date d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             cp.calendar().StartOfDay(d).time_since_epoch())
      .count();
}

}  // namespace

std::optional<std::string> NormaliseEmail(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  std::string v(text.substr(b, e - b));
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!IsEmail(v)) return std::nullopt;
  return v;
}

Result<std::string> ValidateFieldValue(const CompiledField& f, const std::string& raw) {
  std::string v = raw;
  // Surrounding spaces are never meaningful in a form value.
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  size_t start = v.find_first_not_of(" \t");
  v = start == std::string::npos ? std::string() : v.substr(start);
  size_t cps = 0;
  if (!CheckUtf8(v, f.type == "text", &cps)) {
    return Invalid(f, "not valid UTF-8 text, or contains control characters", "text");
  }
  if (v.empty()) return Invalid(f, "empty", "empty");
  if (static_cast<int64_t>(cps) > f.max_length) {
    return Invalid(f, "longer than " + std::to_string(f.max_length) + " characters", "too_long")
        .With("max", std::to_string(f.max_length));
  }
  const std::string& t = f.type;
  if (t == "email") {
    auto email = NormaliseEmail(v);
    if (!email) return Invalid(f, "not an e-mail address", "email");
    v = std::move(*email);
  } else if (t == "phone") {
    size_t digits = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      char c = v[i];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++digits;
      } else if (!(c == ' ' || c == '-' || c == '(' || c == ')' || (c == '+' && i == 0))) {
        return Invalid(f, "a phone number may contain only digits, spaces, ( ) - and a leading +",
                       "phone");
      }
    }
    if (digits < 7 || digits > 15) return Invalid(f, "a phone number has 7 to 15 digits", "phone");
  } else if (t == "date") {
    auto d = calendar::ParseDate(v);
    if (!d.ok()) return Invalid(f, d.error().message, "date");
  } else if (t == "datetime") {
    Timestamp ts;
    std::string err;
    if (!ParseTimestamp(v, &ts, &err)) return Invalid(f, err, "datetime");
  } else if (t == "integer") {
    size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
    if (i == v.size() || v.size() > 19 ||
        !std::all_of(v.begin() + static_cast<long>(i), v.end(),
                     [](unsigned char c) { return std::isdigit(c); })) {
      return Invalid(f, "not a whole number", "integer");
    }
  } else if (t == "decimal") {
    size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
    bool dot = false, digit = false;
    for (; i < v.size(); ++i) {
      if (v[i] == '.' && !dot) {
        dot = true;
      } else if (std::isdigit(static_cast<unsigned char>(v[i]))) {
        digit = true;
      } else {
        return Invalid(f, "not a number", "decimal");
      }
    }
    if (!digit) return Invalid(f, "not a number", "decimal");
  } else if (t == "boolean") {
    if (v != "true" && v != "false") return Invalid(f, "must be true or false", "boolean");
  } else if (t == "enum") {
    if (std::find(f.values.begin(), f.values.end(), v) == f.values.end()) {
      std::string allowed;
      for (const auto& x : f.values) allowed += (allowed.empty() ? "" : ", ") + x;
      return Invalid(f, "must be one of: " + allowed, "enum");
    }
  } else if (t == "country") {
    if (v.size() != 2 || !std::isupper(static_cast<unsigned char>(v[0])) ||
        !std::isupper(static_cast<unsigned char>(v[1]))) {
      return Invalid(f, "a country is a two-letter code such as UA", "country");
    }
  } else if (t == "url") {
    if (!(v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0) ||
        v.find(' ') != std::string::npos) {
      return Invalid(f, "not an http(s) address", "url");
    }
  } else if (t == "ip") {
    unsigned char buf[16];
    if (inet_pton(AF_INET, v.c_str(), buf) != 1 && inet_pton(AF_INET6, v.c_str(), buf) != 1) {
      return Invalid(f, "not an IP address", "ip");
    }
  }
  return v;
}

Result<ValidatedSubmission> ValidateSubmission(const CompiledPolicy& cp, const Submission& sub,
                                               Timestamp now) {
  const policy::Policy& pol = cp.policy();
  ValidatedSubmission out;
  out.source = sub.source;
  const policy::Form* form = nullptr;
  if (!sub.form.empty()) {
    auto it = pol.forms.find(sub.form);
    if (it == pol.forms.end()) {
      return Error::Refused("form_unknown", "the policy declares no form \"" + sub.form + "\"",
                            "form");
    }
    form = &it->second;
    out.form = form->id;
    out.subject_kind = form->subject_kind;
    out.channel = form->channel;
    out.source = "subject";
  } else {
    if (sub.subject_kind.empty() || cp.SubjectKindIndex(sub.subject_kind) < 0) {
      return Error::Refused("subject_kind_undeclared",
                            "subject kind \"" + sub.subject_kind +
                                "\" is not declared by the school's policy",
                            "subject_kind");
    }
    out.subject_kind = sub.subject_kind;
    if (sub.channel.empty()) {
      return Error::Refused("channel_invalid", "the collection channel is required", "channel");
    }
    out.channel = sub.channel;
  }
  // R12: only the sources the policy allows ("offline" covers phone and paper channels).
  const auto& sources = pol.collection.sources;
  if (std::find(sources.begin(), sources.end(), out.source) == sources.end()) {
    return Error::Refused("source_not_allowed",
                          "the school's policy does not accept personal data from source \"" +
                              out.source + "\"",
                          "source");
  }
  if (!form) {
    // A channel the policy declares (R18), or "api" for the school's own systems.
    const auto& channels = pol.collection.channels;
    if (sub.channel != "api" && !channels.empty() &&
        std::find(channels.begin(), channels.end(), sub.channel) == channels.end()) {
      std::string allowed = "api";
      for (const auto& c : channels) allowed += ", " + c;
      return Error::Refused("channel_invalid",
                            "the school's policy collects through no channel \"" + sub.channel +
                                "\" (declared: " + allowed + ")",
                            "channel");
    }
  }
  // From here on every problem is collected, so a person sees all of them at once (issue 12).
  std::vector<Error> problems;
  auto problem = [&](Error e) { problems.push_back(std::move(e)); };
  if (sub.fields.empty() && (!form || form->required.empty())) {
    problem(Error::Refused("no_fields", "no personal data submitted", "fields"));
  }
  std::vector<std::string> rejected;  // fields given with a value that was refused
  for (const auto& [id, value] : sub.fields) {
    int fi = cp.FieldIndex(id);
    if (fi < 0) {
      problem(Error::Refused("field_undeclared",
                             "field \"" + id + "\" is not in the school's data inventory", id));
      rejected.push_back(id);
      continue;
    }
    if (form && std::find(form->fields.begin(), form->fields.end(), id) == form->fields.end()) {
      problem(Error::Refused("field_not_in_form",
                             "field \"" + id + "\" is not part of form \"" + form->id + "\"", id)
                  .With("field", id)
                  .With("form", form->id));
      rejected.push_back(id);
      continue;
    }
    auto v = ValidateFieldValue(cp.field(static_cast<size_t>(fi)), value);
    if (!v.ok()) {
      problem(v.error());
      rejected.push_back(id);
      continue;
    }
    out.fields[id] = std::move(*v);
  }
  auto was_rejected = [&](const std::string& id) {
    return std::find(rejected.begin(), rejected.end(), id) != rejected.end();
  };
  if (form) {
    for (const auto& req : form->required) {
      if (!out.fields.count(req) && !was_rejected(req)) {
        problem(Error::Refused("field_required", "field \"" + req + "\" is required", req)
                    .With("field", req));
      }
    }
    // R08: a group of which at least one field must be given (e-mail or phone).
    for (const auto& g : form->one_of) {
      bool given = std::any_of(g.fields.begin(), g.fields.end(), [&](const std::string& id) {
        return out.fields.count(id) || was_rejected(id);
      });
      if (!given) {
        std::string ids;
        for (const auto& id : g.fields) ids += (ids.empty() ? "" : ",") + id;
        problem(Error::Refused("field_one_of_required", "give at least one of: " + ids,
                               g.fields.front())
                    .With("fields", ids));
      }
    }
    if (form->accept_policy && !sub.accept_policy) {
      problem(Error::Refused("policy_not_accepted",
                             "the privacy policy must be accepted to submit this form",
                             "accept_policy"));
    }
    for (const auto& t : sub.ticked) {
      bool known = std::any_of(form->consents.begin(), form->consents.end(),
                               [&](const policy::ConsentCheckbox& cb) { return cb.id == t; });
      if (!known) {
        problem(Error::Refused("consent_unknown",
                               "form \"" + form->id + "\" has no consent check-box \"" +
                                   t.substr(0, 64) + "\"",
                               "consents"));
      }
    }
    for (const auto& cb : form->consents) {
      bool ticked = std::find(sub.ticked.begin(), sub.ticked.end(), cb.id) != sub.ticked.end();
      if (!ticked) {
        if (cb.required) {
          problem(Error::Refused("consent_required",
                                 "consent \"" + cb.id + "\" must be given to submit this form",
                                 "consents")
                      .With("consent", cb.id));
        }
        continue;
      }
      ValidatedConsent vc;
      vc.checkbox = cb.id;
      vc.consent_type = cb.consent;
      vc.lang = cb.text.Has(sub.lang) ? sub.lang : pol.school.authoritative_language;
      vc.text = cb.text.Get(vc.lang, pol.school.authoritative_language);
      auto ct = pol.consents.find(cb.consent);
      if (ct != pol.consents.end() && ct->second.evidence_required &&
          sub.evidence_document.empty()) {
        problem(Error::Refused("evidence_required",
                               "consent \"" + cb.id + "\" is given in writing: attach the signed "
                               "document (evidence_document)",
                               "evidence_document")
                    .With("consent", cb.id));
      }
      if (ct != pol.consents.end()) {
        vc.grants = ct->second.grants;
        if (ct->second.term.unit != calendar::TermUnit::kIndefinite) vc.term = ct->second.term;
      }
      out.consents.push_back(std::move(vc));
    }
  }

  // R05: the subject's residence and citizenship, as two-letter country codes.
  for (const auto& [code, member] : {std::pair<const std::string&, const char*>{sub.country,
                                                                                "country"},
                                     {sub.citizenship, "citizenship"}}) {
    if (!code.empty() && (code.size() != 2 || !std::isupper(static_cast<unsigned char>(code[0])) ||
                          !std::isupper(static_cast<unsigned char>(code[1])))) {
      problem(Error::Invalid(std::string(member) + " is a two-letter country code such as UA",
                             member));
    }
  }

  // Age rules (R24, R25, R27).
  const policy::Minors& m = pol.minors;
  int threshold = m.threshold;
  if (!sub.country.empty()) {
    auto it = m.age_map.find(sub.country);
    if (it != m.age_map.end()) threshold = it->second;
  }
  const int64_t now_us = now.time_since_epoch().count();
  if (m.rule == "birth_date" && !m.birth_date_field.empty()) {
    auto bd = out.fields.find(m.birth_date_field);
    if (bd != out.fields.end()) {
      auto birth = calendar::ParseDate(bd->second);
      if (birth.ok()) {
        auto majority = calendar::AddMonths(*birth, 12 * threshold);
        const int64_t majority_us = StartOfDayUs(cp, majority);
        out.minor = now_us < majority_us;
        out.minor_until_us = out.minor ? majority_us : 0;
        if (out.minor) out.majority = majority;
        if (m.never_collect_under > 0) {
          auto floor = calendar::AddMonths(*birth, 12 * m.never_collect_under);
          const int64_t floor_us =
              std::chrono::duration_cast<std::chrono::microseconds>(floor.days.time_since_epoch())
                  .count();
          if (now_us < floor_us) {
            problem(Error::Refused("child_under_minimum",
                                   "the school does not collect data of children under " +
                                       std::to_string(m.never_collect_under),
                                   m.birth_date_field)
                        .With("age", std::to_string(m.never_collect_under)));
          }
        }
      }
    }
  } else if (m.rule == "self_declaration" && form && form->age_statement) {
    if (sub.age_statement != "adult" && sub.age_statement != "minor") {
      problem(Error::Refused("age_statement_required",
                             "state whether you are " + std::to_string(threshold) +
                                 " or older (\"adult\") or younger (\"minor\")",
                             "age_statement")
                  .With("age", std::to_string(threshold)));
    }
    out.minor = sub.age_statement == "minor";
    out.minor_until_us = out.minor ? kForever : 0;
  }
  // A stated day of majority (B06): the minor's status ends, and the re-consent is due, then.
  if (!sub.date_of_majority.empty()) {
    auto day = calendar::ParseDate(sub.date_of_majority);
    if (!day.ok()) {
      problem(Error::Refused("field_invalid", "date_of_majority: " + day.error().message,
                             "date_of_majority")
                  .With("variant", "date"));
    } else if (!out.minor || out.majority) {
      problem(Error::Refused("field_invalid",
                             "date_of_majority is stated only for a minor who gives no birth date",
                             "date_of_majority")
                  .With("variant", "majority_not_minor"));
    } else if (const int64_t majority_us = StartOfDayUs(cp, *day); majority_us <= now_us) {
      problem(Error::Refused("field_invalid",
                             "date_of_majority must be a day still to come: on that day the "
                             "person is no longer a minor",
                             "date_of_majority")
                  .With("variant", "majority_past"));
    } else {
      out.majority = *day;
      out.minor_until_us = majority_us;
    }
  }
  // A representative given as an object is written into the policy's representative fields, and
  // one given as fields is read back, so either spelling satisfies the rule.
  std::optional<Representative> rep = sub.representative;
  auto field_of = [&](const char* k) -> std::string {
    auto it = m.representative_fields.find(k);
    return it == m.representative_fields.end() ? std::string() : it->second;
  };
  if (!m.representative_fields.empty()) {
    if (rep) {
      const std::pair<const char*, const std::string*> parts[] = {
          {"name", &rep->name}, {"relation", &rep->relation},
          {"permission_at", &rep->permission_at}, {"email", &rep->email}};
      for (const auto& [k, v] : parts) {
        std::string fid = field_of(k);
        if (fid.empty() || v->empty()) continue;
        int fi = cp.FieldIndex(fid);
        if (fi < 0) continue;
        auto val = ValidateFieldValue(cp.field(static_cast<size_t>(fi)), *v);
        if (!val.ok()) {
          problem(val.error());
          continue;
        }
        out.fields[fid] = *val;
      }
    } else {
      Representative from_fields;
      auto get = [&](const char* k) {
        auto it = out.fields.find(field_of(k));
        return it == out.fields.end() ? std::string() : it->second;
      };
      from_fields.name = get("name");
      from_fields.relation = get("relation");
      from_fields.permission_at = get("permission_at");
      from_fields.email = get("email");
      if (!from_fields.name.empty() || !from_fields.relation.empty() ||
          !from_fields.permission_at.empty()) {
        rep = from_fields;
      }
    }
  }
  if (out.minor && m.representative_consent != "not_stated") {
    if (m.representative_consent == "not_accepted") {
      problem(Error::Refused("minor_not_accepted",
                             "the school does not accept personal data from people under " +
                                 std::to_string(threshold),
                             "age_statement")
                  .With("age", std::to_string(threshold)));
    } else {
      // Each missing part of the representative's permission, named by the policy's field for
      // it where there is one (so a form shows it by that field), else as "representative".
      const std::pair<const char*, std::string> parts[] = {
          {"name", rep ? rep->name : std::string()},
          {"relation", rep ? rep->relation : std::string()},
          {"permission_at", rep ? rep->permission_at : std::string()}};
      bool whole_missing = false;
      for (const auto& [k, v] : parts) {
        if (!v.empty()) continue;
        const std::string fid = field_of(k);
        if (fid.empty() || cp.FieldIndex(fid) < 0) {
          whole_missing = true;
          continue;
        }
        if (was_rejected(fid)) continue;  // already reported with its own problem
        problem(Error::Refused("representative_required",
                               "a minor needs the permission of a legal representative: field \"" +
                                   fid + "\" is required",
                               fid)
                    .With("field", fid));
      }
      if (whole_missing) {
        problem(Error::Refused("representative_required",
                               "a minor needs the permission of a legal representative: give the "
                               "representative's name, relation and the date of permission",
                               "representative"));
      } else if (rep && !rep->permission_at.empty()) {
        auto when = calendar::ParseDate(rep->permission_at);
        if (!when.ok()) {
          const std::string fid = field_of("permission_at");
          problem(Error::Refused("field_invalid",
                                 "representative.permission_at: " + when.error().message,
                                 fid.empty() ? "representative.permission_at" : fid)
                      .With("variant", "date"));
        } else {
          out.representative = rep;
        }
      }
    }
  }
  if (!problems.empty()) return Error::Combine(std::move(problems));
  return out;
}

}  // namespace dovira::domain
