package config

import (
	"errors"
	"strings"
	"testing"
)

func TestStoreSection(t *testing.T) {
	const password = "pg-pass-7f3c9a"
	tests := []struct {
		name       string
		yaml       string
		env        map[string]string
		wantDriver string
		wantDSN    string
		problem    string // a problem path expected, "" for none
	}{
		{name: "default is sqlite", wantDriver: "sqlite"},
		{name: "postgres from the file", yaml: "store: {driver: postgres, dsn: 'postgres://fedgate@db:5432/fedgate'}",
			wantDriver: "postgres", wantDSN: "postgres://fedgate@db:5432/fedgate"},
		{name: "FEDGATE_STORE_DSN selects postgres", env: map[string]string{"FEDGATE_STORE_DSN": "host=db user=fedgate"},
			wantDriver: "postgres", wantDSN: "host=db user=fedgate"},
		{name: "FEDGATE_STORE_DSN overrides the file", yaml: "store: {driver: postgres, dsn: 'host=old'}",
			env: map[string]string{"FEDGATE_STORE_DSN": "host=new"}, wantDriver: "postgres", wantDSN: "host=new"},
		{name: "postgres without dsn", yaml: "store: {driver: postgres}", problem: "store.dsn"},
		{name: "unparseable dsn", yaml: "store: {driver: postgres, dsn: 'postgres://u:" + password + "@db:99999999/x'}", problem: "store.dsn"},
		{name: "dsn with explicit sqlite", yaml: "store: {driver: sqlite}", env: map[string]string{"FEDGATE_STORE_DSN": "host=db"}, problem: "store.dsn"},
		{name: "unknown driver", yaml: "store: {driver: mysql}", problem: "store.driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"MASTER": "k", "SECRET": "s"}
			for k, v := range tt.env {
				env[k] = v
			}
			f, err := Parse([]byte(validConfig+tt.yaml+"\n"), envOf(env))
			if tt.problem != "" {
				var ps Problems
				if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Path != tt.problem {
					t.Fatalf("err = %v, want one problem at %s", err, tt.problem)
				}
				if strings.Contains(err.Error(), password) {
					t.Errorf("problem repeats the DSN's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Store.Driver != tt.wantDriver || f.Store.DSN != tt.wantDSN {
				t.Errorf("store = %+v, want driver %q dsn %q", f.Store, tt.wantDriver, tt.wantDSN)
			}
		})
	}
}
