// A real OpenID provider for the sign-in tests (npm oidc-provider), on loopback only.
// Usage: node oidc-provider.mjs CONFIG.json — CONFIG holds port, clients, signing keys and
// the path of an accounts file that the tests may rewrite between sign-ins (profile refresh).
import fs from 'node:fs';
import Provider from 'oidc-provider';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${cfg.port}`;

const provider = new Provider(issuer, {
  clients: cfg.clients,
  jwks: cfg.jwks,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  // Entra-shaped claims: tenant (tid) and object id (oid) in the ID token itself.
  claims: {
    openid: ['sub', 'tid', 'oid', 'acct'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { IdToken: cfg.idTokenTtl ?? 3600 },
  async findAccount(ctx, id) {
    const accounts = JSON.parse(fs.readFileSync(cfg.accountsFile, 'utf8'));
    const account = accounts[id] ?? { name: id, email: `${id}@example.test` };
    return { accountId: id, claims: async () => ({ sub: id, oid: id, ...account }) };
  },
});
provider.proxy = false;
provider.listen(cfg.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
