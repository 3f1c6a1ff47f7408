package main

import (
	"context"
	"fmt"
	"io"

	"github.com/shelflive/shelflive/internal/node"
)

// runDoctor checks the configuration a node would start with (flags and
// SHELFLIVE_* as for serve) and prints findings; problems make it fail.
func runDoctor(ctx context.Context, args []string, out io.Writer) error {
	c, err := node.ParseConfig("doctor", args)
	if err != nil {
		return err
	}
	if n := node.Doctor(ctx, c, out); n > 0 {
		return fmt.Errorf("doctor: %d problem(s)", n)
	}
	return nil
}
