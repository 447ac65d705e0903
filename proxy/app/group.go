package app

import (
	"errors"
	"sync"
)

// group runs goroutines and waits for all of them, joining their errors.
type group struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// Go runs f in a goroutine.
func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
		}
	}()
}

// Wait waits for every goroutine and returns their errors joined.
func (g *group) Wait() error {
	g.wg.Wait()
	return errors.Join(g.errs...)
}
