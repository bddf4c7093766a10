/**
 * The chat panel: a webview view that sends `codeloop/chat` requests with the active file and
 * selection as context, renders streamed `codeloop/chatChunk` notifications, and runs the code
 * block buttons (Copy, Insert at cursor, Apply through the server's version-checked edit).
 */
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { ExecuteCommandRequest } from "vscode-languageclient/node";
import { chatHtml, makeNonce } from "./common/chatHtml";
import { ChatSession, describeRequestError, toView, type ChatMessage } from "./common/chatState";
import {
  Methods,
  parseFromWebview,
  ServerCommands,
  type ApplyCodeArgs,
  type ApplyCodeResult,
  type ApplyProposalResult,
  type ChatChunk,
  type ChatContext,
  type ChatProposalEvent,
  type ChatResult,
  type ChatToolEvent,
  type ToWebview,
} from "./common/protocol";
import type { ServerManager } from "./server";

/** How often a streaming message is re-rendered, at most. */
const RENDER_INTERVAL_MS = 60;
/** Files larger than this go without their text (the selection still goes). */
const MAX_CONTEXT_CHARS = 200_000;

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly session = new ChatSession();
  private cancel: vscode.CancellationTokenSource | undefined;
  private lastEditor: vscode.TextEditor | undefined;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: ServerManager,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.lastEditor = vscode.window.activeTextEditor;
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor && (editor.document.uri.scheme === "file" || editor.document.uri.scheme === "untitled")) this.lastEditor = editor;
      }),
    );
    server.onClientReady((client) => {
      client.onNotification(Methods.chatChunk, (chunk: ChatChunk) => this.onChunk(chunk));
      client.onNotification(Methods.chatTool, (event: ChatToolEvent) => {
        if (this.session.toolEvent(event)) this.scheduleRender(event.id);
      });
      client.onNotification(Methods.chatProposal, (event: ChatProposalEvent) => {
        if (this.session.addProposal(event)) this.scheduleRender(event.id);
      });
    });
  }

  dispose(): void {
    this.cancel?.cancel();
    if (this.timer) clearTimeout(this.timer);
    this.disposables.forEach((d) => d.dispose());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, "dist");
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    view.webview.html = chatHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce((n) => randomBytes(n)),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, "chat.js")).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, "chat.css")).toString(),
    });
    this.disposables.push(
      view.webview.onDidReceiveMessage((raw) => this.onWebviewMessage(raw)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  private post(message: ToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  private postMessageView(msg: ChatMessage): void {
    this.post({ type: "message", message: toView(msg), busy: this.session.busy });
  }

  private postAll(): void {
    this.post({ type: "reset", messages: this.session.all().map(toView), busy: this.session.busy });
  }

  /** Re-renders streaming messages at most every RENDER_INTERVAL_MS. */
  private scheduleRender(id: string): void {
    this.dirty.add(id);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const dirtyId of this.dirty) {
        const msg = this.session.get(dirtyId);
        if (msg) this.postMessageView(msg);
      }
      this.dirty.clear();
    }, RENDER_INTERVAL_MS);
  }

  private onChunk(chunk: ChatChunk): void {
    if (!chunk || typeof chunk.id !== "string" || typeof chunk.delta !== "string") return;
    if (this.session.appendChunk(chunk.id, chunk.delta)) this.scheduleRender(chunk.id);
  }

  private async onWebviewMessage(raw: unknown): Promise<void> {
    const msg = parseFromWebview(raw);
    if (!msg) return;
    switch (msg.type) {
      case "ready":
        this.postAll();
        break;
      case "send":
        await this.send(msg.text);
        break;
      case "stop":
        this.stop();
        break;
      case "clear":
        this.stop();
        this.session.clear();
        this.postAll();
        break;
      case "codeAction":
        await this.codeAction(msg.action, msg.messageId, msg.block);
        break;
      case "proposal":
        await this.proposalAction(msg.action, msg.messageId, msg.proposalId);
        break;
    }
  }

  private editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) return active;
    return this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : undefined;
  }

  private context(): ChatContext | undefined {
    const editor = this.editor();
    if (!editor) return undefined;
    const doc = editor.document;
    const text = doc.getText();
    const ctx: ChatContext = {
      uri: doc.uri.toString(),
      languageId: doc.languageId,
      text: text.length > MAX_CONTEXT_CHARS ? "" : text,
    };
    const sel = editor.selection;
    if (!sel.isEmpty) {
      ctx.selection = {
        start: { line: sel.start.line, character: sel.start.character },
        end: { line: sel.end.line, character: sel.end.character },
      };
      ctx.selectionText = doc.getText(sel);
    }
    return ctx;
  }

  async send(text: string): Promise<void> {
    const started = this.session.start(text, this.context());
    if (!started) return;
    const { params, user, reply } = started;
    this.postMessageView(user);
    this.postMessageView(reply);
    const client = this.server.running;
    if (!client) {
      this.session.fail(reply.id, "The codeloop server is not running (see the status bar and codeloop: Show Logs).");
      this.postMessageView(reply);
      return;
    }
    const cancel = new vscode.CancellationTokenSource();
    this.cancel = cancel;
    try {
      const result = await client.sendRequest<ChatResult>(Methods.chat, params, cancel.token);
      if (result && typeof result === "object") {
        this.session.finish({ ...result, id: params.id });
      } else if (cancel.token.isCancellationRequested) {
        this.session.fail(reply.id, "Stopped.", true);
      } else {
        this.session.fail(reply.id, "The server sent no answer.");
      }
    } catch (err) {
      const reason = describeRequestError(err);
      this.session.fail(reply.id, reason, cancel.token.isCancellationRequested || reason === "Stopped.");
      if (!cancel.token.isCancellationRequested) this.log.warn(`codeloop/chat: ${reason}`);
    } finally {
      cancel.dispose();
      if (this.cancel === cancel) this.cancel = undefined;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.dirty.clear();
    }
    this.postMessageView(reply);
  }

  /** Stops the answer in flight: cancels the request and tells the server by notification too. */
  stop(): void {
    const id = this.session.pending;
    if (!id) return;
    this.cancel?.cancel();
    const client = this.server.running;
    if (client) void client.sendNotification(Methods.chatCancel, { id }).catch(() => undefined);
    const msg = this.session.fail(id, "Stopped.", true);
    if (msg) this.postMessageView(msg);
  }

  /** Apply (the server's version-checked edit) or discard one of the agent's proposals. */
  private async proposalAction(action: "apply" | "discard", messageId: string, proposalId: string): Promise<void> {
    const card = this.session.proposal(messageId, proposalId);
    const msg = this.session.get(messageId);
    if (!card || !msg || card.state !== "pending") return;
    const client = this.server.running;
    if (!client) {
      this.post({ type: "notice", text: "Proposals are applied by the codeloop server, which is not running." });
      return;
    }
    card.state = "applying";
    this.postMessageView(msg);
    const command = action === "apply" ? ServerCommands.applyProposal : ServerCommands.discardProposal;
    try {
      const result = (await client.sendRequest(ExecuteCommandRequest.type, {
        command,
        arguments: [{ id: proposalId }],
      })) as ApplyProposalResult | null;
      if (action === "discard") {
        card.state = "discarded";
      } else if (result && result.applied) {
        card.state = "applied";
      } else {
        card.state = "refused";
        card.reason = result?.reason ?? "the server did not apply it";
        void vscode.window.showWarningMessage(`codeloop: the proposal was not applied: ${card.reason}`);
      }
    } catch (err) {
      card.state = "refused";
      card.reason = describeRequestError(err);
    }
    this.postMessageView(msg);
  }

  private async codeAction(action: "copy" | "insert" | "apply", messageId: string, index: number): Promise<void> {
    const block = this.session.codeBlock(messageId, index);
    if (!block) return;
    if (action === "copy") {
      await vscode.env.clipboard.writeText(block.code);
      return;
    }
    const editor = this.editor();
    if (!editor) {
      this.post({ type: "notice", text: "Open an editor first: Insert and Apply act on the active editor." });
      return;
    }
    if (action === "insert") {
      const ok = await editor.edit((edit) => {
        for (const sel of editor.selections) edit.replace(sel, block.code);
      });
      if (!ok) this.post({ type: "notice", text: "The editor did not accept the insertion." });
      return;
    }
    const client = this.server.running;
    if (!client) {
      this.post({ type: "notice", text: "Apply needs the codeloop server, which is not running." });
      return;
    }
    const args: ApplyCodeArgs = { uri: editor.document.uri.toString(), version: editor.document.version, text: block.code };
    if (!editor.selection.isEmpty) {
      const s = editor.selection;
      args.range = { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
    }
    try {
      const result = (await client.sendRequest(ExecuteCommandRequest.type, {
        command: ServerCommands.applyCode,
        arguments: [args],
      })) as ApplyCodeResult | null;
      if (!result || !result.applied) {
        const reason = result?.reason ?? "the server did not apply it";
        this.post({ type: "notice", text: `Not applied: ${reason}` });
        void vscode.window.showWarningMessage(`codeloop: the code was not applied: ${reason}`);
      }
    } catch (err) {
      this.post({ type: "notice", text: `Apply failed: ${describeRequestError(err)}` });
    }
  }
}

export function registerChatView(context: vscode.ExtensionContext, provider: ChatViewProvider, viewId: string): void {
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(viewId, provider, { webviewOptions: { retainContextWhenHidden: true } }),
    provider,
  );
}
