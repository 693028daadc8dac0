// The JSON-lines loop of the JavaScript conformance drivers (@sigil/node and
// @sigil/web): each driver only supplies its commands, one SDK call each.
// Protocol: one `{"id":N,"cmd":"<name>","args":{...}}` per line on stdin,
// answered in order on stdout with `{"id":N,"ok":<result>}` or
// `{"id":N,"error":{class,code,status,requestId,retryAfter,message}}`.
import { createInterface } from 'node:readline';

/** The error as the runner compares it: the class name and the typed fields. */
function errorInfo(e) {
  return {
    class: e?.constructor?.name ?? 'Error',
    code: e?.code,
    status: e?.status,
    requestId: e?.requestId,
    retryAfter: e?.retryAfter,
    message: String(e?.message ?? e),
  };
}

async function answer(commands, line) {
  let id = null;
  try {
    const command = JSON.parse(line);
    id = command.id;
    const run = commands[command.cmd];
    if (!run) throw new Error(`unknown command \`${command.cmd}\``);
    const ok = await run(command.args ?? {});
    return { id, ok: ok ?? null };
  } catch (e) {
    return { id, error: errorInfo(e) };
  }
}

/** Answers the runner's commands until stdin closes. */
export async function serve(commands) {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    process.stdout.write(`${JSON.stringify(await answer(commands, line))}\n`);
  }
}
