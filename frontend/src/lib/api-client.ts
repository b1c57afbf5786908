// The one client of our API: openapi-fetch over the types generated from /api/v1/openapi.json.
// Same-origin cookies; X-CSRF-Token on every write; an error body `{error, message}` becomes a
// thrown ApiError carrying the server's message (screens show it, mutations also toast it);
// 401 sends the merchant to the sign-in page with a return path. The admin console's calls
// (/api/admin/…) carry the admin session's own CSRF token and a 401 there leads to the admin
// sign-in instead.
import createFetchClient, { type Middleware } from 'openapi-fetch';
import createQueryClient from 'openapi-react-query';
import type { paths } from '@/lib/api/schema';
import { i18n } from '@/lib/i18n';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Each refused field a 422 names (`field` is a path like `returns.window_days` or `line 7`). */
  readonly problems: Problem[];
  /** The whole error body as the server sent it (e.g. the `cli` commands of a 409 `read_only`). */
  readonly body: unknown;

  constructor(status: number, code: string, message: string, problems: Problem[] = [], body: unknown = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.problems = problems;
    this.body = body;
  }

  /** The server's message for one field, to show at that field. */
  problemFor(field: string): string | undefined {
    return this.problems.find((problem) => problem.field === field)?.message;
  }
}

export type Problem = { field: string; message: string };

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** The message to show a person for anything thrown by a request. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return i18n.t('common:errors.unknown');
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken: string | null = null;
let csrfLoading: Promise<string | null> | null = null;

/** Remember the token from /api/v1/me or a sign-in answer; `null` forgets it (sign-out). */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

async function loadCsrfToken(): Promise<string | null> {
  if (csrfToken) return csrfToken;
  csrfLoading ??= fetch('/api/v1/me', { credentials: 'same-origin' })
    .then(async (response) => {
      if (!response.ok) return null;
      const me = (await response.json()) as { csrf_token?: string };
      csrfToken = me.csrf_token ?? null;
      return csrfToken;
    })
    .catch(() => null)
    .finally(() => {
      csrfLoading = null;
    });
  return csrfLoading;
}

let adminCsrfToken: string | null = null;
let adminCsrfLoading: Promise<string | null> | null = null;

/** The admin session's token, from /api/admin/me or the admin sign-in; `null` forgets it. */
export function setAdminCsrfToken(token: string | null) {
  adminCsrfToken = token;
}

async function loadAdminCsrfToken(): Promise<string | null> {
  if (adminCsrfToken) return adminCsrfToken;
  adminCsrfLoading ??= fetch('/api/admin/me', { credentials: 'same-origin' })
    .then(async (response) => {
      if (!response.ok) return null;
      const me = (await response.json()) as { csrf_token?: string };
      adminCsrfToken = me.csrf_token ?? null;
      return adminCsrfToken;
    })
    .catch(() => null)
    .finally(() => {
      adminCsrfLoading = null;
    });
  return adminCsrfLoading;
}

const isAdminPath = (path: string) => path.startsWith('/api/admin/');

type UnauthorizedHandler = (returnPath: string) => void;
let onUnauthorized: UnauthorizedHandler = (returnPath) => {
  window.location.assign(`/signin?next=${encodeURIComponent(returnPath)}`);
};

/** The router registers a navigation here so a 401 does not reload the page. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler) {
  onUnauthorized = handler;
}

let onAdminUnauthorized: UnauthorizedHandler = (returnPath) => {
  window.location.assign(`/admin/signin?next=${encodeURIComponent(returnPath)}`);
};

/** Where a 401 of the admin API leads (the admin sign-in; the router registers a navigation). */
export function setAdminUnauthorizedHandler(handler: UnauthorizedHandler) {
  onAdminUnauthorized = handler;
}

/** Endpoints whose 401 is an answer ("not signed in"), not a reason to leave the page. */
const QUIET_401 = new Set([
  '/api/v1/me',
  '/api/v1/auth/local',
  '/api/v1/session/logout',
  '/api/admin/me',
  '/api/admin/auth/sign-in',
  '/api/admin/auth/sign-out',
]);

async function readError(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = '';
  let problems: Problem[] = [];
  let raw: unknown = null;
  try {
    const body = (raw = await response.clone().json()) as {
      error?: unknown;
      message?: unknown;
      problems?: unknown;
    };
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string') message = body.message;
    if (Array.isArray(body.problems)) {
      problems = body.problems.filter(
        (problem): problem is Problem =>
          typeof problem?.field === 'string' && typeof problem?.message === 'string',
      );
    }
  } catch {
    // not JSON: keep the status-based message below
  }
  if (!message) {
    message =
      response.status >= 500
        ? i18n.t('common:errors.server', { status: response.status })
        : i18n.t('common:errors.refused', { status: response.status });
  }
  return new ApiError(response.status, code, message, problems, raw);
}

const middleware: Middleware = {
  async onRequest({ request }) {
    if (WRITE_METHODS.has(request.method.toUpperCase())) {
      const admin = isAdminPath(new URL(request.url).pathname);
      const token = admin ? await loadAdminCsrfToken() : await loadCsrfToken();
      if (token) request.headers.set('X-CSRF-Token', token);
    }
    return request;
  },
  async onResponse({ request, response }) {
    const path = new URL(request.url).pathname;
    if (isAdminPath(path)) {
      if (response.ok) {
        if (path === '/api/admin/me' || path === '/api/admin/auth/sign-in') {
          const me = (await response.clone().json()) as { csrf_token?: string };
          if (me.csrf_token) adminCsrfToken = me.csrf_token;
        }
        return response;
      }
      if (response.status === 401) {
        adminCsrfToken = null;
        if (!QUIET_401.has(path) && !window.location.pathname.startsWith('/admin/signin')) {
          onAdminUnauthorized(window.location.pathname + window.location.search);
        }
      }
      if (response.status === 403 && adminCsrfToken) adminCsrfToken = null;
      throw await readError(response);
    }
    if (response.ok) {
      if (path === '/api/v1/me') {
        const me = (await response.clone().json()) as { csrf_token?: string };
        if (me.csrf_token) csrfToken = me.csrf_token;
      }
      return response;
    }
    if (response.status === 401) {
      csrfToken = null;
      if (!QUIET_401.has(path) && !window.location.pathname.startsWith('/signin')) {
        onUnauthorized(window.location.pathname + window.location.search);
      }
    }
    if (response.status === 403 && csrfToken) {
      // A stale token (e.g. after signing in again in another tab): fetch it afresh next time.
      csrfToken = null;
    }
    throw await readError(response);
  },
  onError({ error }) {
    if (error instanceof ApiError) return error;
    if (error instanceof Error && error.name === 'AbortError') return error;
    return new ApiError(0, 'network', i18n.t('common:errors.network'));
  },
};

export const client = createFetchClient<paths>({
  baseUrl: '',
  credentials: 'same-origin',
  headers: { Accept: 'application/json' },
});
client.use(middleware);

/** Typed react-query hooks over the client: `$api.useQuery('get', '/api/v1/me')`. */
export const $api = createQueryClient(client);
