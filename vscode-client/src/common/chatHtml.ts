/**
 * The chat webview's HTML shell: no inline script or style, a strict Content-Security-Policy
 * whose only script source is one nonce, and the bundled script/stylesheet by webview URI.
 */
import { escapeHtml } from "./markdown";

export interface ChatHtmlInput {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** A random nonce of 32 characters from [A-Za-z0-9]. */
export function makeNonce(random: (n: number) => Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(random(32), (b) => alphabet[b % alphabet.length]).join("");
}

export function chatHtml(input: ChatHtmlInput): string {
  const csp = escapeHtml(contentSecurityPolicy(input.cspSource, input.nonce));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(input.styleUri)}">
<title>codeloop chat</title>
</head>
<body>
<main id="transcript" aria-live="polite">
<div id="empty" class="empty">
<p><strong>codeloop chat</strong></p>
<p>Ask about the active file or the selection; they go with your message as context. Code blocks in answers have Copy, Insert and Apply.</p>
</div>
</main>
<form id="composer">
<textarea id="input" rows="3" placeholder="Ask codeloop (Enter to send, Shift+Enter for a new line)" aria-label="Message"></textarea>
<div class="composer-buttons">
<button type="button" id="clear" class="secondary" title="Start a new conversation">Clear</button>
<button type="button" id="stop" class="secondary" disabled title="Stop the answer">Stop</button>
<button type="submit" id="send" title="Send (Enter)">Send</button>
</div>
</form>
<script nonce="${escapeHtml(input.nonce)}" src="${escapeHtml(input.scriptUri)}"></script>
</body>
</html>`;
}
