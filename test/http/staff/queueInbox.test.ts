import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { residentFiles } from "../../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { appWithClock, hire, signedIn, textOf, type StaffBrowser, type World } from "./staffBrowser.js";

/**
 * The queue as an agent used to Chatwoot works it: tabs with counts, unread and reopened marks,
 * waiting times and targets (overdue first), assign to me, bulk actions, a change token that makes
 * the page's refresh cheap, a search that folds Arabic, and text that reads right in both directions.
 */

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser;
let rania: StaffBrowser; // public works
let karim: StaffBrowser; // electricity and water

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania", "karim");
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const HOUR = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR);
const key = (reference: number) => ({ municipalityId_reference: { municipalityId: MUNICIPALITY, reference } });
const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: key(reference) });

/** The references in a queue page or fragment, in the order shown. */
const shown = (html: string) => [...html.matchAll(/<tr data-reference="(\d+)"/g)].map((m) => Number(m[1]));
/** The markup of one row. */
const rowOf = (html: string, reference: number) => new RegExp(`<tr data-reference="${reference}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? "";
const titleOf = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? "";
const flashAfter = async (browser: StaffBrowser, res: Awaited<ReturnType<StaffBrowser["post"]>>) => {
  expect(res.status, res.text.slice(0, 2000)).toBe(303);
  return textOf((await browser.follow(res)).text);
};

/**
 * A resident files a pothole (public works) through the inbox; the test then gives the ticket its
 * category and times: filed `filedHoursAgo`, waiting since `waitingHoursAgo` (null: staff replied
 * last), first answered `answeredHoursAgo`.
 */
async function ticket(shape: { category?: string; filedHoursAgo: number; waitingHoursAgo: number | null; answeredHoursAgo?: number; description?: string }): Promise<number> {
  const { reference } = await residentFiles(world);
  const category = await world.db.category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code: shape.category ?? "roads" } } });
  const createdAt = ago(shape.filedHoursAgo);
  const waitingSince = shape.waitingHoursAgo === null ? null : ago(shape.waitingHoursAgo);
  await world.db.ticket.update({
    where: key(reference),
    data: {
      categoryId: category.id,
      department: category.department,
      childRelated: category.childRelated,
      createdAt,
      waitingSince,
      lastResidentAt: waitingSince ?? createdAt,
      firstResponseAt: shape.answeredHoursAgo === undefined ? null : ago(shape.answeredHoursAgo),
      ...(shape.description ? { description: shape.description } : {}),
    },
  });
  return reference;
}

/** The staff member has opened the ticket at `readAt` (what the ticket page records). */
async function opened(staffId: number, reference: number, readAt: Date) {
  const { id: ticketId } = await ticketOf(reference);
  await world.db.ticketRead.upsert({ where: { staffId_ticketId: { staffId, ticketId } }, create: { staffId, ticketId, readAt }, update: { readAt } });
}

describe("the queue at a glance", () => {
  // Public works (Rania's): a school-safety report waiting 3 h (target: a first reply within 2 h),
  // a pothole waiting 20 h (24 h), two more recent ones, and a pothole filed 8 days ago, answered,
  // past its week to resolve. Water (Karim's): a leak waiting 2 h (6 h).
  const refs = { school: 0, pothole20h: 0, pothole10h: 0, pothole1h: 0, oldPothole: 0, leak: 0 };
  beforeAll(async () => {
    refs.oldPothole = await ticket({ filedHoursAgo: 8 * 24, waitingHoursAgo: null, answeredHoursAgo: 7 * 24 });
    refs.pothole20h = await ticket({ filedHoursAgo: 20, waitingHoursAgo: 20 });
    refs.pothole10h = await ticket({ filedHoursAgo: 10, waitingHoursAgo: 10 });
    refs.school = await ticket({ category: "school_safety", filedHoursAgo: 3, waitingHoursAgo: 3 });
    refs.leak = await ticket({ category: "water", filedHoursAgo: 2, waitingHoursAgo: 2 });
    refs.pothole1h = await ticket({ filedHoursAgo: 1, waitingHoursAgo: 1 });
    await world.db.ticket.update({ where: key(refs.pothole20h), data: { assigneeId: ids.rania } });
  });

  it("tabs Mine, Unassigned and All carry their counts: an agent's of her departments, an admin's of everything", async () => {
    const agent = (await rania.get("/staff")).text;
    expect(textOf(agent)).toMatch(/طلباتي <span class="count" id="queue-count-mine">1<\/span>/);
    expect(agent).toContain('id="queue-count-unassigned">4</span>');
    expect(agent).toContain('id="queue-count-all">5</span>');
    expect(agent).toMatch(/<a href="\/staff" class="queue-tab active" aria-current="page">/);

    const mine = (await rania.get("/staff?assignee=me")).text;
    expect(shown(mine)).toEqual([refs.pothole20h]);
    expect(mine).toMatch(/<a href="\/staff\?assignee=me" class="queue-tab active" aria-current="page">/);
    expect(shown((await rania.get("/staff?assignee=none")).text)).toHaveLength(4);

    const admin = (await hala.get("/staff")).text;
    expect(admin).toContain('id="queue-count-mine">0</span>');
    expect(admin).toContain('id="queue-count-unassigned">5</span>');
    expect(admin).toContain('id="queue-count-all">6</span>');
    // Tabs keep the other filters.
    expect((await hala.get("/staff?category=roads")).text).toContain('href="/staff?category=roads&amp;assignee=none"');
  });

  it("overdue first, then near their target, then the longest waiting; the category's targets decide", async () => {
    const page = (await rania.get("/staff")).text;
    // School safety: 3 h waiting of 2 h. The old pothole: answered, but 8 days of 7 to resolve.
    expect(shown(page)).toEqual([refs.school, refs.oldPothole, refs.pothole20h, refs.pothole10h, refs.pothole1h]);
    expect(rowOf(page, refs.school)).toMatch(/class="[^"]*target-overdue/);
    expect(textOf(rowOf(page, refs.school))).toContain("متأخر");
    expect(rowOf(page, refs.oldPothole)).toMatch(/class="[^"]*target-overdue/);
    expect(textOf(rowOf(page, refs.oldPothole))).toContain("تمّ الرد");
    expect(rowOf(page, refs.pothole20h)).toMatch(/class="[^"]*target-near/); // 20 h of 24
    expect(textOf(rowOf(page, refs.pothole20h))).toContain("يقترب موعده");
    expect(rowOf(page, refs.pothole10h)).not.toMatch(/target-/);

    expect(shown((await hala.get("/staff")).text)).toEqual([refs.school, refs.oldPothole, refs.pothole20h, refs.pothole10h, refs.leak, refs.pothole1h]);
    expect(shown((await rania.get("/staff?sort=created")).text)).toEqual([refs.oldPothole, refs.pothole20h, refs.pothole10h, refs.school, refs.pothole1h]);
  });

  it("pages continue the same order across the overdue ones and the rest", async () => {
    const pages = [1, 2, 3].map((page) => rania.get(`/staff?pageSize=2&page=${page}`));
    expect((await Promise.all(pages)).map((res) => shown(res.text))).toEqual([
      [refs.school, refs.oldPothole],
      [refs.pothole20h, refs.pothole10h],
      [refs.pothole1h],
    ]);
  });

  it("waiting time counts from the resident's oldest unanswered message, not from the filing", async () => {
    const row = textOf(rowOf((await karim.get("/staff")).text, refs.leak));
    expect(row).toContain("2 hours");
    await world.db.ticket.update({ where: key(refs.leak), data: { waitingSince: ago(0.5) } });
    expect(textOf(rowOf((await karim.get("/staff")).text, refs.leak))).toContain("30 minutes");
    await world.db.ticket.update({ where: key(refs.leak), data: { waitingSince: ago(2) } });
  });

  it("a ticket is unread until the agent opens it, and again when the resident writes after that", async () => {
    const rows = [refs.school, refs.oldPothole, refs.pothole20h, refs.pothole10h, refs.pothole1h];
    let page = (await rania.get("/staff")).text;
    expect(rowOf(page, refs.pothole10h)).toContain('data-unread="1"');
    expect(rowOf(page, refs.pothole10h)).toContain('class="unread-mark"');
    expect(titleOf(page)).toMatch(/^\(5\) قائمة الطلبات/);

    const readAt = new Date();
    for (const reference of rows) await opened(ids.rania, reference, readAt);
    page = (await rania.get("/staff")).text;
    for (const reference of rows) expect(rowOf(page, reference), `#${reference}`).toContain('data-unread="0"');
    expect(page).not.toContain('class="unread-mark"');
    expect(titleOf(page)).toMatch(/^قائمة الطلبات/);

    // The resident of the 10-hour pothole writes again.
    await world.db.ticket.update({ where: key(refs.pothole10h), data: { lastResidentAt: new Date(readAt.getTime() + 1000) } });
    page = (await rania.get("/staff")).text;
    expect(rowOf(page, refs.pothole10h)).toContain('class="unread-mark"');
    expect(rowOf(page, refs.pothole1h)).not.toContain('class="unread-mark"');
    expect(titleOf(page)).toMatch(/^\(1\) قائمة الطلبات/);
    // Reading is per person: the administrator has opened nothing.
    expect(titleOf((await hala.get("/staff")).text)).toMatch(/^\(6\) قائمة الطلبات/);

    await opened(ids.rania, refs.pothole10h, new Date(readAt.getTime() + 2000));
    page = (await rania.get("/staff")).text;
    expect(page).not.toContain('class="unread-mark"');
  });

  it("a ticket the resident reopened is marked until staff change its status", async () => {
    await world.db.ticket.update({ where: key(refs.pothole1h), data: { reopenedAt: new Date() } });
    expect(textOf(rowOf((await rania.get("/staff")).text, refs.pothole1h))).toContain("أُعيد فتحه");
    await world.db.ticket.update({ where: key(refs.pothole1h), data: { reopenedAt: null } });
    expect(textOf(rowOf((await rania.get("/staff")).text, refs.pothole1h))).not.toContain("أُعيد فتحه");
  });

  it("each row shows the last message's first words and who wrote it", async () => {
    const { id: ticketId, residentId } = await ticketOf(refs.pothole10h);
    await world.db.message.create({
      data: { municipalityId: MUNICIPALITY, residentId: residentId!, ticketId, direction: "outbound", channel: "sms", kind: "staff", staffId: ids.rania, body: "سنرسل فريق الأشغال غداً صباحاً إن شاء الله", status: "queued", createdAt: new Date(Date.now() + 5000) },
    });
    const row = rowOf((await rania.get("/staff")).text, refs.pothole10h);
    expect(row).toContain('<span class="author"><bdi>Rania</bdi></span>: <bdi>سنرسل فريق الأشغال غداً صباحاً إن شاء الله</bdi>');
    await world.db.message.create({ data: { municipalityId: MUNICIPALITY, residentId: residentId!, ticketId, direction: "inbound", channel: "sms", kind: "resident", body: "شكراً", status: "received", createdAt: new Date(Date.now() + 6000) } });
    expect(rowOf((await rania.get("/staff")).text, refs.pothole10h)).toContain('<span class="author">المواطن</span>: <bdi>شكراً</bdi>');
  });

  it("the page's refresh costs nothing while nothing changed: the change token answers 304", async () => {
    const clocked = appWithClock(world);
    const browser = await signedIn(clocked.app, "rania");
    const rows = "/staff/queue/rows";
    const first = await browser.get(rows, { "X-Requested-With": "fetch" });
    expect(first.status).toBe(200);
    const token = /data-token="([^"]+)"/.exec(first.text)?.[1];
    expect(token).toBeTruthy();
    expect(first.headers.etag).toBe(`"${token}"`);
    expect((await browser.get("/staff")).text).toContain(`data-token="${token}"`);

    const again = await browser.get(rows, { "X-Requested-With": "fetch", "If-None-Match": `"${token}"` });
    expect(again.status).toBe(304);
    expect(again.text ?? "").toBe("");

    // Another department's ticket changes: nothing in Rania's queue does.
    await world.db.ticket.update({ where: key(refs.leak), data: { needsHuman: true } });
    expect((await browser.get(rows, { "X-Requested-With": "fetch", "If-None-Match": `"${token}"` })).status).toBe(304);

    // A resident of hers writes: the fragment comes back, with a new token.
    await world.db.ticket.update({ where: key(refs.pothole1h), data: { lastResidentAt: new Date(Date.now() + 10_000) } });
    const changed = await browser.get(rows, { "X-Requested-With": "fetch", "If-None-Match": `"${token}"` });
    expect(changed.status).toBe(200);
    const next = /data-token="([^"]+)"/.exec(changed.text)?.[1];
    expect(next).not.toBe(token);
    expect(changed.text).toContain('data-title="(1) قائمة الطلبات · ');
    expect(rowOf(changed.text, refs.pothole1h)).toContain('data-unread="1"');

    // She opens it: her reads are part of the token.
    await opened(ids.rania, refs.pothole1h, new Date(Date.now() + 20_000));
    expect((await browser.get(rows, { "X-Requested-With": "fetch", "If-None-Match": `"${next}"` })).status).toBe(200);

    // Waiting times move with the clock: a new minute renders again.
    const settled = /data-token="([^"]+)"/.exec((await browser.get(rows, { "X-Requested-With": "fetch" })).text)?.[1];
    expect((await browser.get(rows, { "X-Requested-With": "fetch", "If-None-Match": `"${settled}"` })).status).toBe(304);
    clocked.advance(61_000);
    expect((await browser.get(rows, { "X-Requested-With": "fetch", "If-None-Match": `"${settled}"` })).status).toBe(200);
    await world.db.ticket.update({ where: key(refs.leak), data: { needsHuman: false } });
  });
});

describe("acting from the queue", () => {
  const refs = { a: 0, b: 0, c: 0, leak: 0 };
  beforeAll(async () => {
    refs.a = await ticket({ filedHoursAgo: 5, waitingHoursAgo: 5 });
    refs.b = await ticket({ filedHoursAgo: 4, waitingHoursAgo: 4 });
    refs.c = await ticket({ filedHoursAgo: 3, waitingHoursAgo: 3 });
    refs.leak = await ticket({ category: "water", filedHoursAgo: 2, waitingHoursAgo: 2 });
  });

  it("assign to me is one click on the row, and comes back to the same view", async () => {
    const page = (await rania.get("/staff?category=roads")).text;
    expect(rowOf(page, refs.a)).toContain('action="/staff/queue/assign-to-me"');
    const res = await rania.post("/staff/queue/assign-to-me", { reference: String(refs.a), back: "/staff?category=roads" });
    expect(res.headers.location).toBe("/staff?category=roads");
    expect(await flashAfter(rania, res)).toContain(`أصبح الطلب #${refs.a} مسنداً إليك.`);
    expect((await ticketOf(refs.a)).assigneeId).toBe(ids.rania);
    expect(rowOf((await rania.get("/staff")).text, refs.a)).not.toContain("assign-to-me");
    expect(await world.db.ticketEvent.count({ where: { ticketId: (await ticketOf(refs.a)).id, kind: "assigned" } })).toBe(1);
  });

  it("assign to me on another department's ticket changes nothing", async () => {
    const res = await rania.post("/staff/queue/assign-to-me", { reference: String(refs.leak), back: "/staff" });
    expect(await flashAfter(rania, res)).toContain(`لم يتغيّر الطلب #${refs.leak}: ليس ضمن دوائرك أو غير موجود.`);
    expect((await ticketOf(refs.leak)).assigneeId).toBeNull();
  });

  it("bulk assign: the tickets she may work are assigned, another department's is refused by reference", async () => {
    const res = await rania.post("/staff/queue/bulk", { reference: [String(refs.b), String(refs.c), String(refs.leak)], do: "assign", assignee: "me", back: "/staff" });
    const page = await flashAfter(rania, res);
    expect(page).toContain("أُسنِد طلبان.");
    expect(page).toContain(`لم يتغيّر الطلب #${refs.leak}: ليس ضمن دوائرك أو غير موجود.`);
    expect((await ticketOf(refs.b)).assigneeId).toBe(ids.rania);
    expect((await ticketOf(refs.c)).assigneeId).toBe(ids.rania);
    expect((await ticketOf(refs.leak)).assigneeId).toBeNull();
  });

  it("bulk assign to a colleague who cannot work the ticket is refused for that ticket", async () => {
    const res = await hala.post("/staff/queue/bulk", { reference: [String(refs.leak), String(refs.b)], do: "assign", assignee: String(ids.karim), back: "/staff" });
    const page = await flashAfter(hala, res);
    expect(page).toContain("أُسنِد طلب واحد.");
    expect(page).toContain(`لم يُسنَد الطلب #${refs.b}: لا يستطيع هذا الشخص معالجته.`);
    expect((await ticketOf(refs.leak)).assigneeId).toBe(ids.karim);
    expect((await ticketOf(refs.b)).assigneeId).toBe(ids.rania);
  });

  it("bulk status: in progress for hers, refused for the other department's, unchanged reported", async () => {
    await world.db.ticket.update({ where: key(refs.c), data: { status: "in_progress" } });
    const res = await rania.post("/staff/queue/bulk", { reference: [String(refs.a), String(refs.c), String(refs.leak)], do: "status", status: "in_progress", back: "/staff" });
    const page = await flashAfter(rania, res);
    expect(page).toContain("تغيّرت حالة طلب واحد إلى «قيد المعالجة».");
    expect(page).toContain(`كانت حالة الطلب #${refs.c} «قيد المعالجة» من قبل.`);
    expect(page).toContain(`لم يتغيّر الطلب #${refs.leak}: ليس ضمن دوائرك أو غير موجود.`);
    expect((await ticketOf(refs.a)).status).toBe("in_progress");
    expect((await ticketOf(refs.leak)).status).toBe("new");
  });

  it("closing in bulk messages residents: it asks once more, listing the tickets, and only then closes and notifies", async () => {
    const outboxBefore = await world.db.outbox.count();
    const ask = await rania.post("/staff/queue/bulk", { reference: [String(refs.a), String(refs.b), String(refs.leak)], do: "status", status: "closed", back: "/staff?assignee=me" });
    expect(ask.status).toBe(200);
    const question = textOf(ask.text);
    expect(question).toContain("تغيير حالة طلبين إلى «مغلق»؟");
    expect(question).toContain("سيُبلَّغ مواطنان، كلٌّ برسالة نصية أو عبر واتساب");
    expect(question).toContain(`#${refs.a}`);
    expect(question).not.toContain(`#${refs.leak}`); // not hers: not even named
    expect(ask.text).toContain('name="confirm" value="yes"');
    expect((await ticketOf(refs.a)).status).toBe("in_progress");
    expect(await world.db.outbox.count()).toBe(outboxBefore);

    const res = await rania.post("/staff/queue/bulk", { reference: [String(refs.a), String(refs.b), String(refs.leak)], do: "status", status: "closed", confirm: "yes", back: "/staff?assignee=me" });
    expect(res.headers.location).toBe("/staff?assignee=me");
    const page = await flashAfter(rania, res);
    expect(page).toContain("تغيّرت حالة طلبين إلى «مغلق». سيُبلَّغ مواطنان.");
    expect(page).toContain(`لم يتغيّر الطلب #${refs.leak}`);
    for (const reference of [refs.a, refs.b]) {
      const closed = await ticketOf(reference);
      expect(closed.status).toBe("closed");
      expect(await world.db.message.count({ where: { ticketId: closed.id, kind: "notification" } })).toBe(1);
    }
    expect(await world.db.outbox.count()).toBe(outboxBefore + 2);
  });

  it("nothing selected, or no CSRF token: nothing happens", async () => {
    expect(await flashAfter(rania, await rania.post("/staff/queue/bulk", { do: "assign", assignee: "me", back: "/staff" }))).toContain("حدّد طلباً واحداً على الأقل أولاً.");
    const forged = await rania.post("/staff/queue/bulk", { reference: String(refs.c), do: "status", status: "closed", confirm: "yes", _csrf: "forged" });
    expect(forged.status).toBe(403);
    expect((await ticketOf(refs.c)).status).toBe("in_progress");
  });

  it("the queue page has the bulk form, row checkboxes bound to it, and the styles of the queue", async () => {
    const page = (await rania.get("/staff")).text;
    expect(page).toContain('<form id="bulk" method="post" action="/staff/queue/bulk"');
    expect(rowOf(page, refs.c)).toContain(`<input type="checkbox" name="reference" value="${refs.c}" form="bulk">`);
    expect(page).toContain('<link rel="stylesheet" href="/staff/assets/queue.css">');
    expect(page).toMatch(/<details class="filter-panel">/); // folded away
  });
});

describe("search", () => {
  const refs = { hole: 0, light: 0, leak: 0, named: 0, percent: 0, underscore: 0 };
  beforeAll(async () => {
    refs.hole = await ticket({ filedHoursAgo: 1, waitingHoursAgo: 1, description: "في حُفرة كبيرة قدّام البيت" });
    refs.light = await ticket({ category: "lighting", filedHoursAgo: 1, waitingHoursAgo: 1, description: "إنارة الشارع مطفأة منذ أسبوع" });
    refs.leak = await ticket({ category: "water", filedHoursAgo: 1, waitingHoursAgo: 1, description: "تسريب" });
    refs.named = await ticket({ filedHoursAgo: 1, waitingHoursAgo: 1, description: "طريق" });
    refs.percent = await ticket({ filedHoursAgo: 1, waitingHoursAgo: 1, description: "خصم 100% على الرسوم" });
    refs.underscore = await ticket({ filedHoursAgo: 1, waitingHoursAgo: 1, description: "ملف_قديم" });
    const leak = await ticketOf(refs.leak);
    await world.db.message.create({ data: { municipalityId: MUNICIPALITY, residentId: leak.residentId!, ticketId: leak.id, direction: "inbound", channel: "sms", kind: "resident", body: "المياه مقطوعة منذ يومين", status: "received" } });
    await world.db.resident.update({ where: { id: (await ticketOf(refs.named)).residentId! }, data: { profileName: "Rima Haddad ريما" } });
  });

  const found = async (browser: StaffBrowser, q: string) => shown((await browser.get(`/staff?status=all&q=${encodeURIComponent(q)}`)).text);

  it.each([
    ["taa marbuta written as haa, no tashkeel", "حفره", "hole"],
    ["as written", "حفرة", "hole"],
    ["with tashkeel", "حُفْرَة", "hole"],
    ["alef without hamza", "اناره الشارع", "light"],
    ["tatweel", "إنـــارة", "light"],
  ] as const)("folds Arabic like the bot: %s (%s)", async (_case, q, name) => {
    expect(await found(hala, q)).toEqual([refs[name]]);
  });

  it("finds words of the resident's messages, not only the description", async () => {
    expect(await found(hala, "مقطوعه")).toEqual([refs.leak]);
    expect(await found(karim, "مقطوعة")).toEqual([refs.leak]);
    expect(await found(rania, "مقطوعة")).toEqual([]); // water is not hers
  });

  it("finds the resident's WhatsApp profile name, whatever the case", async () => {
    expect(await found(hala, "rima")).toEqual([refs.named]);
    expect(await found(hala, "HADDAD")).toEqual([refs.named]);
    expect(await found(hala, "ريما")).toEqual([refs.named]);
  });

  it("% and _ are searched for as themselves, not as wildcards", async () => {
    expect(await found(hala, "%")).toEqual([refs.percent]);
    expect(await found(hala, "100%")).toEqual([refs.percent]);
    expect(await found(hala, "_")).toEqual([refs.underscore]);
    expect(await found(hala, "ملف_")).toEqual([refs.underscore]);
    expect(await found(hala, "%%%")).toEqual([]);
  });

  it("a reference still finds its ticket", async () => {
    expect(await found(hala, `#${refs.light}`)).toEqual([refs.light]);
  });
});

describe("text that reads right", () => {
  it("every value is isolated: an Arabizi description keeps the row's alignment, phones and references read left to right", async () => {
    const arabizi = "el 3amoud ma3 el daw msakkar 2odem el jemee3";
    const reference = await ticket({ category: "lighting", filedHoursAgo: 1, waitingHoursAgo: 1, description: arabizi });
    for (const browser of [hala, karim]) {
      const row = rowOf((await browser.get("/staff")).text, reference);
      expect(row).toContain(`<span class="desc"><bdi>${arabizi}</bdi></span>`);
      expect(row).toContain(`<bdi dir="ltr">#${reference}</bdi>`);
      expect(row).toMatch(/<bdi dir="ltr" class="phone-number">\+961/);
      expect(row).toMatch(/<strong><bdi>[^<]+<\/bdi><\/strong>/); // the category
      expect(row).not.toMatch(/<span class="desc"[^>]*dir=/);
    }
  });
});

describe("targets on the category page", () => {
  const form = async (code: string, targets: { firstResponseHours: string; resolutionHours: string }) => {
    const c = await world.db.category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code } } });
    return {
      id: c.id,
      fields: {
        nameAr: c.nameAr,
        nameEn: c.nameEn,
        department: c.department,
        keywords: (JSON.parse(c.keywords) as string[]).join("\n"),
        sortOrder: String(c.sortOrder),
        descriptionAr: c.descriptionAr,
        descriptionEn: c.descriptionEn,
        ...(c.childRelated ? { childRelated: "on" } : {}),
        ...(c.needsLocation ? { needsLocation: "on" } : {}),
        ...(c.active ? { active: "on" } : {}),
        ...(c.isPrivate ? { isPrivate: "on" } : {}),
        ...targets,
      },
    };
  };

  it("new towns get faster targets for children's safety and water than for certificates; the list shows them", async () => {
    const targets = Object.fromEntries(
      (await world.db.category.findMany({ where: { municipalityId: MUNICIPALITY }, select: { code: true, firstResponseHours: true, resolutionHours: true } })).map((c) => [c.code, [c.firstResponseHours, c.resolutionHours]]),
    );
    expect(targets.school_safety![0]).toBeLessThan(targets.water![0]!);
    expect(targets.water![0]).toBeLessThan(targets.certificates![0]!);
    expect(targets.parks_playgrounds![1]).toBeLessThan(targets.certificates![1]!);
    expect(targets.other).toEqual([null, null]);
    const list = textOf((await hala.get("/staff/admin/categories")).text);
    expect(list).toContain("2 س / 48 س");
    expect(list).toContain("24 س / 168 س"); // "other": the defaults
  });

  it("an administrator sets a category's targets: whole hours (Arabic digits too), blank for the default", async () => {
    const { id, fields } = await form("stray_animals", { firstResponseHours: "٨", resolutionHours: "" });
    const page = (await hala.get(`/staff/admin/categories/${id}`)).text;
    expect(page).toContain('name="firstResponseHours" value="12"');
    expect(page).toContain('placeholder="168"');
    expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${id}`, fields))).toContain("حُفظ.");
    expect(await world.db.category.findUniqueOrThrow({ where: { id } })).toMatchObject({ firstResponseHours: 8, resolutionHours: null });
  });

  it.each(["0", "-3", "2.5", "abc", "9000"])("refuses %s hours and keeps the targets", async (hours) => {
    const { id, fields } = await form("stray_animals", { firstResponseHours: hours, resolutionHours: "48" });
    expect(await flashAfter(hala, await hala.post(`/staff/admin/categories/${id}`, fields))).toContain("يجب أن تكون المهلة عدداً صحيحاً من الساعات بين 1 و8760");
    expect(await world.db.category.findUniqueOrThrow({ where: { id } })).toMatchObject({ firstResponseHours: 8, resolutionHours: null });
  });

  it("the queue follows the new target at once", async () => {
    // A stray dog reported 3 h ago: fine with 8 h, overdue with 2 h.
    const reference = await ticket({ category: "stray_animals", filedHoursAgo: 3, waitingHoursAgo: 3 });
    expect(rowOf((await hala.get("/staff")).text, reference)).not.toMatch(/target-/);
    const { id, fields } = await form("stray_animals", { firstResponseHours: "2", resolutionHours: "" });
    await flashAfter(hala, await hala.post(`/staff/admin/categories/${id}`, fields));
    const page = (await hala.get("/staff")).text;
    expect(rowOf(page, reference)).toMatch(/class="[^"]*target-overdue/);
  });
});
