import { Router } from "express";
import type { RouterDeps } from "../createApp.js";

// PLACEHOLDER — replaced by the staff pages (issue 3). Serves nothing yet.
export function staffRouter(_deps: RouterDeps): Router {
  return Router();
}
