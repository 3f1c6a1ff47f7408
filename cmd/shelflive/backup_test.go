package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestore: back up a running node, change data, wipe the data
// dir, restore: the data is what it was at backup time.
func TestBackupRestore(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	p := startProc(t, bin, dataDir)
	owner := "crash-owner-token"
	if st, _ := call(p.base, owner, "POST", "/api/v1/stores", map[string]any{"name": "备份测试店", "address": "上海市黄浦区1号", "lat": 31.23, "lng": 121.47}, nil, nil); st != 201 {
		t.Fatalf("create store: %d", st)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if out, err := exec.Command(bin, "backup", "-data-dir", dataDir, backup).CombinedOutput(); err != nil {
		t.Fatalf("backup while running: %v %s", err, out)
	}
	// A change after the backup, which the restore must undo.
	call(p.base, owner, "POST", "/api/v1/stores", map[string]any{"name": "备份之后的店", "address": "上海市黄浦区2号", "lat": 31.23, "lng": 121.47}, nil, nil)
	// Restoring under the running server is refused (it would delete its
	// live WAL and lose what it writes next).
	if out, err := exec.Command(bin, "restore", "-data-dir", dataDir, backup).CombinedOutput(); err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("restore under a running server: %v %s", err, out)
	}
	if st, _ := call(p.base, owner, "POST", "/api/v1/stores", map[string]any{"name": "恢复被拒之后", "address": "上海市黄浦区3号", "lat": 31.23, "lng": 121.47}, nil, nil); st != 201 {
		t.Fatalf("the server stopped working after a refused restore: %d", st)
	}
	p.kill()

	fresh := t.TempDir() // a wiped machine
	if out, err := exec.Command(bin, "restore", "-data-dir", fresh, backup).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	p = startProc(t, bin, fresh)
	defer p.kill()
	var stores struct{ Stores []struct{ Name string } }
	// The token survives because sessions are in the database.
	if st, _ := call(p.base, owner, "GET", "/api/v1/stores", nil, nil, &stores); st != 200 {
		t.Fatalf("list stores: %d", st)
	}
	var names []string
	for _, s := range stores.Stores {
		names = append(names, s.Name)
	}
	all := strings.Join(names, ",")
	if !strings.Contains(all, "备份测试店") || strings.Contains(all, "备份之后的店") || len(names) != 4 {
		t.Fatalf("restored stores: %s", all)
	}
}
