/** The page `strictws chat` serves on GET /: join with a name, read the history, chat. */
import { CHAT_LIMITS } from '../chat.js';
import { type Page, SOCKET_URL, page, scriptValue } from './page.js';

const style = `
.msg{display:flex;gap:8px;align-items:baseline}
.who{font-weight:600;flex:none}
.text{flex:1}
.mine .who{color:#2563eb}
time{color:#9ca3af;font-size:12px;flex:none}
.old{opacity:.7}
`;

const body = `<main>
<header><h1>strictws chat</h1><span id="status" class="pill">connecting…</span></header>
<form id="join"><input id="name" placeholder="Your name (optional)" maxlength="${CHAT_LIMITS.name}" autocomplete="off" aria-label="Name"><button id="join-button" disabled>Join</button></form>
<ol id="log" aria-live="polite"></ol>
<form id="say" hidden><input id="text" placeholder="Say something" maxlength="${CHAT_LIMITS.text}" autocomplete="off" aria-label="Message"><button>Send</button></form>
</main>`;

// Everything from the server is shown with textContent: names and messages are never parsed as HTML.
const script = (path: string) => `
const WS_PATH = ${scriptValue(path)};
const $ = (id) => document.getElementById(id);
const ws = new WebSocket(${SOCKET_URL});
let me;

function item(className, parts) {
  const li = document.createElement('li');
  li.className = className;
  for (const [tag, cls, text] of parts) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = text;
    li.append(el);
  }
  $('log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const note = (text, cls = 'note') => item(cls, [['span', '', text]]);

function message(m, old) {
  const cls = 'msg' + (me && m.from.id === me.id ? ' mine' : '') + (old ? ' old' : '');
  item(cls, [['span', 'who', m.from.name], ['span', 'text', m.text], ['time', '', clock(m.time)]]);
}

function status(state, text) {
  $('status').className = 'pill ' + state;
  $('status').textContent = text;
}

ws.onopen = () => {
  status('open', 'connected');
  $('join-button').disabled = false;
  $('name').focus();
};
ws.onclose = (event) => {
  status('closed', 'closed ' + event.code);
  note('disconnected: code ' + event.code + (event.reason ? ', ' + event.reason : ''));
  $('say').hidden = true;
};
ws.onmessage = (event) => {
  const e = JSON.parse(event.data);
  if (e.type === 'welcome') {
    me = e.you;
    $('join').hidden = true;
    $('say').hidden = false;
    $('text').focus();
    status('open', me.name);
    if (e.history.length) note(e.history.length + ' earlier message' + (e.history.length > 1 ? 's' : ''));
    for (const m of e.history) message(m, true);
  } else if (e.type === 'message') {
    message(e, false);
  } else if (e.type === 'joined' || e.type === 'left') {
    note(e.user.name + ' ' + e.type);
  } else if (e.type === 'error') {
    note('error ' + e.code + ': ' + e.message, 'err');
    if (!me) $('join-button').disabled = false;
  }
};

$('join').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('name').value.trim();
  ws.send(JSON.stringify(name ? { type: 'join', name } : { type: 'join' }));
  $('join-button').disabled = true;
});
$('say').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value;
  if (text.trim() === '') return;
  ws.send(JSON.stringify({ type: 'say', text }));
  $('text').value = '';
});
`;

/** The chat page for a server whose WebSocket endpoint is `path`. */
export function chatPage(path = '/'): Page {
  return page({ title: 'strictws chat', style, body, script: script(path) });
}
