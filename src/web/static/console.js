// The console's keyboard and live updates. No inline script anywhere: the CSP allows only
// files from the console itself.
(function () {
  "use strict";
  const csrf = document.body.dataset.csrf || "";
  let sel = 0;

  function rows() {
    return Array.from(document.querySelectorAll("#queue tr.row"));
  }
  function mark() {
    const r = rows();
    if (!r.length) return;
    sel = Math.max(0, Math.min(sel, r.length - 1));
    r.forEach((x, i) => x.classList.toggle("selected", i === sel));
    r[sel].scrollIntoView({ block: "nearest" });
    const count = document.getElementById("count");
    if (count) count.textContent = String(r.length);
  }
  async function post(url) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: "{}",
    });
    return res.ok;
  }
  function click(id) {
    const b = document.getElementById(id);
    if (b) b.click();
  }
  // The field a VA edits on this page: the draft's text, or the correction's category.
  function focus() {
    const f = document.getElementById("draft-body") || document.getElementById("category");
    if (f) f.focus();
  }
  function refresh() {
    document.body.dispatchEvent(new CustomEvent("queue-changed", { bubbles: true }));
  }

  document.addEventListener("htmx:afterSwap", mark);
  // After an action on an item page the server names the next item; go there.
  document.addEventListener("htmx:afterRequest", (e) => {
    const xhr = e.detail && e.detail.xhr;
    if (!xhr || !(document.getElementById("item") || document.getElementById("draft"))) return;
    const next = xhr.getResponseHeader("X-Sk-Next");
    if (next && e.detail.successful) setTimeout(() => { location.href = next; }, 400);
  });

  document.addEventListener("keydown", async (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select")) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    const queue = document.getElementById("queue");
    const item = document.getElementById("item") || document.getElementById("draft");
    if (queue) {
      const r = rows()[sel];
      switch (e.key) {
        case "j": sel++; mark(); break;
        case "k": sel--; mark(); break;
        case "o": case "Enter": if (r) location.href = r.dataset.url; break;
        case "a": if (r && (await post(r.dataset.approve))) refresh(); break;
        case "l":
          // Mail of the client's and booking requests have no sender to let in.
          if (r && !["draft", "unsent", "booking"].includes(r.dataset.kind) &&
              (await post(r.dataset.api + "/let-in"))) refresh();
          break;
        case "c": case "e": if (r) location.href = r.dataset.url + "#edit"; break;
        case "r": refresh(); break;
        default: return;
      }
      e.preventDefault();
    } else if (item) {
      switch (e.key) {
        case "a": click("approve"); break;
        case "l": click("let-in"); break;
        case "d": click("discard"); break;
        case "c": case "e": focus(); break;
        case "u": case "Escape": location.href = "/queue"; break;
        default: return;
      }
      e.preventDefault();
    }
  });

  if (document.getElementById("queue") && window.EventSource) {
    const events = new EventSource("/events");
    let first = true;
    events.addEventListener("changed", () => {
      if (first) { first = false; return; }
      refresh();
    });
  }
  // Importing a knowledge base: the chosen file is read into the form's text, so the same
  // form also takes pasted text.
  const kbFile = document.getElementById("kb-file");
  if (kbFile) {
    kbFile.addEventListener("change", async () => {
      const f = kbFile.files && kbFile.files[0];
      if (!f) return;
      document.getElementById("kb-import-text").value = await f.text();
      document.getElementById("kb-import-name").value = f.name;
      const ext = (f.name.match(/\.(toml|csv)$/i) || [])[1];
      if (ext) document.getElementById("kb-import-format").value = ext.toLowerCase();
    });
  }
  if (location.hash === "#edit") focus();
  mark();
})();
