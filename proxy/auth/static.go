package auth

import (
	"context"
	"time"
)

// Static is a Source for a fixed access token (CHATGPT_ACCESS_TOKEN). It
// cannot refresh: once the token expires or is rejected the person must
// provide a new one.
type Static struct {
	creds Credentials
	now   func() time.Time
}

// NewStatic returns a Static source for token. The account id comes from
// accountID when given, otherwise from the token's claim.
func NewStatic(token, accountID string) *Static {
	c := Credentials{AccessToken: token, AccountID: accountID, Kind: "access_token"}
	if claims, err := ParseJWT(token); err == nil {
		if c.AccountID == "" {
			c.AccountID = claims.AccountID
		}
		c.ExpiresAt = claims.ExpiresAt
		c.Email = claims.Email
		c.Plan = claims.Plan
	}
	return &Static{creds: c, now: time.Now}
}

// Credentials returns the token unless it is empty or expired.
func (s *Static) Credentials(ctx context.Context) (Credentials, error) {
	if s.creds.AccessToken == "" {
		return Credentials{}, &Error{Kind: KindSignedOut, Message: "not signed in: set CHATGPT_ACCESS_TOKEN or sign in"}
	}
	if !s.creds.ExpiresAt.IsZero() && !s.now().Before(s.creds.ExpiresAt) {
		return Credentials{}, &Error{Kind: KindSignInRequired, Message: "the ChatGPT access token expired at " + s.creds.ExpiresAt.UTC().Format(time.RFC3339) + "; set a new CHATGPT_ACCESS_TOKEN or sign in again"}
	}
	return s.creds, nil
}

// Refresh always fails: a static token cannot be renewed.
func (s *Static) Refresh(ctx context.Context, rejected string) (Credentials, error) {
	return Credentials{}, &Error{Kind: KindSignInRequired, Message: "ChatGPT rejected the access token; set a new CHATGPT_ACCESS_TOKEN or sign in again"}
}
