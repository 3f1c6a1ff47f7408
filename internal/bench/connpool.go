package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// connPool is the flash-sale buyers' HTTP/1.1 client: keep-alive
// connections handed from buyer to buyer, one request in flight on each.
// It does for this workload what net/http's Transport does, without the two
// goroutines and channel hand-offs per connection and request, so that the
// load generator takes less of the CPU the server under test needs: both run
// on the same cores, and with net/http the buyers cost more than the server.
type connPool struct {
	host  string // host:port, also the Host header
	path  string
	idle  chan *poolConn
	slots chan struct{} // one per open connection, at most the pool size
}

type poolConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func newConnPool(rawURL string, size int) (*connPool, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("bench: connection pool needs an http:// URL, got %q", rawURL)
	}
	return &connPool{host: u.Host, path: u.RequestURI(), idle: make(chan *poolConn, size), slots: make(chan struct{}, size)}, nil
}

func (p *connPool) get() (*poolConn, error) {
	select {
	case pc := <-p.idle:
		return pc, nil
	default:
	}
	select {
	case pc := <-p.idle:
		return pc, nil
	case p.slots <- struct{}{}:
		c, err := net.DialTimeout("tcp", p.host, 5*time.Second)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return &poolConn{c: c, r: bufio.NewReaderSize(c, 4<<10), w: bufio.NewWriterSize(c, 4<<10)}, nil
	}
}

func (p *connPool) drop(pc *poolConn) {
	pc.c.Close()
	<-p.slots
}

// post sends one POST with a JSON body and returns the status and body.
func (p *connPool) post(headers [][2]string, body []byte) (int, []byte, error) {
	pc, err := p.get()
	if err != nil {
		return 0, nil, err
	}
	pc.c.SetDeadline(time.Now().Add(60 * time.Second))
	w := pc.w
	w.WriteString("POST ")
	w.WriteString(p.path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(p.host)
	w.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	w.WriteString(strconv.Itoa(len(body)))
	w.WriteString("\r\n")
	for _, h := range headers {
		w.WriteString(h[0])
		w.WriteString(": ")
		w.WriteString(h[1])
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		p.drop(pc)
		return 0, nil, err
	}
	resp, err := http.ReadResponse(pc.r, nil)
	if err != nil {
		p.drop(pc)
		return 0, nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		p.drop(pc)
		return resp.StatusCode, raw, err
	}
	p.idle <- pc
	return resp.StatusCode, raw, nil
}

// close closes the idle connections.
func (p *connPool) close() {
	for {
		select {
		case pc := <-p.idle:
			p.drop(pc)
		default:
			return
		}
	}
}
