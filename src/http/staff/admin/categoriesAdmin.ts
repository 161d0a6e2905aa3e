import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import type { RouterDeps } from "../../createApp.js";
import { checkboxField, selectField, textField } from "../components.js";
import { redirectWithFlash, takeFlash } from "../flash.js";
import { departmentLabel, localName } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext } from "../staffContext.js";
import { isUniqueViolation } from "../../../db/errors.js";
import { checkbox, codeField, formErrors, parseId } from "./adminForms.js";

const fields = {
  nameAr: z.string().trim().min(1, "admin.errors.nameAr").max(80, "admin.errors.nameAr"),
  nameEn: z.string().trim().min(1, "admin.errors.nameEn").max(80, "admin.errors.nameEn"),
  department: z.string().min(1, "admin.errors.department"),
  /** One keyword or phrase per line, as staff type them; blank lines and duplicates dropped. */
  keywords: z
    .string()
    .max(20_000, "admin.errors.keywords")
    .catch("")
    .transform((text) => [...new Set(text.split(/\r?\n/).map((k) => k.trim()).filter((k) => k !== ""))]),
  childRelated: checkbox,
  needsLocation: checkbox,
  active: checkbox,
  sortOrder: z.coerce.number({ error: "admin.errors.sortOrder" }).int("admin.errors.sortOrder").min(0, "admin.errors.sortOrder").max(100_000, "admin.errors.sortOrder"),
};
const NewCategoryForm = z.object({ code: codeField("admin.errors.code"), ...fields });
const EditCategoryForm = z.object(fields);

const BASE = "/staff/admin/categories";
const Keywords = z.array(z.string()).catch([]);

function keywordsOf(json: string): string[] {
  try {
    return Keywords.parse(JSON.parse(json));
  } catch {
    return [];
  }
}

interface CategoryValues {
  nameAr: string;
  nameEn: string;
  department: string;
  keywords: string[];
  childRelated: boolean;
  needsLocation: boolean;
  active: boolean;
  sortOrder: number;
}

/**
 * Categories residents choose from: names in both languages, the keywords the bot recognises,
 * the department that works them, flags, menu order, and whether they are offered at all.
 */
export function categoriesAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;
  const departmentsOf = () => deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" } });

  function categoryFields(ctx: StaffContext, departments: Awaited<ReturnType<typeof departmentsOf>>, values: CategoryValues): SafeHtml {
    const { t, locale } = ctx;
    return html`${textField(t("admin.nameAr"), "nameAr", values.nameAr, { required: true, maxlength: 80, dir: "rtl", lang: "ar" })}
  ${textField(t("admin.nameEn"), "nameEn", values.nameEn, { required: true, maxlength: 80, dir: "ltr", lang: "en" })}
  ${selectField(t("admin.categories.department"), "department", departments.map((d) => ({ value: d.code, label: localName(d, locale) })), values.department, { required: true })}
  ${textField(t("admin.categories.sortOrder"), "sortOrder", values.sortOrder, { type: "number", min: 0, max: 100_000, required: true })}
  <label class="field field-wide"><span>${t("admin.categories.keywords")}</span>
    <textarea name="keywords" rows="8" dir="auto">${values.keywords.join("\n")}</textarea>
    <small class="hint">${t("admin.categories.keywordsHint")}</small></label>
  <fieldset class="field checks field-wide"><legend>${t("admin.categories.flags")}</legend>
    ${checkboxField(t("admin.categories.childRelated"), "childRelated", values.childRelated)}
    ${checkboxField(t("admin.categories.needsLocation"), "needsLocation", values.needsLocation)}
    ${checkboxField(t("admin.categories.active"), "active", values.active)}
  </fieldset>`;
  }

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const [categories, departments] = await Promise.all([
      deps.db.category.findMany({ where: { municipalityId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] }),
      departmentsOf(),
    ]);
    const yes = (on: boolean) => (on ? html`<span class="tick" aria-label="${t("filters.yes")}">✓</span>` : html`<span class="muted" aria-label="${t("filters.no")}">—</span>`);
    const body = html`<div class="page-head"><h1>${t("admin.categories.title")}</h1><p class="muted">${t("admin.categories.intro")}</p></div>
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${t("admin.categories.sortOrder")}</th><th>${t("admin.categories.name")}</th><th>${t("admin.code")}</th><th>${t("admin.categories.department")}</th><th>${t("admin.categories.keywordCount")}</th><th>${t("admin.categories.childRelated")}</th><th>${t("admin.categories.needsLocation")}</th><th>${t("admin.categories.active")}</th><th></th></tr></thead>
  <tbody>${categories.map(
    (c) => html`<tr class="${c.active ? "" : "row-muted"}">
    <td>${c.sortOrder}</td>
    <td><strong>${localName(c, locale)}</strong><br><small class="muted" lang="${locale === "ar" ? "en" : "ar"}">${localName(c, locale === "ar" ? "en" : "ar")}</small></td>
    <td><span class="mono" dir="ltr">${c.code}</span></td>
    <td>${departmentLabel(departments, c.department, locale)}</td>
    <td>${keywordsOf(c.keywords).length}</td>
    <td>${yes(c.childRelated)}</td>
    <td>${yes(c.needsLocation)}</td>
    <td>${yes(c.active)}</td>
    <td><a class="btn btn-ghost btn-small" href="${BASE}/${c.id}">${t("admin.edit")}</a></td>
  </tr>`,
  )}</tbody>
</table></div>
<section class="card form-card"><h2>${t("admin.categories.create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${textField(t("admin.code"), "code", "", { required: true, maxlength: 40, dir: "ltr", hint: t("admin.codeHint") })}
  ${categoryFields(ctx, departments, { nameAr: "", nameEn: "", department: departments[0]?.code ?? "", keywords: [], childRelated: false, needsLocation: true, active: true, sortOrder: (categories.at(-1)?.sortOrder ?? 0) + 10 })}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.categories.createSubmit")}</button></div>
</form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: t("admin.categories.title"), section: "categories", body, flash: takeFlash(req, res, deps) }));
  });

  async function departmentExists(code: string) {
    return (await deps.db.department.count({ where: { municipalityId, code } })) > 0;
  }

  router.post("/", async (req, res) => {
    const { t } = staffContext(req);
    const form = NewCategoryForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, BASE, formErrors(t, form.error));
    if (!(await departmentExists(form.data.department))) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: t("admin.errors.department") }]);
    try {
      await deps.db.$transaction((tx) => tx.category.create({ data: { municipalityId, ...form.data, keywords: JSON.stringify(form.data.keywords) } }));
    } catch (error) {
      if (isUniqueViolation(error)) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: t("admin.errors.codeTaken", { code: form.data.code }) }]);
      throw error;
    }
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.categories.created") }]);
  });

  router.get("/:id", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const [category, departments] = await Promise.all([deps.db.category.findFirst({ where: { id: parseId(req.params.id), municipalityId } }), departmentsOf()]);
    if (!category) throw new HttpError(404, "No such category");
    const body = html`<div class="page-head"><p class="crumbs"><a href="${BASE}">${t("admin.categories.title")}</a></p>
  <h1>${localName(category, locale)} <span class="subtitle mono" dir="ltr">${category.code}</span></h1></div>
<section class="card form-card"><form method="post" action="${BASE}/${category.id}" class="form-grid">
  ${csrfField(ctx)}
  ${categoryFields(ctx, departments, { ...category, keywords: keywordsOf(category.keywords) })}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.save")}</button> <a class="btn btn-ghost" href="${BASE}">${t("admin.cancel")}</a></div>
</form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: localName(category, locale), section: "categories", body, flash: takeFlash(req, res, deps) }));
  });

  router.post("/:id", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const back = `${BASE}/${id}`;
    const form = EditCategoryForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, back, formErrors(t, form.error));
    if (!(await departmentExists(form.data.department))) return redirectWithFlash(res, deps, back, [{ kind: "error", text: t("admin.errors.department") }]);
    const updated = await deps.db.$transaction((tx) => tx.category.updateMany({ where: { id, municipalityId }, data: { ...form.data, keywords: JSON.stringify(form.data.keywords) } }));
    if (updated.count === 0) throw new HttpError(404, "No such category");
    // The version the inbox checks already changed (updatedAt); this also covers a save within the same millisecond.
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.saved") }]);
  });

  return router;
}
