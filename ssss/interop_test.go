package ssss

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The interop tests run Debian's ssss (ssss-split, ssss-combine), installed by
// scripts/install-test-deps.sh: never skipped.

func randomText(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '!' + b[i]%94 // printable ASCII, no space: fgets keeps what ssss reads
	}
	return b
}

func runTool(t *testing.T, stdin []byte, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String()
}

// TestStockSplitCombinedHere: shares printed by ssss-split combine here, for every secret
// length ssss takes (every field degree, with and without the diffusion layer).
func TestStockSplitCombinedHere(t *testing.T) {
	for n := 1; n <= MaxBits/8; n++ {
		secret := randomText(n)
		k, total := 2+n%3, 5
		out, _ := runTool(t, append(secret, '\n'), "ssss-split", "-t", fmt.Sprint(k), "-n", fmt.Sprint(total), "-Q")
		shares, err := ParseShares(out)
		if err != nil || len(shares) != total {
			t.Fatalf("%d bytes: parsing ssss-split's output: %v\n%s", n, err, out)
		}
		got, err := Combine(shares[total-k:], k)
		if err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("%d bytes, %d-of-%d: combined %q, want %q (%v)", n, k, total, got, secret, err)
		}
	}
	// with a token, as ssss-split -w writes it, and indexes padded to two digits
	secret := []byte("cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv")
	out, _ := runTool(t, append(secret, '\n'), "ssss-split", "-t", "3", "-n", "11", "-w", "kit", "-Q")
	shares, err := ParseShares(out)
	if err != nil || shares[0].Token != "kit" || shares[0].Width != 2 {
		t.Fatalf("token shares: %v %+v", err, shares)
	}
	if got, err := Combine([]Share{shares[10], shares[4], shares[7]}, 3); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("token shares: %q %v", got, err)
	}
}

// TestSplitCombinedByStock: shares made here are combined by ssss-combine, for every
// secret length.
func TestSplitCombinedByStock(t *testing.T) {
	for n := 1; n <= MaxBits/8; n++ {
		secret := randomText(n)
		k, total := 2+n%3, 4+n%3
		shares, err := Split(secret, k, total, nil)
		if err != nil {
			t.Fatal(err)
		}
		var in bytes.Buffer
		for _, s := range shares[total-k:] {
			in.WriteString(s.String() + "\n")
		}
		_, errOut := runTool(t, in.Bytes(), "ssss-combine", "-t", fmt.Sprint(k), "-Q")
		if got := strings.TrimSuffix(errOut, "\n"); got != string(secret) {
			t.Fatalf("%d bytes, %d-of-%d: ssss-combine printed %q, want %q", n, k, total, got, secret)
		}
	}
}
