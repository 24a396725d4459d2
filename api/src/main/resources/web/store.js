// Conversations and settings in the browser's localStorage. Nothing here ever reaches the server
// except as the messages of the next request.

const CONVERSATIONS = 'sluice.conversations';
const SETTINGS = 'sluice.settings';
const KEEP = 50; // conversations kept; the oldest go first

function read(name, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(name));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

export function loadConversations() {
  const list = read(CONVERSATIONS, []);
  return Array.isArray(list) ? list.filter(c => c && typeof c.id === 'string' && Array.isArray(c.messages)) : [];
}

/** Saves the list (newest last); when storage is full, drops the oldest conversations until it fits. */
export function saveConversations(list) {
  let kept = list.slice(-KEEP);
  for (;;) {
    try {
      localStorage.setItem(CONVERSATIONS, JSON.stringify(kept));
      return kept;
    } catch (e) {
      if (kept.length <= 1) {
        return kept; // cannot even keep one: leave storage as it was
      }
      kept = kept.slice(1);
    }
  }
}

export function loadSettings() {
  const s = read(SETTINGS, {});
  return typeof s === 'object' && s ? s : {};
}

export function saveSettings(settings) {
  try {
    localStorage.setItem(SETTINGS, JSON.stringify(settings));
  } catch {
    // settings are a convenience
  }
}

export function newConversation() {
  return { id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8), title: 'New chat', messages: [] };
}
