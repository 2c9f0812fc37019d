import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

/**
 * Who may use the dashboard: a request must name this server in its Host header (against DNS rebinding), and an API
 * request must prove it knows the token, by `Authorization: Bearer TOKEN` or by the session cookie a page got for
 * it; a POST that relies on the cookie must also send the CSRF token (`X-CSRF-Token`), which only this origin's
 * scripts can read. Values derived from the token are HMACs, so the token itself never leaves the start-up line.
 */

/** The addresses a Host header may name: the bound one, and on loopback or a wildcard also the usual aliases. */
export interface HostRule {
  /** The address bound (`127.0.0.1`, `::1`, `0.0.0.0`, a name, ...). */
  readonly host: string;
  /** The port bound; read at each request, since port 0 is known only after listening. */
  readonly port: () => number;
  /** More names a Host header may use (`--allow-host`), for a dashboard behind a name. */
  readonly extraNames?: readonly string[];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** The host part of a Host header (`[::1]:8080` → `::1`) and its port, or undefined when it is not `HOST:PORT`. */
function splitHostHeader(value: string): { name: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  return { name: (match[1] ?? match[2] ?? '').toLowerCase(), port: Number(match[3]) };
}

/**
 * Whether a Host header names this server. Bound to loopback: `127.0.0.1`, `[::1]` or `localhost` with the port.
 * Bound to a wildcard: any IP literal with the port (a rebinding attack needs a name). Bound to a name or one
 * address: that one, with the port. An extra name (`--allow-host`) matches with any port or none: it is reached
 * through a proxy or a name of its own, which the operator vouched for.
 */
export function hostMatches(rule: HostRule, header: string | undefined): boolean {
  if (header === undefined) return false;
  // An extra name is reached through a proxy or a name of its own: with any port, or none (80/443 left out).
  const name = (splitHostHeader(header)?.name ?? header).toLowerCase();
  if ((rule.extraNames ?? []).some((extra) => extra.toLowerCase() === name)) return true;
  const parsed = splitHostHeader(header);
  if (!parsed || parsed.port !== rule.port()) return false;
  const bound = rule.host.toLowerCase();
  if (LOOPBACK.has(bound)) return LOOPBACK.has(parsed.name);
  if (WILDCARD.has(bound)) return isIP(parsed.name) !== 0;
  return parsed.name === bound;
}

/** The values the token vouches for, derived once at start-up. */
export interface AccessSecrets {
  /** The session cookie's value. */
  readonly session: string;
  /** The CSRF token (also in a cookie scripts can read). */
  readonly csrf: string;
}

const hmac = (key: string, label: string) => createHmac('sha256', key).update(label).digest();

/** Derives the session and CSRF values from the token (HMAC-SHA-256 with fixed labels). */
export function accessSecrets(token: string): AccessSecrets {
  return {
    session: hmac(token, 'session').toString('base64url'),
    csrf: hmac(token, 'csrf').toString('base64url'),
  };
}

/** Equality of a sent secret with the expected one in constant time, whatever their lengths (both are HMACed). */
function sameSecret(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  return timingSafeEqual(hmac(sent, 'compare'), hmac(expected, 'compare'));
}

/**
 * Cookie names carry the port: browsers share cookies between ports of one host, and two dashboards (two workspaces)
 * on 127.0.0.1 must not overwrite each other's session.
 */
export const cookieNames = (port: number) => ({
  session: `grpcforge_session_${String(port)}`,
  csrf: `grpcforge_csrf_${String(port)}`,
});

const refused = (c: Context, status: 401 | 403, error: string) => c.json({ error }, status);

/** Options of {@link accessControl}. */
export interface AccessOptions {
  readonly hosts: HostRule;
  readonly token: string;
}

/**
 * The middlewares and the session endpoint. `hostCheck` goes first on every path; `apiAuth` on `/api/*`;
 * `startSession` answers `POST /api/v1/session` (bearer only): it sets the session cookie (HttpOnly, SameSite=Strict,
 * Path=/) and the CSRF cookie (SameSite=Strict, readable by the pages' scripts) and returns `{ ok: true }`.
 */
export function accessControl({ hosts, token }: AccessOptions) {
  const secrets = accessSecrets(token);
  const bearerOf = (c: Context) => /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
  const bearerIsValid = (sent: string | undefined) => sameSecret(sent, token);

  const hostCheck: MiddlewareHandler = async (c, next) => {
    const host = c.req.header('host');
    if (!hostMatches(hosts, host)) {
      return refused(
        c,
        403,
        `Host header ${JSON.stringify(host ?? '')} does not name this dashboard (open the address grpcforge dashboard printed, or pass --allow-host NAME)`,
      );
    }
    // A browser sends Origin on POST: another site's page never gets past here, with or without the cookie.
    const origin = c.req.header('origin');
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && origin !== undefined && origin !== 'null') {
      const originHost = /^https?:\/\/([^/]+)$/.exec(origin)?.[1];
      if (!hostMatches(hosts, originHost)) return refused(c, 403, `Origin ${JSON.stringify(origin)} is not this dashboard`);
    }
    await next();
  };

  const apiAuth: MiddlewareHandler = async (c, next) => {
    const bearer = bearerOf(c);
    if (bearer !== undefined) {
      if (!bearerIsValid(bearer)) return refused(c, 401, 'wrong token: send the token grpcforge dashboard printed');
      return next();
    }
    const names = cookieNames(hosts.port());
    if (!sameSecret(getCookie(c, names.session), secrets.session)) {
      return refused(
        c,
        401,
        'missing or wrong token: open the address grpcforge dashboard printed, or send Authorization: Bearer <its token>',
      );
    }
    // The cookie is sent by the browser on its own; a state change must also prove it comes from our page's script.
    if (c.req.method === 'POST' && !sameSecret(c.req.header('x-csrf-token'), secrets.csrf)) {
      return refused(c, 403, 'missing or wrong CSRF token: send X-CSRF-Token (the pages do)');
    }
    return next();
  };

  const startSession = (c: Context) => {
    if (!bearerIsValid(bearerOf(c))) return refused(c, 401, 'wrong token: send the token grpcforge dashboard printed');
    const names = cookieNames(hosts.port());
    const common = { path: '/', sameSite: 'Strict', secure: false } as const;
    setCookie(c, names.session, secrets.session, { ...common, httpOnly: true });
    setCookie(c, names.csrf, secrets.csrf, { ...common, httpOnly: false });
    return c.json({ ok: true });
  };

  return { hostCheck, apiAuth, startSession };
}
