// The chat page: pick a model, talk to it, watch the answer stream in token by token.
import { keyedFetch, errorMessage } from './api.js';
import { sseData } from './sse.js';
import { renderMarkdown } from './markdown.js';
import { loadConversations, saveConversations, loadSettings, saveSettings, newConversation } from './store.js';

const KEY = 'sluice.apiKey';
const $ = id => document.getElementById(id);

let conversations = loadConversations();
let current = null;
let controller = null; // the running answer's AbortController
const settings = loadSettings();

function setStatus(text) {
  $('status').textContent = text;
}

// ---- models ---------------------------------------------------------------------------------

async function loadModels() {
  const select = $('model');
  try {
    const response = await keyedFetch(KEY, '/v1/models');
    if (!response.ok) {
      setStatus('Could not list the models: ' + await errorMessage(response));
      return;
    }
    const models = (await response.json()).data || [];
    select.replaceChildren(...models.map(m => {
      const option = document.createElement('option');
      option.value = m.id;
      option.textContent = m.id + (m.state && m.state !== 'ready' ? ` (${m.state})` : '');
      if (m.description) {
        option.title = m.description;
      }
      return option;
    }));
    if (models.some(m => m.id === settings.model)) {
      select.value = settings.model;
    }
    const chosen = models.find(m => m.id === select.value);
    setStatus(chosen?.description || (models.length ? '' : 'This server serves no model yet.'));
  } catch (e) {
    setStatus('Could not reach the server: ' + e.message);
  }
}

// ---- conversations --------------------------------------------------------------------------

function titleOf(conversation) {
  const first = conversation.messages.find(m => m.role === 'user');
  return first ? first.content.replace(/\s+/g, ' ').slice(0, 40) : 'New chat';
}

function save() {
  if (current && current.messages.length && !conversations.includes(current)) {
    conversations.push(current);
  }
  if (current) {
    current.title = titleOf(current);
  }
  conversations = saveConversations(conversations);
  settings.current = current?.id;
  saveSettings(settings);
}

function renderConversationList() {
  const select = $('conversation');
  const list = conversations.includes(current) ? conversations : [...conversations, current];
  select.replaceChildren(...list.slice().reverse().map(c => {
    const option = document.createElement('option');
    option.value = c.id;
    option.textContent = c.title || 'New chat';
    return option;
  }));
  select.value = current.id;
}

function show(conversation) {
  current = conversation;
  current.messages.forEach(m => {
    if (m.state === 'streaming') {
      m.state = 'stopped'; // the tab went away while it streamed
    }
  });
  $('messages').replaceChildren(...current.messages.map(messageElement));
  renderConversationList();
  scrollDown();
}

function messageElement(message) {
  const node = document.createElement('article');
  node.className = 'msg ' + (message.role === 'user' ? 'user' : 'assistant');
  const body = document.createElement('div');
  body.className = 'body';
  node.append(body);
  const meta = document.createElement('div');
  meta.className = 'meta';
  node.append(meta);
  fill(node, message);
  return node;
}

/** (Re)draws one message: user text as text, answers as Markdown (rendered safely), and its numbers. */
function fill(node, message) {
  const body = node.querySelector('.body');
  if (message.role === 'user') {
    body.textContent = message.content;
  } else {
    body.replaceChildren(renderMarkdown(message.content));
  }
  node.dataset.state = message.state || 'done';
  const parts = [];
  if (message.model) {
    parts.push(message.model);
  }
  if (message.stats) {
    const s = message.stats;
    if (s.tokensPerSecond != null) {
      parts.push(s.tokensPerSecond.toFixed(1) + ' tok/s');
    }
    if (s.ttftMs != null) {
      parts.push('TTFT ' + Math.round(s.ttftMs) + ' ms');
    }
    if (s.tokens != null) {
      parts.push(s.tokens + ' tokens');
    }
  }
  if (message.state === 'stopped') {
    parts.push('stopped');
  }
  node.querySelector('.meta').textContent = parts.join(' · ');
  if (message.error) {
    const error = document.createElement('p');
    error.className = 'error';
    error.textContent = message.error;
    body.append(error);
  }
}

function scrollDown() {
  const area = $('messages');
  area.scrollTop = area.scrollHeight;
}

// ---- one answer -----------------------------------------------------------------------------

function numberOr(id, fallback) {
  const v = parseFloat($(id).value);
  return Number.isFinite(v) ? v : fallback;
}

function setBusy(busy) {
  $('send').hidden = busy;
  $('stop').hidden = !busy;
  $('model').disabled = busy;
  $('conversation').disabled = busy;
  $('new-chat').disabled = busy;
  $('delete-chat').disabled = busy;
}

async function ask(text) {
  const model = $('model').value;
  if (!model) {
    setStatus('No model to ask.');
    return;
  }
  const system = $('system').value.trim();
  const history = current.messages.filter(m => !m.error).map(m => ({ role: m.role, content: m.content }));
  const messages = [...(system ? [{ role: 'system', content: system }] : []), ...history, { role: 'user', content: text }];
  current.messages.push({ role: 'user', content: text });
  const answer = { role: 'assistant', content: '', model, state: 'streaming' };
  current.messages.push(answer);
  $('messages').append(messageElement(current.messages.at(-2)));
  const node = messageElement(answer);
  $('messages').append(node);
  save();
  renderConversationList();
  scrollDown();

  controller = new AbortController();
  setBusy(true);
  const body = {
    model, messages, stream: true, stream_options: { include_usage: true },
    temperature: numberOr('temperature', 0.7), top_p: numberOr('top-p', 0.95),
    max_tokens: Math.max(1, Math.round(numberOr('max-tokens', 512))),
  };
  const start = performance.now();
  let first = null;
  let last = null;
  let chunks = 0;
  let usage = null;
  let pending = false;
  const redraw = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        fill(node, answer);
        scrollDown();
      });
    }
  };
  try {
    const response = await keyedFetch(KEY, '/v1/chat/completions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) {
      throw new Error(await errorMessage(response));
    }
    for await (const data of sseData(response)) {
      if (data === '[DONE]') {
        break;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) {
        throw new Error(chunk.error.message);
      }
      if (chunk.usage) {
        usage = chunk.usage;
      }
      if (chunk.model) {
        answer.model = chunk.model; // the version that served it
      }
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) {
        const now = performance.now();
        first ??= now;
        last = now;
        chunks++;
        answer.content += delta;
        redraw();
      }
    }
    answer.state = 'done';
  } catch (e) {
    if (e.name === 'AbortError') {
      answer.state = 'stopped';
    } else {
      answer.state = 'error';
      answer.error = e.message;
    }
  } finally {
    controller = null;
    const tokens = usage?.completion_tokens ?? chunks;
    answer.stats = {
      ttftMs: first == null ? null : first - start,
      tokens: usage ? tokens : null,
      // Decode speed: the tokens after the first over the time they took (TTFT is shown apart).
      tokensPerSecond: first != null && last > first && tokens > 1 ? (tokens - 1) * 1000 / (last - first) : null,
    };
    fill(node, answer);
    scrollDown();
    save();
    setBusy(false);
  }
}

// ---- wiring ---------------------------------------------------------------------------------

function restoreSettings() {
  for (const [id, key] of [['system', 'system'], ['temperature', 'temperature'], ['top-p', 'top_p'], ['max-tokens', 'max_tokens']]) {
    if (settings[key] != null) {
      $(id).value = settings[key];
    }
    $(id).addEventListener('change', () => {
      settings[key] = $(id).value;
      saveSettings(settings);
    });
  }
  $('model').addEventListener('change', () => {
    settings.model = $('model').value;
    saveSettings(settings);
    setStatus($('model').selectedOptions[0]?.title || '');
  });
}

$('composer').addEventListener('submit', event => {
  event.preventDefault();
  const text = $('prompt').value.trim();
  if (!text || controller) {
    return;
  }
  $('prompt').value = '';
  ask(text);
});
$('prompt').addEventListener('keydown', event => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('composer').requestSubmit();
  }
});
$('stop').addEventListener('click', () => controller?.abort());
$('new-chat').addEventListener('click', () => {
  show(newConversation());
  $('prompt').focus();
});
$('delete-chat').addEventListener('click', () => {
  conversations = saveConversations(conversations.filter(c => c !== current));
  show(conversations.at(-1) || newConversation());
  save();
});
$('conversation').addEventListener('change', () => {
  show(conversations.find(c => c.id === $('conversation').value) || newConversation());
  save();
});

restoreSettings();
show(conversations.find(c => c.id === settings.current) || conversations.at(-1) || newConversation());
loadModels();
