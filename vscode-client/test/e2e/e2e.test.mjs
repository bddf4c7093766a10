// End to end in real VS Code: code-server + headless Chromium, the packaged .vsix installed with
// --install-extension, on a copy of examples/demo. Run through scripts/vscode-e2e.sh, which installs
// code-server and builds the .vsix first. Screenshots go to test/e2e/artifacts/.
//
// Environment: CODE_SERVER, CODE_SERVER_NODE_BIN (from the installer), CODELOOP_PYTHON (the
// interpreter with codeloop installed; default: the repository's .venv), CODELOOP_VSIX.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { startFakeModel } from "./fakeModel.mjs";
import * as h from "./harness.mjs";

const PYTHON = process.env.CODELOOP_PYTHON ?? join(h.REPO_DIR, ".venv", "bin", "python");
const VSIX = process.env.CODELOOP_VSIX ?? join(h.CLIENT_DIR, "codeloop.vsix");
const DEMO = join(h.REPO_DIR, "examples", "demo");
const STUB_FILE = "geometry.py";
const STUB_NAME = "circle_area"; // a stub (`...` body) with doctests in examples/demo/shapes/geometry.py
/** 1-based line of `def <name>` in the demo's geometry.py. */
function defLine(name) {
  const lines = readFileSync(join(DEMO, "shapes", STUB_FILE), "utf8").split("\n");
  const i = lines.findIndex((l) => new RegExp(`^\\s*def ${name}\\(`).test(l));
  if (i < 0) throw new Error(`def ${name} not found in examples/demo/shapes/${STUB_FILE}`);
  return i + 1;
}
/** The status item once the server runs (the client's "running", then the server's own state). */
const SERVER_UP = /codeloop: (?!starting|stopped|server error|not installed|no Python)/;
const CHAT_REPLY =
  "Here is **clamp** done right:\n\n```python\ndef clamp(value: int, low: int, high: int) -> int:\n    return max(low, min(value, high))\n```\n\nIt keeps `value` within [low, high]. <script>alert(1)</script>";

/** The scripted agent conversation: a search, a proposal (a doctest added to circle_area), the answer. */
const AGENT_TRIGGER = "SCRIPTED-AGENT";
const AGENT_OLD = "    >>> circle_area(0)\n    0.0\n";
const AGENT_NEW = AGENT_OLD + "    >>> circle_area(2.0)\n    12.566370614359172\n";
const AGENT_CONVERSATION = {
  trigger: AGENT_TRIGGER,
  replies: [
    { tool_call: ["search_code", { query: "circle area" }] },
    { tool_call: ["propose_edit", { path: "shapes/geometry.py", edits: [{ old_text: AGENT_OLD, new_text: AGENT_NEW }] }] },
    { text: "I proposed one more doctest for **circle_area**." },
  ],
};

/** The stubs and answers of the implement and inline completion scenarios (the fake model answers by these rules). */
const fence = (code) => "```python\n" + code + "\n```";
const CIRCLE = "def circle_area(radius: float) -> float:\n    return math.pi * radius ** 2";
const PERIMETER_4 = "def square_perimeter(side: int) -> int:\n    return 4 * side";
const PERIMETER_CUBE = "def square_perimeter(side: int) -> int:\n    return side ** 3"; // also 8 for side 2
const SQUARES = [
  "def square_perimeter(side: int) -> int:",
  '    """Perimeter of a square with sides of length ``side``.',
  "",
  "    >>> square_perimeter(2)",
  "    8",
  '    """',
  "    ...",
  "",
  "",
  "def square_area(side: int) -> int:",
  '    """Area of a square with sides of length ``side``.',
  "",
  "    >>> square_area(3)",
  "    9",
  '    """',
  "    ...",
  "",
].join("\n");
/** `def NAME(` as the last definition before the cursor: an inline completion request in NAME's body. */
const completingIn = (name) => `def ${name}\\((?![\\s\\S]*\\n\\s*def )`;
const MODEL_RULES = [
  { kind: "chat", match: "Implement the function `circle_area`", texts: [fence(CIRCLE), fence(CIRCLE), fence(CIRCLE), fence(CIRCLE)] },
  { kind: "chat", match: "pytest test functions for `circle_area`", texts: [fence("from shapes.geometry import circle_area\n\n\ndef test_circle_area_of_zero():\n    assert circle_area(0) == 0")] },
  { kind: "chat", match: "Implement the function `square_perimeter`", texts: [fence(PERIMETER_4), fence(PERIMETER_CUBE), fence(PERIMETER_4), fence(PERIMETER_CUBE)] },
  { kind: "chat", match: "pytest test functions for `square_perimeter`", texts: [fence("from shapes.squares import square_perimeter\n\n\ndef test_square_perimeter_of_zero():\n    assert square_perimeter(0) == 0")] },
  { kind: "completions", match: completingIn("circle_area"), texts: ["return math.pi * radius ** 2\n"] },
  { kind: "completions", match: completingIn("square_area"), texts: ["return 4 * side\n"] }, // fails square_area(3) == 9
  { kind: "completions", match: "", texts: [""] }, // anywhere else: nothing to suggest
];
const RENAMED_MODEL = "fake-renamed";

/** 1-based line of the first line matching `pattern` in a workspace file (after `after`, when given). */
function lineIn(file, pattern, after) {
  const lines = readFileSync(file, "utf8").split("\n");
  const start = after ? lines.findIndex((l) => after.test(l)) : 0;
  const i = lines.findIndex((l, n) => n >= start && pattern.test(l));
  if (start < 0 || i < 0) throw new Error(`${pattern} not found in ${file}`);
  return i + 1;
}

/** Does `<python> -m codeloop <args>` run? (Feature detection for scenarios whose server side is still landing.) */
function codeloopHas(...args) {
  const r = spawnSync(PYTHON, ["-m", "codeloop", ...args, "--help"], { stdio: "ignore", timeout: 60_000 });
  return r.status === 0;
}

const canServe = existsSync(PYTHON) && codeloopHas("serve");
const canGenerateTests = canServe && codeloopHas("gen-tests");

/** path -> content of every test file in the workspace (to see which ones a command wrote). */
function testFiles(dir) {
  return new Map(pyFiles(dir).filter((f) => /(^|\/)test_[^/]*\.py$|_test\.py$/.test(f)).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

function pyFiles(root, dir = root) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "__pycache__") continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pyFiles(root, p));
    else if (entry.name.endsWith(".py")) out.push(relative(root, p));
  }
  return out;
}

describe("codeloop in real VS Code (code-server)", { concurrency: false }, () => {
  let extensionsDir;
  let browser;
  let workspace;
  let codeServer;
  let page;
  let model;
  let scratch; // the fake model's rules, script and request record

  before(async () => {
    assert.ok(existsSync(VSIX), `${VSIX} is missing: run npm run package first`);
    assert.ok(existsSync(DEMO), `${DEMO} is missing`);
    extensionsDir = h.installExtension(VSIX);
    browser = await h.launchBrowser();
    workspace = h.copyWorkspace(DEMO);
    scratch = mkdtempSync(join(tmpdir(), "codeloop-e2e-model-"));
    const conversation = join(scratch, "agent-conversation.json");
    writeFileSync(conversation, JSON.stringify(AGENT_CONVERSATION));
    const rules = join(scratch, "model-rules.json");
    writeFileSync(rules, JSON.stringify(MODEL_RULES));
    const record = join(scratch, "model-requests.jsonl");
    model = await startFakeModel({ python: PYTHON, repoDir: h.REPO_DIR, reply: CHAT_REPLY, chunkDelay: 0.08, conversation, rules, record });
    codeServer = await h.startCodeServer({
      extensionsDir,
      settings: {
        "codeloop.interpreter": PYTHON,
        "codeloop.serverArgs": process.env.CODELOOP_E2E_SERVER_LOG ? ["--log-file", process.env.CODELOOP_E2E_SERVER_LOG, "--log-level", "debug"] : ["--no-log-file"],
        "codeloop.model.baseUrl": model.baseUrl,
        "codeloop.model.name": "fake",
        "codeloop.generate.engine": "offline", // the fake model only chats; Generate Tests runs the search
        "codeloop.sandbox.timeout": 300, // far above what a cancelled run takes (the Cancel scenario)
        "editor.inlineSuggest.enabled": true, // the fake suggests nothing except in the inline scenario's stubs
      },
      env: { OPENAI_BASE_URL: model.baseUrl, CODELOOP_MODEL: "fake", OPENAI_API_KEY: "sk-test" },
    });
    page = await h.openWorkbench(browser, codeServer.url, workspace);
    await h.openFile(page, STUB_FILE);
  });

  after(async () => {
    if (page) await h.screenshot(page, "last").catch(() => undefined);
    await browser?.close();
    await codeServer?.stop();
    model?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test("the server starts and the status item says so", { skip: !canServe && `codeloop serve is not available for ${PYTHON}` }, async () => {
    const text = await h.waitForStatus(page, SERVER_UP, 90_000);
    await h.screenshot(page, "status");
    assert.match(text, /codeloop: \w+/);
  });

  test("a stub gets an Implement code action", { skip: !canServe && "codeloop serve is not available" }, async () => {
    await h.waitForStatus(page, SERVER_UP, 90_000);
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor();
    await page.keyboard.type(String(defLine(STUB_NAME)));
    await page.keyboard.press("Enter");
    await page.waitForTimeout(500);
    let menu = "";
    for (let attempt = 0; attempt < 10 && !/Implement/.test(menu); attempt++) {
      await page.keyboard.press("Escape");
      await page.keyboard.press("Control+.");
      await page.waitForTimeout(1_000);
      menu = (await page.locator(".action-widget").allInnerTexts()).join("\n");
    }
    await h.screenshot(page, "code-action");
    assert.match(menu, new RegExp(`Implement ${STUB_NAME}`), `code action menu: ${JSON.stringify(menu)}`);
    await page.keyboard.press("Escape");
  });

  test("Go to Symbol in Workspace lists a definition of another file and opens it", { skip: !canServe && "codeloop serve is not available" }, async () => {
    await h.waitForStatus(page, SERVER_UP, 90_000);
    const input = page.locator(".quick-input-widget input");
    const row = page.locator('.quick-input-widget .monaco-list-row:has-text("test_perimeter")').first();
    const deadline = Date.now() + 60_000;
    for (;;) {
      // "#" in the quick input is Go to Symbol in Workspace (workspace/symbol); the first
      // index may still be running, so ask again until the symbol is listed.
      await page.keyboard.press("Escape");
      await page.keyboard.press("F1");
      await input.waitFor();
      await input.fill("#test_perim");
      try {
        await row.waitFor({ timeout: 3_000 });
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          await h.screenshot(page, "workspace-symbol-failed");
          throw new Error("Go to Symbol in Workspace never listed test_perimeter");
        }
      }
    }
    await h.screenshot(page, "workspace-symbol");
    await page.keyboard.press("Enter");
    await page.locator('.tab.active[aria-label*="test_geometry.py"], .tab.active:has-text("test_geometry.py")').first().waitFor({ timeout: 20_000 });
    const line = readFileSync(join(DEMO, "tests", "test_geometry.py"), "utf8").split("\n").findIndex((l) => l.startsWith("def test_perimeter(")) + 1;
    await page.locator(`.statusbar-item:has-text("Ln ${line},")`).first().waitFor({ timeout: 10_000 });
    // Close it again: the Generate Tests scenario expects the test file not open in an editor.
    await h.runCommand(page, "View: Close Editor");
    await page.locator('.tab:has-text("test_geometry.py")').first().waitFor({ state: "detached", timeout: 10_000 });
    await h.openFile(page, STUB_FILE);
  });

  test(
    "Generate Tests produces tests (offline engine)",
    { skip: !canGenerateTests && "codeloop gen-tests is not available" },
    async () => {
      await h.waitForStatus(page, SERVER_UP, 90_000);
      const before = testFiles(workspace);
      await page.locator(".monaco-editor .view-lines").first().click();
      await page.keyboard.press("Control+G");
      await page.locator(".quick-input-widget input").waitFor();
      await page.keyboard.type(String(defLine("clamp"))); // untested, with a planted bug
      await page.keyboard.press("Enter");
      const statuses = await h.recordStatusTexts(page);
      await h.runCommand(page, "codeloop: Generate Tests");
      // The tests land on disk: merged into the existing tests/test_geometry.py (not open in an
      // editor, so the client saves it after the server's workspace/applyEdit).
      const deadline = Date.now() + 120_000;
      let changed = [];
      const seen = new Set();
      while (Date.now() < deadline) {
        for (const n of await h.notifications(page)) seen.add(n);
        changed = [...testFiles(workspace)].filter(([f, text]) => before.get(f) !== text && /def test_clamp/.test(text));
        if (changed.length > 0 && [...seen].some((n) => /codeloop: Add \d+ tests?/.test(n))) break;
        await page.waitForTimeout(250);
      }
      assert.equal(changed.length, 1, `no test file with tests for clamp in ${workspace}; notifications: ${JSON.stringify([...seen])}`);
      const [file, text] = changed[0];
      assert.equal(file, join("tests", "test_geometry.py"));
      assert.match(text, /def test_clamp\w*\(/);
      // Merged, not overwritten: the hand-written tests are still there.
      for (const name of before.get(file).match(/def test_\w+/g)) assert.ok(text.includes(name), `${name} was lost`);
      // The server's evidence (as the edit's label and a notification), and nothing left unsaved.
      const note = [...seen].find((n) => /codeloop: Add \d+ tests?/.test(n));
      assert.ok(note, `no "Add N tests" notification; saw ${JSON.stringify([...seen])}`);
      assert.match(note, /branch coverage \d+% -> \d+%/);
      assert.equal(await page.locator('.tab.dirty[aria-label*="test_geometry.py"]').count(), 0, "the test file was left unsaved");
      // While it ran, the status item showed the work in progress after the model: the server's
      // label (e.g. "Generate tests for clamp"), or "working" from a server that sends busy: true.
      const shown = await statuses();
      assert.ok(shown.some((t) => /codeloop: ready · sandbox \w · fake · \S/.test(t)), `status texts: ${JSON.stringify(shown)}`);
      assert.match(shown.at(-1), /codeloop: ready · sandbox \w · fake$/);
      await h.openFile(page, "test_geometry.py");
      await page.locator(".monaco-editor .view-lines").first().click();
      await page.keyboard.press("Control+End");
      await page.waitForTimeout(500);
      await h.screenshot(page, "generate-tests");
      await h.openFile(page, STUB_FILE);
    },
  );

  test(
    "Generate Tests creates a new test file (CreateFile + edit, saved)",
    { skip: !canGenerateTests && "codeloop gen-tests is not available" },
    async () => {
      await h.waitForStatus(page, SERVER_UP, 90_000);
      writeFileSync(
        join(workspace, "shapes", "grading.py"),
        'def grade(score: int) -> str:\n    """Letter grade for a score from 0 to 100."""\n' +
          '    if score >= 90:\n        return "A"\n    if score >= 75:\n        return "B"\n    return "C"\n',
      );
      const before = testFiles(workspace);
      await h.openFile(page, "grading.py");
      await page.locator(".monaco-editor .view-lines").first().click();
      await page.keyboard.press("Control+Home");
      await h.runCommand(page, "codeloop: Generate Tests");
      const deadline = Date.now() + 120_000;
      let created = [];
      while (Date.now() < deadline && created.length === 0) {
        created = [...testFiles(workspace)].filter(([f, text]) => !before.has(f) && /def test_grade/.test(text));
        if (created.length === 0) await page.waitForTimeout(250);
      }
      assert.equal(created.length, 1, `no new test file for grading.py in ${workspace}: ${JSON.stringify([...testFiles(workspace).keys()])}`);
      const [file, text] = created[0];
      assert.match(file, /test_grading\.py$/);
      assert.match(text, /from shapes\.grading import grade|import shapes\.grading/);
      assert.match(text, /def test_grade\w*\(/);
      assert.equal(await page.locator('.tab.dirty[aria-label*="test_grading.py"]').count(), 0, "the new test file was left unsaved");
      await h.openFile(page, STUB_FILE);
    },
  );

  test("the chat panel streams an answer from the fake model", { skip: !canServe && "codeloop serve is not available" }, async (t) => {
    await h.runCommand(page, "codeloop: Open Chat");
    const chat = page.frameLocator("iframe.webview").frameLocator("#active-frame");
    const input = chat.locator("#input");
    await input.waitFor({ timeout: 30_000 });
    // A readable panel for the screenshot (docs/images/chat.png).
    const width = await h.widenSideBar(page, 720);
    assert.ok(width >= 600, `the side bar stayed ${width}px wide`);
    await input.fill("How do I write clamp?");
    await input.press("Enter");
    const answer = chat.locator(".message.assistant").last();
    // Streaming: the Stop button is enabled and the text grows before the answer is done.
    await chat.locator("#stop:not([disabled])").waitFor({ timeout: 60_000 });
    let partial = "";
    const seen = new Set();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      partial = await answer.locator(".body").innerText();
      if (partial.trim() !== "" && partial.trim() !== "…") seen.add(partial.length);
      if ((await answer.getAttribute("class"))?.includes("done") || (await answer.getAttribute("class"))?.includes("error")) break;
      await page.waitForTimeout(50);
    }
    const cls = await answer.getAttribute("class");
    const note = await answer.locator(".note").innerText();
    await h.screenshot(page, "chat");
    if (/does not support chat yet/.test(note)) {
      t.skip("this server has no codeloop/chat yet");
      return;
    }
    assert.ok(cls?.includes("done"), `answer ended as ${cls}: ${note}`);
    assert.ok(seen.size >= 2, `expected several partial renders while streaming, saw lengths ${[...seen]}`);
    const text = await answer.locator(".body").innerText();
    assert.match(text, /Here is clamp done right/);
    assert.match(text, /return max\(low, min\(value, high\)\)/);
    // Markdown rendered, code block with its buttons, the script tag shown as text, not run.
    assert.equal(await answer.locator("strong", { hasText: "clamp" }).count(), 1);
    assert.equal(await answer.locator(".code-block button").count(), 3);
    assert.equal(await answer.locator("script").count(), 0);
    assert.match(text, /<script>alert\(1\)<\/script>/);
  });

  const canAgent = canServe && codeloopHas("mcp"); // the chat agent landed with `codeloop mcp` (issue 14)

  test("a scripted agent conversation shows tool cards and applies a proposal", { skip: !canAgent && "this codeloop has no chat agent" }, async (t) => {
    if (!model.scripted) {
      t.skip("the fake model cannot script tool calls here");
      return;
    }
    await h.runCommand(page, "codeloop: Open Chat");
    const chat = page.frameLocator("iframe.webview").frameLocator("#active-frame");
    const input = chat.locator("#input");
    await input.waitFor({ timeout: 30_000 });
    await input.fill(`${AGENT_TRIGGER} add a doctest to circle_area`);
    await input.press("Enter");
    const answer = chat.locator(".message.assistant").last();
    await answer.locator(".proposal-button[data-action=apply]").waitFor({ timeout: 90_000 });
    await answer.locator(".note").waitFor({ state: "attached" });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await answer.getAttribute("class"))?.includes("done")) await page.waitForTimeout(100);
    const cards = answer.locator(".tool-card");
    assert.equal(await cards.count(), 2);
    assert.match(await cards.nth(0).innerText(), /search_code/);
    assert.match(await cards.nth(1).innerText(), /propose_edit/);
    assert.equal(await answer.locator(".tool-card.done").count(), 2);
    await cards.nth(0).locator("summary").click(); // expand: the result the model read
    assert.match(await cards.nth(0).locator(".tool-result").innerText(), /shapes\/geometry\.py:\d+: function shapes\.geometry\.circle_area/);
    assert.match(await answer.locator(".diff").innerText(), /\+    >>> circle_area\(2\.0\)/);
    assert.match(await answer.locator(".body").innerText(), /I proposed one more doctest for circle_area/);
    await h.screenshot(page, "agent");
    await answer.locator(".proposal-button[data-action=apply]").click();
    await answer.locator(".proposal.applied").waitFor({ timeout: 30_000 });
    // the edit went into the open editor (unsaved) through the server's version-checked edit
    await h.openFile(page, STUB_FILE);
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor();
    await page.keyboard.type(String(defLine("circle_area") + 7));
    await page.keyboard.press("Enter");
    let shown = "";
    const until = Date.now() + 20_000;
    while (Date.now() < until && !/circle_area\(2\.0\)/.test(shown)) {
      await page.waitForTimeout(200);
      shown = (await page.locator(".monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
    }
    assert.match(shown, />>> circle_area\(2\.0\)\s+12\.566370614359172/);
  });

  // --- The three uses as a user meets them (issue 17): implement, inline completion, run tests, settings. ---
  const canRules = canServe;
  const noRules = !canServe && "codeloop serve is not available";
  const GEOMETRY = () => join(workspace, "shapes", STUB_FILE);

  test("Implement applies a verified body and says what was checked; its progress is a notification", { skip: noRules }, async (t) => {
    if (!model.ruled) return t.skip("the fake model cannot answer by rules here");
    await h.waitForStatus(page, SERVER_UP, 90_000);
    await h.runCommand(page, "View: Close Primary Side Bar"); // the editor gets the room (the chat was open)
    await h.openFile(page, STUB_FILE);
    await h.editorLines(page).click();
    await h.save(page, STUB_FILE); // keeps the agent's doctest; the lines below are read from the file
    await h.gotoLine(page, lineIn(GEOMETRY(), /^def circle_area\(/));
    const toasts = await h.recordNotifications(page);
    await h.runCommand(page, "codeloop: Implement");
    await h.waitForEditorText(page, /return math\.pi \* radius \*\* 2/, 120_000, "the implementation of circle_area");
    const done = await h.waitFor(async () => (await toasts()).find((n) => /codeloop: Implement circle_area \(verified\)/.test(n)), 60_000, "the notification with the evidence");
    assert.match(done, /\d+\/\d+ examples.*pass/);
    const progress = (await toasts()).find((n) => /^codeloop: Implement circle_area/m.test(n) && /Cancel/.test(n));
    assert.ok(progress, `no progress notification with Cancel; toasts: ${JSON.stringify(await toasts())}`);
    await h.screenshot(page, "implement");
    // Undo: the stub is back for the inline completion scenario.
    await h.editorLines(page).click();
    await page.keyboard.press("Control+Z");
    await h.waitFor(async () => !/return math\.pi/.test(await h.editorText(page)), 60_000, "undo of the implementation");
  });

  test("an implementation whose candidates disagree offers one action per behaviour; the chosen one lands with its test", { skip: noRules }, async (t) => {
    if (!model.ruled) return t.skip("the fake model cannot answer by rules here");
    writeFileSync(join(workspace, "shapes", "squares.py"), SQUARES);
    await h.openFile(page, "squares.py");
    await h.gotoLine(page, 1);
    const toasts = await h.recordNotifications(page);
    await h.runCommand(page, "codeloop: Implement");
    const warning = await h.waitFor(async () => (await toasts()).find((n) => /Implement square_perimeter \(ambiguous/.test(n)), 120_000, "the ambiguous notification");
    assert.match(warning, /Not applied/);
    assert.match(warning, /square_perimeter\(3\): 12 \(\d+ candidates\) vs 27/);
    assert.doesNotMatch(await h.editorText(page), /return 4 \* side|return side \*\* 3/); // nothing applied
    await h.gotoLine(page, 1);
    const menu = await h.codeActionMenu(page, /behaviour 2/);
    assert.match(menu, /Implement square_perimeter as behaviour 1: square_perimeter\(3\) -> 12/);
    assert.match(menu, /Implement square_perimeter as behaviour 2: square_perimeter\(3\) -> 27/);
    await h.screenshot(page, "implement-choices");
    await page.locator(".action-widget .monaco-list-row", { hasText: "behaviour 1" }).first().click();
    await h.waitForEditorText(page, /return 4 \* side/, 60_000, "behaviour 1 applied");
    // The choice is kept by a new test in the function's test file.
    const testFile = join(workspace, "tests", "test_squares.py");
    const text = await h.waitFor(() => existsSync(testFile) && /assert square_perimeter\(3\) == 12/.test(readFileSync(testFile, "utf8")) && readFileSync(testFile, "utf8"), 60_000, `the test in ${testFile}`);
    assert.match(text, /from shapes\.squares import square_perimeter/);
  });

  test("inline completion: ghost text in a stub's body, marked verified once checked in the background; Tab accepts it", { skip: noRules }, async (t) => {
    if (!model.ruled) return t.skip("the fake model cannot answer by rules here");
    await h.openFile(page, STUB_FILE);
    await h.gotoLine(page, lineIn(GEOMETRY(), /^\s*\.\.\.$/, /^def circle_area\(/));
    const bar = await h.recordStatusBar(page);
    await page.keyboard.press("End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Backspace"); // the body is now a blank line after the docstring: the server completes
    await h.waitFor(async () => /return math\.pi \* radius \*\* 2/.test(await h.ghostText(page)), 120_000, "the ghost text");
    const note = await h.waitForStatusItem(page, /suggestion verified \d+\/\d+ examples/, 120_000);
    assert.ok(!(await bar()).some((x) => /fails its checks/.test(x)));
    await h.screenshot(page, "inline-completion");
    await page.keyboard.press("Tab");
    await h.waitFor(async () => (await h.ghostText(page)) === "", 60_000, "the ghost text to become text");
    await h.waitForEditorText(page, /^\s+return math\.pi \* radius \*\* 2$/m, 60_000, "the accepted completion");
    await h.waitFor(async () => (await bar()).some((x) => /accepted: verified \d+\/\d+ examples/.test(x)), 60_000, "the accepted note");
    assert.match(note, /verified \d+\/\d+ examples/);
  });

  test("an inline suggestion that fails its examples is never marked verified", { skip: noRules }, async (t) => {
    if (!model.ruled) return t.skip("the fake model cannot answer by rules here");
    await h.openFile(page, "squares.py");
    const dots = SQUARES.split("\n").findIndex((l, i) => i > SQUARES.split("\n").findIndex((x) => x.startsWith("def square_area")) && l.trim() === "...") + 1;
    await h.gotoLine(page, dots);
    const bar = await h.recordStatusBar(page);
    await page.keyboard.press("End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Backspace");
    await h.waitFor(async () => /return 4 \* side/.test(await h.ghostText(page)), 120_000, "the ghost text");
    // The check ran and failed (the client says so); nothing ever claimed it was verified.
    await h.waitForStatusItem(page, /suggestion of square_area fails its checks/, 120_000);
    assert.deepEqual((await bar()).filter((x) => /verified/.test(x)), []);
    await h.screenshot(page, "inline-unverified");
    await page.keyboard.press("Escape");
  });

  test("Run Tests: a failing test shows in the Problems panel, linked to the line of the code under test", { skip: noRules }, async () => {
    await h.openFile(page, STUB_FILE);
    const line = lineIn(GEOMETRY(), /^\s+return 2 \* \(width \+ height\)$/);
    await h.gotoLine(page, line);
    await page.keyboard.press("End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.type("return 2 * (width + heigth)"); // a typo: NameError in perimeter
    await h.save(page, STUB_FILE);
    const toasts = await h.recordNotifications(page);
    await h.runCommand(page, "codeloop: Run Tests");
    await h.runCommand(page, "Problems: Focus on Problems View");
    const rows = await h.waitFor(async () => {
      const r = await h.problemRows(page);
      return r.some((x) => /test_perimeter/.test(x) && /NameError/.test(x)) && r;
    }, 120_000, "the failing test in the Problems panel");
    // The failure's related location: the line of perimeter where the NameError surfaced.
    const related = new RegExp(`^geometry\\.py ?\\[Ln ${line}, Col 1\\] ?: raised here: NameError`);
    assert.ok(rows.some((x) => related.test(x)), `rows: ${JSON.stringify(rows)}`);
    assert.ok((await toasts()).some((n) => /^codeloop: Run tests/m.test(n)), `no progress notification; toasts: ${JSON.stringify(await toasts())}`);
    await h.screenshot(page, "problems");
  });

  test("settings: codeloop.model.name changed in the Settings UI reaches the running server, without a restart", { skip: noRules }, async (t) => {
    if (!model.ruled) return t.skip("the fake model does not record requests here");
    await h.waitForStatus(page, SERVER_UP, 90_000);
    const statuses = await h.recordStatusTexts(page);
    await h.runCommand(page, "Preferences: Open Settings (UI)");
    const settings = page.locator(".settings-editor");
    await settings.waitFor({ timeout: 30_000 });
    // Tests run on save from now on (the next scenario); then the model's name.
    const runOnSave = (await h.settingsSearch(page, "codeloop.tests.runOnSave")).locator(".setting-value-checkbox");
    if ((await runOnSave.getAttribute("aria-checked")) !== "true") await runOnSave.click();
    const name = (await h.settingsSearch(page, "codeloop.model.name")).locator("input");
    await name.fill(RENAMED_MODEL);
    await name.press("Enter");
    // The server applied the new settings (its status names the new model) and was not restarted.
    await h.waitForStatus(page, new RegExp(`codeloop: ready · sandbox \\w · ${RENAMED_MODEL}$`), 120_000);
    await h.screenshot(page, "settings");
    const shown = await statuses();
    assert.ok(!shown.some((x) => /codeloop: (starting|running|stopped)/.test(x)), `the server restarted: ${JSON.stringify(shown)}`);
    // ... and its next model request names the new model.
    const before = model.requests().length;
    await h.runCommand(page, "codeloop: Open Chat");
    const chat = page.frameLocator("iframe.webview").frameLocator("#active-frame");
    await chat.locator("#input").waitFor({ timeout: 30_000 });
    await chat.locator("#input").fill("Which model answers now?");
    await chat.locator("#input").press("Enter");
    const asked = await h.waitFor(() => {
      const chats = model.requests().slice(before).filter((r) => r.kind === "chat");
      return chats.length > 0 && chats;
    }, 120_000, "a chat request to the fake model");
    await h.waitFor(async () => /\b(done|error)\b/.test((await chat.locator(".message.assistant").last().getAttribute("class")) ?? ""), 120_000, "the answer");
    assert.deepEqual([...new Set(model.requests().slice(before).map((r) => r.model))], [RENAMED_MODEL], JSON.stringify(asked));
    await h.runCommand(page, "View: Close Primary Side Bar");
  });

  test("run on save: fixing the code and saving clears the failing test", { skip: noRules }, async () => {
    await h.openFile(page, STUB_FILE);
    const statuses = await h.recordStatusTexts(page);
    const line = lineIn(GEOMETRY(), /^\s+return 2 \* \(width \+ heigth\)$/);
    await h.gotoLine(page, line);
    await page.keyboard.press("End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.type("return 2 * (width + height)");
    await h.save(page, STUB_FILE);
    await h.runCommand(page, "Problems: Focus on Problems View");
    await h.waitFor(async () => !(await h.problemRows(page)).some((x) => /test_perimeter/.test(x)), 120_000, "the failure to clear");
    assert.ok((await statuses()).some((x) => /Running tests/.test(x)), `no test run on save: ${JSON.stringify(await statuses())}`);
    await h.screenshot(page, "problems-cleared");
  });

  test("Run Tests: Cancel in the progress notification stops the run", { skip: noRules }, async () => {
    writeFileSync(
      join(workspace, "tests", "test_slow_e2e.py"),
      "import time\n\nfrom shapes.geometry import perimeter\n\n\ndef test_perimeter_slowly():\n    time.sleep(600)\n    assert perimeter(1, 1) == 4\n",
    );
    await h.openFile(page, "test_slow_e2e.py");
    await h.editorLines(page).click();
    await h.runCommand(page, "codeloop: Run Tests");
    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "codeloop: Run tests" }).first();
    await toast.waitFor({ timeout: 60_000 });
    await h.waitForStatus(page, /Running tests/, 60_000);
    await h.screenshot(page, "run-tests-cancel");
    const cancelled = Date.now();
    await toast.hover();
    await toast.locator(".monaco-button", { hasText: "Cancel" }).first().click();
    await toast.waitFor({ state: "detached", timeout: 120_000 });
    await h.waitForStatus(page, /codeloop: ready · sandbox \w · \S+$/, 120_000);
    // Stopped by the Cancel: well before the sandbox's 300 s limit or the test's 600 s sleep, and no result published.
    const seconds = (Date.now() - cancelled) / 1000;
    assert.ok(seconds < 150, `the run went on for ${seconds} s after Cancel`);
    assert.ok(!(await h.problemRows(page)).some((x) => /test_perimeter_slowly|stopped/.test(x)));
  });

  test("a missing interpreter gives a clear message", async () => {
    mkdirSync(join(workspace, ".vscode"), { recursive: true });
    writeFileSync(join(workspace, ".vscode", "settings.json"), JSON.stringify({ "codeloop.interpreter": "/nonexistent/bin/python" }));
    const deadline = Date.now() + 60_000;
    let found;
    while (Date.now() < deadline && !found) {
      found = (await h.notifications(page)).find((n) => n.includes("/nonexistent/bin/python"));
      if (!found) await page.waitForTimeout(250);
    }
    await h.screenshot(page, "missing-interpreter");
    assert.ok(found, "no notification about the missing interpreter");
    assert.match(found, /the Python interpreter \/nonexistent\/bin\/python \(from the codeloop.interpreter setting\) was not found/);
    assert.match(found, /Open Settings/);
    assert.match(await h.statusText(page), /codeloop: no Python/);
  });

  test("an interpreter without codeloop offers to install it", async () => {
    const bare = ["/usr/bin/python3", "/usr/local/bin/python3"].find(
      (p) => existsSync(p) && spawnSync(p, ["-c", "import codeloop"], { stdio: "ignore" }).status !== 0,
    );
    if (!bare) return; // every Python here has codeloop: nothing to show
    writeFileSync(join(workspace, ".vscode", "settings.json"), JSON.stringify({ "codeloop.interpreter": bare }));
    const deadline = Date.now() + 60_000;
    let found;
    while (Date.now() < deadline && !found) {
      found = (await h.notifications(page)).find((n) => n.includes(`codeloop is not installed for ${bare}`));
      if (!found) await page.waitForTimeout(250);
    }
    await h.screenshot(page, "not-installed");
    assert.ok(found, `no "codeloop is not installed for ${bare}" notification`);
    assert.match(found, /Install codeloop/);
    assert.match(await h.statusText(page), /codeloop: not installed/);
  });
});
