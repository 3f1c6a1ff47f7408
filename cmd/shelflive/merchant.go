package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/shelflive/shelflive/internal/apperr"
	"github.com/shelflive/shelflive/internal/cn"
	"github.com/shelflive/shelflive/internal/identity"
	"github.com/shelflive/shelflive/internal/natshub"
	"github.com/shelflive/shelflive/internal/node"
	"github.com/shelflive/shelflive/internal/sqldb"
)

const merchantUsage = `usage:
  shelflive merchant create --slug S --name N --owner-login L [--owner-name NAME]
        (the owner's password from SHELFLIVE_OWNER_PASSWORD, else the first line of stdin)
  shelflive merchant list
  shelflive merchant disable S
common flags: --data-dir DIR (SHELFLIVE_DATA_DIR), --database-url URL (SHELFLIVE_DATABASE_URL),
  --nats-url URL (SHELFLIVE_NATS_URL: disable ends the sessions on every running node at once)`

// runMerchant manages the merchants (shops) of an install: the platform
// operator creates, lists and disables them. It works on the database
// directly, with or without a running server.
// It is long because it is the subcommand's three verbs (create, list,
// disable) over the flags and database they share.
func runMerchant(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(merchantUsage)
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("merchant "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", env("SHELFLIVE_DATA_DIR", "./data"), "data directory")
	dbURL := fs.String("database-url", "", "database URL (SHELFLIVE_DATABASE_URL)")
	natsURL := fs.String("nats-url", "", "NATS of a running cluster, to end sessions on every node at once (SHELFLIVE_NATS_URL)")
	natsPrefix := fs.String("nats-prefix", env("SHELFLIVE_NATS_PREFIX", "shelflive"), "NATS prefix of the cluster (SHELFLIVE_NATS_PREFIX)")
	var in identity.NewMerchant
	fs.StringVar(&in.Slug, "slug", "", "shop slug")
	fs.StringVar(&in.Name, "name", "", "shop name")
	fs.StringVar(&in.OwnerLogin, "owner-login", "", "owner's login")
	fs.StringVar(&in.OwnerName, "owner-name", "", "owner's name")
	// Flags may come before or after the operand (disable S --data-dir D).
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%v\n%s", err, merchantUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		operands, args = append(operands, fs.Arg(0)), fs.Args()[1:]
	}
	if *dbURL == "" {
		*dbURL = os.Getenv("SHELFLIVE_DATABASE_URL")
	}
	if *natsURL == "" {
		*natsURL = os.Getenv("SHELFLIVE_NATS_URL")
	}
	if *dbURL == "" {
		if err := os.MkdirAll(*dataDir, 0o750); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
	}
	db, err := sqldb.Open(ctx, *dbURL, *dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	users := &sqldb.IdentityStore{DB: db}
	svc := &identity.Service{Store: users, Now: db.Now}
	switch verb {
	case "create":
		if len(operands) != 0 || in.Slug == "" || in.Name == "" || in.OwnerLogin == "" {
			return errors.New(merchantUsage)
		}
		if in.Password, err = ownerPassword(stdin); err != nil {
			return err
		}
		m, owner, err := svc.CreateMerchant(ctx, in)
		if err != nil {
			return plain(err)
		}
		db.Audit(ctx, m.ID, "cli", "merchant.create", m.Slug, "shelflive merchant create")
		fmt.Fprintf(stdout, "merchant %q created (id %d); the owner logs in at /login as %q\n", m.Slug, m.ID, owner.Username)
		return nil
	case "list":
		list, err := users.ListMerchants(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSLUG\tNAME\tSTATUS\tCREATED (China time)")
		for _, m := range list {
			status := "open"
			if m.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.Slug, m.Name, status, m.CreatedAt.In(cn.Shanghai).Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "disable":
		if len(operands) != 1 {
			return errors.New(merchantUsage)
		}
		m, err := svc.DisableMerchant(ctx, operands[0])
		if err != nil {
			return plain(err)
		}
		db.Audit(ctx, m.ID, "cli", "merchant.disable", m.Slug, "shelflive merchant disable")
		fmt.Fprintf(stdout, "merchant %q disabled: its staff and viewers are refused, its rooms are off, every session and token is revoked\n", m.Slug)
		if *natsURL == "" {
			fmt.Fprintln(stdout, "running nodes drop the merchant's sessions they cached within SHELFLIVE_SESSION_CACHE (5 s); with SHELFLIVE_NATS_URL set they drop them at once")
			return nil
		}
		data, _ := json.Marshal(identity.Revocation{MerchantID: m.ID})
		if err := natshub.BroadcastOnce(ctx, *natsURL, *natsPrefix, node.RevocationSubject, data); err != nil {
			return fmt.Errorf("disabled, but the running nodes were not told (they drop the sessions within SHELFLIVE_SESSION_CACHE): %w", err)
		}
		fmt.Fprintln(stdout, "every running node dropped the merchant's sessions (NATS)")
		return nil
	}
	return fmt.Errorf("unknown merchant command %q\n%s", verb, merchantUsage)
}

// ownerPassword reads SHELFLIVE_OWNER_PASSWORD, else one line of stdin
// (so it never appears in the process list or shell history).
func ownerPassword(stdin io.Reader) (string, error) {
	if pw, ok := os.LookupEnv("SHELFLIVE_OWNER_PASSWORD"); ok {
		return pw, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(os.Stderr, "Owner password (shown as you type; or set SHELFLIVE_OWNER_PASSWORD): ")
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no owner password: set SHELFLIVE_OWNER_PASSWORD or pipe it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// plain turns an application error into its English message for the terminal.
func plain(err error) error {
	var e *apperr.Error
	if errors.As(err, &e) && e.Kind != apperr.Internal {
		if errors.Is(err, apperr.ErrConflict) {
			return errors.New("that slug or owner login is already taken")
		}
		return fmt.Errorf("%s (%s)", strings.TrimSuffix(e.English, "."), e.Code)
	}
	return err
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
