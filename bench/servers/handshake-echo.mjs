// An echo server (strictws or ws, library API only) that measures itself, for bench/handshake.ts.
// It reads commands on stdin, one per line, and answers each with one JSON line on stdout:
//   start  begin V8's sampling heap profiler, counting objects that are collected too
//   stop   stop it; answers { bytes, top: [{ fn, bytes }] } (bytes allocated since start, estimated)
//   exit   exit (so that --cpu-prof writes its profile)
//
//   node [--cpu-prof --cpu-prof-dir D] bench/servers/handshake-echo.mjs --impl strictws|ws|floor [--interval 256] [--stack 1]
//
// --impl floor: bench/servers/floor-echo.mjs, not a WebSocket server: what Node's machinery costs alone.
//
// --stack N: each allocation site is named with up to N frames (the site and its callers).
//
// Prints `listening on ws://127.0.0.1:PORT` (port chosen by the OS) when ready. Needs dist/ for strictws.
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    impl: { type: 'string', default: 'strictws' },
    interval: { type: 'string', default: '256' },
    stack: { type: 'string', default: '1' },
  },
});

// Same handler on both: echo, text as text and binary as binary.
function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}
const onConnection = (ws) => ws.on('message', echo);
const host = '127.0.0.1';

let wss;
if (opts.impl === 'floor') {
  // Not a WebSocket server: Node's cost of a connection when the server's own JavaScript does almost nothing.
  const { listenFloor } = await import('./floor-echo.mjs');
  const port = await listenFloor(host);
  console.log(`listening on ws://${host}:${port}`);
} else if (opts.impl === 'strictws') {
  const { WebSocketServer } = await import('../../dist/index.js');
  wss = new WebSocketServer({ port: 0, host });
} else if (opts.impl === 'ws') {
  process.env.WS_NO_BUFFER_UTIL = '1';
  const { WebSocketServer } = await import('ws');
  wss = new WebSocketServer({ port: 0, host });
} else {
  console.error(`unknown --impl ${opts.impl}`);
  process.exit(2);
}
wss?.on('connection', onConnection);
wss?.on('listening', () => console.log(`listening on ws://${host}:${wss.address().port}`));

const session = new Session();
session.connect();

/** Bytes per function (self), from the sampling profile's call tree. */
function summarize(profile) {
  const byFn = new Map();
  let total = 0;
  const depth = Number(opts.stack);
  const name = ({ functionName, url, lineNumber }) =>
    `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules\/|dist\/|lib\/)?/, (_, dir) => dir ?? '')}:${lineNumber + 1}`;
  const walk = (node, callers) => {
    const frames = [name(node.callFrame), ...callers].slice(0, depth);
    const key = frames.join(' ← ');
    byFn.set(key, (byFn.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child, frames);
  };
  walk(profile.head, []);
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 80).map(([fn, bytes]) => ({ fn, bytes }));
  return { bytes: total, top };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'start') {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: Number(opts.interval),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    console.log(JSON.stringify({ started: true }));
  } else if (line === 'stop') {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    console.log(JSON.stringify(summarize(profile)));
  } else if (line === 'exit') {
    process.exit(0);
  }
}
