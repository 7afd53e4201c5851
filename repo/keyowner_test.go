package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A repository made with InitAnonymous has a key file that names no machine and no
// user (a kit made at a helpline must not name the helpline's machine); Init names
// this machine, as restic does. Both open with the password, and restic lists the
// anonymous key.
func TestInitAnonymousNamesNoOne(t *testing.T) {
	ctx := context.Background()
	host, _ := os.Hostname()
	for _, anon := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "repo")
		init := Init
		if anon {
			init = InitAnonymous
		}
		r, err := init(ctx, NewFolder(dir), []byte(testPassword))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		names, err := os.ReadDir(filepath.Join(dir, "keys"))
		if err != nil || len(names) != 1 {
			t.Fatalf("keys/: %v %v", names, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "keys", names[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		kf, err := parseKeyFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if anon && (kf.Hostname != "" || kf.Username != "") {
			t.Fatalf("InitAnonymous's key file names host %q and user %q", kf.Hostname, kf.Username)
		}
		if !anon && kf.Hostname != host {
			t.Fatalf("Init's key file names host %q, want %q", kf.Hostname, host)
		}
		openTestRepo(t, NewFolder(dir))
		if anon {
			resticCmd(t, dir, "key", "list")
		}
	}
}
