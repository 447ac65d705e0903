//go:build !darwin

package applog

import (
	"fmt"
	"os"
	"path/filepath"
)

// dir is os.UserCacheDir()/chatgpt-to-api/logs.
func dir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache folder: %w", err)
	}
	return filepath.Join(cache, "chatgpt-to-api", "logs"), nil
}
