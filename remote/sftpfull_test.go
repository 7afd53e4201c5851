//go:build linux

// This test mounts a small tmpfs (root, Linux) under the server's folder to fill its disk:
// Linux only, like the servers of storage_test.go.

package remote

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"travelkit/internal/testfs"
	"travelkit/internal/testservers"
	"travelkit/repo"
)

// A file that does not fit on the server's disk is reported with the room left once the
// other files being sent at the same time are finished: their temporary files hold room
// until then (TestScripts/remote_full once read "0 B free" under load, when the other
// packs of the copy had filled the disk at the moment of measuring). Here one file (b) is
// held after 1 MiB while another (a) fails for want of room; b is let go only once a
// waits for it, so a measurement that does not wait sees b's first MiB and not its end.
func TestSFTPFullMeasuresAfterOtherSaves(t *testing.T) {
	testfs.SkipUnlessRoot(t) // before starting sshd
	srv := testservers.StartSSHD(t)
	dir := filepath.Join(srv.Root, "small")
	testfs.Tmpfs(t, dir, "4m")

	type which struct{}
	var bSent atomic.Int64
	held, release := make(chan struct{}), make(chan struct{})
	throttle := func(ctx context.Context, n int) error {
		if ctx.Value(which{}) == "b" && bSent.Add(int64(n)) > 1<<20 && bSent.Load()-int64(n) <= 1<<20 {
			close(held)
			<-release
		}
		return nil
	}
	loc, err := ParseLocation(srv.Location("small/repo"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := Open(ctx, loc, &Credentials{SSHKey: srv.UserKey, HostKey: srv.HostKey}, Options{NoAgent: true, NoDefaultKeys: true, Throttle: throttle})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Create(ctx); err != nil {
		t.Fatal(err)
	}
	aWaits := make(chan struct{})
	st.(*sftpStorage).waiting = func() { close(aWaits) }

	bData, bName := randomFile(t, 3<<19) // 1.5 MiB: fits
	aData, aName := randomFile(t, 7<<19) // 3.5 MiB: does not fit beside b
	bErr, aErr := make(chan error, 1), make(chan error, 1)
	go func() {
		bErr <- st.Save(context.WithValue(ctx, which{}, "b"), repo.Handle{Type: repo.PackFile, Name: bName}, bData)
	}()
	<-held
	go func() {
		aErr <- st.Save(context.WithValue(ctx, which{}, "a"), repo.Handle{Type: repo.PackFile, Name: aName}, aData)
	}()
	// b is let go once a waits for it, or (a measurement that does not wait) once a is done
	aDone := false
	select {
	case <-aWaits:
	case err = <-aErr:
		aDone = true
	}
	close(release)
	if err := <-bErr; err != nil {
		t.Fatalf("b: %v", err)
	}
	if !aDone {
		err = <-aErr
	}
	var ns *NoSpaceError
	if !errors.As(err, &ns) || !errors.Is(err, ErrNoSpace) {
		t.Fatalf("a: %v, want a NoSpaceError", err)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if free := int64(fs.Bavail) * fs.Frsize; ns.Free != free || ns.Need != int64(len(aData)) {
		t.Fatalf("a: reported %d bytes free, %d needed; the disk has %d free after b, a needs %d (%v)", ns.Free, ns.Need, free, len(aData), err)
	}
	t.Logf("%v", err)
}
