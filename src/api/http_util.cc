#include "api/http_util.h"

#include <algorithm>

namespace dovira::api {

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kRefused:
      return 422;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

ports::HttpResponse JsonResponse(int status, const Json& body) {
  ports::HttpResponse r;
  r.status = status;
  r.Header("Content-Type", "application/json; charset=utf-8");
  r.Header("Cache-Control", "no-store");
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

ports::HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message,
                                  const std::string& field) {
  Json err = {{"code", code}, {"message", message}, {"field", nullptr}};
  if (!field.empty()) err["field"] = field;
  return JsonResponse(status, Json{{"error", err}, {"errors", Json::array({err})}});
}

Json ErrorJson(const Error& e) {
  Json err = {{"code", e.ReasonOrCode()}, {"message", e.message}, {"field", nullptr}};
  if (!e.field.empty()) err["field"] = e.field;
  if (!e.args.empty()) {
    Json args = Json::object();
    for (const auto& [k, v] : e.args) args[k] = v;
    err["args"] = std::move(args);
  }
  return err;
}

namespace {

// The kind of failure an HTTP status stands for, for the generic texts.
const char* KindOfStatus(int status) {
  switch (status) {
    case 400:
    case 405:
    case 413:
    case 415:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
    case 423:
      return "permission_denied";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 422:
      return "refused";
    case 429:
      return "too_many_requests";
    case 503:
      return "unavailable";
    default:
      return "internal";
  }
}

std::string ArgText(const Json& args, const std::string& name) {
  auto it = args.find(name);
  return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

ports::HttpResponse ErrorResponse(const Error& e) {
  // A broken invariant or an unreachable dependency (the data store full or failing, a file
  // that cannot be read): the message names files, tables or a library's words, so the client
  // gets a stable code and a plain sentence, and the detail goes to the log (Api::Finished).
  if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kUnavailable) {
    const bool internal = e.code == ErrorCode::kInternal;
    ports::HttpResponse r =
        internal ? ErrorResponse(500, "internal", "The server could not complete the request.")
                 : ErrorResponse(503, e.reason.empty() ? "unavailable" : e.reason,
                                 "The service is unavailable for the moment; try again later.");
    r.log_detail = std::string(ErrorCodeName(e.code)) + ": " + e.message;
    return r;
  }
  Json all = Json::array();
  for (const Error& p : e.AllProblems()) all.push_back(ErrorJson(p));
  return JsonResponse(StatusFor(e.code), Json{{"error", all.front()}, {"errors", all}});
}

i18n::Lang ReaderLang(const ports::HttpRequest& req, const policy::Policy* policy) {
  std::string explicit_choice = QueryParam(req.query, "lang");
  if (!i18n::ParseLang(explicit_choice) &&
      req.Header("content-type").rfind("application/json", 0) == 0 && !req.body.empty()) {
    // A form sends the page's language in its body.
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_object() && body.contains("lang") && body["lang"].is_string()) {
      explicit_choice = body["lang"].get<std::string>();
    }
  }
  i18n::Lang fallback = i18n::Lang::kUk;
  if (policy != nullptr) {
    if (auto l = i18n::ParseLang(policy->school.authoritative_language)) {
      fallback = *l;
    } else if (!policy->school.languages.empty()) {
      fallback = i18n::ParseLang(policy->school.languages.front()).value_or(fallback);
    }
  }
  return i18n::Negotiate(explicit_choice, req.Header("accept-language"), fallback);
}

std::string GroundTitle(i18n::Lang lang, const std::string& id) {
  const std::string key = "api.ground." + id;
  const std::string* text = i18n::Find(lang, key);
  if (text == nullptr) text = i18n::Find(i18n::Lang::kEn, key);
  if (text != nullptr) return *text;
  std::string words = id;
  std::replace(words.begin(), words.end(), '_', ' ');
  return words;
}

Json GroundsJson(const policy::Right* right, i18n::Lang lang) {
  Json out = Json::array();
  if (right == nullptr) return out;
  for (const auto& id : right->grounds) {
    out.push_back({{"id", id}, {"title", GroundTitle(lang, id)}});
  }
  return out;
}

std::string ErrorMessage(const std::string& code, const Json& args, const std::string& field,
                         int status, const ErrorReader& reader) {
  const i18n::Lang lang = reader.lang;
  const std::string variant = ArgText(args, "variant");
  const std::string* text =
      variant.empty() ? nullptr : i18n::Find(lang, "api." + code + "." + variant);
  if (text == nullptr) text = i18n::Find(lang, "api." + code);
  if (text == nullptr) text = i18n::Find(lang, std::string("api.generic_") + KindOfStatus(status));
  if (text == nullptr) return i18n::Text(lang, "api.generic_internal");

  const policy::Policy* p = reader.policy;
  const std::string l = i18n::LangCode(lang);
  const std::string auth = p ? p->school.authoritative_language : std::string("uk");
  // A field by its title in quotes, else as "this field" (capitalised where the text starts).
  auto field_title = [&](const std::string& id) {
    const policy::Field* f = p ? p->FindField(id) : nullptr;
    if (f != nullptr && !f->title.Get(l, auth).empty()) return "«" + f->title.Get(l, auth) + "»";
    return i18n::Text(lang, text->rfind("{field}", 0) == 0 ? "api.this_field_start" : "api.this_field");
  };
  i18n::Args fill;
  std::string field_id = ArgText(args, "field");
  if (field_id.empty()) field_id = field;
  fill.push_back({"field", field_title(field_id)});
  const std::string form_id = ArgText(args, "form");
  if (const std::string consent = ArgText(args, "consent"); !consent.empty() && p) {
    for (const auto& [id, form] : p->forms) {
      if (!form_id.empty() && id != form_id) continue;
      for (const auto& cb : form.consents) {
        if (cb.id == consent) {
          fill.push_back({"consent", cb.text.Get(l, auth)});
          break;
        }
      }
      if (fill.back().name == "consent") break;
    }
  }
  if (!form_id.empty() && p) {
    auto it = p->forms.find(form_id);
    if (it != p->forms.end()) fill.push_back({"form", it->second.title.Get(l, auth)});
  }
  // The consequence notice (R58) is the policy's own text, in the reader's language: the
  // withdrawal's, or that of the right the request is filed under (erasure).
  if (code == "acknowledgement_required" && p) {
    const policy::Right* right = p->FindRight(ArgText(args, "right"));
    const policy::LocalText& notice = right != nullptr && !right->consequence_notice.empty()
                                          ? right->consequence_notice
                                          : p->withdrawal.consequence_notice;
    fill.push_back({"notice", notice.Get(l, auth)});
  }
  // The grounds a request may state (R49), each by its title: "the data are not necessary".
  if (const std::string ids = ArgText(args, "grounds"); !ids.empty()) {
    std::string titles;
    for (size_t from = 0; from <= ids.size();) {
      size_t comma = ids.find(',', from);
      if (comma == std::string::npos) comma = ids.size();
      titles += (titles.empty() ? "" : "; ") + GroundTitle(lang, ids.substr(from, comma - from));
      from = comma + 1;
    }
    fill.push_back({"grounds", titles});
  }
  // A group of fields (R08), each by its title: «E-mail», «Mobile phone».
  if (const std::string ids = ArgText(args, "fields"); !ids.empty()) {
    std::string titles;
    for (size_t from = 0; from <= ids.size();) {
      size_t comma = ids.find(',', from);
      if (comma == std::string::npos) comma = ids.size();
      titles += (titles.empty() ? "" : ", ") + field_title(ids.substr(from, comma - from));
      from = comma + 1;
    }
    fill.push_back({"fields", titles});
  }
  if (args.is_object()) {
    for (auto it = args.begin(); it != args.end(); ++it) {
      const std::string& k = it.key();
      if (k == "field" || k == "fields" || k == "grounds" || k == "consent" || k == "form" ||
          !it->is_string()) {
        continue;
      }
      fill.push_back({k, it->get<std::string>()});
    }
  }
  return i18n::Fill(*text, fill);
}

void LocaliseError(ports::HttpResponse& resp, const ErrorReader& reader) {
  if (resp.status < 400 || resp.stream || resp.body.empty() || resp.body.front() != '{') return;
  Json body = Json::parse(resp.body, nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return;
  auto localise = [&](Json& err) {
    if (!err.is_object() || !err.contains("code") || !err["code"].is_string()) return;
    const Json args = err.value("args", Json::object());
    const std::string field = err["field"].is_string() ? err["field"].get<std::string>() : "";
    err["message"] = ErrorMessage(err["code"].get<std::string>(), args, field, resp.status, reader);
  };
  localise(body["error"]);
  if (body.contains("errors") && body["errors"].is_array()) {
    for (Json& e : body["errors"]) localise(e);
  }
  resp.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Json> ParseJsonObject(const ports::HttpRequest& req) {
  const std::string& ct = req.Header("content-type");
  if (ct.rfind("application/json", 0) != 0) {
    return Error{ErrorCode::kInvalidArgument, "the body must be JSON (Content-Type: application/json)",
                 {}, "unsupported_media_type"};
  }
  Json j;
  try {
    j = Json::parse(req.body);
  } catch (const Json::parse_error& e) {
    return Error{ErrorCode::kInvalidArgument,
                 "the body is not valid JSON (at byte " + std::to_string(e.byte) + ")", {},
                 "invalid_json"};
  } catch (const Json::out_of_range&) {
    // A number beyond what a double holds (1e400, -1e400, [1e309]): nlohmann reports it as
    // out_of_range, not as a parse error.
    return Error{ErrorCode::kInvalidArgument,
                 "the body holds a number too large to read (no value of this API needs one)", {},
                 "invalid_json"};
  } catch (const Json::exception&) {
    return Error{ErrorCode::kInvalidArgument, "the body is not valid JSON", {}, "invalid_json"};
  }
  if (!j.is_object()) {
    return Error{ErrorCode::kInvalidArgument, "the body must be a JSON object", {}, "invalid_json"};
  }
  return j;
}

Result<std::optional<std::string>> OptString(const Json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Error{ErrorCode::kInvalidArgument, "\"" + key + "\" must be a string", key,
                 "invalid_field"};
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> ReqString(const Json& obj, const std::string& key) {
  auto v = OptString(obj, key);
  if (!v.ok()) return v.error();
  if (!*v || (*v)->empty()) {
    return Error{ErrorCode::kInvalidArgument, "\"" + key + "\" is required", key, "missing_field"};
  }
  return **v;
}

Result<std::optional<bool>> OptBool(const Json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return Error{ErrorCode::kInvalidArgument, "\"" + key + "\" must be true or false", key,
                 "invalid_field"};
  }
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<Timestamp>> OptTimestamp(const Json& obj, const std::string& key) {
  auto text = OptString(obj, key);
  if (!text.ok()) return text.error();
  if (!*text) return std::optional<Timestamp>();
  Timestamp t;
  std::string err;
  if (!ParseTimestamp(**text, &t, &err)) {
    return Error{ErrorCode::kInvalidArgument, key + ": " + err, key, "invalid_field"};
  }
  return std::optional<Timestamp>(t);
}

Json TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? Json(FormatTimestamp(*t)) : Json(nullptr);
}

Result<std::vector<std::string>> OptStringList(const Json& obj, const std::string& key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return Error{ErrorCode::kInvalidArgument, "\"" + key + "\" must be an array of strings", key,
                 "invalid_field"};
  }
  for (const auto& v : *it) {
    if (!v.is_string()) {
      return Error{ErrorCode::kInvalidArgument, "\"" + key + "\" must be an array of strings", key,
                   "invalid_field"};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status OnlyKeys(const Json& obj, const std::vector<std::string>& allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Error{ErrorCode::kInvalidArgument,
                   "unknown member \"" + it.key().substr(0, 64) + "\"; expected: " + list,
                   it.key().substr(0, 64), "unknown_field"};
    }
  }
  return Status::Ok();
}

namespace {
std::string Decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::string QueryParam(const std::string& query, const std::string& name) {
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string::npos) amp = query.size();
    std::string part = query.substr(i, amp - i);
    size_t eq = part.find('=');
    std::string k = Decode(part.substr(0, eq));
    if (k == name) return eq == std::string::npos ? "" : Decode(part.substr(eq + 1));
    i = amp + 1;
  }
  return "";
}

std::string PreferredLang(const ports::HttpRequest& req) {
  std::string q = QueryParam(req.query, "lang");
  if (q == "uk" || q == "ru" || q == "en") return q;
  const std::string& al = req.Header("accept-language");
  for (const char* l : {"uk", "ru", "en"}) {
    if (al.rfind(l, 0) == 0) return l;
  }
  return "uk";
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ';' || header[i] == ',')) ++i;
    size_t end = header.find_first_of(";,", i);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(i, end - i);
    size_t eq = part.find('=');
    if (eq != std::string::npos && part.substr(0, eq) == name) return part.substr(eq + 1);
    i = end;
  }
  return "";
}

Json Obj(std::initializer_list<std::pair<const std::string, Json>> props,
         std::vector<std::string> required) {
  Json j = {{"type", "object"}, {"properties", Json(props)}};
  if (!required.empty()) j["required"] = required;
  return j;
}

bool IsUnsafe(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

Status CheckCsrf(const ports::HttpRequest& req, const std::string& session_token) {
  if (!IsUnsafe(req.method)) return Status::Ok();
  const std::string& sent = req.Header("x-csrf-token");
  unsigned char diff = sent.size() == session_token.size() ? 0 : 1;
  for (size_t i = 0; i < sent.size() && i < session_token.size(); ++i) {
    diff |= static_cast<unsigned char>(sent[i] ^ session_token[i]);
  }
  if (diff != 0 || session_token.empty()) {
    return Error::Denied("csrf_token_invalid",
                         "the X-CSRF-Token header is missing or does not match the session");
  }
  return Status::Ok();
}

}  // namespace dovira::api
