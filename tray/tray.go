//go:build !darwin || cgo

package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"fyne.io/systray"
	"github.com/atotto/clipboard"

	"github.com/chatgpt-to-api/chatgpt-to-api/assets"
)

// tickInterval moves the expiry countdown and quota reset times along.
const tickInterval = 30 * time.Second

// The longest a click action may take before the tray gives up on it. A
// sign-in has its own timeout (CHATGPT_SIGNIN_TIMEOUT).
const (
	refreshTimeout = 2 * time.Minute
	signOutTimeout = time.Minute
)

var started atomic.Bool

// Run shows the tray and blocks until the person picks Quit or ctx is
// cancelled; in both cases it returns nil. It must be called on the main
// goroutine, and at most once per process, since systray keeps global
// state. It returns ErrUnavailable (wrapped with the reason) without
// touching systray when Available reports false.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.Source == nil {
		return errors.New("tray: config has no source")
	}
	if ok, reason := Available(); !ok {
		return fmt.Errorf("%w: %s", ErrUnavailable, reason)
	}
	if !started.CompareAndSwap(false, true) {
		return errors.New("tray: Run called twice")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clipboard == nil {
		cfg.Clipboard = clipboard.WriteAll
	}
	// systray on Linux dereferences a nil D-Bus connection on exit if the
	// bus vanished after Available looked; never let that crash the
	// application on its way out.
	defer func() {
		if r := recover(); r != nil {
			cfg.Logger.Warn("tray: systray panicked on exit", "panic", fmt.Sprint(r))
			err = nil
		}
	}()

	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := newTray(loopCtx, cfg)
	exited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cfg.Logger.Debug("tray: context done, quitting")
			systray.Quit()
		case <-exited:
		}
	}()
	systray.Run(t.onReady, func() {
		cancel()
		close(exited)
	})
	return nil
}

// uiState is the tray's own state, owned by the event loop goroutine.
type uiState struct {
	copyError          string
	actionError        string
	signingIn          bool
	signingOut         bool
	refreshing         bool
	autostartAvailable bool
	autostartEnabled   bool
}

// tray owns the event loop and the applied menu.
type tray struct {
	ctx     context.Context
	cfg     Config
	log     *slog.Logger
	ui      uiState
	clicks  chan ItemID
	results chan func(*uiState)

	// Owned by the event loop after onReady.
	shape   string
	items   map[ItemID]*systray.MenuItem
	applied map[ItemID]Item     // what each item shows, without children
	kids    map[ItemID][]ItemID // the children created under each item
	icon    assets.State
	tooltip string
	// The tray's own sign-in: its number and how to cancel it.
	signIn       int
	cancelSignIn context.CancelFunc
	// account identifies the signed-in account, to drop stale action
	// messages when it changes.
	account     string
	seenAccount bool
}

func newTray(ctx context.Context, cfg Config) *tray {
	return &tray{
		ctx:     ctx,
		cfg:     cfg,
		log:     cfg.Logger,
		clicks:  make(chan ItemID, 16),
		results: make(chan func(*uiState), 16),
		icon:    -1,
	}
}

// onReady builds the first menu and starts the event loop. It must return
// quickly: on Linux, GetLayout blocks until it does.
func (t *tray) onReady() {
	if a := t.cfg.Autostart; a != nil {
		on, err := a.Enabled()
		if err != nil {
			t.log.Warn("tray: reading the autostart setting", "err", err)
		}
		t.ui.autostartAvailable, t.ui.autostartEnabled = true, on
	}
	setTitle(AppName)
	t.apply(t.view())
	go t.loop()
}

// view computes the menu for the current status and tray state.
func (t *tray) view() Menu {
	return View(t.cfg.Source.Snapshot(), time.Now(), ViewOptions{
		BaseURL:            t.cfg.BaseURL,
		HasAPIKey:          t.cfg.APIKey != nil,
		CanSignIn:          t.cfg.SignIn != nil,
		CanSignOut:         t.cfg.SignOut != nil && !t.ui.signingOut,
		CanReopenSignIn:    t.cfg.ReopenSignIn != nil,
		CanRefresh:         t.cfg.Refresh != nil,
		CanOpenLogs:        t.cfg.OpenLogs != nil,
		AutostartAvailable: t.ui.autostartAvailable,
		AutostartEnabled:   t.ui.autostartEnabled,
		SigningIn:          t.ui.signingIn,
		Refreshing:         t.ui.refreshing,
		CopyError:          t.ui.copyError,
		ActionError:        t.ui.actionError,
	})
}

// loop is the one event loop: it re-applies the view on status changes and
// on a ticker, and dispatches clicks.
func (t *tray) loop() {
	settle(t.ctx, t.tooltip, func() {
		setIcon(t.icon)
		systray.SetTooltip(t.tooltip)
	})
	ticker := time.NewTicker(tickInterval)
	defer ticker.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-t.cfg.Source.Changed():
		case <-ticker.C:
		case id := <-t.clicks:
			t.click(id)
		case f := <-t.results:
			f(&t.ui)
		}
		t.noteAccount()
		t.apply(t.view())
	}
}

// noteAccount drops the last action message when the account changed (a
// sign-in or sign-out here or elsewhere): it was about the previous one.
func (t *tray) noteAccount() {
	a := t.cfg.Source.Snapshot().Auth
	id := a.Source + "|" + a.Email + "|" + a.AccountID
	if id != t.account && t.seenAccount && !t.ui.signingIn {
		t.ui.actionError = ""
	}
	t.account, t.seenAccount = id, true
}

// async runs work in a new goroutine and hands its result to the loop.
func (t *tray) async(work func() func(*uiState)) {
	go func() {
		f := work()
		select {
		case t.results <- f:
		case <-t.ctx.Done():
		}
	}()
}

// copyURL returns the URL the "Copy base URL" item copies.
func (t *tray) copyURL() string {
	if t.cfg.BaseURL != "" {
		return t.cfg.BaseURL
	}
	return t.cfg.Source.Snapshot().BaseURL
}

// apply makes systray show m. It updates items in place when the menu's
// shape is unchanged and rebuilds the menu otherwise.
func (t *tray) apply(m Menu) {
	if m.Icon != t.icon {
		setIcon(m.Icon)
		t.icon = m.Icon
	}
	if m.Tooltip != t.tooltip {
		systray.SetTooltip(m.Tooltip)
		t.tooltip = m.Tooltip
	}
	if shape := shapeOf(m.Items); shape != t.shape {
		t.rebuild(m)
		t.shape = shape
		return
	}
	for _, it := range m.Items {
		t.update(it)
	}
}

// rebuild replaces the whole menu.
func (t *tray) rebuild(m Menu) {
	if t.items != nil {
		systray.ResetMenu()
	}
	t.items = map[ItemID]*systray.MenuItem{}
	t.applied = map[ItemID]Item{}
	t.kids = map[ItemID][]ItemID{}
	for _, it := range m.Items {
		if it.Separator {
			systray.AddSeparator()
			continue
		}
		t.add("", nil, it)
	}
}

// add creates the systray item for it, and its children, under parent
// (nil for the top level) whose ID is parentID.
func (t *tray) add(parentID ItemID, parent *systray.MenuItem, it Item) {
	var mi *systray.MenuItem
	switch {
	case parent == nil && it.Checkable:
		mi = systray.AddMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
	case parent == nil:
		mi = systray.AddMenuItem(it.Title, it.Tooltip)
	case it.Checkable:
		mi = parent.AddSubMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
	default:
		mi = parent.AddSubMenuItem(it.Title, it.Tooltip)
	}
	if !it.Enabled {
		mi.Disable()
	}
	if !it.Visible {
		mi.Hide()
	}
	t.items[it.ID] = mi
	t.applied[it.ID] = flat(it)
	if parent != nil {
		t.kids[parentID] = append(t.kids[parentID], it.ID)
	}
	go t.forward(it.ID, mi.ClickedCh)
	for _, c := range it.Children {
		t.add(it.ID, mi, c)
	}
}

// update changes the existing item for it in place. Children that are new
// are added at the end of the submenu; children the view no longer has are
// hidden and reused when they come back, since their IDs are positional.
func (t *tray) update(it Item) {
	if it.Separator {
		return
	}
	mi := t.items[it.ID]
	old := t.applied[it.ID]
	if it.Title != old.Title {
		mi.SetTitle(it.Title)
	}
	if it.Tooltip != old.Tooltip {
		mi.SetTooltip(it.Tooltip)
	}
	if it.Enabled != old.Enabled {
		if it.Enabled {
			mi.Enable()
		} else {
			mi.Disable()
		}
	}
	if it.Checked != old.Checked {
		if it.Checked {
			mi.Check()
		} else {
			mi.Uncheck()
		}
	}
	if it.Visible != old.Visible {
		if it.Visible {
			mi.Show()
		} else {
			mi.Hide()
		}
	}
	t.applied[it.ID] = flat(it)
	seen := make(map[ItemID]bool, len(it.Children))
	for _, c := range it.Children {
		seen[c.ID] = true
		if _, ok := t.items[c.ID]; ok {
			t.update(c)
		} else {
			t.add(it.ID, mi, c)
		}
	}
	for _, k := range t.kids[it.ID] {
		if a := t.applied[k]; !seen[k] && a.Visible {
			t.items[k].Hide()
			a.Visible = false
			t.applied[k] = a
		}
	}
}

// flat returns it without its children.
func flat(it Item) Item {
	it.Children = nil
	return it
}

// forward receives every click on an item and hands it to the loop, so
// that systray's non-blocking send always finds a receiver. It ends when
// the item is removed or the tray stops.
func (t *tray) forward(id ItemID, ch <-chan struct{}) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
			select {
			case t.clicks <- id:
			case <-t.ctx.Done():
				return
			}
		case <-t.ctx.Done():
			return
		}
	}
}
