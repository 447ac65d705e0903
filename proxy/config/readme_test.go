package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEDocumentsEverySetting keeps the README's configuration table in
// step with the settings the app reads.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		if !strings.Contains(string(b), "`"+s.Name+"`") {
			t.Errorf("README.md does not document %s", s.Name)
		}
	}
}

// MarkdownTable renders the settings as the README's table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | What it does |\n|---|---|---|\n")
	for _, s := range Settings {
		def := s.Default
		if def == "" {
			def = "–"
		} else {
			def = "`" + def + "`"
		}
		b.WriteString("| `" + s.Name + "` | " + def + " | " + strings.ReplaceAll(s.Help, "|", "\\|") + " |\n")
	}
	return b.String()
}

func TestPrintTable(t *testing.T) {
	if os.Getenv("PRINT_CONFIG_TABLE") != "" {
		os.WriteFile(os.Getenv("PRINT_CONFIG_TABLE"), []byte(MarkdownTable()), 0o644)
	}
}
