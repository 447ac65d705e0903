package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// CountsFileName is the name of the request counters file in the config
// folder.
const CountsFileName = "request-counts.json"

// countsVersion is the format version of the counters file.
const countsVersion = 1

// maxSavedClients bounds the clients kept in the counters file.
const maxSavedClients = 50

// countsFile is the on-disk form of the request counters. It holds counts
// and client names, never secrets.
type countsFile struct {
	Version int           `json:"version"`
	Day     string        `json:"day"`
	Total   int64         `json:"total"`
	Today   int64         `json:"today"`
	Errors  int64         `json:"errors"`
	Last    time.Time     `json:"last,omitzero"`
	Clients []ClientCount `json:"clients,omitempty"`
}

// LoadCounts reads request counters saved by SaveCounts. A missing file
// gives zero counters and no error.
func LoadCounts(path string) (Requests, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Requests{}, nil
	}
	if err != nil {
		return Requests{}, fmt.Errorf("reading request counts: %w", err)
	}
	var f countsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Requests{}, fmt.Errorf("parsing request counts %s: %w", path, err)
	}
	if f.Version != countsVersion {
		return Requests{}, fmt.Errorf("request counts %s: unknown version %d", path, f.Version)
	}
	return Requests{Total: f.Total, Today: f.Today, Errors: f.Errors, Day: f.Day, Last: f.Last, Clients: f.Clients}, nil
}

// SaveCounts writes the request counters to path atomically (a temporary
// file renamed over it), creating the folder with mode 0700 and the file
// with mode 0600.
func SaveCounts(path string, q Requests) error {
	clients := append([]ClientCount(nil), q.Clients...)
	if len(clients) > maxSavedClients {
		sort.SliceStable(clients, func(i, j int) bool { return clients[i].Total > clients[j].Total })
		clients = clients[:maxSavedClients]
	}
	data, err := json.MarshalIndent(countsFile{
		Version: countsVersion, Day: q.Day, Total: q.Total, Today: q.Today,
		Errors: q.Errors, Last: q.Last, Clients: clients,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding request counts: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("saving request counts: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving request counts: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving request counts: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving request counts: %w", err)
	}
	return nil
}

// RequestCounts returns a copy of the request counters, with "today"
// rolled over if local midnight has passed.
func (r *Recorder) RequestCounts() Requests {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollover()
	q := r.s.Requests
	q.Clients = append([]ClientCount(nil), q.Clients...)
	return q
}

// RestoreRequests adds saved counters (from LoadCounts) to the live ones,
// so that requests counted before the restore are kept. Saved "today"
// counts only carry over when they were saved on the current local day.
func (r *Recorder) RestoreRequests(saved Requests) {
	r.Update(func(s *Status) {
		sameDay := saved.Day == day(r.now())
		s.Requests.Total += saved.Total
		s.Requests.Errors += saved.Errors
		if sameDay {
			s.Requests.Today += saved.Today
		}
		if saved.Last.After(s.Requests.Last) {
			s.Requests.Last = saved.Last
		}
		for _, c := range saved.Clients {
			today := c.Today
			if !sameDay {
				today = 0
			}
			found := false
			for i := range s.Requests.Clients {
				if s.Requests.Clients[i].Name == c.Name {
					s.Requests.Clients[i].Total += c.Total
					s.Requests.Clients[i].Today += today
					found = true
					break
				}
			}
			if !found {
				s.Requests.Clients = append(s.Requests.Clients, ClientCount{Name: c.Name, Total: c.Total, Today: today})
			}
		}
		sort.SliceStable(s.Requests.Clients, func(i, j int) bool {
			return s.Requests.Clients[i].Total > s.Requests.Clients[j].Total
		})
	})
}

// DefaultSaveInterval is how often a Persister looks for new counts.
const DefaultSaveInterval = 5 * time.Second

// Persister keeps a Recorder's request counters in a file across restarts.
// It polls RequestCounts rather than reading Changed, because Changed has
// a single reader (the tray) and a second one would steal its wakeups.
type Persister struct {
	rec      *Recorder
	path     string
	log      *slog.Logger
	interval time.Duration
	saved    Requests
}

// NewPersister returns a Persister for rec that saves to path, such as
// filepath.Join(configDir, CountsFileName). A nil logger means
// slog.Default().
func NewPersister(rec *Recorder, path string, logger *slog.Logger) *Persister {
	if logger == nil {
		logger = slog.Default()
	}
	return &Persister{rec: rec, path: path, log: logger, interval: DefaultSaveInterval}
}

// Load restores the saved counters into the Recorder. Call it once, at
// start, before Run.
func (p *Persister) Load() error {
	saved, err := LoadCounts(p.path)
	if err != nil {
		return err
	}
	p.rec.RestoreRequests(saved)
	p.saved = p.rec.RequestCounts()
	return nil
}

// Run saves the counters whenever they have changed, at most once per
// interval, until ctx is done; it then saves a last time and returns that
// save's error. Run must not be called concurrently with Save.
func (p *Persister) Run(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return p.Save()
		case <-t.C:
			if err := p.Save(); err != nil {
				p.log.Warn("status: saving request counts", "path", p.path, "err", err)
			}
		}
	}
}

// Save writes the counters if they changed since the last save.
func (p *Persister) Save() error {
	q := p.rec.RequestCounts()
	if sameCounts(q, p.saved) {
		return nil
	}
	if err := SaveCounts(p.path, q); err != nil {
		return err
	}
	p.saved = q
	return nil
}

// sameCounts reports whether a and b hold the same counters.
func sameCounts(a, b Requests) bool {
	if a.Total != b.Total || a.Today != b.Today || a.Errors != b.Errors || a.Day != b.Day ||
		!a.Last.Equal(b.Last) || len(a.Clients) != len(b.Clients) {
		return false
	}
	for i := range a.Clients {
		if a.Clients[i] != b.Clients[i] {
			return false
		}
	}
	return true
}
