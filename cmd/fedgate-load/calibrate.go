package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Calibration is what the two crypto operations of a vend cost on this
// machine, in the same run as the load: verifying the upstream RS256 ID
// token and signing fedgate's ES256 token. A vend cannot cost less.
type Calibration struct {
	RS256VerifyMicros float64 `json:"rs256_verify_us"`
	ES256SignMicros   float64 `json:"es256_sign_us"`
}

// calibrate times each operation for about d, on a signing input the size
// of a real token's.
func calibrate(d time.Duration) (Calibration, error) {
	input := []byte(strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 40))
	digest := sha256.Sum256(input)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Calibration{}, err
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:])
	if err != nil {
		return Calibration{}, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Calibration{}, err
	}
	var c Calibration
	c.RS256VerifyMicros, err = timeOp(d, func() error {
		h := sha256.Sum256(input)
		return rsa.VerifyPKCS1v15(&rk.PublicKey, crypto.SHA256, h[:], sig)
	})
	if err != nil {
		return c, err
	}
	c.ES256SignMicros, err = timeOp(d, func() error {
		h := sha256.Sum256(input)
		_, err := ecdsa.SignASN1(rand.Reader, ek, h[:])
		return err
	})
	return c, err
}

// timeOp runs op for about d and returns its mean in µs.
func timeOp(d time.Duration, op func() error) (float64, error) {
	start := time.Now()
	n := 0
	for time.Since(start) < d || n < 10 {
		if err := op(); err != nil {
			return 0, err
		}
		n++
	}
	return float64(time.Since(start).Microseconds()) / float64(n), nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// processCPU is the user + system CPU time a process has used so far,
// from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from the
	// closing parenthesis. utime and stime are fields 14 and 15.
	s := string(raw)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
