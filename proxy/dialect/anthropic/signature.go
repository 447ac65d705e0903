package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// sigPrefix marks the thinking signatures this app writes. A signature
// carries the backend's reasoning item (its id and encrypted_content), so
// that a client replaying its history replays the model's reasoning too.
// Signatures without the prefix (Anthropic's own, another proxy's) mean
// nothing to the backend and are dropped, never sent upstream.
const sigPrefix = "c2a1."

type sigBody struct {
	ID  string `json:"id,omitempty"`
	Enc string `json:"enc"`
}

// Signature encodes a reasoning item's id and encrypted content.
func Signature(id, encrypted string) string {
	b, _ := json.Marshal(sigBody{ID: id, Enc: encrypted})
	return sigPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseSignature decodes a signature written by Signature. ok is false for
// anything else.
func ParseSignature(s string) (id, encrypted string, ok bool) {
	rest, found := strings.CutPrefix(s, sigPrefix)
	if !found {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", false
	}
	var b sigBody
	if json.Unmarshal(raw, &b) != nil || b.Enc == "" {
		return "", "", false
	}
	return b.ID, b.Enc, true
}
