// The texts of the letters Dovira sends for a school (R36, R47, R64): subject lines and bodies in
// Ukrainian, Russian and English from the catalogue i18n/mail/<lang>.json, with {placeholders}
// filled by the caller; the dates in them as a person writes them, in the school's time zone; and
// the school's signature. Plain text, so that every letter is readable without a client that
// renders HTML.
//
// Thread-safety: pure functions over the read-only catalogue.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "calendar/calendar.h"
#include "common/clock.h"
#include "policy/model.h"

namespace dovira::services {

// The language to write in: `lang` when it is uk, ru or en, else uk.
std::string MessageLang(const std::string& lang);

// The subject line and the body of letter `kind` in `lang` (the catalogue's "<kind>.subject" and
// "<kind>.body"), with each {key} replaced by vars[key]. Kinds: received, identity_code,
// sign_in_code, reconsent_required, answer, no_data, rejected, action_notice, restriction_lifted,
// objection_decided, segment_decided, erasure_offer, warning, overdue, recipient_notice,
// legal_hold_ended, subscription_confirm, review_overdue, review_law_overdue (R117); and the
// answer lines legal_hold_erased and legal_hold_kept (body only; R50). An unknown kind comes back as its own subject, with no body.
struct MessageText {
  std::string subject;
  std::string body;
};
MessageText RenderMessage(const std::string& kind, const std::string& lang,
                          const std::map<std::string, std::string>& vars);

// R48: what happened to data a recipient received (rectification, erasure, restriction), as the
// recipient notice says it ("the data were corrected"), and the heading of its corrected values.
std::string RecipientEventText(const std::string& event, const std::string& lang);
std::string CorrectedValuesHeading(const std::string& lang);
// R50: the closing sentence of legal_hold_ended when nothing of the subject is left.
std::string ErasureCompleteText(const std::string& lang);

// The catalogue's text mail.<key> in `lang` with {placeholders} from `vars` ("" when missing).
std::string LetterText(const std::string& key, const std::string& lang,
                       const std::map<std::string, std::string>& vars = {});

// The name of a request type in `lang` ("access" → "доступ до даних").
std::string RequestTypeName(const std::string& type, const std::string& lang);

// The titles of the policy's fields (or purposes) `ids` in `lang`, joined by ", "; an id the
// policy does not know stays as it is; "-" for none.
// The titles of the categories `ids` in `lang`, joined as FieldTitles joins fields.
std::string CategoryTitles(const policy::Policy& policy, const std::vector<std::string>& ids,
                           const std::string& lang);
std::string FieldTitles(const policy::Policy& policy, const std::vector<std::string>& ids,
                        const std::string& lang);
std::string PurposeTitles(const policy::Policy& policy, const std::vector<std::string>& ids,
                          const std::string& lang);

// A day as a person writes it in `lang`: "31 грудня 2026 р.", "31 декабря 2026 г.",
// "31 December 2026".
std::string LetterDay(calendar::Date day, const std::string& lang);
// The school's local date of `t` (in the calendar's time zone), written as LetterDay does.
std::string LetterDate(const calendar::Calendar& cal, Timestamp t, const std::string& lang);
// The school's local date and time of `t` to the minute: "3 грудня 2026 р. о 18:19".
std::string LetterDateTime(const calendar::Calendar& cal, Timestamp t, const std::string& lang);
// A "YYYY-MM-DD" day as LetterDay writes it; any other text comes back as it is.
std::string LetterDayText(const std::string& iso_day, const std::string& lang);

// Who a school's letters come from (R36): one mailbox for every letter, the first of the policy's
// [contacts] rights_requests and support that is an e-mail address, else `fallback`; the school's
// name in `lang` as the display name; and the signature that closes every letter, the school's
// name and that mailbox.
struct LetterSender {
  std::string address;
  std::string name;
  std::string signature;
};
LetterSender SenderOf(const policy::Policy& policy, const std::string& lang,
                      const std::string& fallback);

}  // namespace dovira::services
