//go:build !unix

package sqldb

import "errors"

// DirLock is a no-op where flock is unavailable.
type DirLock struct{}

// ErrDataDirInUse is returned by LockDataDir(exclusive) while a server holds the data dir.
var ErrDataDirInUse = errors.New("the data dir is in use by a running server; stop it first")

// LockDataDir does not lock on this platform: stop the server before a restore.
func LockDataDir(dir string, exclusive bool) (*DirLock, error) { return &DirLock{}, nil }

// Unlock does nothing.
func (l *DirLock) Unlock() error { return nil }
