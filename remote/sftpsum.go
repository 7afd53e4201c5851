package remote

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// The server hashes the files it received, so that checking a copy costs no download.
// It does so in a few long-lived shells (one per file being checked at once), not in a
// new command per file: starting a session runs the account's login shell and its rc
// files, which can cost more than hashing a pack (pyenv, conda, ...).
//
// The protocol: the shell says "tk-ready", then reads one path a line and answers one
// line, "tk " followed by the file's sha256 in hex, or "tk " alone when it could not hash
// the file. It uses `openssl dgst -sha256` (several times faster where the CPU has SHA
// instructions) and else coreutils' `sha256sum`. The script holds no single quote and
// no backslash, so that it reads the same in every login shell (sh, bash, zsh, fish,
// csh); an account that has no shell (ForceCommand internal-sftp, nologin) never says
// "tk-ready", and its files are read back instead.
const sumScript = `echo tk-ready; while IFS= read -r f; do s=$(openssl dgst -sha256 -r "$f" 2>/dev/null || sha256sum -b "$f" 2>/dev/null); echo "tk ${s%% *}"; done`

// maxSumShells bounds the shells per connection (OpenSSH allows 10 sessions, one of them
// the SFTP one).
const maxSumShells = 4

// sumReadyWait bounds the wait for a new shell's "tk-ready".
var sumReadyWait = time.Minute

// errNoShell says the account cannot run the hashing shell.
var errNoShell = errors.New("the account runs no shell commands")

// errNoHash says the shell could not hash one file (the shell itself is fine).
var errNoHash = errors.New("the server could not hash the file")

// sumShell is one hashing shell.
type sumShell struct {
	sess *ssh.Session
	in   io.WriteCloser
	out  *bufio.Reader
}

// sumShells are the hashing shells of one connection.
type sumShells struct {
	conn  *ssh.Client
	idle  chan *sumShell
	slots chan struct{}

	mu     sync.Mutex
	closed bool
	all    map[*sumShell]bool
}

func newSumShells(conn *ssh.Client) *sumShells {
	return &sumShells{
		conn:  conn,
		idle:  make(chan *sumShell, maxSumShells),
		slots: make(chan struct{}, maxSumShells),
		all:   map[*sumShell]bool{},
	}
}

// get returns an idle shell, starts one, or waits for one.
func (p *sumShells) get(ctx context.Context) (*sumShell, error) {
	select {
	case sh := <-p.idle:
		return sh, nil
	default:
	}
	select {
	case sh := <-p.idle:
		return sh, nil
	case p.slots <- struct{}{}:
		sh, err := p.start(ctx)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return sh, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put gives back a shell that answered well.
func (p *sumShells) put(sh *sumShell) { p.idle <- sh }

// drop ends a shell that failed.
func (p *sumShells) drop(sh *sumShell) {
	sh.sess.Close()
	p.mu.Lock()
	delete(p.all, sh)
	p.mu.Unlock()
	<-p.slots
}

// close ends every shell.
func (p *sumShells) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for sh := range p.all {
		sh.sess.Close()
	}
}

func (p *sumShells) start(ctx context.Context) (*sumShell, error) {
	sess, err := p.conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoShell, err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.Start("exec sh -c '" + sumScript + "'"); err != nil {
		sess.Close()
		return nil, fmt.Errorf("%w: %v", errNoShell, err)
	}
	sh := &sumShell{sess: sess, in: in, out: bufio.NewReaderSize(out, 256)}
	ctx, cancel := context.WithTimeout(ctx, sumReadyWait)
	defer cancel()
	line, err := sh.line(ctx)
	if err != nil || line != "tk-ready" {
		sess.Close()
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %q %v", errNoShell, line, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		sess.Close()
		return nil, errNoShell
	}
	p.all[sh] = true
	return sh, nil
}

// maxSumLine bounds one line of the hashing shell: an answer is 67 bytes, but the server
// (or the account's rc files) may send anything, and without a bound a line that never
// ends would grow until memory runs out.
const maxSumLine = 4096

// line reads one line; a cancelled ctx ends the shell.
func (sh *sumShell) line(ctx context.Context) (string, error) {
	stop := context.AfterFunc(ctx, func() { sh.sess.Close() })
	defer stop()
	s, err := readSumLine(sh.out)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	return s, nil
}

// readSumLine reads one line of at most maxSumLine bytes, without its line end; a longer
// one is an error (the shell is then unusable).
func readSumLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		if len(line)+len(part) > maxSumLine+2 {
			return "", fmt.Errorf("the hashing shell sent a line longer than %d bytes", maxSumLine)
		}
		line = append(line, part...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// parseSumAnswer reads the shell's answer for one file: its sha256, errNoHash when the
// shell could not hash it, any other error when the answer is not the protocol's.
func parseSumAnswer(line string) ([32]byte, error) {
	var sum [32]byte
	h, ok := strings.CutPrefix(line, "tk ")
	if !ok && line != "tk" {
		return sum, fmt.Errorf("the hashing shell said %q", printable(line))
	}
	if len(h) != 64 {
		return sum, errNoHash
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, errNoHash
	}
	return sum, nil
}

// hash has the server hash the file at p (no newline in it; not starting with "-").
// errNoHash: the shell is fine but could not hash this file; any other error: the shell
// is unusable.
func (sh *sumShell) hash(ctx context.Context, p string) ([32]byte, error) {
	var sum [32]byte
	if _, err := io.WriteString(sh.in, p+"\n"); err != nil {
		return sum, err
	}
	line, err := sh.line(ctx)
	if err != nil {
		return sum, err
	}
	return parseSumAnswer(line)
}
