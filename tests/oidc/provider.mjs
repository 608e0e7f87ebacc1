// A real, certified OpenID provider (panva's oidc-provider) shaped like an Entra ID tenant, for the
// portal's sign-in interoperability tests (tests/oidc_interop.rs). Test use only: in-memory
// storage, development signing keys, and a login page that accepts any password.
//
//   TENANT_ID=<guid> REDIRECT_URI=http://127.0.0.1:8080/auth/callback PORT=0 node provider.mjs
//
// The issuer is http://127.0.0.1:<port>/<TENANT_ID>/v2.0, the shape of Entra's tenant-specific
// issuer, so the portal finds it as {authority_host}/{tenant_id}/v2.0. The first line on stdout is
// `ISSUER=<issuer>` (PORT=0 picks a free port); everything else oidc-provider says goes to stderr.
//
// Accounts (sign in with the login name and any password):
//   alice  no app roles
//   bob    app role Approver
//
// Besides oidc-provider's own routes there is one test hook:
//   GET {issuer}/interaction/<uid>/deny?error_description=<text>
// ends a pending interaction with error=access_denied and the given description, as a provider
// that refuses the user would; oidc-provider then redirects back to the client with the error.

import * as http from 'node:http';

import { Provider } from 'oidc-provider';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`provider.mjs: ${name} must be set`);
    process.exit(2);
  }
  return value;
}

const tenantId = required('TENANT_ID').toLowerCase();
if (!GUID.test(tenantId)) {
  console.error(`provider.mjs: TENANT_ID '${tenantId}' is not a GUID`);
  process.exit(2);
}
const redirectUri = required('REDIRECT_URI');
const port = Number.parseInt(process.env.PORT ?? '0', 10);
const clientId = process.env.CLIENT_ID ?? 'jit-portal';
const clientSecret = process.env.CLIENT_SECRET ?? 'jit-portal-secret';

// Entra puts oid, tid and (when assigned) roles into every ID token; `sub` is a pairwise id that
// differs from `oid`, so a client keyed on `sub` by mistake would show up in the tests.
const ACCOUNTS = {
  alice: {
    sub: 'pairwise-sub-alice',
    oid: '6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7',
    name: 'Alice Requester',
    preferred_username: 'alice@contoso.example',
    email: 'alice@contoso.example',
    roles: [],
  },
  bob: {
    sub: 'pairwise-sub-bob',
    oid: '0b0b0b0b-1c1c-4d2d-9e3e-4f4f5a5a6b6b',
    name: 'Bob Approver',
    preferred_username: 'bob@contoso.example',
    email: 'bob@contoso.example',
    roles: ['Approver'],
  },
};

const prefix = `/${tenantId}/v2.0`;

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}${prefix}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Entra-like claims: everything in the ID token, oid/tid/roles with every sign-in.
  claims: {
    openid: ['sub', 'oid', 'tid', 'roles'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        const claims = {
          sub: account.sub,
          oid: account.oid,
          tid: tenantId,
          name: account.name,
          preferred_username: account.preferred_username,
          email: account.email,
          email_verified: true,
        };
        // Like Entra, no roles claim at all for a user without app roles.
        if (account.roles.length > 0) {
          claims.roles = account.roles;
        }
        return claims;
      },
    };
  },
  // The portal is a first-party client: no consent screen (as with admin consent in Entra).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  // The portal always sends an S256 challenge; make the provider insist on it and check the verifier.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
  },
  cookies: { keys: ['oidc-interop-cookie-key-not-secret'] },
  ttl: {
    AuthorizationCode: 60,
    IdToken: 600,
    AccessToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});

const callback = provider.callback();

// Denies the pending interaction `uid` (the browser's interaction cookie identifies it).
async function deny(req, res, url) {
  const description = url.searchParams.get('error_description') ?? 'The user was refused.';
  await provider.interactionFinished(req, res, {
    error: 'access_denied',
    error_description: description,
  }, { mergeWithLastSubmission: false });
}

server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  const path = url.pathname;
  if (path !== prefix && !path.startsWith(`${prefix}/`)) {
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain');
    res.end(`not found: only ${prefix}/… is served here\n`);
    return;
  }
  // Mounted under the issuer's path, the way express mounts a sub-app: oidc-provider routes on
  // req.url and builds its own URLs from req.originalUrl (the mount path is what precedes req.url).
  req.originalUrl = req.url;
  req.baseUrl = prefix;
  req.url = req.url.slice(prefix.length) || '/';
  if (req.url.startsWith('?')) {
    req.url = `/${req.url}`;
  }

  const denied = /^\/interaction\/[^/]+\/deny$/.exec(path.slice(prefix.length));
  if (req.method === 'GET' && denied) {
    deny(req, res, url).catch((err) => {
      res.statusCode = 400;
      res.setHeader('Content-Type', 'text/plain');
      res.end(`cannot deny: ${err.message}\n`);
    });
    return;
  }
  callback(req, res);
});

// What the provider refused, and why, on stderr: the tests read these lines.
const explain = (err) => `${err.error}${err.error_detail ? ` (${err.error_detail})` : ''}`;
provider.on('server_error', (ctx, err) => console.error('server_error:', err));
provider.on('grant.error', (ctx, err) => console.error(`grant.error: ${explain(err)}`));
provider.on('grant.success', (ctx) => console.error(`grant.success: client ${ctx.oidc.client.clientId}`));
provider.on('authorization.error', (ctx, err) => console.error(`authorization.error: ${explain(err)}`));

// The harness reads this line to find the provider.
process.stdout.write(`ISSUER=${issuer}\n`);

function stop() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
