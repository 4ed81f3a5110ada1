package main

import (
	"os"
	"testing"
	"time"
)

func TestProcessCPUGrowsWithWork(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := calibrate(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	after, err := processCPU(os.Getpid())
	if err != nil || after <= before {
		t.Errorf("CPU %v then %v (%v); want it to grow over 100 ms of crypto", before, after, err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestCalibrationIsPositive(t *testing.T) {
	c, err := calibrate(20 * time.Millisecond)
	if err != nil || c.RS256VerifyMicros <= 0 || c.ES256SignMicros <= 0 {
		t.Errorf("calibrate = %+v, %v", c, err)
	}
}
