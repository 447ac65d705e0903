// Package auth is the credentials seam of the proxy core: the core asks a
// Source for a valid access token and account id, and tells it when the
// backend rejected one.
//
// The app's Source is creds.Manager (proxy/auth/creds), which covers the
// web session token, the Codex sign-in, device code, an imported Codex CLI
// login and a plain access token; Static serves a fixed token on its own.
package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Credentials are what an upstream request needs. AccessToken is a secret:
// never log it (use Fingerprint).
type Credentials struct {
	AccessToken string
	AccountID   string
	ExpiresAt   time.Time // zero when unknown
	Email       string
	Plan        string
	Kind        string // "access_token", "session_token", "codex_oauth"
}

// Source produces credentials. Implementations are safe for concurrent use
// and single-flight their refreshes.
type Source interface {
	// Credentials returns usable credentials, refreshing them first when
	// they are about to expire.
	Credentials(ctx context.Context) (Credentials, error)
	// Refresh is called after the backend answered 401 to rejected (an
	// access token). It returns new credentials to retry with once, or an
	// error (typically an *Error of kind KindSignInRequired).
	Refresh(ctx context.Context, rejected string) (Credentials, error)
}

// Kind classifies a credentials failure.
type Kind string

// The failure kinds. Each maps to a sign-in state and a client-facing message.
const (
	KindSignedOut      Kind = "signed_out"       // nothing configured
	KindSignInRequired Kind = "sign_in_required" // rejected or expired for good
	KindBlocked        Kind = "blocked"          // Cloudflare challenge or edge block
	KindTransient      Kind = "transient"        // network, 5xx, keychain timeout
)

// Error is a credentials failure with a message that tells the person what
// to do. It never contains a secret.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or KindTransient for foreign errors.
func KindOf(err error) Kind {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Kind
	}
	return KindTransient
}
