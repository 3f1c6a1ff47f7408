package video_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Glass-to-glass latency without OCR.
//
// The publisher's filter graph stamps each frame, at the moment ffmpeg's
// (real-time paced, -re) source produces it, with the wall clock:
//
//   - setpts=RTCTIME makes the frame's timestamp the wall clock in µs;
//   - 32 drawbox filters, each enabled by one bit of floor(t*1000) mod 2^32,
//     paint a black/white barcode of the millisecond clock across the top
//     16 rows (20 px per bit, MSB first), large enough to survive x264;
//   - drawtext prints the same time as HH:MM:SS.mmm for people watching;
//   - setpts=N then restores normal 25 fps timestamps for the encoder.
//
// A player (ffmpeg decoding to raw gray frames, or a browser drawing the
// <video> element to a canvas) reads the barcode from the decoded frame and
// subtracts it from its own wall clock (same machine, same clock). That is
// capture → encode → RTMP → remux → HTTP → demux → decode, i.e. glass to
// glass minus the display's refresh.

const (
	stampBits   = 32
	stampBitW   = 20
	stampHeight = 16
	stampFont   = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
)

// stampFilter is the -filter_complex graph applied to input 0 (testsrc),
// output label [v].
func stampFilter() string {
	parts := []string{
		"[0:v]settb=expr=1/1000000,setpts=RTCTIME",
		fmt.Sprintf("drawbox=x=0:y=0:w=%d:h=%d:color=black:t=fill", stampBits*stampBitW, stampHeight),
	}
	for i := range stampBits {
		parts = append(parts, fmt.Sprintf(
			`drawbox=x=%d:y=0:w=%d:h=%d:color=white:t=fill:enable='mod(floor(t*1000/pow(2\,%d))\,2)'`,
			i*stampBitW, stampBitW, stampHeight, stampBits-1-i))
	}
	if _, err := os.Stat(stampFont); err == nil {
		parts = append(parts, `drawtext=fontfile=`+stampFont+
			`:fontsize=40:fontcolor=white:box=1:boxcolor=black:x=20:y=300:`+
			`text='%{pts\:gmtime\:0\:%H\\\:%M\\\:%S}.%{eif\:mod(t*1000\,1000)\:d\:3}'`)
	}
	parts = append(parts, "settb=expr=1/25,setpts=N[v]")
	return strings.Join(parts, ",")
}

// decodeStamp reads the barcode from one row of luma samples (at least
// 640 wide, taken from y=8). ok is false if the row does not look like a
// barcode (pixels neither clearly dark nor clearly light).
func decodeStamp(row []byte) (ms uint32, ok bool) {
	if len(row) < stampBits*stampBitW {
		return 0, false
	}
	for i := range stampBits {
		v := row[i*stampBitW+stampBitW/2]
		if v > 64 && v < 192 {
			return 0, false
		}
		ms <<= 1
		if v >= 192 {
			ms |= 1
		}
	}
	return ms, true
}

// stampLatency is now minus the stamped capture time, modulo 2^32 ms.
func stampLatency(ms uint32, now time.Time) time.Duration {
	nowMS := uint32(now.UnixMilli())
	return time.Duration(int32(nowMS-ms)) * time.Millisecond
}

// ffmpegLatency plays url with ffmpeg as the player (decoding only the
// barcode strip to raw gray frames) and returns the glass-to-glass samples
// taken after warm seconds, for watch seconds. ffmpeg has no jitter buffer,
// so this is the delivery path without a browser player's buffering.
func ffmpegLatency(tb testing.TB, url string, warm, watch time.Duration) []time.Duration {
	tb.Helper()
	bin := needTool(tb, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), warm+watch+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-fflags", "nobuffer", "-flags", "low_delay", "-i", url,
		"-map", "0:v:0", "-vf", fmt.Sprintf("crop=%d:%d:0:0,format=gray", stampBits*stampBitW, stampHeight),
		"-f", "rawvideo", "pipe:1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	frame := make([]byte, stampBits*stampBitW*stampHeight)
	start := time.Now()
	var lat []time.Duration
	for time.Since(start) < warm+watch {
		if _, err := io.ReadFull(out, frame); err != nil {
			tb.Fatalf("ffmpeg player: %v", err)
		}
		now := time.Now()
		if now.Sub(start) < warm {
			continue
		}
		row := frame[(stampHeight/2)*stampBits*stampBitW:][:stampBits*stampBitW]
		if ms, ok := decodeStamp(row); ok {
			lat = append(lat, stampLatency(ms, now))
		}
	}
	return lat
}
