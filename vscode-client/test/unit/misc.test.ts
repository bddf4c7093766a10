import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatHtml, contentSecurityPolicy, makeNonce } from "../../src/common/chatHtml";
import { ClientCommands, ServerCommands } from "../../src/common/protocol";
import { SerialRunner } from "../../src/common/serial";
import { BUSY_TEXT_MAX, busyLabel, parseStatus, statusView } from "../../src/common/status";

describe("SerialRunner", () => {
  it("never overlaps runs and folds calls made during a run into one more run", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const gates: (() => void)[] = [];
    const runner = new SerialRunner(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await new Promise<void>((r) => gates.push(r));
      active--;
    });
    const a = runner.run();
    const b = runner.run();
    const c = runner.run();
    await Promise.resolve();
    expect(runs).toBe(1);
    gates.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
    gates.shift()!();
    await Promise.all([a, b, c]);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    expect(runner.busy).toBe(false);
  });

  it("keeps going after a failing run", async () => {
    let n = 0;
    const runner = new SerialRunner(async () => {
      n++;
      throw new Error("x");
    });
    await runner.run();
    await runner.run();
    expect(n).toBe(2);
  });
});

describe("status", () => {
  it("shows the client state until the server reports", () => {
    expect(statusView("starting", undefined).text).toBe("$(loading~spin) codeloop: starting");
    expect(statusView("not-installed", undefined, "/usr/bin/python3")).toMatchObject({ text: "$(error) codeloop: not installed", severity: "error" });
    expect(statusView("not-installed", undefined, "/usr/bin/python3").tooltip).toContain("Python: /usr/bin/python3");
  });
  it("shows server state, sandbox level, model and work in progress", () => {
    const v = statusView("running", { state: "ready", sandboxLevel: "A", model: "gpt-x", busy: null });
    expect(v.text).toBe("$(check) codeloop: ready · sandbox A · gpt-x");
    const busy = statusView("running", { state: "ready", sandboxLevel: "C", model: null, busy: "generating tests" });
    expect(busy.text).toBe("$(loading~spin) codeloop: ready · sandbox C · offline · generating tests");
    expect(busy.severity).toBe("warning");
    expect(busy.tooltip).toContain("Working: generating tests");
  });
  it("validates the notification", () => {
    expect(parseStatus({ state: "ready", sandboxLevel: "A", model: "", busy: 3 })).toEqual({ state: "ready", sandboxLevel: "A", model: null, busy: null });
    expect(parseStatus({ state: "ready", sandboxLevel: "A", model: null, busy: true })?.busy).toBe("working");
    expect(parseStatus({ state: "ready", sandboxLevel: "A", model: null, busy: false })?.busy).toBeNull();
    expect(parseStatus({ sandboxLevel: "A" })).toBeUndefined();
    expect(parseStatus(undefined)).toBeUndefined();
  });
});

describe("chat webview HTML", () => {
  const html = chatHtml({ cspSource: "https://webview.example", nonce: "abc123", scriptUri: "https://webview.example/dist/chat.js", styleUri: "https://webview.example/media/chat.css" });
  it("has a strict CSP with the nonce as the only script source", () => {
    const csp = contentSecurityPolicy("https://webview.example", "abc123");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-abc123'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(html).toContain(`content="${csp.replace(/'/g, "&#39;")}"`);
  });
  it("has exactly one script, nonced and external, and no inline handlers or styles", () => {
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    expect(scripts).toEqual(['<script nonce="abc123" src="https://webview.example/dist/chat.js">']);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/<style|style=/i);
  });
  it("makes alphanumeric nonces", () => {
    const nonce = makeNonce((n) => Uint8Array.from({ length: n }, (_, i) => i * 37));
    expect(nonce).toMatch(/^[A-Za-z0-9]{32}$/);
  });
});

describe("package.json", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "../../package.json"), "utf8"));
  it("contributes every command, without client handlers for server command ids", () => {
    const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command);
    for (const id of [...Object.values(ClientCommands), ServerCommands.implement, ServerCommands.generateTests, ServerCommands.runTests, ServerCommands.cancel, ServerCommands.resetIndex]) {
      expect(contributed).toContain(id);
    }
    const source = readFileSync(join(__dirname, "../../src/extension.ts"), "utf8");
    for (const id of Object.values(ServerCommands)) expect(source).not.toContain(`"${id}"`);
  });
  it("has a chat view container and the publisher fields vsce needs", () => {
    expect(manifest.contributes.viewsContainers.activitybar[0].id).toBe("codeloop");
    expect(manifest.contributes.views.codeloop[0]).toMatchObject({ type: "webview", id: "codeloop.chat" });
    expect(manifest.publisher).toBe("codeloop");
    expect(manifest.repository.url).toMatch(/^https:/);
    expect(manifest.activationEvents).toContain("onLanguage:python");
  });
});

describe("status: busy as a label (string | null), true for older servers", () => {
  const base = { state: "ready", sandboxLevel: "A", model: "fake" };

  it("shows the server's label of the work in progress, with a spinner", () => {
    const status = parseStatus({ ...base, busy: "Generating tests for clamp" });
    expect(status?.busy).toBe("Generating tests for clamp");
    const view = statusView("running", status);
    expect(view.text).toBe("$(loading~spin) codeloop: ready · sandbox A · fake · Generating tests for clamp");
    expect(view.tooltip).toContain("Working: Generating tests for clamp");
  });

  it("treats true as a generic busy and null, false, blank or other types as idle", () => {
    expect(statusView("running", parseStatus({ ...base, busy: true })).text).toBe(
      "$(loading~spin) codeloop: ready · sandbox A · fake · working",
    );
    for (const idle of [null, false, "", "   ", undefined, 0, 1, {}, ["x"]]) {
      const status = parseStatus({ ...base, busy: idle });
      expect(status?.busy, JSON.stringify(idle)).toBeNull();
      const view = statusView("running", status);
      expect(view.text).toBe("$(check) codeloop: ready · sandbox A · fake");
      expect(view.tooltip).not.toContain("Working");
    }
  });

  it("collapses whitespace, shortens a long label in the bar and keeps it whole in the tooltip", () => {
    expect(busyLabel("  Running\n tests\tfor  geometry.py ")).toBe("Running tests for geometry.py");
    const long = `Generating tests for ${"a_very_long_function_name_".repeat(4)}`;
    const view = statusView("running", parseStatus({ ...base, busy: long }));
    const shown = view.text.split(" · ").pop()!;
    expect(shown.length).toBe(BUSY_TEXT_MAX);
    expect(shown.endsWith("…")).toBe(true);
    expect(long.startsWith(shown.slice(0, -1))).toBe(true);
    expect(view.tooltip).toContain(`Working: ${long}`);
  });

  it("does not let server text render as status bar icons", () => {
    const view = statusView("running", parseStatus({ state: "$(bug)", sandboxLevel: "A", model: "$(x)m", busy: "$(zap) hi" }));
    expect(view.text.startsWith("$(loading~spin) ")).toBe(true);
    expect(view.text.slice("$(loading~spin) ".length)).not.toContain("$(");
    expect(view.text).toContain("hi");
  });
});
