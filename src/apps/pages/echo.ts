/** The page `strictws echo` serves on GET /: send text, see it come back, close and see the close code. */
import { type Page, SOCKET_URL, page, scriptValue } from './page.js';

const style = `
.out::before{content:"→ ";color:#2563eb}
.in::before{content:"← ";color:#16a34a}
footer{display:flex;gap:8px;margin-top:10px}
`;

const body = `<main>
<header><h1>strictws echo</h1><span id="status" class="pill">connecting…</span></header>
<p class="hint">Whatever you send comes back unchanged. Close ends the connection with code 1000 and shows the code and reason the server answers with.</p>
<form id="send"><input id="text" placeholder="Type a message" autocomplete="off" aria-label="Message"><button id="submit" disabled>Send</button></form>
<ol id="log" aria-live="polite"></ol>
<footer><button id="close" type="button" class="secondary" disabled>Close</button><button id="connect" type="button" class="secondary" hidden>Connect again</button></footer>
</main>`;

const script = (path: string) => `
const WS_PATH = ${scriptValue(path)};
const $ = (id) => document.getElementById(id);
let ws;

function line(kind, text) {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;
  $('log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

function status(state, text) {
  $('status').className = 'pill ' + state;
  $('status').textContent = text;
}

function connect() {
  ws = new WebSocket(${SOCKET_URL});
  status('', 'connecting…');
  $('connect').hidden = true;
  ws.onopen = () => {
    status('open', 'open');
    $('submit').disabled = $('close').disabled = false;
    line('note', 'connected to ' + ws.url);
  };
  ws.onmessage = (event) => line('in', typeof event.data === 'string' ? event.data : '(binary message)');
  ws.onclose = (event) => {
    const reason = event.reason ? 'reason "' + event.reason + '"' : 'no reason';
    status('closed', 'closed ' + event.code);
    line('note', 'closed: code ' + event.code + ', ' + reason);
    $('submit').disabled = $('close').disabled = true;
    $('connect').hidden = false;
  };
}

$('send').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('text').value;
  if (!ws || ws.readyState !== WebSocket.OPEN || text === '') return;
  ws.send(text);
  line('out', text);
  $('text').value = '';
});
$('close').addEventListener('click', () => ws.close(1000, 'closed from the page'));
$('connect').addEventListener('click', connect);
connect();
`;

/** The echo page for a server whose WebSocket endpoint is `path`. */
export function echoPage(path = '/'): Page {
  return page({ title: 'strictws echo', style, body, script: script(path) });
}
