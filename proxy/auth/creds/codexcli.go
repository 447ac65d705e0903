package creds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ShareWarning is shown whenever a Codex CLI login is imported.
const ShareWarning = "Warning: the Codex CLI and this app now share one sign-in. OAuth refresh tokens are single-use: whichever program refreshes first logs the other one out (\"refresh token was already used\"). To avoid that, sign in separately with `chatgpt-to-api login`."

// CodexAuthPath returns $CODEX_HOME/auth.json, codexHome/auth.json when
// codexHome is set, or ~/.codex/auth.json.
func CodexAuthPath(codexHome string) (string, error) {
	if codexHome == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the home folder: %w", err)
		}
		codexHome = filepath.Join(home, ".codex")
	}
	return filepath.Join(codexHome, "auth.json"), nil
}

// ReadCodexAuth reads the Codex CLI's auth.json in codexHome (see
// CodexAuthPath). It only reads: the app never writes the CLI's file.
func ReadCodexAuth(codexHome string) (Tokens, string, error) {
	path, err := CodexAuthPath(codexHome)
	if err != nil {
		return Tokens{}, "", err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Tokens{}, path, fmt.Errorf("%s does not exist: sign in with `codex login` first, or the Codex CLI keeps its login in the OS keyring (cli_auth_credentials_store), which cannot be imported; use `chatgpt-to-api login` instead", path)
	}
	if err != nil {
		return Tokens{}, path, fmt.Errorf("reading %s: %w", path, err)
	}
	var v struct {
		AuthMode string `json:"auth_mode"`
		Tokens   *struct {
			IDToken      string `json:"id_token"`
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			AccountID    string `json:"account_id"`
		} `json:"tokens"`
		LastRefresh string `json:"last_refresh"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return Tokens{}, path, fmt.Errorf("%s is not valid JSON", path)
	}
	if strings.EqualFold(v.AuthMode, "apikey") || v.Tokens == nil {
		return Tokens{}, path, fmt.Errorf("%s holds no ChatGPT sign-in (the Codex CLI uses an API key); use `chatgpt-to-api login` instead", path)
	}
	if v.Tokens.RefreshToken == "" && v.Tokens.AccessToken == "" {
		return Tokens{}, path, fmt.Errorf("%s holds no tokens", path)
	}
	t := Tokens{
		IDToken:      v.Tokens.IDToken,
		AccessToken:  v.Tokens.AccessToken,
		RefreshToken: v.Tokens.RefreshToken,
		AccountID:    v.Tokens.AccountID,
		Imported:     "codex-cli",
	}
	if ts, err := time.Parse(time.RFC3339Nano, v.LastRefresh); err == nil {
		t.LastRefresh = ts
	}
	if t.AccountID == "" {
		t.AccountID = t.Credentials().AccountID
	}
	return t, path, nil
}
