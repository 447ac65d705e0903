package jsonscan

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// Fields reads the JSON objects of one struct type T: a reader per key.
// Keys it does not know are skipped, as encoding/json skips them, unless
// they are another spelling of a known one.
type Fields[T any] struct {
	names   []string
	readers []func(p *Scanner, v *T) bool
	// slots finds a key's field without hashing the key: an open-address
	// table indexed by its length and its first and last bytes, holding
	// the field's index + 1 (0: empty). Read looks up every key of every
	// event and request; a map's hash cost a quarter of decoding a delta.
	slots [fieldSlots]uint8
}

// fieldSlots is the size of a table's key index (a power of two, four
// times the most keys a table takes).
const fieldSlots = 256

// slot is where the search for key starts.
func slot(key []byte) int {
	n := len(key)
	if n == 0 {
		return 0
	}
	return (n*37 ^ int(key[0])*11 ^ int(key[n-1])*3) & (fieldSlots - 1)
}

// lookup returns the index of key's field, or -1.
func (f *Fields[T]) lookup(key []byte) int {
	for i := slot(key); ; i = (i + 1) & (fieldSlots - 1) {
		j := int(f.slots[i])
		if j == 0 {
			return -1
		}
		if f.names[j-1] == string(key) {
			return j - 1
		}
	}
}

// Field is one key of T and how to read its value.
type Field[T any] struct {
	Name string
	Read func(p *Scanner, v *T) bool
}

// NewFields builds the reader of T's objects from its keys (at most 64).
func NewFields[T any](defs ...Field[T]) *Fields[T] {
	if len(defs) > 64 {
		panic("jsonscan: more than 64 fields")
	}
	f := &Fields[T]{}
	for i, d := range defs {
		if slices.Contains(f.names, d.Name) {
			panic("jsonscan: field " + d.Name + " given twice")
		}
		f.names = append(f.names, d.Name)
		f.readers = append(f.readers, d.Read)
		s := slot([]byte(d.Name))
		for f.slots[s] != 0 {
			s = (s + 1) & (fieldSlots - 1)
		}
		f.slots[s] = uint8(i + 1)
	}
	return f
}

// Read reads an object into v. A key read twice, or another spelling of a
// known key, declines.
func (f *Fields[T]) Read(p *Scanner, v *T) bool {
	if !p.Expect('{') {
		return false
	}
	var seen uint64
	for first := true; ; first = false {
		key, more, ok := p.nextKey(first)
		if !ok || !more {
			return ok
		}
		i := f.lookup(key)
		if i < 0 {
			if !p.unknown(key, f.names) {
				return false
			}
			continue
		}
		if seen&(1<<i) != 0 || !f.readers[i](p, v) {
			return false
		}
		seen |= 1 << i
	}
}

// Decode reads b, one object and nothing after it, into v.
func (f *Fields[T]) Decode(b []byte, v *T) bool {
	p := Scanner{b: b}
	return f.Read(&p, v) && p.AtEnd()
}

// DecodeSlice reads b, one array of T's objects (or null) and nothing
// after it, into dst.
func DecodeSlice[T any](b []byte, dst *[]T, f *Fields[T]) bool {
	p := Scanner{b: b}
	p.WS()
	return Slice(&p, dst, f.Read) && p.AtEnd()
}

// unknown skips the value of a key the caller does not read, unless the
// key is another spelling of one of names (encoding/json matches keys
// without regard to case, Unicode folding included).
func (p *Scanner) unknown(key []byte, names []string) bool {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for _, n := range names {
		// The names are ASCII: an ASCII key folds only to one of its length.
		if (!ascii || len(n) == len(key)) && bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	return p.Skip()
}

// Declined leaves a field to encoding/json.
func Declined[T any](*Scanner, *T) bool { return false }

// Ptr reads an object into a new T, or null into nil.
func Ptr[T any](p *Scanner, f *Fields[T], dst **T) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	v := new(T)
	*dst = v
	return f.Read(p, v)
}

// Value reads an object into a struct held by value (null leaves it
// alone, as encoding/json does).
func Value[T any](p *Scanner, f *Fields[T], v *T) bool {
	if p.Null() {
		return true
	}
	return f.Read(p, v)
}

// Slice reads an array, or null (an empty array is an empty slice, not
// nil, as encoding/json makes it); read reads one element.
func Slice[T any](p *Scanner, dst *[]T, read func(p *Scanner, v *T) bool) bool {
	if p.Null() {
		*dst = nil
		return true
	}
	out := []T{}
	ok := p.Array(func() bool {
		var zero T
		out = append(out, zero)
		return read(p, &out[len(out)-1])
	})
	*dst = out
	return ok
}

// Key is the Field of key name, read by read.
func Key[T any](name string, read func(p *Scanner, v *T) bool) Field[T] {
	return Field[T]{Name: name, Read: read}
}
