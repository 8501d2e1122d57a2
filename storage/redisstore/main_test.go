package redisstore_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// secret is a token whose values must never show up in an error message.
var secret = &oauth2.Token{
	AccessToken:  "s3cr3t-access",
	TokenType:    "Bearer",
	RefreshToken: "s3cr3t-refresh",
	Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
}
