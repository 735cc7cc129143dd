/**
 * Tunnel framing, pure (no I/O). Byte-exact description and golden vectors:
 * docs/protocol-tunnel.md.
 *
 * Reliable stream (the Noise secret stream, ordered):
 *   frame    = type:u8 ‖ length:u32be ‖ payload[length]
 *   type     = 0x01 SIP message (payload = the raw SIP bytes)
 *            | 0x02 control    (payload = ./control.ts)
 *   0x03–0x0f are reserved for later versions; anything else closes the tunnel.
 *
 * Unreliable datagrams (secret-stream `send` / 'message', UDX, one per packet):
 *   datagram = type:u8 ‖ channel:u16be ‖ payload
 *   type     = 0x10 media (RTP / RTCP, issue 5); unknown types are dropped.
 */
import { TunnelError } from './errors.js';

/** Frame types of the reliable stream. */
export const FrameType = {
  Sip: 0x01,
  Control: 0x02,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Datagram types (first byte of an unreliable message). */
export const DatagramType = {
  Media: 0x10,
} as const;

/** type (1) + length (4). */
export const FRAME_HEADER_LENGTH = 5;
/** type (1) + channel (2). */
export const DATAGRAM_HEADER_LENGTH = 3;

/**
 * Default limit of a frame's payload. A SIP message with a large SDP body is a
 * few KiB; 64 KiB is the classic SIP-over-stream cap and bounds what one peer
 * can make us buffer.
 */
export const DEFAULT_MAX_FRAME_PAYLOAD = 65_536;

/**
 * Limit of a datagram's payload: UDX packets are 1,200 bytes (measured
 * `rawStream.mtu` on loopback); minus the UDX header (20), the secret-stream
 * envelope (8-byte nonce + 16-byte MAC) and our 3-byte header leaves 1,153.
 * Rounded down for margin; RTP voice packets are well under 300 bytes.
 */
export const MAX_DATAGRAM_PAYLOAD = 1_100;

export interface Frame {
  type: FrameType;
  payload: Uint8Array;
}

export interface Datagram {
  type: number;
  channel: number;
  payload: Uint8Array;
}

const STREAM_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));

function isFrameType(type: number): type is FrameType {
  return STREAM_TYPES.has(type);
}

function checkPayloadLimit(maxPayload: number): void {
  if (!Number.isSafeInteger(maxPayload) || maxPayload < 0 || maxPayload > 0xffff_ffff) {
    throw new RangeError(`max frame payload must be an integer in 0..2^32-1, got ${maxPayload}`);
  }
}

/** One frame of the reliable stream; FRAME_TOO_LARGE if the payload exceeds `maxPayload`. */
export function encodeFrame(
  type: FrameType,
  payload: Uint8Array,
  maxPayload = DEFAULT_MAX_FRAME_PAYLOAD,
): Uint8Array {
  if (!isFrameType(type)) throw new RangeError(`unknown frame type ${type}`);
  if (payload.length > maxPayload) throw TunnelError.frameTooLarge(payload.length, maxPayload);
  const out = new Uint8Array(FRAME_HEADER_LENGTH + payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint32(1, payload.length);
  out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

/**
 * Incremental decoder: push chunks as they arrive, get complete frames out,
 * whatever the split. Buffering is bounded by one header plus one maximal
 * payload: an announced length above the limit fails at once, before any of
 * that payload is buffered. After an error the decoder stays failed (the
 * stream cannot be resynchronised; the tunnel closes).
 */
export class FrameDecoder {
  readonly maxPayload: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Header of the frame whose payload we are waiting for, or null while reading a header. */
  #pending: { type: FrameType; length: number } | null = null;
  #failed: TunnelError | null = null;

  constructor(maxPayload = DEFAULT_MAX_FRAME_PAYLOAD) {
    checkPayloadLimit(maxPayload);
    this.maxPayload = maxPayload;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** The error that stopped this decoder, if any. */
  get failed(): TunnelError | null {
    return this.#failed;
  }

  /** Adds a chunk; returns the frames it completed (possibly none). Throws TunnelError. */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.#pending === null) {
        if (this.#buffered < FRAME_HEADER_LENGTH) return frames;
        const header = this.#take(FRAME_HEADER_LENGTH);
        const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
        const type = view.getUint8(0);
        const length = view.getUint32(1);
        if (!isFrameType(type)) {
          return this.#fail(TunnelError.protocol(`unknown frame type 0x${hex2(type)}`));
        }
        if (length > this.maxPayload) {
          return this.#fail(TunnelError.frameTooLarge(length, this.maxPayload));
        }
        this.#pending = { type, length };
      }
      if (this.#buffered < this.#pending.length) return frames;
      frames.push({ type: this.#pending.type, payload: this.#take(this.#pending.length) });
      this.#pending = null;
    }
  }

  #fail(err: TunnelError): never {
    this.#failed = err;
    this.#chunks = [];
    this.#buffered = 0;
    this.#pending = null;
    throw err;
  }

  /** Removes and returns the next `n` buffered bytes as a fresh copy (callers may keep it). */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#chunks[0]!;
      const want = n - filled;
      if (head.length <= want) {
        out.set(head, filled);
        filled += head.length;
        this.#chunks.shift();
      } else {
        out.set(head.subarray(0, want), filled);
        this.#chunks[0] = head.subarray(want);
        filled = n;
      }
    }
    this.#buffered -= n;
    return out;
  }
}

/** One media datagram; RangeError on a bad channel, FRAME_TOO_LARGE above MAX_DATAGRAM_PAYLOAD. */
export function encodeDatagram(channel: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) {
    throw new RangeError(`datagram channel must be an integer in 0..65535, got ${channel}`);
  }
  if (payload.length > MAX_DATAGRAM_PAYLOAD) {
    throw TunnelError.frameTooLarge(payload.length, MAX_DATAGRAM_PAYLOAD);
  }
  const out = new Uint8Array(DATAGRAM_HEADER_LENGTH + payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, DatagramType.Media);
  view.setUint16(1, channel);
  out.set(payload, DATAGRAM_HEADER_LENGTH);
  return out;
}

/**
 * Parses a received datagram; null for anything that is not a media datagram
 * of this version (too short, unknown type, oversize): unreliable messages are
 * dropped, never answered, so one bad packet never costs the call.
 */
export function decodeDatagram(bytes: Uint8Array): Datagram | null {
  if (bytes.length < DATAGRAM_HEADER_LENGTH) return null;
  if (bytes.length - DATAGRAM_HEADER_LENGTH > MAX_DATAGRAM_PAYLOAD) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(0);
  if (type !== DatagramType.Media) return null;
  return {
    type,
    channel: view.getUint16(1),
    // A copy, and a plain Uint8Array even when `bytes` is a Buffer.
    payload: new Uint8Array(bytes.subarray(DATAGRAM_HEADER_LENGTH)),
  };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
