import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
import { isolate } from "../../../src/http/staff/format.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";

const URL = "/staff/surveys/import";
let world: World;
let hala: StaffBrowser;
let karim: StaffBrowser;
let rania: StaffBrowser;

/** Submits the upload form as a browser does (multipart/form-data). */
async function upload(browser: StaffBrowser, csv: string | Buffer | null, csrf = browser.csrf, app = world.app) {
  let req = request(app)
    .post(URL)
    .set({ Cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "X-Forwarded-For": browser.ip, Accept: "text/html" })
    .field("_csrf", csrf);
  if (csv !== null) req = req.attach("consent", Buffer.from(csv), "drive.csv");
  return req;
}

beforeAll(async () => {
  world = await createTestWorld();
  const ids = await hire(world, "hala", "karim", "rania");
  await world.db.staff.update({ where: { id: ids.karim }, data: { canRunSurveys: true } });
  [hala, karim, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "karim"), signedIn(world.app, "rania")]);
}, 60_000);
afterAll(async () => {
  await world.drop();
});

describe("the consent import page", () => {
  it("is for staff with the surveys permission: others get 403 and import nothing", async () => {
    expect((await rania.get(URL)).status).toBe(403);
    const res = await upload(rania, "phone,language,area,consent_source\n71000001,ar,,drive\n");
    expect(res.status).toBe(403);
    expect(await world.db.resident.count()).toBe(0);
  });

  it("shows the form in the staff member's language", async () => {
    const res = await hala.get(URL);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="ar" dir="rtl">');
    expect(res.text).toContain('enctype="multipart/form-data"');
    expect(textOf(res.text)).toContain("استيراد أرقام الموافقين");
    expect((await karim.get(URL)).status).toBe(200);
  });

  it("refuses an upload without the page's CSRF token", async () => {
    await karim.get(URL);
    const res = await upload(karim, "phone,language,area,consent_source\n71000001,ar,,drive\n", "forged");
    expect(res.status).toBe(403);
    expect(await world.db.resident.count()).toBe(0);
  });

  it("writes nothing when a row is bad, and lists it with its line", async () => {
    await karim.get(URL);
    const res = await upload(karim, "phone,language,area,consent_source\n71000001,ar,Haouch,drive-1\n12345,ar,,drive-1\n71000003,fr,,drive-1\n71000004,en,,\n");
    expect(res.status).toBe(422);
    const text = textOf(res.text);
    expect(text).toContain("Nothing was imported");
    expect(text).toContain("3 problems found");
    expect(text).toContain(`<td>3</td><td>Not a valid phone number: 12345</td>`);
    expect(text).toContain(`<td>4</td><td>Unknown language "${isolate("fr")}"`);
    expect(text).toContain(`<td>5</td><td>consent_source is required`);
    expect(await world.db.resident.count()).toBe(0);
  });

  it("imports good rows and skips a resident who said STOP, with a summary", async () => {
    await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96171000009", locale: "ar", optedOut: true, optedOutAt: new Date() } });
    await karim.get(URL);
    const res = await upload(karim, "phone,language,area,consent_source\n71000001,ar,Haouch,drive-1\n03 000 002,en,Center,drive-1\n71000009,ar,Haouch,drive-1\n");
    expect(res.status).toBe(200);
    const text = textOf(res.text);
    expect(text).toContain("2 residents joined surveys");
    expect(text).toContain("1 skipped");
    expect(text).toContain("+96171000009");
    expect(text).toContain("Said STOP: never contacted again");
    expect(await world.db.resident.findFirstOrThrow({ where: { phone: "+96171000001" } })).toMatchObject({ locale: "ar", area: "Haouch", surveySource: "import:drive-1" });
    expect((await world.db.resident.findFirstOrThrow({ where: { phone: "+96171000009" } })).surveyJoinedAt).toBeNull();
    // The Arabic summary.
    await hala.get(URL);
    const again = await upload(hala, "phone,language,area,consent_source\n71000001,ar,Haouch,drive-1\n");
    expect(textOf(again.text)).toContain("ساكن واحد كان مشتركًا");
  });

  it("asks for a file, and refuses one over 2 MB with a clear message", async () => {
    await karim.get(URL);
    const none = await upload(karim, null);
    expect(none.status).toBe(400);
    expect(textOf(none.text)).toContain("Choose a CSV file to import.");
    const big = "phone,language,area,consent_source\n" + "71000001,ar,Haouch,drive-1\n".repeat(90_000);
    const res = await upload(karim, big);
    expect(res.status).toBe(413);
    expect(textOf(res.text)).toContain("The file is larger than 2 MB");
  });

  it("a database failure is explained in the staff member's language, its own message behind Details; nothing is written", async () => {
    // The same database, except that the import's transaction (the one given a timeout: sign-in's is not) fails.
    const db = new Proxy(world.db, {
      get(target, property) {
        if (property === "$transaction") {
          return (...args: Parameters<typeof target.$transaction>) => (args.length > 1 ? Promise.reject(new Error("SQLITE_BUSY: database is locked")) : target.$transaction(...args));
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const app = createApp({ ...world.deps, db });
    await hala.get(URL);
    const before = await world.db.resident.count();
    const res = await upload(hala, "phone,language,area,consent_source\n71000091,ar,,drive-9\n", hala.csrf, app);
    expect(res.status).toBe(500);
    const text = textOf(res.text);
    expect(text).toContain("توقف الاستيراد بسبب خطأ غير متوقع؛ لم يتغيّر شيء.");
    expect(text).toContain('<details class="tech-details"><summary>التفاصيل التقنية</summary><pre class="sms-text" dir="ltr">SQLITE_BUSY: database is locked</pre></details>');
    expect(await world.db.resident.count()).toBe(before);
  });
});
