package main

import (
	"context"
	"fmt"
)

func runBench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: which one? orders | fanout")
	}
	switch args[0] {
	case "orders":
		return benchOrders(ctx, args[1:])
	}
	return fmt.Errorf("bench: unknown tool %q", args[0])
}

func benchOrders(ctx context.Context, args []string) error { return fmt.Errorf("not yet") }
