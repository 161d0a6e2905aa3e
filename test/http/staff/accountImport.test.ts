import { readFileSync } from "node:fs";
import path from "node:path";
import express, { Router, type Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorHandler } from "../../../src/http/errorHandler.js";
import { accountImportAdmin } from "../../../src/http/staff/admin/accountImportAdmin.js";
import { isolate } from "../../../src/http/staff/format.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";
import { createTestWorld } from "../../support/testApp.js";

const URL = "/staff/admin/accounts/import";
const SAMPLES = path.join(import.meta.dirname, "../../../samples");
const sample = (name: string) => readFileSync(path.join(SAMPLES, name));

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let app: Express;
let hala: StaffBrowser;
let rania: StaffBrowser;

/**
 * The app as the staff router will mount the page: its routes come before the router's own
 * authentication and url-encoded CSRF check (a file upload is multipart). Everything else is the
 * real app. A 4 kB limit here, so the test can exceed it cheaply.
 */
function appWithImportPage(): Express {
  const outer = express();
  const staff = Router();
  accountImportAdmin(staff, { ...world.deps, clock: () => new Date() }, { maxUploadBytes: 4096 });
  outer.use("/staff", staff);
  outer.use(world.app);
  outer.use(errorHandler(world.logger));
  return outer;
}

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania");
  app = appWithImportPage();
  [hala, rania] = await Promise.all([signedIn(app, "hala"), signedIn(app, "rania")]);
}, 60_000);
afterAll(async () => {
  await world.drop();
});

/** Submits the upload form as a browser does (multipart/form-data). */
async function upload(browser: StaffBrowser, files: { accounts?: Buffer | string; statement?: Buffer | string; accountsName?: string }, csrf = browser.csrf) {
  let req = request(app)
    .post(URL)
    .set({ Cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "X-Forwarded-For": browser.ip, Accept: "text/html" })
    .field("_csrf", csrf);
  if (files.accounts !== undefined) req = req.attach("accounts", Buffer.from(files.accounts), files.accountsName ?? "accounts.csv");
  if (files.statement !== undefined) req = req.attach("statement", Buffer.from(files.statement), "statement.csv");
  return req;
}

describe("the account import page", () => {
  it("is for admins: an agent gets 403 and cannot import", async () => {
    expect((await rania.get(URL)).status).toBe(403);
    await rania.get("/staff");
    const res = await upload(rania, { accounts: sample("accounts.csv") });
    expect(res.status).toBe(403);
    expect(await world.db.account.count()).toBe(0);
  });

  it("shows the form to an admin, in her language", async () => {
    const res = await hala.get(URL);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="ar" dir="rtl">');
    expect(res.text).toContain('enctype="multipart/form-data"');
    expect(res.text).toContain('name="_csrf"');
    expect(textOf(res.text)).toContain("استيراد الحسابات");
  });

  it("refuses an upload without the page's CSRF token", async () => {
    await hala.get(URL);
    const res = await upload(hala, { accounts: sample("accounts.csv") }, "forged");
    expect(res.status).toBe(403);
    expect(await world.db.account.count()).toBe(0);
  });

  it("imports the files and shows the counts", async () => {
    await hala.get(URL);
    const res = await upload(hala, { accounts: sample("accounts.csv"), statement: sample("statement.csv") });
    expect(res.status, res.text).toBe(200);
    expect(textOf(res.text)).toContain("تم استيراد 9 حسابات و11 قيداً في الكشف (31 تغييراً).");
    expect(await world.db.account.count()).toBe(9);
    expect(await world.db.statementLine.count()).toBe(11);
    expect(await world.db.importRun.findFirstOrThrow({ orderBy: { id: "desc" } })).toMatchObject({ source: "upload:hala", status: "done" });
    expect(res.text).toContain("upload:hala");

    const again = await upload(hala, { accounts: sample("accounts.csv"), statement: sample("statement.csv") });
    expect(textOf(again.text)).toContain("البيانات محدّثة أصلاً");
  });

  it("lists each bad row with its line and reason, and changes nothing", async () => {
    await world.db.staff.update({ where: { id: ids.hala }, data: { locale: "en" } });
    try {
      const before = await world.db.accountBalance.findMany({ orderBy: { id: "asc" } });
      await hala.get(URL);
      const csv = [
        "account_number,holder_name,account_type,description,currency,amount_due,due_date,verification_code",
        "QE-10231,محمد علي الحاج,property,,LBP,\"9,000,000\",2026-12-31,4821",
        "QE-10232,<script>alert(1)</script>,property,,LBP,abc,2026-12-31,7390",
        "QE-10239,ريما,flat,,LBP,5,2026-12-31,5512",
      ].join("\r\n");
      const res = await upload(hala, { accounts: csv, accountsName: "export<b>.csv" });
      expect(res.status).toBe(422);
      const text = textOf(res.text);
      expect(text).toContain("Nothing was imported: 2 errors.");
      // The column and the refused value are isolated: they keep their order inside an Arabic sentence too.
      expect(res.text).toContain(`<small class="muted mono"><bdi>export&lt;b&gt;.csv</bdi></small>`); // the one file, named once
      expect(res.text).toContain(`<tr class="import-error"><td>3</td><td>${isolate("amount_due")} is not a number: &quot;${isolate("abc")}&quot;</td></tr>`);
      expect(text).toContain(`${isolate("account_type")} must be property, business or other, not "${isolate("flat")}"`);
      expect(res.text).not.toContain("<script>alert(1)</script>");
      // With both files, each row names its file.
      const both = await upload(hala, { accounts: csv, accountsName: "export<b>.csv", statement: "account_number,date\n" });
      expect(both.text).toContain("<th>File</th>");
      expect(both.text).toContain(`<tr class="import-error"><td><bdi>statement.csv</bdi></td><td>1</td><td>the column ${isolate("kind")} is missing</td></tr>`);
      expect(await world.db.accountBalance.findMany({ orderBy: { id: "asc" } })).toEqual(before);
      // The recent imports say why in words; the run's stored English summary waits behind "Details".
      const recent = textOf(res.text.slice(res.text.indexOf("Recent imports")));
      expect(recent).toContain("Refused: some rows were wrong.");
      expect(recent).toMatch(/<details class="tech-details"><summary>Details<\/summary><pre class="sms-text" dir="ltr">accounts line 3: amount_due is not a number: "abc"\n/);
    } finally {
      await world.db.staff.update({ where: { id: ids.hala }, data: { locale: "ar" } });
    }
  });

  it("asks for the accounts file when none is chosen", async () => {
    await hala.get(URL);
    const res = await upload(hala, { statement: sample("statement.csv") });
    expect(res.status).toBe(400);
    expect(textOf(res.text)).toContain("اختر ملف الحسابات.");
  });

  it("refuses an upload over the size limit before reading it", async () => {
    await hala.get(URL);
    const res = await upload(hala, { accounts: "x".repeat(8000) });
    expect(res.status).toBe(413);
  });
});
