import { mkdirSync } from "node:fs";
import path from "node:path";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Screenshots land here (gitignored): look at them after a run to check the layout by eye. */
export const ARTIFACTS = path.resolve(__dirname, "../../../test-artifacts/browser");

/** The Chromium that `npm ci` installs (inside @sparticuz/chromium), headless, no sandbox, no background traffic. */
export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: [...chromium.args, "--no-sandbox", "--disable-background-networking"],
    headless: true,
  });
}

export const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 420, height: 900 },
] as const;

/** Full-page screenshot into ARTIFACTS; returns the file. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}

/** How far the page scrolls sideways: 0 means nothing is wider than the viewport. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") as Promise<number>;
}
