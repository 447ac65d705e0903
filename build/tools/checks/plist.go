package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// cmdPlist checks that an Info.plist is well-formed XML whose top-level dict
// has the keys a menu-bar-only app bundle needs, with sane values.
func cmdPlist(args []string) error {
	if len(args) != 1 {
		return errors.New("want one file")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := topDict(xml.NewDecoder(f))
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	want := map[string]string{ // key -> required value ("" = any non-empty string)
		"CFBundleExecutable":            "",
		"CFBundleIdentifier":            "",
		"CFBundleName":                  "",
		"CFBundleDisplayName":           "",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    "",
		"CFBundleVersion":               "",
		"CFBundleIconFile":              "",
		"CFBundleInfoDictionaryVersion": "6.0",
		"LSMinimumSystemVersion":        "12.0",
		"LSUIElement":                   "<true/>",
		"NSHighResolutionCapable":       "<true/>",
	}
	for k, v := range want {
		got, ok := d[k]
		if !ok {
			return fmt.Errorf("%s: missing key %s", args[0], k)
		}
		if strings.Contains(got, "@") {
			return fmt.Errorf("%s: %s = %q still has a template placeholder", args[0], k, got)
		}
		if (v == "" && got == "") || (v != "" && got != v) {
			return fmt.Errorf("%s: %s = %q, want %q", args[0], k, got, v)
		}
	}
	fmt.Printf("ok %s: %d keys, id %s, version %s (%s)\n", args[0], len(d), d["CFBundleIdentifier"], d["CFBundleShortVersionString"], d["CFBundleVersion"])
	return nil
}

// topDict decodes <plist><dict>…</dict></plist> into key -> value, where a
// value is a string's text or "<true/>"/"<false/>" for booleans (other types
// are recorded by element name).
func topDict(dec *xml.Decoder) (map[string]string, error) {
	out := map[string]string{}
	depth := 0
	inDict := false
	key := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && t.Name.Local != "plist":
				return nil, fmt.Errorf("root element %s, want plist", t.Name.Local)
			case depth == 2 && t.Name.Local == "dict":
				inDict = true
			case depth == 3 && inDict && t.Name.Local == "key":
				var s string
				if err := dec.DecodeElement(&s, &t); err != nil {
					return nil, err
				}
				depth--
				key = s
			case depth == 3 && inDict:
				var v string
				switch t.Name.Local {
				case "string":
					if err := dec.DecodeElement(&v, &t); err != nil {
						return nil, err
					}
					depth--
				case "true", "false":
					v = "<" + t.Name.Local + "/>"
				default:
					v = "<" + t.Name.Local + ">"
				}
				if key == "" {
					return nil, fmt.Errorf("value <%s> without a key", t.Name.Local)
				}
				if _, dup := out[key]; dup {
					return nil, fmt.Errorf("duplicate key %s", key)
				}
				out[key] = strings.TrimSpace(v)
				key = ""
			}
		case xml.EndElement:
			depth--
		}
	}
	if !inDict {
		return nil, errors.New("no top-level dict")
	}
	return out, nil
}
