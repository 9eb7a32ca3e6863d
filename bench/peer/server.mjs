// Reference peer for the Anti Grazer benchmarks: node oidc-provider with the
// client_credentials grant, token introspection (RFC 7662) and revocation (RFC 7009)
// enabled, its default in-memory adapter, and one confidential client that
// authenticates with client_secret_basic.
//
// Usage: node server.mjs PORT CLIENT_ID CLIENT_SECRET
// Listens on 127.0.0.1 only and prints "listening <port>" once it accepts connections.
import http from 'node:http';

import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
if (!port || !clientId || !clientSecret) {
  console.error('usage: node server.mjs PORT CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}

const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'profiles:read reports:write',
    },
  ],
  scopes: ['profiles:read', 'reports:write'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // Same rule as ours: a client may introspect its own tokens.
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    revocation: { enabled: true },
  },
  // Opaque access tokens (the default), kept in the default in-memory adapter.
  ttl: { ClientCredentials: 3600 },
});

provider.on('server_error', (ctx, error) => {
  console.error('server_error', error);
});

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
