#include "policy/checker.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "calendar/calendar.h"

namespace dovira::policy {
namespace {

using calendar::Term;
using calendar::TermUnit;

// EU member states: a store or recipient in one of these is inside a region written as "EU".
const std::set<std::string> kEu = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI",
                                   "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
                                   "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
const std::set<std::string> kEeaExtra = {"IS", "LI", "NO"};

bool RegionCovers(const std::string& region, const std::string& country) {
  if (region == country) return true;
  if (region == "EU") return kEu.count(country) > 0;
  if (region == "EEA") return kEu.count(country) > 0 || kEeaExtra.count(country) > 0 ||
                              country == "EU";
  return false;
}

bool IsCountryCode(const std::string& s) {
  if (s == "EU" || s == "EEA") return true;
  return s.size() == 2 && std::isupper(static_cast<unsigned char>(s[0])) &&
         std::isupper(static_cast<unsigned char>(s[1]));
}

// Shortest and longest span of a term in days, for comparing terms of different units.
std::pair<double, double> DaySpan(const Term& t) {
  const double n = static_cast<double>(t.count);
  switch (t.unit) {
    case TermUnit::kImmediate:
      return {0, 0};
    case TermUnit::kHours:
      return {n / 24.0, n / 24.0};
    case TermUnit::kCalendarDays:
      return {n, n};
    case TermUnit::kWorkingDays:
      return {n, n * 7.0};  // a one-day workweek stretches it
    case TermUnit::kCalendarMonths:
      return {n * 28.0, n * 31.0};
    case TermUnit::kCalendarYears:
      return {n * 365.0, n * 366.0};
    case TermUnit::kIndefinite:
      return {1e18, 1e18};
  }
  return {0, 0};
}

bool IsZeroLength(const Term& t) {
  return t.count == 0 && t.unit != TermUnit::kImmediate && t.unit != TermUnit::kIndefinite;
}

std::string Quote(const std::string& s) { return "`" + s + "`"; }

// A finding code: E-, W- or I-, then groups of A-Z and 0-9 joined by single hyphens.
bool IsCode(const std::string& s) {
  if (s.size() < 3 || s.size() > 64) return false;
  if ((s[0] != 'E' && s[0] != 'W' && s[0] != 'I') || s[1] != '-') return false;
  char prev = '-';
  for (size_t i = 2; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && prev != '-')) return false;
    prev = c;
  }
  return prev != '-';
}

// The first snake_case token of `text` (a lower-case letter, then lower-case letters and digits
// joined by underscores: `withdrawal_then`, `harms_subject_or_third_parties`), outside web and
// e-mail addresses; "" when there is none.
std::string SnakeCaseToken(const std::string& text) {
  auto word_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i;
    while (end < text.size() && !is_space(text[end])) ++end;
    // A whitespace-separated chunk that is an address is skipped whole.
    const std::string chunk = text.substr(i, end - i);
    const size_t slash = chunk.find('/');
    const bool host_path = slash != std::string::npos && slash > 0 &&
                           chunk.substr(0, slash).find('.') != std::string::npos;  // a.com/x_y
    const bool address = chunk.find("://") != std::string::npos ||
                         chunk.find('@') != std::string::npos || chunk.rfind("www.", 0) == 0 ||
                         host_path;
    for (size_t j = 0; !address && j < chunk.size();) {
      if (!word_char(chunk[j])) {
        ++j;
        continue;
      }
      size_t k = j;
      while (k < chunk.size() && word_char(chunk[k])) ++k;
      const std::string word = chunk.substr(j, k - j);
      const bool snake = word.front() >= 'a' && word.front() <= 'z' && word.back() != '_' &&
                         word.find('_') != std::string::npos &&
                         std::all_of(word.begin(), word.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                         });
      if (snake) return word;
      j = k;
    }
    i = end;
    while (i < text.size() && is_space(text[i])) ++i;
  }
  return "";
}

class Checker {
 public:
  Checker(Policy& p, Findings& f) : p_(p), f_(f) {}

  void Run() {
    Identity();
    Storage();
    Calendar();
    Inventory();
    Forms();
    Consents();
    Purposes();
    Recipients();
    Rights();
    Obligations();
    Minors();
    Cookies();
    Decisions();
    Profiling();
    Anonymisation();
    Roles();
    Languages();
    PublicWording();
    Versioning();
    ConflictsAndResolutions();
  }

 private:
  void Add(SourcePos pos, const std::string& code, const std::string& msg) { f_.Add(pos, code, msg); }

  void Identity() {
    if (p_.controller.name.empty() && !f_.HasCode("E-CONTROLLER-MISSING")) {
      Add(p_.controller.pos, "E-CONTROLLER-MISSING", "`controller.name` is required");
    }
    if (p_.contacts.rights_requests.empty()) {
      Add(p_.contacts.pos, "E-CONTACT-MISSING",
          "`contacts.rights_requests` is required: where subjects send their requests");
    }
    if (p_.officers.responsible_person.name.empty()) {
      Add(p_.officers.pos, "E-ROLE-MISSING",
          "`officers.responsible_person` must name the person responsible for subject rights");
    }
    if (p_.officers.security_officer.name.empty()) {
      Add(p_.officers.pos, "E-ROLE-MISSING",
          "`officers.security_officer` must name the officer responsible for data security");
    }
    if (!p_.school.jurisdiction.empty() && !IsCountryCode(p_.school.jurisdiction)) {
      Add(p_.school.pos, "E-COUNTRY",
          "`school.jurisdiction` = \"" + p_.school.jurisdiction +
              "\" is not a country code (ISO 3166 alpha-2, e.g. UA)");
    }
  }

  void Storage() {
    auto& s = p_.storage;
    if (s.regions.empty()) {
      Add(s.pos, "E-REGION-UNSET", "`storage.regions` must name where personal data may be stored");
    }
    for (const auto& r : s.regions) {
      if (!IsCountryCode(r)) {
        Add(s.pos, "E-COUNTRY", "`storage.regions` item \"" + r + "\" is not a country code");
      }
    }
    std::map<std::string, std::string> purpose_store;
    std::set<std::string> ids;
    for (const auto& st : s.stores) {
      if (!ids.insert(st.id).second) {
        Add(st.pos, "E-DUPLICATE", "store " + Quote(st.id) + " is declared twice");
      }
      bool inside = std::any_of(s.regions.begin(), s.regions.end(),
                                [&](const std::string& r) { return RegionCovers(r, st.region); });
      if (!inside && !s.regions.empty()) {
        Add(st.pos, "E-REGION",
            "store " + Quote(st.id) + " is in region " + st.region +
                ", outside `storage.regions`");
      }
      if (!st.audit && s.require_audit) {
        Add(st.pos, "E-STORE-NO-AUDIT", "store " + Quote(st.id) + " has audit switched off");
      }
      for (const auto& pid : st.purposes) {
        if (!p_.purposes.count(pid)) {
          Add(st.pos, "E-REF-PURPOSE",
              "store " + Quote(st.id) + " names undeclared purpose " + Quote(pid));
        } else if (auto [it, fresh] = purpose_store.emplace(pid, st.id); !fresh) {
          Add(st.pos, "E-DUPLICATE",
              "purpose " + Quote(pid) + " is in stores " + Quote(it->second) + " and " +
                  Quote(st.id) + "; each purpose's data is stored in one place");
        }
      }
    }
    if (!s.stores.empty()) {
      for (const auto& [id, pu] : p_.purposes) {
        if (pu.enabled && !purpose_store.count(id)) {
          Add(pu.pos, "W-STORE-MISSING",
              "purpose " + Quote(id) + " has no store; its data go to the default store");
        }
      }
    }
    if (!p_.transfers.declared) {
      Add(SourcePos{1, 1}, "W-GAP-XBORDER",
          "the policy says nothing about cross-border transfers ([transfers]); they are denied");
    } else if (p_.transfers.cross_border.empty()) {
      Add(p_.transfers.pos, "W-GAP-XBORDER",
          "`transfers.cross_border` is not set; cross-border transfers are denied");
    }
  }

  void Calendar() {
    if (p_.calendar.timezone.empty()) return;  // reported by the loader
    auto cal = calendar::Calendar::Create(p_.calendar);
    if (!cal.ok()) {
      Add(p_.calendar_pos, "E-TIMEZONE", "[calendar]: " + cal.error().message);
    }
  }

  void Inventory() {
    auto& sc = p_.special_categories;
    for (const auto& t : sc.allowed) {
      if (std::find(sc.excluded.begin(), sc.excluded.end(), t) != sc.excluded.end()) {
        Add(sc.pos, "E-CONTRADICTION",
            "special category " + Quote(t) + " is both excluded and allowed");
      }
    }
    for (auto& [id, c] : p_.categories) {
      if (c.kind == "special" && c.special_type.empty()) {
        Add(c.pos, "E-KEY-MISSING",
            "category " + Quote(id) + " is special and must name its `special_type`");
      }
      if (c.kind != "special" && !c.special_type.empty()) {
        Add(c.pos, "E-CONTRADICTION",
            "category " + Quote(id) + " has a `special_type` but kind \"" + c.kind + "\"");
      }
      if (c.kind == "special") {
        bool excluded = std::find(sc.excluded.begin(), sc.excluded.end(), c.special_type) !=
                        sc.excluded.end();
        bool allowed = std::find(sc.allowed.begin(), sc.allowed.end(), c.special_type) !=
                       sc.allowed.end();
        if (excluded) {
          Add(c.pos, "E-SPECIAL-EXCLUDED",
              "category " + Quote(id) + " is of special type " + Quote(c.special_type) +
                  ", which the policy excludes");
        } else if (!allowed) {
          Add(c.pos, "W-SPECIAL-NOT-ALLOWED",
              "category " + Quote(id) + " is of special type " + Quote(c.special_type) +
                  ", not listed in `special_categories.allowed`");
        }
      }
    }
    for (const auto& [id, f] : p_.fields) {
      if (!f.category.empty() && !p_.categories.count(f.category)) {
        Add(f.pos, "E-REF-CATEGORY",
            "field " + Quote(id) + " names undeclared category " + Quote(f.category));
      }
      if (f.type == "enum" && f.values.empty()) {
        Add(f.pos, "E-KEY-MISSING", "field " + Quote(id) + " is an enum and needs `values`");
      }
      if (f.type != "enum" && !f.values.empty()) {
        Add(f.pos, "E-CONTRADICTION",
            "field " + Quote(id) + " lists `values` but is of type " + f.type);
      }
    }
    // Every special category the policy allows should serve some purpose.
    for (const auto& t : sc.allowed) {
      bool used = false;
      for (const auto& [pid, pu] : p_.purposes) {
        for (const auto& fid : pu.fields) {
          const Field* f = p_.FindField(fid);
          if (!f) continue;
          auto cit = p_.categories.find(f->category);
          if (cit != p_.categories.end() && cit->second.special_type == t && pu.enabled) used = true;
        }
      }
      if (!used) {
        Add(sc.pos, "W-SPECIAL-NO-PURPOSE",
            "special category " + Quote(t) +
                " is allowed but no purpose uses it: stored, restricted and unused");
      }
    }
    // Fields neither collected by a form nor used by a purpose.
    std::set<std::string> used;
    for (const auto& [id, pu] : p_.purposes) used.insert(pu.fields.begin(), pu.fields.end());
    for (const auto& [id, fo] : p_.forms) used.insert(fo.fields.begin(), fo.fields.end());
    for (const auto& a : p_.automated_decisions.profiling_attributes) used.insert(a);
    for (const auto& [id, f] : p_.fields) {
      // Special categories have their own finding (W-SPECIAL-NO-PURPOSE) for the same gap.
      auto cit = p_.categories.find(f.category);
      if (cit != p_.categories.end() && cit->second.kind == "special") continue;
      if (!used.count(id)) {
        Add(f.pos, "W-UNUSED-FIELD",
            "field " + Quote(id) + " is declared but no form collects it and no purpose uses it");
      }
    }
  }

  void RefField(SourcePos pos, const std::string& owner, const std::string& fid) {
    if (!p_.fields.count(fid)) {
      Add(pos, "E-REF-FIELD", owner + " names undeclared field " + Quote(fid));
    }
  }

  void Forms() {
    for (const auto& [id, fo] : p_.forms) {
      const std::string owner = "form " + Quote(id);
      if (!fo.subject_kind.empty() && !p_.subject_kinds.count(fo.subject_kind)) {
        Add(fo.pos, "E-REF-SUBJECT-KIND",
            owner + " names undeclared subject kind " + Quote(fo.subject_kind));
      }
      for (const auto& fid : fo.fields) RefField(fo.pos, owner, fid);
      for (const auto& fid : fo.required) {
        if (std::find(fo.fields.begin(), fo.fields.end(), fid) == fo.fields.end()) {
          Add(fo.pos, "E-FORM-REQUIRED",
              owner + " requires " + Quote(fid) + ", which is not among its `fields`");
        }
      }
      for (const auto& g : fo.one_of) {
        if (g.fields.size() < 2) {
          Add(g.pos, "E-FORM-ONE-OF",
              owner + " has a `one_of` group with fewer than two fields; use `required`");
        }
        for (const auto& fid : g.fields) {
          if (std::find(fo.fields.begin(), fo.fields.end(), fid) == fo.fields.end()) {
            Add(g.pos, "E-FORM-ONE-OF",
                owner + " asks for one of " + Quote(fid) + ", which is not among its `fields`");
          }
        }
      }
      if (fo.age_statement && p_.minors.rule == "none") {
        Add(fo.pos, "W-FORM-AGE-NO-RULE",
            owner + " asks for an age statement but `minors.rule` is none");
      }
      std::set<std::string> ids;
      for (const auto& cb : fo.consents) {
        if (!ids.insert(cb.id).second) {
          Add(cb.pos, "E-DUPLICATE", owner + " has two consent check-boxes " + Quote(cb.id));
        }
        if (!cb.consent.empty() && !p_.consents.count(cb.consent)) {
          Add(cb.pos, "E-REF-CONSENT",
              owner + " check-box " + Quote(cb.id) + " names undeclared consent " +
                  Quote(cb.consent));
        }
        if (!cb.default_unticked) {
          Add(cb.pos, "E-CONSENT-PRETICKED",
              owner + " check-box " + Quote(cb.id) +
                  " is ticked by default; consent must be an act of the person");
        }
      }
    }
  }

  bool IsPermission(const std::string& g) const {
    return std::find(std::begin(kConsentPermissions), std::end(kConsentPermissions), g) !=
           std::end(kConsentPermissions);
  }

  void Consents() {
    for (const auto& [id, c] : p_.consents) {
      for (const auto& g : c.grants) {
        if (!p_.purposes.count(g) && !IsPermission(g)) {
          Add(c.pos, "E-REF-GRANT",
              "consent " + Quote(id) + " grants " + Quote(g) +
                  ", which is neither a declared purpose nor a permission (processing, "
                  "third_party_transfer, processor_entrustment, cross_border)");
        }
      }
      if (c.withdrawal_procedure.empty()) {
        Add(c.pos, "E-CONSENT-NO-WITHDRAWAL",
            "consent " + Quote(id) + " has no `withdrawal_procedure` to show when it is given");
      }
      if (IsZeroLength(c.term)) {
        Add(c.pos, "E-TERM-ZERO", "consent " + Quote(id) + " lasts " + FormatTerm(c.term));
      }
    }
    if (!p_.consents.empty() && !p_.withdrawal.declared) {
      Add(SourcePos{1, 1}, "W-GAP-WITHDRAWAL",
          "consents are collected but [withdrawal] says nothing of what follows a withdrawal; "
          "default: stop all but storage, destroy within 30 working days");
    }
  }

  void Purposes() {
    std::set<std::string> granted;
    for (const auto& [id, c] : p_.consents) granted.insert(c.grants.begin(), c.grants.end());
    std::set<std::string> standing;
    for (const auto& sd : p_.decisions.standing) standing.insert(sd.id);
    for (const auto& [id, pu] : p_.purposes) {
      const std::string owner = "purpose " + Quote(id);
      if (pu.basis == "consent" && !granted.count(id)) {
        Add(pu.pos, "E-CONSENT-PURPOSE-UNGRANTED",
            owner + " rests on consent but no [consents.*] grants it");
      }
      for (const auto& fid : pu.fields) RefField(pu.pos, owner, fid);
      for (const auto& rid : pu.recipients) {
        if (!p_.recipients.count(rid)) {
          Add(pu.pos, "E-REF-RECIPIENT", owner + " names undeclared recipient " + Quote(rid));
        }
      }
      for (const auto& k : pu.subject_kinds) {
        if (!p_.subject_kinds.count(k)) {
          Add(pu.pos, "E-REF-SUBJECT-KIND", owner + " names undeclared subject kind " + Quote(k));
        }
      }
      for (const auto& fo : pu.contact_sources) {
        if (!p_.forms.count(fo)) {
          Add(pu.pos, "E-REF-FORM", owner + " takes contacts from undeclared form " + Quote(fo));
        }
      }
      if (!pu.decision.empty() && pu.decision != "per_case" && !standing.count(pu.decision)) {
        Add(pu.pos, "E-REF-DECISION",
            owner + " names undeclared standing decision " + Quote(pu.decision));
      }
      // Retention counts from its anchor; "immediate" from the end of an agreement is a real rule
      // (destroy at the end), but from collection it would mean the data are never kept.
      if (pu.retention && pu.retention_from == "collection" &&
          (IsZeroLength(*pu.retention) || pu.retention->unit == TermUnit::kImmediate)) {
        Add(pu.pos, "E-TERM-ZERO",
            owner + " keeps data for " + FormatTerm(*pu.retention) +
                " from collection; they could never be kept");
      }
      if (pu.marketing && p_.marketing.model == "opt_in" && pu.basis != "consent") {
        Add(pu.pos, "W-MARKETING-BASIS",
            owner + " is marketing under an opt-in model but rests on " + pu.basis);
      }
      // A retention shorter than a legal minimum for one of its categories.
      if (pu.retention) {
        for (const auto& lm : p_.retention.legal_minimum) {
          bool touches = std::any_of(pu.fields.begin(), pu.fields.end(), [&](const std::string& f) {
            const Field* fd = p_.FindField(f);
            return fd && fd->category == lm.category;
          });
          if (touches && DaySpan(*pu.retention).second < DaySpan(lm.term).first) {
            Add(pu.pos, "E-RETENTION-BELOW-LEGAL-MIN",
                owner + " keeps " + lm.category + " data for " + FormatTerm(*pu.retention) +
                    ", less than the legal minimum of " + FormatTerm(lm.term) + " (" + lm.law + ")");
          }
        }
      }
    }
    for (const auto& lm : p_.retention.legal_minimum) {
      if (!p_.categories.count(lm.category)) {
        Add(lm.pos, "E-REF-CATEGORY",
            "`retention.legal_minimum` names undeclared category " + Quote(lm.category));
      }
    }
    if (!p_.retention.declared) {
      Add(SourcePos{1, 1}, "W-GAP-RETENTION",
          "the policy has no [retention]; data are kept until account closure plus inactivity");
    }
    for (const auto& fo : p_.marketing.contact_sources) {
      if (!p_.forms.count(fo)) {
        Add(p_.marketing.pos, "E-REF-FORM",
            "`marketing.contact_sources` names undeclared form " + Quote(fo));
      }
    }
  }

  void Recipients() {
    std::set<std::string> used;
    for (const auto& [id, pu] : p_.purposes) used.insert(pu.recipients.begin(), pu.recipients.end());
    for (const auto& [id, r] : p_.recipients) {
      const std::string owner = "recipient " + Quote(id);
      for (const auto& pid : r.purposes) {
        if (!p_.purposes.count(pid)) {
          Add(r.pos, "E-REF-PURPOSE", owner + " names undeclared purpose " + Quote(pid));
        }
      }
      for (const auto& c : r.countries) {
        if (!IsCountryCode(c)) {
          Add(r.pos, "E-COUNTRY", owner + " country \"" + c + "\" is not a country code");
        }
      }
      if ((r.kind == "processor" || r.kind == "sub_processor") && !r.confidentiality_clause) {
        Add(r.pos, "W-RECIPIENT-NO-CONFIDENTIALITY",
            owner + " is a processor with no confidentiality clause on file; disclosures to it "
                    "are refused until one is recorded");
      }
      if (!used.count(id) && r.purposes.empty()) {
        Add(r.pos, "W-UNUSED-RECIPIENT", owner + " is declared but no purpose sends data to it");
      }
    }
  }

  void Rights() {
    if (p_.rights.empty()) {
      Add(SourcePos{1, 1}, "W-GAP-RIGHTS",
          "the policy declares no [rights]; access, rectification and erasure run under "
          "`terms.default_request`");
    }
    for (auto& [id, r] : p_.rights) {
      if (!r.enabled) continue;
      auto& d = r.deadline;
      if (!d.term) {
        // The self-service view and the complaint to an authority have no term of ours.
        if (id == "self_service" || id == "complaint") continue;
        if (r.immediate) {
          d.term = Term{0, TermUnit::kImmediate, true};
          continue;
        }
        d.term = p_.terms.default_request;
        d.defaulted = true;
        Add(r.pos, "W-TERM-DEFAULTED",
            "right " + Quote(id) + " states no term; it gets `terms.default_request` (" +
                FormatTerm(p_.terms.default_request) + ")");
      } else if (IsZeroLength(*d.term)) {
        Add(r.pos, "E-TERM-ZERO",
            "right " + Quote(id) + " has a term of " + FormatTerm(*d.term) +
                ", which cannot be met; write \"immediate\" for at once");
      }
      if (r.lookback && IsZeroLength(*r.lookback)) {
        Add(r.pos, "E-TERM-ZERO", "right " + Quote(id) + " has a zero `lookback`");
      }
      if (id == "portability" && r.formats.empty()) {
        Add(r.pos, "W-PORTABILITY-FORMATS",
            "right `portability` names no formats; JSON with a published schema is used");
      }
    }
    for (const auto& rid : p_.eu_overlay.rights) {
      if (!p_.rights.count(rid)) {
        Add(p_.eu_overlay.pos, "E-REF-RIGHT",
            "`eu_overlay.rights` names " + Quote(rid) + ", which [rights] does not declare");
      }
    }
    if (p_.eu_overlay.enabled && !p_.complaint_authorities.count("EU")) {
      Add(p_.eu_overlay.pos, "W-EU-NO-AUTHORITY",
          "the EU overlay is on but `complaint_authorities.EU` is not set");
    }
  }

  void Obligations() {
    auto& w = p_.withdrawal;
    if (w.declared && w.deadline.term && IsZeroLength(*w.deadline.term)) {
      Add(w.pos, "E-TERM-ZERO",
          "`withdrawal.term` is " + FormatTerm(*w.deadline.term) + "; write \"immediate\" for at once");
    }
    auto& u = p_.unlawful_processing;
    if (!u.declared) {
      Add(SourcePos{1, 1}, "W-GAP-UNLAWFUL",
          "no [unlawful_processing] terms; default: stop within 3 and destroy within 10 working days");
    } else {
      if (u.stop && IsZeroLength(*u.stop)) {
        Add(u.pos, "E-TERM-ZERO", "`unlawful_processing.stop` cannot be met");
      }
      if (u.destroy && IsZeroLength(*u.destroy)) {
        Add(u.pos, "E-TERM-ZERO", "`unlawful_processing.destroy` cannot be met");
      }
      if (u.stop && u.destroy && DaySpan(*u.stop).first > DaySpan(*u.destroy).second) {
        Add(u.pos, "E-TERM-ORDER",
            "`unlawful_processing.stop` (" + FormatTerm(*u.stop) + ") ends after `destroy` (" +
                FormatTerm(*u.destroy) + ")");
      }
    }
    auto& a = p_.action_notice;
    if (a.declared && a.deadline.term && IsZeroLength(*a.deadline.term)) {
      Add(a.pos, "E-TERM-ZERO", "`action_notice.term` cannot be met");
    }
    if (p_.claims.pretrial && p_.claims.deadline.term && IsZeroLength(*p_.claims.deadline.term)) {
      Add(p_.claims.pos, "E-TERM-ZERO", "`claims.term` cannot be met");
    }
  }

  void Minors() {
    auto& m = p_.minors;
    if (m.never_collect_under > m.threshold) {
      Add(m.pos, "E-CONTRADICTION",
          "`minors.never_collect_under` (" + std::to_string(m.never_collect_under) +
              ") is above `minors.threshold` (" + std::to_string(m.threshold) + ")");
    }
    for (const auto& [country, age] : m.age_map) {
      if (!IsCountryCode(country)) {
        Add(m.pos, "E-COUNTRY", "`minors.age_map` key \"" + country + "\" is not a country code");
      }
    }
    if (m.rule == "birth_date") {
      const Field* f = m.birth_date_field.empty() ? nullptr : p_.FindField(m.birth_date_field);
      if (m.birth_date_field.empty()) {
        Add(m.pos, "E-KEY-MISSING", "`minors.rule` is birth_date but `minors.birth_date_field` is not set");
      } else if (!f) {
        RefField(m.pos, "`minors.birth_date_field`", m.birth_date_field);
      } else if (f->type != "date") {
        Add(m.pos, "E-TYPE", "`minors.birth_date_field` names " + Quote(f->id) + ", which is not a date");
      }
    }
    for (const auto& [k, fid] : m.representative_fields) {
      RefField(m.pos, "`minors.representative_fields." + k + "`", fid);
    }
    // R27 (003 L45, IC-003-4): birth dates are processed but nothing says how minors are treated.
    // Until the policy states a rule, minor status comes from the birth date and consent-based
    // marketing and profiling are refused to minors: the school must not assume everyone is an adult.
    if (m.rule == "none") {
      for (const auto& [id, f] : p_.fields) {
        if (f.type != "date" || id.find("birth") == std::string::npos) continue;
        Add(m.pos.line ? m.pos : SourcePos{1, 1}, "W-MINORS-NO-RULE",
            "birth dates are processed (" + Quote(id) +
                ") but `minors.rule` is none; minors are recognised from " + Quote(id) +
                " and get no consent-based marketing or profiling until the policy states a rule");
        m.rule = "birth_date";
        m.birth_date_field = id;
        m.marketing_allowed = false;
        // Nothing more is assumed: minors are taken in as before, with no representative asked.
        m.representative_consent = "not_stated";
        for (auto& [pid, pu] : p_.purposes) {
          if (pu.basis == "consent" && (pu.marketing || pu.profiling)) pu.minors_allowed = false;
        }
        break;
      }
    }
    if (m.rule == "none" && m.never_collect_under > 0) {
      Add(m.pos, "W-MINORS-NO-MECHANISM",
          "children under " + std::to_string(m.never_collect_under) +
              " are never to be collected, but `minors.rule` is none: nothing checks age");
    }
  }

  void Cookies() {
    auto& c = p_.cookies;
    if (c.used && c.inventory.empty()) {
      Add(c.pos, "W-GAP-COOKIE-INVENTORY",
          "cookies are used but `cookies.inventory` lists none; undeclared cookies fail release");
    }
    std::set<std::string> names;
    for (const auto& ck : c.inventory) {
      if (!names.insert(ck.name).second) {
        Add(ck.pos, "W-COOKIE-DUP", "cookie " + Quote(ck.name) + " is listed twice");
      }
      if (ck.lifetime && (IsZeroLength(*ck.lifetime) ||
                          ck.lifetime->unit == TermUnit::kImmediate)) {
        Add(ck.pos, "E-TERM-ZERO", "cookie " + Quote(ck.name) + " has no lifetime; use \"session\"");
      }
    }
    if (!c.consent_cookie.empty() && !c.inventory.empty() && !names.count(c.consent_cookie)) {
      Add(c.pos, "W-COOKIE-UNDECLARED",
          "the consent cookie " + Quote(c.consent_cookie) + " is not in `cookies.inventory`");
    }
    if (!c.inventory.empty() && !c.used) {
      Add(c.pos, "W-CONTRADICTION", "`cookies.inventory` lists cookies but `cookies.used` is false");
    }
  }

  void Decisions() {
    auto& d = p_.decisions;
    if (!d.required_for.empty() && d.standing.empty()) {
      Add(d.pos, "E-NO-STANDING-DECISIONS",
          "every operation needs a decision of an authorised representative, but "
          "`decisions.standing` is empty: no routine processing could run");
    }
    std::set<std::string> ids;
    for (const auto& sd : d.standing) {
      if (!ids.insert(sd.id).second) {
        Add(sd.pos, "E-DUPLICATE", "standing decision " + Quote(sd.id) + " is declared twice");
      }
      if (!p_.roles.count(sd.decided_by)) {
        Add(sd.pos, "E-REF-ROLE",
            "standing decision " + Quote(sd.id) + " is decided by undeclared role " +
                Quote(sd.decided_by));
      }
      for (const auto& pid : sd.purposes) {
        if (!p_.purposes.count(pid)) {
          Add(sd.pos, "E-REF-PURPOSE",
              "standing decision " + Quote(sd.id) + " names undeclared purpose " + Quote(pid));
        }
      }
    }
    // R31: a purpose used case by case needs someone who may take the case's decision.
    if (!d.decided_by.empty() && !p_.roles.count(d.decided_by)) {
      Add(d.pos, "E-REF-ROLE", "`decisions.decided_by` names undeclared role " + Quote(d.decided_by));
    }
    for (const auto& [id, pu] : p_.purposes) {
      if (pu.decision == "per_case" && d.decided_by.empty()) {
        Add(pu.pos, "E-KEY-MISSING",
            "purpose " + Quote(id) +
                " needs a decision per case, but `decisions.decided_by` names no role to take it");
        break;
      }
    }
    if (!d.required_for.empty() && !d.standing.empty()) {
      for (const auto& entry : p_.purposes) {
        const std::string& id = entry.first;
        const Purpose& pu = entry.second;
        bool covered = !pu.decision.empty() ||
                       std::any_of(d.standing.begin(), d.standing.end(), [&](const auto& sd) {
                         return std::find(sd.purposes.begin(), sd.purposes.end(), id) !=
                                sd.purposes.end();
                       });
        if (pu.enabled && !covered) {
          Add(pu.pos, "E-PURPOSE-NO-DECISION",
              "purpose " + Quote(id) + " runs under no standing decision");
        }
      }
    }
  }

  void Profiling() {
    auto& a = p_.automated_decisions;
    if (a.profiling && a.profiling_effect != "none") {
      Add(a.pos, "E-PROFILING-EFFECT",
          "profiling must have no legal or similarly significant effect (`profiling_effect` = none)");
    }
    for (const auto& pid : a.profiling_purposes) {
      if (!p_.purposes.count(pid)) {
        Add(a.pos, "E-REF-PURPOSE", "`automated_decisions.profiling_purposes` names " + Quote(pid));
      }
    }
    for (const auto& fid : a.profiling_attributes) {
      const Field* f = p_.FindField(fid);
      if (!f) {
        RefField(a.pos, "`automated_decisions.profiling_attributes`", fid);
        continue;
      }
      auto cit = p_.categories.find(f->category);
      if (cit != p_.categories.end() && cit->second.kind == "special") {
        Add(a.pos, "E-PROFILING-SPECIAL",
            "profiling uses " + Quote(fid) + ", a special-category field");
      }
    }
    for (const auto& [id, pu] : p_.purposes) {
      if (!pu.profiling) continue;
      for (const auto& fid : pu.fields) {
        const Field* f = p_.FindField(fid);
        if (!f) continue;
        auto cit = p_.categories.find(f->category);
        if (cit != p_.categories.end() && cit->second.kind == "special") {
          Add(pu.pos, "E-PROFILING-SPECIAL",
              "profiling purpose " + Quote(id) + " uses special-category field " + Quote(fid));
        }
      }
    }
  }

  // [anonymisation] (R74, R34): every field it names exists, identifies nobody by itself, is no
  // free text, and belongs to each purpose a data set is made for; those purposes use
  // depersonalised data, and the policy allows depersonalised use at all.
  void Anonymisation() {
    const auto& a = p_.anonymisation;
    if (!a.declared) return;
    const std::string owner = "`anonymisation`";
    if (!p_.reuse.depersonalised_allowed) {
      Add(a.pos, "E-ANONYMISATION-REUSE",
          "`anonymisation` makes depersonalised data sets, but `reuse.depersonalised_allowed` is "
          "false");
    }
    // Each field the data set takes, with the role it has there.
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& q : a.quasi_identifiers) {
      named.push_back({q.field, "quasi-identifier"});
      for (const auto& v : q.via) named.push_back({v, "stand-in of " + Quote(q.field)});
    }
    if (!a.sensitive.empty()) named.push_back({a.sensitive, "sensitive field"});
    for (const auto& f : a.attributes) named.push_back({f, "attribute"});
    std::set<std::string> seen;
    for (const auto& [fid, role] : named) {
      const Field* f = p_.FindField(fid);
      if (!f) {
        RefField(a.pos, owner, fid);
        continue;
      }
      if (!seen.insert(fid).second) {
        Add(a.pos, "E-DUPLICATE", owner + " names field " + Quote(fid) + " twice");
        continue;
      }
      if (p_.IsDirectIdentifier(*f)) {
        Add(a.pos, "E-ANONYMISATION-IDENTIFIER",
            owner + " keeps " + Quote(fid) + " as a " + role +
                ", but it identifies a person by itself (R74: names, contacts, addresses, IP "
                "addresses, cookie and device ids, photos and ID numbers never leave)");
      } else if (f->type == "text") {
        Add(a.pos, "E-ANONYMISATION-FREE-TEXT",
            owner + " keeps " + Quote(fid) + ", free text that may name anyone");
      }
      for (const auto& pid : a.purposes) {
        const Purpose* pu = p_.FindPurpose(pid);
        if (pu && std::find(pu->fields.begin(), pu->fields.end(), fid) == pu->fields.end()) {
          Add(a.pos, "E-ANONYMISATION-FIELD",
              owner + " uses " + Quote(fid) + ", which purpose " + Quote(pid) + " does not use");
        }
      }
    }
    for (const auto& q : a.quasi_identifiers) {
      const Field* f = p_.FindField(q.field);
      if (!f) continue;
      const bool dated = f->type == "date" || f->type == "datetime";
      if ((q.hierarchy == "age" && !dated && f->type != "integer") ||
          (q.hierarchy == "date" && !dated)) {
        Add(q.pos, "E-ANONYMISATION-HIERARCHY",
            "the " + q.hierarchy + " hierarchy of " + Quote(q.field) + " needs a " +
                (q.hierarchy == "age" ? "birth date or an age in years" : "date") + ", not a " +
                f->type + " field");
      }
    }
    for (const auto& pid : a.purposes) {
      const Purpose* pu = p_.FindPurpose(pid);
      if (!pu) {
        Add(a.pos, "E-REF-PURPOSE", owner + " names undeclared purpose " + Quote(pid));
      } else if (pu->data_form != "depersonalised") {
        Add(a.pos, "E-ANONYMISATION-PURPOSE",
            owner + " makes data sets for " + Quote(pid) +
                ", a purpose that uses identified data (`data_form` is not depersonalised)");
      }
    }
  }

  void Roles() {
    for (const auto& [id, r] : p_.roles) {
      for (const auto& c : r.categories) {
        if (!p_.categories.count(c)) {
          Add(r.pos, "E-REF-CATEGORY", "role " + Quote(id) + " names undeclared category " + Quote(c));
        }
      }
      for (const auto& pid : r.purposes) {
        if (!p_.purposes.count(pid)) {
          Add(r.pos, "E-REF-PURPOSE", "role " + Quote(id) + " names undeclared purpose " + Quote(pid));
        }
      }
      // R86: an outside organisation reaches only the subjects assigned to it, so it cannot hold
      // a role that reaches everyone (privileged) or decides the subjects' requests.
      if (r.scoped() && (r.privileged || r.decides)) {
        Add(r.pos, "E-ROLE-ORGANISATION-SCOPE",
            "role " + Quote(id) + " is held by " + (r.organisation == "affiliate" ? "an affiliate" : "a contractor") +
                ", which reaches only the subjects assigned to it: it can be neither privileged "
                "nor decide requests");
      }
    }
    if (p_.security.password_max_age) {
      Add(p_.security.pos, "I-ROTATION-VS-ASVS",
          "staff passwords expire after " + FormatTerm(*p_.security.password_max_age) +
              " (the policy's rule); OWASP ASVS 2.1.10 advises against periodic rotation, so it "
              "applies to staff accounts only");
    }
  }

  void CheckText(const LocalText& t, const std::string& what) {
    if (t.empty()) return;
    std::vector<std::string> missing;
    for (const char* lang : kLanguages) {
      if (!t.Has(lang)) missing.push_back(lang);
    }
    if (!missing.empty()) {
      std::string langs;
      for (const auto& m : missing) langs += (langs.empty() ? "" : ", ") + m;
      Add(t.pos, "W-I18N-MISSING", what + " has no text in " + langs);
    }
  }

  // Every text of the policy that the public notice shows, with where it is for a message.
  std::vector<std::pair<const LocalText*, std::string>> PublicTexts() const {
    std::vector<std::pair<const LocalText*, std::string>> out;
    auto add = [&](const LocalText& t, std::string what) { out.emplace_back(&t, std::move(what)); };
    add(p_.school.name, "`school.name`");
    add(p_.controller.name, "`controller.name`");
    for (const auto& x : p_.laws) add(x.title, "law " + Quote(x.id));
    for (const auto& [id, x] : p_.subject_kinds) {
      add(x.title, "subject kind " + Quote(id));
      add(x.description, "description of subject kind " + Quote(id));
    }
    for (const auto& [id, x] : p_.categories) add(x.title, "category " + Quote(id));
    for (const auto& [id, x] : p_.fields) add(x.title, "field " + Quote(id));
    for (const auto& [id, x] : p_.forms) {
      add(x.title, "form " + Quote(id));
      for (const auto& cb : x.consents) add(cb.text, "check-box " + Quote(id + "." + cb.id));
    }
    for (const auto& [id, x] : p_.consents) {
      add(x.title, "consent " + Quote(id));
      add(x.withdrawal_procedure, "withdrawal procedure of consent " + Quote(id));
    }
    for (const auto& [id, x] : p_.purposes) {
      add(x.title, "purpose " + Quote(id));
      add(x.description, "description of purpose " + Quote(id));
    }
    for (const auto& [id, x] : p_.recipients) add(x.title, "recipient " + Quote(id));
    for (const auto& x : p_.cookies.inventory) add(x.purpose, "cookie " + Quote(x.name));
    add(p_.withdrawal.consequence_notice, "`withdrawal.consequence_notice`");
    for (const auto& [region, x] : p_.complaint_authorities) {
      add(x.name, "complaint authority of " + Quote(region));
    }
    add(p_.notice.intro, "`notice.intro`");
    for (size_t i = 0; i < p_.notice.extra.size(); ++i) {
      add(p_.notice.extra[i], "`notice.extra` item " + std::to_string(i + 1));
    }
    for (const auto& r : p_.resolutions) add(r.notice, "the notice text of resolution " + r.code);
    return out;
  }

  // Issue 12: the public notice is for people. A resolution states the school's decision in every
  // language the school publishes (an error: the notice would otherwise fall back to another
  // language or to nothing), and no public text carries a snake_case token, which reads as a
  // config key or a code (a warning naming the text and the token).
  void PublicWording() {
    for (const auto& r : p_.resolutions) {
      std::string missing;
      for (const auto& lang : p_.school.languages) {
        if (!r.notice.Has(lang)) missing += (missing.empty() ? "" : ", ") + lang;
      }
      if (!missing.empty()) {
        Add(r.pos, "E-RESOLUTION-NOTICE",
            "resolution of " + r.code + " has no `notice` text in " + missing +
                ": the public notice states the school's decision in every language of "
                "`school.languages`");
      }
    }
    for (const auto& [text, what] : PublicTexts()) {
      for (const auto& [lang, value] : text->by_lang) {
        const std::string token = SnakeCaseToken(value);
        if (token.empty()) continue;
        Add(text->pos, "W-PUBLIC-SNAKE-CASE",
            what + " (" + lang + ") contains " + Quote(token) +
                ", which reads as a config key or a code; public text says it in words");
      }
    }
  }

  void Languages() {
    CheckText(p_.school.name, "`school.name`");
    for (const auto& [id, x] : p_.subject_kinds) CheckText(x.title, "subject kind " + Quote(id));
    for (const auto& [id, x] : p_.categories) CheckText(x.title, "category " + Quote(id));
    for (const auto& [id, x] : p_.fields) CheckText(x.title, "field " + Quote(id));
    for (const auto& [id, x] : p_.forms) {
      CheckText(x.title, "form " + Quote(id));
      for (const auto& cb : x.consents) CheckText(cb.text, "check-box " + Quote(id + "." + cb.id));
    }
    for (const auto& [id, x] : p_.consents) {
      CheckText(x.title, "consent " + Quote(id));
      CheckText(x.withdrawal_procedure, "withdrawal procedure of consent " + Quote(id));
    }
    for (const auto& [id, x] : p_.purposes) {
      CheckText(x.title, "purpose " + Quote(id));
      CheckText(x.description, "description of purpose " + Quote(id));
    }
    for (const auto& [id, x] : p_.recipients) CheckText(x.title, "recipient " + Quote(id));
    for (const auto& [id, x] : p_.roles) CheckText(x.title, "role " + Quote(id));
    for (const auto& x : p_.cookies.inventory) CheckText(x.purpose, "cookie " + Quote(x.name));
    CheckText(p_.withdrawal.consequence_notice, "`withdrawal.consequence_notice`");
    CheckText(p_.notice.intro, "`notice.intro`");
  }

  void Versioning() {
    auto& v = p_.version;
    if (v.published && v.effective && *v.effective < *v.published) {
      Add(v.pos, "E-VERSION-DATES",
          "`version.effective` (" + calendar::FormatDate(*v.effective) + ") is before `published` (" +
              calendar::FormatDate(*v.published) + ")");
    }
    auto& c = p_.policy_change;
    if (c.effective_rule == "after_notice" && !c.advance_notice) {
      Add(c.pos, "E-KEY-MISSING",
          "`policy_change.effective_rule` is after_notice but `advance_notice` is not set");
    }
  }

  void ConflictsAndResolutions() {
    std::set<std::string> declared;
    for (const auto& c : p_.conflicts) {
      if (!IsCode(c.code)) {
        Add(c.pos, "E-CODE", "conflict code \"" + c.code + "\" must look like W-001-RETENTION");
        continue;
      }
      if (!declared.insert(c.code).second) {
        Add(c.pos, "E-DUPLICATE", "conflict " + c.code + " is declared twice");
        continue;
      }
      Add(c.pos, c.code, c.summary + " [" + c.clauses + "]; default: " + c.default_reading);
    }
    std::set<std::string> seen;
    for (const auto& r : p_.resolutions) {
      if (!IsCode(r.code)) {
        Add(r.pos, "E-CODE", "resolution code \"" + r.code + "\" is not a finding code");
        continue;
      }
      if (!seen.insert(r.code).second) {
        Add(r.pos, "E-DUPLICATE", "resolution of " + r.code + " is given twice");
      }
      for (const auto& rid : r.rights) {
        if (r.code != "W-TERM-DEFAULTED") {
          Add(r.pos, "E-REF-RIGHT",
              "only the resolution of W-TERM-DEFAULTED lists `rights` (R67); " + r.code +
                  " names " + Quote(rid));
          break;
        }
        if (!p_.rights.count(rid)) {
          Add(r.pos, "E-REF-RIGHT",
              "the W-TERM-DEFAULTED resolution lists " + Quote(rid) +
                  ", which [rights] does not declare");
        }
      }
      if (r.code[0] == 'E' && r.approved_by.empty()) {
        Add(r.pos, "E-RESOLUTION-APPROVER",
            "resolution of " + r.code + " needs `approved_by` (an error blocks activation)");
      }
    }
    // Apply: declared conflicts and W- findings with a resolution become I-RESOLVED.
    std::set<std::string> answered;
    for (auto& f : f_.mutable_all()) {
      bool resolvable = declared.count(f.code) || f.severity == Severity::kWarning;
      if (!resolvable) continue;
      const Resolution* r = p_.FindResolution(f.code);
      if (!r) continue;
      answered.insert(f.code);
      f.message = f.code + " resolved: " + r->choice + " (" + r->reason + ")";
      f.code = "I-RESOLVED";
      f.severity = Severity::kInfo;
    }
    for (const auto& r : p_.resolutions) {
      if (r.code == "W-TERM-DEFAULTED" && !r.rights.empty() && !answered.count(r.code)) {
        // R67: the rights whose written-out term is the default are listed in validation.
        std::string list;
        for (const auto& rid : r.rights) list += (list.empty() ? "" : ", ") + Quote(rid);
        Add(r.pos, "I-RESOLVED",
            "W-TERM-DEFAULTED resolved: " + list + " run on `terms.default_request` (" +
                FormatTerm(p_.terms.default_request) + "), written out in each right");
        answered.insert(r.code);
      }
      if (!answered.count(r.code) && IsCode(r.code)) {
        Add(r.pos, "I-RESOLUTION-UNUSED",
            "resolution of " + r.code +
                " answers no current finding and no declared conflict (kept as a record)");
      }
    }
  }

  Policy& p_;
  Findings& f_;
};

void SortFindings(Findings& f) {
  std::stable_sort(f.mutable_all().begin(), f.mutable_all().end(),
                   [](const Finding& a, const Finding& b) {
                     if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
                     return a.pos.column < b.pos.column;
                   });
}

CheckResult Finish(LoadResult loaded) {
  CheckResult out;
  out.findings = std::move(loaded.findings);
  if (loaded.policy) {
    CheckPolicy(*loaded.policy, out.findings);
    out.policy = std::move(loaded.policy);
  }
  SortFindings(out.findings);
  return out;
}

}  // namespace

void CheckPolicy(Policy& policy, Findings& findings) { Checker(policy, findings).Run(); }

CheckResult CheckPolicyText(std::string_view text, const std::string& source_name) {
  return Finish(LoadPolicy(text, source_name));
}

CheckResult CheckPolicyFile(const std::string& path) { return Finish(LoadPolicyFile(path)); }

Result<Policy> LoadCheckedPolicy(const std::string& path) {
  CheckResult r = CheckPolicyFile(path);
  if (!r.ok()) {
    for (const auto& f : r.findings.all()) {
      if (f.severity == Severity::kError) {
        return Error::Invalid("policy " + path + " is not usable: " + FormatFinding(path, f));
      }
    }
    return Error::Invalid("policy " + path + " could not be read");
  }
  return std::move(*r.policy);
}

}  // namespace dovira::policy
