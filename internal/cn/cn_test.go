package cn_test

import (
	"testing"
	"time"

	"github.com/shelflive/shelflive/internal/cn"
)

func TestShanghaiIsUTCPlus8(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 1, 15, 16, 0, 0, 0, time.UTC), // winter
		time.Date(2026, 7, 15, 16, 0, 0, 0, time.UTC), // summer: no DST
	} {
		got := at.In(cn.Shanghai)
		if got.Hour() != 0 || got.Day() != 16 {
			t.Fatalf("%v in Shanghai = %v, want 00:00 on the next day", at, got)
		}
	}
}
