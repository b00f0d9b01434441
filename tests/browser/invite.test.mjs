// Invitations end to end in a phone-sized Chromium (#16): the demo company's
// owner logs in with the Telegram Login Widget's signed redirect (no
// password: the fields Telegram would send, signed here with the bot token the
// test server uses, BOT_TOKEN), exchanges the same kind of signed data for API
// tokens and makes an invitation; a second person opens its /invite/<code>
// page, registers from there, comes back, accepts, and is a member.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { BASE_URL, PHONE, SHOTS, launch, openPage } from "./browser.mjs";

const BOT_TOKEN = process.env.BOT_TOKEN;
/** The dev chat's Telegram user, linked to the demo account in dev mode. */
const DEV_TELEGRAM_ID = 424242;

async function api(request, method, path, token, data) {
  const response = await request.fetch(`${BASE_URL}${path}`, {
    method, data, headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status(), body: await response.json().catch(() => null) };
}

/** Login Widget fields as Telegram signs them: the data-check-string (every field
 * but `hash`, sorted, `key=value` joined by newlines) under HMAC-SHA256 with the
 * key SHA-256(bot token). */
function signedWidget(fields) {
  const check = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join("\n");
  const key = createHash("sha256").update(BOT_TOKEN).digest();
  return { ...fields, hash: createHmac("sha256", key).update(check).digest("hex") };
}

test("an owner invites, a new person registers on the invite page and accepts", async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser, PHONE);

    console.log("step: the owner logs in with the Login Widget's redirect");
    assert.ok(BOT_TOKEN, "BOT_TOKEN: the test server's bot token (deploy/browser-test.sh sets it)");
    const owners = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "en-US" });
    await owners.goto(`${BASE_URL}/login`, { waitUntil: "domcontentloaded" });
    // The widget's own script comes from telegram.org (unreachable here); its
    // redirect target, with this browser's state, is on the page.
    const authUrl = await owners.getAttribute("#telegram-login script", "data-auth-url");
    assert.match(authUrl, /\/login\/telegram\?state=/);
    const now = Math.floor(Date.now() / 1000);
    const widget = signedWidget({ id: DEV_TELEGRAM_ID, first_name: "Dev", username: "dev_owner", auth_date: now });
    const redirect = new URL(authUrl);
    for (const [k, v] of Object.entries(widget)) redirect.searchParams.set(k, String(v));
    await owners.goto(redirect.href, { waitUntil: "domcontentloaded" });
    assert.equal(new URL(owners.url()).pathname, "/telegram", "logged in, on to /telegram");
    assert.equal((await owners.textContent(".who")).trim(), "demo@ledgerbot.local");
    await owners.goto(`${BASE_URL}/companies`, { waitUntil: "domcontentloaded" });
    await owners.screenshot({ path: `${SHOTS}/widget-login-companies.png`, fullPage: true });
    const replayed = await owners.goto(redirect.href, { waitUntil: "domcontentloaded" });
    assert.equal(replayed.status(), 403, "the same signed data works once");

    console.log("step: the owner's Telegram login becomes API tokens, and invites");
    const exchanged = await api(page.request, "POST", "/api/v1/auth/telegram", null,
      { login_widget: signedWidget({ id: DEV_TELEGRAM_ID, first_name: "Dev", auth_date: now - 1 }) });
    assert.equal(exchanged.status, 200, JSON.stringify(exchanged.body));
    const owner = exchanged.body.access_token;
    const companies = await api(page.request, "GET", "/api/v1/companies", owner);
    const company = companies.body.items.find((c) => c.role === "owner");
    assert.ok(company, JSON.stringify(companies.body));
    const invitation = await api(page.request, "POST", `/api/v1/companies/${company.id}/invitations`, owner,
      { role: "accountant" });
    assert.equal(invitation.status, 201, JSON.stringify(invitation.body));
    const { code, url } = invitation.body;
    assert.match(invitation.body.deep_link, new RegExp(`\\?start=inv_${code}$`));
    assert.equal(url, `${BASE_URL}/invite/${code}`);

    console.log("step: a second person opens the invitation");
    await page.goto(url, { waitUntil: "domcontentloaded" });
    assert.equal((await page.textContent("#company")).trim(), company.name);
    assert.equal((await page.textContent("#role")).trim(), "accountant");
    await page.screenshot({ path: `${SHOTS}/invite.png`, fullPage: true });

    console.log("step: registers from there and comes back");
    await Promise.all([page.waitForURL(/\/register\?next=/), page.click("a[href^='/register?next=']")]);
    await page.fill("#email", `bob.${Date.now()}@example.com`);
    await page.fill("#password", "correct horse battery");
    await Promise.all([page.waitForURL(url), page.click("form[action='/register'] button")]);

    console.log("step: accepts");
    await Promise.all([page.waitForLoadState("domcontentloaded"), page.click("#accept")]);
    assert.match(await page.textContent("#joined"), new RegExp(`member of ${company.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    await page.screenshot({ path: `${SHOTS}/invite-accepted.png`, fullPage: true });

    console.log("step: the owner sees the new member");
    const members = await api(page.request, "GET", `/api/v1/companies/${company.id}/members`, owner);
    assert.equal(members.status, 200);
    assert.ok(members.body.items.some((m) => m.role === "accountant" && /^bob\./.test(m.email)), JSON.stringify(members.body));

    console.log("step: the invitation works once");
    const again = await page.goto(url, { waitUntil: "domcontentloaded" });
    assert.equal(again.status(), 410);
  } finally {
    await browser.close();
  }
});
