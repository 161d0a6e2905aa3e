import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import { createOpen311Client, listOpen311Clients, MAX_CLIENT_NAME, revokeOpen311Client, type ClientNameProblem } from "../../../services/open311/clients.js";
import type { RouterDeps } from "../../createApp.js";
import { textField } from "../components.js";
import { redirectWithFlash, takeFlash, type FlashMessage } from "../flash.js";
import { formatDateTime } from "../format.js";
import { html, type HtmlValue } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { parseId, sendConfirmation } from "./adminForms.js";

const BASE = "/staff/admin/open311-clients";

/** Texts of this page (locales/{ar,en}/open311Clients.json). */
const c =
  (t: Translate): Translate =>
  (key, params) =>
    t(`open311Clients:${key}`, params);

/** Why a name was refused, as the admin reads it. */
const NAME_PROBLEM: Record<ClientNameProblem, string> = { blank: "errors.blank", too_long: "errors.tooLong", control: "errors.control" };

/**
 * A client's name inside a sentence, isolated (FSI … PDI) so that a Latin name in an Arabic
 * sentence, or the reverse, keeps its place. Names never contain these marks (readClientName refuses them).
 */
const isolated = (name: string) => `\u2068${name}\u2069`;

// A form field that is not one string (an array, nothing) reads as empty: it becomes "blank".
const CreateForm = z.object({ name: z.string().catch("") });
const RevokeForm = z.object({ confirm: z.literal("yes").optional().catch(undefined) });

/**
 * /staff/admin/open311-clients: the keys other civic tools file Open311 requests with. The list
 * (name, key prefix, who created it and when, last use, requests filed, state), a form that creates a
 * key and shows it once, and a two-step revocation (a confirmation page, then its POST).
 */
export function open311ClientsAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;
  const requestsUrl = `${deps.publicBaseUrl}/open311/v2/requests.json`;

  async function renderList(req: Request, res: Response, options: { created?: { key: string; name: string }; flash: FlashMessage[]; name?: string; status?: number }) {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const s = c(t);
    const clients = await listOpen311Clients(deps.db, municipalityId);
    const when = (date: Date | null, none: string): HtmlValue => (date ? formatDateTime(date, locale) : html`<span class="muted">${none}</span>`);
    const { created } = options;
    const body = html`<div class="page-head"><h1>${s("title")}</h1><p class="muted">${s("intro")}</p></div>
${created &&
html`<section class="card token-once" role="alert">
  <h2>${s("createdTitle", { name: isolated(created.name) })}</h2>
  <p>${s("showOnce")}</p>
  <p><code class="token" dir="ltr">${created.key}</code></p>
  <p class="hint">${s("usage")} <code dir="ltr">POST ${requestsUrl}</code> <code dir="ltr">api_key=…</code></p>
  <p class="hint">${s("usageFields")}</p>
</section>`}
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${s("name")}</th><th>${s("prefix")}</th><th>${s("created")}</th><th>${s("lastUsed")}</th><th>${s("requests")}</th><th>${s("state")}</th><th></th></tr></thead>
  <tbody>${
    clients.length === 0
      ? html`<tr class="empty"><td colspan="7">${s("empty")}</td></tr>`
      : clients.map(
          (client) => html`<tr class="${client.revokedAt ? "row-muted" : ""}">
    <td><strong dir="auto">${client.name}</strong></td>
    <td><span class="mono" dir="ltr">${client.prefix}…</span></td>
    <td>${formatDateTime(client.createdAt, locale)}<br><small class="muted">${client.createdBy ? s("createdBy", { name: isolated(client.createdBy.displayName) }) : s("commandLine")}</small></td>
    <td>${when(client.lastUsedAt, s("neverUsed"))}</td>
    <td>${s("requestCount", { count: client._count.submissions })}</td>
    <td>${client.revokedAt ? html`<span class="badge flag flag-stop">${s("revokedAt", { when: formatDateTime(client.revokedAt, locale) })}</span>` : html`<span class="badge status status-resolved">${s("active")}</span>`}</td>
    <td>${client.revokedAt ? null : html`<a class="btn btn-ghost btn-small btn-danger-text" href="${BASE}/${client.id}/revoke">${s("revoke")}</a>`}</td>
  </tr>`,
        )
  }</tbody>
</table></div>
<section class="card form-card"><h2>${s("create")}</h2>
<form method="post" action="${BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${textField(s("name"), "name", options.name ?? "", { required: true, maxlength: MAX_CLIENT_NAME, dir: "auto", hint: s("nameHint") })}
  <div class="actions"><button type="submit" class="btn btn-primary">${s("createSubmit")}</button></div>
</form></section>`;
    // A new key is in this page only: never cached, never shown again.
    res
      .status(options.status ?? (created ? 201 : 200))
      .set("Cache-Control", "no-store")
      .type("html")
      .send(staffPage(ctx, BASE, { title: s("title"), section: "open311Clients", body, flash: options.flash }));
  }

  /** The client with this id in this municipality, or a 404 page. */
  async function findClient(rawId: unknown) {
    const client = await deps.db.open311Client.findFirst({
      where: { id: parseId(rawId), municipalityId },
      select: { id: true, name: true, prefix: true, revokedAt: true, _count: { select: { submissions: true } } },
    });
    if (!client) throw new HttpError(404, "No such Open311 client");
    return client;
  }

  const alreadyRevoked = (ctx: StaffContext, client: { name: string; revokedAt: Date }): FlashMessage => ({
    kind: "info",
    text: c(ctx.t)("alreadyRevoked", { name: isolated(client.name), when: formatDateTime(client.revokedAt, ctx.locale) }),
  });

  router.get("/", (req, res) => renderList(req, res, { flash: takeFlash(req, res, deps) }));

  router.post("/", async (req, res) => {
    const ctx = staffContext(req);
    const { name } = CreateForm.parse(req.body ?? {});
    const result = await deps.db.$transaction((tx) => createOpen311Client(tx, { municipalityId, name, createdById: ctx.actor.id, now: deps.clock() }));
    if (!result.ok) {
      // The form comes back as it was sent, with what to fix.
      const flash: FlashMessage[] = [{ kind: "error", text: c(ctx.t)(NAME_PROBLEM[result.problem], { max: MAX_CLIENT_NAME }) }];
      return renderList(req, res, { flash, name, status: 400 });
    }
    await renderList(req, res, { created: { key: result.key, name: result.record.name }, flash: [] });
  });

  // Revoking takes two steps: this page asks, its button posts `confirm=yes`.
  router.get("/:id/revoke", async (req, res) => {
    const ctx = staffContext(req);
    const s = c(ctx.t);
    const client = await findClient(req.params.id);
    if (client.revokedAt) return redirectWithFlash(res, deps, BASE, [alreadyRevoked(ctx, { ...client, revokedAt: client.revokedAt })]);
    sendConfirmation(res, ctx, {
      path: `${BASE}/${client.id}/revoke`,
      title: s("confirm.title"),
      section: "open311Clients",
      question: s("confirm.question", { name: isolated(client.name) }),
      explain: html`<strong>${s("confirm.stay")}</strong> ${s("confirm.explain")}`,
      details: html`${s("prefix")}: <span class="mono" dir="ltr">${client.prefix}…</span> · ${s("requests")}: ${s("requestCount", { count: client._count.submissions })}`,
      action: `${BASE}/${client.id}/revoke`,
      submit: s("confirm.submit"),
      cancel: s("confirm.cancel"),
      cancelHref: BASE,
    });
  });

  router.post("/:id/revoke", async (req, res) => {
    const ctx = staffContext(req);
    const client = await findClient(req.params.id);
    // Without the confirmation page's field (an old link, a script posting directly), ask first.
    if (RevokeForm.parse(req.body ?? {}).confirm !== "yes") return res.redirect(303, `${BASE}/${client.id}/revoke`);
    const now = deps.clock();
    const revoked = await deps.db.$transaction((tx) => revokeOpen311Client(tx, municipalityId, client.id, now));
    // Not revoked now: it was already (or another admin did it a moment ago).
    if (!revoked) return redirectWithFlash(res, deps, BASE, [alreadyRevoked(ctx, { name: client.name, revokedAt: client.revokedAt ?? now })]);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: c(ctx.t)("revoked", { name: isolated(client.name) }) }]);
  });

  return router;
}
