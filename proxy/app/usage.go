package app

import (
	"fmt"
	"io"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/config"
)

// Usage writes the command-line help, with every setting.
func Usage(w io.Writer, version string) {
	fmt.Fprintf(w, `chatgpt-to-api %s: your ChatGPT subscription as an OpenAI-compatible API on this machine.

Usage:
  chatgpt-to-api [--headless]        run (in the tray when there is one)
  chatgpt-to-api login [--device]    sign in with your ChatGPT account (browser or device code)
  chatgpt-to-api set-session-token   store a chatgpt.com session token read from standard input
  chatgpt-to-api import-codex        copy the Codex CLI's login (~/.codex/auth.json) once
  chatgpt-to-api status              account, plan, expiry and where secrets are kept
  chatgpt-to-api api-key             print the local API key clients must send
  chatgpt-to-api logout              forget the stored credentials
  chatgpt-to-api --version

Settings come from the environment, then ./.env, then the .env in the app's
config folder:

`, version)
	config.WriteHelp(w)
}
