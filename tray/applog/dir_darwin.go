package applog

import (
	"fmt"
	"os"
	"path/filepath"
)

// dir is ~/Library/Logs/ChatGPT-to-API, where Console.app looks.
func dir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home folder: %w", err)
	}
	return filepath.Join(home, "Library", "Logs", "ChatGPT-to-API"), nil
}
