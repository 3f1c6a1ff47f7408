//go:build unix

package sqldb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// DirLock is an advisory lock (flock) on a data dir's lock file. A server
// holds it shared for as long as it runs, so `shelflive restore`, which
// needs it exclusive, refuses while any server uses the data dir; the
// kernel drops it when the process ends, even on kill -9.
type DirLock struct{ f *os.File }

// ErrDataDirInUse is returned by LockDataDir(exclusive) while a server holds the data dir.
var ErrDataDirInUse = errors.New("the data dir is in use by a running server; stop it first")

// LockDataDir takes the lock of dir without waiting: shared for a server,
// exclusive for restore.
func LockDataDir(dir string, exclusive bool) (*DirLock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "shelflive.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrDataDirInUse
		}
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	return &DirLock{f: f}, nil
}

// Unlock releases the lock.
func (l *DirLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
