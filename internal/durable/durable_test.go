package durable

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

type flusher struct{ flushed, synced int }

func (f *flusher) Flush() error { f.flushed++; return nil }
func (f *flusher) Sync() error  { f.synced++; return errors.New("Sync called on a Flusher") }

type syncer struct{ synced int }

func (s *syncer) Sync() error { s.synced++; return nil }

func TestFlush(t *testing.T) {
	f := &flusher{}
	if err := Flush(f); err != nil || f.flushed != 1 || f.synced != 0 {
		t.Fatalf("a Flusher: %v, flushed %d, synced %d", err, f.flushed, f.synced)
	}
	s := &syncer{}
	if err := Flush(s); err != nil || s.synced != 1 {
		t.Fatalf("a Syncer: %v, synced %d", err, s.synced)
	}
	if err := Flush(struct{}{}); err != nil {
		t.Fatalf("memory: %v", err)
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Flush(file); err != nil {
		t.Fatalf("*os.File: %v", err)
	}
	file.Close()
	if err := Flush(file); err == nil {
		t.Fatal("a closed file synced without error")
	}
}
