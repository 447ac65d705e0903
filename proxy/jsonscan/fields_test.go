package jsonscan

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// rv records which field of a test table read its value.
type rv struct{ hit int }

// buildTable is a table of names whose readers record their index.
func buildTable(names []string) *Fields[rv] {
	defs := make([]Field[rv], len(names))
	for i, n := range names {
		defs[i] = Key(n, func(p *Scanner, v *rv) bool { v.hit = i; return p.Skip() })
	}
	return NewFields(defs...)
}

// checkTable holds the table of names to a map on the names and probes.
func checkTable(t *testing.T, names []string, probes []string) {
	t.Helper()
	f := buildTable(names)
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
	}
	for _, k := range append(append([]string{}, names...), probes...) {
		want, known := idx[k]
		if !known {
			want = -1
		}
		if got := f.lookup([]byte(k)); got != want {
			t.Fatalf("names %q: lookup(%q) = %d, want %d", names, k, got, want)
		}
	}
}

// TestFieldsSlotsRandom: random tables of up to 64 keys, many alike in
// length, first and last byte, find each key and no other.
func TestFieldsSlotsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alpha := "abcz_AZ09\x00\xff"
	rnd := func() string {
		n := r.IntN(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	for range 5000 {
		n := r.IntN(65)
		seen := map[string]bool{}
		var names []string
		for len(names) < n {
			s := rnd()
			if r.IntN(3) == 0 {
				s = "a" + rnd() + "z" // many with one (len, first, last)
			}
			if !seen[s] {
				seen[s] = true
				names = append(names, s)
			}
		}
		var probes []string
		for i := 0; i < 50; i++ {
			probes = append(probes, rnd(), "a"+rnd()+"z")
		}
		checkTable(t, names, probes)
	}
}

// TestFieldsSlotsAllCollide: 64 keys with one (len, first, last), and
// 64 more keys whose slots land in the run they make.
func TestFieldsSlotsAllCollide(t *testing.T) {
	var names, probes []string
	for i := 0; i < 64; i++ {
		names = append(names, fmt.Sprintf("a%02dz", i))
		probes = append(probes, fmt.Sprintf("a%02dz", i+64), fmt.Sprintf("b%02dz", i), fmt.Sprintf("a%03dz", i))
	}
	checkTable(t, names, probes)
	// Decode through Read as well: every key found, unknown ones skipped,
	// a case-folded one declined.
	f := buildTable(names)
	for i, n := range names {
		var v rv
		if !f.Decode([]byte(`{"a99y":1,"`+n+`":1,"a64z":2}`), &v) || v.hit != i {
			t.Fatalf("%s: hit %d", n, v.hit)
		}
	}
	if f.Decode([]byte(`{"A00Z":1}`), new(rv)) {
		t.Fatal("a case-folded key was not declined")
	}
}

// TestFieldsDuplicateName: a name given twice is a programming error,
// refused when the table is built (the table would find one of them).
func TestFieldsDuplicateName(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a repeated name was taken")
		}
	}()
	buildTable([]string{"x", "y", "x"})
}
