// Invitations end to end in a phone-sized Chromium: the demo company's owner
// logs in with a password (through the API: the Telegram Login Widget login
// is built elsewhere) and makes an invitation; a second person opens its
// /invite/<code> page, registers from there, comes back, accepts, and is a
// member of the company.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_URL, SHOTS, launch } from "./browser.mjs";

async function api(request, method, path, token, data) {
  const response = await request.fetch(`${BASE_URL}${path}`, {
    method, data, headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status(), body: await response.json().catch(() => null) };
}

test("an owner invites, a new person registers on the invite page and accepts", async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      locale: "en-US",
    });
    page.setDefaultTimeout(30000);
    page.on("console", (m) => console.log(`page console: ${m.text()}`));

    console.log("step: the owner logs in and invites");
    const login = await api(page.request, "POST", "/api/v1/auth/login", null,
      { email: "demo@ledgerbot.local", password: "demo-password" });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const owner = login.body.access_token;
    const companies = await api(page.request, "GET", "/api/v1/companies", owner);
    const company = companies.body.find((c) => c.role === "owner");
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
    assert.ok(members.body.some((m) => m.role === "accountant" && /^bob\./.test(m.email)), JSON.stringify(members.body));

    console.log("step: the invitation works once");
    const again = await page.goto(url, { waitUntil: "domcontentloaded" });
    assert.equal(again.status(), 410);
  } finally {
    await browser.close();
  }
});
