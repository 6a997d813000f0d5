// The policy model: a school's privacy policy as typed data. Produced by the loader from a policy
// file (see docs/policy-reference.md, which documents every key), checked by the checker, rendered
// into the human-readable notice, and read by the enforcement layers.
//
// Maps keyed by id are std::map so that iteration order is stable (the notice and findings are
// deterministic). Every element keeps the position of its key in the file for findings.
//
// Thread-safety: plain values. A loaded Policy is immutable by convention and may be shared
// between threads read-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calendar/calendar.h"
#include "calendar/date.h"
#include "calendar/term.h"

namespace dovira::policy {

// 1-based line and column of a key or value in the policy file; 0 when unknown.
struct SourcePos {
  int line = 0;
  int column = 0;
};

// The notice languages.
inline constexpr const char* kLanguages[] = {"uk", "ru", "en"};

// User-facing text in up to three languages ("uk", "ru", "en").
struct LocalText {
  std::map<std::string, std::string> by_lang;
  SourcePos pos;

  bool empty() const { return by_lang.empty(); }
  bool Has(const std::string& lang) const { return by_lang.count(lang) != 0; }
  // The text in `lang`, else in `fallback`, else any available text, else "".
  const std::string& Get(const std::string& lang, const std::string& fallback = "uk") const;
};

// A term with the event it counts from (docs: `term` + `trigger`).
struct Deadline {
  std::optional<calendar::Term> term;  // unset: not stated in the policy
  std::string term_text;               // as written, for findings
  std::string trigger = "request_received";
  bool defaulted = false;  // the term came from terms.default_request
  SourcePos pos;
};

struct Person {
  std::string name;
  std::string email;
  std::string phone;
  SourcePos pos;
  bool empty() const { return name.empty() && email.empty(); }
};

struct School {
  std::string id;
  LocalText name;
  std::string website;
  std::vector<std::string> scope;
  std::string jurisdiction;
  std::vector<std::string> languages;  // notice languages
  std::string authoritative_language;
  SourcePos pos;
};

struct Version {
  std::string id;
  std::optional<calendar::Date> published;
  std::optional<calendar::Date> effective;
  bool requires_explicit_consent = false;
  SourcePos pos;
};

struct Controller {
  LocalText name;
  std::string reg_id;
  std::string kind = "company";  // company | sole_proprietor | individual
  std::string role = "controller";  // controller | processor
  std::string address, email, phone, website;
  SourcePos pos;
};

struct Contacts {
  std::string rights_requests, support, policy_comments, child_data_reports, security_reports;
  SourcePos pos;
};

struct Officers {
  Person responsible_person, security_officer, authorised_representative;
  SourcePos pos;
};

struct Law {
  std::string id;
  LocalText title;
  std::string citation;
  std::string clause;
  SourcePos pos;
};

struct Store {
  std::string id;
  LocalText title;
  std::string region;
  bool audit = true;
  std::vector<std::string> purposes;
  std::string clause;
  SourcePos pos;
};

struct Storage {
  std::vector<std::string> regions;
  bool require_audit = true;
  bool import_move_immediately = false;
  std::vector<Store> stores;
  std::string clause;
  SourcePos pos;
};

struct Transfers {
  std::string cross_border;  // "" (unset) | allowed | denied
  std::vector<std::string> bases, safeguards;
  std::string scope = "contract_only";
  bool eu_origin_requires_scc = false;
  bool scc_copies_on_request = false;
  bool remote_access_instead = false;
  std::string clause;
  SourcePos pos;
  bool declared = false;
};

struct Terms {
  calendar::Term default_request{30, calendar::TermUnit::kCalendarDays, true};
  calendar::Term immediate_automated{0, calendar::TermUnit::kImmediate, true};
  std::string immediate_human = "end_of_working_day";  // or a term spelling
  SourcePos pos;
};

struct SubjectKind {
  std::string id;
  LocalText title, description;
  std::string clause;
  SourcePos pos;
};

struct Category {
  std::string id;
  LocalText title;
  std::string kind = "ordinary";  // ordinary|contact|special|technical|financial|identity_document|transactional
  std::string special_type;       // set iff kind == "special"
  bool stored_apart = false;
  std::string clause;
  SourcePos pos;
};

struct SpecialCategories {
  std::vector<std::string> excluded, allowed;
  std::string clause;
  SourcePos pos;
};

struct Field {
  std::string id;
  std::string category;
  std::string type = "string";
  LocalText title;
  int64_t max_length = 200;
  std::vector<std::string> values;  // enum values
  std::string identifier = "none";  // direct | indirect | none
  std::string source = "subject";
  bool shareable = false;
  std::string clause;
  SourcePos pos;
};

struct ConsentCheckbox {
  std::string id;
  std::string consent;  // consent type id
  LocalText text;
  bool required = false;
  bool default_unticked = true;
  std::string clause;
  SourcePos pos;
};

// Fields of a form of which at least one must be given (001 §2.1: by e-mail or by SMS).
struct FieldGroup {
  std::vector<std::string> fields;
  std::string clause;
  SourcePos pos;
};

struct Form {
  std::string id;
  LocalText title;
  std::string subject_kind;
  std::string channel;
  std::vector<std::string> fields, required;
  std::vector<FieldGroup> one_of;  // R08: at least one field of each group
  bool accept_policy = false;
  bool age_statement = false;
  std::vector<ConsentCheckbox> consents;
  std::string clause;
  SourcePos pos;
};

struct ConsentType {
  std::string id;
  LocalText title;
  std::vector<std::string> grants;  // purpose ids and permissions
  calendar::Term term{0, calendar::TermUnit::kIndefinite, true};
  LocalText withdrawal_procedure;
  std::vector<std::string> withdrawal_channels, channels;
  bool evidence_required = false;
  std::string clause;
  SourcePos pos;
};

// Permissions a consent may grant besides purposes (001 §3.2.2).
inline constexpr const char* kConsentPermissions[] = {"processing", "third_party_transfer",
                                                      "processor_entrustment", "cross_border"};

struct Purpose {
  std::string id;
  LocalText title, description;
  std::string basis;  // consent|contract|pre_contract|legal_obligation|legitimate_interest|vital_interests|public_task
  std::vector<std::string> fields, recipients;
  std::optional<calendar::Term> retention;  // unset: while_needed
  std::string retention_from = "purpose_end";
  std::vector<std::string> subject_kinds;  // empty: all
  bool marketing = false;
  bool profiling = false;
  std::vector<std::string> channels, contact_sources;
  std::string data_form = "identified";
  bool enabled = true;
  std::string decision;
  bool minors_allowed = true;
  std::string clause;
  SourcePos pos;
};

struct Recipient {
  std::string id;
  LocalText title;
  std::string kind;
  std::vector<std::string> countries;
  std::string safeguard = "none";
  std::string contract_ref;
  bool confidentiality_clause = false;
  std::vector<std::string> purposes;
  std::string data_form = "identified";
  std::string instructed_by = "none";
  bool formal_request_required = false;
  std::string clause;
  SourcePos pos;
};

// The rights a policy can declare, in the order the notice lists them.
inline constexpr const char* kRightIds[] = {
    "self_service",  "access",          "information",         "rectification",
    "erasure",       "restriction",     "objection",           "marketing_objection",
    "portability",   "withdrawal",      "automated_decision_review", "no_automated_decisions",
    "transfer_info", "complaint"};

struct Right {
  std::string id;
  bool enabled = true;
  Deadline deadline;
  std::string fee = "free";
  std::vector<std::string> channels;
  std::string identity_verification = "none";
  std::vector<std::string> verification_methods;
  bool clock_pauses = false;
  std::string scope = "all";
  bool block_on_filing = false;
  std::string block_exception;
  bool evidence_required = false;
  bool notify_recipients = false;
  // The grounds a request may state (erasure: R49). Empty: any ground, or none, is accepted.
  std::vector<std::string> grounds;
  // R58: what follows, shown to the requester and acknowledged before the request is filed
  // (erasure; a withdrawal's notice is Withdrawal::consequence_notice).
  LocalText consequence_notice;
  std::optional<calendar::Term> lookback;
  std::vector<std::string> formats;
  bool transmit_to_third_party = false;
  bool immediate = false;
  std::string clause;
  SourcePos pos;
};

struct Withdrawal {
  bool declared = false;
  std::string effect, then;
  Deadline deadline;
  bool storage_need_check = false;
  std::vector<std::string> channels;
  LocalText consequence_notice;
  std::string default_mode = "return";
  std::string clause;
  SourcePos pos;
};

struct UnlawfulProcessing {
  bool declared = false;
  std::optional<calendar::Term> stop, destroy;
  std::string trigger = "detected";
  bool notify_subject = false;
  bool covers_processors = false;
  std::string clause;
  SourcePos pos;
};

struct ActionNotice {
  bool declared = false;
  Deadline deadline;
  std::string clause;
  SourcePos pos;
};

struct Minors {
  std::string rule = "none";  // none | self_declaration | birth_date
  std::string birth_date_field;  // the date field minor status is computed from (rule birth_date)
  // Fields that hold a minor's legal representative (R24): keys name, relation, permission_at,
  // email; values are field ids. Empty: the representative is kept in the sealed profile.
  std::map<std::string, std::string> representative_fields;
  int threshold = 18;
  std::map<std::string, int> age_map;
  // required_before_collection | not_accepted | verified; "not_stated" only as the checker's
  // reading of a policy with no age rule (R27): minors are recognised but no representative asked.
  std::string representative_consent = "required_before_collection";
  int never_collect_under = 0;
  calendar::Term deletion_term{0, calendar::TermUnit::kImmediate, true};
  bool reconsent_at_majority = false;
  bool marketing_allowed = true;
  std::string clause;
  SourcePos pos;
};

struct Cookie {
  std::string name, provider;
  std::string category;  // necessary | preferences | statistics | marketing
  LocalText purpose;
  std::optional<calendar::Term> lifetime;  // unset: session cookie
  std::string created = "visit";
  std::string clause;
  SourcePos pos;
};

struct Cookies {
  bool used = false;
  bool beacons = false;
  std::string consent_cookie;
  calendar::Term consent_ttl{12, calendar::TermUnit::kCalendarMonths, true};
  std::vector<std::string> consent_required_for{"statistics", "marketing"};
  std::vector<std::string> third_party_tools;
  std::vector<Cookie> inventory;
  std::string clause;
  SourcePos pos;
};

struct Marketing {
  std::string model = "none";  // none | opt_in | opt_out
  std::vector<std::string> channels, contact_sources;
  bool granular_optout = false;
  std::string withdrawal_channel;
  std::string clause;
  SourcePos pos;
};

struct AutomatedDecisions {
  bool solely_automated_allowed = false;
  std::vector<std::string> exceptions;
  bool profiling = false;
  std::vector<std::string> profiling_purposes, profiling_attributes;
  std::string profiling_effect = "none";
  std::string scope = "all";
  std::string clause;
  SourcePos pos;
};

struct LegalMinimum {
  std::string category;
  calendar::Term term;
  std::string law;
  std::string clause;
  SourcePos pos;
};

struct Retention {
  bool declared = false;
  std::string after;  // destroy | anonymise | destroy_or_anonymise
  std::optional<calendar::Term> end_of_use_inactivity, backup_retention;
  std::vector<LegalMinimum> legal_minimum;
  std::string clause;
  SourcePos pos;
};

struct Reuse {
  bool depersonalised_allowed = false;
  std::string combine_with_third_party = "never";
  bool needs_consent = false;
  std::string clause;
  SourcePos pos;
};

// One quasi-identifier of [anonymisation] and the hierarchy it is generalised along (R74).
struct QuasiIdentifier {
  std::string field;
  std::string hierarchy;              // age | date | region | value
  std::vector<int> bands{5, 10, 20};  // age: band widths in years, each a multiple of the last
  std::vector<std::string> via;       // region: the fields that stand for it, finer to coarser
  std::string clause;
  SourcePos pos;
};

// [anonymisation]: depersonalised data sets for statistics and research (R74, R34): no direct
// identifier, no key back, quasi-identifiers generalised until every group has at least k
// records (and ℓ distinct values of the sensitive field).
struct Anonymisation {
  bool declared = false;
  int64_t k = 0;
  int64_t l = 0;          // 0: no ℓ-diversity
  std::string sensitive;  // the field ℓ-diversity is about
  std::vector<std::string> attributes;  // fields kept as they are (no identifier)
  int64_t max_suppressed_percent = 0;   // records that may be left out instead of generalising
  int64_t risk_threshold_percent = 10;  // a record is "at risk" above this prosecutor risk
  std::vector<std::string> purposes;    // the purposes a data set may be produced for
  std::vector<QuasiIdentifier> quasi_identifiers;
  std::string clause;
  SourcePos pos;
};

struct Collection {
  std::vector<std::string> sources{"subject"};
  std::vector<std::string> channels;
  bool automatic_requires_notice = false;
  bool imports = false;
  bool import_attestation_required = true;
  bool quarantine_unmapped_columns = true;
  std::string clause;
  SourcePos pos;
};

struct StandingDecision {
  std::string id;
  std::vector<std::string> purposes;
  std::string decided_by;
  std::optional<calendar::Date> date;
  std::string clause;
  SourcePos pos;
};

struct Decisions {
  std::vector<std::string> required_for;
  std::vector<StandingDecision> standing;
  // The role whose members take the decisions a purpose with `decision = "per_case"` needs (R31):
  // only a staff member of this role may use such a purpose, and the use records them.
  std::string decided_by;
  std::string clause;
  SourcePos pos;
};

struct EuOverlay {
  bool enabled = false;
  std::string trigger = "either";
  std::vector<std::string> rights;
  std::string clause;
  SourcePos pos;
};

struct Claims {
  bool pretrial = false;
  Deadline deadline;
  std::string clause;
  SourcePos pos;
};

struct Authority {
  std::string region;
  LocalText name;
  std::string url;
  std::string clause;
  SourcePos pos;
};

struct Security {
  bool mfa_for_privileged = true;
  std::optional<calendar::Term> password_max_age;
  std::vector<std::string> password_change_on;
  int64_t password_min_length = 12;
  bool assessment_required = true;
  std::optional<calendar::Term> check_interval;
  int64_t lockout_attempts = 5;
  int64_t lockout_minutes = 15;
  std::string clause;
  SourcePos pos;
};

struct Role {
  std::string id;
  LocalText title;
  bool privileged = false;
  std::vector<std::string> categories, purposes;
  bool decides = false;
  // R86 (002 L60): whose people hold the role. "staff" (the school's own) reach every subject their
  // categories allow; "affiliate" and "contractor" reach only the subjects assigned to the holder's
  // organisation (a staff account's `organisation`), and never decide or hold privilege.
  std::string organisation = "staff";
  std::string clause;
  SourcePos pos;

  bool scoped() const { return organisation != "staff"; }
};

struct PolicyChange {
  std::string effective_rule = "on_posting";
  std::optional<calendar::Term> advance_notice;
  std::vector<std::string> notify_channels;
  std::string acceptance_mode = "none";
  std::optional<calendar::Term> review_interval;
  bool review_on_law_change = false;
  std::string clause;
  SourcePos pos;
};

struct Notice {
  LocalText intro;
  std::vector<LocalText> extra;
  SourcePos pos;
};

struct Conflict {
  std::string code;
  std::string clauses;
  std::string summary;
  std::string default_reading;
  SourcePos pos;
};

struct Resolution {
  // code, choice and reason are engineering text for the data-protection officer; `notice` is the
  // school's decision as the public notice states it to learners and parents, per language.
  std::string code, choice, reason, approved_by, clause;
  LocalText notice;
  // W-TERM-DEFAULTED: the rights whose written-out term is `terms.default_request` because the
  // source text states none; their requests report `due_source = "default"` (R67).
  std::vector<std::string> rights;
  std::optional<calendar::Date> date;
  SourcePos pos;
};

// A whole policy file.
struct Policy {
  int format = 0;
  School school;
  Version version;
  Controller controller;
  Contacts contacts;
  Officers officers;
  std::vector<Law> laws;
  Storage storage;
  Transfers transfers;
  calendar::CalendarConfig calendar;
  SourcePos calendar_pos;
  Terms terms;
  std::map<std::string, SubjectKind> subject_kinds;
  std::map<std::string, Category> categories;
  SpecialCategories special_categories;
  std::map<std::string, Field> fields;
  std::map<std::string, Form> forms;
  std::map<std::string, ConsentType> consents;
  std::map<std::string, Purpose> purposes;
  std::map<std::string, Recipient> recipients;
  std::map<std::string, Right> rights;
  Withdrawal withdrawal;
  UnlawfulProcessing unlawful_processing;
  ActionNotice action_notice;
  Minors minors;
  Cookies cookies;
  Marketing marketing;
  AutomatedDecisions automated_decisions;
  Retention retention;
  Reuse reuse;
  Anonymisation anonymisation;
  Collection collection;
  Decisions decisions;
  EuOverlay eu_overlay;
  Claims claims;
  std::map<std::string, Authority> complaint_authorities;
  Security security;
  std::map<std::string, Role> roles;
  PolicyChange policy_change;
  Notice notice;
  std::vector<Conflict> conflicts;
  std::vector<Resolution> resolutions;

  // Convenience lookups; nullptr when absent.
  const Field* FindField(const std::string& id) const;
  const Purpose* FindPurpose(const std::string& id) const;
  const Right* FindRight(const std::string& id) const;
  // The resolution for `code`, or nullptr.
  const Resolution* FindResolution(const std::string& code) const;
  // True when `field` identifies a person by itself and never leaves in a depersonalised data
  // set (R74): declared `identifier = "direct"`; an e-mail, phone, IP address or file (a photo);
  // a field of a contact or identity-document category (names, addresses, ID numbers); or an
  // indirect identifier of a technical category (cookie and device ids).
  bool IsDirectIdentifier(const Field& field) const;
};

}  // namespace dovira::policy
