package web_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shelflive/shelflive/internal/testkit"
)

// TestStaffInvites: the owner invites a host with a one-time link that
// fixes role and store; the invitee chooses username and password in a
// real browser and lands in the studio; the link works once. A reset link
// sets a new password and ends every session of the account.
func TestStaffInvites(t *testing.T) {
	// The concurrent accepts below come from ten addresses (X-Forwarded-For
	// from a trusted proxy), so the per-address invite limit does not
	// decide the race the test is about.
	m := testkit.StartNode(t, "", "-trusted-proxies", "127.0.0.1")
	base := m.URL()
	owner := staffLogin(t, base, "owner", "shelflive-demo").Token
	var stores struct{ Stores []struct{ ID int64 } }
	send(t, nil, base, "GET", "/api/v1/stores", nil, owner, nil).decode(t, &stores)
	storeID := stores.Stores[1].ID

	send(t, nil, base, "POST", "/api/v1/staff/invites", map[string]any{"name": "", "role": "host"}, owner, nil).wantProblem(t, 400, "name_required")
	send(t, nil, base, "POST", "/api/v1/staff/invites", map[string]any{"name": "x", "role": "host", "valid_hours": 500}, owner, nil).wantProblem(t, 400, "invalid_valid_hours")
	send(t, nil, base, "POST", "/api/v1/staff/invites", map[string]any{"name": "x", "role": "host", "store_id": 99999}, owner, nil).wantProblem(t, 400, "unknown_store")
	admin := staffLogin(t, base, "host", "shelflive-demo").Token
	send(t, nil, base, "POST", "/api/v1/staff/invites", map[string]any{"name": "x", "role": "host"}, admin, nil).wantProblem(t, 403, "forbidden")

	var link struct {
		URL    string
		Invite struct {
			Role    string
			StoreID int64 `json:"store_id"`
		}
	}
	r := send(t, nil, base, "POST", "/api/v1/staff/invites", map[string]any{"name": "小周", "role": "store", "store_id": storeID, "valid_hours": 24}, owner, nil)
	if r.Status != 201 {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	r.decode(t, &link)
	if !strings.HasPrefix(link.URL, base+"/invite/") || link.Invite.Role != "store" || link.Invite.StoreID != storeID {
		t.Fatalf("invite answer: %+v", link)
	}
	token := strings.TrimPrefix(link.URL, base+"/invite/")

	browser := testkit.Browser(t)
	ctx := testkit.NewContext(t, browser, 60*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(link.URL),
		chromedp.WaitVisible(chromedp.CSS("#invite-username")),
		chromedp.SendKeys(chromedp.CSS("#invite-username"), "xiaozhou"),
		chromedp.SendKeys(chromedp.CSS("#invite-password"), "123456789012"),
		chromedp.Click(chromedp.CSS("#invite-submit")),
		chromedp.WaitVisible(chromedp.CSS("#invite-error")),
	); err != nil {
		testkit.Screenshot(t, ctx, "invite-failed")
		t.Fatal(err)
	}
	what, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#invite-what")))
	errText, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#invite-error")))
	if !strings.Contains(what, "小周") || !strings.Contains(what, "门店") || !strings.Contains(errText, "两类") {
		t.Fatalf("invite page shows %q, weak password %q", what, errText)
	}
	testkit.Screenshot(t, ctx, "invite-01-weak")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#invite-password").value = ""`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#invite-password"), "Cold-Shelf-2468"),
		chromedp.Click(chromedp.CSS("#invite-submit")),
		chromedp.WaitVisible(chromedp.CSS("#pickup-code, #code, input")),
	); err != nil {
		testkit.Screenshot(t, ctx, "invite-failed")
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the store page", 20*time.Second, func() bool {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		return strings.HasSuffix(loc, "/pickup")
	})
	testkit.Screenshot(t, ctx, "invite-02-joined")
	me := staffLogin(t, base, "xiaozhou", "Cold-Shelf-2468")
	if me.Role != "store" {
		t.Fatalf("invited account has role %s", me.Role)
	}
	// Used: the link is dead, on the page and the API.
	send(t, nil, base, "POST", "/api/v1/invites/accept", map[string]string{"token": token, "username": "again", "password": "Cold-Shelf-2468"}, "", nil).wantProblem(t, 410, "invite_invalid")
	if r := send(t, nil, base, "GET", "/invite/"+token, nil, "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "invite-invalid") {
		t.Fatalf("used link page: %d", r.Status)
	}

	// Reset: two sessions of the account end when the link is used.
	var staff struct {
		Staff []struct {
			ID       int64
			Username string
		}
	}
	send(t, nil, base, "GET", "/api/v1/staff", nil, owner, nil).decode(t, &staff)
	var id int64
	for _, s := range staff.Staff {
		if s.Username == "xiaozhou" {
			id = s.ID
		}
	}
	other := staffLogin(t, base, "xiaozhou", "Cold-Shelf-2468")
	r = send(t, nil, base, "POST", "/api/v1/staff/"+strconv.FormatInt(id, 10)+"/reset-link", nil, owner, nil)
	if r.Status != 201 {
		t.Fatalf("reset link: %d %s", r.Status, r.Body)
	}
	r.decode(t, &link)
	reset := strings.TrimPrefix(link.URL, base+"/invite/")
	if send(t, nil, base, "GET", "/api/v1/orders", nil, me.Token, nil).Status != 200 {
		t.Fatal("session before the reset")
	}
	send(t, nil, base, "POST", "/api/v1/invites/accept", map[string]string{"token": reset, "password": "xiaozhou-2024-x"}, "", nil).wantProblem(t, 400, "password_like_login")
	if r := send(t, nil, base, "POST", "/api/v1/invites/accept", map[string]string{"token": reset, "password": "New-Basket-1357"}, "", nil); r.Status != 201 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	for _, tok := range []string{me.Token, other.Token} {
		send(t, nil, base, "GET", "/api/v1/orders", nil, tok, nil).wantProblem(t, 401, "unauthorized")
	}
	send(t, nil, base, "POST", "/api/v1/auth/login", map[string]string{"login": "xiaozhou", "password": "Cold-Shelf-2468"}, "", nil).wantProblem(t, 401, "bad_credentials")
	staffLogin(t, base, "xiaozhou", "New-Basket-1357")

	// Two people submit one link at the same moment: one account.
	r = send(t, nil, base, "POST", "/api/v1/staff/invites", map[string]any{"name": "并发", "role": "guide"}, owner, nil)
	r.decode(t, &link)
	race := strings.TrimPrefix(link.URL, base+"/invite/")
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = send(t, nil, base, "POST", "/api/v1/invites/accept", map[string]string{"token": race, "username": "racer" + strconv.Itoa(i), "password": "Twin-Lanterns-88"}, "", map[string]string{"X-Forwarded-For": "10.0.0." + strconv.Itoa(i)}).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		if st == 201 {
			created++
		} else if st != 410 {
			t.Fatalf("concurrent accept answered %d", st)
		}
	}
	if created != 1 {
		t.Fatalf("%d accounts from one link (statuses %v)", created, statuses)
	}
}

// TestCredentialChangesEndSessions: changing one's password ends the
// person's other sessions and keeps this one; an owner's new password or
// disable ends all of them; a role change applies to the next request.
func TestCredentialChangesEndSessions(t *testing.T) {
	m := testkit.StartNode(t, "")
	base := m.URL()
	owner := staffLogin(t, base, "owner", "shelflive-demo").Token
	send(t, nil, base, "POST", "/api/v1/staff", map[string]any{"username": "cred-host", "name": "换密码", "role": "host", "password": "Start-Pass-1122"}, owner, nil)
	a := staffLogin(t, base, "cred-host", "Start-Pass-1122")
	b := staffLogin(t, base, "cred-host", "Start-Pass-1122")
	for _, s := range []session{a, b} { // both cached on this node
		if send(t, nil, base, "GET", "/api/v1/rooms", nil, s.Token, nil).Status != 200 {
			t.Fatal("host sessions before the change")
		}
	}
	send(t, nil, base, "POST", "/api/v1/auth/password", map[string]string{"current_password": "wrong", "new_password": "Next-Pass-3344"}, a.Token, nil).wantProblem(t, 400, "wrong_password")
	send(t, nil, base, "POST", "/api/v1/auth/password", map[string]string{"current_password": "Start-Pass-1122", "new_password": "short"}, a.Token, nil).wantProblem(t, 400, "weak_password")
	if r := send(t, nil, base, "POST", "/api/v1/auth/password", map[string]string{"current_password": "Start-Pass-1122", "new_password": "Next-Pass-3344"}, a.Token, nil); r.Status != 204 {
		t.Fatalf("change password: %d %s", r.Status, r.Body)
	}
	send(t, nil, base, "GET", "/api/v1/rooms", nil, b.Token, nil).wantProblem(t, 401, "unauthorized")
	if send(t, nil, base, "GET", "/api/v1/rooms", nil, a.Token, nil).Status != 200 {
		t.Fatal("the session that changed the password ended")
	}
	viewer := viewerLogin(t, base, "demo", "13900000077")
	send(t, nil, base, "POST", "/api/v1/auth/password", map[string]string{"current_password": "x", "new_password": "Next-Pass-3344"}, viewer.Token, nil).wantProblem(t, 403, "staff_only")

	var list struct {
		Staff []struct {
			ID       int64
			Username string
		}
	}
	send(t, nil, base, "GET", "/api/v1/staff", nil, owner, nil).decode(t, &list)
	var id string
	for _, s := range list.Staff {
		if s.Username == "cred-host" {
			id = strconv.FormatInt(s.ID, 10)
		}
	}
	// A role change: the cached session sees it on its next request.
	send(t, nil, base, "PUT", "/api/v1/staff/"+id, map[string]any{"name": "换密码", "role": "quality"}, owner, nil)
	send(t, nil, base, "GET", "/api/v1/rooms", nil, a.Token, nil).wantProblem(t, 403, "forbidden")
	// The owner sets a password: every session ends.
	c := staffLogin(t, base, "cred-host", "Next-Pass-3344")
	send(t, nil, base, "PUT", "/api/v1/staff/"+id, map[string]any{"name": "换密码", "role": "quality", "password": "Owner-Set-5566"}, owner, nil)
	for _, s := range []session{a, c} {
		send(t, nil, base, "GET", "/api/v1/lots", nil, s.Token, nil).wantProblem(t, 401, "unauthorized")
	}
	// Disabled: every session ends, and no new one starts.
	d := staffLogin(t, base, "cred-host", "Owner-Set-5566")
	send(t, nil, base, "GET", "/api/v1/lots", nil, d.Token, nil)
	send(t, nil, base, "PUT", "/api/v1/staff/"+id, map[string]any{"name": "换密码", "role": "quality", "disabled": true}, owner, nil)
	send(t, nil, base, "GET", "/api/v1/lots", nil, d.Token, nil).wantProblem(t, 401, "unauthorized")
	send(t, nil, base, "POST", "/api/v1/auth/login", map[string]string{"login": "cred-host", "password": "Owner-Set-5566"}, "", nil).wantProblem(t, 401, "bad_credentials")
}
