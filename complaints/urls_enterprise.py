"""The enterprise's self-service pages (namespace `enterprise:`, under /enterprise/)."""

enterprise_urls = []
