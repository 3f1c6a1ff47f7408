// Package cn holds the facts about China that every ShelfLive package
// shares. It imports nothing of ShelfLive, so any domain, adapter or tool
// may import it.
package cn

import "time"

// Shanghai is China's one time zone (UTC+8, no daylight saving since 1991):
// where shops, buyers and regulators read dates. Storage stays UTC; convert
// with t.In(cn.Shanghai) only to show a time or to read a date a person
// wrote ("expires 2026-12-01" means through that day in China).
//
// The tz database is used when the system has it; otherwise a fixed +08:00
// zone, which gives the same wall clock for every date since 1991.
var Shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()
