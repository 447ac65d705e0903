package tray

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Autostart reads and writes whether the application starts at login.
type Autostart interface {
	Enabled() (bool, error)
	SetEnabled(on bool) error
}

// AutostartSpec describes the program to start at login.
type AutostartSpec struct {
	// ID names the entry: the .desktop file on Linux
	// (chatgpt-to-api.desktop) and the Run value on Windows.
	ID string
	// BundleID labels the macOS LaunchAgent and names its plist, such as
	// com.example.chatgpt-to-api.
	BundleID string
	// Name is the human-readable name, such as "ChatGPT-to-API".
	Name string
	// Comment describes the program in the Linux desktop entry.
	Comment string
	// Exe is the program to start; empty means the running executable
	// (on Linux, $APPIMAGE when set).
	Exe string
	// Args are passed to the program.
	Args []string
}

// NewAutostart returns this OS's autostart for spec: an XDG autostart
// desktop entry on Linux, a LaunchAgent on macOS and the HKCU Run key on
// Windows.
func NewAutostart(spec AutostartSpec) Autostart { return newAutostart(spec) }

// executable returns spec.Exe or the running executable's resolved path.
func (spec AutostartSpec) executable() (string, error) {
	if spec.Exe != "" {
		return spec.Exe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return exe, nil
}

// desktopEntry returns an XDG autostart desktop entry that runs exe.
func desktopEntry(spec AutostartSpec, exe string) string {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	fmt.Fprintf(&b, "Name=%s\n", desktopValue(spec.Name))
	if spec.Comment != "" {
		fmt.Fprintf(&b, "Comment=%s\n", desktopValue(spec.Comment))
	}
	args := []string{desktopArg(exe)}
	for _, a := range spec.Args {
		args = append(args, desktopArg(a))
	}
	fmt.Fprintf(&b, "Exec=%s\n", desktopValue(strings.Join(args, " ")))
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.String()
}

// desktopArg quotes one Exec argument as the Desktop Entry Specification
// asks: reserved characters need double quotes, inside which ", `, $ and \
// are escaped with a backslash, and % is doubled.
func desktopArg(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if s != "" && !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`=") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if strings.ContainsRune("\"`$\\", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// desktopValue escapes a string value for a desktop entry: backslashes are
// doubled (after Exec quoting, per the spec's two levels) and line breaks
// written as escapes.
func desktopValue(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\t", "\\t", "\r", "\\r")
	return r.Replace(s)
}

// launchAgentPlist returns a LaunchAgent property list that starts exe at
// login. Every string is XML-escaped.
func launchAgentPlist(spec AutostartSpec, exe string) string {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + esc(spec.BundleID) + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range append([]string{exe}, spec.Args...) {
		b.WriteString("\t\t<string>" + esc(a) + "</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`)
	return b.String()
}

// windowsRunValue returns the Run key's command line: the quoted program
// followed by its arguments, quoted when they contain spaces.
func windowsRunValue(exe string, args []string) string {
	parts := []string{`"` + exe + `"`}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, creating the directory when needed.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("creating a temporary file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("setting the mode of %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}
