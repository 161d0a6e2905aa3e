import { Router } from "express";
import type { RouterDeps } from "../createApp.js";

// PLACEHOLDER — replaced by the JSON API (issue 3). Serves nothing yet.
export function apiRouter(_deps: RouterDeps): Router {
  return Router();
}
