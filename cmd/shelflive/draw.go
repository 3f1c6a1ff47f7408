package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/draws"
)

// runDraw: `shelflive draw verify` recomputes a 福袋 draw's winners from
// its revealed seed and its entries, and checks the seed against the
// commitment published before the entries closed.
//
//	shelflive draw verify --url https://shop.example/api/v1/draws/7
//	shelflive draw verify --seed <64 hex> --commitment <64 hex> --entries entries.txt --winners 3 [--expect 12,40,7]
//
// The entries file lists the eligible entrants' ids, one per line (or
// separated by commas or spaces); it may also be the JSON document of
// GET /api/v1/draws/{id}. The last line of output is JSON; the exit status
// is 1 when the commitment or the winners do not match.
// It is long because it is one verification: read the entries (file or
// URL), check the commitment, recompute and compare the winners.
func runDraw(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("draw: usage: shelflive draw verify (--url URL | --seed HEX --entries FILE --winners N [--commitment HEX] [--expect ids])")
	}
	fs := flag.NewFlagSet("draw verify", flag.ContinueOnError)
	url := fs.String("url", "", "a draw's public API address, e.g. https://shop.example/api/v1/draws/7")
	seed := fs.String("seed", "", "the revealed seed (64 hex characters)")
	commitment := fs.String("commitment", "", "the commitment published when the draw opened")
	entriesFile := fs.String("entries", "", "file with the eligible entry ids (or the draw's JSON)")
	k := fs.Int("winners", 0, "how many winners the draw has")
	expect := fs.String("expect", "", "the published winners, comma separated, to compare")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var entries, published []int64
	switch {
	case *url != "":
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", *url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("draw verify: %s answered %d", *url, resp.StatusCode)
		}
		if err := fromResult(raw, seed, commitment, k, &entries, &published); err != nil {
			return err
		}
	case *entriesFile != "":
		raw, err := os.ReadFile(*entriesFile)
		if err != nil {
			return err
		}
		if strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
			if err := fromResult(raw, seed, commitment, k, &entries, &published); err != nil {
				return err
			}
		} else if entries, err = parseIDs(string(raw)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("draw verify: give --url, or --seed with --entries")
	}
	if *expect != "" {
		var err error
		if published, err = parseIDs(*expect); err != nil {
			return err
		}
	}
	if *seed == "" || *k <= 0 {
		return fmt.Errorf("draw verify: the seed and the number of winners are needed (is the draw drawn yet?)")
	}
	v, err := draws.Verify(*seed, *commitment, entries, *k, published)
	if err != nil {
		return err
	}
	if *commitment != "" {
		fmt.Fprintf(stdout, "commitment: %v (SHA-256 of the seed %s the published %s)\n", ok(v.CommitmentOK), map[bool]string{true: "equals", false: "differs from"}[v.CommitmentOK], *commitment)
	}
	fmt.Fprintf(stdout, "entries: %d eligible; winners recomputed: %v\n", v.Entries, v.Winners)
	if published != nil {
		fmt.Fprintf(stdout, "published winners: %v — %s\n", published, ok(v.Match))
	}
	line, _ := json.Marshal(v)
	fmt.Fprintln(stdout, string(line))
	if !v.Match || (*commitment != "" && !v.CommitmentOK) {
		return fmt.Errorf("draw verify: the draw does not verify")
	}
	return nil
}

func ok(b bool) string {
	if b {
		return "OK"
	}
	return "MISMATCH"
}

// fromResult reads GET /api/v1/draws/{id}; flags already given win.
func fromResult(raw []byte, seed, commitment *string, k *int, entries, published *[]int64) error {
	var res draws.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("draw verify: not a draw document: %w", err)
	}
	if *seed == "" {
		*seed = res.Draw.Seed
	}
	if *commitment == "" {
		*commitment = res.Draw.Commitment
	}
	if *k == 0 {
		*k = res.Draw.Winners
	}
	for _, e := range res.Entries {
		*entries = append(*entries, e.CustomerID)
	}
	for _, w := range res.Winners {
		*published = append(*published, w.CustomerID)
	}
	if *published == nil {
		*published = []int64{}
	}
	return nil
}

func parseIDs(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("draw verify: %q is not an entry id", f)
		}
		out = append(out, id)
	}
	return out, nil
}
