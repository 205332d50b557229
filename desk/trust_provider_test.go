package desk_test

import (
	"context"
	"time"
)

// pressure is the store's view of addr for the hold rule, now.
func (e *staffEnv) pressure(addr string) (bool, int, int, error) {
	return e.db.MailPressure(context.Background(), addr, e.now.Add(-30*24*time.Hour), e.now.Add(-time.Hour), 10, e.now.Add(-24*time.Hour), 40)
}
