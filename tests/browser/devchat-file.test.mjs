// Dev mode's chat sends a file as Telegram would: a new Telegram user (not
// the dev chat's default one, which the other tests use) registers, creates
// the fixtures' company (CUI 18547290), and sends an SPV ZIP with the 📎
// button; the bot fetches it through the fake Bot API (getFile, then the
// download) and its summary appears in the chat.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { SHOTS, devChatWithCompany, launch } from "./browser.mjs";

const fixture = (name) => fileURLToPath(new URL(`../fixtures/efactura/${name}`, import.meta.url));

test("the dev chat sends an SPV ZIP and shows the bot's import summary", async () => {
  const browser = await launch();
  try {
    const { page, bot } = await devChatWithCompany(browser, {
      uidBase: 700000000, name: "Atelier Digital SRL", cui: "18547290",
    });

    console.log("step: sends the ZIP");
    const before = await bot.count();
    await page.setInputFiles("#file", fixture("spv-noiembrie.zip"));
    await page.locator(".msg.me", { hasText: "spv-noiembrie.zip" }).waitFor();
    const summary = bot.filter({ hasText: "e-Factura:" });
    await summary.waitFor({ timeout: 60000 });
    assert.equal(
      (await summary.innerText()).trim(),
      "e-Factura: 7 new invoices, 0 updated invoices, 0 unchanged invoices.",
    );
    // First the webhook's answer ("Importing ..."), then the summary.
    assert.match(await bot.nth(before).innerText(), /Importing spv-noiembrie\.zip into Atelier Digital SRL/);
    assert.equal(await summary.locator("b").count(), 1, "Telegram's HTML renders as markup");

    console.log("step: the same ZIP again changes nothing");
    await page.setInputFiles("#file", fixture("spv-noiembrie.zip"));
    const again = bot.filter({ hasText: "7 unchanged invoices" });
    await again.waitFor({ timeout: 60000 });
    await page.screenshot({ path: `${SHOTS}/devchat-file.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});
