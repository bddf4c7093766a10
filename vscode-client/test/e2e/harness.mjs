// Real VS Code (code-server) in headless Chromium, driven by playwright-core: the pieces the
// end-to-end tests share. Needs CODE_SERVER and CODE_SERVER_NODE_BIN (scripts/install-code-server.sh
// prints them) and Debian's /usr/bin/chromium.
import { spawn, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const CLIENT_DIR = resolve(here, "../..");
export const REPO_DIR = resolve(CLIENT_DIR, "..");
export const ARTIFACTS = join(here, "artifacts");
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/vscode-e2e.sh (it installs code-server and sets it)`);
  return value;
}

function codeServerEnv(extra = {}) {
  const nodeBin = requireEnv("CODE_SERVER_NODE_BIN");
  return { ...process.env, PATH: `${nodeBin}:${process.env.PATH}`, ...extra };
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** Installs the .vsix into a fresh extensions dir; returns that dir. */
export function installExtension(vsix) {
  const extensionsDir = mkdtempSync(join(tmpdir(), "codeloop-e2e-ext-"));
  const userDataDir = mkdtempSync(join(tmpdir(), "codeloop-e2e-install-"));
  execFileSync(requireEnv("CODE_SERVER"), ["--user-data-dir", userDataDir, "--extensions-dir", extensionsDir, "--install-extension", vsix], {
    env: codeServerEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  rmSync(userDataDir, { recursive: true, force: true });
  return extensionsDir;
}

/** A copy of a workspace folder in a temp dir (tests write into it). */
export function copyWorkspace(source) {
  const dir = mkdtempSync(join(tmpdir(), "codeloop-e2e-ws-"));
  cpSync(source, dir, { recursive: true });
  return dir;
}

const BASE_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "editor.inlineSuggest.enabled": false,
  "editor.lightbulb.enabled": "on",
  "window.commandCenter": false,
  "chat.commandCenter.enabled": false,
  "chat.disableAIFeatures": true,
  "files.autoSave": "off",
  "git.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.panel.defaultLocation": "bottom",
};

/** Starts code-server on 127.0.0.1 with auth none; resolves once it answers. */
export async function startCodeServer({ extensionsDir, settings = {}, env = {}, log }) {
  const userDataDir = mkdtempSync(join(tmpdir(), "codeloop-e2e-user-"));
  mkdirSync(join(userDataDir, "User"), { recursive: true });
  const settingsPath = join(userDataDir, "User", "settings.json");
  writeFileSync(settingsPath, JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2));
  const port = await freePort();
  const args = [
    "--auth", "none",
    "--bind-addr", `127.0.0.1:${port}`,
    "--user-data-dir", userDataDir,
    "--extensions-dir", extensionsDir,
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    "--disable-file-downloads",
  ];
  const proc = spawn(requireEnv("CODE_SERVER"), args, { env: codeServerEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: true });
  const output = [];
  const collect = (chunk) => {
    output.push(chunk.toString());
    log?.(chunk.toString());
  };
  proc.stdout.on("data", collect);
  proc.stderr.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (true) {
    if (proc.exitCode !== null) throw new Error(`code-server exited (${proc.exitCode}):\n${output.join("")}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url}:\n${output.join("")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    userDataDir,
    settingsPath,
    output,
    /** Rewrites the user settings (VS Code picks the change up from disk). */
    writeSettings(next) {
      writeFileSync(settingsPath, JSON.stringify({ ...BASE_SETTINGS, ...next }, null, 2));
    },
    async stop() {
      // VS Code's logs (the extension host's, the codeloop output channel's) next to the screenshots.
      try {
        cpSync(join(userDataDir, "logs"), join(ARTIFACTS, "vscode-logs"), { recursive: true });
      } catch {
        // no logs yet
      }
      if (proc.exitCode === null) {
        try {
          process.kill(-proc.pid, "SIGTERM");
        } catch {
          // gone
        }
        await new Promise((r) => {
          const t = setTimeout(() => {
            try {
              process.kill(-proc.pid, "SIGKILL");
            } catch {
              // gone
            }
            r();
          }, 5_000);
          proc.once("exit", () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}

/** Opens the workbench on `folder` and waits until it is interactive. */
export async function openWorkbench(browser, url, folder) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { timeout: 120_000 });
  await page.locator(".monaco-workbench").waitFor({ timeout: 120_000 });
  await page.locator(".part.statusbar").waitFor({ timeout: 120_000 });
  // Give the workbench a moment to restore and settle its first layout.
  await page.waitForTimeout(1500);
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Runs a command through the command palette (F1), by its exact title. */
export async function runCommand(page, title) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  // The palette filters asynchronously and fuzzily ("View: Close Editor" also lists "View: Close All
  // Editor Groups", sometimes first): pick the row whose label is exactly the title.
  const index = async () =>
    page.evaluate((wanted) => {
      const rows = [...document.querySelectorAll(".quick-input-widget .monaco-list-row")];
      return rows.findIndex((row) => [...row.querySelectorAll("*")].some((el) => el.innerText?.trim() === wanted));
    }, title);
  try {
    await input.waitFor({ timeout: 30_000 });
    await input.fill(`>${title}`, { timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    let i = await index();
    while (i < 0 && Date.now() < deadline) {
      await page.waitForTimeout(200);
      i = await index();
    }
    if (i < 0) throw new Error(`the command palette lists no command titled ${JSON.stringify(title)}`);
    await page.locator(".quick-input-widget .monaco-list-row").nth(i).click();
  } catch (err) {
    await screenshot(page, `palette-failed-${title.replace(/\W+/g, "-")}`);
    throw err;
  }
}

/**
 * Opens a workspace file with Quick Open. Quick Open searches a cached file index, so a file
 * written a moment ago may not be listed yet: reopen the picker until a row names the file.
 */
export async function openFile(page, name, timeout = 90_000) {
  const input = page.locator(".quick-input-widget input");
  const row = page.locator(`.quick-input-widget .monaco-list-row:has-text("${name}")`).first();
  const deadline = Date.now() + timeout;
  // Each attempt waits longer: on a loaded machine one search can take more than a few seconds.
  for (let patience = 3_000; ; patience = Math.min(patience * 2, 24_000)) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+P");
    await input.waitFor();
    await input.fill(name);
    try {
      await row.waitFor({ timeout: Math.max(1_000, Math.min(patience, deadline - Date.now())) });
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await screenshot(page, `quick-open-failed-${name.replace(/\W+/g, "-")}`);
        throw new Error(`Quick Open never listed ${name}`);
      }
    }
  }
  await page.waitForTimeout(300);
  await page.keyboard.press("Enter"); // the best match, which is the file itself once it is indexed
  await page.locator(`.tab.active[aria-label*="${name}"], .tab.active:has-text("${name}")`).first().waitFor({ timeout: 20_000 });
}

/** The codeloop status bar item's text. */
export async function statusText(page) {
  const item = page.locator('.statusbar-item:has-text("codeloop")').first();
  if ((await item.count()) === 0) return "";
  return (await item.innerText()).trim();
}

export async function waitForStatus(page, pattern, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let last = "";
  while (Date.now() < deadline) {
    last = await statusText(page);
    if (pattern.test(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`status bar item never matched ${pattern}; last text: ${JSON.stringify(last)}`);
}

/**
 * Records every text the codeloop status item takes from now on (a MutationObserver in the page,
 * so short-lived states are not missed between polls); returns a function that reads them.
 */
export async function recordStatusTexts(page) {
  await page.evaluate(() => {
    const bar = document.querySelector(".part.statusbar");
    const seen = [];
    window.__codeloopStatusTexts = seen;
    const record = () => {
      for (const item of bar.querySelectorAll(".statusbar-item")) {
        const text = item.innerText.trim();
        if (text.includes("codeloop") && seen.at(-1) !== text) seen.push(text);
      }
    };
    record();
    new MutationObserver(record).observe(bar, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => page.evaluate(() => [...window.__codeloopStatusTexts]);
}

/** Texts of the notification toasts currently shown. */
export async function notifications(page) {
  return page.locator(".notifications-toasts .notification-toast").allInnerTexts();
}

/**
 * Drags the sash on the primary side bar's right edge until the side bar is about `width` pixels
 * wide (for readable screenshots of the chat panel); returns the width it ends with.
 */
export async function widenSideBar(page, width = 700) {
  const sidebar = page.locator(".part.sidebar");
  for (let attempt = 0; attempt < 3; attempt++) {
    const box = await sidebar.boundingBox();
    if (!box || Math.abs(box.width - width) < 8) break;
    const edge = box.x + box.width;
    let sash;
    for (const candidate of await page.locator(".monaco-sash.vertical").all()) {
      const b = await candidate.boundingBox();
      if (b && b.height > box.height / 2 && Math.abs(b.x + b.width / 2 - edge) <= 4) {
        sash = b;
        break;
      }
    }
    if (!sash) break;
    const x = sash.x + sash.width / 2;
    const y = sash.y + sash.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + (width - box.width) / 2, y, { steps: 5 });
    await page.mouse.move(x + (width - box.width), y, { steps: 5 });
    await page.mouse.up();
    await page.mouse.move(box.x + 700, 8); // off the sash, so it is not drawn highlighted
    await page.waitForTimeout(300);
  }
  return (await sidebar.boundingBox())?.width ?? 0;
}

/** The editor area's first (active) text editor: its visible lines. */
export function editorLines(page) {
  return page.locator(".part.editor .editor-group-container.active .monaco-editor .view-lines").first();
}

/** The visible text of the active editor (non-breaking spaces as spaces). */
export async function editorText(page) {
  return (await editorLines(page).innerText()).replace(/\u00a0/g, " ");
}

/** Waits until the active editor shows text matching `pattern`; returns that text. */
export async function waitForEditorText(page, pattern, timeout = 30_000, what = String(pattern)) {
  const deadline = Date.now() + timeout;
  let text = "";
  while (Date.now() < deadline) {
    text = await editorText(page);
    if (pattern.test(text)) return text;
    await page.waitForTimeout(200);
  }
  throw new Error(`the editor never showed ${what}; it shows:\n${text}`);
}

/** Puts the cursor of the active editor on a 1-based line (Go to Line), and waits until it is there. */
export async function gotoLine(page, line) {
  await page.keyboard.press("Escape");
  await editorLines(page).click();
  await page.keyboard.press("Control+G");
  await page.locator(".quick-input-widget input").waitFor();
  await page.keyboard.type(String(line));
  await page.keyboard.press("Enter");
  await page.locator(`.statusbar-item:has-text("Ln ${line},")`).first().waitFor({ timeout: 30_000 });
}

/** Every text the notification toasts take from now on (a MutationObserver: short-lived toasts are not missed). */
export async function recordNotifications(page) {
  await page.evaluate(() => {
    const seen = new Set();
    window.__codeloopToasts = seen;
    const record = () => {
      for (const toast of document.querySelectorAll(".notifications-toasts .notification-toast")) {
        const text = toast.innerText.trim();
        if (text) seen.add(text);
      }
    };
    record();
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => [...window.__codeloopToasts]);
}

/** Every text any status bar item takes from now on (same idea, for notes that come and go). */
export async function recordStatusBar(page) {
  await page.evaluate(() => {
    const bar = document.querySelector(".part.statusbar");
    const seen = new Set();
    window.__codeloopBar = seen;
    const record = () => {
      for (const item of bar.querySelectorAll(".statusbar-item")) {
        const text = item.innerText.trim();
        if (text) seen.add(text);
      }
    };
    record();
    new MutationObserver(record).observe(bar, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => page.evaluate(() => [...window.__codeloopBar]);
}

/** Waits for a status bar item whose text matches `pattern`; returns its text. */
export async function waitForStatusItem(page, pattern, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let texts = [];
  while (Date.now() < deadline) {
    texts = (await page.locator(".part.statusbar .statusbar-item").allInnerTexts()).map((t) => t.trim());
    const found = texts.find((t) => pattern.test(t));
    if (found) return found;
    await page.waitForTimeout(200);
  }
  throw new Error(`no status bar item matched ${pattern}; items: ${JSON.stringify(texts.filter(Boolean))}`);
}

/** Opens the code action menu (Ctrl+.) at the cursor until it lists `pattern`; returns the menu's text. */
export async function codeActionMenu(page, pattern, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let menu = "";
  while (Date.now() < deadline) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+.");
    try {
      await page.locator(".action-widget").first().waitFor({ timeout: 5_000 });
    } catch {
      continue;
    }
    await page.waitForTimeout(300);
    menu = (await page.locator(".action-widget").allInnerTexts()).join("\n");
    if (pattern.test(menu)) return menu;
    await page.waitForTimeout(700);
  }
  throw new Error(`the code action menu never listed ${pattern}; it showed: ${JSON.stringify(menu)}`);
}

/** The rows of the Problems panel (opened with its command), as text. */
export async function problemRows(page) {
  return (await page.locator(".markers-panel .monaco-list-row").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
}

/** Polls `probe` (sync or async) until it returns a truthy value; returns it. */
export async function waitFor(probe, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Saves the active editor (Ctrl+S) and waits until its tab is no longer dirty. */
export async function save(page, name) {
  await page.keyboard.press("Control+S");
  await page.locator(`.tab.dirty[aria-label*="${name}"]`).first().waitFor({ state: "detached", timeout: 60_000 });
}

/** The inline suggestion's ghost text in the editor area ("" when none is shown). VS Code draws it
 * as injected text whose class names contain "ghost-text". */
export async function ghostText(page) {
  const texts = await page.locator('.part.editor .view-lines [class*="ghost-text"]').allInnerTexts();
  return texts.join("").replace(/\u00a0/g, " ").trim();
}

/** Searches the Settings editor for one setting id; returns the locator of its row. */
export async function settingsSearch(page, id) {
  const box = page.locator(".settings-editor .settings-header .suggest-input-container .monaco-editor").first();
  await box.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(id);
  const row = page.locator(`.settings-editor .setting-item-contents[data-key="${id}"]`).first();
  await row.waitFor({ timeout: 60_000 });
  return row;
}
