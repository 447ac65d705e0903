package tray

import (
	"encoding/xml"
	"strings"
	"testing"
)

var spec = AutostartSpec{
	ID:       "chatgpt-to-api",
	BundleID: "com.example.chatgpt-to-api",
	Name:     "ChatGPT-to-API",
	Comment:  "OpenAI-compatible API for your ChatGPT subscription",
	Args:     []string{"--minimized"},
}

func TestDesktopEntry(t *testing.T) {
	t.Parallel()
	got := desktopEntry(spec, "/opt/My Apps/chatgpt-to-api")
	want := `[Desktop Entry]
Type=Application
Name=ChatGPT-to-API
Comment=OpenAI-compatible API for your ChatGPT subscription
Exec="/opt/My Apps/chatgpt-to-api" --minimized
Terminal=false
X-GNOME-Autostart-enabled=true
`
	if got != want {
		t.Errorf("desktop entry:\n%s\nwant:\n%s", got, want)
	}
}

func TestDesktopArg(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/usr/bin/app":         "/usr/bin/app",
		"/home/ann/My Apps/a":  `"/home/ann/My Apps/a"`,
		`/tmp/$x"y`:            `"/tmp/\$x\"y"`,
		"/tmp/100%":            "/tmp/100%%",
		"":                     `""`,
		"/a/b`c`":              "\"/a/b\\`c\\`\"",
		`C:\odd\path with tab`: `"C:\\odd\\path with tab"`,
	}
	for in, want := range tests {
		if got := desktopArg(in); got != want {
			t.Errorf("desktopArg(%q) = %s, want %s", in, got, want)
		}
	}
	// In the file, backslashes are escaped once more.
	if got := desktopValue(desktopArg(`/a\b c`)); got != `"/a\\\\b c"` {
		t.Errorf("Exec value = %s", got)
	}
}

func TestLaunchAgentPlist(t *testing.T) {
	t.Parallel()
	s := spec
	s.BundleID = "com.example.<a&b>"
	got := launchAgentPlist(s, "/Applications/ChatGPT & API.app/Contents/MacOS/chatgpt-to-api")
	for _, want := range []string{
		"<string>com.example.&lt;a&amp;b&gt;</string>",
		"<string>/Applications/ChatGPT &amp; API.app/Contents/MacOS/chatgpt-to-api</string>",
		"<string>--minimized</string>",
		"<key>RunAtLoad</key>\n\t<true/>",
		"<key>ProcessType</key>\n\t<string>Interactive</string>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plist lacks %q:\n%s", want, got)
		}
	}
	// It is well-formed XML, and the program comes back unescaped.
	d := xml.NewDecoder(strings.NewReader(got))
	d.Strict = true
	var strs []string
	inString := false
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("plist is not well-formed: %v", err)
			}
			break
		}
		switch v := tok.(type) {
		case xml.StartElement:
			inString = v.Name.Local == "string"
		case xml.CharData:
			if inString {
				strs = append(strs, string(v))
			}
		case xml.EndElement:
			inString = false
		}
	}
	if len(strs) < 2 || strs[0] != "com.example.<a&b>" || strs[1] != "/Applications/ChatGPT & API.app/Contents/MacOS/chatgpt-to-api" {
		t.Errorf("plist strings = %q", strs)
	}
}

func TestWindowsRunValue(t *testing.T) {
	t.Parallel()
	got := windowsRunValue(`C:\Program Files\ChatGPT-to-API\chatgpt-to-api.exe`, []string{"--minimized", "a b"})
	want := `"C:\Program Files\ChatGPT-to-API\chatgpt-to-api.exe" --minimized "a b"`
	if got != want {
		t.Errorf("Run value = %s, want %s", got, want)
	}
}
