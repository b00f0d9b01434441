// Dev mode's chat shows the photos the bot sends: a new Telegram user (not
// the dev chat's default one, which the other tests use) registers, creates
// a company, adds cash entries, and sends /grafic; the intro comes in the
// webhook's answer, the cash chart as a sendPhoto through the outbox, and
// the page shows the image itself with its caption.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SHOTS, devChatWithCompany, launch } from "./browser.mjs";

test("the dev chat shows /grafic's chart as an image with its caption", async () => {
  const browser = await launch();
  try {
    const { page, say } = await devChatWithCompany(browser, { uidBase: 800000000, name: "Foto SRL" });
    console.log("step: two cash entries");
    await say("/add +250 consulting", /250/);
    await say("/add 100 paper", /100/);

    console.log("step: /grafic");
    await say("/grafic", /charts of the last 6 months/);
    const photo = page.locator(".msg.bot img.photo").first();
    await photo.waitFor({ timeout: 60000 });
    // The image really loaded: the server kept the PNG the bot uploaded.
    await page.waitForFunction(
      () => { const img = document.querySelector(".msg.bot img.photo"); return img && img.complete && img.naturalWidth > 0; },
    );
    const size = await photo.evaluate((img) => [img.naturalWidth, img.naturalHeight]);
    assert.deepEqual(size, [800, 600]);
    const bubble = page.locator(".msg.bot", { has: page.locator("img.photo") }).first();
    const caption = await bubble.innerText();
    assert.match(caption, /income and expenses/i);
    assert.match(caption, /net: RON 150\.00/);
    assert.ok((await bubble.locator("b").count()) >= 1, "the caption's HTML renders as markup");
    assert.doesNotMatch(caption, /\[sendPhoto\]/);
    await bubble.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/devchat-photo.png` });
  } finally {
    await browser.close();
  }
});
