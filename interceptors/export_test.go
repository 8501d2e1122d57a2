package interceptors

import "time"

// SetTimeNow replaces the clock Retry-After dates are read against, until
// the returned function restores it.
func SetTimeNow(now func() time.Time) (restore func()) {
	old := timeNow
	timeNow = now
	return func() { timeNow = old }
}

// LoggerRedactURL is the Logger's URL redaction, as its lines show URLs.
var LoggerRedactURL = (*Logger).redactURL
