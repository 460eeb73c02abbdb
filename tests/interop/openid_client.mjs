// Interop: npm openid-client v6 discovers a realm (OpenID and RFC 8414 metadata), gets an initial access token with
// client_credentials (client_secret_basic) and registers a client with it (RFC 7591), then
// reads the registration back (RFC 7592). Usage: node openid_client.mjs <issuer>
import * as client from 'openid-client';
import assert from 'node:assert/strict';

const issuer = new URL(process.argv[2]);
const insecure = { execute: [client.allowInsecureRequests] };

const service = await client.discovery(
  issuer, 'registration-service', 'forgerock', client.ClientSecretBasic('forgerock'), insecure);
assert.equal(service.serverMetadata().issuer, issuer.href);

// RFC 8414 metadata (path insertion) names the same issuer and endpoints.
const oauth2 = await client.discovery(
  issuer, 'registration-service', 'forgerock', client.ClientSecretBasic('forgerock'),
  { algorithm: 'oauth2', ...insecure });
assert.equal(oauth2.serverMetadata().issuer, issuer.href);
assert.equal(oauth2.serverMetadata().token_endpoint, service.serverMetadata().token_endpoint);

const grant = await client.clientCredentialsGrant(service, { scope: 'dynamic_client_registration' });
assert.equal(grant.token_type.toLowerCase(), 'bearer');
assert.ok(grant.expires_in > 0);

const registered = await client.dynamicClientRegistration(
  issuer,
  {
    redirect_uris: ['https://client.example.com/callback'],
    client_name: 'openid-client interop',
    client_uri: 'https://client.example.com/',
  },
  undefined,
  { initialAccessToken: grant.access_token, ...insecure },
);
const metadata = registered.clientMetadata();
assert.match(metadata.client_id, /^[0-9a-f-]{36}$/);
assert.ok(metadata.client_secret);
assert.ok(metadata.registration_access_token);
assert.deepEqual(metadata.redirect_uris, ['https://client.example.com/callback']);

const read = await fetch(metadata.registration_client_uri, {
  headers: { authorization: `Bearer ${metadata.registration_access_token}` },
});
assert.equal(read.status, 200);
assert.equal((await read.json()).client_id, metadata.client_id);
console.log(`openid-client: registered ${metadata.client_id}`);
