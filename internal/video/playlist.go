package video

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Playlists are small enough to write by hand (RFC 8216). Every segment
// carries EXT-X-PROGRAM-DATE-TIME so that players and the replay page can
// map wall-clock times (a product pin) to media positions.

const pdtLayout = "2006-01-02T15:04:05.000Z07:00"

// targetDuration is the EXT-X-TARGETDURATION for segs: the longest segment
// rounded to the nearest second (RFC 8216 4.3.3.1), at least min.
func targetDuration(segs []segInfo, min int) int {
	t := min
	for _, s := range segs {
		if d := int(math.Round(s.Dur.Seconds())); d > t {
			t = d
		}
	}
	if t < 1 {
		t = 1
	}
	return t
}

func writeSeg(b *strings.Builder, s segInfo) {
	fmt.Fprintf(b, "#EXT-X-PROGRAM-DATE-TIME:%s\n", s.PDT.UTC().Format(pdtLayout))
	fmt.Fprintf(b, "#EXTINF:%.3f,\n%s\n", s.Dur.Seconds(), s.uri())
}

// livePlaylist renders the sliding live window. mediaSeq is the sequence
// number of segs[0] and discSeq the number of discontinuities that already
// left the window. A segment that starts a new recording (a reconnect) is
// preceded by EXT-X-DISCONTINUITY, so players keep playing across host
// reconnects.
func livePlaylist(segs []segInfo, mediaSeq, discSeq, target int) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", target)
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", mediaSeq)
	fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", discSeq)
	for i, s := range segs {
		if s.First && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		writeSeg(&b, s)
	}
	return b.String()
}

// vodPlaylist chains recordings into one replay playlist. While a recording
// is still being written the playlist is an EVENT playlist without
// EXT-X-ENDLIST, so a replay opened during the live grows with it.
func vodPlaylist(recs []*recordingFile, inProgress func(id string) bool) string {
	var all []segInfo
	open := false
	for _, r := range recs {
		all = append(all, r.Segs...)
		if inProgress(r.ID) {
			open = true
		}
	}
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", targetDuration(all, 1))
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:0\n")
	if open {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
	} else {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	}
	for i, s := range all {
		if s.First && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		writeSeg(&b, s)
	}
	if !open {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.String()
}

// liveWindow is a room's live HLS state; it survives publisher reconnects
// (new segments follow a discontinuity) so players do not have to reload.
type liveWindow struct {
	segs     []segInfo
	mediaSeq int // sequence number of segs[0]
	discSeq  int
	target   int
	max      int
	updated  time.Time
}

func (w *liveWindow) add(s segInfo, minTarget int) {
	w.segs = append(w.segs, s)
	if d := targetDuration([]segInfo{s}, minTarget); d > w.target {
		w.target = d
	}
	for len(w.segs) > w.max {
		if w.segs[1].First {
			w.discSeq++
		}
		w.segs = w.segs[1:]
		w.mediaSeq++
	}
	w.updated = time.Now()
}
