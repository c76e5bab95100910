/**
 * Where is a runaway worker? On timeout the runner pauses the worker in the debugger (Node's
 * inspector, NodeWorker domain, from the runner's own thread) and reads the innermost frame of the
 * model's bundle — so an infinite loop that creates no graph nodes is still reported at its line.
 */
import * as inspector from 'node:inspector';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';

interface CallFrame {
  url?: string;
  location: { scriptId: string; lineNumber: number; columnNumber?: number };
}

/** 1-based bundle line and column where `worker` is executing model code, or null (not found within `ms`). */
export function pausedLocation(worker: Worker, bundlePath: string, ms = 1500): Promise<{ line: number; column: number } | null> {
  const session = new inspector.Session();
  try {
    session.connect();
  } catch {
    return Promise.resolve(null);
  }
  const wanted = new Set([bundlePath, pathToFileURL(bundlePath).href]);
  const scripts = new Map<string, string>();
  let nextId = 1;
  let workerSession: string | null = null;
  const sendToWorker = (method: string) => {
    if (workerSession) session.post('NodeWorker.sendMessageToWorker', { sessionId: workerSession, message: JSON.stringify({ id: nextId++, method, params: {} }) });
  };
  return new Promise<{ line: number; column: number } | null>((resolve) => {
    const done = (r: { line: number; column: number } | null) => {
      clearTimeout(timer);
      try {
        // let the worker run again (the runner terminates it next) and detach from every worker
        sendToWorker('Debugger.resume');
        sendToWorker('Debugger.disable');
        if (workerSession) session.post('NodeWorker.detach', { sessionId: workerSession });
        session.post('NodeWorker.disable');
        session.disconnect();
      } catch {
        /* already gone */
      }
      resolve(r);
    };
    const timer = setTimeout(() => done(null), ms);
    session.on('NodeWorker.attachedToWorker', (msg: { params: { sessionId: string; workerInfo: { workerId: string; title: string } } }) => {
      // the inspector's workerId is its own counter; the title carries the thread id
      if (msg.params.workerInfo.title !== `[worker ${worker.threadId}]`) return;
      workerSession = msg.params.sessionId;
      sendToWorker('Debugger.enable');
      sendToWorker('Debugger.pause');
    });
    session.on('NodeWorker.receivedMessageFromWorker', (msg: { params: { message: string } }) => {
      let m: { method?: string; params?: { scriptId?: string; url?: string; callFrames?: CallFrame[] } };
      try {
        m = JSON.parse(msg.params.message);
      } catch {
        return;
      }
      if (m.method === 'Debugger.scriptParsed' && m.params?.scriptId) scripts.set(m.params.scriptId, m.params.url ?? '');
      if (m.method !== 'Debugger.paused') return;
      for (const f of m.params?.callFrames ?? []) {
        const url = f.url || scripts.get(f.location.scriptId) || '';
        if (wanted.has(url) || path.resolve(url) === bundlePath) {
          done({ line: f.location.lineNumber + 1, column: (f.location.columnNumber ?? 0) + 1 });
          return;
        }
      }
      done(null);
    });
    session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (err) => {
      if (err) done(null);
    });
  });
}
