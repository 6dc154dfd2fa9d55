/**
 * A page is one self-contained HTML document: inline CSS and script, no
 * external assets. Its Content-Security-Policy allows exactly that inline
 * script and style (by hash) and WebSocket connections to its own origin,
 * so even a missed escaping bug could not run injected script.
 */
import { createHash } from 'node:crypto';

export interface Page {
  html: Buffer;
  /** The Content-Security-Policy header value to serve it with. */
  csp: string;
}

/** The look all pages share. */
export const BASE_STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f3f4f6;color:#111827;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:640px;margin:24px auto;background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:18px 20px}
header{display:flex;align-items:center;justify-content:space-between;gap:12px;margin-bottom:12px}
h1{font-size:19px;margin:0}
.pill{font-size:13px;padding:2px 10px;border-radius:999px;background:#e5e7eb;color:#374151}
.pill.open{background:#dcfce7;color:#166534}
.pill.closed{background:#fee2e2;color:#991b1b}
form{display:flex;gap:8px;margin:10px 0}
input{flex:1;min-width:0;font:inherit;padding:7px 10px;border:1px solid #d1d5db;border-radius:6px}
button{font:inherit;padding:7px 14px;border:1px solid #2563eb;border-radius:6px;background:#2563eb;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f2937;border-color:#d1d5db}
button:disabled{opacity:.5;cursor:default}
ol{list-style:none;margin:0;padding:0;border:1px solid #e5e7eb;border-radius:6px;height:260px;overflow-y:auto}
li{padding:5px 10px;border-bottom:1px solid #f3f4f6;white-space:pre-wrap;overflow-wrap:anywhere}
.note{color:#6b7280;font-style:italic}
.err{color:#b91c1c}
.hint{color:#6b7280;font-size:13px;margin:6px 0}
[hidden]{display:none!important}
`;

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Embed a value in a script as a JSON literal that cannot end the <script> element. */
export function scriptValue(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** The WebSocket URL a page opens: same host as the page, at `path`. */
export const SOCKET_URL = `(location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + WS_PATH`;

export function page({ title, style, body, script }: { title: string; style: string; body: string; script: string }): Page {
  const css = BASE_STYLE + style;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${css}</style>
</head>
<body>
${body}
<script>${script}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(css)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: Buffer.from(html, 'utf8'), csp };
}
