// Package bench holds the end-to-end relay benchmarks: the real server over
// loopback in front of the project's fake Codex backend (proxy/codextest),
// side by side with a bare Go byte relay and with calling the fake
// directly, so that benchstat can compare them in one run. See
// docs/benchmarks.md for the command and the numbers.
package bench
