// responses.mjs drives ONE Responses API scenario with ONE real client
// against our server and prints ONE JSON line of observations. It asserts
// nothing: ../responses_test.go judges the observations.
//
//	BASE_URL=http://127.0.0.1:PORT/v1 API_KEY=… node responses.mjs <client> <scenario>
//
// Clients:
//
//	openai  the official OpenAI Node SDK: responses.create (stream and not)
//	        and responses.stream(), retrieve and delete
//	pi-ai   @mariozechner/pi-ai streamSimple with a custom "openai-responses"
//	        model, as OpenClaw configures such a provider
//
// Output: {client, scenario, turns: [Turn…], error, retrieved, deleted, after_delete}
//
//	Turn = {id, status, text, model, tool_calls: [{id, type, name, args}],
//	        usage: {input, output, total}|null, events: [types], seq_ok}

const [client, scenario] = process.argv.slice(2);
const BASE_URL = process.env.BASE_URL;
const API_KEY = process.env.API_KEY;

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const weather = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
  additionalProperties: false,
};
const person = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer" } },
  required: ["name", "age"],
  additionalProperties: false,
};
const PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n";

const out = { client, scenario, turns: [], error: null };

function errOf(e, stage) {
  return {
    name: e?.constructor?.name ?? "Error",
    status: e?.status ?? null,
    message: e?.error?.message ?? e?.message ?? String(e),
    code: e?.code ?? e?.error?.code ?? null,
    param: e?.param ?? e?.error?.param ?? null,
    stage,
  };
}

function turnOf(r, events) {
  const calls = (r.output ?? [])
    .filter((o) => o.type === "function_call" || o.type === "custom_tool_call")
    .map((o) => ({ id: o.call_id, type: o.type, name: o.name, args: o.type === "custom_tool_call" ? o.input : o.arguments }));
  const t = {
    id: r.id,
    status: r.status,
    model: r.model,
    text: r.output_text ?? "",
    tool_calls: calls,
    usage: r.usage ? { input: r.usage.input_tokens, output: r.usage.output_tokens, total: r.usage.total_tokens } : null,
  };
  if (events) {
    t.events = events.map((e) => e.type);
    t.seq_ok = events.every((e, i) => e.sequence_number === i);
  }
  return t;
}

// ------------------------------------------------------------- openai ----

async function runOpenAI() {
  const { default: OpenAI } = await import("openai");
  const c = new OpenAI({ baseURL: BASE_URL, apiKey: API_KEY, maxRetries: 0 });
  const fnTool = { type: "function", name: "get_weather", description: "Weather for a city", parameters: weather, strict: true };
  const timeTool = { type: "function", name: "get_time", parameters: { type: "object", properties: {}, additionalProperties: false }, strict: true };
  const patchTool = { type: "custom", name: "ApplyPatch", description: "Apply a patch", format: { type: "grammar", syntax: "lark", definition: "start: /(.|\\n)+/" } };
  const base = { model: "gpt-5.5", instructions: "Be brief." };

  // create() with stream:true, collecting every event.
  const streamed = async (params) => {
    const s = await c.responses.create({ ...params, stream: true });
    const events = [];
    let final = null;
    for await (const ev of s) {
      events.push(ev);
      if (ev.type === "response.completed" || ev.type === "response.incomplete") final = ev.response;
      if (ev.type === "response.failed") throw Object.assign(new Error(ev.response?.error?.message ?? "failed"), { code: ev.response?.error?.code });
    }
    // output_text is an SDK convenience of non-streamed responses.
    final.output_text = final.output.flatMap((o) => (o.type === "message" ? o.content : [])).filter((p) => p.type === "output_text").map((p) => p.text).join("");
    out.turns.push(turnOf(final, events));
    return final;
  };
  const created = async (params) => {
    const r = await c.responses.create(params);
    out.turns.push(turnOf(r));
    return r;
  };

  switch (scenario) {
    case "text":
      await created({ ...base, input: "hello there" });
      break;
    case "stream":
      await streamed({ ...base, input: "hello there" });
      break;
    case "stream_helper": {
      // responses.stream(): the SDK's accumulating helper.
      const s = c.responses.stream({ ...base, input: "hello there" });
      const events = [];
      for await (const ev of s) events.push(ev);
      const final = await s.finalResponse();
      out.turns.push(turnOf(final, events));
      break;
    }
    case "tools": {
      const r1 = await created({ ...base, input: 'call:get_weather {"city":"Paris"}', tools: [fnTool] });
      const call = r1.output.find((o) => o.type === "function_call");
      await created({ ...base, previous_response_id: r1.id, tools: [fnTool], input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }] });
      break;
    }
    case "tools_stream": {
      const r1 = await streamed({ ...base, input: 'call:get_weather {"city":"Paris"}', tools: [fnTool] });
      const call = r1.output.find((o) => o.type === "function_call");
      await streamed({ ...base, previous_response_id: r1.id, tools: [fnTool], input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }] });
      break;
    }
    case "parallel_tools": {
      const r1 = await streamed({ ...base, input: 'call-parallel:get_weather,get_time {"city":"Oslo"}', tools: [fnTool, timeTool], parallel_tool_calls: true });
      const calls = r1.output.filter((o) => o.type === "function_call");
      await created({
        ...base,
        previous_response_id: r1.id,
        tools: [fnTool, timeTool],
        input: calls.map((cl) => ({ type: "function_call_output", call_id: cl.call_id, output: cl.name === "get_weather" ? "sunny" : "noon" })),
      });
      break;
    }
    case "custom_tool": {
      const r1 = await streamed({ ...base, input: "call:ApplyPatch " + PATCH, tools: [fnTool, patchTool] });
      const call = r1.output.find((o) => o.type === "custom_tool_call");
      // Stateless this time: the whole history goes back.
      await created({
        ...base,
        tools: [fnTool, patchTool],
        input: [{ role: "user", content: "call:ApplyPatch " + PATCH }, ...r1.output, { type: "custom_tool_call_output", call_id: call.call_id, output: "Done!" }],
      });
      break;
    }
    case "image":
      await created({ ...base, input: [{ role: "user", content: [{ type: "input_text", text: "what is this?" }, { type: "input_image", image_url: `data:image/png;base64,${PNG_B64}`, detail: "auto" }] }] });
      break;
    case "json_schema":
      await created({ ...base, input: "a person", text: { format: { type: "json_schema", name: "person", schema: person, strict: true } } });
      break;
    case "chain": {
      const r1 = await created({ ...base, input: "first" });
      const r2 = await created({ ...base, input: "second", previous_response_id: r1.id });
      const got = await c.responses.retrieve(r2.id);
      out.retrieved = { id: got.id, text: got.output_text, status: got.status };
      const del = await c.responses.del?.(r2.id) ?? (await c.responses.delete(r2.id));
      out.deleted = del ?? null;
      try {
        await c.responses.retrieve(r2.id);
      } catch (e) {
        out.after_delete = errOf(e, "retrieve");
      }
      try {
        await c.responses.create({ ...base, input: "third", previous_response_id: "resp_expired0000" });
      } catch (e) {
        out.error = errOf(e, "create");
      }
      break;
    }
    case "err_usage_limit":
    case "err_auth":
      await created({ ...base, input: "hi" });
      break;
    default:
      throw new Error("unknown scenario " + scenario);
  }
}

// -------------------------------------------------------------- pi-ai ----

async function runPi() {
  const { streamSimple } = await import("@mariozechner/pi-ai");
  const model = {
    id: "gpt-5.5",
    name: "ChatGPT (local)",
    api: "openai-responses",
    provider: "chatgpt-local",
    baseUrl: BASE_URL,
    reasoning: true,
    input: ["text", "image"],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 272000,
    maxTokens: 128000,
  };
  const context = { systemPrompt: "Be brief.", messages: [] };
  const options = { apiKey: API_KEY, maxRetries: 0, sessionId: "conformance-session", reasoning: "medium" };
  let prompt = "hello there";
  let toolResults = null;
  switch (scenario) {
    case "stream":
      break;
    case "tools_stream":
      prompt = 'call:get_weather {"city":"Paris"}';
      toolResults = { get_weather: "sunny" };
      break;
    case "parallel_tools":
      prompt = 'call-parallel:get_weather,get_time {"city":"Oslo"}';
      toolResults = { get_weather: "sunny", get_time: "noon" };
      break;
    case "image":
      prompt = "what is this?";
      break;
    case "err_usage_limit":
    case "err_auth":
      break;
    default:
      throw new Error("unknown scenario " + scenario);
  }
  context.messages.push(
    scenario === "image"
      ? { role: "user", content: [{ type: "text", text: prompt }, { type: "image", data: PNG_B64, mimeType: "image/png" }], timestamp: Date.now() }
      : { role: "user", content: prompt, timestamp: Date.now() },
  );
  if (toolResults) {
    context.tools = [
      { name: "get_weather", description: "Weather for a city", parameters: weather },
      { name: "get_time", description: "The time", parameters: { type: "object", properties: {} } },
    ];
  }
  const once = async () => {
    const s = streamSimple(model, context, options);
    let final = null;
    let text = "";
    for await (const ev of s) {
      if (ev.type === "text_delta") text += ev.delta;
      else if (ev.type === "done") final = ev.message;
      else if (ev.type === "error") final = ev.error;
    }
    final ??= await s.result();
    const u = final.usage;
    out.turns.push({
      id: final.responseId ?? null,
      status: final.stopReason,
      text,
      tool_calls: final.content.filter((b) => b.type === "toolCall").map((b) => ({ id: b.id, type: "function_call", name: b.name, args: JSON.stringify(b.arguments) })),
      usage: u && u.totalTokens > 0 ? { input: u.input + u.cacheRead, output: u.output, total: u.totalTokens } : null,
    });
    if (final.stopReason === "error" || final.stopReason === "aborted") {
      out.error ??= { name: "pi-ai " + final.stopReason, status: null, message: final.errorMessage ?? "", stage: "stream" };
    }
    return final;
  };
  const first = await once();
  if (toolResults && first.stopReason === "toolUse") {
    context.messages.push(first);
    for (const tc of out.turns[0].tool_calls) {
      context.messages.push({ role: "toolResult", toolCallId: tc.id, toolName: tc.name, content: [{ type: "text", text: toolResults[tc.name] }], isError: false, timestamp: Date.now() });
    }
    await once();
  }
}

try {
  await (client === "pi-ai" ? runPi() : runOpenAI());
} catch (e) {
  out.error ??= errOf(e, "run");
}
process.stdout.write(JSON.stringify(out) + "\n");
