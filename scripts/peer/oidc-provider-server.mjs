// Reference peer for scripts/bench-peer.sh: node-oidc-provider 9 with open dynamic client
// registration (RFC 7591), registration management (RFC 7592, registration access token not
// rotated, like dynreg's read) and client_credentials, on its default in-memory adapter
// (nothing durable; note that adapter is a 1000-entry LRU, so old clients are forgotten).
//
// Usage: node oidc-provider-server.mjs [PORT]   (from a folder where `oidc-provider` resolves,
//        or with NODE_PATH pointing at its node_modules). PORT 0 (default) picks a free port.
// Listens on 127.0.0.1 only, with issuer http://127.0.0.1:<port>, and prints one line
// `listening on http://127.0.0.1:<port>` on stdout once it accepts connections.
// Endpoints: POST /reg, GET/PUT/DELETE /reg/<client_id>, POST /token.
// Static client for client_credentials: TOKEN_CLIENT (env, default bench-peer-cc:bench-peer-secret).

import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

// Resolve oidc-provider from the working directory (the scratch install), not this file's folder.
const require = createRequire(path.join(process.cwd(), 'noop.js'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const [clientId, clientSecret] = (process.env.TOKEN_CLIENT || 'bench-peer-cc:bench-peer-secret').split(':');
const wanted = Number(process.argv[2] || 0);

const server = http.createServer();
server.keepAliveTimeout = 60_000;
server.listen(wanted, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    features: {
      registration: { enabled: true },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      clientCredentials: { enabled: true },
      // No interactive login is used by the benchmark.
      devInteractions: { enabled: false },
    },
    // Explicit lifetimes, so the defaults do not log "you SHOULD change it" notices.
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 600,
    },
  });
  server.on('request', provider.callback());
  console.log(`listening on ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
