package upstream

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// A zstd encoder for small request bodies (RFC 8878). Most requests are a
// few kilobytes, and for them klauspost's encoder spent most of its time
// outside the compression proper: its hash table (256 KiB) is mostly out
// of the cache when a request comes (the other programs of the machine ran
// meanwhile), and it builds entropy tables for a few dozen sequences. In
// place (the relay benchmark's app process, one client) that took 30 µs on
// average for a 1.8 KB body, several times its microbenchmark; this
// encoder takes 12 µs there. It keeps an 8 KiB table, finds matches
// greedily, stores literals raw and codes the sequences with the format's
// predefined tables: one pass, a few microseconds. Its frames carry the
// Codex CLI's frame header (cliFrameHeader: no content size, a 2 MiB
// window) and one block; the block's bytes differ from the CLI's
// (libzstd's level 3 codes literals with Huffman tables), as klauspost's
// did.

const (
	zsmallHashLog = 12
	zsmallMinRun  = 4 // the shortest match looked for (the format allows 3)
)

// Positions in the hash table are uint16, and a body is one block (at most
// 128 KiB): smallBody must stay within both.
const _ uint16 = smallBody

// zsmallEncoder is one encoder's state; it is reused through zsmallPool.
type zsmallEncoder struct {
	table [1 << zsmallHashLog]uint16 // position + 1 of the last string with the hash
	seqs  []zseq
}

// zseq is one sequence: lit literals, then a match of ml bytes off back.
type zseq struct {
	lit, ml, off uint32
}

var zsmallPool = sync.Pool{New: func() any { return &zsmallEncoder{seqs: make([]zseq, 0, 256)} }}

// compressSmall appends the zstd frame of src (shorter than smallBody) to
// dst.
func compressSmall(dst, src []byte) []byte {
	e := zsmallPool.Get().(*zsmallEncoder)
	dst = e.frame(dst, src)
	zsmallPool.Put(e)
	return dst
}

// frame appends the frame: header, then one compressed block, or one raw
// block when compressing would not make it smaller.
func (e *zsmallEncoder) frame(dst, src []byte) []byte {
	n := len(src)
	dst = append(dst, cliFrameHeader[:]...)
	hdr := len(dst)
	dst = append(dst, 0, 0, 0) // block header, written below
	e.match(src)
	dst = e.block(dst, src)
	size, typ := len(dst)-hdr-3, uint32(2) // compressed
	if size >= n {
		dst, size, typ = append(dst[:hdr+3], src...), n, 0 // raw
	}
	bh := 1 | typ<<1 | uint32(size)<<3 // last block
	dst[hdr], dst[hdr+1], dst[hdr+2] = byte(bh), byte(bh>>8), byte(bh>>16)
	return dst
}

// match finds the sequences of src, greedily: at each position the last
// earlier one with the same four bytes, extended both ways.
func (e *zsmallEncoder) match(src []byte) {
	clear(e.table[:])
	e.seqs = e.seqs[:0]
	anchor, s, end := 0, 0, len(src)-zsmallMinRun
	for s <= end {
		cur := binary.LittleEndian.Uint32(src[s:])
		h := (cur * 2654435761) >> (32 - zsmallHashLog)
		cand := int(e.table[h]) - 1
		e.table[h] = uint16(s + 1)
		if cand < 0 || binary.LittleEndian.Uint32(src[cand:]) != cur {
			s += 1 + (s-anchor)>>6 // faster through text that does not repeat
			continue
		}
		m := zsmallMinRun
		for s+m < len(src) && src[cand+m] == src[s+m] {
			m++
		}
		for s > anchor && cand > 0 && src[s-1] == src[cand-1] {
			s, cand, m = s-1, cand-1, m+1
		}
		e.seqs = append(e.seqs, zseq{lit: uint32(s - anchor), ml: uint32(m), off: uint32(s - cand)})
		s += m
		anchor = s
	}
}

// block appends the compressed block's content: every literal, raw, then
// the sequences.
func (e *zsmallEncoder) block(dst, src []byte) []byte {
	// Literals: the runs before each match and the tail after the last.
	nlit := len(src)
	for _, q := range e.seqs {
		nlit -= int(q.ml)
	}
	switch {
	case nlit < 32:
		dst = append(dst, byte(nlit<<3))
	case nlit < 4096:
		dst = append(dst, byte(1<<2|nlit<<4), byte(nlit>>4))
	default:
		dst = append(dst, byte(3<<2|nlit<<4), byte(nlit>>4), byte(nlit>>12))
	}
	pos := 0
	for _, q := range e.seqs {
		dst = append(dst, src[pos:pos+int(q.lit)]...)
		pos += int(q.lit + q.ml)
	}
	dst = append(dst, src[pos:]...)

	nseq := len(e.seqs)
	switch {
	case nseq == 0:
		return append(dst, 0)
	case nseq < 128:
		dst = append(dst, byte(nseq))
	case nseq < 0x7f00:
		dst = append(dst, byte(nseq>>8+0x80), byte(nseq))
	default:
		dst = append(dst, 0xff, byte(nseq-0x7f00), byte((nseq-0x7f00)>>8))
	}
	dst = append(dst, 0) // every table predefined
	return e.sequences(dst)
}

// sequences appends the sequences' bit stream. It is read backwards: the
// last sequence is written first, and the states of the three tables go
// last, literal lengths' at the very end.
func (e *zsmallEncoder) sequences(dst []byte) []byte {
	w := bitWriter{out: dst}
	last := len(e.seqs) - 1
	c := zcodesOf(e.seqs[last])
	ml := zsmallTables.ml.initState(c.ml)
	of := zsmallTables.of.initState(c.of)
	ll := zsmallTables.ll.initState(c.ll)
	c.extras(&w)
	for i := last - 1; i >= 0; i-- {
		c = zcodesOf(e.seqs[i])
		zsmallTables.of.encode(&w, &of, c.of)
		zsmallTables.ml.encode(&w, &ml, c.ml)
		zsmallTables.ll.encode(&w, &ll, c.ll)
		c.extras(&w)
	}
	w.add(uint64(ml), uint(zsmallTables.ml.log))
	w.add(uint64(of), uint(zsmallTables.of.log))
	w.add(uint64(ll), uint(zsmallTables.ll.log))
	return w.close()
}

// zcodes is one sequence's three codes and the values whose low bits are
// their extra bits.
type zcodes struct {
	ll, ml, of       uint8
	lit, mlBase, ofv uint32
}

func zcodesOf(q zseq) zcodes {
	ofv := q.off + 3 // an offset value above 3: never a repeat offset
	c := zcodes{lit: q.lit, mlBase: q.ml - 3, ofv: ofv, of: uint8(bits.Len32(ofv) - 1)}
	if q.lit < 64 {
		c.ll = zsmallTables.llCode[q.lit]
	} else {
		c.ll = uint8(bits.Len32(q.lit) + 18)
	}
	if c.mlBase < 128 {
		c.ml = zsmallTables.mlCode[c.mlBase]
	} else {
		c.ml = uint8(bits.Len32(c.mlBase) + 35)
	}
	return c
}

// extras writes the extra bits of a sequence, in the order they are read:
// literal length, match length, offset (backwards).
func (c zcodes) extras(w *bitWriter) {
	w.add(uint64(c.lit), uint(zllBits[c.ll]))
	w.add(uint64(c.mlBase), uint(zmlBits[c.ml]))
	w.add(uint64(c.ofv), uint(c.of))
}

// The extra bits of each literal-length and match-length code (RFC 8878
// 3.1.1.3.2.1.1); a code's baseline is a multiple of 1<<bits, so its extra
// bits are the low bits of the length.
var (
	zllBits = [36]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	zmlBits = [53]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// zsmallTables is the predefined FSE tables (RFC 8878 3.1.1.3.2.2) built
// for encoding, and the code of each short length.
var zsmallTables = func() (t struct {
	ll, ml, of fseTable
	llCode     [64]uint8
	mlCode     [128]uint8
}) {
	t.ll = newFSETable(6, []int16{4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
		2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1})
	t.ml = newFSETable(6, []int16{1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1})
	t.of = newFSETable(5, []int16{1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1})
	fillCodes(t.llCode[:], zllBits[:], 0)
	fillCodes(t.mlCode[:], zmlBits[:], 0)
	return t
}()

// fillCodes sets codes[v] to the code of length v, from the codes' extra
// bits: the baselines follow one another.
func fillCodes(codes []uint8, extra []uint8, base int) {
	for code, nb := range extra {
		for v := base; v < base+1<<nb && v < len(codes); v++ {
			codes[v] = uint8(code)
		}
		base += 1 << nb
	}
}

// fseTable is an FSE table built for encoding (the construction of the
// reference implementation, which decoders mirror).
type fseTable struct {
	log        uint8
	next       []uint16 // next state, by (state >> bits) + findState
	deltaBits  []uint32
	deltaState []int32
}

func newFSETable(log uint8, norm []int16) fseTable {
	size := 1 << log
	mask, step, high := size-1, size>>1+size>>3+3, size-1
	symbols := make([]uint8, size)
	cumul := make([]int, len(norm)+1)
	for u := 1; u <= len(norm); u++ {
		if norm[u-1] == -1 { // less than one: the last cells
			cumul[u] = cumul[u-1] + 1
			symbols[high] = uint8(u - 1)
			high--
		} else {
			cumul[u] = cumul[u-1] + int(norm[u-1])
		}
	}
	pos := 0
	for s, n := range norm {
		for range max(int(n), 0) {
			symbols[pos] = uint8(s)
			pos = (pos + step) & mask
			for pos > high {
				pos = (pos + step) & mask
			}
		}
	}
	t := fseTable{log: log, next: make([]uint16, size), deltaBits: make([]uint32, len(norm)), deltaState: make([]int32, len(norm))}
	for u, s := range symbols {
		t.next[cumul[s]] = uint16(size + u)
		cumul[s]++
	}
	total := 0
	for s, n := range norm {
		switch {
		case n == -1 || n == 1:
			t.deltaBits[s] = uint32(log)<<16 - uint32(size)
			t.deltaState[s] = int32(total - 1)
			total++
		case n > 1:
			maxBits := uint32(log) - uint32(bits.Len32(uint32(n-1))-1)
			t.deltaBits[s] = maxBits<<16 - uint32(n)<<maxBits
			t.deltaState[s] = int32(total - int(n))
			total += int(n)
		}
	}
	return t
}

// initState is the state that encodes symbol s first (without output).
func (t *fseTable) initState(s uint8) uint32 {
	nb := (t.deltaBits[s] + 1<<15) >> 16
	v := nb<<16 - t.deltaBits[s]
	return uint32(t.next[int32(v>>nb)+t.deltaState[s]])
}

// encode moves *state on by symbol s, writing the bits the decoder needs
// to come back.
func (t *fseTable) encode(w *bitWriter, state *uint32, s uint8) {
	nb := (*state + t.deltaBits[s]) >> 16
	w.add(uint64(*state), uint(nb))
	*state = uint32(t.next[int32(*state>>nb)+t.deltaState[s]])
}

// bitWriter writes bits little-endian first, as zstd's decoders read them
// backwards.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

// add writes the low nb bits of v (nb ≤ 32); whole words go out as they
// fill.
func (w *bitWriter) add(v uint64, nb uint) {
	w.acc |= (v & (1<<nb - 1)) << w.n
	w.n += nb
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// close ends the stream with its end mark and returns the output.
func (w *bitWriter) close() []byte {
	w.add(1, 1)
	for ; w.n > 0; w.n -= min(w.n, 8) {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
	}
	return w.out
}
