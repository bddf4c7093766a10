/**
 * What the client shows about an inline suggestion's background check. VS Code draws ghost text
 * with no room for an extension's label, so the verdict goes to a status bar note next to the
 * codeloop item: shown only while a suggestion the server marked verified is on screen (its
 * item carries the `codeloop.inlineCompletionAccepted` command titled with the evidence), or
 * when the check of the suggestion on screen failed. An unmarked suggestion shows no note.
 */
import { Methods } from "./protocol";

/** The command a verified inline item carries; its title is `codeloop: verified 2/2 examples`. */
export const INLINE_ACCEPTED_COMMAND = "codeloop.inlineCompletionAccepted";
export const INLINE_VERIFIED_NOTIFICATION = Methods.inlineVerified;

/** `codeloop/inlineVerified` (server → client): a background check ended. */
export interface InlineVerdict {
  uri: string;
  version: number | null;
  line: number;
  name: string;
  status: "verified" | "failed";
  evidence: string;
  reason: string;
}

/** Validates an untrusted `codeloop/inlineVerified` payload. */
export function parseVerdict(raw: unknown): InlineVerdict | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.uri !== "string" || typeof r.line !== "number" || !Number.isInteger(r.line) || r.line < 0) return undefined;
  if (r.status !== "verified" && r.status !== "failed") return undefined;
  return {
    uri: r.uri,
    version: typeof r.version === "number" ? r.version : null,
    line: r.line,
    name: typeof r.name === "string" ? r.name : "",
    status: r.status,
    evidence: typeof r.evidence === "string" ? r.evidence : "",
    reason: typeof r.reason === "string" ? r.reason : "",
  };
}

/** Where the user is: the active editor's document, its version and the cursor line. */
export interface EditorPlace {
  uri: string;
  version: number;
  line: number;
}

/** Is the verdict about the suggestion the user may be looking at right now? */
export function concernsPlace(verdict: InlineVerdict, place: EditorPlace | undefined): boolean {
  return (
    place !== undefined &&
    place.uri === verdict.uri &&
    place.line === verdict.line &&
    (verdict.version === null || verdict.version === place.version)
  );
}

/** A command as an inline item carries it (vscode.Command, or none). */
export interface ItemCommand {
  command: string;
  title: string;
  arguments?: unknown[];
}

/** The evidence of a verified item (`verified 2/2 examples`), or undefined for any other item. */
export function verifiedEvidence(command: ItemCommand | undefined): string | undefined {
  if (!command || command.command !== INLINE_ACCEPTED_COMMAND) return undefined;
  const title = command.title.replace(/^codeloop:\s*/, "").trim();
  return /^verified\b/.test(title) ? title : undefined;
}

export interface Note {
  text: string;
  tooltip: string;
  severity: "none" | "warning";
}

/** Status bar note for a suggestion on screen that the server marked verified. */
export function verifiedNote(evidence: string): Note {
  return {
    text: `$(pass) suggestion ${plain(evidence)}`,
    tooltip: `codeloop: the inline suggestion on screen was checked in the sandbox: ${evidence}. Tab accepts it.`,
    severity: "none",
  };
}

/** Status bar note after a verified suggestion was accepted. */
export function acceptedNote(evidence: string): Note {
  return {
    text: `$(pass) accepted: ${plain(evidence)}`,
    tooltip: `codeloop: the accepted suggestion was checked in the sandbox: ${evidence}.`,
    severity: "none",
  };
}

/** Status bar note when the check of the suggestion on screen failed (never a mark of trust). */
export function failedNote(verdict: InlineVerdict): Note {
  const what = verdict.name ? ` of ${verdict.name}` : "";
  return {
    text: `$(warning) suggestion${plain(what)} fails its checks`,
    tooltip: `codeloop: the inline suggestion${what} failed its checks in the sandbox${verdict.reason ? `: ${verdict.reason}` : ""}. It is not offered again.`,
    severity: "warning",
  };
}

/** Status bar text renders `$(name)` as an icon: text from the server must not. */
function plain(text: string): string {
  return text.replace(/\$\(/g, "$\u200b(");
}
