package jwtclaims

import (
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, payload, wantErr string
		check                  func(*testing.T, map[string]any, *Registered)
	}{
		{name: "registered claims", payload: `{"iss":"https://i","sub":"s","aud":["a","b"],"exp":10.5,"nbf":1,"iat":2,"azp":"c","x":1}`,
			check: func(t *testing.T, c map[string]any, r *Registered) {
				if r.Issuer != "https://i" || r.Subject != "s" || len(r.Audience) != 2 || !r.HasAuthorizedParty || c["x"] != float64(1) ||
					!r.Expiry.Equal(time.Unix(10, 5e8)) || !r.NotBefore.Equal(time.Unix(1, 0)) {
					t.Errorf("registered = %+v", r)
				}
			}},
		{name: "aud as a string", payload: `{"aud":"a"}`, check: func(t *testing.T, _ map[string]any, r *Registered) {
			if len(r.Audience) != 1 || r.Audience[0] != "a" {
				t.Errorf("aud = %v", r.Audience)
			}
		}},
		{name: "duplicate claim", payload: `{"sub":"a","sub":"b"}`, wantErr: "appears twice"},
		{name: "upper-case twin", payload: `{"sub":"a","Sub":"b"}`, wantErr: "letter-case variant"},
		{name: "long-s twin", payload: `{"ſub":"b"}`, wantErr: "letter-case variant"},
		{name: "not an object", payload: `["sub"]`, wantErr: "not a JSON object"},
		{name: "trailing data", payload: `{"sub":"a"}{}`, wantErr: "data after"},
		{name: "sub not a string", payload: `{"sub":1}`, wantErr: "sub is not a string"},
		{name: "aud of numbers", payload: `{"aud":[1]}`, wantErr: "not a string"},
		{name: "aud an object", payload: `{"aud":{}}`, wantErr: "neither a string nor an array"},
		{name: "exp a string", payload: `{"exp":"10"}`, wantErr: "exp is not a NumericDate"},
		{name: "exp negative", payload: `{"exp":-1}`, wantErr: "exp is not a NumericDate"},
		{name: "exp huge", payload: `{"exp":1e300}`, wantErr: "exp is not a NumericDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r, err := Decode([]byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c, r)
		})
	}
}
