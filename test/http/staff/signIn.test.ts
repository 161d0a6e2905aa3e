import { createHash } from "node:crypto";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOGIN_ATTEMPTS_PER_WINDOW } from "../../../src/http/staff/loginRoutes.js";
import { createTestWorld } from "../../support/testApp.js";
import { appWithClock, hire, PEOPLE, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania", "karim");
});
afterAll(async () => {
  await world.drop();
});

const FAILED_EN = "Wrong username or password, or too many attempts. Check them and try again later.";
const FAILED_AR = "اسم المستخدم أو كلمة المرور غير صحيحة، أو تجاوزت عدد المحاولات. تحقق منهما وحاول لاحقاً.";

describe("signing in", () => {
  it("Rania signs in with her password and lands on the queue, with a safe session cookie", async () => {
    const browser = new StaffBrowser(world.app);
    const form = await browser.get("/staff/login");
    expect(form.status).toBe(200);
    expect(form.text).toContain('<html lang="ar" dir="rtl">');

    const res = await browser.post("/staff/login", { username: "rania", password: PEOPLE.rania.password });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/staff");
    const cookie = [res.headers["set-cookie"]].flat().find((c) => c?.startsWith("baladiya_session="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\/staff(;|$)/);
    expect(cookie).toMatch(/Secure/); // the public URL is https
    expect(cookie).toMatch(/Max-Age=43200/); // 12 hours

    // Only the SHA-256 of the session id is stored; the cookie carries the id and its signature.
    const sessionId = browser.cookies.get("baladiya_session")!.split(".")[0]!;
    const stored = await world.db.staffSession.findMany({ where: { staffId: ids.rania } });
    expect(stored.map((s) => s.id)).toContain(createHash("sha256").update(sessionId).digest("hex"));
    expect(stored.map((s) => s.id)).not.toContain(sessionId);

    const queue = await browser.get("/staff");
    expect(queue.status).toBe(200);
    expect(queue.text).toContain("Rania");
  });

  it("a wrong password and an unknown username get the same words, and no session", async () => {
    const browser = new StaffBrowser(world.app);
    const wrong = await browser.signIn("karim", "not-his-password");
    const unknown = await browser.signIn("nobody-here", "whatever-password");
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(textOf(res.text)).toContain(FAILED_AR);
      expect(browser.cookies.has("baladiya_session")).toBe(false);
    }
    await world.db.staff.update({ where: { id: ids.karim }, data: { failedLogins: 0 } });
  });

  it("the sign-in page speaks English when asked, and keeps the username typed", async () => {
    const browser = new StaffBrowser(world.app);
    const page = await browser.get("/staff/login?lang=en");
    expect(page.text).toContain('<html lang="en" dir="ltr">');
    const res = await browser.post("/staff/login", { username: "karim", password: "wrong-password-1", lang: "en" });
    expect(textOf(res.text)).toContain(FAILED_EN);
    expect(res.text).toContain('value="karim"');
    await world.db.staff.update({ where: { id: ids.karim }, data: { failedLogins: 0 } });
  });

  it("five wrong passwords lock the account for 15 minutes, even against the right password, without saying so", async () => {
    const clock = appWithClock(world);
    const browser = new StaffBrowser(clock.app);
    for (let i = 0; i < 5; i++) expect((await browser.signIn("karim", `wrong-${i}-password`)).status).toBe(401);
    const staff = await world.db.staff.findUniqueOrThrow({ where: { id: ids.karim } });
    expect(staff.lockedUntil!.getTime()).toBe(clock.now().getTime() + 15 * 60_000);

    const locked = await browser.signIn("karim", PEOPLE.karim.password);
    expect(locked.status).toBe(401);
    expect(textOf(locked.text)).toContain(FAILED_AR); // same words as a typo: nobody learns the account exists

    clock.advance(15 * 60_000 + 1000);
    expect((await browser.signIn("karim", PEOPLE.karim.password)).status).toBe(303);
    expect(await world.db.staff.findUniqueOrThrow({ where: { id: ids.karim } })).toMatchObject({ failedLogins: 0, lockedUntil: null });
  });

  it(`more than ${LOGIN_ATTEMPTS_PER_WINDOW} failed sign-ins from one address are refused for a while; other addresses are not`, async () => {
    const attacker = new StaffBrowser(world.app, "203.0.113.7");
    // Guesses (each costs the server a full password check) and scripted posts without the form all count.
    for (let i = 0; i < 3; i++) expect((await attacker.signIn(`guess${i}`, "password123")).status).toBe(401);
    for (let i = 3; i < LOGIN_ATTEMPTS_PER_WINDOW; i++) expect((await attacker.post("/staff/login", { username: "hala", password: `guess${i}`, _csrf: "" })).status).toBe(403);
    const limited = await attacker.signIn("hala", PEOPLE.hala.password);
    expect(limited.status).toBe(429);
    expect(textOf(limited.text)).toContain("محاولات دخول كثيرة من هذه الشبكة");
    expect(attacker.cookies.has("baladiya_session")).toBe(false);

    const colleague = new StaffBrowser(world.app, "203.0.113.8");
    expect((await colleague.signIn("hala", PEOPLE.hala.password)).status).toBe(303);
  });

  it("the sign-in form without its CSRF token is refused and checks nothing", async () => {
    const browser = new StaffBrowser(world.app);
    await browser.get("/staff/login");
    const forged = await browser.post("/staff/login", { username: "hala", password: PEOPLE.hala.password, _csrf: "forged" });
    expect(forged.status).toBe(403);
    expect(browser.cookies.has("baladiya_session")).toBe(false);

    const noCookie = await request(world.app).post("/staff/login").type("form").send({ username: "hala", password: PEOPLE.hala.password });
    expect(noCookie.status).toBe(403);
  });

  it("after signing in, Hala goes back to the page she asked for", async () => {
    const browser = new StaffBrowser(world.app);
    const asked = await browser.get("/staff/admin/departments");
    expect(asked.status).toBe(303);
    expect(asked.headers.location).toBe("/staff/login?next=%2Fstaff%2Fadmin%2Fdepartments");
    await browser.get(asked.headers.location!);
    const res = await browser.post("/staff/login", { username: "hala", password: PEOPLE.hala.password, next: "/staff/admin/departments" });
    expect(res.headers.location).toBe("/staff/admin/departments");

    // …but never to another site.
    const other = new StaffBrowser(world.app);
    await other.get("/staff/login");
    const evil = await other.post("/staff/login", { username: "hala", password: PEOPLE.hala.password, next: "//evil.example/staff" });
    expect(evil.headers.location).toBe("/staff");
  });
});

describe("without a session", () => {
  it("pages send the browser to the sign-in page; the page's scripts get 401", async () => {
    const page = await request(world.app).get("/staff/tickets/10427").set("Accept", "text/html");
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe("/staff/login?next=%2Fstaff%2Ftickets%2F10427");

    const rows = await request(world.app).get("/staff/queue/rows").set("X-Requested-With", "fetch");
    expect(rows.status).toBe(401);
    const json = await request(world.app).get("/staff").set("Accept", "application/json");
    expect(json.status).toBe(401);
  });

  it("a forged or altered session cookie counts as none", async () => {
    const browser = await signedIn(world.app, "hala");
    const [id, signature] = browser.cookies.get("baladiya_session")!.split(".");
    browser.cookies.set("baladiya_session", `${id}x.${signature}`);
    expect((await browser.get("/staff")).status).toBe(303);
  });

  it("the stylesheet and scripts are served to anyone (the sign-in page needs them)", async () => {
    const css = await request(world.app).get("/staff/assets/staff.css");
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/text\/css/);
    expect((await request(world.app).get("/staff/assets/queue.js")).headers["content-type"]).toMatch(/javascript/);
    expect((await request(world.app).get("/staff/assets/nothing.js")).status).toBe(404);
  });
});

describe("signing out and session lifetime", () => {
  it("signing out ends the session: the old cookie no longer opens anything", async () => {
    const browser = await signedIn(world.app, "rania");
    const oldCookies = new Map(browser.cookies);
    const res = await browser.post("/staff/logout");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/staff/login?lang=ar");
    expect(textOf((await browser.follow(res)).text)).toContain("تم تسجيل خروجك.");

    const replay = new StaffBrowser(world.app);
    for (const [k, v] of oldCookies) replay.cookies.set(k, v);
    expect((await replay.get("/staff")).status).toBe(303);
  });

  it("signing out needs the CSRF token too (a link on another site cannot sign you out)", async () => {
    const browser = await signedIn(world.app, "rania");
    expect((await browser.post("/staff/logout", { _csrf: "" })).status).toBe(403);
    expect((await browser.get("/staff")).status).toBe(200);
  });

  it("a session ends after 12 hours", async () => {
    const clock = appWithClock(world);
    const browser = await signedIn(clock.app, "hala");
    clock.advance(11 * 3600_000);
    expect((await browser.get("/staff")).status).toBe(200);
    clock.advance(3600_000 + 1000);
    expect((await browser.get("/staff")).status).toBe(303);
  });

  it("a deactivated colleague cannot sign in, and the pages they had open stop working", async () => {
    const browser = await signedIn(world.app, "karim");
    await world.db.staff.update({ where: { id: ids.karim }, data: { active: false } });
    expect((await browser.get("/staff")).status).toBe(303);
    const again = await new StaffBrowser(world.app).signIn("karim", PEOPLE.karim.password);
    expect(again.status).toBe(401);
    expect(textOf(again.text)).toContain(FAILED_AR);
    await world.db.staff.update({ where: { id: ids.karim }, data: { active: true } });
  });
});

describe("text nobody types", () => {
  it("a NUL character in the sign-in form is a 400, not a database error", async () => {
    const world = await createTestWorld();
    try {
      const res = await request(world.app).post("/staff/login").type("form").send({ username: "ha\u0000la", password: "x" });
      expect(res.status).toBe(400);
    } finally {
      await world.drop();
    }
  });
});
