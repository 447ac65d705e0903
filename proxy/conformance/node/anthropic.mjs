// anthropic.mjs drives ONE scenario with the official Anthropic Node SDK
// (@anthropic-ai/sdk) against our /v1/messages and prints ONE JSON line of
// observations. It asserts nothing: ../anthropic_test.go judges them.
//
//	ROOT_URL=http://127.0.0.1:PORT API_KEY=… node anthropic.mjs <scenario>
//
// Output: {scenario, turns: [Turn…], error: Err|null, count?, models?}
//
//	Turn = {text, thinking, signature, redacted, stop, tool_uses: [{id, name, input}],
//	        usage, events: [type…], json_deltas}
//	Err  = {name, status, type, message, retry_after, stage}
import Anthropic from "@anthropic-ai/sdk";

const [scenario] = process.argv.slice(2);
const client = new Anthropic({ baseURL: process.env.ROOT_URL, apiKey: process.env.API_KEY, maxRetries: 0 });

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const weather = {
  name: "get_weather",
  description: "Weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const lookup = (n) => ({ name: n, description: "Lookup", input_schema: { type: "object", properties: {} } });

const out = { scenario, turns: [], error: null };

function turnOf(msg, events = [], jsonDeltas = 0) {
  const t = { text: "", thinking: "", signature: "", redacted: "", stop: msg.stop_reason, tool_uses: [], usage: msg.usage, events, json_deltas: jsonDeltas, model: msg.model, id: msg.id };
  for (const b of msg.content) {
    if (b.type === "text") t.text += b.text;
    if (b.type === "thinking") { t.thinking += b.thinking; t.signature = b.signature; }
    if (b.type === "redacted_thinking") t.redacted = b.data;
    if (b.type === "tool_use") t.tool_uses.push({ id: b.id, name: b.name, input: b.input });
  }
  return t;
}

// streamed runs messages.stream() and keeps the event types it saw.
async function streamed(params) {
  const events = [];
  let jsonDeltas = 0;
  const s = client.messages.stream(params);
  s.on("streamEvent", (ev) => {
    events.push(ev.type);
    if (ev.type === "content_block_delta" && ev.delta.type === "input_json_delta") jsonDeltas++;
  });
  const msg = await s.finalMessage();
  return turnOf(msg, events, jsonDeltas);
}

// loop answers every tool_use with results[name] and takes one more turn.
async function loop(params, results, stream) {
  const first = stream ? await streamed(params) : turnOf(await client.messages.create(params));
  out.turns.push(first);
  const assistant = [];
  if (first.thinking) assistant.push({ type: "thinking", thinking: first.thinking, signature: first.signature });
  if (first.text) assistant.push({ type: "text", text: first.text });
  for (const u of first.tool_uses) assistant.push({ type: "tool_use", id: u.id, name: u.name, input: u.input });
  const answers = first.tool_uses.map((u) => ({ type: "tool_result", tool_use_id: u.id, content: results[u.name] }));
  const next = { ...params, messages: [...params.messages, { role: "assistant", content: assistant }, { role: "user", content: answers }] };
  out.turns.push(stream ? await streamed(next) : turnOf(await client.messages.create(next)));
}

const user = (content) => [{ role: "user", content }];
const base = { model: "claude-sonnet-4-5", max_tokens: 1024 };

const SCENARIOS = {
  text: async () => out.turns.push(turnOf(await client.messages.create({ ...base, system: "Be brief.", messages: user("hello there") }))),
  stream: async () => out.turns.push(await streamed({ ...base, system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }], messages: user("stream me") })),
  tools: () => loop({ ...base, tools: [weather], messages: user('call:get_weather {"city":"Paris"}') }, { get_weather: '{"temp":21}' }, false),
  parallel_tools: () => loop({ ...base, tools: [lookup("lookup_a"), lookup("lookup_b")], messages: user('call-parallel:lookup_a,lookup_b {"q":1}') }, { lookup_a: "A", lookup_b: "B" }, false),
  stream_tools: () => loop({ ...base, tools: [weather], messages: user('call:get_weather {"city":"Paris","note":"long enough to be cut in pieces"}') }, { get_weather: "sunny" }, true),
  image: async () =>
    out.turns.push(turnOf(await client.messages.create({ ...base, messages: user([
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_B64 } },
      { type: "text", text: "what is this?" },
    ]) }))),
  thinking: () => loop({ ...base, max_tokens: 20000, thinking: { type: "enabled", budget_tokens: 10000 }, tools: [weather], messages: user('call:get_weather {"city":"Oslo"}') }, { get_weather: "cold" }, true),
  count_tokens: async () => {
    const a = await client.messages.countTokens({ model: "claude-sonnet-4-5", messages: user("Hello, world") });
    const b = await client.messages.countTokens({ model: "claude-sonnet-4-5", system: "You are terse.", tools: [weather], messages: user([
      { type: "text", text: "Hello, world" }, { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_B64 } },
    ]) });
    out.count = [a.input_tokens, b.input_tokens];
  },
  models: async () => {
    const page = await client.models.list();
    out.models = page.data.map((m) => ({ id: m.id, type: m.type, display_name: m.display_name }));
  },
  err_auth: async () => {
    const bad = new Anthropic({ baseURL: process.env.ROOT_URL, apiKey: "sk-wrong", maxRetries: 0 });
    await bad.messages.create({ ...base, messages: user("hi") });
  },
  err_bad_request: () => client.messages.create({ ...base, messages: user([{ type: "tool_result", tool_use_id: "toolu_x", content: "orphan" }]) }),
  err_status: () => client.messages.create({ ...base, system: "Be brief. ".repeat(200), messages: user("hi") }),
  err_usage_limit: async () => {
    // Default retries: the answer itself must stop them.
    const c = new Anthropic({ baseURL: process.env.ROOT_URL, apiKey: process.env.API_KEY });
    await c.messages.create({ ...base, messages: user("hi") });
  },
  err_in_band: async () => out.turns.push(await streamed({ ...base, messages: user("hi") })),
};

try {
  await SCENARIOS[scenario]();
} catch (e) {
  out.error = {
    name: e?.constructor?.name ?? "Error",
    status: e?.status ?? null,
    type: e?.type ?? e?.error?.error?.type ?? null,
    message: String(e?.apiMessage ?? e?.message ?? e),
    retry_after: e?.headers?.get?.("retry-after") ?? null,
  };
}
process.stdout.write(JSON.stringify(out) + "\n");
