/// <reference lib="webworker" />
/** The layout worker: one request in, one result out (the UI thread only keeps the latest). */
import { computeLayout, failedLayout, type LayoutRequest, type LayoutResult } from './layout';

const scope = self as unknown as { onmessage: ((e: MessageEvent<LayoutRequest>) => void) | null; postMessage(m: LayoutResult): void };

scope.onmessage = (e) => {
  const req = e.data;
  try {
    scope.postMessage(computeLayout(req));
  } catch (err) {
    scope.postMessage(failedLayout(req.id, err));
  }
};
