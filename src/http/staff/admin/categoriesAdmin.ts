import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import type { RouterDeps } from "../../createApp.js";
import { checkboxField, selectField, textField } from "../components.js";
import { redirectWithFlash, takeFlash, type FlashMessage } from "../flash.js";
import { departmentLabel, localName } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { isUniqueViolation } from "../../../db/errors.js";
import { FINANCE_DEPARTMENT } from "../../../services/accountStaff.js";
import { DEFAULT_FIRST_RESPONSE_HOURS, DEFAULT_RESOLUTION_HOURS, MAX_TARGET_HOURS, targetHours } from "../../../services/targets.js";
import { foldDigits } from "../../../understand/foldDigits.js";
import { checkbox, codeField, formErrors, parseId } from "./adminForms.js";
import { categoryAttributesAdmin, o311 } from "./categoryAttributesAdmin.js";

const TARGET_ERROR = "inbox:targets.errors.hours";

/**
 * A target in hours as an admin types it (Arabic-Indic digits too): a whole number from 1 to
 * MAX_TARGET_HOURS, or blank for the default (null). Absent (a form from before targets): unchanged.
 */
const targetField = z
  .string()
  .max(20, TARGET_ERROR)
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    const text = foldDigits(value).trim();
    if (text === "") return null;
    const hours = /^\d{1,5}$/.test(text) ? Number(text) : 0;
    if (hours < 1 || hours > MAX_TARGET_HOURS) {
      ctx.addIssue({ code: "custom", message: TARGET_ERROR });
      return z.NEVER;
    }
    return hours;
  });

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
  /** What the service is, for Open311 clients ("" = none); older forms without the fields send nothing. */
  descriptionAr: z.string().trim().max(500, "open311Admin:errors.categoryDescription").optional().transform((v) => v ?? ""),
  descriptionEn: z.string().trim().max(500, "open311Admin:errors.categoryDescription").optional().transform((v) => v ?? ""),
  childRelated: checkbox,
  needsLocation: checkbox,
  active: checkbox,
  /** Never shown through Open311. */
  isPrivate: checkbox,
  sortOrder: z.coerce.number({ error: "admin.errors.sortOrder" }).int("admin.errors.sortOrder").min(0, "admin.errors.sortOrder").max(100_000, "admin.errors.sortOrder"),
  /** Staff targets (hours); blank: the defaults. */
  firstResponseHours: targetField,
  resolutionHours: targetField,
};
const NewCategoryForm = z.object({ code: codeField("admin.errors.code"), ...fields });
const EditCategoryForm = z.object(fields);

const BASE = "/staff/admin/categories";

/** `formErrors`, also for the Open311 fields and the targets, whose texts are in the open311Admin and inbox namespaces. */
function categoryFormErrors(t: Translate, error: z.ZodError): FlashMessage[] {
  const own = error.issues.filter((i) => /^(open311Admin|inbox):/.test(i.message));
  const rest = error.issues.filter((i) => !own.includes(i));
  return [...(rest.length > 0 ? formErrors(t, new z.ZodError(rest)) : []), ...[...new Set(own.map((i) => i.message))].map((key): FlashMessage => ({ kind: "error", text: t(key, { max: MAX_TARGET_HOURS }) }))];
}

/**
 * Finance categories are private by default: created in finance, or moved there from another
 * department, a category is saved private whatever the box said (staff may publish it afterwards).
 */
function privateByDefault(department: string, previousDepartment: string | null): boolean {
  return department === FINANCE_DEPARTMENT && previousDepartment !== FINANCE_DEPARTMENT;
}

const Keywords = z.array(z.string()).catch([]);

/** "4 h / 72 h": the hours a category's tickets have, the defaults filled in. */
function targetSummary(t: Translate, category: { firstResponseHours: number | null; resolutionHours: number | null }): string {
  const hours = targetHours(category);
  return t("inbox:targets.summary", { firstResponse: hours.firstResponse, resolution: hours.resolution });
}

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
  descriptionAr: string;
  descriptionEn: string;
  department: string;
  keywords: string[];
  childRelated: boolean;
  needsLocation: boolean;
  active: boolean;
  isPrivate: boolean;
  sortOrder: number;
  firstResponseHours: number | null;
  resolutionHours: number | null;
}

/** A target's input: empty for the default, which its placeholder shows. */
function targetInput(label: string, name: string, value: number | null, fallback: number): SafeHtml {
  return html`<label class="field"><span>${label}</span><input type="text" inputmode="numeric" name="${name}" value="${value ?? ""}" placeholder="${fallback}" maxlength="5" dir="ltr" pattern="[0-9٠-٩]*"></label>`;
}

/**
 * Categories residents choose from: names in both languages, the keywords the bot recognises,
 * the department that works them, flags, menu order, and whether they are offered at all; for
 * Open311, whether they are private, their descriptions and their questions
 * (categoryAttributesAdmin.ts, under /:id/attributes).
 */
export function categoriesAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;
  const departmentsOf = () => deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" } });

  function categoryFields(ctx: StaffContext, departments: Awaited<ReturnType<typeof departmentsOf>>, values: CategoryValues): SafeHtml {
    const { t, locale } = ctx;
    const s = o311(t);
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
  </fieldset>
  <fieldset class="field field-wide targets"><legend>${t("inbox:targets.legend")}</legend>
    <div class="form-grid">
      ${targetInput(t("inbox:targets.firstResponseHours"), "firstResponseHours", values.firstResponseHours, DEFAULT_FIRST_RESPONSE_HOURS)}
      ${targetInput(t("inbox:targets.resolutionHours"), "resolutionHours", values.resolutionHours, DEFAULT_RESOLUTION_HOURS)}
    </div>
    <small class="hint">${t("inbox:targets.hint", { firstResponse: DEFAULT_FIRST_RESPONSE_HOURS, resolution: DEFAULT_RESOLUTION_HOURS })}</small>
  </fieldset>
  <fieldset class="field checks field-wide"><legend>${s("category.open311")}</legend>
    ${checkboxField(s("category.private"), "isPrivate", values.isPrivate)}
    <small class="hint">${s("category.privateHint")}</small>
  </fieldset>
  <label class="field field-wide"><span>${s("category.descriptionAr")}</span>
    <textarea name="descriptionAr" rows="2" maxlength="500" dir="rtl" lang="ar">${values.descriptionAr}</textarea>
    <small class="hint">${s("category.descriptionHint")}</small></label>
  <label class="field field-wide"><span>${s("category.descriptionEn")}</span>
    <textarea name="descriptionEn" rows="2" maxlength="500" dir="ltr" lang="en">${values.descriptionEn}</textarea></label>`;
  }

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const s = o311(t);
    const [categories, departments] = await Promise.all([
      deps.db.category.findMany({
        where: { municipalityId },
        orderBy: [{ sortOrder: "asc" }, { id: "asc" }],
        include: { _count: { select: { attributes: { where: { active: true } } } } },
      }),
      departmentsOf(),
    ]);
    const newDepartment = departments[0]?.code ?? "";
    const yes = (on: boolean) => (on ? html`<span class="tick" aria-label="${t("filters.yes")}">✓</span>` : html`<span class="muted" aria-label="${t("filters.no")}">—</span>`);
    const body = html`<div class="page-head"><h1>${t("admin.categories.title")}</h1><p class="muted">${t("admin.categories.intro")}</p></div>
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${t("admin.categories.sortOrder")}</th><th>${t("admin.categories.name")}</th><th>${t("admin.code")}</th><th>${t("admin.categories.department")}</th><th>${t("admin.categories.keywordCount")}</th><th>${t("admin.categories.childRelated")}</th><th>${t("admin.categories.needsLocation")}</th><th>${t("admin.categories.active")}</th><th>${t("inbox:targets.column")}</th><th>${s("category.open311")}</th><th></th></tr></thead>
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
    <td class="${c.firstResponseHours === null && c.resolutionHours === null ? "muted" : ""}"><bdi>${targetSummary(t, c)}</bdi></td>
    <td>${c.isPrivate ? html`<span class="badge flag flag-stop">${s("category.privateBadge")}</span>` : html`<a href="${BASE}/${c.id}/attributes">${s("category.questions", { count: c._count.attributes })}</a>`}</td>
    <td><a class="btn btn-ghost btn-small" href="${BASE}/${c.id}">${t("admin.edit")}</a></td>
  </tr>`,
  )}</tbody>
</table></div>
<section class="card form-card"><h2>${t("admin.categories.create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${textField(t("admin.code"), "code", "", { required: true, maxlength: 40, dir: "ltr", hint: t("admin.codeHint") })}
  ${categoryFields(ctx, departments, { nameAr: "", nameEn: "", descriptionAr: "", descriptionEn: "", department: newDepartment, keywords: [], childRelated: false, needsLocation: true, active: true, isPrivate: privateByDefault(newDepartment, null), sortOrder: (categories.at(-1)?.sortOrder ?? 0) + 10, firstResponseHours: null, resolutionHours: null })}
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
    if (!form.success) return redirectWithFlash(res, deps, BASE, categoryFormErrors(t, form.error));
    if (!(await departmentExists(form.data.department))) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: t("admin.errors.department") }]);
    const forcedPrivate = !form.data.isPrivate && privateByDefault(form.data.department, null);
    try {
      await deps.db.$transaction((tx) => tx.category.create({ data: { municipalityId, ...form.data, isPrivate: form.data.isPrivate || forcedPrivate, keywords: JSON.stringify(form.data.keywords) } }));
    } catch (error) {
      if (isUniqueViolation(error)) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: t("admin.errors.codeTaken", { code: form.data.code }) }]);
      throw error;
    }
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.categories.created") }, ...(forcedPrivate ? [{ kind: "info" as const, text: o311(t)("category.madePrivate") }] : [])]);
  });

  router.get("/:id", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const s = o311(t);
    const [category, departments] = await Promise.all([
      deps.db.category.findFirst({ where: { id: parseId(req.params.id), municipalityId }, include: { _count: { select: { attributes: { where: { active: true } } } } } }),
      departmentsOf(),
    ]);
    if (!category) throw new HttpError(404, "No such category");
    const body = html`<div class="page-head"><p class="crumbs"><a href="${BASE}">${t("admin.categories.title")}</a></p>
  <h1>${localName(category, locale)} <span class="subtitle mono" dir="ltr">${category.code}</span></h1></div>
<section class="card form-card"><form method="post" action="${BASE}/${category.id}" class="form-grid">
  ${csrfField(ctx)}
  ${categoryFields(ctx, departments, { ...category, keywords: keywordsOf(category.keywords) })}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.save")}</button> <a class="btn btn-ghost" href="${BASE}">${t("admin.cancel")}</a></div>
</form></section>
<section class="card"><h2>${s("category.questionsTitle")}</h2>
<p>${s("category.questions", { count: category._count.attributes })} · <a href="${BASE}/${category.id}/attributes">${s("category.questionsLink")}</a></p></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: localName(category, locale), section: "categories", body, flash: takeFlash(req, res, deps) }));
  });

  router.post("/:id", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const back = `${BASE}/${id}`;
    const form = EditCategoryForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, back, categoryFormErrors(t, form.error));
    if (!(await departmentExists(form.data.department))) return redirectWithFlash(res, deps, back, [{ kind: "error", text: t("admin.errors.department") }]);
    const before = await deps.db.category.findFirst({ where: { id, municipalityId }, select: { department: true } });
    if (!before) throw new HttpError(404, "No such category");
    const forcedPrivate = !form.data.isPrivate && privateByDefault(form.data.department, before.department);
    const updated = await deps.db.$transaction((tx) =>
      tx.category.updateMany({ where: { id, municipalityId }, data: { ...form.data, isPrivate: form.data.isPrivate || forcedPrivate, keywords: JSON.stringify(form.data.keywords) } }),
    );
    if (updated.count === 0) throw new HttpError(404, "No such category");
    // The version the inbox checks already changed (updatedAt); this also covers a save within the same millisecond.
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.saved") }, ...(forcedPrivate ? [{ kind: "info" as const, text: o311(t)("category.madePrivate") }] : [])]);
  });

  categoryAttributesAdmin(router, deps);
  return router;
}
