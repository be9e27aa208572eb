import { describe, expect, it } from 'vitest';
import { decodeTrtVersion, gpuSlug, identityFromTrtexecLog, sameIdentity } from '../../../src/runtime/engines/identity.js';

// Device block of a real trtexec run on an Orin (TensorRT 10.16), from OE4T/meta-tegra PR #2243.
const orinLog = `[01/01/1970-03:47:30] [I] === Device Information ===
[01/01/1970-03:47:30] [I] Available Devices: 
[01/01/1970-03:47:30] [I]   Device 0: "Orin" UUID: GPU-f5507ee1-b6b1-556b-8350-83af993dbffd
[01/01/1970-03:47:30] [I] Selected Device: Orin
[01/01/1970-03:47:30] [I] Selected Device ID: 0
[01/01/1970-03:47:30] [I] Compute Capability: 8.7
[01/01/1970-03:47:30] [I] SMs: 8
[01/01/1970-03:47:30] [I] TensorRT version: 10.16.2
`;
// Last line of a real trtexec run on a Jetson Nano with JetPack 4.6 (TensorRT 8.2.1), SumantBagri/CSC2231_Project output.log.
const nanoBanner = '&&&& PASSED TensorRT.trtexec [TensorRT v8201] # /usr/src/tensorrt/bin/trtexec --onnx=best.onnx --saveEngine=here.engine --best';
// Device lines in the format of NVIDIA/TensorRT issue #1221 (trtexec 7.x/8.x).
const deviceLines = `[06/23/2021-13:23:23] [I] === Device Information ===
[06/23/2021-13:23:23] [I] Selected Device: NVIDIA Tegra X1
[06/23/2021-13:23:23] [I] Compute Capability: 5.3
`;

describe('TensorRT identity', () => {
  it('decodes both packings of the TensorRT version number', () => {
    expect(decodeTrtVersion(8201)).toBe('8.2.1');
    expect(decodeTrtVersion(8502)).toBe('8.5.2');
    expect(decodeTrtVersion(8001)).toBe('8.0.1');
    expect(decodeTrtVersion(100300)).toBe('10.3.0');
    expect(decodeTrtVersion(101303)).toBe('10.13.3');
  });

  it('reads device and version from a trtexec log', () => {
    expect(identityFromTrtexecLog(orinLog)).toEqual({ tensorrt: '10.16.2', gpu: { name: 'Orin', computeCapability: '8.7' } });
    expect(identityFromTrtexecLog(`${deviceLines}${nanoBanner}\n`)).toEqual({
      tensorrt: '8.2.1',
      gpu: { name: 'NVIDIA Tegra X1', computeCapability: '5.3' },
    });
  });

  it('returns null when the log lacks the device block', () => {
    expect(identityFromTrtexecLog(nanoBanner)).toBeNull();
    expect(identityFromTrtexecLog('')).toBeNull();
  });

  it('slugs GPU names and compares identities by version, name and compute capability', () => {
    expect(gpuSlug('NVIDIA Tegra X2')).toBe('nvidia-tegra-x2');
    const a = { tensorrt: '8.5.2', gpu: { name: 'Orin', computeCapability: '8.7' } };
    expect(sameIdentity(a, { ...a })).toBe(true);
    expect(sameIdentity(a, { ...a, tensorrt: '8.5.3' })).toBe(false);
    expect(sameIdentity(a, { ...a, gpu: { name: 'Xavier', computeCapability: '7.2' } })).toBe(false);
  });
});
