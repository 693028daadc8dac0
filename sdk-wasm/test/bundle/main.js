// A tiny app that test/bundle.test.mjs builds with each bundler and opens in Chromium.
// It imports @sigil/web by its package name, as a user's app does (the test
// installs the packed package into the app's node_modules), and writes what it
// saw into the page: <body data-result="{...}"> and the #result text.
import init, {
  InvalidInputError,
  Sigil,
  SigilError,
  Webhook,
  pkce,
  pkceChallenge,
} from '@sigil/web';

async function run() {
  // Beside the module by default; the build that serves the module elsewhere
  // defines its URL (as an app passes `{ module_or_path }`).
  await init(typeof SIGIL_WASM_URL === 'string' ? { module_or_path: SIGIL_WASM_URL } : undefined);
  // Not bundled: the test puts the shared vectors in the app's public/ folder.
  const vectors = await (await fetch(new URL('standards.json', location.href))).json();
  const spec = vectors.standard_webhooks.find((v) => v.name === 'spec_vector_valid');
  const headers = {
    'webhook-id': spec.id,
    'webhook-timestamp': String(spec.timestamp),
    'webhook-signature': spec.signature,
  };
  const client = new Sigil({
    issuer: 'https://auth.example',
    clientId: 'app_x',
    redirectUri: location.origin + '/callback',
  });
  let thrown;
  try {
    pkceChallenge('bad');
  } catch (e) {
    thrown = {
      invalidInput: e instanceof InvalidInputError,
      sigilError: e instanceof SigilError,
      name: e.name,
      code: e.code,
    };
  }
  const p = pkce();
  return {
    pkce: { method: p.method, challenge: p.challenge, verifier: p.verifier },
    rfc7636: pkceChallenge(vectors.pkce_rfc7636.code_verifier),
    webhook: new Webhook(spec.secret).verify(headers, spec.body, { now: spec.now }),
    sigil: { constructed: client instanceof Sigil, login: typeof client.login },
    thrown,
  };
}

run()
  .catch((e) => ({ error: String((e && e.stack) || e) }))
  .then((result) => {
    const json = JSON.stringify(result);
    document.getElementById('result').textContent = json;
    document.body.dataset.result = json;
  });
