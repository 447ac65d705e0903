package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func cmdFreePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}

// cmdHTTP polls a URL until it answers with the wanted status (and, with
// -models, an OpenAI model list that is not empty). It gives up at -timeout,
// or at once when the process -pid has exited.
func cmdHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	key := fs.String("key", "", "send Authorization: Bearer KEY")
	status := fs.Int("status", 200, "expected status code")
	models := fs.Bool("models", false, "expect an OpenAI model list with at least one model")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	pid := fs.Int("pid", 0, "fail as soon as this process is gone (Linux /proc)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want one URL")
	}
	url := fs.Arg(0)
	if !strings.HasPrefix(url, "http://127.0.0.1:") && !strings.HasPrefix(url, "http://localhost:") {
		return fmt.Errorf("%s: only loopback URLs are allowed", url)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(*timeout)
	start := time.Now()
	var last error
	for {
		if *pid > 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", *pid)); err != nil {
				return fmt.Errorf("process %d exited before %s answered (last: %v)", *pid, url, last)
			}
		}
		last = try(client, url, *key, *status, *models)
		if last == nil {
			fmt.Printf("ok GET %s -> %d after %.1fs\n", url, *status, time.Since(start).Seconds())
			return nil
		}
		// Keep polling on connection errors only; a wrong answer is final.
		var ne *net.OpError
		if !errors.As(last, &ne) && !errors.Is(last, io.EOF) && !strings.Contains(last.Error(), "connection reset") {
			return last
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s: %v", url, *timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func try(c *http.Client, url, key string, status int, models bool) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		return fmt.Errorf("GET %s: status %d, want %d: %.300s", url, resp.StatusCode, status, body)
	}
	if !models {
		return nil
	}
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("GET %s: not JSON: %v: %.300s", url, err, body)
	}
	if list.Object != "list" || len(list.Data) == 0 || list.Data[0].ID == "" {
		return fmt.Errorf("GET %s: not a non-empty model list: %.300s", url, body)
	}
	fmt.Printf("   %d models, first %q\n", len(list.Data), list.Data[0].ID)
	return nil
}
