package main

import (
	"context"
	"fmt"
	"os"

	"github.com/shelflive/shelflive/internal/bench"
	"github.com/shelflive/shelflive/internal/bench/fanout"
)

func runBench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("bench: which one? orders | flashsale | coupons | fanout | coldstart | telemetry | callbacks | fridge | reminders")
	}
	switch args[0] {
	case "orders":
		return bench.RunOrders(ctx, args[1:], os.Stdout)
	case "coupons":
		return bench.RunCoupons(ctx, args[1:], os.Stdout)
	case "flashsale":
		return bench.RunFlashSale(ctx, args[1:], os.Stdout)
	case "coldstart":
		return bench.RunColdStart(ctx, args[1:], os.Stdout)
	case "telemetry":
		return bench.RunTelemetry(ctx, args[1:], os.Stdout)
	case "fridge":
		return bench.RunFridge(ctx, args[1:], os.Stdout)
	case "reminders":
		return bench.RunReminders(ctx, args[1:], os.Stdout)
	case "callbacks":
		return bench.RunCallbacks(ctx, args[1:], os.Stdout)
	case "fanout":
		return fanout.Run(ctx, args[1:], os.Stdout)
	}
	return fmt.Errorf("bench: unknown tool %q", args[0])
}
