// Command shelflive runs the ShelfLive live-commerce server and its tools.
//
//	shelflive [serve]        run the server (default)
//	shelflive migrate        apply database migrations and exit
//	shelflive backup         consistent online copy of the SQLite database
//	shelflive restore        put a backup back (server stopped)
//	shelflive merchant …     create, list and disable merchants (shops)
//	shelflive doctor         check a configuration before going live
//	shelflive bench …        load tools (orders, flashsale, coupons, fanout …)
//	shelflive draw verify    recompute a 福袋 draw's winners from its revealed seed
//	shelflive version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, args)
	case "migrate":
		err = runMigrate(ctx, args)
	case "backup":
		err = runBackup(ctx, args)
	case "restore":
		err = runRestore(ctx, args)
	case "doctor":
		err = runDoctor(ctx, args, os.Stdout)
	case "merchant":
		err = runMerchant(ctx, args, os.Stdin, os.Stdout)
	case "bench":
		err = runBench(ctx, args)
	case "draw":
		err = runDraw(ctx, args, os.Stdout)
	case "demo":
		err = runDemo(ctx, args, os.Stdout)
	case "version":
		fmt.Println("shelflive", Version)
	default:
		err = fmt.Errorf("unknown command %q (serve, migrate, backup, restore, merchant, doctor, bench, draw, demo, version)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "shelflive:", err)
		os.Exit(1)
	}
}
