/**
 * Outgoing web hooks: a guard that refuses URLs reaching internal networks, and a delivery helper that connects only
 * to the addresses the guard checked (so a DNS answer that changes between check and connect cannot redirect it).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, type LookupFunction, isIP } from 'node:net';

/** Time a delivery may take, DNS, connect and response included. @default 10 s */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** At most this much of a response body is kept (the rest is discarded). @default 64 KiB */
export const DEFAULT_WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;

/** The URL is not one Shallot will call: wrong scheme, or it reaches a forbidden address. Retrying cannot help. */
export class WebhookRefusedError extends Error {
  override readonly name = 'WebhookRefusedError';
  readonly kind = 'webhook_refused';
}

type Family = 4 | 6;
export interface ResolvedAddress {
  address: string;
  family: Family;
}

/** A URL that passed the guard, with the addresses a connection to it may use. */
export interface CheckedTarget {
  url: URL;
  /** Host name without IPv6 brackets, lower case. */
  host: string;
  addresses: ResolvedAddress[];
}

export type HostLookup = (host: string) => Promise<ResolvedAddress[]>;

export interface WebhookGuard {
  /** Checks the URL and resolves its host; throws WebhookRefusedError when it must not be called. */
  check(url: string | URL, signal?: AbortSignal): Promise<CheckedTarget>;
}

export interface WebhookGuardOptions {
  /** Resolves a host to all its addresses. @default node:dns lookup with `all: true` */
  lookup?: HostLookup;
}

/** Ranges no web hook may reach unless allow-listed, each with the reason shown to the user. */
const FORBIDDEN_V4: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['10.0.0.0', 8, 'a private address'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.168.0.0', 16, 'a private address'],
  ['169.254.0.0', 16, 'a link-local address (cloud metadata lives here)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address'],
  ['192.0.0.0', 24, 'a reserved address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['198.18.0.0', 15, 'a reserved (benchmarking) address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved or broadcast address'],
];
const FORBIDDEN_V6: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'an unspecified address'],
  ['::1', 128, 'a loopback address'],
  // IPv4-compatible (deprecated) addresses: nothing legitimate lives here.
  ['::', 96, 'a reserved address'],
  ['fc00::', 7, 'a unique-local (private) address'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local (private) address'],
  ['ff00::', 8, 'a multicast address'],
  ['100::', 64, 'a discard-only address'],
  ['2001:db8::', 32, 'a documentation address'],
  // Teredo hides the client address; local-use NAT64 reaches whatever the operator routes there.
  ['2001::', 32, 'a Teredo tunnel address'],
  ['64:ff9b:1::', 48, 'a local NAT64 address'],
];

function rangeLists(ranges: ReadonlyArray<[string, number, string]>, type: 'ipv4' | 'ipv6') {
  return ranges.map(([network, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { list, reason };
  });
}
const V4_RANGES = rangeLists(FORBIDDEN_V4, 'ipv4');
const V6_RANGES = rangeLists(FORBIDDEN_V6, 'ipv6');

/** The 16 bytes of an IPv6 address (already known to be valid), zone id ignored. */
function ipv6Bytes(text: string): Uint8Array {
  let s = text.split('%')[0] ?? '';
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = s.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<string>(zeros).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

const v4FromBytes = (bytes: Uint8Array, at: number) => Array.from(bytes.slice(at, at + 4)).join('.');

/** The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4), if any: it must pass the IPv4 rules too. */
function embeddedIPv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  const zeroUpTo = (n: number) => b.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return v4FromBytes(b, 12); // ::ffff:a.b.c.d
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b.slice(4, 12).every((x) => x === 0)) {
    return v4FromBytes(b, 12); // 64:ff9b::a.b.c.d (NAT64)
  }
  if (b[0] === 0x20 && b[1] === 0x02) return v4FromBytes(b, 2); // 2002:aabb:ccdd:: (6to4)
  return undefined;
}

/** Host names and addresses allowed on any port, plus those allowed on one port only (`host:port` entries). */
interface AllowList {
  hosts: Set<string>;
  addresses: BlockList;
  /** `host:port` (host lower case, IPv6 without brackets) for host names allowed on one port. */
  hostPorts: Set<string>;
  /** Per port, the addresses allowed on it only. */
  portAddresses: Map<number, BlockList>;
}

const normalizeHost = (host: string) =>
  host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');

const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** Splits `host:port`, `[v6]:port` or `host` into its parts; a bare IPv6 address has no port. */
function splitPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
  const [hostPart, portText] = bracketed
    ? [bracketed[1] ?? '', bracketed[2]]
    : entry.indexOf(':') === entry.lastIndexOf(':') && entry.includes(':')
      ? [entry.slice(0, entry.indexOf(':')), entry.slice(entry.indexOf(':') + 1)]
      : [entry, undefined];
  if (portText === undefined) return { host: hostPart };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new TypeError(`web hook allow list: ${JSON.stringify(entry)} has an invalid port (1 to 65535)`);
  }
  return { host: hostPart, port };
}

/**
 * Parses `config.webhookAllow`: comma-separated host names, IP addresses and CIDR ranges, each host or address
 * optionally with a port (`127.0.0.1:8080`, `[::1]:8080`, `hooks.internal:9000`: that port only). Bad entries throw.
 */
export function parseWebhookAllowList(allow: string | readonly string[]): AllowList {
  const entries = (typeof allow === 'string' ? allow.split(',') : allow).map((e) => e.trim()).filter(Boolean);
  const result: AllowList = { hosts: new Set(), addresses: new BlockList(), hostPorts: new Set(), portAddresses: new Map() };
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const network = normalizeHost(entry.slice(0, slash));
      const prefixText = entry.slice(slash + 1);
      const family = isIP(network);
      const prefix = Number(prefixText);
      if (!family || !/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
        throw new TypeError(`web hook allow list: ${JSON.stringify(entry)} is not a valid CIDR range`);
      }
      result.addresses.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6');
      continue;
    }
    const { host: rawHost, port } = splitPort(entry);
    const host = normalizeHost(rawHost);
    const family = isIP(host);
    if (family) {
      let list = result.addresses;
      if (port !== undefined) {
        list = result.portAddresses.get(port) ?? new BlockList();
        result.portAddresses.set(port, list);
      }
      list.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
    } else if (HOST_NAME.test(host)) {
      if (port === undefined) result.hosts.add(host);
      else result.hostPorts.add(`${host}:${port}`);
    } else {
      throw new TypeError(`web hook allow list: ${JSON.stringify(entry)} is not a host name, IP address or CIDR range`);
    }
  }
  return result;
}

function addressAllowed(allow: AllowList, address: string, type: 'ipv4' | 'ipv6', port: number | undefined): boolean {
  if (allow.addresses.check(address, type)) return true;
  return port !== undefined && (allow.portAddresses.get(port)?.check(address, type) ?? false);
}

/**
 * Why an address must not be called, or undefined when it may be. IPv6 forms of an IPv4 address are judged as that
 * IPv4 address (allow list included), so `::ffff:127.0.0.1` is refused exactly like `127.0.0.1`. `port` is the port
 * the connection goes to (entries allowed on one port only apply to it).
 */
export function forbiddenAddressReason(address: string, allow: AllowList = parseWebhookAllowList(''), port?: number): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 4) {
    if (addressAllowed(allow, address, 'ipv4', port)) return undefined;
    return V4_RANGES.find((r) => r.list.check(address, 'ipv4'))?.reason;
  }
  const bare = address.split('%')[0] ?? address;
  if (addressAllowed(allow, bare, 'ipv6', port)) return undefined;
  const v4 = embeddedIPv4(bare);
  if (v4 !== undefined) {
    const reason = forbiddenAddressReason(v4, allow, port);
    if (reason) return `${reason} (IPv6 form of ${v4})`;
  }
  return V6_RANGES.find((r) => r.list.check(bare, 'ipv6'))?.reason;
}

const systemLookup: HostLookup = async (host) => {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A guard for outgoing URLs; `allow` is `config.webhookAllow` (host names, IPs or CIDRs, with or without a port, that may be internal). */
export function createWebhookGuard(allow: string | readonly string[] = '', options: WebhookGuardOptions = {}): WebhookGuard {
  const allowList = parseWebhookAllowList(allow);
  const lookup = options.lookup ?? systemLookup;
  return {
    async check(input, signal) {
      let url: URL;
      try {
        url = input instanceof URL ? new URL(input.href) : new URL(input);
      } catch {
        throw new WebhookRefusedError('not a valid URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new WebhookRefusedError(`only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}`);
      }
      // WHATWG parsing already turned 0x7f.1, 2130706433 and 127.1 into 127.0.0.1.
      const host = normalizeHost(url.hostname);
      if (!host) throw new WebhookRefusedError('the URL has no host');
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      const hostAllowed = allowList.hosts.has(host) || allowList.hostPorts.has(`${host}:${port}`);
      const literal = isIP(host);
      let addresses: ResolvedAddress[];
      if (literal) {
        addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
      } else {
        try {
          addresses = await abortable(lookup(host), signal);
        } catch (error) {
          if (signal?.aborted) throw error;
          throw new WebhookRefusedError(`the host ${host} could not be resolved`);
        }
        if (addresses.length === 0) throw new WebhookRefusedError(`the host ${host} has no address`);
      }
      if (!hostAllowed) {
        // Every address must pass: a connection may use any of them.
        for (const { address } of addresses) {
          const reason = forbiddenAddressReason(address, allowList, port);
          if (reason) throw new WebhookRefusedError(`${literal ? host : `${host} resolves to ${address}, which`} is ${reason}`);
        }
      }
      return { url, host, addresses };
    },
  };
}

export interface WebhookRequest {
  /** @default 'POST' */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** @default DEFAULT_WEBHOOK_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default DEFAULT_WEBHOOK_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
}

export interface WebhookResult {
  /** A 2xx answer arrived. */
  ok: boolean;
  /** HTTP status, 0 when no answer arrived. */
  status: number;
  /** Why it did not succeed; never contains the URL (a web hook URL's path is often its secret). */
  error?: string;
  /** The guard refused the URL: no request was made and retrying cannot help. */
  refused?: boolean;
  /** The start of the response body (up to maxResponseBytes). */
  body?: string;
}

/** Headers Shallot sets itself: a caller's value would only produce a malformed request. */
const RESERVED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection']);

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/**
 * Sends one request to a web hook through the guard: one DNS resolution, checked, then the connection is pinned to
 * the checked addresses (Host header and TLS server name stay the URL's host). Redirects are never followed. Never
 * throws: the outcome says what happened.
 */
export async function deliverWebhook(url: string | URL, request: WebhookRequest, guard: WebhookGuard): Promise<WebhookResult> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const controller = new AbortController();
  const timeout = new Error(`timed out after ${timeoutMs} ms`);
  const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
  try {
    let target: CheckedTarget;
    try {
      target = await guard.check(url, controller.signal);
    } catch (error) {
      if (error instanceof WebhookRefusedError) return { ok: false, status: 0, refused: true, error: error.message };
      return { ok: false, status: 0, error: describeError(error) };
    }
    return await send(target, request, controller.signal);
  } catch (error) {
    return { ok: false, status: 0, error: describeError(controller.signal.aborted ? timeout : error) };
  } finally {
    clearTimeout(timer);
  }
}

function send(target: CheckedTarget, request: WebhookRequest, signal: AbortSignal): Promise<WebhookResult> {
  const { url, addresses } = target;
  const first = addresses[0] as ResolvedAddress;
  // Answers only with the checked addresses: net.connect never resolves the name a second time.
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, first.address, first.family);
  };
  const headers: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
  if (body) headers['content-length'] = body.byteLength;
  const maxBytes = request.maxResponseBytes ?? DEFAULT_WEBHOOK_MAX_RESPONSE_BYTES;
  const client = url.protocol === 'https:' ? https : http;

  return new Promise<WebhookResult>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: request.method ?? 'POST',
        headers,
        signal,
        lookup: pinned,
        // No pooled sockets: every delivery connects to the address checked for it.
        agent: false,
        ...(url.username ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const finish = () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) return resolve({ ok: true, status, body: text });
          const error =
            status >= 300 && status < 400
              ? `redirect (HTTP ${status}) not followed`
              : `HTTP ${status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ').trim()}` : ''}`;
          resolve({ ok: false, status, error, body: text });
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk.subarray(0, maxBytes - kept));
          kept += Math.min(chunk.byteLength, maxBytes - kept);
          // Enough read: the status is known and the rest is not wanted (an endless body must not hold us).
          if (kept >= maxBytes) {
            finish();
            res.destroy();
          }
        });
        res.on('error', reject);
        res.on('end', finish);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
