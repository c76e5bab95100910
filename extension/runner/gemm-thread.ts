/** The model process's second thread for large matrix products (gemm-threads.ts): its entry point. */
import { workerData } from 'node:worker_threads';
import { runGemmThread, type GemmThreadData } from './gemm-threads';

runGemmThread(workerData as GemmThreadData);
