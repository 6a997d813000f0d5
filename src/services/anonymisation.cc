#include "services/anonymisation.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "anon/hierarchy.h"
#include "calendar/date.h"

namespace dovira::services {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kUnknown = "unknown";
constexpr size_t kPage = 1000;

std::string ValueOf(const std::map<std::string, std::string>& record, const std::string& field) {
  auto it = record.find(field);
  return it == record.end() || it->second.empty() ? std::string() : it->second;
}

}  // namespace

std::vector<std::string> DataSetFields(const policy::Anonymisation& a) {
  std::vector<std::string> out;
  for (const auto& q : a.quasi_identifiers) {
    out.push_back(q.field);
    out.insert(out.end(), q.via.begin(), q.via.end());
  }
  if (!a.sensitive.empty()) out.push_back(a.sensitive);
  out.insert(out.end(), a.attributes.begin(), a.attributes.end());
  return out;
}

anon::Config ConfigOf(const policy::Anonymisation& a) {
  anon::Config c;
  c.k = static_cast<int>(a.k);
  c.l = static_cast<int>(a.l);
  c.max_suppression = static_cast<double>(a.max_suppressed_percent) / 100.0;
  c.risk_threshold = static_cast<double>(a.risk_threshold_percent) / 100.0;
  return c;
}

Result<anon::Dataset> BuildDataset(const policy::Policy& policy,
                                   const std::vector<std::map<std::string, std::string>>& records,
                                   std::string_view today) {
  const policy::Anonymisation& a = policy.anonymisation;
  if (!a.declared) {
    return Error::Refused("anonymisation_undeclared",
                          "the school's policy declares no [anonymisation]");
  }
  // The checker refuses such a policy; a policy loaded without it must not leak either (R74).
  for (const auto& fid : DataSetFields(a)) {
    const policy::Field* f = policy.FindField(fid);
    if (f == nullptr || policy.IsDirectIdentifier(*f) || f->type == "text") {
      return Error{ErrorCode::kFailedPrecondition,
                   "[anonymisation] names \"" + fid + "\", which may not leave in a data set",
                   {},
                   {}};
    }
  }
  std::vector<anon::QuasiIdentifier> quasi;
  for (const auto& q : a.quasi_identifiers) {
    anon::QuasiIdentifier qi{q.field, {}};
    if (q.hierarchy == "age") {
      qi.levels = anon::AgeLevelNames(q.bands);
    } else if (q.hierarchy == "date") {
      qi.levels = anon::DateLevelNames();
    } else if (q.hierarchy == "region") {
      qi.levels.push_back(q.field);
      qi.levels.insert(qi.levels.end(), q.via.begin(), q.via.end());
    } else {
      qi.levels = {"as is"};
    }
    quasi.push_back(std::move(qi));
  }
  anon::Dataset data(std::move(quasi), a.sensitive, a.attributes);
  std::vector<std::vector<std::string>> levels(a.quasi_identifiers.size());
  std::vector<std::string> attributes(a.attributes.size());
  for (const auto& record : records) {
    for (size_t i = 0; i < a.quasi_identifiers.size(); ++i) {
      const policy::QuasiIdentifier& q = a.quasi_identifiers[i];
      const std::string value = ValueOf(record, q.field);
      std::vector<std::string>& out = levels[i];
      out.clear();
      if (q.hierarchy == "age") {
        Result<int> age = Error::Invalid("no value");
        if (!value.empty()) {
          if (policy.fields.at(q.field).type == "integer") {
            int years = -1;
            if (std::sscanf(value.c_str(), "%d", &years) == 1 && years >= 0 && years < 200) {
              age = years;
            }
          } else {
            age = anon::AgeOn(value, today);
          }
        }
        if (age.ok()) out = anon::AgeLevels(*age, q.bands);
      } else if (q.hierarchy == "date") {
        if (auto d = anon::DateLevels(value); d.ok()) out = std::move(*d);
      } else if (q.hierarchy == "region") {
        if (!value.empty()) {
          out.push_back(value);
          for (const auto& via : q.via) {
            std::string v = ValueOf(record, via);
            out.push_back(v.empty() ? kUnknown : v);
          }
        }
      } else if (!value.empty()) {
        out.push_back(value);
      }
      // A value missing or unreadable is unknown at every level: its own group.
      const size_t want = q.hierarchy == "age"      ? q.bands.size() + 1
                          : q.hierarchy == "date"   ? 3
                          : q.hierarchy == "region" ? q.via.size() + 1
                                                    : 1;
      if (out.size() != want) out.assign(want, kUnknown);
    }
    std::string sensitive;
    if (!a.sensitive.empty()) {
      sensitive = ValueOf(record, a.sensitive);
      if (sensitive.empty()) sensitive = kUnknown;
    }
    for (size_t i = 0; i < a.attributes.size(); ++i) attributes[i] = ValueOf(record, a.attributes[i]);
    if (Status st = data.AddRow(levels, sensitive, attributes); !st.ok()) return st.error();
  }
  return data;
}

std::string AnonymisedDataSet::ReportJson() const {
  const anon::Report& r = report;
  Json levels = Json::array();
  for (const auto& l : r.levels) {
    levels.push_back({{"quasi_identifier", l.quasi}, {"level", l.level}, {"top", l.top},
                      {"name", l.name}});
  }
  Json j = {{"id", id},
            {"purpose", purpose},
            {"fields", fields},
            {"subjects", subjects},
            {"excluded_by_reason", excluded},
            {"k", r.k},
            {"k_achieved", r.k_achieved},
            {"l", r.l},
            {"l_achieved", r.l_achieved},
            {"records_in", r.records_in},
            {"records_out", r.records_out},
            {"suppressed", r.suppressed},
            {"max_suppression", r.max_suppression},
            {"groups", r.groups},
            {"smallest_group", r.smallest_group},
            {"largest_group", r.largest_group},
            {"risk",
             {{"model", "prosecutor"},
              {"highest", r.highest_risk},
              {"average", r.average_risk},
              {"records_at_risk", r.records_at_risk},
              {"threshold", r.risk_threshold}}},
            {"information_loss", r.information_loss},
            {"levels", levels},
            {"lattice", {{"nodes", r.lattice_nodes}, {"evaluated", r.nodes_evaluated}}}};
  return j.dump(2);
}

AnonymisationService::AnonymisationService(Deps deps, Schools& schools, SubjectService& subjects,
                                           AuditLog& audit)
    : deps_(deps), schools_(schools), subjects_(subjects), audit_(audit) {}

Result<AnonymisedDataSet> AnonymisationService::Produce(const SchoolId& school_id,
                                                        const AnonymiseRequest& req,
                                                        const Actor& actor,
                                                        const RequestContext& ctx) {
  if (req.purpose.empty()) return Error::Invalid("purpose is required", "purpose");
  auto school = schools_.Get(school_id);
  if (!school.ok()) return school.error();
  auto cp = (*school)->policy();
  if (!cp) return Error::Unavailable("the school's policy is not loaded");
  const policy::Policy& pol = cp->policy();
  const policy::Anonymisation& section = pol.anonymisation;
  if (!section.declared) {
    return Error::Refused("anonymisation_undeclared",
                          "the school's policy declares no [anonymisation]");
  }
  if (std::find(section.purposes.begin(), section.purposes.end(), req.purpose) ==
      section.purposes.end()) {
    return Error::Refused("purpose_not_anonymisable",
                          "[anonymisation] makes no data set for \"" + req.purpose + "\"",
                          "purpose")
        .With("purpose", req.purpose);
  }
  // The actor's own rules, as for a read (R87): an API key states only its own purposes, staff
  // need their briefing.
  if (actor.kind == Actor::Kind::kApiKey &&
      std::find(actor.purposes.begin(), actor.purposes.end(), req.purpose) ==
          actor.purposes.end()) {
    return Error::Denied("purpose_not_allowed_for_key",
                         "this API key may not state the purpose \"" + req.purpose + "\"");
  }
  if (actor.kind == Actor::Kind::kStaff && !actor.briefed) {
    return Error::Denied("briefing_required", "staff read personal data after their briefing");
  }
  const int purpose = cp->PurposeIndex(req.purpose);
  domain::GateRequest g;
  g.purpose = purpose;
  g.role = actor.role.empty() ? -1 : cp->RoleIndex(actor.role);
  if (!actor.role.empty() && g.role < 0) return Error::Denied("role_denied", "unknown role");
  g.operation = domain::Operation::kRead;
  AnonymisedDataSet out;
  out.fields = DataSetFields(section);
  for (const auto& f : out.fields) {
    const int fi = cp->FieldIndex(f);
    if (fi < 0) return Error::Unavailable("the compiled policy lacks field " + f);
    g.fields.Set(static_cast<size_t>(fi));
  }
  const Timestamp now = deps_.clock.Now();
  g.now_us = MicrosOf(now);
  // A refusal that is the actor's or the purpose's own refuses the whole run.
  {
    const domain::Decision d = domain::Decide(cp.get(), nullptr, g);
    if (d.reason != domain::Reason::kSubjectUnknown) {
      const std::string reason = domain::ReasonCode(d.reason);
      return Error::Denied(reason, "the data set is refused: " + reason);
    }
  }
  const std::string& store = cp->purpose(static_cast<size_t>(purpose)).store;
  std::vector<std::map<std::string, std::string>> records;
  std::string after;
  for (;;) {
    auto page = deps_.store.ListSubjects(school_id, after, kPage);
    if (!page.ok()) return page.error();
    for (const auto& s : *page) {
      ++out.subjects;
      const domain::Decision d = (*school)->gate().Peek(
          s.id, [&](const domain::SubjectState* st) { return domain::Decide(cp.get(), st, g); });
      if (!d.allowed()) {
        ++out.excluded[domain::ReasonCode(d.reason)];
        continue;
      }
      auto key = subjects_.SubjectKey(school_id, s.id);
      if (!key.ok()) return key.error();
      // Straight from the store: a run over every subject would only churn the record cache.
      auto rows = deps_.store.GetStoreRecords(school_id, s.id, store);
      if (!rows.ok()) return rows.error();
      std::map<std::string, std::string> record;
      for (const auto& row : *rows) {
        if (std::find(out.fields.begin(), out.fields.end(), row.field) == out.fields.end()) {
          continue;
        }
        auto value = subjects_.OpenValue(*key, row);
        if (!value.ok()) {
          return Error{ErrorCode::kInternal, "a stored value could not be decrypted", row.field,
                       "integrity"};
        }
        record[row.field] = std::move(*value);
      }
      records.push_back(std::move(record));
    }
    if (page->size() < kPage) break;
    after = page->back().id.value();
  }
  const std::string today = calendar::FormatDate(
      cp->calendar().LocalDate(std::chrono::floor<std::chrono::seconds>(now)));
  auto data = BuildDataset(pol, records, today);
  records.clear();
  if (!data.ok()) return data.error();
  uint64_t seed = 0;
  const std::string random = deps_.crypto.RandomBytes(sizeof seed);
  std::memcpy(&seed, random.data(), std::min(random.size(), sizeof seed));
  auto result = anon::Anonymise(*data, ConfigOf(section), seed);

  out.id = "ads_" + deps_.crypto.NewId();
  out.purpose = req.purpose;
  AuditEvent e;
  e.actor = actor.AuditName();
  e.role = actor.role;
  e.action = "anonymise.run";
  e.purpose = req.purpose;
  e.fields = JoinIds(out.fields);
  e.decision_id = out.id;
  e.request_id = ctx.request_id;
  Json detail = {{"subjects", out.subjects},
                 {"included", data->size()},
                 {"excluded_by_reason", out.excluded}};
  if (result.ok()) {
    const anon::Report& r = result->report;
    e.outcome = "ok";
    detail["k"] = r.k;
    detail["k_achieved"] = r.k_achieved;
    detail["groups"] = r.groups;
    detail["suppressed"] = r.suppressed;
    detail["highest_risk"] = r.highest_risk;
  } else {
    e.outcome = "deny";
    e.reason = "k_unreachable";
  }
  e.detail = detail.dump();
  ports::WriteBatch batch;
  batch.power_safe = true;
  audit_.Add(batch, school_id, std::move(e));
  if (Status st = deps_.store.Commit(std::move(batch)); !st.ok()) {
    return Error{ErrorCode::kUnavailable, "the data set could not be recorded", {}, "unavailable"};
  }
  if (!result.ok()) {
    return Error::Refused("k_unreachable", result.error().message, "k")
        .With("k", std::to_string(section.k));
  }
  out.report = std::move(result->report);
  out.csv = anon::ToCsv(*result);
  return out;
}

}  // namespace dovira::services
