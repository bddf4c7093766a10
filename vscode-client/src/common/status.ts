/**
 * The status bar item's text and tooltip, from the client state and the server's `codeloop/status`.
 */
import type { ServerStatus } from "./protocol";

export type ClientState = "starting" | "running" | "stopped" | "error" | "not-installed" | "no-interpreter";

export interface StatusView {
  text: string;
  tooltip: string;
  /** "error" and "warning" map to the status bar's background colours. */
  severity: "none" | "warning" | "error";
}

const CLIENT_TEXT: Record<ClientState, string> = {
  starting: "starting",
  running: "running",
  stopped: "stopped",
  error: "server error",
  "not-installed": "not installed",
  "no-interpreter": "no Python",
};

const SANDBOX_TEXT: Record<string, string> = {
  A: "isolated (bubblewrap)",
  B: "partial isolation",
  C: "limits only, not isolated",
  D: "refused: no sandbox available",
};

export function statusView(state: ClientState, server: ServerStatus | undefined, python?: string): StatusView {
  if (state !== "running" || !server) {
    const icon = state === "starting" ? "$(loading~spin)" : state === "running" ? "$(check)" : "$(error)";
    const severity = state === "starting" || state === "running" || state === "stopped" ? "none" : "error";
    const lines = [`codeloop: ${CLIENT_TEXT[state]}`];
    if (python) lines.push(`Python: ${python}`);
    lines.push("Click for the logs.");
    return { text: `${icon} codeloop: ${CLIENT_TEXT[state]}`, tooltip: lines.join("\n"), severity };
  }
  const icon = server.busy ? "$(loading~spin)" : "$(check)";
  const parts = [`${icon} codeloop: ${plain(server.state)}`];
  if (server.sandboxLevel) parts.push(`sandbox ${plain(server.sandboxLevel)}`);
  parts.push(server.model ? plain(server.model) : "offline");
  let text = parts.join(" · ");
  if (server.busy) text += ` · ${plain(shorten(server.busy, BUSY_TEXT_MAX))}`;
  const lines = [
    `Server: ${server.state}`,
    `Sandbox: ${server.sandboxLevel || "?"}${SANDBOX_TEXT[server.sandboxLevel] ? ` (${SANDBOX_TEXT[server.sandboxLevel]})` : ""}`,
    `Model: ${server.model ?? "none (offline engines only)"}`,
  ];
  if (server.busy) lines.push(`Working: ${server.busy}`);
  if (python) lines.push(`Python: ${python}`);
  lines.push("Click for the logs.");
  const severity = server.sandboxLevel === "C" || server.sandboxLevel === "D" ? "warning" : "none";
  return { text, tooltip: lines.join("\n"), severity };
}

/** Validates an untrusted `codeloop/status` payload. */
export function parseStatus(raw: unknown): ServerStatus | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.state !== "string") return undefined;
  return {
    state: r.state,
    sandboxLevel: typeof r.sandboxLevel === "string" ? r.sandboxLevel : "",
    model: typeof r.model === "string" && r.model !== "" ? r.model : null,
    busy: busyLabel(r.busy),
  };
}

/** Longest busy label shown in the status bar itself (the tooltip has it whole). */
export const BUSY_TEXT_MAX = 48;

/**
 * `busy` is `string | null`: a label of the work in progress ("Generating tests for clamp"), or
 * null when idle. Older servers send a boolean: `true` is a generic "working", `false` idle.
 * Whitespace is collapsed; a blank string is idle.
 */
export function busyLabel(raw: unknown): string | null {
  if (raw === true) return "working";
  if (typeof raw !== "string") return null;
  const label = raw.replace(/\s+/g, " ").trim();
  return label === "" ? null : label;
}

/** Status bar text renders `$(name)` as an icon: a label from the server must not. */
function plain(text: string): string {
  return text.replace(/\$\(/g, "$\u200b(");
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}
