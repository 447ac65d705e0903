package creds

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/auth"
	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/upstream"
)

// DeviceCode is a pending device-code sign-in: the person opens
// VerificationURL on any device and types UserCode.
type DeviceCode struct {
	DeviceAuthID    string
	UserCode        string
	VerificationURL string
	Interval        time.Duration
}

// deviceTimeout is how long the issuer keeps a device code open.
const deviceTimeout = 15 * time.Minute

// StartDevice asks the issuer for a user code.
func (o *OAuth) StartDevice(ctx context.Context) (DeviceCode, error) {
	issuer := strings.TrimRight(o.Issuer, "/")
	body, _ := json.Marshal(map[string]string{"client_id": CodexClientID})
	header := [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/json"}}
	resp, err := o.HTTP.Do(ctx, upstream.RouteAuth, http.MethodPost, issuer+"/api/accounts/deviceauth/usercode", header, body)
	if err != nil {
		return DeviceCode{}, &auth.Error{Kind: auth.KindTransient, Message: "could not reach the sign-in server " + hostOf(issuer), Err: err}
	}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
		return DeviceCode{}, &auth.Error{Kind: auth.KindSignInRequired, Message: fmt.Sprintf("the sign-in server refused a device code (HTTP %d); device-code sign-in may have to be enabled in ChatGPT's security settings, or use `chatgpt-to-api login` in a browser", resp.StatusCode)}
	}
	if resp.StatusCode != http.StatusOK {
		return DeviceCode{}, &auth.Error{Kind: auth.KindTransient, Message: fmt.Sprintf("asking for a device code failed with HTTP %d", resp.StatusCode)}
	}
	var v struct {
		DeviceAuthID string          `json:"device_auth_id"`
		UserCode     string          `json:"user_code"`
		UserCodeAlt  string          `json:"usercode"`
		Interval     json.RawMessage `json:"interval"`
	}
	if err := json.Unmarshal(resp.Body, &v); err != nil || v.DeviceAuthID == "" {
		return DeviceCode{}, &auth.Error{Kind: auth.KindTransient, Message: "the device-code answer is incomplete"}
	}
	if v.UserCode == "" {
		v.UserCode = v.UserCodeAlt
	}
	return DeviceCode{
		DeviceAuthID:    v.DeviceAuthID,
		UserCode:        v.UserCode,
		VerificationURL: issuer + "/codex/device",
		Interval:        parseInterval(v.Interval),
	}, nil
}

// parseInterval reads a polling interval given as a number or a string of
// seconds; it defaults to 5 s.
func parseInterval(raw json.RawMessage) time.Duration {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return 5 * time.Second
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 5 * time.Second
	}
	// A zero or tiny interval would poll the issuer without pause.
	return max(time.Duration(f*float64(time.Second)), minDevicePoll)
}

// minDevicePoll is the shortest wait between two device-code polls.
const minDevicePoll = 250 * time.Millisecond

// WaitDevice polls until the person entered the code, then exchanges the
// authorization code. It gives up after 15 minutes or when ctx ends.
func (o *OAuth) WaitDevice(ctx context.Context, dc DeviceCode) (Tokens, error) {
	issuer := strings.TrimRight(o.Issuer, "/")
	sleep := o.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	deadline := o.now().Add(deviceTimeout)
	body, _ := json.Marshal(map[string]string{"device_auth_id": dc.DeviceAuthID, "user_code": dc.UserCode})
	header := [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/json"}}
	for {
		resp, err := o.HTTP.Do(ctx, upstream.RouteAuth, http.MethodPost, issuer+"/api/accounts/deviceauth/token", header, body)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return Tokens{}, signInEnded(ctx)
			}
			o.log().Warn("device sign-in poll failed; retrying", "err", err)
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
			// Still pending.
		case resp.StatusCode == http.StatusOK:
			var v struct {
				AuthorizationCode string `json:"authorization_code"`
				CodeVerifier      string `json:"code_verifier"`
			}
			if err := json.Unmarshal(resp.Body, &v); err != nil || v.AuthorizationCode == "" || v.CodeVerifier == "" {
				return Tokens{}, &auth.Error{Kind: auth.KindTransient, Message: "the device sign-in answer is incomplete"}
			}
			return o.exchangeCode(ctx, v.AuthorizationCode, issuer+"/deviceauth/callback", v.CodeVerifier)
		default:
			return Tokens{}, &auth.Error{Kind: auth.KindSignInRequired, Message: fmt.Sprintf("the device sign-in failed with HTTP %d", resp.StatusCode)}
		}
		if !o.now().Before(deadline) {
			return Tokens{}, fmt.Errorf("%w: the device code expired before it was entered; run `chatgpt-to-api login --device` again", auth.ErrSignInTimedOut)
		}
		if err := sleep(ctx, max(dc.Interval, 0)); err != nil {
			if ctx.Err() != nil {
				return Tokens{}, signInEnded(ctx)
			}
			return Tokens{}, fmt.Errorf("waiting for the device sign-in: %w", err)
		}
	}
}
