// Package affinity gives every turn of one conversation the same thread
// id, which the upstream request uses as prompt_cache_key, session-id,
// thread-id and window id: the backend caches a prompt prefix per key, and
// a changed key or session loses the cache.
//
// A client's own conversation key wins (prompt_cache_key, an X-Session-Id
// header, Anthropic's metadata.user_id, the OpenAI user field). Without
// one, the conversation is recognised by its stable prefix: the
// instructions, the tools and the first user turn. The OpenAI user field
// names a person, who may hold many conversations, so it only counts when
// a request has no prefix at all. Either way the id is a
// UUIDv7, the Codex CLI's thread id format, kept in a bounded map.
package affinity

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// Hints are the conversation keys a client may send, strongest first.
type Hints struct {
	CacheKey  string // prompt_cache_key
	SessionID string // X-Session-Id header
	UserID    string // Anthropic metadata.user_id
	User      string // OpenAI user: names a person, not a conversation, so it counts only when there is no prefix
}

// NeedsPrefix reports whether Key reads the request's prefix for these
// hints: only when the client named no conversation. The prefix costs a
// serialization of the tools, which a client with a key is spared.
func (h Hints) NeedsPrefix() bool {
	return h.CacheKey == "" && h.SessionID == "" && h.UserID == ""
}

// Prefix is what stays the same across the turns of a conversation.
type Prefix struct {
	Instructions string
	Tools        []byte // the tools as serialized upstream
	FirstUser    []byte // the first user turn as serialized upstream
}

// DefaultSize bounds the map: conversations beyond it are forgotten
// least recently used first (they get a new id and lose their cache once).
const DefaultSize = 4096

// Map remembers a thread id per conversation. It is safe for concurrent
// use; the zero value is not usable, use New.
type Map struct {
	mu   sync.Mutex
	max  int
	ll   *list.List // front = most recently used
	byID map[string]*list.Element
	now  func() time.Time
}

type entry struct{ key, id string }

// New returns a Map holding at most size conversations (DefaultSize when
// size <= 0).
func New(size int) *Map {
	if size <= 0 {
		size = DefaultSize
	}
	return &Map{max: size, ll: list.New(), byID: map[string]*list.Element{}, now: time.Now}
}

// Key returns the conversation's thread id: the same for every turn of one
// conversation, a new UUIDv7 for a new one.
func (m *Map) Key(h Hints, p Prefix) string {
	key := conversationKey(h, p)
	if len(key) > maxKeyLen {
		// A client's key may be as long as its request: keep its digest,
		// so that the map's memory stays bounded by its entry count.
		sum := sha256.Sum256([]byte(key))
		key = "h:" + hex.EncodeToString(sum[:])
	}
	return m.lookup(key)
}

// maxKeyLen is the longest conversation key kept as it is.
const maxKeyLen = 128

// conversationKey names the conversation: a client key when there is one,
// otherwise a hash of the prefix.
func conversationKey(h Hints, p Prefix) string {
	switch {
	case h.CacheKey != "":
		return "k:" + h.CacheKey
	case h.SessionID != "":
		return "s:" + h.SessionID
	case h.UserID != "":
		return "m:" + h.UserID
	case h.User != "" && p.Instructions == "" && len(p.Tools) == 0 && len(p.FirstUser) == 0:
		return "u:" + h.User
	}
	d := sha256.New()
	for _, part := range [][]byte{[]byte(p.Instructions), p.Tools, p.FirstUser} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		d.Write(n[:])
		d.Write(part)
	}
	return "p:" + hex.EncodeToString(d.Sum(nil))
}

func (m *Map) lookup(key string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.byID[key]; ok {
		m.ll.MoveToFront(el)
		return el.Value.(*entry).id
	}
	id := newUUIDv7(m.now())
	m.byID[key] = m.ll.PushFront(&entry{key: key, id: id})
	for m.ll.Len() > m.max {
		old := m.ll.Back()
		m.ll.Remove(old)
		delete(m.byID, old.Value.(*entry).key)
	}
	return id
}

// Len is the number of conversations remembered.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ll.Len()
}

// newUUIDv7 returns a random UUIDv7 with the timestamp of t.
func newUUIDv7(t time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
