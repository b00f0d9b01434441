// The Telegram Mini App (/app: dashboard, invoices, partners, charts, the company chooser's pages) in a phone-sized Chromium, offline: Telegram's
// own script (telegram.org) is refused, so the page must sign in with the
// initData it finds in the URL, where Telegram puts it (#tgWebAppData=...),
// signed here as Telegram signs it with the test server's bot token
// (BOT_TOKEN, set by deploy/browser-test.sh). The dev chat's Telegram user
// is linked to the demo account, owner of the demo company.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { BASE_URL, SHOTS, launch, openPage } from "./browser.mjs";

const BOT_TOKEN = process.env.BOT_TOKEN;
/** The dev chat's Telegram user, linked to the demo account in dev mode. */
const DEV_TELEGRAM_ID = 424242;
/** A dark theme, as Telegram passes it in the URL (and its script sets as CSS variables). */
const THEME = { bg_color: "#17212b", text_color: "#f5f5f5", hint_color: "#708499", button_color: "#5288c1",
  button_text_color: "#ffffff", secondary_bg_color: "#232e3c", link_color: "#6ab3f3" };
let launches = 0;

/** A Mini App's initData for `user`, signed as Telegram signs it: the
 * data-check-string (every field but `hash`, sorted, `key=value` joined by
 * newlines) under HMAC-SHA256 keyed with HMAC-SHA256("WebAppData", bot token). */
function initData(user) {
  launches += 1;
  const fields = {
    query_id: `AAE${Date.now()}${launches}`,
    user: JSON.stringify(user),
    auth_date: String(Math.floor(Date.now() / 1000)),
  };
  const check = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join("\n");
  const key = createHmac("sha256", "WebAppData").update(BOT_TOKEN).digest();
  const hash = createHmac("sha256", key).update(check).digest("hex");
  return new URLSearchParams({ ...fields, hash }).toString();
}

/** /app as Telegram opens it: the signed data and the theme in the fragment. */
function launchUrl(data) {
  const fragment = new URLSearchParams({
    tgWebAppData: data, tgWebAppVersion: "8.0", tgWebAppPlatform: "android",
    tgWebAppThemeParams: JSON.stringify(THEME),
  });
  return `${BASE_URL}/app#${fragment}`;
}

async function phone(browser) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    locale: "en-US",
  });
  // No internet in tests: Telegram's script never arrives.
  await context.route("https://telegram.org/**", (route) => route.abort());
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on("console", (m) => console.log(`page console: ${m.text()}`));
  page.on("pageerror", (e) => { throw e; });
  return page;
}

const user = (language_code) => ({ id: DEV_TELEGRAM_ID, first_name: "Dev", username: "dev_owner", language_code });

test("the Mini App signs in with signed initData and shows the dashboard, invoices and charts", async () => {
  assert.ok(BOT_TOKEN, "BOT_TOKEN: the test server's bot token (deploy/browser-test.sh sets it)");
  const browser = await launch();
  try {
    const page = await phone(browser);

    console.log("step: opened from Telegram, signed in, the dashboard");
    await page.goto(launchUrl(initData(user("en"))), { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#company-name");
    const company = (await page.textContent("#company-name")).trim();
    assert.ok(company.length > 0);
    assert.match(await page.textContent("main"), /Issued invoices \(to collect\)/);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, "rgb(23, 33, 43)", "Telegram's theme colours");
    assert.equal(await page.getAttribute("#tab-dashboard", "aria-current"), "page");
    await page.screenshot({ path: `${SHOTS}/miniapp-dashboard.png`, fullPage: true });

    console.log("step: the invoices, filtered, next page");
    await page.click("#tab-invoices");
    await page.waitForSelector("#filters");
    const all = await page.locator("#invoices li").count();
    assert.ok(all > 0, "the demo company has invoices");
    await page.selectOption("#filter-status", "unpaid");
    await page.selectOption("#filter-direction", "issued");
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("/invoices?status=unpaid&direction=issued")),
      page.click("#filters button[type=submit]"),
    ]);
    await page.waitForSelector("#filter-status option[value=unpaid][selected]", { state: "attached" });
    for (const text of await page.locator("#invoices li").allTextContents()) {
      assert.match(text, /📤/, "issued only");
      assert.doesNotMatch(text, /\bpaid\b/, "unpaid only");
    }
    await page.screenshot({ path: `${SHOTS}/miniapp-invoices.png`, fullPage: true });
    if (await page.locator("#next-page").count()) {
      const first = await page.locator("#invoices li").first().textContent();
      await page.click("#next-page");
      await page.waitForFunction((f) => document.querySelector("#invoices li")?.textContent !== f, first);
    }

    console.log("step: the partners, customers then suppliers");
    await page.click("#tab-partners");
    await page.waitForSelector("#customers[aria-current=page]");
    assert.ok(await page.locator("#partners li").count() > 0, "the demo company has customers with open invoices");
    await page.screenshot({ path: `${SHOTS}/miniapp-partners.png`, fullPage: true });
    await page.click("#suppliers");
    await page.waitForSelector("#suppliers[aria-current=page]");

    console.log("step: the charts, drawn as images");
    await page.click("#tab-charts");
    // Every chart drawn: its SVG fetched with the token and decoded as an image.
    await page.waitForFunction(() => {
      const images = [...document.querySelectorAll("figure.chart img")];
      return images.length > 0 && images.every((i) => i.src.startsWith("data:image/svg+xml") && i.complete && i.naturalWidth === 800);
    });
    const alt = await page.getAttribute("figure.chart img", "alt");
    assert.match(alt, /invoiced: /, "the figures are the image's text alternative");
    await page.screenshot({ path: `${SHOTS}/miniapp-charts.png`, fullPage: true });

    console.log("step: a reload keeps the session (the signed data is accepted once)");
    await page.reload({ waitUntil: "domcontentloaded" });
    await page.waitForSelector("#company-name");
  } finally {
    await browser.close();
  }
});

test("the Mini App in Romanian", async () => {
  const browser = await launch();
  try {
    const page = await phone(browser);
    await page.goto(launchUrl(initData(user("ro"))), { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#company-name");
    assert.equal(await page.getAttribute("html", "lang"), "ro");
    assert.match(await page.textContent("main"), /Facturi emise \(de încasat\)/);
    assert.equal((await page.textContent("#tab-invoices")).trim(), "Facturi");
    await page.screenshot({ path: `${SHOTS}/miniapp-dashboard-ro.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});

test("tampered initData is refused, and outside Telegram the app says where to open it", async () => {
  const browser = await launch();
  try {
    const page = await phone(browser);
    // Signed for the dev user, then the user id changed: the signature no longer holds.
    const tampered = initData(user("en")).replace(`%22id%22%3A${DEV_TELEGRAM_ID}`, "%22id%22%3A1");
    assert.notEqual(tampered, initData(user("en")));
    await page.goto(launchUrl(tampered), { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#status.error");
    assert.match(await page.textContent("#status"), /Telegram did not confirm who you are/);
    assert.equal(await page.locator("#company-name").count(), 0, "nothing shown");
    await page.screenshot({ path: `${SHOTS}/miniapp-refused.png`, fullPage: true });

    await page.goto(`${BASE_URL}/app`, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#status.error");
    assert.match(await page.textContent("#status"), /Open the app from the ledgerbot bot/);
  } finally {
    await browser.close();
  }
});

test("the company chooser shows 50 companies and appends the next ones on \u201cMore companies\u201d", async () => {
  const browser = await launch();
  try {
    console.log("step: the demo company's owner invites, in the dev chat; a new person accepts");
    const chat = await openPage(browser, { viewport: { width: 420, height: 760 } });
    await chat.goto(`${BASE_URL}/dev/chat`, { waitUntil: "domcontentloaded" });
    const bot = chat.locator(".msg.bot");
    const say = async (text) => {
      const before = await bot.count();
      await chat.fill("#text", text);
      await chat.press("#text", "Enter");
      await bot.nth(before).waitFor();
      return before;
    };
    const at = await say("/invite viewer");
    const code = (await bot.nth(at).innerText()).match(/start=inv_([A-Za-z0-9_-]{43})/)?.[1];
    assert.ok(code, await bot.nth(at).innerText());
    await bot.nth(at + 1).waitFor(); // the invitation's QR code, so that it is not taken for the next answer
    // A Telegram user of this test alone (the clock keeps reruns against one database apart).
    const id = 7100000000 + (Date.now() % 100000000);
    await chat.fill("#uid", String(id));
    await chat.fill("#fname", "Ana");
    const invitation = bot.nth(await say(`/start inv_${code}`));
    await invitation.locator("button", { hasText: "Accept" }).click();
    await invitation.filter({ hasText: /Welcome to|Bine ai venit/ }).waitFor();

    console.log("step: opened from Telegram: one company, no chooser");
    const page = await phone(browser);
    await page.goto(launchUrl(initData({ id, first_name: "Ana", language_code: "en" })), { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#company-name");
    const demo = (await page.textContent("#company-name")).trim();
    assert.equal(await page.locator("#company").count(), 0, "a single company: nothing to choose");

    console.log("step: 50 companies of their own (with the app's token), after the demo one by name");
    const created = await page.evaluate(async () => {
      const key = Object.keys(sessionStorage).find((k) => k.startsWith("ledgerbot.tokens."));
      const { access_token: token } = JSON.parse(sessionStorage.getItem(key));
      const statuses = [];
      for (let n = 1; n <= 50; n += 1) {
        const r = await fetch("/api/v1/companies", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ name: `Zeta ${String(n).padStart(2, "0")}` }),
        });
        statuses.push(r.status);
      }
      return statuses;
    });
    assert.deepEqual([...new Set(created)], [201], JSON.stringify(created));

    console.log("step: the chooser: the first 50 by name and \u201cMore companies\u201d");
    await page.reload({ waitUntil: "domcontentloaded" });
    await page.waitForSelector("#more-companies");
    assert.equal((await page.textContent("#company-name")).trim(), demo, "the active company, still shown");
    const options = page.locator("#company option");
    assert.equal(await options.count(), 50);
    assert.equal(await page.locator("#company option:checked").textContent(), demo);
    assert.equal(await options.last().textContent(), "Zeta 49");
    assert.equal((await page.textContent("#more-companies")).trim(), "More companies \u25b6");
    await page.screenshot({ path: `${SHOTS}/miniapp-chooser.png`, fullPage: true });

    console.log("step: more: the last company appended, then no more");
    await page.click("#more-companies");
    await page.waitForFunction(() => document.querySelectorAll("#company option").length === 51);
    assert.equal(await options.last().textContent(), "Zeta 50");
    const values = await options.evaluateAll((all) => all.map((o) => o.value));
    assert.equal(new Set(values).size, 51, "no company twice");
    assert.equal(await page.locator("#more-companies").count(), 0, "the last page: the button goes");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "company", "focus on the list it filled");
    assert.equal(await page.locator("#company option:checked").textContent(), demo, "the choice kept");
    await page.screenshot({ path: `${SHOTS}/miniapp-chooser-more.png`, fullPage: true });

    console.log("step: the appended company, chosen and shown");
    await page.selectOption("#company", { label: "Zeta 50" });
    await page.click("#chooser button[type=submit]");
    await page.waitForFunction(() => document.getElementById("company-name")?.textContent === "Zeta 50");
  } finally {
    await browser.close();
  }
});
