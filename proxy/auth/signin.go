package auth

import "errors"

// How an interactive sign-in (browser or device code) can end without
// credentials. Callers check them with errors.Is and word them for people;
// the wrapping error carries the detail for the log.
var (
	// ErrSignInTimedOut means nobody finished the sign-in in time.
	ErrSignInTimedOut = errors.New("the sign-in timed out")
	// ErrSignInCancelled means the person cancelled the sign-in.
	ErrSignInCancelled = errors.New("the sign-in was cancelled")
	// ErrSignInReplaced means a newer sign-in (in this process or another)
	// took over; the newer one reports the outcome.
	ErrSignInReplaced = errors.New("the sign-in was replaced by a newer one")
	// ErrSignInDenied means the sign-in page answered with an error, for
	// example because the person refused access.
	ErrSignInDenied = errors.New("the sign-in was refused in the browser")
	// ErrCallbackBusy means the browser sign-in's callback port is held by
	// another program.
	ErrCallbackBusy = errors.New("the sign-in callback port is in use")
)
