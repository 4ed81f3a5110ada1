package main

import (
	"fmt"
	"io"
	"os"

	"fedgate/cmd/fedgate/internal/cognitoimport"
)

// cmdImportCognito turns an Amazon Cognito identity pool (the JSON of
// `aws cognito-identity describe-identity-pool` and
// `get-identity-pool-roles`) into a fedgate configuration file.
func cmdImportCognito(args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlags("import-cognito", stderr)
	poolPath := fs.String("pool", "", "the JSON of aws cognito-identity describe-identity-pool")
	rolesPath := fs.String("roles", "", "the JSON of aws cognito-identity get-identity-pool-roles (optional)")
	out := fs.String("out", "", "write the configuration to this file instead of stdout")
	if fs.Parse(args) != nil || fs.NArg() > 0 || *poolPath == "" {
		fmt.Fprintln(stderr, "usage: fedgate import-cognito --pool DESCRIBE.json [--roles ROLES.json] [--out fedgate.yaml]")
		return 2
	}
	poolJSON, err := os.ReadFile(*poolPath)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate import-cognito: %v\n", err)
		return 1
	}
	var rolesJSON []byte
	if *rolesPath != "" {
		if rolesJSON, err = os.ReadFile(*rolesPath); err != nil {
			fmt.Fprintf(stderr, "fedgate import-cognito: %v\n", err)
			return 1
		}
	}
	res, err := cognitoimport.Convert(poolJSON, rolesJSON)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate import-cognito: %v\n", err)
		return 1
	}
	w := stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate import-cognito: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	if _, err := w.Write(res.YAML); err != nil {
		fmt.Fprintf(stderr, "fedgate import-cognito: %v\n", err)
		return 1
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	return 0
}
