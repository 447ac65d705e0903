package responses

import (
	"container/list"
	"encoding/json"
	"sync"
	"time"

	"github.com/chatgpt-to-api/chatgpt-to-api/proxy/codex"
)

// Store keeps finished responses in memory for previous_response_id and
// GET/DELETE /v1/responses/{id}: each response object and the conversation
// it ended (input and output items, reasoning encrypted_content included).
// It is bounded by age, total bytes and count; the oldest entries go first.
// Entries belong to an owner (a hash of the client's API key) and are
// invisible to other owners. The output items can be found by the ids
// their client saw, for item_reference. It is safe for concurrent use.
type Store struct {
	maxAge   time.Duration
	maxBytes int64
	maxCount int
	now      func() time.Time

	mu     sync.Mutex
	byID   map[string]*list.Element
	byItem map[itemKey]*list.Element // the newest entry holding an item
	order  *list.List                // of *entry, oldest first
	bytes  int64
}

// itemKey names an item of one owner's responses.
type itemKey struct{ owner, id string }

type entry struct {
	id, owner    string
	at           time.Time
	response     []byte
	conversation []byte
	items        []itemRef // the ids the client saw, in conversation
}

// itemRef is the index in an entry's conversation of the item with id.
type itemRef struct {
	id    string
	index int
}

func (e *entry) size() int64 {
	n := len(e.response) + len(e.conversation) + len(e.id) + len(e.owner) + 64
	for _, r := range e.items {
		n += len(r.id) + 64 // with its share of the store's index
	}
	return int64(n)
}

// item returns the index of the item with id in e's conversation, or -1.
func (e *entry) item(id string) int {
	for _, r := range e.items {
		if r.id == id {
			return r.index
		}
	}
	return -1
}

// DefaultMaxCount bounds the number of stored responses.
const DefaultMaxCount = 10000

// NewStore returns a store keeping responses for maxAge (0 keeps none)
// within maxBytes and maxCount.
func NewStore(maxAge time.Duration, maxBytes int64, maxCount int, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{maxAge: maxAge, maxBytes: maxBytes, maxCount: maxCount, now: now, byID: map[string]*list.Element{}, byItem: map[itemKey]*list.Element{}, order: list.New()}
}

// Enabled reports whether the store keeps anything.
func (s *Store) Enabled() bool { return s != nil && s.maxAge > 0 && s.maxBytes > 0 && s.maxCount > 0 }

// Put keeps r and its conversation for owner, with the ids the client saw
// of the conversation's items (ids[i] of conversation[i]; "" for none).
// It is called before the stream's last event is sent, so it must be
// quick.
func (s *Store) Put(owner string, r *Response, conversation []codex.Item, ids []string) {
	if !s.Enabled() {
		return
	}
	// Written as the stream writes it (json.Marshal would scan it all again
	// to HTML-escape it).
	resp, err := r.AppendJSON(make([]byte, 0, r.sizeHint()))
	if err != nil {
		return
	}
	conv, err := codex.AppendItems(nil, conversation)
	if err != nil {
		return
	}
	e := &entry{id: r.ID, owner: owner, at: s.now(), response: resp, conversation: conv}
	for i, id := range ids {
		if id != "" && i < len(conversation) {
			e.items = append(e.items, itemRef{id, i})
		}
	}
	if e.size() > s.maxBytes {
		return // larger than the whole store
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byID[e.id]; ok {
		s.remove(old)
	}
	el := s.order.PushBack(e)
	s.byID[e.id] = el
	for _, r := range e.items {
		s.byItem[itemKey{owner, r.id}] = el
	}
	s.bytes += e.size()
	s.evict()
}

// evict drops expired entries, then the oldest ones over the bounds.
func (s *Store) evict() {
	cutoff := s.now().Add(-s.maxAge)
	for el := s.order.Front(); el != nil; el = s.order.Front() {
		e := el.Value.(*entry)
		if e.at.After(cutoff) && s.bytes <= s.maxBytes && s.order.Len() <= s.maxCount {
			return
		}
		s.remove(el)
	}
}

func (s *Store) remove(el *list.Element) {
	e := el.Value.(*entry)
	s.order.Remove(el)
	delete(s.byID, e.id)
	for _, r := range e.items {
		if k := (itemKey{e.owner, r.id}); s.byItem[k] == el {
			delete(s.byItem, k)
		}
	}
	s.bytes -= e.size()
}

// lookup returns owner's live entry id.
func (s *Store) lookup(owner, id string) *list.Element {
	s.evict()
	el, ok := s.byID[id]
	if !ok || el.Value.(*entry).owner != owner {
		return nil
	}
	return el
}

// Response returns the stored response object (JSON) of id.
func (s *Store) Response(owner, id string) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.lookup(owner, id)
	if el == nil {
		return nil, false
	}
	return el.Value.(*entry).response, true
}

// Conversation returns the input and output items of response id.
func (s *Store) Conversation(owner, id string) ([]codex.Item, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	el := s.lookup(owner, id)
	var raw []byte
	if el != nil {
		raw = el.Value.(*entry).conversation
	}
	s.mu.Unlock()
	if el == nil {
		return nil, false
	}
	var items []codex.Item
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	return items, true
}

// Item returns the item the client saw as id in one of owner's stored
// responses, ready to be sent upstream.
func (s *Store) Item(owner, id string) (codex.Item, bool) {
	if s == nil || id == "" {
		return codex.Item{}, false
	}
	s.mu.Lock()
	s.evict()
	el := s.byItem[itemKey{owner, id}]
	var raw []byte
	i := -1
	if el != nil {
		e := el.Value.(*entry)
		raw, i = e.conversation, e.item(id)
	}
	s.mu.Unlock()
	if el == nil {
		return codex.Item{}, false
	}
	var items []codex.Item
	if err := json.Unmarshal(raw, &items); err != nil || i < 0 || i >= len(items) {
		return codex.Item{}, false
	}
	return items[i], true
}

// Delete removes response id; it reports whether there was one.
func (s *Store) Delete(owner, id string) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.lookup(owner, id)
	if el == nil {
		return false
	}
	s.remove(el)
	return true
}

// Len returns the number of stored responses and their size in bytes.
func (s *Store) Len() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len(), s.bytes
}
