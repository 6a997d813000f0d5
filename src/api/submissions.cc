#include "api/submissions.h"

#include <algorithm>

namespace dovira::api {

namespace {

// Optional string members into their places ("" when absent or null); the first of the wrong
// type is the error.
Status ReadStrings(const Json& obj,
                   std::initializer_list<std::pair<const char*, std::string*>> members) {
  for (auto [key, dst] : members) {
    auto v = OptString(obj, key);
    if (!v.ok()) return v.error();
    *dst = v->value_or("");
  }
  return Status::Ok();
}

}  // namespace

// Fields given as a JSON object of scalar values; numbers and booleans are taken as their text.
Result<std::map<std::string, std::string>> FieldValues(const Json& body) {
  std::map<std::string, std::string> out;
  auto it = body.find("fields");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return Error{ErrorCode::kInvalidArgument, "\"fields\" must be an object of field values",
                 "fields", "invalid_field"};
  }
  for (auto f = it->begin(); f != it->end(); ++f) {
    const Json& v = f.value();
    if (v.is_string()) {
      out[f.key()] = v.get<std::string>();
    } else if (v.is_number_integer() || v.is_number_float() || v.is_boolean()) {
      out[f.key()] = v.dump();
    } else if (v.is_null()) {
      continue;
    } else {
      return Error{ErrorCode::kInvalidArgument,
                   "field \"" + f.key().substr(0, 64) + "\" must be a string, number or boolean",
                   f.key().substr(0, 64), "invalid_field"};
    }
  }
  return out;
}

Result<std::optional<domain::Representative>> RepresentativeOf(const Json& body) {
  auto it = body.find("representative");
  if (it == body.end() || it->is_null()) return std::optional<domain::Representative>();
  if (!it->is_object()) {
    return Error{ErrorCode::kInvalidArgument, "\"representative\" must be an object",
                 "representative", "invalid_field"};
  }
  Status only = OnlyKeys(*it, {"name", "relation", "email", "permission_at"});
  if (!only.ok()) return only.error();
  domain::Representative r;
  Status strings = ReadStrings(*it, {{"name", &r.name},
                                     {"relation", &r.relation},
                                     {"email", &r.email},
                                     {"permission_at", &r.permission_at}});
  if (!strings.ok()) return strings.error();
  return std::optional<domain::Representative>(r);
}


Result<domain::Submission> SubmissionFrom(const Json& body, const std::string& lang) {
  domain::Submission s;
  auto fields = FieldValues(body);
  if (!fields.ok()) return fields.error();
  s.fields = std::move(*fields);
  auto consents = OptStringList(body, "consents");
  if (!consents.ok()) return consents.error();
  s.ticked = std::move(*consents);
  auto accept = OptBool(body, "accept_policy");
  if (!accept.ok()) return accept.error();
  s.accept_policy = accept->value_or(false);
  auto l = OptString(body, "lang");
  if (!l.ok()) return l.error();
  s.lang = l->value_or(lang);
  if (s.lang != "uk" && s.lang != "ru" && s.lang != "en") {
    return Error{ErrorCode::kInvalidArgument, "lang must be uk, ru or en", "lang", "invalid_field"};
  }
  Status strings = ReadStrings(body, {{"age_statement", &s.age_statement},
                                      {"country", &s.country},
                                      {"citizenship", &s.citizenship},
                                      {"date_of_majority", &s.date_of_majority},
                                      {"evidence_document", &s.evidence_document}});
  if (!strings.ok()) return strings.error();
  auto rep = RepresentativeOf(body);
  if (!rep.ok()) return rep.error();
  s.representative = *rep;
  return s;
}


namespace {

// The members of one import row (a JSON line, or a CSV row's columns, nested ones dotted).
const std::vector<std::string> kRowKeys = {
    "form",    "kind",        "channel",       "source",         "fields",
    "consents", "accept_policy", "lang",        "country",        "citizenship",
    "age_statement", "representative", "evidence_document", "date_of_majority"};
const std::vector<std::string> kRepresentativeKeys = {"name", "relation", "email",
                                                      "permission_at"};

Result<domain::Submission> RowSubmission(const Json& row, const std::string& lang) {
  Status only = OnlyKeys(row, kRowKeys);
  if (!only.ok()) return only.error();
  auto sub = SubmissionFrom(row, lang);
  if (!sub.ok()) return sub.error();
  Status strings = ReadStrings(row, {{"form", &sub->form},
                                     {"kind", &sub->subject_kind},
                                     {"channel", &sub->channel},
                                     {"source", &sub->source}});
  if (!strings.ok()) return strings.error();
  return sub;
}

// The row's submission, or why it cannot be one.
void ReadRow(const Json& j, const std::string& lang, services::ImportRow& row) {
  auto sub = RowSubmission(j, lang);
  if (sub.ok()) {
    row.submission = std::move(*sub);
  } else {
    row.unreadable = sub.error();
  }
}

Error Unreadable(std::string reason, std::string message,
                 std::vector<std::pair<std::string, std::string>> args = {}) {
  Error e{ErrorCode::kInvalidArgument, std::move(message), {}, std::move(reason)};
  e.args = std::move(args);
  return e;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool KnownColumn(const std::string& c) {
  if (c.rfind("fields.", 0) == 0) return c.size() > 7;
  if (c.rfind("representative.", 0) == 0) {
    const std::string k = c.substr(15);
    return std::find(kRepresentativeKeys.begin(), kRepresentativeKeys.end(), k) !=
           kRepresentativeKeys.end();
  }
  return c != "fields" && c != "representative" &&
         std::find(kRowKeys.begin(), kRowKeys.end(), c) != kRowKeys.end();
}

}  // namespace

Result<std::unique_ptr<ImportReader>> ImportReader::Open(std::istream& in, ImportFormat format,
                                                         std::string lang) {
  std::unique_ptr<ImportReader> r(new ImportReader(in, format, std::move(lang)));
  if (format == ImportFormat::kJsonLines) return r;
  std::vector<std::string> header;
  size_t first = 0;
  bool complete = true;
  do {
    if (!r->ReadCsvRecord(header, first, complete)) {
      return Unreadable("import_header_missing", "the file has no header row");
    }
  } while (header.size() == 1 && Trim(header[0]).empty());
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);
  for (auto& c : header) {
    c = Trim(c);
    if (!KnownColumn(c)) {
      return Unreadable("import_column_unknown",
                        "the header names an unknown column \"" + c.substr(0, 64) + "\"",
                        {{"column", c.substr(0, 64)}});
    }
    if (std::find(r->columns_.begin(), r->columns_.end(), c) != r->columns_.end()) {
      return Unreadable("import_column_repeated",
                        "the header names the column \"" + c + "\" twice", {{"column", c}});
    }
    r->columns_.push_back(c);
  }
  return r;
}

bool ImportReader::Next(services::ImportRow& row) {
  row = services::ImportRow{};
  return format_ == ImportFormat::kJsonLines ? NextJsonLine(row) : NextCsvRow(row);
}

bool ImportReader::NextJsonLine(services::ImportRow& row) {
  std::string line;
  while (std::getline(in_, line)) {
    ++line_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) continue;
    row.line = line_;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      row.unreadable = Unreadable("import_line_invalid",
                                  "line " + std::to_string(line_) + " is not a JSON object");
      return true;
    }
    ReadRow(j, lang_, row);
    return true;
  }
  return false;
}

bool ImportReader::ReadCsvRecord(std::vector<std::string>& cells, size_t& first_line,
                                 bool& complete) {
  std::string line;
  if (!std::getline(in_, line)) return false;
  first_line = ++line_;
  complete = true;
  cells.clear();
  std::string cell;
  bool in_quotes = false;
  bool quoted = false;  // the cell began with a quote
  while (true) {
    if (!in_quotes && !line.empty() && line.back() == '\r') line.pop_back();
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (in_quotes) {
        if (c != '"') {
          cell += c;
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else if (c == '"' && cell.empty() && !quoted) {
        in_quotes = quoted = true;
      } else if (c == ',') {
        cells.push_back(std::move(cell));
        cell.clear();
        quoted = false;
      } else {
        cell += c;
      }
    }
    if (!in_quotes) break;
    // A quoted cell goes on over the line break.
    if (!std::getline(in_, line)) {
      complete = false;
      break;
    }
    ++line_;
    cell += '\n';
  }
  cells.push_back(std::move(cell));
  return true;
}

bool ImportReader::NextCsvRow(services::ImportRow& row) {
  std::vector<std::string> cells;
  size_t first = 0;
  bool complete = true;
  do {
    if (!ReadCsvRecord(cells, first, complete)) return false;
  } while (cells.size() == 1 && cells[0].empty() && columns_.size() > 1);
  row.line = first;
  if (!complete) {
    row.unreadable = Unreadable("import_quote_open",
                                "a quoted cell that begins on line " + std::to_string(first) +
                                    " is not closed before the end of the file");
    return true;
  }
  if (cells.size() != columns_.size()) {
    row.unreadable = Unreadable(
        "import_cells",
        "line " + std::to_string(first) + " has " + std::to_string(cells.size()) +
            " cells where the header names " + std::to_string(columns_.size()) + " columns",
        {{"cells", std::to_string(cells.size())}, {"columns", std::to_string(columns_.size())}});
    return true;
  }
  Json j = Json::object();
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string& c = columns_[i];
    std::string& v = cells[i];
    if (v.empty()) continue;
    if (c.rfind("fields.", 0) == 0) {
      j["fields"][c.substr(7)] = std::move(v);
    } else if (c.rfind("representative.", 0) == 0) {
      j["representative"][c.substr(15)] = std::move(v);
    } else if (c == "consents") {
      Json list = Json::array();
      size_t start = 0;
      while (start <= v.size()) {
        size_t end = v.find(';', start);
        if (end == std::string::npos) end = v.size();
        std::string id = Trim(v.substr(start, end - start));
        if (!id.empty()) list.push_back(id);
        start = end + 1;
      }
      j["consents"] = std::move(list);
    } else if (c == "accept_policy") {
      std::string t = Trim(v);
      std::transform(t.begin(), t.end(), t.begin(), [](unsigned char ch) {
        return static_cast<char>(std::tolower(ch));
      });
      if (t == "true" || t == "1" || t == "yes") {
        j[c] = true;
      } else if (t == "false" || t == "0" || t == "no") {
        j[c] = false;
      } else {
        row.unreadable = Error{ErrorCode::kInvalidArgument,
                               "\"accept_policy\" must be true or false", "accept_policy",
                               "invalid_field"};
        return true;
      }
    } else {
      j[c] = std::move(v);
    }
  }
  ReadRow(j, lang_, row);
  return true;
}

}  // namespace dovira::api
