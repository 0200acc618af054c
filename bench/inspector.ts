/**
 * A minimal Chrome DevTools Protocol client for a Node child started with
 * `--inspect=127.0.0.1:0`: force a full GC and read `process.memoryUsage()`
 * inside it, so a bench can tell memory that is still referenced (heap after
 * GC grows: a leak) from allocator and GC slack (RSS moves, heap does not).
 */
import { WebSocket } from 'ws';

/** `process.memoryUsage()` of the inspected process, bytes. */
export interface HeapFigures {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface Inspector {
  /** Full GC, then the process's memory figures. */
  heapAfterGc(): Promise<HeapFigures>;
  /** Evaluates an expression in the process; returns its value (JSON-able). */
  evaluate<T>(expression: string): Promise<T>;
  close(): void;
}

/** The DevTools URL in a line Node prints on stderr: "Debugger listening on ws://127.0.0.1:PORT/UUID". */
export function inspectorUrl(line: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
}

export async function connectInspector(url: string): Promise<Inspector> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(m.error.message));
    else p?.resolve(m.result);
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('inspector closed'));
    pending.clear();
  });
  const send = <T>(method: string, params: unknown = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send<{ result: { value?: unknown }; exceptionDetails?: { text: string } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
    });
    if (r.exceptionDetails) throw new Error(`inspector: ${r.exceptionDetails.text}`);
    return r.result.value as T;
  };
  return {
    evaluate,
    async heapAfterGc() {
      await send('HeapProfiler.collectGarbage');
      return JSON.parse(await evaluate<string>('JSON.stringify(process.memoryUsage())')) as HeapFigures;
    },
    close: () => ws.close(),
  };
}
