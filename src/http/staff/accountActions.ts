import { Router, type Response } from "express";
import { z } from "zod";
import { HttpError } from "../../lib/httpError.js";
import { linkAccountByStaff, unlinkAccount, type StaffLinkResult } from "../../services/accountStaff.js";
import type { ActionError } from "../../services/staffActions.js";
import type { RouterDeps } from "../createApp.js";
import { accountHref, parseAccountNumber, phoneFor } from "./accountPages.js";
import { checkbox, parseId } from "./admin/adminForms.js";
import { redirectWithFlash } from "./flash.js";
import { isolating } from "./format.js";
import { staffContext } from "./staffContext.js";

const LinkForm = z.object({
  phone: z.string().max(100).catch(""),
  locale: z.enum(["ar", "en"]).optional().catch(undefined),
  idChecked: checkbox,
});

/** A refused action: 403 and 404 as pages, anything else back to the account with the reason. */
function refusal(res: Response, deps: RouterDeps, back: string, error: ActionError, text: string) {
  if (error.error === "forbidden") throw new HttpError(403, error.message);
  if (error.error === "not_found") throw new HttpError(404, error.message);
  redirectWithFlash(res, deps, back, [{ kind: "error", text }]);
}

/**
 * The account page's forms, for admins: link a phone after checking the holder's ID at the
 * counter, and unlink one. Each a POST (CSRF-checked by the router) that redirects back with what
 * happened.
 */
export function accountActions(deps: RouterDeps): Router {
  const router = Router();

  router.post("/:number/links", async (req, res) => {
    const ctx = staffContext(req);
    const { t } = ctx;
    const number = parseAccountNumber(req.params.number);
    const back = accountHref(number);
    if (ctx.actor.role !== "admin") throw new HttpError(403, "Only administrators link phones to accounts");
    const form = LinkForm.parse(req.body ?? {});
    if (!form.idChecked) return redirectWithFlash(res, deps, back, [{ kind: "error", text: t("accounts.errors.idCheck") }]);
    const result: StaffLinkResult = await deps.db.$transaction((tx) => linkAccountByStaff(tx, ctx.actor, { accountNumber: number, phone: form.phone, locale: form.locale }, deps.clock()));
    if (!result.ok) return refusal(res, deps, back, result, t("accounts.errors.phone"));
    const phone = phoneFor(ctx.actor, result.phone);
    // "+961 71 234 567" stays in order inside the Arabic sentence, and so does "QE-104".
    return redirectWithFlash(res, deps, back, [{ kind: result.alreadyLinked ? "info" : "success", text: isolating(t)(result.alreadyLinked ? "accounts.alreadyLinked" : "accounts.linked", { phone, number }) }]);
  });

  router.post("/:number/links/:linkId/unlink", async (req, res) => {
    const ctx = staffContext(req);
    const number = parseAccountNumber(req.params.number);
    const linkId = parseId(req.params.linkId);
    const back = accountHref(number);
    const result = await deps.db.$transaction(async (tx) => {
      // The link must belong to the account in the URL: a form for one account never unlinks another's phone.
      const link = await tx.accountLink.findUnique({ where: { id: linkId }, include: { account: { select: { number: true } } } });
      if (link && link.account.number !== number) return { ok: false, error: "not_found", message: `No link ${linkId} on ${number}` } satisfies ActionError;
      return unlinkAccount(tx, ctx.actor, linkId, deps.clock());
    });
    // Unlinking is only ever refused as forbidden or not found (pages); any other refusal reads as a bad request.
    if (!result.ok) return refusal(res, deps, back, result, ctx.t("errors.400.text"));
    return redirectWithFlash(res, deps, back, [{ kind: "success", text: isolating(ctx.t)("accounts.unlinked", { number }) }]);
  });

  return router;
}
