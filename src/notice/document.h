// Internal to dovira_notice: the notice as a small format-neutral document (headings,
// paragraphs, lists, tables of plain text), and the HTML and Markdown writers. Every string in a
// Document is plain text; the writers escape all of it, so text from a policy file can never
// become markup.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dovira::notice::internal {

// A run of text. `href` turns it into a link; the writers only link http:, https: and mailto:
// addresses (see SafeHref), anything else stays plain text.
struct Span {
  Span() = default;
  explicit Span(std::string t, bool is_strong = false) : text(std::move(t)), strong(is_strong) {}

  std::string text;
  bool strong = false;
  std::string href;
};
using Line = std::vector<Span>;

struct Block {
  enum class Kind { kHeading, kParagraph, kList, kTable, kContents };
  Kind kind = Kind::kParagraph;
  int level = 2;      // kHeading: 1..3
  std::string id;     // kHeading: anchor, [a-z0-9_-] only
  Line text;          // kHeading, kParagraph
  bool meta = false;  // kParagraph: the version line under the title, shown muted
  // kList: one Line per item. kContents: the section headings, linked to `ids`.
  std::vector<Line> items;
  std::vector<std::string> ids;
  // kTable.
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Document {
  std::string lang;   // "uk" | "ru" | "en"
  std::string title;  // <title>; the h1 is a block
  std::vector<Block> blocks;
};

// Escapes & < > " ' for HTML text and attribute values.
std::string EscapeHtml(std::string_view text);

// Escapes text for a Markdown paragraph, list item or heading so that it renders literally:
// backslash, `*`, `_` (except inside a word), `` ` ``, `[`, `]`, `<`, `>`, `~`, an `&` that starts
// an entity reference, and at the start of a line the block markers `#`, `-`, `+`, `=` and "1." /
// "1)". Line breaks become spaces.
std::string EscapeMarkdown(std::string_view text, bool at_line_start);

// EscapeMarkdown for a pipe-table cell: also escapes `|`.
std::string EscapeMarkdownCell(std::string_view text);

// Returns `href` when it is an http:, https: or mailto: address free of spaces, quotes, angle
// brackets, parentheses and control characters; otherwise "".
std::string SafeHref(std::string_view href);

// Keeps [a-z0-9_-] and lowercases A-Z; anything else becomes '-'.
std::string AnchorId(std::string_view text);

// A complete standalone HTML document.
std::string WriteHtml(const Document& doc);

// CommonMark with GitHub pipe tables. The contents block is left out (Markdown renderers do not
// agree on heading anchors).
std::string WriteMarkdown(const Document& doc);

}  // namespace dovira::notice::internal
