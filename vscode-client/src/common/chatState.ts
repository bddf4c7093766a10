/**
 * The chat conversation as the client sees it: messages, the one request in flight, streamed
 * chunks, and how a result or failure ends a turn. Pure; the view and the transport sit outside.
 */
import { renderMarkdown, escapeHtml, type CodeBlock } from "./markdown";
import type { ChatContext, ChatMessageView, ChatParams, ChatResult, ChatRole } from "./protocol";

export type MessageStatus = ChatMessageView["status"];

export interface ChatMessage {
  id: string;
  role: ChatRole;
  content: string;
  status: MessageStatus;
  /** A short line shown under the message (why it stopped, an error). */
  note?: string;
}

/** How many earlier messages go with each request (the server trims further to its token budget). */
export const MAX_HISTORY = 20;

export class ChatSession {
  private readonly messages: ChatMessage[] = [];
  private counter = 0;
  private pendingId: string | undefined;

  constructor(private readonly idPrefix: string = Math.random().toString(36).slice(2, 8)) {}

  get busy(): boolean {
    return this.pendingId !== undefined;
  }

  get pending(): string | undefined {
    return this.pendingId;
  }

  all(): readonly ChatMessage[] {
    return this.messages;
  }

  get(id: string): ChatMessage | undefined {
    return this.messages.find((m) => m.id === id);
  }

  clear(): void {
    this.messages.length = 0;
    this.pendingId = undefined;
  }

  /**
   * Starts a turn: records the user's message and an empty assistant message that chunks fill.
   * Returns the request params, or undefined while another request is in flight.
   */
  start(message: string, context?: ChatContext): { params: ChatParams; user: ChatMessage; reply: ChatMessage } | undefined {
    const text = message.trim();
    if (text === "" || this.busy) return undefined;
    const history = this.messages
      .filter((m) => m.status === "done" && m.content.trim() !== "")
      .slice(-MAX_HISTORY)
      .map((m) => ({ role: m.role, content: m.content }));
    const id = `${this.idPrefix}-${++this.counter}`;
    const user: ChatMessage = { id: `${id}-q`, role: "user", content: text, status: "done" };
    const reply: ChatMessage = { id, role: "assistant", content: "", status: "streaming" };
    this.messages.push(user, reply);
    this.pendingId = id;
    const params: ChatParams = { id, message: text, history };
    if (context) params.context = context;
    return { params, user, reply };
  }

  /** Appends a streamed delta; returns the message when it changed (chunks after the end are ignored). */
  appendChunk(id: string, delta: string): ChatMessage | undefined {
    const msg = this.get(id);
    if (!msg || msg.status !== "streaming" || typeof delta !== "string" || delta === "") return undefined;
    msg.content += delta;
    return msg;
  }

  /** Ends a turn with the server's result. The result's text wins over the streamed text when it is longer. */
  finish(result: ChatResult): ChatMessage | undefined {
    const msg = this.get(result.id);
    if (!msg || msg.status !== "streaming") return undefined;
    if (typeof result.text === "string" && result.text.length >= msg.content.length) msg.content = result.text;
    switch (result.finishReason) {
      case "stop":
      case "no_model":
        msg.status = "done";
        break;
      case "length":
        msg.status = "done";
        msg.note = "The answer was cut off at the model's length limit.";
        break;
      case "cancelled":
        msg.status = "cancelled";
        msg.note = "Stopped.";
        break;
      case "error":
      default:
        msg.status = "error";
        msg.note = result.error ? `Error: ${result.error}` : "The model call failed (see codeloop: Show Logs).";
        break;
    }
    if (this.pendingId === result.id) this.pendingId = undefined;
    return msg;
  }

  /** Ends a turn that failed on the client side (no server, request error, cancelled before any result). */
  fail(id: string, reason: string, cancelled = false): ChatMessage | undefined {
    const msg = this.get(id);
    if (!msg || msg.status !== "streaming") return undefined;
    msg.status = cancelled ? "cancelled" : "error";
    msg.note = reason;
    if (this.pendingId === id) this.pendingId = undefined;
    return msg;
  }

  /** The code blocks of a message, for the Copy / Insert / Apply buttons. */
  codeBlock(messageId: string, index: number): CodeBlock | undefined {
    const msg = this.get(messageId);
    if (!msg) return undefined;
    return renderMarkdown(msg.content).codeBlocks[index];
  }
}

/** What the webview shows for a message: user text escaped verbatim, assistant text as rendered markdown. */
export function toView(msg: ChatMessage): ChatMessageView {
  const html =
    msg.role === "user"
      ? `<p>${escapeHtml(msg.content).replace(/\n/g, "<br>")}</p>`
      : renderMarkdown(msg.content).html;
  const view: ChatMessageView = { id: msg.id, role: msg.role, html, status: msg.status };
  if (msg.note) view.note = msg.note;
  return view;
}

/** Turns a failed `codeloop/chat` request into a message for the user. */
export function describeRequestError(error: unknown): string {
  const e = error as { code?: number; message?: string } | undefined;
  if (e && e.code === -32601) {
    return "This codeloop server does not support chat yet (codeloop/chat is not implemented). Update codeloop.";
  }
  if (e && e.code === -32800) return "Stopped."; // RequestCancelled
  const message = e && typeof e.message === "string" ? e.message : String(error);
  return `Error: ${message}`;
}
