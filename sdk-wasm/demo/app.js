// A tiny single-page app on @sigil/web: sign in by redirect, show the
// pairwise user id, call a protected API, sign out. The test server serves
// /config.json (the issuer) and the package (index.mjs, js/, pkg/web).
import init, * as web from '/index.mjs';

await init();
const { Sigil } = web;
const { issuer } = await (await fetch('/config.json')).json();
const sigil = new Sigil({
  issuer,
  clientId: 'app_ci_spa',
  redirectUri: `${location.origin}/callback`,
  scopes: ['profile.basic', 'identity.read'],
  storage: 'local',
});
// For the end-to-end test, which calls accessToken() in each tab and checks
// the error classes the module exports.
window.sigil = sigil;
window.sigilModule = web;

const $ = (id) => document.getElementById(id);

/** Shows the button that applies: "Sign in" when signed out, else "Sign out". */
function showButtons(signedIn) {
  $('signin').hidden = signedIn;
  $('signout').hidden = !signedIn;
}

function showSignedOut() {
  $('status').textContent = 'Signed out';
  $('user').textContent = '–';
  $('alias').textContent = '–';
  showButtons(false);
}

/** The page for the session the SDK holds; a session it cannot renew shows the error and "Sign in". */
async function render({ signedOut = false } = {}) {
  try {
    await renderSession(signedOut);
  } catch (e) {
    $('error').textContent = `${e.name}: ${e.code}`;
    showSignedOut();
  }
}

async function renderSession(signedOut) {
  const tokens = signedOut ? undefined : await sigil.tokens();
  if (!tokens) {
    showSignedOut();
    return;
  }
  const claims = await sigil.verifyToken(await sigil.accessToken());
  const res = await sigil.request('/app/v1/identity/lookup', {
    method: 'POST',
    json: { userId: claims.sub },
  });
  const { data } = await res.json();
  $('status').textContent = 'Signed in';
  $('user').textContent = claims.sub;
  $('alias').textContent = data.alias ?? data.slug;
  showButtons(true);
}

$('signin').onclick = () => sigil.login();
$('signout').onclick = async () => {
  await sigil.logout();
  await render();
};
// Another tab's change; a logout is taken from the event itself.
sigil.addEventListener('tokenChange', (e) => {
  if (e.detail.remote) render({ signedOut: e.detail.type === 'loggedOut' });
});

try {
  if (location.pathname === '/callback') await sigil.handleCallback();
} catch (e) {
  $('error').textContent = `${e.name}: ${e.code}`;
}
await render();
document.body.dataset.ready = 'true';
