import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import type { RouterDeps } from "../../createApp.js";
import { selectField, textField, type Option } from "../components.js";
import { redirectWithFlash, takeFlash } from "../flash.js";
import { excerpt, localName } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { formErrors, parseId } from "./adminForms.js";

const CannedForm = z.object({
  title: z.string().trim().min(1, "admin.errors.title").max(80, "admin.errors.title"),
  body: z.string().trim().min(1, "admin.errors.body").max(1600, "admin.errors.body"),
  locale: z.enum(["ar", "en"], { error: "admin.errors.locale" }),
  /** A category id, or "" for a reply offered on every ticket. */
  category: z.union([z.literal(""), z.coerce.number().int().positive().max(2_147_483_647)], { error: "admin.errors.category" }).catch(""),
  sortOrder: z.coerce.number({ error: "admin.errors.sortOrder" }).int("admin.errors.sortOrder").min(0, "admin.errors.sortOrder").max(100_000, "admin.errors.sortOrder"),
});

const BASE = "/staff/admin/canned-replies";

/**
 * What `{reference}` and `{category}` in a reply become (src/services/cannedReplies.ts), each
 * placeholder shown as code, left to right inside the Arabic sentence too.
 */
function placeholdersHint(t: Translate): SafeHtml {
  const text = t("admin.canned.placeholders", { reference: "\u0001reference\u0002", category: "\u0001category\u0002" });
  return html`${text.split(/\u0001(reference|category)\u0002/).map((part, i) => (i % 2 === 1 ? html`<code dir="ltr">{${part}}</code>` : part))}`;
}

interface CannedValues {
  title: string;
  body: string;
  locale: string;
  categoryId: number | null;
  sortOrder: number;
}

/** Ready-made replies staff insert on a ticket: per category or for all, in Arabic or English. */
export function cannedRepliesAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;
  const categoriesOf = () => deps.db.category.findMany({ where: { municipalityId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] });

  function cannedFields(ctx: StaffContext, categories: Awaited<ReturnType<typeof categoriesOf>>, values: CannedValues): SafeHtml {
    const { t, locale } = ctx;
    const categoryOptions: Option[] = [{ value: "", label: t("admin.canned.general") }, ...categories.map((c) => ({ value: String(c.id), label: localName(c, locale) }))];
    return html`${textField(t("admin.canned.titleField"), "title", values.title, { required: true, maxlength: 80, dir: "auto" })}
  ${selectField(t("admin.canned.language"), "locale", [{ value: "ar", label: t("language.ar") }, { value: "en", label: t("language.en") }], values.locale)}
  ${selectField(t("admin.canned.category"), "category", categoryOptions, values.categoryId === null ? "" : String(values.categoryId))}
  ${textField(t("admin.categories.sortOrder"), "sortOrder", values.sortOrder, { type: "number", min: 0, max: 100_000, required: true })}
  <label class="field field-wide"><span>${t("admin.canned.body")}</span><textarea name="body" rows="5" maxlength="1600" dir="auto" required>${values.body}</textarea>
    <small class="hint">${placeholdersHint(t)}</small></label>`;
  }

  async function categoryIdOf(form: z.infer<typeof CannedForm>): Promise<number | null | undefined> {
    if (form.category === "") return null;
    const found = await deps.db.category.findFirst({ where: { id: form.category, municipalityId }, select: { id: true } });
    return found?.id;
  }

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const [replies, categories] = await Promise.all([
      deps.db.cannedReply.findMany({ where: { municipalityId }, orderBy: [{ categoryId: "asc" }, { locale: "asc" }, { sortOrder: "asc" }, { id: "asc" }], include: { category: true } }),
      categoriesOf(),
    ]);
    const body = html`<div class="page-head"><h1>${t("admin.canned.title")}</h1><p class="muted">${t("admin.canned.intro")}</p><p class="muted canned-placeholders">${placeholdersHint(t)}</p></div>
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${t("admin.canned.titleField")}</th><th>${t("admin.canned.category")}</th><th>${t("admin.canned.language")}</th><th>${t("admin.canned.body")}</th><th>${t("admin.categories.sortOrder")}</th><th></th></tr></thead>
  <tbody>${
    replies.length === 0
      ? html`<tr class="empty"><td colspan="6">${t("admin.canned.empty")}</td></tr>`
      : replies.map(
          (r) => html`<tr>
    <td><strong dir="auto">${r.title}</strong></td>
    <td>${r.category ? localName(r.category, locale) : html`<span class="muted">${t("admin.canned.general")}</span>`}</td>
    <td>${t(`language.${r.locale === "en" ? "en" : "ar"}`)}</td>
    <td dir="auto" lang="${r.locale}">${excerpt(r.body, 80)}</td>
    <td>${r.sortOrder}</td>
    <td class="nowrap"><a class="btn btn-ghost btn-small" href="${BASE}/${r.id}">${t("admin.edit")}</a>
      <form method="post" action="${BASE}/${r.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-ghost btn-small btn-danger-text">${t("admin.delete")}</button></form></td>
  </tr>`,
        )
  }</tbody>
</table></div>
<section class="card form-card"><h2>${t("admin.canned.create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${cannedFields(ctx, categories, { title: "", body: "", locale, categoryId: null, sortOrder: 10 })}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.canned.createSubmit")}</button></div>
</form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: t("admin.canned.title"), section: "cannedReplies", body, flash: takeFlash(req, res, deps) }));
  });

  router.post("/", async (req, res) => {
    const { t } = staffContext(req);
    const form = CannedForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, BASE, formErrors(t, form.error));
    const categoryId = await categoryIdOf(form.data);
    if (categoryId === undefined) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: t("admin.errors.category") }]);
    const { title, body, locale, sortOrder } = form.data;
    await deps.db.$transaction((tx) => tx.cannedReply.create({ data: { municipalityId, categoryId, title, body, locale, sortOrder } }));
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.canned.created") }]);
  });

  router.get("/:id", async (req, res) => {
    const ctx = staffContext(req);
    const { t } = ctx;
    const [reply, categories] = await Promise.all([deps.db.cannedReply.findFirst({ where: { id: parseId(req.params.id), municipalityId } }), categoriesOf()]);
    if (!reply) throw new HttpError(404, "No such canned reply");
    const body = html`<div class="page-head"><p class="crumbs"><a href="${BASE}">${t("admin.canned.title")}</a></p><h1 dir="auto">${reply.title}</h1></div>
<section class="card form-card"><form method="post" action="${BASE}/${reply.id}" class="form-grid">
  ${csrfField(ctx)}
  ${cannedFields(ctx, categories, reply)}
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.save")}</button> <a class="btn btn-ghost" href="${BASE}">${t("admin.cancel")}</a></div>
</form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: reply.title, section: "cannedReplies", body, flash: takeFlash(req, res, deps) }));
  });

  router.post("/:id", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const form = CannedForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, `${BASE}/${id}`, formErrors(t, form.error));
    const categoryId = await categoryIdOf(form.data);
    if (categoryId === undefined) return redirectWithFlash(res, deps, `${BASE}/${id}`, [{ kind: "error", text: t("admin.errors.category") }]);
    const { title, body, locale, sortOrder } = form.data;
    const updated = await deps.db.$transaction((tx) => tx.cannedReply.updateMany({ where: { id, municipalityId }, data: { categoryId, title, body, locale, sortOrder } }));
    if (updated.count === 0) throw new HttpError(404, "No such canned reply");
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.saved") }]);
  });

  router.post("/:id/delete", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const deleted = await deps.db.$transaction((tx) => tx.cannedReply.deleteMany({ where: { id, municipalityId } }));
    if (deleted.count === 0) throw new HttpError(404, "No such canned reply");
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: t("admin.canned.deleted") }]);
  });

  return router;
}
