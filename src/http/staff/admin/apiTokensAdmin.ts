import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import { createApiToken, listApiTokens, revokeApiToken } from "../../../services/apiTokens.js";
import type { RouterDeps } from "../../createApp.js";
import { selectField, textField } from "../components.js";
import { redirectWithFlash, takeFlash, type FlashMessage } from "../flash.js";
import { formatDateTime, isolate } from "../format.js";
import { html, type HtmlValue } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext } from "../staffContext.js";
import { formErrors, parseId, sendConfirmation } from "./adminForms.js";

const TokenForm = z.object({
  staffId: z.coerce.number({ error: "admin.errors.owner" }).int("admin.errors.owner").positive("admin.errors.owner"),
  name: z.string().trim().min(1, "admin.errors.tokenName").max(80, "admin.errors.tokenName"),
});

const BASE = "/staff/admin/api-tokens";
const RevokeForm = z.object({ confirm: z.literal("yes").optional().catch(undefined) });

/**
 * API tokens for /api/v1: list (prefix, owner, created, last used, revoked), create for a staff
 * member (the token acts with their role and departments, and is shown once), and a two-step
 * revocation (a confirmation page, then its POST).
 */
export function apiTokensAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;

  async function renderList(req: Request, res: Response, created: { token: string; name: string } | null, flash: FlashMessage[]) {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const [tokens, staff] = await Promise.all([
      listApiTokens(deps.db, municipalityId),
      deps.db.staff.findMany({ where: { municipalityId, active: true }, orderBy: { displayName: "asc" }, select: { id: true, displayName: true, username: true } }),
    ]);
    const when = (date: Date | null, none: string): HtmlValue => (date ? formatDateTime(date, locale) : html`<span class="muted">${none}</span>`);
    const body = html`<div class="page-head"><h1>${t("admin.tokens.title")}</h1><p class="muted">${t("admin.tokens.intro")}</p></div>
${created &&
html`<section class="card token-once" role="alert">
  <h2>${t("admin.tokens.createdTitle", { name: created.name })}</h2>
  <p>${t("admin.tokens.showOnce")}</p>
  <p><code class="token" dir="ltr">${created.token}</code></p>
  <p class="hint">${t("admin.tokens.usage")} <code dir="ltr">Authorization: Bearer …</code></p>
</section>`}
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${t("admin.tokens.name")}</th><th>${t("admin.tokens.prefix")}</th><th>${t("admin.tokens.owner")}</th><th>${t("admin.tokens.created")}</th><th>${t("admin.tokens.lastUsed")}</th><th>${t("admin.tokens.state")}</th><th></th></tr></thead>
  <tbody>${
    tokens.length === 0
      ? html`<tr class="empty"><td colspan="7">${t("admin.tokens.empty")}</td></tr>`
      : tokens.map(
          (k) => html`<tr class="${k.revokedAt ? "row-muted" : ""}">
    <td><strong dir="auto">${k.name}</strong></td>
    <td><span class="mono" dir="ltr">${k.prefix}…</span></td>
    <td>${k.staff.displayName} <small class="muted mono" dir="ltr">${k.staff.username}</small></td>
    <td>${formatDateTime(k.createdAt, locale)}</td>
    <td>${when(k.lastUsedAt, t("admin.tokens.neverUsed"))}</td>
    <td>${k.revokedAt ? html`<span class="badge flag flag-stop">${t("admin.tokens.revokedAt", { when: formatDateTime(k.revokedAt, locale) })}</span>` : html`<span class="badge status status-resolved">${t("admin.tokens.active")}</span>`}</td>
    <td>${k.revokedAt ? null : html`<a class="btn btn-ghost btn-small btn-danger-text" href="${BASE}/${k.id}/revoke">${t("admin.tokens.revoke")}</a>`}</td>
  </tr>`,
        )
  }</tbody>
</table></div>
<section class="card form-card"><h2>${t("admin.tokens.create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${textField(t("admin.tokens.name"), "name", "", { required: true, maxlength: 80, dir: "auto", hint: t("admin.tokens.nameHint") })}
  ${selectField(t("admin.tokens.owner"), "staffId", staff.map((s) => ({ value: String(s.id), label: `${s.displayName} (${s.username})` })), String(ctx.actor.id))}
  <p class="hint field-wide">${t("admin.tokens.ownerHint")}</p>
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.tokens.createSubmit")}</button></div>
</form></section>`;
    // The new token is in this page only: never cached, never shown again.
    res
      .status(created ? 201 : 200)
      .set("Cache-Control", "no-store")
      .type("html")
      .send(staffPage(ctx, BASE, { title: t("admin.tokens.title"), section: "apiTokens", body, flash }));
  }

  router.get("/", (req, res) => renderList(req, res, null, takeFlash(req, res, deps)));

  router.post("/", async (req, res) => {
    const { t } = staffContext(req);
    const form = TokenForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, BASE, formErrors(t, form.error));
    const owner = await deps.db.staff.findFirst({ where: { id: form.data.staffId, municipalityId, active: true } });
    if (!owner) return redirectWithFlash(res, deps, BASE, [{ kind: "error", text: t("admin.errors.owner") }]);
    const { token } = await deps.db.$transaction((tx) => createApiToken(tx, { municipalityId, staffId: owner.id, name: form.data.name }));
    await renderList(req, res, { token, name: form.data.name }, []);
  });

  /** The token with this id in this municipality, or a 404 page. */
  async function findToken(rawId: unknown) {
    const token = await deps.db.apiToken.findFirst({
      where: { id: parseId(rawId), municipalityId },
      select: { id: true, name: true, prefix: true, revokedAt: true, lastUsedAt: true, staff: { select: { displayName: true } } },
    });
    if (!token) throw new HttpError(404, "No such token");
    return token;
  }

  const alreadyRevoked = (ctx: StaffContext, token: { name: string; revokedAt: Date }): FlashMessage => ({
    kind: "info",
    text: ctx.t("admin.tokens.alreadyRevoked", { name: isolate(token.name), when: formatDateTime(token.revokedAt, ctx.locale) }),
  });

  // Revoking takes two steps: this page asks, its button posts `confirm=yes`.
  router.get("/:id/revoke", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const token = await findToken(req.params.id);
    if (token.revokedAt) return redirectWithFlash(res, deps, BASE, [alreadyRevoked(ctx, { ...token, revokedAt: token.revokedAt })]);
    sendConfirmation(res, ctx, {
      path: `${BASE}/${token.id}/revoke`,
      title: t("admin.tokens.confirmTitle"),
      section: "apiTokens",
      question: t("admin.tokens.confirmQuestion", { name: isolate(token.name) }),
      explain: t("admin.tokens.confirmExplain"),
      details: html`${t("admin.tokens.prefix")}: <span class="mono" dir="ltr">${token.prefix}…</span> · ${t("admin.tokens.owner")}: <bdi>${token.staff.displayName}</bdi> · ${t("admin.tokens.lastUsed")}: ${
        token.lastUsedAt ? formatDateTime(token.lastUsedAt, locale) : t("admin.tokens.neverUsed")
      }`,
      action: `${BASE}/${token.id}/revoke`,
      submit: t("admin.tokens.confirmSubmit"),
      cancel: t("admin.cancel"),
      cancelHref: BASE,
    });
  });

  router.post("/:id/revoke", async (req, res) => {
    const ctx = staffContext(req);
    const token = await findToken(req.params.id);
    // Without the confirmation page's field (an old form, a script posting directly), ask first.
    if (RevokeForm.parse(req.body ?? {}).confirm !== "yes") return res.redirect(303, `${BASE}/${token.id}/revoke`);
    const now = deps.clock();
    const revoked = await deps.db.$transaction((tx) => revokeApiToken(tx, municipalityId, token.id, now));
    // Not revoked now: it was already (or another admin did it a moment ago).
    if (!revoked) return redirectWithFlash(res, deps, BASE, [alreadyRevoked(ctx, { name: token.name, revokedAt: token.revokedAt ?? now })]);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: ctx.t("admin.tokens.revoked") }]);
  });

  return router;
}
