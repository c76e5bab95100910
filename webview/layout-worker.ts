/// <reference lib="webworker" />
/** The layout worker: one request in, one result out (the UI thread only keeps the latest). */
import { computeLayout, type LayoutRequest, type LayoutResult } from './layout';

const scope = self as unknown as { onmessage: ((e: MessageEvent<LayoutRequest>) => void) | null; postMessage(m: LayoutResult): void };

scope.onmessage = (e) => {
  const req = e.data;
  try {
    scope.postMessage(computeLayout(req));
  } catch (err) {
    scope.postMessage({ id: req.id, nodes: {}, clusters: {}, edges: {}, width: 0, height: 0, error: String((err as Error)?.message ?? err) });
  }
};
