import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import { hashPassword } from "../../../services/passwords.js";
import { endSessionsOf } from "../../../services/sessions.js";
import { createStaff, ROLES, setCanRunSurveys } from "../../../services/staff.js";
import type { RouterDeps } from "../../createApp.js";
import { checkboxField, selectField, textField } from "../components.js";
import { redirectWithFlash, takeFlash } from "../flash.js";
import { formatDateTime, isolating, localName } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext } from "../staffContext.js";
import { isUniqueViolation } from "../../../db/errors.js";
import { checkbox, formErrors, manyValues, parseId } from "./adminForms.js";

/** Usernames: what ADMIN_USERNAME accepts too. */
export const USERNAME = /^[a-z0-9._-]{3,40}$/;
/** The shortest password an account may have. */
export const MIN_PASSWORD = 10;

const password = z.string().min(MIN_PASSWORD, "admin.errors.password").max(200, "admin.errors.password");
const profile = {
  displayName: z.string().trim().min(1, "admin.errors.displayName").max(80, "admin.errors.displayName"),
  role: z.enum(ROLES, { error: "admin.errors.role" }),
  locale: z.enum(["ar", "en"], { error: "admin.errors.locale" }),
  departments: manyValues,
  canRunSurveys: checkbox,
};
const NewStaffForm = z.object({ username: z.string().trim().toLowerCase().regex(USERNAME, "admin.errors.username"), password, ...profile });
const EditStaffForm = z.object(profile);
const PasswordForm = z.object({ password });
const ActiveForm = z.object({ active: z.enum(["true", "false"]) });

const BASE = "/staff/admin/staff";

/** Staff accounts: list, create, edit role/departments/language, deactivate, reset password, unlock. */
export function staffAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;
  const departmentsOf = () => deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" } });

  async function knownDepartments(codes: string[]) {
    const rows = await deps.db.department.findMany({ where: { municipalityId, code: { in: codes } }, select: { code: true } });
    return rows.map((r) => r.code);
  }

  function profileFields(ctx: StaffContext, departments: Awaited<ReturnType<typeof departmentsOf>>, values: { displayName: string; role: string; locale: string; departments: string[]; canRunSurveys: boolean }): SafeHtml {
    const { t, locale } = ctx;
    return html`${textField(t("admin.staff.displayName"), "displayName", values.displayName, { required: true, maxlength: 80, dir: "auto" })}
    ${selectField(t("admin.staff.role"), "role", ROLES.map((r) => ({ value: r, label: t(`roles.${r}`) })), values.role)}
    ${selectField(t("admin.staff.locale"), "locale", [{ value: "ar", label: t("language.ar") }, { value: "en", label: t("language.en") }], values.locale)}
    <fieldset class="field checks"><legend>${t("admin.staff.departments")}</legend>
      <p class="hint">${t("admin.staff.departmentsHint")}</p>
      ${departments.map((d) => checkboxField(localName(d, locale), "departments", values.departments.includes(d.code), d.code))}
    </fieldset>
    <fieldset class="field checks"><legend>${t("surveys:staffAdmin.legend")}</legend>
      ${checkboxField(t("surveys:staffAdmin.permission"), "canRunSurveys", values.canRunSurveys)}
      <p class="hint">${t("surveys:staffAdmin.hint")}</p>
    </fieldset>`;
  }

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const now = deps.clock();
    const [staff, departments] = await Promise.all([
      deps.db.staff.findMany({ where: { municipalityId }, orderBy: [{ active: "desc" }, { displayName: "asc" }], include: { departments: true } }),
      departmentsOf(),
    ]);
    const body = html`<div class="page-head"><h1>${t("admin.staff.title")}</h1><p class="muted">${t("admin.staff.count", { count: staff.length })}</p></div>
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${t("admin.staff.displayName")}</th><th>${t("admin.staff.username")}</th><th>${t("admin.staff.role")}</th><th>${t("admin.staff.departments")}</th><th>${t("admin.staff.locale")}</th><th>${t("admin.staff.state")}</th><th>${t("admin.staff.lastLogin")}</th><th></th></tr></thead>
  <tbody>${staff.map(
    (s) => html`<tr class="${s.active ? "" : "row-muted"}">
    <td><strong dir="auto">${s.displayName}</strong></td>
    <td><span class="mono" dir="ltr">${s.username}</span></td>
    <td>${t(`roles.${s.role === "admin" ? "admin" : "agent"}`)}</td>
    <td>${s.role === "admin" ? html`<span class="muted">${t("admin.staff.allDepartments")}</span>` : s.departments.map((d) => localName(departments.find((x) => x.code === d.departmentCode) ?? { nameAr: d.departmentCode, nameEn: d.departmentCode }, locale)).join(locale === "ar" ? "، " : ", ") || html`<span class="muted">${t("admin.staff.noDepartments")}</span>`}</td>
    <td>${t(`language.${s.locale === "en" ? "en" : "ar"}`)}</td>
    <td>${!s.active ? html`<span class="badge flag flag-stop">${t("admin.staff.inactive")}</span>` : s.lockedUntil && s.lockedUntil > now ? html`<span class="badge flag flag-human">${t("admin.staff.locked")}</span>` : html`<span class="badge status status-resolved">${t("admin.staff.active")}</span>`}</td>
    <td>${s.lastLoginAt ? formatDateTime(s.lastLoginAt, locale) : html`<span class="muted">${t("admin.staff.never")}</span>`}</td>
    <td><a class="btn btn-ghost btn-small" href="${BASE}/${s.id}">${t("admin.edit")}</a></td>
  </tr>`,
  )}</tbody>
</table></div>
<section class="card form-card"><h2>${t("admin.staff.create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${textField(t("admin.staff.username"), "username", "", { required: true, maxlength: 40, dir: "ltr", autocomplete: "off", hint: t("admin.staff.usernameHint") })}
  ${textField(t("admin.staff.password"), "password", "", { type: "password", required: true, maxlength: 200, dir: "ltr", autocomplete: "new-password", hint: t("admin.staff.passwordHint", { min: MIN_PASSWORD }) })}
  ${profileFields(ctx, departments, { displayName: "", role: "agent", locale: "ar", departments: [], canRunSurveys: false })}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.staff.createSubmit")}</button></div>
</form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: t("admin.staff.title"), section: "staff", body, flash: takeFlash(req, res, deps) }));
  });

  router.post("/", async (req, res) => {
    const { t } = staffContext(req);
    const form = NewStaffForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, BASE, formErrors(t, form.error));
    const { username, displayName, role, locale, canRunSurveys } = form.data;
    const departments = await knownDepartments(form.data.departments);
    // Hashed before the transaction: on SQLite a transaction holds every other query until it ends.
    const passwordHash = await hashPassword(form.data.password);
    try {
      await deps.db.$transaction((tx) => createStaff(tx, { municipalityId, username, displayName, passwordHash, role, locale, departments, canRunSurveys }));
    } catch (error) {
      if (isUniqueViolation(error)) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: isolating(t)("admin.staff.exists", { username }) }]);
      throw error;
    }
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: isolating(t)("admin.staff.created", { username }) }]);
  });

  router.get("/:id", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const id = parseId(req.params.id);
    const now = deps.clock();
    const [staff, departments] = await Promise.all([
      deps.db.staff.findFirst({ where: { id, municipalityId }, include: { departments: true, _count: { select: { sessions: true } } } }),
      departmentsOf(),
    ]);
    if (!staff) throw new HttpError(404, "No such staff member");
    const self = staff.id === ctx.actor.id;
    const locked = staff.lockedUntil !== null && staff.lockedUntil > now;
    const body = html`<div class="page-head"><p class="crumbs"><a href="${BASE}">${t("admin.staff.title")}</a></p>
  <h1><bdi>${staff.displayName}</bdi> <span class="subtitle mono" dir="ltr">${staff.username}</span></h1>
  <div class="head-badges">${!staff.active ? html`<span class="badge flag flag-stop">${t("admin.staff.inactive")}</span>` : null}${locked && staff.lockedUntil ? html`<span class="badge flag flag-human">${isolating(t)("admin.staff.lockedUntil", { until: formatDateTime(staff.lockedUntil, locale) })}</span>` : null}</div>
</div>
<div class="admin-grid">
<section class="card form-card"><h2>${t("admin.staff.profile")}</h2>
  <form method="post" action="${BASE}/${staff.id}" class="form-grid">
    ${csrfField(ctx)}
    ${profileFields(ctx, departments, { displayName: staff.displayName, role: staff.role, locale: staff.locale, departments: staff.departments.map((d) => d.departmentCode), canRunSurveys: staff.canRunSurveys })}
    ${self ? html`<p class="hint">${t("admin.staff.selfRoleHint")}</p>` : null}
    <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.save")}</button></div>
  </form>
</section>
<div class="stack">
<section class="card form-card"><h2>${t("admin.staff.resetPassword")}</h2>
  <form method="post" action="${BASE}/${staff.id}/password" class="stack">
    ${csrfField(ctx)}
    ${textField(t("admin.staff.newPassword"), "password", "", { type: "password", required: true, maxlength: 200, dir: "ltr", autocomplete: "new-password", hint: t("admin.staff.resetHint", { min: MIN_PASSWORD }) })}
    <div class="actions"><button type="submit" class="btn btn-secondary">${t("admin.staff.resetSubmit")}</button></div>
  </form>
</section>
<section class="card form-card"><h2>${t("admin.staff.access")}</h2>
  <p class="muted">${t("admin.staff.sessions", { count: staff._count.sessions })} · ${t("admin.staff.failedLogins", { count: staff.failedLogins })}</p>
  ${locked ? html`<form method="post" action="${BASE}/${staff.id}/unlock" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-secondary">${t("admin.staff.unlock")}</button></form>` : null}
  ${self
    ? html`<p class="hint">${t("admin.staff.selfDeactivateHint")}</p>`
    : html`<form method="post" action="${BASE}/${staff.id}/active" class="inline">${csrfField(ctx)}<input type="hidden" name="active" value="${staff.active ? "false" : "true"}">
      <button type="submit" class="btn ${staff.active ? "btn-danger" : "btn-secondary"}">${staff.active ? t("admin.staff.deactivate") : t("admin.staff.reactivate")}</button></form>`}
</section>
</div>
</div>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: staff.displayName, section: "staff", body, flash: takeFlash(req, res, deps) }));
  });

  /** Loads the account named in the URL (404 for another municipality's or none). */
  async function target(rawId: unknown) {
    const staff = await deps.db.staff.findFirst({ where: { id: parseId(rawId), municipalityId } });
    if (!staff) throw new HttpError(404, "No such staff member");
    return staff;
  }

  router.post("/:id", async (req, res) => {
    const ctx = staffContext(req);
    const staff = await target(req.params.id);
    const back = `${BASE}/${staff.id}`;
    const form = EditStaffForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, back, formErrors(ctx.t, form.error));
    // Admins cannot demote themselves: the town hall would be left without anyone to fix it.
    const role = staff.id === ctx.actor.id ? staff.role : form.data.role;
    const departments = await knownDepartments(form.data.departments);
    await deps.db.$transaction(async (tx) => {
      await tx.staff.update({ where: { id: staff.id }, data: { displayName: form.data.displayName, role, locale: form.data.locale } });
      await tx.staffDepartment.deleteMany({ where: { staffId: staff.id } });
      for (const departmentCode of departments) await tx.staffDepartment.create({ data: { staffId: staff.id, departmentCode } });
      await setCanRunSurveys(tx, municipalityId, staff.id, form.data.canRunSurveys);
    });
    redirectWithFlash(res, deps, back, [{ kind: "success", text: ctx.t("admin.saved") }]);
  });

  router.post("/:id/password", async (req, res) => {
    const { t } = staffContext(req);
    const staff = await target(req.params.id);
    const back = `${BASE}/${staff.id}`;
    const form = PasswordForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, back, formErrors(t, form.error));
    const passwordHash = await hashPassword(form.data.password);
    await deps.db.$transaction(async (tx) => {
      await tx.staff.update({ where: { id: staff.id }, data: { passwordHash, failedLogins: 0, lockedUntil: null } });
      // Whoever knew the old password is signed out everywhere.
      await endSessionsOf(tx, staff.id);
    });
    redirectWithFlash(res, deps, back, [{ kind: "success", text: t("admin.staff.passwordReset") }]);
  });

  router.post("/:id/unlock", async (req, res) => {
    const { t } = staffContext(req);
    const staff = await target(req.params.id);
    await deps.db.$transaction((tx) => tx.staff.update({ where: { id: staff.id }, data: { failedLogins: 0, lockedUntil: null } }));
    redirectWithFlash(res, deps, `${BASE}/${staff.id}`, [{ kind: "success", text: t("admin.staff.unlocked") }]);
  });

  router.post("/:id/active", async (req, res) => {
    const ctx = staffContext(req);
    const staff = await target(req.params.id);
    const back = `${BASE}/${staff.id}`;
    const form = ActiveForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("admin.errors.invalid") }]);
    if (staff.id === ctx.actor.id) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("admin.staff.selfDeactivateHint") }]);
    const active = form.data.active === "true";
    await deps.db.$transaction(async (tx) => {
      await tx.staff.update({ where: { id: staff.id }, data: { active } });
      if (!active) await endSessionsOf(tx, staff.id);
    });
    redirectWithFlash(res, deps, back, [{ kind: "success", text: ctx.t(active ? "admin.staff.reactivated" : "admin.staff.deactivated") }]);
  });

  return router;
}
