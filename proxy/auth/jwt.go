package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are the parts of a ChatGPT access or id token the app uses. The
// signature is not verified: the token is only ever sent back to the issuer.
type Claims struct {
	ExpiresAt time.Time
	IssuedAt  time.Time
	Email     string
	AccountID string
	Plan      string
	UserID    string
	ClientID  string
}

type rawClaims struct {
	Exp      json.Number `json:"exp"`
	Iat      json.Number `json:"iat"`
	Email    string      `json:"email"`
	ClientID string      `json:"client_id"`
	Profile  struct {
		Email string `json:"email"`
	} `json:"https://api.openai.com/profile"`
	Auth struct {
		AccountID string `json:"chatgpt_account_id"`
		Plan      string `json:"chatgpt_plan_type"`
		UserID    string `json:"chatgpt_user_id"`
	} `json:"https://api.openai.com/auth"`
}

// ParseJWT decodes the payload of a JWT without verifying it.
func ParseJWT(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("not a jwt")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("jwt payload is not base64url")
	}
	var rc rawClaims
	if err := json.Unmarshal(payload, &rc); err != nil {
		return Claims{}, errors.New("jwt payload is not json")
	}
	c := Claims{
		Email:     rc.Email,
		AccountID: rc.Auth.AccountID,
		Plan:      rc.Auth.Plan,
		UserID:    rc.Auth.UserID,
		ClientID:  rc.ClientID,
	}
	if c.Email == "" {
		c.Email = rc.Profile.Email
	}
	if f, err := rc.Exp.Float64(); err == nil && f > 0 {
		c.ExpiresAt = time.Unix(int64(f), 0)
	}
	if f, err := rc.Iat.Float64(); err == nil && f > 0 {
		c.IssuedAt = time.Unix(int64(f), 0)
	}
	return c, nil
}

// Fingerprint returns a short, stable hash of a secret for logs: enough to
// tell two tokens apart, useless to anyone who reads the log.
func Fingerprint(secret string) string {
	if secret == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}
