/**
 * The composition root: the one place that wires concrete parts together.
 *
 *   softphone ⇄ TransportLayer (src/net) ⇄ TransactionLayer (src/sip/transaction)
 *                                              ⇅ TU
 *                                           SipProxy (src/proxy: chain of steps)
 *                          registrar ─ PackagePublisher ─┐        │ Resolver
 *                                                        ▼        ▼
 *                                            LookupService (src/overlay, HyperDHT)
 *   peer node ⇄ TunnelEndpoint (src/tunnel, Noise over HyperDHT) ⇄ TransactionLayer
 *
 * Everything above the CLI talks to a node only through this class.
 */

import { loadConfig } from '../config/config.js';
import { Contacts } from '../contacts/contacts.js';
import { fromHex, toHex } from '../crypto/bytes.js';
import { randomBytes } from '../crypto/random.js';
import { createHyperDht, type HyperDht } from '../dht/hyperdht.js';
import { Identity } from '../identity/identity.js';
import { TransportLayer } from '../net/transport-layer.js';
import type { LookupService } from '../overlay/lookup-service.js';
import type { SecretRecordService } from '../overlay/secret-records.js';
import { isLoopbackV4 } from '../overlay/testnet.js';
import type { PackageContact } from '../package/fields.js';
import type { Origin, Resolver, TransactionPort } from '../proxy/ports.js';
import { SipProxy } from '../proxy/proxy.js';
import { aorOf, Registrar } from '../proxy/registrar.js';
import { getCallId, getFrom, getTo, parseMessage, serializeMessage } from '../sip/message/index.js';
import type { SipMessage, SipRequest } from '../sip/message/message.js';
import type { TransactionSender } from '../sip/transaction/transaction.js';
import { TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { Inbound, TransportAddress } from '../sip/transport.js';
import { type CallLogEntry, type CallOutcome, Store } from '../store/store.js';
import { TunnelEndpoint } from '../tunnel/endpoint.js';
import { TunnelError } from '../tunnel/errors.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import { GroupKeys } from './group-keys.js';
import type { LogFn } from './log.js';
import { NodeMedia } from './media.js';
import { ModeResolver, type ResolutionReport } from './mode-resolver.js';
import { PRIVACY_MODES, type PrivacyMode } from './modes.js';
import { openOverlays } from './overlays.js';
import { PeerIdentities } from './peer-identity.js';
import { NodePrivacy } from './privacy.js';
import { PackagePublisher } from './publisher.js';
import { RatchetDriver } from './ratchet-driver.js';
import { nextReach, parseReach, REACH_PREFIX } from './reach.js';
import { PackageResolver } from './resolver.js';

export interface NodeOptions {
  /** The node's home folder (made by `p2psip init`). */
  home: string;
  /** Overrides config sip.host / sip.port. */
  sipHost?: string;
  sipPort?: number;
  /** Overrides config overlay.bootstrap ("host:port" entries). */
  bootstrap?: string[];
  log: LogFn;
  /** Test hook: shorter SIP timers (T1 in ms). */
  t1?: number;
  /** Tunnel connect limit (ms); the caller gets 480 after it. Default 5000. */
  connectTimeoutMs?: number;
  /** Close tunnels idle this long (ms). Default 60,000 (the endpoint's). */
  tunnelIdleMs?: number;
  /** Test hooks: pair-secret epoch length and grace (s), secret-record refresh (ms). */
  epochSeconds?: number;
  graceSeconds?: number;
  privacyTickMs?: number;
  /** Re-put secret records at least this often (ms). Default 600,000. */
  privacyRefreshMs?: number;
  /** Test hook: the wall clock of the privacy side. */
  now?: () => number;
  /** Do not ratchet a pair more often than this (ms). Default 600,000 (driver default). */
  ratchetIntervalMs?: number;
}

export interface NodeInfo {
  aor: string;
  publicKey: string;
  sip: { host: string; port: number };
  bootstrap: string[];
  dht: { host: string; port: number };
}

export class P2pSipNode {
  readonly info: NodeInfo;
  readonly #store: Store;
  readonly #contacts: Contacts;
  readonly #dht: HyperDht;
  readonly #lookup: LookupService;
  readonly #closeOverlays: () => Promise<void>;
  readonly #endpoint: TunnelEndpoint;
  readonly #transport: TransportLayer;
  readonly #transactions: TransactionLayer;
  readonly #registrar: Registrar;
  readonly #publisher: PackagePublisher;
  readonly #proxy: SipProxy;
  readonly #peers: PeerIdentities;
  readonly #privacy: NodePrivacy;
  readonly #ratchet: RatchetDriver;
  readonly #media: NodeMedia;
  readonly #groups: GroupKeys;
  readonly #learnContacts: boolean;
  readonly #log: LogFn;
  readonly #expiryTimer: NodeJS.Timeout;
  /** Where a peer key's DHT node is, from its package (connect hints; bounded). */
  readonly #hints = new Map<string, { host: string; port: number }>();
  /** The tunnel each peer key last spoke through (responses and requests go back on it). */
  readonly #tunnels = new Map<string, Tunnel>();
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    info: NodeInfo;
    store: Store;
    dht: HyperDht;
    lookup: LookupService;
    records: SecretRecordService;
    /** Closes every lookup backend (and what they share, e.g. a multicast socket). */
    closeOverlays: () => Promise<void>;
    /** "host:port" of our DHT node, named in packages when a caller may share no DHT with us. */
    addressHint: string | undefined;
    endpoint: TunnelEndpoint;
    transport: TransportLayer;
    identity: Identity;
    initialMode: PrivacyMode;
    learnContacts: boolean;
    opts: NodeOptions;
  }) {
    const { store, identity, opts } = parts;
    this.info = parts.info;
    this.#store = store;
    this.#contacts = new Contacts(store);
    this.#dht = parts.dht;
    this.#lookup = parts.lookup;
    this.#closeOverlays = parts.closeOverlays;
    this.#endpoint = parts.endpoint;
    this.#transport = parts.transport;
    this.#log = opts.log;
    this.#learnContacts = parts.learnContacts;
    const log = opts.log;
    const keyPair = identity.hyperdhtKeyPair();

    this.#registrar = new Registrar({ aor: identity.aor });
    // RTP/RTCP of every call: softphone ⇄ our relay ⇄ tunnel datagrams (docs/media.md).
    this.#media = new NodeMedia({
      host: this.info.sip.host,
      datagrams: this.#endpoint,
      sendDatagram: (peerKey, channel, bytes) => {
        const tunnel = this.#tunnels.get(peerKey);
        if (!tunnel?.isOpen) throw new Error(`no open tunnel to ${peerKey.slice(0, 12)}…`);
        tunnel.sendDatagram(channel, bytes);
      },
      log,
    });
    this.#publisher = new PackagePublisher({
      lookup: this.#lookup,
      identity,
      store,
      contacts: () => [
        { transport: 'hyperdht', key: identity.publicKey },
        ...hintContact(parts.addressHint),
      ],
      log,
    });
    this.#privacy = new NodePrivacy({
      store,
      identity,
      dht: this.#dht,
      endpoint: this.#endpoint,
      initialMode: parts.initialMode,
      signPackage: (contacts) =>
        this.#publisher.currentPackage([...contacts, ...hintContact(parts.addressHint)]).bytes,
      records: parts.records,
      ...(opts.epochSeconds === undefined ? {} : { epochSeconds: opts.epochSeconds }),
      ...(opts.graceSeconds === undefined ? {} : { graceSeconds: opts.graceSeconds }),
      ...(opts.privacyTickMs === undefined ? {} : { tickMs: opts.privacyTickMs }),
      ...(opts.privacyRefreshMs === undefined ? {} : { refreshMs: opts.privacyRefreshMs }),
      ...(opts.now === undefined ? {} : { now: opts.now }),
      log,
    });
    // Whenever two friends' nodes talk, their pair secret advances (the
    // dialling side offers once both identities are verified).
    this.#ratchet = new RatchetDriver({
      endpoint: this.#endpoint,
      pairs: this.#privacy.ratchetPairs,
      identity,
      aorOf: (tunnel) => this.#peers.aorOf(tunnel),
      ...(opts.ratchetIntervalMs === undefined ? {} : { minIntervalMs: opts.ratchetIntervalMs }),
      log,
      onAdvanced: (aor, generation) => {
        log('info', `pair secret with ${aor} advanced to generation ${generation}`);
        void this.#privacy.refresh().catch((err: unknown) => this.#warn('secret records', err));
      },
    });
    // Group keys travel through pair tunnels (control kinds 0x14/0x15).
    this.#groups = new GroupKeys({
      store,
      endpoint: this.#endpoint,
      aorOf: (tunnel) => this.#peers.aorOf(tunnel),
      epochSeconds: this.#privacy.pairs.epochSeconds,
      onChange: () =>
        void this.#privacy.refresh().catch((err: unknown) => this.#warn('secret records', err)),
      log,
    });
    this.#privacy.useGroups(this.#groups);
    // Introductions (IDENTITY frames) are re-signed at most every 10 minutes;
    // a package is valid for an hour. On a tunnel that reached one of our
    // epoch keys the package names that key (it proves the key is ours).
    const introductions = new Map<string, { bytes: Uint8Array; at: number }>();
    this.#peers = new PeerIdentities({
      endpoint: this.#endpoint,
      store,
      ownPackage: (tunnel) => {
        const local = toHex(tunnel.localPublicKey);
        const epoch = this.#privacy.epochOfKey(local);
        const slot = epoch === undefined ? 'identity' : local;
        let intro = introductions.get(slot);
        if (!intro || Date.now() - intro.at > 600_000) {
          const contacts =
            epoch === undefined
              ? undefined
              : [{ transport: 'hyperdht' as const, key: tunnel.localPublicKey }];
          intro = { bytes: this.#publisher.currentPackage(contacts).bytes, at: Date.now() };
          introductions.set(slot, intro);
          if (introductions.size > 8) introductions.delete(introductions.keys().next().value!);
        }
        return intro.bytes;
      },
      onIdentified: (tunnel, peer) => {
        this.#peers.introduce(tunnel); // ours first: the OFFER must follow it
        this.#ratchet.identified(tunnel, peer.aor);
        this.#groups.identified(tunnel, peer.aor);
      },
      log,
    });

    const sender: TransactionSender = {
      send: (msg, to) => this.#send(msg, to, keyPair),
    };
    this.#transactions = new TransactionLayer({
      sender,
      ...(opts.t1 ? { t1: opts.t1 } : {}),
      user: {
        onRequest: (tx, inbound) => {
          const req = tx.request;
          const origin = this.#origin(inbound);
          if (req.method === 'CANCEL') this.#proxy.onCancel(req, tx);
          else void this.#proxy.onRequest(req, origin, tx);
        },
        onAck: (inbound) => {
          if (inbound.message.kind === 'request')
            void this.#proxy.onAck(inbound.message, this.#origin(inbound));
        },
        onStrayResponse: (inbound) => {
          log(
            'debug',
            `dropped a stray ${inbound.message.kind === 'response' ? inbound.message.status : ''} response`,
          );
        },
        onMalformed: (inbound, err) =>
          log('info', `unmatchable message from ${inbound.source.host}: ${err.message}`),
      },
    });
    const port: TransactionPort = {
      sendRequest: (req, dest, h) => {
        try {
          this.#transactions.sendRequest(req, dest, {
            onResponse: (res) => h.onResponse(res),
            onTimeout: () => h.onTimeout(),
            onTransportError: (err) => h.onTransportError(err),
          });
        } catch (err) {
          h.onTransportError(err instanceof Error ? err : new Error(String(err)));
        }
      },
      sendStateless: (req, dest) => {
        // Nothing answers a stateless forward (an ACK for a 2xx): say at each hop where it went.
        this.#send(req, dest, keyPair).then(
          () =>
            log('debug', `${req.method} ${req.get('Call-ID')} forwarded to ${describeHop(dest)}`),
          (err: unknown) =>
            log(
              'info',
              `could not forward ${req.method}: ${err instanceof Error ? err.message : String(err)}`,
            ),
        );
      },
    };
    this.#proxy = new SipProxy({
      transactions: port,
      env: {
        aor: identity.aor,
        route: {
          localHost: this.info.sip.host,
          localPort: this.info.sip.port,
          tunnelKeys: this.#privacy.ownKeys,
        },
        registrar: this.#registrar,
        media: this.#media,
        resolver: this.#rememberingHints(
          new ModeResolver({
            open: new PackageResolver({ lookup: this.#lookup, store, log }),
            secret: this.#privacy.resolver,
            modeFor: (aor) => this.#privacy.modeFor(aor),
            hasSecret: (aor) => this.#privacy.hasSecret(aor),
            secretRouteKey: () => this.#privacy.currentTunnelKey(),
            onResolved: (report) => this.#noteReach(report),
            log,
          }),
        ),
        control: {
          privacyModes: PRIVACY_MODES,
          privacyMode: () => this.#privacy.mode,
          setPrivacyMode: (mode) => this.setMode(mode as PrivacyMode),
        },
        onBindingsChanged: () => this.#syncPublication(),
        onInviteFinal: (req, origin, status) => this.#logCall(req, origin, status),
        log,
      },
    });

    this.#transport.onMessage = (inbound) => this.#transactions.receive(inbound);
    this.#endpoint.on('sip', (bytes, tunnel) => this.#fromTunnel(bytes, tunnel));
    this.#expiryTimer = setInterval(() => {
      if (this.#registrar.expire()) this.#syncPublication();
    }, 5_000);
    this.#expiryTimer.unref();
  }

  /** Opens the home, binds SIP, joins the DHT and listens for peers. */
  static async start(opts: NodeOptions): Promise<P2pSipNode> {
    const store = Store.open(opts.home, { create: false });
    const cleanup: Array<() => unknown> = [() => store.close()];
    try {
      const record = store.getIdentity();
      if (!record)
        throw new Error(
          `no identity in ${opts.home}: run \`p2psip init --home ${opts.home} --aor AOR\` first`,
        );
      const identity = Identity.fromRecord(record);
      const config = loadConfig(opts.home);
      const bootstrap = opts.bootstrap ?? config.overlay.bootstrap;
      if (
        config.overlay.network === 'public' &&
        opts.bootstrap === undefined &&
        bootstrap.length === 0
      ) {
        throw new Error(
          'overlay.network "public" is not supported by this build yet; give a bootstrap list',
        );
      }
      // One DHT node serves lookups and tunnels. The bootstrap list is always
      // explicit: hyperdht would take a missing one to mean the public network.
      const dht = createHyperDht({
        bootstrap,
        host: config.overlay.host,
        port: config.overlay.port,
        ...(onLoopback(config.overlay.host) ? { firewalled: false } : {}),
      });
      cleanup.push(() => dht.destroy());
      await dht.ready();
      // A persistent overlay seed: after a restart the node replaces its own
      // record instead of leaving a stale second one (docs/overlay.md).
      let seedHex = store.getKv('overlay.seed');
      if (seedHex === undefined) {
        seedHex = toHex(randomBytes(32));
        store.setKv('overlay.seed', seedHex);
      }
      const overlays = await openOverlays(config.overlay, {
        dht,
        seed: fromHex(seedHex),
        log: opts.log,
      });
      cleanup.push(() => overlays.close());
      // Who may open a tunnel to which of our keys is the privacy side's
      // decision (NodePrivacy.accepts), bound once the node exists.
      let accepts: (remote: Uint8Array, local: Uint8Array) => boolean = () => false;
      const endpoint = new TunnelEndpoint({
        dht,
        accept: (remote, local) => accepts(remote, local),
        connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
        ...(opts.tunnelIdleMs === undefined ? {} : { idleTimeoutMs: opts.tunnelIdleMs }),
      });
      cleanup.push(() => endpoint.close());
      const transport = await TransportLayer.listen({
        host: opts.sipHost ?? config.sip.host,
        port: opts.sipPort ?? config.sip.port,
        udp: config.sip.transports.includes('udp'),
        tcp: config.sip.transports.includes('tcp'),
      });
      const address = dht.address();
      const info: NodeInfo = {
        aor: identity.aor,
        publicKey: identity.publicKeyHex,
        sip: { host: transport.address('udp').host, port: transport.port },
        bootstrap,
        dht: { host: address.host, port: address.port },
      };
      const node = new P2pSipNode({
        info,
        store,
        dht,
        lookup: overlays.lookup,
        records: overlays.records,
        closeOverlays: () => overlays.close(),
        addressHint: overlays.needsAddressHint
          ? hintAddress(address, config.overlay.multicast.interface)
          : undefined,
        endpoint,
        transport,
        identity,
        initialMode: config.privacy.mode,
        learnContacts: config.privacy.learnContacts,
        opts,
      });
      cleanup.push(() => node.#privacy.close());
      accepts = (remote, local) => node.#privacy.accepts(remote, local);
      await node.#privacy.syncIdentityListener();
      await node.#privacy.start();
      // Until a softphone registers, the AOR is known to be reachable-but-offline.
      node.#syncPublication();
      return node;
    } catch (err) {
      for (const c of cleanup.reverse()) await c();
      throw err;
    }
  }

  /** A contact of this node (pinned from a card or learned on first use). */
  contact(aor: string): ReturnType<Contacts['get']> {
    return this.#contacts.get(aor);
  }

  /** The newest entries of the durable call log. */
  recentCalls(limit = 20): CallLogEntry[] {
    return this.#store.listCalls({ limit });
  }

  /** Withdraws the package, closes every socket, tunnel and timer. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    clearInterval(this.#expiryTimer);
    await this.#privacy.close();
    try {
      await Promise.race([
        this.#publisher.withdraw(),
        new Promise((r) => setTimeout(r, 3000).unref()),
      ]);
    } catch (err) {
      this.#log('warn', `withdraw failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#publisher.close();
    this.#proxy.close();
    await this.#media.close();
    this.#transactions.close();
    this.#peers.close();
    this.#ratchet.close();
    this.#groups.close();
    await this.#transport.close();
    await this.#endpoint.close();
    await this.#closeOverlays();
    await this.#dht.destroy();
    this.#store.close();
  }

  /** The durable call log: one row per INVITE that got a final answer. */
  #logCall(req: SipRequest, origin: Origin, status: number): void {
    try {
      const other = origin.kind === 'local' ? getTo(req).uri : getFrom(req).uri;
      this.#store.appendCall({
        direction: origin.kind === 'local' ? 'out' : 'in',
        peer: aorOf(other.user, other.host),
        outcome: callOutcome(status, origin.kind === 'local' ? 'out' : 'in'),
        callId: getCallId(req),
      });
      // The other party of an answered call, whose identity the tunnel
      // proved, is kept as a contact "learned on first use" (never
      // overriding a key pinned from a card): from then on the two share a
      // secret and publish secret records for each other.
      if (this.#learnContacts && status >= 200 && status < 300) {
        const peer =
          origin.kind === 'tunnel'
            ? origin.peerAor && origin.identityKey
              ? { aor: origin.peerAor, key: origin.identityKey }
              : undefined
            : this.#verifiedPeer(aorOf(other.user, other.host));
        if (peer) this.#learn(peer.aor, peer.key);
      }
    } catch (err) {
      this.#log('warn', `call log: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Publishes what the mode says (./modes.ts): the open record (open,
   * relaxed) or its withdrawal (paranoid), and the secret records of every
   * contact. No softphone: an offline package, so callers get 480, not 404.
   */
  /** A resolver that keeps the connect hint of every peer it found. */
  #rememberingHints(inner: Resolver): Resolver {
    return {
      resolve: async (aor, signal) => {
        const found = await inner.resolve(aor, signal);
        if (found.ok && found.hint) {
          this.#hints.delete(found.peerKey);
          this.#hints.set(found.peerKey, found.hint);
          if (this.#hints.size > 1024) this.#hints.delete(this.#hints.keys().next().value!);
        }
        return found;
      },
    };
  }

  #learn(aor: string, keyHex: string): void {
    const learned = this.#contacts.learn(aor, fromHex(keyHex));
    if (learned.outcome === 'learned') {
      this.#log('info', `learned ${aor} (key ${keyHex.slice(0, 16)}…) on first use`);
      void this.#privacy.refresh().catch((err: unknown) => this.#warn('secret records', err));
    }
    if (learned.outcome === 'pinned-differs')
      this.#log('warn', `${aor} answered with a key that differs from the pinned one`);
  }

  /** The verified identity of the peer behind an open tunnel that proved to be `aor`. */
  #verifiedPeer(aor: string): { aor: string; key: string } | undefined {
    for (const tunnel of this.#tunnels.values()) {
      const peer = this.#peers.identityOf(tunnel);
      if (peer?.aor === aor) return peer;
    }
    return undefined;
  }

  #syncPublication(): Promise<void> {
    const online = this.#registrar.registered;
    const open = this.#privacy.publishesOpen
      ? this.#publisher.publish(online)
      : this.#publisher.withdraw();
    const jobs = [
      open.catch((err: unknown) => this.#warn('open publication failed', err)),
      this.#privacy.publish(online).catch((err: unknown) => this.#warn('secret records', err)),
    ];
    return Promise.all(jobs).then(() => {});
  }

  /**
   * Runs the periodic privacy work now (listeners for the epochs in use,
   * records moved at an epoch change). The node does it on its own timer;
   * tests and the audit call it after moving their clock.
   */
  tickPrivacy(): Promise<void> {
    return this.#privacy.tick();
  }

  /** What the media relay holds open (sessions, streams, sockets, channels, timers) and its counters. */
  mediaStats(): ReturnType<NodeMedia['stats']> {
    return this.#media.stats();
  }

  /** The node's privacy mode. */
  get mode(): PrivacyMode {
    return this.#privacy.mode;
  }

  /**
   * Switches the privacy mode (durable) and applies it at once: the open
   * record is published or withdrawn, the identity-key listener opened or
   * closed. Resolves when the publication round finished.
   */
  async setMode(mode: PrivacyMode): Promise<void> {
    this.#privacy.setMode(mode);
    await this.#privacy.syncIdentityListener();
    await this.#syncPublication();
  }

  /** For `p2psip status`: the last lookup outcome per callee (store kv `reach:<aor>`). */
  #noteReach(report: ResolutionReport): void {
    try {
      const key = `${REACH_PREFIX}${report.aor}`;
      const entry = nextReach(
        parseReach(this.#store.getKv(key)),
        {
          via: report.plan,
          mode: report.mode,
          ok: report.ok,
          ...(report.reason === undefined ? {} : { reason: report.reason }),
        },
        Date.now(),
      );
      this.#store.setKv(key, JSON.stringify(entry));
    } catch (err) {
      this.#warn('reach log', err);
    }
  }

  #warn(what: string, err: unknown): void {
    this.#log('warn', `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }

  #origin(inbound: Inbound): Origin {
    if (inbound.source.protocol !== 'tunnel') return { kind: 'local', flow: inbound.source };
    const tunnel = this.#tunnels.get(inbound.source.host);
    const peer = tunnel ? this.#peers.identityOf(tunnel) : undefined;
    return {
      kind: 'tunnel',
      peerKey: inbound.source.host,
      peerAor: peer?.aor,
      ...(peer ? { identityKey: peer.key } : {}),
      ...(tunnel ? { localKey: toHex(tunnel.localPublicKey) } : {}),
    };
  }

  #fromTunnel(bytes: Uint8Array, tunnel: Tunnel): void {
    let message: SipMessage;
    try {
      message = parseMessage(bytes);
    } catch (err) {
      this.#log(
        'info',
        `bad SIP from peer ${tunnel.remoteKeyHex.slice(0, 12)}…: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    const key = tunnel.remoteKeyHex;
    this.#remember(key, tunnel);
    const source: TransportAddress = { protocol: 'tunnel', host: key, port: 0 };
    this.#transactions.receive({
      message,
      source,
      local: { protocol: 'tunnel', host: this.info.publicKey, port: 0 },
    });
  }

  /** The tunnel a peer key speaks through; forgotten when it closes. */
  #remember(key: string, tunnel: Tunnel): void {
    if (this.#tunnels.get(key) === tunnel) return;
    this.#tunnels.set(key, tunnel);
    tunnel.once('close', () => {
      if (this.#tunnels.get(key) === tunnel) this.#tunnels.delete(key);
    });
  }

  async #send(
    msg: SipMessage,
    to: TransportAddress,
    keyPair: { publicKey: Uint8Array; secretKey: Uint8Array },
  ): Promise<void> {
    if (to.protocol !== 'tunnel') return this.#transport.send(msg, to);
    const bytes = serializeMessage(msg);
    // A peer that crashed and restarted leaves our tunnel to it looking open
    // (nothing tells us until the dead-peer timeout) while everything sent on
    // it is lost. A frame the peer has not acknowledged within
    // TUNNEL_ACK_TIMEOUT_MS marks the tunnel dead: close it, dial once more,
    // send again (a duplicate is absorbed by the peer's transaction layer).
    for (let attempt = 1; ; attempt++) {
      let tunnel = this.#tunnels.get(to.host);
      if (!tunnel?.isOpen) {
        const hint = this.#hints.get(to.host);
        tunnel = await this.#endpoint.connect(fromHex(to.host), {
          keyPair,
          ...(hint ? { relayAddresses: [hint] } : {}),
        });
        this.#remember(to.host, tunnel);
      }
      this.#peers.introduce(tunnel);
      tunnel.sendSip(bytes);
      if (attempt === 2 || (await tunnel.delivered(TUNNEL_ACK_TIMEOUT_MS))) return;
      this.#log(
        'info',
        `tunnel to ${to.host.slice(0, 12)}… did not acknowledge ${msg.kind === 'request' ? msg.method : msg.status} within ${TUNNEL_ACK_TIMEOUT_MS} ms: reconnecting`,
      );
      tunnel.destroy(TunnelError.closed('tunnel (peer stopped acknowledging)'));
      await tunnel.closed;
    }
  }
}

/** "tunnel 3b6a0f12c4d1…" or "tcp 127.0.0.1:5062", for logs. */
function describeHop(to: TransportAddress): string {
  return to.protocol === 'tunnel'
    ? `tunnel ${to.host.slice(0, 12)}…`
    : `${to.protocol} ${to.host}:${to.port}`;
}

/** How long a frame sent into a tunnel may stay unacknowledged before the tunnel counts as dead. */
const TUNNEL_ACK_TIMEOUT_MS = 3_000;

/**
 * A DHT node bound to loopback talks only to peers on this machine, none of
 * them behind a NAT or firewall, so it is announced as directly reachable
 * (hyperdht `firewalled: false`). Left firewalled, a fresh node makes hyperdht
 * race its same-host shortcut against a holepunch probe, and the probe can
 * make the callee's side abort the connection before the caller's first
 * packet arrives: the caller then waits ~13 s (docs/protocol-tunnel.md,
 * "Connect latency").
 */
function onLoopback(host: string): boolean {
  return host === '::1' || isLoopbackV4(host);
}

/** The `udp` contact naming our DHT node, when callers may need it (src/node/overlays.ts). */
function hintContact(addr: string | undefined): PackageContact[] {
  return addr === undefined ? [] : [{ transport: 'udp', addr }];
}

/** Our DHT node as others reach it: its bound address, or the LAN address when bound to all. */
function hintAddress(bound: { host: string; port: number }, lan: string): string {
  const host = bound.host === '0.0.0.0' || bound.host === '::' ? lan : bound.host;
  return host.includes(':') ? `[${host}]:${bound.port}` : `${host}:${bound.port}`;
}

/** A final status as a call-log outcome. */
export function callOutcome(status: number, direction: 'in' | 'out'): CallOutcome {
  if (status >= 200 && status < 300) return 'answered';
  if (status === 486 || status === 600) return 'busy';
  if (status === 487) return 'cancelled';
  if (status === 403 || status === 603) return 'rejected';
  if (direction === 'in' && (status === 408 || status === 480)) return 'missed';
  return 'failed';
}
