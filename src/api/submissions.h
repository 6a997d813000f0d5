// Submissions read from what people and other systems send: the JSON body of a form or of the
// subjects route, and the rows of a bulk import (CSV or JSON lines), all into domain::Submission
// for the one validation of intake (domain::ValidateSubmission).
//
// A bulk import file:
// - JSON lines (application/x-ndjson): one JSON object per line, with the members of
//   POST /v1/schools/{school}/subjects ("kind", "channel", "source", "fields", "lang", "country",
//   "citizenship", "age_statement", "representative", "evidence_document", "date_of_majority")
//   and, for rows taken on one of the policy's forms, "form", "consents" (the ticked check-boxes)
//   and "accept_policy". Blank lines are skipped.
// - CSV (text/csv, RFC 4180: commas, double quotes, "" for a quote, CRLF or LF): a header row
//   naming the same members, nested ones dotted ("fields.email", "representative.name"); the
//   cells of "consents" are check-box ids separated by ";"; "accept_policy" is true/false (or
//   1/0, yes/no). An empty cell is a member not given.
// A row that cannot be read (not JSON, a wrong type, a CSV row with more or fewer cells than the
// header) is refused on its own, with its line; a header that names an unknown column refuses
// the whole file before any row is read.
//
// Thread-safety: an ImportReader is used by one thread; the functions are reentrant.
#pragma once

#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/http_util.h"
#include "domain/intake.h"
#include "services/subjects.h"

namespace dovira::api {

// Fields given as a JSON object of scalar values; numbers and booleans are taken as their text.
Result<std::map<std::string, std::string>> FieldValues(const Json& body);
// The "representative" member, if any.
Result<std::optional<domain::Representative>> RepresentativeOf(const Json& body);
// The members common to a form's submission and an API intake (fields, consents,
// accept_policy, lang, age_statement, country, citizenship, representative, date_of_majority,
// evidence_document); `lang` when the body names none.
Result<domain::Submission> SubmissionFrom(const Json& body, const std::string& lang);

enum class ImportFormat { kJsonLines, kCsv };

// The rows of an import file, one at a time, from `in` (which must outlive the reader).
class ImportReader : public services::ImportSource {
 public:
  // Reads the header of a CSV file. Errors (kInvalidArgument): an empty file
  // ("import_header_missing"), a header with an unknown or repeated column
  // ("import_column_unknown", "import_column_repeated", args "column").
  static Result<std::unique_ptr<ImportReader>> Open(std::istream& in, ImportFormat format,
                                                    std::string lang);

  bool Next(services::ImportRow& row) override;

 private:
  ImportReader(std::istream& in, ImportFormat format, std::string lang)
      : in_(in), format_(format), lang_(std::move(lang)) {}
  // One CSV record (cells) starting at the current line; false at the end of the input.
  // `complete` is false when a quoted cell runs to the end of the input.
  bool ReadCsvRecord(std::vector<std::string>& cells, size_t& first_line, bool& complete);
  bool NextJsonLine(services::ImportRow& row);
  bool NextCsvRow(services::ImportRow& row);

  std::istream& in_;
  ImportFormat format_;
  std::string lang_;
  size_t line_ = 0;  // lines consumed so far
  std::vector<std::string> columns_;
};

}  // namespace dovira::api
