/** The page `strictws vote` serves on GET /: the options with live counts; a click is a vote. */
import { type Page, SOCKET_URL, page, scriptValue } from './page.js';

const style = `
#options{list-style:none;margin:8px 0;padding:0;display:grid;gap:8px}
#options li{padding:0;border:0}
.option{position:relative;display:flex;justify-content:space-between;width:100%;overflow:hidden;text-align:left;background:#fff;color:#111827;border-color:#d1d5db;padding:10px 14px}
.option:hover:not(:disabled){border-color:#2563eb}
.bar{position:absolute;left:0;top:0;bottom:0;width:0;background:#dbeafe;transition:width .2s}
.label,.count{position:relative}
.count{font-variant-numeric:tabular-nums;font-weight:600}
#total{color:#6b7280;font-size:13px}
`;

const body = `<main>
<header><h1>strictws vote</h1><span id="status" class="pill">connecting…</span></header>
<p class="hint">Click an option to vote for it. Every click counts, and every open page sees the counts change live.</p>
<ul id="options"></ul>
<p id="total"></p>
<p id="error" class="err" role="alert"></p>
</main>`;

const script = (path: string) => `
const WS_PATH = ${scriptValue(path)};
const $ = (id) => document.getElementById(id);
const ws = new WebSocket(${SOCKET_URL});
const rows = new Map();

function status(state, text) {
  $('status').className = 'pill ' + state;
  $('status').textContent = text;
}

function row(id) {
  const li = document.createElement('li');
  const button = document.createElement('button');
  button.className = 'option';
  button.dataset.id = id;
  const bar = document.createElement('span');
  bar.className = 'bar';
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = id;
  const count = document.createElement('span');
  count.className = 'count';
  button.append(bar, label, count);
  button.addEventListener('click', () => ws.send(JSON.stringify({ type: 'vote', option: id })));
  li.append(button);
  $('options').append(li);
  return { button, bar, count };
}

ws.onopen = () => status('open', 'live');
ws.onclose = (event) => {
  status('closed', 'closed ' + event.code);
  for (const r of rows.values()) r.button.disabled = true;
};
ws.onmessage = (event) => {
  const e = JSON.parse(event.data);
  if (e.type === 'error') {
    $('error').textContent = 'error ' + e.code + ': ' + e.message;
    return;
  }
  if (e.type !== 'state') return;
  const total = e.options.reduce((sum, o) => sum + o.count, 0);
  const most = Math.max(1, ...e.options.map((o) => o.count));
  for (const o of e.options) {
    const r = rows.get(o.id) || rows.set(o.id, row(o.id)).get(o.id);
    r.count.textContent = String(o.count);
    r.bar.style.width = (100 * o.count / most) + '%';
  }
  $('total').textContent = total + ' vote' + (total === 1 ? '' : 's');
};
`;

/** The vote page for a server whose WebSocket endpoint is `path`. */
export function votePage(path = '/'): Page {
  return page({ title: 'strictws vote', style, body, script: script(path) });
}
