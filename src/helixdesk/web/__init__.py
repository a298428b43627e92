"""Server-rendered pages (Jinja2) with vendored assets; no CDN."""
