import { existsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's chromium (apt), never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";

// .ci/run installs it; on a developer machine without it the browser tests are skipped (with
// CI=true they fail instead, so CI can never pass without running them).
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);

/** The app on a loopback port and one Chromium page pointed at it. */
export interface BrowserSession {
  base: string;
  page: Page;
  /** Whether any page opened an alert/confirm dialog (an XSS would). */
  alerted(): boolean;
  close(): Promise<void>;
}

export async function openBrowser(app: Express): Promise<BrowserSession> {
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://localhost:${(server.address() as AddressInfo).port}`;
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  let alerted = false;
  page.on("dialog", (dialog) => {
    alerted = true;
    void dialog.dismiss();
  });
  return {
    base,
    page,
    alerted: () => alerted,
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Signs in through the login form, starting from `url` (which redirects to it), and waits to be back at `url`. */
export async function signIn(session: BrowserSession, url: string, username: string, password = "correct horse battery") {
  const { page } = session;
  await page.goto(url);
  await page.waitForURL(/\/staff\/login/);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(url), page.click('form button[type="submit"]')]);
}
