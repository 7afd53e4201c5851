package register

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"travelkit/kit"
)

func manifest(id, uuid, ver string, created time.Time) *kit.Manifest {
	return &kit.Manifest{
		Format: kit.ManifestFormat, KitID: id, Created: created, Version: ver, LUKSUUID: uuid,
		Keyslots: []kit.Keyslot{{Slot: 0, Kind: kit.KeyslotPassphrase}, {Slot: 1, Kind: kit.KeyslotRecoveryKey}},
		Escrow: []kit.EscrowEntry{
			{Name: "ana", Recipient: "age1secretlookingrecipient", File: "escrow/ana.age"},
			{Name: "bo", Recipient: "age1otherrecipient", File: "escrow/bo.age"},
		},
		EscrowThreshold: 2,
	}
}

func TestAppendParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.jsonl")
	t0 := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	m := manifest("amina", "uuid-1", "v1.0.0", t0)
	if err := Append(path, FromManifest(Build, m, "amina", "v1.0.0", t0)); err != nil {
		t.Fatal(err)
	}
	m.RecoveryKeyRotated = t0.AddDate(0, 3, 0)
	if err := Append(path, FromManifest(RotateRecovery, m, "amina", "v1.0.0", m.RecoveryKeyRotated)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if bytes.Count(b, []byte("\n")) != 2 {
		t.Fatalf("want 2 lines:\n%s", b)
	}
	// nothing that could unlock: no recipient, no file names of escrow
	if bytes.Contains(b, []byte("age1")) {
		t.Fatalf("the register holds a recipient:\n%s", b)
	}
	// a crash cut the last line short; the next append starts a new line
	os.WriteFile(path, append(b, []byte(`{"event":"refresh","da`)...), 0o644)
	if err := Append(path, FromManifest(Refresh, m, "amina", "v1.1.0", t0.AddDate(0, 4, 0))); err != nil {
		t.Fatal(err)
	}
	ev, problems, err := ReadFile(path)
	if err != nil || len(ev) != 3 || len(problems) != 1 || problems[0].Line != 3 {
		t.Fatalf("events %d, problems %v, %v", len(ev), problems, err)
	}
	if e := ev[1]; e.Event != RotateRecovery || e.Threshold != 2 || strings.Join(e.Escrow, ",") != "ana,bo" || !e.RecoveryKeyRotated.Equal(m.RecoveryKeyRotated) || e.LUKSUUID != "uuid-1" {
		t.Fatalf("event: %+v", e)
	}
}

func TestDue(t *testing.T) {
	t0 := time.Date(2024, 1, 10, 9, 0, 0, 0, time.UTC)
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var ev []Event
	// old: built 2024-01, never rotated: keys and tools due
	ev = append(ev, FromManifest(Build, manifest("old", "u-old", "v1.0.0", t0), "", "v1.0.0", t0))
	// fresh: built last month with this version: nothing due
	fresh := manifest("fresh", "u-fresh", "v1.2.0", now.AddDate(0, -1, 0))
	ev = append(ev, FromManifest(Build, fresh, "", "v1.2.0", fresh.Created))
	// rotated: built long ago, key rotated and tools refreshed recently, but by an older version
	rot := manifest("rotated", "u-rot", "v1.1.0", t0)
	ev = append(ev, FromManifest(Build, rot, "", "v1.1.0", t0))
	rot.RecoveryKeyRotated, rot.ToolsWritten = now.AddDate(0, -2, 0), now.AddDate(0, -2, 0)
	ev = append(ev, FromManifest(RotateRecovery, rot, "", "v1.1.0", rot.RecoveryKeyRotated))
	// rebuilt: the same kit id built again on a new volume supersedes the first one
	ev = append(ev, FromManifest(Build, manifest("fresh", "u-fresh-old", "v1.0.0", t0), "", "v1.0.0", t0))

	kits := Check(Kits(ev), Period{Months: 12}, now, "v1.2.0")
	if len(kits) != 3 {
		t.Fatalf("%d kits: %+v", len(kits), kits)
	}
	got := map[string]Kit{}
	for _, k := range kits {
		got[k.Last.KitID] = k
	}
	if k := got["old"]; !k.KeysDue || !k.ToolsDue {
		t.Errorf("old: %+v", k)
	}
	if k := got["fresh"]; k.KeysDue || k.ToolsDue || k.Last.LUKSUUID != "u-fresh" {
		t.Errorf("fresh: %+v", k)
	}
	if k := got["rotated"]; k.KeysDue || !k.ToolsDue || k.Events != 2 || !strings.Contains(strings.Join(k.Reasons, ";"), "older than this travelkit") {
		t.Errorf("rotated: %+v", k)
	}
	if d := Due(kits); len(d) != 2 {
		t.Errorf("due: %d", len(d))
	}
	b, _ := json.Marshal(Due(kits))
	if !bytes.Contains(b, []byte(`"keys_due":true`)) {
		t.Errorf("json: %s", b)
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]Period{"12mo": {Months: 12}, "90d": {Days: 90}, "2y": {Months: 24}, "6w": {Days: 42}} {
		if p, err := ParsePeriod(in); err != nil || p != want {
			t.Errorf("%s: %+v %v", in, p, err)
		}
	}
	for _, in := range []string{"", "12", "mo", "0mo", "-1y", "12m", "1.5y", "99999d"} {
		if _, err := ParsePeriod(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestParseBounds(t *testing.T) {
	long := `{"event":"build","date":"2025-01-01T00:00:00Z","kit_id":"` + strings.Repeat("x", maxLineLen) + `"}`
	good := `{"event":"build","date":"2025-01-01T00:00:00Z","kit_id":"k","luks_uuid":"u","future_field":1}`
	ev, problems, err := Parse(strings.NewReader(long + "\n" + good + "\n\n[1,2]\n"))
	if err != nil || len(ev) != 1 || len(problems) != 2 {
		t.Fatalf("%d events, problems %v, %v", len(ev), problems, err)
	}
}

// TestParseEditedOnWindows: a register saved by a Windows editor (CRLF line ends, and the
// UTF-8 byte order mark Notepad put first, saving as UTF-8, before Windows 10 1903) reads every event, and
// Append adds after it.
func TestParseEditedOnWindows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "register.jsonl")
	a := `{"event":"build","date":"2025-01-01T00:00:00Z","kit_id":"a","luks_uuid":"u"}`
	b := `{"event":"build","date":"2025-02-01T00:00:00Z","kit_id":"b","luks_uuid":"v"}`
	if err := os.WriteFile(p, []byte("\ufeff"+a+"\r\n"+b+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Append(p, Event{Event: "build", Date: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), KitID: "c"}); err != nil {
		t.Fatal(err)
	}
	ev, problems, err := ReadFile(p)
	if err != nil || len(problems) != 0 || len(ev) != 3 || ev[0].KitID != "a" || ev[1].KitID != "b" || ev[2].KitID != "c" {
		t.Fatalf("%+v, problems %v, %v", ev, problems, err)
	}
}

// TestParseProblemsBounded: a register of many short lines that are not events (a
// binary file given by mistake, a hostile one) lists at most maxProblems of them and a
// last one that counts the rest, instead of one entry per line: 4 MiB of "x\n" made
// 2 million entries (and 1 GiB, the largest register read, half a billion).
func TestParseProblemsBounded(t *testing.T) {
	good := `{"event":"build","date":"2025-01-01T00:00:00Z","kit_id":"k","luks_uuid":"u"}` + "\n"
	in := strings.Repeat("x\n", 2<<20) + good
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev, problems, err := Parse(strings.NewReader(in))
	runtime.GC()
	runtime.ReadMemStats(&after) // what the result holds (failed json.Unmarshal calls churn ~1 GB of garbage)
	if err != nil || len(ev) != 1 || len(problems) != maxProblems+1 {
		t.Fatalf("%d events, %d problems, %v", len(ev), len(problems), err)
	}
	last := problems[maxProblems]
	if last.Line != maxProblems+1 || !strings.Contains(last.Error(), fmt.Sprint(2<<20-maxProblems-1)) {
		t.Fatalf("last problem: %v", last)
	}
	if a := int64(after.HeapAlloc) - int64(before.HeapAlloc); a > 4<<20 {
		t.Fatalf("the result of parsing 4 MiB of bad lines holds %d bytes", a)
	}
}
