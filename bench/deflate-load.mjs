// Closed-loop echo load over permessage-deflate, for the deflate cases of bench/run.ts (wsload cannot
// negotiate the extension). Client: the `ws` package with perMessageDeflate threshold 0, so every
// message is compressed.
//
//   node bench/deflate-load.mjs --port P [--host H] [--pid SERVER_PID] [--size 4096] [--conns 64]
//        [--inflight 4] [--duration 5] [--warmup 1] [--opcode text|binary] [--json]
//
// Each connection keeps --inflight compressible messages (a repeated sentence with a counter, so no two
// are alike) in flight and checks every echo byte for byte. Prints ONE JSON line with wsload's --json
// field names (msgs_per_s, mb_per_s, lat_p50_us, lat_p99_us, client_cpu_pct, server_cpu_pct, err_*, …);
// --json is accepted for wsload compatibility. A connection whose server did not accept
// permessage-deflate counts as err_no_deflate. Exits 1 on any error or if nothing was echoed.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: o } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    pid: { type: 'string', default: '0' },
    size: { type: 'string', default: '4096' },
    conns: { type: 'string', default: '64' },
    inflight: { type: 'string', default: '4' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    opcode: { type: 'string', default: 'text' },
    json: { type: 'boolean', default: true },
  },
});
if (!o.port) throw new Error('--port is required');
const [size, conns, inflight, pid] = [o.size, o.conns, o.inflight, o.pid].map(Number);
const [duration, warmup] = [Number(o.duration), Number(o.warmup)];
const binary = o.opcode === 'binary';
const CONNECT_TIMEOUT_MS = 20_000;
const CLOSE_TIMEOUT_MS = 3_000;

const errors = { connect: 0, no_deflate: 0, length: 0, content: 0, opcode: 0, unexpected_close: 0, io: 0 };
const SENTENCE = 'The quick brown fox jumps over the lazy dog while the server echoes it back. ';
const filler = SENTENCE.repeat(Math.ceil(size / SENTENCE.length) + 1);
let seq = 0;
const nextPayload = () => {
  const head = `#${seq++} `;
  return Buffer.from(head + filler.slice(0, Math.max(0, size - head.length)), 'latin1').subarray(0, size);
};

/** Server CPU time (utime + stime) in seconds, from /proc/PID/stat; undefined if unknown. */
function serverCpuS() {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // fields 14 and 15; USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

let phase = 'connect'; // connect → warmup → measure → done
let messages = 0;
let bytes = 0;
let latenciesUs = [];

function connect() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${o.host}:${o.port}/`, { perMessageDeflate: { threshold: 0 } });
    const pending = []; // { payload, sent } in send order; echoes come back in that order
    const send = () => {
      const payload = nextPayload();
      pending.push({ payload, sent: performance.now() });
      ws.send(payload, { binary });
    };
    let running = false;
    const timer = setTimeout(() => ws.terminate(), CONNECT_TIMEOUT_MS);
    ws.on('open', () => {
      clearTimeout(timer);
      if (!/(^|,)\s*permessage-deflate\b/.test(ws.extensions)) {
        errors.no_deflate++;
        ws.close(1000);
        return resolve(undefined);
      }
      running = true;
      resolve({ ws, start: () => Array.from({ length: inflight }, send) });
    });
    ws.on('message', (data, isBinary) => {
      const now = performance.now();
      const expected = pending.shift();
      if (!expected) errors.length++;
      else if (isBinary !== binary) errors.opcode++;
      else if (data.length !== expected.payload.length) errors.length++;
      else if (!data.equals(expected.payload)) errors.content++;
      else if (phase === 'measure') {
        messages++;
        bytes += data.length;
        latenciesUs.push((now - expected.sent) * 1000);
      }
      if (phase === 'warmup' || phase === 'measure') send();
    });
    ws.on('error', () => (running ? errors.io++ : errors.connect++));
    ws.on('close', () => {
      clearTimeout(timer);
      if (running && phase !== 'done') errors.unexpected_close++;
      resolve(undefined); // no-op once opened
    });
  });
}

const opened = (await Promise.all(Array.from({ length: conns }, connect))).filter(Boolean);
phase = 'warmup';
opened.forEach((c) => c.start());
await sleep(warmup * 1000);

phase = 'measure';
const cpu0 = process.cpuUsage();
const scpu0 = serverCpuS();
const t0 = performance.now();
await sleep(duration * 1000);
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const scpu1 = serverCpuS();
phase = 'done';

const closed = opened.map(({ ws }) => new Promise((resolve) => (ws.on('close', resolve), ws.close(1000))));
const closeTimeouts = await Promise.race([
  Promise.all(closed).then(() => 0),
  sleep(CLOSE_TIMEOUT_MS).then(() => opened.filter(({ ws }) => ws.readyState !== WebSocket.CLOSED).length),
]);

latenciesUs.sort((a, b) => a - b);
const pct = (p) =>
  latenciesUs.length ? latenciesUs[Math.min(latenciesUs.length - 1, Math.floor((p / 100) * latenciesUs.length))] : -1;
const round = (x, digits = 1) => Number(x.toFixed(digits));
const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
const result = {
  mode: 'echo',
  client: 'deflate-load',
  conns,
  open: opened.length,
  size,
  inflight,
  opcode: binary ? 'binary' : 'text',
  duration_s: round(secs, 3),
  messages,
  msgs_per_s: round(messages / secs),
  mb_per_s: round(bytes / secs / 1e6, 3),
  lat_p50_us: round(pct(50)),
  lat_p90_us: round(pct(90)),
  lat_p99_us: round(pct(99)),
  lat_p999_us: round(pct(99.9)),
  lat_max_us: round(latenciesUs.at(-1) ?? -1),
  client_cpu_pct: round(((cpu.user + cpu.system) / 1e6 / secs) * 100),
  server_cpu_pct: scpu0 === undefined || scpu1 === undefined ? -1 : round(((scpu1 - scpu0) / secs) * 100),
  close_timeouts: closeTimeouts,
  errors: errorCount,
  ...Object.fromEntries(Object.entries(errors).map(([kind, n]) => [`err_${kind}`, n])),
};
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(errorCount || !messages ? 1 : 0);
