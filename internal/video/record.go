package video

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
)

// On-disk layout (all under DataDir/video):
//
//	{slug}/{recID}/journal      append-only text: "rec", "seg" and "end" lines
//	{slug}/{recID}/000001.ts    MPEG-TS segments, each starting on a keyframe
//
// The same segment files serve the live HLS playlist, the replay playlist
// and the recording, so recording costs no extra muxing. The journal is
// appended only after a segment file is complete, so after a crash every
// journaled segment is playable; a recording without an "end" line is
// simply treated as ended once no publisher owns it.

// recIDLayout names a recording after its start time (UTC, ms): sortable
// and path-safe.
const recIDLayout = "20060102T150405.000Z"

var (
	recIDRe  = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z(-[0-9]{1,3})?$`)
	segURIRe = regexp.MustCompile(`^([0-9]{8}T[0-9]{6}\.[0-9]{3}Z(?:-[0-9]{1,3})?)_([0-9]{6})\.ts$`)
)

// tsOffset shifts MPEG-TS timestamps so that PCR (DTS minus a small lead)
// never goes negative at the start of a recording.
const tsOffset = time.Second

// segInfo describes one complete segment.
type segInfo struct {
	RecID string
	Seq   int
	Dur   time.Duration
	PDT   time.Time // wall clock of the segment's first frame
	First bool      // first segment of its recording (discontinuity)
}

// uri is the segment name used in every playlist; it is resolved relative
// to the playlist, under /media/live/{slug}/ or /media/replay/{slug}/.
func (s segInfo) uri() string { return fmt.Sprintf("%s_%06d.ts", s.RecID, s.Seq) }

// parseSegURI splits a segment name into recording ID and sequence number.
func parseSegURI(name string) (recID string, seq int, ok bool) {
	m := segURIRe.FindStringSubmatch(name)
	if m == nil {
		return "", 0, false
	}
	seq, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], seq, true
}

func videoDir(dataDir string) string { return filepath.Join(dataDir, "video") }

func recDir(dataDir, slug, recID string) string {
	return filepath.Join(videoDir(dataDir), slug, recID)
}

func segPath(dataDir, slug, recID string, seq int) string {
	return filepath.Join(recDir(dataDir, slug, recID), segInfo{Seq: seq}.file())
}

// file is the segment's file name inside its recording directory (and the
// last element of its object store key).
func (s segInfo) file() string { return fmt.Sprintf("%06d.ts", s.Seq) }

// recorder cuts one publish into MPEG-TS segments on keyframes and journals
// them. It runs on the publisher's goroutine only.
type recorder struct {
	log       *slog.Logger
	dataDir   string
	slug      string
	id        string
	started   time.Time
	target    time.Duration
	journal   *os.File
	jsize     int64   // bytes written to the journal
	mirror    *mirror // copies finished files to the object store; nil = local only
	onSegment func(segInfo)

	hasVideo bool
	aconf    *mpeg4audio.AudioSpecificConfig
	sps, pps []byte

	haveFirst bool
	firstTS   time.Duration
	seq       int
	seg       *tsSegment
	segs      int
	total     time.Duration
}

// tsSegment is the segment being written.
type tsSegment struct {
	f        *os.File
	bw       *bufio.Writer
	w        *mpegts.Writer
	vt, at   *mpegts.Track
	seq      int
	start    time.Duration // stream time of the first frame
	last     time.Duration // stream time of the last frame
	lastStep time.Duration // distance between the last two frames
}

// newRecorder creates the recording directory and journal. mir may be nil.
func newRecorder(log *slog.Logger, dataDir, slug string, started time.Time, target time.Duration,
	hasVideo bool, sps, pps []byte, aconf *mpeg4audio.AudioSpecificConfig, onSegment func(segInfo), mir *mirror,
) (*recorder, error) {
	base := started.UTC().Format(recIDLayout)
	id := base
	var dir string
	for i := 2; ; i++ {
		dir = recDir(dataDir, slug, id)
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("record: %w", err)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !os.IsExist(err) || i > 999 {
			return nil, fmt.Errorf("record: %w", err)
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
	j, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &recorder{
		log: log, dataDir: dataDir, slug: slug, id: id, started: started.UTC(), target: target,
		journal: j, onSegment: onSegment, hasVideo: hasVideo, sps: sps, pps: pps, aconf: aconf, mirror: mir,
	}
	if err := r.journalf("rec\t%s\t%s\n", slug, r.started.Format(time.RFC3339Nano)); err != nil {
		j.Close()
		return nil, err
	}
	mir.journal(slug, id, r.jsize)
	return r, nil
}

// journalf appends one journal line and counts its bytes.
func (r *recorder) journalf(format string, a ...any) error {
	n, err := fmt.Fprintf(r.journal, format, a...)
	r.jsize += int64(n)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return nil
}

// writeH264 records one access unit. Parameter-set-only units (the RTMP
// sequence header) update SPS/PPS; IDR frames get SPS/PPS prepended because
// RTMP carries them out of band but each HLS segment must be decodable on
// its own.
func (r *recorder) writeH264(pts, dts time.Duration, au [][]byte) error {
	hasSlice := false
	var sps, pps []byte
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		case h264.NALUTypeNonIDR, h264.NALUTypeIDR, h264.NALUTypeDataPartitionA:
			hasSlice = true
		}
	}
	if sps != nil {
		r.sps = append([]byte(nil), sps...)
	}
	if pps != nil {
		r.pps = append([]byte(nil), pps...)
	}
	if !hasSlice {
		return nil
	}
	idr := h264.IsRandomAccess(au)
	if idr && sps == nil && r.sps != nil && r.pps != nil {
		au = append([][]byte{r.sps, r.pps}, au...)
	}
	if err := r.cut(dts, idr); err != nil {
		return err
	}
	if r.seg == nil {
		return nil // waiting for the first keyframe
	}
	r.seg.advance(dts)
	return r.seg.w.WriteH264(r.seg.vt, ts90k(pts), ts90k(dts), au)
}

// writeAAC records one AAC access unit.
func (r *recorder) writeAAC(pts time.Duration, au []byte) error {
	if r.aconf == nil {
		return nil
	}
	if !r.hasVideo {
		if err := r.cut(pts, true); err != nil {
			return err
		}
	}
	if r.seg == nil {
		return nil
	}
	if pts < r.seg.start {
		return nil // audio from before the segment's keyframe
	}
	if !r.hasVideo {
		r.seg.advance(pts)
	}
	return r.seg.w.WriteMPEG4Audio(r.seg.at, ts90k(pts), [][]byte{au})
}

func ts90k(d time.Duration) int64 { return int64(d+tsOffset) * 9 / 100000 }

func (s *tsSegment) advance(t time.Duration) {
	if t > s.last {
		s.lastStep = t - s.last
		s.last = t
	}
}

// cut closes the current segment and opens a new one when t is a random
// access point at least target after the segment start.
func (r *recorder) cut(t time.Duration, randomAccess bool) error {
	if !randomAccess {
		return nil
	}
	if r.seg != nil && t-r.seg.start < r.target {
		return nil
	}
	if r.seg != nil {
		if err := r.closeSegment(t - r.seg.start); err != nil {
			return err
		}
	}
	if !r.haveFirst {
		r.haveFirst = true
		r.firstTS = t
	}
	r.seq++
	f, err := os.Create(segPath(r.dataDir, r.slug, r.id, r.seq))
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	s := &tsSegment{f: f, bw: bufio.NewWriterSize(f, 64<<10), seq: r.seq, start: t, last: t}
	var tracks []*mpegts.Track
	if r.hasVideo {
		s.vt = &mpegts.Track{Codec: &tscodecs.H264{}}
		tracks = append(tracks, s.vt)
	}
	if r.aconf != nil {
		s.at = &mpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: *r.aconf}}
		tracks = append(tracks, s.at)
	}
	s.w = &mpegts.Writer{W: s.bw, Tracks: tracks}
	if err := s.w.Initialize(); err != nil {
		f.Close()
		return fmt.Errorf("record: %w", err)
	}
	r.seg = s
	return nil
}

// closeSegment finishes the current segment and journals it with duration
// dur; only then does it become visible to playlists.
func (r *recorder) closeSegment(dur time.Duration) error {
	s := r.seg
	r.seg = nil
	if err := s.bw.Flush(); err != nil {
		s.f.Close()
		return fmt.Errorf("record: %w", err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if dur <= 0 {
		dur = 40 * time.Millisecond
	}
	info := segInfo{
		RecID: r.id, Seq: s.seq, Dur: dur,
		PDT:   r.started.Add(s.start - r.firstTS),
		First: r.segs == 0,
	}
	if err := r.journalf("seg\t%d\t%d\t%s\n", info.Seq, info.Dur.Microseconds(),
		info.PDT.Format(time.RFC3339Nano)); err != nil {
		return err
	}
	r.segs++
	r.total += dur
	r.onSegment(info)
	r.mirror.segment(r.slug, r.id, info.Seq, r.jsize)
	return nil
}

// close flushes the last (partial) segment and marks the recording ended.
func (r *recorder) close() error {
	var firstErr error
	if r.seg != nil {
		dur := r.seg.last - r.seg.start + r.seg.lastStep
		if err := r.closeSegment(dur); err != nil {
			firstErr = err
		}
	}
	if err := r.journalf("end\t%s\n", time.Now().UTC().Format(time.RFC3339Nano)); err != nil && firstErr == nil {
		firstErr = err
	}
	if err := r.journal.Close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("record: %w", err)
	}
	// The whole recording, checked against the store: covers copies that
	// were dropped or failed while live.
	r.mirror.reconcileLater(r.slug, r.id)
	return firstErr
}

// recordingFile is a recording as read back from its journal.
type recordingFile struct {
	ID        string
	Slug      string
	StartedAt time.Time
	Segs      []segInfo
	Ended     bool
	Remote    bool // read from the object store, not recorded on this node
}

func (rf *recordingFile) duration() time.Duration {
	var d time.Duration
	for _, s := range rf.Segs {
		d += s.Dur
	}
	return d
}

// readRecording parses a journal; a torn last line (crash mid-append) is
// ignored.
func readRecording(dataDir, slug, recID string) (*recordingFile, error) {
	b, err := os.ReadFile(filepath.Join(recDir(dataDir, slug, recID), "journal"))
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return parseJournal(slug, recID, b)
}

// parseJournal reads a journal's lines (from disk or the object store).
func parseJournal(slug, recID string, b []byte) (*recordingFile, error) {
	rf := &recordingFile{ID: recID, Slug: slug}
	text := string(b)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		text = ""
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "rec" && len(f) == 3:
			t, err := time.Parse(time.RFC3339Nano, f[2])
			if err != nil {
				return nil, fmt.Errorf("record: %s: %w", recID, err)
			}
			rf.StartedAt = t.UTC()
		case f[0] == "seg" && len(f) == 4:
			seq, err1 := strconv.Atoi(f[1])
			us, err2 := strconv.ParseInt(f[2], 10, 64)
			pdt, err3 := time.Parse(time.RFC3339Nano, f[3])
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			rf.Segs = append(rf.Segs, segInfo{
				RecID: recID, Seq: seq, Dur: time.Duration(us) * time.Microsecond,
				PDT: pdt.UTC(), First: len(rf.Segs) == 0,
			})
		case f[0] == "end":
			rf.Ended = true
		}
	}
	if rf.StartedAt.IsZero() {
		return nil, fmt.Errorf("record: %s: journal has no start", recID)
	}
	return rf, nil
}

// listRecordings reads every recording of a room, oldest first. Recordings
// with no complete segment are skipped.
func listRecordings(log *slog.Logger, dataDir, slug string) []*recordingFile {
	ents, err := os.ReadDir(filepath.Join(videoDir(dataDir), slug))
	if err != nil {
		return nil
	}
	var out []*recordingFile
	for _, e := range ents {
		if !e.IsDir() || !recIDRe.MatchString(e.Name()) {
			continue
		}
		rf, err := readRecording(dataDir, slug, e.Name())
		if err != nil {
			log.Warn("video: unreadable recording", "slug", slug, "recording", e.Name(), "err", err)
			continue
		}
		if len(rf.Segs) == 0 {
			continue
		}
		out = append(out, rf)
	}
	sortRecordings(out)
	return out
}

// sortRecordings orders recordings oldest first, as replay chains them.
func sortRecordings(recs []*recordingFile) {
	sort.Slice(recs, func(i, j int) bool {
		if !recs[i].StartedAt.Equal(recs[j].StartedAt) {
			return recs[i].StartedAt.Before(recs[j].StartedAt)
		}
		return recs[i].ID < recs[j].ID
	})
}
