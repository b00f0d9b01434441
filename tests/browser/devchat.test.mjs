// Dev mode's /dev/chat end to end: a person types commands in the page, the
// page posts real updates to the webhook, and the bot's answers appear.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, SHOTS, launch, openPage } from "./browser.mjs";

test("the dev chat talks to the bot through the real webhook", async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser, { viewport: { width: 420, height: 760 } });
    page.on("requestfailed", (r) => console.log(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    console.log("step: open /dev/chat");
    await page.goto(`${BASE_URL}/dev/chat`, { waitUntil: "domcontentloaded" });
    console.log("step: send /start");

    await page.fill("#text", "/start");
    await page.press("#text", "Enter");
    const greeting = page.locator(".msg.bot").first();
    await greeting.waitFor({ timeout: 30000 });
    assert.match(await greeting.innerText(), /Hello, Dev/);

    console.log("step: switch to Romanian, send /ajutor");
    await page.selectOption("#lang", "ro");
    await page.fill("#text", "/ajutor");
    await page.click("form button");
    const help = page.locator(".msg.bot").nth(1);
    await help.waitFor({ timeout: 30000 });
    assert.match(await help.innerText(), /Comenzi/);
    // Telegram's HTML renders as markup, not as escaped text: bold tags
    // (the title, the active company) become <b> elements, none shows as text.
    assert.ok((await help.locator("b").count()) >= 1);
    assert.doesNotMatch(await help.innerText(), /<b>/);

    console.log("step: /sold shows the demo company's dashboard");
    await page.fill("#text", "/sold");
    await page.press("#text", "Enter");
    const dashboard = page.locator(".msg.bot").nth(2);
    await dashboard.waitFor({ timeout: 30000 });
    assert.match(await dashboard.innerText(), /Exemplu Distribuție SRL/);

    await page.screenshot({ path: `${SHOTS}/devchat.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});
