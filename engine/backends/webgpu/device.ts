/**
 * Opening a device from a `GPU` object (`navigator.gpu` in the webview, the `webgpu` package in Node):
 * a core adapter if there is one, else a compatibility-mode adapter (OpenGL ES: Mesa in CI), with the
 * limits the kernels want raised as far as the adapter allows.
 */
/// <reference types="@webgpu/types" />

export interface GpuDeviceInfo {
  /** Human-readable adapter name, e.g. "NVIDIA H100 (vulkan)" or "llvmpipe … (compatibility)". */
  readonly name: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly featureLevel: 'core' | 'compatibility';
  readonly fallback: boolean;
}

/** Limits worth raising above the defaults (compatibility mode starts at 128 invocations and 4 storage buffers). */
const WANTED = [
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize',
] as const;
const CAP: Partial<Record<(typeof WANTED)[number], number>> = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256 };

export async function openDevice(gpu: GPU, opts: { powerPreference?: GPUPowerPreference } = {}): Promise<{ device: GPUDevice; info: GpuDeviceInfo } | null> {
  let adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  let featureLevel: GpuDeviceInfo['featureLevel'] = 'core';
  if (!adapter) {
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility', powerPreference: opts.powerPreference ?? 'high-performance' } as GPURequestAdapterOptions);
    featureLevel = 'compatibility';
  }
  if (!adapter) return null;
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED) {
    const have = adapter.limits[name];
    if (typeof have === 'number') requiredLimits[name] = Math.min(have, CAP[name] ?? have);
  }
  const device = await adapter.requestDevice({ requiredLimits });
  const i = adapter.info ?? ({} as GPUAdapterInfo);
  const description = i.description || '';
  const vendor = i.vendor || '';
  const architecture = i.architecture || '';
  const name = [description || [vendor, architecture].filter(Boolean).join(' ') || 'unknown adapter', featureLevel === 'compatibility' ? '(compatibility mode)' : ''].filter(Boolean).join(' ');
  const fallback = !!(i as { isFallbackAdapter?: boolean }).isFallbackAdapter || !!(adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return { device, info: { name, vendor, architecture, description, featureLevel, fallback } };
}
