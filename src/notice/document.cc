#include "notice/document.h"

#include <cctype>
#include <string>

namespace dovira::notice::internal {
namespace {

bool IsAsciiAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
// Letters and digits, counting every byte of a multi-byte UTF-8 character as a letter.
bool IsWordByte(char c) { return IsAsciiAlnum(c) || static_cast<unsigned char>(c) >= 0x80; }

// True when text[at] == '&' begins an entity reference ("&amp;", "&#38;", "&#x26;"), which a
// Markdown renderer would decode; any other "&" ("Q&A", "R & D") is literal as it is.
bool StartsEntity(std::string_view text, size_t at) {
  size_t j = at + 1;
  if (j < text.size() && text[j] == '#') ++j;
  const size_t name = j;
  while (j < text.size() && IsAsciiAlnum(text[j])) ++j;
  return j > name && j < text.size() && text[j] == ';';
}

// Line breaks and other control characters (tab included) become single spaces, so that text
// from a policy can neither break a Markdown block nor smuggle control bytes into the output.
std::string Flatten(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out;
}

constexpr std::string_view kStyle =
    "body{margin:0;background:#fff;color:#1b1b1b;"
    "font:1rem/1.6 system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}"
    "main{max-width:46rem;margin:0 auto;padding:1rem 1.1rem 3rem}"
    "h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}"
    "h2{font-size:1.3rem;line-height:1.3;margin:2.2rem 0 .6rem;padding-bottom:.25rem;"
    "border-bottom:1px solid #d8d8d8}"
    "h3{font-size:1.08rem;margin:1.5rem 0 .4rem}"
    "p,li{overflow-wrap:anywhere}"
    "ul{padding-left:1.3rem}li{margin:.2rem 0}"
    "nav ul{list-style:none;padding-left:0}"
    ".meta{color:#555}"
    ".table-wrap{overflow-x:auto;margin:.6rem 0 1rem}"
    "table{border-collapse:collapse;min-width:100%;font-size:.94rem}"
    "th,td{border:1px solid #cfcfcf;padding:.4rem .55rem;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}"
    "a{color:#0b57a4}"
    "@media (prefers-color-scheme:dark){body{background:#161616;color:#e8e8e8}"
    "th{background:#262626}th,td{border-color:#444}h2{border-color:#444}.meta{color:#aaa}"
    "a{color:#7fb6ff}}";

void HtmlLine(const Line& line, std::string& out) {
  for (const Span& span : line) {
    const std::string text = EscapeHtml(Flatten(span.text));
    const std::string href = SafeHref(span.href);
    std::string piece = span.strong ? "<strong>" + text + "</strong>" : text;
    if (!href.empty()) piece = "<a href=\"" + EscapeHtml(href) + "\">" + piece + "</a>";
    out += piece;
  }
}

// `block_start`: the line opens a paragraph or list item, where "1." or "-" would be markup.
void MarkdownLine(const Line& line, bool block_start, std::string& out) {
  bool first = block_start;
  for (const Span& span : line) {
    if (span.text.empty()) continue;
    std::string text = EscapeMarkdown(span.text, first && !span.strong);
    if (span.strong) text = "**" + text + "**";
    const std::string href = SafeHref(span.href);
    if (!href.empty()) text = "[" + text + "](" + href + ")";
    out += text;
    first = false;
  }
}

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeMarkdown(std::string_view raw, bool at_line_start) {
  const std::string text = Flatten(raw);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  if (at_line_start) {
    // Leading spaces would make an indented code block; the writers never need them.
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size()) {
      const char c = text[i];
      if (c == '#' || c == '-' || c == '+' || c == '=') {
        out += '\\';
      } else if (IsAsciiDigit(c)) {
        size_t j = i;
        while (j < text.size() && IsAsciiDigit(text[j])) ++j;
        if (j < text.size() && (text[j] == '.' || text[j] == ')')) {
          out.append(text, i, j - i);
          out += '\\';
          i = j;
        }
      }
    }
  }
  for (; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '_':
        // An underscore inside a word never opens or closes emphasis ("sunrise_session").
        if (i > 0 && i + 1 < text.size() && IsWordByte(text[i - 1]) && IsWordByte(text[i + 1])) {
          out += c;
        } else {
          out += "\\_";
        }
        break;
      case '\\':
      case '`':
      case '*':
      case '[':
      case ']':
      case '<':
      case '>':
      case '~':
        out += '\\';
        out += c;
        break;
      case '&':
        if (StartsEntity(text, i)) out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeMarkdownCell(std::string_view text) {
  const std::string escaped = EscapeMarkdown(text, /*at_line_start=*/false);
  std::string out;
  out.reserve(escaped.size());
  for (char c : escaped) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string SafeHref(std::string_view href) {
  const bool scheme_ok =
      href.starts_with("https://") || href.starts_with("http://") || href.starts_with("mailto:");
  if (!scheme_ok) return {};
  for (char c : href) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return {};
    switch (c) {
      case '"':
      case '\'':
      case '<':
      case '>':
      case '(':
      case ')':
      case '`':
      case '\\':
        return {};
      default:
        break;
    }
  }
  return std::string(href);
}

std::string AnchorId(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if ((c >= 'a' && c <= 'z') || IsAsciiDigit(c) || c == '_' || c == '-') {
      out += c;
    } else {
      out += '-';
    }
  }
  return out;
}

std::string WriteHtml(const Document& doc) {
  std::string out;
  out += "<!doctype html>\n<html lang=\"" + EscapeHtml(doc.lang) + "\">\n<head>\n";
  out += "<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // The notice needs no scripts, frames or remote resources; forbid them outright.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" "
      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  out += "<title>" + EscapeHtml(Flatten(doc.title)) + "</title>\n";
  out += "<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n";
  for (const Block& b : doc.blocks) {
    switch (b.kind) {
      case Block::Kind::kHeading: {
        const std::string tag = "h" + std::to_string(b.level < 1 ? 1 : b.level > 3 ? 3 : b.level);
        out += "<" + tag;
        if (!b.id.empty()) out += " id=\"" + EscapeHtml(AnchorId(b.id)) + "\"";
        out += ">";
        HtmlLine(b.text, out);
        out += "</" + tag + ">\n";
        break;
      }
      case Block::Kind::kParagraph:
        out += b.meta ? "<p class=\"meta\">" : "<p>";
        HtmlLine(b.text, out);
        out += "</p>\n";
        break;
      case Block::Kind::kList:
        out += "<ul>\n";
        for (const Line& item : b.items) {
          out += "<li>";
          HtmlLine(item, out);
          out += "</li>\n";
        }
        out += "</ul>\n";
        break;
      case Block::Kind::kContents:
        out += "<nav aria-label=\"";
        out += EscapeHtml(Flatten(b.text.empty() ? std::string() : b.text.front().text));
        out += "\">\n<ul>\n";
        for (size_t i = 0; i < b.items.size(); ++i) {
          out += "<li><a href=\"#" + EscapeHtml(AnchorId(i < b.ids.size() ? b.ids[i] : "")) + "\">";
          HtmlLine(b.items[i], out);
          out += "</a></li>\n";
        }
        out += "</ul>\n</nav>\n";
        break;
      case Block::Kind::kTable:
        out += "<div class=\"table-wrap\">\n<table>\n<thead>\n<tr>";
        for (const std::string& h : b.header) {
          out += "<th scope=\"col\">" + EscapeHtml(Flatten(h)) + "</th>";
        }
        out += "</tr>\n</thead>\n<tbody>\n";
        for (const auto& row : b.rows) {
          out += "<tr>";
          for (const std::string& cell : row) out += "<td>" + EscapeHtml(Flatten(cell)) + "</td>";
          out += "</tr>\n";
        }
        out += "</tbody>\n</table>\n</div>\n";
        break;
    }
  }
  out += "</main>\n</body>\n</html>\n";
  return out;
}

std::string WriteMarkdown(const Document& doc) {
  std::string out;
  for (const Block& b : doc.blocks) {
    switch (b.kind) {
      case Block::Kind::kHeading:
        out += std::string(static_cast<size_t>(b.level < 1 ? 1 : b.level > 3 ? 3 : b.level), '#');
        out += ' ';
        MarkdownLine(b.text, /*block_start=*/false, out);
        out += "\n\n";
        break;
      case Block::Kind::kParagraph:
        MarkdownLine(b.text, /*block_start=*/true, out);
        out += "\n\n";
        break;
      case Block::Kind::kList:
        for (const Line& item : b.items) {
          out += "- ";
          MarkdownLine(item, /*block_start=*/true, out);
          out += '\n';
        }
        out += '\n';
        break;
      case Block::Kind::kContents:
        break;
      case Block::Kind::kTable: {
        auto row_out = [&out](const std::vector<std::string>& cells) {
          out += '|';
          for (const std::string& cell : cells) {
            const std::string text = EscapeMarkdownCell(cell);
            out += ' ';
            out += text.empty() ? " " : text;
            out += " |";
          }
          out += '\n';
        };
        row_out(b.header);
        out += '|';
        for (size_t i = 0; i < b.header.size(); ++i) out += " --- |";
        out += '\n';
        for (const auto& row : b.rows) row_out(row);
        out += '\n';
        break;
      }
    }
  }
  // One trailing newline.
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n') {
    out.pop_back();
  }
  return out;
}

}  // namespace dovira::notice::internal
