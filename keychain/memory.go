package keychain

import (
	"context"
	"fmt"
	"sync"
)

// Memory keeps secrets in process memory only. It is meant for env-only runs,
// where secrets come from the environment and must not be persisted, and for
// tests. The zero value is not ready; use NewMemory.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{m: make(map[string]string)}
}

// Get returns the value stored under key.
func (m *Memory) Get(_ context.Context, key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	if !ok {
		return "", fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set stores value under key.
func (m *Memory) Set(_ context.Context, key, value string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = value
	return nil
}

// Delete removes key. Deleting a missing key is not an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

// Where returns "memory".
func (m *Memory) Where() string { return "memory" }
