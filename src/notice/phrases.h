// Internal to dovira_notice: the fixed wording of the notice in each language, read from the
// message catalogue (i18n/notice/<lang>.json). A sentence is the catalogue key of its Phrases
// member ("notice.title"); the words for the policy's closed vocabularies (lawful bases, recipient
// kinds, channels, countries, rights ...) are "notice.vocab.<vocabulary>.<code>"
// ("notice.vocab.basis.consent"). A phrase names its placeholders ("{school}", "{date}"), which
// render.cc fills through i18n::Fill.
//
// Thread-safety: each language's table is filled once, on first use, and read-only afterwards;
// safe from any thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "i18n/i18n.h"

namespace dovira::notice::internal {

using Lang = i18n::Lang;

// "uk", "ru" or "en" exactly; nullopt for anything else (a notice names its language exactly).
std::optional<Lang> ParseLang(std::string_view code);
const char* LangCode(Lang lang);

// One phrase: the catalogue text, valid for the life of the process.
struct Phrase {
  const char* text = "";
};

// Every phrase of the notice, by its catalogue key (without the "notice." domain). notice_test
// checks that each one is in the catalogue in every language.
// clang-format off
#define DOVIRA_NOTICE_PHRASES(X) \
  /* Header. */ \
  X(title) X(version) X(published) X(effective) X(explicit_consent_version) X(contents) \
  X(default_intro) X(scope) X(authoritative) \
  /* Section headings, without their numbers. */ \
  X(h_who) X(h_whose) X(h_what) X(h_why) X(h_consent) X(h_recipients) X(h_retention) \
  X(h_rights) X(h_children) X(h_cookies) X(h_marketing_ad) X(h_security) X(h_changes) \
  X(h_resolutions) \
  /* Shared. */ \
  X(dash) X(or_word) X(lbl_term) X(lbl_channels) \
  /* 1. Who we are. */ \
  X(controller_is) X(processor_is) X(processor_rights) X(lbl_legal_name) X(lbl_kind) \
  X(lbl_reg_id) X(lbl_address) X(lbl_email) X(lbl_phone) X(lbl_website) X(lbl_jurisdiction) \
  X(h_contacts) X(lbl_rights_requests) X(lbl_support) X(lbl_policy_comments) \
  X(lbl_child_data_reports) X(lbl_security_reports) X(h_people) X(lbl_responsible_person) \
  X(lbl_security_officer) X(lbl_authorised_representative) X(h_laws) X(laws_intro) \
  /* 2. Whose data. */ \
  X(subjects_intro) X(h_sources) X(automatic_notice) X(imports) X(import_attestation) \
  /* 3. What data. */ \
  X(data_intro) X(special_mark) X(stored_apart) X(technical_explained) X(excluded_intro) \
  /* 4. Why. */ \
  X(purposes_intro) X(no_purposes) X(lbl_basis) X(lbl_consent_type) X(lbl_data) \
  X(lbl_retention) X(lbl_recipients) X(lbl_subjects) X(while_needed) X(marketing_flag) \
  X(profiling_flag) X(depersonalised_flag) X(not_for_minors) X(h_reuse) X(reuse_allowed) \
  X(reuse_needs_consent) X(reuse_forbidden) X(combine_never) X(combine_depersonalised) X(anonymisation_k) X(anonymisation_l) \
  /* 5. Consent. */ \
  X(consent_intro) X(no_consents) X(lbl_grants) X(lbl_consent_term) X(until_withdrawn) \
  X(lbl_withdraw) X(lbl_withdraw_channels) X(lbl_given_via) X(consent_evidence) \
  X(checkboxes_intro) X(quoted) X(checkbox_required) X(checkbox_optional) X(checkbox_preticked) \
  X(checkbox_unticked) \
  /* 6. Recipients and transfers. */ \
  X(recipients_intro) X(no_recipients) X(col_recipient) X(col_role) X(col_purposes) \
  X(col_countries) X(col_safeguard) X(col_data_form) X(confidentiality) X(formal_request) \
  X(h_transfers) X(xborder_denied) X(xborder_allowed) X(lbl_xborder_bases) \
  X(lbl_xborder_safeguards) X(xborder_scope_contract) X(xborder_scope_all) X(eu_scc) \
  X(scc_copies) X(remote_access) X(h_storage) X(lbl_storage_regions) \
  /* 7. How long. */ \
  X(retention_intro) X(col_purpose) X(col_retention) X(after_destroy) X(after_anonymise) \
  X(after_either) X(lbl_inactivity) X(lbl_backup) X(legal_min_intro) X(col_category) \
  X(col_min_term) X(col_law) \
  /* 8. Rights. */ \
  X(rights_intro) X(rights_processor) X(no_rights) X(lbl_answer_term) X(clock_pauses) \
  X(lbl_fee) X(lbl_how) X(lbl_identity) X(eu_scope) X(block_on_filing) X(lbl_exception) \
  X(evidence_required) X(notify_recipients) X(lbl_lookback) X(lookback_all) X(lbl_formats) \
  X(transmit_third) X(h_withdrawal) X(lbl_then) X(default_return) X(default_delete) \
  X(storage_need_check) X(h_unlawful) X(unlawful_intro) X(lbl_stop) X(lbl_destroy) \
  X(unlawful_notify) X(unlawful_processors) X(h_action_notice) X(action_notice) X(h_claims) \
  X(claims) X(h_authorities) X(authorities_intro) \
  /* 9. Children. */ \
  X(minors_none) X(minors_self) X(minors_birth) X(lbl_threshold) X(age_map_intro) \
  X(rep_required) X(rep_not_accepted) X(rep_verified) X(lbl_never_under) X(never_under_note) \
  X(lbl_child_deletion) X(reconsent) X(minors_no_marketing) X(minors_excluded_purposes) \
  X(lbl_child_reports) \
  /* 10. Cookies. */ \
  X(cookies_none) X(cookies_intro) X(col_cookie_name) X(col_provider) X(col_cookie_category) \
  X(col_cookie_purpose) X(col_lifetime) X(session) X(cookies_consent_for) \
  X(necessary_no_consent) X(lbl_consent_cookie) X(lbl_consent_ttl) X(lbl_third_party_tools) \
  X(beacons_yes) X(beacons_no) X(cookies_manage) \
  /* 11. Marketing, automated decisions and profiling. */ \
  X(h_marketing) X(mkt_none) X(mkt_opt_in) X(mkt_opt_out) X(lbl_contact_sources) \
  X(mkt_granular) X(lbl_optout) X(lbl_mkt_purposes) X(h_automated) X(ad_none) X(ad_allowed) \
  X(ad_review) X(profiling_none) X(profiling_yes) X(lbl_profiling_purposes) \
  X(lbl_profiling_attributes) X(profiling_no_effect) X(lbl_profiling_effect) X(ad_eu_scope) \
  /* 12. Security. */ \
  X(security_intro) X(sec_encryption) X(sec_need_to_know) X(sec_audit) X(sec_mfa) \
  X(sec_password_rotation) X(sec_stored_apart) X(sec_assessment) X(sec_checks) \
  X(lbl_breach_reports) \
  /* 13. Changes. */ \
  X(change_on_posting) X(change_unless_stated) X(change_after_notice) X(change_advance) \
  X(lbl_notify_channels) X(accept_continued) X(accept_explicit) X(review_interval) \
  X(review_law) \
  /* 14. Resolutions. */ \
  X(resolutions_none) X(resolutions_intro) X(lbl_choice) X(lbl_reason) X(lbl_approved) X(dpo_edition)
// clang-format on

struct Phrases {
#define DOVIRA_NOTICE_PHRASE_MEMBER(name) Phrase name;
  DOVIRA_NOTICE_PHRASES(DOVIRA_NOTICE_PHRASE_MEMBER)
#undef DOVIRA_NOTICE_PHRASE_MEMBER
};

// The language's phrases. A key the catalogue lacks in `lang` falls back to English, and one it
// lacks everywhere reads as its own key (i18n::Text), so a missing sentence shows up in the output.
const Phrases& PhrasesFor(Lang lang);

// The catalogue key of every phrase, in the order of Phrases ("title", "version", ...).
const std::vector<std::string_view>& PhraseKeys();

// The policy's closed vocabularies, each code with its words in the three languages.
enum class Vocab {
  kLanguageIn,  // "uk" -> "українською мовою" (used after "the text ... prevails")
  kControllerKind,      // company | sole_proprietor | individual
  kSource,              // collection sources
  kSpecialType,         // special-category types
  kBasis,               // lawful bases
  kRetentionAnchor,     // purpose retention_from
  kPermission,          // consent permissions
  kChannel,             // form, consent, rights, marketing and notification channels
  kRecipientKind,       // recipient kinds
  kSafeguard,           // a recipient's safeguard
  kTransferBasis,       // transfers.bases
  kTransferSafeguard,   // transfers.safeguards
  kDataForm,            // identified | depersonalised
  kCountry,             // ISO 3166 alpha-2, EU, EEA
  kFee,                 // right fees
  kVerification,        // identity_verification
  kVerificationMethod,  // verification_methods
  kEuTrigger,           // eu_overlay.trigger
  kRightTitle,          // right ids
  kRightText,           // right ids: a plain explanation
  kWithdrawalEffect,    // withdrawal.effect
  kWithdrawalThen,      // withdrawal.then
  kCookieCategory,      // cookie categories
  kAdException,         // automated_decisions.exceptions
  kOfficer,             // officer ids, as in resolutions' approved_by
  kBlockException,      // rights.<right>.block_exception
  kScope,               // school.scope items that are codes rather than addresses or words
};

// The catalogue name of a vocabulary: Vocab::kRetentionAnchor -> "retention_anchor".
std::string_view VocabName(Vocab vocab);

// The words for `code` in `lang` ("notice.vocab.<vocabulary>.<code>"), or nullopt when the
// catalogue has no such code in that vocabulary.
std::optional<std::string_view> Lookup(Vocab vocab, std::string_view code, Lang lang);

}  // namespace dovira::notice::internal
