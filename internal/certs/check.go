package certs

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Expiry states of "check", from fine to alarming.
const (
	StatusOK       = "ok"
	StatusWarning  = "warning"
	StatusCritical = "critical"
	StatusExpired  = "expired"
	StatusRevoked  = "revoked"
)

// Default windows of "check".
const (
	DefaultWarn     = 30 * 24 * time.Hour
	DefaultCritical = 7 * 24 * time.Hour
)

// maxScanSize skips files that are too big to be certificates or
// kubeconfigs during a folder scan.
const maxScanSize = 1 << 20

// CheckRequest is "kauth cert check".
type CheckRequest struct {
	Paths    []string
	Warn     time.Duration
	Critical time.Duration
	CRLFile  string
	Now      time.Time
}

// CheckEntry is one certificate and its state.
type CheckEntry struct {
	File            string    `json:"file"`
	Index           int       `json:"index"`
	KubeconfigUser  string    `json:"kubeconfigUser,omitempty"`
	Subject         string    `json:"subject"`
	User            string    `json:"user"`
	Serial          string    `json:"serial"`
	NotAfter        time.Time `json:"notAfter"`
	TimeLeftSeconds int64     `json:"timeLeftSeconds"`
	Status          string    `json:"status"`
}

// CheckResult lists every certificate found, soonest expiry first, and
// counts those that need attention.
type CheckResult struct {
	Certificates []CheckEntry `json:"certificates"`
	// Findings counts certificates whose status is not ok.
	Findings        int   `json:"findings"`
	WarnSeconds     int64 `json:"warnSeconds"`
	CriticalSeconds int64 `json:"criticalSeconds"`
}

// Check scans files and folders (recursively; kubeconfigs too) and rates
// every certificate's expiry against the warning and critical windows.
// Files named explicitly must hold certificates; in folders, files
// without any are skipped.
func Check(req CheckRequest) (*CheckResult, error) {
	_, crl, err := loadTrust("", req.CRLFile)
	if err != nil {
		return nil, err
	}
	res := &CheckResult{Certificates: []CheckEntry{}, WarnSeconds: int64(req.Warn.Seconds()), CriticalSeconds: int64(req.Critical.Seconds())}
	// Paths may overlap (a folder and a file in it): each file, and each
	// kubeconfig user, is listed and counted once.
	seen := map[[2]string]bool{}
	for _, p := range req.Paths {
		groups, err := scanPath(p)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			abs, err := filepath.Abs(g.File)
			if err != nil {
				abs = filepath.Clean(g.File)
			}
			key := [2]string{abs, g.User}
			if seen[key] {
				continue
			}
			seen[key] = true
			for _, info := range describeGroup(g, nil, crl, req.Now) {
				e := checkEntry(info, req)
				if e.Status != StatusOK {
					res.Findings++
				}
				res.Certificates = append(res.Certificates, e)
			}
		}
	}
	if len(res.Certificates) == 0 {
		// Only folders can come back empty (a file named explicitly must
		// hold one): a wrong path must not pass a cron job's check.
		return nil, fmt.Errorf("no certificate found in %s: expected PEM or DER certificates, or kubeconfigs with client certificates", strings.Join(req.Paths, ", "))
	}
	slices.SortStableFunc(res.Certificates, func(a, b CheckEntry) int {
		return cmp.Or(a.NotAfter.Compare(b.NotAfter), strings.Compare(a.File, b.File), cmp.Compare(a.Index, b.Index))
	})
	return res, nil
}

func checkEntry(info CertInfo, req CheckRequest) CheckEntry {
	left := time.Duration(info.TimeLeftSeconds) * time.Second
	status := StatusOK
	switch {
	case info.Revoked != nil && *info.Revoked:
		status = StatusRevoked
	case left <= 0:
		status = StatusExpired
	case left <= req.Critical:
		status = StatusCritical
	case left <= req.Warn:
		status = StatusWarning
	}
	return CheckEntry{
		File: info.File, Index: info.Index, KubeconfigUser: info.KubeconfigUser,
		Subject: info.Subject, User: info.User, Serial: info.Serial,
		NotAfter: info.NotAfter, TimeLeftSeconds: info.TimeLeftSeconds, Status: status,
	}
}

func scanPath(p string) ([]certGroup, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return readCertFile(p, true)
	}
	var out []certGroup
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > maxScanSize {
			return err
		}
		groups, err := readCertFile(path, false)
		out = append(out, groups...)
		return err
	})
	return out, err
}
