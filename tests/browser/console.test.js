// Browser tests of the console in Debian's chromium, driven by playwright-core. Started by
// browser_test.cpp, which runs the server and checks afterwards what this script reports.
"use strict";
const assert = require("node:assert/strict");
const { browserContext, watchPolicy } = require("./chromium.js");
const fs = require("node:fs");
const path = require("node:path");

const base = process.env.SK_BASE;
const out = process.env.SK_ARTIFACTS;
const world = JSON.parse(process.env.SK_WORLD);
const report = {};

async function signIn(page, name, password) {
  await page.goto(base + "/login");
  await page.fill("#name", name);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("#sign-in")]);
}

// A browser signed in as `name` (a key of world.passwords), collecting the page's policy
// violations; `options` are the browser context's (a phone's viewport, say).
async function signedIn(name, options) {
  const context = await browserContext(options);
  const page = context.pages()[0] || (await context.newPage());
  const violations = [];
  watchPolicy(page, violations);
  await signIn(page, name, world.passwords[name]);
  return { context, page, violations };
}

async function vaWorksTheQueue() {
  const { context, page, violations } = await signedIn("va");
  assert.match(page.url(), /\/queue$/);
  const rows = page.locator("#queue tr.row");
  await rows.first().waitFor();
  const ids = await rows.evaluateAll((rs) => rs.map((r) => r.dataset.item));
  assert.ok(ids.length >= 4, "the queue shows the waiting items: " + ids);
  assert.equal(ids[0], world.draft, "the draft waits first");
  assert.ok(!ids.some((i) => world.foreign_items.includes(i)), "no item of another client");
  await page.screenshot({ path: path.join(out, "va-queue.png"), fullPage: true });

  // j j k: the second row is selected.
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  assert.equal(await page.locator("#queue tr.row.selected").getAttribute("data-item"), ids[1]);

  // a: approve it; the row leaves the queue and the selection moves on.
  await page.keyboard.press("a");
  await page.locator(`#queue tr[data-item="${ids[1]}"]`).waitFor({ state: "detached" });
  report.approved = ids[1];
  const selected = await page.locator("#queue tr.row.selected").getAttribute("data-item");
  assert.equal(selected, ids[2]);

  // o: open it; c: correct it, teaching the engine; then on to the next item.
  await Promise.all([page.waitForNavigation(), page.keyboard.press("o")]);
  assert.ok(page.url().endsWith("/items/" + selected), page.url());
  await page.keyboard.press("c");
  assert.equal(await page.evaluate(() => document.activeElement.id), "category");
  await page.selectOption("#category", "support");
  await page.selectOption("#disposition", "to-client");
  await page.focus("#why");
  await page.keyboard.type("a customer asking about an order");
  const before = page.url();
  await page.keyboard.press("Enter");
  await page.locator("#result .done").waitFor();
  assert.match(await page.locator("#result").innerText(), /corrected to support/);
  await page.screenshot({ path: path.join(out, "va-corrected.png"), fullPage: true });
  await page.waitForURL((u) => u.toString() !== before, { timeout: 5000 });
  report.corrected = selected;

  // The next item is the draft: e edits it, Escape leaves the text, a approves and sends.
  assert.ok(page.url().endsWith("/drafts/" + world.draft), page.url());
  await page.locator("#draft-body").waitFor();
  await page.keyboard.press("e");
  assert.equal(await page.evaluate(() => document.activeElement.id), "draft-body");
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\nBest regards, Vera (assistant)");
  await page.keyboard.press("Escape");
  await page.keyboard.press("a");
  await page.locator("#result .done").waitFor();
  assert.match(await page.locator("#result").innerText(), /approved with your edits/);
  await page.screenshot({ path: path.join(out, "va-draft-approved.png"), fullPage: true });
  report.draft = world.draft;

  // The hostile message: shown, but nothing in it runs or loads.
  const response = await page.goto(base + world.hostile_url);
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.equal(response.headers()["x-content-type-options"], "nosniff");
  await page.waitForTimeout(800);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(frame, "the message is in an iframe");
  const inside = await frame.evaluate(() => ({
    text: document.body.innerText,
    scripts: document.querySelectorAll("script").length,
    handlers: Array.from(document.querySelectorAll("*")).filter((e) =>
      Array.from(e.attributes).some((a) => a.name.startsWith("on") || a.name === "style")).length,
    links: Array.from(document.querySelectorAll("a")).map((a) => a.getAttribute("href")),
    title: document.title,
  }));
  assert.match(inside.text, /Please pay the invoice/);
  assert.match(inside.text, /cell/, "text after the dropped elements is kept");
  assert.equal(inside.scripts, 0);
  assert.equal(inside.handlers, 0);
  assert.deepEqual(inside.links.filter((h) => h), ["https://example.com/pay"]);
  // The stripped links are inert text now; clicking them does nothing.
  await frame.click("text=click me");
  await frame.click("text=or me");
  await page.waitForTimeout(500);
  assert.notEqual(await page.title(), "pwned");
  await page.screenshot({ path: path.join(out, "va-hostile-message.png"), fullPage: true });

  // frame-ancestors: another page cannot frame the console.
  const framer = await context.newPage();
  await framer.setContent(`<iframe id="f" src="${base}/login"></iframe>`);
  await framer.waitForTimeout(800);
  const framed = framer.frames().find((f) => f !== framer.mainFrame());
  let framedText = "";
  try { framedText = await framed.evaluate(() => document.body.innerText); } catch (e) { framedText = ""; }
  assert.ok(!/Sign in/.test(framedText), "the console must not render inside another page");
  await framer.close();

  assert.deepEqual(violations, [], "the console's own pages break no policy");

  // Asked for, the message's images load (the trap hears when); its tracking pixel never.
  await page.goto(base + world.hostile_url);
  report.images_shown_at = Date.now();
  await page.click("#show-images");
  await page.locator("#hide-images").waitFor();
  await page.waitForTimeout(800);
  const shown = page.frames().find((f) => f !== page.mainFrame());
  const images = await shown.evaluate(() =>
    Array.from(document.querySelectorAll("img")).map((i) => i.getAttribute("src")));
  assert.equal(images.length, 1, "only the photo: " + images);
  assert.match(images[0], /\/photo\.png$/);
  await page.screenshot({ path: path.join(out, "va-images-shown.png"), fullPage: true });
  await context.close();
}

// A VA adds a knowledge-base entry, opens a customer's question the knowledge base did not
// know, matches it again, edits the best suggestion, sends it and marks the conversation
// solved.
async function vaAnswersFromTheKnowledgeBase() {
  const { context, page, violations } = await signedIn("va");
  await page.goto(base + `/c/${world.acme}/kb`);
  await page.locator('#kb-entries tr.entry[data-key="shipping-time"]').waitFor();
  await page.fill("#kb-add-key", "mug-returns");
  await page.fill("#kb-add-question", "How do I return something and get a refund?");
  await page.fill("#kb-add-variants", "Can I send back a mug?\nI want my money back");
  await page.fill("#kb-add-answer", "Hello {{first_name}}, send it back within 30 days for a full refund.");
  await page.fill("#kb-add-tags", "returns, refunds");
  await page.fill("#kb-add-why", "customers ask about returns");
  await page.click("#kb-add-button");
  // The page reloads with the new entry in the list.
  await page.locator('#kb-entries tr.entry[data-key="mug-returns"]').waitFor();
  await page.screenshot({ path: path.join(out, "va-kb.png"), fullPage: true });
  report.kb_entry = "mug-returns";

  await page.goto(base + world.support_url);
  const suggestions = page.locator("#support li.suggestion");
  await suggestions.first().waitFor();
  assert.equal(await suggestions.count(), 3, "the three best entries are suggested");
  assert.match(await page.locator("#support li.suggestion .score").first().innerText(), /^\d+%$/);
  assert.match(await page.locator("#conversation-status").innerText(), /open/);
  // Matched again against the knowledge base as it is now: the new entry comes first.
  await page.click("#rematch");
  await page.locator("#support-message").waitFor();
  assert.match(await page.locator("#support-message").innerText(), /matched again/);
  const first = page.locator("#support li.suggestion").first();
  assert.equal(await first.getAttribute("data-key"), "mug-returns");
  // Edit first, then send.
  await first.locator("summary").click();
  const body = first.locator("textarea.suggestion-body");
  assert.match(await body.inputValue(), /Hello Dana, send it back within 30 days/);
  await body.focus();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\nPS: keep the box, please.");
  await first.locator("button.send-edited").click();
  await page.locator("#support-message", { hasText: "sent with your edits" }).waitFor();
  await page.screenshot({ path: path.join(out, "va-support-sent.png"), fullPage: true });
  assert.equal(await page.locator("#support button.send").count(), 0, "answered once only");
  report.support_item = world.support_item;
  await page.click("#solve");
  await page.locator("#conversation-status", { hasText: "solved" }).waitFor();
  // The conversations page: solved, so not among the active ones, and listed under "solved"
  // with its times and a link back to the customer's message.
  await page.click(`a.support-link[href="/c/${world.acme}/conversations"]`);
  await page.locator("#conversations").waitFor();
  assert.equal(await page.locator("#conversation-list tr.conversation").count(), 0);
  await page.click('nav.filters a:text-is("solved")');
  const solvedRow = page.locator('#conversation-list tr.conversation[data-status="solved"]');
  await solvedRow.first().waitFor();
  assert.match(await solvedRow.first().innerText(), /dana@shopper\.example/);
  assert.equal(await solvedRow.first().locator("button.solve").count(), 0);
  await page.screenshot({ path: path.join(out, "va-conversations.png"), fullPage: true });
  assert.deepEqual(violations, [], "the support pages break no policy");
  await context.close();
}

// A VA writes a rule with the policy page's form: tries it on recent mail, then adds it.
async function vaWritesARule() {
  const { context, page, violations } = await signedIn("va");
  await page.goto(base + `/c/${world.acme}/policy`);
  await page.click('summary:text-is("Add a rule")');
  const form = page.locator("#rule-form-new");
  await form.locator('input[name="name"]').fill("Orders from customers");
  await form.locator('input[name="subject"]').fill("order, refund");
  await form.locator('input[name="rel_customer"]').check();
  await form.locator('input[name="hours"]').fill("8-18");
  await form.locator('input[name="day_mon"]').check();
  await form.locator('select[name="then_disposition"]').selectOption("awaiting-va");
  await form.locator('input[name="then_labels"]').fill("orders");
  await form.locator('button:text-is("Test on recent items")').click();
  await page.locator("#test-new p.done").waitFor();
  assert.match(await page.locator("#test-new p.done").innerText(), /Matches \d+ of the newest \d+ items/);
  await form.screenshot({ path: path.join(out, "va-rule-form.png") });
  // Added: the page shows the rules again, the new one last.
  await Promise.all([page.waitForNavigation(), form.locator('button:text-is("Add")').click()]);
  await page.locator('li.rule b:text-is("Orders from customers")').waitFor();
  await page.screenshot({ path: path.join(out, "va-rules.png"), fullPage: true });
  report.rule = "Orders from customers";
  assert.deepEqual(violations, [], "the policy page breaks no policy");
  await context.close();
}

// After a first pass the screener holds many senders: the VA lets a whole domain in and keeps
// one sender out from the screened page, ticking boxes; the list updates in place.
async function vaJudgesScreenedSenders() {
  const { context, page, violations } = await signedIn("va");
  await page.locator(`a[href="/c/${world.acme}/screened"]`).first().click();
  await page.waitForURL(/\/screened$/);
  const leads = page.locator('input[name="domain:leads.example"]');
  await leads.waitFor();
  await page.screenshot({ path: path.join(out, "va-screened.png"), fullPage: true });
  await leads.check();
  await page.fill('input[name="why"]', "the client's buyers");
  await page.click("#let-in");
  await page.locator("#result p.done").waitFor();
  assert.match(await page.locator("#result").innerText(), /let in 2 senders \(3 messages\)/);
  // The list drops the domain without a reload; what is left can be judged the same way.
  await leads.waitFor({ state: "detached" });
  await page.check('input[name="sender:pest@pushy.example"]');
  await page.click("#keep-out");
  await page.locator('#result p.done:text-matches("kept out 1 sender")').waitFor();
  await page.locator('input[name="sender:pest@pushy.example"]').waitFor({ state: "detached" });
  report.screened = { let_in: "leads.example", kept_out: "pest@pushy.example" };
  assert.deepEqual(violations, [], "the screened page breaks no policy");
  await context.close();
}

// A VA adds a task with the tasks page's form; due already, it waits in the queue until the
// VA marks it done there.
async function vaKeepsATask() {
  const { context, page, violations } = await signedIn("va");
  await page.goto(base + `/c/${world.acme}/tasks`);
  const form = page.locator("#task-form");
  await form.locator('input[name="title"]').fill("Call Dana back");
  // The world's clock is Sunday 15 June 2025, 15:06 in acme's zone (UTC).
  await form.locator('input[name="due"]').fill("2025-06-15 09:00");
  await Promise.all([page.waitForNavigation(), form.locator("button").click()]);
  const row = page.locator('table.tasks tr.task:has-text("Call Dana back")');
  await row.waitFor();
  assert.match(await row.innerText(), /Sunday 15 June 2025, 09:00 \(due\)/);
  await page.screenshot({ path: path.join(out, "va-tasks.png"), fullPage: true });
  await page.goto(base + "/queue");
  const queued = page.locator('#queue tr.row[data-kind="task"]');
  await queued.waitFor();
  assert.match(await queued.innerText(), /Call Dana back/);
  // Done from its page: gone from the queue.
  await page.goto(base + `/c/${world.acme}/tasks`);
  await Promise.all([page.waitForNavigation(), row.locator('button:text-is("Done")').click()]);
  await page.locator('ul.done li:has-text("Call Dana back")').waitFor();
  await page.goto(base + "/queue");
  assert.equal(await page.locator('#queue tr.row[data-kind="task"]').count(), 0);
  report.task = "Call Dana back";
  assert.deepEqual(violations, [], "the tasks page breaks no policy");
  await context.close();
}

// The agency admin narrows the queue to one client, finds a reply the server refused at the
// top with the reason, and sends it again from its page.
async function adminSendsRefusedMailAgain() {
  const { context, page, violations } = await signedIn("admin");
  await Promise.all([page.waitForNavigation(), page.click(`nav.tabs a[href="/queue?client=globex"]`)]);
  const first = page.locator("#queue tr.row").first();
  await first.waitFor();
  assert.equal(await first.getAttribute("data-kind"), "unsent");
  assert.equal(await first.getAttribute("data-item"), world.unsent);
  assert.match(await first.locator("td.why").innerText(), /mail not sent: 550 5\.1\.1/);
  assert.equal(await page.locator('#queue tr.row[data-client="' + world.acme + '"]').count(), 0,
               "only globex's");
  // The first row is selected: o opens it.
  await Promise.all([page.waitForNavigation(), page.keyboard.press("o")]);
  assert.match(await page.locator("#send-error").innerText(), /no such user/);
  await page.click("#approve");
  await page.locator("#result p.done").waitFor();
  assert.match(await page.locator("#result").innerText(), /sent again/);
  report.unsent = world.unsent;
  assert.deepEqual(violations, [], "the queue and the message break no policy");
  await context.close();
}

// A message that carries its own picture (cid:) shows it at once: it loads nothing from
// anywhere, so it needs no "show images" and breaks no policy.
async function inlineImagesAreShown() {
  const { context, page, violations } = await signedIn("admin");
  await page.goto(base + world.inline_url);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(frame, "the message is in an iframe");
  await frame.waitForFunction(() => {
    const img = document.querySelector("img");
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.equal(await page.locator("#show-images").count(), 0, "nothing remote to ask about");
  assert.deepEqual(violations, [], "the inline image breaks no policy");
  await page.screenshot({ path: path.join(out, "admin-inline-image.png"), fullPage: true });
  await context.close();
}

async function clientSeesOnlyTheirDigest() {
  // The client reads the digest on a phone.
  const { context, page, violations } = await signedIn("acme-owner", {
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  assert.ok(page.url().endsWith(`/c/${world.acme}/digest`), page.url());
  const text = await page.locator("main").innerText();
  assert.match(text, /Acme Widgets/);
  assert.match(text, /Contract renewal/, "the VIP's mail needs the client");
  assert.doesNotMatch(await page.content(), /Globex/);
  const fits = await page.evaluate(() =>
    document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1);
  assert.ok(fits, "the digest fits a phone's width without sideways scrolling");
  await page.screenshot({ path: path.join(out, "client-digest.png"), fullPage: true });
  // One click lets a screened sender in.
  const first = page.locator("#screened li[data-item]").first();
  const item = await first.getAttribute("data-item");
  await first.locator("button.let-in").click();
  await page.locator("#screened .done").first().waitFor();
  report.let_in = item;
  // Another client's digest does not exist for this user, and the queue is not theirs.
  const foreign = await page.goto(base + `/c/${world.globex}/digest`);
  assert.equal(foreign.status(), 404);
  const queue = await page.goto(base + "/queue");
  assert.equal(queue.status(), 403);
  assert.deepEqual(violations, []);
  await context.close();
}

(async () => {
  fs.mkdirSync(out, { recursive: true });
  await vaWorksTheQueue();
  await vaAnswersFromTheKnowledgeBase();
  await vaWritesARule();
  await vaJudgesScreenedSenders();
  await vaKeepsATask();
  await adminSendsRefusedMailAgain();
  await inlineImagesAreShown();
  await clientSeesOnlyTheirDigest();
  console.log("RESULT " + JSON.stringify(report));
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
