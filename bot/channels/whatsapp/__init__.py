"""WhatsApp Business Cloud API: signed webhooks in, Graph API calls out."""
