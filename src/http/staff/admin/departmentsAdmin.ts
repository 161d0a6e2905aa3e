import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import type { RouterDeps } from "../../createApp.js";
import { textField } from "../components.js";
import { redirectWithFlash, takeFlash } from "../flash.js";
import { isolating } from "../format.js";
import { html } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext } from "../staffContext.js";
import { isUniqueViolation } from "../../../db/errors.js";
import { codeField, formErrors, parseId } from "./adminForms.js";

const names = {
  nameAr: z.string().trim().min(1, "admin.errors.nameAr").max(80, "admin.errors.nameAr"),
  nameEn: z.string().trim().min(1, "admin.errors.nameEn").max(80, "admin.errors.nameEn"),
};
const NewDepartmentForm = z.object({ code: codeField("admin.errors.code"), ...names });
const RenameForm = z.object(names);

const BASE = "/staff/admin/departments";

/** Departments: list, create, rename (codes stay: tickets, categories and staff refer to them). */
export function departmentsAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const { t } = ctx;
    const [departments, categories, members, open] = await Promise.all([
      deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" } }),
      deps.db.category.groupBy({ by: ["department"], where: { municipalityId }, _count: { _all: true } }),
      deps.db.staffDepartment.groupBy({ by: ["departmentCode"], where: { staff: { municipalityId, active: true } }, _count: { _all: true } }),
      deps.db.ticket.groupBy({ by: ["department"], where: { municipalityId, status: { in: ["new", "waiting_staff", "in_progress"] } }, _count: { _all: true } }),
    ]);
    const count = (rows: Array<{ _count: { _all: number } } & Record<string, unknown>>, key: string, code: string) => rows.find((r) => r[key] === code)?._count._all ?? 0;
    const body = html`<div class="page-head"><h1>${t("admin.departments.title")}</h1><p class="muted">${t("admin.departments.intro")}</p></div>
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${t("admin.code")}</th><th>${t("admin.nameAr")}</th><th>${t("admin.nameEn")}</th><th>${t("admin.departments.categories")}</th><th>${t("admin.departments.staff")}</th><th>${t("admin.departments.openTickets")}</th><th></th></tr></thead>
  <tbody>${departments.map(
    (d) => html`<tr>
    <td><span class="mono" dir="ltr">${d.code}</span></td>
    <td colspan="2"><form method="post" action="${BASE}/${d.id}" class="inline-form" id="rename-${d.id}">${csrfField(ctx)}
      <input name="nameAr" value="${d.nameAr}" lang="ar" dir="rtl" required maxlength="80" aria-label="${t("admin.nameAr")}">
      <input name="nameEn" value="${d.nameEn}" lang="en" dir="ltr" required maxlength="80" aria-label="${t("admin.nameEn")}"></form></td>
    <td>${count(categories, "department", d.code)}</td>
    <td>${count(members, "departmentCode", d.code)}</td>
    <td>${count(open, "department", d.code)}</td>
    <td><button type="submit" form="rename-${d.id}" class="btn btn-ghost btn-small">${t("admin.departments.rename")}</button></td>
  </tr>`,
  )}</tbody>
</table></div>
<section class="card form-card"><h2>${t("admin.departments.create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${textField(t("admin.code"), "code", "", { required: true, maxlength: 40, dir: "ltr", hint: t("admin.codeHint") })}
  ${textField(t("admin.nameAr"), "nameAr", "", { required: true, maxlength: 80, dir: "rtl", lang: "ar" })}
  ${textField(t("admin.nameEn"), "nameEn", "", { required: true, maxlength: 80, dir: "ltr", lang: "en" })}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.departments.createSubmit")}</button></div>
</form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: t("admin.departments.title"), section: "departments", body, flash: takeFlash(req, res, deps) }));
  });

  router.post("/", async (req, res) => {
    const { t } = staffContext(req);
    const form = NewDepartmentForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, BASE, formErrors(t, form.error));
    try {
      await deps.db.$transaction((tx) => tx.department.create({ data: { municipalityId, ...form.data } }));
    } catch (error) {
      if (isUniqueViolation(error)) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: isolating(t)("admin.errors.codeTaken", { code: form.data.code }) }]);
      throw error;
    }
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.departments.created") }]);
  });

  router.post("/:id", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const form = RenameForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, BASE, formErrors(t, form.error));
    const updated = await deps.db.$transaction((tx) => tx.department.updateMany({ where: { id, municipalityId }, data: form.data }));
    if (updated.count === 0) throw new HttpError(404, "No such department");
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.saved") }]);
  });

  return router;
}
