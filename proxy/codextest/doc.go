// Package codextest is a faithful fake of ChatGPT's Codex backend
// (POST {base}/codex/responses and GET {base}/codex/models), written from
// the protocol as docs/protocol.md describes it. End-to-end tests point the
// proxy's ChatGPT base URL at Server.BaseURL; cmd/fakecodex runs it by hand.
//
// # Routes
//
//   - POST /backend-api/codex/responses: validated like the real backend,
//     then answered by the next queued Behavior (Enqueue) or, when the queue
//     is empty, by the responder (DefaultResponder unless replaced).
//   - GET /backend-api/codex/models?client_version=V: {"models":[…]} filtered
//     by minimal_client_version, with an ETag (If-None-Match gives 304).
//     A missing client_version gives 400 with the FastAPI "Field required"
//     detail list.
//   - GET /backend-api/wham/usage: quota from the RateLimits state (not
//     recorded).
//   - Anything else under /backend-api/codex/ is 404 {"detail":"Not Found"}.
//
// Further routes (auth endpoints) can be added with Server.Handle. Every
// request under /backend-api/codex/ is recorded (Requests, LastRequest),
// including rejected ones, with the status the fake answered and the
// rejection message.
//
// # Authentication
//
// Every /codex/* request needs "Authorization: Bearer <token>" and a
// ChatGPT-Account-ID header. Any non-empty token and account id are
// accepted unless RequireTokens / RequireAccountID install checks. A missing
// or refused credential gives 401 {"detail":"Unauthorized"}; a missing
// ChatGPT-Account-ID is also answered that way (the backend cannot pick a
// workspace; a proxy is expected to treat it like any 401), and Recorded.
// Rejection tells the cases apart ("missing Authorization header",
// "invalid access token", "missing ChatGPT-Account-ID header", …).
// Authentication is checked before the body is validated.
//
// # Validation of /codex/responses
//
// Checks run in this order and the first failure answers 400 (see
// request.go for the exact texts):
//
//   - stream missing or not true: {"detail":"Stream must be set to true"};
//   - store missing or not false: {"detail":"Store must be set to false"};
//   - instructions missing or not a string:
//     {"detail":"Instructions are required"} ("" is accepted; not required
//     with the Responses-Lite header);
//   - any key of UnsupportedParameters present, even null:
//     {"detail":"Unsupported parameter: <name>"};
//   - model missing, unknown or retired (gpt-5.2, gpt-5.3-codex):
//     {"detail":"The '<slug>' model is not supported when using Codex with a
//     ChatGPT account."};
//   - the shape (lite.go): the x-openai-internal-codex-responses-lite
//     marker on a model without use_responses_lite is an unsupported_value
//     error ("This model is not supported when using
//     X-OpenAI-Internal-Codex-Responses-Lite."); a classic body for a
//     LiteOnly model (the Luna ones) is 404 "Model not found <slug>"; a lite
//     body needs reasoning.context "all_turns", no parallel tool calls, no
//     top-level instructions or tools, and only function, custom and
//     tool-search tools in its additional_tools item; tool calls in the
//     history must name the namespace their tool is declared in and no
//     undeclared one;
//   - client version below the model's minimal_client_version:
//     {"detail":"The '<slug>' model requires a newer version of Codex. Please
//     upgrade to the latest app or CLI and try again."}. The version is the
//     "version" header, else the one in a Codex-shaped User-Agent
//     ("codex_cli_rs/0.155.0 (…)"); without either it counts as 0.0.0, so
//     every model is refused;
//   - reasoning.effort not in supported_reasoning_levels: the OpenAI-style
//     unsupported_value error ("Unsupported value: 'none' is not supported
//     with the 'gpt-5.4' model. Supported values are: 'low', 'medium',
//     'high', and 'xhigh'.", param reasoning.effort); a reasoning.summary
//     outside auto/concise/detailed/none is an invalid_value error;
//   - text.verbosity sent to a model without support_verbosity:
//     unsupported_parameter error with param text.verbosity;
//   - text.format json_schema without name or schema;
//   - service_tier not in the model's service_tiers (auto/default always ok);
//   - tools: each needs a known type; function tools need a top-level name,
//     so the Chat Completions shape {"type":"function","function":{…}} gives
//     "Missing required parameter: 'tools[0].name'."; custom tools take no
//     parameters/strict (nor a nested custom object), and their format is
//     {"type":"text"} or {"type":"grammar","syntax":"lark"|"regex",
//     "definition":…};
//   - input (array, or a plain string taken as one user message): unknown
//     item types; messages without role or content; role "system" (only
//     user, assistant, developer are accepted); content part types not
//     allowed for the role (user/developer: input_text, input_image,
//     input_file; assistant: output_text, refusal); function_call without
//     call_id or name or with non-string arguments (custom_tool_call: a
//     string input); function_call_output without call_id, or whose call_id
//     has no earlier function_call in input ("No tool call found for
//     function call output with call_id X."; a custom_tool_call_output
//     needs an earlier custom_tool_call);
//     reasoning items without a summary array; reasoning items with an id
//     but no encrypted_content, and
//     item_reference items ("Item with id '<id>' not found. Items are not
//     persisted when `store` is set to false."); input_image data URLs that
//     are not valid base64 ("The image data you provided does not represent
//     a valid image…"); non-image data URL MIME types. https and http image
//     URLs are accepted without fetching, and the decoded image bytes are
//     not inspected.
//
// Bodies sent with Content-Encoding: zstd are decompressed first. A body
// that is not a JSON object is answered 400 {"detail":"Request body must be
// a JSON object"}.
//
// # Response headers
//
// Every /codex/* answer carries x-request-id / x-oai-request-id, cf-ray,
// x-models-etag (SetModelsETag), x-codex-turn-state (echoed when the request
// sent one) and the x-codex-* rate-limit family from RateLimits: plan type,
// active limit, primary (5 h) and secondary (weekly) used-percent,
// window-minutes, reset-after-seconds and reset-at, and the credits headers.
// Streams also carry openai-model and content-type text/event-stream. Every
// SSE event is an "event: <type>" line plus a "data: {json}" line whose
// JSON starts with "type" and "sequence_number" (0, 1, 2, … per stream).
//
// # Default responder conventions
//
// DefaultResponder is deterministic. It always streams response.created and
// response.in_progress, then:
//
//   - a reasoning item when the request has a "reasoning" object; it has two
//     summary parts ("**Reading the request**…", "**Planning the answer**…")
//     when reasoning.summary is set and not "none", and encrypted_content
//     only when include lists "reasoning.encrypted_content";
//   - if the input ends with function_call_output items: one message
//     "tool said: <output>" (one line per trailing output; array outputs
//     are their text parts joined by "\n");
//   - else if the last user message text (or its last text part: clients
//     such as Claude Code put reminders in parts before the prompt) is
//     "call:<name> <json args>" and
//     <name> is a function tool of the request as the backend sees it (the
//     app's upstream name: a client's dotted name such as fs.read_file
//     arrives renamed, fs_read_file_<hash>): that function_call (args
//     default to "{}"); "call-parallel:a,b <json args>" emits one call per
//     listed tool present in tools (same args); when <name> is a custom
//     tool of the request, the call is a custom_tool_call whose input is the
//     raw text after the name (one space dropped; nothing else trimmed). When
//     the whole text of the last user message is no directive, its last text
//     part may be (Claude Code sends reminders in earlier parts);
//   - else if text.format is json_schema: a message whose text is the JSON
//     built by SampleJSON from the schema ("x", 1, true, [], first enum…);
//     json_object gives {"echo":"<text>"};
//   - else a message "echo: <last user text>", followed by
//     "\nimage received: <n>" when the input holds n input_image parts.
//
// Messages have phase "final_answer". The stream ends with
// response.completed whose output is empty (as on the real backend) and
// whose usage is estimated: input_tokens is a quarter of the body size, and
// cached_tokens is the previous input_tokens for the same
// prompt_cache_key rounded down to a multiple of 64.
//
// # Scripting
//
// Enqueue takes one-shot behaviours consumed by the next accepted
// /codex/responses requests (rejected requests do not consume them): Reply
// with items Text, Commentary, Reasoning, Call, CallID, CustomCall and
// CustomCallID (and
// WithUsage/WithCompletedOutput/WithModel/WithHeader), Fail, ErrorEvent,
// FailAfterText, Cut, CutAbruptly, Incomplete, Stall, UsageLimit,
// UsageNotIncluded, RateLimitedStream, Status, Unauthorized, Overloaded and
// CloudflareBlock. A custom Behavior can drive a Stream directly.
package codextest
