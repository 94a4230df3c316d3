package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const (
	webhookTimeout  = 5 * time.Second
	webhookAttempts = 3

	// maxWebhookSends bounds the notifications in flight; past it new ones
	// are dropped and logged, so a slow webhook cannot pile up goroutines.
	maxWebhookSends = 64
)

// notifier posts Slack-compatible JSON messages to the configured webhooks.
// Sending never blocks or fails the request that caused it.
type notifier struct {
	client *http.Client
	slots  chan struct{}
}

func newNotifier() *notifier {
	return &notifier{
		client: &http.Client{Timeout: webhookTimeout},
		slots:  make(chan struct{}, maxWebhookSends),
	}
}

// notify sends text to every webhook of cfg in the background.
func (b *backend) notify(cfg *engineConfig, requestID, text string) {
	for _, target := range cfg.WebhookURLs {
		select {
		case b.notifier.slots <- struct{}{}:
			go func() {
				defer func() { <-b.notifier.slots }()
				b.sendWebhook(target, requestID, text)
			}()
		default:
			b.logger().Warn("notification dropped: too many in flight", "request_id", requestID, "webhook", redactURL(target))
		}
	}
}

// sendWebhook posts one message, retrying with a growing pause.
func (b *backend) sendWebhook(target, requestID, text string) {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		b.logger().Error("could not encode notification", "request_id", requestID, "error", err)
		return
	}

	var lastErr error
	for attempt := 1; attempt <= webhookAttempts; attempt++ {
		lastErr = b.postWebhook(target, body)
		if lastErr == nil {
			return
		}
		time.Sleep(time.Duration(attempt) * time.Second)
	}
	b.logger().Warn("notification failed", "request_id", requestID, "webhook", redactURL(target), "attempts", webhookAttempts, "error", lastErr)
}

func (b *backend) postWebhook(target string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", redactError(err, target))
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := b.notifier.client.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, which may carry a token, so only its
		// cause is kept.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			return fmt.Errorf("post: %w", urlErr.Err)
		}
		return errors.New("post failed")
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook returned HTTP status %d", resp.StatusCode)
	}
	return nil
}
