/**
 * A small markdown-to-HTML renderer for chat answers, safe by construction.
 *
 * Model output is untrusted. Instead of rendering arbitrary markdown and sanitising the HTML
 * afterwards, this renderer supports only the subset a chat answer needs and escapes *every*
 * character of the input: raw HTML in the input always comes out as text. The only tags it
 * emits are its own (p, h3-h6, ul/ol/li, blockquote, hr, pre/code, strong, em, del, a, and the
 * code-block toolbar), and the only URLs it emits are http(s) links that `URL` parses.
 *
 * Supported: fenced code blocks (``` and ~~~, also unterminated while an answer streams),
 * inline code, **bold**, *italic* / _italic_, ~~strike~~, [links](https://...), headings,
 * bullet and numbered lists (nested by indentation), blockquotes, horizontal rules, paragraphs.
 */

export interface CodeBlock {
  /** The info string's first word, restricted to [A-Za-z0-9_+#.-]; "" when absent. */
  lang: string;
  code: string;
  /** False while the closing fence has not arrived yet (streaming). */
  closed: boolean;
}

export interface RenderedMarkdown {
  html: string;
  codeBlocks: CodeBlock[];
}

const MAX_DEPTH = 8;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Returns a normalised http(s) URL, or undefined for anything else (javascript:, data:, relative, ...). */
export function safeUrl(raw: string): string | undefined {
  const candidate = raw.trim();
  // Control characters and whitespace inside a URL are never legitimate here.
  // eslint-disable-next-line no-control-regex
  if (candidate === "" || /[\u0000-\u0020\u007f-\u009f]/.test(candidate)) return undefined;
  if (!/^https?:\/\//i.test(candidate)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(candidate);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  return parsed.href;
}

function sanitizeLang(info: string): string {
  const word = info.trim().split(/\s+/)[0] ?? "";
  return /^[A-Za-z0-9_+#.-]{1,32}$/.test(word) ? word : "";
}

export function renderMarkdown(source: string): RenderedMarkdown {
  // NUL is used internally as a placeholder delimiter; it has no business in chat text.
  // eslint-disable-next-line no-control-regex
  const text = source.replace(/\r\n?/g, "\n").replace(/\u0000/g, "\uFFFD");
  const codeBlocks: CodeBlock[] = [];
  const html = renderBlocks(text.split("\n"), 0, false, codeBlocks);
  return { html, codeBlocks };
}

/** The code blocks of a markdown text, in order (the indices the rendered toolbar buttons refer to). */
export function extractCodeBlocks(source: string): CodeBlock[] {
  return renderMarkdown(source).codeBlocks;
}

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const LIST_ITEM = /^( {0,12})([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;

function isBlank(line: string): boolean {
  return line.trim() === "";
}

function startsBlock(line: string): boolean {
  return FENCE_OPEN.test(line) || HEADING.test(line) || HR.test(line) || QUOTE.test(line) || LIST_ITEM.test(line);
}

function indentOf(line: string): number {
  const m = /^[ \t]*/.exec(line);
  return m ? m[0].replace(/\t/g, "    ").length : 0;
}

function dedent(line: string, amount: number): string {
  let i = 0;
  let removed = 0;
  while (i < line.length && removed < amount && (line[i] === " " || line[i] === "\t")) {
    removed += line[i] === "\t" ? 4 : 1;
    i++;
  }
  return line.slice(i);
}

/**
 * Renders a list of lines as blocks. `tight` (inside list items) leaves a lone paragraph unwrapped.
 */
function renderBlocks(lines: string[], depth: number, tight: boolean, codeBlocks: CodeBlock[]): string {
  if (depth > MAX_DEPTH) {
    return `<p>${escapeHtml(lines.join("\n"))}</p>`;
  }
  const out: string[] = [];
  let paragraph: string[] = [];
  let paragraphs = 0;
  const flush = () => {
    if (paragraph.length > 0) {
      out.push(`<p>${renderInline(paragraph.join("\n").trim())}</p>`);
      paragraphs++;
      paragraph = [];
    }
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = FENCE_OPEN.exec(line);
    if (fence && !(fence[2][0] === "`" && fence[3].includes("`"))) {
      flush();
      const marker = fence[2];
      const indent = fence[1].length;
      const body: string[] = [];
      let closed = false;
      i++;
      while (i < lines.length) {
        const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]);
        if (close && close[1][0] === marker[0] && close[1].length >= marker.length) {
          closed = true;
          i++;
          break;
        }
        body.push(dedent(lines[i], indent));
        i++;
      }
      const block: CodeBlock = { lang: sanitizeLang(fence[3]), code: body.join("\n"), closed };
      out.push(renderCodeBlock(block, codeBlocks.length));
      codeBlocks.push(block);
      continue;
    }
    if (isBlank(line)) {
      flush();
      i++;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const level = Math.min(heading[1].length + 2, 6);
      out.push(`<h${level}>${renderInline((heading[2] ?? "").trim())}</h${level}>`);
      i++;
      continue;
    }
    if (HR.test(line) && !(paragraph.length > 0 && /^ {0,3}-+[ \t]*$/.test(line))) {
      flush();
      out.push("<hr>");
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      flush();
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        quoted.push((QUOTE.exec(lines[i]) as RegExpExecArray)[1]);
        i++;
      }
      out.push(`<blockquote>${renderBlocks(quoted, depth + 1, false, codeBlocks)}</blockquote>`);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item && (paragraph.length === 0 || (item[3] ?? "") !== "")) {
      flush();
      i = renderList(lines, i, depth, out, codeBlocks);
      continue;
    }
    paragraph.push(line);
    i++;
  }
  flush();
  if (tight && paragraphs === 1 && out.length > 0 && out[0].startsWith("<p>")) {
    out[0] = out[0].slice(3, -4);
  }
  return out.join("");
}

/** Renders the list starting at `start`; returns the index of the first line after it. */
function renderList(lines: string[], start: number, depth: number, out: string[], codeBlocks: CodeBlock[]): number {
  const first = LIST_ITEM.exec(lines[start]) as RegExpExecArray;
  const baseIndent = first[1].length;
  const ordered = /\d/.test(first[2][0]);
  const items: string[][] = [];
  let i = start;
  while (i < lines.length) {
    const m = LIST_ITEM.exec(lines[i]);
    if (!m || m[1].length !== baseIndent || /\d/.test(m[2][0]) !== ordered) break;
    const contentIndent = baseIndent + m[2].length + 1;
    const itemLines = [m[3] ?? ""];
    i++;
    while (i < lines.length) {
      const next = lines[i];
      if (isBlank(next)) {
        // A blank line continues the item only when indented content follows it.
        if (i + 1 < lines.length && !isBlank(lines[i + 1]) && indentOf(lines[i + 1]) > baseIndent) {
          itemLines.push("");
          i++;
          continue;
        }
        break;
      }
      if (indentOf(next) > baseIndent) {
        itemLines.push(dedent(next, contentIndent));
        i++;
        continue;
      }
      if (!startsBlock(next) && !LIST_ITEM.test(next)) {
        // Lazy continuation of the item's paragraph.
        itemLines.push(next.trim());
        i++;
        continue;
      }
      break;
    }
    items.push(itemLines);
    // Blank lines between items of the same list keep the list going.
    let j = i;
    while (j < lines.length && isBlank(lines[j])) j++;
    if (j > i && j < lines.length) {
      const m2 = LIST_ITEM.exec(lines[j]);
      if (m2 && m2[1].length === baseIndent && /\d/.test(m2[2][0]) === ordered) i = j;
    }
  }
  const tag = ordered ? "ol" : "ul";
  let open = `<${tag}>`;
  if (ordered) {
    const n = parseInt(first[2], 10);
    if (Number.isFinite(n) && n !== 1) open = `<ol start="${n}">`;
  }
  out.push(open + items.map((it) => `<li>${renderBlocks(it, depth + 1, true, codeBlocks)}</li>`).join("") + `</${tag}>`);
  return i;
}

function renderCodeBlock(block: CodeBlock, index: number): string {
  const lang = block.lang ? `<span class="code-lang">${escapeHtml(block.lang)}</span>` : `<span class="code-lang"></span>`;
  const buttons = (["copy", "insert", "apply"] as const)
    .map((action) => {
      const label = action === "copy" ? "Copy" : action === "insert" ? "Insert" : "Apply";
      const title =
        action === "copy"
          ? "Copy to the clipboard"
          : action === "insert"
            ? "Insert at the cursor of the active editor"
            : "Replace the selection (or the file) in the active editor, checked against its version";
      return `<button type="button" class="code-button" data-action="${action}" data-block="${index}" title="${title}">${label}</button>`;
    })
    .join("");
  const codeClass = block.lang ? ` class="language-${escapeHtml(block.lang)}"` : "";
  const state = block.closed ? "" : " streaming";
  return (
    `<div class="code-block${state}" data-block="${index}">` +
    `<div class="code-toolbar">${lang}${buttons}</div>` +
    `<pre><code${codeClass}>${escapeHtml(block.code)}</code></pre></div>`
  );
}

const PLACEHOLDER = /\u0000(\d+)\u0000/g;

/**
 * Inline markdown: code spans and links are cut out first (into placeholders), the rest is
 * escaped, then emphasis is applied to the escaped text (it can no longer contain markup).
 */
export function renderInline(text: string, allowLinks = true): string {
  const pieces: string[] = [];
  const hold = (html: string) => {
    pieces.push(html);
    return `\u0000${pieces.length - 1}\u0000`;
  };
  let plain = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\" && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      plain += hold(escapeHtml(text[i + 1]));
      i += 2;
      continue;
    }
    if (ch === "`") {
      let run = 1;
      while (text[i + run] === "`") run++;
      const fence = "`".repeat(run);
      let search = i + run;
      let close = -1;
      while (search < text.length) {
        const idx = text.indexOf(fence, search);
        if (idx === -1) break;
        let end = idx + run;
        if (text[end] !== "`" && text[idx - 1] !== "`") {
          close = idx;
          break;
        }
        while (text[end] === "`") end++;
        search = end;
      }
      if (close !== -1) {
        let code = text.slice(i + run, close).replace(/\n/g, " ");
        if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim() !== "") code = code.slice(1, -1);
        plain += hold(`<code>${escapeHtml(code)}</code>`);
        i = close + run;
        continue;
      }
      plain += fence;
      i += run;
      continue;
    }
    if (ch === "[" && allowLinks) {
      const link = parseLink(text, i);
      if (link) {
        const label = renderInline(link.label, false);
        const href = safeUrl(link.url);
        plain += hold(href ? `<a href="${escapeHtml(href)}" title="${escapeHtml(href)}">${label}</a>` : label);
        i = link.end;
        continue;
      }
    }
    if ((ch === "h" || ch === "H") && allowLinks && (i === 0 || /[\s(]/.test(text[i - 1]))) {
      const m = /^https?:\/\/[^\s<>()`"']+[^\s<>()`"'.,;:!?]/i.exec(text.slice(i));
      const href = m ? safeUrl(m[0]) : undefined;
      if (m && href) {
        plain += hold(`<a href="${escapeHtml(href)}" title="${escapeHtml(href)}">${escapeHtml(m[0])}</a>`);
        i += m[0].length;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  let html = escapeHtml(plain);
  html = html
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([\s\S]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  return html.replace(PLACEHOLDER, (_, n: string) => pieces[Number(n)] ?? "");
}

/** Parses `[label](url "title")` at `start`; the title is ignored. */
function parseLink(text: string, start: number): { label: string; url: string; end: number } | undefined {
  let depth = 0;
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "[") depth++;
    else if (c === "]") {
      depth--;
      if (depth === 0) break;
    } else if (c === "\n" && text[i + 1] === "\n") return undefined;
  }
  if (depth !== 0 || text[i + 1] !== "(") return undefined;
  const labelEnd = i;
  let j = i + 2;
  let parens = 1;
  for (; j < text.length; j++) {
    if (text[j] === "(") parens++;
    else if (text[j] === ")") {
      parens--;
      if (parens === 0) break;
    } else if (text[j] === "\n") return undefined;
  }
  if (parens !== 0) return undefined;
  let inner = text.slice(labelEnd + 2, j).trim();
  if (inner.startsWith("<")) {
    const close = inner.indexOf(">");
    inner = close === -1 ? inner : inner.slice(1, close);
  } else {
    inner = inner.split(/\s+/)[0] ?? "";
  }
  return { label: text.slice(start + 1, labelEnd), url: inner, end: j + 1 };
}
