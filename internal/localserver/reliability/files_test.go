package reliability_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sensitive reports whether a file kauth writes holds a private key, a
// token or a store that contains them.
func sensitive(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(base, ".key") || base == "kubeconfig" || strings.Contains(base, "token") ||
		base == "kauth.db" || strings.HasSuffix(base, ".log") || strings.HasSuffix(base, ".csv")
}

var (
	openRE   = regexp.MustCompile(`^\d+\s+open(?:at)?\((?:AT_FDCWD, )?"([^"]+)", ([A-Z_|]+)(?:, (0\d+))?\) = (-?\d+)`)
	renameRE = regexp.MustCompile(`^\d+\s+(?:rename(?:at2?)?|link(?:at)?)\((?:AT_FDCWD, )?"([^"]+)", (?:AT_FDCWD, )?"([^"]+)"`)
	chmodRE  = regexp.MustCompile(`^\d+\s+(f?chmod(?:at)?)\((?:AT_FDCWD, )?("[^"]+"|\d+), (0\d+)`)
)

// traced is what strace saw a command do to files under a directory.
type traced struct {
	createMode map[string]uint64 // path -> mode passed with O_CREAT
	fds        map[string]string // fd -> path (last open)
	renamed    map[string]string // final -> temporary (rename, or link without clobbering)
	widened    []string          // chmod calls that add group or other bits
}

func parseStrace(t *testing.T, log, under string) traced {
	t.Helper()
	f, err := os.Open(log)
	must(t, err)
	defer f.Close()
	tr := traced{createMode: map[string]uint64{}, fds: map[string]string{}, renamed: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := openRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], under) {
			tr.fds[m[4]] = m[1]
			if strings.Contains(m[2], "O_CREAT") {
				mode, _ := strconv.ParseUint(m[3], 8, 32)
				if _, seen := tr.createMode[m[1]]; !seen {
					tr.createMode[m[1]] = mode
				}
			}
		}
		if m := renameRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[2], under) {
			tr.renamed[m[2]] = m[1]
		}
		if m := chmodRE.FindStringSubmatch(line); m != nil {
			target := strings.Trim(m[2], `"`)
			if m[1] == "fchmod" {
				target = tr.fds[m[2]]
			}
			mode, _ := strconv.ParseUint(m[3], 8, 32)
			if strings.HasPrefix(target, under) && mode&0o077 != 0 && sensitive(target) {
				tr.widened = append(tr.widened, line)
			}
		}
	}
	must(t, sc.Err())
	return tr
}

// TestSecretFilesAre0600FromTheStart runs the commands that write private
// keys, kubeconfigs, token files, the audit log and the data store with
// umask 0 (so the mode kauth asks for is the mode the file gets) under
// strace: every such file is created with a mode without group or other
// bits (0600, directories 0700) by the open call itself, written under a
// temporary name in the same directory and renamed (or hard-linked, to
// never clobber) into place, and never
// chmod-ed wider. A umask cannot hide a mistake: with umask 0 a file
// created 0644 and tightened later would show in the trace. Without
// strace, only the final modes are checked.
func TestSecretFilesAre0600FromTheStart(t *testing.T) {
	t.Parallel()
	bin := kauth(t)
	strace, _ := exec.LookPath("strace")
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	data := filepath.Join(dir, "data")
	for _, args := range [][]string{
		{"serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--audit-log-path", filepath.Join(dir, "audit.log"), "--", "true"},
		{"serve", "--listen", "127.0.0.1:0", "--kubeconfig-out", filepath.Join(dir, "out", "kubeconfig"), "--", "true"},
		{"cert", "ca", "init", "--cn", "test-ca", "--out-dir", pki},
		{"cert", "issue", "--ca-dir", pki, "--user", "alice", "--group", "dev", "--out-dir", pki},
		{"token", "static", "add", "--file", filepath.Join(dir, "tokens.csv"), "--user", "a", "--uid", "1"},
		{"token", "static", "rotate", "--file", filepath.Join(dir, "tokens.csv"), "--user", "a"},
	} {
		name := strings.Join(args[:2], " ")
		log := filepath.Join(t.TempDir(), "strace.log")
		cmd := exec.Command("sh", "-c", `umask 0; exec "$@"`, "sh", bin)
		if strace != "" {
			cmd.Args = append(cmd.Args[:4], strace, "-f", "-qq", "-o", log,
				"-e", "trace=open,openat,creat,rename,renameat,renameat2,link,linkat,chmod,fchmod,fchmodat,mkdir,mkdirat", bin)
		}
		cmd.Args = append(cmd.Args, args...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kauth %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if strace == "" {
			continue
		}
		tr := parseStrace(t, log, dir)
		for _, w := range tr.widened {
			t.Errorf("kauth %s widened a secret file's mode: %s", name, w)
		}
		checked := 0
		for final, tmp := range tr.renamed {
			if !sensitive(final) {
				continue
			}
			mode, ok := tr.createMode[tmp]
			if !ok {
				t.Errorf("kauth %s: %s renamed from %s, which strace did not see created", name, final, tmp)
				continue
			}
			if mode&0o077 != 0 {
				t.Errorf("kauth %s: %s created as %s with mode %#o", name, final, tmp, mode)
			}
			if filepath.Dir(tmp) != filepath.Dir(final) {
				t.Errorf("kauth %s: %s written in another directory (%s): the rename is not atomic", name, final, tmp)
			}
			checked++
		}
		for p, mode := range tr.createMode {
			if sensitive(p) && mode&0o077 != 0 {
				t.Errorf("kauth %s: %s created with mode %#o", name, p, mode)
			}
		}
		t.Logf("kauth %s: %d secret files created 0600 and renamed into place; %d files created in all", name, checked, len(tr.createMode))
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if (p == data || p == pki) && info.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: directory mode %v", p, info.Mode().Perm())
			}
			return nil
		}
		if sensitive(p) && info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
		}
		return nil
	})
	must(t, err)
}
