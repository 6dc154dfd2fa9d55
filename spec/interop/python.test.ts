/**
 * Interop with Python's websockets (Debian's python3-websockets, for
 * /usr/bin/python3). One python_client.py process serves the whole file:
 * one JSON command per line in, one JSON answer per line out. Python's
 * client can ping and await the matching pong, but does not expose the
 * pings it answers.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEBIAN_PYTHON, peers } from '../support/peers.js';
import { type CloseSeen, type InteropClient, type WireMessage, describeInterop, fromWire, toWire } from './cases.js';

const SCRIPT = fileURLToPath(new URL('./python_client.py', import.meta.url));

type Answer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

async function create(): Promise<InteropClient> {
  const child = spawn(DEBIAN_PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const lines = createInterface({ input: child.stdout });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let ready: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  lines.on('line', (line) => {
    const answer = JSON.parse(line) as Answer | { ready: true };
    if ('ready' in answer) return ready();
    const waiter = pending.get(answer.id)!;
    pending.delete(answer.id);
    if (answer.ok) waiter.resolve(answer.result);
    else waiter.reject(new Error(`python websockets: ${answer.error}`));
  });
  child.once('exit', (code) => {
    const error = new Error(`python_client.py exited with ${code}: ${stderr}`);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  await started;

  function run<T>(op: string, args: object): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  return {
    async exchange(url, messages, expected) {
      const received = await run<WireMessage[]>('exchange', { url, messages: messages.map(toWire), expected });
      return received.map(fromWire);
    },
    closeWith: (url, code, reason) => run<CloseSeen>('closeWith', { url, code, reason }),
    async untilClosed(url, messages) {
      const session = await run<{ received: WireMessage[]; close: CloseSeen }>('untilClosed', {
        url,
        messages: messages.map(toWire),
      });
      return { received: session.received.map(fromWire), close: session.close };
    },
    extensions: (url) => run<string>('extensions', { url }),
    async ping(url, payload) {
      const { pong } = await run<{ pong: string }>('ping', { url, payload: payload.toString('base64') });
      return Buffer.from(pong, 'base64');
    },
    async dispose() {
      child.stdin.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

describeInterop({
  name: 'Python websockets',
  peer: peers.pythonWebsockets,
  reportsPings: false,
  canPing: true,
  create,
});
