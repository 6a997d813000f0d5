// Internal to dovira_notice: the fixed wording of the notice in each language. Sentences live in
// one Phrases table per language; the words for the policy's closed vocabularies (lawful bases,
// recipient kinds, channels, countries, rights ...) live in rows of three translations.
// "{}" in a phrase is replaced by an argument, in order (see Fill in render.cc).
//
// Thread-safety: constant tables; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace dovira::notice::internal {

enum class Lang { kUk, kRu, kEn };

// "uk", "ru" or "en"; nullopt for anything else.
std::optional<Lang> ParseLang(std::string_view code);
const char* LangCode(Lang lang);

// One phrase. There is deliberately no default constructor: a Phrases table that leaves a member
// out does not compile, so no language can silently miss a sentence.
struct Phrase {
  constexpr Phrase(const char* t) : text(t) {}  // NOLINT(google-explicit-constructor)
  const char* text;
};

struct Phrases {
  // Header.
  Phrase title, version, published, effective, explicit_consent_version, contents, default_intro,
      scope, authoritative;
  // Section headings, without their numbers.
  Phrase h_who, h_whose, h_what, h_why, h_consent, h_recipients, h_retention, h_rights, h_children,
      h_cookies, h_marketing_ad, h_security, h_changes, h_resolutions;
  // Shared.
  Phrase dash, or_word, lbl_term, lbl_channels;
  // 1. Who we are.
  Phrase controller_is, processor_is, processor_rights, lbl_legal_name, lbl_kind, lbl_reg_id,
      lbl_address, lbl_email, lbl_phone, lbl_website, lbl_jurisdiction, h_contacts,
      lbl_rights_requests, lbl_support, lbl_policy_comments, lbl_child_data_reports,
      lbl_security_reports, h_people, lbl_responsible_person, lbl_security_officer,
      lbl_authorised_representative, h_laws, laws_intro;
  // 2. Whose data.
  Phrase subjects_intro, h_sources, automatic_notice, imports, import_attestation;
  // 3. What data.
  Phrase data_intro, special_mark, stored_apart, technical_explained, excluded_intro;
  // 4. Why.
  Phrase purposes_intro, no_purposes, lbl_basis, lbl_consent_type, lbl_data, lbl_retention,
      lbl_recipients, lbl_subjects, while_needed, marketing_flag, profiling_flag,
      depersonalised_flag, not_for_minors, h_reuse, reuse_allowed, reuse_needs_consent,
      reuse_forbidden, combine_never, combine_depersonalised;
  // 5. Consent.
  Phrase consent_intro, no_consents, lbl_grants, lbl_consent_term, until_withdrawn, lbl_withdraw,
      lbl_withdraw_channels, lbl_given_via, consent_evidence, checkboxes_intro, quoted,
      checkbox_required, checkbox_optional, checkbox_preticked, checkbox_unticked;
  // 6. Recipients and transfers.
  Phrase recipients_intro, no_recipients, col_recipient, col_role, col_purposes, col_countries,
      col_safeguard, col_data_form, confidentiality, formal_request, h_transfers, xborder_denied,
      xborder_allowed, lbl_xborder_bases, lbl_xborder_safeguards, xborder_scope_contract,
      xborder_scope_all, eu_scc, scc_copies, remote_access, h_storage, lbl_storage_regions;
  // 7. How long.
  Phrase retention_intro, col_purpose, col_retention, after_destroy, after_anonymise, after_either,
      lbl_inactivity, lbl_backup, legal_min_intro, col_category, col_min_term, col_law;
  // 8. Rights.
  Phrase rights_intro, rights_processor, no_rights, lbl_answer_term, clock_pauses, lbl_fee, lbl_how,
      lbl_identity, eu_scope, block_on_filing, lbl_exception, evidence_required, notify_recipients,
      lbl_lookback, lookback_all, lbl_formats, transmit_third, h_withdrawal, lbl_then,
      default_return, default_delete, storage_need_check, h_unlawful, unlawful_intro, lbl_stop,
      lbl_destroy, unlawful_notify, unlawful_processors, h_action_notice, action_notice, h_claims,
      claims, h_authorities, authorities_intro;
  // 9. Children.
  Phrase minors_none, minors_self, minors_birth, lbl_threshold, age_map_intro, rep_required,
      rep_not_accepted, rep_verified, lbl_never_under, never_under_note, lbl_child_deletion,
      reconsent, minors_no_marketing, minors_excluded_purposes, lbl_child_reports;
  // 10. Cookies.
  Phrase cookies_none, cookies_intro, col_cookie_name, col_provider, col_cookie_category,
      col_cookie_purpose, col_lifetime, session, cookies_consent_for, necessary_no_consent,
      lbl_consent_cookie, lbl_consent_ttl, lbl_third_party_tools, beacons_yes, beacons_no,
      cookies_manage;
  // 11. Marketing, automated decisions and profiling.
  Phrase h_marketing, mkt_none, mkt_opt_in, mkt_opt_out, lbl_contact_sources, mkt_granular,
      lbl_optout, lbl_mkt_purposes, h_automated, ad_none, ad_allowed, ad_review, profiling_none,
      profiling_yes, lbl_profiling_purposes, lbl_profiling_attributes, profiling_no_effect,
      lbl_profiling_effect, ad_eu_scope;
  // 12. Security.
  Phrase security_intro, sec_encryption, sec_need_to_know, sec_audit, sec_mfa,
      sec_password_rotation, sec_stored_apart, sec_assessment, sec_checks, lbl_breach_reports;
  // 13. Changes.
  Phrase change_on_posting, change_unless_stated, change_after_notice, change_advance,
      lbl_notify_channels, accept_continued, accept_explicit, review_interval, review_law;
  // 14. Resolutions.
  Phrase resolutions_none, resolutions_intro, lbl_choice, lbl_reason, lbl_approved;
};

const Phrases& PhrasesFor(Lang lang);

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
};

// The words for `code` in `lang`, or nullopt when the vocabulary has no such code.
std::optional<std::string_view> Lookup(Vocab vocab, std::string_view code, Lang lang);

}  // namespace dovira::notice::internal
