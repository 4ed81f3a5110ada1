package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"fedgate/gateway/core"
)

const accessKeysUsage = `usage: fedgate access-keys create  --config FILE --name NAME --role owner|editor|viewer [--pool ID]
       fedgate access-keys list    --config FILE
       fedgate access-keys disable --config FILE --id ACCESS_KEY_ID
       fedgate access-keys enable  --config FILE --id ACCESS_KEY_ID
       fedgate access-keys rotate  --config FILE --id ACCESS_KEY_ID
       fedgate access-keys delete  --config FILE --id ACCESS_KEY_ID`

// cmdAccessKeys manages the access keys that sign Cognito API requests,
// offline against the store. The secret is printed once, by create and
// rotate.
func cmdAccessKeys(ctx context.Context, args []string, env environ, stdout, stderr io.Writer) int {
	subs := map[string]bool{"create": true, "list": true, "disable": true, "enable": true, "rotate": true, "delete": true}
	if len(args) == 0 || !subs[args[0]] {
		fmt.Fprintln(stderr, accessKeysUsage)
		return 2
	}
	sub := args[0]
	fs, cfgPath := newFlags("access-keys "+sub, stderr)
	name := fs.String("name", "", "what the key is for (create)")
	role := fs.String("role", "", "owner, editor or viewer (create)")
	pool := fs.String("pool", "", "the one identity pool the key may touch (create; default every pool)")
	id := fs.String("id", "", "the access key id")
	if fs.Parse(args[1:]) != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, accessKeysUsage)
		return 2
	}
	if sub != "create" && sub != "list" && *id == "" {
		fmt.Fprintf(stderr, "fedgate access-keys %s: give --id\n", sub)
		return 2
	}
	if sub == "create" {
		if err := (core.NewAccessKey{Name: *name, Role: *role, PoolID: *pool}).Validate(); err != nil {
			fmt.Fprintf(stderr, "fedgate access-keys create: %v\n", err)
			return 2
		}
	}
	_, st, box, ok := openConfigured(ctx, "access-keys", *cfgPath, env, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	keys := core.NewAccessKeys(st, box, time.Now, nil)
	actor := cliActor()
	fail := func(err error) int {
		if errors.Is(err, core.ErrAccessKeyNotFound) {
			fmt.Fprintf(stderr, "fedgate access-keys %s: no access key %q\n", sub, *id)
		} else {
			fmt.Fprintf(stderr, "fedgate access-keys %s: %v\n", sub, err)
		}
		return 1
	}
	switch sub {
	case "create":
		k, secret, err := keys.Create(ctx, core.NewAccessKey{Name: *name, Role: *role, PoolID: *pool}, actor)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "aws_access_key_id = %s\naws_secret_access_key = %s\n", k.ID, secret)
		fmt.Fprintln(stderr, "The secret is shown only now: store it where the backend or script reads it.")
	case "rotate":
		secret, err := keys.Rotate(ctx, *id, actor)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "aws_access_key_id = %s\naws_secret_access_key = %s\n", *id, secret)
		fmt.Fprintln(stderr, "The old secret no longer works; the new one is shown only now.")
	case "disable", "enable":
		if err := keys.SetDisabled(ctx, *id, sub == "disable", actor); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "access key %s %sd\n", *id, sub)
	case "delete":
		if err := keys.Delete(ctx, *id, actor); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "access key %s deleted\n", *id)
	case "list":
		list, err := keys.List(ctx)
		if err != nil {
			return fail(err)
		}
		for _, k := range list {
			scope, state, used := "every pool", "enabled", "never used"
			if k.PoolID != "" {
				scope = "pool " + k.PoolID
			}
			if k.Disabled {
				state = "disabled"
			}
			if !k.LastUsedAt.IsZero() {
				used = "last used " + k.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\tcreated %s by %s\t%s\n", k.ID, k.Name, k.Role, scope, state,
				k.CreatedAt.UTC().Format(time.RFC3339), k.CreatedBy, used)
		}
	}
	return 0
}
