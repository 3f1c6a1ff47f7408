package node

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shelflive/shelflive/internal/app"
	"github.com/shelflive/shelflive/internal/clips"
	"github.com/shelflive/shelflive/internal/objstore"
	"github.com/shelflive/shelflive/internal/video"
)

// embeddedMedia adapts the embedded video server to app.Media.
type embeddedMedia struct{ vs *video.Server }

func (m embeddedMedia) Playback(slug string) app.Playback {
	return app.Playback{MP4: video.MP4URL(slug), FLV: video.FLVURL(slug), HLS: video.LiveHLSURL(slug), OnAir: m.vs.Status(slug).Live}
}

func (m embeddedMedia) ReplayURL(slug string) string {
	if len(m.vs.Recordings(slug)) == 0 {
		return ""
	}
	return video.ReplayURL(slug)
}

func (m embeddedMedia) ReplayOffset(slug string, at time.Time) (time.Duration, bool) {
	return video.ReplayOffset(m.vs.Recordings(slug), at)
}

func (m embeddedMedia) IngestURL(host string) string { return m.vs.IngestURL(host) }

// externalMedia adapts an external media server (SRS, a CDN) reached through
// its publish hooks to app.Media.
type externalMedia struct {
	hooks     *video.Hooks
	templates video.PlaybackTemplates
	ingest    string
}

func (m externalMedia) Playback(slug string) app.Playback {
	u := m.hooks.PlaybackURLs(slug)
	_, onAir := m.hooks.Live(slug)
	return app.Playback{FLV: u.FLV, HLS: u.HLS, OnAir: onAir}
}

func (m externalMedia) ReplayURL(slug string) string {
	if m.templates.Replay == "" {
		return ""
	}
	return strings.ReplaceAll(m.templates.Replay, "{slug}", slug)
}

// ReplayOffset is not known for external recordings: their DVR files carry
// no wall-clock index ShelfLive can trust, so the replay has no product jumps.
func (m externalMedia) ReplayOffset(slug string, at time.Time) (time.Duration, bool) {
	return 0, false
}

func (m externalMedia) IngestURL(host string) string { return m.ingest }

// clipCutter cuts product clips with the embedded video server (ffmpeg
// -c copy from the recording's segments) and stores them in the object
// store the recordings and uploads use (the data dir, or S3).
type clipCutter struct {
	vs    *video.Server
	files objstore.Store
}

func (c clipCutter) CutClip(ctx context.Context, slug string, from, to time.Time, key string) (clips.Media, error) {
	dir, err := os.MkdirTemp("", "shelflive-clip-")
	if err != nil {
		return clips.Media{}, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "clip.mp4")
	info, err := c.vs.CutClip(ctx, slug, from, to, out)
	switch {
	case errors.Is(err, video.ErrNotYet):
		return clips.Media{}, clips.ErrNotYet
	case errors.Is(err, video.ErrNotRecorded):
		return clips.Media{}, clips.ErrNoRecording
	case err != nil:
		return clips.Media{}, err
	}
	f, err := os.Open(out)
	if err != nil {
		return clips.Media{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return clips.Media{}, err
	}
	if err := c.files.Put(ctx, key, f, fi.Size(), "video/mp4"); err != nil {
		return clips.Media{}, err
	}
	return clips.Media{Start: info.Start, DurationMS: info.Duration.Milliseconds(), Bytes: fi.Size(),
		VideoCodec: info.VideoCodec, Width: info.Width, Height: info.Height, AudioCodec: info.AudioCodec}, nil
}
