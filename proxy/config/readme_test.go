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

// TestREADMEShellBlocksRunAsWritten checks the README's shell examples for
// two mistakes a new user meets: a variable used before the block defines
// it, and a file read with $(cat …) before the command that writes it in
// the background has had time to (a cold `go run` compiles first).
func TestREADMEShellBlocksRunAsWritten(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "```sh\n")
	for _, p := range parts[1:] {
		block, _, _ := strings.Cut(p, "```")
		if i := strings.Index(block, "$KEY"); i >= 0 && !strings.Contains(block[:i], "KEY=") {
			t.Errorf("a README block uses $KEY without defining it:\n%s", block)
		}
		for _, line := range strings.Split(block, "\n") {
			_, after, ok := strings.Cut(line, "-session-out ")
			if !ok || !strings.HasSuffix(strings.TrimSpace(line), "&") {
				continue
			}
			file := strings.Fields(after)[0]
			read := strings.Index(block, "$(cat "+file+")")
			wait := strings.Index(block, "[ -s "+file+" ]")
			if read >= 0 && (wait < 0 || wait > read) {
				t.Errorf("a README block reads %s before waiting for the background command to write it:\n%s", file, block)
			}
		}
	}
}
