//go:build unix && !linux

package ws

import (
	"syscall"
	"unsafe"
)

// rawSend is write(2) on the non-blocking socket. b is not empty.
func rawSend(fd int, b []byte) (uintptr, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return n, errno
}
