#pragma once
// Mail HTML made safe to show: an allow-list of plain formatting elements, no attributes but
// vetted links, no scripts, styles, forms, frames or remote content. What cannot be kept is
// dropped, never passed through.
#include <string>
#include <string_view>

namespace sk::web {

struct SanitizeReport {
  int blocked_images = 0;  // remote (or any) images replaced by their alt text
  int dropped_links = 0;   // links whose target was not http(s) or mailto
  int dropped_elements = 0;
};

std::string sanitize_html(std::string_view html, SanitizeReport* report = nullptr);

// The sanitized body as a complete document for an iframe's srcdoc, with its own strict CSP
// (no scripts, no loads of any kind, inline styles only).
std::string message_document(std::string_view sanitized_body);

}  // namespace sk::web
