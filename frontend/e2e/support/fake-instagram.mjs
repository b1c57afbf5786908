// A scripted Instagram on 127.0.0.1 standing in for www.instagram.com (the consent page),
// api.instagram.com (code → short-lived token) and graph.instagram.com (long-lived token,
// /me, subscribed_apps, /messages). It records every request, so a test can see what the
// real Graph client sent. Shapes follow shared/src/instagram/graph/*.rs.
import { randomBytes } from 'node:crypto';
import { json, listen } from './http.mjs';

export async function startFakeInstagram() {
  const requests = [];
  /** token or code → the account it belongs to */
  const owner = new Map();
  let account = { id: '17841400000000001', username: 'jo.shop' };
  let n = 0;
  const next = (prefix) => `${prefix}-${++n}-${randomBytes(4).toString('hex')}`;

  const server = await listen(async (req, res, body) => {
    const url = new URL(req.url, 'http://fake');
    const path = url.pathname;
    const rec = {
      method: req.method,
      path,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization ?? null,
      body,
    };
    requests.push(rec);

    // The consent page: one button that sends the browser back with a code.
    if (req.method === 'GET' && path === '/oauth/authorize') {
      const code = next('code');
      owner.set(code, account);
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', `${code}#_`);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      const deny = new URL(url.searchParams.get('redirect_uri'));
      deny.searchParams.set('error', 'access_denied');
      deny.searchParams.set('error_reason', 'user_denied');
      deny.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><title>Instagram (test)</title></head><body><main>
<h1>Allow ${account.username} to use the shop app?</h1>
<a href="${escapeHtml(back.toString())}">Allow</a> <a href="${escapeHtml(deny.toString())}">Cancel</a>
</main></body></html>`);
      return;
    }
    if (req.method === 'POST' && path === '/oauth/access_token') {
      const form = new URLSearchParams(body);
      const acct = owner.get(form.get('code'));
      if (!acct) {
        return json(res, 400, { error_type: 'OAuthException', code: 400, error_message: 'Invalid authorization code' });
      }
      const short = next('IGQ-short');
      owner.set(short, acct);
      return json(res, 200, {
        access_token: short,
        user_id: Number(acct.id),
        permissions: 'instagram_business_basic,instagram_business_manage_messages',
      });
    }
    if (req.method === 'GET' && (path === '/access_token' || path === '/refresh_access_token')) {
      const acct = owner.get(url.searchParams.get('access_token'));
      if (!acct) return graphError(res, 190, 'Invalid OAuth access token');
      const long = next('IGAA-long');
      owner.set(long, acct);
      return json(res, 200, { access_token: long, token_type: 'bearer', expires_in: 5_184_000 });
    }
    const token =
      url.searchParams.get('access_token') ?? (req.headers.authorization ?? '').replace(/^Bearer /i, '');
    const acct = owner.get(token);
    if (req.method === 'GET' && /\/me$/.test(path)) {
      if (!acct) return graphError(res, 190, 'Invalid OAuth access token');
      return json(res, 200, { user_id: acct.id, username: acct.username });
    }
    if (req.method === 'POST' && /\/subscribed_apps$/.test(path)) {
      return json(res, 200, { success: true });
    }
    if (req.method === 'POST' && /\/messages$/.test(path)) {
      const msg = JSON.parse(body || '{}');
      if (msg.sender_action) return json(res, 200, { recipient_id: msg.recipient?.id });
      return json(res, 200, { recipient_id: msg.recipient?.id, message_id: next('m_sent') });
    }
    if (req.method === 'GET' && /\/conversations$/.test(path)) {
      return json(res, 200, { data: [] });
    }
    return graphError(res, 100, `fake Instagram has no ${req.method} ${path}`, 404);
  });

  return {
    url: server.url,
    close: server.close,
    requests,
    /** The account the consent page signs in as from now on. */
    setAccount(id, username) {
      account = { id, username };
    },
    /** Message sends (not sender actions) recorded so far, bodies parsed. */
    sentMessages() {
      return requests
        .filter((r) => r.method === 'POST' && /\/messages$/.test(r.path))
        .map((r) => ({ ...r, json: JSON.parse(r.body || '{}') }))
        .filter((r) => r.json.message);
    },
  };
}

function graphError(res, code, message, status = 400) {
  json(res, status, { error: { message, type: 'OAuthException', code, fbtrace_id: 'fake' } });
}

function escapeHtml(s) {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
