#include "domain/compiled_policy.h"

#include <algorithm>
#include <set>

namespace dovira::domain {
namespace {

Basis ToBasis(const std::string& b) {
  if (b == "consent") return Basis::kConsent;
  if (b == "pre_contract") return Basis::kPreContract;
  if (b == "legal_obligation") return Basis::kLegalObligation;
  if (b == "legitimate_interest") return Basis::kLegitimateInterest;
  if (b == "vital_interests") return Basis::kVitalInterests;
  if (b == "public_task") return Basis::kPublicTask;
  return Basis::kContract;
}

}  // namespace

Result<std::shared_ptr<const CompiledPolicy>> CompiledPolicy::Compile(const policy::Policy& p) {
  if (p.fields.size() > kMaxFields) {
    return Error::Invalid("the policy declares " + std::to_string(p.fields.size()) +
                          " fields; at most " + std::to_string(kMaxFields) + " are supported");
  }
  if (p.purposes.size() > kMaxPurposes) {
    return Error::Invalid("the policy declares " + std::to_string(p.purposes.size()) +
                          " purposes; at most " + std::to_string(kMaxPurposes) + " are supported");
  }
  if (p.subject_kinds.size() > 64) return Error::Invalid("at most 64 subject kinds are supported");
  auto cal = calendar::Calendar::Create(p.calendar);
  if (!cal.ok()) return cal.error();

  std::shared_ptr<CompiledPolicy> c(new CompiledPolicy(p, std::move(*cal)));
  const policy::Policy& pol = c->policy_;

  for (const auto& [id, k] : pol.subject_kinds) {
    c->kind_index_[id] = static_cast<int>(c->subject_kinds_.size());
    c->subject_kinds_.push_back(id);
  }
  for (const auto& [id, f] : pol.fields) {
    CompiledField cf;
    cf.id = id;
    cf.category = f.category;
    cf.type = f.type;
    cf.max_length = f.max_length;
    cf.values = f.values;
    cf.identifier = f.identifier;
    auto cat = pol.categories.find(f.category);
    if (cat != pol.categories.end()) {
      cf.special = cat->second.kind == "special";
      cf.technical = cat->second.kind == "technical";
    }
    c->field_index_[id] = static_cast<int>(c->fields_.size());
    c->fields_.push_back(std::move(cf));
  }
  // Store of each purpose: the declared store that lists it, else "default".
  std::unordered_map<std::string, std::string> store_of;
  std::set<std::string> stores;
  for (const auto& st : pol.storage.stores) {
    stores.insert(st.id);
    for (const auto& pid : st.purposes) store_of.emplace(pid, st.id);
  }
  for (const auto& [id, pu] : pol.purposes) {
    CompiledPurpose cp;
    cp.id = id;
    cp.basis = ToBasis(pu.basis);
    cp.enabled = pu.enabled;
    cp.marketing = pu.marketing;
    cp.profiling = pu.profiling;
    cp.minors_allowed = pu.minors_allowed && !(pu.marketing && !pol.minors.marketing_allowed);
    cp.depersonalised_only = pu.data_form == "depersonalised";
    cp.per_case = pu.decision == "per_case";
    if (!cp.per_case) cp.standing_decision = pu.decision;
    for (const auto& sd : pol.decisions.standing) {
      if (!cp.per_case && cp.standing_decision.empty() &&
          std::find(sd.purposes.begin(), sd.purposes.end(), id) != sd.purposes.end()) {
        cp.standing_decision = sd.id;
      }
    }
    for (const auto& fid : pu.fields) {
      auto it = c->field_index_.find(fid);
      if (it == c->field_index_.end()) {
        return Error::Invalid("purpose " + id + " names undeclared field " + fid, fid);
      }
      cp.fields.Set(static_cast<size_t>(it->second));
    }
    if (!pu.subject_kinds.empty()) {
      cp.subject_kinds = 0;
      for (const auto& k : pu.subject_kinds) {
        auto it = c->kind_index_.find(k);
        if (it != c->kind_index_.end()) cp.subject_kinds |= uint64_t{1} << it->second;
      }
    }
    auto s = store_of.find(id);
    cp.store = s == store_of.end() ? "default" : s->second;
    stores.insert(cp.store);
    c->purpose_index_[id] = static_cast<int>(c->purposes_.size());
    c->purposes_.push_back(std::move(cp));
  }
  c->stores_.assign(stores.begin(), stores.end());
  // A field is kept in the store of every purpose that uses it; a field no purpose uses (kept for
  // storage only, e.g. 003's health data) goes to the "default" store.
  for (const auto& cp : c->purposes_) {
    cp.fields.ForEach([&](size_t fi) {
      auto& v = c->fields_[fi].stores;
      if (std::find(v.begin(), v.end(), cp.store) == v.end()) v.push_back(cp.store);
    });
  }
  for (auto& f : c->fields_) {
    if (f.stores.empty()) f.stores.push_back("default");
    std::sort(f.stores.begin(), f.stores.end());
  }
  if (std::find(c->stores_.begin(), c->stores_.end(), "default") == c->stores_.end()) {
    c->stores_.push_back("default");
  }
  for (const auto& [id, ro] : pol.roles) {
    CompiledRole cr;
    cr.id = id;
    cr.privileged = ro.privileged;
    cr.decides = ro.decides;
    cr.scoped = ro.scoped();
    cr.all_purposes = ro.purposes.empty();
    for (const auto& pid : ro.purposes) {
      auto it = c->purpose_index_.find(pid);
      if (it != c->purpose_index_.end()) cr.purposes |= PurposeSet{1} << it->second;
    }
    for (size_t i = 0; i < c->fields_.size(); ++i) {
      if (std::find(ro.categories.begin(), ro.categories.end(), c->fields_[i].category) !=
          ro.categories.end()) {
        cr.fields.Set(i);
      }
    }
    c->role_index_[id] = static_cast<int>(c->roles_.size());
    c->roles_.push_back(std::move(cr));
  }
  for (const auto& [id, ct] : pol.consents) {
    PurposeSet set = 0;
    for (const auto& g : ct.grants) {
      auto it = c->purpose_index_.find(g);
      if (it != c->purpose_index_.end()) set |= PurposeSet{1} << it->second;
    }
    c->consent_grants_[id] = set;
  }
  return std::shared_ptr<const CompiledPolicy>(std::move(c));
}

namespace {
template <typename Map>
int Find(const Map& m, std::string_view id) {
  auto it = m.find(std::string(id));
  return it == m.end() ? -1 : it->second;
}
}  // namespace

int CompiledPolicy::PurposeIndex(std::string_view id) const { return Find(purpose_index_, id); }
int CompiledPolicy::FieldIndex(std::string_view id) const { return Find(field_index_, id); }
int CompiledPolicy::RoleIndex(std::string_view id) const { return Find(role_index_, id); }
int CompiledPolicy::SubjectKindIndex(std::string_view id) const { return Find(kind_index_, id); }

PurposeSet CompiledPolicy::GrantedPurposes(std::string_view consent_type) const {
  auto it = consent_grants_.find(std::string(consent_type));
  return it == consent_grants_.end() ? 0 : it->second;
}

Result<FieldSet> CompiledPolicy::Fields(const std::vector<std::string>& ids) const {
  FieldSet out;
  for (const auto& id : ids) {
    int i = FieldIndex(id);
    if (i < 0) return Error::Invalid("unknown field \"" + id + "\"", id);
    out.Set(static_cast<size_t>(i));
  }
  return out;
}

std::vector<std::string> CompiledPolicy::FieldIds(const FieldSet& set) const {
  std::vector<std::string> out;
  set.ForEach([&](size_t i) {
    if (i < fields_.size()) out.push_back(fields_[i].id);
  });
  return out;
}

}  // namespace dovira::domain
