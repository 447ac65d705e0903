package dialect

import (
	"bytes"
	"strconv"
	"strings"
)

// valueAt returns the path (OpenAI's notation: messages[0].content) of the
// innermost value of the JSON text b that holds the byte at pos, and that
// value's first byte; ok is false when b cannot be walked to pos. b is
// JSON that encoding/json has read up to pos, so this only follows its
// structure. It reads b once, up to pos, and builds one path.
func valueAt(b []byte, pos int) (path string, first byte, ok bool) {
	if pos < 0 || pos >= len(b) {
		return "", 0, false
	}
	w := pathWalker{b: b, pos: pos}
	w.value(SkipSpace(w.b, 0))
	return w.path, w.first, w.ok
}

// segment is one step of a path: an object key (raw, quotes included) or
// an array index.
type segment struct {
	key   []byte
	index int
}

type pathWalker struct {
	b     []byte
	pos   int
	stack []segment
	done  bool // the walk is over
	ok    bool // pos was found: path and first are set
	path  string
	first byte
}

// found ends the walk at the value starting at i, the innermost one that
// holds pos.
func (w *pathWalker) found(i int) {
	var sb strings.Builder
	for _, s := range w.stack {
		if s.key == nil {
			sb.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		key, err := strconv.Unquote(string(s.key))
		if err != nil {
			key = string(s.key[1 : len(s.key)-1])
		}
		sb.WriteString(key)
	}
	w.path, w.first, w.ok, w.done = sb.String(), w.b[i], true, true
}

// value walks the value at i and returns the index after it, or -1 when
// the walk ends (pos found, or the text breaks).
func (w *pathWalker) value(i int) int {
	if i >= len(w.b) || i > w.pos {
		w.done = true // pos is in white space or punctuation: no value
		return -1
	}
	var end int
	switch w.b[i] {
	case '{', '[':
		if i == w.pos {
			w.found(i)
			return -1
		}
		return w.container(i)
	case '"':
		var closed bool
		if end, closed = StringEnd(w.b, i); !closed {
			end = len(w.b) // pos is in it
		}
	default:
		end = i
	literal:
		for ; end < len(w.b); end++ {
			switch w.b[end] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				break literal
			}
		}
	}
	if w.pos < end {
		w.found(i)
		return -1
	}
	return end
}

// container walks the object or array opening at i.
func (w *pathWalker) container(i int) int {
	object, depth := w.b[i] == '{', len(w.stack)
	closing := byte(']')
	if object {
		closing = '}'
	}
	i = SkipSpace(w.b, i+1)
	for n := 0; ; n++ {
		if i >= len(w.b) {
			w.done = true
			return -1
		}
		if w.b[i] == closing {
			if w.pos <= i {
				w.done = true // pos is between this container's values
				return -1
			}
			return i + 1
		}
		if n > 0 {
			if w.b[i] != ',' {
				w.done = true
				return -1
			}
			i = SkipSpace(w.b, i+1)
		}
		seg := segment{index: n}
		if object {
			if i >= len(w.b) || w.b[i] != '"' {
				w.done = true
				return -1
			}
			end, ok := StringEnd(w.b, i)
			if !ok {
				w.done = true
				return -1
			}
			seg.key = w.b[i:end]
			if i = SkipSpace(w.b, end); i >= len(w.b) || w.b[i] != ':' {
				w.done = true
				return -1
			}
			i = SkipSpace(w.b, i+1)
		}
		if i > w.pos {
			w.done = true // pos is between this container's values
			return -1
		}
		w.stack = append(w.stack[:depth], seg)
		if i = w.value(i); i < 0 {
			return -1
		}
		w.stack = w.stack[:depth]
		i = SkipSpace(w.b, i)
	}
}

// SkipSpace returns the index of the first byte at or after i in b that
// is not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// StringEnd returns the index after the JSON string starting at b[i] ==
// '"', and false when it is not closed. It finds each quote with
// bytes.IndexByte; a quote is escaped when an odd number of backslashes
// precede it.
func StringEnd(b []byte, i int) (int, bool) {
	for i++; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return 0, false
		}
		i += j
		k := i
		for k > 0 && b[k-1] == '\\' {
			k--
		}
		i++
		if (i-1-k)%2 == 0 {
			return i, true
		}
	}
}
