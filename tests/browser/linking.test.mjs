// Linking end to end in a phone-sized Chromium: register on /register, ask
// for a code on /telegram, see the QR image and the deep link, send
// `/start <code>` to the real webhook (as Telegram would), and see the page
// report the account as linked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, PHONE, SHOTS, launch, openPage } from "./browser.mjs";

test("register, generate a code, /start it, and the page says linked", async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser, PHONE);
    page.on("requestfailed", (r) => console.log(`request failed: ${r.url()} ${r.failure()?.errorText}`));

    console.log("step: register");
    await page.goto(`${BASE_URL}/register`, { waitUntil: "domcontentloaded" });
    assert.equal(await page.getAttribute("html", "lang"), "en");
    const email = `ana.${Date.now()}@example.com`;
    await page.fill("#email", email);
    await page.fill("#password", "correct horse battery");
    await Promise.all([page.waitForURL(`${BASE_URL}/telegram`), page.click("form[action='/register'] button")]);
    assert.equal(await page.getAttribute("#status", "data-linked"), "false");

    console.log("step: generate a code");
    await Promise.all([page.waitForLoadState("domcontentloaded"), page.click("#generate")]);
    const code = (await page.textContent("#code")).trim();
    assert.match(code, /^[A-Z2-9]{8}$/);
    const href = await page.getAttribute("#deep-link", "href");
    assert.ok(href.includes(`start=${code}`), href);
    await page.waitForFunction(() => {
      const img = document.getElementById("qr");
      return img.complete && img.naturalWidth > 0;
    });
    assert.ok(await page.$eval("#qr", (img) => img.naturalWidth) > 0, "the QR image loaded");
    await page.screenshot({ path: `${SHOTS}/telegram.png`, fullPage: true });

    console.log("step: /start the code through the webhook");
    // Dev mode makes its webhook secret up; its chat page carries it.
    const chat = await (await page.request.get(`${BASE_URL}/dev/chat`)).text();
    const secret = chat.match(/const SECRET = "([^"]+)"/)[1];
    const status = await page.evaluate(async ({ secret, code }) => {
      const id = 880000 + Math.floor(Math.random() * 1000);
      const update = {
        update_id: Math.floor(Date.now() / 1000) % 1000000000,
        message: {
          message_id: 1, date: Math.floor(Date.now() / 1000), text: `/start ${code}`,
          from: { id, is_bot: false, first_name: "Ana", username: "ana_browser", language_code: "en" },
          chat: { id, type: "private", first_name: "Ana" },
          entities: [{ offset: 0, length: 6, type: "bot_command" }],
        },
      };
      const response = await fetch("/telegram/webhook", {
        method: "POST",
        headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret },
        body: JSON.stringify(update),
      });
      await response.text();
      return response.status;
    }, { secret, code });
    assert.equal(status, 200);

    console.log("step: reload /telegram");
    await page.goto(`${BASE_URL}/telegram`, { waitUntil: "domcontentloaded" });
    assert.equal(await page.getAttribute("#status", "data-linked"), "true");
    assert.match(await page.textContent("#status"), /@ana_browser/);
    await page.screenshot({ path: `${SHOTS}/telegram-linked.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});
