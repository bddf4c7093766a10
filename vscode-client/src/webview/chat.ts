/**
 * The chat webview's script (bundled to dist/chat.js, loaded with the page's nonce).
 * It only displays what the extension sends and forwards user input; the HTML of a message is
 * produced by the extension's markdown renderer, which escapes all model text.
 */
import type { ChatMessageView, FromWebview, ToWebview } from "../common/protocol";

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void; getState(): unknown; setState(state: unknown): void };

const vscode = acquireVsCodeApi();
const transcript = document.getElementById("transcript") as HTMLElement;
const empty = document.getElementById("empty") as HTMLElement;
const form = document.getElementById("composer") as HTMLFormElement;
const input = document.getElementById("input") as HTMLTextAreaElement;
const send = document.getElementById("send") as HTMLButtonElement;
const stop = document.getElementById("stop") as HTMLButtonElement;
const clear = document.getElementById("clear") as HTMLButtonElement;

function setBusy(busy: boolean): void {
  document.body.classList.toggle("busy", busy);
  stop.disabled = !busy;
  send.disabled = busy;
}

function renderMessage(view: ChatMessageView): void {
  let el = document.querySelector<HTMLElement>(`.message[data-id="${CSS.escape(view.id)}"]`);
  if (!el) {
    el = document.createElement("section");
    el.className = "message";
    el.dataset.id = view.id;
    const role = document.createElement("div");
    role.className = "role";
    role.textContent = view.role === "user" ? "You" : "codeloop";
    const body = document.createElement("div");
    body.className = "body";
    const note = document.createElement("div");
    note.className = "note";
    el.append(role, body, note);
    transcript.appendChild(el);
  }
  el.classList.remove("user", "assistant", "streaming", "done", "cancelled", "error");
  el.classList.add(view.role, view.status);
  const body = el.querySelector(".body") as HTMLElement;
  // view.html comes from the extension's renderer, which escapes all text it is given.
  body.innerHTML = view.html || (view.status === "streaming" ? '<p class="thinking">…</p>' : "");
  (el.querySelector(".note") as HTMLElement).textContent = view.note ?? "";
  empty.hidden = true;
}

function scrollToEnd(): void {
  transcript.scrollTop = transcript.scrollHeight;
}

window.addEventListener("message", (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  if (!msg || typeof msg !== "object") return;
  switch (msg.type) {
    case "reset":
      transcript.querySelectorAll(".message, .notice").forEach((n) => n.remove());
      msg.messages.forEach(renderMessage);
      empty.hidden = msg.messages.length > 0;
      setBusy(msg.busy);
      scrollToEnd();
      break;
    case "message": {
      const nearEnd = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
      renderMessage(msg.message);
      setBusy(msg.busy);
      if (nearEnd) scrollToEnd();
      break;
    }
    case "notice": {
      const n = document.createElement("div");
      n.className = "notice";
      n.textContent = msg.text;
      transcript.appendChild(n);
      scrollToEnd();
      break;
    }
  }
});

function submit(): void {
  const text = input.value;
  if (text.trim() === "" || send.disabled) return;
  vscode.postMessage({ type: "send", text });
  input.value = "";
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
stop.addEventListener("click", () => vscode.postMessage({ type: "stop" }));
clear.addEventListener("click", () => vscode.postMessage({ type: "clear" }));

transcript.addEventListener("click", (e) => {
  const proposal = (e.target as HTMLElement).closest<HTMLButtonElement>("button.proposal-button");
  if (proposal) {
    const message = proposal.closest<HTMLElement>(".message");
    const action = proposal.dataset.action;
    const proposalId = proposal.dataset.proposal;
    if (message?.dataset.id && proposalId && (action === "apply" || action === "discard")) {
      vscode.postMessage({ type: "proposal", action, messageId: message.dataset.id, proposalId });
    }
    return;
  }
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button.code-button");
  if (!button) return;
  const message = button.closest<HTMLElement>(".message");
  const action = button.dataset.action;
  const block = Number(button.dataset.block);
  if (!message?.dataset.id || !Number.isInteger(block)) return;
  if (action === "copy" || action === "insert" || action === "apply") {
    vscode.postMessage({ type: "codeAction", action, messageId: message.dataset.id, block });
    const label = button.textContent;
    button.textContent = action === "copy" ? "Copied" : action === "insert" ? "Inserted" : "Applying…";
    setTimeout(() => (button.textContent = label), 1500);
  }
});

vscode.postMessage({ type: "ready" });
input.focus();
