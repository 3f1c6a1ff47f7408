//go:build !unix

package ws

import "errors"

// rawWrites: elsewhere every connection writes from its own goroutine.
const rawWrites = false

func (c *corkConn) tryWrite(b []byte) (int, error) { return 0, errors.New("ws: no raw socket writes") }
