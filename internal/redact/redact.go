// Package redact hides secrets in text that goes to logs and errors. It
// imports nothing of ShelfLive, so every adapter may use it.
package redact

import "strings"

// URL hides the user information (user:password) of a URL such as
// postgres://u:p@host/db or nats://u:p@host, keeping scheme and host for
// the reader: postgres://***@host/db. The last "@" ends the user
// information, so a password that contains "@" is hidden whole. Text that
// is not a URL with user information comes back unchanged.
func URL(u string) string {
	if at := strings.LastIndexByte(u, '@'); at > 0 {
		if i := strings.Index(u, "://"); i >= 0 && i < at {
			return u[:i+3] + "***" + u[at:]
		}
	}
	return u
}
