// A real OpenID Connect provider (node-oidc-provider) as the upstream of
// Sigil's provider-login test (reference-server/tests/provider_login.rs).
// It listens on a free loopback port, prints {"issuer": …} on one line, and
// registers one client, Sigil, whose callback comes from SIGIL_CALLBACK.
// Sign-in is oidc-provider's devInteractions form: any login name is an
// account; ACCOUNTS below says which email each has and whether it is
// verified. id_tokens are RS256 (oidc-provider's default): Sigil verifies
// them with jsonwebtoken, as it would Google's.
import http from 'node:http';
import Provider from 'oidc-provider';

const callback = process.env.SIGIL_CALLBACK;
if (!callback) {
  console.error('SIGIL_CALLBACK is required');
  process.exit(2);
}

const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true },
  bob: { email: 'bob@example.com', email_verified: false },
  carol: { email: 'carol@example.com', email_verified: false },
  dave: { email: 'dave@example.com', email_verified: true },
  erin: { email: 'erin@example.com', email_verified: true },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'sigil',
      client_secret: 'sigil-upstream-secret',
      redirect_uris: [callback],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // PKCE (S256) on every authorization request, confidential client or not.
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // Email claims in the id_token itself, as Google and most providers do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['sigil-test-only'] },
    async findAccount(ctx, id) {
      const account = ACCOUNTS[id] ?? { email: `${id}@example.com`, email_verified: false };
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
