#pragma once
// Mail HTML made safe to show: an allow-list of plain formatting elements, no attributes but
// vetted links, no scripts, styles, forms, frames or remote content. What cannot be kept is
// dropped, never passed through.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sk::web {

struct SanitizeReport {
  int blocked_images = 0;    // images replaced by their alt text
  int shown_images = 0;      // remote images kept because the reader asked for them
  int blocked_trackers = 0;  // 1-pixel images, blocked even when images are shown
  int inline_images = 0;     // images the message carries itself (cid:), always shown
  int dropped_links = 0;     // links whose target was not http(s) or mailto
  int dropped_elements = 0;
};

struct SanitizeOptions {
  // Keep http(s) images (never their event handlers, srcset or styles) for a reader who asked
  // to see them: loading them tells the sender the message was opened. Tracking pixels
  // (1x1 or smaller) stay blocked.
  bool show_images = false;
  // The message's own images by Content-ID (lower-case, no angle brackets) as data: URIs.
  // They load nothing from anywhere, so `cid:` images are shown whatever show_images says.
  std::vector<std::pair<std::string, std::string>> inline_images;
};

std::string sanitize_html(std::string_view html, SanitizeReport* report = nullptr,
                          const SanitizeOptions& options = {});

// The sanitized body as a complete document for an iframe's srcdoc, with its own strict CSP
// (no scripts, no loads of any kind but, when `remote_images`, http(s) images; inline styles
// only).
std::string message_document(std::string_view sanitized_body, bool remote_images = false);

}  // namespace sk::web
