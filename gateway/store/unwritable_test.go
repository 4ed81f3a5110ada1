package store

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestUnwritable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{newError("AppendAudit", nil, fmt.Errorf("write: %w", syscall.ENOSPC)), true},
		{newError("PutConfig", nil, syscall.EROFS), true},
		{newError("Ping", nil, ErrDiskFull), true},
		{newError("Ping", nil, ErrReadOnly), true},
		{newError("PutConfig", ErrConflict, nil), false},
		{errors.New("connection refused"), false},
		{nil, false},
	} {
		if got := Unwritable(tc.err); got != tc.want {
			t.Errorf("Unwritable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestCheckDiskOnAWritableFolder(t *testing.T) {
	if err := checkDisk(t.TempDir()); err != nil {
		t.Fatalf("a fresh temporary folder: %v", err)
	}
}
