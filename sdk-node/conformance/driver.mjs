// The @sigil/node conformance driver. The runner (tests/, `sigil-conformance`)
// holds every scenario; this process only maps one primitive command to one
// call of the public package API, so Node is held to the same assertions as
// every other SDK. Protocol: one JSON object per line on stdin,
// `{"id":N,"cmd":"<name>","args":{...}}`, answered in order on stdout with
// `{"id":N,"ok":<result>}` or `{"id":N,"error":{class,code,status,requestId,retryAfter,message}}`.
import { serve, sdkCommands } from '../../tests/js/driver-loop.mjs';
import { Sigil, Webhook, TokenVerifier, signRequest, verifyRequest, pkce } from '../index.mjs';

await serve(sdkCommands({ Sigil, Webhook, TokenVerifier, signRequest, verifyRequest, pkce }));
