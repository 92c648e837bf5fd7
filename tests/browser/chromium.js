// What both browser scripts need from Debian's chromium (playwright-core).
"use strict";
const { chromium } = require(process.env.SK_PLAYWRIGHT);
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

// Chromium as a test peer: no sandbox (root in CI), no background traffic, a fresh profile
// that goes when the context is closed.
async function browserContext(device = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sk-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1200, height: 900 },
    ...device,
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  return context;
}

// Every console message that says a policy refused something: our own pages must cause none.
function watchPolicy(page, into) {
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) into.push(m.text());
  });
}

module.exports = { browserContext, watchPolicy };
