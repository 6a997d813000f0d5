#include "anon/anonymiser.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_set>

#include "anon/hierarchy.h"

namespace dovira::anon {

uint32_t Dataset::Column::Intern(std::string_view v) {
  auto it = index.find(std::string(v));
  if (it != index.end()) return it->second;
  const auto code = static_cast<uint32_t>(values.size());
  values.emplace_back(v);
  index.emplace(values.back(), code);
  return code;
}

Dataset::Dataset(std::vector<QuasiIdentifier> quasi, std::string sensitive,
                 std::vector<std::string> attributes)
    : quasi_(std::move(quasi)), sensitive_(std::move(sensitive)),
      attributes_(std::move(attributes)) {
  levels_.resize(quasi_.size());
  parent_.resize(quasi_.size());
  for (size_t q = 0; q < quasi_.size(); ++q) {
    levels_[q].resize(quasi_[q].levels.size());
    if (!quasi_[q].levels.empty()) parent_[q].resize(quasi_[q].levels.size() - 1);
  }
}

Status Dataset::AddRow(const std::vector<std::vector<std::string>>& quasi_levels,
                       std::string_view sensitive, const std::vector<std::string>& attributes) {
  if (quasi_levels.size() != quasi_.size()) {
    return Error::Invalid("a record has " + std::to_string(quasi_levels.size()) +
                          " quasi-identifiers, the data set " + std::to_string(quasi_.size()));
  }
  for (size_t q = 0; q < quasi_.size(); ++q) {
    if (quasi_levels[q].size() != quasi_[q].levels.size()) {
      return Error::Invalid("\"" + quasi_[q].name + "\" has " +
                            std::to_string(quasi_levels[q].size()) + " levels in a record, " +
                            std::to_string(quasi_[q].levels.size()) + " in the data set");
    }
  }
  if (attributes.size() != attributes_.size()) {
    return Error::Invalid("a record has " + std::to_string(attributes.size()) +
                          " attributes, the data set " + std::to_string(attributes_.size()));
  }
  for (size_t q = 0; q < quasi_.size(); ++q) {
    for (size_t lv = 0; lv < quasi_levels[q].size(); ++lv) {
      Column& c = levels_[q][lv];
      uint32_t code = c.Intern(quasi_levels[q][lv]);
      if (lv > 0) {
        std::vector<int64_t>& parent = parent_[q][lv - 1];
        const uint32_t child = levels_[q][lv - 1].codes.back();
        if (parent.size() <= child) parent.resize(child + 1, -1);
        if (parent[child] < 0) {
          parent[child] = code;
        } else {
          code = static_cast<uint32_t>(parent[child]);
        }
      }
      c.codes.push_back(code);
    }
  }
  if (!sensitive_.empty()) sensitive_col_.codes.push_back(sensitive_col_.Intern(sensitive));
  attribute_values_.insert(attribute_values_.end(), attributes.begin(), attributes.end());
  ++rows_;
  return Status::Ok();
}

// Groups the records of a data set at one node: a class key per record packed from the codes of
// the chosen levels (mixed radix; re-ranked densely when the radix product would overflow), then
// sorted with the sensitive code, so that one pass counts each group and its distinct values.
class Evaluator {
 public:
  Evaluator(const Dataset& data, const Config& config) : d_(data), c_(config) {}

  Status Check(const std::vector<int>& levels) const {
    if (levels.size() != d_.quasi_.size()) {
      return Error::Invalid("a node names " + std::to_string(levels.size()) +
                            " levels for " + std::to_string(d_.quasi_.size()) +
                            " quasi-identifiers");
    }
    for (size_t q = 0; q < levels.size(); ++q) {
      if (levels[q] < 0 || levels[q] > static_cast<int>(d_.quasi_[q].levels.size())) {
        return Error::Invalid("level " + std::to_string(levels[q]) + " of \"" +
                              d_.quasi_[q].name + "\" is out of range");
      }
    }
    return Status::Ok();
  }

  // group_size: when not null, receives per record the size of its group, 0 when suppressed.
  Evaluation Run(const std::vector<int>& levels, std::vector<uint32_t>* group_size = nullptr) {
    Evaluation e;
    e.levels = levels;
    const size_t n = d_.rows_;
    keys_.assign(n, 0);
    uint64_t bound = 1;
    for (size_t q = 0; q < levels.size(); ++q) {
      const auto lv = static_cast<size_t>(levels[q]);
      if (lv == d_.quasi_[q].levels.size()) continue;  // "*": one value
      const Dataset::Column& col = d_.levels_[q][lv];
      const uint64_t radix = std::max<uint64_t>(1, col.values.size());
      if (bound > std::numeric_limits<uint64_t>::max() / radix) bound = Densify();
      for (size_t r = 0; r < n; ++r) keys_[r] = keys_[r] * radix + col.codes[r];
      bound *= radix;
    }
    const bool has_sensitive = !d_.sensitive_.empty();
    pairs_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      pairs_[r] = {keys_[r], has_sensitive ? d_.sensitive_col_.codes[r] : 0u,
                   static_cast<uint32_t>(r)};
    }
    std::sort(pairs_.begin(), pairs_.end(), [](const Item& a, const Item& b) {
      return a.key != b.key ? a.key < b.key : a.sensitive < b.sensitive;
    });
    if (group_size) group_size->assign(n, 0);
    size_t kept_loss_rows = 0;
    e.min_distinct = std::numeric_limits<int>::max();
    for (size_t i = 0; i < n;) {
      size_t j = i;
      int distinct = 0;
      while (j < n && pairs_[j].key == pairs_[i].key) {
        if (j == i || pairs_[j].sensitive != pairs_[j - 1].sensitive) ++distinct;
        ++j;
      }
      const size_t size = j - i;
      const bool ok = size >= static_cast<size_t>(c_.k) && (!has_sensitive || distinct >= c_.l);
      if (!ok) {
        e.suppressed += size;
      } else {
        ++e.groups;
        e.smallest_group = e.groups == 1 ? size : std::min(e.smallest_group, size);
        e.largest_group = std::max(e.largest_group, size);
        if (has_sensitive) e.min_distinct = std::min(e.min_distinct, distinct);
        if (1.0 / static_cast<double>(size) > c_.risk_threshold) e.records_at_risk += size;
        kept_loss_rows += size;
        if (group_size) {
          for (size_t t = i; t < j; ++t) (*group_size)[pairs_[t].row] = static_cast<uint32_t>(size);
        }
      }
      i = j;
    }
    if (!has_sensitive || e.groups == 0) e.min_distinct = 0;
    const double allowed = c_.max_suppression * static_cast<double>(n);
    e.anonymous = static_cast<double>(e.suppressed) <= allowed + 1e-9;
    double per_row = 0;
    for (size_t q = 0; q < levels.size(); ++q) {
      per_row += static_cast<double>(levels[q]) /
                 static_cast<double>(d_.quasi_[q].levels.size());
    }
    const double qn = static_cast<double>(levels.size());
    e.loss = n == 0 || levels.empty()
                 ? 0
                 : (static_cast<double>(kept_loss_rows) * per_row +
                    static_cast<double>(e.suppressed) * qn) /
                       (static_cast<double>(n) * qn);
    return e;
  }

 private:
  struct Item {
    uint64_t key;
    uint32_t sensitive;
    uint32_t row;
  };
  // Replaces the keys by their dense ranks; returns how many distinct keys there are.
  uint64_t Densify() {
    std::vector<uint64_t> sorted = keys_;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    for (auto& k : keys_) {
      k = static_cast<uint64_t>(std::lower_bound(sorted.begin(), sorted.end(), k) - sorted.begin());
    }
    return std::max<uint64_t>(1, sorted.size());
  }

  const Dataset& d_;
  const Config& c_;
  std::vector<uint64_t> keys_;
  std::vector<Item> pairs_;
};

namespace {

Status CheckConfig(const Config& c) {
  if (c.k < 2) return Error::Invalid("k must be at least 2", "k");
  if (c.l < 0 || c.l == 1) return Error::Invalid("l must be at least 2 when set", "l");
  if (!(c.max_suppression >= 0 && c.max_suppression <= 1)) {
    return Error::Invalid("max_suppression must be a share from 0 to 1", "max_suppression");
  }
  if (!(c.risk_threshold > 0 && c.risk_threshold <= 1)) {
    return Error::Invalid("risk_threshold must be above 0 and at most 1", "risk_threshold");
  }
  return Status::Ok();
}

std::string RowId(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 15];
  return s;
}

}  // namespace

Result<Evaluation> Evaluate(const Dataset& data, const Config& config,
                            const std::vector<int>& levels) {
  if (Status st = CheckConfig(config); !st.ok()) return st.error();
  Evaluator ev(data, config);
  if (Status st = ev.Check(levels); !st.ok()) return st.error();
  return ev.Run(levels);
}

Result<Output> Anonymise(const Dataset& data, const Config& config, uint64_t seed) {
  if (Status st = CheckConfig(config); !st.ok()) return st.error();
  if (data.quasi().empty()) return Error::Invalid("name at least one quasi-identifier");
  if (config.l > 0 && data.sensitive().empty()) {
    return Error::Invalid("l needs a sensitive attribute", "l");
  }
  const size_t qn = data.quasi().size();
  std::vector<size_t> radix(qn);
  size_t nodes = 1;
  constexpr size_t kMaxNodes = 100000;
  for (size_t q = 0; q < qn; ++q) {
    radix[q] = data.quasi()[q].levels.size() + 1;
    if (nodes > kMaxNodes / radix[q]) {
      return Error::Invalid("the generalisation lattice has more than 100000 nodes; name fewer "
                            "quasi-identifiers or fewer levels");
    }
    nodes *= radix[q];
  }
  auto levels_of = [&](size_t index) {
    std::vector<int> lv(qn);
    for (size_t q = 0; q < qn; ++q) {
      lv[q] = static_cast<int>(index % radix[q]);
      index /= radix[q];
    }
    return lv;
  };
  auto index_of = [&](const std::vector<int>& lv) {
    size_t index = 0;
    for (size_t q = qn; q-- > 0;) index = index * radix[q] + static_cast<size_t>(lv[q]);
    return index;
  };
  std::vector<size_t> order(nodes);
  std::iota(order.begin(), order.end(), size_t{0});
  std::vector<int> height(nodes);
  for (size_t i = 0; i < nodes; ++i) {
    auto lv = levels_of(i);
    height[i] = std::accumulate(lv.begin(), lv.end(), 0);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return height[a] < height[b]; });

  enum State : uint8_t { kUnknown, kMinimal, kTagged, kNotAnonymous };
  std::vector<State> state(nodes, kUnknown);
  Evaluator ev(data, config);
  std::vector<Evaluation> candidates;
  size_t evaluated = 0;
  for (size_t node : order) {
    std::vector<int> lv = levels_of(node);
    bool predecessor_anonymous = false;
    for (size_t q = 0; q < qn && !predecessor_anonymous; ++q) {
      if (lv[q] == 0) continue;
      --lv[q];
      const State s = state[index_of(lv)];
      predecessor_anonymous = s == kMinimal || s == kTagged;
      ++lv[q];
    }
    if (predecessor_anonymous) {
      state[node] = kTagged;
      continue;
    }
    Evaluation e = ev.Run(lv);
    ++evaluated;
    if (e.anonymous && e.groups > 0) {
      state[node] = kMinimal;
      candidates.push_back(std::move(e));
    } else {
      state[node] = kNotAnonymous;
    }
  }
  if (candidates.empty()) {
    return Error{ErrorCode::kFailedPrecondition,
                 "no generalisation reaches k = " + std::to_string(config.k) +
                     (config.l > 0 ? " and l = " + std::to_string(config.l) : std::string()) +
                     " for " + std::to_string(data.size()) + " records within the allowed " +
                     "suppression; the data set is too small",
                 "k",
                 {}};
  }
  const Evaluation* best = &candidates.front();
  for (const auto& c : candidates) {
    const int hc = std::accumulate(c.levels.begin(), c.levels.end(), 0);
    const int hb = std::accumulate(best->levels.begin(), best->levels.end(), 0);
    if (c.loss < best->loss - 1e-12 ||
        (std::abs(c.loss - best->loss) <= 1e-12 &&
         (hc < hb || (hc == hb && c.levels < best->levels)))) {
      best = &c;
    }
  }

  Output out;
  std::vector<uint32_t> group_size;
  Evaluation chosen = ev.Run(best->levels, &group_size);
  Report& r = out.report;
  r.k = config.k;
  r.l = config.l;
  r.records_in = data.size();
  r.suppressed = chosen.suppressed;
  r.records_out = data.size() - chosen.suppressed;
  r.max_suppression = config.max_suppression;
  r.groups = chosen.groups;
  r.smallest_group = chosen.smallest_group;
  r.largest_group = chosen.largest_group;
  r.k_achieved = static_cast<int>(chosen.smallest_group);
  r.l_achieved = chosen.min_distinct;
  r.highest_risk = 1.0 / static_cast<double>(chosen.smallest_group);
  r.average_risk = static_cast<double>(chosen.groups) / static_cast<double>(r.records_out);
  r.records_at_risk =
      static_cast<double>(chosen.records_at_risk) / static_cast<double>(r.records_out);
  r.risk_threshold = config.risk_threshold;
  r.information_loss = chosen.loss;
  r.lattice_nodes = nodes;
  r.nodes_evaluated = evaluated;
  for (size_t q = 0; q < qn; ++q) {
    const auto& qi = data.quasi()[q];
    const int lv = chosen.levels[q];
    const int top = static_cast<int>(qi.levels.size());
    r.levels.push_back({qi.name, lv, top,
                        lv == top ? std::string("suppressed") : qi.levels[static_cast<size_t>(lv)]});
  }

  out.header.push_back("row");
  for (const auto& qi : data.quasi()) out.header.push_back(qi.name);
  if (!data.sensitive().empty()) out.header.push_back(data.sensitive());
  for (const auto& a : data.attributes()) out.header.push_back(a);

  std::vector<size_t> kept;
  kept.reserve(r.records_out);
  for (size_t row = 0; row < data.size(); ++row) {
    if (group_size[row] != 0) kept.push_back(row);
  }
  std::mt19937_64 rng(seed);
  std::shuffle(kept.begin(), kept.end(), rng);
  std::unordered_set<std::string> ids;
  const size_t an = data.attributes().size();
  out.rows.reserve(kept.size());
  for (size_t row : kept) {
    std::vector<std::string> line;
    line.reserve(out.header.size());
    std::string id = RowId(rng);
    while (!ids.insert(id).second) id = RowId(rng);
    line.push_back(std::move(id));
    for (size_t q = 0; q < qn; ++q) {
      const auto lv = static_cast<size_t>(chosen.levels[q]);
      if (lv == data.quasi()[q].levels.size()) {
        line.emplace_back(kSuppressed);
      } else {
        line.push_back(data.Value(q, lv, row));
      }
    }
    if (!data.sensitive().empty()) {
      line.push_back(data.SensitiveValue(row));
    }
    for (size_t a = 0; a < an; ++a) line.push_back(data.Attribute(row, a));
    out.rows.push_back(std::move(line));
  }
  return out;
}

std::string ToCsv(const Output& out) {
  std::string s;
  auto cell = [&s](const std::string& v) {
    const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@');
    const std::string text = formula ? "'" + v : v;
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
      s += text;
      return;
    }
    s += '"';
    for (char c : text) {
      if (c == '"') s += '"';
      s += c;
    }
    s += '"';
  };
  auto line = [&](const std::vector<std::string>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) s += ',';
      cell(values[i]);
    }
    s += "\r\n";
  };
  line(out.header);
  for (const auto& row : out.rows) line(row);
  return s;
}

}  // namespace dovira::anon
