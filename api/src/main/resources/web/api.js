// fetch() with the key this tab was given. On a 401 the page shows its key form, waits for a key
// and retries. The key lives in sessionStorage only: it is gone when the tab closes and other
// tabs and later visits never see it (localStorage would keep it on disk).

let asking = null; // one form at a time, however many requests got a 401

function askForKey(storageName, message) {
  if (asking) {
    return asking;
  }
  const form = document.getElementById('key-form');
  const input = document.getElementById('key');
  document.getElementById('key-message').textContent = message;
  form.hidden = false;
  input.value = '';
  input.focus();
  asking = new Promise(resolve => {
    form.onsubmit = event => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) {
        return;
      }
      sessionStorage.setItem(storageName, key);
      form.hidden = true;
      form.onsubmit = null;
      asking = null;
      resolve(key);
    };
  });
  return asking;
}

/** The message of an OpenAI-style error body, or the status. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    return body?.error?.message || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/**
 * fetch(path, init) with "Authorization: Bearer KEY" when sessionStorage[storageName] holds a
 * key; on 401 asks for one (showing the server's message) and tries again.
 */
export async function keyedFetch(storageName, path, init = {}) {
  for (;;) {
    const key = sessionStorage.getItem(storageName);
    const headers = new Headers(init.headers || {});
    if (key) {
      headers.set('Authorization', 'Bearer ' + key);
    }
    const response = await fetch(path, { ...init, headers });
    if (response.status !== 401) {
      return response;
    }
    const message = await errorMessage(response);
    sessionStorage.removeItem(storageName);
    const asked = askForKey(storageName, (key ? 'That key was refused. ' : '') + message);
    if (init.signal) {
      // Stop while the form waits ends this request (the form stays for the next one).
      await Promise.race([asked, new Promise((_, reject) => {
        const abort = () => reject(new DOMException('stopped', 'AbortError'));
        if (init.signal.aborted) {
          abort();
        }
        init.signal.addEventListener('abort', abort, { once: true });
      })]);
    } else {
      await asked;
    }
  }
}
