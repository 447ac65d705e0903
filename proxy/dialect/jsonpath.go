package dialect

import "strconv"

// pathAt returns the path (OpenAI's notation: messages[0].content) of the
// innermost value of the JSON text b that holds the byte at pos, or "" when
// b cannot be walked to it. b is JSON that encoding/json has read up to
// pos, so this only follows its structure.
func pathAt(b []byte, pos int) string {
	w := pathWalker{b: b, pos: pos}
	w.value(w.ws(0), "")
	return w.found
}

type pathWalker struct {
	b     []byte
	pos   int
	found string
}

func (w *pathWalker) ws(i int) int {
	for i < len(w.b) && (w.b[i] == ' ' || w.b[i] == '\t' || w.b[i] == '\n' || w.b[i] == '\r') {
		i++
	}
	return i
}

// value walks the value at i, at path, and returns the index after it
// (-1 when the text ends or breaks first).
func (w *pathWalker) value(i int, path string) int {
	if i >= len(w.b) {
		return -1
	}
	if i <= w.pos {
		w.found = path
	}
	switch w.b[i] {
	case '{':
		return w.container(i, '}', func(i, n int) (int, string) {
			end := w.str(i)
			if end < 0 {
				return -1, ""
			}
			key, err := strconv.Unquote(string(w.b[i:end]))
			if err != nil {
				key = string(w.b[i+1 : end-1])
			}
			i = w.ws(end)
			if i >= len(w.b) || w.b[i] != ':' {
				return -1, ""
			}
			if path != "" {
				key = path + "." + key
			}
			return w.ws(i + 1), key
		})
	case '[':
		return w.container(i, ']', func(i, n int) (int, string) {
			return i, path + "[" + strconv.Itoa(n) + "]"
		})
	case '"':
		return w.str(i)
	}
	for i < len(w.b) {
		switch w.b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// container walks an object or array opening at i and closing with end;
// member reads what precedes the n-th member's value and returns where the
// value starts and its path.
func (w *pathWalker) container(i int, end byte, member func(i, n int) (int, string)) int {
	i = w.ws(i + 1)
	for n := 0; i < len(w.b) && i <= w.pos; n++ {
		if w.b[i] == end {
			return i + 1
		}
		if n > 0 {
			if w.b[i] != ',' {
				return -1
			}
			i = w.ws(i + 1)
		}
		start, path := member(i, n)
		if start < 0 {
			return -1
		}
		if i = w.value(start, path); i < 0 {
			return -1
		}
		i = w.ws(i)
	}
	return -1 // past pos: nothing after it matters
}

// str returns the index after the string starting at b[i] == '"', or -1.
func (w *pathWalker) str(i int) int {
	for i++; i < len(w.b); i++ {
		switch w.b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
