// Small helpers shared by the scripted servers: a loopback HTTP server and body reading.
import { createServer } from 'node:http';

/** Starts `handler(req, res, body)` on 127.0.0.1 at a free port; resolves with { url, close }. */
export async function listen(handler) {
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    try {
      await handler(req, res, Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e?.stack ?? e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A free TCP port on 127.0.0.1 (bound, read and released). */
export async function freePort() {
  const { createServer: net } = await import('node:net');
  const s = net();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
