/**
 * The chat conversation as the client sees it: messages, the one request in flight, streamed
 * chunks, and how a result or failure ends a turn. Pure; the view and the transport sit outside.
 */
import { renderMarkdown, escapeHtml, type CodeBlock } from "./markdown";
import type {
  ChatContext,
  ChatMessageView,
  ChatParams,
  ChatProposalEvent,
  ChatResult,
  ChatRole,
  ChatToolEvent,
  Proposal,
} from "./protocol";

export type MessageStatus = ChatMessageView["status"];

/** One tool call of the agent, as a card: running, then done / failed / ... with its result. */
export interface ToolCard {
  callId: string;
  name: string;
  args: string;
  status: ChatToolEvent["status"];
  result?: string;
}

/** A proposed change: pending until the user applies or discards it (or the server refuses). */
export interface ProposalCard {
  proposal: Proposal;
  state: "pending" | "applying" | "applied" | "discarded" | "refused";
  reason?: string;
}

export interface ChatMessage {
  id: string;
  role: ChatRole;
  content: string;
  status: MessageStatus;
  /** A short line shown under the message (why it stopped, an error). */
  note?: string;
  tools?: ToolCard[];
  proposals?: ProposalCard[];
}

const MAX_ARGS_SHOWN = 120;

function showArgs(args: unknown): string {
  let text: string;
  try {
    text = typeof args === "string" ? args : JSON.stringify(args ?? {});
  } catch {
    text = String(args);
  }
  return text.length > MAX_ARGS_SHOWN ? `${text.slice(0, MAX_ARGS_SHOWN - 1)}…` : text;
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

  /** Records a tool call's start or end on the message of its chat; returns the message when it changed. */
  toolEvent(event: ChatToolEvent): ChatMessage | undefined {
    if (!event || typeof event.id !== "string" || typeof event.callId !== "string" || typeof event.name !== "string") {
      return undefined;
    }
    const msg = this.get(event.id);
    if (!msg || msg.role !== "assistant") return undefined;
    msg.tools ??= [];
    let card = msg.tools.find((c) => c.callId === event.callId);
    if (!card) {
      card = { callId: event.callId, name: event.name, args: showArgs(event.arguments), status: event.status };
      msg.tools.push(card);
    }
    card.status = event.status;
    if (typeof event.result === "string") card.result = event.result;
    return msg;
  }

  /** Adds a proposal to the message of its chat. */
  addProposal(event: ChatProposalEvent): ChatMessage | undefined {
    const p = event?.proposal;
    if (!p || typeof p.id !== "string" || typeof p.diff !== "string") return undefined;
    const msg = this.get(event.id);
    if (!msg || msg.role !== "assistant") return undefined;
    msg.proposals ??= [];
    if (!msg.proposals.some((c) => c.proposal.id === p.id)) msg.proposals.push({ proposal: p, state: "pending" });
    return msg;
  }

  /** The proposal card ``proposalId`` of message ``messageId``. */
  proposal(messageId: string, proposalId: string): ProposalCard | undefined {
    return this.get(messageId)?.proposals?.find((c) => c.proposal.id === proposalId);
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
        msg.note = "The answer was cut off at the length or token limit.";
        break;
      case "max_steps":
        msg.status = "done";
        msg.note = "The agent reached its step limit (codeloop.agent.maxSteps) and answered with what it had.";
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

const STATUS_LABEL: Record<ToolCard["status"], string> = {
  running: "running…",
  done: "done",
  cached: "done (repeated call)",
  failed: "failed",
  declined: "declined",
  timeout: "timed out",
  cancelled: "stopped",
};

/** A tool call as a card: name, arguments and status; the result expands. All text escaped. */
export function toolCardHtml(card: ToolCard): string {
  const cls = card.status === "running" ? "running" : ["done", "cached"].includes(card.status) ? "done" : "failed";
  const head =
    `<span class="tool-name">${escapeHtml(card.name)}</span> <span class="tool-args">${escapeHtml(card.args)}</span>` +
    ` <span class="tool-status">${STATUS_LABEL[card.status] ?? escapeHtml(card.status)}</span>`;
  const result = card.result ?? "";
  const body = result === "" ? "" : `<pre class="tool-result">${escapeHtml(result)}</pre>`;
  return `<details class="tool-card ${cls}" data-call="${escapeHtml(card.callId)}"><summary>${head}</summary>${body}</details>`;
}

/** A proposal as a card: the file, the diff (lines coloured by their sign) and Apply / Discard. */
export function proposalCardHtml(card: ProposalCard): string {
  const p = card.proposal;
  const lines = p.diff
    .split("\n")
    .map((line) => {
      const kind = line.startsWith("+++") || line.startsWith("---") ? "file" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "ctx";
      return `<span class="diff-${kind}">${escapeHtml(line)}</span>`;
    })
    .join("\n");
  const id = escapeHtml(p.id);
  const buttons =
    card.state === "pending"
      ? `<button class="proposal-button" data-action="apply" data-proposal="${id}">Apply</button>` +
        `<button class="proposal-button" data-action="discard" data-proposal="${id}">Discard</button>`
      : "";
  const state =
    card.state === "pending"
      ? ""
      : `<span class="proposal-state ${card.state}">${escapeHtml(
          card.state === "refused" ? `Not applied: ${card.reason ?? "refused"}` : card.state === "applying" ? "Applying…" : card.state,
        )}</span>`;
  return (
    `<div class="proposal ${card.state}" data-proposal="${id}"><div class="proposal-head">` +
    `${p.created ? "New file" : "Change to"} <code>${escapeHtml(p.path)}</code> ${buttons}${state}</div>` +
    `<pre class="diff">${lines}</pre></div>`
  );
}

/** What the webview shows for a message: user text escaped verbatim, assistant text as rendered
 * markdown after the tool cards, then the proposals. */
export function toView(msg: ChatMessage): ChatMessageView {
  const cards = (msg.tools ?? []).map(toolCardHtml).join("");
  const proposals = (msg.proposals ?? []).map(proposalCardHtml).join("");
  const html =
    msg.role === "user"
      ? `<p>${escapeHtml(msg.content).replace(/\n/g, "<br>")}</p>`
      : cards + renderMarkdown(msg.content).html + proposals;
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
