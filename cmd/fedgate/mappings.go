package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"

	"fedgate/gateway/core"
	"fedgate/gateway/store"
)

// cmdMappings is `fedgate mappings export|apply`: the live providers, pools
// and rules as a YAML file, for review and GitOps.
func cmdMappings(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "export" && args[0] != "apply") {
		fmt.Fprintln(stderr, "usage: fedgate mappings export --config FILE [--out FILE]\n       fedgate mappings apply --config FILE [--dry-run] [--comment TEXT] MAPPINGS.yaml")
		return 2
	}
	sub := args[0]
	fs, cfgPath := newFlags("mappings "+sub, stderr)
	out := fs.String("out", "", "write to this file instead of stdout (export)")
	dryRun := fs.Bool("dry-run", false, "show the changes without applying them (apply)")
	comment := fs.String("comment", "", "why, recorded in history and the audit log (apply)")
	// Flags may come before or after the file name.
	var files []string
	for rest := args[1:]; ; {
		if fs.Parse(rest) != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files, rest = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	f, st, box, ok := openConfigured(ctx, "mappings", *cfgPath, env, stderr)
	if !ok {
		return 1
	}
	defer st.Close()

	if sub == "export" {
		w := stdout
		if *out != "" {
			file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				fmt.Fprintf(stderr, "fedgate mappings export: %v\n", err)
				return 1
			}
			defer file.Close()
			w = file
		}
		v, err := core.ExportMappings(ctx, st, box, w)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate mappings export: %v\n", err)
			return 1
		}
		if *out != "" {
			fmt.Fprintf(stdout, "wrote version %d to %s\n", v, *out)
		}
		return 0
	}

	if len(files) != 1 {
		fmt.Fprintln(stderr, "fedgate mappings apply: give one mappings file (or - for stdin)")
		return 2
	}
	var in io.Reader = os.Stdin
	if name := files[0]; name != "-" {
		file, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "fedgate mappings apply: %v\n", err)
			return 1
		}
		defer file.Close()
		in = file
	}
	plan, err := core.PlanMappings(ctx, st, box, f, in)
	if err != nil {
		fmt.Fprintf(stderr, "fedgate mappings apply: %v\n", err)
		return 1
	}
	if len(plan.Problems) > 0 {
		fmt.Fprintf(stderr, "%s: %v\nnothing applied\n", files[0], plan.Problems)
		return 1
	}
	if plan.Changes() == 0 {
		fmt.Fprintf(stdout, "no changes: version %d already holds these mappings\n", plan.From)
		return 0
	}
	fmt.Fprintf(stdout, "changes against live version %d:\n%s", plan.From, plan.DiffText())
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: %d change(s) not applied\n", plan.Changes())
		return 0
	}
	v, err := core.ApplyMappings(ctx, st, box, plan, cliActor(), *comment)
	if errors.Is(err, store.ErrConflict) {
		fmt.Fprintln(stderr, "fedgate mappings apply: the mappings changed while this ran; nothing applied, run it again")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedgate mappings apply: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "applied as version %d; running gateways pick it up within reload_interval\n", v)
	return 0
}

func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
