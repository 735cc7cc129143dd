/**
 * The sockets of the LAN multicast lookup (docs/overlay.md "LAN multicast"):
 * a node asks the group and the holders answer it directly, as in the seed
 * ("Lookup(…) to (all)", then the registration package from the holder).
 *
 *   listen socket  bound to GROUP:PORT (SO_REUSEADDR, so several nodes on one
 *                  host share the port), member of GROUP on the interface:
 *                  receives QUERY / SECRET_QUERY, nothing else (binding to
 *                  the group address keeps unicast to PORT out).
 *   query socket   bound to INTERFACE:ephemeral, multicast out through
 *                  INTERFACE with TTL 1: sends queries to the group, receives
 *                  the answers (unicast to its own port, so each querier gets
 *                  exactly its answers even with many nodes on one host) and
 *                  sends this node's answers.
 *
 * The interface is REQUIRED: a socket without IP_MULTICAST_IF follows the
 * default route (measured: with a default route on another device the query
 * left there and the members on lo saw nothing), so the caller must say
 * where the traffic goes — as the HyperDHT backend must be given a bootstrap
 * list.
 *
 * Defences (a LAN is not a trusted place): every datagram is decoded without
 * throwing and dropped with a counted reason; answers are matched to an open
 * query by query id AND key AND type; answers this node sends are limited per
 * source address (token bucket) and in total (pending jitter timers), so a
 * spoofed query flood cannot turn the node into an amplifier.
 */
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { equalBytes, toHex } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { OverlayError } from './errors.js';
import {
  decodeMessage,
  encodeMessage,
  MC_QUERY_ID_BYTES,
  type McAnswer,
  type McDropReason,
  type McMessage,
  type McQuery,
  type McSecretAnswer,
  McType,
} from './multicast-wire.js';

/**
 * 239.255.0.0/16 is the IPv4 Local Scope (RFC 2365): administratively scoped,
 * never forwarded past the site boundary, not assigned by IANA to anyone.
 * 80.83 = "PS" (p2psip).
 */
export const DEFAULT_MULTICAST_GROUP = '239.255.80.83';
/**
 * In the Dynamic Ports range (RFC 6335: never assigned by IANA) and above
 * Linux's default ephemeral range (32768–60999), so Linux never hands it out
 * as another socket's source port.
 */
export const DEFAULT_MULTICAST_PORT = 61083;
/** Answers wait a random 0..this ms, so the holders of a popular key do not answer in one burst. */
export const DEFAULT_ANSWER_JITTER_MS = 50;
/** Per source address: a burst of 20 answers, then 10 per second. */
export const DEFAULT_ANSWER_RATE: AnswerRate = { burst: 20, perSecond: 10 };
/** Each query is sent this many times, spread over the first part of the window (UDP on Wi-Fi loses multicast). */
export const DEFAULT_QUERY_COPIES = 2;
/** Answers waiting for their jitter, over all sources; more are dropped (`overloaded`). */
export const MAX_PENDING_ANSWERS = 256;
/** Source addresses the rate limiter remembers (least recently seen forgotten first). */
export const MAX_RATE_SOURCES = 1024;

export interface AnswerRate {
  /** Answers a source may get at once. */
  burst: number;
  /** Tokens added per second (may be 0: only the burst, ever — for tests). */
  perSecond: number;
}

export interface MulticastEndpointOptions {
  /**
   * The IPv4 address of the interface the node speaks on (a LAN address;
   * 127.0.0.1 in tests). Queries go out through it with TTL `ttl`; the group
   * is joined on it. Required (see the file comment).
   */
  interface: string;
  /** An IPv4 multicast group (224.0.0.0/4). Default DEFAULT_MULTICAST_GROUP. */
  group?: string;
  /** UDP port of the group, 1..65535. Default DEFAULT_MULTICAST_PORT. */
  port?: number;
  /** Deliver our own queries to other nodes on this host too (IP_MULTICAST_LOOP). Default true. */
  multicastLoopback?: boolean;
  /** IP TTL of queries, 1..255. Default 1: the link only. */
  ttl?: number;
  /** Max random delay of each answer (ms), 0..1000. Default DEFAULT_ANSWER_JITTER_MS. */
  answerJitterMs?: number;
  /** Token bucket of answers per source address. Default DEFAULT_ANSWER_RATE. */
  answerRate?: AnswerRate;
  /** Copies of each query, 1..4. Default DEFAULT_QUERY_COPIES. */
  queryCopies?: number;
  /** Monotonic milliseconds for the rate limiter (tests freeze it). Default performance.now. */
  monotonicNow?: () => number;
}

/** Counters of what the endpoint received, sent and dropped. */
export interface MulticastStats {
  queriesSent: number;
  queriesReceived: number;
  answersSent: number;
  answersReceived: number;
  /** Datagrams that did not decode, in total and by reason. */
  malformed: number;
  malformedBy: Partial<Record<McDropReason, number>>;
  /** Well-formed datagrams on the wrong socket (an answer to the group, a query unicast to us). */
  unexpected: number;
  /** Well-formed answers that match no open query (late, foreign, wrong key or type). */
  unmatched: number;
  /** Answers not sent because the asker's token bucket was empty. */
  rateLimited: number;
  /** Answers not sent because MAX_PENDING_ANSWERS were already waiting. */
  overloaded: number;
  /** Sends and socket errors that failed (counted, never thrown from a receive). */
  socketErrors: number;
}

type QueryType = McQuery['type'];
type Answer = McAnswer | McSecretAnswer;
/** What a node answers to a query: the answers to send (queryId and key copied from the query). */
export type Responder = (query: McQuery) => Answer[];

interface OpenQuery {
  type: QueryType;
  key: Uint8Array;
  onAnswer: (answer: Answer, from: dgram.RemoteInfo) => void;
  finish: (err?: OverlayError) => void;
}

const answerTypeOf = (type: QueryType) =>
  type === McType.Query ? McType.Answer : McType.SecretAnswer;

export class MulticastEndpoint {
  readonly group: string;
  readonly port: number;
  readonly interface: string;
  readonly #listen: dgram.Socket;
  readonly #query: dgram.Socket;
  readonly #jitterMs: number;
  readonly #copies: number;
  readonly #buckets: TokenBuckets;
  readonly #responders = new Map<QueryType, Responder>();
  readonly #open = new Map<string, OpenQuery>();
  readonly #pendingAnswers = new Set<NodeJS.Timeout>();
  readonly #stats: MulticastStats = {
    queriesSent: 0,
    queriesReceived: 0,
    answersSent: 0,
    answersReceived: 0,
    malformed: 0,
    malformedBy: {},
    unexpected: 0,
    unmatched: 0,
    rateLimited: 0,
    overloaded: 0,
    socketErrors: 0,
  };
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Binds both sockets and joins the group. Errors: OVERLAY_BAD_OPTION, OVERLAY_BACKEND (bind/join). */
  static async open(opts: MulticastEndpointOptions): Promise<MulticastEndpoint> {
    const o = checkEndpointOptions(opts);
    const listen = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const query = dgram.createSocket({ type: 'udp4' });
    try {
      await bind(listen, o.port, o.group);
      listen.addMembership(o.group, o.interface);
      await bind(query, 0, o.interface);
      query.setMulticastInterface(o.interface);
      query.setMulticastTTL(o.ttl);
      query.setMulticastLoopback(o.multicastLoopback);
    } catch (err) {
      await Promise.all([closeSocket(listen), closeSocket(query)]);
      throw OverlayError.backend(`multicast bind ${o.group}:${o.port} on ${o.interface}`, err);
    }
    return new MulticastEndpoint(listen, query, o);
  }

  private constructor(listen: dgram.Socket, query: dgram.Socket, o: CheckedOptions) {
    this.group = o.group;
    this.port = o.port;
    this.interface = o.interface;
    this.#listen = listen;
    this.#query = query;
    this.#jitterMs = o.answerJitterMs;
    this.#copies = o.queryCopies;
    this.#buckets = new TokenBuckets(o.answerRate, o.monotonicNow);
    listen.on('message', (msg, from) => this.#onGroupDatagram(msg, from));
    query.on('message', (msg, from) => this.#onAnswerDatagram(msg, from));
    for (const s of [listen, query]) s.on('error', () => this.#stats.socketErrors++);
  }

  /** Address and port of the query socket (where this node's answers arrive). */
  get queryAddress(): { address: string; port: number } {
    const { address, port } = this.#query.address();
    return { address, port };
  }

  /** A snapshot of the counters. */
  get stats(): MulticastStats {
    return { ...this.#stats, malformedBy: { ...this.#stats.malformedBy } };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Installs the one responder of a query type (the lookup answers QUERY, the
   * secret records SECRET_QUERY); `undefined` removes it.
   */
  setResponder(type: QueryType, responder: Responder | undefined): void {
    if (responder && this.#responders.has(type))
      throw OverlayError.badOption(
        'endpoint',
        `query type ${type}`,
        'one responder per query type',
      );
    if (responder) this.#responders.set(type, responder);
    else this.#responders.delete(type);
  }

  /**
   * Sends a query for `key` to the group and passes every matching answer to
   * `onAnswer` until `windowMs` is over (then resolves). OVERLAY_ABORTED on
   * the signal, OVERLAY_CLOSED if the endpoint closes, OVERLAY_BACKEND if the
   * query cannot be sent.
   */
  ask(
    type: QueryType,
    key: Uint8Array,
    opts: { windowMs: number; signal?: AbortSignal; settleMs?: number },
    onAnswer: OpenQuery['onAnswer'],
  ): Promise<void> {
    if (this.#closed) return Promise.reject(OverlayError.closed('multicast'));
    const queryId = randomBytes(MC_QUERY_ID_BYTES);
    const id = toHex(queryId);
    const datagram = encodeMessage({ type, queryId, key });
    const { windowMs, signal } = opts;
    return new Promise<void>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const onAbort = () => finish(OverlayError.aborted(signal?.reason));
      const finish = (err?: OverlayError) => {
        if (!this.#open.delete(id)) return;
        for (const t of timers) clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      // Once something answered, the other holders get `settleMs` more (their
      // answers to the first copy arrive within the answer jitter), then the
      // query ends instead of waiting out the whole window.
      let settling = false;
      const answered: OpenQuery['onAnswer'] = (answer, from) => {
        onAnswer(answer, from);
        if (settling || opts.settleMs === undefined) return;
        settling = true;
        timers.push(setTimeout(() => finish(), opts.settleMs));
      };
      this.#open.set(id, { type, key: key.slice(), onAnswer: answered, finish });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return onAbort();
      const send = () =>
        this.#query.send(datagram, this.port, this.group, (err) => {
          if (err) finish(OverlayError.backend('multicast query', err));
          else this.#stats.queriesSent++;
        });
      send();
      const spacing = Math.floor(windowMs / (this.#copies + 1));
      for (let i = 1; i < this.#copies; i++) timers.push(setTimeout(send, i * spacing));
      timers.push(setTimeout(() => finish(), windowMs));
    });
  }

  /** Closes the sockets; open queries fail with OVERLAY_CLOSED, pending answers are not sent. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    for (const t of this.#pendingAnswers) clearTimeout(t);
    this.#pendingAnswers.clear();
    for (const q of [...this.#open.values()]) q.finish(OverlayError.closed('multicast'));
    this.#closing = Promise.all([closeSocket(this.#listen), closeSocket(this.#query)]).then(
      () => {},
    );
    return this.#closing;
  }

  #decode(datagram: Buffer): McMessage | undefined {
    const decoded = decodeMessage(datagram);
    if (decoded.ok) return decoded.message;
    this.#stats.malformed++;
    this.#stats.malformedBy[decoded.reason] = (this.#stats.malformedBy[decoded.reason] ?? 0) + 1;
    return undefined;
  }

  #onGroupDatagram(datagram: Buffer, from: dgram.RemoteInfo): void {
    const message = this.#decode(datagram);
    if (!message) return;
    if (message.type !== McType.Query && message.type !== McType.SecretQuery) {
      this.#stats.unexpected++;
      return;
    }
    this.#stats.queriesReceived++;
    // Our own query, looped back: the asker adds its local records itself.
    if (this.#open.has(toHex(message.queryId))) return;
    const responder = this.#responders.get(message.type);
    if (!responder) return;
    for (const answer of responder(message)) this.#scheduleAnswer(answer, message, from);
  }

  #scheduleAnswer(answer: Answer, query: McQuery, to: dgram.RemoteInfo): void {
    if (!this.#buckets.take(to.address)) {
      this.#stats.rateLimited++;
      return;
    }
    if (this.#pendingAnswers.size >= MAX_PENDING_ANSWERS) {
      this.#stats.overloaded++;
      return;
    }
    const datagram = encodeMessage({ ...answer, queryId: query.queryId, key: query.key });
    const timer = setTimeout(
      () => {
        this.#pendingAnswers.delete(timer);
        if (this.#closed) return;
        this.#query.send(datagram, to.port, to.address, (err) => {
          if (err) this.#stats.socketErrors++;
          else this.#stats.answersSent++;
        });
      },
      Math.floor(Math.random() * (this.#jitterMs + 1)),
    );
    this.#pendingAnswers.add(timer);
  }

  #onAnswerDatagram(datagram: Buffer, from: dgram.RemoteInfo): void {
    const message = this.#decode(datagram);
    if (!message) return;
    if (message.type !== McType.Answer && message.type !== McType.SecretAnswer) {
      this.#stats.unexpected++;
      return;
    }
    this.#stats.answersReceived++;
    const open = this.#open.get(toHex(message.queryId));
    if (!open || message.type !== answerTypeOf(open.type) || !equalBytes(open.key, message.key)) {
      this.#stats.unmatched++;
      return;
    }
    open.onAnswer(message, from);
  }
}

/**
 * Token buckets per source address: `take(source)` spends one token if there
 * is one. At most MAX_RATE_SOURCES sources are remembered; the least recently
 * seen is forgotten first (a forgotten source starts with a full bucket, so
 * spoofing many sources buys at most `burst` answers each — bounded in total
 * by MAX_PENDING_ANSWERS in flight).
 */
export class TokenBuckets {
  readonly #rate: AnswerRate;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(rate: AnswerRate, now: () => number = () => performance.now()) {
    this.#rate = rate;
    this.#now = now;
  }

  take(source: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(source) ?? { tokens: this.#rate.burst, at: now };
    this.#buckets.delete(source);
    this.#buckets.set(source, bucket);
    if (this.#buckets.size > MAX_RATE_SOURCES) {
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    const refill = ((now - bucket.at) / 1000) * this.#rate.perSecond;
    bucket.tokens = Math.min(this.#rate.burst, bucket.tokens + Math.max(0, refill));
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }
}

interface CheckedOptions {
  interface: string;
  group: string;
  port: number;
  multicastLoopback: boolean;
  ttl: number;
  answerJitterMs: number;
  answerRate: AnswerRate;
  queryCopies: number;
  monotonicNow?: () => number;
}

function checkEndpointOptions(opts: MulticastEndpointOptions): CheckedOptions {
  const iface = opts?.interface;
  if (typeof iface !== 'string' || !isIPv4(iface) || iface === '0.0.0.0' || isMulticast(iface))
    throw OverlayError.badOption('interface', iface, 'the IPv4 address of a local interface');
  const group = opts.group ?? DEFAULT_MULTICAST_GROUP;
  if (typeof group !== 'string' || !isIPv4(group) || !isMulticast(group))
    throw OverlayError.badOption('group', group, 'an IPv4 multicast address (224.0.0.0/4)');
  const port = integerIn('port', opts.port ?? DEFAULT_MULTICAST_PORT, 1, 65535);
  const ttl = integerIn('ttl', opts.ttl ?? 1, 1, 255);
  const answerJitterMs = integerIn(
    'answerJitterMs',
    opts.answerJitterMs ?? DEFAULT_ANSWER_JITTER_MS,
    0,
    1000,
  );
  const queryCopies = integerIn('queryCopies', opts.queryCopies ?? DEFAULT_QUERY_COPIES, 1, 4);
  const answerRate = opts.answerRate ?? DEFAULT_ANSWER_RATE;
  integerIn('answerRate.burst', answerRate.burst, 1, 10_000);
  if (!(Number.isFinite(answerRate.perSecond) && answerRate.perSecond >= 0))
    throw OverlayError.badOption('answerRate.perSecond', answerRate.perSecond, 'a number ≥ 0');
  return {
    interface: iface,
    group,
    port,
    ttl,
    answerJitterMs,
    queryCopies,
    answerRate: { ...answerRate },
    multicastLoopback: opts.multicastLoopback ?? true,
    ...(opts.monotonicNow ? { monotonicNow: opts.monotonicNow } : {}),
  };
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw OverlayError.badOption(name, value, `an integer ${min}..${max}`);
  return value as number;
}

function isMulticast(ipv4: string): boolean {
  const first = Number(ipv4.split('.')[0]);
  return first >= 224 && first <= 239;
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, address }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // never bound, or already closed
    }
  });
}
