package token

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

// classify maps a core error to its exit code: failures to write a file
// or to talk to the cluster are runtime failures (3); a missing object is
// a negative answer (1); everything else is bad input, a flag value or a
// file (2).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var we *tokens.WriteError
	var ue *url.Error
	switch {
	case apierrors.IsNotFound(err):
		return &cli.ExitError{Code: cli.ExitResult, Err: err}
	case errors.As(err, &we), errors.As(err, &ue), isAPIError(err):
		return err
	default:
		return cli.InputError(err)
	}
}

func isAPIError(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}

// readTokenArg returns arg, or for "-" the first line of stdin, so a token
// need not appear in the process list or shell history.
func readTokenArg(s *output.Streams, arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	b, err := io.ReadAll(io.LimitReader(s.In, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading the token from stdin: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line), nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
