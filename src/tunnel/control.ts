/**
 * Control frames (frame type 0x02), pure. Byte layout in docs/protocol-tunnel.md.
 *
 *   control = kind:u8 ‖ body
 *   kind    = 0x01 hello (below)
 *           | 0x02–0x0f reserved for the tunnel itself
 *           | 0x10–0xff extensions registered at run time (issue 4: pair-secret ratchet)
 *   hello   = magic "p2psip" (6 bytes ASCII) ‖ minVersion:u16be ‖ maxVersion:u16be
 *             ‖ maxFramePayload:u32be ‖ (further bytes: ignored, for later versions)
 *
 * Each side sends its hello first, before anything else, and does not wait
 * for the peer's before sending it. The version in use is the highest both
 * speak: min(maxA, maxB), provided it is ≥ max(minA, minB); otherwise the
 * tunnel closes with PROTOCOL.
 */
import { TunnelError } from './errors.js';

export const ControlKind = {
  Hello: 0x01,
} as const;

/** Control kinds at or above this value may be registered by other modules. */
export const FIRST_EXTENSION_CONTROL_KIND = 0x10;

/** The tunnel protocol versions this code speaks. */
export const PROTOCOL_VERSION = { min: 1, max: 1 } as const;

const MAGIC = new Uint8Array([0x70, 0x32, 0x70, 0x73, 0x69, 0x70]); // "p2psip"
/** kind + magic + min + max + maxFramePayload. */
export const HELLO_LENGTH = 1 + MAGIC.length + 2 + 2 + 4;

export interface Hello {
  minVersion: number;
  maxVersion: number;
  /** The largest frame payload the sender accepts; the peer must not send more. */
  maxFramePayload: number;
}

export interface ControlMessage {
  kind: number;
  body: Uint8Array;
}

export function encodeHello(hello: Hello): Uint8Array {
  const { minVersion, maxVersion, maxFramePayload } = hello;
  if (!isU16(minVersion) || !isU16(maxVersion) || minVersion > maxVersion || minVersion < 1) {
    throw new RangeError(`bad hello versions ${minVersion}..${maxVersion}`);
  }
  if (!Number.isInteger(maxFramePayload) || maxFramePayload < 0 || maxFramePayload > 0xffff_ffff) {
    throw new RangeError(`bad hello maxFramePayload ${maxFramePayload}`);
  }
  const out = new Uint8Array(HELLO_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = ControlKind.Hello;
  out.set(MAGIC, 1);
  view.setUint16(7, minVersion);
  view.setUint16(9, maxVersion);
  view.setUint32(11, maxFramePayload);
  return out;
}

/** Splits a control payload into kind and body; PROTOCOL if empty. */
export function decodeControl(payload: Uint8Array): ControlMessage {
  if (payload.length === 0) throw TunnelError.protocol('empty control frame');
  return { kind: payload[0]!, body: payload.subarray(1) };
}

/** The hello in a control message's body; PROTOCOL if it is not a valid p2psip hello. */
export function decodeHelloBody(body: Uint8Array): Hello {
  if (body.length < HELLO_LENGTH - 1) throw TunnelError.protocol('hello too short');
  for (let i = 0; i < MAGIC.length; i++) {
    if (body[i] !== MAGIC[i]) throw TunnelError.protocol('hello magic is not "p2psip"');
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const hello = {
    minVersion: view.getUint16(6),
    maxVersion: view.getUint16(8),
    maxFramePayload: view.getUint32(10),
  };
  if (hello.minVersion < 1 || hello.minVersion > hello.maxVersion) {
    throw TunnelError.protocol(`hello versions ${hello.minVersion}..${hello.maxVersion} invalid`);
  }
  return hello;
}

/** The version both sides speak, or PROTOCOL if their ranges do not meet. */
export function negotiateVersion(local: Hello, remote: Hello): number {
  const version = Math.min(local.maxVersion, remote.maxVersion);
  if (version < Math.max(local.minVersion, remote.minVersion)) {
    throw TunnelError.protocol(
      `no common tunnel version: ours ${local.minVersion}..${local.maxVersion}, ` +
        `peer ${remote.minVersion}..${remote.maxVersion}`,
    );
  }
  return version;
}

/** A control payload of an extension kind (0x10–0xff). */
export function encodeControl(kind: number, body: Uint8Array): Uint8Array {
  assertExtensionKind(kind);
  const out = new Uint8Array(1 + body.length);
  out[0] = kind;
  out.set(body, 1);
  return out;
}

export function assertExtensionKind(kind: number): void {
  if (!Number.isInteger(kind) || kind < FIRST_EXTENSION_CONTROL_KIND || kind > 0xff) {
    throw new RangeError(
      `control kind must be an integer in 0x${FIRST_EXTENSION_CONTROL_KIND.toString(16)}..0xff, got ${kind}`,
    );
  }
}

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}
