package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInfoPlistTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "darwin", "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rendered := strings.NewReplacer("@VERSION@", "1.2.3", "@BUILD@", "1.2.3").Replace(string(raw))
	p := filepath.Join(dir, "Info.plist")
	if err := os.WriteFile(p, []byte(rendered), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmdPlist([]string{p}); err != nil {
		t.Fatal(err)
	}
	// The unrendered template must be rejected.
	if err := cmdPlist([]string{filepath.Join("..", "..", "darwin", "Info.plist")}); err == nil {
		t.Fatal("template with placeholders accepted")
	}
	// LSUIElement false must be rejected.
	bad := filepath.Join(dir, "bad.plist")
	if err := os.WriteFile(bad, []byte(strings.Replace(rendered, "<key>LSUIElement</key>\n\t<true/>", "<key>LSUIElement</key>\n\t<false/>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmdPlist([]string{bad}); err == nil {
		t.Fatal("LSUIElement false accepted")
	}
}
