#include "notice/render.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "i18n/i18n.h"
#include "notice/document.h"
#include "notice/phrases.h"
#include "notice/term_text.h"

namespace dovira::notice {
namespace {

using internal::Block;
using internal::Document;
using internal::Lang;
using internal::Line;
using internal::Phrase;
using internal::Phrases;
using internal::Span;
using internal::Vocab;

// Fills a phrase's named placeholders ("{school}"). Values are inserted as they are and never
// rescanned, so braces inside text from the policy stay literal.
std::string Fill(std::string_view pattern, std::string_view name, std::string value) {
  return i18n::Fill(pattern, {{name, std::move(value)}});
}

// Like Fill, but the value becomes its own span (so it can be a link).
Line FillLine(std::string_view pattern, std::string_view name, Span arg) {
  const std::string placeholder = "{" + std::string(name) + "}";
  const size_t at = pattern.find(placeholder);
  if (at == std::string_view::npos) return {Span{std::string(pattern)}};
  return {Span{std::string(pattern.substr(0, at))}, std::move(arg),
          Span{std::string(pattern.substr(at + placeholder.size()))}};
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep = ", ") {
  std::string out;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += sep;
    out += part;
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, const std::string& x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

void AddUnique(std::vector<std::string>& list, const std::string& x) {
  if (!Contains(list, x)) list.push_back(x);
}

// The last resort for a code no vocabulary knows: "some_code" -> "some code". A value that is
// not an id (an address, a phrase) is shown as written.
std::string Humanize(std::string_view code) {
  std::string out(code);
  const bool is_id = std::all_of(out.begin(), out.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (is_id) std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// Adds a full stop unless the text already ends a sentence.
std::string EndSentence(std::string text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.pop_back();
  if (text.empty()) return text;
  const char last = text.back();
  if (last != '.' && last != '!' && last != '?' && !text.ends_with("…")) text += '.';
  return text;
}

// A contact as a link when it is an e-mail address or a web address; the writers drop any link
// that is not http, https or mailto.
Span ContactSpan(const std::string& value) {
  Span span{value};
  if (value.starts_with("http://") || value.starts_with("https://") ||
      value.starts_with("mailto:")) {
    span.href = value;
  } else if (value.find('@') != std::string::npos &&
             value.find_first_of(" :/") == std::string::npos) {
    span.href = "mailto:" + value;
  }
  return span;
}

// Splits school-written text into paragraphs at blank lines.
std::vector<std::string> Paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      if (!current.empty()) current += ' ';
      current += line;
    }
    start = end + 1;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

class Builder {
 public:
  Builder(const policy::Policy& policy, Lang lang, Audience audience)
      : p_(policy),
        lang_(lang),
        code_(internal::LangCode(lang)),
        ph_(internal::PhrasesFor(lang)),
        dpo_(audience == Audience::kDpo) {}

  Document Build() {
    doc_.lang = code_;
    Header();
    WhoWeAre();
    WhoseData();
    WhatData();
    WhyWeProcess();
    Consent();
    Recipients();
    HowLong();
    Rights();
    Children();
    Cookies();
    MarketingAndDecisions();
    Security();
    Changes();
    Resolutions();
    Block& contents = doc_.blocks[contents_index_];
    for (const auto& [id, title] : sections_) {
      contents.items.push_back({Span{title}});
      contents.ids.push_back(id);
    }
    return std::move(doc_);
  }

 private:
  // ---- Words -----------------------------------------------------------------------------

  std::string Text(const policy::LocalText& text) const {
    const std::string& fallback = p_.school.authoritative_language;
    return fallback.empty() ? text.Get(code_) : text.Get(code_, fallback);
  }

  std::string Word(Vocab vocab, const std::string& code) const {
    const auto words = internal::Lookup(vocab, code, lang_);
    return words ? std::string(*words) : Humanize(code);
  }

  std::string Words(Vocab vocab, const std::vector<std::string>& codes,
                    std::string_view sep = ", ") const {
    std::vector<std::string> out;
    for (const std::string& code : codes) out.push_back(Word(vocab, code));
    return Join(out, sep);
  }

  std::string Country(const std::string& code) const {
    const auto name = internal::Lookup(Vocab::kCountry, code, lang_);
    return name ? std::string(*name) : code;
  }

  std::string Countries(const std::vector<std::string>& codes) const {
    std::vector<std::string> out;
    for (const std::string& code : codes) out.push_back(Country(code));
    return Join(out);
  }

  std::string Term(const calendar::Term& term) const { return TermText(term, code_); }

  // "every {}" phrases read better without a leading "1": "раз на рік", "every year".
  std::string Period(const calendar::Term& term) const {
    std::string text = Term(term);
    if (term.count == 1 && text.starts_with("1 ")) text.erase(0, 2);
    return text;
  }

  std::string DeadlineOf(const policy::Deadline& deadline) const {
    const calendar::Term term = deadline.term.value_or(p_.terms.default_request);
    return DeadlineText(term, deadline.trigger, code_);
  }

  std::string Age(int years) const {
    if (lang_ == Lang::kEn) return std::to_string(years);
    return Term(calendar::Term{years, calendar::TermUnit::kCalendarYears, true});
  }

  std::string FieldTitle(const std::string& id) const {
    const policy::Field* field = p_.FindField(id);
    if (field == nullptr) return id;
    std::string title = Text(field->title);
    return title.empty() ? id : title;
  }

  std::string FieldTitles(const std::vector<std::string>& ids) const {
    std::vector<std::string> out;
    for (const std::string& id : ids) out.push_back(FieldTitle(id));
    return Join(out);
  }

  std::string PurposeTitle(const policy::Purpose& purpose) const {
    std::string title = Text(purpose.title);
    return title.empty() ? purpose.id : title;
  }

  bool PurposeEnabled(const std::string& id) const {
    const policy::Purpose* purpose = p_.FindPurpose(id);
    return purpose != nullptr && purpose->enabled;
  }

  // Titles of the enabled purposes among `ids`; disabled and unknown ids are left out.
  std::string PurposeTitles(const std::vector<std::string>& ids) const {
    std::vector<std::string> out;
    for (const std::string& id : ids) {
      if (PurposeEnabled(id)) AddUnique(out, PurposeTitle(*p_.FindPurpose(id)));
    }
    return Join(out);
  }

  std::vector<const policy::Purpose*> EnabledPurposes() const {
    std::vector<const policy::Purpose*> out;
    for (const auto& [id, purpose] : p_.purposes) {
      if (purpose.enabled) out.push_back(&purpose);
    }
    return out;
  }

  std::string RecipientTitle(const std::string& id) const {
    auto it = p_.recipients.find(id);
    if (it == p_.recipients.end()) return id;
    std::string title = Text(it->second.title);
    return title.empty() ? id : title;
  }

  // A purpose's recipients: those it names, then those that name it.
  std::vector<std::string> PurposeRecipients(const policy::Purpose& purpose) const {
    std::vector<std::string> ids = purpose.recipients;
    for (const auto& [id, recipient] : p_.recipients) {
      if (Contains(recipient.purposes, purpose.id)) AddUnique(ids, id);
    }
    return ids;
  }

  // A recipient's purposes: those it names, then those that name it.
  std::vector<std::string> RecipientPurposes(const policy::Recipient& recipient) const {
    std::vector<std::string> ids = recipient.purposes;
    for (const auto& [id, purpose] : p_.purposes) {
      if (Contains(purpose.recipients, recipient.id)) AddUnique(ids, id);
    }
    return ids;
  }

  std::string RetentionText(const policy::Purpose& purpose) const {
    if (!purpose.retention) return ph_.while_needed.text;
    std::string text = Term(*purpose.retention);
    if (purpose.retention->unit == calendar::TermUnit::kIndefinite) return text;
    if (auto anchor = internal::Lookup(Vocab::kRetentionAnchor, purpose.retention_from, lang_)) {
      text += " ";
      text += *anchor;
    }
    return text;
  }

  // ---- Blocks ----------------------------------------------------------------------------

  static Line Plain(std::string text) { return {Span{std::move(text)}}; }

  static Line Labeled(const Phrase& label, std::string value) {
    return {Span{label.text, true}, Span{": " + std::move(value)}};
  }

  static Line LabeledContact(const Phrase& label, const std::string& value) {
    return {Span{label.text, true}, Span{": "}, ContactSpan(value)};
  }

  void Heading(int level, std::string id, std::string text) {
    Block b;
    b.kind = Block::Kind::kHeading;
    b.level = level;
    b.id = std::move(id);
    b.text = Plain(std::move(text));
    doc_.blocks.push_back(std::move(b));
  }

  void Section(std::string id, const Phrase& title) {
    ++section_;
    std::string text = std::to_string(section_) + ". " + title.text;
    sections_.emplace_back(id, text);
    Heading(2, std::move(id), std::move(text));
  }

  void Sub(std::string text, std::string id = {}) { Heading(3, std::move(id), std::move(text)); }

  void Para(Line line) {
    Block b;
    b.kind = Block::Kind::kParagraph;
    b.text = std::move(line);
    doc_.blocks.push_back(std::move(b));
  }

  void Para(std::string text) {
    if (!text.empty()) Para(Plain(std::move(text)));
  }

  void Para(const Phrase& phrase) { Para(std::string(phrase.text)); }

  // School-written text, which may hold several paragraphs.
  void TextParas(const std::string& text) {
    for (std::string& para : Paragraphs(text)) Para(std::move(para));
  }

  void List(std::vector<Line> items) {
    if (items.empty()) return;
    Block b;
    b.kind = Block::Kind::kList;
    b.items = std::move(items);
    doc_.blocks.push_back(std::move(b));
  }

  void Table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
    if (rows.empty()) return;
    Block b;
    b.kind = Block::Kind::kTable;
    b.header = std::move(header);
    b.rows = std::move(rows);
    doc_.blocks.push_back(std::move(b));
  }

  std::string OrDash(const std::string& text) const { return text.empty() ? ph_.dash.text : text; }

  // ---- Sections --------------------------------------------------------------------------

  std::string SchoolName() const {
    std::string name = Text(p_.school.name);
    if (name.empty()) name = Text(p_.controller.name);
    return name.empty() ? p_.school.id : name;
  }

  void Header() {
    doc_.title = Fill(ph_.title.text, "school", SchoolName());
    Heading(1, {}, doc_.title);

    std::vector<std::string> meta;
    if (!p_.version.id.empty()) meta.push_back(Fill(ph_.version.text, "version", p_.version.id));
    if (p_.version.published) {
      meta.push_back(Fill(ph_.published.text, "date", DateText(*p_.version.published, code_)));
    }
    const auto effective = p_.version.effective ? p_.version.effective : p_.version.published;
    if (effective) meta.push_back(Fill(ph_.effective.text, "date", DateText(*effective, code_)));
    if (!meta.empty()) {
      Block b;
      b.kind = Block::Kind::kParagraph;
      b.meta = true;
      b.text = Plain(Join(meta, " · "));
      doc_.blocks.push_back(std::move(b));
    }
    if (p_.version.requires_explicit_consent) Para(ph_.explicit_consent_version);
    if (dpo_) Para(ph_.dpo_edition);

    const std::string intro = Text(p_.notice.intro);
    if (intro.empty()) {
      Para(ph_.default_intro);
    } else {
      TextParas(intro);
    }
    for (const policy::LocalText& extra : p_.notice.extra) TextParas(Text(extra));
    if (!p_.school.scope.empty()) Para(Labeled(ph_.scope, Words(Vocab::kScope, p_.school.scope)));

    const std::string& authoritative = p_.school.authoritative_language;
    if (p_.school.languages.size() != 1 && !authoritative.empty()) {
      if (auto in = internal::Lookup(Vocab::kLanguageIn, authoritative, lang_)) {
        Para(Fill(ph_.authoritative.text, "language", std::string(*in)));
      }
    }

    Block contents;
    contents.kind = Block::Kind::kContents;
    contents.text = Plain(ph_.contents.text);
    contents_index_ = doc_.blocks.size();
    doc_.blocks.push_back(std::move(contents));
  }

  Line PersonLine(const Phrase& label, const policy::Person& person) const {
    Line line{Span{label.text, true}, Span{": "}};
    bool first = true;
    auto add = [&](Span span) {
      if (span.text.empty()) return;
      if (!first) line.push_back(Span{", "});
      line.push_back(std::move(span));
      first = false;
    };
    add(Span{person.name});
    add(ContactSpan(person.email));
    add(Span{person.phone});
    return line;
  }

  void WhoWeAre() {
    Section("who-we-are", ph_.h_who);
    const policy::Controller& c = p_.controller;
    std::string name = Text(c.name);
    if (name.empty()) name = SchoolName();
    if (c.role == "processor") {
      Para(Fill(ph_.processor_is.text, "name", name));
      Para(ph_.processor_rights);
    } else {
      Para(Fill(ph_.controller_is.text, "name", name));
    }

    std::vector<Line> details;
    details.push_back(Labeled(ph_.lbl_legal_name, name));
    if (!c.kind.empty())
      details.push_back(Labeled(ph_.lbl_kind, Word(Vocab::kControllerKind, c.kind)));
    if (!c.reg_id.empty()) details.push_back(Labeled(ph_.lbl_reg_id, c.reg_id));
    if (!c.address.empty()) details.push_back(Labeled(ph_.lbl_address, c.address));
    if (!c.email.empty()) details.push_back(LabeledContact(ph_.lbl_email, c.email));
    if (!c.phone.empty()) details.push_back(Labeled(ph_.lbl_phone, c.phone));
    const std::string& website = c.website.empty() ? p_.school.website : c.website;
    if (!website.empty()) details.push_back(LabeledContact(ph_.lbl_website, website));
    if (!p_.school.jurisdiction.empty()) {
      details.push_back(Labeled(ph_.lbl_jurisdiction, Country(p_.school.jurisdiction)));
    }
    List(std::move(details));

    Sub(ph_.h_contacts.text, "contacts");
    const policy::Contacts& k = p_.contacts;
    std::vector<Line> contacts;
    const std::pair<const Phrase*, const std::string*> rows[] = {
        {&ph_.lbl_rights_requests, &k.rights_requests},
        {&ph_.lbl_support, &k.support},
        {&ph_.lbl_policy_comments, &k.policy_comments},
        {&ph_.lbl_child_data_reports, &k.child_data_reports},
        {&ph_.lbl_security_reports, &k.security_reports},
    };
    for (const auto& [label, value] : rows) {
      if (!value->empty()) contacts.push_back(LabeledContact(*label, *value));
    }
    List(std::move(contacts));

    const policy::Officers& o = p_.officers;
    std::vector<Line> people;
    if (!o.responsible_person.empty()) {
      people.push_back(PersonLine(ph_.lbl_responsible_person, o.responsible_person));
    }
    if (!o.security_officer.empty()) {
      people.push_back(PersonLine(ph_.lbl_security_officer, o.security_officer));
    }
    if (!o.authorised_representative.empty()) {
      people.push_back(PersonLine(ph_.lbl_authorised_representative, o.authorised_representative));
    }
    if (!people.empty()) {
      Sub(ph_.h_people.text, "responsible-people");
      List(std::move(people));
    }

    if (!p_.laws.empty()) {
      Sub(ph_.h_laws.text, "laws");
      Para(ph_.laws_intro);
      std::vector<Line> laws;
      for (const policy::Law& law : p_.laws) {
        std::string text = Text(law.title);
        if (text.empty()) text = law.id;
        if (!law.citation.empty()) text += " (" + law.citation + ")";
        laws.push_back(Plain(std::move(text)));
      }
      List(std::move(laws));
    }
  }

  void WhoseData() {
    Section("whose-data", ph_.h_whose);
    if (!p_.subject_kinds.empty()) {
      Para(ph_.subjects_intro);
      std::vector<Line> kinds;
      for (const auto& [id, kind] : p_.subject_kinds) {
        std::string title = Text(kind.title);
        Line line{Span{title.empty() ? id : title, true}};
        const std::string description = Text(kind.description);
        if (!description.empty()) line.push_back(Span{" — " + description});
        kinds.push_back(std::move(line));
      }
      List(std::move(kinds));
    }

    Sub(ph_.h_sources.text, "sources");
    const policy::Collection& c = p_.collection;
    std::vector<Line> sources;
    for (const std::string& source : c.sources)
      sources.push_back(Plain(Word(Vocab::kSource, source)));
    List(std::move(sources));
    if (c.automatic_requires_notice) Para(ph_.automatic_notice);
    if (c.imports) {
      Para(ph_.imports);
      if (c.import_attestation_required) Para(ph_.import_attestation);
    }
  }

  void WhatData() {
    Section("what-data", ph_.h_what);
    Para(ph_.data_intro);

    std::map<std::string, std::vector<std::string>> fields_by_category;
    for (const auto& [id, field] : p_.fields) {
      fields_by_category[field.category].push_back(FieldTitle(id));
    }
    auto category_line = [&](const std::string& title, const policy::Category* category,
                             const std::vector<std::string>& fields) {
      Line line{Span{title, true}};
      std::vector<std::string> notes;
      if (category != nullptr && category->kind == "special") {
        notes.push_back(Fill(ph_.special_mark.text, "category",
                             Word(Vocab::kSpecialType, category->special_type)));
      }
      if (category != nullptr && category->stored_apart) notes.emplace_back(ph_.stored_apart.text);
      if (!notes.empty()) line.push_back(Span{" (" + Join(notes, "; ") + ")"});
      if (!fields.empty()) line.push_back(Span{": " + Join(fields)});
      return line;
    };
    std::vector<Line> categories;
    std::vector<std::string> technical;
    for (const auto& [id, category] : p_.categories) {
      std::string title = Text(category.title);
      if (title.empty()) title = id;
      auto it = fields_by_category.find(id);
      categories.push_back(
          category_line(title, &category,
                        it == fields_by_category.end() ? std::vector<std::string>{} : it->second));
      if (category.kind == "technical") technical.push_back(title);
    }
    // Fields whose category is not declared still belong in the inventory.
    for (const auto& [id, fields] : fields_by_category) {
      if (p_.categories.count(id) == 0) categories.push_back(category_line(id, nullptr, fields));
    }
    List(std::move(categories));

    if (!technical.empty()) {
      Para(Line{Span{Join(technical), true},
                Span{std::string(" — ") + ph_.technical_explained.text}});
    }

    const auto& excluded = p_.special_categories.excluded;
    if (!excluded.empty()) {
      Para(ph_.excluded_intro);
      std::vector<Line> items;
      for (const std::string& type : excluded)
        items.push_back(Plain(Word(Vocab::kSpecialType, type)));
      List(std::move(items));
    }
  }

  void WhyWeProcess() {
    Section("purposes", ph_.h_why);
    const auto purposes = EnabledPurposes();
    Para(purposes.empty() ? ph_.no_purposes : ph_.purposes_intro);

    for (const policy::Purpose* purpose : purposes) {
      Sub(PurposeTitle(*purpose), "purpose-" + purpose->id);
      TextParas(Text(purpose->description));

      std::vector<Line> items;
      items.push_back(Labeled(ph_.lbl_basis, Word(Vocab::kBasis, purpose->basis)));
      if (purpose->basis == "consent") {
        std::vector<std::string> consents;
        for (const auto& [id, consent] : p_.consents) {
          if (Contains(consent.grants, purpose->id)) consents.push_back(Text(consent.title));
        }
        if (!consents.empty()) items.push_back(Labeled(ph_.lbl_consent_type, Join(consents)));
      }
      if (!purpose->fields.empty()) {
        items.push_back(Labeled(ph_.lbl_data, FieldTitles(purpose->fields)));
      }
      if (!purpose->subject_kinds.empty()) {
        std::vector<std::string> kinds;
        for (const std::string& id : purpose->subject_kinds) {
          auto it = p_.subject_kinds.find(id);
          kinds.push_back(it == p_.subject_kinds.end() ? id : Text(it->second.title));
        }
        items.push_back(Labeled(ph_.lbl_subjects, Join(kinds)));
      }
      items.push_back(Labeled(ph_.lbl_retention, RetentionText(*purpose)));
      std::vector<std::string> recipients;
      for (const std::string& id : PurposeRecipients(*purpose)) {
        recipients.push_back(RecipientTitle(id));
      }
      if (!recipients.empty()) items.push_back(Labeled(ph_.lbl_recipients, Join(recipients)));
      if (!purpose->channels.empty()) {
        items.push_back(Labeled(ph_.lbl_channels, Words(Vocab::kChannel, purpose->channels)));
      }
      List(std::move(items));

      if (purpose->marketing) Para(ph_.marketing_flag);
      if (purpose->profiling) Para(ph_.profiling_flag);
      if (purpose->data_form == "depersonalised") Para(ph_.depersonalised_flag);
      if (!purpose->minors_allowed) Para(ph_.not_for_minors);
    }

    Sub(ph_.h_reuse.text, "reuse");
    const policy::Reuse& reuse = p_.reuse;
    if (reuse.depersonalised_allowed) {
      Para(ph_.reuse_allowed);
      if (reuse.needs_consent) Para(ph_.reuse_needs_consent);
    } else {
      Para(ph_.reuse_forbidden);
    }
    if (reuse.combine_with_third_party == "depersonalised_only") {
      Para(ph_.combine_depersonalised);
    } else {
      Para(ph_.combine_never);
    }
    // R74: how depersonalised the data sets for statistics and research are.
    const policy::Anonymisation& anon = p_.anonymisation;
    if (anon.declared) {
      Para(i18n::Fill(ph_.anonymisation_k.text, {{"purposes", PurposeTitles(anon.purposes)},
                                                 {"k", std::to_string(anon.k)}}));
      if (anon.l > 0) {
        Para(i18n::Fill(ph_.anonymisation_l.text, {{"l", std::to_string(anon.l)},
                                                   {"field", FieldTitle(anon.sensitive)}}));
      }
    }
  }

  void Consent() {
    Section("consent", ph_.h_consent);
    if (p_.consents.empty()) {
      Para(ph_.no_consents);
      return;
    }
    Para(ph_.consent_intro);
    for (const auto& [id, consent] : p_.consents) {
      std::string title = Text(consent.title);
      Sub(title.empty() ? id : title, "consent-" + id);

      std::vector<Line> items;
      // The purposes it opens first, then the permissions it gives.
      std::vector<std::string> grants;
      std::vector<std::string> permissions;
      for (const std::string& grant : consent.grants) {
        if (const policy::Purpose* purpose = p_.FindPurpose(grant)) {
          if (purpose->enabled) grants.push_back(PurposeTitle(*purpose));
        } else {
          permissions.push_back(Word(Vocab::kPermission, grant));
        }
      }
      grants.insert(grants.end(), permissions.begin(), permissions.end());
      if (!grants.empty()) items.push_back(Labeled(ph_.lbl_grants, Join(grants, "; ")));
      items.push_back(
          Labeled(ph_.lbl_consent_term, consent.term.unit == calendar::TermUnit::kIndefinite
                                            ? std::string(ph_.until_withdrawn.text)
                                            : Term(consent.term)));
      const std::string procedure = Text(consent.withdrawal_procedure);
      if (!procedure.empty()) items.push_back(Labeled(ph_.lbl_withdraw, procedure));
      if (!consent.withdrawal_channels.empty()) {
        items.push_back(Labeled(ph_.lbl_withdraw_channels,
                                Words(Vocab::kChannel, consent.withdrawal_channels)));
      }
      if (!consent.channels.empty()) {
        items.push_back(Labeled(ph_.lbl_given_via, Words(Vocab::kChannel, consent.channels)));
      }
      List(std::move(items));
      if (consent.evidence_required) Para(ph_.consent_evidence);

      std::vector<Line> boxes;
      for (const auto& [form_id, form] : p_.forms) {
        for (const policy::ConsentCheckbox& box : form.consents) {
          if (box.consent != id) continue;
          std::string form_title = Text(form.title);
          std::string notes =
              std::string(box.required ? ph_.checkbox_required.text : ph_.checkbox_optional.text) +
              "; " +
              (box.default_unticked ? ph_.checkbox_unticked.text : ph_.checkbox_preticked.text);
          boxes.push_back(
              {Span{form_title.empty() ? form_id : form_title, true},
               Span{": " + Fill(ph_.quoted.text, "text", Text(box.text)) + " (" + notes + ")"}});
        }
      }
      if (!boxes.empty()) {
        Para(Line{Span{std::string(ph_.checkboxes_intro.text) + ":", true}});
        List(std::move(boxes));
      }
    }
  }

  void Recipients() {
    Section("recipients", ph_.h_recipients);
    if (p_.recipients.empty()) {
      Para(ph_.no_recipients);
    } else {
      Para(ph_.recipients_intro);
      std::vector<std::vector<std::string>> rows;
      bool confidentiality = false;
      bool formal_request = false;
      for (const auto& [id, r] : p_.recipients) {
        rows.push_back({RecipientTitle(id), Word(Vocab::kRecipientKind, r.kind),
                        OrDash(PurposeTitles(RecipientPurposes(r))), OrDash(Countries(r.countries)),
                        OrDash(Word(Vocab::kSafeguard, r.safeguard)),
                        Word(Vocab::kDataForm, r.data_form)});
        confidentiality = confidentiality || r.confidentiality_clause;
        formal_request = formal_request || r.formal_request_required;
      }
      Table({ph_.col_recipient.text, ph_.col_role.text, ph_.col_purposes.text,
             ph_.col_countries.text, ph_.col_safeguard.text, ph_.col_data_form.text},
            std::move(rows));
      if (confidentiality) Para(ph_.confidentiality);
      if (formal_request) Para(ph_.formal_request);
    }

    Sub(ph_.h_transfers.text, "transfers");
    const policy::Transfers& t = p_.transfers;
    if (t.cross_border == "allowed") {
      Para(ph_.xborder_allowed);
      std::vector<Line> items;
      if (!t.bases.empty()) {
        items.push_back(Labeled(ph_.lbl_xborder_bases, Words(Vocab::kTransferBasis, t.bases)));
      }
      if (!t.safeguards.empty()) {
        items.push_back(
            Labeled(ph_.lbl_xborder_safeguards, Words(Vocab::kTransferSafeguard, t.safeguards)));
      }
      List(std::move(items));
      Para(t.scope == "all_declared_purposes" ? ph_.xborder_scope_all : ph_.xborder_scope_contract);
      if (t.eu_origin_requires_scc) Para(ph_.eu_scc);
      if (t.scc_copies_on_request) Para(ph_.scc_copies);
      if (t.remote_access_instead) Para(ph_.remote_access);
    } else {
      Para(ph_.xborder_denied);
    }

    if (!p_.storage.regions.empty()) {
      Sub(ph_.h_storage.text, "storage");
      Para(Labeled(ph_.lbl_storage_regions, Countries(p_.storage.regions)));
    }
  }

  void HowLong() {
    Section("retention", ph_.h_retention);
    Para(ph_.retention_intro);
    std::vector<std::vector<std::string>> rows;
    for (const policy::Purpose* purpose : EnabledPurposes()) {
      rows.push_back({PurposeTitle(*purpose), RetentionText(*purpose)});
    }
    Table({ph_.col_purpose.text, ph_.col_retention.text}, std::move(rows));

    const policy::Retention& r = p_.retention;
    if (r.after == "destroy") Para(ph_.after_destroy);
    if (r.after == "anonymise") Para(ph_.after_anonymise);
    if (r.after == "destroy_or_anonymise") Para(ph_.after_either);
    std::vector<Line> items;
    if (r.end_of_use_inactivity) {
      items.push_back(Labeled(ph_.lbl_inactivity, Term(*r.end_of_use_inactivity)));
    }
    if (r.backup_retention) items.push_back(Labeled(ph_.lbl_backup, Term(*r.backup_retention)));
    List(std::move(items));

    if (!r.legal_minimum.empty()) {
      Para(ph_.legal_min_intro);
      std::vector<std::vector<std::string>> minimums;
      for (const policy::LegalMinimum& m : r.legal_minimum) {
        std::string category = m.category;
        if (auto it = p_.categories.find(m.category); it != p_.categories.end()) {
          const std::string title = Text(it->second.title);
          if (!title.empty()) category = title;
        }
        std::string law = m.law;
        for (const policy::Law& l : p_.laws) {
          if (l.id == m.law && !Text(l.title).empty()) law = Text(l.title);
        }
        minimums.push_back({category, Term(m.term), OrDash(law)});
      }
      Table({ph_.col_category.text, ph_.col_min_term.text, ph_.col_law.text}, std::move(minimums));
    }
  }

  bool InEuOverlay(const policy::Right& right) const {
    return right.scope == "eu_overlay" ||
           (p_.eu_overlay.enabled && Contains(p_.eu_overlay.rights, right.id));
  }

  void Rights() {
    Section("rights", ph_.h_rights);
    if (!p_.contacts.rights_requests.empty()) {
      Para(FillLine(ph_.rights_intro.text, "contact", ContactSpan(p_.contacts.rights_requests)));
    }
    if (p_.controller.role == "processor") Para(ph_.rights_processor);

    int shown = 0;
    for (const char* right_id : policy::kRightIds) {
      const policy::Right* right = p_.FindRight(right_id);
      if (right == nullptr || !right->enabled) continue;
      ++shown;
      Sub(Word(Vocab::kRightTitle, right_id), std::string("right-") + right_id);
      Para(Word(Vocab::kRightText, right_id));

      std::vector<Line> items;
      items.push_back(Labeled(ph_.lbl_answer_term, right->immediate
                                                       ? Term(p_.terms.immediate_automated)
                                                       : DeadlineOf(right->deadline)));
      items.push_back(Labeled(ph_.lbl_fee, Word(Vocab::kFee, right->fee)));
      if (!right->channels.empty()) {
        items.push_back(Labeled(ph_.lbl_how, Words(Vocab::kChannel, right->channels)));
      }
      if (right->identity_verification != "none" && !right->identity_verification.empty()) {
        std::string value = Word(Vocab::kVerification, right->identity_verification);
        if (!right->verification_methods.empty()) {
          value += ": " + Words(Vocab::kVerificationMethod, right->verification_methods,
                                std::string(" ") + ph_.or_word.text + " ");
        }
        items.push_back(Labeled(ph_.lbl_identity, value));
      }
      if (right->lookback) {
        items.push_back(
            Labeled(ph_.lbl_lookback, right->lookback->unit == calendar::TermUnit::kIndefinite
                                          ? std::string(ph_.lookback_all.text)
                                          : Term(*right->lookback)));
      }
      if (!right->formats.empty()) {
        std::vector<std::string> formats;
        for (std::string f : right->formats) {
          std::transform(f.begin(), f.end(), f.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
          formats.push_back(std::move(f));
        }
        items.push_back(Labeled(ph_.lbl_formats, Join(formats)));
      }
      List(std::move(items));

      if (right->clock_pauses) Para(ph_.clock_pauses);
      if (right->block_on_filing) {
        Para(ph_.block_on_filing);
        if (!right->block_exception.empty()) {
          Para(Labeled(ph_.lbl_exception, Word(Vocab::kBlockException, right->block_exception)));
        }
      }
      if (right->evidence_required) Para(ph_.evidence_required);
      if (right->notify_recipients) Para(ph_.notify_recipients);
      if (right->transmit_to_third_party) Para(ph_.transmit_third);
      if (InEuOverlay(*right)) {
        Para(Fill(ph_.eu_scope.text, "trigger", Word(Vocab::kEuTrigger, p_.eu_overlay.trigger)));
      }
    }
    if (shown == 0) Para(ph_.no_rights);

    const policy::Withdrawal& w = p_.withdrawal;
    const std::string consequences = Text(w.consequence_notice);
    if (w.declared || !consequences.empty()) {
      Sub(ph_.h_withdrawal.text, "withdrawal");
      TextParas(consequences);
      if (!w.effect.empty()) Para(Word(Vocab::kWithdrawalEffect, w.effect));
      std::vector<Line> items;
      if (!w.then.empty())
        items.push_back(Labeled(ph_.lbl_then, Word(Vocab::kWithdrawalThen, w.then)));
      if (w.deadline.term) items.push_back(Labeled(ph_.lbl_term, DeadlineOf(w.deadline)));
      if (!w.channels.empty()) {
        items.push_back(Labeled(ph_.lbl_withdraw_channels, Words(Vocab::kChannel, w.channels)));
      }
      List(std::move(items));
      if (w.then == "return_or_delete") {
        Para(w.default_mode == "delete" ? ph_.default_delete : ph_.default_return);
      }
      if (w.storage_need_check) Para(ph_.storage_need_check);
    }

    const policy::UnlawfulProcessing& u = p_.unlawful_processing;
    if (u.declared) {
      Sub(ph_.h_unlawful.text, "unlawful-processing");
      Para(ph_.unlawful_intro);
      std::vector<Line> items;
      if (u.stop) items.push_back(Labeled(ph_.lbl_stop, DeadlineText(*u.stop, u.trigger, code_)));
      if (u.destroy) {
        items.push_back(Labeled(ph_.lbl_destroy, DeadlineText(*u.destroy, u.trigger, code_)));
      }
      List(std::move(items));
      if (u.notify_subject) Para(ph_.unlawful_notify);
      if (u.covers_processors) Para(ph_.unlawful_processors);
    }

    const policy::ActionNotice& a = p_.action_notice;
    if (a.declared) {
      Sub(ph_.h_action_notice.text, "action-notice");
      Para(ph_.action_notice);
      if (a.deadline.term) List({Labeled(ph_.lbl_term, DeadlineOf(a.deadline))});
    }

    if (p_.claims.pretrial) {
      Sub(ph_.h_claims.text, "claims");
      Para(ph_.claims);
      if (p_.claims.deadline.term) {
        List({Labeled(ph_.lbl_answer_term, DeadlineOf(p_.claims.deadline))});
      }
    }

    if (!p_.complaint_authorities.empty()) {
      Sub(ph_.h_authorities.text, "complaints");
      Para(ph_.authorities_intro);
      std::vector<Line> items;
      for (const auto& [region, authority] : p_.complaint_authorities) {
        std::string name = Text(authority.name);
        Line line{Span{name.empty() ? region : name, true}, Span{" (" + Country(region) + ")"}};
        if (!authority.url.empty()) {
          line.push_back(Span{": "});
          line.push_back(ContactSpan(authority.url));
        }
        items.push_back(std::move(line));
      }
      List(std::move(items));
    }
  }

  void Children() {
    Section("children", ph_.h_children);
    const policy::Minors& m = p_.minors;
    if (m.rule == "self_declaration") {
      Para(ph_.minors_self);
    } else if (m.rule == "birth_date") {
      Para(ph_.minors_birth);
    } else {
      Para(ph_.minors_none);
    }
    if (m.rule == "self_declaration" || m.rule == "birth_date") {
      Para(Labeled(ph_.lbl_threshold, Age(m.threshold)));
      std::vector<Line> other_ages;
      for (const auto& [country, age] : m.age_map) {
        if (age != m.threshold) other_ages.push_back(Plain(Country(country) + ": " + Age(age)));
      }
      if (!other_ages.empty()) {
        Para(ph_.age_map_intro);
        List(std::move(other_ages));
      }
      if (m.representative_consent == "not_accepted") {
        Para(ph_.rep_not_accepted);
      } else if (m.representative_consent == "verified") {
        Para(ph_.rep_verified);
      } else if (m.representative_consent != "not_stated") {
        Para(ph_.rep_required);
      }
      if (m.reconsent_at_majority) Para(ph_.reconsent);
      if (m.never_collect_under > 0) {
        Para(Labeled(ph_.lbl_never_under, Age(m.never_collect_under)));
        Para(ph_.never_under_note);
      }
      Para(Labeled(ph_.lbl_child_deletion, Term(m.deletion_term)));
    }
    if (!m.marketing_allowed) Para(ph_.minors_no_marketing);

    std::vector<Line> adult_only;
    for (const policy::Purpose* purpose : EnabledPurposes()) {
      if (!purpose->minors_allowed) adult_only.push_back(Plain(PurposeTitle(*purpose)));
    }
    if (!adult_only.empty()) {
      Para(ph_.minors_excluded_purposes);
      List(std::move(adult_only));
    }
    if (!p_.contacts.child_data_reports.empty()) {
      Para(LabeledContact(ph_.lbl_child_reports, p_.contacts.child_data_reports));
    }
  }

  void Cookies() {
    Section("cookies", ph_.h_cookies);
    const policy::Cookies& c = p_.cookies;
    if (!c.used && c.inventory.empty()) {
      Para(ph_.cookies_none);
      Para(c.beacons ? ph_.beacons_yes : ph_.beacons_no);
      return;
    }
    Para(ph_.cookies_intro);
    std::vector<std::vector<std::string>> rows;
    for (const policy::Cookie& cookie : c.inventory) {
      rows.push_back({cookie.name, OrDash(cookie.provider),
                      cookie.category.empty() ? std::string(ph_.dash.text)
                                              : Word(Vocab::kCookieCategory, cookie.category),
                      OrDash(Text(cookie.purpose)),
                      cookie.lifetime ? Term(*cookie.lifetime) : std::string(ph_.session.text)});
    }
    Table({ph_.col_cookie_name.text, ph_.col_provider.text, ph_.col_cookie_category.text,
           ph_.col_cookie_purpose.text, ph_.col_lifetime.text},
          std::move(rows));

    if (!c.consent_required_for.empty()) {
      Para(Fill(ph_.cookies_consent_for.text, "categories",
                Words(Vocab::kCookieCategory, c.consent_required_for)));
      if (!Contains(c.consent_required_for, "necessary")) Para(ph_.necessary_no_consent);
    }
    std::vector<Line> items;
    if (!c.consent_cookie.empty()) {
      items.push_back(Labeled(ph_.lbl_consent_cookie, c.consent_cookie));
    }
    if (!c.consent_cookie.empty() || !c.consent_required_for.empty()) {
      items.push_back(Labeled(ph_.lbl_consent_ttl, Term(c.consent_ttl)));
    }
    if (!c.third_party_tools.empty()) {
      items.push_back(Labeled(ph_.lbl_third_party_tools, Join(c.third_party_tools)));
    }
    List(std::move(items));
    Para(c.beacons ? ph_.beacons_yes : ph_.beacons_no);
    Para(ph_.cookies_manage);
  }

  void MarketingAndDecisions() {
    Section("marketing-and-automated-decisions", ph_.h_marketing_ad);

    Sub(ph_.h_marketing.text, "marketing");
    const policy::Marketing& m = p_.marketing;
    if (m.model == "opt_in") {
      Para(ph_.mkt_opt_in);
    } else if (m.model == "opt_out") {
      Para(ph_.mkt_opt_out);
    } else {
      Para(ph_.mkt_none);
    }
    if (m.model == "opt_in" || m.model == "opt_out") {
      std::vector<Line> items;
      if (!m.channels.empty()) {
        items.push_back(Labeled(ph_.lbl_channels, Words(Vocab::kChannel, m.channels)));
      }
      if (!m.contact_sources.empty()) {
        std::vector<std::string> forms;
        for (const std::string& id : m.contact_sources) {
          auto it = p_.forms.find(id);
          forms.push_back(it == p_.forms.end() ? id : Text(it->second.title));
        }
        items.push_back(Labeled(ph_.lbl_contact_sources, Join(forms)));
      }
      std::vector<std::string> purposes;
      for (const policy::Purpose* purpose : EnabledPurposes()) {
        if (purpose->marketing) purposes.push_back(PurposeTitle(*purpose));
      }
      if (!purposes.empty()) items.push_back(Labeled(ph_.lbl_mkt_purposes, Join(purposes)));
      if (!m.withdrawal_channel.empty()) {
        items.push_back(Labeled(ph_.lbl_optout, Word(Vocab::kChannel, m.withdrawal_channel)));
      }
      List(std::move(items));
      if (m.granular_optout) Para(ph_.mkt_granular);
    }

    Sub(ph_.h_automated.text, "automated-decisions");
    const policy::AutomatedDecisions& ad = p_.automated_decisions;
    if (ad.solely_automated_allowed) {
      Para(ph_.ad_allowed);
      std::vector<Line> items;
      for (const std::string& e : ad.exceptions)
        items.push_back(Plain(Word(Vocab::kAdException, e)));
      List(std::move(items));
      Para(ph_.ad_review);
    } else {
      Para(ph_.ad_none);
    }

    std::vector<std::string> profiling_purposes = ad.profiling_purposes;
    for (const policy::Purpose* purpose : EnabledPurposes()) {
      if (purpose->profiling) AddUnique(profiling_purposes, purpose->id);
    }
    const std::string purposes = PurposeTitles(profiling_purposes);
    if (ad.profiling || !purposes.empty()) {
      Para(ph_.profiling_yes);
      std::vector<Line> items;
      if (!purposes.empty()) items.push_back(Labeled(ph_.lbl_profiling_purposes, purposes));
      if (!ad.profiling_attributes.empty()) {
        items.push_back(
            Labeled(ph_.lbl_profiling_attributes, FieldTitles(ad.profiling_attributes)));
      }
      List(std::move(items));
      if (ad.profiling_effect == "none" || ad.profiling_effect.empty()) {
        Para(ph_.profiling_no_effect);
      } else {
        Para(Labeled(ph_.lbl_profiling_effect, Humanize(ad.profiling_effect)));
      }
    } else {
      Para(ph_.profiling_none);
    }
    if (ad.scope == "eu_overlay") Para(ph_.ad_eu_scope);
  }

  void Security() {
    Section("security", ph_.h_security);
    Para(ph_.security_intro);
    const policy::Security& s = p_.security;
    std::vector<Line> items;
    items.push_back(Plain(ph_.sec_encryption.text));
    items.push_back(Plain(ph_.sec_need_to_know.text));
    const auto& stores = p_.storage.stores;
    const bool audited =
        p_.storage.require_audit ||
        (!stores.empty() && std::all_of(stores.begin(), stores.end(),
                                        [](const policy::Store& st) { return st.audit; }));
    if (audited) items.push_back(Plain(ph_.sec_audit.text));
    if (s.mfa_for_privileged) items.push_back(Plain(ph_.sec_mfa.text));
    if (s.password_max_age) {
      items.push_back(
          Plain(Fill(ph_.sec_password_rotation.text, "period", Period(*s.password_max_age))));
    }
    std::vector<std::string> apart;
    for (const auto& [id, category] : p_.categories) {
      if (category.stored_apart) apart.push_back(Text(category.title));
    }
    if (!apart.empty())
      items.push_back(Plain(Fill(ph_.sec_stored_apart.text, "categories", Join(apart))));
    if (s.assessment_required) items.push_back(Plain(ph_.sec_assessment.text));
    if (s.check_interval) {
      items.push_back(Plain(Fill(ph_.sec_checks.text, "period", Period(*s.check_interval))));
    }
    List(std::move(items));
    if (!p_.contacts.security_reports.empty()) {
      Para(LabeledContact(ph_.lbl_breach_reports, p_.contacts.security_reports));
    }
  }

  void Changes() {
    Section("changes", ph_.h_changes);
    const policy::PolicyChange& c = p_.policy_change;
    if (c.effective_rule == "after_notice") {
      Para(ph_.change_after_notice);
    } else if (c.effective_rule == "on_posting_unless_stated") {
      Para(ph_.change_unless_stated);
    } else {
      Para(ph_.change_on_posting);
    }
    if (c.advance_notice) Para(Fill(ph_.change_advance.text, "term", Term(*c.advance_notice)));
    if (!c.notify_channels.empty()) {
      Para(Labeled(ph_.lbl_notify_channels, Words(Vocab::kChannel, c.notify_channels)));
    }
    if (c.acceptance_mode == "continued_use") Para(ph_.accept_continued);
    if (c.acceptance_mode == "explicit") Para(ph_.accept_explicit);
    if (c.review_interval)
      Para(Fill(ph_.review_interval.text, "period", Period(*c.review_interval)));
    if (c.review_on_law_change) Para(ph_.review_law);
  }

  // Section 14. The public notice states each decision as the school wrote it for learners and
  // parents (the resolution's `notice` text), citing the school's own clause; the codes, choices
  // and reasons are engineering notes and appear only in the data-protection officer's edition
  // (issue 12).
  void Resolutions() {
    Section("resolutions", ph_.h_resolutions);
    std::vector<Line> items;
    for (const policy::Resolution& r : p_.resolutions) {
      const std::string decision = Text(r.notice);
      if (!dpo_ && decision.empty()) continue;  // the checker reports it (E-RESOLUTION-NOTICE)
      std::string head = r.clause;
      if (dpo_) head = r.clause.empty() ? r.code : r.clause + " (" + r.code + ")";
      Line line;
      if (!head.empty()) line.push_back(Span{head, true});
      if (dpo_) {
        for (const policy::Conflict& conflict : p_.conflicts) {
          if (conflict.code == r.code && !conflict.summary.empty()) {
            line.push_back(Span{" — " + EndSentence(conflict.summary)});
            break;
          }
        }
      }
      std::vector<std::string> parts;
      if (!decision.empty()) parts.push_back(EndSentence(decision));
      if (dpo_ && !r.choice.empty()) {
        parts.push_back(EndSentence(std::string(ph_.lbl_choice.text) + ": " + r.choice));
      }
      if (dpo_ && !r.reason.empty()) {
        parts.push_back(EndSentence(std::string(ph_.lbl_reason.text) + ": " + r.reason));
      }
      std::vector<std::string> approval;
      if (!r.approved_by.empty()) {
        const auto officer = internal::Lookup(Vocab::kOfficer, r.approved_by, lang_);
        if (officer) approval.push_back(std::string(*officer));
        if (!officer && dpo_) approval.push_back(r.approved_by);
      }
      if (r.date) approval.push_back(DateText(*r.date, code_));
      if (!approval.empty()) {
        parts.push_back(EndSentence(std::string(ph_.lbl_approved.text) + ": " + Join(approval)));
      }
      std::string rest = Join(parts, " ");
      if (!rest.empty() && line.size() == 1) rest = (decision.empty() ? ". " : " — ") + rest;
      if (!rest.empty() && line.size() > 1) rest = " " + rest;
      if (!rest.empty()) line.push_back(Span{rest});
      if (!line.empty()) items.push_back(std::move(line));
    }
    if (items.empty()) {
      Para(ph_.resolutions_none);
      return;
    }
    Para(ph_.resolutions_intro);
    List(std::move(items));
  }

  const policy::Policy& p_;
  const Lang lang_;
  const std::string code_;
  const Phrases& ph_;
  const bool dpo_;  // the data-protection officer's edition
  Document doc_;
  int section_ = 0;
  size_t contents_index_ = 0;
  std::vector<std::pair<std::string, std::string>> sections_;  // (anchor id, heading)
};

}  // namespace

Result<std::string> RenderNotice(const policy::Policy& policy, const std::string& lang,
                                 Format format, Audience audience) {
  const auto parsed = internal::ParseLang(lang);
  if (!parsed) {
    const bool printable = lang.size() <= 16 && std::all_of(lang.begin(), lang.end(), [](char c) {
                             return c >= 0x20 && c < 0x7f;
                           });
    std::string message = "unknown notice language";
    if (printable) message += " \"" + lang + "\"";
    message += "; use uk, ru or en";
    return Error::Invalid(std::move(message), "lang");
  }
  const Document doc = Builder(policy, *parsed, audience).Build();
  return format == Format::kHtml ? internal::WriteHtml(doc) : internal::WriteMarkdown(doc);
}

}  // namespace dovira::notice
