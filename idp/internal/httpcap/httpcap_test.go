package httpcap

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLimitedBody(t *testing.T) {
	const limit = 16
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{name: "empty", size: 0},
		{name: "under the limit", size: limit - 1},
		{name: "exactly the limit", size: limit},
		{name: "one byte over", size: limit + 1, wantErr: true},
		{name: "far over", size: 10 * limit, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &limitedBody{body: io.NopCloser(strings.NewReader(strings.Repeat("x", tt.size))), remaining: limit}
			got, err := io.ReadAll(body)
			if tt.wantErr {
				if !errors.Is(err, ErrBodyTooLarge) {
					t.Fatalf("err = %v, want ErrBodyTooLarge", err)
				}
				return
			}
			if err != nil || len(got) != tt.size {
				t.Fatalf("read %d bytes, err %v; want %d bytes", len(got), err, tt.size)
			}
		})
	}
}
