package keychain

// On Linux, go-keyring talks to the Secret Service over the D-Bus session bus.
// Every error it returns other than "not found" comes from the bus or the
// Secret Service (no bus, no provider, a locked collection, a dismissed
// prompt), so every such error means the keychain is unavailable.
func osUnavailable(err error) bool { return true }

// fitsEntry reports whether one entry can be stored. The Secret Service has
// no size limit that matters here (5 KB to 8 MB round-trip with
// gnome-keyring), so every entry fits.
func fitsEntry(service, user, value string) error { return nil }
