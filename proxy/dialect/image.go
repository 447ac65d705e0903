package dialect

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// ImageURL checks an image URL: http(s), or a base64 data URL (cleaned to
// the standard alphabet with padding).
func ImageURL(s string) (string, error) {
	if strings.HasPrefix(s, "data:") {
		meta, data, ok := strings.Cut(s[len("data:"):], ",")
		if !ok || !strings.HasSuffix(meta, ";base64") || !strings.HasPrefix(meta, "image/") {
			return "", errors.New("a data URL must look like data:image/png;base64,…")
		}
		data, err := CleanBase64(data)
		if err != nil {
			return "", errors.New("the image data URL is not valid base64")
		}
		return "data:" + meta + "," + data, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("image_url must be an http(s) URL or a base64 data URL")
	}
	return s, nil
}

// CleanBase64 turns URL-safe, unpadded or wrapped base64 into the standard
// padded alphabet, and checks that it decodes.
func CleanBase64(data string) (string, error) {
	data = strings.Map(func(r rune) rune {
		switch r {
		case '-':
			return '+'
		case '_':
			return '/'
		case '\n', '\r', ' ', '\t':
			return -1
		}
		return r
	}, data)
	data = strings.TrimRight(data, "=")
	if _, err := base64.RawStdEncoding.DecodeString(data); err != nil {
		return "", err
	}
	if pad := len(data) % 4; pad != 0 {
		data += strings.Repeat("=", 4-pad)
	}
	return data, nil
}
