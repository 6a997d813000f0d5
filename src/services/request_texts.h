// The texts of the messages requests send (R36, R47, R64): subject lines and bodies in Ukrainian,
// Russian and English, with {placeholders} filled by the caller. Plain text, so that every answer
// is readable without a client that renders HTML.
//
// Thread-safety: pure functions over constant tables.
#pragma once

#include <map>
#include <string>

namespace dovira::services {

// The language to write in: `lang` when it is uk, ru or en, else uk.
std::string MessageLang(const std::string& lang);

// The subject line and the body of message `kind` in `lang`, with each {key} replaced by
// vars[key]. Kinds: received, identity_code, sign_in_code, answer, no_data, rejected, action_notice,
// restriction_lifted, objection_decided, erasure_offer, warning, overdue, recipient_notice,
// legal_hold_ended; and the answer lines legal_hold_erased and legal_hold_kept (body only; R50).
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

// The name of a request type in `lang` ("access" → "доступ до даних").
std::string RequestTypeName(const std::string& type, const std::string& lang);

}  // namespace dovira::services
