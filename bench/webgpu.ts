/**
 * WebGPU vs the CPU engine, in one run (Node, Dawn through the `webgpu` package; on a machine
 * without a GPU that is Mesa's llvmpipe, where the figures only show that it runs):
 *   (a) matmul N×N @ N×N, float32: GFLOP/s of the tiled WGSL kernel and of the CPU kernel, and the
 *       largest relative difference between the two products;
 *   (b) one training step of a 784-256-256-10 ReLU MLP, Adam, batch 128, softmax cross-entropy:
 *       ms per step replaying the Graph IR on the GPU (no readback between steps) and on the CPU
 *       (the engine's Trainer), and the largest relative difference of their loss histories;
 *   (c) one training step of a conv layer (the CNN issue's case: batch 32, 16→32 channels, 3×3,
 *       padding 1, 28×28, then ReLU, 2×2 max pooling and a linear head), Adam: ms per step on the GPU
 *       and on the CPU, and the largest relative difference of their loss histories.
 *
 *   npm run bench:webgpu                 text
 *   npm run bench:webgpu -- --json       same, and the last stdout line is one JSON object
 *   options: --size=512 (matmul N) --steps=20 (timed MLP steps) --sync=10 (steps between readbacks)
 *            --conv-steps=4 (timed conv steps)
 *   BPL_DAWN_BACKEND=vulkan picks Dawn's backend (default opengles, compatibility mode)
 */
import { performance } from 'node:perf_hooks';
import { Trainer, data, defineTraining, losses, nn, optim, tensor } from '../engine';
import { OPS } from '../engine/ops/functional';
import { apply } from '../engine/ops/registry';
import { Rng } from '../engine/random';
import { runOp } from '../engine/backends/webgpu';
import { gpuTrainerFor } from '../engine/train/plan';
import { nodeGpu } from '../test/gpu/nodeGpu';
import { benchArgs } from './args';

const ARGS = benchArgs({ size: 512, steps: 20, sync: 10, 'conv-steps': 4 });
const say = (s: string) => {
  if (!ARGS.json) console.log(s);
  else console.error(s);
};

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-30));
  return worst;
}

async function matmul(n: number) {
  const { rt } = await nodeGpu();
  const rng = new Rng(11);
  const a = Float32Array.from({ length: n * n }, () => rng.uniform());
  const b = Float32Array.from({ length: n * n }, () => rng.uniform());
  const flops = 2 * n ** 3;
  // GPU: warm up (compiles the pipeline), then enough dispatches to fill ~1 s, one readback at the end
  const ga = rt.upload(a, [n, n]), gb = rt.upload(b, [n, n]);
  const warm = runOp(rt, 'matmul', [ga, gb], {}, [n, n]);
  const [gpuOut] = await rt.read(warm);
  let reps = 1;
  let gpuMs = 0;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) rt.release(runOp(rt, 'matmul', [ga, gb], {}, [n, n]));
    const last = runOp(rt, 'matmul', [ga, gb], {}, [n, n]);
    await rt.read(last);
    rt.release(last);
    gpuMs = (performance.now() - t0) / (reps + 1);
    if (gpuMs * (reps + 1) > 1000 || reps >= 256) break;
    reps *= 4;
  }
  // CPU: the engine's own kernel on float32 tensors
  const ta = tensor(a, { shape: [n, n] }), tb = tensor(b, { shape: [n, n] });
  const def = OPS.get('matmul')!;
  const cpuOut = apply(def, [ta, tb], {});
  let cpuMs = 0;
  for (let k = 1; ; k *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) apply(def, [ta, tb], {});
    cpuMs = (performance.now() - t0) / k;
    if (cpuMs * k > 1000 || k >= 64) break;
  }
  rt.release(ga);
  rt.release(gb);
  rt.release(warm);
  return { webgpu: flops / gpuMs / 1e6, cpu: flops / cpuMs / 1e6, maxRelError: maxRel(gpuOut, cpuOut.data), gpuMs, cpuMs };
}

function mlpSpec(steps: number) {
  return defineTraining({
    model: nn.sequential(nn.linear(784, 256, { init: 'he', seed: 1 }), nn.relu(), nn.linear(256, 256, { init: 'he', seed: 2 }), nn.relu(), nn.linear(256, 10, { seed: 3 })),
    data: data.blobs({ n: 1024, features: 784, centers: 10, std: 40, seed: 5 }),
    loss: losses.softmaxCrossEntropy, optimizer: optim.adam({ lr: 1e-3 }), batchSize: 128, steps, seed: 0,
  });
}

function convSpec(steps: number) {
  return defineTraining({
    model: nn.sequential(
      nn.unflatten(1, [16, 28, 28]), nn.conv2d(16, 32, 3, { padding: 1, seed: 1 }), nn.relu(), nn.maxPool2d(2),
      nn.flatten(), nn.linear(32 * 14 * 14, 10, { seed: 2 }),
    ),
    // inputs of unit scale (centres in [−1, 1], std 1) and a step that suits a head of 6,272 inputs
    // (Adam moves every weight by about lr: 1e-3 moves a logit by ~5), so the loss descends and the
    // two loss histories differ by float32 rounding, not by a chaotic trajectory magnifying it
    data: data.blobs({ n: 128, features: 16 * 28 * 28, centers: 10, std: 1, box: [-1, 1], seed: 5 }),
    loss: losses.softmaxCrossEntropy, optimizer: optim.adam({ lr: 1e-4 }), batchSize: 32, steps, seed: 0,
  });
}

/** Training steps of `spec` on the GPU (Graph IR replay) and on the CPU (the engine's Trainer), after `warmup` untimed steps each. */
async function trainingStep(what: string, spec: (total: number) => ReturnType<typeof mlpSpec>, steps: number, syncEvery: number, warmup: number) {
  const { rt } = await nodeGpu();
  const total = warmup + steps;
  const made = gpuTrainerFor(rt, new Trainer(spec(total)), { syncEvery });
  if ('reason' in made) throw new Error(`the ${what} did not move to the GPU: ${made.reason}`);
  const gpu = made.trainer;
  await gpu.run(warmup);
  const t0 = performance.now();
  await gpu.run(steps);
  const gpuMs = (performance.now() - t0) / steps;
  gpu.dispose();

  const cpu = new Trainer(spec(total));
  for (let i = 0; i < warmup; i++) cpu.step();
  const t1 = performance.now();
  for (let i = 0; i < steps; i++) cpu.step();
  const cpuMs = (performance.now() - t1) / steps;
  const gl = gpu.history.map((h) => h.loss), cl = cpu.history.map((h) => h.loss);
  if (gl.length !== cl.length) throw new Error(`history lengths differ: ${gl.length} vs ${cl.length}`);
  return { webgpu: gpuMs, cpu: cpuMs, maxRelError: maxRel(gl, cl), steps, firstLoss: cl[0], lastLoss: cl[cl.length - 1] };
}

async function main() {
  const { info, rt } = await nodeGpu();
  say(`WebGPU vs CPU (Node ${process.version}; Dawn backend ${process.env.BPL_DAWN_BACKEND ?? 'opengles'})`);
  say(`adapter: ${info.name}${info.fallback ? ' (fallback adapter)' : ''}; ${rt.limits.invocations} invocations per workgroup`);
  const mm = await matmul(ARGS.size);
  say(`(a) matmul ${ARGS.size}×${ARGS.size} @ ${ARGS.size}×${ARGS.size}, float32 — GFLOP/s, higher is better`);
  say(`  webgpu ${mm.webgpu.toFixed(2).padStart(8)} GFLOP/s  (${mm.gpuMs.toFixed(2)} ms)`);
  say(`  cpu    ${mm.cpu.toFixed(2).padStart(8)} GFLOP/s  (${mm.cpuMs.toFixed(2)} ms)   webgpu/cpu ${(mm.webgpu / mm.cpu).toFixed(2)}×`);
  say(`  largest relative difference: ${mm.maxRelError.toExponential(2)}`);
  const mlp = await trainingStep('MLP', mlpSpec, ARGS.steps, ARGS.sync, 3);
  say(`(b) 784-256-256-10 MLP, Adam, batch 128 — ms per training step over ${mlp.steps} steps, lower is better`);
  say(`  webgpu ${mlp.webgpu.toFixed(2).padStart(8)} ms  (Graph IR replay, history read back every ${ARGS.sync} steps)`);
  say(`  cpu    ${mlp.cpu.toFixed(2).padStart(8)} ms  (engine Trainer)   cpu/webgpu ${(mlp.cpu / mlp.webgpu).toFixed(2)}×`);
  say(`  loss ${mlp.firstLoss.toFixed(4)} → ${mlp.lastLoss.toFixed(4)}; largest relative difference of the loss histories: ${mlp.maxRelError.toExponential(2)}`);
  const conv = await trainingStep('conv layer', convSpec, ARGS['conv-steps'], ARGS.sync, 1);
  say(`(c) conv2d 16→32 channels, 3×3, 28×28, batch 32 (+ ReLU, max pool, linear head), Adam — ms per training step over ${conv.steps} steps, lower is better`);
  say(`  webgpu ${conv.webgpu.toFixed(2).padStart(8)} ms  (Graph IR replay)`);
  say(`  cpu    ${conv.cpu.toFixed(2).padStart(8)} ms  (engine Trainer)   cpu/webgpu ${(conv.cpu / conv.webgpu).toFixed(2)}×`);
  say(`  loss ${conv.firstLoss.toFixed(4)} → ${conv.lastLoss.toFixed(4)}; largest relative difference of the loss histories: ${conv.maxRelError.toExponential(2)}`);
  say(`GPU work: ${rt.stats.dispatches} dispatches in ${rt.stats.submits} submissions, ${rt.stats.pipelines} pipelines compiled, ${rt.stats.readbacks} readbacks, ${rt.stats.buffersCreated} buffers created / ${rt.stats.buffersReused} reused`);
  const errors = rt.takeErrors();
  if (errors.length) throw new Error(`WebGPU reported errors: ${errors[0]}`);
  if (ARGS.json) {
    console.log(JSON.stringify({
      adapter: info.name,
      matmul: { webgpu: mm.webgpu, cpu: mm.cpu, maxRelError: mm.maxRelError },
      mlpStep: { webgpu: mlp.webgpu, cpu: mlp.cpu, maxRelError: mlp.maxRelError },
      convStep: { webgpu: conv.webgpu, cpu: conv.cpu, maxRelError: conv.maxRelError },
    }));
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
