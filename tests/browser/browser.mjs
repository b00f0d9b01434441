// Shared set-up for the browser tests: Debian's Chromium, headless, with the
// flags this sandboxed, offline machine needs, and a place for screenshots.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:8080";
export const SHOTS = process.env.SCREENSHOT_DIR ?? "target/browser";
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // A busy 2-core CI machine can take a while to start a browser.
    timeout: 120000,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

// A phone's screen, as Telegram's in-app browser and a phone's show the pages.
export const PHONE = {
  viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  locale: "en-US",
};

// A new page (`options` as Playwright's newPage takes them) whose waits give
// up after 30 s and whose console lines go to the test's output.
export async function openPage(browser, options) {
  const page = await browser.newPage(options);
  page.setDefaultTimeout(30000);
  page.on("console", (m) => console.log(`page console: ${m.text()}`));
  return page;
}

// Opens /dev/chat in a new page as a Telegram user of this test alone (not
// the dev chat's default one, which the other tests use): `uidBase` keeps
// tests apart, the clock's milliseconds keep reruns against one database
// apart. The user registers (a Telegram-only account) and creates the
// company `name` (with `cui` when given), which becomes active. Returns the page,
// the bot's messages, and `say(text, answer)`: sends `text` and checks that
// the bot's next message matches `answer`.
export async function devChatWithCompany(browser, { uidBase, name, cui }) {
  const page = await openPage(browser, { viewport: { width: 420, height: 760 } });
  await page.goto(`${BASE_URL}/dev/chat`, { waitUntil: "domcontentloaded" });
  await page.fill("#uid", String(uidBase + (Date.now() % 100000000)));
  await page.fill("#fname", "Ana");
  const bot = page.locator(".msg.bot");
  const say = async (text, answer) => {
    const before = await bot.count();
    await page.fill("#text", text);
    await page.press("#text", "Enter");
    const reply = bot.nth(before);
    await reply.waitFor();
    assert.match(await reply.innerText(), answer);
  };
  console.log("step: a Telegram-only account and its company");
  await say("/register", /account/i);
  const named = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  await say(cui ? `/newcompany ${name} ${cui}` : `/newcompany ${name}`, named);
  return { page, bot, say };
}
