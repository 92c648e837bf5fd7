// A guest books through the public booking page in Debian's chromium (playwright-core), on a
// phone-sized screen in Adelaide's time zone, then opens their own link to see the booking.
// Started by booking_serve_test.cpp, which runs `sidekick serve` and checks afterwards that
// the booking reached the client's CalDAV calendar and the invitation a real mailbox.
"use strict";
const assert = require("node:assert/strict");
const { browserContext, watchPolicy } = require("./chromium.js");
const fs = require("node:fs");
const path = require("node:path");

const base = process.env.SK_BASE;
const out = process.env.SK_ARTIFACTS;
const world = JSON.parse(process.env.SK_WORLD);
const report = {};

(async () => {
  fs.mkdirSync(out, { recursive: true });
  const context = await browserContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    timezoneId: "Australia/Adelaide",
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    const violations = [];
    watchPolicy(page, violations);
    // The page learns the visitor's zone from the browser and shows times in it.
    await page.goto(`${base}/book/${world.client}/${world.type}`);
    await page.waitForURL(/zone=Australia%2FAdelaide/);
    assert.equal(await page.inputValue("#zone"), "Australia/Adelaide");
    const slots = page.locator("a.slot");
    await slots.first().waitFor();
    assert.ok((await slots.count()) > 3, "free times are offered");
    // Readable on a phone: nothing wider than the screen.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, "the page scrolls sideways on a phone");
    await page.screenshot({ path: path.join(out, "booking-times.png"), fullPage: true });
    report.start = await slots.first().getAttribute("data-start");
    report.time_label = await slots.first().innerText();
    await Promise.all([page.waitForNavigation(), slots.first().click()]);
    assert.match(await page.locator("#when").innerText(), /Australia\/Adelaide/);
    await page.fill("#name", world.guest_name);
    await page.fill("#email", world.guest_email);
    await page.fill("textarea[name=q0]", "The spring catalogue");
    await page.screenshot({ path: path.join(out, "booking-confirm.png"), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.click("#book")]);
    assert.match(await page.locator("#done").innerText(), /You are booked/);
    await page.screenshot({ path: path.join(out, "booking-done.png"), fullPage: true });
    report.manage = await page.locator("#manage").getAttribute("href");
    // The guest's own link shows the booking and lets them cancel or move it.
    await page.goto(base + report.manage);
    assert.match(await page.locator("#status").innerText(), /confirmed/);
    await page.locator("#cancel").waitFor();
    assert.ok((await page.locator("button.slot").count()) > 0, "other times to move to");
    await page.screenshot({ path: path.join(out, "booking-manage.png"), fullPage: true });
    assert.deepEqual(violations, []);
  } finally {
    await context.close();
  }
  console.log("RESULT " + JSON.stringify(report));
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
