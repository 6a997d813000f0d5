// Intake rules: whether a submission (through one of the policy's forms, or through the API for
// the school's other systems) may be stored, and what exactly is stored. Pure: no I/O; the intake
// service seals and commits what this returns. A refused submission persists nothing.
//
// Refusals are Error::Refused with a client-facing reason:
//   form_unknown, field_undeclared, field_not_in_form, field_required, field_invalid,
//   subject_kind_undeclared, channel_invalid, source_not_allowed, policy_not_accepted,
//   consent_required, consent_unknown, age_statement_required, minor_not_accepted,
//   child_under_minimum, representative_required, no_fields; field_invalid also for a
//   date_of_majority that is not a date, is not in the future, or comes without a minor.
// The form, subject kind, channel and source are checked first and refuse at once; after them
// every problem is collected (each value, each required field, each consent check-box, the policy
// acceptance, the age rules and each missing part of a representative's permission), and the
// refusal is the first with all of them in Error::problems (issue 12). Each carries the arguments
// of its reader's message (Error::args: "field", "consent", "variant", "max", "age").
//
// Thread-safety: reentrant.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "domain/compiled_policy.h"

namespace dovira::domain {

struct Representative {
  std::string name;
  std::string relation;  // parent, guardian, ...
  std::string email;
  std::string permission_at;  // YYYY-MM-DD the permission was given (R24)
};

struct Submission {
  std::string form;          // a form id; "" for API intake
  std::string subject_kind;  // API intake: required; forms fix it
  std::string channel;       // API intake: required; forms fix it
  std::string source = "subject";  // subject | client | offline | automatic | third_party
  std::map<std::string, std::string> fields;  // field id → value as text
  std::vector<std::string> ticked;            // ticked consent check-box ids (forms)
  bool accept_policy = false;
  std::string lang = "uk";
  std::string age_statement;  // "adult" | "minor" | "" (rule self_declaration)
  std::optional<Representative> representative;
  // R05: residence and citizenship are separate facts (two-letter codes, "" when not stated):
  // residence picks the per-country age map; either may bring in the EU overlay by its trigger.
  std::string country;  // residence
  std::string citizenship;
  // YYYY-MM-DD: the day a minor comes of age, stated with age_statement "minor" where the policy
  // collects no birth date (B06). "" when not stated.
  std::string date_of_majority;
  std::string evidence_document;  // a reference to a signed document (written consent, R18)
};

struct ValidatedConsent {
  std::string checkbox;
  std::string consent_type;
  std::string text;  // the exact text shown, in the submission's language
  std::string lang;
  std::vector<std::string> grants;  // purposes and permissions
  std::optional<calendar::Term> term;  // unset: indefinite
};

struct ValidatedSubmission {
  std::string subject_kind;
  std::string channel;
  std::string form;
  std::string source;
  std::map<std::string, std::string> fields;  // validated and normalised
  std::vector<ValidatedConsent> consents;
  bool minor = false;
  int64_t minor_until_us = 0;  // 0: adult or not known; kForever: minor, date unknown
  // The day of majority (local date in the school's time zone) when known; minor_until_us is the
  // first instant of that day there (B06).
  std::optional<calendar::Date> majority;
  std::optional<Representative> representative;
};

Result<ValidatedSubmission> ValidateSubmission(const CompiledPolicy& policy, const Submission& sub,
                                               Timestamp now);

// An e-mail address as stored and looked up: trimmed and lower-cased; nullopt when it is not a
// plausible address. Intake, lookups and reply addresses all go through it.
std::optional<std::string> NormaliseEmail(std::string_view text);

// Validates and normalises one value for `field` (trims e-mails to lower case, etc.).
// Error::Refused("field_invalid", ...) naming the field, with the arguments "field" and
// "variant" (what is wrong: "email", "phone", "too_long" with "max", "date", ...).
Result<std::string> ValidateFieldValue(const CompiledField& field, const std::string& value);

}  // namespace dovira::domain
