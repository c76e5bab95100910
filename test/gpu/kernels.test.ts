/**
 * Every WebGPU kernel against the CPU backend, on a real WebGPU device in Node (Dawn; on a machine
 * without a GPU, Mesa's llvmpipe through OpenGL ES in compatibility mode).
 *
 * The cases, their CPU references and the error measure are in kernelCases.ts (shared with the
 * Chromium test, ../webview/gpu.test.ts): seeded random float32 inputs, a float64 CPU reference,
 * errors relative to max(|reference|, scale), NaN-ness compared on its own, ±∞ exactly. Adding an op
 * to the registry without a case there fails the coverage test.
 *
 * Every case runs twice: with the programs planned for this device's limits, and with those planned
 * for a small device (128 invocations per workgroup, 7 workgroups per dimension), which takes the
 * other tilings and spreads every one-dimensional dispatch over x and y.
 * `BPL_KERNEL_REPORT=1` prints each op's worst case after the run.
 */
import assert from 'node:assert/strict';
import { OPS } from '../../engine/index';
import { GpuRuntime, runOp, type GpuLimits, type GpuTensor } from '../../engine/backends/webgpu';
import { caseLabel, hash, measure, Rand, reference, SMALL_DEVICE, TABLE, type Case, type Outcome } from './kernelCases';
import { nodeGpu } from './nodeGpu';

// ---------------------------------------------------------------------------------------------
// Running a case on both backends

/** Runs one case on the CPU (float64) and the GPU (float32) and measures the GPU's error. */
async function check(rt: GpuRuntime, op: string, c: Case): Promise<Outcome> {
  const label = caseLabel(op, c);
  const expected = reference(op, c);
  const { ref } = expected;
  const inputs: GpuTensor[] = c.inputs.map((x) => rt.upload(x.values, x.shape, x.dtype));
  const out = runOp(rt, op, inputs, c.attrs, ref.shape);
  assert.deepEqual(out.shape, ref.shape, `${label}: output shape`);
  const [got] = await rt.read(out);
  for (const t of [...inputs, out]) rt.release(t);
  const errors = rt.takeErrors();
  assert.deepEqual(errors, [], `${label}: WebGPU errors`);
  return measure(label, c, expected, got);
}

// ---------------------------------------------------------------------------------------------

/** A second runtime on the same device that plans its programs for `limits`. */
function plannedFor(rt: GpuRuntime, limits: GpuLimits): GpuRuntime {
  const planned = new GpuRuntime(rt.device);
  Object.defineProperty(planned, 'limits', { value: limits });
  return planned;
}

describe('webgpu kernels match the CPU backend (Node, Dawn)', () => {
  let device: GpuRuntime;
  const worstByOp = new Map<string, Outcome>();

  before(async () => {
    ({ rt: device } = await nodeGpu());
  });

  after(() => {
    if (!process.env.BPL_KERNEL_REPORT) return;
    for (const [op, { worst, message }] of worstByOp) console.log(`${op.padEnd(12)} ${worst.toExponential(2)}  ${message}`);
  });

  it('has a kernel and parity cases for every op in the registry, and no cases for anything else', () => {
    for (const [name, def] of OPS) {
      assert.equal(typeof def.gpu, 'function', `op ${name} has no WebGPU kernel`);
      assert.ok(name in TABLE, `op ${name} has no GPU parity case in kernelCases.ts`);
    }
    for (const name of Object.keys(TABLE)) assert.ok(OPS.has(name), `test case for ${name}, which is not a registry op`);
  });

  const plans: { title: string; runtime: () => GpuRuntime }[] = [
    { title: "with this device's limits", runtime: () => device },
    { title: 'planned for a small device (128 invocations, 7 workgroups per dimension)', runtime: () => plannedFor(device, SMALL_DEVICE) },
  ];
  for (const plan of plans) {
    describe(plan.title, () => {
      let rt: GpuRuntime;
      before(() => {
        rt = plan.runtime();
      });
      after(() => {
        if (rt !== device) rt.dispose();
      });

      for (const op of Object.keys(TABLE)) {
        it(op, async () => {
          const cases = TABLE[op](new Rand(hash(op)));
          assert.ok(cases.length >= 3, `${op}: only ${cases.length} cases`);
          for (const c of cases) {
            const outcome = await check(rt, op, c);
            const seen = worstByOp.get(op);
            if (!seen || outcome.worst > seen.worst) worstByOp.set(op, outcome);
          }
        });
      }
    });
  }
});
