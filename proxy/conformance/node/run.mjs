// run.mjs drives ONE scenario with ONE real client against our server and
// prints ONE JSON line of observations on stdout. It asserts nothing: the Go
// test (../conformance_test.go) judges the observations.
//
//	BASE_URL=http://127.0.0.1:PORT/v1 API_KEY=… node run.mjs <client> <scenario>
//
// Clients:
//
//	openai          the official OpenAI Node SDK (chat.completions.create)
//	openai-helpers  the same SDK's helpers: chat.completions.stream(),
//	                runTools() and parse() with zodResponseFormat
//	ai-compat       the Vercel AI SDK with @ai-sdk/openai-compatible
//	ai-openai       the Vercel AI SDK with @ai-sdk/openai .chat()
//	pi-ai           @mariozechner/pi-ai streamSimple with a custom
//	                "openai-completions" model, as OpenClaw configures it
//
// Output: {client, scenario, turns: [Turn…], error: Err|null, models?, aborted?}
//
//	Turn = {content, reasoning, finish, tool_calls: [{id, name, args}],
//	        usage: {input, output, total}|null, chunks}
//	Err  = {name, status, message, type, code, param, stage}
//
// One turn per model response (a tool round trip has two). When a turn fails,
// the partial turn is still recorded before the error. In the abort scenario
// the script prints its line and then stays alive until stdin closes, so the
// Go test can check that the abort itself (not the process exit) closed the
// connection.

// Each runner imports only its own client (pi-ai alone takes ~0.4 s to load).
let OpenAI;
let createOpenAICompatible, createOpenAI;
let generateText, streamText, tool, jsonSchema, Output, stepCountIs;
let streamSimple, isContextOverflow;

const [client, scenario] = process.argv.slice(2);
const BASE_URL = process.env.BASE_URL;
const API_KEY = process.env.API_KEY;

// A 1×1 PNG.
const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const PNG_DATA_URL = `data:image/png;base64,${PNG_B64}`;

const weatherSchema = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
  additionalProperties: false,
};
const emptySchema = { type: "object", properties: {}, additionalProperties: false };
const personSchema = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer" } },
  required: ["name", "age"],
  additionalProperties: false,
};

// Scenario specs, shared by every client. toolResults answers each tool by
// name; its presence makes the client send the results and take one more turn.
const SCENARIOS = {
  models: { kind: "models" },
  chat: { prompt: "hello there", system: "Be brief." },
  stream: { prompt: "stream me", system: "Be brief.", stream: true, includeUsage: false },
  stream_usage: { prompt: "stream me", system: "Be brief.", stream: true, includeUsage: true },
  tools: {
    prompt: 'call:get_weather {"city":"Paris"}',
    tools: { get_weather: { description: "Weather for a city", schema: weatherSchema } },
    toolResults: { get_weather: '{"temp":21}' },
  },
  parallel_tools: {
    prompt: 'call-parallel:lookup_a,lookup_b {"q":1}',
    tools: { lookup_a: { description: "Lookup A", schema: emptySchema }, lookup_b: { description: "Lookup B", schema: emptySchema } },
    toolResults: { lookup_a: "A", lookup_b: "B" },
  },
  image: { prompt: "what is this?", image: true },
  json_schema: { prompt: "give me a person", schema: personSchema },
  err_auth: { prompt: "hi", apiKey: "sk-wrong-key" },
  err_bad_request: { prompt: "hi", badRequest: true },
  err_usage_limit: { prompt: "hi" },
  err_overloaded: { prompt: "hi", stream: true },
  err_after_content: { prompt: "hi", stream: true },
  err_cut: { prompt: "hi", stream: true },
  err_retired: { prompt: "hi", model: "gpt-5.2" },
  abort: { prompt: "hi", stream: true, abortOnFirstContent: true },
  err_context_overflow: { prompt: "hi", stream: true },
  // The client's default retry policy (every other scenario disables retries).
  err_usage_limit_retries: { prompt: "hi", defaultRetries: true },
  // pi-ai only: OpenClaw's thinking levels, one request each.
  thinking_levels: { prompt: "hi", stream: true, levels: ["low", "medium", "high", "xhigh"] },
  thinking_minimal: { prompt: "hi", stream: true, levels: ["minimal"] },
};
SCENARIOS.tools_stream = { ...SCENARIOS.tools, stream: true };
SCENARIOS.parallel_tools_stream = { ...SCENARIOS.parallel_tools, stream: true };

const out = { client, scenario, turns: [], error: null };

function newTurn() {
  return { content: "", reasoning: "", finish: null, tool_calls: [], usage: null, chunks: 0 };
}

function errInfo(e, stage) {
  if (e == null) return { name: "null", status: null, message: String(e), stage };
  if (typeof e !== "object") return { name: typeof e, status: null, message: String(e), stage };
  if (e.lastError && Array.isArray(e.errors)) {
    // AI SDK RetryError: report the last attempt's error.
    const inner = errInfo(e.lastError, stage);
    return { ...inner, name: `${e.constructor?.name}(${inner.name})`, attempts: e.errors.length, retry_message: String(e.message) };
  }
  // OpenAI SDK APIError: status, error (the body's error object), type, code, param.
  // AI SDK APICallError: statusCode, responseBody, data.
  let body = e.error ?? e.data ?? null;
  if (body == null && typeof e.responseBody === "string") {
    try {
      body = JSON.parse(e.responseBody);
    } catch {
      body = null;
    }
  }
  if (body && typeof body === "object" && body.error && typeof body.error === "object") body = body.error;
  const b = body && typeof body === "object" ? body : {};
  return {
    name: e.constructor?.name ?? e.name ?? "Object",
    status: e.status ?? e.statusCode ?? null,
    message: String(e.message ?? b.message ?? JSON.stringify(e)),
    type: e.type ?? b.type ?? null,
    code: e.code ?? b.code ?? null,
    param: e.param ?? b.param ?? null,
    body_message: b.message ?? null,
    retry_after: e.headers?.get?.("retry-after") ?? e.responseHeaders?.["retry-after"] ?? null,
    stage,
  };
}

// ---------------------------------------------------------------- openai ----

async function runOpenAI(spec) {
  ({ default: OpenAI } = await import("openai"));
  const c = new OpenAI({ baseURL: BASE_URL, apiKey: spec.apiKey ?? API_KEY, ...(spec.defaultRetries ? {} : { maxRetries: 0 }) });
  if (spec.kind === "models") {
    const page = await c.models.list();
    out.models = page.data.map((m) => ({ id: m.id, object: m.object, owned_by: m.owned_by }));
    const one = await c.models.retrieve("gpt-4o");
    out.retrieved = { id: one.id, object: one.object };
    return;
  }
  const messages = [];
  if (spec.system) messages.push({ role: "system", content: spec.system });
  if (spec.image) {
    messages.push({
      role: "user",
      content: [
        { type: "text", text: spec.prompt },
        { type: "image_url", image_url: { url: PNG_DATA_URL } },
      ],
    });
  } else {
    messages.push({ role: "user", content: spec.prompt });
  }
  const params = { model: spec.model ?? "gpt-5.5", messages };
  if (spec.badRequest) params.n = 2; // n>1 cannot be served: 400
  if (spec.tools) {
    params.tools = Object.entries(spec.tools).map(([name, t]) => ({
      type: "function",
      function: { name, description: t.description, parameters: t.schema },
    }));
  }
  if (spec.schema) {
    params.response_format = { type: "json_schema", json_schema: { name: "person", strict: true, schema: spec.schema } };
  }
  if (spec.stream && spec.includeUsage) params.stream_options = { include_usage: true };

  const controller = new AbortController();
  const once = async () => {
    const turn = newTurn();
    out.turns.push(turn);
    let message;
    if (!spec.stream) {
      const r = await c.chat.completions.create(params);
      const ch = r.choices[0];
      message = ch.message;
      turn.content = ch.message.content ?? "";
      turn.reasoning = ch.message.reasoning_content ?? "";
      turn.finish = ch.finish_reason;
      turn.id = r.id;
      turn.object = r.object;
      turn.model = r.model;
      turn.chunks = 1;
      if (r.usage) turn.usage = { input: r.usage.prompt_tokens, output: r.usage.completion_tokens, total: r.usage.total_tokens };
      turn.tool_calls = (ch.message.tool_calls ?? []).map((tc) => ({ id: tc.id, name: tc.function.name, args: tc.function.arguments }));
    } else {
      const s = await c.chat.completions.create({ ...params, stream: true }, { signal: controller.signal });
      const calls = [];
      const ids = new Set();
      turn.usage_chunk_last = false;
      for await (const chunk of s) {
        turn.chunks++;
        ids.add(chunk.id);
        turn.model = chunk.model;
        turn.object = chunk.object;
        if (chunk.usage) turn.usage = { input: chunk.usage.prompt_tokens, output: chunk.usage.completion_tokens, total: chunk.usage.total_tokens };
        turn.usage_chunk_last = chunk.usage != null && chunk.choices.length === 0;
        const ch = chunk.choices[0];
        if (!ch) continue;
        if (turn.chunks === 1) turn.first_role = ch.delta?.role ?? null;
        const d = ch.delta ?? {};
        if (d.content) turn.content += d.content;
        if (d.reasoning_content) turn.reasoning += d.reasoning_content;
        for (const tc of d.tool_calls ?? []) {
          const cur = (calls[tc.index] ??= { id: "", name: "", args: "" });
          if (tc.id) cur.id = tc.id;
          if (tc.function?.name) cur.name += tc.function.name;
          if (tc.function?.arguments) cur.args += tc.function.arguments;
        }
        if (ch.finish_reason) turn.finish = ch.finish_reason;
        if (spec.abortOnFirstContent && turn.content !== "") {
          out.aborted = true;
          controller.abort();
        }
      }
      turn.ids = ids.size;
      turn.tool_calls = calls.filter(Boolean);
      message = { role: "assistant", content: turn.content || null };
      if (turn.tool_calls.length) {
        message.tool_calls = turn.tool_calls.map((t) => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.args } }));
      }
    }
    return message;
  };
  const msg = await once();
  if (spec.toolResults && out.turns[0].tool_calls.length) {
    messages.push(msg);
    for (const tc of out.turns[0].tool_calls) {
      messages.push({ role: "tool", tool_call_id: tc.id, content: spec.toolResults[tc.name] ?? "?" });
    }
    await once();
  }
}

// -------------------------------------------------------- openai-helpers ----
// The OpenAI SDK's higher-level helpers, which validate the stream more
// strictly than plain iteration: chat.completions.stream() (an accumulating
// ChatCompletionStream) with finalChatCompletion(), runTools() (the SDK's own
// tool loop, streamed or not) and parse() with zodResponseFormat.

function helperTurn(completion, chunks) {
  const ch = completion.choices[0];
  const turn = newTurn();
  turn.content = ch.message.content ?? "";
  turn.reasoning = ch.message.reasoning_content ?? "";
  turn.finish = ch.finish_reason;
  turn.tool_calls = (ch.message.tool_calls ?? []).map((tc) => ({ id: tc.id, name: tc.function.name, args: tc.function.arguments }));
  turn.chunks = chunks;
  if (completion.usage) {
    const u = completion.usage;
    turn.usage = { input: u.prompt_tokens, output: u.completion_tokens, total: u.total_tokens };
  }
  return turn;
}

async function runOpenAIHelpers(spec) {
  ({ default: OpenAI } = await import("openai"));
  const c = new OpenAI({ baseURL: BASE_URL, apiKey: spec.apiKey ?? API_KEY, maxRetries: 0 });
  const messages = [];
  if (spec.system) messages.push({ role: "system", content: spec.system });
  messages.push({ role: "user", content: spec.prompt });
  const params = { model: spec.model ?? "gpt-5.5", messages };
  if (spec.stream && spec.includeUsage) params.stream_options = { include_usage: true };

  if (spec.schema) {
    const { z } = await import("zod");
    const { zodResponseFormat } = await import("openai/helpers/zod");
    const Person = z.object({ name: z.string(), age: z.number().int() });
    const r = await c.chat.completions.parse({ ...params, response_format: zodResponseFormat(Person, "person") });
    out.turns.push(helperTurn(r, 1));
    out.parsed = r.choices[0].message.parsed ?? null;
    return;
  }

  if (spec.tools) {
    const tools = Object.entries(spec.tools).map(([name, t]) => ({
      type: "function",
      function: {
        name,
        description: t.description,
        parameters: t.schema,
        parse: JSON.parse,
        function: async () => spec.toolResults[name],
      },
    }));
    const runner = c.chat.completions.runTools({ ...params, tools, ...(spec.stream ? { stream: true } : {}) });
    let chunks = 0;
    if (spec.stream) runner.on("chunk", () => chunks++);
    const completions = [];
    runner.on("chatCompletion", (cc) => completions.push(cc));
    out.final_content = await runner.finalContent();
    for (const cc of completions) out.turns.push(helperTurn(cc, spec.stream ? chunks : 1));
    return;
  }

  // Every other scenario: the streaming helper.
  const s = c.chat.completions.stream({ ...params, stream: true });
  const turn = newTurn();
  out.turns.push(turn);
  s.on("chunk", () => turn.chunks++);
  s.on("content.delta", ({ delta }) => {
    turn.content += delta;
    if (spec.abortOnFirstContent && turn.content !== "") {
      out.aborted = true;
      s.abort();
    }
  });
  let final;
  try {
    final = await s.finalChatCompletion();
  } catch (e) {
    if (s.aborted) out.stream_aborted = true;
    throw e;
  }
  const t = helperTurn(final, turn.chunks);
  Object.assign(turn, t);
}

// ------------------------------------------------------------- AI SDK ----

function aiModel(spec) {
  const apiKey = spec.apiKey ?? API_KEY;
  const id = spec.model ?? "gpt-5.5";
  if (client === "ai-compat") {
    const p = createOpenAICompatible({
      name: "local",
      baseURL: BASE_URL,
      apiKey,
      includeUsage: !!spec.includeUsage,
      supportsStructuredOutputs: true,
    });
    return p.chatModel(id);
  }
  return createOpenAI({ baseURL: BASE_URL, apiKey }).chat(id);
}

function aiUsage(u) {
  if (!u || u.inputTokens == null || Number.isNaN(u.inputTokens)) return null;
  return { input: u.inputTokens, output: u.outputTokens, total: u.totalTokens };
}

function aiToolCalls(calls) {
  return (calls ?? []).map((tc) => ({ id: tc.toolCallId, name: tc.toolName, args: JSON.stringify(tc.input) }));
}

async function runAI(spec) {
  ({ generateText, streamText, tool, jsonSchema, Output, stepCountIs } = await import("ai"));
  ({ createOpenAICompatible } = await import("@ai-sdk/openai-compatible"));
  ({ createOpenAI } = await import("@ai-sdk/openai"));
  if (spec.kind === "models") {
    // Not reached: the Go test skips this cell (the AI SDK has no model listing API).
    throw new Error("the AI SDK has no model listing API");
  }
  const opts = { model: aiModel(spec), ...(spec.defaultRetries ? {} : { maxRetries: 0 }) };
  if (spec.system) opts.system = spec.system;
  if (spec.image) {
    opts.messages = [
      {
        role: "user",
        content: [
          { type: "text", text: spec.prompt },
          { type: "file", data: PNG_DATA_URL, mediaType: "image/png" },
        ],
      },
    ];
  } else {
    opts.prompt = spec.prompt;
  }
  if (spec.badRequest) {
    if (client === "ai-compat") {
      // Provider options under the provider's name are passed through into
      // the request body; n=2 cannot be served.
      opts.providerOptions = { local: { n: 2 } };
    } else {
      // @ai-sdk/openai validates its options; "max" is in its enum but no
      // Codex model supports it.
      opts.providerOptions = { openai: { reasoningEffort: "max" } };
    }
  }
  if (spec.tools) {
    opts.tools = {};
    for (const [name, t] of Object.entries(spec.tools)) {
      opts.tools[name] = tool({
        description: t.description,
        inputSchema: jsonSchema(t.schema),
        execute: async () => spec.toolResults[name],
      });
    }
    opts.stopWhen = stepCountIs(2);
  }
  if (spec.schema) opts.output = Output.object({ schema: jsonSchema(spec.schema), name: "person" });

  if (!spec.stream) {
    let r;
    try {
      r = await generateText(opts);
    } finally {
      out.warnings = (r?.warnings ?? []).map((w) => w.feature ?? w.message ?? w.type);
    }
    for (const st of r.steps) {
      out.turns.push({
        content: st.text,
        reasoning: st.reasoningText ?? "",
        finish: st.finishReason,
        raw_finish: st.rawFinishReason ?? null,
        tool_calls: aiToolCalls(st.toolCalls),
        usage: aiUsage(st.usage),
        chunks: 1,
      });
    }
    if (spec.schema) out.object = r.output;
    return;
  }

  const controller = new AbortController();
  opts.abortSignal = controller.signal;
  opts.includeRawChunks = true;
  const s = streamText(opts);
  let turn = null;
  const errors = [];
  for await (const part of s.fullStream) {
    switch (part.type) {
      case "start-step":
        turn = newTurn();
        out.turns.push(turn);
        break;
      case "raw":
        if (turn) turn.chunks++;
        break;
      case "text-delta":
        turn.content += part.text;
        if (spec.abortOnFirstContent && turn.content !== "") {
          out.aborted = true;
          controller.abort();
        }
        break;
      case "reasoning-delta":
        turn.reasoning += part.text;
        break;
      case "tool-call":
        turn.tool_calls.push(...aiToolCalls([part]));
        break;
      case "finish-step":
        turn.finish = part.finishReason;
        turn.raw_finish = part.rawFinishReason ?? null;
        turn.usage = aiUsage(part.usage);
        break;
      case "finish":
        out.finish = part.finishReason;
        break;
      case "error":
        errors.push(errInfo(part.error, "stream"));
        break;
      case "abort":
        out.abort_part = true;
        break;
    }
  }
  if (errors.length) {
    out.error = errors[0];
    out.errors = errors;
  }
}

// ---------------------------------------------------------------- pi-ai ----

function piModel(spec) {
  // A custom provider model as OpenClaw writes it in models.providers.
  return {
    id: spec.model ?? "gpt-5.5",
    name: "ChatGPT (local)",
    api: "openai-completions",
    provider: "chatgpt-local",
    baseUrl: BASE_URL,
    reasoning: true,
    input: ["text", "image"],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 272000,
    maxTokens: 128000,
    // pi-ai offers "xhigh" only when the map names it. A misconfigured map
    // is how an OpenClaw user sends a value the server must refuse.
    thinkingLevelMap: spec.badRequest ? { high: "ultra" } : { xhigh: "xhigh" },
  };
}

async function runPi(spec) {
  ({ streamSimple, isContextOverflow } = await import("@mariozechner/pi-ai"));
  if (spec.kind === "models") throw new Error("pi-ai has no model listing API"); // skipped in Go
  const model = piModel(spec);
  const context = { messages: [] };
  if (spec.system) context.systemPrompt = spec.system;
  const user = spec.image
    ? { role: "user", content: [{ type: "text", text: spec.prompt }, { type: "image", data: PNG_B64, mimeType: "image/png" }], timestamp: Date.now() }
    : { role: "user", content: spec.prompt, timestamp: Date.now() };
  context.messages.push(user);
  if (spec.tools) {
    context.tools = Object.entries(spec.tools).map(([name, t]) => ({ name, description: t.description, parameters: t.schema }));
  }
  const controller = new AbortController();
  const options = {
    apiKey: spec.apiKey ?? API_KEY,
    ...(spec.defaultRetries ? {} : { maxRetries: 0 }),
    signal: controller.signal,
    sessionId: "conformance-session",
    ...(spec.badRequest ? { reasoning: "high" } : {}),
  };
  if (spec.includeUsage === false) {
    // pi-ai asks for usage unless the model's compat says the server cannot.
    model.compat = { supportsUsageInStreaming: false };
  }

  const once = async () => {
    const turn = newTurn();
    out.turns.push(turn);
    const s = streamSimple(model, context, options);
    let final = null;
    for await (const ev of s) {
      turn.chunks++;
      if (ev.type === "text_delta") {
        turn.content += ev.delta;
        if (spec.abortOnFirstContent && turn.content !== "") {
          out.aborted = true;
          controller.abort();
        }
      } else if (ev.type === "thinking_delta") {
        turn.reasoning += ev.delta;
      } else if (ev.type === "done") {
        final = ev.message;
      } else if (ev.type === "error") {
        final = ev.error;
      }
    }
    final ??= await s.result();
    turn.finish = final.stopReason;
    turn.response_id = final.responseId ?? null;
    const u = final.usage;
    if (u && u.totalTokens > 0) turn.usage = { input: u.input + u.cacheRead + u.cacheWrite, output: u.output, total: u.totalTokens };
    turn.tool_calls = final.content
      .filter((b) => b.type === "toolCall")
      .map((b) => ({ id: b.id, name: b.name, args: JSON.stringify(b.arguments) }));
    if (final.stopReason === "error" || final.stopReason === "aborted") {
      out.error ??= { name: "pi-ai " + final.stopReason, status: null, message: final.errorMessage ?? "", stage: "stream" };
      turn.error = final.errorMessage ?? "";
      // What OpenClaw checks to decide to compact the session.
      out.context_overflow = isContextOverflow(final, model.contextWindow);
    }
    return final;
  };
  if (spec.levels) {
    // One request per thinking level; out.levels[i] is the level of turns[i].
    out.levels = [];
    for (const level of spec.levels) {
      options.reasoning = level;
      out.levels.push(level);
      await once();
    }
    return;
  }
  const first = await once();
  if (spec.toolResults && first.stopReason === "toolUse") {
    context.messages.push(first);
    for (const tc of out.turns[0].tool_calls) {
      context.messages.push({
        role: "toolResult",
        toolCallId: tc.id,
        toolName: tc.name,
        content: [{ type: "text", text: spec.toolResults[tc.name] ?? "?" }],
        isError: false,
        timestamp: Date.now(),
      });
    }
    await once();
  }
}

// ----------------------------------------------------------------- main ----

const RUNNERS = { openai: runOpenAI, "openai-helpers": runOpenAIHelpers, "ai-compat": runAI, "ai-openai": runAI, "pi-ai": runPi };

const spec = SCENARIOS[scenario];
const runner = RUNNERS[client];
if (!spec || !runner || !BASE_URL || !API_KEY) {
  process.stderr.write(`usage: BASE_URL=… API_KEY=… node run.mjs <${Object.keys(RUNNERS).join("|")}> <${Object.keys(SCENARIOS).join("|")}>\n`);
  process.exit(2);
}
try {
  await runner(spec);
} catch (e) {
  out.error = errInfo(e, "call");
}
process.stdout.write(JSON.stringify(out) + "\n");
if (spec.abortOnFirstContent) {
  // Stay alive (connections and all) until the Go test closes stdin.
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on("end", resolve).on("close", resolve));
}
process.exit(0);
