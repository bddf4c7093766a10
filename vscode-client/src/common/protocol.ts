/**
 * Names and shapes of everything the client and the codeloop server exchange beyond plain LSP.
 * No `vscode` import: shared by the extension, the webview bundle and the unit tests.
 */

/** Commands the server implements (registered by vscode-languageclient from executeCommandProvider). */
export const ServerCommands = {
  implement: "codeloop.implement",
  generateTests: "codeloop.generateTests",
  runTests: "codeloop.runTests",
  cancel: "codeloop.cancel",
  applyCode: "codeloop.applyCode",
  resetIndex: "codeloop.resetIndex",
  applyProposal: "codeloop.applyProposal",
  discardProposal: "codeloop.discardProposal",
} as const;

/** Server commands that act on "the code at the cursor": the client fills in the position when called without arguments. */
export const EDITOR_POSITION_COMMANDS: readonly string[] = [
  ServerCommands.implement,
  ServerCommands.generateTests,
  ServerCommands.runTests,
];

/** Commands the client implements itself. */
export const ClientCommands = {
  restart: "codeloop.restart",
  showLogs: "codeloop.showLogs",
  setApiKey: "codeloop.setApiKey",
  clearApiKey: "codeloop.clearApiKey",
  openChat: "codeloop.openChat",
} as const;

export const CHAT_VIEW_ID = "codeloop.chat";
export const SERVER_RUNNING_CONTEXT = "codeloop.serverRunning";
export const SECRET_API_KEY = "codeloop.apiKey";

export const Methods = {
  status: "codeloop/status",
  chat: "codeloop/chat",
  chatChunk: "codeloop/chatChunk",
  chatCancel: "codeloop/chatCancel",
  chatTool: "codeloop/chatTool",
  chatProposal: "codeloop/chatProposal",
  inlineVerified: "codeloop/inlineVerified",
} as const;

/** `codeloop/status` notification (server → client). */
export interface ServerStatus {
  state: string;
  sandboxLevel: string;
  model: string | null;
  busy: string | null;
}

export interface Position {
  line: number;
  character: number;
}

export interface EditorPositionArgs {
  uri: string;
  line: number;
  version: number;
}

export type ChatRole = "user" | "assistant";

export interface ChatContext {
  uri: string;
  languageId: string;
  text: string;
  selection?: { start: Position; end: Position };
  selectionText?: string;
}

/** `codeloop/chat` request params. */
export interface ChatParams {
  id: string;
  message: string;
  history: { role: ChatRole; content: string }[];
  context?: ChatContext;
}

export type FinishReason = "stop" | "cancelled" | "error" | "no_model" | "length" | "max_steps";

/** `codeloop/chat` result. */
export interface ChatResult {
  id: string;
  text: string;
  finishReason: FinishReason;
  error?: string;
}

/** `codeloop/chatTool` notification (server → client): a tool call started or ended. */
export interface ChatToolEvent {
  id: string;
  callId: string;
  name: string;
  arguments: unknown;
  status: "running" | "done" | "failed" | "cached" | "declined" | "timeout" | "cancelled";
  result?: string;
}

/** A change the agent proposes; the user applies or discards it. */
export interface Proposal {
  id: string;
  uri: string;
  path: string;
  version: number | null;
  diff: string;
  newText: string;
  created: boolean;
}

/** `codeloop/chatProposal` notification (server → client). */
export interface ChatProposalEvent {
  id: string;
  callId: string;
  proposal: Proposal;
}

/** Result of `codeloop.applyProposal`. */
export interface ApplyProposalResult {
  applied: boolean;
  reason?: string;
}

/** `codeloop/chatChunk` notification (server → client). */
export interface ChatChunk {
  id: string;
  delta: string;
}

/** Argument of the `codeloop.applyCode` server command. */
export interface ApplyCodeArgs {
  uri: string;
  version: number;
  text: string;
  range?: { start: Position; end: Position };
}

export interface ApplyCodeResult {
  applied: boolean;
  reason?: string;
}

/** One chat message as the webview shows it. */
export interface ChatMessageView {
  id: string;
  role: ChatRole;
  html: string;
  status: "streaming" | "done" | "cancelled" | "error";
  note?: string;
}

/** Messages from the extension to the chat webview. */
export type ToWebview =
  | { type: "reset"; messages: ChatMessageView[]; busy: boolean }
  | { type: "message"; message: ChatMessageView; busy: boolean }
  | { type: "notice"; text: string };

/** Messages from the chat webview to the extension. */
export type FromWebview =
  | { type: "ready" }
  | { type: "send"; text: string }
  | { type: "stop" }
  | { type: "clear" }
  | { type: "codeAction"; action: "copy" | "insert" | "apply"; messageId: string; block: number }
  | { type: "proposal"; action: "apply" | "discard"; messageId: string; proposalId: string };

/** Validates an untrusted message from the webview; returns undefined when it is malformed. */
export function parseFromWebview(raw: unknown): FromWebview | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case "ready":
    case "stop":
    case "clear":
      return { type: m.type };
    case "send":
      return typeof m.text === "string" && m.text.trim() !== "" ? { type: "send", text: m.text } : undefined;
    case "codeAction":
      if (
        (m.action === "copy" || m.action === "insert" || m.action === "apply") &&
        typeof m.messageId === "string" &&
        typeof m.block === "number" &&
        Number.isInteger(m.block) &&
        m.block >= 0
      ) {
        return { type: "codeAction", action: m.action, messageId: m.messageId, block: m.block };
      }
      return undefined;
    case "proposal":
      if (
        (m.action === "apply" || m.action === "discard") &&
        typeof m.messageId === "string" &&
        typeof m.proposalId === "string" &&
        m.proposalId !== ""
      ) {
        return { type: "proposal", action: m.action, messageId: m.messageId, proposalId: m.proposalId };
      }
      return undefined;
    default:
      return undefined;
  }
}
