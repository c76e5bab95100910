/**
 * A WebGPU device in Node through the `webgpu` package (Dawn). Without a GPU it runs on Mesa's
 * llvmpipe through OpenGL ES in compatibility mode (docs/testing.md); `BPL_DAWN_BACKEND`
 * picks another Dawn backend (`vulkan` on a machine with a GPU driver).
 */
import { GpuRuntime, openDevice, type GpuDeviceInfo } from '../../engine/backends/webgpu';

let opened: Promise<{ rt: GpuRuntime; info: GpuDeviceInfo }> | null = null;
/** Dawn's instance: it must outlive the device (once collected, the device hangs or crashes). */
let instance: GPU | null = null;

export function nodeGpu(): Promise<{ rt: GpuRuntime; info: GpuDeviceInfo }> {
  opened ??= (async () => {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dawn = require('webgpu') as { create(flags: string[]): GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, dawn.globals);
    const backend = process.env.BPL_DAWN_BACKEND ?? 'opengles';
    const gpu = (instance = dawn.create(backend === 'default' ? [] : [`backend=${backend}`]));
    const opened = await openDevice(gpu);
    if (!opened) throw new Error(`no WebGPU adapter from Dawn (backend=${backend}); on Linux without a GPU this needs Mesa's EGL/GLES (libegl-mesa0, libgl1-mesa-dri, libgles2)`);
    return { rt: new GpuRuntime(opened.device), info: opened.info };
  })();
  return opened;
}
