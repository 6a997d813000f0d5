// k-anonymity with a measured risk (R74): a table of records whose direct identifiers are already
// gone is generalised, quasi-identifier by quasi-identifier, along each one's hierarchy
// (hierarchy.h) until every group of records that share their quasi-identifiers has at least k
// members (and, with a sensitive attribute, at least ℓ distinct values of it), leaving out at most
// a set share of the records ("suppression").
//
// The search is full-domain, over the lattice of level vectors (one level per quasi-identifier),
// as ARX's Flash and Incognito do it: nodes are visited from the least generalised up; a node
// with an anonymous predecessor is anonymous too (generalising only merges groups, so the records
// in too small or too uniform groups can only become fewer), so it is tagged without being
// evaluated, and the data set takes the minimal anonymous node with the least information loss.
//
// The risk report follows ARX's prosecutor model: an attacker who knows the person is in the data
// set picks one record of the person's group, so a record's risk is 1 / its group's size; the
// highest risk is 1 / the smallest group, the average ("success rate") is groups / records, and
// the records at risk are the share whose risk exceeds a threshold.
//
// Nothing here can lead back to a record's source: output rows get new random ids and a random
// order, and no mapping is kept.
//
// Thread-safety: a Dataset is filled by one thread; Anonymise and Evaluate only read it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace dovira::anon {

struct QuasiIdentifier {
  std::string name;                 // the output column
  std::vector<std::string> levels;  // the name of each level, level 0 (as is) first; "*" follows
};

struct Config {
  int k = 2;                     // at least 2
  int l = 0;                     // distinct ℓ-diversity of the sensitive attribute; 0: none
  double max_suppression = 0.0;  // the share of records that may be left out, 0..1
  double risk_threshold = 0.1;   // a record is at risk when its prosecutor risk exceeds this
};

// The input: per record, every quasi-identifier at each of its levels, the sensitive value (when
// the data set has one) and the attributes kept as they are.
class Dataset {
 public:
  // `sensitive` "": none. Quasi-identifiers and attributes are output in the order given.
  Dataset(std::vector<QuasiIdentifier> quasi, std::string sensitive,
          std::vector<std::string> attributes);

  // Error (kInvalidArgument) when the counts do not match the columns. The levels must nest (a
  // value has one parent at the next level): where a record gives a value another parent than an
  // earlier record did (a city filed under two regions), the earlier parent is kept, since a
  // hierarchy that splits a group when generalising would break the search's monotonicity.
  Status AddRow(const std::vector<std::vector<std::string>>& quasi_levels,
                std::string_view sensitive, const std::vector<std::string>& attributes);

  size_t size() const { return rows_; }
  const std::vector<QuasiIdentifier>& quasi() const { return quasi_; }
  const std::string& sensitive() const { return sensitive_; }
  const std::vector<std::string>& attributes() const { return attributes_; }
  // A record's values (row < size(), level < its quasi-identifier's levels.size()).
  const std::string& Value(size_t quasi, size_t level, size_t row) const {
    const Column& c = levels_[quasi][level];
    return c.values[c.codes[row]];
  }
  const std::string& SensitiveValue(size_t row) const {
    return sensitive_col_.values[sensitive_col_.codes[row]];
  }
  const std::string& Attribute(size_t row, size_t a) const {
    return attribute_values_[row * attributes_.size() + a];
  }

 private:
  friend class Evaluator;
  struct Column {
    std::unordered_map<std::string, uint32_t> index;
    std::vector<std::string> values;  // by code
    std::vector<uint32_t> codes;      // by row
    uint32_t Intern(std::string_view v);
  };
  std::vector<QuasiIdentifier> quasi_;
  std::string sensitive_;
  std::vector<std::string> attributes_;
  std::vector<std::vector<Column>> levels_;  // [quasi][level]
  // [quasi][level - 1][code at level - 1] = code at level, -1 until seen.
  std::vector<std::vector<std::vector<int64_t>>> parent_;
  Column sensitive_col_;
  std::vector<std::string> attribute_values_;  // row-major
  size_t rows_ = 0;
};

// What one lattice node gives.
struct Evaluation {
  std::vector<int> levels;  // per quasi-identifier; levels[q] == quasi[q].levels.size() is "*"
  bool anonymous = false;   // suppressed <= the allowed share
  size_t suppressed = 0;    // records in groups below k or below ℓ distinct sensitive values
  size_t groups = 0;        // groups of the records kept
  size_t smallest_group = 0, largest_group = 0;
  int min_distinct = 0;     // fewest distinct sensitive values in a kept group (0 without one)
  size_t records_at_risk = 0;  // kept records whose risk 1/group exceeds the threshold
  // Generalisation intensity: for each kept record and quasi-identifier level/top, a suppressed
  // record counting 1 per quasi-identifier; the mean over records and quasi-identifiers, 0..1.
  double loss = 0;
};

// Evaluates one node. Error (kInvalidArgument) when `levels` does not fit the data set.
Result<Evaluation> Evaluate(const Dataset& data, const Config& config,
                            const std::vector<int>& levels);

struct Report {
  int k = 0, l = 0;
  int k_achieved = 0;  // the smallest group
  int l_achieved = 0;  // fewest distinct sensitive values in a group (0 without one)
  size_t records_in = 0, records_out = 0, suppressed = 0;
  double max_suppression = 0;
  size_t groups = 0, smallest_group = 0, largest_group = 0;
  // Prosecutor re-identification risk (ARX): 1/smallest group; groups/records; the share of
  // records whose risk exceeds `risk_threshold`.
  double highest_risk = 0, average_risk = 0, records_at_risk = 0, risk_threshold = 0;
  double information_loss = 0;  // Evaluation::loss of the node chosen
  struct Level {
    std::string quasi;  // the quasi-identifier
    int level = 0;
    int top = 0;        // its "*" level
    std::string name;   // the level's name, or "suppressed"
  };
  std::vector<Level> levels;
  size_t lattice_nodes = 0, nodes_evaluated = 0;
};

struct Output {
  std::vector<std::string> header;  // "row", the quasi-identifiers, the sensitive, the attributes
  std::vector<std::vector<std::string>> rows;
  Report report;
};

// The lattice search and the data set it chooses; rows get new random ids and a random order
// drawn from `seed` (which the caller takes from a cryptographic source and keeps nowhere).
// Errors (kInvalidArgument) for a config out of range or a lattice of more than 100,000 nodes;
// (kFailedPrecondition) when not even suppressing every quasi-identifier reaches k and ℓ within
// the allowed share of suppressed records.
Result<Output> Anonymise(const Dataset& data, const Config& config, uint64_t seed);

// RFC 4180 CSV with a header line; a value that a spreadsheet would read as a formula (=, +, -,
// @ first) is prefixed with an apostrophe.
std::string ToCsv(const Output& out);

}  // namespace dovira::anon
