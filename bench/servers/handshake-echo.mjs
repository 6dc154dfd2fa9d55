// An echo server (strictws or ws, library API only) that measures itself, for bench/handshake.ts.
// It reads commands on stdin, one per line, and answers each with one JSON line on stdout:
//   start  begin V8's sampling heap profiler, counting objects that are collected too
//   stop   stop it; answers { bytes, top: [{ fn, bytes }] } (bytes allocated since start, estimated)
//   exit   exit (so that --cpu-prof writes its profile)
//
//   node [--cpu-prof --cpu-prof-dir D] bench/servers/handshake-echo.mjs --impl strictws|ws [--interval 256]
//
// Prints `listening on ws://127.0.0.1:PORT` (port chosen by the OS) when ready. Needs dist/ for strictws.
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    impl: { type: 'string', default: 'strictws' },
    interval: { type: 'string', default: '256' },
  },
});

// Same handler on both: echo, text as text and binary as binary.
function echo(data, isBinary) {
  this.send(data, { binary: isBinary });
}
const onConnection = (ws) => ws.on('message', echo);
const host = '127.0.0.1';

let wss;
if (opts.impl === 'strictws') {
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
wss.on('connection', onConnection);
wss.on('listening', () => console.log(`listening on ws://${host}:${wss.address().port}`));

const session = new Session();
session.connect();

/** Bytes per function (self), from the sampling profile's call tree. */
function summarize(profile) {
  const byFn = new Map();
  let total = 0;
  const walk = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/|dist\/|lib\/)?/, (_, dir) => dir ?? '');
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(walk);
  };
  walk(profile.head);
  const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([fn, bytes]) => ({ fn, bytes }));
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
