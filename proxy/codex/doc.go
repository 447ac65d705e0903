// Package codex is the typed model of the upstream protocol: the body of
// POST {base}/codex/responses (a Responses-API request that always streams
// and never stores), its input items, content parts and tools, and the
// server-sent events that come back. Every dialect translates into and out
// of these types; nothing else in the request path builds upstream JSON.
//
// docs/protocol.md describes, in prose, what the code relies on about the
// backend.
package codex
