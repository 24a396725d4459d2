// A small Markdown renderer that is safe for model output: it builds DOM nodes and sets only
// textContent and vetted attributes, never innerHTML, so "<script>" or "<img onerror=...>" in an
// answer is shown as the text it is. It covers what chat answers use: fenced code blocks,
// headings, lists, block quotes, rules, paragraphs, and inline code, bold, italics,
// strikethrough and links (http, https and mailto only). An unclosed code fence (an answer
// still streaming) runs to the end, so code looks like code while it arrives.

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\[([^\]\n]+)\]\(([^()\s]+)\)|\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__(?!\w)|~~(?=\S)([\s\S]*?\S)~~|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<!\w)_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/g;

function el(tag, children = [], className) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  node.append(...children);
  return node;
}

/** A link's href if it is http(s) or mailto (absolute), else null: no javascript:, data: or relative URLs. */
function safeHref(url) {
  try {
    const parsed = new URL(url);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Inline Markdown of one block's text as nodes. */
export function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) {
      out.push(document.createTextNode(text.slice(last, m.index)));
    }
    if (m[1] !== undefined) {
      out.push(el('code', [document.createTextNode(m[2].replace(/^ (.*) $/s, '$1'))]));
    } else if (m[3] !== undefined) {
      const href = safeHref(m[4]);
      if (href) {
        const a = el('a', inline(m[3]));
        a.href = href;
        a.rel = 'noopener noreferrer nofollow';
        a.target = '_blank';
        out.push(a);
      } else {
        out.push(document.createTextNode(m[0]));
      }
    } else if (m[5] !== undefined || m[6] !== undefined) {
      out.push(el('strong', inline(m[5] ?? m[6])));
    } else if (m[7] !== undefined) {
      out.push(el('del', inline(m[7])));
    } else {
      out.push(el('em', inline(m[8] ?? m[9])));
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) {
    out.push(document.createTextNode(text.slice(last)));
  }
  return out;
}

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

/** Block Markdown of lines[from..] as nodes. */
function blocks(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (line.trim() === '') {
      i++;
    } else if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !(lines[i].trimStart().startsWith(fence) && lines[i].trim().replaceAll(fence[0], '') === '')) {
        body.push(lines[i]);
        i++;
      }
      i++; // the closing fence, if any
      const code = el('code', [document.createTextNode(body.join('\n'))]);
      if (m[2]) {
        code.dataset.lang = m[2].slice(0, 32);
      }
      const pre = el('pre', [code]);
      if (m[2]) {
        pre.dataset.lang = m[2].slice(0, 32);
      }
      out.push(pre);
    } else if ((m = HEADING.exec(line))) {
      out.push(el('h' + Math.min(6, m[1].length + 2), inline(m[2])));
      i++;
    } else if (RULE.test(line)) {
      out.push(el('hr'));
      i++;
    } else if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
        inner.push(m[1]);
        i++;
      }
      out.push(el('blockquote', blocks(inner)));
    } else if ((m = ITEM.exec(line))) {
      const ordered = /\d/.test(m[2]);
      const list = el(ordered ? 'ol' : 'ul');
      if (ordered && parseInt(m[2], 10) !== 1) {
        list.start = parseInt(m[2], 10);
      }
      const indent = m[1].length;
      while (i < lines.length) {
        const item = ITEM.exec(lines[i]);
        if (!item || item[1].length !== indent || /\d/.test(item[2]) !== ordered) {
          break;
        }
        const body = [item[3]];
        i++;
        // Continuation lines and nested lists: indented deeper than the marker.
        while (i < lines.length && lines[i].trim() !== '' && /^\s/.test(lines[i])
               && lines[i].search(/\S/) > indent) {
          body.push(lines[i].slice(Math.min(lines[i].search(/\S/), indent + 2)));
          i++;
        }
        list.append(el('li', body.length === 1 ? inline(body[0]) : blocks(body)));
      }
      out.push(list);
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() !== '' && (para.length === 0 || !startsBlock(lines[i]))) {
        para.push(lines[i]);
        i++;
      }
      out.push(el('p', inline(para.join('\n'))));
    }
  }
  return out;
}

/** The Markdown `text` as a DocumentFragment of plain elements and text nodes. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  fragment.append(...blocks(String(text).replace(/\r\n?/g, '\n').split('\n')));
  return fragment;
}
