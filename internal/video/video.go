// Package video is ShelfLive's self-hosted live video: RTMP ingest with stream
// keys, remux-only playback as HTTP-FLV (low latency, for mpegts.js) and live
// HLS (compatibility, for hls.js and iOS), and recording of every live as
// MPEG-TS segments on disk that are served back as a VOD replay playlist.
//
// The package knows nothing about rooms beyond the Rooms interface, which the
// live domain implements: video asks it which room a stream key belongs to
// and tells it when a stream starts or stops. Everything else (who may see a
// key, when "host reconnecting" turns into "ended", replay pages) belongs to
// the caller.
//
// For scale-out deployments an external media server (SRS, a CDN) does ingest
// and playback instead; NewHooks serves the HTTP callbacks such a server
// calls so that stream keys are still checked by ShelfLive.
package video

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"time"

	"github.com/shelflive/shelflive/internal/objstore"
)

// Rooms is what video needs from the live domain. The lead implements it on
// top of the live service; video never stores room state itself.
type Rooms interface {
	// RoomByStreamKey returns the room slug for a publish key; an error
	// refuses the publisher (unknown or rotated key).
	RoomByStreamKey(ctx context.Context, key string) (slug string, err error)
	// StreamStarted is called once a publisher's tracks are known; the room
	// goes live if it is scheduled.
	StreamStarted(ctx context.Context, slug string) error
	// StreamStopped is called when the publisher goes away (clean stop or
	// drop); the room shows "host reconnecting" and the live domain decides
	// when that ends.
	StreamStopped(ctx context.Context, slug string) error
}

// Config configures a Server. Only DataDir and Rooms are required.
type Config struct {
	// DataDir is the ShelfLive data directory; recordings live under
	// DataDir/video/{slug}/{recording}/.
	DataDir string
	// RTMPAddr is the ingest listen address, default ":1935". Tests use
	// "127.0.0.1:0" and read the port from Server.Addr.
	RTMPAddr string
	// Rooms maps stream keys to rooms and receives start/stop events.
	Rooms Rooms
	// Logger receives ingest and playback events; default slog.Default().
	Logger *slog.Logger
	// SegmentDuration is the target HLS segment length, default 1s. Segments
	// are cut on the first keyframe after this duration, so the real length
	// is a multiple of the publisher's keyframe interval (OBS: set 1 s).
	SegmentDuration time.Duration
	// LiveWindow is how many segments the live HLS playlist lists, default 6.
	LiveWindow int
	// Store, when set, receives a copy of every recording (in the
	// background, as segments close) and serves replays this node has not
	// recorded itself: several nodes share one S3 bucket. Live playback
	// always reads the local files. Nil keeps recordings on local disk only.
	Store objstore.Store
	// FFmpeg and FFprobe are the tools CutClip runs (copying streams into
	// MP4, reading the result back); "" finds them on PATH. Only clips
	// need them: ingest, playback and recording never re-encode or spawn.
	FFmpeg, FFprobe string
}

// StreamStatus is a snapshot of one room's ingest and audience.
type StreamStatus struct {
	Slug string `json:"slug"`
	// Live is true while a publisher is connected and sending media.
	Live bool `json:"live"`
	// Since is when the current publisher started (UTC); zero when not live.
	Since time.Time `json:"since,omitzero"`
	// PublisherAddr is the remote address of the current publisher.
	PublisherAddr string `json:"publisherAddr,omitempty"`
	// Viewers is FLVViewers + MP4Viewers + HLSViewers.
	Viewers int `json:"viewers"`
	// FLVViewers counts open HTTP-FLV connections (exact).
	FLVViewers int `json:"flvViewers"`
	// MP4Viewers counts open fragmented-MP4 connections (exact): the
	// viewer page's own player.
	MP4Viewers int `json:"mp4Viewers"`
	// HLSViewers estimates HLS players as distinct clients that fetched the
	// live playlist in the last 10 seconds.
	HLSViewers int `json:"hlsViewers"`
	// BitrateKbps is the incoming bitrate over the last few seconds.
	BitrateKbps int `json:"bitrateKbps"`
	// VideoCodec and AudioCodec name the published codecs ("H264", "AAC").
	VideoCodec string `json:"videoCodec,omitempty"`
	AudioCodec string `json:"audioCodec,omitempty"`
	// Recording is the ID of the recording being written, if live.
	Recording string `json:"recording,omitempty"`
}

// Recording is one continuous recorded publish of a room. A reconnect starts
// a new Recording; the room replay playlist chains them in order.
type Recording struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	// StartedAt is the wall-clock time (UTC) of the first recorded frame.
	StartedAt time.Time `json:"startedAt"`
	// Duration is the sum of the recorded segment durations.
	Duration time.Duration `json:"duration"`
	// Offset is where this recording starts inside the room replay playlist
	// (ReplayURL): the sum of the durations of the earlier recordings.
	Offset time.Duration `json:"offset"`
	// Segments is the number of complete segments on disk.
	Segments int `json:"segments"`
	// InProgress is true while the publisher is still writing it.
	InProgress bool `json:"inProgress"`
	// PlaylistURL is the VOD playlist of this recording alone.
	PlaylistURL string `json:"playlistUrl"`
	// ReplayURL is the room replay playlist that chains all recordings.
	ReplayURL string `json:"replayUrl"`
}

// ReplayOffset maps a wall-clock time (for example when a product card was
// pinned) to a playback offset in the room replay playlist made of recs (as
// returned by Server.Recordings, oldest first). ok is false when t falls
// outside every recording; a time in a gap between recordings maps to the
// start of the next one.
func ReplayOffset(recs []Recording, t time.Time) (offset time.Duration, ok bool) {
	for _, r := range recs {
		end := r.StartedAt.Add(r.Duration)
		if t.Before(r.StartedAt) {
			return r.Offset, true
		}
		if t.Before(end) {
			return r.Offset + t.Sub(r.StartedAt), true
		}
	}
	return 0, false
}

// Errors returned by the package; compare with errors.Is.
var (
	// ErrRoomBusy refuses a second publisher for a room that is live.
	ErrRoomBusy = errors.New("video: room already has a publisher")
	// ErrBadSlug is returned when Rooms hands back a slug that is not safe
	// as a path element.
	ErrBadSlug = errors.New("video: invalid room slug")
	// ErrNoTracks refuses a publisher that sends neither H.264 nor AAC.
	ErrNoTracks = errors.New("video: no supported track (need H.264 video and/or AAC audio)")
)

var slugRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidSlug reports whether slug can be used as a room slug in media URLs
// and directory names.
func ValidSlug(slug string) bool { return slugRe.MatchString(slug) }

// MediaPrefix is the URL path under which Server.Handler must be mounted.
const MediaPrefix = "/media/"

// FLVURL is a room's HTTP-FLV path (low latency, for mpegts.js), as served
// by Server.Handler mounted at MediaPrefix.
func FLVURL(slug string) string { return "/media/live/" + slug + ".flv" }

// MP4URL is a room's live fragmented-MP4 path (the viewer page's own MSE
// player, live_mse.js), as served by Handler.
func MP4URL(slug string) string { return "/media/live/" + slug + ".mp4" }

// LiveHLSURL is a room's live HLS playlist path (hls.js, native on iOS).
func LiveHLSURL(slug string) string { return "/media/live/" + slug + "/index.m3u8" }

// ReplayURL is a room's replay playlist path: all its recordings, chained.
func ReplayURL(slug string) string { return "/media/replay/" + slug + "/index.m3u8" }
