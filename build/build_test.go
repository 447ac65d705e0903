// Package build_test runs the packaging checks (build/check.sh) and the
// Windows smoke test under wine (build/windows/smoke-wine.sh) as part of
// the test suite, so CI exercises the release artifacts on every run.
package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// need skips the test when a tool is missing, except in CI, where every
// check must run.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing; .ci/run must install it", tool)
			}
			t.Skipf("%s is not installed (CI installs it)", tool)
		}
	}
}

func runScript(t *testing.T, script string, args []string, env ...string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", script, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("%s: %s", script, lines[len(lines)-1])
}

// TestPackages builds the Windows zips and Linux tarballs and checks them:
// GUI-subsystem PE with icon, manifest and version resources; a valid
// desktop entry and icons; install.sh into a temporary HOME; the installed
// binary serving /v1/models headless; darwin compiling with the tray stub.
func TestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("packaging checks take a minute or more")
	}
	need(t, "bash", "file", "unzip", "desktop-file-validate", "tar")
	dist := t.TempDir()
	runScript(t, "check.sh", nil, "DIST="+dist)
	zips, _ := filepath.Glob(filepath.Join(dist, "*_windows_amd64.zip"))
	if len(zips) == 0 {
		t.Fatal("no Windows zip was produced")
	}
	t.Run("wine_smoke", func(t *testing.T) {
		need(t, "wine", "x86_64-w64-mingw32-gcc")
		exe := filepath.Join(t.TempDir(), "ChatGPT-to-API.exe")
		out, err := exec.Command("unzip", "-p", zips[0], "ChatGPT-to-API.exe").Output()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, out, 0o755); err != nil {
			t.Fatal(err)
		}
		runScript(t, "windows/smoke-wine.sh", []string{exe}, "SMOKE_WINE_NO_INSTALL=1")
	})
}
