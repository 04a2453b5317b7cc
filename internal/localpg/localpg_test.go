package localpg

import (
	"context"
	"testing"
)

func TestStartStopStartKeepsData(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	ctx := context.Background()
	if err := s.CreateAdmin(ctx, "admin", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Connect(ctx, "admin", "secret", "postgres"); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := s.StartAgain(); err != nil {
		t.Fatal(err)
	}
	conn, err := s.Connect(ctx, "admin", "secret", "postgres")
	if err != nil {
		t.Fatalf("the admin made before the restart cannot log in: %v", err)
	}
	conn.Close(ctx)
	if _, err := s.Connect(ctx, "admin", "wrong", "postgres"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	t.Logf("PostgreSQL %s on port %d", s.Version, s.Port)
}
