import type { Request, Response, Router } from "express";
import { z } from "zod";
import type { Prisma } from "../../../generated/sqlite/client.js";
import { isUniqueViolation } from "../../../db/errors.js";
import type { Tx } from "../../../db/createDb.js";
import { HttpError } from "../../../lib/httpError.js";
import {
  ATTRIBUTE_DATATYPES,
  AttributeDefinition,
  AttributeValue,
  attributeDatatypeOf,
  attributeValuesOf,
  LIST_DATATYPES,
  MAX_ATTRIBUTE_VALUES,
  MAX_ATTRIBUTES_PER_CATEGORY,
} from "../../../services/open311/attributes.js";
import type { RouterDeps } from "../../createApp.js";
import { checkboxField, selectField, textField } from "../components.js";
import { redirectWithFlash, takeFlash } from "../flash.js";
import { isolate, isolating, localName } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { checkbox, parseId } from "./adminForms.js";

/** Texts of these pages: locales/{ar,en}/open311Admin.json. */
export const o311 = (t: Translate): Translate => (key, params) => t(`open311Admin:${key}`, params);

const CATEGORIES = "/staff/admin/categories";
const attributesPath = (categoryId: number) => `${CATEGORIES}/${categoryId}/attributes`;
const MAX_ORDER = 100_000;

const sortOrder = z
  .string()
  .trim()
  .regex(/^\d{1,6}$/, "sortOrder")
  .transform(Number)
  .pipe(z.number().max(MAX_ORDER, "sortOrder"));
const text = z.string().max(20_000).catch("");

/** The form as posted; what it means is checked by `readAttributeForm`. */
const AttributeFormFields = z.object({
  code: text,
  datatype: text,
  required: checkbox,
  descriptionAr: text,
  descriptionEn: text,
  values: text,
  sortOrder: text,
  active: checkbox,
});
type AttributeFormFields = z.infer<typeof AttributeFormFields>;

const ActiveForm = z.object({ active: z.enum(["true", "false"]) });

/** A problem to show: a key of open311Admin `errors.*` and its parameters. */
interface Problem {
  key: string;
  params?: Record<string, string | number>;
}

type ReadForm = { ok: true; definition: AttributeDefinition; sortOrder: number; active: boolean } | { ok: false; problems: Problem[] };

/**
 * The attribute form read into a definition, or every problem with it (each line of the choices
 * box named by its number). The code of an existing question is `fixedCode`, whatever was posted.
 */
function readAttributeForm(fields: AttributeFormFields, fixedCode: string | null): ReadForm {
  const problems: Problem[] = [];
  const values: AttributeValue[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of fields.values.split(/\r?\n/).entries()) {
    if (raw.trim() === "") continue;
    const line = i + 1;
    const parts = raw.split("|").map((p) => p.trim());
    if (parts.length !== 3) {
      problems.push({ key: "values.line", params: { line } });
      continue;
    }
    const value = AttributeValue.safeParse({ key: parts[0], nameAr: parts[1], nameEn: parts[2] });
    if (!value.success) {
      for (const message of new Set(value.error.issues.map((issue) => issue.message))) problems.push({ key: message === "values.key" ? "values.key" : "values.name", params: { line } });
    } else if (seen.has(value.data.key)) {
      problems.push({ key: "values.duplicate", params: { line, key: value.data.key } });
    } else {
      seen.add(value.data.key);
      values.push(value.data);
    }
  }
  const order = sortOrder.safeParse(fields.sortOrder);
  if (!order.success) problems.push({ key: "sortOrder" });
  const definition = AttributeDefinition.safeParse({
    code: fixedCode ?? fields.code.trim(),
    datatype: fields.datatype,
    required: fields.required,
    descriptionAr: fields.descriptionAr,
    descriptionEn: fields.descriptionEn,
    values,
  });
  if (!definition.success) {
    for (const message of new Set(definition.error.issues.map((issue) => issue.message))) {
      // Keys, names and repeats were already reported above, with their line.
      if (["values.key", "values.name", "values.duplicate"].includes(message)) continue;
      if (message === "values.count") problems.push({ key: message, params: { max: MAX_ATTRIBUTE_VALUES } });
      else problems.push({ key: ["code", "datatype", "descriptionAr", "descriptionEn", "values.notList"].includes(message) ? message : "invalid" });
    }
  }
  if (problems.length > 0 || !definition.success || !order.success) return { ok: false, problems };
  return { ok: true, definition: definition.data, sortOrder: order.data, active: fields.active };
}

/** What the form shows: a stored question, or what was just posted. */
interface FormValues {
  code: string;
  datatype: string;
  required: boolean;
  descriptionAr: string;
  descriptionEn: string;
  /** The choices box, one `key | Arabic | English` per line. */
  values: string;
  sortOrder: string | number;
  active: boolean;
}

const valueLines = (json: string) =>
  attributeValuesOf(json)
    .map((v) => `${v.key} | ${v.nameAr} | ${v.nameEn}`)
    .join("\n");

function attributeFields(ctx: StaffContext, values: FormValues, existingCode: string | null): SafeHtml {
  const s = o311(ctx.t);
  return html`${
    existingCode === null
      ? textField(s("attributes.code"), "code", values.code, { required: true, maxlength: 40, dir: "ltr", hint: s("attributes.codeHint") })
      : html`<p class="field"><span>${s("attributes.code")}</span><span class="mono" dir="ltr">${existingCode}</span><small class="hint">${s("attributes.codeFixed")}</small></p>`
  }
  ${selectField(s("attributes.datatype"), "datatype", ATTRIBUTE_DATATYPES.map((d) => ({ value: d, label: s(`datatypes.${d}`) })), values.datatype, { required: true })}
  ${textField(s("attributes.descriptionAr"), "descriptionAr", values.descriptionAr, { required: true, maxlength: 300, dir: "rtl", lang: "ar" })}
  ${textField(s("attributes.descriptionEn"), "descriptionEn", values.descriptionEn, { required: true, maxlength: 300, dir: "ltr", lang: "en" })}
  ${textField(s("attributes.order"), "sortOrder", values.sortOrder, { type: "number", min: 0, max: MAX_ORDER, required: true, hint: s("attributes.orderHint") })}
  <label class="field field-wide"><span>${s("attributes.values")}</span>
    <textarea name="values" rows="6" dir="auto">${values.values}</textarea>
    <small class="hint">${s("attributes.valuesHint")}</small></label>
  <fieldset class="field checks field-wide"><legend>${s("attributes.settings")}</legend>
    ${checkboxField(s("attributes.required"), "required", values.required)}
    ${existingCode !== null && checkboxField(s("attributes.active"), "active", values.active)}
  </fieldset>`;
}

function problemList(ctx: StaffContext, problems: readonly Problem[]): HtmlValue {
  if (problems.length === 0) return null;
  const s = o311(ctx.t);
  // A choice's key or a code keeps its own direction inside the sentence.
  const said = isolating(s);
  return html`<section class="flash flash-error form-problems" role="alert"><p><strong>${s("attributes.errorsTitle")}</strong></p>
<ul>${problems.map((p) => html`<li>${said(`errors.${p.key}`, p.params)}</li>`)}</ul></section>`;
}

type CategoryRow = { id: number; code: string; nameAr: string; nameEn: string; active: boolean; isPrivate: boolean };

async function categoryOf(deps: RouterDeps, rawId: unknown): Promise<CategoryRow> {
  const category = await deps.db.category.findFirst({
    where: { id: parseId(rawId), municipalityId: deps.municipalityId },
    select: { id: true, code: true, nameAr: true, nameEn: true, active: true, isPrivate: true },
  });
  if (!category) throw new HttpError(404, "No such category");
  return category;
}

function crumbs(ctx: StaffContext, category: CategoryRow, withList: boolean): SafeHtml {
  const s = o311(ctx.t);
  return html`<p class="crumbs"><a href="${CATEGORIES}">${ctx.t("admin.categories.title")}</a> › <a href="${CATEGORIES}/${category.id}">${localName(category, ctx.locale)}</a>${withList && html` › <a href="${attributesPath(category.id)}">${s("attributes.title")}</a>`}</p>`;
}

/** The list of a category's questions with the order form, then the form to add one. */
async function renderList(req: Request, res: Response, deps: RouterDeps, category: CategoryRow, draft: { values: FormValues; problems: Problem[] } | null): Promise<void> {
  const ctx = staffContext(req);
  const { t, locale } = ctx;
  const s = o311(t);
  const attributes = await deps.db.categoryAttribute.findMany({ where: { categoryId: category.id }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] });
  const base = attributesPath(category.id);
  const nextOrder = (attributes.at(-1)?.sortOrder ?? 0) + 10;
  const values: FormValues = draft?.values ?? { code: "", datatype: "singlevaluelist", required: false, descriptionAr: "", descriptionEn: "", values: "", sortOrder: Math.min(nextOrder, MAX_ORDER), active: true };
  const body = html`<div class="page-head">${crumbs(ctx, category, false)}
  <h1>${s("attributes.title")} <span class="subtitle">${localName(category, locale)} · <span class="mono" dir="ltr">${category.code}</span></span></h1>
  <p class="muted">${s("attributes.intro")}</p>
  ${(category.isPrivate || !category.active) && html`<p class="flash flash-info">${s("attributes.privateNotice")}</p>`}</div>
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${s("attributes.order")}</th><th>${s("attributes.code")}</th><th>${s("attributes.question")}</th><th>${s("attributes.datatype")}</th><th>${s("attributes.required")}</th><th>${s("attributes.status")}</th><th></th></tr></thead>
  <tbody>${
    attributes.length === 0
      ? html`<tr class="empty"><td colspan="7">${s("attributes.empty")}</td></tr>`
      : attributes.map((a) => {
          const datatype = attributeDatatypeOf(a.datatype);
          const choices = datatype && LIST_DATATYPES.has(datatype) ? attributeValuesOf(a.values).length : null;
          return html`<tr class="${a.active ? "" : "row-muted"}">
    <td><input type="number" name="order_${a.id}" value="${a.sortOrder}" min="0" max="${MAX_ORDER}" step="1" form="attribute-order" aria-label="${s("attributes.order")} ${a.code}"></td>
    <td><span class="mono" dir="ltr">${a.code}</span></td>
    <td><span dir="auto">${locale === "ar" ? a.descriptionAr : a.descriptionEn}</span>${choices !== null && html`<br><small class="muted">${s("attributes.valueCount", { count: choices })}</small>`}</td>
    <td>${datatype ? s(`datatypes.${datatype}`) : a.datatype}</td>
    <td>${a.required ? html`<span class="tick" aria-label="${t("filters.yes")}">✓</span>` : html`<span class="muted" aria-label="${t("filters.no")}">—</span>`}</td>
    <td>${a.active ? s("attributes.active") : html`<span class="badge flag flag-stop">${s("attributes.inactive")}</span>`}</td>
    <td><a class="btn btn-ghost btn-small" href="${base}/${a.id}">${s("attributes.edit")}</a>
      <form method="post" action="${base}/${a.id}/active" class="inline">${csrfField(ctx)}<input type="hidden" name="active" value="${a.active ? "false" : "true"}"><button type="submit" class="btn btn-ghost btn-small${a.active ? " btn-danger-text" : ""}">${a.active ? s("attributes.deactivate") : s("attributes.reactivate")}</button></form></td>
  </tr>`;
        })
  }</tbody>
</table>
${attributes.length > 1 && html`<form method="post" action="${base}/order" id="attribute-order" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-secondary btn-small">${s("attributes.saveOrder")}</button> <small class="hint">${s("attributes.orderHint")}</small></form>`}
</div>
<section class="card form-card" id="add"><h2>${s("attributes.add")}</h2>
${draft && problemList(ctx, draft.problems)}
<form method="post" action="${base}" class="form-grid">
  ${csrfField(ctx)}
  ${attributeFields(ctx, values, null)}
  <div class="actions"><button type="submit" class="btn btn-primary">${s("attributes.addSubmit")}</button> <a class="btn btn-ghost" href="${CATEGORIES}/${category.id}">${s("attributes.back")}</a></div>
</form></section>`;
  res
    .status(draft ? 400 : 200)
    .type("html")
    .send(staffPage(ctx, req.originalUrl, { title: `${s("attributes.title")} · ${localName(category, locale)}`, section: "categories", body, flash: draft ? [] : takeFlash(req, res, deps) }));
}

function renderEdit(req: Request, res: Response, deps: RouterDeps, category: CategoryRow, attribute: { id: number; code: string }, values: FormValues, problems: Problem[]): void {
  const ctx = staffContext(req);
  const s = o311(ctx.t);
  const base = attributesPath(category.id);
  const body = html`<div class="page-head">${crumbs(ctx, category, true)}
  <h1>${s("attributes.editTitle")} <span class="subtitle mono" dir="ltr">${attribute.code}</span></h1></div>
<section class="card form-card">
${problemList(ctx, problems)}
<form method="post" action="${base}/${attribute.id}" class="form-grid">
  ${csrfField(ctx)}
  ${attributeFields(ctx, values, attribute.code)}
  <div class="actions"><button type="submit" class="btn btn-primary">${s("attributes.save")}</button> <a class="btn btn-ghost" href="${base}">${s("attributes.cancel")}</a></div>
</form></section>`;
  res
    .status(problems.length > 0 ? 400 : 200)
    .type("html")
    .send(staffPage(ctx, req.originalUrl, { title: `${s("attributes.editTitle")} · ${isolate(attribute.code)}`, section: "categories", body, flash: problems.length > 0 ? [] : takeFlash(req, res, deps) }));
}

/** Columns of a checked definition (values as stored JSON). */
function attributeColumns(definition: AttributeDefinition) {
  return { ...definition, values: JSON.stringify(definition.values) } satisfies Omit<Prisma.CategoryAttributeUncheckedCreateInput, "categoryId">;
}

/**
 * A question changed: its category's `updatedAt` moves too, in the same transaction, so the
 * category cache's version and the Open311 changeset see it.
 */
async function touchCategory(tx: Tx, categoryId: number): Promise<void> {
  await tx.category.update({ where: { id: categoryId }, data: { updatedAt: new Date() } });
}

/**
 * The questions a category asks Open311 clients (GeoReport v2 attributes), under
 * /staff/admin/categories/:id/attributes: the list with the order form, add, edit (the code is
 * fixed once created), deactivate and reactivate. Questions are never deleted, so a code is never
 * reused (and the seed knows a category without any row has never had one). A form with a problem
 * comes back with what was typed and every problem listed; nothing is saved. Admins only, CSRF
 * checked: the routes sit on the categories router inside the admin router.
 */
export function categoryAttributesAdmin(router: Router, deps: RouterDeps): void {
  const municipalityId = deps.municipalityId;

  router.get("/:id/attributes", async (req, res) => {
    await renderList(req, res, deps, await categoryOf(deps, req.params.id), null);
  });

  router.post("/:id/attributes", async (req, res) => {
    const category = await categoryOf(deps, req.params.id);
    const fields = AttributeFormFields.parse(req.body ?? {});
    const draftValues: FormValues = { ...fields, active: true };
    const form = readAttributeForm(fields, null);
    if (!form.ok) return renderList(req, res, deps, category, { values: draftValues, problems: form.problems });
    if ((await deps.db.categoryAttribute.count({ where: { categoryId: category.id } })) >= MAX_ATTRIBUTES_PER_CATEGORY) {
      return renderList(req, res, deps, category, { values: draftValues, problems: [{ key: "tooMany", params: { max: MAX_ATTRIBUTES_PER_CATEGORY } }] });
    }
    try {
      await deps.db.$transaction(async (tx) => {
        await tx.categoryAttribute.create({ data: { ...attributeColumns(form.definition), municipalityId, categoryId: category.id, sortOrder: form.sortOrder } });
        await touchCategory(tx, category.id);
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return renderList(req, res, deps, category, { values: draftValues, problems: [{ key: "codeTaken", params: { code: form.definition.code } }] });
    }
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, attributesPath(category.id), [{ kind: "success", text: o311(staffContext(req).t)("attributes.created") }]);
  });

  router.post("/:id/attributes/order", async (req, res) => {
    const ctx = staffContext(req);
    const category = await categoryOf(deps, req.params.id);
    const body: Record<string, unknown> = req.body ?? {};
    const attributes = await deps.db.categoryAttribute.findMany({ where: { categoryId: category.id }, select: { id: true, sortOrder: true } });
    const changes: Array<{ id: number; sortOrder: number }> = [];
    for (const a of attributes) {
      const posted = body[`order_${a.id}`];
      if (posted === undefined) continue;
      const order = sortOrder.safeParse(posted);
      if (!order.success) return redirectWithFlash(res, deps, attributesPath(category.id), [{ kind: "error", text: o311(ctx.t)("errors.sortOrder") }]);
      if (order.data !== a.sortOrder) changes.push({ id: a.id, sortOrder: order.data });
    }
    if (changes.length > 0) {
      await deps.db.$transaction(async (tx) => {
        for (const change of changes) await tx.categoryAttribute.update({ where: { id: change.id }, data: { sortOrder: change.sortOrder } });
        await touchCategory(tx, category.id);
      });
      deps.categories?.invalidate(municipalityId);
    }
    redirectWithFlash(res, deps, attributesPath(category.id), [{ kind: "success", text: o311(ctx.t)("attributes.orderSaved") }]);
  });

  async function attributeOf(category: CategoryRow, rawId: unknown) {
    const attribute = await deps.db.categoryAttribute.findFirst({ where: { id: parseId(rawId), categoryId: category.id } });
    if (!attribute) throw new HttpError(404, "No such question");
    return attribute;
  }

  router.get("/:id/attributes/:attributeId", async (req, res) => {
    const category = await categoryOf(deps, req.params.id);
    const attribute = await attributeOf(category, req.params.attributeId);
    renderEdit(req, res, deps, category, attribute, { ...attribute, values: valueLines(attribute.values) }, []);
  });

  router.post("/:id/attributes/:attributeId", async (req, res) => {
    const category = await categoryOf(deps, req.params.id);
    const attribute = await attributeOf(category, req.params.attributeId);
    const fields = AttributeFormFields.parse(req.body ?? {});
    const form = readAttributeForm(fields, attribute.code);
    if (!form.ok) return renderEdit(req, res, deps, category, attribute, { ...fields, code: attribute.code }, form.problems);
    const { code: _fixed, ...columns } = attributeColumns(form.definition);
    await deps.db.$transaction(async (tx) => {
      await tx.categoryAttribute.update({ where: { id: attribute.id }, data: { ...columns, sortOrder: form.sortOrder, active: form.active } });
      await touchCategory(tx, category.id);
    });
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, attributesPath(category.id), [{ kind: "success", text: o311(staffContext(req).t)("attributes.saved") }]);
  });

  router.post("/:id/attributes/:attributeId/active", async (req, res) => {
    const category = await categoryOf(deps, req.params.id);
    const attribute = await attributeOf(category, req.params.attributeId);
    const form = ActiveForm.safeParse(req.body ?? {});
    if (!form.success) throw new HttpError(400, "active must be true or false");
    const active = form.data.active === "true";
    await deps.db.$transaction(async (tx) => {
      await tx.categoryAttribute.update({ where: { id: attribute.id }, data: { active } });
      await touchCategory(tx, category.id);
    });
    deps.categories?.invalidate(municipalityId);
    redirectWithFlash(res, deps, attributesPath(category.id), [{ kind: "success", text: o311(staffContext(req).t)(active ? "attributes.reactivated" : "attributes.deactivated") }]);
  });
}
