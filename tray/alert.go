package tray

// Alert tells the person about a problem that stops the app before the
// tray exists. On Windows, where a double-clicked GUI build has no console,
// it shows a message box; elsewhere the log and stderr already carry it,
// so it does nothing.
func Alert(title, message string) { alert(title, message) }
