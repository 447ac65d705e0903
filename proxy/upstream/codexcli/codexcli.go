// Package codexcli names the Codex CLI release the app imitates on the
// wire. It is the one place to change for the next CLI release (together
// with new reference captures in proxy/upstream/testdata).
package codexcli

const (
	// Version is the imitated Codex CLI release: the version header, the
	// User-Agent and /models?client_version=.
	Version = "0.171.0"
	// Originator is what `codex exec` sends as originator on its turns.
	Originator = "codex_exec"
	// LoginOriginator is the originator of `codex login` and the CLI's
	// bootstrap calls.
	LoginOriginator = "codex_cli_rs"
	// BetaFeatures is the x-codex-beta-features value of a default install.
	BetaFeatures = "remote_compaction_v2"
	// AcceptEncoding is what reqwest with zstd and gzip decoding announces
	// on every REST request (new in 0.171).
	AcceptEncoding = "zstd,gzip"
)
