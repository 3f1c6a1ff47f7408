package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Clips: a stretch of a room's recording as an MP4 of its own, without
// re-encoding. The recording's segments each start on a keyframe, so the
// segments that overlap the stretch, joined end to end, are a valid
// MPEG-TS that starts on a keyframe at or before the asked start (at most
// one segment, about one GOP, early). ffmpeg then copies the streams into
// MP4 (-c copy, -movflags +faststart so phones start playing at once),
// trimmed at the asked end, and ffprobe reads back what was written.

// Errors of CutClip; compare with errors.Is.
var (
	// ErrNotRecorded: no recording of the room overlaps the stretch.
	ErrNotRecorded = errors.New("video: no recording covers the clip")
	// ErrNotYet: the recording that holds the stretch is still being
	// written and does not reach its end yet.
	ErrNotYet = errors.New("video: the recording does not reach the clip's end yet")
)

// ClipInfo is what ffprobe reads from a cut clip.
type ClipInfo struct {
	// Start is the wall clock of the clip's first frame (a keyframe).
	Start      time.Time
	Duration   time.Duration
	VideoCodec string
	Width      int
	Height     int
	AudioCodec string
}

// CutClip writes the stretch [from, to) of a room's recording to dst as MP4
// without re-encoding. A stretch that spans a reconnect is cut from the
// recording it starts in. A recording that ended before to gives what it
// holds; one still being written gives ErrNotYet.
func (s *Server) CutClip(ctx context.Context, slug string, from, to time.Time, dst string) (ClipInfo, error) {
	if !ValidSlug(slug) || !to.After(from) {
		return ClipInfo{}, ErrNotRecorded
	}
	recs := s.recordings(ctx, slug)
	inProgress := s.inProgress(slug, recs)
	var rec *recordingFile
	var segs []segInfo
	for _, rf := range recs {
		for _, sg := range rf.Segs {
			if sg.PDT.Before(to) && sg.PDT.Add(sg.Dur).After(from) {
				segs = append(segs, sg)
			}
		}
		if len(segs) > 0 {
			rec = rf
			break
		}
	}
	if rec == nil {
		return ClipInfo{}, ErrNotRecorded
	}
	last := segs[len(segs)-1]
	if last.PDT.Add(last.Dur).Before(to) && inProgress(rec.ID) {
		return ClipInfo{}, ErrNotYet
	}
	ffmpeg, err := s.tool(s.cfg.FFmpeg, "ffmpeg")
	if err != nil {
		return ClipInfo{}, err
	}
	ffprobe, err := s.tool(s.cfg.FFprobe, "ffprobe")
	if err != nil {
		return ClipInfo{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "clip-*.ts")
	if err != nil {
		return ClipInfo{}, fmt.Errorf("video: clip: %w", err)
	}
	defer os.Remove(tmp.Name())
	for _, sg := range segs {
		if err := s.copySegment(ctx, tmp, slug, rec.ID, sg.Seq); err != nil {
			tmp.Close()
			return ClipInfo{}, err
		}
	}
	if err := tmp.Close(); err != nil {
		return ClipInfo{}, fmt.Errorf("video: clip: %w", err)
	}
	start := segs[0].PDT
	length := to.Sub(start)
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-i", tmp.Name(), "-t", strconv.FormatFloat(length.Seconds(), 'f', 3, 64),
		"-map", "0:v?", "-map", "0:a?", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", dst)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return ClipInfo{}, fmt.Errorf("video: clip: ffmpeg: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	info, err := ProbeClip(ctx, ffprobe, dst)
	if err != nil {
		return ClipInfo{}, err
	}
	info.Start = start
	return info, nil
}

// tool finds ffmpeg or ffprobe: the configured path, else on PATH.
func (s *Server) tool(configured, name string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("video: clips need %s: %w", name, err)
	}
	return p, nil
}

// copySegment appends one recorded segment: the local file, else the
// object store's copy.
func (s *Server) copySegment(ctx context.Context, w io.Writer, slug, recID string, seq int) error {
	f, err := os.Open(segPath(s.cfg.DataDir, slug, recID, seq))
	if err == nil {
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
	if s.cfg.Store == nil || !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("video: clip: %w", err)
	}
	rc, _, err := s.cfg.Store.Get(ctx, recKey(slug, recID)+"/"+segInfo{Seq: seq}.file())
	if err != nil {
		return fmt.Errorf("video: clip: %w", err)
	}
	defer rc.Close()
	_, err = io.Copy(w, rc)
	return err
}

// ProbeClip reads a media file's duration and codecs with ffprobe.
func ProbeClip(ctx context.Context, ffprobe, file string) (ClipInfo, error) {
	out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries",
		"format=duration:stream=codec_type,codec_name,width,height", "-of", "json", file).Output()
	if err != nil {
		return ClipInfo{}, fmt.Errorf("video: ffprobe: %w", err)
	}
	var p struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			Type   string `json:"codec_type"`
			Codec  string `json:"codec_name"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return ClipInfo{}, fmt.Errorf("video: ffprobe: %w", err)
	}
	var info ClipInfo
	if d, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil {
		info.Duration = time.Duration(d * float64(time.Second))
	}
	for _, st := range p.Streams {
		switch st.Type {
		case "video":
			info.VideoCodec, info.Width, info.Height = st.Codec, st.Width, st.Height
		case "audio":
			info.AudioCodec = st.Codec
		}
	}
	if info.Duration <= 0 || (info.VideoCodec == "" && info.AudioCodec == "") {
		return ClipInfo{}, fmt.Errorf("video: ffprobe: %s holds no media", filepath.Base(file))
	}
	return info, nil
}
