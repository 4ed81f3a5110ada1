package config

import (
	"net/url"
	"time"
)

// CLI configures the sessions of `fedgate login` and the device grant.
type CLI struct {
	// SessionTTL is how long a CLI session lasts before `fedgate login`
	// must run again.
	SessionTTL Duration `yaml:"session_ttl" json:"session_ttl"`
	// DeviceCodeTTL is how long a device code (RFC 8628) can be approved.
	DeviceCodeTTL Duration `yaml:"device_code_ttl" json:"device_code_ttl"`
	// DevicePollInterval is the minimum time between two polls of one
	// device code; faster polls are answered slow_down.
	DevicePollInterval Duration `yaml:"device_poll_interval" json:"device_poll_interval"`
	// Device codes issued (two stored entries each) per source address:
	// a token bucket of this rate per second and burst, in each replica.
	DeviceRatePerAddress  float64 `yaml:"device_rate_per_address" json:"device_rate_per_address,omitempty"`
	DeviceBurstPerAddress int     `yaml:"device_burst_per_address" json:"device_burst_per_address,omitempty"`
}

// Console configures the one-click AWS console sign-in.
type Console struct {
	// FederationURL is the AWS federation endpoint (getSigninToken, login).
	FederationURL string `yaml:"federation_url" json:"federation_url"`
	// Destination is the console page the person lands on.
	Destination string `yaml:"destination" json:"destination"`
}

// Defaults and bounds of the CLI and console settings.
const (
	DefaultCLISessionTTL         = 12 * time.Hour
	DefaultDeviceCodeTTL         = 10 * time.Minute
	DefaultDevicePollInterval    = 5 * time.Second
	DefaultConsoleFederationURL  = "https://signin.aws.amazon.com/federation"
	DefaultConsoleDestination    = "https://console.aws.amazon.com/"
	maxCLISessionTTL             = 30 * 24 * time.Hour
	minCLISessionTTL             = 5 * time.Minute
	minDeviceCodeTTL             = 10 * time.Second
	maxDeviceCodeTTL             = 30 * time.Minute
	minDevicePollInterval        = time.Second
	maxDevicePollInterval        = time.Minute
	consoleFederationURLProblem  = "must be an https URL (http only on loopback, for tests)"
	consoleDestinationURLProblem = "must be an absolute https URL"
)

func (f *File) applyCLIDefaults() {
	c := &f.CLI
	if c.SessionTTL == 0 {
		c.SessionTTL = Duration(DefaultCLISessionTTL)
	}
	if c.DeviceCodeTTL == 0 {
		c.DeviceCodeTTL = Duration(DefaultDeviceCodeTTL)
	}
	if c.DevicePollInterval == 0 {
		c.DevicePollInterval = Duration(DefaultDevicePollInterval)
	}
	if c.DeviceRatePerAddress == 0 {
		c.DeviceRatePerAddress = DefaultDeviceRatePerAddress
	}
	if c.DeviceBurstPerAddress == 0 {
		c.DeviceBurstPerAddress = DefaultDeviceBurstPerAddress
	}
	if f.Console.FederationURL == "" {
		f.Console.FederationURL = DefaultConsoleFederationURL
	}
	if f.Console.Destination == "" {
		f.Console.Destination = DefaultConsoleDestination
	}
}

func (f *File) validateCLI(add func(string, string, ...any)) {
	c := f.CLI
	if d := c.SessionTTL.D(); d < minCLISessionTTL || d > maxCLISessionTTL {
		add("cli.session_ttl", "must be between 5m and 720h")
	}
	if d := c.DeviceCodeTTL.D(); d < minDeviceCodeTTL || d > maxDeviceCodeTTL {
		add("cli.device_code_ttl", "must be between 10s and 30m")
	}
	if d := c.DevicePollInterval.D(); d < minDevicePollInterval || d > maxDevicePollInterval {
		add("cli.device_poll_interval", "must be between 1s and 1m")
	} else if c.DevicePollInterval.D() >= c.DeviceCodeTTL.D() {
		add("cli.device_poll_interval", "must be shorter than cli.device_code_ttl")
	}
	validateBudget("cli.device", c.DeviceRatePerAddress, c.DeviceBurstPerAddress, add)
	if u, err := url.Parse(f.Console.FederationURL); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		(u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		add("console.federation_url", consoleFederationURLProblem)
	}
	if u, err := url.Parse(f.Console.Destination); err != nil || u.Host == "" || u.Scheme != "https" || u.User != nil {
		add("console.destination", consoleDestinationURLProblem)
	}
}
