import type { Express } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
import { createTestWorld } from "../../support/testApp.js";
import { INDICATORS_NOW, SECRETS, seedIndicatorsTown, type IndicatorsTown } from "../../services/places/childIndicatorsData.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const HOSTILE_AREA = `<script>alert("area")</script><img src=x onerror=alert(1)>`;

/** The staff app at the fixed town's "now". */
function appWithIndicators(world: World): Express {
  return createApp({ ...world.deps, clock: () => INDICATORS_NOW });
}

let world: World;
let town: IndicatorsTown;
let app: Express;
type Browser = StaffBrowser & { username: string };
let hala: Browser;
let rania: Browser;

/** The page as a staff member reads it in that language (their setting, changed here). */
async function readIn(locale: "ar" | "en", browser: Browser, path = "/staff/indicators") {
  await world.db.staff.updateMany({ where: { username: browser.username }, data: { locale } });
  const res = await browser.get(path);
  expect(res.status, `${locale} ${path}`).toBe(200);
  return res;
}

/** The row of a table whose header cell names `label`, as text without tags. */
function rowOf(page: string, label: string): string {
  const row = [...page.matchAll(/<tr[\s>][\s\S]*?<\/tr>/g)].map((m) => m[0]).find((r) => r.includes(label));
  if (!row) throw new Error(`no row for ${label}`);
  return textOf(row.replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim();
}

beforeAll(async () => {
  world = await createTestWorld();
  town = await seedIndicatorsTown(world.db, { a3: HOSTILE_AREA });
  await hire(world, "hala", "rania");
  app = appWithIndicators(world);
  hala = Object.assign(await signedIn(app, "hala"), { username: "hala" });
  rania = Object.assign(await signedIn(app, "rania"), { username: "rania" });
}, 120_000);
afterAll(async () => {
  await world?.drop();
});

describe("the child-safety indicators page", () => {
  it("shows an admin the whole town in Arabic, right to left, with Western digits", async () => {
    const page = (await readIn("ar", hala)).text;
    expect(page).toContain('<html lang="ar" dir="rtl">');
    expect(page).toContain("<h1>مؤشرات سلامة الأطفال</h1>");
    expect(page).toContain("كل طلبات البلدة، من جميع الأقسام.");
    // The period names: Levantine month names, Beirut calendar.
    expect(page).toContain("آذار 2026 (حتى الآن)");
    expect(page).toContain("شباط 2026");
    expect(page).toContain("5 طلبات مفتوحة خاصة بالأطفال");
    // Areas down, the categories with an open request across (most first, then by code), the total last.
    expect(rowOf(page, "<th scope=\"col\">الحيّ</th>")).toBe("الحيّ حدائق وملاعب طرقات وحفر محيط المدارس نفايات بلا فئة مفتوحة");
    expect(rowOf(page, "الوسط")).toBe("الوسط 1 1 1 0 0 3");
    expect(rowOf(page, "وادي الدلم</bdi>")).toBe("وادي الدلم 0 0 0 1 0 1");
    expect(rowOf(page, "طريق سعدنايل")).toBe("طريق سعدنايل 0 0 0 0 0 0");
    expect(rowOf(page, "بلا حيّ")).toBe("بلا حيّ (بلا موقع، أو خارج كل الأحياء) 0 0 0 0 1 1");
    expect(page).toContain("الطلبات المفتوحة ضمن 150 م");
    expect(rowOf(page, "ملعب وادي الدلم")).toBe("ملعب وادي الدلم ملعب أطفال 2 23 يوماً");
    expect(rowOf(page, "مدرسة قب الياس الرسمية")).toBe("مدرسة قب الياس الرسمية مدرسة 2 14 يوماً");
    expect(rowOf(page, "روضة الزهور")).toBe("روضة الزهور روضة أطفال 0 —");
    expect(textOf(page)).toMatch(/<tr class="resolution-child"><th scope="row">الخاصة بالأطفال<\/th><td class="num"><strong>4\.3<\/strong> <span class="muted nowrap">\(طلبان عولجا\)<\/span><\/td><td class="num"><strong>2\.0<\/strong> <span class="muted nowrap">\(3 طلبات عولجت\)<\/span><\/td><\/tr>/);
    expect(page).toContain(">1,200<");
    // No population: said so, with the way to enter it for an admin.
    expect(page).toContain('لم يُدخل عدد الأطفال</span> <a class="no-print" href="/staff/admin/areas">أدخله</a>');
    // Dates as the other staff pages write them in Arabic (format.ts): day/month/year, right-to-left marks.
    expect(page).toContain("من 15\u200f/03\u200f/2025 إلى 15\u200f/03\u200f/2026 (آخر 12 شهراً)");
  });

  it("shows it in English too, with the footnotes saying how each figure is counted", async () => {
    const page = (await readIn("en", hala)).text;
    expect(page).toContain('<html lang="en" dir="ltr">');
    expect(page).toContain("<h1>Child-safety indicators</h1>");
    expect(page).toContain("Qab Elias – Wadi al-Delm Municipality · generated 15 Mar 2026, 10:00");
    expect(rowOf(page, "<th scope=\"col\">Area</th>")).toBe("Area Parks and playgrounds Roads and potholes School surroundings Waste collection No category Open");
    expect(rowOf(page, "Centre")).toBe("Centre 1 1 1 0 0 3");
    expect(rowOf(page, "Wadi al-Delm Playground")).toBe("Wadi al-Delm Playground Playground 2 23 days");
    // On paper (the council's one page) the places with no open request are left out, and counted.
    const rows = [...page.matchAll(/<tr data-place="\d+" class="([^"]*)">[\s\S]*?<td class="num">(\d+)<\/td>/g)];
    expect(rows.length).toBeGreaterThan(0);
    for (const [, cls, open] of rows) expect(cls).toBe(open === "0" ? "no-print" : "");
    const quiet = rows.filter(([, , open]) => open === "0").length;
    if (quiet > 0) expect(page).toContain(quiet === 1 ? "1 place with no open request is not printed." : `${quiet} places with no open request are not printed.`);
    expect(rowOf(page, "resolution-others")).toBe("All others 7.0 (1 resolved) 2.3 (2 resolved)");
    expect(rowOf(page, `data-area="${town.areas.a4}"`)).toBe("Industrial zone 0 0 No children: no rate");
    expect(rowOf(page, `data-area="${town.areas.a2}"`)).toBe("Wadi al-Delm 500 3 6.0");
    expect(page).toContain("1 child-related request of the period has no area and is in no rate.");
    expect(page).toContain("at most 150 m from the place");
    expect(page).toContain("Counts only: no names, phone numbers or words of any request.");
  });

  it("escapes an area's name: a hostile one is text, not markup", async () => {
    const page = (await readIn("en", hala)).text;
    expect(page).not.toContain(HOSTILE_AREA);
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;script&gt;alert(&quot;area&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
  });

  it("prints without inline script: a Print button its own script file shows, and a print stylesheet for one A4 page", async () => {
    const page = (await readIn("en", hala)).text;
    expect(page).toContain('<button type="button" class="btn btn-secondary btn-small" id="indicators-print" hidden>Print</button>');
    expect(page).toContain('<script src="/staff/assets/indicators.js" defer></script>');
    expect(page.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    expect(page).not.toMatch(/\son[a-z]+="/);
    expect(page).toContain('href="/staff/indicators.csv" download');
    const script = await hala.get("/staff/assets/indicators.js");
    expect(script.status).toBe(200);
    expect(script.text).toContain("window.print()");
    const css = await hala.get("/staff/assets/staff.css");
    const section = css.text.slice(css.text.indexOf("/* Child-safety indicators */"));
    expect(section.length).toBeGreaterThan(100);
    expect(section).toMatch(/@media print\s*{[\s\S]*@page\s*{\s*size: A4;/);
  });

  it("never shows a resident's phone, name or words", async () => {
    for (const locale of ["ar", "en"] as const) {
      const page = textOf((await readIn(locale, hala)).text);
      for (const secret of Object.values(SECRETS)) expect(page).not.toContain(secret);
    }
  });

  it("shows an agent their departments' requests only, and says so", async () => {
    const page = (await readIn("ar", rania)).text;
    expect(page).toContain("طلبات أقسامك فقط (الأشغال العامة)، كما في قائمتك.");
    expect(page).toContain("3 طلبات مفتوحة خاصة بالأطفال");
    expect(rowOf(page, "<th scope=\"col\">الحيّ</th>")).toBe("الحيّ حدائق وملاعب طرقات وحفر محيط المدارس مفتوحة");
    expect(rowOf(page, "الوسط")).toBe("الوسط 1 1 1 3");
    expect(rowOf(page, "ملعب وادي الدلم")).toBe("ملعب وادي الدلم ملعب أطفال 0 —");
    // February: one resolved, 1.5 days; March so far: two, 1 and 2 days.
    expect(rowOf(page, "resolution-child")).toBe("الخاصة بالأطفال 1.5 (طلب واحد عولج) 1.5 (طلبان عولجا)");
    // An agent cannot enter populations: no link to the admin page.
    expect(page).not.toContain('href="/staff/admin/areas"');
    expect(page).toContain("لم يُدخل عدد الأطفال");
  });

  it("sends someone signed out to the sign-in page, and back here afterwards", async () => {
    for (const path of ["/staff/indicators", "/staff/indicators.csv"]) {
      const res = await request(app).get(path).set("Accept", "text/html");
      expect(res.status, path).toBe(303);
      expect(res.headers.location).toBe(`/staff/login?next=${encodeURIComponent(path)}`);
    }
  });
});

describe("the indicators CSV", () => {
  it("downloads the figures, names in the reader's language, UTF-8 with a byte order mark", async () => {
    await readIn("en", hala);
    const res = await hala.get("/staff/indicators.csv");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers["content-disposition"]).toBe('attachment; filename="child-safety-indicators-2026-03-15.csv"');
    const csv = res.text;
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv).toContain("\uFEFFsection,period,area,category,place,metric,value\r\n");
    expect(csv).toContain("report,,,,,scope,all\r\n");
    expect(csv).toContain("open_child_requests,,Centre,Parks and playgrounds,,open,1\r\n");
    expect(csv).toContain("open_child_requests,,\"No area (no location, or outside every area)\",No category,,open,1\r\n");
    expect(csv).toContain("place_zone,,,,Wadi al-Delm Playground,oldest_open_days,23\r\n");
    expect(csv).toContain("resolution,2026-02,,,,median_days_child_related,4.25\r\n");
    expect(csv).toContain("per_1000_children,2025-03-15/2026-03-15,Centre,,,per_1000_children,5\r\n");
    // The hostile name is a quoted cell, nothing more.
    expect(csv).toContain(`per_1000_children,2025-03-15/2026-03-15,"<script>alert(""area"")</script><img src=x onerror=alert(1)>",,,child_population,\r\n`);
    for (const secret of Object.values(SECRETS)) expect(csv).not.toContain(secret);
  });

  it("is scoped for an agent, in Arabic for an Arabic reader", async () => {
    await readIn("ar", rania);
    const csv = (await rania.get("/staff/indicators.csv")).text;
    expect(csv).toContain("report,,,,,scope,departments:public_works\r\n");
    expect(csv).toContain("open_child_requests,,الوسط,,,open_total,3\r\n");
    expect(csv).toContain("place_zone,,,,ملعب وادي الدلم,open,0\r\n");
    expect(csv).not.toContain("بلا فئة");
  });
});
