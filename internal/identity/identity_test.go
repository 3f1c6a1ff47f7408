package identity_test

import (
	"testing"

	"github.com/shelflive/shelflive/internal/identity"
)

func TestNormalizePhone(t *testing.T) {
	good := map[string]string{"13800138000": "13800138000", "+86 138 0013 8000": "13800138000", "0086-13800138000": "13800138000"}
	for in, want := range good {
		if got, err := identity.NormalizePhone(in); err != nil || got != want {
			t.Errorf("%q -> %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "12800138000", "1380013800", "138001380000", "abc", "+1 415 555 0100"} {
		if _, err := identity.NormalizePhone(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := identity.MaskPhone("13812341234"); got != "138****1234" {
		t.Errorf("mask = %q", got)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := identity.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !identity.CheckPassword(h, "correct horse") || identity.CheckPassword(h, "correct horsf") || identity.CheckPassword("$argon2id$broken", "x") {
		t.Fatal("password check wrong")
	}
	h2, _ := identity.HashPassword("correct horse")
	if h == h2 {
		t.Fatal("hashes must be salted")
	}
}

func TestPermissionTable(t *testing.T) {
	if !identity.Can(identity.RoleOwner, identity.PermStaffWrite) || identity.Can(identity.RoleAdmin, identity.PermStaffWrite) {
		t.Fatal("only owners manage staff")
	}
	if identity.Can(identity.RoleHost, identity.PermCustomerPII) || !identity.Can(identity.RoleStore, identity.PermCustomerPII) {
		t.Fatal("hosts see masked contacts; store staff who hand over see them")
	}
	if identity.Can(identity.RoleViewer, identity.PermOrdersRead) {
		t.Fatal("viewers have no staff permissions")
	}
}
