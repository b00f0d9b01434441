// The e-Factura upload page end to end in Chromium: a new owner of the
// fixtures' company (CUI 18547290) logs in on the web, finds the import on
// /companies, picks two files (one of the company's invoices, one of another
// company's), reads the summary, then drops the same invoice on the form
// (the drag-and-drop script) and is told nothing changed. The API's
// dashboard then adds up to the document's sum.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BASE_URL, SHOTS, launch, openPage } from "./browser.mjs";

const fixture = (name) => fileURLToPath(new URL(`../fixtures/efactura/${name}`, import.meta.url));

async function api(request, method, path, token, data) {
  const response = await request.fetch(`${BASE_URL}${path}`, {
    method, data, headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status(), body: await response.json().catch(() => null) };
}

test("an owner uploads e-Factura files on the web and the dashboard adds them up", async () => {
  const browser = await launch();
  try {
    const page = await openPage(browser, { viewport: { width: 390, height: 844 }, locale: "en-US" });

    console.log("step: a new owner with the fixtures' company");
    const email = `owner.${Date.now()}@example.com`;
    const password = "correct horse battery";
    const registered = await api(page.request, "POST", "/api/v1/auth/register", null, { email, password });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const token = registered.body.access_token;
    const created = await api(page.request, "POST", "/api/v1/companies", token,
      { name: "Atelier Digital SRL", cui: "RO18547290" });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;

    console.log("step: logs in on the web and finds the import");
    await page.goto(`${BASE_URL}/login?next=%2Fcompanies`, { waitUntil: "domcontentloaded" });
    await page.fill("#email", email);
    await page.fill("#password", password);
    await Promise.all([page.waitForURL(`${BASE_URL}/companies`), page.click("form[action='/login'] button")]);
    await Promise.all([
      page.waitForURL(`${BASE_URL}/companies/${id}/import`),
      page.click(`#company-${id} a[href='/companies/${id}/import']`),
    ]);
    assert.equal((await page.textContent("#company")).trim(), "Atelier Digital SRL");

    console.log("step: picks two files and imports");
    await page.setInputFiles("#files", [fixture("f-ad-2026-0147.xml"), fixture("alt-client-77.xml")]);
    assert.deepEqual(await page.locator("#chosen li").allInnerTexts(), ["f-ad-2026-0147.xml", "alt-client-77.xml"]);
    await page.screenshot({ path: `${SHOTS}/import-form.png`, fullPage: true });
    await Promise.all([page.waitForURL(`${BASE_URL}/companies/${id}/import`), page.click("#import")]);
    await page.locator("#summary").waitFor();
    assert.equal((await page.textContent("#imported")).trim(), "1 new invoice");
    assert.equal((await page.textContent("#skipped-count")).trim(), "1 file skipped");
    const skipped = await page.locator("#skipped li").allInnerTexts();
    assert.deepEqual(skipped, ["alt-client-77.xml: neither the supplier nor the customer is this company (by CUI)"]);
    await page.screenshot({ path: `${SHOTS}/import-summary.png`, fullPage: true });

    console.log("step: drops the same invoice on the form");
    await page.click("#again");
    await page.locator("#drop").waitFor();
    const xml = readFileSync(fixture("f-ad-2026-0147.xml"), "utf8");
    const dropped = await page.evaluateHandle((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], "f-ad-2026-0147.xml", { type: "text/xml" }));
      return transfer;
    }, xml);
    await page.dispatchEvent("#drop", "dragover", { dataTransfer: dropped });
    await page.dispatchEvent("#drop", "drop", { dataTransfer: dropped });
    assert.deepEqual(await page.locator("#chosen li").allInnerTexts(), ["f-ad-2026-0147.xml"]);
    await Promise.all([page.waitForURL(`${BASE_URL}/companies/${id}/import`), page.click("#import")]);
    await page.locator("#summary").waitFor();
    assert.equal((await page.textContent("#imported")).trim(), "0 new invoices");
    assert.equal((await page.textContent("#unchanged")).trim(), "1 unchanged invoice");

    console.log("step: the dashboard adds up to the document");
    const dashboard = await api(page.request, "GET", `/api/v1/companies/${id}/dashboard`, token);
    assert.equal(dashboard.status, 200, JSON.stringify(dashboard.body));
    const ron = dashboard.body.receivables.find((c) => c.currency === "RON");
    assert.equal(ron?.total, "14280.00", JSON.stringify(dashboard.body));
    assert.deepEqual(dashboard.body.payables, [], JSON.stringify(dashboard.body));
  } finally {
    await browser.close();
  }
});
