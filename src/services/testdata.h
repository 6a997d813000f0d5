// Pseudonymised test data (R91, 003 §22.9): a copy of one school's data for a test system, with
// every direct identifier replaced by a keyed pseudonym, free text dropped, and the key that could
// map the pseudonyms back written to a file of its own, apart from the export; and the other side,
// loading such an export into a data directory of an environment tagged `test`, which refuses an
// export that is not marked pseudonymised or holds a value that looks real.
//
// The export is a directory of JSON Lines files, one JSON object a line (docs/testdata.md):
//   manifest.json   {"format":"dovira-testdata-v1","pseudonymised":true,"school","policy_version",
//                    "exported_at","key_fingerprint","counts":{table: rows},"fields":{field:
//                    treatment}}
//   subjects.jsonl  id, kind, policy_version, channel, form, source, state, guardian, minor,
//                   country, lang, created_at, updated_at
//   records.jsonl   id, subject, store, field, category, value (null when dropped), treatment,
//                   source, channel, form, policy_version, collected_at, updated_at
//   consents.jsonl  id, subject, consent_type, grants, action, policy_version, text, text_sha256,
//                   lang, channel, form, checkbox, given_by, guardian, at, expires_at
//   requests.jsonl  id, type, state, subject, open, overdue, assignee, received_at, due_at,
//                   updated_at, right, channel, lang, fields, purposes, consents, outcome
// Ids (subjects, records, consents, requests, staff) are replaced by keyed pseudonyms of the same
// shape, so the same subject has the same id in every table; the evidence of consents, the sealed
// part of requests (reply address, statement), reasons and notes typed by staff are left out.
//
// Pseudonyms are keyed BLAKE2b (ports::Crypto::KeyedHash) under a fresh random key per export: the
// same value gives the same pseudonym in every table of one export and a different one in the next.
// They keep the value's shape: an e-mail stays an address on the reserved domain example.invalid,
// a phone keeps its length and separators with other digits, a name keeps its letters' case and
// script, an IP address falls in a range reserved for tests. The key file holds the key (hex)
// only; whoever holds it and the production data can recompute a pseudonym (PseudonymOf) and find
// whom it stands for; the export alone cannot.
//
// Thread-safety: TestDataService is safe for concurrent use; Pseudonymiser is immutable.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"
#include "services/audit_log.h"
#include "services/context.h"
#include "services/schools.h"
#include "services/subjects.h"

namespace dovira::services {

// What becomes of one field's values in a test export, decided from the policy:
//  - kDrop: free text (`text`), files, a special category's free strings, and direct identifiers
//    that have no shape a pseudonym could keep (an enum, a country);
//  - kPseudonymise: direct identifiers (`identifier = "direct"`, a category of kind `contact` or
//    `identity_document`, every e-mail, phone and IP address) and indirect ones of a free shape
//    (strings, URLs);
//  - kGeneralise: dates and date-times that identify, cut to the first day of their month;
//  - kKeep: everything else (enums, amounts, classes, the non-identifying attributes).
enum class FieldTreatment { kKeep, kPseudonymise, kGeneralise, kDrop };
FieldTreatment TreatmentOf(const policy::Policy& policy, const policy::Field& field);
const char* TreatmentName(FieldTreatment t);

// Keyed pseudonyms that keep a value's shape (see the file comment).
class Pseudonymiser {
 public:
  Pseudonymiser(ports::Crypto& crypto, const ports::SecretKey& key);

  // An identifier of kind `kind` ("subject", "record", ...): as many characters as `id`, digits
  // for digits and letters of the lower-case base32 alphabet for the rest, '-' and '_' kept.
  std::string Id(std::string_view kind, std::string_view id) const;
  // A field value of the policy's field type `type` (email, phone, ip, url, or any other).
  std::string Value(const std::string& type, const std::string& value) const;

 private:
  // At least `n` bytes of keyed BLAKE2b over (domain, value).
  std::string Stream(std::string_view domain, std::string_view value, size_t n) const;
  std::string Email(const std::string& value) const;
  std::string Phone(const std::string& value) const;
  std::string Ip(const std::string& value) const;
  std::string Url(const std::string& value) const;
  std::string Chars(std::string_view domain, const std::string& value) const;

  ports::Crypto& crypto_;
  ports::SecretKey key_;
};

// A date (YYYY-MM-DD) or date-time cut to the first day of its month; "" when not one.
std::string GeneraliseDate(const std::string& type, const std::string& value);

struct TestDataExport {
  std::string out_dir;  // created; must not exist or be empty
  std::string key_out;  // the key file; refused inside out_dir
};

struct TestDataReport {
  int64_t subjects = 0, records = 0, consents = 0, requests = 0;
  int64_t pseudonymised = 0, generalised = 0, dropped = 0;  // record values
  std::string key_fingerprint;  // hex BLAKE2b of the key: names the key without revealing it
};

// One problem an export check found: the file, its line (0: the file as a whole) and what.
struct ExportProblem {
  std::string file;
  int64_t line = 0;
  std::string field;
  std::string what;
};

// Checks an export directory before it is loaded into a test environment: the manifest says
// `pseudonymised: true` in the known format, every table parses and has the manifest's row count,
// and no value looks real: every e-mail address is on example.invalid, every IP address in the
// ranges pseudonyms use, and a value of a field the policy would pseudonymise or drop is the
// pseudonym's shape or absent. Returns every problem found (empty: the export may be loaded).
std::vector<ExportProblem> CheckExport(const std::string& dir, const policy::Policy& policy);

// The same check over the files' contents, by name ("manifest.json", "<table>.jsonl"); a name
// absent from `files` is a missing file. Any bytes are accepted (the fuzz target drives it).
using ExportFiles = std::map<std::string, std::string>;
std::vector<ExportProblem> CheckExportFiles(const ExportFiles& files,
                                            const policy::Policy& policy);

class TestDataService {
 public:
  TestDataService(Deps deps, Schools& schools, SubjectService& subjects, AuditLog& audit);

  // Writes the export (the file comment) and the key file (mode 0600), then commits one audit
  // entry `testdata.export` naming the actor and the counts (no personal data). Errors:
  // kInvalidArgument naming "out" (exists and is not empty) or "key_out" (inside the export, or
  // exists); kUnavailable for a file that cannot be written; kNotFound for an unknown school.
  Result<TestDataReport> Export(const SchoolId& school, const TestDataExport& options,
                                const Actor& actor, const RequestContext& ctx);

  // Loads an export into this school of a data directory tagged `environment`. For "test" the
  // export must pass CheckExport, else kRefused "not_pseudonymised" whose message names the first
  // problem (file, line, field) and nothing is loaded. Every other environment is refused
  // ("environment_not_test"): test data belong in test systems only. Each subject gets a fresh
  // data key; records are sealed under it; consents and requests are stored as exported; one
  // audit entry `testdata.import` with the counts.
  Result<TestDataReport> Import(const SchoolId& school, const std::string& dir,
                                const std::string& environment, const Actor& actor,
                                const RequestContext& ctx);

 private:
  Deps deps_;
  Schools& schools_;
  SubjectService& subjects_;
  AuditLog& audit_;
};

// The pseudonym an export keyed with `key_hex` (the key file's "key") gave the identifier `id` of
// kind `kind` ("subject", "record", "consent", "request", "staff"): how the key maps back.
Result<std::string> PseudonymOf(ports::Crypto& crypto, const std::string& key_hex,
                                std::string_view kind, std::string_view id);

}  // namespace dovira::services
