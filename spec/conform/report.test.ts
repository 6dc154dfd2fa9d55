/** The HTML report says which seat we tested from: a server (we are the client) or clients (`--serve`). */
import { describe, expect, it } from 'vitest';
import { type ConformRun, renderHtml } from '../../src/conform/index.js';

function run(seat: ConformRun['seat']): ConformRun {
  return { agent: 'a', url: 'ws://127.0.0.1:1/', seat, started: '2026-01-01T00:00:00Z', durationMs: 1, selection: { cases: null, exclude: null }, allIds: [], selected: () => true, results: [], families: [] };
}

describe('renderHtml footer', () => {
  it('testing a server: we are the client, with our own lettered families', () => {
    const html = renderHtml(run('client'));
    expect(html).toContain('Testing a WebSocket server: we are the client');
    expect(html).toContain('lettered families are our own');
    expect(html).not.toContain('fuzzing server');
  });

  it('testing a client: we are the fuzzing server, with Autobahn\'s paths and only its cases', () => {
    const html = renderHtml(run('server'));
    expect(html).toContain('Testing a WebSocket client: we are the fuzzing server');
    expect(html).toContain('/runCase');
    expect(html).not.toContain('lettered');
    expect(html).not.toContain('raw TCP to the server');
  });
});
