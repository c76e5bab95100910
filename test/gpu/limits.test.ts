/** Programs that would exceed a device's dispatch limits are refused with a message (the panel's GPU run then falls back to the CPU). */
import assert from 'node:assert/strict';
import { matmulProgram } from '../../engine/backends/webgpu/matmul';

describe('WebGPU program limits', () => {
  const limits = { invocations: 256, workgroupStorage: 16384, maxWorkgroupsPerDimension: 65535 };

  it('a batched matmul with more batches than workgroups along z is refused, naming the shapes', () => {
    assert.throws(() => matmulProgram({ aShape: [70_000, 2, 3], bShape: [3, 4], transA: false, transB: false }, limits), /matmul of \[70000, 2, 3\] by \[3, 4\] needs 70000 workgroups.*65535/);
    assert.equal(matmulProgram({ aShape: [65_535, 2, 3], bShape: [3, 4], transA: false, transB: false }, limits).dispatch[2], 65_535);
  });
});
