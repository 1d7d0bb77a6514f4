package tokens

import (
	"bytes"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// StaticRecord is one record of a static token file as kube-apiserver's
// reader sees it. Records with fewer than three columns are not records to
// kube-apiserver (it refuses the file); they appear as problems instead.
type StaticRecord struct {
	// Line is the 1-based line on which the record starts.
	Line int `json:"line"`
	// Token is the bearer token; never rendered.
	Token string `json:"-"`
	User  string `json:"user"`
	UID   string `json:"uid"`
	// Groups is nil when the record has no fourth column. A present but
	// empty fourth column is one empty group, as strings.Split makes it.
	Groups []string `json:"groups,omitempty"`
	// Extra holds the columns after the fourth, which kube-apiserver
	// ignores; edits keep them.
	Extra []string `json:"-"`
	// Columns is the number of columns the record has.
	Columns int `json:"columns"`
	// Record is the 1-based record number kube-apiserver's log messages
	// use: it counts the records of 3 or more columns.
	Record int `json:"record"`

	// start and end delimit the record's bytes in the file, including its
	// line ending, so that edits keep every other byte as it was.
	start, end int
}

// StaticProblem is a line kube-apiserver refuses: a CSV syntax error or a
// record with fewer than three columns. Either one stops kube-apiserver
// from starting.
type StaticProblem struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

// StaticFile is a parsed static token file. Parsing goes on past the
// first problem so that lint can report them all; [StaticFile.Err] is
// what kube-apiserver would say.
type StaticFile struct {
	Name     string
	Data     []byte
	Records  []StaticRecord
	Problems []StaticProblem
	// CRLF is true when the file's first line ends in \r\n; lines kauth
	// adds use the same ending.
	CRLF bool
}

// ParseStatic reads data the way tokenfile.NewCSV does: encoding/csv with
// a variable number of fields per record, no comment character, leading
// spaces kept, blank lines skipped, quoted fields may span lines.
func ParseStatic(name string, data []byte) *StaticFile {
	f := &StaticFile{Name: name, Data: data}
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		f.CRLF = true
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	prev := 0
	for {
		rec, err := r.Read()
		off := int(r.InputOffset())
		if errors.Is(err, io.EOF) {
			break
		}
		start := skipBlankLines(data, prev, off)
		if err != nil {
			f.Problems = append(f.Problems, parseProblem(err))
			if off <= prev {
				break
			}
			prev = off
			continue
		}
		line, _ := r.FieldPos(0)
		prev = off
		if len(rec) < 3 {
			f.Problems = append(f.Problems, StaticProblem{Line: line, Msg: columnsMessage(rec)})
			continue
		}
		sr := StaticRecord{Line: line, Token: rec[0], User: rec[1], UID: rec[2], Columns: len(rec), Record: len(f.Records) + 1, start: start, end: off}
		if len(rec) >= 4 {
			sr.Groups = strings.Split(rec[3], ",")
		}
		if len(rec) > 4 {
			sr.Extra = rec[4:]
		}
		f.Records = append(f.Records, sr)
	}
	return f
}

// ReadStatic parses data and fails where kube-apiserver would refuse to
// start: on the first problem, named by line.
func ReadStatic(name string, data []byte) (*StaticFile, error) {
	f := ParseStatic(name, data)
	if err := f.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// Err returns the first problem as "name:line: message", or nil.
func (f *StaticFile) Err() error {
	if len(f.Problems) == 0 {
		return nil
	}
	p := f.Problems[0]
	return fmt.Errorf("%s:%d: %s", f.Name, p.Line, p.Msg)
}

func columnsMessage(rec []string) string {
	msg := fmt.Sprintf("expected at least 3 columns (token,user,uid[,groups]), got %d", len(rec))
	if len(rec) > 0 && strings.HasPrefix(rec[0], "#") {
		msg += "; kube-apiserver's reader has no comment lines"
	}
	return msg
}

func parseProblem(err error) StaticProblem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return StaticProblem{Line: pe.Line, Msg: fmt.Sprintf("column %d: %s (fields with commas, quotes or line breaks must be quoted, quotes inside doubled)", pe.Column, pe.Err)}
	}
	return StaticProblem{Msg: err.Error()}
}

// skipBlankLines returns the offset of the first byte at or after pos that
// is not part of an empty line, the way encoding/csv skips them.
func skipBlankLines(data []byte, pos, limit int) int {
	for pos < limit {
		switch {
		case data[pos] == '\n':
			pos++
		case data[pos] == '\r' && pos+1 < len(data) && data[pos+1] == '\n':
			pos += 2
		case data[pos] == '\r' && pos+1 == len(data):
			pos++
		default:
			return pos
		}
	}
	return pos
}

// Lookup returns the record kube-apiserver authenticates token as: the
// last record with that token (a later line replaces an earlier one), or
// nil. Records with an empty token are skipped as kube-apiserver skips
// them. Every token is compared in constant time.
func (f *StaticFile) Lookup(token string) *StaticRecord {
	var found *StaticRecord
	for i := range f.Records {
		r := &f.Records[i]
		if r.Token != "" && subtle.ConstantTimeCompare([]byte(r.Token), []byte(token)) == 1 {
			found = r
		}
	}
	return found
}

// UserRecords returns the records of user, in file order.
func (f *StaticFile) UserRecords(user string) []*StaticRecord {
	var out []*StaticRecord
	for i := range f.Records {
		if f.Records[i].User == user {
			out = append(out, &f.Records[i])
		}
	}
	return out
}

// EncodeStaticLine encodes one record with encoding/csv's quoting, which
// is what kube-apiserver's reader expects: groups are joined with commas
// into one field that the writer quotes. The line ends in \n, or \r\n
// when crlf is set.
func EncodeStaticLine(token, user, uid string, groups []string, extra []string, crlf bool) (string, error) {
	fields := []string{token, user, uid}
	if len(groups) > 0 || len(extra) > 0 {
		fields = append(fields, strings.Join(groups, ","))
	}
	fields = append(fields, extra...)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = crlf
	if err := w.Write(fields); err != nil {
		return "", err
	}
	w.Flush()
	return b.String(), w.Error()
}

// lineEnding returns the file's line ending.
func (f *StaticFile) lineEnding() string {
	if f.CRLF {
		return "\r\n"
	}
	return "\n"
}

// appendLine returns the file's bytes with line added at the end; a last
// line without a line ending gets one first.
func (f *StaticFile) appendLine(line string) []byte {
	out := make([]byte, 0, len(f.Data)+len(line)+2)
	out = append(out, f.Data...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, f.lineEnding()...)
	}
	return append(out, line...)
}

// replaceRecords returns the file's bytes with the records at the given
// indexes replaced by repl[i] (empty removes the record). All other bytes
// stay as they were.
func (f *StaticFile) replaceRecords(repl map[int]string) []byte {
	var out []byte
	pos := 0
	for i, r := range f.Records {
		s, ok := repl[i]
		if !ok {
			continue
		}
		out = append(out, f.Data[pos:r.start]...)
		out = append(out, s...)
		pos = r.end
	}
	return append(out, f.Data[pos:]...)
}
