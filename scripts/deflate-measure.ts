/**
 * The measurements behind docs/deflate.md: how permessage-deflate runs in
 * strictws (node:zlib's synchronous one-shot calls, a preset dictionary for
 * context takeover) and what it costs, next to `ws` (persistent zlib streams
 * on the threadpool, at most 10 zlib jobs at once).
 *
 *   npm run build && npx tsx scripts/deflate-measure.ts [codec] [echo] [memory] [cpu] [levels]
 *
 * codec   time per message to inflate and to compress, by size, in-process
 * echo    an echo server under load, strictws and ws: messages per second and
 *         the server's event-loop delay (what a blocking call costs the others)
 * memory  RSS per connection with compression: N connections that each
 *         exchanged one compressed message, by window bits and memLevel
 * cpu     the server's compression work per echoed message, strictws and ws
 * levels  compressing by zlib level: CPU per byte and bytes sent, by kind of messages
 *
 * Servers run in child processes (this file with --serve), with --expose-gc
 * so memory is read after a full collection. The load client is a raw socket
 * client that sends pre-compressed frames and only parses frame headers, so
 * it costs little next to the server.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type Socket, connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync } from 'node:zlib';
import { clientUpgrade } from '../bench/lib/upgrade.js';
import { readFrameHead } from '../spec/support/frames.js';

const SELF = fileURLToPath(import.meta.url);
const KiB = 1024;
const MiB = 1024 * KiB;

/** JSON-like text, as applications send: compresses to about a fifth. */
function jsonText(bytes: number, seed = 1): Buffer {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'status', 'ok', 'error', 'user', 'name', 'value', 'message', 'count'];
  const parts: string[] = [];
  let length = 0;
  let x = seed;
  for (let i = 0; length < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const line = `${JSON.stringify({ id: i, user: `${words[x % 12]}${x % 1000}`, status: words[(x >>> 8) % 12], value: (x % 100000) / 100, ts: 1700000000000 + (x % 100000) })},\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes));
}

function label(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

// ---------------------------------------------------------------------------
// The server harness (a child process)
// ---------------------------------------------------------------------------

interface ServeSpec {
  kind: 'strictws' | 'ws';
  deflate: {
    serverMaxWindowBits?: number;
    clientMaxWindowBits?: number;
    memLevel?: number;
    serverNoContextTakeover?: boolean;
    clientNoContextTakeover?: boolean;
  };
}

async function serve(spec: ServeSpec): Promise<void> {
  const send = (message: object) => process.send!(message);
  const echo = (ws: { on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void; send(data: Buffer, options: { binary: boolean }): void }) =>
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  let port: number;
  let sweep = () => {};
  if (spec.kind === 'strictws') {
    const { WebSocketServer } = await import('../dist/index.js');
    // The runtime's module, as the server loaded it (a strictws without idle sweeps has none).
    const pool = (await import('../dist/server/deflate-pool.js')) as { sweepIdleDeflate?: () => void };
    sweep = () => pool.sweepIdleDeflate?.();
    // ws compresses at zlib's default level (6), strictws by default at 1: compared at the same level.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { level: 6, ...spec.deflate }, heartbeat: false });
    wss.on('connection', (ws) => echo(ws));
    await once(wss, 'listening');
    port = (wss.address() as { port: number }).port;
  } else {
    const { WebSocketServer } = await import('ws');
    const { memLevel, ...negotiated } = spec.deflate;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { ...negotiated, zlibDeflateOptions: memLevel ? { memLevel } : {} } });
    wss.on('connection', (ws) => echo(ws as never));
    await once(wss, 'listening');
    port = (wss.address() as { port: number }).port;
  }
  const delay = monitorEventLoopDelay({ resolution: 1 });
  process.on('message', (message: { op: string }) => {
    if (message.op === 'memory') {
      // Twice, a moment apart: V8 frees array buffers' memory after the collection that finds them dead.
      const gc = () => (globalThis as { gc?: () => void }).gc?.();
      gc();
      setTimeout(() => {
        gc();
        const m = process.memoryUsage();
        send({ op: 'memory', rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
      }, 50);
    } else if (message.op === 'sweep') {
      // Two sweeps of the runtime's idle timer: the codecs without a message since the first close their zlib streams.
      for (let i = 0; i < 2; i++) sweep();
      send({ op: 'sweep' });
    } else if (message.op === 'delay-start') {
      delay.reset();
      delay.enable();
      send({ op: 'delay-start' });
    } else if (message.op === 'delay-stop') {
      delay.disable();
      send({ op: 'delay', p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });
    }
  });
  send({ op: 'ready', port });
}

class Server {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(spec: ServeSpec): Promise<Server> {
    const child = fork(SELF, ['--serve', JSON.stringify(spec)], { execArgv: [...process.execArgv, '--expose-gc'], stdio: 'inherit' });
    const [message] = (await once(child, 'message')) as [{ op: string; port: number }];
    return new Server(child, message.port);
  }

  async ask<T>(op: string): Promise<T> {
    this.child.send({ op });
    for (;;) {
      const [message] = (await once(this.child, 'message')) as [{ op: string } & T];
      if (message.op === op || (op === 'delay-stop' && message.op === 'delay')) return message;
    }
  }

  async stop(): Promise<void> {
    this.child.kill();
    await once(this.child, 'exit');
  }
}

// ---------------------------------------------------------------------------
// A cheap load client: pre-compressed, pre-masked frames; headers parsed only
// ---------------------------------------------------------------------------

/** A masked client frame with RSV1 set: the message compressed once, sent every time. */
function compressedFrame(message: Buffer, windowBits = 15): Buffer {
  const out = deflateRawSync(message, { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
  const payload = out.subarray(0, out.length - 4);
  const n = payload.length;
  const extended = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const frame = Buffer.alloc(2 + extended + 4 + n);
  frame[0] = 0x80 | 0x40 | 0x1; // FIN, RSV1, text
  frame[1] = 0x80 | (extended === 0 ? n : extended === 2 ? 126 : 127);
  if (extended === 2) frame.writeUInt16BE(n, 2);
  if (extended === 8) frame.writeBigUInt64BE(BigInt(n), 2);
  const key = randomBytes(4);
  key.copy(frame, 2 + extended);
  for (let i = 0; i < n; i++) frame[6 + extended + i] = payload[i] ^ key[i & 3];
  return frame;
}

class LoadClient {
  /** Whole data frames received. */
  messages = 0;
  private pending: Buffer = Buffer.alloc(0);
  private skip = 0;
  onMessage: () => void = () => {};

  private constructor(readonly socket: Socket) {}

  static async connect(port: number, offer: string): Promise<LoadClient> {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    await once(socket, 'connect');
    const { head, rest } = await clientUpgrade(socket, `Sec-WebSocket-Extensions: ${offer}\r\n`);
    if (!/sec-websocket-extensions: permessage-deflate/i.test(head)) throw new Error(`no permessage-deflate: ${head}`);
    const client = new LoadClient(socket);
    socket.on('data', (c: Buffer) => client.onData(c));
    socket.on('error', () => {});
    if (rest.length > 0) client.onData(rest);
    return client;
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length);
        this.skip -= n;
        buf = buf.subarray(n);
        if (this.skip > 0 || buf.length === 0) break;
        continue;
      }
      const head = readFrameHead(buf);
      if (!head) break;
      buf = buf.subarray(head.size);
      this.skip = head.length;
      // A data message ends with a frame that has FIN (RFC 6455 §5.4).
      if (head.opcode < 0x8 && head.fin) {
        this.messages++;
        this.onMessage();
      }
    }
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------
// codec: the synchronous calls strictws makes, by message size
// ---------------------------------------------------------------------------

async function timeIt(fn: () => unknown, budgetMs: number, maxRuns = 100_000): Promise<number> {
  for (let i = 0; i < 3; i++) fn();
  const samples: number[] = [];
  const started = performance.now();
  while (performance.now() - started < budgetMs && samples.length < maxRuns) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** A persistent zlib stream driven the asynchronous way (ws's): write, flush, wait. */
function streamOnce(stream: ReturnType<typeof createDeflateRaw> | ReturnType<typeof createInflateRaw>, data: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let n = 0;
    const onData = (chunk: Buffer) => (n += chunk.length);
    stream.on('data', onData);
    stream.write(data);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      resolve(n);
    });
  });
}

async function codec(): Promise<void> {
  const { PerMessageDeflate } = await import('../dist/protocol/index.js');
  const params = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const noTakeover = { ...params, serverNoContextTakeover: true, clientNoContextTakeover: true };
  console.log('\n## codec: milliseconds per message (median), one synchronous call each\n');
  console.log('| message | compressed | deflate, window kept | deflate, no context takeover | inflate, window kept | inflate, no context takeover | deflate per MiB | inflate per MiB | ws-style async stream: deflate / inflate (latency) |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const size of [KiB, 64 * KiB, MiB, 16 * MiB]) {
    const budget = size >= 16 * MiB ? 4000 : 1500;
    const messages = [jsonText(size, 1), jsonText(size, 2)];
    // Window kept: the dictionary is the previous message's tail, as on a live connection.
    const warm = new PerMessageDeflate(params, { memLevel: 8, threshold: 0 });
    warm.deflate(messages[0]);
    let i = 0;
    const deflateKept = await timeIt(() => warm.deflate(messages[i++ & 1]), budget);
    const cold = new PerMessageDeflate(noTakeover, { memLevel: 8, threshold: 0 });
    const compressedAlone = cold.deflate(messages[1])!;
    const deflateAlone = await timeIt(() => cold.deflate(messages[1]), budget);
    // Inflate a message compressed after the other one, with that one as the window.
    const sender = new PerMessageDeflate(params, { memLevel: 8, threshold: 0 });
    sender.deflate(messages[0]);
    const compressedKept = sender.deflate(messages[1])!;
    const inflateKept = await timeIt(() => {
      // A fresh receiver whose window holds the first message, as after inflating it (set
      // directly: inflating it here would be timed too).
      const receiver = new PerMessageDeflate(params, { memLevel: 8, threshold: 0 });
      (receiver as unknown as { inflated: { append(b: Buffer): void } }).inflated.append(messages[0]);
      receiver.inflate([compressedKept], 32 * MiB);
    }, budget);
    const inflateAlone = await timeIt(() => cold.inflate([compressedAlone], 32 * MiB), budget);
    // ws's way: a persistent stream, each message a write and a flush through the threadpool.
    const d = createDeflateRaw();
    const f = createInflateRaw();
    await streamOnce(d, messages[0]);
    const streamDeflate: number[] = [];
    const streamInflate: number[] = [];
    const withTail = Buffer.concat([compressedAlone, Buffer.from([0, 0, 0xff, 0xff])]);
    for (let k = 0; k < (size >= MiB ? 10 : 200); k++) {
      let t = performance.now();
      await streamOnce(d, messages[k & 1]);
      streamDeflate.push(performance.now() - t);
      const g = createInflateRaw();
      t = performance.now();
      await streamOnce(g, withTail);
      streamInflate.push(performance.now() - t);
      g.close();
    }
    d.close();
    f.close();
    const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const perMiB = (ms: number) => fmt((ms * MiB) / size);
    console.log(
      `| ${label(size)} | ${(compressedAlone.length / size).toFixed(2)} | ${fmt(deflateKept)} | ${fmt(deflateAlone)} | ${fmt(inflateKept)} | ${fmt(inflateAlone)} | ${perMiB(Math.max(deflateKept, deflateAlone))} | ${perMiB(Math.max(inflateKept, inflateAlone))} | ${fmt(median(streamDeflate))} / ${fmt(median(streamInflate))} |`,
    );
  }
}

// ---------------------------------------------------------------------------
// echo: throughput and event-loop delay under load
// ---------------------------------------------------------------------------

async function echoLoad(kind: ServeSpec['kind'], size: number, connections: number, inFlight: number, seconds: number) {
  const server = await Server.start({ kind, deflate: {} });
  try {
    const frame = compressedFrame(jsonText(size));
    const clients = await Promise.all(
      Array.from({ length: connections }, () => LoadClient.connect(server.port, 'permessage-deflate; client_no_context_takeover; client_max_window_bits')),
    );
    let running = true;
    for (const c of clients) c.onMessage = () => running && c.socket.write(frame);
    // Warm up, then measure.
    for (const c of clients) for (let i = 0; i < inFlight; i++) c.socket.write(frame);
    await new Promise((r) => setTimeout(r, 1000));
    await server.ask('delay-start');
    const start = clients.reduce((s, c) => s + c.messages, 0);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const done = clients.reduce((s, c) => s + c.messages, 0) - start;
    const elapsed = (performance.now() - t0) / 1000;
    const delay = await server.ask<{ p50: number; p99: number; max: number }>('delay-stop');
    running = false;
    for (const c of clients) c.close();
    return { rate: done / elapsed, mbps: (done * size) / elapsed / MiB, delay };
  } finally {
    await server.stop();
  }
}

async function echo(): Promise<void> {
  console.log('\n## echo: JSON-like text, client compresses (no context takeover), server inflates, echoes, compresses (context kept)\n');
  console.log('| message | connections × in flight | server | messages/s | MiB/s (uncompressed) | event-loop delay p50 / p99 / max (ms) |');
  console.log('| ---: | ---: | --- | ---: | ---: | ---: |');
  const runs: Array<[number, number, number, number]> = [
    [KiB, 16, 8, 5],
    [64 * KiB, 16, 2, 5],
    [MiB, 8, 1, 6],
    [16 * MiB, 2, 1, 10],
  ];
  for (const [size, connections, inFlight, seconds] of runs) {
    for (const kind of ['strictws', 'ws'] as const) {
      const r = await echoLoad(kind, size, connections, inFlight, seconds);
      console.log(`| ${label(size)} | ${connections} × ${inFlight} | ${kind} | ${r.rate.toFixed(0)} | ${r.mbps.toFixed(1)} | ${fmt(r.delay.p50)} / ${fmt(r.delay.p99)} / ${fmt(r.delay.max)} |`);
    }
  }
}

// ---------------------------------------------------------------------------
// memory: RSS per connection after one compressed message each way
// ---------------------------------------------------------------------------

async function memoryRow(kind: ServeSpec['kind'], deflate: ServeSpec['deflate'], n: number) {
  const server = await Server.start({ kind, deflate });
  try {
    type Memory = { rss: number; external: number; heapUsed: number };
    const before = await server.ask<Memory>('memory');
    const bits = deflate.clientMaxWindowBits ?? 15;
    const offer = `permessage-deflate; client_max_window_bits${deflate.clientNoContextTakeover ? '; client_no_context_takeover' : ''}`;
    const clients: LoadClient[] = [];
    for (let i = 0; i < n; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => LoadClient.connect(server.port, offer)))));
    }
    await new Promise((r) => setTimeout(r, 200));
    const connected = await server.ask<Memory>('memory');
    // One message each way: 2 KiB of JSON, over the 1 KiB threshold, compressed by both sides.
    const frame = compressedFrame(jsonText(2 * KiB), Math.max(9, bits));
    for (let i = 0; i < clients.length; i += 100) {
      const batch = clients.slice(i, i + 100);
      await Promise.all(batch.map((c) => new Promise<void>((resolve) => {
        c.onMessage = () => resolve();
        c.socket.write(frame);
      })));
    }
    await new Promise((r) => setTimeout(r, 200));
    const used = await server.ask<Memory>('memory');
    await server.ask('sweep');
    const swept = await server.ask<Memory>('memory');
    for (const c of clients) c.close();
    const per = (a: Memory, b: Memory) => ({ rss: (b.rss - a.rss) / n / KiB, external: (b.external - a.external) / n / KiB, heap: (b.heapUsed - a.heapUsed) / n / KiB });
    return { idle: per(before, connected), used: per(before, used), swept: per(before, swept) };
  } finally {
    await server.stop();
  }
}

async function memory(): Promise<void> {
  const n = Number(process.env.CONNECTIONS ?? 1000);
  console.log(`\n## memory: KiB per connection, ${n} connections, after one compressed message each way (idle: negotiated, nothing sent yet)\n`);
  console.log('| server | window bits (both ways) | memLevel | context takeover | idle RSS | after a message: RSS | of which heap | of which external (buffers, zlib) | after the idle sweep: RSS | of which external |');
  console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const all: Array<[ServeSpec['kind'], number, number, boolean]> = [
    ['strictws', 15, 8, true],
    ['strictws', 15, 1, true],
    ['strictws', 15, 9, true],
    ['strictws', 12, 8, true],
    ['strictws', 9, 8, true],
    ['strictws', 15, 8, false],
    ['ws', 15, 8, true],
    ['ws', 15, 1, true],
    ['ws', 15, 9, true],
    ['ws', 12, 8, true],
    ['ws', 9, 8, true],
    ['ws', 15, 8, false],
  ];
  // MEMORY_ROWS=main: the defaults, with and without context takeover, and ws's defaults.
  const rows = process.env.MEMORY_ROWS === 'main' ? all.filter(([kind, bits, memLevel, takeover]) => bits === 15 && memLevel === 8 && (takeover || kind === 'strictws')) : all;
  for (const [kind, bits, memLevel, takeover] of rows) {
    const deflate = {
      serverMaxWindowBits: bits,
      clientMaxWindowBits: bits,
      memLevel,
      serverNoContextTakeover: !takeover,
      clientNoContextTakeover: !takeover,
    };
    const r = await memoryRow(kind, deflate, n);
    console.log(`| ${kind} | ${bits} | ${memLevel} | ${takeover ? 'kept' : 'none'} | ${r.idle.rss.toFixed(1)} | ${r.used.rss.toFixed(1)} | ${r.used.heap.toFixed(1)} | ${r.used.external.toFixed(1)} | ${r.swept.rss.toFixed(1)} | ${r.swept.external.toFixed(1)} |`);
  }
}

// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// cpu: the server's compression work per echoed message, in-process, CPU time
// ---------------------------------------------------------------------------

/** The bench's text (bench/wsload: a 78-byte sentence over and over), or JSON-like text. */
function sentenceText(bytes: number): Buffer {
  const sentence = 'The quick brown fox jumps over the lazy dog while the server echoes it back. ';
  return Buffer.from(sentence.repeat(Math.ceil(bytes / sentence.length)).slice(0, bytes));
}

/**
 * What an echo server's compression costs per message, without sockets: inflate the client's
 * message (compressed once, as wsload sends it: client_no_context_takeover), compress the echo
 * (context kept). Process CPU time (threadpool included) over a batch, the engines taking turns,
 * median of 5 rounds: the load of the machine inflates all of them alike, not the ratios.
 */
async function cpu(): Promise<void> {
  const { PerMessageDeflate } = await import('../dist/protocol/index.js');
  const require = (await import('node:module')).createRequire(import.meta.url);
  // Not among ws's exports: loaded by its path in the package.
  const wsLib = fileURLToPath(new URL('lib/permessage-deflate.js', `file://${require.resolve('ws')}`));
  const WsDeflate = require(wsLib) as new (options: object) => {
    accept(offers: object[]): object;
    decompress(data: Buffer, fin: boolean, cb: (error: Error | null, out: Buffer) => void): void;
    compress(data: Buffer, fin: boolean, cb: (error: Error | null, out: Buffer) => void): void;
    cleanup(): void;
  };
  const params = { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  console.log('\n## cpu: server CPU µs per echoed message (inflate + compress), in-process, median of 5 rounds\n');
  console.log('| message | text | strictws, zlib streams | strictws, one-shot (the engine before) | ws 8.23 | streams / ws |');
  console.log('| ---: | --- | ---: | ---: | ---: | ---: |');
  for (const size of [4 * KiB, 64 * KiB]) {
    for (const [name, text] of [['sentence (bench)', sentenceText(size)], ['JSON-like', jsonText(size)]] as const) {
      const compressed = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
      const count = size >= 64 * KiB ? 150 : 1500;
      const ours = (streams: boolean) => async () => {
        // At ws's level (zlib's default, 6), not strictws's default (1): like with like.
        const codec = new PerMessageDeflate(params, { memLevel: 8, threshold: 0, level: 6 }, { streams });
        for (let i = 0; i < count; i++) codec.deflate(codec.inflate([compressed], 64 * MiB)!);
        codec.dispose();
      };
      const ws = async () => {
        const codec = new WsDeflate({ isServer: true, maxPayload: 64 * MiB });
        codec.accept([{ client_no_context_takeover: [true] }]); // as ws's header parser gives it
        for (let i = 0; i < count; i++) {
          const inflated = await new Promise<Buffer>((resolve, reject) => codec.decompress(compressed, true, (e, out) => (e ? reject(e) : resolve(out))));
          await new Promise<Buffer>((resolve, reject) => codec.compress(inflated, true, (e, out) => (e ? reject(e) : resolve(out))));
        }
        codec.cleanup();
      };
      const engines = [ours(true), ours(false), ws];
      const samples: number[][] = engines.map(() => []);
      for (let round = 0; round < 6; round++) {
        for (const [k, run] of engines.entries()) {
          const start = process.cpuUsage();
          await run();
          const used = process.cpuUsage(start);
          if (round > 0) samples[k].push((used.user + used.system) / count); // round 0 warms up
        }
      }
      const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
      const [streams, oneShot, wsCost] = samples.map(median);
      console.log(`| ${label(size)} | ${name} | ${streams.toFixed(1)} | ${oneShot.toFixed(1)} | ${wsCost.toFixed(1)} | ${(streams / wsCost).toFixed(2)}× |`);
    }
  }
}

// ---------------------------------------------------------------------------
// levels: what zlib's compression level costs and saves, by kind of payload
// ---------------------------------------------------------------------------

/** Bytes that do not compress (media, encrypted data), the same on every run. */
function randomish(bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = 12345;
  for (let i = 0; i < bytes; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * The server's compressing, by level, through one PerMessageDeflate with
 * context kept: CPU time per input byte and the bytes sent, median of 5
 * rounds. Large messages (64 KiB, each a new slice of its payload) and a
 * session of small similar ones (conformance case D.4.1's: 100 JSON-like
 * messages of 2-2.6 KiB, 10 texts that come back). Level 0 is not in it:
 * it sends every message uncompressed.
 */
async function levels(): Promise<void> {
  const { PerMessageDeflate } = await import('../dist/protocol/index.js');
  const params = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const size = 64 * KiB;
  const slices = (corpus: Buffer) => Array.from({ length: 64 }, (_, i) => corpus.subarray(i * size + i * 7, (i + 1) * size + i * 7));
  const kinds: Array<[string, Buffer[]]> = [
    ['64 KiB JSON-like', slices(jsonText(size * 65))],
    ['64 KiB of the bench\'s sentence', slices(sentenceText(size * 65))],
    ['64 KiB random bytes', slices(randomish(size * 65))],
    ['session: 100 JSON-like messages of 2-2.6 KiB, 10 texts', Array.from({ length: 100 }, (_, i) => jsonText(2 * KiB + (i % 7) * 100, i % 10))],
  ];
  const LEVELS = [1, 3, 4, 6, 9];
  console.log('\n## levels: MB of input per CPU second, and bytes sent / message bytes (a message that does not shrink is sent as it is), context kept\n');
  console.log(`| messages | ${LEVELS.map((l) => `level ${l}`).join(' | ')} |`);
  console.log(`| --- |${LEVELS.map(() => ' --- |').join('')}`);
  for (const [name, messages] of kinds) {
    const input = messages.reduce((a, m) => a + m.length, 0);
    const repeat = Math.max(1, Math.round((4 * MiB) / input));
    const cells: string[] = [];
    for (const level of LEVELS) {
      const rates: number[] = [];
      let sent = 0;
      for (let round = 0; round < 6; round++) {
        const start = process.cpuUsage();
        for (let r = 0; r < repeat; r++) {
          const codec = new PerMessageDeflate(params, { memLevel: 8, threshold: 0, level });
          sent = 0;
          for (const message of messages) sent += codec.deflate(message)?.length ?? message.length;
          codec.dispose();
        }
        const used = process.cpuUsage(start);
        if (round > 0) rates.push((repeat * input) / (used.user + used.system)); // bytes per µs = MB/s; round 0 warms up
      }
      const median = rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
      cells.push(`${median.toFixed(0)} MB/s, ${(sent / input).toFixed(3)}`);
    }
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  const serveAt = process.argv.indexOf('--serve');
  if (serveAt !== -1) return serve(JSON.parse(process.argv[serveAt + 1]) as ServeSpec);
  const parts = process.argv.slice(2);
  const all = parts.length === 0;
  console.log(`# permessage-deflate measurements: Node ${process.version}, ${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} CPUs (${(await import('node:os')).cpus()[0]?.model})`);
  if (all || parts.includes('codec')) await codec();
  if (all || parts.includes('echo')) await echo();
  if (all || parts.includes('memory')) await memory();
  if (all || parts.includes('cpu')) await cpu();
  if (all || parts.includes('levels')) await levels();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
