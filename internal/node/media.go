package node

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
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

// openMedia sets up video: the embedded RTMP server, or hooks for an
// external media server. An empty RTMP address turns embedded video off.
func (m *Main) openMedia() error {
	c, a := m.Config, m.App
	switch c.Media {
	case "off":
	case "external":
		tpl := video.PlaybackTemplates{FLV: c.MediaFLV, HLS: c.MediaHLS, Replay: c.MediaReplay}
		m.hooks = video.NewHooks(app.VideoRooms{App: a}, video.HooksConfig{Playback: tpl, Secret: c.MediaSecret, Logger: m.Logger})
		a.Media = externalMedia{hooks: m.hooks, templates: tpl, ingest: c.MediaIngest}
	case "embedded", "":
		if c.RTMPAddr == "" {
			return nil
		}
		vc := video.Config{DataDir: c.DataDir, RTMPAddr: c.RTMPAddr, Rooms: app.VideoRooms{App: a}, Logger: m.Logger}
		if m.s3 != nil {
			vc.Store = m.s3 // recordings are copied there; with the local store they already are in the data dir
		}
		vs, err := video.New(vc)
		if err != nil {
			// A taken port must not keep the shop closed: rooms show their
			// poster until video is fixed, and the log says why.
			m.Logger.Error("video is off: the RTMP ingest cannot listen; set SHELFLIVE_RTMP_ADDR to a free address", "addr", c.RTMPAddr, "err", err)
			return nil
		}
		m.Video = vs
		a.Media = embeddedMedia{vs: vs}
		a.Clipper = clipCutter{vs: vs, files: m.Files}
	default:
		return fmt.Errorf("unknown SHELFLIVE_MEDIA %q (embedded, external, off)", c.Media)
	}
	return nil
}

// mediaOrigins are the distinct origins of an external media server's
// playback URL templates ("https://cdn.example.com/live/{slug}.flv" →
// "https://cdn.example.com"): the pages' CSP lets the player reach them.
// Relative templates (same origin) add none.
func mediaOrigins(templates ...string) []string {
	var out []string
	for _, t := range templates {
		u, err := url.Parse(strings.ReplaceAll(t, "{slug}", "x"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}
